/**
 * Builds the browser demo into a folder: the page (index.html + main.ts bundled by esbuild),
 * a demo model fitted in Node on synthetic grocery data and saved as a serving artifact
 * (model.hrec: save({ customerData: false }), no user ids or purchase histories), and
 * shoppers.json, the synthetic shoppers' orders, standing in for the shop's own database: the
 * page sends a shopper's orders with each request, as a shop's backend would.
 *
 *   npx tsx examples/browser/build.ts                      (into examples/browser/dist/)
 *   npx tsx examples/browser/build.ts --out /tmp/demo --users 2000 --products 1500 --seed 7 --no-neural
 *
 * To show your own model instead, copy any saved .hrec into the folder as model.hrec, or open it
 * with the page's "Open .hrec…" button.
 */
import { build } from 'esbuild';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HybridRecommender, ensembleRanker, evaluate, nextBasket, strategyRanker, type Progress } from '../../src/index';
import { demoShoppers } from './shoppers';
import { defaultStrategies, fitDemoRecommender, logLine, progressPrinter, runIfMain, syntheticDataset } from '../shared';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The training and embedding dependencies are only imported (dynamically) by fit/encode;
 * scoring a loaded model never reaches them, so the page does not ship them.
 */
export { demoShoppers, type DemoShopper } from './shoppers';

export const LAZY_DEPENDENCIES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@huggingface/transformers'];

/** Bundles main.ts for browsers and copies index.html beside it. */
export async function buildPage(outDir: string, options: { minify?: boolean } = {}): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(here, 'main.ts')],
    outfile: join(outDir, 'main.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    minify: options.minify ?? false,
    external: LAZY_DEPENDENCIES,
    logLevel: 'silent',
  });
  await copyFile(join(here, 'index.html'), join(outDir, 'index.html'));
}

export interface DemoModelOptions {
  users: number;
  products: number;
  seed: number;
  /** Include NeuralCF (its fit needs @tensorflow/tfjs; scoring the saved model does not). */
  neural: boolean;
  onProgress?: (progress: Progress) => void;
}

/** Fits the demo ensemble on synthetic grocery data, with the weights tuned as the Node demo tunes them. */
export async function fitDemoModel(options: Partial<DemoModelOptions> = {}): Promise<HybridRecommender> {
  const { users = 800, products = 600, seed = 42, neural = true, onProgress } = options;
  return (await fitDemoRecommender({ users, products, seed, neural, weights: 'tune', quiet: true, onProgress })).recommender;
}

/** What the page's metrics panel shows (metrics.json beside the model). */
export interface DemoMetrics {
  protocol: string;
  k: number;
  queries: number;
  rows: Array<{ ranker: string; ndcg: number; recall: number; precision: number; hitRate: number }>;
}

/**
 * Held-out quality of each strategy and of the ensemble, as npm run demo measures it (P4: each
 * shopper's last basket held out, the same tuned ensemble fitted on the rest).
 */
export async function heldOutMetrics(options: Partial<DemoModelOptions> = {}): Promise<DemoMetrics> {
  const { users = 800, products = 600, seed = 42, neural = true, onProgress } = options;
  const split = nextBasket(syntheticDataset(users, products, seed));
  const rec = new HybridRecommender({ strategies: defaultStrategies({ neural }), weights: 'tune' });
  await rec.fit(split.train, { seed, onProgress });
  const rows: DemoMetrics['rows'] = [];
  for (const [ranker, r] of [...rec.strategyNames.map((n) => [n, strategyRanker(rec, n)] as const), ['ensemble', ensembleRanker(rec)] as const]) {
    const m = await evaluate(r, split, { k: 10 });
    rows.push({ ranker, ndcg: m.ndcg, recall: m.recall, precision: m.precision, hitRate: m.hitRate });
  }
  return { protocol: 'P4 next-basket (last basket held out)', k: 10, queries: split.queries.length, rows };
}

/**
 * Fits the demo model and writes it as outDir/model.hrec, a serving artifact (no customer
 * data), with the shoppers' orders beside it in shoppers.json; returns the model's bytes.
 */
export async function writeDemoModel(outDir: string, options: Partial<DemoModelOptions> = {}): Promise<Uint8Array> {
  const rec = await fitDemoModel(options);
  const bytes = rec.save({ customerData: false });
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'model.hrec'), bytes);
  await writeFile(join(outDir, 'shoppers.json'), JSON.stringify(demoShoppers(rec.dataset)));
  return bytes;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer, got ${args[i + 1]}`);
  return v;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outFlag = args.indexOf('--out');
  const outDir = resolve(outFlag >= 0 ? args[outFlag + 1] : join(here, 'dist'));
  const users = flag(args, 'users', 800);
  const products = flag(args, 'products', 600);
  const seed = flag(args, 'seed', 42);
  const neural = !args.includes('--no-neural');
  const t0 = performance.now();
  await buildPage(outDir, { minify: args.includes('--minify') });
  console.log(`page bundled into ${outDir} (${Math.round(performance.now() - t0)} ms)`);
  const t1 = performance.now();
  const bytes = await writeDemoModel(outDir, { users, products, seed, neural, onProgress: progressPrinter('  fitting ') });
  logLine(`model.hrec (serving artifact, no customer data) + shoppers.json: ${users} shoppers x ${products} products, seed ${seed}, ${(bytes.byteLength / 1024).toFixed(0)} KiB (${Math.round(performance.now() - t1)} ms)`);
  const t2 = performance.now();
  await writeFile(join(outDir, 'metrics.json'), JSON.stringify(await heldOutMetrics({ users, products, seed, neural, onProgress: progressPrinter('  held-out metrics ') })));
  logLine(`metrics.json: P4 held-out metrics per strategy and for the ensemble (${Math.round(performance.now() - t2)} ms)`);
  console.log(`serve it with: npx tsx examples/browser/serve.ts --dir ${outDir}`);
}

runIfMain(import.meta.url, main);
