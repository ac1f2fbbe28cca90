/**
 * Next-basket quality on the real Instacart data: the P4 protocol (each shopper with at least
 * 3 orders has their last order held out; everything before it is training data), every
 * strategy alone and the tuned ensemble, Precision/Recall/MAP/NDCG/HitRate@K plus recall split
 * into re-bought and new items.
 *
 *   npx tsx examples/instacart.ts ./instacart
 *   npx tsx examples/instacart.ts ./orders --catalog ./catalog --eval-users all --no-neural
 *
 * The folder is the full Kaggle "Instacart Market Basket Analysis" download (orders.csv,
 * order_products__prior.csv, order_products__train.csv, products.csv, aisles.csv,
 * departments.csv; any of them may be gzipped as .csv.gz): 3.4 million orders (3.3 million
 * with lines) of 206,209 shoppers. With Kaggle's files the held-out order is the `train` order
 * for the 131,209 shoppers who have one (Kaggle's `test` orders have no lines and are not
 * baskets). The project's ../shared/data/instacart-sample is NOT enough: it holds 3,214 whole
 * baskets but almost every shopper there has a single order, so there are no per-user histories to
 * predict from (use it for basket completion instead).
 *
 * Flags: --catalog DIR (products/aisles/departments elsewhere), --eval-users N|all (shoppers
 * evaluated, default 10,000: scoring all 131k with eight rankers takes long), --k N (default
 * 10), --seed N, --no-neural (leave NeuralCF out: it is most of the fit time), --no-tune
 * (equal weights instead of tuning them on a validation split of the training orders),
 * --orphan-orders skip|own-user (order lines whose order is missing from orders.csv; the Kaggle
 * files have none).
 */
import { HybridRecommender, ensembleRanker, evaluate, nextBasket, strategyRanker, type EvalResult, type IndexRanker, type Progress } from '../src/index';
import { loadInstacart } from '../src/node';
import { defaultStrategies, logLine, progressPrinter, runIfMain, secs } from './shared';

export interface InstacartEvalOptions {
  /** Orders folder. */
  dir: string;
  /** Catalog folder when not `dir`. */
  catalog?: string;
  /** Lines of orders missing from orders.csv (none in the Kaggle files): see loadInstacart. */
  orphanOrders?: 'error' | 'skip' | 'own-user';
  /** Queries evaluated: the first N shoppers in id order (default 10,000), or 'all'. */
  evalUsers?: number | 'all';
  k?: number;
  seed?: number;
  neural?: boolean;
  tune?: boolean;
  log?: (line: string) => void;
  onProgress?: (progress: Progress) => void;
}

export interface InstacartEvalReport {
  shoppers: number;
  queries: number;
  evaluated: number;
  /** Per ranker (each strategy alone, then 'ensemble'), its metrics. */
  rows: Array<{ ranker: string; result: EvalResult }>;
}

export async function evaluateInstacart(options: InstacartEvalOptions): Promise<InstacartEvalReport> {
  const log = options.log ?? console.log;
  const k = options.k ?? 10;
  const seed = options.seed ?? 42;

  let t = performance.now();
  const { dataset, summary } = await loadInstacart(options.dir, { catalogDir: options.catalog, orphanOrders: options.orphanOrders, onProgress: options.onProgress });
  log(`loaded ${summary.users.toLocaleString()} shoppers, ${summary.items.toLocaleString()} products, ${summary.orders.toLocaleString()} orders, ${summary.lines.toLocaleString()} lines in ${secs(t)}`);

  const split = nextBasket(dataset);
  if (split.queries.length === 0) {
    throw new Error(`no shopper in ${options.dir} has 3 or more orders, so there is no next basket to predict: this needs the full Kaggle download, not a sample of baskets`);
  }
  const evalUsers = options.evalUsers === 'all' ? split.queries.length : Math.min(options.evalUsers ?? 10_000, split.queries.length);
  log(`P4 split: ${split.queries.length.toLocaleString()} shoppers with a held-out last order (evaluating ${evalUsers.toLocaleString()}), ${split.stats.trainBaskets.toLocaleString()} training orders`);

  const rec = new HybridRecommender({ strategies: defaultStrategies({ neural: options.neural }), weights: options.tune === false ? undefined : 'tune' });
  t = performance.now();
  await rec.fit(split.train, { seed, onProgress: options.onProgress });
  log(`fitted in ${secs(t)}: ${Object.entries(rec.fitSeconds).map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(', ')}`);
  if (rec.tuning) {
    const weights = Object.entries(rec.tuning.weights).map(([n, w]) => `${n} ${w}`).join(', ');
    log(`tuned weights (${rec.tuning.protocol} validation, ${rec.tuning.queries} queries): ${weights}; normalization ${rec.tuning.normalization}`);
  }

  const rows: InstacartEvalReport['rows'] = [];
  const run = async (ranker: string, r: IndexRanker) => {
    t = performance.now();
    rows.push({ ranker, result: await evaluate(r, split, { k, users: evalUsers, onProgress: options.onProgress }) });
    log(`evaluated ${ranker} in ${secs(t)}`);
  };
  for (const name of rec.strategyNames) await run(name, strategyRanker(rec, name));
  await run('ensemble', ensembleRanker(rec));
  log('');
  for (const line of metricsTable(rows, k)) log(line);
  return { shoppers: dataset.nUsers, queries: split.queries.length, evaluated: rows[0].result.evaluated, rows };
}

