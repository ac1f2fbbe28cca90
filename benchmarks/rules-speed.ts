/**
 * AssociationRules speed: P5 mining on Groceries (itemsets, rules at confidence 0.5 / 0.8),
 * strategy fit and per-query latency (p50 / p99) on Groceries, including shoppers with 100+
 * distinct items, and at scale on synthetic Instacart-shaped data.
 *
 *   npx tsx benchmarks/rules-speed.ts [--users 200000] [--products 50000] [--queries 2000] [--no-synthetic]
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { Dataset } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import { AssociationRules, generateRules, mineItemsets, type AssociationRulesOptions } from '../src/strategies/association-rules';
import { GROCERIES_FILE, readGroceries } from './groceries';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type Query } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { syntheticDataset } from '../examples/shared';
import { arg, mb, quantile } from './machine';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
let peakRss = process.memoryUsage().rss;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

/** Median wall and CPU milliseconds of `runs` calls (CPU shows the work when other processes share the cores). */
async function timed<T>(runs: number, f: () => T | Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const times: number[] = [];
  const cpus: number[] = [];
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    value = await f();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  sampleRss();
  return { value, ms: median(times), cpuMs: median(cpus) };
}

const fmt = (t: { ms: number; cpuMs: number }) => `${t.ms.toFixed(1)} ms wall, ${t.cpuMs.toFixed(1)} ms cpu`;

function latency(label: string, model: AssociationRules, queries: Query[], nItems: number): void {
  const out = new ScoreVector(nItems);
  const run = (q: Query) => {
    out.reset();
    model.score(q, out);
  };
  for (let i = 0; i < Math.min(200, queries.length); i++) run(queries[i]);
  const times = new Float64Array(queries.length);
  let touched = 0;
  for (let i = 0; i < queries.length; i++) {
    const t0 = performance.now();
    run(queries[i]);
    times[i] = performance.now() - t0;
    touched += out.length;
  }
  times.sort();
  console.log(
    `  ${label}: p50 ${quantile(times, 0.5).toFixed(4)} ms, p99 ${quantile(times, 0.99).toFixed(4)} ms, ` +
      `max ${times[times.length - 1].toFixed(3)} ms over ${queries.length} (${(touched / queries.length).toFixed(0)} items scored per query)`,
  );
}

console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
const nQueries = arg('queries', 2000);

