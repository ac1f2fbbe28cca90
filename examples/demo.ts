/**
 * The main demo: synthetic grocery data -> every strategy + the hybrid ensemble -> a look at a
 * few shoppers and the P4 next-basket metrics of each strategy and of the ensemble.
 *
 *   npm run demo                       (2,000 shoppers, 1,500 products)
 *   npm run demo -- --users 20000 --products 5000 --seed 7
 */
import { HybridRecommender, ensembleRanker, evaluate, nextBasket, strategyRanker, type EvalResult, type IndexRanker, type Split } from '../src/index';
import { defaultStrategies, logLine, progressPrinter, secs, syntheticDataset } from './shared';

const args = process.argv.slice(2);
function flag(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}
const users = flag('users', 2000);
const products = flag('products', 1500);
const seed = flag('seed', 42);
const showUsers = flag('show', 3);

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(`hybridrec demo: synthetic grocery data, ${users} shoppers, ${products} products, seed ${seed}`);
  const data = syntheticDataset(users, products, seed);
  console.log(`  ${data.nBaskets.toLocaleString()} orders, ${data.baskets.items.length.toLocaleString()} order lines (${secs(t0)})`);

  // P4 (BENCHMARKS.md): each shopper's last basket is held out; we fit on everything before it.
  const split = nextBasket(data);
  console.log(`  P4 next-basket split: ${split.queries.length} shoppers to predict, ${split.stats.trainBaskets.toLocaleString()} training orders\n`);

  const rec = new HybridRecommender({ strategies: defaultStrategies(), weights: 'tune' });
  const tFit = performance.now();
  await rec.fit(split.train, { seed, onProgress: progressPrinter('  fitting ') });
  logLine(`  fitted ${rec.strategyNames.length} strategies + popularity fallback in ${secs(tFit)}`);
  const tuning = rec.tuning;
  if (tuning) {
    const w = Object.entries(tuning.weights).map(([n, v]) => `${n} ${v}`).join(', ');
    console.log(`  tuned on a validation split of the training data (${tuning.protocol}, ${tuning.queries} queries): ${w}; normalization ${tuning.normalization}`);
  }
  console.log();

  showShoppers(rec, split);
  await printMetrics(rec, split);
  console.log(`\ndone in ${secs(t0)}`);
}

function showShoppers(rec: HybridRecommender, split: Split): void {
  const data = split.train;
  const name = (i: number) => data.catalog.name[i];
  const queries = split.queries.slice(0, showUsers);
  const left = 40;
  for (const q of queries) {
    const userId = data.users.id(q.user);
    const m = data.interactions;
    const past = [...m.indices.subarray(m.indptr[q.user], m.indptr[q.user + 1])]
      .map((item, j) => ({ item, count: m.values[m.indptr[q.user] + j] }))
      .sort((a, b) => b.count - a.count || a.item - b.item)
      .slice(0, 10);
    const recs = rec.recommend(userId, { k: 10, explain: true });
    const nOrders = data.baskets.userPtr[q.user + 1] - data.baskets.userPtr[q.user];
    const actual = new Set(q.target);
    console.log(`shopper ${userId} (${nOrders} past orders; * = in the held-out next basket)`);
    console.log(`  ${'past purchases (times)'.padEnd(left)} | recommendations (why)`);
    console.log(`  ${'-'.repeat(left)}-+-${'-'.repeat(60)}`);
    for (let r = 0; r < Math.max(past.length, recs.length); r++) {
      const p = past[r] ? `${clip(name(past[r].item), left - 6)} (${past[r].count})` : '';
      const x = recs[r];
      const hit = x && actual.has(data.items.indexOf(x.item)) ? '*' : ' ';
      const right = x ? `${hit}${clip(x.name, 30)} - ${x.reason ?? ''}` : '';
      console.log(`  ${p.padEnd(left)} | ${right}`);
    }
    console.log();
  }
}

async function printMetrics(rec: HybridRecommender, split: Split): Promise<void> {
  const rows: Array<[string, EvalResult]> = [];
  const run = async (label: string, ranker: IndexRanker) => rows.push([label, await evaluate(ranker, split, { k: 10 })]);
  for (const n of rec.strategyNames) await run(n, strategyRanker(rec, n));
  await run('ensemble', ensembleRanker(rec));
  console.log(`P4 next-basket metrics @10 over ${rows[0][1].evaluated} shoppers (each strategy alone gets the same popularity filler):`);
  const head = ['strategy', 'P@10', 'R@10', 'MAP@10', 'NDCG@10', 'Hit@10', 'R@10 repeat', 'R@10 explore'];
  console.log(`  ${head.map((h, i) => (i === 0 ? h.padEnd(10) : h.padStart(13))).join('')}`);
  for (const [label, r] of rows) {
    const cells = [r.precision, r.recall, r.map, r.ndcg, r.hitRate, r.recallRepeat ?? NaN, r.recallExplore ?? NaN];
    console.log(`  ${label.padEnd(10)}${cells.map((c) => c.toFixed(4).padStart(13)).join('')}`);
  }
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
