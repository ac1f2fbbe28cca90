import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { OptionError } from '../src/errors';
import { FIXED_FEATURES, RerankerFeatures, type CandidateMatrix } from '../src/ensemble/reranker/features';
import { ItemStatistics } from '../src/ensemble/reranker/item-stats';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type Recommender } from '../src/strategies/types';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { MergeEngine } from '../src/ensemble/merge';
import { affineOf, scoreStats, type Affine, type Normalization } from '../src/ensemble/normalize';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { basketsDataset, itemIdx } from './fixtures';

// Three shoppers; u1's orders are on days 0, 7, 14.
const data = basketsDataset(
  {
    u1: [['milk', 'bread'], ['milk', 'eggs'], ['milk', 'bread', 'jam']],
    u2: [['milk', 'apple'], ['eggs']],
    u3: [['bread', 'jam'], ['bread']],
  },
  {
    catalog: {
      milk: { aisle: 'milk', department: 'dairy' },
      eggs: { aisle: 'eggs', department: 'dairy' },
      bread: { aisle: 'bread', department: 'pantry' },
      jam: { aisle: 'spreads', department: 'pantry' },
      apple: { department: 'produce' },
    },
  },
);
const [apple, bread, eggs, jam, milk] = itemIdx(data, 'apple', 'bread', 'eggs', 'jam', 'milk');
const stats = ItemStatistics.fromDataset(data);

function vector(scores: Array<[number, number]>): ScoreVector {
  const v = new ScoreVector(data.nItems);
  for (const [item, score] of scores) v.set(item, score);
  return v;
}

/** The feature `name` of candidate `item` (undefined when it is no candidate). */
function value(extractor: RerankerFeatures, m: CandidateMatrix, item: number, name: string): number | undefined {
  const c = [...m.items].indexOf(item);
  if (c < 0) return undefined;
  const f = extractor.names.indexOf(name);
  if (f < 0) throw new Error(`no feature ${name}`);
  return m.features[c * extractor.names.length + f];
}

describe('ItemStatistics', () => {
  it('aggregates per item: popularity, repeat rate, mean re-buy interval, aisle and department codes', () => {
    expect(stats.popularity[milk]).toBeCloseTo(2 / 3, 6);
    expect(stats.popularity[apple]).toBeCloseTo(1 / 3, 6);
    // milk: u1 three times, u2 once; bread: u1 twice, u3 twice; eggs and jam: once each.
    expect(stats.repeatRate[milk]).toBe(0.5);
    expect(stats.repeatRate[bread]).toBe(1);
    expect(stats.repeatRate[eggs]).toBe(0);
    // milk: u1 in baskets 0, 1, 2 (span 2 over 2 intervals); bread: u1 0 and 2, u3 0 and 1 (span 3 over 2).
    expect(stats.meanInterval[milk]).toBe(1);
    expect(stats.meanInterval[bread]).toBe(1.5);
    expect(stats.meanInterval[eggs]).toBeNaN();
    // Next-basket re-buy: milk u1 0->1 yes, 1->2 yes, u2 0->1 no; bread u1 0->1 no, u3 0->1 yes;
    // eggs u1 1->2 no (u2's eggs basket is its last); apple u2 0->1 no.
    expect(stats.rebuyNext[milk]).toBeCloseTo(2 / 3, 6);
    expect(stats.rebuyNext[bread]).toBe(0.5);
    expect(stats.rebuyNext[eggs]).toBe(0);
    expect(stats.rebuyNext[apple]).toBe(0);
    expect(stats.aisle[apple]).toBe(-1);
    expect(stats.department[milk]).toBe(stats.department[eggs]);
    expect(stats.department[bread]).toBe(stats.department[jam]);
    expect(stats.department[bread]).not.toBe(stats.department[milk]);
  });

  it('saves only per-item arrays and loads them back', () => {
    const writer = new ArtifactWriter();
    const state = stats.save(writer.scope('items'));
    const reader = ArtifactReader.open(writer.toBytes(state));
    for (const name of reader.sectionNames) expect(reader.array(name).length).toBe(data.nItems);
    expect(Object.keys(state).sort()).toEqual(['nAisles', 'nDepartments', 'nItems']);
    const back = ItemStatistics.load(reader.root as typeof state, reader.scope('items'));
    expect(back).toEqual(stats);
  });
});

