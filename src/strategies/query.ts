import type { Dataset } from '../data/dataset';
import type { BasketTimeline, Query } from './types';

const EMPTY_I32 = new Int32Array(0);

/** The query of a known user of `data`: their purchase counts, their basket timeline, and an optional current basket. */
export function userQuery(data: Dataset, user: number, basket: Int32Array = EMPTY_I32): Query {
  const m = data.interactions;
  const start = m.indptr[user];
  const end = m.indptr[user + 1];
  return {
    user,
    history: { items: m.indices.subarray(start, end), weights: m.values.subarray(start, end) },
    timeline: userTimeline(data, user),
    basket,
  };
}

/** A user's baskets as a timeline re-based to start at 0 (views where possible). */
export function userTimeline(data: Dataset, user: number): BasketTimeline {
  const { userPtr, itemPtr, items, day } = data.baskets;
  const b0 = userPtr[user];
  const b1 = userPtr[user + 1];
  const offset = itemPtr[b0];
  const ptr = new Int32Array(b1 - b0 + 1);
  for (let b = b0; b <= b1; b++) ptr[b - b0] = itemPtr[b] - offset;
  return { itemPtr: ptr, items: items.subarray(offset, itemPtr[b1]), day: day.subarray(b0, b1) };
}

/**
 * The query of someone the model has not seen: a history of item indices (repeats count as
 * purchases) and/or a current basket.
 */
export function anonymousQuery(history: ArrayLike<number>, basket: ArrayLike<number> = EMPTY_I32): Query {
  const counts = new Map<number, number>();
  for (let i = 0; i < history.length; i++) counts.set(history[i], (counts.get(history[i]) ?? 0) + 1);
  const items = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
  const weights = Float32Array.from(items, (i) => counts.get(i)!);
  return { user: -1, history: { items, weights }, timeline: null, basket: Int32Array.from(basket) };
}

/**
 * Element-wise equality of two number arrays: the key check of the strategies that keep one
 * query's derived state (a walk, a profile) for the explain() calls that follow its score().
 */
export function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
