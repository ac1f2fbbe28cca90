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
  // Sorted, then counted by runs: a request's history (POST /recommend) was a tenth of its
  // recommend() as a Map of counts and a sort with a comparator.
  const sorted = Int32Array.from(history).sort();
  const items = new Int32Array(sorted.length);
  const weights = new Float32Array(sorted.length);
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (n > 0 && items[n - 1] === sorted[i]) weights[n - 1]++;
    else {
      items[n] = sorted[i];
      weights[n++] = 1;
    }
  }
  return { user: -1, history: { items: items.slice(0, n), weights: weights.slice(0, n) }, timeline: null, basket: Int32Array.from(basket) };
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

/**
 * A copy of one query's contents (history, basket, timeline), for a strategy that keeps the
 * state it derived from a query (a profile) for the explain() calls that follow its score():
 * matches() holds only for a query equal to the copied one value by value, so a query changed
 * in place never reuses stale state, and comparing costs one sequential pass, less than
 * deriving the state again. The copy's buffers grow and are reused.
 */
export class QuerySnapshot {
  private taken = false;
  private readonly historyItems = new Copy();
  private readonly historyWeights = new Copy();
  private readonly basket = new Copy();
  private hasTimeline = false;
  private readonly itemPtr = new Copy();
  private readonly timelineItems = new Copy();
  private readonly day = new Copy();

  matches(query: Query): boolean {
    if (!this.taken) return false;
    const { history, basket, timeline } = query;
    if (!this.historyItems.equals(history.items) || !this.historyWeights.equals(history.weights) || !this.basket.equals(basket)) return false;
    if (timeline === null || timeline === undefined) return !this.hasTimeline;
    return this.hasTimeline && this.itemPtr.equals(timeline.itemPtr) && this.timelineItems.equals(timeline.items) && this.day.equals(timeline.day);
  }

  take(query: Query): void {
    const { history, basket, timeline } = query;
    this.historyItems.set(history.items);
    this.historyWeights.set(history.weights);
    this.basket.set(basket);
    this.hasTimeline = timeline !== null && timeline !== undefined;
    if (timeline) {
      this.itemPtr.set(timeline.itemPtr);
      this.timelineItems.set(timeline.items);
      this.day.set(timeline.day);
    }
    this.taken = true;
  }

  /** Forgets the copied query (matches() is then false). */
  clear(): void {
    this.taken = false;
  }
}

/**
 * A copy of a number array in a reused buffer; NaN equals NaN (an unknown day is the same
 * unknown day). Float64 holds every int32 and float32 exactly, and one element type keeps the
 * copy and compare loops monomorphic.
 */
class Copy {
  private data = new Float64Array(16);
  private n = 0;

  set(source: ArrayLike<number>): void {
    const n = source.length;
    if (this.data.length < n) this.data = new Float64Array(Math.max(n, 2 * this.data.length));
    const data = this.data;
    for (let i = 0; i < n; i++) data[i] = source[i];
    this.n = n;
  }

  equals(source: ArrayLike<number>): boolean {
    const n = this.n;
    if (source.length !== n) return false;
    const data = this.data;
    for (let i = 0; i < n; i++) {
      const a = data[i];
      const b = source[i];
      if (a !== b && !(a !== a && b !== b)) return false;
    }
    return true;
  }
}
