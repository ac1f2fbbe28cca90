/**
 * tune.shrinkage: searched weights pulled toward equal weights, by a given factor or one
 * chosen by cross-validation over the validation queries.
 */
import { describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { SHRINKAGE_FACTORS, crossValidateShrinkage, shrunk, validationSplit } from '../src/ensemble/tune';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { OptionError } from '../src/errors';
import { evaluate } from '../src/eval/evaluate';
import { weightedRanker } from '../src/eval/rankers';
import { AssociationRules } from '../src/strategies/association-rules';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import type { Recommender } from '../src/strategies/types';

const data = datasetFromInstacart(generateGrocery({ users: 200, products: 200, seed: 13 })).dataset;
const strategies = (): Record<string, Recommender> => ({
  popularity: new Popularity({ maxItems: 40 }),
  repeat: new RepeatPurchase(),
  itemknn: new ItemKNN(),
  rules: new AssociationRules(),
  graph: new CoPurchaseGraph(),
});

describe('shrunk', () => {
  it('scales to mean 1 and moves each weight toward 1 by the factor', () => {
    expect(Array.from(shrunk(Float64Array.of(0, 2, 4), 0.5))).toEqual([0.5, 1, 1.5]);
    expect(Array.from(shrunk(Float64Array.of(0, 2, 4), 0))).toEqual([0, 1, 2]);
    expect(Array.from(shrunk(Float64Array.of(0, 2, 4), 1))).toEqual([1, 1, 1]);
    expect(Array.from(shrunk(Float64Array.of(0, 0), 0))).toEqual([1, 1]);
  });
});

describe('crossValidateShrinkage', () => {
  it('holds every query out exactly once, never searches on held-out queries, and picks the best held-out mean', async () => {
    const size = 23;
    const held: number[] = [];
    const result = await crossValidateShrinkage(
      size,
      4,
      42,
      ['auto', 'zscore'],
      async (norm, _fold, rest) => {
        if (norm === 'auto') held.push(...Array.from({ length: size }, (_, q) => q).filter((q) => !rest.includes(q)));
        return Float64Array.of(0, 3);
      },
      // Held out, zscore with the weights halfway to equal scores 1 per query; anything else 0.5.
      async (norm, w, queries) => (norm === 'zscore' && w[0] === 0.5 ? 1 : 0.5) * queries.length,
    );
    expect(held.sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, q) => q));
    expect(result.normalization).toBe('zscore');
    expect(result.factor).toBe(0.5);
    expect(result.tried).toHaveLength(2 * SHRINKAGE_FACTORS.length);
    expect(result.tried.find((t) => t.normalization === 'zscore' && t.factor === 0.5)!.score).toBeCloseTo(1, 12);
    expect(result.tried.find((t) => t.normalization === 'auto' && t.factor === 0)!.score).toBeCloseTo(0.5, 12);
  });

  it('keeps equal weights (factor 1) on ties', async () => {
    const result = await crossValidateShrinkage(10, 2, 1, ['auto'], async () => Float64Array.of(1, 8), async (_n, _w, q) => q.length);
    expect(result.factor).toBe(1);
  });
});

describe('tune.shrinkage', () => {
  it("'cv' chooses a factor of the grid, scores equal weights as the baseline, and reports a score evaluate() reproduces", async () => {
    const rec = new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { rounds: 1, normalizations: ['auto', 'zscore'], grid: [0, 1, 4], shrinkage: 'cv', folds: 3 } });
    await rec.fit(data, { seed: 5 });
    const t = rec.tuning!;
    expect(t.shrinkage!.folds).toBe(3);
    expect(SHRINKAGE_FACTORS).toContain(t.shrinkage!.factor);
    expect(t.shrinkage!.tried).toHaveLength(2 * SHRINKAGE_FACTORS.length);
    // Equal weights need no search: their held-out mean over the folds is the full validation mean.
    expect(t.shrinkage!.tried.find((x) => x.normalization === 'auto' && x.factor === 1)!.score).toBeCloseTo(t.baseline, 12);
    const best = Math.max(...t.shrinkage!.tried.map((x) => x.score));
    expect(t.shrinkage!.tried.find((x) => x.normalization === t.normalization && x.factor === t.shrinkage!.factor)!.score).toBe(best);
    const split = validationSplit(data, t.protocol, 5);
    const again = new HybridRecommender({ strategies: strategies(), weights: t.weights, normalization: t.normalization });
    await again.fit(split.train, { seed: 5 });
    expect((await evaluate(weightedRanker(again, t.weights), split, { k: 10 })).ndcg).toBeCloseTo(t.score, 12);
    const back = await HybridRecommender.load(await rec.save());
    expect(back.tuning).toEqual(t);
  });

  it('a given factor shrinks the searched weights: factor 1 is equal weights; bad values are OptionErrors', async () => {
    const plain = new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { rounds: 1, normalizations: ['auto'], grid: [0, 1, 4] } });
    await plain.fit(data, { seed: 5 });
    const half = new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { rounds: 1, normalizations: ['auto'], grid: [0, 1, 4], shrinkage: 0.5 } });
    await half.fit(data, { seed: 5 });
    const names = plain.strategyNames;
    const expected = shrunk(Float64Array.from(names, (n) => plain.tuning!.weights[n]), 0.5);
    names.forEach((n, i) => expect(half.tuning!.weights[n]).toBeCloseTo(expected[i], 12));
    expect(half.tuning!.shrinkage).toEqual({ factor: 0.5, folds: 0, tried: [] });
    const equal = new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { rounds: 1, normalizations: ['auto'], grid: [0, 1, 4], shrinkage: 1 } });
    await equal.fit(data, { seed: 5 });
    expect(equal.tuning!.score).toBeCloseTo(equal.tuning!.baseline, 12);
    expect(() => new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { shrinkage: 2 } })).toThrow(OptionError);
    expect(() => new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { shrinkage: 'cross' as never } })).toThrow(/tune.shrinkage/);
  });
});