describe('RerankerFeatures', () => {
  const extractor = new RerankerFeatures(['a', 'b'], stats, { candidatesPerStrategy: 3 });
  // a touches milk 3, eggs 2, bread 1, apple 0.5 (top 3: milk, eggs, bread); b touches jam 0.9
  // (in the basket, so never a candidate), bread 0.5, apple 0.25.
  const a = vector([[milk, 3], [eggs, 2], [bread, 1], [apple, 0.5]]);
  const b = vector([[jam, 0.9], [bread, 0.5], [apple, 0.25]]);
  const cooccurrence = vector([[bread, 4]]);
  const query = userQuery(data, data.users.indexOf('u1'), Int32Array.of(jam));
  const m = extractor.extract(query, [a, b], { day: 20, basketScores: cooccurrence });
  const f = (item: number, name: string) => value(extractor, m, item, name);

  it('names its features in a stable order', () => {
    expect(extractor.names).toEqual(['a.score', 'a.normalized', 'a.rank', 'b.score', 'b.normalized', 'b.rank', ...FIXED_FEATURES]);
    expect(m.features.length).toBe(m.count * extractor.names.length);
  });

  it('pools each strategy top-N, leaving out the basket', () => {
    expect([...m.items]).toEqual([milk, eggs, bread, apple]);
    expect(f(bread, 'candidate.proposals')).toBe(2);
    expect(f(apple, 'candidate.proposals')).toBe(1);
  });

  it('gives each strategy raw score, normalized score and rank, missing where it has none', () => {
    expect(f(milk, 'a.score')).toBe(3);
    expect(f(milk, 'a.normalized')).toBe(1);
    expect(f(eggs, 'a.normalized')).toBeCloseTo(2 / 3, 6);
    expect(f(bread, 'a.rank')).toBe(3);
    // apple: scored by a but below its top 3, so a score and no rank.
    expect(f(apple, 'a.score')).toBe(0.5);
    expect(f(apple, 'a.rank')).toBeNaN();
    // b normalizes by its own largest score, the basket item's 0.9.
    expect(f(bread, 'b.normalized')).toBeCloseTo(0.5 / 0.9, 6);
    expect(f(apple, 'b.rank')).toBe(2);
    expect(f(milk, 'b.score')).toBeNaN();
    expect(f(milk, 'b.normalized')).toBeNaN();
    expect(f(milk, 'b.rank')).toBeNaN();
  });

  it('copies the item statistics', () => {
    expect(f(milk, 'item.popularity')).toBeCloseTo(2 / 3, 6);
    expect(f(bread, 'item.repeatRate')).toBe(1);
    expect(f(bread, 'item.meanInterval')).toBe(1.5);
    expect(f(eggs, 'item.meanInterval')).toBeNaN();
  });

  it('describes the shopper: purchases, distinct items, baskets and order rhythm in days', () => {
    for (const item of m.items) {
      expect(f(item, 'shopper.purchases')).toBe(7);
      expect(f(item, 'shopper.distinctItems')).toBe(4);
      expect(f(item, 'shopper.baskets')).toBe(3);
      expect(f(item, 'shopper.daysSinceLastOrder')).toBe(6);
      expect(f(item, 'shopper.meanDaysBetweenOrders')).toBe(7);
    }
  });

  it("computes the item's count, share, recency and re-buy rhythm in the shopper's history", () => {
    expect([milk, eggs, bread, apple].map((i) => f(i, 'history.count'))).toEqual([3, 1, 2, 0]);
    expect(f(milk, 'history.share')).toBeCloseTo(3 / 7, 6);
    expect(f(apple, 'history.share')).toBe(0);
    expect([milk, eggs, bread, apple].map((i) => f(i, 'history.basketShare'))).toEqual([1, Math.fround(1 / 3), Math.fround(2 / 3), 0]);
    expect([milk, eggs, bread].map((i) => f(i, 'history.basketsSinceLast'))).toEqual([1, 2, 1]);
    expect(f(apple, 'history.basketsSinceLast')).toBeNaN();
    expect([milk, eggs, bread].map((i) => f(i, 'history.daysSinceLast'))).toEqual([6, 13, 6]);
    // milk every basket (interval 1), bread in baskets 0 and 2 (interval 2), eggs once (no interval).
    expect(f(milk, 'history.meanInterval')).toBe(1);
    expect(f(bread, 'history.meanInterval')).toBe(2);
    expect(f(eggs, 'history.meanInterval')).toBeNaN();
    expect(f(milk, 'history.dueRatio')).toBe(1);
    expect(f(bread, 'history.dueRatio')).toBe(0.5);
    expect(f(eggs, 'history.dueRatio')).toBeNaN();
  });

  it('gives time-decayed basket shares, the last baskets, the repeat ratio and basket sizes', () => {
    // u1's baskets, oldest first: [milk, bread], [milk, eggs], [milk, bread, jam]; weights r^(baskets ago).
    const share = (r: number, ...ago: number[]) => ago.reduce((t, a) => t + r ** a, 0) / (1 + r + r * r);
    for (const r of [0.9, 0.7, 0.5]) {
      expect(f(milk, `history.decayedShare${r}`)).toBeCloseTo(1, 6);
      expect(f(bread, `history.decayedShare${r}`)).toBeCloseTo(share(r, 0, 2), 6);
      expect(f(eggs, `history.decayedShare${r}`)).toBeCloseTo(share(r, 1), 6);
      expect(f(apple, `history.decayedShare${r}`)).toBe(0);
    }
    // The last basket weighs most: bread (last basket) above eggs (the one before), more so at 0.5.
    expect(f(bread, 'history.decayedShare0.5')).toBeCloseTo(5 / 7, 6);
    expect([milk, eggs, bread, apple].map((i) => f(i, 'history.inLast3'))).toEqual([3, 1, 2, 0]);
    expect([milk, eggs, bread, apple].map((i) => f(i, 'history.inLast5'))).toEqual([3, 1, 2, 0]);
    for (const item of m.items) {
      // Basket 2 repeats milk of 2 lines, basket 3 milk and bread of 3: 3 of 5.
      expect(f(item, 'shopper.repeatRatio')).toBe(Math.fround(3 / 5));
      expect(f(item, 'shopper.meanBasketSize')).toBe(Math.fround(7 / 3));
      expect(f(item, 'shopper.lastBasketSize')).toBe(3);
    }
    expect(f(milk, 'item.rebuyNext')).toBe(Math.fround(2 / 3));
  });

  it('counts the last 3 and 5 baskets apart, and a repeated line once', () => {
    const long = basketsDataset({ s: [['x'], ['x', 'x'], ['y'], ['x'], ['y'], ['y', 'y']], t: [['x', 'y']] });
    const [x, y] = itemIdx(long, 'x', 'y');
    const e = new RerankerFeatures(['a'], ItemStatistics.fromDataset(long), { candidatesPerStrategy: 2 });
    const v = new ScoreVector(long.nItems);
    v.set(x, 1);
    v.set(y, 2);
    const r = e.extract(userQuery(long, long.users.indexOf('s')), [v]);
    const g = (item: number, name: string) => value(e, r, item, name);
    // x is 5, 4 and 2 baskets ago; y 3, 1 and 0.
    expect([g(x, 'history.inLast3'), g(x, 'history.inLast5')]).toEqual([1, 2]);
    expect([g(y, 'history.inLast3'), g(y, 'history.inLast5')]).toEqual([2, 3]);
    // Later baskets' distinct lines: x (seen), y (new), x, y, y (seen): 4 of 5.
    expect(g(x, 'shopper.repeatRatio')).toBe(Math.fround(4 / 5));
    expect(g(x, 'shopper.meanBasketSize')).toBe(1);
    expect(g(x, 'shopper.lastBasketSize')).toBe(1);
    // s: x 0->1 yes, 1->2 no, 3->4 no; y 2->3 no, 4->5 yes (t has one basket, no next).
    expect(g(x, 'item.rebuyNext')).toBe(Math.fround(1 / 3));
    expect(g(y, 'item.rebuyNext')).toBe(0.5);
  });

  it('describes the basket context', () => {
    expect(f(milk, 'basket.size')).toBe(1);
    expect(f(bread, 'basket.sameDepartmentShare')).toBe(1);
    expect(f(milk, 'basket.sameDepartmentShare')).toBe(0);
    expect(f(milk, 'basket.sameAisleShare')).toBe(0);
    expect(f(apple, 'basket.sameAisleShare')).toBeNaN();
    expect(f(bread, 'basket.cooccurrence')).toBe(4);
    expect(f(milk, 'basket.cooccurrence')).toBeNaN();
  });

  it('leaves timeline, day and basket features missing when the request has none', () => {
    const anonymous = anonymousQuery([milk, milk, eggs]);
    const r = extractor.extract(anonymous, [a, b]);
    const g = (item: number, name: string) => value(extractor, r, item, name);
    // No basket: jam, b's best, is a candidate now.
    expect([...r.items]).toEqual([milk, eggs, bread, jam, apple]);
    expect(g(milk, 'history.count')).toBe(2);
    expect(g(milk, 'history.share')).toBeCloseTo(2 / 3, 6);
    for (const name of ['shopper.baskets', 'shopper.daysSinceLastOrder', 'history.basketShare', 'history.basketsSinceLast', 'history.meanInterval', 'basket.sameAisleShare', 'basket.cooccurrence', 'history.decayedShare0.9', 'history.inLast3', 'shopper.repeatRatio', 'shopper.meanBasketSize', 'shopper.lastBasketSize']) {
      expect(g(milk, name)).toBeNaN();
    }
    expect(g(milk, 'basket.size')).toBe(0);
    const empty = extractor.extract(anonymousQuery([]), [a, b]);
    expect(value(extractor, empty, milk, 'history.share')).toBeNaN();
    expect(value(extractor, empty, milk, 'shopper.purchases')).toBe(0);
  });

  it('gives the same features after its state and the statistics round-trip, and reuses its buffers cleanly', () => {
    const writer = new ArtifactWriter();
    const root = { items: stats.save(writer.scope('items')), features: extractor.save() };
    const reader = ArtifactReader.open(writer.toBytes(root));
    const loaded = reader.root as typeof root;
    const back = RerankerFeatures.load(loaded.features, ItemStatistics.load(loaded.items, reader.scope('items')));
    expect(back.names).toEqual(extractor.names);
    expect(back.options).toEqual(extractor.options);
    const again = back.extract(query, [a, b], { day: 20, basketScores: cooccurrence });
    // A different query in between must leave no trace in the next one.
    extractor.extract(userQuery(data, data.users.indexOf('u3')), [b, a]);
    const third = extractor.extract(query, [a, b], { day: 20, basketScores: cooccurrence });
    expect([...again.features]).toEqual([...m.features]);
    expect([...third.features]).toEqual([...again.features]);
  });

  it('rejects wrong-size score vectors, missing strategies and out-of-range items', () => {
    expect(() => extractor.extract(query, [a])).toThrow(OptionError);
    expect(() => extractor.extract(query, [a, new ScoreVector(3)])).toThrow(/scores\[1\]/);
    expect(() => extractor.extract(anonymousQuery([99]), [a, b])).toThrow(/query.history/);
    expect(() => new RerankerFeatures(['a', 'a'], stats)).toThrow(/distinct/);
    expect(() => new RerankerFeatures(['a'], stats, { candidatesPerStrategie: 3 } as never)).toThrow(/did you mean "candidatesPerStrategy"/);
  });
});

