/**
 * The main demo: synthetic grocery data -> every strategy + the hybrid ensemble (weights tuned
 * and a LambdaMART reranker trained on a validation split of the training data) -> a few
 * shoppers' past purchases beside their "buy it again" and "new for you" lists, and the P4
 * next-basket metrics of each strategy, the linear and the reranked ensemble and both lists.
 *
 *   npm run demo                       (2,000 shoppers, 1,500 products)
 *   npm run demo -- --users 20000 --products 5000 --seed 7
 */
import { HybridRecommender, ensembleRanker, evaluate, nextBasket, strategyRanker, weightedRanker, type EvalResult, type IndexRanker, type Recommendation, type Split } from '../src/index';
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

  // The reranker reuses the tuning's validation split and fits, and fits once more on a second
  // fold (reranker.folds, default 2); 400 queries keep the demo quick.
  const rec = new HybridRecommender({ strategies: defaultStrategies(), weights: 'tune', combiner: 'reranker', reranker: { maxQueries: 400 } });
  const tFit = performance.now();
  await rec.fit(split.train, { seed, onProgress: progressPrinter('  fitting ') });
  logLine(`  fitted ${rec.strategyNames.length} strategies + popularity fallback in ${secs(tFit)}`);
  const tuning = rec.tuning;
  if (tuning) {
    const w = Object.entries(tuning.weights).map(([n, v]) => `${n} ${v}`).join(', ');
    console.log(`  tuned on a validation split of the training data (${tuning.protocol}, ${tuning.queries} queries): ${w}; normalization ${tuning.normalization}`);
  }
  const summary = rec.rerankerSummary;
  if (summary) console.log(`  reranker ${summary.reason}`);
  const top = rec.reranker?.importance().slice(0, 5);
  if (top) console.log(`  features that mattered most (gain share): ${top.map((f) => `${f.feature} ${(100 * f.share).toFixed(0)}%`).join(', ')}`);
  console.log();

  showShoppers(rec, split);
  await printMetrics(rec, split);
  console.log(`\ndone in ${secs(t0)}`);
}

function showShoppers(rec: HybridRecommender, split: Split): void {
  const data = split.train;
  const name = (i: number) => data.catalog.name[i];
  const queries = split.queries.slice(0, showUsers);
  const w = 34;
  for (const q of queries) {
    const userId = data.users.id(q.user);
    const m = data.interactions;
    const past = [...m.indices.subarray(m.indptr[q.user], m.indptr[q.user + 1])]
      .map((item, j) => ({ item, count: m.values[m.indptr[q.user] + j] }))
      .sort((a, b) => b.count - a.count || a.item - b.item)
      .slice(0, 8);
    const again = rec.recommend(userId, { k: 8, explain: true, list: 'buy-again' });
    const discover = rec.recommend(userId, { k: 8, explain: true, list: 'discover' });
    const nOrders = data.baskets.userPtr[q.user + 1] - data.baskets.userPtr[q.user];
    const actual = new Set(q.target);
    const cell = (x: Recommendation | undefined) => (x ? `${actual.has(data.items.indexOf(x.item)) ? '*' : ' '}${clip(x.name, w - 1)}` : '');
    console.log(`shopper ${userId} (${nOrders} past orders; * = in the held-out next basket)`);
    console.log(`  ${'past purchases (times)'.padEnd(w)} | ${'buy it again'.padEnd(w)} | new for you`);
    console.log(`  ${'-'.repeat(w)}-+-${'-'.repeat(w)}-+-${'-'.repeat(w)}`);
    for (let r = 0; r < Math.max(past.length, again.length, discover.length); r++) {
      const p = past[r] ? `${clip(name(past[r].item), w - 6)} (${past[r].count})` : '';
      console.log(`  ${p.padEnd(w)} | ${cell(again[r]).padEnd(w)} | ${cell(discover[r])}`);
    }
    if (again[0]) console.log(`  why ${again[0].name}: ${again[0].reason}`);
    if (discover[0]) console.log(`  why ${discover[0].name}: ${discover[0].reason}`);
    console.log();
  }
}

async function printMetrics(rec: HybridRecommender, split: Split): Promise<void> {
  const rows: Array<[string, EvalResult]> = [];
  const run = async (label: string, ranker: IndexRanker) => rows.push([label, await evaluate(ranker, split, { k: 10 })]);
  for (const n of rec.strategyNames) await run(n, strategyRanker(rec, n));
  await run('linear', weightedRanker(rec, rec.strategyWeights));
  if (rec.reranker) await run('reranked', ensembleRanker(rec, { list: 'all' }));
  await run('buy again', ensembleRanker(rec, { list: 'buy-again' }));
  await run('discover', ensembleRanker(rec, { list: 'discover' }));
  console.log(`P4 next-basket metrics @10 over ${rows[0][1].evaluated} shoppers (each strategy alone gets the same popularity filler):`);
  const head = ['strategy', 'P@10', 'R@10', 'MAP@10', 'NDCG@10', 'Hit@10', 'R@10 repeat', 'R@10 explore'];
  console.log(`  ${head.map((h, i) => (i === 0 ? h.padEnd(11) : h.padStart(13))).join('')}`);
  for (const [label, r] of rows) {
    const cells = [r.precision, r.recall, r.map, r.ndcg, r.hitRate, r.recallRepeat ?? NaN, r.recallExplore ?? NaN];
    console.log(`  ${label.padEnd(11)}${cells.map((c) => c.toFixed(4).padStart(13)).join('')}`);
  }
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
