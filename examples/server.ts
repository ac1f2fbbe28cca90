/**
 * A small HTTP recommendation service on node:http.
 *
 *   npx tsx examples/server.ts [model.hrec] [--port 8080]
 *
 * With a model file (written by `npx tsx examples/train-and-save.ts`), it serves that model;
 * without one it fits a small ensemble on synthetic data first. Endpoints (JSON):
 *   GET  /health
 *   GET  /recommend?user=ID&k=10&explain=1&excludePurchased=1    (a known shopper)
 *   GET  /similar?item=ID&k=10
 *   POST /recommend  { "user"?, "history"?, "baskets"?, "days"?, "basket"?, "k"?, "explain"?, "excludePurchased"? }
 *        the shopper as the request brings it (see Shopper): a cart to complete, a history
 *        from the shop's own database, { "history": [] } for a cold start
 * Errors are JSON { error, type } with 400 for bad input (unknown ids, bad k, ids that are not
 * strings) and 500 otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { HybridRecommender, HybridrecError, UnknownIdError, OptionError } from '../src/index';
import { loadArtifactFile } from '../src/node';
import { fitDemoRecommender, runIfMain } from './shared';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portFlag = args.indexOf('--port');
  const port = portFlag >= 0 ? Number(args[portFlag + 1]) : Number(process.env.PORT ?? 8080);
  const modelPath = args.find((a, i) => !a.startsWith('--') && (portFlag < 0 || i !== portFlag + 1));
  const rec = modelPath ? await HybridRecommender.load(await loadArtifactFile(modelPath)) : (await fitDemoRecommender({ users: 1000, products: 800, quiet: false })).recommender;
  const server = createRecommendationServer(rec);
  server.listen(port, () => console.log(`hybridrec server on http://localhost:${port} (${rec.dataset.nUsers} users, ${rec.dataset.nItems} items)`));
}

/** The request handler, exported so tests can run it on an ephemeral port. */
export function createRecommendationServer(rec: HybridRecommender) {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/health') {
        return send(res, 200, { ok: true, users: rec.dataset.nUsers, items: rec.dataset.nItems, strategies: rec.strategyWeights });
      }
      if (req.method === 'GET' && url.pathname === '/recommend') {
        const user = required(url.searchParams.get('user'), 'user');
        return send(res, 200, rec.recommend(user, {
          k: intParam(url.searchParams.get('k'), 10),
          explain: url.searchParams.get('explain') === '1',
          // Absent: keep the model's own setting.
          excludePurchased: url.searchParams.has('excludePurchased') ? url.searchParams.get('excludePurchased') === '1' : undefined,
        }));
      }
      if (req.method === 'GET' && url.pathname === '/similar') {
        const item = required(url.searchParams.get('item'), 'item');
        return send(res, 200, rec.similarItems(item, { k: intParam(url.searchParams.get('k'), 10), explain: url.searchParams.get('explain') === '1' }));
      }
      if (req.method === 'POST' && url.pathname === '/recommend') {
        const { k, explain, excludePurchased, ...shopper } = await readJson(req);
        // The recommender checks the shopper itself (ids are strings, lists are arrays, no unknown fields).
        return send(res, 200, rec.recommend(shopper, {
          k: intParam(k, 10),
          explain: explain === true,
          excludePurchased: excludePurchased === undefined ? undefined : excludePurchased === true,
        }));
      }
      return send(res, 404, { error: `no route ${req.method} ${url.pathname}`, type: 'NotFound' });
    } catch (e) {
      const err = e as Error;
      const clientError = e instanceof UnknownIdError || e instanceof OptionError || e instanceof BadRequest;
      return send(res, clientError ? 400 : 500, { error: err.message, type: e instanceof HybridrecError || e instanceof BadRequest ? err.name : 'Error' });
    }
  });
}

class BadRequest extends Error {
  override name = 'BadRequest';
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function required(v: string | null, name: string): string {
  if (v === null || v === '') throw new BadRequest(`missing query parameter "${name}"`);
  return v;
}

function intParam(v: unknown, fallback: number): number {
  if (v === null || v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new BadRequest(`k must be an integer in [0, 1000], got ${String(v)}`);
  return n;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) throw new BadRequest('request body over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    return body as Record<string, unknown>;
  } catch (e) {
    throw new BadRequest(`request body is not a JSON object: ${(e as Error).message}`);
  }
}

runIfMain(import.meta.url, main);
