/**
 * The HTTP server: fastify routes over a ModelPool. Every route validates its input with the
 * JSON schemas of schemas.ts (no coercion, no unknown fields; a query string's integers and
 * booleans must be written canonically), the same schemas make the OpenAPI document at /docs,
 * errors are `{ error, type, field? }`, and /metrics exposes request counts and latency per
 * route for Prometheus.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import type * as Prom from 'prom-client';
// Types only (the schema fields summary, tags, hide; app.swagger()): the package loads at run time through loadOptional.
import type {} from '@fastify/swagger';
import { LIBRARY_VERSION } from '../ensemble/persist';
import { loadArtifactFile } from '../node';
import { OptionError } from '../errors';
import { loadOptional } from '../util/optional';
import { createMetrics } from './metrics';
import { requestField, type ModelInfo, type ServeRecommendOptions, type ShopperInput } from './model';
import { ModelPool, QUEUE_BYTES } from './pool';
import { resolveServerOptions, type ServerOptions } from './options';
import { schemas } from './schemas';

export interface RecommendationServer {
  readonly app: FastifyInstance;
  readonly pool: ModelPool;
  readonly options: Readonly<ServerOptions>;
  /** The model served now. */
  readonly model: ModelInfo;
  /** Starts listening on options.host:options.port; resolves to the base URL (no trailing slash). */
  listen(): Promise<string>;
  /** Hot swap to `path` (default: the file the server serves); rejects, old model serving, when it does not load. */
  reload(path?: string): Promise<ModelInfo>;
  /** Graceful shutdown: stop accepting, let requests in flight finish (up to shutdownTimeout), stop the workers. */
  close(): Promise<void>;
}

type Fastify = typeof import('fastify').default;
type Plugin = { default: (...args: never[]) => unknown };

/** The server's packages: optional peers of hybridrec, loaded only by hybridrec/server. */
async function dependencies() {
  const need = 'hybridrec/server';
  const fastify = ((await loadOptional<{ default: Fastify }>('fastify', need)).default) as Fastify;
  const swagger = (await loadOptional<Plugin>('@fastify/swagger', need)).default;
  const cors = (await loadOptional<Plugin>('@fastify/cors', need)).default;
  const promModule = await loadOptional<typeof Prom & { default?: typeof Prom }>('prom-client', need);
  // The interactive page is optional: without it /docs/json still serves the document.
  const swaggerUi = await loadOptional<Plugin>('@fastify/swagger-ui', need).then(
    (m) => m.default,
    () => null,
  );
  return { fastify, swagger, cors, prom: promModule.default ?? promModule, swaggerUi };
}

