import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { evaluate } from '../src/eval/evaluate';
import { nextBasketFixed } from '../src/eval/splits';
import { AbortedError, NotFittedError, OptionError } from '../src/errors';
import { loadNbrJson } from '../src/node/tafeng';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { TIFUKNN } from '../src/strategies/tifu-knn';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { TopK } from '../src/util/topk';
import { mulberry32 } from '../src/util/random';
import { basketsDataset, itemIdx } from './fixtures';

function scoresOf(model: TIFUKNN, nItems: number, q: Query): Float64Array {
  const out = new ScoreVector(nItems);
  model.score(q, out);
  return Float64Array.from(out.values);
}

describe('TIFU-KNN vectors (the authors\' construction)', () => {
  const data = basketsDataset({ u1: [['A'], ['A', 'B'], ['C']], u2: [['A'], ['B']] });
  const [A, B, C] = itemIdx(data, 'A', 'B', 'C');

  it('splits n >= m baskets into m groups, the later groups one basket longer', async () => {
    const t = new TIFUKNN({ alpha: 1, withinDecay: 0.5, groupDecay: 0.5, groups: 2, neighbors: 1 });
    await t.fit(data);
    // group 0 = [A] (weight 0.5^2), group 1 = mean of [A, B] (0.5) and [C] (1); group weights 0.5, 1; / 2 groups.
    const s = scoresOf(t, data.nItems, userQuery(data, 0));
    expect(s[A]).toBeCloseTo((0.25 * 0.5 + 0.25) / 2, 6);
    expect(s[B]).toBeCloseTo(0.25 / 2, 6);
    expect(s[C]).toBeCloseTo(0.5 / 2, 6);
  });

  it('keeps one basket per group below m, with the group decay counted from m', async () => {
    const t = new TIFUKNN({ alpha: 1, withinDecay: 0.5, groupDecay: 0.5, groups: 3, neighbors: 1 });
    await t.fit(data);
    const s = scoresOf(t, data.nItems, userQuery(data, 1));
    expect(s[A]).toBeCloseTo((0.5 * 0.25) / 2, 6);
    expect(s[B]).toBeCloseTo((1 * 0.5) / 2, 6);
    // A current basket counts as the newest basket; a history without baskets as one basket.
    const withCart = scoresOf(t, data.nItems, { ...userQuery(data, 1), basket: Int32Array.of(C) });
    expect(withCart[C]).toBeCloseTo(1 / 3, 6); // n = m = 3: one basket per group, the newest weighs r_g^0 r_b^0
    const flat = scoresOf(t, data.nItems, anonymousQuery([A, B, B]));
    expect(flat[A]).toBeCloseTo(0.25, 6);
    expect(flat[B]).toBeCloseTo(0.25, 6);
  });
});

