/**
 * The reranker's feature extraction of this checkout against another library tree, side by
 * side in one process on the same shoppers and the same strategy scores: the cost of the
 * features a change added, per call (process CPU time in batches, which on a shared machine
 * measures the code, not the scheduler). The shop, strategies and candidates are those of
 * reranker-speed.ts's feature timing (RepeatPurchase, ItemKNN, Popularity, 100 candidates
 * each). Every shopper's columns that both sides name must be equal, or the run fails: a new
 * feature must not change an old one.
 *
 *   nice -n 10 npx tsx benchmarks/reranker-features-ab.ts --base <library tree> [--users 20000] [--products 5000] [--calls 4000]
 *
 * `<library tree>`: a directory holding the other revision's src/ (e.g.
 * `git archive <rev> src | tar -x -C /tmp/base`). Writes benchmarks/results/reranker-features-ab.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RerankerFeatures } from '../src/ensemble/reranker/features';
import { ItemStatistics } from '../src/ensemble/reranker/item-stats';
import { ScoreVector } from '../src/strategies/types';
import { FEATURE_CANDIDATES, FEATURE_STRATEGIES, featureShop } from './feature-shop';
import { arg, describeMachine, machine, median, textArg } from './machine';
import { RESULTS_DIR } from './quality';

const base = textArg('base', '');
if (base === '') throw new Error('--base <library tree> is required');
const users = arg('users', 20_000);
const products = arg('products', 5000);
const calls = arg('calls', 4000);
console.log(`machine: ${describeMachine()}; load ${loadavg()[0].toFixed(2)}`);

const from = (file: string) => import(pathToFileURL(join(resolve(base), 'src', file)).href);
const Base = {
  RerankerFeatures: (await from('ensemble/reranker/features.ts')).RerankerFeatures as typeof RerankerFeatures,
  ItemStatistics: (await from('ensemble/reranker/item-stats.ts')).ItemStatistics as typeof ItemStatistics,
  ScoreVector: (await from('strategies/types.ts')).ScoreVector as typeof ScoreVector,
};

const { shop, shoppers: scored } = await featureShop(users, products);
const sides = [
  { name: 'base', extractor: new Base.RerankerFeatures(FEATURE_STRATEGIES, Base.ItemStatistics.fromDataset(shop), { candidatesPerStrategy: FEATURE_CANDIDATES }), Vector: Base.ScoreVector },
  { name: 'new', extractor: new RerankerFeatures(FEATURE_STRATEGIES, ItemStatistics.fromDataset(shop), { candidatesPerStrategy: FEATURE_CANDIDATES }), Vector: ScoreVector },
];
// Each side's own ScoreVector class (the extractors test `instanceof`), holding the same scores.
const shoppers = scored.map(({ query, vectors }) => {
  const perSide = sides.map(({ Vector }) =>
    vectors.map((v) => {
      const copy = new Vector(shop.nItems);
      for (let j = 0; j < v.length; j++) copy.set(v.at(j), v.values[v.at(j)]);
      return copy;
    }),
  );
  return { query, perSide };
});

// The columns both sides name are equal for every shopper.
let pooled = 0;
for (const { query, perSide } of shoppers) {
  const [b, n] = sides.map(({ extractor }, s) => {
    const m = extractor.extract(query, perSide[s], { day: 1000 });
    return { items: [...m.items], features: [...m.features], names: extractor.names };
  });
  if (JSON.stringify(b.items) !== JSON.stringify(n.items)) throw new Error(`shopper ${query.user}: the candidates differ`);
  pooled += b.items.length;
  for (let c = 0; c < b.items.length; c++) {
    b.names.forEach((name, j) => {
      const k = n.names.indexOf(name);
      const [x, y] = [b.features[c * b.names.length + j], n.features[c * n.names.length + k]];
      if (k < 0 || !Object.is(x, y)) throw new Error(`shopper ${query.user}, candidate ${c}: ${name} is ${x} in base, ${k < 0 ? 'absent' : y} in new`);
    });
  }
}

// Alternating batches of 20 calls per side (which side goes first alternates too), CPU time per call.
const batch = 20;
const cpu = sides.map((): number[] => []);
for (let i = 0; i < calls / 4; i++) for (const [s, side] of sides.entries()) side.extractor.extract(shoppers[i % 256].query, shoppers[i % 256].perSide[s], { day: 1000 });
for (let start = 0, round = 0; start + batch <= calls; start += batch, round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  for (const s of order) {
    const t0 = process.cpuUsage();
    for (let i = start; i < start + batch; i++) sides[s].extractor.extract(shoppers[i % 256].query, shoppers[i % 256].perSide[s], { day: 1000 });
    const t = process.cpuUsage(t0);
    cpu[s].push((t.user + t.system) / 1000 / batch);
  }
}
const [baseMs, newMs] = cpu.map(median);
const result = {
  command: `npx tsx benchmarks/reranker-features-ab.ts ${process.argv.slice(2).join(' ')}`,
  date: new Date().toISOString(),
  machine: machine(),
  loadAverage: loadavg()[0],
  shop: { users, products },
  candidates: pooled / shoppers.length,
  features: { base: sides[0].extractor.names.length, new: sides[1].extractor.names.length },
  cpuMsPerCall: { base: baseMs, new: newMs, ratio: newMs / baseMs },
  batches: cpu[0].length,
};
console.log(`${result.candidates.toFixed(0)} candidates per shopper; ${result.features.base} -> ${result.features.new} features; extract CPU median ${baseMs.toFixed(4)} -> ${newMs.toFixed(4)} ms per call (${result.cpuMsPerCall.ratio.toFixed(3)}x) over ${result.batches} batches of ${batch}; load ${result.loadAverage.toFixed(2)}`);
await mkdir(RESULTS_DIR, { recursive: true });
await writeFile(join(RESULTS_DIR, 'reranker-features-ab.json'), `${JSON.stringify(result, null, 2)}\n`);
