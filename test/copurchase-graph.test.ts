import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { CsrMatrix } from '../src/data/csr';
import { Dataset, noBaskets } from '../src/data/dataset';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGroceryWithTruth } from '../src/data/synthetic';
import { AbortedError, NotFittedError, OptionError } from '../src/errors';
import { CoPurchaseGraph, type CoPurchaseGraphOptions } from '../src/strategies/copurchase-graph';
import { symmetricUnion } from '../src/strategies/copurchase-graph/build';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { basketsDataset, itemIdx } from './fixtures';

// Items a..d (indices 0..3). Co-purchase counts: ab 3, ac 1, bc 2, ad 1, bd 1, cd 1.
// Baskets holding each item: a 3, b 4, c 3, d 2; 5 baskets in all.
const tiny = basketsDataset(
  {
    u1: [['a', 'b', 'c'], ['a', 'b']],
    u2: [['b', 'c'], ['a', 'b', 'd']],
    u3: [['c', 'd', 'c']],
  },
  { catalog: { a: { name: 'Apples' }, b: { name: 'Bread' }, c: { name: 'Cheese' }, d: { name: 'Dates' } } },
);
const name = (i: number) => tiny.catalog.name[i];

async function fitTiny(options: Partial<CoPurchaseGraphOptions> = {}): Promise<CoPurchaseGraph> {
  const g = new CoPurchaseGraph({ minCount: 1, ...options });
  await g.fit(tiny);
  return g;
}

function dense(g: CoPurchaseGraph): number[][] {
  const n = g.nItems;
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => g.edgeWeight(i, j)));
}

function scores(g: CoPurchaseGraph, query: Query): Float32Array {
  const out = new ScoreVector(g.nItems);
  g.score(query, out);
  return Float32Array.from(out.values);
}

/** π = restart·s + (1 - restart)·π·T by plain power iteration on a dense weight matrix. */
function bruteForcePpr(w: number[][], s: number[], restart: number): number[] {
  const n = w.length;
  const strength = w.map((row) => row.reduce((a, b) => a + b, 0));
  let pi = s.map((x) => restart * x);
  for (let iter = 0; iter < 2000; iter++) {
    const next = s.map((x) => restart * x);
    for (let u = 0; u < n; u++) {
      if (strength[u] === 0) continue;
      for (let v = 0; v < n; v++) next[v] += (1 - restart) * pi[u] * (w[u][v] / strength[u]);
    }
    pi = next;
  }
  return pi;
}

