/**
 * Serving artifacts: save({ customerData: false }) keeps the item side only. The bytes hold no
 * user id of the training data; a request that brings the shopper's history (and cart) gets
 * exactly what the full artifact gives for the same history; a user id is a typed error.
 */
import { describe, expect, it } from 'vitest';
import { ArtifactReader } from '../src/artifact/container';
import { Dataset } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { NoCustomerDataError, OptionError, UnknownIdError } from '../src/errors';
import { ALS } from '../src/strategies/als';
import { AssociationRules } from '../src/strategies/association-rules';
import { ContentBased, TfidfEncoder } from '../src/strategies/content';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { EASE } from '../src/strategies/ease';
import { ItemKNN } from '../src/strategies/item-knn';
import { NeuralCF } from '../src/strategies/neural-cf';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { TIFUKNN } from '../src/strategies/tifu-knn';
import type { Recommender } from '../src/strategies/types';

/** Synthetic grocery data whose user ids (and order ids, which embed them) are distinctive strings. */
function shopData(): Dataset {
  const { dataset: d } = datasetFromInstacart(generateGrocery({ users: 120, products: 150, seed: 7 }));
  const userId = (u: number) => `cust-${d.users.id(u)}-zq7`;
  const ids: string[] = new Array(d.nBaskets);
  for (let u = 0; u < d.nUsers; u++) for (let b = d.baskets.userPtr[u]; b < d.baskets.userPtr[u + 1]; b++) ids[b] = `order-${d.baskets.ids[b]}-of-${userId(u)}`;
  const users = new IdIndex(Array.from({ length: d.nUsers }, (_, u) => userId(u)), 'user');
  return new Dataset(users, d.items, d.interactions, { ...d.baskets, ids }, d.catalog);
}

/** The default strategy set (examples/shared.ts, NeuralCF small), plus the other item-side models. */
function strategies(architecture: 'gmf' | 'neumf' = 'gmf'): Record<string, Recommender> {
  return {
    popularity: new Popularity({ maxItems: 1000 }),
    repeat: new RepeatPurchase(),
    itemknn: new ItemKNN(),
    content: new ContentBased({ encoder: new TfidfEncoder() }),
    rules: new AssociationRules(),
    graph: new CoPurchaseGraph(),
    ncf: new NeuralCF({ epochs: 2, factors: 8, architecture, backend: 'cpu' }),
    als: new ALS({ factors: 8, iterations: 3 }),
    ease: new EASE(),
  };
}

/** The stored orders of user `u` as a request brings them. */
function request(data: Dataset, u: number): { baskets: string[][]; days: number[] } {
  const { userPtr, itemPtr, items, day } = data.baskets;
  const baskets: string[][] = [];
  const days: number[] = [];
  for (let b = userPtr[u]; b < userPtr[u + 1]; b++) {
    baskets.push(Array.from(items.subarray(itemPtr[b], itemPtr[b + 1]), (i) => data.items.id(i)));
    days.push(day[b]);
  }
  return { baskets, days };
}

/** The manifest's customerData flag. */
function flag(bytes: Uint8Array): unknown {
  return (ArtifactReader.open(bytes).root as Record<string, unknown>).customerData;
}

/** Whether `needle` occurs in `bytes` as UTF-8. */
function contains(bytes: Uint8Array, needle: string): boolean {
  return Buffer.from(bytes).includes(Buffer.from(needle, 'utf8'));
}

