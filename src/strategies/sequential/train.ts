import type { GradSaveFunc, Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset';
import { ADAM_BETA1, ADAM_BETA2, DenseAdam, SparseAdamRows } from '../../util/adam';
import { NegativeSampler, popularityCdf } from '../../util/negatives';
import { EarlyStopping } from '../../util/early-stopping';
import { Pace } from '../../util/pace';
import { deriveSeed, mulberry32, shuffleInPlace, type Rng } from '../../util/random';
import { lossAndGradients, withBackend, type Tf } from '../../util/tfjs';
import { topKDense } from '../../util/topk';
import type { BasketTimeline, Progress } from '../types';
import { initWeights, REPEAT_FEATURES, RepeatHistory, SequentialScorer, weightArrays, type SequentialWeights } from './model';
import type { SequentialOptions } from './options';
import { basketsOf, buildSequences, sequenceCount, type Sequences } from './sequences';

/** How the last fit went. */
export interface SequentialTrainingInfo {
  /** tfjs backend that trained the model. */
  backend: string;
  /** Sequences (shoppers) trained on, and validation shoppers held out. */
  sequences: number;
  validationSequences: number;
  /** Training loss per epoch run (the sampled estimate of the full-catalog BCE per item and step). */
  loss: number[];
  /** Validation recall@validationK per epoch (empty without early stopping). */
  validation: number[];
  /** 1-based epoch whose weights the model kept. */
  bestEpoch: number;
  /** Training sequences per second over the epochs run (batches only, validation excluded). */
  sequencesPerSecond: number;
  /** Wall time of the whole fit, validation included. */
  seconds: number;
}

/** Most positives taken from one target basket (a huge basket would dominate its batch). */
const MAX_TARGETS = 64;
/** Sequences sorted by length within pools of this many batches, so a batch pads little. */
const BUCKET_BATCHES = 16;
/**
 * Catalog negatives sampled per batch and shared by all its steps: one [steps, N] product
 * instead of gathering negatives per positive, which cost 5x more pairs than there are
 * positives.
 *
 * The loss is the BCE of every item of the catalog for every step (the next basket's items
 * positive, all others negative), estimated from samples: a shared negative i stands for
 * 1 / (N q_i) catalog items (q the sampling distribution), a drawn history negative for its
 * share of the shopper's past items that do not come back. Weighting the samples so makes past
 * and new items compete on the same scale: with equal weights, past items (drawn as negatives
 * far more often than any catalog item) ranked below popular new ones, and on P6's validation
 * users the model fell to recall@20 0.03 against 0.175 for its own repeat head alone.
 */
export const SHARED_NEGATIVES = 64;

/**
 * One mini-batch, laid out for the loss (see lossAndGrads). Pairs are the targets' items
 * (positives) and the shopper's past items that the target lacks (history negatives), each
 * scored against its step's state with its repeat features; shared negatives are scored
 * against every step. Buffers grow and are reused.
 */
class Batch {
  size = 0;
  steps = 0;
  pairs = 0;
  occurrences = 0;
  /** Pooled input baskets [size, steps, f]. */
  x = new Float32Array(0);
  /** Per pair: row (b * steps + t) of the state it is scored against, item, sign (-1 positive, +1 negative), features [F]. */
  row = new Int32Array(0);
  item = new Int32Array(0);
  sign = new Float32Array(0);
  /** Per pair: how many items of the step's full BCE it stands for (1 for a positive). */
  weight = new Float32Array(0);
  phi = new Float32Array(0);
  /** Gathered itemOut rows [pairs, f] and item biases [pairs]. */
  outRows = new Float32Array(0);
  outBias = new Float32Array(0);
  /** Shared negatives: items [N], their itemOut rows [N, f] and biases [N], weight per (row, negative) [size * steps, N] (0: padding, or a target or past item of that step). */
  negItem = new Int32Array(SHARED_NEGATIVES);
  negRows = new Float32Array(0);
  negBias = new Float32Array(SHARED_NEGATIVES);
  negWeight = new Float32Array(0);
  /** Per input-basket item occurrence: item, state row and 1 / basket size (the pooling weight). */
  occItem = new Int32Array(0);
  occRow = new Int32Array(0);
  occScale = new Float32Array(0);

  reserve(size: number, steps: number, pairs: number, occurrences: number, f: number): void {
    const grow = <T extends Float32Array | Int32Array>(a: T, n: number, make: (n: number) => T): T => (a.length >= n ? a : make(Math.ceil(n * 1.25)));
    this.x = grow(this.x, size * steps * f, (n) => new Float32Array(n));
    this.row = grow(this.row, pairs, (n) => new Int32Array(n));
    this.item = grow(this.item, pairs, (n) => new Int32Array(n));
    this.sign = grow(this.sign, pairs, (n) => new Float32Array(n));
    this.weight = grow(this.weight, pairs, (n) => new Float32Array(n));
    this.phi = grow(this.phi, pairs * REPEAT_FEATURES, (n) => new Float32Array(n));
    this.outRows = grow(this.outRows, pairs * f, (n) => new Float32Array(n));
    this.outBias = grow(this.outBias, pairs, (n) => new Float32Array(n));
    this.negRows = grow(this.negRows, SHARED_NEGATIVES * f, (n) => new Float32Array(n));
    this.negWeight = grow(this.negWeight, size * steps * SHARED_NEGATIVES, (n) => new Float32Array(n));
    this.occItem = grow(this.occItem, occurrences, (n) => new Int32Array(n));
    this.occRow = grow(this.occRow, occurrences, (n) => new Int32Array(n));
    this.occScale = grow(this.occScale, occurrences, (n) => new Float32Array(n));
  }
}

/**
 * Fills `batch` with sequences `chosen`: step t of sequence b reads basket t and is scored on
 * basket t + 1's items (positives), up to `historyNegatives` of the shopper's past items that
 * basket t + 1 lacks, and the batch's SHARED_NEGATIVES sampled catalog items.
 */
function fillBatch(
  batch: Batch,
  seqs: Sequences,
  chosen: Int32Array,
  w: SequentialWeights,
  o: SequentialOptions,
  sampler: NegativeSampler,
  stands: Float32Array,
  history: RepeatHistory,
  rng: Rng,
): void {
  const f = w.factors;
  const N = SHARED_NEGATIVES;
  const { basketPtr, itemPtr, items } = seqs;
  let steps = 0;
  let pairBound = 0;
  let occurrences = 0;
  for (const s of chosen) {
    const L = basketsOf(seqs, s);
    steps = Math.max(steps, L - 1);
    for (let b = basketPtr[s]; b < basketPtr[s + 1] - 1; b++) {
      occurrences += itemPtr[b + 1] - itemPtr[b];
      pairBound += Math.min(MAX_TARGETS, itemPtr[b + 2] - itemPtr[b + 1]) + o.historyNegatives;
    }
  }
  batch.reserve(chosen.length, steps, pairBound, occurrences, f);
  batch.size = chosen.length;
  batch.steps = steps;
  batch.x.fill(0, 0, chosen.length * steps * f);
  batch.negWeight.fill(0, 0, chosen.length * steps * N);
  for (let n = 0; n < N; n++) batch.negItem[n] = sampler.draw(rng);
  let p = 0;
  let occ = 0;
  const picked: number[] = [];
  chosen.forEach((s, b) => {
    history.reset();
    const first = basketPtr[s];
    for (let t = 0; t < basketPtr[s + 1] - first - 1; t++) {
      const row = b * steps + t;
      const start = itemPtr[first + t];
      const end = itemPtr[first + t + 1];
      const scale = 1 / (end - start);
      const x = batch.x.subarray(row * f, (row + 1) * f);
      for (let k = start; k < end; k++) {
        const o2 = items[k] * f;
        for (let j = 0; j < f; j++) x[j] += w.itemIn[o2 + j] * scale;
        batch.occItem[occ] = items[k];
        batch.occRow[occ] = row;
        batch.occScale[occ++] = scale;
      }
      history.add(items, start, end);
      const target = items.subarray(itemPtr[first + t + 1], itemPtr[first + t + 2]);
      const positives = target.length > MAX_TARGETS ? shuffleInPlace(target.slice(), rng).subarray(0, MAX_TARGETS) : target;
      const add = (item: number, sign: number, weight: number) => {
        batch.row[p] = row;
        batch.item[p] = item;
        batch.sign[p] = sign;
        batch.weight[p] = weight;
        history.features(item, batch.phi, p * REPEAT_FEATURES);
        p++;
      };
      let pastTargets = 0;
      for (const item of positives) {
        add(item, -1, 1);
        if (history.has(item)) pastTargets++;
      }
      // The shopper's own past items that do not come back next: draws among the seen items,
      // each standing for its share of them.
      picked.length = 0;
      const seen = history.size;
      const firstPicked = p;
      for (let tries = 0; tries < 2 * o.historyNegatives && picked.length < o.historyNegatives && seen > 0; tries++) {
        const item = history.touched[Math.floor(rng() * seen)];
        if (contains(target, item) || picked.includes(item)) continue;
        picked.push(item);
        add(item, 1, 0);
      }
      for (let q = firstPicked; q < p; q++) batch.weight[q] = (seen - pastTargets) / picked.length;
      // Shared negatives count for this step unless they are its targets or past items (which
      // the pairs above already judge).
      const weights = batch.negWeight.subarray(row * N, (row + 1) * N);
      for (let n = 0; n < N; n++) {
        const item = batch.negItem[n];
        if (!history.has(item) && !contains(target, item)) weights[n] = stands[item];
      }
    }
  });
  batch.pairs = p;
  batch.occurrences = occ;
}

function contains(sorted: Int32Array, value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] === value) return true;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * The GRU over x [B, T, f] from a zero state: every step's state, rows b * T + t of a
 * [B * T, f] tensor. The equations of model.ts (tfjs's GRUCell with sigmoid gates).
 */
export function gruStates(tf: Tf, x: Tensor3D, kernel: Tensor2D, recurrent: Tensor2D, bias: Tensor): Tensor2D {
  const [B, T, f] = x.shape;
  const mx = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * T, f]), kernel), bias), [B, T, 3 * f]);
  const gatesKernel = tf.slice(recurrent, [0, 0], [f, 2 * f]);
  const candidateKernel = tf.slice(recurrent, [0, 2 * f], [f, f]);
  let h: Tensor2D = tf.zeros([B, f]);
  const states: Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    // A slice per step: tf.unstack's gradient fails when a step gets no gradient (a batch of one step).
    const [xz, xr, xn] = tf.split(tf.reshape(tf.slice(mx, [0, t, 0], [B, 1, 3 * f]), [B, 3 * f]), 3, 1);
    const [hz, hr] = tf.split(tf.matMul(h, gatesKernel), 2, 1);
    const z = tf.sigmoid(tf.add(xz, hz));
    const r = tf.sigmoid(tf.add(xr, hr));
    const n = tf.tanh(tf.add(xn, tf.matMul(tf.mul(r, h), candidateKernel)));
    h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), n)) as Tensor2D;
    states.push(h);
  }
  return tf.reshape(tf.stack(states, 1), [B * T, f]);
}

