/**
 * Weight tuning ranks with the recommender's own merge: a tuned trial's ranking of a
 * validation query equals what the fitted recommender (through the evaluation rankers) ranks
 * for it, for any weights and normalization, with the candidate cut and the fallback fill.
 */
import { describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { NORMALIZATIONS } from '../src/ensemble/normalize';
import { HYPERPARAMETER_GRIDS, ValidationCache, cachedNormalizations, chooseProtocol, holdoutTemporalFromMatrix, resolveTuneOptions, sampleQueries, searchCachedWeights, searchWeights, validationSplit } from '../src/ensemble/tune';
import { Dataset } from '../src/data/dataset';
import { interactionsFromRows } from '../src/data/interactions';
import { basketCompletionFolds, holdoutTemporal } from '../src/eval/splits';
import { basketsDataset, timedDataset } from './fixtures';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { AbortedError, OptionError } from '../src/errors';
import { evaluate, type IndexRanker } from '../src/eval/evaluate';
import { strategyRanker, weightedRanker } from '../src/eval/rankers';
import { AssociationRules } from '../src/strategies/association-rules';
import { ContentBased } from '../src/strategies/content';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import type { Recommender } from '../src/strategies/types';

const data = datasetFromInstacart(generateGrocery({ users: 250, products: 250, seed: 11 })).dataset;
const strategies = (): Record<string, Recommender> => ({
  popularity: new Popularity({ maxItems: 40 }),
  repeat: new RepeatPurchase(),
  itemknn: new ItemKNN(),
  content: new ContentBased(),
  rules: new AssociationRules(),
  graph: new CoPurchaseGraph(),
});

/** What `ranker` returns for each query evaluate() feeds it, in order. */
async function rankingsOf(ranker: IndexRanker, split: Parameters<typeof evaluate>[1]): Promise<number[][]> {
  const out: number[][] = [];
  await evaluate({ rankIndices: (q, k, b) => {
    const r = ranker.rankIndices(q, k, b);
    out.push(Array.from(r));
    return r;
  } }, split, { k: 10 });
  return out;
}

describe('weight tuning', () => {
  it('ranks every trial exactly as the fitted recommender does (weights x normalizations, cut, fallback fill)', async () => {
    for (const protocol of ['next-basket', 'basket-completion'] as const) {
      const split = validationSplit(data, protocol, 42);
      // A small cut, so it decides what is merged.
      const rec = new HybridRecommender({ strategies: strategies(), candidatesPerStrategy: 25 });
      await rec.fit(split.train, { seed: 1 });
      const queries = sampleQueries(split.queries.filter((q) => q.target.length > 0), Infinity, 42);
      const cache = await ValidationCache.build(
        rec.strategyNames.map((n) => rec.strategy(n)),
        rec.fallback,
        split,
        queries,
        { k: 10, normalizations: NORMALIZATIONS, candidatesPerStrategy: rec.candidatesPerStrategy },
      );
      expect(cache.size).toBe(queries.length);
      const trials = [
        [1, 1, 1, 1, 1, 1],
        [0, 8, 0.5, 0.25, 1, 2],
        [0, 0, 0, 0, 1, 0], // rules alone: short lists, filled from the fallback
        [0.1, 0, 4, 0, 0, 0.25],
      ];
      // Every trial under next-basket; two under basket-completion (anonymous queries, candidate sets).
      for (const weights of protocol === 'next-basket' ? trials : trials.slice(1, 3)) {
        for (let n = 0; n < NORMALIZATIONS.length; n++) {
          if (protocol !== 'next-basket' && n % 2 === 1) continue;
          const byName = Object.fromEntries(rec.strategyNames.map((name, s) => [name, weights[s]]));
          const served = await rankingsOf(weightedRanker(rec, byName, NORMALIZATIONS[n]), split);
          expect(served.length).toBe(cache.size);
          const tuned = served.map((_, q) => Array.from(cache.rank(q, n, Float64Array.from(weights))));
          expect(tuned, `${protocol} ${weights} ${NORMALIZATIONS[n]}`).toEqual(served);
        }
      }
    }
  });

  it('concatenates caches of several folds: each query ranks as in its own cache, and the search on one cache is searchWeights', async () => {
    const folds = basketCompletionFolds(data, 2, 3);
    const options = resolveTuneOptions({ rounds: 1, normalizations: ['auto', 'zscore'], grid: [0, 1, 4] });
    const caches: ValidationCache[] = [];
    let names: string[] = [];
    for (const [f, split] of folds.entries()) {
      const rec = new HybridRecommender({ strategies: strategies(), candidatesPerStrategy: 25 });
      await rec.fit(split.train, { seed: 1 });
      names = rec.strategyNames;
      const members = names.map((n) => rec.strategy(n));
      const queries = split.queries.filter((q) => q.target.length > 0);
      const cache = await ValidationCache.build(members, rec.fallback, split, queries, { k: 10, normalizations: cachedNormalizations(options), candidatesPerStrategy: 25 });
      if (f === 0) expect(await searchCachedWeights(names, cache, options, 'basket-completion', { seed: 9 })).toEqual(await searchWeights(names, members, rec.fallback, split, options, 'basket-completion', 25, { seed: 9 }));
      caches.push(cache);
    }
    const all = ValidationCache.concat(caches);
    expect(all.size).toBe(caches[0].size + caches[1].size);
    const w = Float64Array.of(0.5, 0, 2, 1, 4, 0.25);
    const own = caches.flatMap((c) => Array.from({ length: c.size }, (_, q) => [0, 1].map((n) => Array.from(c.rank(q, n, w)))));
    expect(Array.from({ length: all.size }, (_, q) => [0, 1].map((n) => Array.from(all.rank(q, n, w))))).toEqual(own);
    expect(all.targets).toEqual(caches.flatMap((c) => c.targets));
    const found = await searchCachedWeights(names, all, options, 'basket-completion', { seed: 9 });
    expect(found.queries).toBe(all.size);
    expect(() => ValidationCache.concat([])).toThrow(OptionError);
    await expect(searchCachedWeights(names.slice(1), all, options, 'basket-completion')).rejects.toThrow(/must score 5 strategies/);
  });

  it('reports validation metrics that evaluate() reproduces on the same split', async () => {
    const rec = new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { rounds: 1, normalizations: ['auto'], grid: [0, 1, 4] } });
    await rec.fit(data, { seed: 5 });
    const t = rec.tuning!;
    expect(t.protocol).toBe('next-basket');
    // The same strategies fitted on the validation split's training part, with the tuning seed.
    const split = validationSplit(data, t.protocol, 5);
    const again = new HybridRecommender({ strategies: strategies(), weights: t.weights });
    await again.fit(split.train, { seed: 5 });
    for (const name of again.strategyNames) {
      expect((await evaluate(strategyRanker(again, name), split, { k: 10 })).ndcg, name).toBeCloseTo(t.single[name], 12);
    }
    expect((await evaluate(weightedRanker(again, t.weights), split, { k: 10 })).ndcg).toBeCloseTo(t.score, 12);
    expect(t.score).toBeGreaterThanOrEqual(t.baseline);
  });

  it('stops mid-run when the signal fires during the search', async () => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const rec = new HybridRecommender({ strategies: strategies(), weights: 'tune' });
    const fit = rec.fit(data, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage === 'tune: scoring validation queries' && timer === undefined) timer = setTimeout(() => controller.abort(), 0);
      },
    });
    await expect(fit).rejects.toThrow(AbortedError);
    await expect(fit).rejects.toThrow(/weight tuning was aborted/);
    expect(timer).toBeDefined();
    expect(rec.fitted).toBe(false);
  });

  it('checks its options like every class: unknown keys with a suggestion, undefined means the default', () => {
    const s = strategies();
    expect(() => new HybridRecommender({ strategies: s, weights: 'tune', tune: { depth: 200 } as never })).toThrow(/tune.depth: unknown option/);
    expect(() => new HybridRecommender({ strategies: s, weights: 'tune', tune: { metrc: 'ndcg' } as never })).toThrow(/did you mean "metric"/);
    expect(() => new HybridRecommender({ strategies: s, weights: 'tune', tune: { grid: [] } })).toThrow(OptionError);
    expect(new HybridRecommender({ strategies: s, weights: 'tune', tune: { k: undefined } }).options.tune.k).toBe(10);
  });
});

