import { availableParallelism } from 'node:os';
import { OptionError } from '../errors';
import { arrayOf, boolean, custom, integer, nullable, resolveOptions, string, type OptionChecks } from '../util/options';

export interface ServerOptions {
  /** Interface to listen on. Default '127.0.0.1': nothing outside the machine reaches it unless you say so (e.g. '0.0.0.0' in a container). */
  host: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port: number;
  /**
   * Worker threads that score, each holding the model (its arrays shared, see pool.ts). Default
   * os.availableParallelism(): every core scores while the HTTP thread parses, validates and
   * answers /health. 0 scores on the HTTP thread (small models, tests, your own processes).
   */
  workers: number;
  /** Origins allowed by CORS (exact, e.g. 'https://shop.example'). Default []: CORS off, browsers on other origins are refused. */
  cors: readonly string[];
  /**
   * Largest request body in bytes; bigger ones get 413. Default 1 MiB: a 10,000-item history
   * of 40-character ids is about 450 KB.
   */
  bodyLimit: number;
  /**
   * Most item ids in one list of a request (history, all lines of baskets, cart, exclude).
   * Default 10,000: the heaviest Instacart shopper has about 3,700 order lines. It bounds the
   * work of one request together with k <= maxK.
   */
  maxItems: number;
  /** Most shoppers in one POST /recommend/batch. Default 100. */
  maxBatch: number;
  /** Largest k. Default 1000. */
  maxK: number;
  /**
   * Largest k of a request with explain. Reasons cost each strategy an explanation per item:
   * k=1000 with explain took 231 ms and 680 KB of JSON on the 1,200-item test model against
   * 12 ms without, so an explained list is bounded like any other work. Default 100.
   */
  maxExplainK: number;
  /** Requests per worker the server may hold (running and waiting, in one queue for all workers) before it answers 503. Default 256. */
  maxQueue: number;
  /**
   * Bearer token for the admin routes (hot swap). Default null: admin routes answer loopback
   * clients only. Set one when a proxy on this host fronts the server.
   */
  adminToken: string | null;
  /** Log requests (fastify's pino logger, JSON lines on stdout). Default false. */
  logger: boolean;
  /** Milliseconds a graceful shutdown waits for requests in flight before it cuts connections. Default 10,000. */
  shutdownTimeout: number;
}

export const SERVER_DEFAULTS: Readonly<ServerOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  workers: availableParallelism(),
  cors: Object.freeze([]) as readonly string[],
  bodyLimit: 1 << 20,
  maxItems: 10_000,
  maxBatch: 100,
  maxK: 1000,
  maxExplainK: 100,
  maxQueue: 256,
  adminToken: null,
  logger: false,
  shutdownTimeout: 10_000,
});

const origin = custom<string>((v) => typeof v === 'string' && /^https?:\/\/[^/\s]+$/.test(v), "an origin such as 'https://shop.example' (scheme and host, no path)");

const CHECKS: OptionChecks<ServerOptions> = {
  host: string(),
  port: integer({ min: 0, max: 65535 }),
  workers: integer({ min: 0, max: 256 }),
  cors: arrayOf(origin),
  bodyLimit: integer({ min: 1024 }),
  maxItems: integer({ min: 1 }),
  maxBatch: integer({ min: 1 }),
  maxK: integer({ min: 1, max: 100_000 }),
  maxExplainK: integer({ min: 1, max: 100_000 }),
  maxQueue: integer({ min: 1 }),
  adminToken: nullable((v, name) => {
    const token = string()(v, name);
    if (token.length < 16) throw new OptionError(name, 'must be at least 16 characters');
    return token;
  }),
  logger: boolean(),
  shutdownTimeout: integer({ min: 0 }),
};

export function resolveServerOptions(given: unknown): Readonly<ServerOptions> {
  return resolveOptions('ServerOptions', SERVER_DEFAULTS, given, CHECKS);
}
