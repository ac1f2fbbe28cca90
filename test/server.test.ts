/**
 * The HTTP server example on an ephemeral port: every route must return exactly what the
 * recommender computes in process (JSON round trip included), and bad input must get a JSON
 * error with the right status.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecommendationServer } from '../examples/server';
import { fitDemoRecommender } from '../examples/shared';
import type { HybridRecommender } from '../src/index';

let rec: HybridRecommender;
let server: Server;
let base: string;

beforeAll(async () => {
  rec = (await fitDemoRecommender({ users: 200, products: 150, seed: 5, quiet: true, neural: false })).recommender;
  server = createRecommendationServer(rec);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done, fail) => server.close((e) => (e ? fail(e) : done())));
});

/** What a client sees of an in-process result after JSON (undefined fields dropped). */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

async function get(path: string): Promise<{ status: number; type: string | null; body: any }> {
  const res = await fetch(base + path);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

/** A known user, everything they bought, two of those items, and another item. */
function fixtures() {
  const data = rec.dataset;
  const user = data.users.id(3);
  const m = data.interactions;
  const bought = Array.from(m.indices.subarray(m.indptr[3], m.indptr[4]), (i) => data.items.id(i));
  return { user, bought, items: bought.slice(0, 2), other: data.items.id(data.nItems - 1) };
}

describe('server routes match the in-process recommender', () => {
  it('GET /health reports the model', async () => {
    const r = await get('/health');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.body).toEqual({ ok: true, users: rec.dataset.nUsers, items: rec.dataset.nItems, strategies: rec.strategyWeights });
  });

  it('GET /recommend with explain, k and excludePurchased', async () => {
    const { user } = fixtures();
    const r = await get(`/recommend?user=${user}&k=7&explain=1`);
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(7);
    expect(r.body).toEqual(asJson(rec.recommend(user, { k: 7, explain: true })));
    expect(r.body[0].because.length).toBeGreaterThan(0);
    expect(typeof r.body[0].reason).toBe('string');

    const plain = await get(`/recommend?user=${user}`);
    expect(plain.body).toEqual(asJson(rec.recommend(user, { k: 10 })));
    expect(plain.body[0].because).toBeUndefined();

    const fresh = await get(`/recommend?user=${user}&k=5&excludePurchased=1`);
    expect(fresh.body).toEqual(asJson(rec.recommend(user, { k: 5, excludePurchased: true })));
    const history = new Set(fixtures().bought);
    for (const r of fresh.body) expect(history.has(r.item)).toBe(false);
  });

  it('GET /recommend for an unknown user is an error, not a silent cold start', async () => {
    const r = await get('/recommend?user=nobody-knows-me&k=4&explain=1');
    expect(r).toMatchObject({ status: 400, body: { type: 'UnknownIdError', error: 'unknown user id "nobody-knows-me" (shopper)' } });
  });

  it('GET /similar', async () => {
    const { items } = fixtures();
    const r = await get(`/similar?item=${items[0]}&k=6&explain=1`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(asJson(rec.similarItems(items[0], { k: 6, explain: true })));
    expect(r.body.map((x: { item: string }) => x.item)).not.toContain(items[0]);
  });

  it('POST /recommend completes a cart, with and without a user', async () => {
    const { user, items } = fixtures();
    const anonymous = await post('/recommend', { basket: items, k: 5, explain: true });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual(asJson(rec.recommend({ basket: items }, { k: 5, explain: true })));
    for (const r of anonymous.body) expect(items).not.toContain(r.item);

    const known = await post('/recommend', { basket: items, user, k: 5 });
    expect(known.body).toEqual(asJson(rec.recommend({ basket: items, user }, { k: 5 })));
  });

  it('POST /recommend for a shopper the request brings: history, baskets and days, or a cold start', async () => {
    const { items, other } = fixtures();
    const r = await post('/recommend', { history: [items[0], items[0], items[1]], basket: [other], k: 8, explain: true });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(asJson(rec.recommend({ history: [items[0], items[0], items[1]], basket: [other] }, { k: 8, explain: true })));
    expect(r.body.map((x: { item: string }) => x.item)).not.toContain(other);

    const timeline = { baskets: [[items[0]], [items[0], items[1]]], days: [0, 9] };
    expect((await post('/recommend', { ...timeline, k: 6 })).body).toEqual(asJson(rec.recommend(timeline, { k: 6 })));

    const cold = await post('/recommend', { history: [] });
    expect(cold.body).toEqual(asJson(rec.recommend({ history: [] }, { k: 10 })));
    expect(cold.body).toHaveLength(10);
    expect(await post('/recommend', {})).toMatchObject({ status: 400, body: { type: 'OptionError' } });
  });
});

describe('server errors', () => {
  it('unknown item ids are 400 UnknownIdError', async () => {
    const similar = await get('/similar?item=no-such-item');
    expect(similar).toMatchObject({ status: 400, body: { type: 'UnknownIdError', error: 'unknown item id "no-such-item" (itemId)' } });
    const basket = await post('/recommend', { basket: [fixtures().items[0], 'nope'] });
    expect(basket).toMatchObject({ status: 400, body: { type: 'UnknownIdError', error: 'unknown item id "nope" (shopper.basket[1])' } });
    const anonymous = await post('/recommend', { history: ['nope'] });
    expect(anonymous).toMatchObject({ status: 400, body: { type: 'UnknownIdError' } });
  });

  it('bad k and missing parameters are 400', async () => {
    const { user } = fixtures();
    for (const k of ['-1', 'abc', '1.5', '1001']) {
      const r = await get(`/recommend?user=${user}&k=${k}`);
      expect(r.status, `k=${k}`).toBe(400);
      expect(r.body.type).toBe('BadRequest');
      expect(r.body.error).toContain('k must be an integer');
    }
    expect((await post('/recommend', { basket: [], k: -2 })).status).toBe(400);
    expect(await get('/recommend')).toMatchObject({ status: 400, body: { type: 'BadRequest', error: 'missing query parameter "user"' } });
    expect(await get('/similar?item=')).toMatchObject({ status: 400, body: { type: 'BadRequest' } });
  });

  it('malformed bodies are 400', async () => {
    const broken = await post('/recommend', '{"basket": [');
    expect(broken.status).toBe(400);
    expect(broken.body.type).toBe('BadRequest');
    expect(broken.body.error).toMatch(/^request body is not a JSON object/);
    expect((await post('/recommend', '["a"]')).status).toBe(400);
    expect((await post('/recommend', 'null')).status).toBe(400);
    expect(await post('/recommend', { basket: 'a,b' })).toMatchObject({ status: 400, body: { type: 'OptionError', error: 'shopper.basket: must be an array of id strings, got "a,b"' } });
    expect(await post('/recommend', { basket: [1, 2] })).toMatchObject({ status: 400, body: { type: 'OptionError', error: 'shopper.basket[0]: ids are strings, got number 1' } });
    expect(await post('/recommend', { user: 1 })).toMatchObject({ status: 400, body: { type: 'OptionError', error: 'shopper.user: ids are strings, got number 1' } });
    expect(await post('/recommend', { items: ['a'] })).toMatchObject({ status: 400, body: { type: 'OptionError' } });
  });

  it('unknown routes and methods are 404', async () => {
    expect(await get('/nope')).toMatchObject({ status: 404, body: { type: 'NotFound', error: 'no route GET /nope' } });
    expect((await get('/complete-basket')).status).toBe(404);
    expect((await post('/complete-basket', { items: [] })).status).toBe(404);
    expect((await post('/health', {})).status).toBe(404);
  });
});
