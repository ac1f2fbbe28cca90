/**
 * Multi-task training of the two-tower model (TensorFlow Recommenders style): every mini-batch
 * of (user, item) positives feeds both tasks, and the loss is their weighted sum:
 * - retrieval: softmax over the batch's positive items (in-batch negatives) with the logQ
 *   correction and accidental hits (the same item twice in the batch) masked;
 * - ranking: binary cross-entropy of the ranking head on each positive and `negatives`
 *   uniformly sampled items.
 * The towers are gathered and pooled here in typed arrays (id rows, pooled history rows, text
 * projection), tfjs computes the batch loss and its gradients with respect to the tower
 * outputs and the ranking head, and the gradients flow back into the embedding rows the batch
 * touched through a lazy Adam (src/util/adam.ts), as NeuralCF does.
 */
import type { Tensor } from '@tensorflow/tfjs';
import type { CsrArrays } from '../../artifact/validate';
import type { Dataset } from '../../data/dataset';
import { ADAM_BETA1, ADAM_BETA2, DenseAdam, SparseAdamRows } from '../../util/adam';
import { EarlyStopping } from '../../util/early-stopping';
import { NegativeSampler } from '../../util/negatives';
import { Pace } from '../../util/pace';
import { deriveSeed, mulberry32, randomNormal, shuffleInPlace, type Rng } from '../../util/random';
import { lossAndGradients, withBackend, type Tf } from '../../util/tfjs';
import type { Progress } from '../types';
import { TwoTowerScorer, weightArrays, type TwoTowerWeights } from './model';
import type { TwoTowerOptions } from './options';

/** How the last fit went. */
export interface TwoTowerTrainingInfo {
  /** tfjs backend that computed the batch gradients. */
  backend: string;
  /** Training (user, item) positives per epoch. */
  positives: number;
  /** Held-out positives early stopping watched (0: off). */
  validationPositives: number;
  /** Weighted multi-task training loss per epoch run (data terms, without L2). */
  loss: number[];
  /** Validation AUC per epoch (empty when early stopping was off). */
  validation: number[];
  /** 1-based epoch whose weights the model kept. */
  bestEpoch: number;
  /** Training positives per second over the epochs run (validation excluded). */
  examplesPerSecond: number;
  /** Wall-clock seconds of the training loop. */
  seconds: number;
}

export interface TrainResult {
  weights: TwoTowerWeights;
  info: TwoTowerTrainingInfo;
}

/**
 * Standard deviation of the initial user id embeddings. Item ids, history rows and the text
 * projection start at 0: a term no training item has (a never-sold item's own words) then adds
 * nothing to its vector, instead of random noise weighted by its high idf.
 */
const INIT_STD = 0.1;
/** Fixed negatives per validation positive (the AUC's comparisons). */
const VALIDATION_NEGATIVES = 8;
/** Most validation positives (a cost bound on the per-epoch check). */
const MAX_VALIDATION = 5000;

interface Split {
  /** Training positives as (user, item) pairs, users ascending. */
  user: Int32Array;
  item: Int32Array;
  /** Per user, the training items: trainItems[trainPtr[u] .. trainPtr[u+1]) ascending. */
  trainPtr: Int32Array;
  trainItems: Int32Array;
  validationUser: Int32Array;
  validationItem: Int32Array;
}