/**
 * tf.gather of `rows` from a [n, f] tensor, with the gradient (a segment sum over rows)
 * computed in JS: tfjs's own gather gradient needs UnsortedSegmentSum, which the wasm backend
 * lacks.
 */
function gatherRows(tf: Tf, rows: Int32Array, n: number, f: number): (x: Tensor) => Tensor2D {
  const indices = tf.tensor1d(rows, 'int32');
  const gather = tf.customGrad((...args: Array<Tensor | GradSaveFunc>) => {
    const x = args[0] as Tensor2D;
    return {
      value: tf.gather(x, indices),
      gradFunc: (dy: Tensor) => {
        const d = dy.dataSync();
        const out = new Float32Array(n * f);
        for (let p = 0; p < rows.length; p++) {
          const dst = rows[p] * f;
          const src = p * f;
          for (let j = 0; j < f; j++) out[dst + j] += d[src + j];
        }
        return [tf.tensor2d(out, [n, f])];
      },
    };
  });
  return (x) => gather(x) as Tensor2D;
}

/**
 * The batch's BCE, softplus(sign * logit), summed over pairs and weighted shared negatives and
 * divided by the total weight, with its gradients with respect to [x, kernel, recurrent, bias,
 * outRows, outBias, negRows, negBias, repeatBase, repeatGate].
 */
