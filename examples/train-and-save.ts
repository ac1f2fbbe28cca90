/**
 * Train once, serve many times: fits the default ensemble on a Kaggle Instacart folder (or on
 * synthetic grocery data), saves it as one artifact file and, beside it, a serving artifact
 * without customer data (model.serving.hrec), loads both back and checks that they recommend
 * exactly what the fitted model does (the serving one from the shopper's orders sent with the
 * request).
 *
 *   npx tsx examples/train-and-save.ts --out model.hrec                       (synthetic: 2,000 shoppers, 1,500 products)
 *   npx tsx examples/train-and-save.ts --users 20000 --products 5000 --seed 7 --out model.hrec
 *   npx tsx examples/train-and-save.ts --instacart ./instacart --out model.hrec
 *   npx tsx examples/train-and-save.ts --instacart ./orders --catalog ./catalog --out model.hrec
 *
 * Flags: --no-neural leaves NeuralCF out (it takes most of the fit time);
 * --no-tune keeps equal weights instead of tuning them on a validation split (tuning fits every
 * strategy twice); --skip-bad-rows counts and skips malformed CSV rows (and the lines of orders
 * whose orders.csv row was skipped) instead of stopping at the first one. Serve the file with
 * `npx tsx examples/server.ts model.hrec`, or open it in the browser demo.
 */
import { HybridRecommender, type Dataset, type Progress } from '../src/index';
import { ArtifactReader } from '../src/strategy';
import { loadArtifactFile, loadInstacart, loadRecommender, saveRecommender } from '../src/node';
import { defaultStrategies, logLine, progressPrinter, runIfMain, since, syntheticDataset } from './shared';

export interface TrainAndSaveOptions {
  /** Artifact file to write. */
  out: string;
  /** Kaggle Instacart folder (orders.csv, order_products__*.csv[.gz]); without it, synthetic data. */
  instacart?: string;
  /** Folder of products.csv, aisles.csv, departments.csv when it is not the instacart folder. */
  catalog?: string;
  /** Synthetic data size (default 2,000 shoppers, 1,500 products). */
  users?: number;
  products?: number;
  /** Seed of the synthetic data and of the fit (default 42). */
  seed?: number;
  /** Include NeuralCF (default true). */
  neural?: boolean;
  /** Tune the weights on a validation split (default true). */
  tune?: boolean;
  /** Skip and count malformed CSV rows, and lines of orders missing from orders.csv (default: stop at the first). */
  skipBadRows?: boolean;
  /** How many users and items to compare after reloading (default 200 each). */
  check?: number;
  log?: (line: string) => void;
  onProgress?: (progress: Progress) => void;
}

export interface TrainAndSaveReport {
  users: number;
  items: number;
  orders: number;
  /** Seconds to read or generate the data, fit, save (serialize + write) and load (read + parse). */
  seconds: { data: number; fit: number; save: number; load: number };
  /** Fit seconds per strategy (and fallback, and tuning). */
  fitSeconds: Record<string, number>;
  weights: Record<string, number>;
  bytes: number;
  parts: ArtifactPart[];
  /** Recommendation lists compared between the fitted and the reloaded model (all equal, or trainAndSave throws). */
  compared: number;
  /** The serving artifact written beside `out` (no user ids or histories): its path and size. */
  serving: { path: string; bytes: number };
  /** Shoppers whose orders, sent with the request to the serving artifact, got the full model's list (all, or trainAndSave throws). */
  servingCompared: number;
}

export interface ArtifactPart {
  /** 'header + manifest', 'data/baskets', 'strategies/itemknn', 'fallback', ... */
  part: string;
  bytes: number;
}

