/** benchmarks/server-load.ts results (server-load[-compare][-wrk].json): the HTTP server under load, one row per server and route. */
import type { Machine } from '../machine';
import { count, num, reproduce, table, variantHeading, type Renderer } from './format';

interface LoadRow {
  server: string;
  route: string;
  client: string;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerSecond: number;
  serverCpuMsPer1k: number;
  clientCpuMsPer1k: number;
  load: number;
  rounds?: Array<{ p99Ms: number; requestsPerSecond: number; serverCpuMsPer1k: number }>;
}

interface ServerLoad {
  machine: Machine;
  requests: number;
  connections: number;
  rounds: number;
  client: string;
  command: string;
  compare?: string;
  model: { users: number; products: number; strategies: string[] };
  rows: LoadRow[];
}

export const serverLoad: Renderer = {
  matches: (file) => file.startsWith('server-load'),
  render({ data, date }) {
    const d = data as unknown as ServerLoad;
    const rounds = d.rows.some((r) => r.rounds);
    const rows = d.rows.map((r) => [
      r.server,
      r.route,
      count(r.requests),
      String(r.errors + r.timeouts + r.non2xx),
      num(r.p50Ms),
      num(r.p90Ms),
      num(r.p99Ms),
      num(r.maxMs),
      count(r.requestsPerSecond),
      num(r.serverCpuMsPer1k),
      num(r.clientCpuMsPer1k),
      r.load.toFixed(2),
      ...(rounds ? [(r.rounds ?? []).map((x) => `${num(x.p99Ms)} ms / ${count(x.requestsPerSecond)}`).join(', ')] : []),
    ]);
    const loads = d.rows.map((r) => r.load);
    return {
      part: 'speed',
      topic: 'HTTP server under load (benchmarks/server-load.ts)',
      heading: variantHeading(d.command, date, `${d.client}, ${d.connections} connections${d.compare ? `, against ${d.compare}` : ''}`),
      date,
      body: [
        `Model: ${d.model.users.toLocaleString('en-US')} shoppers x ${d.model.products.toLocaleString('en-US')} products (synthetic, seed 42), strategies ${d.model.strategies.join(', ')}. ${d.requests.toLocaleString('en-US')} requests per row at ${d.connections} connections, client ${d.client}${d.rounds > 1 ? `; each row the median of ${d.rounds} alternating rounds` : ''}. Latency in ms; CPU in ms per 1,000 requests (server: every thread of its process; client: the load generator, which shares the 2 cores).`,
        '',
        table(['server', 'route', 'requests', 'failed', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'req/s', 'server CPU ms/1k', 'client CPU ms/1k', 'load', ...(rounds ? ['p99 / req/s per round'] : [])], rows),
        '',
        reproduce(d.command, d.machine, date, `load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}`),
      ].join('\n'),
    };
  },
};