const ids = (data: Dataset, target: Int32Array): string[] => Array.from(target, (i) => data.items.id(i));

describe('validation protocol', () => {
  it('auto mirrors the data: temporal holdout with timestamps, random holdout without, next-basket for ordered baskets, basket-completion for anonymous ones', () => {
    const rows: Array<[string, string, number]> = [['u1', 'a', 1], ['u1', 'b', 2], ['u2', 'a', 3]];
    expect(chooseProtocol(timedDataset(rows))).toBe('holdout-temporal');
    expect(chooseProtocol(timedDataset(rows, { withTimes: false }))).toBe('holdout');
    const ordered = basketsDataset({ u1: [['a'], ['b'], ['a', 'c']], u2: [['a'], ['c'], ['b']], u3: [['c']] });
    expect(chooseProtocol(ordered)).toBe('next-basket');
    // One basket per shopper (as P3's own-user orders): completion of anonymous baskets.
    const anonymous = basketsDataset({ o1: [['a', 'b', 'c', 'd']], o2: [['a', 'c']], o3: [['b', 'd']], o4: [['a', 'b', 'c']] });
    expect(chooseProtocol(anonymous)).toBe('basket-completion');
  });

  it('holds out each user\'s latest 20% (rounded up, ties by raw id), keeps the latest time of repeated rows, and leaves single-item users in train', () => {
    const data = timedDataset([
      // u1: 5 items, latest is d (t 9): 1 held out.
      ['u1', 'a', 1], ['u1', 'b', 3], ['u1', 'c', 2], ['u1', 'd', 9], ['u1', 'e', 4],
      // u2: 6 items -> ceil(1.2) = 2 held out; b and c tie at t 7, a was re-bought at t 8 (latest counts).
      ['u2', 'a', 1], ['u2', 'a', 8], ['u2', 'c', 7], ['u2', 'b', 7], ['u2', 'd', 2], ['u2', 'e', 3], ['u2', 'f', 4],
      ['u3', 'a', 5],
    ]);
    const split = holdoutTemporalFromMatrix(data);
    const byUser = Object.fromEntries(split.queries.map((q) => [q.id, ids(data, q.target)]));
    // u2 sorted: a@1..? no: a's latest is 8, so order d2 e3 f4 b7 c7 a8: the last two are c (tie after b) and a.
    expect(byUser).toEqual({ u1: ['d'], u2: ['a', 'c'] });
    const train = split.train;
    const row = (u: string) => Array.from(train.interactions.indices.subarray(train.interactions.indptr[train.users.indexOf(u)], train.interactions.indptr[train.users.indexOf(u) + 1]), (i) => train.items.id(i));
    expect(row('u1')).toEqual(['a', 'b', 'c', 'e']);
    expect(row('u2')).toEqual(['b', 'd', 'e', 'f']);
    expect(row('u3')).toEqual(['a']);
    // The train part keeps times, aligned with its non-zeros: u1's b was bought at t 3.
    const u1 = train.interactions.indptr[train.users.indexOf('u1')];
    expect(Array.from(train.times!.subarray(u1, u1 + 4))).toEqual([1, 3, 2, 4]);
    // Repeated rows sum their weights; the time is the latest.
    expect(data.interactions.get(data.users.indexOf('u2'), data.items.indexOf('a'))).toBe(2);
    expect(() => holdoutTemporalFromMatrix(timedDataset([['u1', 'a', 1]], { withTimes: false }))).toThrow(/needs timestamps/);
  });

  it('P1\'s splitter keeps the train timestamps, so tuning on its train data validates temporally; an explicit protocol is kept', async () => {
    const rawRows: Array<Record<string, unknown>> = [];
    for (let u = 0; u < 30; u++) for (let k = 0; k < 8; k++) rawRows.push({ user: `u${u}`, item: `i${(u + k * 3) % 20}`, ts: 1000 + 10 * k + u });
    const { rows } = interactionsFromRows(rawRows, { user: 'user', item: 'item', timestamp: 'ts' });
    const p1 = holdoutTemporal(rows);
    expect(p1.train.times).not.toBeNull();
    expect(p1.train.times!.length).toBe(p1.train.interactions.nnz);
    const tuned = new HybridRecommender({ strategies: { itemknn: new ItemKNN(), popularity: new Popularity() }, weights: 'tune', tune: { rounds: 1, grid: [0, 1] } });
    await tuned.fit(p1.train, { seed: 3 });
    expect(tuned.tuning!.protocol).toBe('holdout-temporal');
    // The temporal split of P1's train rows: each user's 6 train items, the latest 2 held out.
    expect(validationSplit(p1.train, 'holdout-temporal', 3).stats.heldOut).toBe(30 * 2);
    const random = new HybridRecommender({ strategies: { itemknn: new ItemKNN(), popularity: new Popularity() }, weights: 'tune', tune: { protocol: 'holdout', rounds: 1, grid: [0, 1] } });
    await random.fit(p1.train, { seed: 3 });
    expect(random.tuning!.protocol).toBe('holdout');
  });
});