export async function trainAndSave(options: TrainAndSaveOptions): Promise<TrainAndSaveReport> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 42;

  let t = performance.now();
  const data = await loadData(options, log);
  const dataSeconds = since(t);
  log(`data: ${data.nUsers.toLocaleString()} shoppers, ${data.nItems.toLocaleString()} products, ${data.nBaskets.toLocaleString()} orders (${dataSeconds.toFixed(1)} s)`);

  const rec = new HybridRecommender({
    strategies: defaultStrategies({ neural: options.neural }),
    weights: options.tune === false ? undefined : 'tune',
  });
  t = performance.now();
  await rec.fit(data, { seed, onProgress: options.onProgress });
  const fitSeconds = since(t);
  log(`fitted in ${fitSeconds.toFixed(1)} s: ${Object.entries(rec.fitSeconds).map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(', ')}`);
  log(`weights: ${Object.entries(rec.strategyWeights).map(([n, w]) => `${n} ${w}`).join(', ')}; normalization ${rec.normalization}`);

  t = performance.now();
  await saveRecommender(rec, options.out);
  const saveSeconds = since(t);
  t = performance.now();
  const loaded = await loadRecommender(options.out);
  const loadSeconds = since(t);
  const bytes = await loadArtifactFile(options.out);
  const parts = artifactParts(bytes);
  log(`saved ${options.out}: ${mib(bytes.length)} in ${saveSeconds.toFixed(2)} s, loaded back in ${loadSeconds.toFixed(2)} s`);
  for (const p of parts) log(`  ${p.part.padEnd(28)} ${mib(p.bytes).padStart(10)}`);

  const compared = compareModels(rec, loaded, options.check ?? 200);
  log(`the reloaded model gives identical results on ${compared} recommendation lists`);

  // What a web page or a fleet of servers loads: the item-side model only; each request brings
  // the shopper's orders from the shop's own database.
  const servingPath = options.out.replace(/(\.hrec)?$/, '.serving.hrec');
  await saveRecommender(rec, servingPath, { customerData: false });
  const serving = await loadRecommender(servingPath);
  const servingBytes = (await loadArtifactFile(servingPath)).length;
  const servingCompared = compareServing(rec, serving, options.check ?? 200);
  log(`saved ${servingPath} (serving artifact, no customer data): ${mib(servingBytes)}; identical lists for ${servingCompared} shoppers sending their orders`);
  return {
    users: data.nUsers,
    items: data.nItems,
    orders: data.nBaskets,
    seconds: { data: dataSeconds, fit: fitSeconds, save: saveSeconds, load: loadSeconds },
    fitSeconds: rec.fitSeconds,
    weights: rec.strategyWeights,
    bytes: bytes.length,
    parts,
    compared,
    serving: { path: servingPath, bytes: servingBytes },
    servingCompared,
  };
}

async function loadData(options: TrainAndSaveOptions, log: (line: string) => void): Promise<Dataset> {
  if (options.instacart === undefined) return syntheticDataset(options.users ?? 2000, options.products ?? 1500, options.seed ?? 42);
  const { dataset, summary } = await loadInstacart(options.instacart, {
    catalogDir: options.catalog,
    onBadRow: options.skipBadRows ? 'skip' : 'error',
    // A skipped orders.csv row leaves its order lines without an order: skip those too.
    orphanOrders: options.skipBadRows ? 'skip' : 'error',
    onProgress: options.onProgress,
  });
  if (summary.ordersWithoutLines > 0) log(`${summary.ordersWithoutLines.toLocaleString()} orders without lines (Kaggle's test orders) are not baskets`);
  if (summary.skippedRows.count > 0) {
    log(`skipped ${summary.skippedRows.count.toLocaleString()} malformed rows, first ones:`);
    for (const message of summary.skippedRows.errors) log(`  ${message}`);
  }
  if (summary.skippedOrders > 0) log(`skipped ${summary.skippedLines.toLocaleString()} lines of ${summary.skippedOrders.toLocaleString()} orders missing from orders.csv`);
  return dataset;
}

/**
 * Compares the two models on `n` known users (spread over the index), `n` items' similar
 * items, a cart, a shopper brought by the request and a cold start; throws on the first
 * difference, scores and reasons included. Returns the number of lists compared.
 */
