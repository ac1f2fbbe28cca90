import { beforeAll, describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import type { Dataset } from '../src/data/dataset';
import { AbortedError, ArtifactError, OptionError } from '../src/errors';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { evaluate } from '../src/eval/evaluate';
import { ensembleRanker, weightedRanker } from '../src/eval/rankers';
import { nextBasket } from '../src/eval/splits';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { userQuery } from '../src/strategies/query';
import { basketsDataset } from './fixtures';
import { bestFirst } from '../src/ensemble/reranker/combiner';
import { foldSplit, recallInPool } from '../src/ensemble/reranker/train';
import { mulberry32 } from '../src/util/random';

const strategies = () => ({ popularity: new Popularity({ maxItems: 200 }), repeat: new RepeatPurchase(), itemknn: new ItemKNN() });
// A small forest keeps the test quick; the facade's defaults are what the benchmarks run.
const small = { maxQueries: 200, minQueries: 20, candidatesPerStrategy: 15, booster: { trees: 30, numLeaves: 7, minDataInLeaf: 20 } };

describe('recallInPool (the guard recall)', () => {
  it('counts the positives among the k best scores, ties by row order', () => {
    const order = new Int32Array(6);
    const labels = Uint8Array.from([0, 1, 0, 1, 1, 0]);
    // Best first: rows 5, 1, 2 (tie with 3 at 0.5, row 2 first), 3, 0, 4.
    const scores = [0.1, 0.9, 0.5, 0.5, 0, 1];
    expect(recallInPool(scores, labels, 6, 3, order)).toBeCloseTo(1 / 3, 12);
    expect(recallInPool(scores, labels, 6, 4, order)).toBeCloseTo(2 / 3, 12);
    expect(recallInPool(scores, labels, 6, 20, order)).toBe(1);
    // Only the first n rows are read; no positive: 0.
    expect(recallInPool(scores, labels, 1, 1, order)).toBe(0);
  });
});

describe('bestFirst (the reranker\'s ordering)', () => {
  it('keeps the m best, higher first, ties to the lower index: the prefix of the full sort', () => {
    const scores = Float64Array.from([0.5, 2, -1, 2, 0.5, 3, 0.5, -1]);
    const out = new Int32Array(8);
    expect(Array.from(bestFirst(scores, 8, 8, out))).toEqual([5, 1, 3, 0, 4, 6, 2, 7]);
    expect(Array.from(bestFirst(scores, 8, 4, out))).toEqual([5, 1, 3, 0]);
    expect(Array.from(bestFirst(scores, 8, 1, out))).toEqual([5]);
    // Only the first n are read.
    expect(Array.from(bestFirst(scores, 3, 2, out))).toEqual([1, 0]);
    const rng = mulberry32(5);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rng() * 60);
      // Few distinct values: many ties.
      const x = Float64Array.from({ length: n }, () => Math.floor(rng() * 8));
      const full = Array.from(bestFirst(x, n, n, new Int32Array(n)));
      const m = 1 + Math.floor(rng() * n);
      expect(Array.from(bestFirst(x, n, m, new Int32Array(n)))).toEqual(full.slice(0, m));
    }
  });
});

