import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import type { Dataset } from '../src/data/dataset';
import { NotFittedError, OptionError } from '../src/errors';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { Popularity } from '../src/strategies/popularity';
import { mulberry32 } from '../src/util/random';
import { basketsDataset, itemIdx } from './fixtures';

const data = basketsDataset(
  {
    // Oldest first. Milk every order, coffee every 2nd order, eggs once.
    x: [['milk', 'coffee'], ['milk'], ['milk', 'coffee', 'eggs'], ['milk']],
    // Coffee every 2nd order, 3 times; bread in the last order only; tea in every order.
    y: [['coffee', 'tea'], ['bread', 'tea'], ['coffee', 'tea'], ['tea'], ['coffee', 'tea'], ['bread', 'tea', 'tea']],
  },
  { catalog: { milk: { name: 'Whole Milk' } }, days: { x: [0, 10, 20, 40] } },
);
const [milk, coffee, eggs, bread, tea] = itemIdx(data, 'milk', 'coffee', 'eggs', 'bread', 'tea');
const X = data.users.indexOf('x');
const Y = data.users.indexOf('y');

function scores(model: RepeatPurchase, query: Query): Map<number, number> {
  const out = new ScoreVector(data.nItems);
  model.score(query, out);
  const m = new Map<number, number>();
  for (let i = 0; i < out.length; i++) m.set(out.at(i), out.values[out.at(i)]);
  return m;
}

describe('RepeatPurchase scores', () => {
  it('scores the decayed share of orders containing each item', async () => {
    // halfLifeBaskets 1: basket weights 1/8, 1/4, 1/2, 1 (total 15/8).
    const r = new RepeatPurchase({ halfLifeBaskets: 1, duePrior: 0 });
    await r.fit(data);
    const s = scores(r, userQuery(data, X));
    expect(s.size).toBe(3);
    expect(s.get(milk)).toBeCloseTo(1, 6);
    expect(s.get(coffee)).toBeCloseTo(1 / 3, 6);
    expect(s.get(eggs)).toBeCloseTo(4 / 15, 6);
  });

  it('multiplies in day decay from the most recent basket', async () => {
    // Days 0, 10, 20, 40 with a 20-day half-life: day factors 1/4, 1/2^1.5, 1/2, 1; no basket decay.
    const r = new RepeatPurchase({ halfLifeBaskets: Infinity, halfLifeDays: 20, duePrior: 0 });
    await r.fit(data);
    const w = [0.25, 2 ** -1.5, 0.5, 1];
    const total = w[0] + w[1] + w[2] + w[3];
    const s = scores(r, userQuery(data, X));
    expect(s.get(coffee)).toBeCloseTo((w[0] + w[2]) / total, 6);
    expect(s.get(eggs)).toBeCloseTo(w[2] / total, 6);
  });

  it('raises items that are due and lowers items just bought on a longer cadence', async () => {
    const r = new RepeatPurchase({ halfLifeBaskets: 1, duePrior: 2 });
    await r.fit(data);
    const s = scores(r, userQuery(data, X));
    // Milk: three 1-basket intervals, gap 1: hazard (7/4 + 2) / (7/4 + 2) = 1.
    expect(s.get(milk)).toBeCloseTo(1, 6);
    // Coffee: one 2-basket interval closed in basket 2 (weight 1/2), gap 2 — due:
    // (1/2 + 2 * 1/3) / (1/2 + 2) = 7/15, above its share 1/3.
    expect(s.get(coffee)).toBeCloseTo(7 / 15, 6);
    // Eggs: no interval, keeps its share.
    expect(s.get(eggs)).toBeCloseTo(4 / 15, 6);

    // In y's history, coffee (every 2nd order) was bought 2 orders ago and is due; bread, bought
    // in the most recent order after a 4-order interval, is not.
    const flat = new RepeatPurchase({ halfLifeBaskets: Infinity, duePrior: 2 });
    await flat.fit(data);
    const sy = scores(flat, userQuery(data, Y));
    expect(sy.get(coffee)).toBeCloseTo((2 + 2 * 0.5) / (2 + 2), 6);
    expect(sy.get(bread)).toBeCloseTo((2 * (2 / 6)) / (1 + 2), 6);
    expect(sy.get(tea)).toBeCloseTo(1, 6);
  });

  it('falls back to history counts without a timeline and ignores the current basket', async () => {
    const r = new RepeatPurchase();
    await r.fit(data);
    const s = scores(r, anonymousQuery([milk, milk, milk, coffee], [eggs]));
    expect(s.get(milk)).toBeCloseTo(0.75, 6);
    expect(s.get(coffee)).toBeCloseTo(0.25, 6);
    expect(s.has(eggs)).toBe(false);
    expect(scores(r, anonymousQuery([], [eggs])).size).toBe(0);
    const withCart = scores(r, userQuery(data, X, Int32Array.from([bread])));
    expect(withCart.has(bread)).toBe(false);
    expect([...withCart.entries()]).toEqual([...scores(r, userQuery(data, X)).entries()]);
  });
});

