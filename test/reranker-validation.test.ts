import { beforeAll, describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import type { Dataset } from '../src/data/dataset';
import { OptionError } from '../src/errors';
import { makeSplit, type EvalQuery, type Split } from '../src/eval/splits';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';

// RerankerOptions.validation: the forest trains on an explicit set of queries with held-out
// items (a protocol's own validation users, as P6's keyset.val) instead of a carve.
const strategies = () => ({ popularity: new Popularity({ maxItems: 200 }), repeat: new RepeatPurchase(), itemknn: new ItemKNN() });
const small = { maxQueries: 200, minQueries: 20, candidatesPerStrategy: 15, booster: { trees: 30, numLeaves: 7, minDataInLeaf: 20 } };

/** Items by number of buyers, most first (ties to the lower index). */
function byBuyers(data: Dataset): number[] {
  const buyers = new Int32Array(data.nItems);
  for (const i of data.interactions.indices) buyers[i]++;
  return Array.from({ length: data.nItems }, (_, i) => i).sort((a, b) => buyers[b] - buyers[a] || a - b);
}

function boughtBy(data: Dataset, u: number): Set<number> {
  const m = data.interactions;
  return new Set(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));
}

function query(data: Dataset, u: number, target: Int32Array): EvalQuery {
  return { user: u, basket: new Int32Array(0), useHistory: true, excludeHistory: false, excludeBasket: false, target, id: data.users.id(u) };
}

/** Share of `users` whose top recommendation is an item they never bought. */
function newAtTop(rec: HybridRecommender, data: Dataset, users: number[]): number {
  let fresh = 0;
  for (const u of users) {
    const top = rec.recommend(data.users.id(u), { k: 1 })[0].item;
    if (!boughtBy(data, u).has(data.items.indexOf(top))) fresh++;
  }
  return fresh / users.length;
}

describe('the reranker trained on an explicit validation set', () => {
  // Planted: the even shoppers' held-out item is the most-bought item they never bought,
  // a label no carve of this shop makes (its next baskets are mostly re-buys). A forest
  // trained on the set learns "popular and new to the shopper"; one trained on a carve
  // learns re-buys.
  let data: Dataset;
  let set: Split;
  let given: HybridRecommender;
  let carved: HybridRecommender;
  const inSet: number[] = [];
  const others: number[] = [];
  beforeAll(async () => {
    data = datasetFromInstacart(generateGrocery({ users: 300, products: 200, seed: 7 })).dataset;
    const order = byBuyers(data);
    const queries: EvalQuery[] = [];
    for (let u = 0; u < data.nUsers; u++) {
      if (u % 2 === 1) {
        others.push(u);
        continue;
      }
      inSet.push(u);
      const bought = boughtBy(data, u);
      queries.push(query(data, u, Int32Array.of(order.find((i) => !bought.has(i))!)));
    }
    set = makeSplit('P6', data, queries);
    given = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: { ...small, validation: set } });
    await given.fit(data, { seed: 3 });
    carved = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: small });
    await carved.fit(data, { seed: 3 });
  }, 120_000);

  it('trains on the set, not on a carve, and the guard holds out a share of its shoppers', () => {
    const s = given.rerankerSummary!;
    expect(s.validation).toBe('given');
    expect(carved.rerankerSummary!.validation).toBe('carved');
    // One fold: the set's 150 queries; usable where a strategy's top 15 pooled the label
    // (popularity's does unless the shopper bought its 15 first items).
    expect(s.queries).toBe(inSet.length);
    expect(s.usableQueries).toBeGreaterThan(0.9 * inSet.length);
    expect(s.poolRecall).toBe(s.usableQueries / s.queries);
    expect(s.trained).toBe(true);
    expect(s.reason).toMatch(/^trained on \d+ queries of the given validation set/);
    const g = s.guard!;
    // guardShare 0.25 of the usable queries' shoppers (one query each).
    expect(g.queries).toBe(Math.round(0.25 * s.usableQueries));
    expect(g.queries + s.training!.trainingQueries + s.training!.validationQueries).toBe(s.usableQueries);
    expect(g.forestNdcg).toBeGreaterThan(g.linearNdcg);
  });

  it('ranks what the set taught: new popular items first, on shoppers outside the set too', () => {
    expect(newAtTop(given, data, others)).toBeGreaterThan(0.9);
    expect(newAtTop(given, data, inSet)).toBeGreaterThan(0.9);
    // The carve's forest (and the linear sum) put a re-buy first.
    expect(newAtTop(carved, data, others)).toBeLessThan(0.1);
  });

  it('saves the forest: identical scores and explanations after load', async () => {
    const back = await HybridRecommender.load(given.save());
    expect(back.reranker).not.toBeNull();
    for (const u of [0, 17, 42, 99]) {
      const id = data.users.id(u);
      expect(back.recommend(id, { k: 10, explain: true })).toEqual(given.recommend(id, { k: 10, explain: true }));
    }
    expect(back.reranker!.importance()).toEqual(given.reranker!.importance());
  });

  it('is deterministic by seed', async () => {
    const again = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: { ...small, validation: set } });
    await again.fit(data, { seed: 3 });
    expect(again.save()).toEqual(given.save());
  }, 60_000);

  it('refuses a malformed set before fitting anything, naming the field and the query index', async () => {
    const bad = (patch: (queries: EvalQuery[]) => void, train: Dataset = data): Split => {
      const queries = set.queries.map((q) => ({ ...q }));
      patch(queries);
      return { ...set, train, queries };
    };
    const fitWith = async (validation: Split) => {
      const rec = new HybridRecommender({ strategies: strategies(), combiner: 'reranker', reranker: { ...small, validation } });
      const err = await rec.fit(data).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(OptionError);
      // Checked before the strategies are fitted.
      expect(rec.strategy('itemknn').fitted).toBe(false);
      return (err as OptionError).option;
    };
    expect(await fitWith(bad((q) => (q[7].target = Int32Array.of(data.nItems))))).toBe('HybridRecommender.reranker.validation.queries[7].target[0]');
    expect(await fitWith(bad((q) => (q[3].target = Int32Array.of(5, 2))))).toBe('HybridRecommender.reranker.validation.queries[3].target[1]');
    expect(await fitWith(bad((q) => (q[12].user = data.nUsers))))
      .toBe('HybridRecommender.reranker.validation.queries[12].user');
    expect(await fitWith(bad((q) => (q[0].basket = [1] as unknown as Int32Array)))).toBe('HybridRecommender.reranker.validation.queries[0].basket');
    expect(await fitWith(bad((q) => (q[4].excludeHistory = 'no' as unknown as boolean)))).toBe('HybridRecommender.reranker.validation.queries[4].excludeHistory');
    const other = datasetFromInstacart(generateGrocery({ users: 300, products: 200, seed: 7 })).dataset;
    expect(await fitWith(bad(() => undefined, other))).toBe('HybridRecommender.reranker.validation.train');
    expect(() => new HybridRecommender({ strategies: strategies(), reranker: { validation: [] as unknown as Split } })).toThrow(/^HybridRecommender\.reranker\.validation: must be null or a Split/);
  });
});
