import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { AbortedError, NotFittedError, OptionError } from '../src/errors';
import { ItemKNN } from '../src/strategies/item-knn';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { Dataset } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGroceryWithTruth } from '../src/data/synthetic';
import { Popularity } from '../src/strategies/popularity';
import { mulberry32 } from '../src/util/random';
import { TopK } from '../src/util/topk';
import { basketsDataset, itemIdx } from './fixtures';

// Buyer vectors over users (u1, u2, u3, u4): A = (1, 1, 0, 2), B = (1, 1, 1, 0), C = (0, 1, 1, 0).
const data = basketsDataset(
  {
    u1: [['A', 'B']],
    u2: [['A', 'B', 'C']],
    u3: [['B', 'C']],
    u4: [['A'], ['A']],
  },
  { catalog: { A: { name: 'Greek Yogurt' }, B: { name: 'Granola' }, C: { name: 'Blueberries' } } },
);
const [A, B, C] = itemIdx(data, 'A', 'B', 'C');

function scores(model: ItemKNN, query: Query): Map<number, number> {
  const out = new ScoreVector(data.nItems);
  model.score(query, out);
  const m = new Map<number, number>();
  for (let i = 0; i < out.length; i++) m.set(out.at(i), out.values[out.at(i)]);
  return m;
}

function sim(model: ItemKNN, a: number, b: number): number {
  return model.neighborMatrix.get(a, b);
}

describe('ItemKNN similarities', () => {
  it('computes exact binary cosine, with and without shrinkage', async () => {
    const knn = new ItemKNN({ weighting: 'binary', shrink: 0 });
    await knn.fit(data);
    expect(sim(knn, A, B)).toBeCloseTo(2 / 3, 6);
    expect(sim(knn, B, A)).toBeCloseTo(2 / 3, 6);
    expect(sim(knn, A, C)).toBeCloseTo(1 / Math.sqrt(6), 6);
    expect(sim(knn, B, C)).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(sim(knn, A, A)).toBe(0);

    const shrunk = new ItemKNN({ weighting: 'binary', shrink: 1 });
    await shrunk.fit(data);
    expect(sim(shrunk, A, B)).toBeCloseTo(2 / (3 + 1), 6);
    expect(sim(shrunk, B, C)).toBeCloseTo(2 / (Math.sqrt(6) + 1), 6);
  });

  it('computes exact cosine on counts and log1p counts', async () => {
    const count = new ItemKNN({ weighting: 'count', shrink: 0 });
    await count.fit(data);
    expect(sim(count, A, B)).toBeCloseTo(2 / Math.sqrt(6 * 3), 6);
    expect(sim(count, A, C)).toBeCloseTo(1 / Math.sqrt(6 * 2), 6);

    const log = new ItemKNN({ weighting: 'log1p', shrink: 0 });
    await log.fit(data);
    const l2 = Math.log(2);
    const l3 = Math.log(3);
    expect(sim(log, A, B)).toBeCloseTo((2 * l2 * l2) / (Math.sqrt(2 * l2 * l2 + l3 * l3) * Math.sqrt(3) * l2), 6);
  });

  it('computes BM25-weighted cosine', async () => {
    const knn = new ItemKNN({ weighting: 'bm25', shrink: 0, bm25K1: 1.2, bm25B: 0.75 });
    await knn.fit(data);
    // Item lengths (total purchases): A 4, B 3, C 2, mean 3. Users' distinct items: 2, 3, 2, 1.
    const idf = (nu: number) => Math.log(1 + (3 - nu + 0.5) / (nu + 0.5));
    const w = (tf: number, nu: number, len: number) => (idf(nu) * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * len) / 3));
    const a = [w(1, 2, 4), w(1, 3, 4), 0, w(2, 1, 4)];
    const b = [w(1, 2, 3), w(1, 3, 3), w(1, 2, 3), 0];
    const dot = a[0] * b[0] + a[1] * b[1];
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    expect(sim(knn, A, B)).toBeCloseTo(dot / (norm(a) * norm(b)), 6);
  });

  it('keeps the top neighbours per item and lists similar items best first', async () => {
    const knn = new ItemKNN({ weighting: 'binary', shrink: 0, neighbors: 1 });
    await knn.fit(data);
    const m = knn.neighborMatrix;
    expect([...m.indices.subarray(m.indptr[A], m.indptr[A + 1])]).toEqual([B]);
    expect([...m.indices.subarray(m.indptr[B], m.indptr[B + 1])]).toEqual([C]);

    const all = new ItemKNN({ weighting: 'binary', shrink: 0 });
    await all.fit(data);
    const similar = all.similarItems(B, 5);
    expect([...similar.items]).toEqual([C, A]);
    expect(similar.scores[0]).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(similar.scores[1]).toBeCloseTo(2 / 3, 6);
    expect([...all.similarItems(B, 1).items]).toEqual([C]);
    expect(() => all.similarItems(99, 1)).toThrow(OptionError);
    expect(() => all.similarItems(A, -1)).toThrow(OptionError);
  });

  it('treats a count <= 0 as not bought', async () => {
    const interactions = (user: number[], item: number[], weight: number[]) =>
      Dataset.fromInteractions({
        users: new IdIndex(['u', 'v']),
        items: new IdIndex(['a', 'b']),
        user: Int32Array.from(user),
        item: Int32Array.from(item),
        weight: Float32Array.from(weight),
      });
    const withReturn = interactions([0, 0, 1, 1], [0, 1, 0, 1], [1, -1, 1, 1]);
    const without = interactions([0, 1, 1], [0, 0, 1], [1, 1, 1]);
    for (const weighting of ['binary', 'count', 'log1p', 'bm25'] as const) {
      const a = new ItemKNN({ weighting, shrink: 0 });
      const b = new ItemKNN({ weighting, shrink: 0 });
      await a.fit(withReturn);
      await b.fit(without);
      expect(a.neighborMatrix.get(0, 1), weighting).toBe(b.neighborMatrix.get(0, 1));
      if (weighting !== 'bm25') expect(a.neighborMatrix.get(0, 1), weighting).toBeCloseTo(1 / Math.SQRT2, 6);
    }
  });

  it('drops neighbours with too few common buyers', async () => {
    const knn = new ItemKNN({ weighting: 'binary', shrink: 0, minCount: 2 });
    await knn.fit(data);
    expect(sim(knn, A, B)).toBeCloseTo(2 / 3, 6);
    expect(sim(knn, A, C)).toBe(0);
  });
});