/** A server for the model in `model` (a .hrec file path, or artifact bytes). Call listen() to serve. */
export async function createServer(model: string | Uint8Array, options: Partial<ServerOptions> = {}): Promise<RecommendationServer> {
  const o = resolveServerOptions(options);
  const deps = await dependencies();
  let modelPath = typeof model === 'string' ? model : null;
  const pool = await ModelPool.open(typeof model === 'string' ? await loadArtifactFile(model) : model, {
    workers: o.workers,
    maxQueue: o.maxQueue,
    // A task is the validated body re-encoded (JSON.stringify of parsed JSON is no longer than it) plus a few options.
    queueBytes: Math.max(QUEUE_BYTES, 16 * Math.ceil(o.bodyLimit / 4)), // 4 x bodyLimit, a multiple of 4
  });
  const s = schemas({ maxItems: o.maxItems, maxBatch: o.maxBatch, maxK: o.maxK, maxExplainK: o.maxExplainK });
  const metrics = createMetrics(deps.prom, pool);

  const app = deps.fastify({
    logger: o.logger,
    bodyLimit: o.bodyLimit,
    // Strict: "5" is not an integer and [5] is not 5; unknown fields are errors, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  let closing = false;

  // Each route gets its own onResponse hook that knows its pattern (added as the route is
  // registered, for the plugins' routes too): a global hook would read it from
  // req.routeOptions, which builds an options object on every call.
  const observed = (route: string): onResponseHookHandler => {
    const record = metrics.route(route);
    return (req, reply, done) => {
      record(req.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
  };
  app.addHook('onRoute', (route) => {
    route.onResponse = [...[route.onResponse ?? []].flat(), observed(route.url)];
  });

  await app.register(deps.swagger as never, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'hybridrec', version: LIBRARY_VERSION, description: 'Product recommendations from purchase history. Errors are { error, type, field? }.' },
      tags: [{ name: 'recommend' }, { name: 'items' }, { name: 'operations' }],
    },
  });
  if (deps.swaggerUi) {
    await app.register(deps.swaggerUi as never, { routePrefix: '/docs' });
  } else {
    app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
    app.get('/docs', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/plain; charset=utf-8').send('The OpenAPI document is at /docs/json. For the interactive page: npm install @fastify/swagger-ui\n'),
    );
  }
  if (o.cors.length > 0) await app.register(deps.cors as never, { origin: [...o.cors], methods: ['GET', 'POST'] });

  // Per-request hooks take fastify's callback form: an async hook costs every request a
  // promise and a microtask turn. While shutting down, every answer closes its connection: a
  // keep-alive client would otherwise hold the server open.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const { status, body } = errorBody(error);
    if (status >= 500) req.log.error(error);
    if (status === 503) reply.header('retry-after', '1');
    return reply.status(status).send(body);
  });
  // fastify runs every lifecycle hook given to the not-found handler (its types declare only preValidation and preHandler).
  const unmatched: object = { onResponse: observed('unmatched') };
  app.setNotFoundHandler(unmatched, (req, reply) => reply.status(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}`, type: 'NotFound' }));
  app.addHook('onClose', async () => pool.close());

  // Not async: the handlers return this promise as it is (an async wrapper would add a promise and a microtask turn per request).
  const answer = (reply: FastifyReply, json: Promise<string>) => json.then((text) => reply.type('application/json; charset=utf-8').send(text));

  app.get('/recommend', strictQuery(s.recommendGet), (req, reply) => {
    const q = req.query as { user: string } & ServeRecommendOptions;
    return answer(reply, pool.run({ op: 'recommend', shopper: { user: q.user }, options: listOptions(q, o.maxExplainK) }));
  });
  app.post('/recommend', { schema: s.recommendPost }, (req, reply) => {
    const body = req.body as Record<string, unknown>;
    return answer(reply, pool.run({ op: 'recommend', shopper: shopperOf(body, o.maxItems, ''), options: listOptions(body, o.maxExplainK) }));
  });
  app.post('/recommend/batch', { schema: s.recommendBatch }, (req, reply) => {
    const body = req.body as { shoppers: ShopperInput[] } & Record<string, unknown>;
    const shoppers = body.shoppers.map((x, i) => (typeof x === 'string' ? x : shopperOf(x as Record<string, unknown>, o.maxItems, `shoppers[${i}].`)));
    return answer(reply, pool.run({ op: 'batch', shoppers, options: listOptions(body, o.maxExplainK) }));
  });
  app.post('/complete-basket', { schema: s.completeBasket }, (req, reply) => {
    const body = req.body as Record<string, unknown>;
    return answer(reply, pool.run({ op: 'recommend', shopper: shopperOf(body, o.maxItems, ''), options: listOptions(body, o.maxExplainK) }));
  });
  app.get('/similar', strictQuery(s.similar), (req, reply) => {
    const q = req.query as { item: string; k: number; explain: boolean };
    const { k, explain } = listOptions(q, o.maxExplainK);
    return answer(reply, pool.run({ op: 'similar', item: q.item, options: { k, explain } }));
  });
  app.get('/popular', strictQuery(s.popular), (req, reply) => answer(reply, pool.popular((req.query as { k: number }).k)));
  app.get('/model', { schema: s.model }, async () => ({ generation: pool.generation, model: pool.info }));
  app.get('/health', { schema: s.health }, async () => ({ status: 'ok' }));
  app.get('/ready', { schema: s.ready }, async (_req, reply) =>
    closing ? reply.status(503).send({ error: 'shutting down', type: 'ShuttingDown' }) : { ready: true, generation: pool.generation, sha256: pool.info.sha256 },
  );
  app.get('/metrics', { schema: s.metrics }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  const reload = async (path: string | null = modelPath): Promise<ModelInfo> => {
    if (path === null) throw new OptionError('path', 'the server was started from artifact bytes: name a model file to swap to');
    try {
      const info = await pool.swap(await loadArtifactFile(path));
      modelPath = path;
      metrics.swapped(true);
      app.log.info({ sha256: info.sha256, path }, 'model swapped');
      return info;
    } catch (e) {
      metrics.swapped(false);
      throw e;
    }
  };
  app.post('/admin/reload', { schema: s.reload }, async (req, reply) => {
    if (!adminAllowed(req, o.adminToken)) return reply.status(403).send({ error: 'admin routes need the admin token (or a loopback client when none is set)', type: 'Forbidden' });
    try {
      const model = await reload((req.body as { path?: string } | undefined)?.path ?? modelPath);
      return { generation: pool.generation, model };
    } catch (e) {
      const err = e as Error & { field?: string; section?: string };
      req.log.error(err);
      return reply.status(500).send({ error: err.message, type: err.name, ...(err.field ? { field: err.field } : {}) });
    }
  });

  let closed: Promise<void> | null = null;
  return {
    app,
    pool,
    options: o,
    get model() {
      return pool.info;
    },
    async listen() {
      await app.listen({ host: o.host, port: o.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : o.port;
      return `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
    },
    reload: (path?: string) => reload(path ?? modelPath),
    close() {
      closed ??= (async () => {
        closing = true;
        const cut = setTimeout(() => app.server.closeAllConnections(), o.shutdownTimeout);
        cut.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(cut);
        }
      })();
      return closed;
    },
  };
}

