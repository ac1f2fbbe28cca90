/**
 * Side by side with XGBoost's LambdaMART (rank:ndcg, hist, lossguide) on the same planted
 * ranking data: held-out NDCG@10, single-thread training time, and the median latency of
 * scoring one 300-candidate matrix (XGBoost: inplace_predict, one thread), with matched
 * settings (trees, learning rate, 31 leaves, 255 bins, no subsampling, no early stopping).
 * A check that the hand-written booster learns as well as a reference one, not a tuning run.
 *
 *   npx tsx benchmarks/reranker-xgboost.ts [--queries 300] [--test 200] [--candidates 100] [--features 20] [--trees 150]
 *
 * The test set must hold at least 300 rows. Needs /usr/bin/python3 with xgboost (Debian: apt-get install python3-xgboost); says so and
 * exits 0 without it. Writes benchmarks/results/reranker-xgboost.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaMART, type RankingData } from '../src/ensemble/reranker/gbdt';
import { LambdaRank } from '../src/ensemble/reranker/lambdarank';
import { mulberry32 } from '../src/util/random';
import { arg, describeMachine, machine, median } from './machine';
import { plantedRanking } from './planted-ranking';

const nQueries = arg('queries', 300);
const nTest = arg('test', 200);
const nCandidates = arg('candidates', 100);
const nFeatures = arg('features', 20);
const nTrees = arg('trees', 150);
const PYTHON = '/usr/bin/python3';

const XGBOOST = `
import sys, time, numpy as np, xgboost as xgb
d, F, trees = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    x = np.fromfile(f"{d}/{name}.x", dtype=np.float32).reshape(-1, F)
    y = np.fromfile(f"{d}/{name}.y", dtype=np.uint8).astype(np.float32)
    ptr = np.fromfile(f"{d}/{name}.q", dtype=np.int32)
    m = xgb.DMatrix(x, label=y, missing=np.nan)
    m.set_group(np.diff(ptr))
    return m
train, test = load("train"), load("test")
params = {"objective": "rank:ndcg", "eval_metric": "ndcg@10", "tree_method": "hist", "grow_policy": "lossguide",
          "max_leaves": 31, "max_depth": 0, "eta": 0.1, "max_bin": 255, "min_child_weight": 1e-3, "lambda": 0,
          "nthread": 1, "seed": 42}
start = time.perf_counter()
booster = xgb.train(params, train, num_boost_round=trees)
seconds = time.perf_counter() - start
booster.predict(test).astype(np.float64).tofile(f"{d}/xgb.scores")
block = np.fromfile(f"{d}/test.x", dtype=np.float32).reshape(-1, F)[:300]
for _ in range(200): booster.inplace_predict(block)
times = []
for _ in range(1000):
    t0 = time.perf_counter(); booster.inplace_predict(block); times.append(time.perf_counter() - t0)
leaves = sum(tree.count("leaf=") for tree in booster.get_dump())
print(f"{seconds} {xgb.__version__} {1000 * float(np.median(times))} {leaves / trees}")
`;


function meanNdcg(data: RankingData, scores: ArrayLike<number>): number {
  const metric = new LambdaRank(10, 1, nCandidates);
  let sum = 0;
  let n = 0;
  for (let q = 0; q + 1 < data.queryPtr.length; q++) {
    const v = metric.ndcg(scores, data.labels, data.queryPtr[q], nCandidates);
    if (v === v) {
      sum += v;
      n++;
    }
  }
  return sum / n;
}

console.log(`machine: ${describeMachine()}`);
try {
  execFileSync(PYTHON, ['-c', 'import xgboost']);
} catch {
  console.log(`${PYTHON} has no xgboost (Debian: apt-get install python3-xgboost); nothing to compare.`);
  process.exit(0);
}
const rng = mulberry32(11);
const train = plantedRanking(rng, nQueries, nCandidates, nFeatures);
const test = plantedRanking(rng, nTest, nCandidates, nFeatures);
console.log(`data: ${nQueries} training and ${nTest} test queries x ${nCandidates} candidates x ${nFeatures} features`);

const dir = await mkdtemp(join(tmpdir(), 'hybridrec-xgb-'));
for (const [name, d] of [['train', train], ['test', test]] as const) {
  await writeFile(join(dir, `${name}.x`), new Uint8Array(d.features.buffer));
  await writeFile(join(dir, `${name}.y`), d.labels);
  await writeFile(join(dir, `${name}.q`), new Uint8Array(d.queryPtr.buffer));
}
const [xgbSeconds, xgbVersion, xgbScoreMs, xgbLeaves] = execFileSync(PYTHON, ['-c', XGBOOST, dir, String(nFeatures), String(nTrees)], { encoding: 'utf8' }).trim().split(' ');
const xgbScores = new Float64Array((await readFile(join(dir, 'xgb.scores'))).buffer.slice(0));
await rm(dir, { recursive: true });

const start = performance.now();
const { model } = await new LambdaMART({ trees: nTrees, validationShare: 0 }).fit(train, { seed: 42 });
const oursSeconds = (performance.now() - start) / 1000;
const ours = meanNdcg(test, model.score(test.features, nTest * nCandidates));
const xgb = meanNdcg(test, xgbScores);
const block = test.features.subarray(0, 300 * nFeatures);
const out = new Float64Array(300);
for (let i = 0; i < 200; i++) model.score(block, 300, out);
const times: number[] = [];
for (let i = 0; i < 1000; i++) {
  const t0 = performance.now();
  model.score(block, 300, out);
  times.push(performance.now() - t0);
}
const oursScoreMs = median(times);
const oursLeaves = model.arrays.leafValue.length / model.nTrees;
console.log(`held-out NDCG@10: hybridrec LambdaMART ${ours.toFixed(4)}, XGBoost ${xgbVersion} rank:ndcg ${xgb.toFixed(4)} (ratio ${(ours / xgb).toFixed(3)})`);
console.log(`training, one thread, ${nTrees} trees: hybridrec ${oursSeconds.toFixed(2)} s, XGBoost ${Number(xgbSeconds).toFixed(2)} s`);
console.log(
  `scoring 300 candidates, median: hybridrec ${oursScoreMs.toFixed(3)} ms (${oursLeaves.toFixed(1)} leaves per tree), ` +
    `XGBoost inplace_predict ${Number(xgbScoreMs).toFixed(3)} ms (${Number(xgbLeaves).toFixed(1)} leaves per tree)`,
);

const result = {
  machine: machine(),
  command: `npx tsx benchmarks/reranker-xgboost.ts --queries ${nQueries} --test ${nTest} --candidates ${nCandidates} --features ${nFeatures} --trees ${nTrees}`,
  xgboostVersion: xgbVersion,
  heldOutNdcg10: { hybridrec: ours, xgboost: xgb },
  trainingSeconds: { hybridrec: oursSeconds, xgboost: Number(xgbSeconds) },
  scoring300MedianMs: { hybridrec: oursScoreMs, xgboost: Number(xgbScoreMs) },
  leavesPerTree: { hybridrec: oursLeaves, xgboost: Number(xgbLeaves) },
};
const results = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(results, { recursive: true });
await writeFile(`${results}reranker-xgboost.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log('wrote benchmarks/results/reranker-xgboost.json');
