import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { IdIndex } from '../src/data/ids';
import { Dataset } from '../src/data/dataset';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGroceryWithTruth } from '../src/data/synthetic';
import { AbortedError, DataError, NotFittedError, OptionError } from '../src/errors';
import {
  AssociationRules,
  generateRules,
  mineItemsets,
  supportThreshold,
  type AssociationRule,
  type Transactions,
} from '../src/strategies/association-rules';
import { anonymousQuery } from '../src/strategies/query';
import { ScoreVector, type Query } from '../src/strategies/types';
import type { JsonObject } from '../src/util/json';
import { mulberry32 } from '../src/util/random';
import { basketsDataset, expectAbortMidRun, itemIdx } from './fixtures';

/*
 * Hand data, N = 5 baskets over A B C D (indices 0 1 2 3):
 *   T1 A B C   T2 A B   T3 A C   T4 B C D   T5 A B C D
 * Counts: A 4 (T1 T2 T3 T5), B 4 (T1 T2 T4 T5), C 4 (T1 T3 T4 T5), D 2 (T4 T5)
 *   AB 3 (T1 T2 T5), AC 3 (T1 T3 T5), BC 3 (T1 T4 T5), BD 2 (T4 T5), CD 2 (T4 T5), AD 1 (T5)
 *   ABC 2 (T1 T5), BCD 2 (T4 T5), ABD 1, ACD 1, ABCD 1
 * At minCount 2: 4 items + 5 pairs + 2 triples = 11 frequent itemsets.
 */
const HAND = [['A', 'B', 'C'], ['A', 'B'], ['A', 'C'], ['B', 'C', 'D'], ['A', 'B', 'C', 'D']];
const [A, B, C, D] = [0, 1, 2, 3];

function handTransactions(): Transactions {
  const letters = 'ABCD';
  const ptr = [0];
  const items: number[] = [];
  for (const b of HAND) {
    for (const x of b) items.push(letters.indexOf(x));
    ptr.push(items.length);
  }
  return { ptr: Int32Array.from(ptr), items: Int32Array.from(items), nItems: 4 };
}

function handDataset(): Dataset {
  return basketsDataset(Object.fromEntries(HAND.map((b, k) => [`u${k + 1}`, [b]])));
}

/*
 * Every rule at minCount 2, confidence >= 0 (N = 5; s(y) = count(y) / 5):
 *   pairs, count 3, antecedent count 4: A->B A->C B->A B->C C->A C->B
 *     conf 3/4 = 0.75, lift 0.75 / 0.8 = 0.9375, leverage 0.6 - 0.8 * 0.8 = -0.04, conviction 0.2 / 0.25 = 0.8
 *   B->D, C->D: count 2, antecedent 4: conf 0.5, lift 0.5 / 0.4 = 1.25, leverage 0.4 - 0.8 * 0.4 = 0.08, conviction 0.6 / 0.5 = 1.2
 *   D->B, D->C: count 2, antecedent 2: conf 1, lift 1 / 0.8 = 1.25, leverage 0.4 - 0.4 * 0.8 = 0.08, conviction Infinity
 *   AB->C AC->B BC->A: count 2, antecedent 3: conf 2/3, lift (2/3) / 0.8 = 5/6, leverage 0.4 - 0.6 * 0.8 = -0.08, conviction 0.2 / (1/3) = 0.6
 *   BC->D: conf 2/3, lift (2/3) / 0.4 = 5/3, leverage 0.4 - 0.6 * 0.4 = 0.16, conviction 0.6 / (1/3) = 1.8
 *   BD->C, CD->B: count 2, antecedent 2: conf 1, lift 1.25, leverage 0.4 - 0.4 * 0.8 = 0.08, conviction Infinity
 * Rule order: lift desc, confidence desc, count desc, shorter antecedent, antecedent lex, consequent.
 */
