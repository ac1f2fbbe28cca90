/**
 * hybridrec/server on 127.0.0.1: routes answer exactly what the recommender computes in
 * process; strict parameters; 413 without EPIPE; CORS; /health while every worker is busy;
 * graceful close with a request in flight; hot swap under load; metrics and OpenAPI formats.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitDemoRecommender } from '../examples/shared';
import type { HybridRecommender } from '../src/index';
import { createServer, ModelPool, OverloadedError, type RecommendationServer } from '../src/server/index';
import { ServingModel, sha256Hex, type Task } from '../src/server/model';

let dir: string;
let rec: HybridRecommender;
let other: HybridRecommender;
let modelA: string;
let modelB: string;
let server: RecommendationServer;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hybridrec-server-'));
  rec = (await fitDemoRecommender({ users: 200, products: 150, seed: 5, quiet: true, neural: false })).recommender;
  other = (await fitDemoRecommender({ users: 120, products: 90, seed: 6, quiet: true, neural: false })).recommender;
  modelA = join(dir, 'a.hrec');
  modelB = join(dir, 'b.hrec');
  await writeFile(modelA, rec.save());
  await writeFile(modelB, other.save());
  // Two real worker threads: every answer below crosses the thread boundary.
  server = await createServer(modelA, { port: 0, workers: 2 });
  base = await server.listen();
}, 60_000);

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** What a client sees of an in-process result after JSON (undefined fields dropped). */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));

