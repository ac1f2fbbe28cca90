/**
 * Load test of the HTTP server (not a test: figures go to benchmarks/results/server-load.json).
 * Fits a seeded synthetic model, starts each server in its own process on 127.0.0.1, warms it
 * up, then autocannon sends `--requests` requests at `--connections` concurrency, bounded by a
 * per-request timeout and an overall deadline. Reports errors, non-2xx, p50/p99 latency and
 * requests/s, side by side:
 *   - hybridrec/server (fastify; `hybridrec serve` from the sources) with 2 scoring workers
 *     (every core here), 1, and 0 (scoring on the HTTP thread): GET /recommend?user=<next
 *     user>&k=10; with 2 workers also POST /recommend with a history in the body (the
 *     serving-artifact path) and GET /popular (no personal scoring: the HTTP and thread cost);
 *     `--workers 2` runs only the 2-worker rows (a shorter --compare on a busy machine);
 *   - with `--compare <git rev>[,<rev>...]`: hybridrec/server of each rev (2 workers, same model file,
 *     same GET and POST routes) from a temporary git worktree, alternating with this checkout
 *     round by round (`--rounds`, default 3 with --compare, else 1; the order flips every
 *     round), so both see the same machine; each row is then the median over the rounds (the
 *     JSON goes to server-load-compare.json);
 *   - the old node:http examples/server.ts of `--baseline <git rev>` (default main before
 *     the server: 41fa1b9), checked out into a temporary git worktree, on a model its own code
 *     fits on the same synthetic shop (today's artifacts do not load there), same GET route.
 *
 * Requests/s is requests over the time from the start to the last answer, measured here
 * (autocannon's duration, and its promise, end on whole seconds). Each row also gives the server process's CPU time per request (every thread;
 * Linux /proc) and the load generator's, which a busy machine disturbs far less than latency.
 *
 * The load generator shares the 2 cores with the server. `--client wrk` sends the same
 * requests in the same order, at the same concurrency, with wrk (C, one thread, a Lua script;
 * Debian package wrk) instead of autocannon: about a third of autocannon's CPU per request, so
 * the rows show what the server does when the client takes less of the machine. Its JSON goes
 * to server-load-wrk.json (server-load-compare-wrk.json with --compare); latencies in ms with
 * a decimal.
 *
 *   npx tsx benchmarks/server-load.ts [--requests 20000] [--connections 50] [--users 2000] [--products 1500] [--baseline 41fa1b9] [--no-baseline] [--compare <rev>] [--rounds n] [--client autocannon|wrk] [--workers 2,1,0]
 *
 * The machine is shared: run it when it is quiet, and compare the rows of one run.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fitDemoRecommender } from '../examples/shared';
import { describeMachine, machine, median, procCpuSeconds } from './machine';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const REQUESTS = Number(flag('requests', '20000'));
const CONNECTIONS = Number(flag('connections', '50'));
const USERS = Number(flag('users', '2000'));
const PRODUCTS = Number(flag('products', '1500'));
const BASELINE = flag('baseline', '41fa1b9');
const COMPARE = flag('compare', '');
const ROUNDS = Number(flag('rounds', COMPARE ? '3' : '1'));
const CLIENT = flag('client', 'autocannon');
const WORKERS = flag('workers', '2,1,0').split(',').map(Number);
if (WORKERS.some((w) => !Number.isInteger(w) || w < 0)) throw new Error(`--workers is a list of worker counts such as 2,1,0, not ${flag('workers', '')}`);
if (CLIENT !== 'autocannon' && CLIENT !== 'wrk') throw new Error(`--client is autocannon or wrk, not ${CLIENT}`);
const DEADLINE_S = 180;

/** One route's requests, sent in this order over and over (by any connection that is free). */
interface RouteLoad {
  route: string;
  requests: Array<{ method: 'GET' | 'POST'; path: string; body?: string }>;
}

/** What one load run measured, whichever client sent it. */
interface Measured {
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Start to the last answer. */
  seconds: number;
  clientCpuMs: number;
}

interface Row extends Omit<Measured, 'clientCpuMs'> {
  server: string;
  route: string;
  client: string;
  requestsPerSecond: number;
  /** CPU milliseconds of the server process (all threads) and of this process (the load generator), per 1,000 requests. */
  serverCpuMsPer1k: number | null;
  clientCpuMsPer1k: number;
  /** Load average (1 min) when the row finished. */
  load: number;
  /** With --rounds > 1: every round's p99 and requests/s, in order (the fields above are medians). */
  rounds?: Array<{ p99Ms: number; requestsPerSecond: number; serverCpuMsPer1k: number | null }>;
}

