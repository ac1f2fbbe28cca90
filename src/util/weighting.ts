/**
 * Weights of the user x item matrix for the latent-factor models (ALS, EASE): what a purchase
 * count becomes before the model sees it, at fit time and for a query's history. Entries with
 * a count <= 0 (returns netting out a purchase) are not purchases and are dropped.
 */
import { CsrMatrix } from '../data/csr';

export type InteractionWeighting = 'binary' | 'count' | 'log1p' | 'bm25';
export const INTERACTION_WEIGHTINGS: readonly InteractionWeighting[] = ['binary', 'count', 'log1p', 'bm25'];

/**
 * - 'binary': 1; 'count': the count itself; 'log1p': log(1 + count);
 * - 'bm25': implicit's `bm25_weight` on the items x users matrix (items are the documents,
 *   users the terms): w = count (k1 + 1) / (k1 norm_i + count) idf(u), with norm_i = (1 - b)
 *   + b len_i / mean len (len_i = the item's total count in the fit data) and idf(u) =
 *   log(nItems) - log1p(n_u) (n_u = the user's distinct items). A weight <= 0 (a user with
 *   nearly every item) is dropped like a non-purchase.
 * A query's history is weighted with the fitted norm_i, so a folded-in history is weighted
 * exactly as the same history was in training.
 */
export class InteractionWeights {
  private constructor(
    readonly weighting: InteractionWeighting,
    readonly k1: number,
    /** bm25: norm_i per item (the only fitted statistic); null otherwise. */
    readonly lengthNorm: Float32Array | null,
    readonly nItems: number,
  ) {}

  /** The weights of `m` (users x items): for bm25, the item statistics come from `m`. */
  static fit(m: CsrMatrix, weighting: InteractionWeighting, bm25: { k1: number; b: number }): InteractionWeights {
    if (weighting !== 'bm25') return new InteractionWeights(weighting, bm25.k1, null, m.nCols);
    const length = new Float64Array(m.nCols);
    const { indices, values } = m;
    for (let p = 0; p < values.length; p++) if (values[p] > 0) length[indices[p]] += values[p];
    let sum = 0;
    for (let i = 0; i < m.nCols; i++) sum += length[i];
    const mean = m.nCols > 0 && sum > 0 ? sum / m.nCols : 1;
    const norm = Float32Array.from(length, (l) => 1 - bm25.b + (bm25.b * l) / mean);
    return new InteractionWeights(weighting, bm25.k1, norm, m.nCols);
  }

  /** Rebuilds fitted weights from an artifact (lengthNorm required for bm25). */
  static restore(weighting: InteractionWeighting, k1: number, lengthNorm: Float32Array | null, nItems: number): InteractionWeights {
    return new InteractionWeights(weighting, k1, lengthNorm, nItems);
  }

  /** Weight of `count` purchases of `item` by someone with `distinct` distinct items (0: not a purchase). */
  weight(count: number, item: number, distinct: number): number {
    if (!(count > 0)) return 0;
    switch (this.weighting) {
      case 'binary':
        return 1;
      case 'count':
        return count;
      case 'log1p':
        return Math.log1p(count);
      case 'bm25': {
        const idf = Math.log(this.nItems) - Math.log1p(distinct);
        const w = ((count * (this.k1 + 1)) / (this.k1 * this.lengthNorm![item] + count)) * idf;
        return w > 0 ? w : 0;
      }
    }
  }

  /** `m` with every entry replaced by its weight, non-positive weights dropped. */
  matrix(m: CsrMatrix): CsrMatrix {
    const { nRows, nCols, indptr, indices, values } = m;
    const ptr = new Int32Array(nRows + 1);
    const idx = new Int32Array(values.length);
    const val = new Float32Array(values.length);
    let q = 0;
    for (let u = 0; u < nRows; u++) {
      let distinct = 0;
      for (let p = indptr[u]; p < indptr[u + 1]; p++) if (values[p] > 0) distinct++;
      for (let p = indptr[u]; p < indptr[u + 1]; p++) {
        const w = this.weight(values[p], indices[p], distinct);
        if (!(w > 0)) continue;
        idx[q] = indices[p];
        val[q++] = w;
      }
      ptr[u + 1] = q;
    }
    return new CsrMatrix(nRows, nCols, ptr, idx.slice(0, q), val.slice(0, q));
  }
}
