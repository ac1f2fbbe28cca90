import type { GradSaveFunc, Tensor } from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset';
import { Pace } from '../../util/pace';
import { EarlyStopping } from '../../util/early-stopping';
import { deriveSeed, mulberry32, shuffleInPlace, type Rng } from '../../util/random';
import type { Progress } from '../types';
import { ADAM_BETA1, ADAM_BETA2, DenseAdam, SparseAdamRows } from '../../util/adam';
import { lossAndGradients, withBackend, type Tf } from '../../util/tfjs';
import type { NcfTrainingInfo } from './index';
import { initWeights, NcfScorer, weightArrays, type NcfWeights } from './model';
import type { NeuralCFOptions } from './options';
import { NegativeSampler, popularityCdf, splitPositives, type Positives, type ValidationSet } from './sampling';

export interface TrainResult {
  weights: NcfWeights;
  /** 1 for users with at least one training positive (the others have no learned embedding). */
  userHasData: Uint8Array;
  /** The popularity sampling table, null for uniform sampling (fold-in draws negatives from it). */
  samplingCdf: Float64Array | null;
  info: NcfTrainingInfo;
}

/**
 * One mini-batch of `size` positives. BCE lays examples out as a size x (1 + negatives) grid
 * (column 0 the positive, then its negatives); BPR as size x negatives pairs of the positive
 * against each negative. The user row is gathered once per positive and broadcast over its
 * row of the grid, which keeps the copies and the gradient sums 1 + negatives times smaller.
 */
interface Batch {
  size: number;
  user: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  /** BCE: pos and negatives interleaved per positive. */
  grid: Int32Array;
  /** BCE: example weights on the grid; BPR: one weight per positive. */
  weight: Float32Array;
  /** BCE: -1 for positives, +1 for negatives, so the loss is softplus(sign * logit). */
  sign: Float32Array;
}

/** A block of embedding rows fed to the loss: which rows of which table, and how often each counts per example. */
interface RowInput {
  table: SparseAdamRows;
  rows: () => Int32Array;
  /** Rows per positive in the batch. */
  perPositive: number;
  /** Examples each gathered row takes part in (for the per-example L2 mean). */
  examplesPerRow: number;
  regularized: boolean;
  buffer: Float32Array;
}