/** Starts `command` and resolves with its base URL once it prints "http://127.0.0.1:<port>". */
function start(command: string[], cwd: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, command, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const m = /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/.exec(text);
      if (m) resolve({ proc, url: `http://127.0.0.1:${m[1]}` });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${text}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const force = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(force);
}

/** CPU milliseconds (user + system, every thread) a process has used, from /proc; null where there is none. */
function processCpuMs(pid: number): number | null {
  const seconds = procCpuSeconds(`/proc/${pid}/stat`);
  return seconds === null ? null : seconds * 1000;
}

/** The route's requests through autocannon; one counter walks the list, as every connection asks for the next. */
async function cannon(url: string, load: RouteLoad, amount: number): Promise<Measured> {
  const { requests } = load;
  let next = 0;
  const request: autocannon.Request =
    requests.length === 1
      ? { ...requests[0], ...(requests[0].body ? { headers: { 'content-type': 'application/json' } } : {}) }
      : {
          method: requests[0].method,
          ...(requests[0].body ? { headers: { 'content-type': 'application/json' } } : {}),
          setupRequest: (req) => {
            const r = requests[next++ % requests.length];
            return { ...req, path: r.path, ...(r.body ? { body: r.body } : {}) };
          },
        };
  const started = performance.now();
  const cpu = process.cpuUsage();
  // autocannon finishes on its one-second tick, not at the last answer: time up to the last answer.
  let last = started;
  let deadline: NodeJS.Timeout | undefined;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections: CONNECTIONS, amount, timeout: 10, requests: [request] }, (e, res) => (e ? reject(e) : resolve(res)));
    instance.on('response', () => (last = performance.now()));
    deadline = setTimeout(() => instance.stop(), DEADLINE_S * 1000);
  });
  clearTimeout(deadline);
  const used = process.cpuUsage(cpu);
  return {
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    seconds: (last - started) / 1000,
    clientCpuMs: (used.user + used.system) / 1000,
  };
}

/** A Lua string literal in long brackets, of a level the text does not close. */
function luaString(text: string): string {
  let eq = '';
  while (text.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${text}]${eq}]`;
}

/**
 * wrk's script: the route's requests pre-formatted, sent in order by one thread over every
 * connection; after `amount` answers it prints the seconds from its first request to that
 * answer and stops (wrk itself then waits for SIGINT to print done()'s summary).
 */
function wrkScript(load: RouteLoad, amount: number): string {
  const list = load.requests.map((r) => `{${luaString(r.method)}, ${luaString(r.path)}, ${r.body === undefined ? 'nil' : luaString(r.body)}}`).join(',\n');
  return `local ffi = require('ffi')
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } load_timespec; int clock_gettime(int clock, load_timespec *t); ]]
local ts = ffi.new('load_timespec')
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9 end
local list = {${list}}
local formatted = {}
-- In init: wrk.host (the Host header) is set by then.
init = function(args)
  for i, r in ipairs(list) do
    formatted[i] = wrk.format(r[1], r[2], r[3] and { ['Content-Type'] = 'application/json' } or {}, r[3])
  end