const HAND_RULES: Array<[number[], number, number, number, number, number, number]> = [
  // antecedent, consequent, support, confidence, lift, leverage, conviction
  [[B, C], D, 0.4, 2 / 3, 5 / 3, 0.16, 1.8],
  [[D], B, 0.4, 1, 1.25, 0.08, Infinity],
  [[D], C, 0.4, 1, 1.25, 0.08, Infinity],
  [[B, D], C, 0.4, 1, 1.25, 0.08, Infinity],
  [[C, D], B, 0.4, 1, 1.25, 0.08, Infinity],
  [[B], D, 0.4, 0.5, 1.25, 0.08, 1.2],
  [[C], D, 0.4, 0.5, 1.25, 0.08, 1.2],
  [[A], B, 0.6, 0.75, 0.9375, -0.04, 0.8],
  [[A], C, 0.6, 0.75, 0.9375, -0.04, 0.8],
  [[B], A, 0.6, 0.75, 0.9375, -0.04, 0.8],
  [[B], C, 0.6, 0.75, 0.9375, -0.04, 0.8],
  [[C], A, 0.6, 0.75, 0.9375, -0.04, 0.8],
  [[C], B, 0.6, 0.75, 0.9375, -0.04, 0.8],
  [[A, B], C, 0.4, 2 / 3, 5 / 6, -0.08, 0.6],
  [[A, C], B, 0.4, 2 / 3, 5 / 6, -0.08, 0.6],
  [[B, C], A, 0.4, 2 / 3, 5 / 6, -0.08, 0.6],
];

function expectRule(actual: AssociationRule, expected: (typeof HAND_RULES)[number]): void {
  const [antecedent, consequent, support, confidence, lift, leverage, conviction] = expected;
  expect(actual.antecedent).toEqual(antecedent);
  expect(actual.consequent).toBe(consequent);
  expect(actual.support).toBeCloseTo(support, 12);
  expect(actual.confidence).toBeCloseTo(confidence, 12);
  expect(actual.lift).toBeCloseTo(lift, 12);
  expect(actual.leverage).toBeCloseTo(leverage, 12);
  if (conviction === Infinity) expect(actual.conviction).toBe(Infinity);
  else expect(actual.conviction).toBeCloseTo(conviction, 12);
}

