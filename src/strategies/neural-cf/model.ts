import { mulberry32, randomNormal, type Rng } from '../../util/random';
import type { NcfArchitecture, NcfLoss } from './options';
import type { NegativeSampler } from './sampling';

/**
 * Every parameter of a fitted model as typed arrays: what training updates, what the artifact
 * stores, and all that scoring needs (no tfjs). Row tables are row-major (row r at r * width).
 * MLP kernel k maps layer input to output as [in][out]; the first layer's input is
 * [user MLP embedding; item MLP embedding].
 */
export interface NcfWeights {
  architecture: NcfArchitecture;
  nUsers: number;
  nItems: number;
  factors: number;
  mlpLayers: number[];
  userGmf: Float32Array;
  itemGmf: Float32Array;
  itemBias: Float32Array;
  /** GMF output weights over the elementwise product. */
  gmfOut: Float32Array;
  /** [global bias]. */
  globalBias: Float32Array;
  /** NeuMF only (empty arrays for GMF). */
  userMlp: Float32Array;
  itemMlp: Float32Array;
  mlpKernels: Float32Array[];
  mlpBiases: Float32Array[];
  mlpOut: Float32Array;
}

/** Standard deviation of the initial embeddings. */
const EMBEDDING_INIT_STD = 0.1;

/**
 * Seeded initial weights. GMF output weights start at 1 (a plain dot product), the global bias
 * at the logit of the base rate 1 / (1 + negatives) for BCE, MLP kernels He-uniform, biases 0.
 */
export function initWeights(
  shape: { architecture: NcfArchitecture; nUsers: number; nItems: number; factors: number; mlpLayers: readonly number[] },
  loss: NcfLoss,
  negatives: number,
  rng: Rng,
): NcfWeights {
  const { architecture, nUsers, nItems, factors, mlpLayers } = shape;
  const normal = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = EMBEDDING_INIT_STD * randomNormal(rng);
    return a;
  };
  const uniform = (n: number, limit: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (2 * rng() - 1) * limit;
    return a;
  };
  const neumf = architecture === 'neumf';
  const mlpKernels: Float32Array[] = [];
  const mlpBiases: Float32Array[] = [];
  let mlpOut = new Float32Array(0);
  if (neumf) {
    let inSize = 2 * factors;
    for (const outSize of mlpLayers) {
      mlpKernels.push(uniform(inSize * outSize, Math.sqrt(6 / inSize)));
      mlpBiases.push(new Float32Array(outSize));
      inSize = outSize;
    }
    mlpOut = uniform(inSize, Math.sqrt(6 / (inSize + 1)));
  }
  return {
    architecture,
    nUsers,
    nItems,
    factors,
    mlpLayers: neumf ? [...mlpLayers] : [],
    userGmf: normal(nUsers * factors),
    itemGmf: normal(nItems * factors),
    itemBias: new Float32Array(nItems),
    gmfOut: new Float32Array(factors).fill(1),
    globalBias: Float32Array.of(loss === 'bce' ? -Math.log(negatives) : 0),
    userMlp: neumf ? normal(nUsers * factors) : new Float32Array(0),
    itemMlp: neumf ? normal(nItems * factors) : new Float32Array(0),
    mlpKernels,
    mlpBiases,
    mlpOut,
  };
}

/** The arrays of a model in a fixed order (for the best-epoch snapshot). */
export function weightArrays(w: NcfWeights): Float32Array[] {
  return [w.userGmf, w.itemGmf, w.itemBias, w.gmfOut, w.globalBias, w.userMlp, w.itemMlp, ...w.mlpKernels, ...w.mlpBiases, w.mlpOut];
}

/** How fold-in builds a user vector from an unknown user's items. */
export interface FoldInSettings {
  loss: NcfLoss;
  negatives: number;
  steps: number;
  l2: number;
  seed: number;
  sampler: NegativeSampler;
}

/** Adam step size of fold-in (the embeddings' scale is ~0.1-1, so a few dozen steps travel far enough). */
const FOLD_IN_RATE = 0.05;
/** Fold-in draws at least this many negatives, so a one-item history is not fitted against 4 random items. */
const FOLD_IN_MIN_NEGATIVES = 64;

/**
 * Scores with plain typed-array loops. For NeuMF the item half of the first MLP layer is
 * precomputed per item, so a query costs one small matrix-vector product plus the remaining
 * layers per item.
 */
