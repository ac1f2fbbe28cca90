/**
 * IndexRankers for the benchmark scripts: one strategy alone (its scores, top-k over the
 * unblocked items, no fallback filler), and the next-basket reference methods of the NBR
 * literature, P-TopFreq and GP-TopFreq (as in the NBR-fairness code of the P6 split).
 */
import type { Dataset } from '../src/data/dataset';
import type { IndexRanker } from '../src/eval/evaluate';
import { ScoreVector, type Query, type Recommender } from '../src/strategies/types';
import { TopK } from '../src/util/topk';

/** `strategy`'s own top k (items it gave no score are never returned), or its rankIndices when it has one. */
export function strategyRanker(strategy: Recommender, nItems: number): IndexRanker {
  const direct = (strategy as Partial<IndexRanker>).rankIndices;
  if (typeof direct === 'function') return { rankIndices: (q, k, blocked) => direct.call(strategy, q, k, blocked) };
  const v = new ScoreVector(nItems);
  return {
    rankIndices(query, k, blocked) {
      v.reset();
      strategy.score(query, v);
      const heap = new TopK(k);
      for (let t = 0; t < v.length; t++) {
        const item = v.at(t);
        if (blocked !== null && blocked[item] === 1) continue;
        heap.push(item, v.values[item]);
      }
      return heap.sorted().items;
    },
  };
}

/**
 * P-TopFreq: the shopper's own items by how many of their baskets (history lines) hold them,
 * ties to the lower raw id. GP-TopFreq (`fill`): then the globally most bought items.
 */
export function topFreqRanker(train: Dataset, fill: boolean): IndexRanker {
  const totals = train.itemTotals();
  const global = Int32Array.from({ length: train.nItems }, (_, i) => i).sort((a, b) => totals[b] - totals[a] || a - b);
  const mine = new Uint8Array(train.nItems);
  return {
    rankIndices(query: Query, k, blocked) {
      const heap = new TopK(k);
      const { items, weights } = query.history;
      for (let j = 0; j < items.length; j++) {
        if (!(weights[j] > 0) || (blocked !== null && blocked[items[j]] === 1)) continue;
        heap.push(items[j], weights[j]);
      }
      const own = heap.sorted().items;
      if (!fill || own.length >= k) return own;
      const out = new Int32Array(k);
      out.set(own);
      let n = own.length;
      for (const i of own) mine[i] = 1;
      for (let g = 0; g < global.length && n < k; g++) {
        const item = global[g];
        if (mine[item] === 1 || (blocked !== null && blocked[item] === 1) || !(totals[item] > 0)) continue;
        out[n++] = item;
      }
      for (const i of own) mine[i] = 0;
      return out.subarray(0, n);
    },
  };
}