/** Each user's purchases (weight > 0); with `share` > 0, users with 2+ items give each item to validation with that probability, keeping at least one. */
function splitPositives(data: Dataset, share: number, rng: Rng): Split {
  const { indptr, indices, values } = data.interactions;
  const user: number[] = [];
  const item: number[] = [];
  const vUser: number[] = [];
  const vItem: number[] = [];
  const trainPtr = new Int32Array(data.nUsers + 1);
  for (let u = 0; u < data.nUsers; u++) {
    const own: number[] = [];
    for (let p = indptr[u]; p < indptr[u + 1]; p++) if (values[p] > 0) own.push(indices[p]);
    const held = new Uint8Array(own.length);
    if (share > 0 && own.length >= 2) {
      let kept = own.length;
      for (let k = 0; k < own.length; k++) {
        if (rng() < share && kept > 1) {
          held[k] = 1;
          kept--;
        }
      }
    }
    for (let k = 0; k < own.length; k++) {
      if (held[k]) {
        vUser.push(u);
        vItem.push(own[k]);
      } else {
        user.push(u);
        item.push(own[k]);
      }
    }
    trainPtr[u + 1] = user.length;
  }
  return {
    user: Int32Array.from(user),
    item: Int32Array.from(item),
    trainPtr,
    trainItems: Int32Array.from(item),
    validationUser: Int32Array.from(vUser),
    validationItem: Int32Array.from(vItem),
  };
}

function normalArray(n: number, rng: Rng, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = std * randomNormal(rng);
  return a;
}

/** Growable (rows, grads) occurrence lists for one embedding table per batch. */
class RowGrads {
  rows = new Int32Array(1024);
  grads: Float32Array;
  n = 0;
  constructor(readonly width: number) {
    this.grads = new Float32Array(1024 * width);
  }
  /** Adds an occurrence of `row` whose gradient is scale * src[so .. so + width). */
  add(row: number, src: Float32Array, so: number, scale: number): void {
    if (this.n === this.rows.length) {
      const rows = new Int32Array(2 * this.n);
      rows.set(this.rows);
      const grads = new Float32Array(2 * this.n * this.width);
      grads.set(this.grads);
      this.rows = rows;
      this.grads = grads;
    }
    const w = this.width;
    const o = this.n * w;
    for (let k = 0; k < w; k++) this.grads[o + k] = scale * src[so + k];
    this.rows[this.n++] = row;
  }
  flush(table: SparseAdamRows, decay: number): void {
    table.accumulate(this.rows, this.n, this.grads, decay);
    this.n = 0;
  }
}

