/**
 * Top-k selection with a bounded binary min-heap: O(n log k), no allocation per candidate.
 * Ties rank the lower index first, which is the lower raw id because indices follow raw-id
 * order (the protocol's tie-break).
 */

/** True when (sa, ia) ranks strictly before (sb, ib). */
export function before(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa > sb || (sa === sb && ia < ib);
}

/** Lists up to this long are sorted by insertion (see sorted()). */
const SMALL_SORT = 64;

export class TopK {
  readonly items: Int32Array;
  readonly scores: Float32Array;
  private n = 0;

  constructor(readonly k: number) {
    this.items = new Int32Array(Math.max(k, 0));
    this.scores = new Float32Array(Math.max(k, 0));
  }

  get size(): number {
    return this.n;
  }

  /**
   * The least score a candidate needs to be kept: -Infinity until the heap is full, then the
   * worst kept score (an equal score is kept only with a lower index, which push() decides).
   * Lets a hot loop skip push() for most candidates.
   */
  get floor(): number {
    return this.n < this.k ? -Infinity : this.scores[0];
  }

  clear(): void {
    this.n = 0;
  }

  /** Offers a candidate; NaN scores are never kept. */
  push(item: number, score: number): void {
    if (this.k <= 0 || score !== score) return;
    const { items, scores } = this;
    if (this.n < this.k) {
      let i = this.n++;
      // Sift up: the root is the worst kept candidate.
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!before(scores[p], items[p], score, item)) break;
        items[i] = items[p];
        scores[i] = scores[p];
        i = p;
      }
      items[i] = item;
      scores[i] = score;
      return;
    }
    if (!before(score, item, scores[0], items[0])) return;
    let i = 0;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let worst = l;
      if (r < n && before(scores[l], items[l], scores[r], items[r])) worst = r;
      if (!before(score, item, scores[worst], items[worst])) break;
      items[i] = items[worst];
      scores[i] = scores[worst];
      i = worst;
    }
    items[i] = item;
    scores[i] = score;
  }

  /**
   * Moves the kept candidates, best first, into items/scores (room for k) without allocating,
   * and empties the heap; returns how many. Same order as sorted().
   */
  drainInto(items: Int32Array, scores: Float32Array): number {
    const n = this.n;
    // Popping the root (the worst kept) n times fills the output from the back.
    for (let out = n - 1; out >= 0; out--) {
      items[out] = this.items[0];
      scores[out] = this.scores[0];
      const last = --this.n;
      const item = this.items[last];
      const score = this.scores[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        let worst = l;
        if (r < last && before(this.scores[l], this.items[l], this.scores[r], this.items[r])) worst = r;
        if (!before(score, item, this.scores[worst], this.items[worst])) break;
        this.items[i] = this.items[worst];
        this.scores[i] = this.scores[worst];
        i = worst;
      }
      this.items[i] = item;
      this.scores[i] = score;
    }
    return n;
  }

  /** The kept candidates, best first. */
  sorted(): { items: Int32Array; scores: Float32Array } {
    const n = this.n;
    const items = new Int32Array(n);
    const scores = new Float32Array(n);
    if (n <= SMALL_SORT) {
      // Per-query lists (k = 10, a few dozen terms): an insertion sort into the output, with
      // no index array and no comparator closure, which were most of this call's cost.
      for (let i = 0; i < n; i++) {
        const item = this.items[i];
        const score = this.scores[i];
        let j = i;
        while (j > 0 && before(score, item, scores[j - 1], items[j - 1])) {
          items[j] = items[j - 1];
          scores[j] = scores[j - 1];
          j--;
        }
        items[j] = item;
        scores[j] = score;
      }
      return { items, scores };
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
      before(this.scores[a], this.items[a], this.scores[b], this.items[b]) ? -1 : 1,
    );
    for (let i = 0; i < n; i++) {
      items[i] = this.items[order[i]];
      scores[i] = this.scores[order[i]];
    }
    return { items, scores };
  }
}

/** Best k entries of a dense score array, skipping items where blocked[item] is 1. */
export function topKDense(values: Float32Array, k: number, blocked: Uint8Array | null = null): { items: Int32Array; scores: Float32Array } {
  const heap = new TopK(k);
  for (let i = 0; i < values.length; i++) {
    if (blocked !== null && blocked[i] === 1) continue;
    heap.push(i, values[i]);
  }
  return heap.sorted();
}