describe('ItemKNN scoring and explanations', () => {
  it('sums weighted similarities over history and basket', async () => {
    const knn = new ItemKNN({ weighting: 'binary', shrink: 0, historyWeighting: 'binary', basketWeight: 2 });
    await knn.fit(data);
    const u3 = userQuery(data, data.users.indexOf('u3'));
    const s = scores(knn, u3);
    expect(s.get(A)).toBeCloseTo(2 / 3 + 1 / Math.sqrt(6), 6);
    expect(s.get(B)).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(s.get(C)).toBeCloseTo(2 / Math.sqrt(6), 6);

    const cart = scores(knn, anonymousQuery([], [A]));
    expect(cart.get(B)).toBeCloseTo((2 * 2) / 3, 6);
    expect(cart.get(C)).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(cart.has(A)).toBe(false);

    const counted = new ItemKNN({ weighting: 'binary', shrink: 0, historyWeighting: 'count' });
    await counted.fit(data);
    expect(scores(counted, anonymousQuery([A, A], [])).get(B)).toBeCloseTo((2 * 2) / 3, 6);
    const logged = new ItemKNN({ weighting: 'binary', shrink: 0, historyWeighting: 'log1p', basketWeight: 0 });
    await logged.fit(data);
    expect(scores(logged, anonymousQuery([A, A], [C])).get(B)).toBeCloseTo((Math.log(3) * 2) / 3, 6);
  });

  it('names the strongest evidence items', async () => {
    const knn = new ItemKNN({ weighting: 'binary', shrink: 0, historyWeighting: 'binary' });
    await knn.fit(data);
    const u3 = userQuery(data, data.users.indexOf('u3'));
    const name = (i: number) => data.catalog.name[i];
    const e = knn.explain(u3, A, name)!;
    expect(e.reason).toBe('often bought with Granola and Blueberries');
    expect(e.evidence.map((x) => x.item)).toEqual([B, C]);
    expect(e.evidence[0].weight).toBeCloseTo(2 / 3, 6);
    const out = new ScoreVector(data.nItems);
    knn.score(u3, out);
    expect(e.score).toBe(out.values[A]);
    expect(knn.explain(anonymousQuery([], [A]), B, name)!.reason).toBe('often bought with Greek Yogurt');
    expect(knn.explain(anonymousQuery([], []), B, name)).toBeNull();
  });

  it('explains every scored item as a binary search per query entry does, short and long histories, repeated and unordered entries included', async () => {
    const shop = datasetFromInstacart(generateGroceryWithTruth({ users: 300, products: 200, seed: 5 }).tables).dataset;
    const knn = new ItemKNN();
    await knn.fit(shop);
    const sims = knn.neighborMatrix;
    const name = (i: number) => String(i);
    // The explanation spelled out: each query entry adds weight x sim(entry, item) to its item's part.
    const reference = (q: Query, item: number) => {
      const part = new Map<number, number>();
      const add = (from: number, w: number) => {
        const s = sims.get(from, item);
        if (s > 0 && w > 0) part.set(from, (part.get(from) ?? 0) + w * s);
      };
      q.history.items.forEach((from, k) => add(from, Math.log1p(q.history.weights[k])));
      q.basket.forEach((from) => add(from, 1));
      const from = [...part].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
      return { score: Math.fround(from.reduce((t, [, w]) => t + w, 0)), evidence: from.slice(0, 3).map(([i, weight]) => ({ item: i, weight })) };
    };
    const rng = mulberry32(9);
    const queries: Query[] = Array.from({ length: 12 }, () => userQuery(shop, Math.floor(rng() * shop.nUsers), Int32Array.of(3, 7, 3)));
    // Short histories against popular items' long columns: explain searches the history's rows
    // instead of walking the column (ItemKNN's SEARCH_READS_PER_PROBE); the longest take the column.
    for (let u = 0; u < 12; u++) queries.push(anonymousQuery(userQuery(shop, u).history.items.subarray(0, 1 + (u % 3)), Int32Array.of(5)));
    const lengths = queries.map((q) => q.history.items.length);
    expect(Math.min(...lengths)).toBe(1);
    expect(Math.max(...lengths)).toBeGreaterThan(20);
    const repeated = userQuery(shop, 1);
    // A history that repeats an item, against the Query contract: each entry still counts.
    queries.push({ ...repeated, history: { items: Int32Array.from([...repeated.history.items, repeated.history.items[0]]), weights: Float32Array.from([...repeated.history.weights, 2]) } });
    // Distinct items out of ascending order (userQuery and anonymousQuery sort them): the same parts.
    queries.push({ ...repeated, history: { items: repeated.history.items.slice().reverse(), weights: repeated.history.weights.slice().reverse() } });
    let explained = 0;
    for (const q of queries) {
      const out = new ScoreVector(shop.nItems);
      knn.score(q, out);
      for (let t = 0; t < out.length; t++) {
        const item = out.at(t);
        const e = knn.explain(q, item, name)!;
        expect({ score: e.score, evidence: e.evidence }).toEqual(reference(q, item));
        explained++;
      }
    }
    expect(explained).toBeGreaterThan(500);
  });

  it('rejects bad options, bad queries and use before fit', async () => {
    for (const bad of [
      { neighbors: 0 },
      { neighbors: 2.5 },
      { shrink: -1 },
      { shrink: NaN },
      { bm25B: 2 },
      { bm25K1: Infinity },
      { minCount: 0 },
      { basketWeight: -1 },
      { weighting: 'tfidf' as never },
      { historyWeighting: 'bm25' as never },
    ]) {
      expect(() => new ItemKNN(bad)).toThrow(OptionError);
    }
    const knn = new ItemKNN();
    expect(knn.fitted).toBe(false);
    expect(() => knn.score(anonymousQuery([A]), new ScoreVector(data.nItems))).toThrow(NotFittedError);
    await knn.fit(data);
    expect(knn.fitted).toBe(true);
    expect(() => knn.score(anonymousQuery([7]), new ScoreVector(data.nItems))).toThrow(OptionError);
    expect(() => knn.score(anonymousQuery([A]), new ScoreVector(data.nItems + 1))).toThrow(OptionError);
  });

  it('round-trips through the artifact with identical scores', async () => {
    const knn = new ItemKNN({ weighting: 'bm25', shrink: 2, neighbors: 2, basketWeight: 0.5 });
    await knn.fit(data);
    const w = new ArtifactWriter();
    const state = knn.save(w.scope('x'));
    const r = ArtifactReader.open(w.toBytes(state));
    const back = ItemKNN.load(r.root as JsonObject, r.scope('x'));
    expect(back.options).toEqual(knn.options);
    for (const q of [userQuery(data, 0), userQuery(data, 2, Int32Array.from([A])), anonymousQuery([C, C], [B])]) {
      const a = new ScoreVector(data.nItems);
      const b = new ScoreVector(data.nItems);
      knn.score(q, a);
      back.score(q, b);
      expect(b.values).toEqual(a.values);
    }
  });
});