describe('TIFU-KNN neighbors', () => {
  // 60 shoppers with 2-6 random baskets over 30 items.
  const rng = mulberry32(4);
  const users: Record<string, string[][]> = {};
  for (let u = 0; u < 60; u++) {
    users[`s${u}`] = Array.from({ length: 2 + Math.floor(rng() * 5) }, () => Array.from({ length: 1 + Math.floor(rng() * 4) }, () => `i${Math.floor(30 * rng() * rng())}`));
  }
  const data = basketsDataset(users);

  it('blends alpha * own vector with the mean of the k nearest (Euclidean, exact) vectors', async () => {
    const k = 5;
    const own = new TIFUKNN({ alpha: 1 });
    await own.fit(data);
    const vectors = Array.from({ length: data.nUsers }, (_, u) => scoresOf(own, data.nItems, userQuery(data, u)));
    const t = new TIFUKNN({ alpha: 0.3, neighbors: k });
    await t.fit(data);
    for (const q of [userQuery(data, 3), anonymousQuery([0, 1, 5]), userQuery(data, 17)]) {
      const v = scoresOf(own, data.nItems, q);
      const heap = new TopK(k);
      vectors.forEach((w, u) => heap.push(u, -Math.sqrt(w.reduce((s, x, i) => s + (x - v[i]) ** 2, 0))));
      const nearest = heap.sorted().items;
      const expected = v.map((x, i) => 0.3 * x + (0.7 / k) * Array.from(nearest).reduce((s, u) => s + vectors[u][i], 0));
      const got = scoresOf(t, data.nItems, q);
      for (let i = 0; i < data.nItems; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    }
    // A known shopper is their own nearest neighbor; the explanation counts the neighbors with the item.
    const e = t.explain(userQuery(data, 3), itemIdx(data, data.items.id(userQuery(data, 3).history.items[0]))[0], String)!;
    expect(e.evidence.length).toBe(1);
    expect(e.reason).toMatch(/you bought .* before.*of the 5 shoppers/);
  });

  it('round-trips to identical scores and refuses a save without customer data', async () => {
    const t = new TIFUKNN({ neighbors: 7, groups: 3 });
    await t.fit(data);
    const w = new ArtifactWriter();
    const state = t.save(w.scope('t'));
    const r = ArtifactReader.open(w.toBytes(state));
    const back = TIFUKNN.load(r.root as JsonObject, r.scope('t'));
    for (const q of [userQuery(data, 9), anonymousQuery([2, 2, 4], [7])]) expect(scoresOf(back, data.nItems, q)).toEqual(scoresOf(t, data.nItems, q));
    expect(() => t.save(new ArtifactWriter().scope('t'), { customerData: false })).toThrow(OptionError);
    expect(() => t.save(new ArtifactWriter().scope('t'), { customerData: false })).toThrow(/TIFUKNN/);
  });

  it('reports progress, stops when a timer aborts it, and rejects bad input', async () => {
    const big: Record<string, string[][]> = {};
    const r = mulberry32(9);
    for (let u = 0; u < 40000; u++) big[`b${u}`] = Array.from({ length: 3 }, () => [`i${Math.floor(r() * 500)}`, `i${Math.floor(r() * 500)}`]);
    const bigData = basketsDataset(big);
    // Aborted from its own first progress report: mid-run whatever the machine's speed (a 15 ms
    // timer let a fast machine finish the fit first).
    const controller = new AbortController();
    const slow = new TIFUKNN();
    const stages: string[] = [];
    const onProgress = (p: { stage: string }) => {
      stages.push(p.stage);
      controller.abort();
    };
    await expect(slow.fit(bigData, { signal: controller.signal, onProgress })).rejects.toThrow(AbortedError);
    expect(slow.fitted).toBe(false);
    expect(stages).toContain('TIFU-KNN vectors');
    expect(() => new TIFUKNN({ withinDecay: 0 })).toThrow(OptionError);
    expect(() => new TIFUKNN({ neighbours: 3 } as never)).toThrow(/did you mean "neighbors"/);
    expect(() => new TIFUKNN().score(anonymousQuery([0]), new ScoreVector(3))).toThrow(NotFittedError);
    const t = new TIFUKNN();
    await t.fit(data);
    expect(() => t.score(anonymousQuery([data.nItems]), new ScoreVector(data.nItems))).toThrow(OptionError);
    // The checks of src/strategies/checks.ts, as every strategy runs them: named strategy and argument.
    expect(() => t.score(anonymousQuery([0], [data.nItems]), new ScoreVector(data.nItems))).toThrow(/^TIFUKNN: query.basket\[0\]: item index \d+ out of range/);
    const timeline = { itemPtr: Int32Array.of(0, 1), items: Int32Array.of(-4), day: Float64Array.of(0) };
    expect(() => t.score({ ...anonymousQuery([0]), timeline }, new ScoreVector(data.nItems))).toThrow(/^TIFUKNN: query.timeline.items\[0\]/);
    expect(() => t.score(anonymousQuery([0]), new ScoreVector(data.nItems + 2))).toThrow(/^TIFUKNN: out: ScoreVector has \d+ items, the model \d+/);
    expect(() => t.explain(anonymousQuery([0]), data.nItems, String)).toThrow(/^TIFUKNN.explain: item/);
    await expect(t.fit({} as never)).rejects.toThrow(/^TIFUKNN.fit: data must be a Dataset, got an object/);
  });
});

const TAFENG = join(__dirname, '../../shared/data/tafeng');
describe.skipIf(!existsSync(TAFENG))('TIFU-KNN on P6 (real TaFeng, ../shared/data/tafeng)', () => {
  it('reproduces the split counts and the published recall@20 of 0.2130 within 0.003', async () => {
    const { test } = nextBasketFixed(await loadNbrJson(TAFENG, 'tafeng'));
    expect(test.stats).toMatchObject({ users: 10182, trainBaskets: 72205, trainBasketNonzeros: 439137, catalog: 12039, queries: 5091, heldOut: 33394, heldOutUnseen: 1972 });
    expect(test.queries.slice(0, 5).map((q) => q.id)).toEqual(['8194', '8195', '8196', '8197', '8198']);
    const t = new TIFUKNN({ neighbors: 300, withinDecay: 0.9, groupDecay: 0.9, alpha: 0.1, groups: 11 });
    await t.fit(test.train);
    const ranker = { rankIndices: (q: Query, k: number) => {
      const s = new ScoreVector(test.train.nItems);
      t.score(q, s);
      const heap = new TopK(k);
      for (let i = 0; i < s.length; i++) heap.push(s.at(i), s.values[s.at(i)]);
      return heap.sorted().items;
    } };
    const r = await evaluate(ranker, test, { k: 20 });
    expect(Math.abs(r.recall - 0.213)).toBeLessThan(0.003);
  }, 60_000);
});
