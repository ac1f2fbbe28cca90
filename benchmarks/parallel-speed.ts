/**
 * Parallel fits side by side with implicit 0.7.3, on one synthetic shop, in one run: ItemKNN
 * fit against implicit's CosineRecommender(K=50) fit on the same user x item matrix, each on 1
 * and 2 threads (OPENBLAS_NUM_THREADS = the thread count for implicit), repeated and
 * interleaved (ours 1, implicit 1, ours 2, implicit 2, again) so machine noise hits both alike;
 * CoPurchaseGraph and AssociationRules fits (no implicit counterpart) ride along for their own
 * speed-up. Reports medians and ratios of wall and of CPU time (all threads of the process;
 * implicit's from time.process_time), the load average after each round, checks that every
 * fitted model is bit-identical for every thread count, and writes
 * benchmarks/results/parallel-speed-<users>x<products>.json.
 *
 *   npx tsx benchmarks/parallel-speed.ts [--users 100000] [--products 20000] [--reps 5] [--max-threads 2] [--fits itemknn,graph,rules]
 *
 * `--fits itemknn` times ItemKNN against implicit alone (the issue-13 goal figure).
 *
 * The implicit side needs /usr/bin/python3 with numpy and scipy and implicit on PYTHONPATH
 * (default ../shared/peers/implicit-0.7.3; see its README); without them it is skipped with a
 * message and only our own figures are reported. Set PYTHON to use another interpreter.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installWorkerPool } from '../src/node/pool';
import { AssociationRules } from '../src/strategies/association-rules';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { ItemKNN } from '../src/strategies/item-knn';
import type { Recommender } from '../src/strategies/types';
import { syntheticDataset } from '../examples/shared';
import { arg, describeMachine, machine, median, textArg, threadScalingRows } from './machine';

const root = fileURLToPath(new URL('..', import.meta.url));
const users = arg('users', 100_000);
const products = arg('products', 20_000);
const reps = arg('reps', 5);
const maxThreads = arg('max-threads', 2);
const others = textArg('fits', 'itemknn,graph,rules').split(',').filter((name) => name === 'graph' || name === 'rules');
const K = 50;
const threadCounts = Array.from({ length: maxThreads }, (_, t) => t + 1);
const python = process.env.PYTHON ?? '/usr/bin/python3';
const implicitPath = process.env.IMPLICIT_PATH ?? join(root, '..', 'shared', 'peers', 'implicit-0.7.3');

// Other processes' load, before and after: the timings are only comparable side by side when it was high.
const loadBefore = loadavg()[0];
console.log(`machine: ${describeMachine()}, load average ${loadBefore.toFixed(1)}`);
let t0 = performance.now();
const data = syntheticDataset(users, products);
const m = data.interactions;
let work = 0;
for (let u = 0; u < m.nRows; u++) work += (m.indptr[u + 1] - m.indptr[u]) ** 2;
console.log(
  `data: ${data.nUsers} users x ${data.nItems} items, ${m.nnz} nonzeros, ${(work / 1e9).toFixed(2)} G multiply-adds ` +
    `(sum of distinct items^2 over users), generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const implicitEnv = { ...process.env, PYTHONPATH: [implicitPath, process.env.PYTHONPATH].filter(Boolean).join(':') };
const probe = existsSync(python) ? spawnSync(python, ['-c', 'import implicit, scipy, numpy; print(implicit.__version__)'], { env: implicitEnv, encoding: 'utf8' }) : null;
const implicitVersion = probe?.status === 0 ? probe.stdout.trim() : null;
if (implicitVersion === null) {
  console.log(`implicit side skipped: ${probe === null ? `${python} not found` : `cannot import implicit (PYTHONPATH ${implicitPath}): ${probe.stderr.trim().split('\n').pop()}`}`);
} else console.log(`peer: implicit ${implicitVersion} (${python}, PYTHONPATH ${implicitPath})`);

// The same matrix for implicit, as raw arrays.
const matrixDir = mkdtempSync(join(tmpdir(), 'hybridrec-parallel-speed-'));
writeFileSync(join(matrixDir, 'meta.json'), JSON.stringify({ nRows: m.nRows, nCols: m.nCols }));
writeFileSync(join(matrixDir, 'indptr.i32'), m.indptr);
writeFileSync(join(matrixDir, 'indices.i32'), m.indices);
writeFileSync(join(matrixDir, 'values.f32'), m.values);

function implicitFit(threads: number): { fitSeconds: number; cpuSeconds: number } {
  const run = spawnSync(python, [join(root, 'benchmarks', 'implicit-itemknn-fit.py'), matrixDir, '--threads', String(threads), '--k', String(K)], {
    env: { ...implicitEnv, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`implicit fit failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { fitSeconds: number; cpuSeconds: number };
}

// Start the workers before timing (a one-time cost per process, reported apart).
// Kept alive between fits: with the default 5 s idle timeout the workers exited during the implicit
// and 1-thread runs and started again (module loading included) inside each timed multi-thread fit.
const pool = installWorkerPool({ threads: maxThreads, idleTimeout: 3_600_000 });
t0 = performance.now();
await new ItemKNN().fit(syntheticDataset(2000, 500), { threads: maxThreads });
const poolStartMs = performance.now() - t0;

/** Our fits by name: each builds a fresh model, fits it with `threads`, and returns a digest of what it learned. */
const FITS: Record<string, (threads: number) => Promise<string>> = {
  itemknn: async (threads) => {
    const model = new ItemKNN({ neighbors: K });
    await model.fit(data, { threads, seed: 42 });
    const sims = model.neighborMatrix;
    return createHash('sha256').update(sims.indptr).update(sims.indices).update(sims.values).digest('hex');
  },
  graph: async (threads) => digestOf(new CoPurchaseGraph(), threads),
  rules: async (threads) => digestOf(new AssociationRules(), threads),
};