describe('ItemKNN on planted structure', () => {
  // 400 users, 80 items. Items 2k and 2k+1 (k < 15) are a planted pair: a user who buys one
  // buys the other 90% of the time. Every user also buys 4 items drawn with popularity skew.
  function planted(seed: number) {
    const rng = mulberry32(seed);
    const users: Record<string, string[][]> = {};
    for (let u = 0; u < 400; u++) {
      const basket = new Set<string>();
      for (let n = 0; n < 2; n++) {
        const k = Math.floor(rng() * 15);
        basket.add(`p${2 * k}`);
        if (rng() < 0.9) basket.add(`p${2 * k + 1}`);
      }
      for (let n = 0; n < 4; n++) basket.add(`p${Math.floor(80 * rng() * rng())}`);
      users[`u${u}`] = [[...basket]];
    }
    return basketsDataset(users, { extraItems: Array.from({ length: 80 }, (_, i) => `p${i}`) });
  }

  it('puts every planted partner in the top 3 neighbours, with each weighting', async () => {
    const d = planted(42);
    for (const weighting of ['binary', 'count', 'log1p', 'bm25'] as const) {
      const knn = new ItemKNN({ weighting });
      await knn.fit(d, { seed: 42 });
      for (let k = 0; k < 15; k++) {
        const [a, b] = itemIdx(d, `p${2 * k}`, `p${2 * k + 1}`);
        expect([...knn.similarItems(a, 3).items], `${weighting} p${2 * k}`).toContain(b);
        expect([...knn.similarItems(b, 3).items], `${weighting} p${2 * k + 1}`).toContain(a);
      }
    }
  });

  it('completes a basket with the planted partner first', async () => {
    const d = planted(7);
    const knn = new ItemKNN();
    await knn.fit(d);
    let first = 0;
    for (let k = 0; k < 15; k++) {
      const [a, b] = itemIdx(d, `p${2 * k}`, `p${2 * k + 1}`);
      const out = new ScoreVector(d.nItems);
      knn.score(anonymousQuery([], [a]), out);
      let best = -1;
      for (let i = 0; i < out.length; i++) if (best < 0 || out.values[out.at(i)] > out.values[best]) best = out.at(i);
      if (best === b) first++;
    }
    expect(first).toBe(15);
  });

  it('reports progress and honours an aborted signal', async () => {
    const d = planted(1);
    const stages = new Set<string>();
    const knn = new ItemKNN();
    await knn.fit(d, { onProgress: (p) => stages.add(p.stage) });
    expect(stages.has('item similarities')).toBe(true);
    const controller = new AbortController();
    controller.abort();
    await expect(new ItemKNN().fit(d, { signal: controller.signal })).rejects.toThrow(AbortedError);
  });
});