describe('CoPurchaseGraph edges', () => {
  it('counts co-purchases per basket (repeated lines once) with the count weighting', async () => {
    const g = await fitTiny({ edgeWeighting: 'count' });
    expect(dense(g)).toEqual([
      [0, 3, 1, 1],
      [3, 0, 2, 1],
      [1, 2, 0, 1],
      [1, 1, 1, 0],
    ]);
    expect(g.nEdges).toBe(6);
  });

  it('normalizes counts by the chosen edge weighting', async () => {
    const cases: Array<[CoPurchaseGraphOptions['edgeWeighting'], (c: number, ni: number, nj: number) => number]> = [
      ['cosine', (c, ni, nj) => c / Math.sqrt(ni * nj)],
      ['jaccard', (c, ni, nj) => c / (ni + nj - c)],
      ['pmi', (c, ni, nj) => (c * 5) / (ni * nj)],
      ['ppmi', (c, ni, nj) => Math.max(0, Math.log((c * 5) / (ni * nj)))],
    ];
    const counts = [[0, 3, 1, 1], [3, 0, 2, 1], [1, 2, 0, 1], [1, 1, 1, 0]];
    const nb = [3, 4, 3, 2];
    for (const [weighting, f] of cases) {
      const got = dense(await fitTiny({ edgeWeighting: weighting }));
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          const want = i === j ? 0 : Math.fround(f(counts[i][j], nb[i], nb[j]));
          expect(got[i][j], `${weighting} ${i}-${j}`).toBeCloseTo(want, 6);
        }
      }
    }
    // ppmi drops pairs bought together no more than chance: all but a-b (3·5 / 12 > 1), e.g. a-c (1·5 / 9).
    const ppmi = await fitTiny({ edgeWeighting: 'ppmi' });
    expect(ppmi.edgeWeight(0, 2)).toBe(0);
    expect(ppmi.nEdges).toBe(1);
  });

  it('prunes by minCount and keeps an edge when either end ranks it in its top N', async () => {
    expect(dense(await fitTiny({ edgeWeighting: 'count', minCount: 2 }))).toEqual([
      [0, 3, 0, 0],
      [3, 0, 2, 0],
      [0, 2, 0, 0],
      [0, 0, 0, 0],
    ]);
    // Top 1: a -> b, b -> a, c -> b, d -> a (ties to the lower index); the union is ab, bc, ad.
    expect(dense(await fitTiny({ edgeWeighting: 'count', neighbors: 1 }))).toEqual([
      [0, 3, 0, 1],
      [3, 0, 2, 0],
      [0, 2, 0, 0],
      [1, 0, 0, 0],
    ]);
  });

  it('symmetricUnion merges a matrix with its transpose', () => {
    const a = CsrMatrix.fromCoo(3, 3, Int32Array.from([0, 1, 2]), Int32Array.from([1, 2, 0]), Float32Array.from([5, 6, 7]));
    const u = symmetricUnion(a);
    expect(Array.from(u.indptr)).toEqual([0, 2, 4, 6]);
    expect(Array.from(u.indices)).toEqual([1, 2, 0, 2, 0, 1]);
    expect(Array.from(u.values)).toEqual([5, 7, 5, 6, 7, 6]);
  });

  it('links items bought by the same user when the data has no baskets', async () => {
    const base = basketsDataset({ u1: [['a', 'b']], u2: [['b'], ['c']] });
    const flat = new Dataset(base.users, base.items, base.interactions, noBaskets(base.nUsers), base.catalog);
    const g = new CoPurchaseGraph({ minCount: 1, edgeWeighting: 'count' });
    await g.fit(flat);
    expect(dense(g)).toEqual([
      [0, 1, 0],
      [1, 0, 1],
      [0, 1, 0],
    ]);
  });
});

