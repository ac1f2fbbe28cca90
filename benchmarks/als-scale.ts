/**
 * ALS fit and recommend-all at scale on the synthetic grocery shop, beside implicit's
 * AlternatingLeastSquares on the same user x item matrix (one thread each, same factors and
 * iterations), when implicit is importable.
 *
 *   npx tsx benchmarks/als-scale.ts [--users 100000] [--products 20000] [--factors 64] [--iterations 15]
 *
 * Writes benchmarks/results/als-scale.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticDataset } from '../examples/shared';
import { ALS } from '../src/strategies/als';
import { arg, describeMachine, machine } from './machine';
import { RESULTS_DIR } from './quality';

const IMPLICIT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/peers/implicit-0.7.3');
const PYTHON_SIDE = String.raw`
import json, sys, time
import numpy as np, scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
d = sys.argv[1]; meta = json.load(open(d + '/meta.json'))
indptr = np.fromfile(d + '/indptr.bin', dtype=np.int32); indices = np.fromfile(d + '/indices.bin', dtype=np.int32); data = np.fromfile(d + '/data.bin', dtype=np.float32)
X = sp.csr_matrix((data, indices, indptr), shape=(meta['users'], meta['items']))
m = AlternatingLeastSquares(factors=meta['factors'], regularization=meta['regularization'], alpha=meta['alpha'], iterations=meta['iterations'], num_threads=1, random_state=42)
t0 = time.perf_counter(); m.fit(X, show_progress=False); fit = time.perf_counter() - t0
users = np.arange(min(20000, meta['users']), dtype=np.int32)
t0 = time.perf_counter(); m.recommend(users, X[users], N=10, filter_already_liked_items=True); rec = time.perf_counter() - t0
print(json.dumps({'fitSeconds': fit, 'usersPerSecond': len(users) / rec}))
`;

async function main(): Promise<void> {
  const users = arg('users', 100_000);
  const products = arg('products', 20_000);
  const factors = arg('factors', 64);
  const iterations = arg('iterations', 15);
  console.log(`machine: ${describeMachine()}`);
  let t0 = performance.now();
  const data = syntheticDataset(users, products, 42);
  const m = data.interactions;
  console.log(`data: ${data.nUsers} users x ${data.nItems} items, ${m.nnz} user-item pairs (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const als = new ALS({ factors, iterations, weighting: 'log1p' });
  t0 = performance.now();
  await als.fit(data, { seed: 42 });
  const fitSeconds = (performance.now() - t0) / 1000;
  const n = Math.min(20_000, data.nUsers);
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  const exclude = { indptr: m.indptr.slice(0, n + 1), indices: m.indices.subarray(0, m.indptr[n]) };
  t0 = performance.now();
  als.recommendUsers(ids, 10, exclude);
  const usersPerSecond = n / ((performance.now() - t0) / 1000);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const runs: Array<Record<string, unknown>> = [
    { method: `hybridrec ALS (${als.fitSolver})`, users: data.nUsers, items: data.nItems, nonzeros: m.nnz, factors, iterations, 'fit s': fitSeconds, 'recommend users/s': usersPerSecond, 'peak RSS MB': peakRssMb },
  ];
  console.log(`hybridrec ALS: fit ${fitSeconds.toFixed(1)} s, recommend ${usersPerSecond.toFixed(0)} users/s, peak RSS ${peakRssMb.toFixed(0)} MB`);
  const env = { ...process.env, PYTHONPATH: process.env.PYTHONPATH ?? IMPLICIT, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import implicit'], { env });
  if (probe.status !== 0) console.log('implicit: skipped (not importable)');
  else {
    const dir = await mkdtemp(join(tmpdir(), 'hybridrec-als-scale-'));
    try {
      // implicit's confidence is alpha' * w; ours 1 + alpha * w: alpha' = 1 + alpha is the closest match for w = log1p(count).
      const w = Float32Array.from(m.values, (c) => 1 + als.options.alpha * Math.log1p(c));
      await writeFile(join(dir, 'meta.json'), JSON.stringify({ users: data.nUsers, items: data.nItems, factors, iterations, regularization: als.options.regularization, alpha: 1 }));
      await writeFile(join(dir, 'indptr.bin'), new Uint8Array(m.indptr.buffer, m.indptr.byteOffset, m.indptr.byteLength));
      await writeFile(join(dir, 'indices.bin'), new Uint8Array(m.indices.buffer, m.indices.byteOffset, m.indices.byteLength));
      await writeFile(join(dir, 'data.bin'), new Uint8Array(w.buffer));
      const run = spawnSync('/usr/bin/python3', ['-c', PYTHON_SIDE, dir], { env, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(run.stderr);
      const r = JSON.parse(run.stdout) as { fitSeconds: number; usersPerSecond: number };
      runs.push({ method: 'implicit ALS (num_threads=1)', users: data.nUsers, items: data.nItems, nonzeros: m.nnz, factors, iterations, 'fit s': r.fitSeconds, 'recommend users/s': r.usersPerSecond, 'peak RSS MB': null });
      console.log(`implicit ALS: fit ${r.fitSeconds.toFixed(1)} s, recommend ${r.usersPerSecond.toFixed(0)} users/s; ratio fit ${(fitSeconds / r.fitSeconds).toFixed(2)}, recommend ${(usersPerSecond / r.usersPerSecond).toFixed(2)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  const command = `npx tsx benchmarks/als-scale.ts --users ${users} --products ${products} --factors ${factors} --iterations ${iterations}`;
  await writeFile(join(RESULTS_DIR, 'als-scale.json'), `${JSON.stringify({ command, machine: machine(), date: new Date().toISOString().slice(0, 10), runs }, null, 2)}\n`);
}

await main();