describe('ItemKNN on the synthetic shop', () => {
  const { tables, truth } = generateGroceryWithTruth({ users: 1000, products: 600, seed: 42 });
  const full = datasetFromInstacart(tables).dataset;

  it('finds every planted complement among the top 3 neighbours', async () => {
    const knn = new ItemKNN();
    await knn.fit(full);
    expect(truth.complements.length).toBeGreaterThan(5);
    for (const [a, b] of truth.complements) {
      const [ia, ib] = itemIdx(full, String(a), String(b));
      expect([...knn.similarItems(ia, 3).items], `complement of ${a}`).toContain(ib);
    }
  });

  it('finds more new next-basket items than popularity', async () => {
    // Next-basket split: each user's last order is held out; only items new to the user count.
    const last = new Set<number>();
    for (let u = 0; u < full.nUsers; u++) last.add(full.baskets.userPtr[u + 1] - 1);
    const train = full.filterBaskets((b) => !last.has(b));
    const recall = (model: ItemKNN | Popularity): number => {
      let hits = 0;
      let total = 0;
      const out = new ScoreVector(full.nItems);
      for (let u = 0; u < full.nUsers; u++) {
        const q = userQuery(train, u);
        const known = new Set(q.history.items);
        out.reset();
        model.score(q, out);
        const top = new TopK(10);
        for (let i = 0; i < out.length; i++) if (!known.has(out.at(i))) top.push(out.at(i), out.values[out.at(i)]);
        const picked = new Set(top.items.subarray(0, top.size));
        const b = full.baskets.userPtr[u + 1] - 1;
        for (const item of new Set(full.baskets.items.subarray(full.baskets.itemPtr[b], full.baskets.itemPtr[b + 1]))) {
          if (known.has(item)) continue;
          total++;
          if (picked.has(item)) hits++;
        }
      }
      return hits / total;
    };
    const knn = new ItemKNN();
    await knn.fit(train);
    const pop = new Popularity();
    await pop.fit(train);
    const rk = recall(knn);
    const rp = recall(pop);
    // Measured (seed 42): popularity 0.145; default log1p 0.166 (bm25 0.188, count 0.175,
    // binary 0.161). The synthetic shop's explore items are mostly popular ones, so the margin
    // is modest; the floor still fails if the neighbours were noise.
    expect(rk).toBeGreaterThan(rp * 1.1);
  });
});
