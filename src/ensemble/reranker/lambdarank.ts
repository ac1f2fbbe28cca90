/**
 * LambdaRank on NDCG@k (Burges, "From RankNet to LambdaRank to LambdaMART", 2010), the
 * objective of LambdaMART: for every pair (i, j) of one query's candidates with
 * label(i) > label(j), the pair's cost is
 *
 *   C_ij = |dNDCG_ij| * log(1 + exp(-sigma * (s_i - s_j)))
 *
 * where |dNDCG_ij| is how much NDCG@k would change if i and j swapped places in the current
 * ranking (held fixed while differentiating: that is the lambda trick). Gradients follow the
 * minimization convention (a tree leaf moves scores by -G / (H + l2)):
 *
 *   dC/ds_i = -sigma * |dNDCG| * rho,  dC/ds_j = +sigma * |dNDCG| * rho,  rho = 1 / (1 + exp(sigma * (s_i - s_j)))
 *   d2C/ds_i2 = d2C/ds_j2 = sigma^2 * |dNDCG| * rho * (1 - rho)
 *
 * Gains are 2^label - 1; discounts 1 / log2(rank + 2) for 0-based ranks below k, 0 beyond
 * (so |dNDCG| is the exact change of NDCG@k, and pairs with both items below the cut cost
 * nothing). The ranking sorts by score, best first, ties by row order.
 */

/** Labels are integers 0..MAX_LABEL (LambdaMART checks its data). */
const MAX_LABEL = 31;

/**
 * LambdaRank gradients and NDCG@k for queries of up to `longestQuery` candidates (scratch
 * buffers sized once). Only the top k of a query need ordering: below the cut every
 * discount is 0, so the rest are only grouped by label (selection costs O(n k), not a sort),
 * and each of the top k pairs with the groups of the other labels alone: the loop visits
 * exactly the pairs that cost something.
 */
export class LambdaRank {
  private readonly discount: Float64Array;
  private readonly order: Int32Array;
  private readonly mark: Uint8Array;
  private readonly gains: Float64Array;
  /** The candidates below the cut with label l are order[labelStart[l] .. labelStart[l+1]). */
  private readonly labelStart = new Int32Array(MAX_LABEL + 2);
  private maxLabel = 0;

  constructor(
    readonly k: number,
    readonly sigma: number,
    longestQuery: number,
  ) {
    this.discount = new Float64Array(k);
    for (let r = 0; r < k; r++) this.discount[r] = 1 / Math.log2(r + 2);
    this.order = new Int32Array(longestQuery);
    this.mark = new Uint8Array(longestQuery);
    this.gains = new Float64Array(longestQuery);
  }

  /** DCG@k of the best possible ordering of labels[offset .. offset+n). */
  idealDcg(labels: ArrayLike<number>, offset: number, n: number): number {
    const gains = this.gains.subarray(0, n);
    for (let i = 0; i < n; i++) gains[i] = 2 ** labels[offset + i] - 1;
    gains.sort();
    let dcg = 0;
    const m = Math.min(n, this.k);
    for (let r = 0; r < m; r++) dcg += gains[n - 1 - r] * this.discount[r];
    return dcg;
  }

  /** NDCG@k of one query's scores, or NaN when it has no relevant candidate (undefined: such queries are left out of means). */
  ndcg(scores: ArrayLike<number>, labels: ArrayLike<number>, offset: number, n: number): number {
    const ideal = this.idealDcg(labels, offset, n);
    if (!(ideal > 0)) return NaN;
    const m = this.rank(scores, labels, offset, n);
    let dcg = 0;
    for (let r = 0; r < m; r++) dcg += (2 ** labels[offset + this.order[r]] - 1) * this.discount[r];
    return dcg / ideal;
  }

