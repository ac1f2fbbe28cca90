import { describe, expect, it } from 'vitest';
import { Dataset } from '../src/data/dataset';
import { recencyWeighted } from '../src/data/recency';
import { DataError, OptionError } from '../src/errors';
import { ItemKNN } from '../src/strategies/item-knn';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { userQuery } from '../src/strategies/query';
import { ScoreVector } from '../src/strategies/types';
import { basketsDataset, timedDataset } from './fixtures';

const DAY = 86400;

/** Interaction rows (user, item, weight, seconds) -> a Dataset with Dataset.times, as holdoutTemporal's training part. */
function timed(rows: Array<[string, string, number, number]>): Dataset {
  return timedDataset(rows.map((r) => [r[0], r[1], r[3]] as const), { weights: rows.map((r) => r[2]) });
}

/** The weight of (user, item) in `data`'s matrix. */
function weightOf(data: Dataset, user: string, item: string): number {
  return data.interactions.get(data.users.indexOf(user), data.items.indexOf(item));
}

describe('recencyWeighted', () => {
  // User a: x on day 0, y (twice) and z on day 1, w on day 2; user b: one interaction.
  const data = timed([
    ['a', 'x', 1, 0],
    ['a', 'y', 2, DAY],
    ['a', 'z', 1, DAY],
    ['a', 'w', 1, 2 * DAY],
    ['b', 'x', 3, 5 * DAY],
  ]);

  it('halves a weight per halfLifeInteractions later entries of the user, entries of one timestamp alike', () => {
    const r = recencyWeighted(data, { halfLifeInteractions: 1 });
    // w: no later entry; y and z: one (w); x: three (y, z, w).
    expect(weightOf(r, 'a', 'w')).toBe(1);
    expect(weightOf(r, 'a', 'y')).toBe(2 * 0.5);
    expect(weightOf(r, 'a', 'z')).toBe(0.5);
    expect(weightOf(r, 'a', 'x')).toBe(0.125);
    // A user's latest interaction keeps its weight.
    expect(weightOf(r, 'b', 'x')).toBe(3);
  });

  it('halves a weight per halfLifeDays before the user\'s latest interaction, and multiplies the two decays', () => {
    const days = recencyWeighted(data, { halfLifeDays: 2 });
    expect(weightOf(days, 'a', 'w')).toBe(1);
    expect(weightOf(days, 'a', 'z')).toBeCloseTo(2 ** -0.5, 6);
    expect(weightOf(days, 'a', 'x')).toBe(0.5);
    const both = recencyWeighted(data, { halfLifeInteractions: 3, halfLifeDays: 2 });
    expect(weightOf(both, 'a', 'x')).toBe(0.5 * 0.5);
  });

  it('keeps the matrix structure, the times and every other part; with no half-life the weights are the same', () => {
    const r = recencyWeighted(data, { halfLifeInteractions: 2 });
    expect(r.interactions.indices).toBe(data.interactions.indices);
    expect(r.interactions.indptr).toBe(data.interactions.indptr);
    expect(r.times).toBe(data.times);
    expect(r.users).toBe(data.users);
    expect(Array.from(recencyWeighted(data).interactions.values)).toEqual(Array.from(data.interactions.values));
    // The input is not changed.
    expect(weightOf(data, 'a', 'x')).toBe(1);
  });

  it('keeps every old purchase positive: a decayed weight stops at 2^-126 instead of rounding to 0 or going subnormal', () => {
    // 200 interactions, one a day: with half-life 1 the oldest would weigh 2^-199 (0 in float32).
    const rows: Array<[string, string, number, number]> = Array.from({ length: 200 }, (_, d) => ['u', `i${d}`, 1, d * DAY]);
    const r = recencyWeighted(timed(rows), { halfLifeInteractions: 1 });
    expect(weightOf(r, 'u', 'i199')).toBe(1);
    expect(weightOf(r, 'u', 'i74')).toBe(2 ** -125);
    expect(weightOf(r, 'u', 'i73')).toBe(2 ** -126);
    expect(weightOf(r, 'u', 'i0')).toBe(2 ** -126);
    expect(Math.min(...r.interactions.values)).toBe(2 ** -126);
  });

  it('gives re-buys of decayed weights a reason without a count, and keeps whole counts counted', async () => {
    const r = recencyWeighted(data, { halfLifeInteractions: 1 });
    const repeat = new RepeatPurchase();
    await repeat.fit(r);
    const name = (i: number) => r.items.id(i);
    const q = userQuery(r, r.users.indexOf('a'));
    // x weighs 0.125 now, not "0.1 times"; w keeps its 1 purchase, y its 2 * 0.5 = 1.
    expect(repeat.explain(q, r.items.indexOf('x'), name)!.reason).toBe('you bought this before');
    expect(repeat.explain(q, r.items.indexOf('w'), name)!.reason).toBe('you bought this once before');
    const plain = new RepeatPurchase();
    await plain.fit(data);
    expect(plain.explain(userQuery(data, data.users.indexOf('a')), data.items.indexOf('y'), name)!.reason).toBe('you bought this 2 times before');
  });

  it("carries the decayed weights into a known user's query", () => {
    const r = recencyWeighted(data, { halfLifeInteractions: 1 });
    const q = userQuery(r, r.users.indexOf('a'));
    const byItem = new Map(Array.from(q.history.items, (i, k) => [r.items.id(i), q.history.weights[k]]));
    expect(Object.fromEntries(byItem)).toEqual({ w: 1, x: 0.125, y: 1, z: 0.5 });
  });

  it("makes an item-based model follow the user's latest taste", async () => {
    // Two groups bought together by others; user u bought a1 long ago and b1 last.
    const rows: Array<[string, string, number, number]> = [];
    for (const p of ['p1', 'p2']) rows.push([p, 'a1', 1, 0], [p, 'a2', 1, 0]);
    for (const q of ['q1', 'q2']) rows.push([q, 'b1', 1, 0], [q, 'b2', 1, 0]);
    rows.push(['u', 'a1', 1, 0], ['u', 'b1', 1, DAY]);
    const plain = timed(rows);
    const top = async (d: Dataset) => {
      const knn = new ItemKNN();
      await knn.fit(d);
      const out = new ScoreVector(d.nItems);
      knn.score(userQuery(d, d.users.indexOf('u')), out);
      return { a2: out.values[d.items.indexOf('a2')], b2: out.values[d.items.indexOf('b2')] };
    };
    // Without recency the two groups' partners tie (the data is symmetric); with it the recent one leads.
    const before = await top(plain);
    expect(before.a2).toBeCloseTo(before.b2, 6);
    const after = await top(recencyWeighted(plain, { halfLifeInteractions: 1 }));
    expect(after.b2).toBeGreaterThan(after.a2 * 1.5);
  });

  it('rejects data without timestamps and bad options, naming them', () => {
    const baskets = basketsDataset({ u: [['a', 'b']] });
    expect(() => recencyWeighted(baskets, { halfLifeInteractions: 1 })).toThrow(DataError);
    expect(() => recencyWeighted({} as Dataset)).toThrow(/recencyWeighted: data/);
    expect(() => recencyWeighted(data, { halfLifeInteractions: 0 })).toThrow(OptionError);
    expect(() => recencyWeighted(data, { halfLifeInteractions: 0 })).toThrow(/recencyWeighted\.halfLifeInteractions/);
    expect(() => recencyWeighted(data, { halfLifeDays: -1 })).toThrow(/recencyWeighted\.halfLifeDays/);
    expect(() => recencyWeighted(data, { halfLife: 2 } as never)).toThrow(/halfLife/);
  });
});