describe('serving artifact (customerData: false)', async () => {
  const data = shopData();
  const rec = new HybridRecommender({ strategies: strategies() });
  await rec.fit(data, { seed: 5 });
  const full = rec.save();
  const serving = rec.save({ customerData: false });
  const fromFull = await HybridRecommender.load(full);
  const fromServing = await HybridRecommender.load(serving);

  it('holds no user id of the training data (the full artifact holds them all: the scan has teeth)', () => {
    expect(data.users.ids.every((id) => contains(full, id))).toBe(true);
    expect(data.users.ids.filter((id) => contains(serving, id))).toEqual([]);
    // The distinctive part alone: no id, no order id derived from one.
    expect(contains(serving, 'zq7')).toBe(false);
    expect(serving.byteLength).toBeLessThan(full.byteLength);
  });

  it('records customerData: false in the manifest, and the loaded recommender says so', () => {
    expect(flag(serving)).toBe(false);
    expect(flag(full)).toBe(true);
    expect(fromServing.customerData).toBe(false);
    expect(fromFull.customerData).toBe(true);
    expect(rec.customerData).toBe(true);
    expect(fromServing.dataset.nUsers).toBe(0);
    expect(fromServing.dataset.nBaskets).toBe(0);
    expect(fromServing.dataset.nItems).toBe(data.nItems);
    expect(fromServing.dataset.catalog.name).toEqual(data.catalog.name);
  });

  it('recommends for a request-borne history exactly as the full artifact does (every strategy, with cart and explain)', async () => {
    for (let u = 0; u < 12; u++) {
      const shopper = request(data, u);
      const cart = [shopper.baskets[0][0]];
      for (const s of [shopper, { ...shopper, basket: cart }, { history: shopper.baskets.flat() }, { basket: cart }]) {
        const expected = fromFull.recommend(s, { k: 10, explain: true });
        expect(expected.length).toBe(10);
        expect(fromServing.recommend(s, { k: 10, explain: true })).toEqual(expected);
      }
      // And as the model in memory, for the stored shopper (the request is the source of truth).
      expect(fromServing.recommend(shopper, { k: 10 })).toEqual(rec.recommend(shopper, { k: 10 }));
    }
    // Every strategy took part (none was silently left out of the serving model).
    const sources = new Set((await fromServing.recommendBatch([request(data, 0), request(data, 1), request(data, 2)], { k: 30 })).flat().flatMap((r) => Object.keys(r.sources)));
    for (const name of rec.strategyNames) expect(sources).toContain(name);
    expect(fromServing.similarItems(data.items.id(0), { k: 5 })).toEqual(fromFull.similarItems(data.items.id(0), { k: 5 }));
  });

  it('a user id is a NoCustomerDataError (an UnknownIdError), never a silent cold start', async () => {
    const id = data.users.id(0);
    expect(() => fromServing.recommend(id)).toThrow(NoCustomerDataError);
    expect(() => fromServing.recommend(id)).toThrow(/saved without customer data.*history/);
    expect(() => fromServing.recommend({ user: id, basket: [data.items.id(0)] })).toThrow(NoCustomerDataError);
    await expect(fromServing.recommendBatch([request(data, 0), id])).rejects.toThrow(/shoppers\[1\]/);
    const caught = (() => {
      try {
        fromServing.recommend(id);
      } catch (e) {
        return e;
      }
    })();
    expect(caught).toBeInstanceOf(UnknownIdError);
    expect(caught).toMatchObject({ kind: 'user', id });
    // The full artifact knows the user; a typo there stays a plain UnknownIdError.
    expect(fromFull.recommend(id, { k: 3 })).toEqual(rec.recommend(id, { k: 3 }));
    expect(() => fromFull.recommend('cust-typo')).toThrow(UnknownIdError);
    expect(() => fromFull.recommend('cust-typo')).not.toThrow(NoCustomerDataError);
  });

  it('stays a serving artifact when saved again, and a refit brings customer data back', async () => {
    const again = fromServing.save({ customerData: true });
    expect(flag(again)).toBe(false);
    expect(contains(again, 'zq7')).toBe(false);
    const reloaded = await HybridRecommender.load(again);
    expect(reloaded.recommend(request(data, 3), { k: 5 })).toEqual(fromFull.recommend(request(data, 3), { k: 5 }));
    const small = new HybridRecommender({ strategies: { itemknn: new ItemKNN() } });
    await small.fit(data);
    const s = await HybridRecommender.load(small.save({ customerData: false }));
    await s.fit(data);
    expect(s.customerData).toBe(true);
    expect(s.recommend(data.users.id(0), { k: 3 })).toEqual(small.recommend(data.users.id(0), { k: 3 }));
  });

  it('NeuMF keeps its mean user vectors for the fold-in, so its request scores match too', async () => {
    const neumf = new HybridRecommender({ strategies: { ncf: new NeuralCF({ epochs: 2, factors: 8, architecture: 'neumf', mlpLayers: [8], backend: 'cpu' }) }, fallback: null });
    await neumf.fit(data, { seed: 2 });
    const a = await HybridRecommender.load(neumf.save());
    const b = await HybridRecommender.load(neumf.save({ customerData: false }));
    for (let u = 0; u < 5; u++) expect(b.recommend(request(data, u), { k: 10, explain: true })).toEqual(a.recommend(request(data, u), { k: 10, explain: true }));
  });

  it('refuses a strategy that needs customer data to recommend (TIFU-KNN), naming it', async () => {
    const withTifu = new HybridRecommender({ strategies: { itemknn: new ItemKNN(), tifu: new TIFUKNN() } });
    await withTifu.fit(data);
    expect(() => withTifu.save({ customerData: false })).toThrow(OptionError);
    expect(() => withTifu.save({ customerData: false })).toThrow(/strategy "tifu".*TIFU-KNN cannot be saved without customer data/);
    expect(withTifu.save().byteLength).toBeGreaterThan(0);
  });

  it('checks its options', () => {
    expect(() => rec.save({ customerdata: false } as never)).toThrow(/did you mean "customerData"/);
    expect(() => rec.save({ customerData: 'no' } as never)).toThrow(OptionError);
  });
});

