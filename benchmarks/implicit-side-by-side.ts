/**
 * hybridrec against implicit 0.7.3 on the same P1 and P2 splits, in one run: implicit's
 * AlternatingLeastSquares, CosineRecommender and BM25Recommender against our ALS, NeuralCF and
 * ItemKNN.
 * NDCG@10 is computed by our evaluate() on both sides' top-10 lists (the same exclusions and
 * metric code), fit seconds and recommend-all throughput are measured in the same run, and the
 * ratios printed (ratio = hybridrec / implicit).
 *
 *   npx tsx benchmarks/implicit-side-by-side.ts [P1,P2] [--python /usr/bin/python3] [--reps 5] [--max-threads 2]
 *
 * implicit comes from PYTHONPATH (default ../shared/peers/implicit-0.7.3); without it, or
 * without ../shared/data, the script says so and exits 0. The table runs both sides on one
 * thread (implicit num_threads=1, OPENBLAS/OMP/MKL_NUM_THREADS=1), recommend-all the best of
 * 3 on each side. implicit's ALS runs twice: on exactly our objective (our weights w, data =
 * 1 + alpha * w, its alpha 1: implicit's confidence is its data value), so the comparison
 * isolates the implementations; and with its own defaults at 64 factors on the raw counts.
 * The ALS fit times are then the medians of `reps` fits on each side with 1..max-threads
 * threads, interleaved (ours, implicit, ours, ...) so machine noise hits both alike; the load
 * average is printed beside them.
 * Writes benchmarks/results/implicit-side-by-side.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, type IndexRanker } from '../src/eval/evaluate';
import type { Split } from '../src/eval/splits';
import { ALS, type ALSOptions } from '../src/strategies/als';
import { ItemKNN } from '../src/strategies/item-knn';
import { NeuralCF } from '../src/strategies/neural-cf';
import { userQuery } from '../src/strategies/query';
import { InteractionWeights } from '../src/util/weighting';
import { installWorkerPool } from '../src/node/pool';
import { arg, describeMachine, machine, median } from './machine';
import { loadSplit, RESULTS_DIR, SHARED_DATA } from './quality';
import { strategyRanker } from './rankers';

const here = fileURLToPath(new URL('.', import.meta.url));
const IMPLICIT = resolve(here, '../../shared/peers/implicit-0.7.3');

const PYTHON_SIDE = String.raw`
import json, sys, time
import numpy as np, scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import CosineRecommender, BM25Recommender, bm25_weight
d = json.load(open(sys.argv[1]))
configs = json.loads(sys.argv[2]) if len(sys.argv) > 2 else d['configs']
X = sp.csr_matrix((np.array(d['vals'], dtype=np.float32), (np.array(d['rows']), np.array(d['cols']))), shape=(d['nUsers'], d['nItems']))
users = np.array(d['users'], dtype=np.int32)
out = []
for cfg in configs:
    M = X
    if cfg.get('ours'):
        M = sp.csr_matrix((np.array(d['oursVals'], dtype=np.float32), (np.array(d['oursRows']), np.array(d['oursCols']))), shape=(d['nUsers'], d['nItems']))
    elif cfg.get('bm25'):
        M = bm25_weight(X.T, K1=cfg['bm25'][0], B=cfg['bm25'][1]).T.tocsr()
    elif cfg.get('binary'):
        M = X.copy(); M.data[:] = 1
    M = M.astype(np.float32).tocsr()
    if cfg['model'] == 'als':
        model = AlternatingLeastSquares(factors=cfg['factors'], regularization=cfg['regularization'], alpha=cfg['alpha'], iterations=cfg['iterations'], num_threads=cfg.get('threads', 1), random_state=42)
    elif cfg['model'] == 'cosine':
        model = CosineRecommender(K=cfg['K'], num_threads=1)
    else:
        model = BM25Recommender(K=cfg['K'], K1=cfg['bm25'][0], B=cfg['bm25'][1], num_threads=1)
        M = X.astype(np.float32).tocsr()
    t0 = time.perf_counter(); model.fit(M, show_progress=False); fit = time.perf_counter() - t0
    if cfg.get('fitOnly'):
        out.append({'name': cfg['name'], 'fitSeconds': fit})
        continue
    Xu = X[users]
    model.recommend(users[:10], Xu[:10], N=10, filter_already_liked_items=True)
    best = None
    for r in range(3):
        t0 = time.perf_counter(); ids, _ = model.recommend(users, Xu, N=10, filter_already_liked_items=True); t = time.perf_counter() - t0
        best = t if best is None else min(best, t)
    out.append({'name': cfg['name'], 'fitSeconds': fit, 'recommendSeconds': best, 'ids': ids.tolist()})
json.dump(out, sys.stdout)
`;

interface Row {
  protocol: string;
  name: string;
  ndcg: number;
  fitSeconds: number;
  usersPerSecond: number;
}

function listRanker(split: Split, ids: number[][]): IndexRanker {
  const byUser = new Map<number, Int32Array>();
  split.queries.forEach((q, i) => byUser.set(q.user, Int32Array.from(ids[i].filter((x) => x >= 0))));
  return { rankIndices: (query, k) => byUser.get(query.user)!.subarray(0, k) };
}

/** Recommend-all throughput of a dense model's batch top-k (ALS, NeuralCF): known users' vectors, train items excluded, blocked scoring. */
function batchThroughput(als: Pick<ALS, 'recommendUsers'>, split: Split): { seconds: number; ids: Int32Array[] } {
  const users = Int32Array.from(split.queries, (q) => q.user);
  const m = split.train.interactions;
  const indptr = new Int32Array(users.length + 1);
  for (let q = 0; q < users.length; q++) indptr[q + 1] = indptr[q] + m.indptr[users[q] + 1] - m.indptr[users[q]];
  const indices = new Int32Array(indptr[users.length]);
  for (let q = 0; q < users.length; q++) indices.set(m.indices.subarray(m.indptr[users[q]], m.indptr[users[q] + 1]), indptr[q]);
  als.recommendUsers(users.subarray(0, 10), 10, { indptr: indptr.subarray(0, 11), indices });
  let best = Infinity;
  let out = als.recommendUsers(users, 10, { indptr, indices });
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    out = als.recommendUsers(users, 10, { indptr, indices });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return { seconds: best, ids: Array.from(users, (_, q) => out.items.subarray(q * 10, q * 10 + out.counts[q])) };
}

