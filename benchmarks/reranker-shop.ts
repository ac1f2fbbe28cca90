/**
 * The learned combiner end to end on a synthetic shop: reranker training time (candidate
 * pass over the validation queries, the fold refits, the booster) and single-user recommend
 * latency with the reranker, beside the linear weighted sum of the same fit.
 *
 *   NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/reranker-shop.ts --users 200000 --products 50000 \
 *     [--queries 1000] [--max-queries 1000] [--folds 2] [--candidates 30] [--seed 42]
 *
 * --candidates: the reranker's candidatesPerStrategy (default: RerankerOptions' default), to
 * see what a smaller pool costs in validation pool recall and guard NDCG and saves in latency.
 *
 * The recommender is benchmarks/reranker-fixture.ts's (six strategies, equal weights, the
 * forest ranks whatever its validation margin). To compare two revisions' serving cost on
 * one fitted model, use benchmarks/reranker-ab.ts, which caches the fit.
 *
 * Latency: `rec.recommend(id, { k: 10 })`, the public path (id lookup, query, every strategy,
 * features, forest, fill, result objects), p50 / p99 over `--queries` shoppers drawn with
 * mulberry32(seed) after 100 warm-up calls, wall time and the process's CPU time of each call
 * (process.cpuUsage: on a loaded machine wall time counts the waits for a core). Side by side in one loop, the same shoppers: the
 * index rankers of the reranked and of the linear ranking (ensembleRanker, combiner 'fitted'
 * vs 'linear'), so their ratio is the forest's cost (each runs after recommend on the same
 * shopper, so on a warmer cache). The GC pauses of the timed loop are counted, with how many
 * of the recommend calls at or above p99 overlap one (the loop follows the fit in the same
 * process, whose garbage V8 is still collecting). The load average is recorded at start and end.
 * Writes benchmarks/results/reranker-shop-<users>x<products>[-c<candidates> when not the default].json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import { ensembleRanker } from '../src/index';
import { mulberry32, userQuery } from '../src/strategy';
import { syntheticDataset } from '../examples/shared';
import { arg, describeMachine, machine, median, percentile } from './machine';
import { RESULTS_DIR } from './quality';
import { shopRecommender } from './reranker-fixture';
import { RERANKER_DEFAULTS } from '../src/ensemble/reranker/combiner';

const users = arg('users', 200_000);
const products = arg('products', 50_000);
const calls = arg('queries', 1000);
const maxQueries = arg('max-queries', 1000);
const folds = arg('folds', 2);
const candidates = arg('candidates', RERANKER_DEFAULTS.candidatesPerStrategy);
const seed = arg('seed', 42);
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadStart = load();
console.log(`machine: ${describeMachine()}, load ${loadStart.join(' ')}`);

let t0 = performance.now();
const data = syntheticDataset(users, products, seed);
const generateSeconds = (performance.now() - t0) / 1000;
console.log(`data: ${data.nUsers} shoppers x ${data.nItems} items, ${data.nBaskets} baskets (${generateSeconds.toFixed(1)} s)`);

const rec = shopRecommender(maxQueries, folds, candidates);
t0 = performance.now();
await rec.fit(data, {
  seed,
  onProgress: (p) => {
    if (p.stage === 'reranker' && p.message) console.log(`  reranker: ${p.message}`);
  },
});
const fitSeconds = (performance.now() - t0) / 1000;
const summary = rec.rerankerSummary!;
console.log(`fit ${fitSeconds.toFixed(1)} s: ${JSON.stringify(rec.fitSeconds)}`);
if (rec.reranker === null) throw new Error(`the reranker did not train: ${summary.reason}`);

const rng = mulberry32(seed);
const shoppers = Array.from({ length: calls + 100 }, () => Math.floor(rng() * data.nUsers));
const reranked = ensembleRanker(rec);
const linear = ensembleRanker(rec, { combiner: 'linear' });
const wall = { recommend: [] as number[], reranked: [] as number[], linear: [] as number[] };
const cpu: number[] = [];
// GC pauses of the timed loop (entries arrive after it) and the recommend calls they fell in.
const gcs: Array<{ start: number; ms: number }> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ start: e.startTime, ms: e.duration });
});
gcObserver.observe({ entryTypes: ['gc'] });
const recommendSpans: Array<[number, number]> = [];
for (let i = 0; i < shoppers.length; i++) {
  const u = shoppers[i];
  const id = data.users.id(u);
  const query = userQuery(data, u);
  const c0 = process.cpuUsage();
  let s = performance.now();
  rec.recommend(id, { k: 10 });
  const recommendEnd = performance.now();
  const recommendMs = recommendEnd - s;
  if (i >= 100) recommendSpans.push([s, recommendEnd]);
  const c = process.cpuUsage(c0);
  s = performance.now();
  reranked.rankIndices(query, 10, null);
  const rerankedMs = performance.now() - s;
  s = performance.now();
  linear.rankIndices(query, 10, null);
  const linearMs = performance.now() - s;
  if (i < 100) continue;
  wall.recommend.push(recommendMs);
  cpu.push((c.user + c.system) / 1000);
  wall.reranked.push(rerankedMs);
  wall.linear.push(linearMs);
}
await new Promise((r) => setTimeout(r, 50));
gcObserver.disconnect();
const timed = gcs.filter((g) => g.start >= recommendSpans[0][0]);
const p99 = percentile(wall.recommend, 99);
const slowWithGc = recommendSpans.filter(([a, b]) => b - a >= p99 && timed.some((g) => g.start < b && g.start + g.ms > a)).length;
const slow = wall.recommend.filter((ms) => ms >= p99).length;
const gc = { count: timed.length, pauseMs: timed.reduce((a, g) => a + g.ms, 0), slowRecommendCalls: slow, slowRecommendCallsWithGc: slowWithGc };
console.log(`  GC in the timed loop: ${gc.count} pauses, ${gc.pauseMs.toFixed(1)} ms; ${slowWithGc} of the ${slow} recommend calls at or above p99 overlap one`);
const stats = (v: number[]) => ({ p50Ms: median(v), p99Ms: percentile(v, 99), meanMs: v.reduce((a, b) => a + b, 0) / v.length });
const latency = { recommend: stats(wall.recommend), recommendCpu: stats(cpu), reranked: stats(wall.reranked), linear: stats(wall.linear) };
const loadEnd = load();
for (const [name, l] of Object.entries(latency)) console.log(`  ${name.padEnd(10)} p50 ${l.p50Ms.toFixed(3)} ms  p99 ${l.p99Ms.toFixed(3)} ms  mean ${l.meanMs.toFixed(3)} ms`);
console.log(`  reranked / linear (index rankers, medians): ${(latency.reranked.p50Ms / latency.linear.p50Ms).toFixed(2)}x; load at end ${loadEnd.join(' ')}`);

const result = {
  command: `npx tsx benchmarks/reranker-shop.ts --users ${users} --products ${products} --queries ${calls} --max-queries ${maxQueries} --folds ${folds} --candidates ${candidates} --seed ${seed}`,
  date: new Date().toISOString(),
  machine: machine(),
  loadAverage: { start: loadStart, end: loadEnd },
  data: { users: data.nUsers, items: data.nItems, baskets: data.nBaskets, generateSeconds },
  fitSeconds: rec.fitSeconds,
  totalFitSeconds: fitSeconds,
  reranker: { ...summary, training: summary.training && { ...summary.training, validationNdcg: summary.training.validationNdcg.length } },
  trees: rec.reranker.model.nTrees,
  features: rec.reranker.model.nFeatures,
  latency,
  gc,
};
await mkdir(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, `reranker-shop-${users}x${products}${candidates === RERANKER_DEFAULTS.candidatesPerStrategy ? '' : `-c${candidates}`}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${file}`);