describe('mineItemsets / generateRules on hand data', () => {
  it('finds every frequent itemset with its count', async () => {
    const sets = await mineItemsets(handTransactions(), { minCount: 2 });
    expect(sets.size).toBe(11);
    expect(sets.lengthHistogram()).toEqual([0, 4, 5, 2]);
    const { ptr, items, count } = sets.toArrays();
    const got = Array.from(count, (c, k) => [Array.from(items.subarray(ptr[k], ptr[k + 1])), c]);
    // by length, then count descending, then items
    expect(got).toEqual([
      [[A], 4], [[B], 4], [[C], 4], [[D], 2],
      [[A, B], 3], [[A, C], 3], [[B, C], 3], [[B, D], 2], [[C, D], 2],
      [[A, B, C], 2], [[B, C, D], 2],
    ]);
    expect(sets.count([C, B])).toBe(3);
    expect(sets.count([D, B, C])).toBe(2);
    expect(sets.count([A, D])).toBe(0);
    expect(sets.count([A, B, C, D])).toBe(0);
    expect(sets.itemCount).toEqual(Int32Array.from([4, 4, 4, 2]));
  });

  it('computes every rule and measure, in rule order', async () => {
    const rules = await generateRules(await mineItemsets(handTransactions(), { minCount: 2 }));
    expect(rules.size).toBe(HAND_RULES.length);
    rules.toArray().forEach((r, k) => expectRule(r, HAND_RULES[k]));
    expect(rules.lengthHistogram()).toEqual([0, 0, 10, 6]);
  });

  it('applies confidence, lift, length and count thresholds', async () => {
    const sets = await mineItemsets(handTransactions(), { minCount: 2 });
    // confidence exactly 0.75 stays in (>=), 2/3 goes.
    expect((await generateRules(sets, { minConfidence: 0.75 })).size).toBe(4 + 6);
    expect((await generateRules(sets, { minConfidence: 1 })).size).toBe(4);
    expect((await generateRules(sets, { minLift: 1.25 })).size).toBe(7);
    expect((await generateRules(sets, { maxRules: 3 })).toArray().map((r) => r.consequent)).toEqual([D, B, C]);
    // By confidence: 1 (count 2; shorter antecedents first), 0.75, 2/3 (antecedents lexicographic), 0.5.
    const byConfidence = (await generateRules(sets, { sortBy: 'confidence' })).toArray();
    expect(byConfidence.map((r) => `${r.antecedent.join('')}>${r.consequent}`)).toEqual([
      '3>1', '3>2', '13>2', '23>1',
      '0>1', '0>2', '1>0', '1>2', '2>0', '2>1',
      '01>2', '02>1', '12>0', '12>3',
      '1>3', '2>3',
    ]);
    // Added value (confidence - s(y)) happens to give the lift order here: 4/15, 0.2, 0.1, -0.05, -2/15.
    expect((await generateRules(sets, { sortBy: 'addedValue' })).toArray()).toEqual((await generateRules(sets)).toArray());
    const pairs = await mineItemsets(handTransactions(), { minCount: 2, maxLength: 2 });
    expect(pairs.lengthHistogram()).toEqual([0, 4, 5]);
    expect((await generateRules(pairs)).size).toBe(10);
    expect((await mineItemsets(handTransactions(), { minCount: 3 })).lengthHistogram()).toEqual([0, 3, 3]);
    // 0.5 * 5 = 2.5 -> 3 baskets; minCount wins when larger.
    expect((await mineItemsets(handTransactions(), { minSupport: 0.5 })).minCount).toBe(3);
    expect((await mineItemsets(handTransactions(), { minSupport: 0.5, minCount: 4 })).minCount).toBe(4);
  });

  it('stops before a length whose candidates pass maxItemsets, and says so', async () => {
    // 4 items + 5 pairs = 9 itemsets; the 2 triple candidates (ABC, BCD) fit a budget of 11, not 10.
    const capped = await mineItemsets(handTransactions(), { minCount: 2, maxItemsets: 10 });
    expect(capped.size).toBe(9);
    expect(capped.truncatedAt).toBe(3);
    const fits = await mineItemsets(handTransactions(), { minCount: 2, maxItemsets: 11 });
    expect(fits.size).toBe(11);
    expect(fits.truncatedAt).toBeNull();
    await expect(mineItemsets(handTransactions(), { minCount: 2, maxItemsets: 0 })).rejects.toThrow(OptionError);

    const messages: string[] = [];
    const rules = new AssociationRules({ minCount: 2, minConfidence: 0, minLift: 0, maxItemsets: 10 });
    await rules.fit(handDataset(), { onProgress: (p) => p.message && messages.push(p.message) });
    expect(rules.truncatedAt).toBe(3);
    expect(messages.some((m) => m.includes('itemsets of 3+ items not mined'))).toBe(true);
    expect(rules.rules().every((r) => r.antecedent.length === 1)).toBe(true);
    const w = new ArtifactWriter();
    const state = rules.save(w.scope('rules'));
    const r = ArtifactReader.open(w.toBytes(state));
    expect(AssociationRules.load(r.root as JsonObject, r.scope('rules')).truncatedAt).toBe(3);
  });

  it('counts an item repeated within a basket once', async () => {
    const tx = { ptr: Int32Array.from([0, 4, 6]), items: Int32Array.from([1, 0, 1, 1, 0, 1]), nItems: 2 };
    const sets = await mineItemsets(tx, { minCount: 1 });
    expect(sets.itemCount).toEqual(Int32Array.from([2, 2]));
    expect(sets.count([0, 1])).toBe(2);
    expect((await generateRules(sets)).toArray().map((r) => r.confidence)).toEqual([1, 1]);
  });

  it('uses the arules support threshold ceil(n * minSupport)', async () => {
    expect(supportThreshold(9835, 0.001, 1)).toBe(10);
    expect(supportThreshold(1000, 0.001, 1)).toBe(1);
    expect(supportThreshold(1000, 0, 1)).toBe(1);
    expect(supportThreshold(1000, 0.001, 5)).toBe(5);
  });
});

