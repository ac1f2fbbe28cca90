import type { Tensor } from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset';
import { throwIfAborted } from '../../errors';
import { deriveSeed, mulberry32, shuffleInPlace, type Rng } from '../../util/random';
import type { Progress } from '../types';
import { acquireBackend, type Tf } from './backend';
import { initWeights, NcfScorer, weightArrays, type NcfWeights } from './model';
import type { NeuralCFOptions } from './options';
import { NegativeSampler, popularityCdf, splitPositives, type Positives, type ValidationSet } from './sampling';

export interface TrainResult {
  weights: NcfWeights;
  /** 1 for users with at least one training positive (the others have no learned embedding). */
  userHasData: Uint8Array;
  /** The popularity sampling table, null for uniform sampling (fold-in draws negatives from it). */
  samplingCdf: Float64Array | null;
  backend: string;
  /** Training loss per epoch run, and the validation metric per epoch (empty without validation). */
  loss: number[];
  validation: number[];
  /** Epoch whose weights were kept (the last one without early stopping), 1-based. */
  bestEpoch: number;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/**
 * Embedding tables live in typed arrays and are updated by a lazy (sparse) Adam on the rows a
 * batch touched; tfjs computes the batch's loss and gradients from gathered rows. A tfjs
 * embedding gradient is a dense table-sized tensor, and Adam over it costs O(table) per step:
 * at 100k users x 20k items that was 4x slower than this (benchmarks/ncf-backends.ts).
 */
class SparseAdamRows {
  readonly m: Float32Array;
  readonly v: Float32Array;
  private readonly slot: Int32Array;
  private rows: Int32Array;
  private grad: Float32Array;
  private count = 0;

  constructor(
    readonly table: Float32Array,
    readonly width: number,
  ) {
    this.m = new Float32Array(table.length);
    this.v = new Float32Array(table.length);
    this.slot = new Int32Array(table.length / width).fill(-1);
    this.rows = new Int32Array(256);
    this.grad = new Float32Array(256 * width);
  }

  /** Copies row `rows[e]` of the table to `out[e * width ..]` for every example e. */
  gather(rows: Int32Array, n: number, out: Float32Array): void {
    const { table, width } = this;
    for (let e = 0; e < n; e++) {
      const src = rows[e] * width;
      const dst = e * width;
      for (let k = 0; k < width; k++) out[dst + k] = table[src + k];
    }
  }

  /** Sums the per-example gradients of `rows` (duplicates included) by row. */
  accumulate(rows: Int32Array, n: number, grads: ArrayLike<number>): void {
    const { width } = this;
    for (let e = 0; e < n; e++) {
      const row = rows[e];
      let s = this.slot[row];
      if (s < 0) {
        s = this.count++;
        if (s === this.rows.length) this.grow();
        this.slot[row] = s;
        this.rows[s] = row;
        this.grad.fill(0, s * width, (s + 1) * width);
      }
      const dst = s * width;
      const src = e * width;
      for (let k = 0; k < width; k++) this.grad[dst + k] += grads[src + k];
    }
  }

  /** One Adam step on the accumulated rows (bias corrections c1, c2 of the global step). */
  step(lr: number, c1: number, c2: number): void {
    const { table, m, v, width } = this;
    for (let s = 0; s < this.count; s++) {
      const row = this.rows[s];
      this.slot[row] = -1;
      const base = row * width;
      for (let k = 0; k < width; k++) {
        const g = this.grad[s * width + k];
        const p = base + k;
        const mk = (m[p] = ADAM_BETA1 * m[p] + (1 - ADAM_BETA1) * g);
        const vk = (v[p] = ADAM_BETA2 * v[p] + (1 - ADAM_BETA2) * g * g);
        table[p] -= (lr * (mk / c1)) / (Math.sqrt(vk / c2) + ADAM_EPSILON);
      }
    }
    this.count = 0;
  }

  private grow(): void {
    const rows = new Int32Array(this.rows.length * 2);
    rows.set(this.rows);
    const grad = new Float32Array(rows.length * this.width);
    grad.set(this.grad);
    this.rows = rows;
    this.grad = grad;
  }
}

class DenseAdam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  constructor(readonly param: Float32Array) {
    this.m = new Float32Array(param.length);
    this.v = new Float32Array(param.length);
  }