describe('HybridRecommender with the reranker combiner', () => {
  let data: Dataset;
  let rec: HybridRecommender;
  beforeAll(async () => {
    data = datasetFromInstacart(generateGrocery({ users: 300, products: 200, seed: 7 })).dataset;
    rec = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: small });
    await rec.fit(data, { seed: 3 });
  }, 60_000);

  it('trains on the validation split and says so', () => {
    const s = rec.rerankerSummary!;
    expect(s.trained).toBe(true);
    expect(s.protocol).toBe('next-basket');
    // Two folds (the default), each sampled down to maxQueries.
    expect(s.queries).toBe(2 * small.maxQueries);
    expect(s.usableQueries).toBeLessThanOrEqual(s.queries);
    expect(s.reason).toMatch(/^trained on \d+ validation queries/);
    // Planted repeat behaviour: the forest ranks the held-out validation queries better than candidate order.
    const t = s.training!;
    expect(Math.max(...t.validationNdcg)).toBeGreaterThan(t.initialValidationNdcg);
    // The forest starts from the linear sum and, judged on guard shoppers it never saw, beats it.
    expect(t.baseScale).toBeGreaterThan(0);
    const g = s.guard!;
    expect(g.queries).toBeGreaterThan(0);
    expect(g.queries + t.trainingQueries + t.validationQueries).toBeLessThanOrEqual(s.usableQueries);
    expect(g.forestNdcg).toBeGreaterThan(g.linearNdcg);
    expect(g.confidence).toBeGreaterThanOrEqual(0.9);
    for (const r of [g.linearRecall, g.forestRecall]) {
      expect(r).toBeGreaterThan(0);
      expect(r).toBeLessThanOrEqual(1);
    }
    expect(s.reason).toMatch(/R@20 within the pool \d\.\d{4} -> \d\.\d{4}/);
    expect(rec.reranker).not.toBeNull();
    expect(rec.fitSeconds.reranker).toBeGreaterThanOrEqual(0);
  });

  it('exposes gain importance over the documented features', () => {
    const imp = rec.reranker!.importance();
    expect(imp.map((f) => f.feature)).toContain('repeat.score');
    expect(imp.map((f) => f.feature)).toContain('history.dueRatio');
    expect(imp.reduce((a, f) => a + f.share, 0)).toBeCloseTo(1, 9);
    expect(imp[0].gain).toBeGreaterThan(0);
  });

  it('ranks with the forest: scores in (0, 1), decreasing, explained by strategies and features', () => {
    const user = data.users.id(5);
    const recs = rec.recommend(user, { k: 8, explain: true });
    expect(recs).toHaveLength(8);
    for (let i = 1; i < recs.length; i++) expect(recs[i].score).toBeLessThanOrEqual(recs[i - 1].score);
    const ranked = recs.filter((r) => !('fallback' in r.sources));
    expect(ranked.length).toBeGreaterThan(0);
    for (const r of ranked) {
      expect(r.score).toBeGreaterThan(0);
      expect(r.score).toBeLessThan(1);
      expect(r.because!.length).toBeGreaterThan(0);
      expect(r.features!.length).toBeGreaterThan(0);
      expect(r.features!.length).toBeLessThanOrEqual(3);
      const c = r.features!.map((f) => Math.abs(f.contribution));
      for (let i = 1; i < c.length; i++) expect(c[i]).toBeLessThanOrEqual(c[i - 1]);
      expect(r.reason).toBe(r.because![0].text);
    }
    const row = ranked[0];
    const forest = rec.reranker!;
    rec.recommend(user, { k: 8 });
    const credit = forest.strategyCredit(data.items.indexOf(row.item));
    expect(credit).toHaveLength(4); // three strategies, then the linear sum
  });

  it('the evaluation ranker serves what recommend() serves', () => {
    const user = 11;
    const ids = rec.recommend(data.users.id(user), { k: 10 }).map((r) => r.item);
    const ranked = ensembleRanker(rec, { list: 'all' }).rankIndices(userQuery(data, user), 10, null);
    expect(Array.from(ranked, (i) => data.items.id(i))).toEqual(ids);
  });

  it('ranks the same with a filter that keeps every item (all candidates ordered) as without one (the k best)', () => {
    for (const u of [3, 28, 64]) {
      const id = data.users.id(u);
      expect(rec.recommend(id, { k: 10, filter: () => true })).toEqual(rec.recommend(id, { k: 10 }));
    }
  });

  it('saves the forest: identical scores and explanations after load', async () => {
    const back = await HybridRecommender.load(rec.save());
    expect(back.reranker).not.toBeNull();
    expect(back.options.combiner).toBe('reranker');
    for (const u of [0, 17, 42, 99]) {
      const id = data.users.id(u);
      expect(back.recommend(id, { k: 10, explain: true })).toEqual(rec.recommend(id, { k: 10, explain: true }));
      expect(back.recommend(id, { k: 10, list: 'discover' })).toEqual(rec.recommend(id, { k: 10, list: 'discover' }));
    }
    expect(back.reranker!.importance()).toEqual(rec.reranker!.importance());
  });

  it('refuses a format-1 reranker (saved before the next-basket features) with an ArtifactError that says to refit', async () => {
    const reader = ArtifactReader.open(rec.save());
    const w = new ArtifactWriter();
    // A format-1 artifact had no item.rebuyNext section either.
    for (const name of reader.sectionNames) if (name !== 'reranker/items/rebuyNext') w.array(name, reader.array(name).slice());
    const root = structuredClone(reader.root) as { reranker: { format: number } };
    expect(root.reranker.format).toBe(2);
    root.reranker.format = 1;
    const old = w.toBytes(root as never);
    await expect(HybridRecommender.load(old)).rejects.toThrow(ArtifactError);
    await expect(HybridRecommender.load(old)).rejects.toThrow(/^is 1: saved before the next-basket features.*refit the recommender \(section "reranker", field "format"\)$/s);
  });

  it('is deterministic by seed', async () => {
    const again = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: small });
    await again.fit(data, { seed: 3 });
    expect(again.save()).toEqual(rec.save());
    const other = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: small });
    await other.fit(data, { seed: 4 });
    expect(other.reranker!.importance()).not.toEqual(rec.reranker!.importance());
  }, 60_000);

  it('beats the linear sum of the same fit on a held-out next basket (planted repeat rhythm)', async () => {
    const split = nextBasket(data);
    const both = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: small });
    await both.fit(split.train, { seed: 3 });
    const linear = await evaluate(weightedRanker(both, both.strategyWeights), split, { k: 10 });
    const reranked = await evaluate(ensembleRanker(both, { list: 'all' }), split, { k: 10 });
    expect(reranked.ndcg).toBeGreaterThan(linear.ndcg);
  }, 60_000);

  it('aborts during reranker training', async () => {
    const controller = new AbortController();
    const r = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: small });
    const run = r.fit(data, { signal: controller.signal, onProgress: (p) => p.stage.startsWith('reranker: LambdaMART') && controller.abort() });
    await expect(run).rejects.toThrow(AbortedError);
  });
});