async function get(path: string, at = base) {
  const res = await fetch(at + path);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

async function post(path: string, body: unknown, at = base) {
  const res = await fetch(at + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

function fixtures() {
  const data = rec.dataset;
  const m = data.interactions;
  const bought = Array.from(m.indices.subarray(m.indptr[3], m.indptr[4]), (i) => data.items.id(i));
  return { user: data.users.id(3), bought, items: bought.slice(0, 2), other: data.items.id(data.nItems - 1) };
}

describe('routes answer what the recommender computes in process', () => {
  it('GET /recommend for a known user, with k, explain and excludePurchased', async () => {
    const { user, bought } = fixtures();
    const r = await get(`/recommend?user=${user}&k=7&explain=1`);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual(asJson(rec.recommend(user, { k: 7, explain: true })));
    expect(r.body.items).toHaveLength(7);
    expect(typeof r.body.items[0].reason).toBe('string');
    expect((await get(`/recommend?user=${user}`)).body.items).toEqual(asJson(rec.recommend(user, { k: 10 })));
    const fresh = await get(`/recommend?user=${user}&k=5&excludePurchased=true`);
    expect(fresh.body.items).toEqual(asJson(rec.recommend(user, { k: 5, excludePurchased: true })));
    for (const x of fresh.body.items) expect(bought).not.toContain(x.item);
  });

  it('the buy-again and discover lists, on GET and POST', async () => {
    const { user, bought } = fixtures();
    const again = await get(`/recommend?user=${user}&k=6&list=buy-again&explain=true`);
    expect(again.status).toBe(200);
    expect(again.body.items).toEqual(asJson(rec.recommend(user, { k: 6, list: 'buy-again', explain: true })));
    expect(again.body.items.length).toBeGreaterThan(0);
    for (const x of again.body.items) expect(bought).toContain(x.item);
    const discover = await post('/recommend', { user, k: 6, list: 'discover' });
    expect(discover.body.items).toEqual(asJson(rec.recommend(user, { k: 6, list: 'discover' })));
    expect(discover.body.items).toHaveLength(6);
    for (const x of discover.body.items) expect(bought).not.toContain(x.item);
    expect((await get(`/recommend?user=${user}&list=all`)).body).toEqual((await get(`/recommend?user=${user}`)).body);
    const bad = await get(`/recommend?user=${user}&list=again`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/list/);
  });

  it('POST /recommend with the history in the request (the serving-artifact path), and an explicit cold start', async () => {
    const { items, other } = fixtures();
    const history = [items[0], items[0], items[1]];
    const r = await post('/recommend', { history, basket: [other], k: 8, explain: true });
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual(asJson(rec.recommend({ history, basket: [other] }, { k: 8, explain: true })));
    expect(r.body.items.map((x: { item: string }) => x.item)).not.toContain(other);
    const timeline = [[items[0]], [items[0], items[1]]];
    const baskets = await post('/recommend', { baskets: timeline, days: [0, 7], k: 4 });
    expect(baskets.body.items).toEqual(asJson(rec.recommend({ baskets: timeline, days: [0, 7] }, { k: 4 })));
    const cold = await post('/recommend', { history: [], k: 3 });
    expect(cold.body.items).toEqual(asJson(rec.recommend({ history: [] }, { k: 3 })));
    expect((await get('/popular?k=3')).body).toEqual(cold.body);
  });

  it('basket completion, similar items and the batch route', async () => {
    const { user, items } = fixtures();
    const anonymous = await post('/complete-basket', { basket: items, k: 5, explain: true });
    expect(anonymous.body.items).toEqual(asJson(rec.recommend({ basket: items }, { k: 5, explain: true })));
    for (const x of anonymous.body.items) expect(items).not.toContain(x.item);
    const known = await post('/complete-basket', { basket: items, user });
    expect(known.body.items).toEqual(asJson(rec.recommend({ user, basket: items }, { k: 10 })));
    const similar = await get(`/similar?item=${items[0]}&k=6&explain=true`);
    expect(similar.body.items).toEqual(asJson(rec.similarItems(items[0], { k: 6, explain: true })));
    const batch = await post('/recommend/batch', { shoppers: [user, { history: items }], k: 3 });
    expect(batch.body.results).toEqual([{ items: asJson(rec.recommend(user, { k: 3 })) }, { items: asJson(rec.recommend({ history: items }, { k: 3 })) }]);
  });

  it('GET /model, /health and /ready', async () => {
    const model = await get('/model');
    expect(model.body.model).toMatchObject({ strategies: rec.strategyNames, users: rec.dataset.nUsers, items: rec.dataset.nItems, customerData: true });
    expect(model.body.model.sha256).toBe(sha256Hex(rec.save()));
    expect((await get('/health')).body).toEqual({ status: 'ok' });
    expect((await get('/ready')).body).toMatchObject({ ready: true, sha256: model.body.model.sha256 });
  });
});

describe('strict parameters, errors that name the field', () => {
  it('k is an integer 1..1000 written in decimal; explain is true, false, 1 or 0', async () => {
    const { user } = fixtures();
    for (const k of ['0x10', '1e2', '5.0', '+5', ' 5', '-1', '0', '1001', '', 'abc']) {
      const r = await get(`/recommend?user=${user}&k=${encodeURIComponent(k)}`);
      expect(r.status, `k=${k}`).toBe(400);
      expect(r.body).toMatchObject({ type: 'ValidationError', field: 'k' });
    }
    expect((await get(`/recommend?user=${user}&k=5&k=6`)).body).toMatchObject({ type: 'ValidationError', field: 'k' });
    expect((await get(`/recommend?user=${user}&k=1000`)).status).toBe(200);
    for (const explain of ['yes', 'TRUE', '2', '']) {
      expect((await get(`/recommend?user=${user}&explain=${explain}`)).body, explain).toMatchObject({ type: 'ValidationError', field: 'explain' });
    }
    for (const explain of ['true', 'false', '1', '0']) expect((await get(`/recommend?user=${user}&k=2&explain=${explain}`)).status).toBe(200);
    expect((await get(`/recommend?user=${user}&kk=5`)).body).toMatchObject({ type: 'ValidationError', field: 'kk', error: 'query parameter "kk" is not a known field' });
  });

  it('JSON bodies: "5", true and [5] are not k; 0x10 is not JSON; numbers are not ids; unknown fields are errors', async () => {
    for (const k of ['5', true, [5], 5.5, 0, 1001, null]) {
      const r = await post('/recommend', { history: [], k });
      expect(r.status, JSON.stringify(k)).toBe(400);
      expect(r.body).toMatchObject({ type: 'ValidationError', field: 'k', error: expect.stringContaining('"k"') });
    }
    expect(await post('/recommend', '{"history": [], "k": 0x10}')).toMatchObject({ status: 400, body: { type: 'BadJson' } });
    expect(await post('/recommend', { user: 12 })).toMatchObject({ status: 400, body: { type: 'ValidationError', field: 'user', error: 'field "user" must be string' } });
    expect(await post('/recommend', { history: [fixtures().items[0], 7] })).toMatchObject({ status: 400, body: { field: 'history[1]' } });
    expect(await post('/recommend/batch', { shoppers: [12] })).toMatchObject({ status: 400, body: { type: 'ValidationError' } });
    expect(await post('/recommend', { history: [], explain: 'true' })).toMatchObject({ status: 400, body: { field: 'explain' } });
    expect(await post('/recommend', { histroy: [] })).toMatchObject({ status: 400, body: { field: 'histroy', error: 'field "histroy" is not a known field' } });
    expect(await post('/recommend', '[]')).toMatchObject({ status: 400, body: { type: 'ValidationError' } });
    expect(await post('/complete-basket', { basket: [] })).toMatchObject({ status: 400, body: { field: 'basket' } });
  });

  it('explain is bounded: k <= 100 with explain (the per-request work bound)', async () => {
    const r = await get(`/recommend?user=${fixtures().user}&k=101&explain=1`);
    expect(r).toMatchObject({ status: 400, body: { type: 'ValidationError', field: 'explain' } });
    expect(r.body.error).toContain('k <= 100');
  });

  it('unknown ids are 404 UnknownIdError naming the field; unknown routes 404 NotFound', async () => {
    expect(await get('/recommend?user=nobody-knows-me')).toMatchObject({ status: 404, body: { type: 'UnknownIdError', field: 'user', error: expect.stringContaining('unknown user id "nobody-knows-me"') } });
    expect(await get('/similar?item=no-such-item')).toMatchObject({ status: 404, body: { type: 'UnknownIdError', field: 'item' } });
    expect(await post('/recommend', { history: [fixtures().items[0], 'nope'] })).toMatchObject({ status: 404, body: { type: 'UnknownIdError', field: 'history[1]' } });
    expect(await post('/complete-basket', { basket: ['nope'] })).toMatchObject({ status: 404, body: { field: 'basket[0]' } });
    expect(await get('/nope')).toMatchObject({ status: 404, body: { type: 'NotFound', error: 'no route GET /nope' } });
    expect((await post('/health', {})).status).toBe(404);
  });

  it("unknownItems 'skip' leaves unknown item ids out and lists them by field", async () => {
    const { items } = fixtures();
    const r = await post('/recommend', { history: [items[0], 'nope', items[1]], basket: ['gone'], k: 4, unknownItems: 'skip' });
    expect(r.status).toBe(200);
    expect(r.body.skipped).toEqual([{ id: 'gone', field: 'basket[0]' }, { id: 'nope', field: 'history[1]' }]);
    expect(r.body.items).toEqual(asJson(rec.recommend({ history: [items[0], items[1]] }, { k: 4 })));
    const batch = await post('/recommend/batch', { shoppers: [{ history: ['nope'] }], unknownItems: 'skip', k: 2 });
    expect(batch.body.skipped).toEqual([{ id: 'nope', field: 'shoppers[0].history[0]' }]);
    expect(await post('/recommend', { history: [], unknownItems: 'ignore' })).toMatchObject({ status: 400, body: { field: 'unknownItems' } });
  });

  it('10 concurrent 10 MB uploads all get 413 (none EPIPE or reset), with and without content-length', async () => {
    const url = new URL(base);
    const body = Buffer.alloc(10 << 20, 0x61);
    const upload = (chunked: boolean) =>
      new Promise<string>((resolve) => {
        const headers: Record<string, string | number> = { 'content-type': 'application/json' };
        if (!chunked) headers['content-length'] = body.length;
        const req = request({ host: url.hostname, port: url.port, path: '/recommend', method: 'POST', headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(`${res.statusCode} ${JSON.parse(text).type}`));
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
        if (chunked) {
          for (let i = 0; i < 160; i++) req.write(body.subarray(i << 16, (i + 1) << 16));
          req.end();
        } else req.end(body);
      });
    const results = await Promise.all([...Array.from({ length: 10 }, () => upload(false)), ...Array.from({ length: 10 }, () => upload(true))]);
    expect(results).toEqual(Array(20).fill('413 PayloadTooLarge'));
  });
});

describe('CORS', () => {
  it('is off by default and allows exactly the listed origins when configured', async () => {
    const plain = await fetch(`${base}/popular`, { headers: { origin: 'https://shop.example' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    const withCors = await createServer(modelA, { port: 0, workers: 0, cors: ['https://shop.example'] });
    try {
      const at = await withCors.listen();
      const preflight = await fetch(`${at}/recommend`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, POST');
      const allowed = await fetch(`${at}/popular`, { headers: { origin: 'https://shop.example' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      const other = await fetch(`${at}/popular`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await withCors.close();
    }
  });
});

describe('operations', () => {
  it('/health and /metrics answer while every worker is busy with heavy requests', async () => {
    const { user } = fixtures();
    let heavyDone = 0;
    const heavy = Array.from({ length: 16 }, (_, i) =>
      fetch(`${base}/recommend?user=${user}&k=${i % 2 ? 1000 : 100}&explain=${i % 2 ? 0 : 1}`).then(async (r) => {
        await r.arrayBuffer();
        heavyDone++;
        return r.status;
      }),
    );
    // Wait until the workers hold the heavy requests, then ask for /health.
    while (server.pool.pending < 4) await new Promise((r) => setImmediate(r));
    const health = await get('/health');
    const doneAtHealth = heavyDone;
    expect(health.status).toBe(200);
    expect(doneAtHealth).toBeLessThan(16);
    expect((await get('/metrics')).status).toBe(200);
    expect(await Promise.all(heavy)).toEqual(Array(16).fill(200));
  });

  it('the pool takes maxQueue requests per worker, answers them in-process exactly, and refuses the next with OverloadedError', async () => {
    const bytes = rec.save();
    const pool = await ModelPool.open(bytes, { workers: 2, maxQueue: 3 });
    const inline = await ServingModel.load(bytes);
    try {
      const data = rec.dataset;
      const tasks: Task[] = Array.from({ length: 6 }, (_, u) => ({ op: 'recommend', shopper: { user: data.users.id(u) }, options: { k: 50, explain: true } }));
      // run() decides synchronously: six accepted (2 workers x 3), the seventh refused.
      const accepted = tasks.map((t) => pool.run(t));
      expect(pool.pending).toBe(6);
      await expect(pool.run(tasks[0])).rejects.toBeInstanceOf(OverloadedError);
      expect(await Promise.all(accepted)).toEqual(await Promise.all(tasks.map((t) => inline.run(t))));
      expect(pool.pending).toBe(0);
      expect(await pool.run(tasks[1])).toBe(await inline.run(tasks[1]));
    } finally {
      await pool.close();
    }
  });

  it('/metrics is Prometheus text with per-route counts and latency histograms', async () => {
    const unmatched = async () => Number(/^hybridrec_http_requests_total\{route="unmatched",method="GET",status="404"\} (\d+)$/m.exec((await get('/metrics')).body as string)?.[1] ?? 0);
    const unmatchedBefore = await unmatched();
    await get('/popular?k=2');
    await get('/recommend?user=nobody');
    await get('/no/such/route');
    await get('/docs/json');
    const r = await get('/metrics');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = r.body as string;
    // prom-client writes NaN as "Nan" (the event-loop lag gauges before their first sample, a
    // timing that made this test flaky); Prometheus reads special values in any case.
    for (const line of text.split('\n')) {
      if (line === '') continue;
      expect(line, line).toMatch(/^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? -?[0-9.e+-]+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (NaN|Nan|[+-]Inf))$/);
    }
    expect(text).toMatch(/^hybridrec_http_requests_total\{route="\/popular",method="GET",status="200"\} [1-9]/m);
    expect(text).toMatch(/^hybridrec_http_requests_total\{route="\/recommend",method="GET",status="404"\} [1-9]/m);
    expect(text).toMatch(/^hybridrec_http_request_duration_seconds_bucket\{le="0\.005",route="\/popular",method="GET"\} \d+/m);
    expect(text).toMatch(/^hybridrec_http_request_duration_seconds_count\{route="\/popular",method="GET"\} [1-9]/m);
    // Every route is counted under its pattern (a plugin's route too), and a request no route matches under "unmatched", once.
    expect(text).toMatch(/^hybridrec_http_requests_total\{route="\/docs\/json",method="GET",status="200"\} [1-9]/m);
    expect(await unmatched()).toBe(unmatchedBefore + 1);
    expect(text).toMatch(/^hybridrec_http_request_duration_seconds_count\{route="unmatched",method="GET"\} [1-9]/m);
    expect(text).toMatch(/^hybridrec_scoring_workers 2$/m);
    expect(text).toMatch(/^# TYPE hybridrec_http_request_duration_seconds histogram$/m);
  });

  it('the OpenAPI document at /docs/json is valid OpenAPI 3 and documents every route; /docs is the Swagger UI', async () => {
    const doc = (await get('/docs/json')).body;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths).sort()).toEqual(['/admin/reload', '/complete-basket', '/health', '/metrics', '/model', '/popular', '/ready', '/recommend', '/recommend/batch', '/similar']);
    const k = doc.paths['/recommend'].get.parameters.find((p: { name: string }) => p.name === 'k');
    expect(k).toMatchObject({ in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } });
    expect(doc.paths['/recommend'].post.requestBody.content['application/json'].schema.properties.history.type).toBe('array');
    const ui = await get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.body).toContain('Swagger UI');
  });

  it('hot swap under load: no request fails, the new model serves after; a bad file leaves the old one serving', async () => {
    const shaA = sha256Hex(rec.save());
    let failures = 0;
    let answered = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const r = await fetch(`${base}/popular?k=5`);
        await r.arrayBuffer();
        if (r.status === 200) answered++;
        else failures++;
      }
    })();
    const swapped = await post('/admin/reload', { path: modelB });
    expect(swapped.status).toBe(200);
    expect(swapped.body.model.items).toBe(90);
    const model = await get('/model');
    expect(model.body.model.sha256).not.toBe(shaA);
    expect(model.body.model.items).toBe(90);
    // GET /popular is kept per model: the swap drops the old model's answers.
    const coldB = asJson({ items: other.recommend({ history: [] }, { k: 5 }) });
    expect((await get('/popular?k=5')).body).toEqual(coldB);

    const broken = join(dir, 'broken.hrec');
    const bytes = new Uint8Array(await (await import('node:fs/promises')).readFile(modelA));
    bytes[bytes.length - 5] ^= 0xff;
    await writeFile(broken, bytes);
    const bad = await post('/admin/reload', { path: broken });
    expect(bad).toMatchObject({ status: 500, body: { type: 'ArtifactError' } });
    expect(bad.body.error).toContain('checksum');
    expect((await get('/model')).body.model.items).toBe(90);

    const back = await post('/admin/reload', { path: modelA });
    expect(back.body.model.sha256).toBe(shaA);
    expect((await get('/popular?k=5')).body).toEqual(asJson({ items: rec.recommend({ history: [] }, { k: 5 }) }));
    expect(coldB).not.toEqual(asJson({ items: rec.recommend({ history: [] }, { k: 5 }) }));
    stop = true;
    await load;
    expect(failures).toBe(0);
    expect(answered).toBeGreaterThan(0);
    const metrics = (await get('/metrics')).body as string;
    expect(metrics).toMatch(/^hybridrec_model_swaps_total\{result="ok"\} 2$/m);
    expect(metrics).toMatch(/^hybridrec_model_swaps_total\{result="error"\} 1$/m);
  });

  it('admin routes need the token when one is set', async () => {
    const guarded = await createServer(modelA, { port: 0, workers: 0, adminToken: 'a-long-enough-token' });
    try {
      const at = await guarded.listen();
      expect(await post('/admin/reload', {}, at)).toMatchObject({ status: 403, body: { type: 'Forbidden' } });
      const admin = (body: unknown) =>
        fetch(`${at}/admin/reload`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: 'Bearer a-long-enough-token' } });
      expect((await admin({})).status).toBe(200);
      const missing = await admin({ path: join(dir, 'missing.hrec') });
      expect(missing.status).toBe(500);
      expect(await missing.json()).toMatchObject({ type: 'DataError', error: expect.stringContaining('missing.hrec') });
    } finally {
      await guarded.close();
    }
  });

  it('graceful close: a request in flight finishes, then the server stops listening', async () => {
    const closing = await createServer(modelA, { port: 0, workers: 1 });
    const at = await closing.listen();
    const { user } = fixtures();
    const inFlight = fetch(`${at}/recommend?user=${user}&k=100&explain=1`).then(async (r) => ({ status: r.status, body: await r.json() }));
    while (closing.pool.pending === 0) await new Promise((r) => setImmediate(r));
    const closed = closing.close();
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(100);
    await closed;
    await expect(fetch(`${at}/health`)).rejects.toThrow();
  });

  it('binds 127.0.0.1 unless told otherwise', () => {
    expect(server.options.host).toBe('127.0.0.1');
    expect(server.app.server.address()).toMatchObject({ address: '127.0.0.1' });
  });
});