export function compareModels(a: HybridRecommender, b: HybridRecommender, n: number): number {
  const data = a.dataset;
  let compared = 0;
  const same = (what: string, x: unknown, y: unknown) => {
    const sx = JSON.stringify(x);
    const sy = JSON.stringify(y);
    if (sx !== sy) throw new Error(`the reloaded model differs on ${what}:\n  fitted:   ${sx.slice(0, 400)}\n  reloaded: ${sy.slice(0, 400)}`);
    compared++;
  };
  const userStep = Math.max(1, Math.floor(data.nUsers / n));
  for (let u = 0; u < data.nUsers; u += userStep) {
    const id = data.users.id(u);
    same(`recommend("${id}")`, a.recommend(id, { k: 10, explain: true }), b.recommend(id, { k: 10, explain: true }));
  }
  const itemStep = Math.max(1, Math.floor(data.nItems / n));
  for (let i = 0; i < data.nItems; i += itemStep) {
    const id = data.items.id(i);
    same(`similarItems("${id}")`, a.similarItems(id, { k: 10, explain: true }), b.similarItems(id, { k: 10, explain: true }));
  }
  const basket = { basket: [data.items.id(0), data.items.id(data.nItems - 1)] };
  const history = { history: [data.items.id(1), data.items.id(1), data.items.id(2)] };
  for (const shopper of [basket, history, { history: [] }]) {
    same(`recommend(${JSON.stringify(shopper)})`, a.recommend(shopper, { k: 10, explain: true }), b.recommend(shopper, { k: 10, explain: true }));
  }
  return compared;
}

/**
 * The full model's list for a known shopper against the serving model's list for the same
 * shopper's orders sent with the request; throws on the first difference.
 */
export function compareServing(full: HybridRecommender, serving: HybridRecommender, n: number): number {
  const data = full.dataset;
  const { userPtr, itemPtr, items, day } = data.baskets;
  let compared = 0;
  for (let u = 0; u < data.nUsers; u += Math.max(1, Math.floor(data.nUsers / n))) {
    const baskets: string[][] = [];
    const days: number[] = [];
    for (let b = userPtr[u]; b < userPtr[u + 1]; b++) {
      baskets.push(Array.from(items.subarray(itemPtr[b], itemPtr[b + 1]), (i) => data.items.id(i)));
      days.push(day[b]);
    }
    const expected = JSON.stringify(full.recommend(data.users.id(u), { k: 10, explain: true }));
    const got = JSON.stringify(serving.recommend({ baskets, days }, { k: 10, explain: true }));
    if (got !== expected) throw new Error(`the serving artifact differs for shopper ${data.users.id(u)}:\n  full:    ${expected.slice(0, 400)}\n  serving: ${got.slice(0, 400)}`);
    compared++;
  }
  return compared;
}

/** Bytes of an artifact by part: training data tables, each strategy, the fallback, and the header + manifest + padding. */
export function artifactParts(bytes: Uint8Array): ArtifactPart[] {
  const reader = ArtifactReader.open(bytes);
  const sizes = new Map<string, number>();
  let inSections = 0;
  for (const name of reader.sectionNames) {
    const path = name.split('#')[0].split('/');
    const part = path[0] === 'fallback' ? 'fallback' : path.slice(0, 2).join('/');
    const size = reader.array(name).byteLength;
    sizes.set(part, (sizes.get(part) ?? 0) + size);
    inSections += size;
  }
  return [{ part: 'header + manifest + padding', bytes: bytes.length - inSections }, ...[...sizes].map(([part, size]) => ({ part, bytes: size }))];
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function parseArgs(argv: string[]): TrainAndSaveOptions {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const count = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const out = value('out');
  if (!out) throw new Error('usage: npx tsx examples/train-and-save.ts [--instacart DIR [--catalog DIR]] [--users N --products N] [--seed N] [--no-neural] [--no-tune] [--skip-bad-rows] --out model.hrec');
  return {
    out,
    instacart: value('instacart'),
    catalog: value('catalog'),
    users: count('users'),
    products: count('products'),
    seed: count('seed'),
    neural: !argv.includes('--no-neural'),
    tune: !argv.includes('--no-tune'),
    skipBadRows: argv.includes('--skip-bad-rows'),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  await trainAndSave({
    ...options,
    onProgress: progressPrinter('  '),
    log: logLine,
  });
}

runIfMain(import.meta.url, main);