export async function trainTwoTower(
  data: Dataset,
  text: CsrArrays,
  nTerms: number,
  o: TwoTowerOptions,
  seed: number,
  onProgress: ((p: Progress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<TrainResult> {
  return withBackend(o.backend, o.wasmPaths, 'TwoTower', (tf, backend) => train(tf, backend, data, text, nTerms, o, seed, onProgress, signal));
}

async function train(
  tf: Tf,
  backend: string,
  data: Dataset,
  text: CsrArrays,
  nTerms: number,
  o: TwoTowerOptions,
  seed: number,
  onProgress: ((p: Progress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<TrainResult> {
  const f = o.factors;
  const H = o.hidden;
  const r = o.negatives;
  const { nUsers, nItems } = data;
  const split = splitPositives(data, o.validationShare, mulberry32(deriveSeed(seed, 'two-tower:validation')));
  const nPos = split.user.length;
  const userHasData = new Uint8Array(nUsers);
  for (let p = 0; p < nPos; p++) userHasData[split.user[p]] = 1;

  const init = mulberry32(deriveSeed(seed, 'two-tower:init'));
  const weights: TwoTowerWeights = {
    nUsers,
    nItems,
    nTerms,
    factors: f,
    hidden: H,
    temperature: o.temperature,
    userId: normalArray(nUsers * f, init, INIT_STD),
    userHasData,
    itemId: new Float32Array(nItems * f),
    history: new Float32Array(nItems * f),
    textW: new Float32Array(nTerms * f),
    text,
    rankKernel: normalArray(f * H, init, Math.sqrt(2 / f)),
    // Positive so the head's ReLUs pass gradients from the start (the item vectors start at 0).
    rankBias: new Float32Array(H).fill(0.1),
    rankOut: normalArray(H, init, Math.sqrt(1 / H)),
    rankOutBias: Float32Array.of(-Math.log(r)),
  };
  const tables = {
    userId: new SparseAdamRows(weights.userId!, f),
    itemId: new SparseAdamRows(weights.itemId, f),
    history: new SparseAdamRows(weights.history, f),
    textW: new SparseAdamRows(weights.textW, f),
  };
  const grads = { userId: new RowGrads(f), itemId: new RowGrads(f), history: new RowGrads(f), textW: new RowGrads(f) };
  const rankParams = [weights.rankKernel, weights.rankBias, weights.rankOut, weights.rankOutBias];
  const rankAdam = rankParams.map((p) => new DenseAdam(p));

  // logQ: an item's probability of being a batch positive (its share of training positives).
  const logQ = new Float32Array(nItems);
  {
    const counts = new Float64Array(nItems);
    for (let p = 0; p < nPos; p++) counts[split.item[p]]++;
    for (let i = 0; i < nItems; i++) logQ[i] = counts[i] > 0 ? Math.log(counts[i] / nPos) : 0;
  }
  const sampler = new NegativeSampler(nItems, null);
  const validation = prepareValidation(split, data, sampler, mulberry32(deriveSeed(seed, 'two-tower:validation-negatives')));

  const B = Math.min(o.batchSize, Math.max(nPos, 1));
  const U = new Float32Array(B * f);
  const V = new Float32Array(B * (1 + r) * f);
  const batchUser = new Int32Array(B);
  const keepUser = new Uint8Array(B);
  const batchItem = new Int32Array(B * (1 + r));
  const keepItem = new Uint8Array(B * (1 + r));
  const histPtr = new Int32Array(B + 1);
  let histItems = new Int32Array(B * Math.min(o.maxHistory, 64));
  const scratch = new Int32Array(o.maxHistory);
  const order = Int32Array.from({ length: nPos }, (_, i) => i);
  const rng = mulberry32(deriveSeed(seed, 'two-tower:train'));
  const nBatches = Math.ceil(nPos / B);
  const { retrieval: wR, ranking: wK } = o.taskWeights;
  const decay = (2 * o.l2) / B;

  const lossLog: number[] = [];
  const validationLog: number[] = [];
  const early = new EarlyStopping(o.patience);
  let step = 0;
  let trainSeconds = 0;
  let trained = 0;
  const started = now();
  const pace = new Pace(signal, 'TwoTower.fit');
  onProgress?.({ stage: 'two-tower', done: 0, total: o.epochs, message: `training on ${backend}: ${nPos} positives, ${nBatches} batches per epoch` });
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const epochStart = now();
    shuffleInPlace(order, rng);
    let lossSum = 0;
    let lossCount = 0;
    for (let b0 = 0; b0 < nPos; b0 += B) {
      if (pace.due()) await pace.pause();
      // Drop a short last batch below 2 positives: a softmax over one candidate teaches nothing.
      const size = Math.min(B, nPos - b0);
      if (size < 2 && nBatches > 1) continue;
      // --- gather the towers
      histPtr[0] = 0;
      for (let b = 0; b < size; b++) {
        const p = order[b0 + b];
        const u = split.user[p];
        const target = split.item[p];
        batchUser[b] = u;
        keepUser[b] = rng() >= o.userIdDropout ? 1 : 0;
        // The pooled history: up to maxHistory of the user's other training items (a seeded sample when more).
        let n = 0;
        const t0 = split.trainPtr[u];
        const t1 = split.trainPtr[u + 1];
        const others = t1 - t0 - 1;
        if (others <= o.maxHistory) {
          for (let q = t0; q < t1; q++) if (split.trainItems[q] !== target) scratch[n++] = split.trainItems[q];
        } else {
          // Floyd-like sample without replacement by rejection (others > maxHistory >= n).
          const seen = new Set<number>();
          while (n < o.maxHistory) {
            const j = split.trainItems[t0 + Math.floor(rng() * (t1 - t0))];
            if (j === target || seen.has(j)) continue;
            seen.add(j);
            scratch[n++] = j;
          }
        }
        if (histPtr[b] + n > histItems.length) {
          const bigger = new Int32Array(2 * (histPtr[b] + n));
          bigger.set(histItems);
          histItems = bigger;
        }
        histItems.set(scratch.subarray(0, n), histPtr[b]);
        histPtr[b + 1] = histPtr[b] + n;
        userVector(weights, u, keepUser[b] === 1, histItems, histPtr[b], histPtr[b + 1], U, b * f);
        batchItem[b] = target;
        for (let j = 0; j < r; j++) batchItem[size + b * r + j] = sampler.drawFor(rng, data.interactions, u);
      }
      const nItemRows = size * (1 + r);
      for (let e = 0; e < nItemRows; e++) {
        keepItem[e] = rng() >= o.itemIdDropout ? 1 : 0;
        towerItem(weights, batchItem[e], keepItem[e] === 1, V, e * f);
      }
      // --- loss and gradients with respect to the tower outputs and the ranking head
      const { loss, dU, dV, dText, dRank } = lossAndGrads(tf, o, size, U, V, batchItem, logQ, rankParams, wR, wK);
      lossSum += loss * size;
      lossCount += size;
      // --- back into the rows
      for (let b = 0; b < size; b++) {
        if (keepUser[b]) grads.userId.add(batchUser[b], dU, b * f, 1);
        const n = histPtr[b + 1] - histPtr[b];
        for (let q = histPtr[b]; q < histPtr[b + 1]; q++) grads.history.add(histItems[q], dU, b * f, 1 / n);
      }
      for (let e = 0; e < nItemRows; e++) {
        const i = batchItem[e];
        if (keepItem[e]) grads.itemId.add(i, dV, e * f, 1);
        // The text projection learns from the retrieval task only (dText: zero for the ranking
        // negatives), unless retrieval does not train. The ranking BCE against uniform negatives pushes every item away from the
        // average user (each item is a negative 4x as often as a positive); through a term that
        // ten items share, that base-rate direction swamped the group signal, and a never-sold
        // item (its text alone) then ranked below half the other groups' items for its own
        // group's shoppers (0.47, against 0.99 for retrieval alone; test/two-tower.test.ts data).
        if (e < size) for (let p = text.indptr[i]; p < text.indptr[i + 1]; p++) grads.textW.add(text.indices[p], dText, e * f, text.values[p]);
      }
      step++;
      const c1 = 1 - Math.pow(ADAM_BETA1, step);
      const c2 = 1 - Math.pow(ADAM_BETA2, step);
      for (const key of ['userId', 'itemId', 'history', 'textW'] as const) {
        grads[key].flush(tables[key], decay);
        tables[key].step(o.learningRate, c1, c2);
      }
      if (dRank) rankAdam.forEach((adam, d) => adam.step(dRank[d], o.learningRate, c1, c2));
      trained += size;
    }
    trainSeconds += now() - epochStart;
    const epochLoss = lossSum / Math.max(lossCount, 1);
    lossLog.push(epochLoss);
    let message = `epoch ${epoch}/${o.epochs}: loss ${epochLoss.toFixed(4)}`;
    let stop = false;
    if (validation) {
      const auc = await validationAuc(weights, o, validation, split, pace);
      validationLog.push(auc);
      message += `, validation AUC ${auc.toFixed(4)}`;
      if (early.observe(epoch, auc, weightArrays(weights)) && epoch < o.epochs) {
        stop = true;
        message += `, stopping (best epoch ${early.bestEpoch})`;
      }
    } else if (o.validationShare > 0 && epoch === 1) {
      message += ' (no user has 2+ items to hold out: early stopping off)';
    }
    onProgress?.({ stage: 'two-tower', done: stop ? o.epochs : epoch, total: o.epochs, message });
    if (stop) break;
  }
  early.restore(weightArrays(weights));
  return {
    weights,
    info: {
      backend,
      positives: nPos,
      validationPositives: validation ? validation.user.length : 0,
      loss: lossLog,
      validation: validationLog,
      bestEpoch: validation ? early.bestEpoch : lossLog.length,
      examplesPerSecond: trainSeconds > 0 ? trained / trainSeconds : 0,
      seconds: now() - started,
    },
  };
}

/** out[o..o+f) = keepId * userId[u] + mean of history rows items[h0..h1) (row by row: contiguous reads). */
function userVector(w: TwoTowerWeights, u: number, keepId: boolean, items: Int32Array, h0: number, h1: number, out: Float32Array, o: number): void {
  const f = w.factors;
  const acc = new Float64Array(f);
  for (let q = h0; q < h1; q++) {
    const row = items[q] * f;
    for (let k = 0; k < f; k++) acc[k] += w.history[row + k];
  }
  const inv = h1 > h0 ? 1 / (h1 - h0) : 0;
  for (let k = 0; k < f; k++) out[o + k] = (keepId ? w.userId![u * f + k] : 0) + acc[k] * inv;
}

/** The item tower with the id embedding kept or dropped. */
function towerItem(w: TwoTowerWeights, i: number, keepId: boolean, out: Float32Array, o: number): void {
  const f = w.factors;
  const { indptr, indices, values } = w.text;
  for (let k = 0; k < f; k++) out[o + k] = keepId ? w.itemId[i * f + k] : 0;
  for (let p = indptr[i]; p < indptr[i + 1]; p++) {
    const x = values[p];
    const row = indices[p] * f;
    for (let k = 0; k < f; k++) out[o + k] += x * w.textW[row + k];
  }
}

/**
 * The batch's weighted loss and its gradients. U: size x f user vectors; V: the size positive
 * item vectors, then size x negatives negative item vectors (row-major). Returns dU and dV
 * (both tasks) in the same layouts, dText (the retrieval task's part of dV, what the text
 * projection learns from) and the ranking head's gradients in rankParams order (null when its
 * ranking weight is 0).
 */
function lossAndGrads(
  tf: Tf,
  o: TwoTowerOptions,
  size: number,
  U: Float32Array,
  V: Float32Array,
  batchItem: Int32Array,
  logQ: Float32Array,
  rankParams: Float32Array[],
  wR: number,
  wK: number,
): { loss: number; dU: Float32Array; dV: Float32Array; dText: Float32Array; dRank: Float32Array[] | null } {
  const f = o.factors;
  const H = o.hidden;
  const r = o.negatives;
  // Constants of the retrieval softmax: the logQ correction per candidate column, accidental hits masked.
  const correction = new Float32Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let c = o.logQCorrection ? -logQ[batchItem[j]] : 0;
      if (j !== i && batchItem[j] === batchItem[i]) c = -1e9;
      correction[i * size + j] = c;
    }
  }
  const { loss, grads: out } = lossAndGradients(tf, () => {
    const u = tf.tensor2d(U.subarray(0, size * f), [size, f]);
    const vp = tf.tensor2d(V.subarray(0, size * f), [size, f]);
    const vn = tf.tensor2d(V.subarray(size * f, size * (1 + r) * f), [size * r, f]);
    const corr = tf.tensor2d(correction, [size, size]);
    const labels = tf.oneHot(tf.range(0, size, 1, 'int32'), size);
    const rank = [tf.tensor2d(rankParams[0], [f, H]), tf.tensor1d(rankParams[1]), tf.tensor2d(rankParams[2], [H, 1]), tf.tensor1d(rankParams[3])];
    // Inputs: u, then the positives for retrieval (when it trains), then for ranking the
    // positives again, the negatives and the head (when it trains): the positives enter once
    // per task, so the two tasks' gradients come back apart (see the text path in train()).
    const lossFn = (...x: Tensor[]): Tensor => {
      let next = 0;
      const xu = x[next++];
      let total: Tensor = tf.scalar(0);
      if (wR > 0) {
        const xp = x[next++];
        const logits = tf.add(tf.div(tf.matMul(xu, xp, false, true), o.temperature), corr);
        const ce = tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1)));
        total = tf.add(total, tf.mul(ce, wR));
      }
      if (wK > 0) {
        const [xk, xn, kernel, b1, w2, b2] = x.slice(next);
        // The head reads u * v: each positive, then its negatives against the same user.
        const hp = tf.relu(tf.add(tf.matMul(tf.mul(xu, xk), kernel), b1));
        const lp = tf.add(tf.matMul(hp, w2), b2);
        const un = tf.reshape(tf.mul(tf.reshape(xn, [size, r, f]), tf.reshape(xu, [size, 1, f])), [size * r, f]);
        const hn = tf.relu(tf.add(tf.matMul(un, kernel), b1));
        const ln = tf.add(tf.matMul(hn, w2), b2);
        const bce = tf.div(tf.add(tf.sum(tf.softplus(tf.neg(lp))), tf.sum(tf.softplus(ln))), size * (1 + r));
        total = tf.add(total, tf.mul(bce, wK));
      }
      return total;
    };
    const inputs = [u, ...(wR > 0 ? [vp] : []), ...(wK > 0 ? [vp.clone(), vn, ...rank] : [])];
    return { inputs, loss: lossFn };
  });
  const dU = out[0];
  const dText = new Float32Array(size * (1 + r) * f);
  let next = 1;
  if (wR > 0) dText.set(out[next++], 0);
  const dV = dText.slice();
  let dRank: Float32Array[] | null = null;
  if (wK > 0) {
    const dRankPos = out[next++];
    for (let p = 0; p < size * f; p++) dV[p] += dRankPos[p];
    // Ranking alone: the text projection learns from it (there is nothing else).
    if (wR === 0) dText.set(dRankPos, 0);
    dV.set(out[next++], size * f);
    dRank = out.slice(next);
  }
  return { loss, dU, dV, dText, dRank };
}

