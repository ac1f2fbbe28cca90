import type { CsrMatrix } from '../data/csr';
import { randomInt, type Rng } from './random';

/**
 * Negative sampling for the models trained against sampled negatives (NeuralCF, the
 * sequential model): uniform, or by popularity^0.75 through a cumulative table.
 */

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

export function sortedContains(a: Int32Array, start: number, end: number, value: number): boolean {
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