describe('CoPurchaseGraph scoring', () => {
  it('matches a brute-force power iteration of personalized PageRank on a 4-node graph', async () => {
    const restart = 0.25;
    const g = await fitTiny({ edgeWeighting: 'count', restart, epsilon: 1e-12, basketShare: 0.6 });
    const w = [
      [0, 3, 1, 1],
      [3, 0, 2, 1],
      [1, 2, 0, 1],
      [1, 1, 1, 0],
    ];
    // History a x2, c x1 gets 0.4 of the restart mass in proportion; the basket {d} gets 0.6.
    const query = anonymousQuery([0, 0, 2], [3]);
    const s = [0.4 * (2 / 3), 0, 0.4 * (1 / 3), 0.6];
    const pi = bruteForcePpr(w, s, restart);
    const got = scores(g, query);
    for (let v = 0; v < 4; v++) expect(Math.abs(got[v] - (pi[v] - restart * s[v])), `node ${v}`).toBeLessThan(1e-6);
  });

  it('stays a lower bound of the exact scores with a coarse epsilon, and touches only reachable items', async () => {
    const data = basketsDataset({ u1: [['a', 'b'], ['b', 'c'], ['x', 'y']] });
    const g = new CoPurchaseGraph({ minCount: 1, edgeWeighting: 'count', epsilon: 0.05 });
    await g.fit(data);
    const [a, b, c, x, y] = itemIdx(data, 'a', 'b', 'c', 'x', 'y');
    const out = new ScoreVector(g.nItems);
    g.score(anonymousQuery([], [a]), out);
    const touched = Array.from({ length: out.length }, (_, t) => out.at(t)).sort();
    expect(touched).toEqual([a, b, c].sort());
    expect(out.values[x]).toBe(0);
    expect(out.values[y]).toBe(0);
    const exact = new CoPurchaseGraph({ minCount: 1, edgeWeighting: 'count', epsilon: 1e-12 });
    await exact.fit(data);
    const full = scores(exact, anonymousQuery([], [a]));
    for (const v of [a, b, c]) expect(out.values[v]).toBeLessThanOrEqual(full[v] + 1e-7);
  });

  it('scores an item two hops away with no direct edge, and explains the path', async () => {
    const data = basketsDataset(
      { u1: [['pasta', 'sauce'], ['sauce', 'parmesan'], ['pasta', 'sauce']] },
      { catalog: { pasta: { name: 'Spaghetti' }, sauce: { name: 'Pasta Sauce' }, parmesan: { name: 'Parmesan' } } },
    );
    const g = new CoPurchaseGraph({ minCount: 1 });
    await g.fit(data);
    const [pasta, sauce, parmesan] = itemIdx(data, 'pasta', 'sauce', 'parmesan');
    const nm = (i: number) => data.catalog.name[i];
    expect(g.edgeWeight(pasta, parmesan)).toBe(0);
    const query = anonymousQuery([], [pasta]);
    const got = scores(g, query);
    expect(got[parmesan]).toBeGreaterThan(0);
    expect(got[sauce]).toBeGreaterThan(got[parmesan]);

    const twoHop = g.explain(query, parmesan, nm)!;
    expect(twoHop.reason).toBe('connected through Pasta Sauce to Spaghetti');
    expect(twoHop.score).toBe(got[parmesan]);
    expect(twoHop.evidence.map((e) => e.item)).toEqual([pasta]);

    const direct = g.explain(query, sauce, nm)!;
    expect(direct.reason).toBe('often in the same basket as Spaghetti');
    expect(direct.evidence[0].item).toBe(pasta);
  });

  it('walks once to explain many items of one query, and never reuses a walk for another query', async () => {
    const data = basketsDataset({ u: [['a', 'b'], ['b', 'c'], ['c', 'd'], ['a', 'x'], ['a', 'x'], ['a', 'x']] });
    const g = new CoPurchaseGraph({ minCount: 1, edgeWeighting: 'count' });
    await g.fit(data);
    const [a, b, c, d, x] = itemIdx(data, 'a', 'b', 'c', 'd', 'x');
    const fresh = async () => {
      const h = new CoPurchaseGraph({ minCount: 1, edgeWeighting: 'count' });
      await h.fit(data);
      return h;
    };
    const nm = (i: number) => data.items.id(i);
    // The same query object changed in place between calls must not see the old walk.
    const query = anonymousQuery([b]);
    const first = [a, c, d].map((i) => g.explain(query, i, nm));
    query.history.items[0] = x;
    const afterChange = g.explain(query, a, nm);
    expect(afterChange).toEqual((await fresh()).explain(anonymousQuery([x]), a, nm));
    expect(afterChange!.score).toBe(scores(g, anonymousQuery([x]))[a]);
    const again = await fresh();
    expect(first).toEqual([a, c, d].map((i) => again.explain(anonymousQuery([b]), i, nm)));
    expect(first[0]!.score).toBe(scores(g, anonymousQuery([b]))[a]);
    // A weight or basket changed in place, and another query scored between two explains of one query.
    const pair = anonymousQuery([b, x]);
    g.explain(pair, a, nm);
    pair.history.weights[1] = 3;
    expect(g.explain(pair, a, nm)).toEqual((await fresh()).explain(anonymousQuery([b, x, x, x]), a, nm));
    pair.basket = Int32Array.of(d);
    expect(g.explain(pair, a, nm)).toEqual((await fresh()).explain(anonymousQuery([b, x, x, x], [d]), a, nm));
    scores(g, anonymousQuery([c]));
    expect(g.explain(pair, a, nm)).toEqual((await fresh()).explain(anonymousQuery([b, x, x, x], [d]), a, nm));
  });

  it('explains direct neighbours strongest first and longer paths by attribution', async () => {
    // Chain a - b - c - d plus a separate pair x - y.
    const data = basketsDataset({ u: [['a', 'b'], ['b', 'c'], ['c', 'd'], ['a', 'x'], ['a', 'x'], ['a', 'x']] });
    const g = new CoPurchaseGraph({ minCount: 1, edgeWeighting: 'count', restart: 0.2, epsilon: 1e-9 });
    await g.fit(data);
    const [a, b, d, x] = itemIdx(data, 'a', 'b', 'd', 'x');
    const nm = (i: number) => data.items.id(i).toUpperCase();
    const query = anonymousQuery([b, x]);
    const viaBoth = g.explain(query, a, nm)!;
    expect(viaBoth.reason).toBe('often in the same basket as X and B');
    expect(viaBoth.evidence.map((e) => e.item)).toEqual([x, b]);
    const far = g.explain(anonymousQuery([x]), d, nm)!;
    expect(far.reason).toBe('linked through a chain of co-purchases to X');
    expect(far.evidence.map((e) => e.item)).toEqual([x]);
    expect(g.explain(anonymousQuery([], []), a, nm)).toBeNull();
    const own = g.explain(anonymousQuery([x]), x, nm)!;
    expect(own.reason).toBe('in your history and often bought with A');
    expect(own.evidence.map((e) => e.item)).toEqual([x]);
  });

  it('returns nothing for an empty query and null explanations for unreached items', async () => {
    const g = await fitTiny();
    const out = new ScoreVector(g.nItems);
    g.score(anonymousQuery([]), out);
    expect(out.length).toBe(0);
    const data = basketsDataset({ u: [['a', 'b'], ['c', 'd']] });
    const h = new CoPurchaseGraph({ minCount: 1 });
    await h.fit(data);
    const [a, c] = itemIdx(data, 'a', 'c');
    expect(h.explain(anonymousQuery([a]), c, String)).toBeNull();
  });

  it('weights the current basket up against a long history', async () => {
    const g = await fitTiny({ edgeWeighting: 'count', basketShare: 0.9 });
    const [a, , c, d] = [0, 1, 2, 3];
    const query = anonymousQuery([a, a, a, a, c], [d]);
    const heavy = scores(g, query);
    const light = scores(await fitTiny({ edgeWeighting: 'count', basketShare: 0.1 }), query);
    // c is d's neighbour, a's weakest; more basket mass favours it relative to b (a's strongest).
    expect(heavy[c] / heavy[1]).toBeGreaterThan(light[c] / light[1]);
  });

  it('gives similar items by edge weight, or by PPR reaching past direct neighbours', async () => {
    const g = await fitTiny({ edgeWeighting: 'count' });
    const byWeight = g.similarItems(3, 3);
    expect(Array.from(byWeight.items)).toEqual([0, 1, 2]);
    expect(Array.from(byWeight.scores)).toEqual([1, 1, 1]);
    expect(Array.from(g.similarItems(0, 2).items)).toEqual([1, 2]);
    const data = basketsDataset({ u: [['a', 'b'], ['b', 'c']] });
    const chain = new CoPurchaseGraph({ minCount: 1 });
    await chain.fit(data);
    const ppr = chain.similarItems(0, 5, 'ppr');
    expect(Array.from(ppr.items)).toEqual([1, 2]);
    expect(Array.from(chain.similarItems(0, 5).items)).toEqual([1]);
  });
});

