/**
 * A set of indices in [0, size) that lists its members in ascending order without a sort
 * when they are many: one bit per index, listed by a scan of the words. ContentBased lists a
 * long history's items (hundreds of 50k) and its profile's terms ascending at every query, and
 * the two typed-array sorts were a seventh of its scoring.
 */
export class AscendingSet {
  private readonly words: Int32Array;
  /** The members in the order they were added, in [0, count): what a small set sorts. */
  private readonly members: Int32Array;
  private count = 0;

  constructor(readonly size: number) {
    this.words = new Int32Array((size + 31) >>> 5);
    this.members = new Int32Array(size);
  }

  /** Adds index i (a member already: nothing changes). */
  add(i: number): void {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.words[w] & bit) !== 0) return;
    this.words[w] |= bit;
    this.members[this.count++] = i;
  }

  /**
   * The members ascending, in a new array, and empties the set: few members are sorted, many
   * are read off the words (a scan costs a word per 32 indices, a sort about log n compares
   * per member).
   */
  drain(): Int32Array {
    const { words, members } = this;
    const n = this.count;
    this.count = 0;
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