export class NcfScorer {
  readonly factors: number;
  readonly neumf: boolean;
  /** Mean user vectors: the fold-in starting point and prior. */
  readonly meanUserGmf: Float32Array;
  readonly meanUserMlp: Float32Array;
  /** Per item: item half of the first MLP layer plus its bias (nItems x mlpLayers[0]). */
  private readonly itemFirst: Float32Array;
  /** Per item: norm of [itemGmf; itemMlp] for cosine similarity. */
  private readonly itemNorm: Float32Array;
  /** Reused per-item MLP activations, one buffer per layer. */
  private readonly act: Float32Array[];
  private readonly delta: Float32Array[];
  /** Fold-in: first-layer deltas summed over items. */
  private readonly firstDelta: Float64Array;
  private readonly userFirst: Float32Array;
  private readonly userScaled: Float32Array;

  /** `means`: the mean user vectors as stored by a serving artifact (which has no user rows to average). */
  constructor(
    readonly w: NcfWeights,
    userHasData: Uint8Array,
    means: { gmf: Float32Array; mlp: Float32Array } | null = null,
  ) {
    const f = w.factors;
    this.factors = f;
    this.neumf = w.architecture === 'neumf';
    this.meanUserGmf = means ? means.gmf : meanRows(w.userGmf, f, userHasData);
    this.meanUserMlp = means ? means.mlp : this.neumf ? meanRows(w.userMlp, f, userHasData) : new Float32Array(0);
    const sizes = w.mlpLayers;
    this.act = sizes.map((s) => new Float32Array(s));
    this.delta = sizes.map((s) => new Float32Array(s));
    this.firstDelta = new Float64Array(this.neumf ? sizes[0] : 0);
    this.userFirst = new Float32Array(this.neumf ? sizes[0] : 0);
    this.userScaled = new Float32Array(f);
    this.itemFirst = new Float32Array(this.neumf ? w.nItems * sizes[0] : 0);
    if (this.neumf) {
      const h1 = sizes[0];
      const k0 = w.mlpKernels[0];
      const b0 = w.mlpBiases[0];
      for (let i = 0; i < w.nItems; i++) {
        const row = this.itemFirst.subarray(i * h1, (i + 1) * h1);
        row.set(b0);
        for (let k = 0; k < f; k++) {
          const x = w.itemMlp[i * f + k];
          const kr = (f + k) * h1;
          for (let o = 0; o < h1; o++) row[o] += x * k0[kr + o];
        }
      }
    }
    this.itemNorm = new Float32Array(w.nItems);
    for (let i = 0; i < w.nItems; i++) {
      let s = 0;
      for (let k = 0; k < f; k++) s += w.itemGmf[i * f + k] ** 2;
      if (this.neumf) for (let k = 0; k < f; k++) s += w.itemMlp[i * f + k] ** 2;
      this.itemNorm[i] = Math.sqrt(s);
    }
  }

  /** Writes the logit of every item for the user vectors into `out` (length nItems). */
  scoreAll(userGmf: Float32Array, userMlp: Float32Array, out: Float32Array): void {
    this.prepareUser(userGmf, userMlp);
    for (let i = 0; i < this.w.nItems; i++) out[i] = this.scorePrepared(i);
  }

  /** The logit of one item (the same arithmetic as scoreAll). */
  scoreOne(userGmf: Float32Array, userMlp: Float32Array, item: number): number {
    this.prepareUser(userGmf, userMlp);
    return this.scorePrepared(item);
  }

  /** The logits of `items` into out[k] for items[k] (the same arithmetic as scoreAll). */
  scoreItems(userGmf: Float32Array, userMlp: Float32Array, items: Int32Array, out: Float32Array): void {
    this.prepareUser(userGmf, userMlp);
    for (let k = 0; k < items.length; k++) out[k] = this.scorePrepared(items[k]);
  }

  /** Caches the per-user parts of a score: GMF output weights times the user vector, and the user half of the first MLP layer. */
  private prepareUser(userGmf: Float32Array, userMlp: Float32Array): void {
    const { w, factors: f } = this;
    for (let k = 0; k < f; k++) this.userScaled[k] = w.gmfOut[k] * userGmf[k];
    if (!this.neumf) return;
    const h1 = w.mlpLayers[0];
    const k0 = w.mlpKernels[0];
    const u = this.userFirst;
    u.fill(0);
    for (let k = 0; k < f; k++) {
      const x = userMlp[k];
      for (let o = 0; o < h1; o++) u[o] += x * k0[k * h1 + o];
    }
  }

