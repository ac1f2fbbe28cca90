import { userQuery } from '../src/strategies/query';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { ScoreVector } from '../src/strategies/types';
import type { Dataset } from '../src/data/dataset';
import type { Query } from '../src/strategies/types';
import { syntheticDataset } from '../examples/shared';

/** The strategies of the reranker's feature timings, in feature order. */
export const FEATURE_STRATEGIES = ['repeat', 'itemknn', 'popularity'];
/** Each strategy's top-N in the pool of those timings (candidatesPerStrategy). */
export const FEATURE_CANDIDATES = 100;

/**
 * The synthetic shop of the reranker's feature timings (reranker-speed.ts and
 * reranker-features-ab.ts): RepeatPurchase, ItemKNN and Popularity (1,000 items) fitted on it
 * with seed 42, and 256 of its shoppers spread over the ids, each with every strategy's scores.
 */
export async function featureShop(users: number, products: number): Promise<{ shop: Dataset; shoppers: Array<{ query: Query; vectors: ScoreVector[] }> }> {
  const shop = syntheticDataset(users, products);
  const strategies = [new RepeatPurchase(), new ItemKNN(), new Popularity({ maxItems: 1000 })];
  for (const s of strategies) await s.fit(shop, { seed: 42 });
  const shoppers = Array.from({ length: 256 }, (_, i) => {
    const query = userQuery(shop, (i * 7919) % shop.nUsers);
    const vectors = strategies.map((s) => {
      const v = new ScoreVector(shop.nItems);
      s.score(query, v);
      return v;
    });
    return { query, vectors };
  });
  return { shop, shoppers };
}