/** The shopper fields of a request body (options are the other fields), with the total-items bound. */
function shopperOf(body: Record<string, unknown>, maxItems: number, where: string): Exclude<ShopperInput, string> {
  const { user, history, baskets, days, basket } = body as Exclude<ShopperInput, string>;
  const lines = (baskets ?? []).reduce((n, b) => n + b.length, 0);
  if (lines > maxItems) throw new RequestError(`baskets hold ${lines} order lines, more than the ${maxItems} one request may carry`, `${where}baskets`);
  const shopper: Exclude<ShopperInput, string> = {};
  if (user !== undefined) shopper.user = user;
  if (history !== undefined) shopper.history = history;
  if (baskets !== undefined) shopper.baskets = baskets;
  if (days !== undefined) shopper.days = days;
  if (basket !== undefined) shopper.basket = basket;
  return shopper;
}

function listOptions(x: Record<string, unknown> | ServeRecommendOptions, maxExplainK: number): ServeRecommendOptions {
  const o = x as Partial<ServeRecommendOptions>;
  if (o.explain && (o.k ?? 10) > maxExplainK) {
    throw new RequestError(`explain takes k <= ${maxExplainK} (k=${o.k} asked): every reason costs each strategy an explanation; ask without explain for longer lists`, 'explain');
  }
  return {
    k: o.k ?? 10,
    explain: o.explain ?? false,
    ...(o.excludePurchased !== undefined ? { excludePurchased: o.excludePurchased } : {}),
    ...(o.list !== undefined && o.list !== 'all' ? { list: o.list } : {}),
    ...(o.exclude !== undefined ? { exclude: o.exclude } : {}),
    ...(o.unknownItems !== undefined ? { unknownItems: o.unknownItems } : {}),
  };
}

