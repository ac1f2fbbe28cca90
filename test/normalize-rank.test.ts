/**
 * The 'rank' normalization (reciprocal rank over a strategy's candidates) in the merge and in
 * weight tuning, and strategyRanker's independence from the ensemble's normalization.
 */
import { describe, expect, it } from 'vitest';
import type { SectionWriter } from '../src/artifact/sections';
import type { Dataset } from '../src/data/dataset';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { MergeEngine } from '../src/ensemble/merge';
import { RANK_OFFSET, rankValues } from '../src/ensemble/normalize';
import { validationSplit } from '../src/ensemble/tune';
import { evaluate } from '../src/eval/evaluate';
import { strategyRanker, weightedRanker } from '../src/eval/rankers';
import { userQuery } from '../src/strategies/query';
import { AssociationRules } from '../src/strategies/association-rules';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import type { Explanation, JsonObject, Query, Recommender, ScoreVector } from '../src/strategies/types';
import { basketsDataset } from './fixtures';

/** Fixed raw scores by item id for every query: the merge's arithmetic by hand. */
class Fixed implements Recommender {
  readonly kind = 'fixed';
  private table = new Float32Array(0);
  constructor(private readonly byId: Record<string, number>) {}
  get fitted() {
    return this.table.length > 0;
  }
  async fit(data: Dataset) {
    this.table = new Float32Array(data.nItems).fill(NaN);
    for (const [id, s] of Object.entries(this.byId)) this.table[data.items.indexOf(id)] = s;
  }
  score(_query: Query, out: ScoreVector) {
    for (let i = 0; i < this.table.length; i++) if (!Number.isNaN(this.table[i])) out.set(i, this.table[i]);
  }
  explain(): Explanation | null {
    return null;
  }
  save(_out: SectionWriter): JsonObject {
    return {};
  }
}

const data = basketsDataset({
  alice: [['bread', 'eggs'], ['milk'], ['milk']],
  bob: [['chips'], ['chips', 'beer'], ['chips', 'salsa']],
  carol: [['chips', 'beer'], ['salsa']],
});
const id = (i: number) => data.items.id(i);
const r = (rank: number) => Math.fround((RANK_OFFSET + 1) / (RANK_OFFSET + rank));

describe('rankValues', () => {
  it('maps scores to (c + 1) / (c + rank), ties sharing the best rank of their group', () => {
    const raw = Float32Array.of(0.5, 2, 2, 1, -3);
    rankValues(raw, 5, new Float32Array(5));
    expect(Array.from(raw)).toEqual([r(4), 1, 1, r(3), r(5)]);
  });
});

describe("normalization 'rank' in the merge", () => {
  it('adds weight x rank value per strategy: known answers, contributions, every candidate kept', async () => {
    const a = new Fixed({ salsa: 4, chips: 2, beer: 1 });
    const b = new Fixed({ chips: 10, eggs: 5 });
    await a.fit(data);
    await b.fit(data);
    const engine = new MergeEngine([a, b], null, data.nItems);
    const ranked = engine.rank(userQuery(data, 0), 10, null, null, { weights: Float64Array.of(1, 0.5), normalization: 'rank', candidatesPerStrategy: Infinity });
    // chips r(2) + 0.5 r(1), salsa r(1), beer r(3), eggs 0.5 r(2): beer and eggs, each its strategy's lowest, stay in.
    expect(Array.from(ranked.items, id)).toEqual(['chips', 'salsa', 'beer', 'eggs']);
    expect(ranked.scores[0]).toBeCloseTo(r(2) + 0.5, 6);
    expect(ranked.scores[3]).toBeCloseTo(0.5 * r(2), 6);
    const chips = data.items.indexOf('chips');
    expect(engine.contribution(0, chips, 1)).toBe(r(2));
    expect(engine.contribution(1, chips, 0.5)).toBe(0.5);
    // The same engine back on an affine normalization reads raw scores again.
    engine.rank(userQuery(data, 0), 10, null, null, { weights: Float64Array.of(1, 0.5), normalization: 'max', candidatesPerStrategy: Infinity });
    expect(engine.contribution(0, chips, 1)).toBe(0.5);
  });

  it('ranks after the cut: the rank is among the candidates a strategy keeps', async () => {
    const a = new Fixed({ salsa: 4, chips: 2, beer: 1, eggs: 0.5 });
    await a.fit(data);
    const engine = new MergeEngine([a], null, data.nItems);
    const blocked = new Uint8Array(data.nItems);
    blocked[data.items.indexOf('salsa')] = 1;
    const ranked = engine.rank(userQuery(data, 0), 10, blocked, null, { weights: Float64Array.of(1), normalization: 'rank', candidatesPerStrategy: 2 });
    expect(Array.from(ranked.items, id)).toEqual(['chips', 'beer']);
    expect(Array.from(ranked.scores)).toEqual([1, r(2)]);
  });
});

describe('strategyRanker', () => {
  it("ranks a strategy alone the same whatever normalization the recommender was tuned to (its lowest-scored items are not dropped for the fallback's)", async () => {
    // alice: milk in her last two orders, bread and eggs tied in her first: the repeat scores' minimum is the tie.
    const lists: string[][] = [];
    for (const normalization of ['auto', 'minmax', 'zscore', 'rank'] as const) {
      const rec = new HybridRecommender({ strategies: { repeat: new RepeatPurchase(), popularity: new Popularity() }, weights: { repeat: 1, popularity: 1 }, normalization });
      await rec.fit(data, { seed: 1 });
      lists.push(Array.from(strategyRanker(rec, 'repeat').rankIndices(userQuery(data, 0), 4, null), id));
    }
    // Ranked with the recommender's minmax or zscore, the list was milk, then the fallback's chips, beer, salsa.
    for (const list of lists) expect(list).toEqual(['milk', 'bread', 'eggs', 'chips']);
  });
});

describe("tune normalizations with 'rank'", () => {
  it('scores a rank trial on validation as evaluate() reproduces it', async () => {
    const shop = datasetFromInstacart(generateGrocery({ users: 150, products: 150, seed: 3 })).dataset;
    const strategies = (): Record<string, Recommender> => ({ repeat: new RepeatPurchase(), itemknn: new ItemKNN(), rules: new AssociationRules() });
    const rec = new HybridRecommender({ strategies: strategies(), weights: 'tune', tune: { rounds: 1, normalizations: ['rank'], grid: [0, 1, 4] } });
    await rec.fit(shop, { seed: 5 });
    const t = rec.tuning!;
    expect(t.normalization).toBe('rank');
    const split = validationSplit(shop, t.protocol, 5);
    const again = new HybridRecommender({ strategies: strategies(), weights: t.weights, normalization: 'rank' });
    await again.fit(split.train, { seed: 5 });
    expect((await evaluate(weightedRanker(again, t.weights), split, { k: 10 })).ndcg).toBeCloseTo(t.score, 12);
  });
});