/** The metrics of several rankers as aligned text lines (P4 adds repeat / explore recall). */
export function metricsTable(rows: Array<{ ranker: string; result: EvalResult }>, k: number): string[] {
  const withSplit = rows.some((r) => r.result.recallRepeat !== undefined);
  const head = ['ranker', `P@${k}`, `R@${k}`, `MAP@${k}`, `NDCG@${k}`, `Hit@${k}`, `Cov@${k}`, ...(withSplit ? [`R@${k} repeat`, `R@${k} explore`] : [])];
  const lines = [head.map((h, i) => (i === 0 ? h.padEnd(12) : h.padStart(13))).join('')];
  for (const { ranker, result: r } of rows) {
    const cells = [r.precision, r.recall, r.map, r.ndcg, r.hitRate, r.coverage, ...(withSplit ? [r.recallRepeat ?? NaN, r.recallExplore ?? NaN] : [])];
    lines.push(ranker.padEnd(12) + cells.map((c) => c.toFixed(4).padStart(13)).join(''));
  }
  const first = rows[0]?.result;
  if (first) lines.push(`(${first.evaluated.toLocaleString()} shoppers evaluated${withSplit ? `; ${first.repeatEvaluated} with re-bought and ${first.exploreEvaluated} with new items in their next order` : ''})`);
  return lines;
}

function parseArgs(argv: string[]): InstacartEvalOptions {
  const usage = 'usage: npx tsx examples/instacart.ts DIR [--catalog DIR] [--eval-users N|all] [--k N] [--seed N] [--no-neural] [--no-tune] [--orphan-orders skip|own-user]';
  const flagsWithValue = new Set(['--catalog', '--eval-users', '--k', '--seed', '--orphan-orders']);
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    if (argv[i + 1] === undefined) throw new Error(`--${name} needs a value`);
    return argv[i + 1];
  };
  const positive = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const dir = argv.find((a, i) => !a.startsWith('--') && !flagsWithValue.has(argv[i - 1]));
  if (!dir) throw new Error(usage);
  const evalUsers = value('eval-users');
  const orphanOrders = value('orphan-orders');
  if (orphanOrders !== undefined && orphanOrders !== 'skip' && orphanOrders !== 'own-user') throw new Error(`--orphan-orders must be skip or own-user, got ${orphanOrders}`);
  return {
    dir,
    catalog: value('catalog'),
    orphanOrders,
    evalUsers: evalUsers === 'all' ? 'all' : positive('eval-users'),
    k: positive('k'),
    seed: positive('seed'),
    neural: !argv.includes('--no-neural'),
    tune: !argv.includes('--no-tune'),
  };
}

async function main(): Promise<void> {
  await evaluateInstacart({
    ...parseArgs(process.argv.slice(2)),
    onProgress: progressPrinter('  '),
    log: logLine,
  });
}

runIfMain(import.meta.url, main);