/** A bad request found after schema validation: 400 naming the field. */
class RequestError extends Error {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const INTEGER = /^[0-9]{1,9}$/;
const BOOLEANS = new Map<string, boolean>([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
]);

/**
 * A GET route's options: its schema, and a preValidation hook that turns the canonical
 * spellings of the query string's integer and boolean parameters into numbers and booleans
 * (k=10; explain=true, false, 1 or 0) and leaves anything else (k=0x10, k=1e3, k=+5,
 * explain=yes, a repeated k) as it came, for the schema to reject with a message naming the
 * field. AJV's own coercion would accept "0x10", "1e3" and [5]. The parameters to convert are
 * read from the schema once, here: per request the hook touches only them (reading the schema
 * back through req.routeOptions builds an options object on every call).
 */
function strictQuery<S extends { querystring: { properties: Record<string, { type?: string }> } }>(schema: S) {
  const named = (type: string) => Object.keys(schema.querystring.properties).filter((key) => schema.querystring.properties[key].type === type);
  const integers = named('integer');
  const booleans = named('boolean');
  const preValidation = (req: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    const q = req.query as Record<string, unknown>;
    for (const key of integers) {
      const value = q[key];
      if (typeof value === 'string' && INTEGER.test(value)) q[key] = Number(value);
    }
    for (const key of booleans) {
      const value = q[key];
      const canonical = typeof value === 'string' ? BOOLEANS.get(value) : undefined;
      if (canonical !== undefined) q[key] = canonical;
    }
    done();
  };
  return { schema, preValidation };
}

/** ajv's instancePath ("/history/3") as a field name ("history[3]"). */
function fieldName(path: string, missing?: string): string {
  const parts = path.split('/').filter(Boolean);
  if (missing) parts.push(missing);
  return parts.map((p, i) => (/^[0-9]+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The status and `{ error, type, field? }` body of an error. */
export function errorBody(error: FastifyError & { field?: string }): { status: number; body: { error: string; type: string; field?: string } } {
  if (error.validation && error.validation.length > 0) {
    const v = error.validation[0] as { instancePath: string; message?: string; params: Record<string, unknown> };
    const field = fieldName(v.instancePath, (v.params.missingProperty ?? v.params.additionalProperty) as string | undefined);
    const where = error.validationContext === 'querystring' ? 'query parameter' : 'field';
    const what = v.params.additionalProperty !== undefined ? 'is not a known field' : v.message ?? 'is invalid';
    return { status: 400, body: { error: field ? `${where} "${field}" ${what}` : `request ${error.validationContext ?? ''} ${what}`.trim(), type: 'ValidationError', ...(field ? { field } : {}) } };
  }
  const fieldOf = () => (typeof error.field === 'string' ? { field: requestField(error.field) } : {});
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: error.message, type: 'PayloadTooLarge' } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: error.message, type: 'UnsupportedMediaType' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: { error: error.message, type: 'BadJson' } };
  }
  switch (error.name) {
    case 'ValidationError':
      return { status: 400, body: { error: error.message, type: 'ValidationError', ...fieldOf() } };
    case 'UnknownIdError':
      return { status: 404, body: { error: error.message, type: 'UnknownIdError', ...fieldOf() } };
    // A user id sent to a serving artifact (saved without customer data): the history must come with the request.
    case 'NoCustomerDataError':
      return { status: 404, body: { error: error.message, type: 'NoCustomerDataError', ...fieldOf() } };
    case 'OptionError':
      return { status: 400, body: { error: error.message, type: 'OptionError', ...fieldOf() } };
    case 'OverloadedError':
      return { status: 503, body: { error: error.message, type: 'Overloaded' } };
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/.test(error.message))) return { status: 400, body: { error: error.message, type: 'BadJson' } };
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, body: { error: error.message, type: error.code ?? error.name } };
  }
  return { status: 500, body: { error: 'internal error (see the server log)', type: 'InternalError' } };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function adminAllowed(req: FastifyRequest, token: string | null): boolean {
  if (token === null) return LOOPBACK.has(req.socket.remoteAddress ?? '');
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
