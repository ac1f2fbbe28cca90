import type { CsrMatrix } from '../../data/csr';
import { randomInt, shuffleInPlace, type Rng } from '../../util/random';

/** Popularity sampling weight exponent (word2vec's unigram^0.75, as in most implicit-feedback NCF code). */
const POPULARITY_EXPONENT = 0.75;

/** Re-draws of a negative that hit one of the user's own items before it is accepted anyway. */
const NEGATIVE_RETRIES = 8;

/**
 * Cumulative popularity^0.75 weights over items. Items nobody bought count as one purchase:
 * with zero probability they would never be pushed down and keep their random initial score.
 */
export function popularityCdf(itemTotals: ArrayLike<number>): Float64Array {
  const cdf = new Float64Array(itemTotals.length);
  let sum = 0;
  for (let i = 0; i < itemTotals.length; i++) {
    sum += Math.pow(Math.max(itemTotals[i], 1), POPULARITY_EXPONENT);
    cdf[i] = sum;
  }
  return cdf;
}

/** Draws negative items uniformly (cdf null) or from a cumulative weight table. */
export class NegativeSampler {
  constructor(
    readonly nItems: number,
    readonly cdf: Float64Array | null,
  ) {}

  draw(rng: Rng): number {
    const cdf = this.cdf;
    if (cdf === null) return randomInt(rng, this.nItems);
    const target = rng() * cdf[cdf.length - 1];
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** A negative for `user`, re-drawn a few times while it is one of their purchases (sorted CSR row). */
  drawFor(rng: Rng, bought: CsrMatrix, user: number): number {
    const start = bought.indptr[user];
    const end = bought.indptr[user + 1];
    let item = this.draw(rng);
    for (let tries = 0; tries < NEGATIVE_RETRIES && sortedContains(bought.indices, start, end, item); tries++) item = this.draw(rng);
    return item;
  }

  /** A negative not in `sorted[0..length)`, re-drawn a few times like drawFor. */
  drawAvoiding(rng: Rng, sorted: Int32Array): number {
    let item = this.draw(rng);
    for (let tries = 0; tries < NEGATIVE_RETRIES && sortedContains(sorted, 0, sorted.length, item); tries++) item = this.draw(rng);
    return item;
  }
}

function sortedContains(a: Int32Array, start: number, end: number, value: number): boolean {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid];
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Training positives as parallel arrays (one entry per nonzero of the interaction matrix kept for training). */
export interface Positives {
  user: Int32Array;
  item: Int32Array;
  weight: Float32Array;
}

/** Held-out positives for early stopping, each with `perPositive` fixed sampled negatives. */
export interface ValidationSet {
  user: Int32Array;
  item: Int32Array;
  negatives: Int32Array;
  perPositive: number;
}

/** Negatives drawn per held-out positive to estimate AUC. */
const VALIDATION_NEGATIVES = 4;

/** Bound on held-out positives scored per epoch, so validation stays a small share of an epoch. */
const MAX_VALIDATION_POSITIVES = 50_000;

/**
 * Splits the purchases of `m` (entries with a weight > 0; a zero or negative count is not a
 * purchase) into training positives and, when share > 0, a validation set: each user's items
 * are shuffled and share * n of them, stochastically rounded, are held out, always leaving at
 * least one for training so every user keeps an embedding signal.
 */
export function splitPositives(
  m: CsrMatrix,
  weighting: 'binary' | 'log1p',
  share: number,
  sampler: NegativeSampler,
  rng: Rng,
): { train: Positives; validation: ValidationSet | null } {
  const nnz = m.nnz;
  const held = new Uint8Array(nnz);
  let nPositive = 0;
  let nHeld = 0;
  let entries = new Int32Array(0);
  for (let u = 0; u < m.nRows; u++) {
    let n = 0;
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) {
      if (!(m.values[p] > 0)) continue;
      if (entries.length === n) {
        const grown = new Int32Array(Math.max(16, 2 * n));
        grown.set(entries);
        entries = grown;
      }
      entries[n++] = p;
    }
    nPositive += n;
    if (share === 0 || n < 2) continue;
    const k = Math.min(n - 1, Math.floor(n * share + rng()));
    if (k === 0) continue;
    const own = entries.subarray(0, n);
    shuffleInPlace(own, rng);
    for (let i = 0; i < k; i++) held[own[i]] = 1;
    nHeld += k;
  }
  const train: Positives = {
    user: new Int32Array(nPositive - nHeld),
    item: new Int32Array(nPositive - nHeld),
    weight: new Float32Array(nPositive - nHeld),
  };
  const heldUser = new Int32Array(nHeld);
  const heldItem = new Int32Array(nHeld);
  let t = 0;
  let h = 0;
  for (let u = 0; u < m.nRows; u++) {
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) {
      if (!(m.values[p] > 0)) continue;
      if (held[p]) {
        heldUser[h] = u;
        heldItem[h++] = m.indices[p];
      } else {
        train.user[t] = u;
        train.item[t] = m.indices[p];
        train.weight[t++] = weighting === 'log1p' ? Math.log1p(m.values[p]) : 1;
      }
    }
  }
  if (nHeld === 0) return { train, validation: null };

  let pick = Int32Array.from({ length: nHeld }, (_, i) => i);
  if (nHeld > MAX_VALIDATION_POSITIVES) pick = shuffleInPlace(pick, rng).slice(0, MAX_VALIDATION_POSITIVES).sort();
  const validation: ValidationSet = {
    user: new Int32Array(pick.length),
    item: new Int32Array(pick.length),
    negatives: new Int32Array(pick.length * VALIDATION_NEGATIVES),
    perPositive: VALIDATION_NEGATIVES,
  };
  for (let k = 0; k < pick.length; k++) {
    const u = heldUser[pick[k]];
    validation.user[k] = u;
    validation.item[k] = heldItem[pick[k]];
    for (let j = 0; j < VALIDATION_NEGATIVES; j++) validation.negatives[k * VALIDATION_NEGATIVES + j] = sampler.drawFor(rng, m, u);
  }
  return { train, validation };
}
