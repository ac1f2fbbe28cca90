import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { Dataset } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import { DataError, NotFittedError, OptionError } from '../src/errors';
import { Popularity } from '../src/strategies/popularity';
import { anonymousQuery } from '../src/strategies/query';
import { formatCount } from '../src/strategies/reasons';
import { ScoreVector, type JsonObject } from '../src/strategies/types';
import { topKDense } from '../src/util/topk';
import { basketsDataset, itemIdx } from './fixtures';

// Bananas: 5 purchases by 2 users; milk: 3 purchases by 3 users; eggs: 1; salt: never bought.
// Days default to 0, 7, 14, ... per user.
const data = basketsDataset(
  {
    a: [['bananas', 'milk'], ['bananas'], ['bananas'], ['bananas', 'eggs']],
    b: [['bananas', 'milk']],
    c: [['milk']],
  },
  { extraItems: ['salt'], catalog: { bananas: { name: 'Bananas' } } },
);
const [bananas, milk, eggs, salt] = itemIdx(data, 'bananas', 'milk', 'eggs', 'salt');

function dense(model: Popularity): Float32Array {
  const out = new ScoreVector(data.nItems);
  model.score(anonymousQuery([]), out);
  expect(out.dense).toBe(true);
  return Float32Array.from(out.values);
}

describe('Popularity', () => {
  it('scores only the head of the catalog with maxItems, and keeps it through an artifact', async () => {
    const head = new Popularity({ maxItems: 2 });
    await head.fit(data);
    const out = new ScoreVector(data.nItems);
    head.score(anonymousQuery([]), out);
    expect(out.dense).toBe(false);
    expect(out.length).toBe(2);
    expect([out.values[bananas], out.values[milk], out.has(eggs), out.has(salt)]).toEqual([5, 3, false, false]);
    const w = new ArtifactWriter();
    const state = head.save(w.scope('p'));
    const r = ArtifactReader.open(w.toBytes(state));
    const back = Popularity.load(r.root as JsonObject, r.scope('p'));
    const again = new ScoreVector(data.nItems);
    back.score(anonymousQuery([]), again);
    expect(again.length).toBe(2);
    expect(again.values[bananas]).toBe(5);
    expect(() => new Popularity({ maxItems: 0 })).toThrow(OptionError);
    expect(() => new Popularity({ maxItems: 1.5 })).toThrow(OptionError);
  });

  it('ranks by purchases, or by distinct buyers', async () => {
    const purchases = new Popularity();
    await purchases.fit(data);
    const s = dense(purchases);
    expect([s[bananas], s[milk], s[eggs], s[salt]]).toEqual([5, 3, 1, 0]);
    expect([...topKDense(s, 3).items]).toEqual([bananas, milk, eggs]);

    const users = new Popularity({ count: 'users' });
    await users.fit(data);
    const u = dense(users);
    expect([u[bananas], u[milk], u[eggs], u[salt]]).toEqual([2, 3, 1, 0]);
    expect([...topKDense(u, 2).items]).toEqual([milk, bananas]);
  });

  it("counts only each user's last windowDays days", async () => {
    // User a's baskets are on days 0, 7, 14, 21: a 7-day window keeps days 14 and 21.
    const recent = new Popularity({ windowDays: 7 });
    await recent.fit(data);
    const s = dense(recent);
    expect([s[bananas], s[milk], s[eggs]]).toEqual([3, 2, 1]);
    const recentUsers = new Popularity({ windowDays: 7, count: 'users' });
    await recentUsers.fit(data);
    const u = dense(recentUsers);
    expect([u[bananas], u[milk], u[eggs]]).toEqual([2, 2, 1]);
  });

  it('needs basket days for a window', async () => {
    const noDays = basketsDataset({ a: [['x'], ['y']] }, { days: { a: [NaN, NaN] } });
    await expect(new Popularity({ windowDays: 30 }).fit(noDays)).rejects.toThrow(DataError);
    const noBaskets = Dataset.fromInteractions({
      users: new IdIndex(['u']),
      items: new IdIndex(['i']),
      user: Int32Array.from([0]),
      item: Int32Array.from([0]),
    });
    await expect(new Popularity({ windowDays: 30 }).fit(noBaskets)).rejects.toThrow(OptionError);
    const all = new Popularity();
    await all.fit(noBaskets);
    expect(all.itemCounts[0]).toBe(1);
  });

  it('explains with the count', async () => {
    const name = (i: number) => data.catalog.name[i];
    const q = anonymousQuery([]);
    const purchases = new Popularity();
    await purchases.fit(data);
    expect(purchases.explain(q, bananas, name)).toEqual({ score: 5, reason: 'a best seller: 5 purchases by all shoppers', evidence: [] });
    expect(purchases.explain(q, eggs, name)!.reason).toBe('a best seller: 1 purchase by all shoppers');
    expect(purchases.explain(q, salt, name)).toBeNull();
    const users = new Popularity({ count: 'users', windowDays: 30 });
    await users.fit(data);
    expect(users.explain(q, milk, name)!.reason).toBe('a best seller: bought by 3 shoppers in their last 30 days');
  });

  it('never calls a re-buy "popular": the shopper\'s own count comes first', async () => {
    const purchases = new Popularity();
    await purchases.fit(data);
    // A shopper who bought bananas twice: the reason must not read as if they bought them 5 times.
    const q = anonymousQuery([bananas, bananas, eggs]);
    const e = purchases.explain(q, bananas, (i) => data.catalog.name[i])!;
    expect(e.reason).toBe('you bought this 2 times before; 5 purchases by all shoppers');
    expect(e.reason).not.toMatch(/popular/);
    expect(e.evidence).toEqual([{ item: bananas, weight: 2 }]);
  });

  it('validates options and needs fit', () => {
    expect(() => new Popularity({ windowDays: -1 })).toThrow(OptionError);
    expect(() => new Popularity({ windowDays: NaN })).toThrow(OptionError);
    expect(() => new Popularity({ count: 'baskets' as never })).toThrow(OptionError);
    const p = new Popularity();
    expect(p.fitted).toBe(false);
    expect(() => p.score(anonymousQuery([]), new ScoreVector(data.nItems))).toThrow(NotFittedError);
  });

  it('round-trips through the artifact with identical scores', async () => {
    for (const options of [{}, { count: 'users' as const, windowDays: 10 }]) {
      const p = new Popularity(options);
      await p.fit(data);
      const w = new ArtifactWriter();
      const state = p.save(w.scope('x'));
      const r = ArtifactReader.open(w.toBytes(state));
      const back = Popularity.load(r.root as JsonObject, r.scope('x'));
      expect(back.options).toEqual(p.options);
      expect(dense(back)).toEqual(dense(p));
    }
  });
});

describe('formatCount (the counts in reasons)', () => {
  it('writes whole counts as Intl en-US does, and other numbers through it', () => {
    const intl = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
    const values = [0, 1, 9, 10, 999, 1000, 1001, 3942, 99_999, 100_000, 1_234_567, Number.MAX_SAFE_INTEGER, 2.5, 0.04, 1e21, -3];
    for (let p = 0; p < 16; p++) values.push(10 ** p - 1, 10 ** p, 7 * 10 ** p + 13);
    for (const n of values) expect(formatCount(n)).toBe(intl.format(n));
  });
});
