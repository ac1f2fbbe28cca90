import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/util/random';
import { AscendingSet } from '../src/util/ascending-set';

/** Adds `members` (distinct, any order) to `set` and drains it, as ContentBased does. */
function drain(set: AscendingSet, members: number[]): number[] {
  for (const m of members) set.add(m);
  return Array.from(set.drain());
}

describe('AscendingSet', () => {
  it('lists few members (sorted) and many members (read off the words) ascending, and empties itself', () => {
    const set = new AscendingSet(100);
    expect(drain(set, [70, 3, 99, 31, 32])).toEqual([3, 31, 32, 70, 99]);
    // 60 of 100: past the sort's bound, with bit 31 of a word (31, 63) and the last, partial word.
    const many = [99, 98, 96, 63, 64, 31, 0, 1, 2];
    for (let i = 4; i < 55; i++) if (!many.includes(i)) many.push(i);
    expect(drain(set, many)).toEqual([...many].sort((a, b) => a - b));
    // Both drains left the set empty: only the new members come out.
    expect(drain(set, [5, 97])).toEqual([5, 97]);
    expect(drain(set, [])).toEqual([]);
  });

  it('equals a typed-array sort of random member lists of every density', () => {
    const rng = mulberry32(3);
    const set = new AscendingSet(5000);
    for (const share of [0.001, 0.01, 0.05, 0.2, 0.9]) {
      const members: number[] = [];
      for (let i = 0; i < 5000; i++) if (rng() < share) members.push(i);
      for (let i = members.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [members[i], members[j]] = [members[j], members[i]];
      }
      expect(drain(set, members)).toEqual(Array.from(Int32Array.from(members).sort()));
    }
  });
});