describe('CoPurchaseGraph graphology view', () => {
  it('builds an UndirectedGraph that matches the CSR', async () => {
    const g = await fitTiny({ edgeWeighting: 'cosine' });
    const graph = await g.graph({ id: (i) => tiny.items.id(i), name });
    expect(graph.type).toBe('undirected');
    expect(graph.order).toBe(4);
    expect(graph.size).toBe(g.nEdges);
    expect(graph.getNodeAttributes('b')).toEqual({ item: 1, name: 'Bread' });
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const [ki, kj] = [tiny.items.id(i), tiny.items.id(j)];
        const w = g.edgeWeight(i, j);
        expect(graph.hasEdge(ki, kj)).toBe(w > 0);
        if (w > 0) expect(graph.getEdgeAttribute(graph.edge(ki, kj)!, 'weight')).toBe(w);
      }
    }
    expect((await g.graph()).hasNode('0')).toBe(true);
  });

  it('ranks the hub of a star first by every centrality', async () => {
    const data = basketsDataset({ u: [['hub', 'a'], ['hub', 'b'], ['hub', 'c'], ['hub', 'd'], ['a', 'b']] });
    const g = new CoPurchaseGraph({ minCount: 1, edgeWeighting: 'count' });
    await g.fit(data);
    const [hub] = itemIdx(data, 'hub');
    for (const kind of ['pagerank', 'degree', 'weightedDegree', 'betweenness'] as const) {
      const c = await g.centrality(kind);
      expect(c.length).toBe(g.nItems);
      const best = c.indexOf(Math.max(...c));
      expect(best, kind).toBe(hub);
    }
    const pr = await g.centrality('pagerank');
    expect(pr.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 6);
    expect(Array.from(await g.centrality('weightedDegree'))).toEqual(Array.from({ length: 5 }, (_, i) => g.neighbors(i).weights.reduce((s, x) => s + x, 0)));
    expect((await g.centrality('degree'))[hub]).toBe(1);
    await expect(g.centrality('closeness' as never)).rejects.toThrow(OptionError);
  });
});