describe('RepeatPurchase explanations', () => {
  it('describes the personal rhythm from the timeline', async () => {
    const r = new RepeatPurchase();
    await r.fit(data);
    const name = (i: number) => data.catalog.name[i];
    const qx = userQuery(data, X);
    expect(r.explain(qx, milk, name)!.reason).toBe('you bought this in all of your 4 orders');
    expect(r.explain(qx, coffee, name)!.reason).toBe('you bought this in 2 of your 4 orders, last 2 orders ago');
    expect(r.explain(qx, eggs, name)!.reason).toBe('you bought this in 1 of your 4 orders, last 2 orders ago');
    expect(r.explain(qx, bread, name)).toBeNull();
    const qy = userQuery(data, Y);
    expect(r.explain(qy, coffee, name)!.reason).toBe('you buy this about every 2nd order (3 of your 6 orders), last 2 orders ago');
    expect(r.explain(qy, bread, name)!.reason).toBe('you bought this in 2 of your 6 orders, last in your most recent order');
    const e = r.explain(qy, coffee, name)!;
    expect(e.evidence).toEqual([{ item: coffee, weight: 3 }]);
    const out = new ScoreVector(data.nItems);
    r.score(qy, out);
    expect(e.score).toBe(out.values[coffee]);
    expect(r.explain(anonymousQuery([milk, milk, coffee]), milk, name)!.reason).toBe('you bought this 2 times before');
    expect(r.explain(anonymousQuery([milk, milk, coffee]), coffee, name)!.reason).toBe('you bought this once before');
  });
});

describe('RepeatPurchase explanation scores', () => {
  it('equal score() for every item of every synthetic shopper, with and without day decay and due prior', async () => {
    const shop = datasetFromInstacart(generateGrocery({ users: 60, products: 120, seed: 3 })).dataset;
    let explained = 0;
    for (const options of [{}, { halfLifeDays: 20 }, { duePrior: 0 }]) {
      const r = new RepeatPurchase(options);
      await r.fit(shop);
      const out = new ScoreVector(shop.nItems);
      for (let u = 0; u < shop.nUsers; u++) {
        const q = userQuery(shop, u);
        out.reset();
        r.score(q, out);
        for (let t = 0; t < out.length; t++) {
          const item = out.at(t);
          expect(r.explain(q, item, String)!.score).toBe(out.values[item]);
          explained++;
        }
      }
    }
    expect(explained).toBeGreaterThan(1000);
  });
});

describe('RepeatPurchase contract', () => {
  it('validates options and needs fit', async () => {
    for (const bad of [{ halfLifeBaskets: 0 }, { halfLifeBaskets: NaN }, { halfLifeDays: -3 }, { duePrior: -1 }, { duePrior: Infinity }]) {
      expect(() => new RepeatPurchase(bad)).toThrow(OptionError);
    }
    const r = new RepeatPurchase();
    expect(() => r.score(userQuery(data, X), new ScoreVector(data.nItems))).toThrow(NotFittedError);
    await r.fit(data);
    expect(() => r.score(userQuery(data, X), new ScoreVector(2))).toThrow(OptionError);
    const bad: Query = { ...anonymousQuery([]), timeline: { itemPtr: Int32Array.from([0, 2]), items: Int32Array.from([milk, 99]), day: Float64Array.from([0]) } };
    expect(() => r.score(bad, new ScoreVector(data.nItems))).toThrow(OptionError);
    // A rejected query leaves nothing behind for the next one.
    expect([...scores(r, userQuery(data, Y)).keys()].sort()).toEqual([coffee, bread, tea].sort());
  });

  it('round-trips through the artifact with identical scores', async () => {
    const r = new RepeatPurchase({ halfLifeBaskets: 3, halfLifeDays: 30, duePrior: 1.5 });
    await r.fit(data, { seed: 7 });
    const w = new ArtifactWriter();
    const state = r.save(w.scope('x'));
    const reader = ArtifactReader.open(w.toBytes(state));
    const back = RepeatPurchase.load(reader.root as JsonObject, reader.scope('x'));
    expect(back.options).toEqual(r.options);
    for (const q of [userQuery(data, X), userQuery(data, Y), anonymousQuery([milk, tea, tea])]) {
      const a = new ScoreVector(data.nItems);
      const b = new ScoreVector(data.nItems);
      r.score(q, a);
      back.score(q, b);
      expect(b.values).toEqual(a.values);
    }
  });
});

