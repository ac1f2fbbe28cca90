/** Pieces the runnable examples share: the default ensemble, a synthetic-data fit and console helpers. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AssociationRules,
  CoPurchaseGraph,
  ContentBased,
  HybridRecommender,
  ItemKNN,
  NeuralCF,
  Popularity,
  RepeatPurchase,
  TfidfEncoder,
  datasetFromInstacart,
  generateGrocery,
  type Dataset,
  type Progress,
  type Recommender,
} from '../src/index';

/**
 * The ensemble the demo fits: every strategy of the library. Popularity is a member too (not
 * only the cold-start filler), so weight tuning can lean on it where the data is thin; as a
 * member it scores the catalog's head only, which keeps a 50k-item query cheap.
 */
export function defaultStrategies(options: { neural?: boolean } = {}): Record<string, Recommender> {
  const strategies: Record<string, Recommender> = {
    popularity: new Popularity({ maxItems: 1000 }),
    repeat: new RepeatPurchase(),
    itemknn: new ItemKNN(),
    content: new ContentBased({ encoder: new TfidfEncoder() }),
    rules: new AssociationRules(),
    graph: new CoPurchaseGraph(),
  };
  if (options.neural !== false) strategies.ncf = new NeuralCF();
  return strategies;
}

/** A one-line progress printer for fits that rewrites itself on a TTY. */
export function progressPrinter(prefix = ''): (p: Progress) => void {
  let last = '';
  return (p) => {
    const pct = p.total > 0 ? ` ${Math.round((100 * p.done) / p.total)}%` : '';
    const line = `${prefix}${p.stage}${pct}${p.message ? ` - ${p.message}` : ''}`;
    if (line === last) return;
    last = line;
    if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${line.slice(0, process.stdout.columns - 1)}`);
    else if (p.done === p.total) console.log(line);
  };
}

/** console.log that first clears the line a progressPrinter may have left on a TTY. */
export function logLine(line: string): void {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  console.log(line);
}

/** Seconds since the performance.now() time `t`. */
export function since(t: number): number {
  return (performance.now() - t) / 1000;
}

/** Seconds since `t` as text, "12.3 s". */
export function secs(t: number): string {
  return `${since(t).toFixed(1)} s`;
}

/** Runs `main` when the module at `moduleUrl` is the script node was started with (not when imported); exits 1 on an error. */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  if (process.argv[1] && moduleUrl === pathToFileURL(resolve(process.argv[1])).href) {
    main().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  }
}

export function syntheticDataset(users: number, products: number, seed = 42): Dataset {
  return datasetFromInstacart(generateGrocery({ users, products, seed })).dataset;
}

/**
 * Fits the default ensemble on synthetic grocery data (examples that need a model and have none).
 * Progress goes to `onProgress` when given, else to a progressPrinter unless `quiet`.
 */
export async function fitDemoRecommender(opts: {
  users: number;
  products: number;
  seed?: number;
  quiet?: boolean;
  neural?: boolean;
  /** Default equal weights; 'tune' chooses them on a validation split of the training data, as npm run demo does. */
  weights?: 'tune' | Record<string, number>;
  onProgress?: (p: Progress) => void;
}) {
  const data = syntheticDataset(opts.users, opts.products, opts.seed ?? 42);
  const recommender = new HybridRecommender({ strategies: defaultStrategies({ neural: opts.neural }), weights: opts.weights ?? {} });
  await recommender.fit(data, { seed: opts.seed ?? 42, onProgress: opts.onProgress ?? (opts.quiet ? undefined : progressPrinter()) });
  if (!opts.quiet && process.stdout.isTTY) process.stdout.write('\n');
  return { data, recommender };
}
