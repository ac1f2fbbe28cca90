import { OptionError } from '../../errors';
import type { VectorSource } from '../../util/ann';
import { dot, scoreAll } from '../../util/dense';
import { randomNormal, type Rng } from '../../util/random';
import type { BasketTimeline } from '../types';

/**
 * The sequential next-basket model (in the spirit of DREAM, Yu et al. 2016, with a repeat
 * head like DNNTSP's / ReCANet's use of the shopper's own past items):
 *
 *   x_t   = mean of itemIn rows of basket t's distinct items                       [f]
 *   h_t   = GRU(x_t, h_{t-1}), h_{-1} = 0                                           [f]
 *   s_i   = h_t . itemOut_i + itemBias_i                       (explore: any item)
 *         + (repeatBase + h_t . repeatGate) . phi_i(t)         (repeat: past items only)
 *
 * where phi_i(t) are REPEAT_FEATURES features of item i in baskets 0..t (see RepeatHistory),
 * zero for items never bought. s_i is the logit that item i is in basket t + 1.
 *
 * The GRU is tfjs's GRUCell (reset gate before the recurrent product, Keras' reset_after =
 * false) with sigmoid gates: with kernel W [f, 3f], recurrent U [f, 3f], bias b [3f], column
 * blocks (z | r | n):
 *   z = sigmoid(x W_z + b_z + h U_z),  r = sigmoid(x W_r + b_r + h U_r)
 *   n = tanh(x W_n + b_n + (r * h) U_n),  h' = z * h + (1 - z) * n
 */

/** Features of a past item: [1, log(1 + baskets with it), recency-decayed count, share of baskets with it]. */
export const REPEAT_FEATURES = 4;
/** Per-basket decay of the recency feature: the last basket counts 1, the one before 0.5, ... */
export const RECENCY_DECAY = 0.5;

/** Every parameter as typed arrays (row-major); what training updates, the artifact stores and scoring reads. */
export interface SequentialWeights {
  nItems: number;
  factors: number;
  /** Input item embeddings [nItems, f], mean-pooled per basket. */
  itemIn: Float32Array;
  /** GRU input kernel [f, 3f], recurrent kernel [f, 3f], bias [3f] (tfjs layout, blocks z | r | n). */
  kernel: Float32Array;
  recurrent: Float32Array;
  bias: Float32Array;
  /** Output item embeddings [nItems, f] and biases [nItems]. */
  itemOut: Float32Array;
  itemBias: Float32Array;
  /** Repeat head: base weights [F] and their dependence on the state [f, F]. */
  repeatBase: Float32Array;
  repeatGate: Float32Array;
}

/** Standard deviation of the initial embeddings. */
const EMBEDDING_INIT_STD = 0.1;

/**
 * Seeded initial weights: embeddings N(0, 0.1^2), GRU kernels Glorot-uniform (tfjs's default
 * for the input kernel; the recurrent one too, for simplicity), biases 0, item biases at the
 * logit of `baseRate` (the chance that an item is in a basket), repeat head 0 (no opinion yet).
 */
export function initWeights(nItems: number, factors: number, baseRate: number, rng: Rng): SequentialWeights {
  const f = factors;
  const normal = (n: number) => Float32Array.from({ length: n }, () => EMBEDDING_INIT_STD * randomNormal(rng));
  const glorot = (fanIn: number, fanOut: number) => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng() - 1) * limit);
  };
  return {
    nItems,
    factors: f,
    itemIn: normal(nItems * f),
    kernel: glorot(f, 3 * f),
    recurrent: glorot(f, 3 * f),
    bias: new Float32Array(3 * f),
    itemOut: normal(nItems * f),
    itemBias: new Float32Array(nItems).fill(Math.log(baseRate / (1 - baseRate))),
    repeatBase: new Float32Array(REPEAT_FEATURES),
    repeatGate: new Float32Array(f * REPEAT_FEATURES),
  };
}