export async function trainNcf(
  data: Dataset,
  o: NeuralCFOptions,
  seed: number,
  onProgress: ((p: Progress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<TrainResult> {
  return withBackend(o.backend, o.wasmPaths, 'NeuralCF', (tf, backend) => train(tf, backend, data, o, seed, onProgress, signal));
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
  const r = o.negatives;
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
    r,
    mulberry32(deriveSeed(seed, 'ncf:init')),
  );
  const B = o.batchSize;
  const k = bpr ? r : 1 + r;
  const batch: Batch = {
    size: 0,
    user: new Int32Array(B),
    pos: new Int32Array(B),
    neg: new Int32Array(B * r),
    grid: new Int32Array(bpr ? 0 : B * k),
    weight: new Float32Array(bpr ? B : B * k),
    sign: new Float32Array(bpr ? 0 : B * k),
  };
  const userGmf = new SparseAdamRows(weights.userGmf, f);
  const itemGmf = new SparseAdamRows(weights.itemGmf, f);
  const itemBias = new SparseAdamRows(weights.itemBias, 1);
  const userMlp = neumf ? new SparseAdamRows(weights.userMlp, f) : null;
  const itemMlp = neumf ? new SparseAdamRows(weights.itemMlp, f) : null;
  const input = (table: SparseAdamRows, rows: () => Int32Array, perPositive: number, examplesPerRow: number): RowInput => ({
    table,
    rows,
    perPositive,
    examplesPerRow,
    regularized: table !== itemBias,
    buffer: new Float32Array(B * perPositive * table.width),
  });
  // The loss function takes these in this order (see lossAndGrads).
  const rowInputs: RowInput[] = bpr
    ? [
        input(userGmf, () => batch.user, 1, r),
        input(itemGmf, () => batch.pos, 1, r),
        input(itemBias, () => batch.pos, 1, r),
        input(itemGmf, () => batch.neg, r, 1),
        input(itemBias, () => batch.neg, r, 1),
        ...(userMlp && itemMlp
          ? [input(userMlp, () => batch.user, 1, r), input(itemMlp, () => batch.pos, 1, r), input(itemMlp, () => batch.neg, r, 1)]
          : []),
      ]
    : [
        input(userGmf, () => batch.user, 1, k),
        input(itemGmf, () => batch.grid, k, 1),
        input(itemBias, () => batch.grid, k, 1),
        ...(userMlp && itemMlp ? [input(userMlp, () => batch.user, 1, k), input(itemMlp, () => batch.grid, k, 1)] : []),
      ];
  // Dense parameters with their tensor shapes; the first MLP kernel is split into its user
  // and item halves (contiguous rows), as the scorer uses it.
  const dense: Array<{ param: Float32Array; shape: number[] }> = [{ param: weights.gmfOut, shape: [f] }];
  if (!bpr) dense.push({ param: weights.globalBias, shape: [1] });
  if (neumf) {
    const sizes = o.mlpLayers;
    const k0 = weights.mlpKernels[0];
    dense.push({ param: k0.subarray(0, f * sizes[0]), shape: [f, sizes[0]] }, { param: k0.subarray(f * sizes[0]), shape: [f, sizes[0]] });
    for (let l = 1; l < sizes.length; l++) dense.push({ param: weights.mlpKernels[l], shape: [sizes[l - 1], sizes[l]] });
    sizes.forEach((size, l) => dense.push({ param: weights.mlpBiases[l], shape: [size] }));
    dense.push({ param: weights.mlpOut, shape: [sizes[sizes.length - 1], 1] });
  }
  const denseAdam = dense.map((d) => new DenseAdam(d.param));
  const layers = makeLayers(tf);

  const nPos = positives.user.length;
  const order = Int32Array.from({ length: nPos }, (_, i) => i);
  const rng = mulberry32(deriveSeed(seed, 'ncf:train'));
  const nBatches = Math.ceil(nPos / B);
  const lossLog: number[] = [];
  const validationLog: number[] = [];
  const higherIsBetter = o.validationMetric === 'auc';
  const early = new EarlyStopping(o.patience, higherIsBetter);
  let step = 0;

  const pace = new Pace(signal, 'NeuralCF.fit');
  onProgress?.({ stage: 'ncf', done: 0, total: o.epochs, message: `training on ${backend}: ${nPos} positives, ${nBatches} batches per epoch` });
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    shuffleInPlace(order, rng);
    let lossSum = 0;
    let examples = 0;
    for (let b = 0; b < nBatches; b++) {
      // Training is synchronous tfjs work: pacing lets an abort (or a UI) get a turn.
      if (pace.due()) await pace.pause();
      fillBatch(batch, positives, order, b * B, Math.min(nPos, (b + 1) * B), r, bpr, sampler, data, rng);
      const n = batch.size * k;
      // L2 on the rows of each example, as a per-example mean: computed here, not in the graph.
      let regLoss = 0;
      for (const ri of rowInputs) {
        const squares = ri.table.gather(ri.rows(), batch.size * ri.perPositive, ri.buffer);
        if (ri.regularized) regLoss += (o.l2 * ri.examplesPerRow * squares) / n;
      }
      const { loss, grads } = lossAndGrads(tf, layers, o, batch, rowInputs, dense);
      lossSum += (loss + regLoss) * n;
      examples += n;
      rowInputs.forEach((ri, g) => {
        const decay = ri.regularized ? (2 * o.l2 * ri.examplesPerRow) / n : 0;
        ri.table.accumulate(ri.rows(), batch.size * ri.perPositive, grads[g], decay);
      });
      step++;
      const c1 = 1 - Math.pow(ADAM_BETA1, step);
      const c2 = 1 - Math.pow(ADAM_BETA2, step);
      for (const table of [userGmf, itemGmf, itemBias, userMlp, itemMlp]) table?.step(o.learningRate, c1, c2);
      denseAdam.forEach((adam, d) => adam.step(grads[rowInputs.length + d], o.learningRate, c1, c2));
    }
    const epochLoss = lossSum / Math.max(examples, 1);
    lossLog.push(epochLoss);
    let message = `epoch ${epoch}/${o.epochs}: loss ${epochLoss.toFixed(4)}`;
    let stop = false;
    if (validation) {
      const value = validate(weights, userHasData, validation, higherIsBetter);
      validationLog.push(value);
      message += `, validation ${o.validationMetric} ${value.toFixed(4)}`;
      if (early.observe(epoch, value, weightArrays(weights))) {
        stop = epoch < o.epochs;
        if (stop) message += `, stopping (best epoch ${early.bestEpoch})`;
      }
    } else if (o.validationShare > 0 && epoch === 1) {
      message += ' (no user has 2+ items to hold out: early stopping off)';
    }
    onProgress?.({ stage: 'ncf', done: stop ? o.epochs : epoch, total: o.epochs, message });
    if (stop) break;
  }
  early.restore(weightArrays(weights));
  return {
    weights,
    userHasData,
    samplingCdf,
    info: {
      backend,
      loss: lossLog,
      validation: validationLog,
      bestEpoch: validation ? early.bestEpoch : lossLog.length,
    },
  };
}

/** Positives order[start..end) with `negatives` sampled negatives each. */
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
  const size = end - start;
  const k = 1 + negatives;
  for (let b = 0; b < size; b++) {
    const p = order[start + b];
    const u = pos.user[p];
    batch.user[b] = u;
    batch.pos[b] = pos.item[p];
    for (let j = 0; j < negatives; j++) batch.neg[b * negatives + j] = sampler.drawFor(rng, data.interactions, u);
    if (bpr) {
      batch.weight[b] = pos.weight[p];
      continue;
    }
    batch.grid[b * k] = pos.item[p];
    batch.weight[b * k] = pos.weight[p];
    batch.sign[b * k] = -1;
    for (let j = 0; j < negatives; j++) {
      batch.grid[b * k + 1 + j] = batch.neg[b * negatives + j];
      batch.weight[b * k + 1 + j] = 1;
      batch.sign[b * k + 1 + j] = 1;
    }
  }
  batch.size = size;
}