/** All itemsets of up to maxLength distinct items, counted by enumerating every basket's subsets. */
function bruteForce(tx: Transactions, minCount: number, maxLength: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let t = 0; t + 1 < tx.ptr.length; t++) {
    const items = [...new Set(tx.items.subarray(tx.ptr[t], tx.ptr[t + 1]))].sort((a, b) => a - b);
    const rec = (start: number, chosen: number[]): void => {
      for (let i = start; i < items.length; i++) {
        const next = [...chosen, items[i]];
        const key = next.join(',');
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (next.length < maxLength) rec(i + 1, next);
      }
    };
    rec(0, []);
  }
  for (const [k, c] of counts) if (c < minCount) counts.delete(k);
  return counts;
}

function randomTransactions(seed: number, nTx: number, nItems: number, maxLen: number): Transactions {
  const rng = mulberry32(seed);
  const ptr = [0];
  const items: number[] = [];
  for (let t = 0; t < nTx; t++) {
    const len = 1 + Math.floor(rng() * maxLen);
    // Skewed item popularity so that deep itemsets exist; repeats within a basket on purpose.
    for (let k = 0; k < len; k++) items.push(Math.floor(nItems * rng() * rng()));
    ptr.push(items.length);
  }
  return { ptr: Int32Array.from(ptr), items: Int32Array.from(items), nItems };
}

describe('miner against brute force', () => {
  for (const [seed, minCount, maxLength] of [[1, 3, 4], [2, 2, 3], [3, 5, 10], [4, 1, 2]] as const) {
    it(`seed ${seed}: minCount ${minCount}, maxLength ${maxLength}`, async () => {
      const tx = randomTransactions(seed, 80, 14, 8);
      const expected = bruteForce(tx, minCount, maxLength);
      const sets = await mineItemsets(tx, { minCount, maxLength });
      const { ptr, items, count } = sets.toArrays();
      const got = new Map<string, number>();
      for (let k = 0; k < count.length; k++) got.set(Array.from(items.subarray(ptr[k], ptr[k + 1])).join(','), count[k]);
      expect(got).toEqual(expected);
      // Pairs counted item by item, or in several passes of 20 counters: the same sets.
      expect((await mineItemsets(tx, { minCount, maxLength, pairCounters: 0 })).toArrays()).toEqual(sets.toArrays());
      expect((await mineItemsets(tx, { minCount, maxLength, pairCounters: 20 })).toArrays()).toEqual(sets.toArrays());

      // Rules: every (Z \ {y}) -> y with the brute-force counts.
      const minConfidence = 0.3;
      const expectedRules = new Map<string, number>();
      for (const [key, c] of expected) {
        const z = key.split(',').map(Number);
        if (z.length < 2) continue;
        for (const y of z) {
          const x = z.filter((i) => i !== y);
          const conf = c / expected.get(x.join(','))!;
          if (conf >= minConfidence) expectedRules.set(`${x.join(',')}->${y}`, conf);
        }
      }
      const rules = await generateRules(sets, { minConfidence });
      const gotRules = new Map(rules.toArray().map((r) => [`${r.antecedent.join(',')}->${r.consequent}`, r.confidence]));
      expect(gotRules).toEqual(expectedRules);
      for (let r = 1; r < rules.size; r++) expect(rules.lift[r - 1]).toBeGreaterThanOrEqual(rules.lift[r]);
    });
  }
});

function scores(model: AssociationRules, query: Query, nItems: number): number[] {
  const v = new ScoreVector(nItems);
  model.score(query, v);
  return Array.from(v.values);
}