/** Fits `model` and hashes the typed arrays of its artifact section. */
async function digestOf(model: Recommender, threads: number): Promise<string> {
  await model.fit(data, { threads, seed: 42 });
  const hash = createHash('sha256');
  const state = model.save({ array: (_name: string, a: ArrayBufferView) => hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) } as never);
  return hash.update(JSON.stringify(state)).digest('hex');
}

const digests: Record<string, Set<string>> = {};
async function oursFit(name: string, threads: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const digest = await FITS[name](threads);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  (digests[name] ??= new Set()).add(digest);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

const times: Record<string, number[]> = {};
const record = (key: string, s: number) => (times[key] ??= []).push(s);
for (let rep = 0; rep < reps; rep++) {
  for (const threads of threadCounts) {
    const ours = await oursFit('itemknn', threads);
    record(`ours-${threads}`, ours.seconds);
    record(`ours-cpu-${threads}`, ours.cpuSeconds);
    let line = `rep ${rep + 1}/${reps}, ${threads} thread(s): ItemKNN ${ours.seconds.toFixed(2)} s (CPU ${ours.cpuSeconds.toFixed(2)} s)`;
    if (implicitVersion !== null) {
      const theirs = implicitFit(threads);
      record(`implicit-${threads}`, theirs.fitSeconds);
      record(`implicit-cpu-${threads}`, theirs.cpuSeconds);
      line += `, implicit ${theirs.fitSeconds.toFixed(2)} s (CPU ${theirs.cpuSeconds.toFixed(2)} s)`;
    }
    for (const name of others) {
      const { seconds } = await oursFit(name, threads);
      record(`${name}-${threads}`, seconds);
      line += `, ${name} ${seconds.toFixed(2)} s`;
    }
    const load = loadavg()[0];
    record(`load-${threads}`, load);
    console.log(`${line}, load ${load.toFixed(1)}`);
  }
}
rmSync(matrixDir, { recursive: true, force: true });
await pool.close();

const identical = Object.values(digests).every((d) => d.size === 1);
const rows = threadScalingRows(times, threadCounts);
const med = (key: string) => (times[key] ? median(times[key]) : NaN);
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(`\nItemKNN fit (K=${K}) at ${users} x ${products}, median of ${reps}; ratio = ours / implicit (below 1: ours faster); speed-up = 1 thread / n threads`);
console.log('| threads | hybridrec ItemKNN | implicit CosineRecommender | ratio | hybridrec speed-up | implicit speed-up | CPU hybridrec / implicit | CPU ratio | load |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const cpu = (who: string) => med(`${who}-cpu-${r.threads}`);
  console.log(
    `| ${r.threads} | ${f(r.oursSeconds)} s | ${f(r.implicitSeconds)} s | ${f(r.ratio)} | ${f(r.oursSpeedup)}x | ${f(r.implicitSpeedup)}x | ` +
      `${f(cpu('ours'))} / ${f(cpu('implicit'))} s | ${f(cpu('ours') / cpu('implicit'))} | ${f(med(`load-${r.threads}`), 1)} |`,
  );
}
const otherFits = others.map((name) => ({
  fit: name === 'graph' ? 'CoPurchaseGraph' : 'AssociationRules',
  seconds: threadCounts.map((t) => med(`${name}-${t}`)),
  speedup: threadCounts.map((t) => med(`${name}-1`) / med(`${name}-${t}`)),
}));
if (otherFits.length > 0) {
  console.log(`\nOther fits on the executor (defaults), median of ${reps}`);
  console.log(`| fit | ${threadCounts.map((t) => `${t} thread(s)`).join(' | ')} | speed-up at ${maxThreads} |`);
  console.log(`|---|${threadCounts.map(() => '---|').join('')}---|`);
}
for (const o of otherFits) console.log(`| ${o.fit} | ${o.seconds.map((x) => `${f(x)} s`).join(' | ')} | ${f(o.speedup[o.speedup.length - 1])}x |`);
console.log(`\nfitted models bit-identical across thread counts: ${identical ? 'yes' : 'NO'}; worker pool start (first job) ${poolStartMs.toFixed(0)} ms, not in the fit times`);

const out = join(root, 'benchmarks', 'results');
mkdirSync(out, { recursive: true });
const file = join(out, `parallel-speed-${users}x${products}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      command: `npx tsx benchmarks/parallel-speed.ts --users ${users} --products ${products} --reps ${reps} --max-threads ${maxThreads} --fits ${['itemknn', ...others].join(',')}`,
      machine: machine(),
      loadAverage1m: { before: loadBefore, after: loadavg()[0] },
      date: new Date().toISOString(),
      data: { users: data.nUsers, items: data.nItems, nonzeros: m.nnz, multiplyAdds: work },
      peer: implicitVersion === null ? null : `implicit ${implicitVersion} CosineRecommender(K=${K})`,
      itemknnFit: rows,
      otherFits,
      rawSeconds: times,
      identicalAcrossThreads: identical,
      poolStartMs,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${file}`);
if (!identical) process.exit(1);