describe('RerankerFeatures on a fitted ensemble, as the reranker calls it', () => {
  // The serving path hands the extractor the merge engine's normalizing maps and candidate
  // union ("(linear)") and pools with a floor-first top-N; this checks them against the plain computation: each scorer's
  // eligible items sorted (score descending, ties to the lower index), and its map from
  // scoreStats over its whole ScoreVector.
  const shop = datasetFromInstacart(generateGrocery({ users: 200, products: 150, seed: 5 })).dataset;
  const members: Recommender[] = [new Popularity({ maxItems: 100 }), new RepeatPurchase(), new ItemKNN()];
  const N = 8;
  beforeAll(async () => {
    for (const m of members) await m.fit(shop);
  });

  for (const normalization of ['auto', 'zscore'] as const satisfies readonly Normalization[]) {
    it(`gives the plain computation's pool and features (${normalization})`, () => {
      const engine = new MergeEngine(members, null, shop.nItems);
      const settings = { weights: Float64Array.of(1, 0.5, 2), normalization, candidatesPerStrategy: 40 };
      const extractor = new RerankerFeatures(['popularity', 'repeat', 'itemknn', '(linear)'], ItemStatistics.fromDataset(shop), { candidatesPerStrategy: N, normalization });
      const F = extractor.names.length;
      const linear = new ScoreVector(shop.nItems);
      const blocked = new Uint8Array(shop.nItems);
      let pooled = 0;
      for (let u = 0; u < shop.nUsers; u++) {
        const full = userQuery(shop, u);
        // Every third shopper has a basket (its last two purchases), every other one excludes its history.
        const basket = u % 3 === 0 ? full.history.items.slice(-2) : new Int32Array(0);
        const query = { ...full, basket };
        const excluded = u % 2 === 0 ? [...query.history.items, ...basket] : [...basket];
        for (const i of excluded) blocked[i] = 1;
        const strategies = [...engine.scoreStrategies(query, blocked, settings)];
        // The reference reads "(linear)" from a ScoreVector of the positive sums; the serving path
        // reads the engine's candidate union in place (zscore makes sums <= 0 it must skip).
        linear.reset();
        const union = engine.candidateSums();
        for (let c = 0; c < union.size; c++) if (union.sums[c] > 0) linear.set(union.items[c], union.sums[c]);
        const vectors = [...strategies, linear];
        const maps: Array<Affine | null | undefined> = [0, 1, 2].map((s) => engine.normalizationOf(s));
        maps.push(undefined);
        const fast = extractor.extract(query, [...strategies, engine.candidateSums()], { blocked, normalizations: maps });
        const items = [...fast.items];
        const features = [...fast.features];
        const own = extractor.extract(query, vectors, { blocked });
        expect([...own.items]).toEqual(items);
        expect([...own.features]).toEqual(features);

        // The plain computation.
        const pool: number[] = [];
        const ranks = vectors.map(() => new Map<number, number>());
        vectors.forEach((v, s) => {
          const eligible: number[] = [];
          for (let i = 0; i < v.length; i++) {
            const item = v.at(i);
            if (!basket.includes(item) && blocked[item] === 0 && Number.isFinite(v.values[item])) eligible.push(item);
          }
          eligible.sort((x, y) => v.values[y] - v.values[x] || x - y);
          eligible.slice(0, N).forEach((item, r) => {
            ranks[s].set(item, r + 1);
            if (!pool.includes(item)) pool.push(item);
          });
        });
        expect(items).toEqual(pool);
        pooled += pool.length;
        vectors.forEach((v, s) => {
          const stats = scoreStats(v);
          const map = stats === null ? null : affineOf(stats, normalization);
          if (s < 3) expect(maps[s]).toEqual(map);
          pool.forEach((item, c) => {
            const scored = map !== null && v.has(item) && Number.isFinite(v.values[item]);
            expect(features[c * F + 3 * s]).toEqual(scored ? Math.fround(v.values[item]) : NaN);
            expect(features[c * F + 3 * s + 1]).toEqual(scored ? Math.fround(v.values[item] * map.scale + map.shift) : NaN);
            expect(features[c * F + 3 * s + 2]).toEqual(ranks[s].get(item) ?? NaN);
          });
        });
        pool.forEach((item, c) => expect(features[c * F + 3 * vectors.length]).toBe(ranks.filter((r) => r.has(item)).length));
        for (const i of excluded) blocked[i] = 0;
      }
      // The pools were full-sized, not trivially empty.
      expect(pooled).toBeGreaterThan(shop.nUsers * N);
    });
  }
});