const EXACT = { minSupport: 0, minCount: 2, minConfidence: 0, minLift: 0, maxRules: Infinity } as const;

describe('AssociationRules strategy', () => {
  it('fits the same rules from a Dataset', async () => {
    const data = handDataset();
    expect(itemIdx(data, 'A', 'B', 'C', 'D')).toEqual(Int32Array.from([A, B, C, D]));
    const model = new AssociationRules(EXACT);
    expect(model.fitted).toBe(false);
    await model.fit(data);
    expect(model.fitted).toBe(true);
    model.rules().forEach((r, k) => expectRule(r, HAND_RULES[k]));
    expect(model.itemsets().map((s) => s.items)).toEqual([[A], [B], [C], [D], [A, B], [A, C], [B, C], [B, D], [C, D], [A, B, C], [B, C, D]]);
    expect(model.itemsets()[3]).toEqual({ items: [D], count: 2, support: 0.4 });
  });

  it('scores consequents of rules whose antecedent the shopper has (max / sum / noisy-or)', async () => {
    const data = handDataset();
    const query = anonymousQuery([], [B, C]);
    // Rules that fire on {B, C}: B->A .75, B->C .75, B->D .5, C->A .75, C->B .75, C->D .5, BC->A 2/3, BC->D 2/3.
    const max = new AssociationRules({ ...EXACT, ruleWeighting: 'confidence' });
    await max.fit(data);
    const f = Math.fround;
    expect(scores(max, query, 4)).toEqual([f(0.75), f(0.75), f(0.75), f(2 / 3)]);
    const sum = new AssociationRules({ ...EXACT, ruleWeighting: 'confidence', combine: 'sum' });
    await sum.fit(data);
    const s = scores(sum, query, 4);
    expect(s[A]).toBeCloseTo(0.75 + 0.75 + 2 / 3, 6);
    expect(s[D]).toBeCloseTo(0.5 + 0.5 + 2 / 3, 6);
    const noisy = new AssociationRules({ ...EXACT, ruleWeighting: 'confidence', combine: 'noisyOr' });
    await noisy.fit(data);
    expect(scores(noisy, query, 4)[D]).toBeCloseTo(1 - 0.5 * 0.5 * (1 / 3), 6);
    // Added value: w = confidence - s(y). D: BC->D 2/3 - 0.4 beats B->D 0.5 - 0.4; A: 0.75 - 0.8 < 0.
    const av = new AssociationRules(EXACT);
    await av.fit(data);
    const a = scores(av, query, 4);
    expect(a[D]).toBeCloseTo(2 / 3 - 0.4, 6);
    expect(a[A]).toBeCloseTo(0.75 - 0.8, 6);
  });

  it('touches only rule consequents and leaves no marks behind', async () => {
    const model = new AssociationRules({ ...EXACT, ruleWeighting: 'confidence' });
    await model.fit(handDataset());
    const v = new ScoreVector(4);
    model.score(anonymousQuery([], [D]), v);
    // D->B, D->C only.
    expect(v.length).toBe(2);
    expect([v.at(0), v.at(1)].sort()).toEqual([B, C]);
    v.reset();
    model.score(anonymousQuery([], [A]), v);
    expect(Array.from(v.values)).toEqual([0, 0.75, 0.75, 0]);
    v.reset();
    model.score(anonymousQuery([], []), v);
    expect(v.length).toBe(0);
  });

  it('reads the basket, the history or both', async () => {
    const query = anonymousQuery([D], [B]);
    const run = async (source: 'both' | 'basket' | 'history') => {
      const m = new AssociationRules({ ...EXACT, ruleWeighting: 'confidence', source });
      await m.fit(handDataset());
      return scores(m, query, 4);
    };
    // both {B, D}: C via BD->C and D->C = 1; basket {B}: C via B->C = .75; history {D}: C via D->C = 1, no A.
    expect((await run('both'))[C]).toBe(1);
    expect((await run('basket'))[C]).toBe(0.75);
    const h = await run('history');
    expect(h[C]).toBe(1);
    expect(h[A]).toBe(0);
  });

  it('explains with the strongest rule', async () => {
    const model = new AssociationRules({ ...EXACT, ruleWeighting: 'confidence' });
    await model.fit(handDataset());
    const query = anonymousQuery([], [B, C]);
    const e = model.explain(query, D, (i) => ['Pasta', 'Tomatoes', 'Basil', 'Pasta Sauce'][i])!;
    expect(e.reason).toBe('bought Tomatoes and Basil -> Pasta Sauce (confidence 0.67, lift 1.7)');
    expect(e.evidence).toEqual([{ item: B, weight: 2 / 3 }, { item: C, weight: 2 / 3 }]);
    expect(e.score).toBeCloseTo(2 / 3, 12);
    expect(model.explain(anonymousQuery([], [A]), D, String)).toBeNull();
    // abc->d (confidence 2/2) outranks ab->d (2/3) and a->d (2/4): lift 1 / (2/5) = 2.5.
    const three = basketsDataset({ u: [['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd'], ['a', 'b'], ['a', 'c'], ['b', 'c']] });
    const m3 = new AssociationRules({ ...EXACT, maxLength: 4, ruleWeighting: 'confidence' });
    await m3.fit(three);
    expect(m3.explain(anonymousQuery([], [0, 1, 2]), 3, (i) => 'abcd'[i])!.reason).toBe('bought a, b and c -> d (confidence 1.00, lift 2.5)');
  });

  it('round-trips through an artifact with identical scores', async () => {
    const data = basketsDataset(
      Object.fromEntries(
        Array.from({ length: 40 }, (_, u) => {
          const rng = mulberry32(100 + u);
          return [`u${u}`, Array.from({ length: 3 }, () => Array.from({ length: 2 + Math.floor(rng() * 5) }, () => `i${Math.floor(12 * rng() * rng())}`))];
        }),
      ),
    );
    for (const combine of ['max', 'sum', 'noisyOr'] as const) {
      const model = new AssociationRules({ minCount: 3, combine, maxRules: 50 });
      await model.fit(data);
      expect(model.rules().length).toBeGreaterThan(10);
      const w = new ArtifactWriter();
      const state = model.save(w.scope('x'));
      const r = ArtifactReader.open(w.toBytes(state));
      const again = await AssociationRules.load(r.root as JsonObject, r.scope('x'));
      expect(again.options).toEqual(model.options);
      expect(again.rules()).toEqual(model.rules());
      expect(() => again.itemsets()).toThrow(/not kept in artifacts/);
      for (let u = 0; u < 40; u++) {
        const rng = mulberry32(u);
        const q = anonymousQuery(Array.from({ length: 5 }, () => Math.floor(rng() * data.nItems)), [Math.floor(rng() * data.nItems)]);
        expect(scores(again, q, data.nItems)).toEqual(scores(model, q, data.nItems));
        const item = Math.floor(rng() * data.nItems);
        expect(again.explain(q, item, String)).toEqual(model.explain(q, item, String));
      }
    }
    const all = new AssociationRules({ maxRules: Infinity, minCount: 2 });
    await all.fit(data);
    const w = new ArtifactWriter();
    const r = ArtifactReader.open(w.toBytes(all.save(w.scope('x'))));
    expect((await AssociationRules.load(r.root as JsonObject, r.scope('x'))).options.maxRules).toBe(Infinity);
  });

  it('mines user histories when the dataset has no baskets', async () => {
    const users = new IdIndex(['u1', 'u2', 'u3']);
    const items = new IdIndex(['x', 'y', 'z']);
    const data = Dataset.fromInteractions({
      users,
      items,
      user: Int32Array.from([0, 0, 1, 1, 2]),
      item: Int32Array.from([0, 1, 0, 1, 2]),
    });
    const model = new AssociationRules({ ...EXACT, minCount: 2 });
    await model.fit(data);
    expect(model.rules().map((r) => [r.antecedent, r.consequent, r.confidence])).toEqual([
      [[0], 1, 1],
      [[1], 0, 1],
    ]);
  });

  it('validates options, queries and state', async () => {
    expect(() => new AssociationRules({ minSupport: NaN })).toThrow(OptionError);
    expect(() => new AssociationRules({ minSupport: 1.5 })).toThrow(OptionError);
    expect(() => new AssociationRules({ minCount: 0 })).toThrow(OptionError);
    expect(() => new AssociationRules({ minCount: 2.5 })).toThrow(OptionError);
    expect(() => new AssociationRules({ minConfidence: -0.1 })).toThrow(OptionError);
    expect(() => new AssociationRules({ minLift: Infinity })).toThrow(OptionError);
    expect(() => new AssociationRules({ maxLength: 1 })).toThrow(/maxLength/);
    expect(() => new AssociationRules({ maxRules: 0 })).toThrow(OptionError);
    expect(() => new AssociationRules({ source: 'cart' as never })).toThrow(/source/);
    expect(() => new AssociationRules({ combine: 'mean' as never })).toThrow(/combine/);
    expect(() => new AssociationRules({ ruleWeighting: 'lift' as never })).toThrow(/ruleWeighting/);
    expect(() => new AssociationRules({ minsupport: 0.1 } as never)).toThrow(/unknown/);
    expect(new AssociationRules({ minLift: undefined }).options.minLift).toBe(1);
    await expect(mineItemsets(handTransactions(), {})).rejects.toThrow(OptionError);
    await expect(mineItemsets(handTransactions(), { minCount: 1, pairCounters: NaN })).rejects.toThrow(/pairCounters/);
    await expect(mineItemsets({ ptr: Int32Array.from([0, 2]), items: Int32Array.from([0, 7]), nItems: 4 }, { minCount: 1 })).rejects.toThrow(DataError);
    await expect(generateRules(await mineItemsets(handTransactions(), { minCount: 2 }), { minConfidence: 2 })).rejects.toThrow(OptionError);
    await expect(generateRules(await mineItemsets(handTransactions(), { minCount: 2 }), { sortBy: 'support' as never })).rejects.toThrow(/sortBy/);

    const model = new AssociationRules(EXACT);
    expect(() => model.score(anonymousQuery([], [A]), new ScoreVector(4))).toThrow(NotFittedError);
    expect(() => model.rules()).toThrow(NotFittedError);
    await model.fit(handDataset());
    expect(() => model.score(anonymousQuery([], [9]), new ScoreVector(4))).toThrow(/item index 9 out of range/);
    // A failed query leaves no stale marks: B alone still fires only B's rules.
    expect(() => model.score(anonymousQuery([], [D, 9]), new ScoreVector(4))).toThrow(OptionError);
    const v = new ScoreVector(4);
    model.score(anonymousQuery([], [B]), v);
    expect(v.length).toBe(3);

    const w = new ArtifactWriter();
    const state = model.save(w.scope('x'));
    const r = ArtifactReader.open(w.toBytes(state));
    await expect(async () => AssociationRules.load({ ...state, nItems: 7 }, r.scope('x'))).rejects.toThrow(/has 4 entries, expected 7 \(section "x\/itemCount", field "length"\)/);
    await expect(async () => AssociationRules.load({ ...state, options: { ...(state.options as JsonObject), combine: 'x' } }, r.scope('x'))).rejects.toThrow(/bad option in artifact: AssociationRules.combine/);
  });

  it('reports progress while fitting', async () => {
    const stages = new Set<string>();
    const model = new AssociationRules(EXACT);
    await model.fit(handDataset(), { onProgress: (p) => stages.add(p.stage) });
    expect([...stages]).toEqual(['mine itemsets', 'generate rules']);
  });
});