function lossAndGrads(tf: Tf, batch: Batch, w: SequentialWeights): { loss: number; grads: Float32Array[] } {
  const f = w.factors;
  const N = SHARED_NEGATIVES;
  const { size: B, steps: T, pairs: P } = batch;
  const R = B * T;
  const F = REPEAT_FEATURES;
  let total = 0;
  for (let k = 0; k < R * N; k++) total += batch.negWeight[k];
  for (let k = 0; k < P; k++) total += batch.weight[k];
  return lossAndGradients(tf, () => {
    const inputs: Tensor[] = [
      tf.tensor3d(batch.x.subarray(0, R * f), [B, T, f]),
      tf.tensor2d(w.kernel, [f, 3 * f]),
      tf.tensor2d(w.recurrent, [f, 3 * f]),
      tf.tensor1d(w.bias),
      tf.tensor2d(batch.outRows.subarray(0, P * f), [P, f]),
      tf.tensor1d(batch.outBias.subarray(0, P)),
      tf.tensor2d(batch.negRows.subarray(0, N * f), [N, f]),
      tf.tensor1d(batch.negBias),
      tf.tensor1d(w.repeatBase),
      tf.tensor2d(w.repeatGate, [f, F]),
    ];
    const stateRows = gatherRows(tf, batch.row.subarray(0, P), R, f);
    const phi = tf.tensor2d(batch.phi.subarray(0, P * F), [P, F]);
    const sign = tf.tensor1d(batch.sign.subarray(0, P));
    const pairWeight = tf.tensor1d(batch.weight.subarray(0, P));
    const negWeight = tf.tensor2d(batch.negWeight.subarray(0, R * N), [R, N]);
    const lossFn = (...v: Tensor[]): Tensor => {
      const [x, kernel, recurrent, bias, outRows, outBias, negRows, negBias, repeatBase, repeatGate] = v;
      const states = gruStates(tf, x as Tensor3D, kernel as Tensor2D, recurrent as Tensor2D, bias);
      const h = stateRows(states);
      const explore = tf.add(tf.sum(tf.mul(h, outRows), 1), outBias);
      const gate = tf.add(tf.matMul(h, repeatGate), repeatBase);
      const logit = tf.add(explore, tf.sum(tf.mul(gate, phi), 1));
      const pairLoss = tf.sum(tf.mul(tf.softplus(tf.mul(logit, sign)), pairWeight));
      const negLogit = tf.add(tf.matMul(states, negRows, false, true), negBias);
      const negLoss = tf.sum(tf.mul(tf.softplus(negLogit), negWeight));
      return tf.div(tf.add(pairLoss, negLoss), total);
    };
    return { inputs, loss: lossFn };
  });
}

