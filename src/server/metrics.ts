/** Prometheus metrics of a server, on prom-client: one registry per server (never the global one). */
import type * as Prom from 'prom-client';
import type { ModelPool } from './pool';

export interface ServerMetrics {
  readonly registry: Prom.Registry;
  /** The recorder of one route pattern: counts each finished request and records its latency, by method and status. */
  route(route: string): (method: string, status: number, seconds: number) => void;
  swapped(ok: boolean): void;
}

/** Latency buckets in seconds: sub-millisecond scoring up to multi-second stalls. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(prom: typeof Prom, pool: ModelPool): ServerMetrics {
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: 'hybridrec_' });
  const requests = new prom.Counter({
    name: 'hybridrec_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new prom.Histogram({
    name: 'hybridrec_http_request_duration_seconds',
    help: 'Time from request received to response sent, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const swaps = new prom.Counter({
    name: 'hybridrec_model_swaps_total',
    help: 'Hot swaps to a new model file, by result (ok: serving it; error: the old model kept serving)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new prom.Gauge({
    name: 'hybridrec_model_generation',
    help: 'How many models this server has served (1 before any swap)',
    registers: [registry],
    collect() {
      this.set(pool.generation);
    },
  });
  new prom.Gauge({
    name: 'hybridrec_scoring_pending',
    help: 'Requests sent to the scoring workers and not yet answered',
    registers: [registry],
    collect() {
      this.set(pool.pending);
    },
  });
  new prom.Gauge({
    name: 'hybridrec_scoring_workers',
    help: 'Worker threads that score (0: scoring on the HTTP thread)',
    registers: [registry],
    collect() {
      this.set(pool.workers);
    },
  });
  return {
    registry,
    route(route) {
      // Each label set's child, found by one string key: prom-client hashes the label object on every labels() call.
      const counted = new Map<string, Prom.Counter.Internal>();
      const timed = new Map<string, Prom.Histogram.Internal<'route' | 'method'>>();
      return (method, status, seconds) => {
        const countKey = `${method} ${status}`;
        let count = counted.get(countKey);
        if (count === undefined) counted.set(countKey, (count = requests.labels({ route, method, status: String(status) })));
        count.inc();
        let time = timed.get(method);
        if (time === undefined) timed.set(method, (time = latency.labels({ route, method })));
        time.observe(seconds);
      };
    },
    swapped(ok) {
      swaps.inc({ result: ok ? 'ok' : 'error' });
    },
  };
}