  private scorePrepared(item: number): number {
    const { w, factors: f } = this;
    const hp = this.userScaled;
    const q = w.itemGmf;
    const o = item * f;
    let s = w.globalBias[0] + w.itemBias[item];
    for (let k = 0; k < f; k++) s += hp[k] * q[o + k];
    return this.neumf ? s + this.mlpForward(item) : s;
  }

  /** Cosine similarity of two items' embeddings ([GMF; MLP] for NeuMF); 0 for a zero vector. */
  itemCosine(a: number, b: number): number {
    const { w, factors: f } = this;
    const na = this.itemNorm[a];
    const nb = this.itemNorm[b];
    if (na === 0 || nb === 0) return 0;
    let s = 0;
    for (let k = 0; k < f; k++) s += w.itemGmf[a * f + k] * w.itemGmf[b * f + k];
    if (this.neumf) for (let k = 0; k < f; k++) s += w.itemMlp[a * f + k] * w.itemMlp[b * f + k];
    return s / (na * nb);
  }

  /**
   * Folds an unknown user in: a MAP estimate of their user vectors with the item side fixed,
   * by full-batch Adam on the training objective (positives = `items` with `weights`, seeded
   * negatives) plus an L2 pull towards the average user, which dominates for short histories.
   * Deterministic: the negatives come from a fixed seed. `items` must be ascending and
   * distinct (negatives avoid them by binary search). Writes into userGmf / userMlp.
   */
  foldIn(items: Int32Array, weights: Float32Array, s: FoldInSettings, userGmf: Float32Array, userMlp: Float32Array): void {
    const f = this.factors;
    const nPos = items.length;
    userGmf.set(this.meanUserGmf);
    if (this.neumf) userMlp.set(this.meanUserMlp);
    if (s.steps === 0 || nPos === 0) return;

    const rng = mulberry32(s.seed);
    const nNeg = Math.max(s.negatives * nPos, FOLD_IN_MIN_NEGATIVES);
    const negs = new Int32Array(nNeg);
    for (let j = 0; j < nNeg; j++) negs[j] = s.sampler.drawAvoiding(rng, items);

    let totalPos = 0;
    for (let p = 0; p < nPos; p++) totalPos += weights[p];
    if (totalPos <= 0) return;
    // Each training positive met `negatives` negatives of weight 1; keep that balance.
    const negWeight = (s.negatives * nPos) / nNeg;

    const nParams = this.neumf ? 2 * f : f;
    const grad = new Float64Array(nParams);
    const m = new Float64Array(nParams);
    const v = new Float64Array(nParams);
    const posScore = new Float64Array(nPos);
    const negScore = new Float64Array(nNeg);
    const dPos = new Float64Array(nPos);
    const dNeg = new Float64Array(nNeg);
    const b1 = 0.9;
    const b2 = 0.999;
    for (let step = 1; step <= s.steps; step++) {
      this.prepareUser(userGmf, userMlp);
      for (let p = 0; p < nPos; p++) posScore[p] = this.scorePrepared(items[p]);
      for (let j = 0; j < nNeg; j++) negScore[j] = this.scorePrepared(negs[j]);
      dPos.fill(0);
      dNeg.fill(0);
      if (s.loss === 'bce') {
        for (let p = 0; p < nPos; p++) dPos[p] = (weights[p] * (sigmoid(posScore[p]) - 1)) / totalPos;
        for (let j = 0; j < nNeg; j++) dNeg[j] = (negWeight * sigmoid(negScore[j])) / totalPos;
      } else {
        // Pair k: positive k mod nPos against negative k, each pair weighted like one training pair.
        for (let k = 0; k < nNeg; k++) {
          const p = k % nPos;
          const g = (negWeight * weights[p] * sigmoid(negScore[k] - posScore[p])) / totalPos;
          dPos[p] -= g;
          dNeg[k] += g;
        }
      }
      grad.fill(0);
      this.accumulateUserGrad(items, dPos, grad);
      this.accumulateUserGrad(negs, dNeg, grad);
      const c1 = 1 - Math.pow(b1, step);
      const c2 = 1 - Math.pow(b2, step);
      for (let k = 0; k < nParams; k++) {
        const isGmf = k < f;
        const x = isGmf ? userGmf[k] : userMlp[k - f];
        const x0 = isGmf ? this.meanUserGmf[k] : this.meanUserMlp[k - f];
        const g = grad[k] + 2 * s.l2 * (x - x0);
        m[k] = b1 * m[k] + (1 - b1) * g;
        v[k] = b2 * v[k] + (1 - b2) * g * g;
        const next = x - (FOLD_IN_RATE * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + 1e-8);
        if (isGmf) userGmf[k] = next;
        else userMlp[k - f] = next;
      }
    }
  }