/** Per item: the catalog items one of `n` draws of it stands for, 1 / (n q_i). */
function standsFor(sampler: NegativeSampler, n: number): Float32Array {
  const size = sampler.nItems;
  const cdf = sampler.cdf;
  return Float32Array.from({ length: size }, (_, i) => {
    const q = cdf === null ? 1 / size : (cdf[i] - (i > 0 ? cdf[i - 1] : 0)) / cdf[size - 1];
    return 1 / (n * q);
  });
}

/** A sequence's baskets as a BasketTimeline (what the scorer reads). */
export function timelineOf(seqs: Sequences, s: number): BasketTimeline {
  const b0 = seqs.basketPtr[s];
  const b1 = seqs.basketPtr[s + 1];
  const offset = seqs.itemPtr[b0];
  const itemPtr = new Int32Array(b1 - b0 + 1);
  for (let b = b0; b <= b1; b++) itemPtr[b - b0] = seqs.itemPtr[b] - offset;
  return { itemPtr, items: seqs.items.subarray(offset, seqs.itemPtr[b1]), day: new Float64Array(b1 - b0).fill(NaN) };
}

/** Mean recall@k of each validation shopper's held-out basket under the full (exact) ranking. */
async function validationRecall(w: SequentialWeights, v: { inputs: Sequences; targets: Sequences }, o: SequentialOptions, pace: Pace): Promise<number> {
  const scorer = new SequentialScorer(w);
  const scores = new Float32Array(w.nItems);
  let sum = 0;
  const n = sequenceCount(v.inputs);
  for (let s = 0; s < n; s++) {
    scorer.read(timelineOf(v.inputs, s), [], o.maxBaskets);
    scorer.scoreAll(scores);
    const target = v.targets.items.subarray(v.targets.itemPtr[s], v.targets.itemPtr[s + 1]);
    const top = topKDense(scores, o.validationK).items;
    let hits = 0;
    for (const i of top) if (contains(target, i)) hits++;
    sum += hits / target.length;
    if (pace.due()) await pace.pause();
  }
  return sum / n;
}