/** The arrays of a model in a fixed order (best-epoch snapshots). */
export function weightArrays(w: SequentialWeights): Float32Array[] {
  return [w.itemIn, w.kernel, w.recurrent, w.bias, w.itemOut, w.itemBias, w.repeatBase, w.repeatGate];
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * One GRU step in plain loops: h (length f) becomes the state after input x. `scratch` holds
 * 3f + f floats.
 */
export function gruStep(w: SequentialWeights, x: Float32Array, h: Float32Array, scratch: Float32Array): void {
  const f = w.factors;
  const f3 = 3 * f;
  const { kernel, recurrent, bias } = w;
  const m = scratch.subarray(0, f3);
  const rh = scratch.subarray(f3, f3 + f);
  m.set(bias);
  for (let i = 0; i < f; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * f3;
    for (let o = 0; o < f3; o++) m[o] += xi * kernel[row + o];
  }
  // Gates z and r take h U over the first 2f columns.
  for (let i = 0; i < f; i++) {
    const hi = h[i];
    if (hi === 0) continue;
    const row = i * f3;
    for (let o = 0; o < 2 * f; o++) m[o] += hi * recurrent[row + o];
  }
  for (let o = 0; o < f; o++) rh[o] = sigmoid(m[f + o]) * h[o];
  for (let i = 0; i < f; i++) {
    const v = rh[i];
    if (v === 0) continue;
    const row = i * f3 + 2 * f;
    for (let o = 0; o < f; o++) m[2 * f + o] += v * recurrent[row + o];
  }
  for (let o = 0; o < f; o++) {
    const z = sigmoid(m[o]);
    h[o] = z * h[o] + (1 - z) * Math.tanh(m[2 * f + o]);
  }
}

/**
 * The repeat features of past items, updated basket by basket. Typed arrays over the catalog
 * with a touched list, so a reset costs O(items seen).
 */
export class RepeatHistory {
  private readonly count: Float32Array;
  private readonly recency: Float32Array;
  private readonly mark: Uint8Array;
  readonly touched: Int32Array;
  private nTouched = 0;
  private baskets = 0;

  constructor(nItems: number) {
    this.count = new Float32Array(nItems);
    this.recency = new Float32Array(nItems);
    this.mark = new Uint8Array(nItems);
    this.touched = new Int32Array(nItems);
  }

  /** Distinct items seen so far (touched[0 .. size)). */
  get size(): number {
    return this.nTouched;
  }

  get basketCount(): number {
    return this.baskets;
  }

  has(item: number): boolean {
    return this.mark[item] === 1;
  }

  /** Number of baskets that contained `item`. */
  countOf(item: number): number {
    return this.count[item];
  }

  reset(): void {
    for (let k = 0; k < this.nTouched; k++) {
      const i = this.touched[k];
      this.count[i] = 0;
      this.recency[i] = 0;
      this.mark[i] = 0;
    }
    this.nTouched = 0;
    this.baskets = 0;
  }

  /** Adds one basket of distinct items. */
  add(items: ArrayLike<number>, start: number, end: number): void {
    for (let k = 0; k < this.nTouched; k++) this.recency[this.touched[k]] *= RECENCY_DECAY;
    for (let p = start; p < end; p++) {
      const i = items[p];
      if (this.mark[i] === 0) {
        this.mark[i] = 1;
        this.touched[this.nTouched++] = i;
      }
      this.count[i] += 1;
      this.recency[i] += 1;
    }
    this.baskets++;
  }

  /** Writes the REPEAT_FEATURES features of `item` at out[offset ..] (zeros for an item never seen). */
  features(item: number, out: Float32Array, offset: number): void {
    if (this.mark[item] === 0) {
      out.fill(0, offset, offset + REPEAT_FEATURES);
      return;
    }
    const c = this.count[item];
    out[offset] = 1;
    out[offset + 1] = Math.log1p(c);
    out[offset + 2] = this.recency[item];
    out[offset + 3] = c / this.baskets;
  }
}

/**
 * Scores from the weights with plain loops (no tfjs): reads a shopper's baskets into the GRU
 * state and the repeat history, then scores items. One instance per model; not reentrant.
 */
export class SequentialScorer {
  readonly state: Float32Array;
  readonly history: RepeatHistory;
  /** Repeat head weights for the current state: repeatBase + state . repeatGate. */
  private readonly gate: Float32Array;
  private readonly phi = new Float32Array(REPEAT_FEATURES);
  private readonly pooled: Float32Array;
  private readonly scratch: Float32Array;
  /** Distinct items of the basket being read. */
  private readonly seen: Uint8Array;
  private readonly basket: Int32Array;

  constructor(readonly w: SequentialWeights) {
    const f = w.factors;
    this.state = new Float32Array(f);
    this.gate = new Float32Array(REPEAT_FEATURES);
    this.history = new RepeatHistory(w.nItems);
    this.pooled = new Float32Array(f);
    this.scratch = new Float32Array(4 * f);
    this.seen = new Uint8Array(w.nItems);
    this.basket = new Int32Array(w.nItems);
  }

  /**
   * Reads baskets oldest first: the last `maxBaskets` non-empty baskets of `timeline` (null:
   * none), then `extra` (the current cart, or an unknown shopper's history as one basket)
   * when non-empty. Returns false when no basket had an item (no state to score from).
   */
  read(timeline: BasketTimeline | null, extras: readonly ArrayLike<number>[], maxBaskets: number): boolean {
    this.state.fill(0);
    this.history.reset();
    const baskets: Array<{ items: ArrayLike<number>; start: number; end: number }> = [];
    if (timeline !== null) {
      for (let b = 0; b < timeline.itemPtr.length - 1; b++) {
        const start = timeline.itemPtr[b];
        const end = timeline.itemPtr[b + 1];
        if (end > start) baskets.push({ items: timeline.items, start, end });
      }
    }
    for (const extra of extras) if (extra.length > 0) baskets.push({ items: extra, start: 0, end: extra.length });
    const first = Math.max(0, baskets.length - maxBaskets);
    for (let b = first; b < baskets.length; b++) this.readBasket(baskets[b].items, baskets[b].start, baskets[b].end);
    if (this.history.basketCount === 0) return false;
    const f = this.w.factors;
    const g = this.w.repeatGate;
    this.gate.set(this.w.repeatBase);
    for (let k = 0; k < f; k++) {
      const s = this.state[k];
      for (let j = 0; j < REPEAT_FEATURES; j++) this.gate[j] += s * g[k * REPEAT_FEATURES + j];
    }
    return true;
  }

  private readBasket(items: ArrayLike<number>, start: number, end: number): void {
    const { w, seen, basket, pooled } = this;
    const f = w.factors;
    for (let p = start; p < end; p++) {
      const i = items[p];
      if (!(i >= 0 && i < w.nItems) || !Number.isInteger(i)) throw new OptionError('query', `item index ${i} is outside the ${w.nItems} fitted items`);
    }
    let n = 0;
    for (let p = start; p < end; p++) {
      const i = items[p];
      if (seen[i]) continue;
      seen[i] = 1;
      basket[n++] = i;
    }
    pooled.fill(0);
    for (let k = 0; k < n; k++) {
      const o = basket[k] * f;
      for (let j = 0; j < f; j++) pooled[j] += w.itemIn[o + j];
    }
    for (let j = 0; j < f; j++) pooled[j] /= n;
    for (let k = 0; k < n; k++) seen[basket[k]] = 0;
    gruStep(w, pooled, this.state, this.scratch);
    this.history.add(basket, 0, n);
  }

  /** The explore part of item i's logit: state . itemOut_i + itemBias_i, rounded as scoreAll rounds it. */
  explore(item: number): number {
    const { w, state } = this;
    return Math.fround(Math.fround(dot(state, 0, w.itemOut, item * w.factors, w.factors)) + w.itemBias[item]);
  }

  /** The repeat part of item i's logit (0 for an item the shopper never bought). */
  repeat(item: number): number {
    if (!this.history.has(item)) return 0;
    this.history.features(item, this.phi, 0);
    let s = 0;
    for (let j = 0; j < REPEAT_FEATURES; j++) s += this.gate[j] * this.phi[j];
    return s;
  }

  /** The logit of every item into `out` (length nItems), after read(). */
  scoreAll(out: Float32Array): void {
    const { w } = this;
    scoreAll(this.state, w.itemOut, w.factors, out);
    for (let i = 0; i < w.nItems; i++) out[i] += w.itemBias[i];
    const h = this.history;
    for (let k = 0; k < h.size; k++) out[h.touched[k]] += this.repeat(h.touched[k]);
  }

  /** The logit of one item (the same float32 value scoreAll writes). */
  score(item: number): number {
    const r = this.repeat(item);
    const e = this.explore(item);
    return r === 0 ? e : Math.fround(e + r);
  }

  /** The state as the query of the vector index over itemSource(): [state, 1]. */
  indexQuery(out: Float32Array): Float32Array {
    out.set(this.state);
    out[this.w.factors] = 1;
    return out;
  }
}

/**
 * Vectors whose inner product with [state, 1] is the explore logit: rows [itemOut_i, itemBias_i]
 * (nItems x (f + 1)), what a vector index over this model is built on.
 */
export function itemSource(w: SequentialWeights): VectorSource {
  const f = w.factors;
  const dim = f + 1;
  const vectors = new Float32Array(w.nItems * dim);
  for (let i = 0; i < w.nItems; i++) {
    vectors.set(w.itemOut.subarray(i * f, (i + 1) * f), i * dim);
    vectors[i * dim + f] = w.itemBias[i];
  }
  return { vectors, dim, metric: 'ip' };
}
