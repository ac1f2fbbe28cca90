/**
 * CoPurchaseGraph speed: fit time, per-query latency (p50 / p99) for known users and for
 * anonymous baskets, explain latency, the graphology view and its PageRank, and peak RSS.
 *
 *   npx tsx benchmarks/graph-speed.ts [--users 100000] [--products 20000] [--queries 2000]
 *     [--epsilon 1e-5] [--restart 0.5] [--neighbors 50] [--no-graphology]
 */
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type Query } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { syntheticDataset } from '../examples/shared';
import { arg, mb, quantile } from './machine';

function latency(label: string, queries: Query[], run: (q: Query) => void): void {
  const warmup = Math.min(200, queries.length);
  for (let i = 0; i < warmup; i++) run(queries[i]);
  const times = new Float64Array(queries.length);
  for (let i = 0; i < queries.length; i++) {
    const t0 = performance.now();
    run(queries[i]);
    times[i] = performance.now() - t0;
  }
  times.sort();
  console.log(`${label}: p50 ${quantile(times, 0.5).toFixed(3)} ms, p99 ${quantile(times, 0.99).toFixed(3)} ms, max ${times[times.length - 1].toFixed(2)} ms over ${queries.length}`);
}

const users = arg('users', 100_000);
const products = arg('products', 20_000);
const nQueries = arg('queries', 2000);
const withGraphology = !process.argv.includes('--no-graphology');

let t0 = performance.now();
const data = syntheticDataset(users, products);
console.log(`data: ${data.nUsers} users, ${data.nItems} items, ${data.nBaskets} baskets, ${data.baskets.items.length} lines (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

const model = new CoPurchaseGraph({
  epsilon: arg('epsilon', CoPurchaseGraph.defaults.epsilon),
  restart: arg('restart', CoPurchaseGraph.defaults.restart),
  neighbors: arg('neighbors', CoPurchaseGraph.defaults.neighbors),
});
t0 = performance.now();
await model.fit(data);
const fitSeconds = (performance.now() - t0) / 1000;
// Saved CSR (indptr i32, indices i32, weights f32) plus the per-query workspace (2 f64, 2 i32, 2 u8 per item).
const graphBytes = (model.nItems + 1) * 4 + model.nEdges * 2 * 8 + model.nItems * 26;
console.log(`fit: ${fitSeconds.toFixed(2)} s, ${model.nEdges} edges (${((model.nEdges * 2) / model.nItems).toFixed(1)} neighbors per item), model arrays ${mb(graphBytes)}`);
console.log(`options: ${JSON.stringify(model.options)}`);

const rng = mulberry32(7);
const userQueries: Query[] = [];
const basketQueries: Query[] = [];
for (let i = 0; i < nQueries; i++) {
  const u = Math.floor(rng() * data.nUsers);
  const q = userQuery(data, u);
  const { userPtr, itemPtr, items } = data.baskets;
  const last = userPtr[u + 1] - 1;
  // A known user with half of their last basket in the cart, and the same cart anonymously.
  const basket = items.slice(itemPtr[last], itemPtr[last] + Math.max(1, (itemPtr[last + 1] - itemPtr[last]) >> 1));
  userQueries.push({ ...q, basket });
  basketQueries.push(anonymousQuery([], basket));
}

const out = new ScoreVector(data.nItems);
let touched = 0;
const scoreOnce = (q: Query) => {
  out.reset();
  model.score(q, out);
  touched += out.length;
};
latency('score (user history + cart)', userQueries, scoreOnce);
console.log(`  items scored per query: ${(touched / (userQueries.length + Math.min(200, userQueries.length))).toFixed(0)}`);
latency('score (anonymous cart)', basketQueries, scoreOnce);
const name = (i: number) => data.catalog.name[i];
latency('explain (user, best item)', userQueries.slice(0, Math.min(500, nQueries)), (q) => {
  out.reset();
  model.score(q, out);
  let best = -1;
  for (let t = 0; t < out.length; t++) if (best < 0 || out.values[out.at(t)] > out.values[best]) best = out.at(t);
  if (best >= 0) model.explain(q, best, name);
});
latency('similarItems (ppr, k=10)', basketQueries, (q) => model.similarItems(q.basket[0], 10, 'ppr'));

if (withGraphology) {
  t0 = performance.now();
  const graph = await model.graph({ id: (i) => data.items.id(i), name });
  console.log(`graph(): ${((performance.now() - t0) / 1000).toFixed(2)} s for ${graph.order} nodes, ${graph.size} edges`);
  t0 = performance.now();
  await model.centrality('pagerank');
  console.log(`centrality('pagerank'): ${((performance.now() - t0) / 1000).toFixed(2)} s (builds its own graph)`);
}

console.log(`peak RSS: ${mb(process.resourceUsage().maxRSS * 1024)}`);