describe('the reranker falls back to the linear sum', () => {
  it('with too little data, and says why', async () => {
    const tiny = basketsDataset({ a: [['x', 'y'], ['x'], ['y', 'z']], b: [['y'], ['z'], ['x', 'z']], c: [['z', 'x'], ['y'], ['z']] });
    const rec = new HybridRecommender({ strategies: strategies(), combiner: 'reranker' });
    const messages: string[] = [];
    await rec.fit(tiny, { onProgress: (p) => p.stage === 'reranker' && p.message && messages.push(p.message) });
    expect(rec.reranker).toBeNull();
    expect(rec.rerankerSummary!.trained).toBe(false);
    expect(rec.rerankerSummary!.reason).toMatch(/^not trained: \d+ of 3 validation queries have a held-out item among their candidates \(minQueries is 50\); ranking with the linear weighted sum$/);
    expect(messages).toEqual([rec.rerankerSummary!.reason]);
    const linear = new HybridRecommender({ strategies: strategies() });
    await linear.fit(tiny);
    expect(rec.recommend('a', { k: 3 })).toEqual(linear.recommend('a', { k: 3 }));
    const back = await HybridRecommender.load(rec.save());
    expect(back.options.combiner).toBe('linear');
  });
});

describe('the reranker is not used when it cannot beat the linear sum on validation', () => {
  it('keeps the linear sum and says why', async () => {
    const data = datasetFromInstacart(generateGrocery({ users: 150, products: 120, seed: 9 })).dataset;
    // No leaf can hold a million rows: no tree grows, so the forest cannot beat anything.
    const rec = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: { ...small, booster: { minDataInLeaf: 1_000_000 } } });
    await rec.fit(data, { seed: 1 });
    expect(rec.reranker).toBeNull();
    expect(rec.rerankerSummary!.trained).toBe(false);
    expect(rec.rerankerSummary!.reason).toMatch(/^not used: no tree beat the linear sum .*; ranking with the linear weighted sum$/);
    const linear = new HybridRecommender({ strategies: strategies() });
    await linear.fit(data, { seed: 1 });
    const user = data.users.id(4);
    expect(rec.recommend(user, { k: 5 })).toEqual(linear.recommend(user, { k: 5 }));
  }, 60_000);
});

