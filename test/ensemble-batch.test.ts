/**
 * recommendBatch against recommend() one shopper at a time on a seeded synthetic shop: the same
 * lists (items, order, scores exactly, sources, reasons) on the calling thread and on two
 * worker threads of the pool, for several option combinations and two recommender settings;
 * a refit reaches the workers; progress per block; abort mid-batch from progress; the lists the
 * workers pack as they rank round-trip exactly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { AbortedError } from '../src/errors';
import { ListPacker, sourceNames, unpackLists } from '../src/ensemble/batch-lists';
import { HybridRecommender, type HybridInit, type Recommendation, type RecommendOptions } from '../src/ensemble/hybrid';
import type { Shopper } from '../src/ensemble/shopper';
import { WorkerPool } from '../src/node/pool';
import { setDefaultExecutor } from '../src/util/parallel';
import { mulberry32 } from '../src/util/random';
import { nonNeuralStrategies } from './fixtures';
import type { Progress } from '../src/strategies/types';

const data = datasetFromInstacart(generateGrocery({ users: 300, products: 250, seed: 5 })).dataset;

const SETTINGS: Record<string, Omit<HybridInit, 'strategies'>> = {
  defaults: {},
  uneven: {
    weights: { popularity: 0.3, repeat: 2, itemknn: 1.5, content: 0.5, rules: 1, graph: 0.8 },
    normalization: 'zscore',
    candidatesPerStrategy: 40,
    excludePurchased: true,
    exclude: [data.items.id(3), data.items.id(8)],
  },
};

const rng = mulberry32(3);
const itemIds = (u: number) => {
  const m = data.interactions;
  return Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]), (i) => data.items.id(i));
};
// Known users, request-borne histories and carts, an anonymous cart, the explicit cold start:
// 200 shoppers, so a batch is several blocks of the pool.
const shoppers: Shopper[] = Array.from({ length: 200 }, (_, i) => {
  const u = Math.floor(rng() * data.nUsers);
  if (i % 5 === 1) return { history: itemIds(u), basket: itemIds((u + 1) % data.nUsers).slice(0, 2) };
  if (i % 5 === 3) return { basket: itemIds(u).slice(0, 3) };
  if (i === 7) return { history: [] };
  return data.users.id(u);
});

const OPTION_SETS: Array<Partial<RecommendOptions>> = [
  {},
  { k: 12, explain: true },
  { k: 7, excludePurchased: true, exclude: [data.items.id(1), data.items.id(2)] },
  { k: 6, list: 'buy-again', explain: true },
  { k: 9, excludePurchased: false },
  { k: 5, list: 'discover' },
  { k: 300 },
];

const pool = new WorkerPool({ threads: 2 });
setDefaultExecutor(pool);
afterAll(async () => {
  setDefaultExecutor(null);
  await pool.close();
});

async function fitted(setting: Omit<HybridInit, 'strategies'>, seed = 42): Promise<HybridRecommender> {
  const rec = new HybridRecommender({ strategies: nonNeuralStrategies(), ...setting });
  // One thread: the workers a batch starts are then the batch's own.
  await rec.fit(data, { seed, threads: 1 });
  return rec;
}

describe('recommendBatch', () => {
  for (const [name, setting] of Object.entries(SETTINGS)) {
    it(`${name}: on 1 and 2 threads exactly recommend() per shopper, for every option set`, async () => {
      const rec = await fitted(setting);
      await pool.close();
      expect(pool.size).toBe(0);
      for (const options of OPTION_SETS) {
        const expected = shoppers.map((s) => rec.recommend(s, options));
        expect(expected.some((list) => list.length > 0)).toBe(true);
        expect(await rec.recommendBatch(shoppers, { ...options, threads: 1 })).toStrictEqual(expected);
        expect(await rec.recommendBatch(shoppers, { ...options, threads: 2 })).toStrictEqual(expected);
      }
      // The 2-thread batches ran on the pool's workers (not inline).
      expect(pool.size).toBe(2);
    });
  }

  it('with a filter function ranks on the calling thread, and still exactly as recommend()', async () => {
    const rec = await fitted({});
    const filter = (item: { id: string }) => Number(item.id) % 4 !== 0;
    const expected = shoppers.map((s) => rec.recommend(s, { k: 8, filter }));
    expect(await rec.recommendBatch(shoppers, { k: 8, filter, threads: 2 })).toStrictEqual(expected);
  });

  it('a refit reaches the workers: the next batch ranks with the new fit', async () => {
    const rec = await fitted(SETTINGS.uneven);
    const before = await rec.recommendBatch(shoppers, { k: 10, threads: 2 });
    await rec.fit(datasetFromInstacart(generateGrocery({ users: 300, products: 250, seed: 6 })).dataset, { seed: 42, threads: 1 });
    const known = shoppers.filter((s) => typeof s !== 'string' || rec.dataset.users.indexOf(s) >= 0);
    const after = await rec.recommendBatch(known, { k: 10, threads: 2 });
    expect(after).toStrictEqual(known.map((s) => rec.recommend(s, { k: 10 })));
    expect(after).not.toStrictEqual(before.slice(0, after.length));
  });

  for (const threads of [1, 2]) {
    it(`reports progress per block and rejects with AbortedError when aborted from progress (threads ${threads})`, async () => {
      const rec = await fitted({});
      const seen: Progress[] = [];
      await rec.recommendBatch(shoppers, { threads, onProgress: (p) => seen.push(p) });
      expect(seen.at(-1)).toEqual({ stage: 'recommendBatch', done: 200, total: 200 });
      const done = seen.map((p) => p.done);
      expect(done).toEqual([...done].sort((a, b) => a - b));
      // One report at the start and one per block: the 200 shoppers are a block of 64, then 136 in blocks of 16 (8 of them and one of 8).
      expect(done).toHaveLength(1 + 1 + 9);
      const controller = new AbortController();
      const reached: number[] = [];
      const aborted = rec.recommendBatch(shoppers, {
        threads,
        signal: controller.signal,
        onProgress: (p) => {
          reached.push(p.done);
          if (p.done > 0) controller.abort();
        },
      });
      await expect(aborted).rejects.toThrow(AbortedError);
      expect(Math.max(...reached)).toBeLessThan(200);
    });
  }
});

describe('ListPacker', () => {
  it('round-trips lists field by field: sources in strategy order, the fallback, empty sources and explanations with undefined fields', () => {
    const names = sourceNames(['popularity', 'repeat', 'itemknn']);
    const lists: Recommendation[][] = [
      [
        { item: data.items.id(4), name: data.catalog.name[4], score: 0.75, sources: { repeat: 0.5, itemknn: 0.25 }, because: [], reason: undefined },
        { item: data.items.id(0), name: data.catalog.name[0], score: -0, sources: { fallback: -0 }, because: [{ strategy: 'fallback', contribution: 0, text: 'popular', items: [] }], reason: 'popular' },
      ],
      [],
      [{ item: data.items.id(9), name: data.catalog.name[9], score: 1e-300, sources: {}, because: [], reason: 'bought before', features: [] }],
    ];
    // What the ranking writes for those lists: contributions by strategy index (0: no source), null for the fallback's entry.
    const write = (packer: ListPacker, explain: boolean) => {
      const [a, b] = lists[0];
      packer.entry(4, 0.75, Float64Array.of(0, 0.5, 0.25), explain ? { because: a.because, reason: a.reason } : null);
      packer.entry(0, -0, null, explain ? { because: b.because, reason: b.reason } : null);
      packer.endList();
      packer.endList();
      packer.entry(9, 1e-300, new Float64Array(3), explain ? { because: [], reason: 'bought before', features: [] } : null);
      packer.endList();
      return packer.finish();
    };
    const packed = write(new ListPacker(3, true), true);
    expect(unpackLists(structuredClone(packed), data, names)).toStrictEqual(lists);
    const plain = lists.map((list) => list.map(({ item, name, score, sources }) => ({ item, name, score, sources })));
    const packedPlain = write(new ListPacker(3, false), false);
    expect(packedPlain.explanations).toBeNull();
    expect(unpackLists(packedPlain, data, names)).toStrictEqual(plain);
  });
});