/** Recommend-all throughput of a scoring strategy (score + top-k per user). */
function scoreThroughput(ranker: IndexRanker, split: Split): number {
  const blocked = new Uint8Array(split.train.nItems);
  const m = split.train.interactions;
  const t0 = performance.now();
  for (const q of split.queries) {
    for (let p = m.indptr[q.user]; p < m.indptr[q.user + 1]; p++) blocked[m.indices[p]] = 1;
    ranker.rankIndices(userQuery(split.train, q.user), 10, blocked);
    for (let p = m.indptr[q.user]; p < m.indptr[q.user + 1]; p++) blocked[m.indices[p]] = 0;
  }
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const python = process.argv.includes('--python') ? process.argv[process.argv.indexOf('--python') + 1] : '/usr/bin/python3';
  const protocols = (process.argv.slice(2).find((a) => /^P\d/.test(a)) ?? 'P1,P2').split(',');
  if (!existsSync(SHARED_DATA)) {
    console.log(`skipped: ${SHARED_DATA} is absent (the real datasets live there on developer machines and in CI)`);
    return;
  }
  const pythonPath = process.env.PYTHONPATH ?? IMPLICIT;
  const envFor = (threads: number) => ({ ...process.env, PYTHONPATH: pythonPath, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) });
  const env = envFor(1);
  const reps = arg('reps', 5);
  const maxThreads = arg('max-threads', 2);
  const threadCounts = Array.from({ length: maxThreads }, (_, t) => t + 1);
  const probe = spawnSync(python, ['-c', 'import implicit, scipy, numpy'], { env, encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`skipped: implicit is not importable with ${python} and PYTHONPATH=${pythonPath} (${probe.stderr.trim().split('\n').pop()})`);
    return;
  }
  const loadBefore = loadavg()[0];
  console.log(`machine: ${describeMachine()}, load average ${loadBefore.toFixed(1)}; the table's fits and recommends on one thread each side`);
  // Workers for the multi-thread fits, started before any timing.
  const pool = installWorkerPool({ threads: maxThreads });
  const rows: Row[] = [];
  const fitTimes: Record<string, number[]> = {};
  const loads: number[] = [];
  const record = (key: string, seconds: number) => (fitTimes[key] ??= []).push(seconds);
  const dir = await mkdtemp(join(tmpdir(), 'hybridrec-implicit-'));
  try {
    for (const id of protocols) {
      const split = await loadSplit(id);
      const train = split.train;
      const m = train.interactions;
      const rowsOf = new Int32Array(m.nnz);
      for (let u = 0; u < train.nUsers; u++) rowsOf.fill(u, m.indptr[u], m.indptr[u + 1]);
      const ours: ALSOptions = ALS.defaults;
      // Our model in implicit's terms: implicit's confidence is its data value (b += c y,
      // A += (c - 1) y y^T), so data = 1 + alpha * weight with alpha 1 is exactly our objective.
      const weighted = InteractionWeights.fit(m, ours.weighting, { k1: ours.bm25K1, b: ours.bm25B }).matrix(m);
      const oursRows = new Int32Array(weighted.nnz);
      for (let u = 0; u < train.nUsers; u++) oursRows.fill(u, weighted.indptr[u], weighted.indptr[u + 1]);
      const oursVals = Array.from(weighted.values, (w) => 1 + ours.alpha * w);
      const configs = [
        { name: 'implicit ALS (our objective and options)', model: 'als', ours: true, factors: ours.factors, regularization: ours.regularization, alpha: 1, iterations: ours.iterations },
        { name: 'implicit ALS (64 factors, defaults)', model: 'als', factors: 64, regularization: 0.01, alpha: 1, iterations: 15 },
        { name: 'implicit CosineRecommender (K=50)', model: 'cosine', K: 50 },
        { name: 'implicit BM25Recommender (K=50)', model: 'bm25', K: 50, bm25: [1.2, 0.75] },
      ];
      const input = join(dir, `${id}.json`);
      await writeFile(
        input,
        JSON.stringify({ nUsers: train.nUsers, nItems: train.nItems, rows: Array.from(rowsOf), cols: Array.from(m.indices), vals: Array.from(m.values), oursRows: Array.from(oursRows), oursCols: Array.from(weighted.indices), oursVals, users: split.queries.map((q) => q.user), configs }),
      );
      const run = spawnSync(python, ['-c', PYTHON_SIDE, input], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
      if (run.status !== 0) throw new Error(`implicit run failed: ${run.stderr}`);
      const theirs = JSON.parse(run.stdout) as Array<{ name: string; fitSeconds: number; recommendSeconds: number; ids: number[][] }>;
      for (const t of theirs) {
        const r = await evaluate(listRanker(split, t.ids), split, { k: 10 });
        rows.push({ protocol: id, name: t.name, ndcg: r.ndcg, fitSeconds: t.fitSeconds, usersPerSecond: split.queries.length / t.recommendSeconds });
      }
      const als = new ALS();
      let t0 = performance.now();
      await als.fit(train, { seed: 42, threads: 1 });
      const alsFit = (performance.now() - t0) / 1000;
      const thr = batchThroughput(als, split);
      const alsNdcg = (await evaluate(listRanker(split, thr.ids.map((a) => Array.from(a))), split, { k: 10 })).ndcg;
      const check = (await evaluate(strategyRanker(als, train.nItems), split, { k: 10 })).ndcg;
      if (Math.abs(check - alsNdcg) > 1e-12) throw new Error(`ALS batch and single-query rankings differ: ${alsNdcg} vs ${check}`);
      rows.push({ protocol: id, name: 'hybridrec ALS (defaults)', ndcg: alsNdcg, fitSeconds: alsFit, usersPerSecond: split.queries.length / thr.seconds });
      const ncf = new NeuralCF();
      t0 = performance.now();
      await ncf.fit(train, { seed: 42 });
      const ncfFit = (performance.now() - t0) / 1000;
      const ncfThr = batchThroughput(ncf, split);
      const ncfNdcg = (await evaluate(listRanker(split, ncfThr.ids.map((a) => Array.from(a))), split, { k: 10 })).ndcg;
      rows.push({ protocol: id, name: 'hybridrec NeuralCF (defaults, GMF)', ndcg: ncfNdcg, fitSeconds: ncfFit, usersPerSecond: split.queries.length / ncfThr.seconds });
      const knn = new ItemKNN();
      t0 = performance.now();
      await knn.fit(train, { seed: 42, threads: 1 });
      const knnFit = (performance.now() - t0) / 1000;
      const knnRanker = strategyRanker(knn, train.nItems);
      const knnNdcg = (await evaluate(knnRanker, split, { k: 10 })).ndcg;
      rows.push({ protocol: id, name: 'hybridrec ItemKNN (defaults)', ndcg: knnNdcg, fitSeconds: knnFit, usersPerSecond: split.queries.length / scoreThroughput(knnRanker, split) });
      // ALS fit times on 1..maxThreads threads, ours and implicit's interleaved.
      await new ALS().fit(train, { seed: 42, threads: maxThreads });
      for (let rep = 0; rep < reps; rep++) {
        for (const threads of threadCounts) {
          t0 = performance.now();
          await new ALS().fit(train, { seed: 42, threads });
          record(`${id}-ours-${threads}`, (performance.now() - t0) / 1000);
          const timed = spawnSync(python, ['-c', PYTHON_SIDE, input, JSON.stringify([{ ...configs[0], threads, fitOnly: true }])], { env: envFor(threads), encoding: 'utf8', maxBuffer: 1 << 20 });
          if (timed.status !== 0) throw new Error(`implicit run failed: ${timed.stderr}`);
          record(`${id}-implicit-${threads}`, (JSON.parse(timed.stdout) as Array<{ fitSeconds: number }>)[0].fitSeconds);
          loads.push(loadavg()[0]);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log('\n| protocol | method | NDCG@10 | fit s | recommend users/s |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.protocol} | ${r.name} | ${r.ndcg.toFixed(4)} | ${r.fitSeconds.toFixed(2)} | ${Math.round(r.usersPerSecond).toLocaleString('en-US')} |`);
  console.log('\nratios (hybridrec ALS / implicit ALS with the same options):');
  for (const id of protocols) {
    const ours = rows.find((r) => r.protocol === id && r.name.startsWith('hybridrec ALS'))!;
    const theirs = rows.find((r) => r.protocol === id && r.name.startsWith('implicit ALS (our'))!;
    console.log(`  ${id}: NDCG ${(ours.ndcg / theirs.ndcg).toFixed(3)}, fit time ${(ours.fitSeconds / theirs.fitSeconds).toFixed(2)}, throughput ${(ours.usersPerSecond / theirs.usersPerSecond).toFixed(2)}`);
  }
  await pool.close();
  const med = (key: string) => median(fitTimes[key]);
  const fits = protocols.flatMap((id) =>
    threadCounts.map((threads) => ({
      protocol: id,
      threads,
      oursSeconds: med(`${id}-ours-${threads}`),
      implicitSeconds: med(`${id}-implicit-${threads}`),
      ratio: med(`${id}-ours-${threads}`) / med(`${id}-implicit-${threads}`),
      oursSpeedup: med(`${id}-ours-1`) / med(`${id}-ours-${threads}`),
      implicitSpeedup: med(`${id}-implicit-1`) / med(`${id}-implicit-${threads}`),
    })),
  );
  const loadAfter = loadavg()[0];
  console.log(`\nALS fit (our objective and options on both sides), median of ${reps}, interleaved; load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} during the runs`);
  console.log('| protocol | threads | hybridrec ALS s | implicit ALS s | ratio | hybridrec speed-up | implicit speed-up |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of fits) console.log(`| ${r.protocol} | ${r.threads} | ${r.oursSeconds.toFixed(3)} | ${r.implicitSeconds.toFixed(3)} | ${r.ratio.toFixed(2)} | ${r.oursSpeedup.toFixed(2)}x | ${r.implicitSpeedup.toFixed(2)}x |`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const result = {
    machine: machine(),
    date: new Date().toISOString(),
    command: `npx tsx benchmarks/implicit-side-by-side.ts ${protocols.join(',')} --reps ${reps} --max-threads ${maxThreads}`,
    loadAverage1m: { before: loadBefore, after: loadAfter, duringFits: loads },
    rows,
    alsFit: fits,
    rawFitSeconds: fitTimes,
  };
  await writeFile(join(RESULTS_DIR, 'implicit-side-by-side.json'), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