describe('AssociationRules on synthetic baskets with planted complements', () => {
  it('finds every planted pair and ranks the partner of a one-item basket in the top 3', async () => {
    const { tables, truth } = generateGroceryWithTruth({ users: 400, products: 400, seed: 7 });
    const data = datasetFromInstacart(tables).dataset;
    const model = new AssociationRules();
    await model.fit(data);
    const single = new Set(model.rules().filter((r) => r.antecedent.length === 1).map((r) => `${r.antecedent[0]}>${r.consequent}`));
    const v = new ScoreVector(data.nItems);
    const name = (i: number) => data.catalog.name[i];
    expect(truth.complements.length).toBeGreaterThanOrEqual(4);
    for (const [a, b] of truth.complements) {
      for (const [x, y] of [[a, b], [b, a]].map((pair) => pair.map((id) => data.items.indexOf(String(id))))) {
        expect(single.has(`${x}>${y}`)).toBe(true);
        v.reset();
        const query = anonymousQuery([], [x]);
        model.score(query, v);
        const ranked = Array.from({ length: v.length }, (_, k) => v.at(k)).sort((p, q) => v.values[q] - v.values[p] || p - q);
        expect(ranked.slice(0, 3)).toContain(y);
        expect(model.explain(query, y, name)!.reason.startsWith(`bought ${name(x)} -> ${name(y)} (confidence 0.`)).toBe(true);
      }
    }
  });

  it("explains under 'max' with the best fired rule whatever query came before (explain's per-query memo)", async () => {
    const data = datasetFromInstacart(generateGroceryWithTruth({ users: 400, products: 400, seed: 7 }).tables).dataset;
    const model = new AssociationRules();
    await model.fit(data);
    const rules = model.rules();
    const byConsequent = new Map<number, AssociationRule[]>();
    for (const r of rules) byConsequent.set(r.consequent, [...(byConsequent.get(r.consequent) ?? []), r]);
    // The memo serves items with more than 32 rules: the staples.
    const staples = [...byConsequent].filter(([, list]) => list.length > 32).map(([y]) => y);
    expect(staples.length).toBeGreaterThan(0);
    const name = (i: number) => `#${i}`;
    const rng = mulberry32(5);
    const queries = Array.from({ length: 6 }, () => anonymousQuery(Array.from({ length: 12 }, () => Math.floor(rng() * data.nItems))));
    // A, B, A, C, ...: every query follows a different one, and the first comes back.
    for (const query of [...queries, queries[0], queries[3]]) {
      const have = new Set(query.history.items);
      for (const y of staples) {
        // rules() is in rule order, best weight first: the first that fires is the one explained.
        const best = byConsequent.get(y)!.find((r) => r.antecedent.every((a) => have.has(a)));
        const explained = model.explain(query, y, name);
        if (best === undefined) {
          expect(explained).toBeNull();
          continue;
        }
        expect(explained!.evidence.map((e) => e.item)).toEqual(best.antecedent);
        expect(explained!.reason).toContain(`-> #${y} (confidence ${best.confidence.toFixed(2)}`);
      }
    }
  });

  it('stops mining and rule generation mid-run when the signal fires', async () => {
    const data = datasetFromInstacart(generateGroceryWithTruth({ users: 600, products: 500, seed: 3 }).tables).dataset;
    const tx = { ptr: data.baskets.itemPtr, items: data.baskets.items, nItems: data.nItems };
    // Mining everything down to pairs seen twice, up to 6 items, takes seconds: the timer lands mid-run.
    await expectAbortMidRun((signal) => mineItemsets(tx, { minCount: 2, maxLength: 6, signal }), /itemset mining was aborted/);
    const sets = await mineItemsets(tx, { minCount: 3, maxLength: 4 });
    await expectAbortMidRun((signal) => generateRules(sets, { signal }), /rule generation was aborted/);
    await expectAbortMidRun((signal) => new AssociationRules({ minCount: 2, minSupport: 0, maxLength: 6 }).fit(data, { signal }), /was aborted/);
  });
});