describe('CoPurchaseGraph lifecycle', () => {
  it('round-trips through an artifact with identical scores', async () => {
    const g = await fitTiny({ edgeWeighting: 'pmi', neighbors: Infinity, restart: 0.4 });
    const w = new ArtifactWriter();
    const state = g.save(w.scope('graph'));
    const r = ArtifactReader.open(w.toBytes(state));
    const g2 = await CoPurchaseGraph.load(r.root as JsonObject, r.scope('graph'));
    expect(g2.options).toEqual(g.options);
    const queries = [userQuery(tiny, 0), userQuery(tiny, 1, Int32Array.of(3)), anonymousQuery([2], [0, 1])];
    for (const q of queries) expect(Array.from(scores(g2, q))).toEqual(Array.from(scores(g, q)));
    expect(g2.explain(queries[1], 2, name)).toEqual(g.explain(queries[1], 2, name));
    expect(g2.similarItems(0, 3, 'ppr')).toEqual(g.similarItems(0, 3, 'ppr'));
  });

  it('validates options, fitting and item indices', async () => {
    expect(() => new CoPurchaseGraph({ restart: 0 })).toThrow(OptionError);
    expect(() => new CoPurchaseGraph({ restart: NaN })).toThrow(OptionError);
    expect(() => new CoPurchaseGraph({ epsilon: -1 })).toThrow(OptionError);
    expect(() => new CoPurchaseGraph({ minCount: 0 })).toThrow(OptionError);
    expect(() => new CoPurchaseGraph({ neighbors: 2.5 })).toThrow(OptionError);
    expect(() => new CoPurchaseGraph({ basketShare: 2 })).toThrow(OptionError);
    expect(() => new CoPurchaseGraph({ edgeWeighting: 'lift' as never })).toThrow(OptionError);
    const g = new CoPurchaseGraph();
    expect(g.fitted).toBe(false);
    expect(() => g.score(anonymousQuery([0]), new ScoreVector(1))).toThrow(NotFittedError);
    await expect(g.graph()).rejects.toThrow(NotFittedError);
    const f = await fitTiny();
    expect(f.fitted).toBe(true);
    expect(() => f.score(anonymousQuery([9]), new ScoreVector(4))).toThrow(OptionError);
    expect(() => f.similarItems(-1, 3)).toThrow(OptionError);
    // A rejected query leaves no state behind.
    expect(Array.from(scores(f, anonymousQuery([], [0])))).toEqual(Array.from(scores(await fitTiny(), anonymousQuery([], [0]))));
  });

  it('stops fitting when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new CoPurchaseGraph().fit(tiny, { signal: controller.signal })).rejects.toThrow(AbortedError);
  });
});

describe('CoPurchaseGraph on planted grocery data', () => {
  it('ranks the planted complements of an item near the top from a one-item basket', async () => {
    const { tables, truth } = generateGroceryWithTruth({ users: 1500, products: 1500, seed: 42 });
    const data = datasetFromInstacart(tables).dataset;
    const g = new CoPurchaseGraph();
    await g.fit(data);
    const popularity = data.itemTotals();
    const out = new ScoreVector(data.nItems);
    let pairs = 0;
    let hits = 0;
    let popularHits = 0;
    let reciprocalRank = 0;
    for (const [x, y] of truth.complements) {
      for (const [a, b] of [[x, y], [y, x]]) {
        const [ia, ib] = itemIdx(data, String(a), String(b));
        out.reset();
        g.score(anonymousQuery([], [ia]), out);
        let rank = out.values[ib] > 0 ? 1 : Infinity;
        let popularRank = 1;
        for (let i = 0; i < data.nItems; i++) {
          if (i === ia || i === ib) continue;
          if (out.values[i] > out.values[ib]) rank++;
          if (popularity[i] > popularity[ib]) popularRank++;
        }
        pairs++;
        if (rank <= 10) hits++;
        if (popularRank <= 10) popularHits++;
        reciprocalRank += 1 / rank;
      }
    }
    expect(pairs).toBeGreaterThanOrEqual(20);
    expect(hits / pairs).toBeGreaterThanOrEqual(0.9);
    expect(reciprocalRank / pairs).toBeGreaterThanOrEqual(0.6);
    expect(hits).toBeGreaterThan(2 * popularHits);
  });
});