  /** grad += sum over items of dScore[i] * d score(i) / d [userGmf; userMlp], at the user of the last prepareUser. */
  private accumulateUserGrad(items: Int32Array, dScore: Float64Array, grad: Float64Array): void {
    const { w, factors: f } = this;
    for (let p = 0; p < items.length; p++) {
      const d = dScore[p];
      if (d === 0) continue;
      const o = items[p] * f;
      for (let k = 0; k < f; k++) grad[k] += d * w.gmfOut[k] * w.itemGmf[o + k];
    }
    if (!this.neumf) return;
    // The user half of the first layer is linear in userMlp, so sum the first-layer deltas
    // over items and multiply by the kernel once.
    const h1 = w.mlpLayers[0];
    const firstDelta = this.firstDelta.fill(0);
    for (let p = 0; p < items.length; p++) {
      if (dScore[p] === 0) continue;
      this.mlpForward(items[p]);
      this.mlpBackward(dScore[p]);
      const d0 = this.delta[0];
      for (let o = 0; o < h1; o++) firstDelta[o] += d0[o];
    }
    const k0 = w.mlpKernels[0];
    for (let k = 0; k < f; k++) {
      let s = 0;
      for (let o = 0; o < h1; o++) s += k0[k * h1 + o] * firstDelta[o];
      grad[f + k] += s;
    }
  }

  /** MLP tower output for `item` at the user of the last prepareUser; leaves activations in this.act. */
  private mlpForward(item: number): number {
    const { w } = this;
    const sizes = w.mlpLayers;
    const h1 = sizes[0];
    const a0 = this.act[0];
    const base = item * h1;
    for (let o = 0; o < h1; o++) {
      const z = this.itemFirst[base + o] + this.userFirst[o];
      a0[o] = z > 0 ? z : 0;
    }
    for (let l = 1; l < sizes.length; l++) {
      const input = this.act[l - 1];
      const output = this.act[l];
      const kernel = w.mlpKernels[l];
      const nIn = sizes[l - 1];
      const nOut = sizes[l];
      output.set(w.mlpBiases[l]);
      for (let i = 0; i < nIn; i++) {
        const x = input[i];
        if (x === 0) continue;
        const row = i * nOut;
        for (let o = 0; o < nOut; o++) output[o] += x * kernel[row + o];
      }
      for (let o = 0; o < nOut; o++) if (output[o] < 0) output[o] = 0;
    }
    const last = this.act[sizes.length - 1];
    let s = 0;
    for (let o = 0; o < last.length; o++) s += w.mlpOut[o] * last[o];
    return s;
  }

  /** Backpropagates d(score) through the activations of the last mlpForward into this.delta. */
  private mlpBackward(dScore: number): void {
    const { w } = this;
    const sizes = w.mlpLayers;
    const L = sizes.length;
    const top = this.delta[L - 1];
    for (let o = 0; o < sizes[L - 1]; o++) top[o] = this.act[L - 1][o] > 0 ? dScore * w.mlpOut[o] : 0;
    for (let l = L - 1; l >= 1; l--) {
      const kernel = w.mlpKernels[l];
      const nIn = sizes[l - 1];
      const nOut = sizes[l];
      const below = this.delta[l - 1];
      const upper = this.delta[l];
      const act = this.act[l - 1];
      for (let i = 0; i < nIn; i++) {
        if (act[i] <= 0) {
          below[i] = 0;
          continue;
        }
        let s = 0;
        const row = i * nOut;
        for (let o = 0; o < nOut; o++) s += kernel[row + o] * upper[o];
        below[i] = s;
      }
    }
  }
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function meanRows(table: Float32Array, width: number, use: Uint8Array): Float32Array {
  const sum = new Float64Array(width);
  let n = 0;
  for (let r = 0; r < use.length; r++) {
    if (!use[r]) continue;
    n++;
    for (let k = 0; k < width; k++) sum[k] += table[r * width + k];
  }
  return Float32Array.from(sum, (s) => (n > 0 ? s / n : 0));
}
