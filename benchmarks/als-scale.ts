/**
 * ALS fit and recommend-all at scale on the synthetic grocery shop, side by side with
 * implicit's AlternatingLeastSquares on the same user x item matrix (same factors, iterations
 * and objective), on 1 and 2 threads, interleaved and repeated (ours 1, implicit 1, ours 2,
 * implicit 2, again) so machine noise hits both alike. Reports medians, ratios (ours /
 * implicit, below 1: ours faster) and speed-ups, checks that our factors are bit-identical for
 * every thread count, and prints the load average before and after.
 *
 *   npx tsx benchmarks/als-scale.ts [--users 100000] [--products 20000] [--factors 64] [--iterations 15] [--reps 3] [--max-threads 2]
 *
 * The implicit side needs /usr/bin/python3 with numpy and scipy and implicit on PYTHONPATH
 * (default ../shared/peers/implicit-0.7.3; see its README); without them only our figures are
 * reported. implicit runs with num_threads = OPENBLAS_NUM_THREADS = the thread count.
 * Writes benchmarks/results/als-scale.json.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticDataset } from '../examples/shared';
import { installWorkerPool } from '../src/node/pool';
import { ALS } from '../src/strategies/als';
import { arg, describeMachine, machine, median, threadScalingRows } from './machine';
import { RESULTS_DIR } from './quality';

const IMPLICIT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/peers/implicit-0.7.3');
const PYTHON_SIDE = String.raw`
import json, sys, time
import numpy as np, scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
d = sys.argv[1]; threads = int(sys.argv[2]); recommend = sys.argv[3] == '1'
meta = json.load(open(d + '/meta.json'))
indptr = np.fromfile(d + '/indptr.bin', dtype=np.int32); indices = np.fromfile(d + '/indices.bin', dtype=np.int32); data = np.fromfile(d + '/data.bin', dtype=np.float32)
X = sp.csr_matrix((data, indices, indptr), shape=(meta['users'], meta['items']))
m = AlternatingLeastSquares(factors=meta['factors'], regularization=meta['regularization'], alpha=meta['alpha'], iterations=meta['iterations'], num_threads=threads, random_state=42)
t0 = time.perf_counter(); c0 = time.process_time(); m.fit(X, show_progress=False); fit = time.perf_counter() - t0
out = {'fitSeconds': fit, 'cpuSeconds': time.process_time() - c0}
if recommend:
    users = np.arange(min(20000, meta['users']), dtype=np.int32)
    m.recommend(users[:10], X[users[:10]], N=10, filter_already_liked_items=True)
    t0 = time.perf_counter(); m.recommend(users, X[users], N=10, filter_already_liked_items=True); out['usersPerSecond'] = len(users) / (time.perf_counter() - t0)
print(json.dumps(out))
`;

async function main(): Promise<void> {
  const users = arg('users', 100_000);
  const products = arg('products', 20_000);
  const factors = arg('factors', 64);
  const iterations = arg('iterations', 15);
  const reps = arg('reps', 3);
  const maxThreads = arg('max-threads', 2);
  const threadCounts = Array.from({ length: maxThreads }, (_, t) => t + 1);
  const loadBefore = loadavg();
  console.log(`machine: ${describeMachine()}, load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  let t0 = performance.now();
  const data = syntheticDataset(users, products, 42);
  const m = data.interactions;
  console.log(`data: ${data.nUsers} users x ${data.nItems} items, ${m.nnz} user-item pairs (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const options = { factors, iterations, weighting: 'log1p' } as const;

  const pythonPath = process.env.PYTHONPATH ?? IMPLICIT;
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import implicit'], { env: { ...process.env, PYTHONPATH: pythonPath }, encoding: 'utf8' });
  const dir = await mkdtemp(join(tmpdir(), 'hybridrec-als-scale-'));
  const withImplicit = probe.status === 0;
  if (!withImplicit) console.log(`implicit side skipped: not importable with PYTHONPATH=${pythonPath}`);
  else {
    // Our objective in implicit's terms: its confidence is its data value (b += c y, A += (c - 1) y y^T), so data = 1 + alpha * log1p(count) with its alpha 1.
    const w = Float32Array.from(m.values, (c) => 1 + ALS.defaults.alpha * Math.log1p(c));
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ users: data.nUsers, items: data.nItems, factors, iterations, regularization: ALS.defaults.regularization, alpha: 1 }));
    await writeFile(join(dir, 'indptr.bin'), new Uint8Array(m.indptr.buffer, m.indptr.byteOffset, m.indptr.byteLength));
    await writeFile(join(dir, 'indices.bin'), new Uint8Array(m.indices.buffer, m.indices.byteOffset, m.indices.byteLength));
    await writeFile(join(dir, 'data.bin'), new Uint8Array(w.buffer));
  }
  const implicitRun = (threads: number, recommend: boolean): { fitSeconds: number; cpuSeconds: number; usersPerSecond?: number } => {
    const env = { ...process.env, PYTHONPATH: pythonPath, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const run = spawnSync('/usr/bin/python3', ['-c', PYTHON_SIDE, dir, String(threads), recommend ? '1' : '0'], { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`implicit run failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as { fitSeconds: number; cpuSeconds: number; usersPerSecond?: number };
  };

  // Start the workers before timing (a one-time cost per process, not part of a fit).
  // Kept alive between fits: with the default 5 s idle timeout the workers exited during the implicit
  // and 1-thread runs and started again (module loading included) inside each timed multi-thread fit.
  const pool = installWorkerPool({ threads: maxThreads, idleTimeout: 3_600_000 });
  await new ALS({ factors, iterations: 1 }).fit(syntheticDataset(2000, 500, 1), { threads: maxThreads });

  const n = Math.min(20_000, data.nUsers);
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  const exclude = { indptr: m.indptr.slice(0, n + 1), indices: m.indices.subarray(0, m.indptr[n]) };
  const times: Record<string, number[]> = {};
  const record = (key: string, s: number) => (times[key] ??= []).push(s);
  const digests = new Set<string>();
  let oursRecommend = NaN;
  let implicitRecommend = NaN;
  let solver = '';
  for (let rep = 0; rep < reps; rep++) {
    for (const threads of threadCounts) {
      const als = new ALS(options);
      const cpu = process.cpuUsage();
      t0 = performance.now();
      await als.fit(data, { seed: 42, threads });
      const ours = (performance.now() - t0) / 1000;
      const used = process.cpuUsage(cpu);
      record(`ours-${threads}`, ours);
      record(`ours-cpu-${threads}`, (used.user + used.system) / 1e6);
      solver = als.fitSolver ?? '';
      digests.add(createHash('sha256').update(als.userFactors!).update(als.itemFactors).digest('hex'));
      if (rep === 0 && threads === 1) {
        als.recommendUsers(ids.subarray(0, 10), 10, { indptr: exclude.indptr.subarray(0, 11), indices: exclude.indices });
        t0 = performance.now();
        als.recommendUsers(ids, 10, exclude);
        oursRecommend = n / ((performance.now() - t0) / 1000);
      }
      let line = `rep ${rep + 1}/${reps}, ${threads} thread(s): hybridrec ALS ${ours.toFixed(1)} s (CPU ${((used.user + used.system) / 1e6).toFixed(1)} s)`;
      if (withImplicit) {
        const r = implicitRun(threads, rep === 0 && threads === 1);
        record(`implicit-${threads}`, r.fitSeconds);
        record(`implicit-cpu-${threads}`, r.cpuSeconds);
        if (r.usersPerSecond !== undefined) implicitRecommend = r.usersPerSecond;
        line += `, implicit ALS ${r.fitSeconds.toFixed(1)} s (CPU ${r.cpuSeconds.toFixed(1)} s)`;
      }
      console.log(`${line} (load ${loadavg()[0].toFixed(1)})`);
    }
  }
  await pool.close();
  await rm(dir, { recursive: true, force: true });
  const loadAfter = loadavg();

  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows = threadScalingRows(times, threadCounts);
  console.log(`\nALS fit (${factors} factors, ${iterations} iterations, ${solver}) at ${data.nUsers} x ${data.nItems}, ${m.nnz} nonzeros, median of ${reps}; ratio = ours / implicit (below 1: ours faster)`);
  const med = (key: string) => (times[key] ? median(times[key]) : NaN);
  console.log('| threads | hybridrec ALS | implicit ALS | ratio | hybridrec speed-up | implicit speed-up | CPU hybridrec / implicit |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.threads} | ${f(r.oursSeconds, 1)} s | ${f(r.implicitSeconds, 1)} s | ${f(r.ratio)} | ${f(r.oursSpeedup)}x | ${f(r.implicitSpeedup)}x | ` +
        `${f(med(`ours-cpu-${r.threads}`), 1)} / ${f(med(`implicit-cpu-${r.threads}`), 1)} s |`,
    );
  }
  console.log(`\nrecommend 10 for ${n} users, train items excluded, one thread: hybridrec ${Math.round(oursRecommend)} users/s, implicit ${Math.round(implicitRecommend)} users/s (ratio ${f(oursRecommend / implicitRecommend)})`);
  const identical = digests.size === 1;
  console.log(`factors bit-identical across thread counts and repeats: ${identical ? 'yes' : 'NO'}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average before ${loadBefore[0].toFixed(1)}, after ${loadAfter[0].toFixed(1)}`);

  await mkdir(RESULTS_DIR, { recursive: true });
  const command = `npx tsx benchmarks/als-scale.ts --users ${users} --products ${products} --factors ${factors} --iterations ${iterations} --reps ${reps} --max-threads ${maxThreads}`;
  const result = {
    command,
    machine: machine(),
    date: new Date().toISOString(),
    loadAverage1m: { before: loadBefore[0], after: loadAfter[0] },
    data: { users: data.nUsers, items: data.nItems, nonzeros: m.nnz },
    solver,
    fit: rows,
    recommendUsersPerSecond: { hybridrec: oursRecommend, implicit: implicitRecommend, users: n },
    rawSeconds: times,
    identicalAcrossThreads: identical,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  await writeFile(join(RESULTS_DIR, 'als-scale.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (!identical) process.exit(1);
}

await main();