if (!existsSync(GROCERIES_FILE)) {
  console.log(`Groceries: skipped, ${GROCERIES_FILE} not found`);
} else {
  const { names, tx, lines } = readGroceries();
  const nTx = tx.ptr.length - 1;
  const nItems = tx.nItems;
  console.log(`\nGroceries: ${nTx} baskets, ${nItems} items, ${lines} lines`);

  const mined = await timed(7, () => mineItemsets(tx, { minSupport: 0.001, maxLength: 10 }));
  console.log(`P5 itemsets (support 0.001 -> count >= ${mined.value.minCount}, maxLength 10): ${mined.value.size} in ${fmt(mined)} (median of 7), by length ${JSON.stringify(mined.value.lengthHistogram())}`);
  for (const minConfidence of [0.5, 0.8]) {
    const r = await timed(7, () => generateRules(mined.value, { minConfidence }));
    console.log(`P5 rules (confidence ${minConfidence}): ${r.value.size} in ${fmt(r)}, by length ${JSON.stringify(r.value.lengthHistogram())}`);
  }
  const end = await timed(5, async () => (await generateRules(await mineItemsets(tx, { minSupport: 0.001, maxLength: 10 }), { minConfidence: 0.5 })).size);
  console.log(`P5 end to end (mine + 5,668 rules): ${fmt(end)} (median of 5)`);

  const data = Dataset.fromBaskets({
    users: new IdIndex(Array.from({ length: nTx }, (_, b) => String(b))),
    items: new IdIndex(names),
    user: Int32Array.from({ length: nTx }, (_, b) => b),
    ids: Array.from({ length: nTx }, (_, b) => String(b)),
    orderNumber: new Int32Array(nTx).fill(1),
    day: new Float64Array(nTx),
    linePtr: tx.ptr,
    lines: tx.items,
  });
  for (const options of [{}, { minConfidence: 0.05, maxLength: 4 }] as Array<Partial<AssociationRulesOptions>>) {
    const model = new AssociationRules(options);
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let run = 0; run < 5; run++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await model.fit(data);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const fit = { ms: median(wall), cpuMs: median(cpu) };
    console.log(`strategy ${JSON.stringify(options)}: fit ${fmt(fit)} (median of 5), ${model.rules().length} rules, ${model.itemsets().length} itemsets`);
    const rng = mulberry32(7);
    const baskets: Query[] = [];
    const big: Query[] = [];
    for (let i = 0; i < nQueries; i++) {
      const b = Math.floor(rng() * nTx);
      baskets.push(anonymousQuery([], tx.items.subarray(tx.ptr[b], tx.ptr[b + 1])));
      // 100-140 distinct items of 169: nearly every rule's key item is present.
      const pick = new Set<number>();
      const want = 100 + Math.floor(rng() * 41);
      while (pick.size < want) pick.add(Math.floor(rng() * nItems));
      big.push(anonymousQuery([...pick], [Math.floor(rng() * nItems)]));
    }
    latency('score (one basket)', model, baskets, nItems);
    latency('score (100-140 distinct items)', model, big, nItems);
  }
}

if (!process.argv.includes('--no-synthetic')) {
  const users = arg('users', 200_000);
  const products = arg('products', 50_000);
  let t0 = performance.now();
  const data = syntheticDataset(users, products);
  sampleRss();
  console.log(
    `\nsynthetic: ${data.nUsers} users, ${data.nItems} items, ${data.nBaskets} baskets, ${data.baskets.items.length} lines ` +
      `(generated in ${((performance.now() - t0) / 1000).toFixed(1)} s), rss ${mb(process.memoryUsage().rss)}`,
  );
  for (const options of [{}, { minSupport: 0.0002 }] as Array<Partial<AssociationRulesOptions>>) {
    const model = new AssociationRules(options);
    t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await model.fit(data, { onProgress: sampleRss });
    const cpu = process.cpuUsage(cpu0);
    const fitS = (performance.now() - t0) / 1000;
    sampleRss();
    const itemsets = model.itemsets();
    const byLength = [0, 0, 0, 0];
    for (const s of itemsets) byLength[Math.min(3, s.items.length)]++;
    console.log(
      `strategy ${JSON.stringify(options)}: fit ${fitS.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s cpu; ` +
        `${model.rules().length} rules, itemsets of 1/2/3 items ${byLength.slice(1).join('/')}`,
    );
    const rng = mulberry32(7);
    const userQueries: Query[] = [];
    const heavy: Query[] = [];
    const { userPtr, itemPtr, items } = data.baskets;
    for (let i = 0; i < nQueries; i++) {
      const u = Math.floor(rng() * data.nUsers);
      const last = userPtr[u + 1] - 1;
      const basket = items.slice(itemPtr[last], itemPtr[last] + Math.max(1, (itemPtr[last + 1] - itemPtr[last]) >> 1));
      userQueries.push(userQuery(data, u, basket));
    }
    for (let u = 0; u < data.nUsers && heavy.length < nQueries; u++) {
      if (data.interactions.indptr[u + 1] - data.interactions.indptr[u] >= 100) heavy.push(userQuery(data, u));
    }
    latency('score (user history + half of last basket)', model, userQueries, data.nItems);
    if (heavy.length > 0) latency('score (users with 100+ distinct items)', model, heavy, data.nItems);
  }
}
console.log(`\npeak rss (sampled): ${mb(peakRss)}`);