export async function trainSequential(
  data: Dataset,
  o: SequentialOptions,
  seed: number,
  onProgress: ((p: Progress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<{ weights: SequentialWeights; info: SequentialTrainingInfo }> {
  const pace = new Pace(signal, 'SequentialRecommender.fit');
  return withBackend(o.backend, o.wasmPaths, 'SequentialRecommender', (tf, backend) => train(tf, backend, data, o, seed, onProgress, pace));
}

async function train(
  tf: Tf,
  backend: string,
  data: Dataset,
  o: SequentialOptions,
  seed: number,
  onProgress: ((p: Progress) => void) | undefined,
  pace: Pace,
): Promise<{ weights: SequentialWeights; info: SequentialTrainingInfo }> {
  const started = performance.now();
  const f = o.factors;
  const { train: seqs, validation } = buildSequences(data, o.maxBaskets, o.validationShare, mulberry32(deriveSeed(seed, 'sequential:validation')));
  const nSeq = sequenceCount(seqs);
  const baseRate = seqs.items.length / Math.max(1, seqs.itemPtr.length - 1) / data.nItems;
  const weights = initWeights(data.nItems, f, baseRate, mulberry32(deriveSeed(seed, 'sequential:init')));
  const sampler = new NegativeSampler(data.nItems, o.sampling === 'popularity' ? popularityCdf(data.itemTotals()) : null);
  const stands = standsFor(sampler, SHARED_NEGATIVES);
  const rng = mulberry32(deriveSeed(seed, 'sequential:batches'));
  const itemIn = new SparseAdamRows(weights.itemIn, f);
  const itemOut = new SparseAdamRows(weights.itemOut, f);
  const itemBias = new SparseAdamRows(weights.itemBias, 1);
  const dense = [weights.kernel, weights.recurrent, weights.bias, weights.repeatBase, weights.repeatGate].map((p) => new DenseAdam(p));
  const history = new RepeatHistory(data.nItems);
  const batch = new Batch();
  const nValidation = validation ? sequenceCount(validation.inputs) : 0;
  onProgress?.({
    stage: 'sequential',
    done: 0,
    total: o.epochs,
    message: `training on ${backend}: ${nSeq} sequences, ${nValidation} validation shoppers`,
  });

  const order = Int32Array.from({ length: nSeq }, (_, s) => s);
  const loss: number[] = [];
  const validationLog: number[] = [];
  const early = new EarlyStopping(o.patience);
  let step = 0;
  let trainMs = 0;
  let epochsRun = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    shuffleInPlace(order, rng);
    // Length buckets: sort pools of BUCKET_BATCHES batches by length, then shuffle the batches.
    const pool = BUCKET_BATCHES * o.batchSize;
    for (let s = 0; s < nSeq; s += pool) {
      const part = order.subarray(s, Math.min(nSeq, s + pool));
      part.sort((a, b) => basketsOf(seqs, a) - basketsOf(seqs, b) || a - b);
    }
    const starts = Int32Array.from({ length: Math.ceil(nSeq / o.batchSize) }, (_, b) => b * o.batchSize);
    shuffleInPlace(starts, rng);
    let lossSum = 0;
    let pairSum = 0;
    for (const start of starts) {
      fillBatch(batch, seqs, order.subarray(start, Math.min(nSeq, start + o.batchSize)), weights, o, sampler, stands, history, rng);
      const P = batch.pairs;
      if (P === 0) continue;
      const squares = itemOut.gather(batch.item, P, batch.outRows);
      itemBias.gather(batch.item, P, batch.outBias);
      itemOut.gather(batch.negItem, SHARED_NEGATIVES, batch.negRows);
      itemBias.gather(batch.negItem, SHARED_NEGATIVES, batch.negBias);
      const { loss: batchLoss, grads } = lossAndGrads(tf, batch, weights);
      lossSum += (batchLoss + (o.l2 * squares) / P) * P;
      pairSum += P;
      const [dx, dKernel, dRecurrent, dBias, dOut, dOutBias, dNeg, dNegBias, dRepeatBase, dRepeatGate] = grads;
      // Pooling: each item of an input basket gets its share of the basket's gradient.
      const occGrads = new Float32Array(batch.occurrences * f);
      for (let k = 0; k < batch.occurrences; k++) {
        const src = batch.occRow[k] * f;
        const scale = batch.occScale[k];
        for (let j = 0; j < f; j++) occGrads[k * f + j] = dx[src + j] * scale;
      }
      const decay = (2 * o.l2) / P;
      itemIn.accumulate(batch.occItem, batch.occurrences, occGrads, decay);
      itemOut.accumulate(batch.item, P, dOut, decay);
      itemOut.accumulate(batch.negItem, SHARED_NEGATIVES, dNeg, 0);
      itemBias.accumulate(batch.item, P, dOutBias, 0);
      itemBias.accumulate(batch.negItem, SHARED_NEGATIVES, dNegBias, 0);
      step++;
      const c1 = 1 - Math.pow(ADAM_BETA1, step);
      const c2 = 1 - Math.pow(ADAM_BETA2, step);
      for (const table of [itemIn, itemOut, itemBias]) table.step(o.learningRate, c1, c2);
      [dKernel, dRecurrent, dBias, dRepeatBase, dRepeatGate].forEach((g, d) => dense[d].step(g, o.learningRate, c1, c2));
      if (pace.due()) await pace.pause();
    }
    trainMs += performance.now() - t0;
    epochsRun++;
    const epochLoss = lossSum / Math.max(pairSum, 1);
    loss.push(epochLoss);
    let message = `epoch ${epoch}/${o.epochs}: loss ${epochLoss.toFixed(4)}`;
    let stop = false;
    if (validation) {
      const value = await validationRecall(weights, validation, o, pace);
      validationLog.push(value);
      message += `, validation recall@${o.validationK} ${value.toFixed(4)}`;
      if (early.observe(epoch, value, weightArrays(weights))) {
        stop = epoch < o.epochs;
        if (stop) message += `, stopping (best epoch ${early.bestEpoch})`;
      }
    }
    onProgress?.({ stage: 'sequential', done: stop ? o.epochs : epoch, total: o.epochs, message });
    if (stop) break;
  }
  early.restore(weightArrays(weights));
  return {
    weights,
    info: {
      backend,
      sequences: nSeq,
      validationSequences: nValidation,
      loss,
      validation: validationLog,
      bestEpoch: validation ? early.bestEpoch : loss.length,
      sequencesPerSecond: (nSeq * epochsRun) / Math.max(trainMs / 1000, 1e-9),
      seconds: (performance.now() - started) / 1000,
    },
  };
}