interface Validation {
  user: Int32Array;
  item: Int32Array;
  /** VALIDATION_NEGATIVES fixed negatives per positive. */
  negatives: Int32Array;
}

function prepareValidation(split: Split, data: Dataset, sampler: NegativeSampler, rng: Rng): Validation | null {
  const n = split.validationUser.length;
  if (n === 0) return null;
  // A seeded subset when there are many (the same every epoch).
  const pick = Int32Array.from({ length: n }, (_, i) => i);
  if (n > MAX_VALIDATION) {
    shuffleInPlace(pick, rng);
  }
  const m = Math.min(n, MAX_VALIDATION);
  const chosen = pick.subarray(0, m).sort();
  const user = Int32Array.from(chosen, (p) => split.validationUser[p]);
  const item = Int32Array.from(chosen, (p) => split.validationItem[p]);
  const negatives = new Int32Array(m * VALIDATION_NEGATIVES);
  for (let q = 0; q < m; q++) for (let j = 0; j < VALIDATION_NEGATIVES; j++) negatives[q * VALIDATION_NEGATIVES + j] = sampler.drawFor(rng, data.interactions, user[q]);
  return { user, item, negatives };
}

/** Sampled AUC of score() (the known user's vector: id + pooled training history): held-out item vs fixed negatives, ties half. */
async function validationAuc(w: TwoTowerWeights, o: TwoTowerOptions, v: Validation, split: Split, pace: Pace): Promise<number> {
  const scorer = new TwoTowerScorer(w, o.scoring);
  let sum = 0;
  for (let q = 0; q < v.user.length; q++) {
    if (q % 256 === 0 && pace.due()) await pace.pause();
    const u = v.user[q];
    scorer.setUser(u, split.trainItems.subarray(split.trainPtr[u], split.trainPtr[u + 1]));
    const pos = scorer.score(v.item[q]);
    for (let j = 0; j < VALIDATION_NEGATIVES; j++) {
      const neg = scorer.score(v.negatives[q * VALIDATION_NEGATIVES + j]);
      sum += pos > neg ? 1 : pos === neg ? 0.5 : 0;
    }
  }
  return sum / (v.user.length * VALIDATION_NEGATIVES);
}

function now(): number {
  return (typeof performance !== 'undefined' ? performance.now() : Date.now()) / 1000;
}
