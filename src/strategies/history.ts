import type { Query } from './types';

/**
 * A query's purchases as one sparse vector: its history (weights are purchase counts) plus
 * one purchase per line of the current basket, item indices unique and ascending, entries
 * with a count <= 0 left out. The query must have passed checkQuery (checks.ts). Shared by the
 * models that fold a shopper into a fitted space (ALS, EASE).
 */
export function queryPurchases(query: Query): { items: Int32Array; counts: Float32Array } {
  const { history, basket } = query;
  const n = history.items.length + basket.length;
  const items = new Int32Array(n);
  const counts = new Float32Array(n);
  for (let k = 0; k < history.items.length; k++) {
    items[k] = history.items[k];
    counts[k] = history.weights[k];
  }
  for (let k = 0; k < basket.length; k++) {
    items[history.items.length + k] = basket[k];
    counts[history.items.length + k] = 1;
  }
  const order = Int32Array.from({ length: n }, (_, k) => k).sort((a, b) => items[a] - items[b] || a - b);
  const outItems = new Int32Array(n);
  const outCounts = new Float32Array(n);
  let m = 0;
  for (let o = 0; o < n; o++) {
    const k = order[o];
    if (m > 0 && outItems[m - 1] === items[k]) outCounts[m - 1] += counts[k];
    else {
      outItems[m] = items[k];
      outCounts[m++] = counts[k];
    }
  }
  let kept = 0;
  for (let k = 0; k < m; k++) {
    if (!(outCounts[k] > 0)) continue;
    outItems[kept] = outItems[k];
    outCounts[kept++] = outCounts[k];
  }
  return { items: outItems.slice(0, kept), counts: outCounts.slice(0, kept) };
}
