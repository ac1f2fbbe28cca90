/**
 * The ensemble's answers on a seeded synthetic shop against a golden file written before the
 * recommend path was optimised (buffer reuse, rule and content indexes, partial top-k, batch
 * state): the same items in the same order with the same scores, sources and reasons, for
 * known users, request-borne histories and carts, the three lists, explanations, similar
 * items and batches, under two settings (defaults, and uneven weights with zscore, a tight
 * candidate cut, excludePurchased and a filter). Scores are compared exactly: the merge is
 * float32 arithmetic in a fixed order, so a faster path that adds in another order shows here.
 */
import { describe, expect, it } from 'vitest';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { HybridRecommender, type HybridInit } from '../src/ensemble/hybrid';
import type { Shopper } from '../src/ensemble/shopper';
import { mulberry32 } from '../src/util/random';
import { nonNeuralStrategies } from './fixtures';

const data = datasetFromInstacart(generateGrocery({ users: 400, products: 300, seed: 7 })).dataset;

const SETTINGS: Record<string, Omit<HybridInit, 'strategies'>> = {
  defaults: {},
  uneven: {
    weights: { popularity: 0.3, repeat: 2, itemknn: 1.5, content: 0.5, rules: 1, graph: 0.8 },
    normalization: 'zscore',
    candidatesPerStrategy: 40,
    excludePurchased: true,
    // A business rule: every third item (by id) is off the shelf.
    filter: (item) => Number(item.id) % 3 !== 0,
  },
};

const rng = mulberry32(11);
const pick = (n: number) => Array.from({ length: n }, () => Math.floor(rng() * data.nUsers));
const knownUsers = pick(16).map((u) => data.users.id(u));
const itemIds = (u: number) => {
  const m = data.interactions;
  return Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]), (i) => data.items.id(i));
};
const requestShoppers: Shopper[] = pick(8).map((u, i) => {
  const history = itemIds(u);
  return i % 2 === 0 ? { history: [...history, history[0]], basket: itemIds((u + 1) % data.nUsers).slice(0, 2) } : { basket: history.slice(0, 3) };
});
const similarItems = [0, 5, 17, 42, 99, 150].map((i) => data.items.id(i));

/** Everything the golden file holds for one setting. */
async function answers(setting: Omit<HybridInit, 'strategies'>) {
  const rec = new HybridRecommender({ strategies: nonNeuralStrategies(), ...setting });
  await rec.fit(data, { seed: 3 });
  const out: Record<string, unknown[]> = {};
  knownUsers.forEach((u, i) => {
    out[`user ${u}`] = rec.recommend(u, { k: 10, explain: i < 4 });
    if (i < 4) {
      out[`user ${u} buy-again`] = rec.recommend(u, { k: 8, list: 'buy-again', explain: i < 2 });
      out[`user ${u} discover`] = rec.recommend(u, { k: 8, list: 'discover', explain: i < 2 });
    }
  });
  requestShoppers.forEach((s, i) => {
    out[`request ${i}`] = rec.recommend(s, { k: 12, explain: i < 2 });
  });
  out['cold start'] = rec.recommend({ history: [] }, { k: 5, explain: true });
  out['k past the catalog'] = rec.recommend(knownUsers[0], { k: 400 }).map(({ item, score }) => ({ item, score }));
  similarItems.forEach((item, i) => {
    out[`similar ${item}`] = rec.similarItems(item, { k: 6, explain: i < 2 });
  });
  out.batch = await rec.recommendBatch([...knownUsers.slice(0, 6), ...requestShoppers.slice(0, 3)], { k: 7 });
  out['batch explained'] = await rec.recommendBatch(knownUsers.slice(6, 8), { k: 5, explain: true });
  return out;
}

/** Display names are a catalog lookup of the item: left out of the file to keep it small. */
const withoutNames = (key: string, value: unknown) => (key === 'name' ? undefined : value);

/** One line per recommendation: a changed answer is a readable diff. */
function golden(answers: Record<string, unknown[]>): string {
  const lines = (list: unknown[], indent: string): string =>
    list.map((x) => (Array.isArray(x) ? `${indent}[\n${lines(x, `${indent} `)}\n${indent}]` : `${indent}${JSON.stringify(x, withoutNames)}`)).join(',\n');
  return `{\n${Object.entries(answers).map(([key, list]) => ` ${JSON.stringify(key)}: [\n${lines(list, '  ')}\n ]`).join(',\n')}\n}\n`;
}

describe('ensemble rankings against the golden file', () => {
  for (const [name, setting] of Object.entries(SETTINGS)) {
    it(`${name}: same items, order, scores, sources and reasons`, async () => {
      await expect(golden(await answers(setting))).toMatchFileSnapshot(`./golden/ensemble-rankings-${name}.json`);
    });
  }
});