describe('hyper-parameter tuning (opt-in)', () => {
  it('picks by coordinate search the best validation variant, refits it on all data, and reports scores evaluate() reproduces', async () => {
    const grid = { itemknn: { neighbors: [1, 200], weighting: ['binary', 'bm25'] } };
    const rec = new HybridRecommender({ strategies: { itemknn: new ItemKNN({ neighbors: 5 }), popularity: new Popularity({ maxItems: 40 }) }, weights: 'tune', tune: { rounds: 1, grid: [0, 1], hyperparameters: grid } });
    await rec.fit(data, { seed: 5 });
    const t = rec.tuning!;
    const h = t.hyperparameters!.itemknn;
    // Neighbors first (each value but the given one), then weighting on top of the neighbors chosen.
    expect(h.tried.slice(0, 2).map((x) => x.options)).toEqual([{ neighbors: 1 }, { neighbors: 200 }]);
    expect(h.tried.length).toBe(4);
    const afterNeighbors = [h.given, h.tried[0].score, h.tried[1].score].reduce((b, x, i, all) => (x > all[b] + 1e-6 ? i : b), 0);
    const neighbors = [{}, { neighbors: 1 }, { neighbors: 200 }][afterNeighbors];
    expect(h.tried.slice(2).map((x) => x.options)).toEqual([{ ...neighbors, weighting: 'binary' }, { ...neighbors, weighting: 'bm25' }]);
    const best = Math.max(h.given, ...h.tried.map((x) => x.score));
    expect(h.score).toBe(best);
    // The member refitted on all data has the chosen options.
    const chosen = { neighbors: 5, weighting: 'log1p', ...h.chosen } as ItemKNN['options'];
    const member = rec.strategy('itemknn') as ItemKNN;
    expect({ neighbors: member.options.neighbors, weighting: member.options.weighting }).toEqual(chosen);
    expect(member.fitted).toBe(true);
    // Its reported score is the variant alone on the same validation split (fallback fill included).
    const split = validationSplit(data, t.protocol, 5);
    const again = new HybridRecommender({ strategies: { itemknn: new ItemKNN(chosen) } });
    await again.fit(split.train, { seed: 5 });
    expect((await evaluate(strategyRanker(again, 'itemknn'), split, { k: 10 })).ndcg).toBeCloseTo(h.score, 12);
    // The weights were then searched with the chosen variant.
    expect(t.single.itemknn).toBeCloseTo(h.score, 12);
  });

  it('true searches the built-in grids of the kinds that have one; bad grids are OptionErrors', async () => {
    const rec = new HybridRecommender({ strategies: { itemknn: new ItemKNN(), rules: new AssociationRules() }, weights: 'tune', tune: { rounds: 1, grid: [0, 1], hyperparameters: true } });
    await rec.fit(data, { seed: 2 });
    const h = rec.tuning!.hyperparameters!;
    expect(Object.keys(h)).toEqual(['itemknn']);
    const values = Object.values(HYPERPARAMETER_GRIDS.itemknn).reduce((n, v) => n + v.length, 0);
    // Default neighbors 50 and weighting log1p are in the grid, so they are not refitted.
    expect(h.itemknn.tried.length).toBe(values - 2);
    expect(() => new HybridRecommender({ strategies: { itemknn: new ItemKNN() }, weights: 'tune', tune: { hyperparameters: { knn: { neighbors: [5] } } } })).toThrow(/tune.hyperparameters.knn: names no strategy/);
    expect(() => new HybridRecommender({ strategies: { itemknn: new ItemKNN() }, weights: 'tune', tune: { hyperparameters: { itemknn: { neighbors: [] } } } })).toThrow(OptionError);
    const typo = new HybridRecommender({ strategies: { itemknn: new ItemKNN() }, weights: 'tune', tune: { hyperparameters: { itemknn: { neighbours: [5] } } } });
    await expect(typo.fit(data, { seed: 1 })).rejects.toThrow(/neighbours: unknown option.*did you mean "neighbors"/);
  });

  it('survives save and load: the tuning report and the chosen options', async () => {
    const rec = new HybridRecommender({ strategies: { itemknn: new ItemKNN({ neighbors: 5 }) }, weights: 'tune', tune: { rounds: 1, grid: [1], hyperparameters: { itemknn: { neighbors: [1, 100] } } } });
    await rec.fit(data, { seed: 4 });
    const back = await HybridRecommender.load(await rec.save());
    expect(back.tuning).toEqual(rec.tuning);
    expect((back.strategy('itemknn') as ItemKNN).options.neighbors).toBe((rec.strategy('itemknn') as ItemKNN).options.neighbors);
  });
});
