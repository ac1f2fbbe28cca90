/**
 * ItemKNN speed on a synthetic shop: fit time, single-user recommend latency (score + top-10
 * with TopK) p50 / p99 after warm-up, similarItems latency, artifact size and load time, and
 * peak RSS (sampled process.memoryUsage().rss and resourceUsage().maxRSS).
 *
 *   npx tsx --expose-gc benchmarks/itemknn-speed.ts [--users 100000] [--products 20000] [--queries 2000]
 *
 * RSS keeps the heap the data generator freed, so the fit's own memory shows best in the
 * typed-array (arrayBuffers) figures; --expose-gc collects the generator's garbage first.
 */
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { ItemKNN } from '../src/strategies/item-knn';
import { userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { TopK } from '../src/util/topk';
import { syntheticDataset } from '../examples/shared';
import { arg, describeMachine, mb, percentile } from './machine';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

let peakRss = process.memoryUsage().rss;
let peakBuffers = process.memoryUsage().arrayBuffers;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
}, 20);

function latency(label: string, n: number, warmup: number, run: (i: number) => void): void {
  for (let i = 0; i < warmup; i++) run(i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    run(warmup + i);
    times.push(performance.now() - t0);
  }
  console.log(`${label}: p50 ${percentile(times, 50).toFixed(3)} ms, p99 ${percentile(times, 99).toFixed(3)} ms, max ${Math.max(...times).toFixed(2)} ms over ${n} calls (after ${warmup} warm-up)`);
}

const users = arg('users', 100_000);
const products = arg('products', 20_000);
const nQueries = arg('queries', 2000);
console.log(`machine: ${describeMachine()}`);

let t0 = performance.now();
const data = syntheticDataset(users, products);
console.log(
  `data: ${data.nUsers} users, ${data.nItems} items, ${data.nBaskets} baskets, ${data.baskets.items.length} lines, ` +
    `${data.interactions.nnz} user-item nonzeros (${seconds(performance.now() - t0)})`,
);
let work = 0;
for (let u = 0; u < data.nUsers; u++) work += (data.interactions.indptr[u + 1] - data.interactions.indptr[u]) ** 2;
console.log(`kernel work: sum over users of distinct items^2 = ${(work / 1e9).toFixed(2)} G multiply-adds`);

// ArrayBuffer backing stores are freed after the collection, so give it a moment and collect again.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
}
const model = new ItemKNN();
const rssBeforeFit = process.memoryUsage().rss;
const buffersBeforeFit = process.memoryUsage().arrayBuffers;
const peakBeforeFit = peakRss;
peakRss = rssBeforeFit;
peakBuffers = buffersBeforeFit;
const cpu0 = process.cpuUsage();
t0 = performance.now();
await model.fit(data, { seed: 42 });
const fitMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `fit: ${seconds(fitMs)} wall, ${seconds((cpu.user + cpu.system) / 1000)} CPU, ${model.neighborMatrix.nnz} neighbours ` +
    `(${(model.neighborMatrix.nnz / data.nItems).toFixed(1)} per item)`,
);
console.log(
  `fit memory: rss ${mb(rssBeforeFit)} before, sampled peak ${mb(peakRss)} during, ${mb(process.memoryUsage().rss)} after; ` +
    `typed arrays ${mb(buffersBeforeFit)} before, sampled peak +${mb(peakBuffers - buffersBeforeFit)} during, +${mb(process.memoryUsage().arrayBuffers - buffersBeforeFit)} kept`,
);
peakRss = Math.max(peakRss, peakBeforeFit);
console.log(`options: ${JSON.stringify(model.options)}`);

const rng = mulberry32(7);
const queries: Query[] = [];
for (let i = 0; i < nQueries + 200; i++) queries.push(userQuery(data, Math.floor(rng() * data.nUsers)));
const out = new ScoreVector(data.nItems);
const top = new TopK(10);
let scored = 0;
latency('recommend (score + top-10)', nQueries, 200, (i) => {
  out.reset();
  model.score(queries[i], out);
  top.clear();
  for (let t = 0; t < out.length; t++) {
    const item = out.at(t);
    top.push(item, out.values[item]);
  }
  top.sorted();
  scored += out.length;
});
console.log(`  items scored per query: ${(scored / (nQueries + 200)).toFixed(0)}, history items per query: ${(queries.reduce((s, q) => s + q.history.items.length, 0) / queries.length).toFixed(1)}`);
latency('similarItems (k=10)', nQueries, 200, (i) => model.similarItems(queries[i].history.items[0] ?? 0, 10));

t0 = performance.now();
const w = new ArtifactWriter();
const bytes = w.toBytes(model.save(w.scope('knn')));
const saveMs = performance.now() - t0;
t0 = performance.now();
const reader = ArtifactReader.open(bytes);
ItemKNN.load(reader.root as JsonObject, reader.scope('knn'));
console.log(`artifact: ${mb(bytes.length)}, save ${(saveMs).toFixed(0)} ms, load ${(performance.now() - t0).toFixed(0)} ms`);

clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(`peak RSS of the process (includes generating the data): sampled ${mb(peakRss)}, resourceUsage maxRSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
