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
 *   - the old node:http examples/server.ts of `--baseline <git rev>` (default main before
 *     the server: 41fa1b9), checked out into a temporary git worktree, on a model its own code
 *     fits on the same synthetic shop (today's artifacts do not load there), same GET route.
 *
 *   npx tsx benchmarks/server-load.ts [--requests 20000] [--connections 50] [--users 2000] [--products 1500] [--baseline 41fa1b9] [--no-baseline]
 *
 * The machine is shared: run it when it is quiet, and compare the rows of one run.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fitDemoRecommender } from '../examples/shared';
import { describeMachine, machine } from './machine';

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
const DEADLINE_S = 180;

interface Row {
  server: string;
  route: string;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerSecond: number;
  seconds: number;
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

async function cannon(url: string, requests: autocannon.Request[], amount: number): Promise<autocannon.Result> {
  const instance = autocannon({ url, connections: CONNECTIONS, amount, timeout: 10, requests });
  const deadline = setTimeout(() => (instance as unknown as { stop(): void }).stop(), DEADLINE_S * 1000);
  const result = await instance;
  clearTimeout(deadline);
  return result;
}

function row(server: string, route: string, r: autocannon.Result): Row {
  return {
    server,
    route,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    requestsPerSecond: Math.round(r.requests.total / (r.duration || 1)),
    seconds: Number(r.duration.toFixed(2)),
  };
}

async function measure(server: string, url: string, routes: Array<[string, autocannon.Request[]]>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [route, requests] of routes) {
    await cannon(url, requests, Math.min(2000, REQUESTS)); // warm-up: JIT, connections, workers
    const r = row(server, route, await cannon(url, requests, REQUESTS));
    console.log(`  ${server.padEnd(28)} ${route.padEnd(34)} ${String(r.requests).padStart(6)} req  errors ${r.errors + r.timeouts}  non-2xx ${r.non2xx}  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ${r.requestsPerSecond} req/s`);
    rows.push(r);
  }
  return rows;
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
  let n = 0;
  const getUser: autocannon.Request = { method: 'GET', setupRequest: (req) => ({ ...req, path: `/recommend?user=${encodeURIComponent(userIds[n++ % userIds.length])}&k=10` }) };
  const postHistory: autocannon.Request = {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => ({ ...req, path: '/recommend', body: JSON.stringify({ history: histories[n++ % histories.length], k: 10 }) }),
  };

  const getPopular: autocannon.Request = { method: 'GET', path: '/popular?k=10' };
  const rows: Row[] = [];
  // Every core scoring (the default), one worker, and scoring on the HTTP thread: what the threads cost and buy.
  for (const workers of [2, 1, 0]) {
    const ours = await start(['--import', 'tsx', join(root, 'src/cli/index.ts'), 'serve', model, '--port', '0', '--workers', String(workers)], root);
    try {
      const routes: Array<[string, autocannon.Request[]]> = [['GET /recommend?user&k=10', [getUser]]];
      if (workers === 2) routes.push(['POST /recommend {history}', [postHistory]], ['GET /popular?k=10', [getPopular]]);
      rows.push(...(await measure(`hybridrec/server (${workers} workers)`, ours.url, routes)));
    } finally {
      await stop(ours.proc);
    }
  }

  if (!args.includes('--no-baseline')) {
    // The old node:http example, from its own commit (its facade differs from today's).
    const tree = join(work, 'baseline');
    execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', tree, BASELINE], { stdio: 'ignore' });
    try {
      await symlink(join(root, 'node_modules'), join(tree, 'node_modules'));
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
        rows.push(...(await measure(`examples/server.ts @${BASELINE}`, old.url, [['GET /recommend?user&k=10', [getUser]]])));
      } finally {
        await stop(old.proc);
      }
    } finally {
      execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
    }
  }
  await rm(work, { recursive: true, force: true });

  const out = join(root, 'benchmarks/results/server-load.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ machine: machine(), requests: REQUESTS, connections: CONNECTIONS, model: { users: USERS, products: PRODUCTS, seed: 42, strategies: recommender.strategyNames }, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