/**
 * Layers with hand-written gradients. tfjs's own gradients of matMul use transposed products
 * and its broadcasting gradients reduce over leading axes; both are slow paths on the wasm
 * backend (3x the time of these formulations; see benchmarks/ncf-backends.ts).
 */
interface Layers {
  /** GMF logits [b, cols]: user rows u [b, f], item rows v [b * cols, f] (cols per user), output weights h [f]. */
  gmf(u: Tensor, v: Tensor, h: Tensor): Tensor;
  /** x [m, in] times w [in, out]. */
  linear(x: Tensor, w: Tensor): Tensor;
  /** x [m, in] times w [in, out] plus bias [out]. */
  affine(x: Tensor, w: Tensor, bias: Tensor): Tensor;
}

function makeLayers(tf: Tf): Layers {
  const ones = (m: number) => tf.ones([1, m]);
  const gmf = tf.customGrad((...args: Array<Tensor | GradSaveFunc>) => {
    const [u, v, h, save] = args as [Tensor, Tensor, Tensor, GradSaveFunc];
    const [b, f] = u.shape;
    const cols = v.shape[0] / b;
    const uh = tf.reshape(tf.mul(u, h), [b, 1, f]);
    const items = tf.reshape(v, [b, cols, f]);
    save([u, items, h, uh]);
    return {
      value: tf.sum(tf.mul(items, uh), 2),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [su, sItems, sh, suh] = saved;
        const g = tf.reshape(dy, [b, cols, 1]);
        const dUh = tf.sum(tf.mul(sItems, g), 1);
        return [tf.mul(dUh, sh), tf.reshape(tf.mul(g, suh), [b * cols, f]), tf.reshape(tf.matMul(ones(b), tf.mul(dUh, su)), [f])];
      },
    };
  });
  const linear = tf.customGrad((...args: Array<Tensor | GradSaveFunc>) => {
    const [x, w, save] = args as [Tensor, Tensor, GradSaveFunc];
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy: Tensor, [sx, sw]: Tensor[]) => [tf.matMul(dy, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dy)],
    };
  });
  const affine = tf.customGrad((...args: Array<Tensor | GradSaveFunc>) => {
    const [x, w, bias, save] = args as [Tensor, Tensor, Tensor, GradSaveFunc];
    save([x, w]);
    return {
      value: tf.add(tf.matMul(x, w), bias),
      gradFunc: (dy: Tensor, [sx, sw]: Tensor[]) => [
        tf.matMul(dy, tf.transpose(sw)),
        tf.matMul(tf.transpose(sx), dy),
        tf.reshape(tf.matMul(ones(dy.shape[0] as number), dy), [dy.shape[1] as number]),
      ],
    };
  });
  return {
    gmf: (u, v, h) => gmf(u, v, h),
    linear: (x, w) => linear(x, w),
    affine: (x, w, bias) => affine(x, w, bias),
  };
}