describe('the guard rejects a forest that does not beat the linear sum on shoppers it never saw', () => {
  // Planted: every shopper buys the same three items in each of six orders, plus one item
  // drawn at random. The three are what repeat purchase, and so the linear sum, already
  // ranks first; the random one no feature can predict. A forest of one-row leaves at full
  // step size, kept whole (no early stopping), then fits noise: only the guard, on
  // shoppers held out of training, can find that it does not beat the linear sum.
  const shoppers: Record<string, string[][]> = {};
  const stray = mulberry32(11);
  for (let u = 0; u < 240; u++) {
    const own = [0, 1, 2].map((j) => `i${(3 * u + j) % 120}`);
    shoppers[`u${u}`] = Array.from({ length: 6 }, () => [...own, `i${Math.floor(stray() * 120)}`]);
  }
  const data = basketsDataset(shoppers);
  const planted = { ...small, guardShare: 0.25, booster: { trees: 40, numLeaves: 63, minDataInLeaf: 1, learningRate: 1, validationShare: 0, earlyStoppingRounds: 0 } };

  it('keeps the linear sum and gives the guard verdict as the reason', async () => {
    const rec = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: planted });
    await rec.fit(data, { seed: 3 });
    const s = rec.rerankerSummary!;
    // Trees were grown and all kept: neither "too little data" nor "no tree" decided this.
    expect(s.training!.treesKept).toBe(planted.booster.trees);
    expect(s.training!.validationQueries).toBe(0);
    const g = s.guard!;
    expect(g.queries).toBeGreaterThan(50);
    expect(g.confidence).toBeLessThan(0.9);
    expect(s.trained).toBe(false);
    expect(rec.reranker).toBeNull();
    expect(s.reason).toMatch(/^not used: on \d+ guard queries \(not trained on\) NDCG@10 of the linear sum [\d.]+ -> the forest [\d.]+, better in [\d.]+% of bootstrap resamples \(R@20 within the pool [\d.]+ -> [\d.]+\) \(minConfidence 0\.9\); 40 trees kept of 40 grown/);
    const linear = new HybridRecommender({ strategies: strategies() });
    await linear.fit(data, { seed: 3 });
    for (const u of ['u2', 'u30']) expect(rec.recommend(u, { k: 10 })).toEqual(linear.recommend(u, { k: 10 }));
  }, 60_000);

  it('serves that forest when minConfidence asks for no win', async () => {
    const rec = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: { ...planted, minConfidence: 0 } });
    await rec.fit(data, { seed: 3 });
    expect(rec.rerankerSummary!.trained).toBe(true);
    expect(rec.reranker!.model.nTrees).toBe(planted.booster.trees);
  }, 60_000);
});

describe('combiner options', () => {
  it('checks them', () => {
    expect(() => new HybridRecommender({ strategies: strategies(), combiner: 'trees' as 'linear' })).toThrow(OptionError);
    expect(() => new HybridRecommender({ strategies: strategies(), reranker: { maxQuerie: 5 } as never })).toThrow(/maxQueries/);
    expect(() => new HybridRecommender({ strategies: strategies(), reranker: { booster: { trees: 0 } } })).toThrow(/reranker\.booster\.trees/);
    const rec = new HybridRecommender({ strategies: strategies(), reranker: { booster: { trees: 9 } } });
    expect(rec.options.combiner).toBe('linear');
    expect(rec.options.reranker.booster.trees).toBe(9);
    expect(rec.options.reranker.booster.numLeaves).toBe(15);
    expect(rec.options.reranker.maxQueries).toBe(5000);
  });
});