  /**
   * Writes the lambdas (grad) and hessians (hess) of the candidates offset .. offset+n.
   * `invIdealDcg` is 1 / idealDcg of the query (0 or Infinity when it has no relevant
   * candidate: all gradients are then 0).
   */
  gradients(scores: Float64Array, labels: ArrayLike<number>, offset: number, n: number, invIdealDcg: number, grad: Float64Array, hess: Float64Array): void {
    grad.fill(0, offset, offset + n);
    hess.fill(0, offset, offset + n);
    if (!(invIdealDcg > 0 && invIdealDcg < Infinity) || n < 2) return;
    const { order, discount, gains, labelStart } = this;
    for (let i = 0; i < n; i++) gains[i] = 2 ** labels[offset + i] - 1;
    const k = this.rank(scores, labels, offset, n);
    for (let ri = 0; ri < k; ri++) {
      const a = order[ri];
      const gainA = gains[a];
      const discA = discount[ri];
      // Pairs within the top k.
      for (let rj = ri + 1; rj < k; rj++) {
        const b = order[rj];
        if (gains[b] !== gainA) this.pair(scores, offset, a, b, gainA, gains[b], discA - discount[rj], invIdealDcg, grad, hess);
      }
      // Pairs with the candidates below the cut (discount 0), one label group at a time.
      const labelA = labels[offset + a];
      for (let l = 0; l <= this.maxLabel; l++) {
        if (l === labelA) continue;
        const gainB = 2 ** l - 1;
        for (let p = labelStart[l]; p < labelStart[l + 1]; p++) this.pair(scores, offset, a, order[p], gainA, gainB, discA, invIdealDcg, grad, hess);
      }
    }
  }

  /** Adds one pair's lambdas and hessians; a and b are rows of the query, `discounts` |D(a) - D(b)|. */
  private pair(
    scores: Float64Array,
    offset: number,
    a: number,
    b: number,
    gainA: number,
    gainB: number,
    discounts: number,
    invIdealDcg: number,
    grad: Float64Array,
    hess: Float64Array,
  ): void {
    const sigma = this.sigma;
    const delta = Math.abs(gainA - gainB) * discounts * invIdealDcg;
    const hi = offset + (gainA > gainB ? a : b);
    const lo = offset + (gainA > gainB ? b : a);
    const rho = 1 / (1 + Math.exp(sigma * (scores[hi] - scores[lo])));
    const lambda = sigma * delta * rho;
    const h = sigma * sigma * delta * rho * (1 - rho);
    grad[hi] -= lambda;
    grad[lo] += lambda;
    hess[hi] += h;
    hess[lo] += h;
  }

  /**
   * Fills order[0..m) with the query's top m = min(k, n) candidates (score descending, ties
   * by row) and order[m..n) with the others grouped by label (row order within a label, see
   * labelStart); returns m.
   */
  private rank(scores: ArrayLike<number>, labels: ArrayLike<number>, offset: number, n: number): number {
    const { order, mark, labelStart } = this;
    const m = Math.min(this.k, n);
    let size = 0;
    for (let i = 0; i < n; i++) {
      const s = scores[offset + i];
      // A later row never beats an equal score, so only a strictly higher one enters a full top.
      if (size === m && !(s > scores[offset + order[m - 1]])) continue;
      let at = size < m ? size++ : m - 1;
      while (at > 0 && s > scores[offset + order[at - 1]]) {
        order[at] = order[at - 1];
        at--;
      }
      order[at] = i;
    }
    for (let r = 0; r < m; r++) mark[order[r]] = 1;
    // Counting sort of the rest by label.
    labelStart.fill(0);
    let maxLabel = 0;
    for (let i = 0; i < n; i++) {
      if (mark[i] === 1) continue;
      const l = labels[offset + i];
      labelStart[l + 1]++;
      if (l > maxLabel) maxLabel = l;
    }
    labelStart[0] = m;
    for (let l = 0; l <= MAX_LABEL; l++) labelStart[l + 1] += labelStart[l];
    this.maxLabel = maxLabel;
    for (let i = 0; i < n; i++) {
      if (mark[i] === 1) mark[i] = 0;
      else order[labelStart[labels[offset + i]]++] = i;
    }
    // The fill advanced each start to the next label's: shift back.
    for (let l = MAX_LABEL + 1; l > 0; l--) labelStart[l] = labelStart[l - 1];
    labelStart[0] = m;
    return m;
  }
}