/**
 * The mean data loss of the batch and its gradients with respect to the gathered rows (in
 * rowInputs order) and then the dense parameters (in `dense` order). Logit = GMF (elementwise
 * product weighted by gmfOut) + item bias [+ global bias for BCE] [+ MLP tower]; BCE loss
 * softplus(sign * logit), BPR loss softplus(negative logit - positive logit), both weighted.
 */
function lossAndGrads(
  tf: Tf,
  layers: Layers,
  o: NeuralCFOptions,
  batch: Batch,
  rowInputs: RowInput[],
  dense: Array<{ param: Float32Array; shape: number[] }>,
): { loss: number; grads: Float32Array[] } {
  const b = batch.size;
  const r = o.negatives;
  const neumf = o.architecture === 'neumf';
  const bpr = o.loss === 'bpr';
  const sizes = o.mlpLayers;
  const nLayers = neumf ? sizes.length : 0;
  return lossAndGradients(tf, () => {
    const inputs: Tensor[] = rowInputs.map((ri) => {
      const count = b * ri.perPositive;
      const w = ri.table.width;
      return w === 1 ? tf.tensor1d(ri.buffer.subarray(0, count)) : tf.tensor2d(ri.buffer.subarray(0, count * w), [count, w]);
    });
    for (const d of dense) inputs.push(tf.tensor(d.param, d.shape));
    const k = bpr ? r : 1 + r;
    const weight = bpr ? tf.tensor2d(batch.weight.subarray(0, b), [b, 1]) : tf.tensor2d(batch.weight.subarray(0, b * k), [b, k]);
    const sign = bpr ? null : tf.tensor2d(batch.sign.subarray(0, b * k), [b, k]);

    const lossFn = (...x: Tensor[]): Tensor => {
      let next = 0;
      const take = () => x[next++];
      const userG = take();
      const itemG = take();
      const itemB = take();
      const negG = bpr ? take() : null;
      const negB = bpr ? take() : null;
      const userM = neumf ? take() : null;
      const itemM = neumf ? take() : null;
      const negM = neumf && bpr ? take() : null;
      const gmfOut = take();
      const globalBias = bpr ? null : take();
      const firstUser = neumf ? take() : null;
      const firstItem = neumf ? take() : null;
      const kernels = Array.from({ length: Math.max(nLayers - 1, 0) }, take);
      const biases = Array.from({ length: nLayers }, take);
      const mlpOut = neumf ? take() : null;

      /** Logits [b, cols] of the user rows against `cols` item rows per user. */
      const logits = (itemRows: Tensor, bias: Tensor, itemMlpRows: Tensor | null, cols: number): Tensor => {
        let s = tf.add(layers.gmf(userG, itemRows, gmfOut), tf.reshape(bias, [b, cols]));
        if (itemMlpRows && userM) {
          const h1 = sizes[0];
          const userPart = tf.reshape(layers.linear(userM, firstUser!), [b, 1, h1]);
          const itemPart = tf.reshape(layers.affine(itemMlpRows, firstItem!, biases[0]), [b, cols, h1]);
          let z = tf.reshape(tf.relu(tf.add(itemPart, userPart)), [b * cols, h1]);
          for (let l = 1; l < nLayers; l++) z = tf.relu(layers.affine(z, kernels[l - 1], biases[l]));
          s = tf.add(s, tf.reshape(layers.linear(z, mlpOut!), [b, cols]));
        }
        return s;
      };
      const perExample = bpr
        ? tf.softplus(tf.sub(logits(negG!, negB!, negM, r), logits(itemG, itemB, itemM, 1)))
        : tf.softplus(tf.mul(tf.add(logits(itemG, itemB, itemM, k), globalBias!), sign!));
      return tf.div(tf.sum(tf.mul(perExample, weight)), b * k);
    };
    return { inputs, loss: lossFn };
  });
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