describe('buy-again and discover lists', () => {
  // Shopper "a" buys milk every 2nd order (orders 1, 3, 5, 7 of 8) and eggs in the others;
  // everyone else who buys milk buys yogurt with it.
  const data = basketsDataset(
    {
      a: [['milk', 'bread'], ['eggs'], ['milk'], ['eggs', 'bread'], ['milk'], ['eggs'], ['milk'], ['eggs']],
      b: [['milk', 'yogurt'], ['milk', 'yogurt'], ['milk', 'yogurt', 'jam']],
      c: [['milk', 'yogurt'], ['yogurt', 'milk'], ['tea']],
      d: [['tea', 'jam'], ['tea'], ['jam', 'tea']],
    },
    { catalog: { yogurt: { name: 'Greek Yogurt' }, milk: { name: 'Milk' } } },
  );
  let rec: HybridRecommender;
  beforeAll(async () => {
    rec = new HybridRecommender({ strategies: { repeat: new RepeatPurchase(), itemknn: new ItemKNN() } });
    await rec.fit(data);
  });

  it('buy-again holds only past purchases, all of them when k allows, in the shopper\'s words', () => {
    const list = rec.recommend('a', { k: 10, list: 'buy-again', explain: true });
    expect(list.map((r) => r.item).sort()).toEqual(['bread', 'eggs', 'milk']);
    const milk = list.find((r) => r.item === 'milk')!;
    expect(milk.reason).toBe('you buy this about every 2nd order (4 of your 8 orders), last 2 orders ago');
    expect(list.find((r) => r.item === 'bread')!.reason).toBe('you bought this in 2 of your 8 orders, last 5 orders ago');
    for (const r of list) expect(`${r.reason} ${r.because!.map((b) => b.text).join(' ')}`).not.toMatch(/popular|best seller/);
    // The rhythm: eggs were in the last order and are bought every 2nd one; milk is due now.
    expect(list[0].item).toBe('milk');
  });

  it('buy-again ignores excludePurchased and leaves the cart out', () => {
    const list = rec.recommend({ user: 'a', basket: ['milk'] }, { k: 10, list: 'buy-again', excludePurchased: true });
    expect(list.map((r) => r.item).sort()).toEqual(['bread', 'eggs']);
  });

  it('buy-again of a history without baskets counts purchases', () => {
    const list = rec.recommend({ history: ['tea', 'tea', 'jam'] }, { k: 5, list: 'buy-again', explain: true });
    expect(list.map((r) => [r.item, r.reason])).toEqual([
      ['tea', 'you bought this 2 times before'],
      ['jam', 'you bought this once before'],
    ]);
  });

  it('discover holds no past purchase and no cart item, with the strategies\' reasons', () => {
    const list = rec.recommend({ user: 'a', basket: ['tea'] }, { k: 10, list: 'discover', explain: true });
    const items = list.map((r) => r.item);
    for (const own of ['milk', 'bread', 'eggs', 'tea']) expect(items).not.toContain(own);
    expect(items[0]).toBe('yogurt');
    expect(list[0].reason).toBe('often bought with Milk and tea');
    expect(list[0].name).toBe('Greek Yogurt');
  });

  it("'all' is the default and the usual list", () => {
    expect(rec.recommend('a', { k: 6, list: 'all' })).toEqual(rec.recommend('a', { k: 6 }));
    expect(rec.recommend('a', { k: 6 }).map((r) => r.item)).toContain('milk');
  });

  it('checks the option', () => {
    expect(() => rec.recommend('a', { list: 'again' as 'all' })).toThrow(/list.*'all', 'buy-again', 'discover'/);
    expect(() => rec.similarItems('milk', { list: 'discover' } as never)).toThrow(OptionError);
  });

  it('ensembleRanker ranks each list as recommend() does', () => {
    const a = data.users.indexOf('a');
    for (const list of ['buy-again', 'discover'] as const) {
      const served = rec.recommend('a', { k: 5, list }).map((r) => r.item);
      const ranked = ensembleRanker(rec, { list }).rankIndices(userQuery(data, a), 5, null);
      expect(Array.from(ranked, (i) => data.items.id(i))).toEqual(served);
    }
  });
});

describe('foldSplit', () => {
  it('next-basket: the fold after the first targets each shopper\'s basket before the last', () => {
    const data = datasetFromInstacart(generateGrocery({ users: 60, products: 80, seed: 5 })).dataset;
    const first = nextBasket(data);
    const second = foldSplit(data, 'next-basket', first, 1, 42);
    const { userPtr, itemPtr, items } = data.baskets;
    let checked = 0;
    for (const q of second.queries) {
      const b = userPtr[q.user + 1] - 2; // the second-to-last basket of the full data
      const expected = [...new Set(items.subarray(itemPtr[b], itemPtr[b + 1]))].sort((x, y) => x - y);
      expect(Array.from(q.target)).toEqual(expected);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
    // Its train part has two baskets fewer per such shopper than the data.
    expect(second.train.nBaskets).toBeLessThan(first.train.nBaskets);
  });
});
