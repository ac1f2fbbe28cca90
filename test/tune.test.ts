/**
 * Weight tuning ranks with the recommender's own merge: a tuned trial's ranking of a
 * validation query equals what the fitted recommender (through the evaluation rankers) ranks
 * for it, for any weights and normalization, with the candidate cut and the fallback fill.
 */
import { describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { NORMALIZATIONS } from '../src/ensemble/normalize';
import { ValidationCache, sampleQueries, validationSplit } from '../src/ensemble/tune';
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
