import { describe, expect, it } from 'vitest';
import {
  AssociationRules,
  CoPurchaseGraph,
  ContentBased,
  HybridRecommender,
  ItemKNN,
  NeuralCF,
  RepeatPurchase,
  TfidfEncoder,
  datasetFromInstacart,
  ensembleRanker,
  evaluate,
  generateGrocery,
  nextBasket,
  strategyRanker,
  type Recommender,
} from '../src/index';

/**
 * The whole default ensemble on seeded synthetic grocery data: every built-in strategy
 * together, tuned on a validation split of the training data, then checked on the P4 test
 * baskets it never saw, and round-tripped through the artifact.
 */
function strategies(): Record<string, Recommender> {
  return {
    repeat: new RepeatPurchase(),
    itemknn: new ItemKNN(),
    content: new ContentBased({ encoder: new TfidfEncoder() }),
    rules: new AssociationRules(),
    graph: new CoPurchaseGraph(),
    ncf: new NeuralCF({ epochs: 4, factors: 16 }),
  };
}

describe('default ensemble on synthetic grocery data (P4)', async () => {
  const { dataset } = datasetFromInstacart(generateGrocery({ users: 500, products: 400, seed: 42 }));
  const split = nextBasket(dataset);
  const rec = new HybridRecommender({ strategies: strategies(), weights: 'tune' });
  await rec.fit(split.train, { seed: 42 });

  it('beats every strategy alone on Recall@10 and NDCG@10 of the held-out baskets', async () => {
    const ensemble = await evaluate(ensembleRanker(rec), split, { k: 10 });
    expect(ensemble.evaluated).toBe(split.queries.length);
    for (const name of rec.strategyNames) {
      const alone = await evaluate(strategyRanker(rec, name), split, { k: 10 });
      expect(ensemble.ndcg, `NDCG vs ${name}`).toBeGreaterThanOrEqual(alone.ndcg);
      expect(ensemble.recall, `Recall vs ${name}`).toBeGreaterThanOrEqual(alone.recall);
    }
    // Planted structure floor: staples make next baskets very predictable.
    expect(ensemble.recall).toBeGreaterThan(0.4);
    expect(ensemble.hitRate).toBeGreaterThan(0.95);
  });

  it('reports the tuned weights and never tunes on the test baskets', () => {
    const t = rec.tuning!;
    expect(t.protocol).toBe('next-basket');
    // The validation queries come from the training data: each user's second-to-last basket.
    expect(t.queries).toBeLessThanOrEqual(split.queries.length);
    expect(t.score).toBeGreaterThanOrEqual(t.baseline);
    expect(Object.keys(t.weights).sort()).toEqual(rec.strategyNames.sort());
  });

  it('fits reproducibly for a seed', async () => {
    const again = new HybridRecommender({ strategies: strategies(), weights: 'tune' });
    await again.fit(split.train, { seed: 42 });
    expect(again.save()).toEqual(rec.save());
  });

  it('saves and loads to identical explained recommendations, similar items and basket completions', async () => {
    const bytes = rec.save();
    const back = await HybridRecommender.load(bytes);
    const users = split.train.users.ids.slice(0, 25);
    for (const u of users) expect(back.recommend(u, { k: 10, explain: true })).toEqual(rec.recommend(u, { k: 10, explain: true }));
    const items = split.train.items.ids.slice(0, 10);
    for (const i of items) expect(back.similarItems(i, { k: 5 })).toEqual(rec.similarItems(i, { k: 5 }));
    expect(back.recommend({ basket: items.slice(0, 3) }, { k: 8, explain: true })).toEqual(rec.recommend({ basket: items.slice(0, 3) }, { k: 8, explain: true }));
    expect(back.recommend({ history: items.slice(3, 6) }, { k: 8 })).toEqual(rec.recommend({ history: items.slice(3, 6) }, { k: 8 }));
    expect(back.save()).toEqual(bytes);
  });

  it('explains every recommendation with a readable reason', () => {
    const out = rec.recommend(split.train.users.id(0), { k: 10, explain: true });
    expect(out).toHaveLength(10);
    for (const r of out) {
      expect(r.reason).toMatch(/\w+/);
      expect(r.because!.length).toBeGreaterThan(0);
      expect(Object.keys(r.sources).length).toBeGreaterThan(0);
    }
  });
});
