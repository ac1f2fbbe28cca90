/**
 * A set of indices in [0, size) that lists its members in ascending order without a sort
 * when they are many: one bit per index, listed by a scan of the words. ContentBased lists a
 * long history's items (hundreds of 50k) and its profile's terms ascending at every query, and
 * the two typed-array sorts were a seventh of its scoring.
 */
export class AscendingSet {
  private readonly words: Int32Array;

  constructor(readonly size: number) {
    this.words = new Int32Array((size + 31) >>> 5);
  }

  /** Adds index i (a member already: nothing changes). */
  add(i: number): void {
    this.words[i >>> 5] |= 1 << (i & 31);
  }

  /**
   * The members ascending, in a new array, and empties the set. `members` holds them, each
   * once, in any order, in its first n entries (the caller lists what it adds): few members are
   * sorted, many are read off the words (a scan costs a word per 32 indices, a sort about
   * log n compares per member).
   */
  drain(members: Int32Array, n: number): Int32Array {
    const words = this.words;
    if (8 * n < words.length) {
      for (let k = 0; k < n; k++) words[members[k] >>> 5] = 0;
      return members.slice(0, n).sort();
    }
    const out = new Int32Array(n);
    let k = 0;
    for (let w = 0; w < words.length; w++) {
      let x = words[w];
      if (x === 0) continue;
      words[w] = 0;
      const base = w << 5;
      while (x !== 0) {
        const low = x & -x;
        out[k++] = base | (31 - Math.clz32(low));
        x ^= low;
      }
    }
    return out;
  }
}