describe('hybridrec fit --serving', () => {
  it('writes a serving artifact, and inspect reads its manifest flag', async () => {
    const { program } = await import('../src/cli/program');
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'hybridrec-serving-'));
    try {
      const cli = async (...args: string[]) => {
        const out: string[] = [];
        const io = { out: (t: string) => out.push(t), err: () => {}, signal: new AbortController().signal, argv: args };
        await program(io).parseAsync(['node', 'hybridrec', ...args]);
        return out.join('\n');
      };
      const file = join(dir, 'serving.hrec');
      await cli('fit', '--synthetic', '--users', '60', '--products', '80', '--strategies', 'repeat,itemknn', '--weights', 'equal', '--serving', '-o', file, '-q');
      const bytes = new Uint8Array(await readFile(file));
      expect(flag(bytes)).toBe(false);
      expect((await HybridRecommender.load(bytes)).customerData).toBe(false);
      expect(JSON.parse(await cli('inspect', file, '--json')).customerData).toBe(false);
      expect(await cli('inspect', file)).toContain('customer data: no (a serving artifact');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the HTTP server on a serving artifact', () => {
  it('answers GET /recommend?user= with 404 NoCustomerDataError, and a posted history as in process', async () => {
    const { createServer } = await import('../src/server/index');
    const data = shopData();
    const rec = new HybridRecommender({ strategies: { repeat: new RepeatPurchase(), itemknn: new ItemKNN() } });
    await rec.fit(data);
    const served = await HybridRecommender.load(rec.save({ customerData: false }));
    const server = await createServer(rec.save({ customerData: false }), { port: 0, workers: 0 });
    try {
      const base = await server.listen();
      const user = data.users.id(0);
      const res = await fetch(`${base}/recommend?user=${user}`);
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body.type).toBe('NoCustomerDataError');
      expect(body.error).toMatch(/saved without customer data/);
      const history = request(data, 0).baskets.flat();
      const posted = await fetch(`${base}/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ history, k: 5 }) });
      expect(posted.status).toBe(200);
      expect((await posted.json()).items).toEqual(JSON.parse(JSON.stringify(served.recommend({ history }, { k: 5 }))));
      expect((await (await fetch(`${base}/model`)).json()).model.customerData).toBe(false);
    } finally {
      await server.close();
    }
  }, 60_000);
});