  step(grad: ArrayLike<number>, lr: number, c1: number, c2: number): void {
    const { param, m, v } = this;
    for (let p = 0; p < param.length; p++) {
      const g = grad[p];
      m[p] = ADAM_BETA1 * m[p] + (1 - ADAM_BETA1) * g;
      v[p] = ADAM_BETA2 * v[p] + (1 - ADAM_BETA2) * g * g;
      param[p] -= (lr * (m[p] / c1)) / (Math.sqrt(v[p] / c2) + ADAM_EPSILON);
    }
  }
}

/** One mini-batch: example e is (user[e], item[e]) with a label (BCE) or (user[e], item[e] vs negItem[e]) (BPR). */
interface Batch {
  n: number;
  user: Int32Array;
  item: Int32Array;
  negItem: Int32Array;
  label: Float32Array;
  weight: Float32Array;
}

/** Rows gathered for a batch, reused across batches. */
interface Gathered {
  userGmf: Float32Array;
  itemGmf: Float32Array;
  itemBias: Float32Array;
  negGmf: Float32Array;
  negBias: Float32Array;
  userMlp: Float32Array;
  itemMlp: Float32Array;
  negMlp: Float32Array;
}

export async function trainNcf(
  data: Dataset,
  o: NeuralCFOptions,
  seed: number,
  onProgress: ((p: Progress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<TrainResult> {
  const runtime = await acquireBackend(o.backend, o.wasmPaths);
  try {
    return await train(runtime.tf, runtime.backend, data, o, seed, onProgress, signal);
  } finally {
    await runtime.restore();
  }
}

async function train(
  tf: Tf,
  backend: string,
  data: Dataset,
  o: NeuralCFOptions,
  seed: number,
  onProgress: ((p: Progress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<TrainResult> {
  const neumf = o.architecture === 'neumf';
  const bpr = o.loss === 'bpr';
  const f = o.factors;
  const samplingCdf = o.sampling === 'popularity' ? popularityCdf(data.itemTotals()) : null;
  const sampler = new NegativeSampler(data.nItems, samplingCdf);
  const { train: positives, validation } = splitPositives(
    data.interactions,
    o.weighting,
    o.validationShare,
    sampler,
    mulberry32(deriveSeed(seed, 'ncf:validation')),
  );
  const userHasData = new Uint8Array(data.nUsers);
  for (let p = 0; p < positives.user.length; p++) userHasData[positives.user[p]] = 1;

  const weights = initWeights(
    { architecture: o.architecture, nUsers: data.nUsers, nItems: data.nItems, factors: f, mlpLayers: o.mlpLayers },
    o.loss,
    o.negatives,
    mulberry32(deriveSeed(seed, 'ncf:init')),
  );
  const userGmf = new SparseAdamRows(weights.userGmf, f);
  const itemGmf = new SparseAdamRows(weights.itemGmf, f);
  const itemBias = new SparseAdamRows(weights.itemBias, 1);
  const userMlp = neumf ? new SparseAdamRows(weights.userMlp, f) : null;
  const itemMlp = neumf ? new SparseAdamRows(weights.itemMlp, f) : null;
  // Dense parameters in the order they follow the row inputs of the loss function.
  const dense = [weights.gmfOut, ...(bpr ? [] : [weights.globalBias]), ...weights.mlpKernels, ...weights.mlpBiases, ...(neumf ? [weights.mlpOut] : [])];
  const denseAdam = dense.map((p) => new DenseAdam(p));

  const perPositive = bpr ? o.negatives : 1 + o.negatives;
  const maxN = o.batchSize * perPositive;
  const batch: Batch = {
    n: 0,
    user: new Int32Array(maxN),
    item: new Int32Array(maxN),
    negItem: new Int32Array(bpr ? maxN : 0),
    label: new Float32Array(bpr ? 0 : maxN),
    weight: new Float32Array(maxN),
  };
  const rows: Gathered = {
    userGmf: new Float32Array(maxN * f),
    itemGmf: new Float32Array(maxN * f),
    itemBias: new Float32Array(maxN),
    negGmf: new Float32Array(bpr ? maxN * f : 0),
    negBias: new Float32Array(bpr ? maxN : 0),
    userMlp: new Float32Array(neumf ? maxN * f : 0),
    itemMlp: new Float32Array(neumf ? maxN * f : 0),
    negMlp: new Float32Array(neumf && bpr ? maxN * f : 0),
  };

  const nPos = positives.user.length;
  const order = Int32Array.from({ length: nPos }, (_, i) => i);
  const rng = mulberry32(deriveSeed(seed, 'ncf:train'));
  const nBatches = Math.ceil(nPos / o.batchSize);
  const lossLog: number[] = [];
  const validationLog: number[] = [];
  const higherIsBetter = o.validationMetric === 'auc';
  let best = higherIsBetter ? -Infinity : Infinity;
  let bestEpoch = o.epochs;
  let bestSnapshot: Float32Array[] | null = null;
  let sinceBest = 0;
  let step = 0;

  onProgress?.({ stage: 'ncf', done: 0, total: o.epochs, message: `training on ${backend}: ${nPos} positives, ${nBatches} batches per epoch` });
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    shuffleInPlace(order, rng);
    let lossSum = 0;
    let examples = 0;
    for (let b = 0; b < nBatches; b++) {
      await yieldIfDue();
      throwIfAborted(signal, 'NeuralCF.fit');
      fillBatch(batch, positives, order, b * o.batchSize, Math.min(nPos, (b + 1) * o.batchSize), o.negatives, bpr, sampler, data, rng);
      const n = batch.n;
      userGmf.gather(batch.user, n, rows.userGmf);
      itemGmf.gather(batch.item, n, rows.itemGmf);
      itemBias.gather(batch.item, n, rows.itemBias);
      if (bpr) {
        itemGmf.gather(batch.negItem, n, rows.negGmf);
        itemBias.gather(batch.negItem, n, rows.negBias);
      }
      if (userMlp && itemMlp) {
        userMlp.gather(batch.user, n, rows.userMlp);
        itemMlp.gather(batch.item, n, rows.itemMlp);
        if (bpr) itemMlp.gather(batch.negItem, n, rows.negMlp);
      }

      const { loss, grads } = lossAndGrads(tf, o, batch, rows, dense);
      lossSum += loss * n;
      examples += n;
      // grads follow the input order of lossAndGrads.
      let g = 0;
      userGmf.accumulate(batch.user, n, grads[g++]);
      itemGmf.accumulate(batch.item, n, grads[g++]);
      itemBias.accumulate(batch.item, n, grads[g++]);
      if (bpr) {
        itemGmf.accumulate(batch.negItem, n, grads[g++]);
        itemBias.accumulate(batch.negItem, n, grads[g++]);
      }
      if (userMlp && itemMlp) {
        userMlp.accumulate(batch.user, n, grads[g++]);
        itemMlp.accumulate(batch.item, n, grads[g++]);
        if (bpr) itemMlp.accumulate(batch.negItem, n, grads[g++]);
      }
      step++;
      const c1 = 1 - Math.pow(ADAM_BETA1, step);
      const c2 = 1 - Math.pow(ADAM_BETA2, step);
      for (const table of [userGmf, itemGmf, itemBias, userMlp, itemMlp]) table?.step(o.learningRate, c1, c2);
      for (const adam of denseAdam) adam.step(grads[g++], o.learningRate, c1, c2);
    }
    const epochLoss = lossSum / Math.max(examples, 1);
    lossLog.push(epochLoss);
    let message = `epoch ${epoch}/${o.epochs}: loss ${epochLoss.toFixed(4)}`;
    let stop = false;
    if (validation) {
      const value = validate(weights, userHasData, validation, higherIsBetter);
      validationLog.push(value);
      message += `, validation ${o.validationMetric} ${value.toFixed(4)}`;
      if (higherIsBetter ? value > best : value < best) {
        best = value;
        bestEpoch = epoch;
        bestSnapshot = weightArrays(weights).map((a) => a.slice());
        sinceBest = 0;
      } else if (++sinceBest >= o.patience) {
        stop = epoch < o.epochs;
        if (stop) message += `, stopping (best epoch ${bestEpoch})`;
      }
    } else if (o.validationShare > 0 && epoch === 1) {
      message += ' (no user has 2+ items to hold out: early stopping off)';
    }
    onProgress?.({ stage: 'ncf', done: stop ? o.epochs : epoch, total: o.epochs, message });
    if (stop) break;
  }
  if (bestSnapshot) {
    const current = weightArrays(weights);
    bestSnapshot.forEach((a, k) => current[k].set(a));
  }
  return {
    weights,
    userHasData,
    samplingCdf,
    backend,
    loss: lossLog,
    validation: validationLog,
    bestEpoch: validation ? bestEpoch : lossLog.length,
  };
}

/** Training is synchronous tfjs work; yielding now and then lets an abort (or a UI) get a turn. */
const YIELD_EVERY_MS = 50;
let lastYield = 0;
async function yieldIfDue(): Promise<void> {
  const now = performance.now();
  if (now - lastYield < YIELD_EVERY_MS) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  lastYield = performance.now();
}

/** Positives order[start..end) and their sampled negatives, laid out positive-then-negatives (BCE) or as pairs (BPR). */
function fillBatch(
  batch: Batch,
  pos: Positives,
  order: Int32Array,
  start: number,
  end: number,
  negatives: number,
  bpr: boolean,
  sampler: NegativeSampler,
  data: Dataset,
  rng: Rng,
): void {
  let e = 0;
  for (let k = start; k < end; k++) {
    const p = order[k];
    const u = pos.user[p];
    const i = pos.item[p];
    const w = pos.weight[p];
    if (bpr) {
      for (let j = 0; j < negatives; j++, e++) {
        batch.user[e] = u;
        batch.item[e] = i;
        batch.negItem[e] = sampler.drawFor(rng, data.interactions, u);
        batch.weight[e] = w;
      }
    } else {
      batch.user[e] = u;
      batch.item[e] = i;
      batch.label[e] = 1;
      batch.weight[e++] = w;
      for (let j = 0; j < negatives; j++, e++) {
        batch.user[e] = u;
        batch.item[e] = sampler.drawFor(rng, data.interactions, u);
        batch.label[e] = 0;
        batch.weight[e] = 1;
      }
    }
  }
  batch.n = e;
}

/**
 * The batch loss and its gradients with respect to, in order: user GMF rows, item GMF rows,
 * item biases, [BPR: negative item GMF rows, negative biases], [NeuMF: user MLP rows, item MLP
 * rows, [BPR: negative item MLP rows]], then the dense parameters `dense`.
 * Loss = mean over examples of weight * (BCE | -log sigmoid(pos - neg)) + l2 * mean squared
 * norm of the example's embedding rows.
 */
function lossAndGrads(
  tf: Tf,
  o: NeuralCFOptions,
  batch: Batch,
  rows: Gathered,
  dense: Float32Array[],
): { loss: number; grads: Float32Array[] } {
  const { n } = batch;
  const f = o.factors;
  const neumf = o.architecture === 'neumf';
  const bpr = o.loss === 'bpr';
  const nLayers = neumf ? o.mlpLayers.length : 0;
  const out = tf.tidy(() => {
    const matrix = (a: Float32Array) => tf.tensor2d(a.subarray(0, n * f), [n, f]);
    const vector = (a: Float32Array) => tf.tensor1d(a.subarray(0, n));
    const inputs: Tensor[] = [matrix(rows.userGmf), matrix(rows.itemGmf), vector(rows.itemBias)];
    if (bpr) inputs.push(matrix(rows.negGmf), vector(rows.negBias));
    if (neumf) {
      inputs.push(matrix(rows.userMlp), matrix(rows.itemMlp));
      if (bpr) inputs.push(matrix(rows.negMlp));
    }
    let inSize = 2 * f;
    const denseShapes: number[][] = [[f], ...(bpr ? [] : [[1]])];
    for (const size of o.mlpLayers.slice(0, nLayers)) {
      denseShapes.push([inSize, size]);
      inSize = size;
    }
    for (const size of o.mlpLayers.slice(0, nLayers)) denseShapes.push([size]);
    if (neumf) denseShapes.push([inSize, 1]);
    dense.forEach((a, k) => inputs.push(tf.tensor(a, denseShapes[k])));
    const label = bpr ? null : vector(batch.label);
    const weight = vector(batch.weight);

    const lossFn = (...x: Tensor[]): Tensor => {
      const [userG, itemG, itemB] = x;
      let k = 3;
      const negG = bpr ? x[k++] : null;
      const negB = bpr ? x[k++] : null;
      const userM = neumf ? x[k++] : null;
      const itemM = neumf ? x[k++] : null;
      const negM = neumf && bpr ? x[k++] : null;
      const gmfOut = x[k++];
      const globalBias = bpr ? null : x[k++];
      const kernels = x.slice(k, k + nLayers);
      const biases = x.slice(k + nLayers, k + 2 * nLayers);
      const mlpOut = neumf ? x[k + 2 * nLayers] : null;

      const mlp = (u: Tensor, i: Tensor): Tensor => {
        let z = tf.concat([u, i], 1);
        for (let l = 0; l < nLayers; l++) z = tf.relu(tf.add(tf.matMul(z, kernels[l]), biases[l]));
        return tf.reshape(tf.matMul(z, mlpOut!), [n]);
      };
      const logit = (itemRows: Tensor, bias: Tensor, itemMlpRows: Tensor | null): Tensor => {
        const gmf = tf.add(tf.sum(tf.mul(tf.mul(userG, itemRows), gmfOut), 1), bias);
        return itemMlpRows && userM ? tf.add(gmf, mlp(userM, itemMlpRows)) : gmf;
      };
      const pos = logit(itemG, itemB, itemM);
      // BCE: softplus(-s) for label 1 and softplus(s) for label 0 == softplus(s * (1 - 2y)).
      const perExample = bpr
        ? tf.softplus(tf.neg(tf.sub(pos, logit(negG!, negB!, negM))))
        : tf.softplus(tf.mul(tf.add(pos, globalBias!), tf.sub(1, tf.mul(2, label!))));
      const dataLoss = tf.div(tf.sum(tf.mul(perExample, weight)), n);
      const rowNorms = [userG, itemG, negG, userM, itemM, negM].filter((t): t is Tensor => t !== null).map((t) => tf.sum(tf.square(t)));
      return tf.add(dataLoss, tf.mul(o.l2 / n, tf.addN(rowNorms)));
    };
    const { value, grads } = tf.valueAndGrads(lossFn)(inputs);
    return [value, ...grads];
  });
  const loss = out[0].dataSync()[0];
  const grads = out.slice(1).map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return { loss, grads };
}

/** Sampled AUC (share of held-out positive vs. sampled negative pairs ranked right) or mean BCE on them. */
function validate(weights: NcfWeights, userHasData: Uint8Array, v: ValidationSet, auc: boolean): number {
  const scorer = new NcfScorer(weights, userHasData);
  const f = weights.factors;
  let correct = 0;
  let loss = 0;
  let pairs = 0;
  for (let k = 0; k < v.user.length; k++) {
    const u = v.user[k];
    const userG = weights.userGmf.subarray(u * f, (u + 1) * f);
    const userM = weights.architecture === 'neumf' ? weights.userMlp.subarray(u * f, (u + 1) * f) : weights.userMlp;
    const sPos = scorer.scoreOne(userG, userM, v.item[k]);
    loss += softplus(-sPos);
    for (let j = 0; j < v.perPositive; j++) {
      const sNeg = scorer.scoreOne(userG, userM, v.negatives[k * v.perPositive + j]);
      correct += sPos > sNeg ? 1 : sPos === sNeg ? 0.5 : 0;
      loss += softplus(sNeg);
      pairs++;
    }
  }
  return auc ? correct / pairs : loss / (v.user.length + pairs);
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}