end
local sent, answered, started = 0, 0, nil
request = function()
  if started == nil then started = now() end
  sent = sent + 1
  return formatted[((sent - 1) % #formatted) + 1]
end
response = function(status, headers, body)
  answered = answered + 1
  if answered == ${amount} then
    io.write(string.format('LOAD-DONE %.6f\\n', now() - started))
    io.flush()
    wrk.thread:stop()
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('LOAD-SUMMARY %d %d %d %d %d %d %d %d\\n', summary.requests, e.connect + e.read + e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

/** The route's requests through wrk (one thread, `CONNECTIONS` connections). */
async function wrk(url: string, load: RouteLoad, amount: number, work: string): Promise<Measured> {
  const script = join(work, 'load.lua');
  await writeFile(script, wrkScript(load, amount));
  const proc = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DEADLINE_S}s`, '--timeout', '10s', '-s', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let seconds = DEADLINE_S;
  let cpuMs: number | null = null;
  await new Promise<void>((resolve, reject) => {
    proc.once('error', reject);
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const done = /LOAD-DONE ([0-9.]+)/.exec(out);
      if (done && cpuMs === null) {
        seconds = Number(done[1]);
        cpuMs = processCpuMs(proc.pid!); // before wrk prints its summary
        proc.kill('SIGINT');
      }
    });
    proc.once('exit', () => resolve());
  });
  const m = /LOAD-SUMMARY (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(out);
  if (!m) throw new Error(`wrk gave no summary:\n${out}`);
  const [requests, errors, timeouts, non2xx, p50, p90, p99, max] = m.slice(1).map(Number);
  const ms = (us: number) => Number((us / 1000).toFixed(1));
  return { requests, errors, timeouts, non2xx, p50Ms: ms(p50), p90Ms: ms(p90), p99Ms: ms(p99), maxMs: ms(max), seconds, clientCpuMs: cpuMs ?? 0 };
}

function row(server: string, route: string, m: Measured, serverCpuMs: number | null): Row {
  const per1k = (ms: number) => Number(((ms * 1000) / Math.max(1, m.requests)).toFixed(1));
  return {
    server,
    route,
    client: CLIENT,
    requests: m.requests,
    errors: m.errors,
    timeouts: m.timeouts,
    non2xx: m.non2xx,
    p50Ms: m.p50Ms,
    p90Ms: m.p90Ms,
    p99Ms: m.p99Ms,
    maxMs: m.maxMs,
    requestsPerSecond: Math.round(m.requests / m.seconds),
    seconds: Number(m.seconds.toFixed(2)),
    serverCpuMsPer1k: serverCpuMs === null ? null : per1k(serverCpuMs),
    clientCpuMsPer1k: per1k(m.clientCpuMs),
    load: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) || 0,
  };
}

function print(r: Row): void {
  const cpu = r.serverCpuMsPer1k === null ? '' : `  server CPU ${r.serverCpuMsPer1k} ms/1k req  client ${r.clientCpuMsPer1k}`;
  console.log(`  ${r.server.padEnd(32)} ${r.route.padEnd(26)} ${String(r.requests).padStart(6)} req  errors ${r.errors + r.timeouts}  non-2xx ${r.non2xx}  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ${r.requestsPerSecond} req/s${cpu}  load ${r.load}`);
}

async function measure(server: string, proc: ChildProcess, url: string, routes: RouteLoad[], work: string): Promise<Row[]> {
  const rows: Row[] = [];
  const send = (load: RouteLoad, amount: number) => (CLIENT === 'wrk' ? wrk(url, load, amount, work) : cannon(url, load, amount));
  for (const load of routes) {
    await send(load, Math.min(2000, REQUESTS)); // warm-up: JIT, connections, workers
    const before = processCpuMs(proc.pid!);
    const m = await send(load, REQUESTS);
    const after = processCpuMs(proc.pid!);
    const r = row(server, load.route, m, before === null || after === null ? null : after - before);
    print(r);
    rows.push(r);
  }
  return rows;
}

/** One row per server and route: the median of each figure over the rounds, errors summed. */
function medians(rounds: Row[][]): Row[] {
  const byKey = new Map<string, Row[]>();
  for (const r of rounds.flat()) {
    const key = `${r.server}\u0000${r.route}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return [...byKey.values()].map((rs) => {
    if (rs.length === 1) return rs[0];
    const mid = (f: (r: Row) => number) => median(rs.map(f));
    const cpu = rs.every((r) => r.serverCpuMsPer1k !== null) ? mid((r) => r.serverCpuMsPer1k!) : null;
    return {
      ...rs[0],
      requests: rs.reduce((n, r) => n + r.requests, 0),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      timeouts: rs.reduce((n, r) => n + r.timeouts, 0),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      p50Ms: mid((r) => r.p50Ms),
      p90Ms: mid((r) => r.p90Ms),
      p99Ms: mid((r) => r.p99Ms),
      maxMs: mid((r) => r.maxMs),
      requestsPerSecond: mid((r) => r.requestsPerSecond),
      seconds: mid((r) => r.seconds),
      serverCpuMsPer1k: cpu,
      clientCpuMsPer1k: mid((r) => r.clientCpuMsPer1k),
      load: mid((r) => r.load),
      rounds: rs.map((r) => ({ p99Ms: r.p99Ms, requestsPerSecond: r.requestsPerSecond, serverCpuMsPer1k: r.serverCpuMsPer1k })),
    };
  });
}

/** A detached git worktree of `rev` in `dir` with this checkout's node_modules; removed by the returned function. */
async function worktree(rev: string, dir: string): Promise<() => void> {
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, rev], { stdio: 'ignore' });
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  return () => execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  console.log(`server load test on ${describeMachine()}`);
  console.log(`  ${REQUESTS} requests per row at concurrency ${CONNECTIONS}, after ${Math.min(2000, REQUESTS)} warm-up requests; model: synthetic ${USERS} shoppers x ${PRODUCTS} products, seed 42, no NeuralCF`);
  const work = await mkdtemp(join(tmpdir(), 'hybridrec-load-'));
  const model = join(work, 'model.hrec');
  const { recommender } = await fitDemoRecommender({ users: USERS, products: PRODUCTS, neural: false, quiet: true });
  await writeFile(model, recommender.save());
  const data = recommender.dataset;
  const userIds = Array.from({ length: data.nUsers }, (_, u) => data.users.id(u));
  const m = data.interactions;
  const histories = userIds.slice(0, 200).map((_, u) => Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]), (i) => data.items.id(i)));
  const getUser: RouteLoad = { route: 'GET /recommend?user&k=10', requests: userIds.map((id) => ({ method: 'GET', path: `/recommend?user=${encodeURIComponent(id)}&k=10` })) };
  const postHistory: RouteLoad = { route: 'POST /recommend {history}', requests: histories.map((history) => ({ method: 'POST', path: '/recommend', body: JSON.stringify({ history, k: 10 }) })) };
  const getPopular: RouteLoad = { route: 'GET /popular?k=10', requests: [{ method: 'GET', path: '/popular?k=10' }] };
  // Every core scoring (the default), one worker, and scoring on the HTTP thread: what the threads cost and buy.
  const ourRoutes = (workers: number): RouteLoad[] => (workers === 2 ? [getUser, postHistory, getPopular] : [getUser]);
  const servers: Array<{ name: string; tree: string; workers: number; routes: RouteLoad[] }> = WORKERS.map((workers) => ({
    name: `hybridrec/server (${workers} workers)`,
    tree: root,
    workers,
    routes: ourRoutes(workers),
  }));
  const removers: Array<() => void> = [];
  for (const [i, rev] of (COMPARE ? COMPARE.split(',') : []).entries()) {
    const tree = join(work, `compare-${i}`);
    removers.push(await worktree(rev, tree));
    servers.splice(1 + i, 0, { name: `@${rev} (2 workers)`, tree, workers: 2, routes: ourRoutes(2) });
  }
  const rounds: Row[][] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      if (ROUNDS > 1) console.log(`round ${round + 1} of ${ROUNDS}`);
      const rows: Row[] = [];
      for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
        const ours = await start(['--import', 'tsx', join(s.tree, 'src/cli/index.ts'), 'serve', model, '--port', '0', '--workers', String(s.workers)], s.tree);
        try {
          rows.push(...(await measure(s.name, ours.proc, ours.url, s.routes, work)));
        } finally {
          await stop(ours.proc);
        }
      }
      rounds.push(rows);
    }
  } finally {
    for (const remove of removers) remove();
  }
  const rows = medians(rounds);
  if (ROUNDS > 1) {
    console.log(`medians over ${ROUNDS} rounds:`);
    rows.forEach(print);
  }

  if (!args.includes('--no-baseline')) {
    // The old node:http example, from its own commit (its facade differs from today's).
    const tree = join(work, 'baseline');
    const remove = await worktree(BASELINE, tree);
    try {
      // Artifacts of today's format do not load in the old code: it fits the same synthetic shop itself.
      const oldModel = join(work, 'baseline.hrec');
      const fit = join(tree, 'fit-baseline.mts');
      await writeFile(
        fit,
        `import { writeFile } from 'node:fs/promises';\nimport { fitDemoRecommender } from './examples/shared';\nconst { recommender } = await fitDemoRecommender({ users: ${USERS}, products: ${PRODUCTS}, neural: false, quiet: true });\nawait writeFile(${JSON.stringify(oldModel)}, recommender.save());\n`,
      );
      execFileSync(process.execPath, ['--import', 'tsx', fit], { cwd: tree, stdio: 'ignore' });
      // It prints the port it was given, not the one it got: give it a free one.
      const old = await start(['--import', 'tsx', join(tree, 'examples/server.ts'), oldModel, '--port', String(await freePort())], tree);
      try {
        rows.push(...(await measure(`examples/server.ts @${BASELINE}`, old.proc, old.url, [getUser], work)));
      } finally {
        await stop(old.proc);
      }
    } finally {
      remove();
    }
  }
  await rm(work, { recursive: true, force: true });

  // A comparison is its own record: it does not replace the headline figures of this checkout.
  const out = join(root, `benchmarks/results/${COMPARE ? 'server-load-compare' : 'server-load'}${CLIENT === 'wrk' ? '-wrk' : ''}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ machine: machine(), requests: REQUESTS, connections: CONNECTIONS, rounds: ROUNDS, client: CLIENT, command: `npx tsx benchmarks/server-load.ts ${args.join(' ')}`.trim(), ...(COMPARE ? { compare: COMPARE } : {}), model: { users: USERS, products: PRODUCTS, seed: 42, strategies: recommender.strategyNames }, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