describe('RepeatPurchase quality', () => {
  // Each user re-buys 16 staples, each on its own period of 1-4 orders, plus 3 random items per
  // order. The last order is held out; recall@5 among a user's 16+ candidates rewards knowing
  // which staples are due.
  function planted(seed: number): Dataset {
    const rng = mulberry32(seed);
    const users: Record<string, string[][]> = {};
    for (let u = 0; u < 150; u++) {
      const n = 6 + Math.floor(rng() * 15);
      const staples = Array.from({ length: 16 }, () => ({ item: `s${Math.floor(rng() * 200)}`, period: 1 + Math.floor(rng() * 4), next: 0 }));
      for (const s of staples) s.next = Math.floor(rng() * s.period);
      const baskets: string[][] = [];
      for (let b = 0; b < n; b++) {
        const basket = new Set<string>();
        for (const s of staples) {
          if (b < s.next) continue;
          basket.add(s.item);
          s.next = b + s.period;
        }
        for (let k = 0; k < 3; k++) basket.add(`n${Math.floor(rng() * 300)}`);
        baskets.push([...basket]);
      }
      users[`u${u}`] = baskets;
    }
    return basketsDataset(users);
  }

  function recallAt(k: number, model: RepeatPurchase | Popularity, full: Dataset, train: Dataset): number {
    let hits = 0;
    let total = 0;
    const out = new ScoreVector(full.nItems);
    for (let u = 0; u < full.nUsers; u++) {
      out.reset();
      model.score(userQuery(train, u), out);
      const ranked = Array.from({ length: out.length }, (_, i) => out.at(i)).sort((a, b) => out.values[b] - out.values[a] || a - b);
      const top = new Set(ranked.slice(0, k));
      const last = full.baskets.userPtr[u + 1] - 1;
      for (const item of new Set(full.baskets.items.subarray(full.baskets.itemPtr[last], full.baskets.itemPtr[last + 1]))) {
        total++;
        if (top.has(item)) hits++;
      }
    }
    return hits / total;
  }

  it('beats plain frequency when items are due', async () => {
    const full = planted(3);
    const lastOf = new Set<number>();
    for (let u = 0; u < full.nUsers; u++) lastOf.add(full.baskets.userPtr[u + 1] - 1);
    const train = full.filterBaskets((b) => !lastOf.has(b));
    const frequency = new RepeatPurchase({ duePrior: 0 });
    const due = new RepeatPurchase();
    await frequency.fit(train);
    await due.fit(train);
    const rf = recallAt(5, frequency, full, train);
    const rd = recallAt(5, due, full, train);
    expect(rf).toBeGreaterThan(0.25);
    expect(rd).toBeGreaterThan(rf + 0.05);
  });

  it('predicts the next basket of synthetic shoppers far better than popularity', async () => {
    const full = datasetFromInstacart(generateGrocery({ users: 800, products: 600, seed: 42 })).dataset;
    const lastOf = new Set<number>();
    for (let u = 0; u < full.nUsers; u++) lastOf.add(full.baskets.userPtr[u + 1] - 1);
    const train = full.filterBaskets((b) => !lastOf.has(b));
    const repeat = new RepeatPurchase();
    const pop = new Popularity();
    await repeat.fit(train);
    await pop.fit(train);
    const rr = recallAt(10, repeat, full, train);
    const rp = recallAt(10, pop, full, train);
    expect(rr).toBeGreaterThan(0.3);
    expect(rr).toBeGreaterThan(2 * rp);
  });
});
