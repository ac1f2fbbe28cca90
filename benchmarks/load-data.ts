/**
 * Loader speed and memory: the real Instacart sample (with the full product catalog),
 * MovieLens 100K and Last.fm 2K through loadInteractionsCsv, and CSV throughput at scale on
 * a written Kaggle-shaped folder of --lines order lines. Each load runs once in a fresh child
 * process (cold time, peak RSS of that process), then --repeat times in one process (median,
 * p50/p99 of warm times).
 *
 *   npx tsx benchmarks/load-data.ts [--repeat 7] [--lines 2000000] [--no-scale]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { datasetFromInstacart, type InstacartTables } from '../src/data/instacart';
import { loadInstacart, readInstacartTables, writeInstacartCsv } from '../src/node/instacart';
import { loadInteractionsCsv } from '../src/node/interactions';
import { mulberry32 } from '../src/util/random';
import { arg, quantile } from './machine';

const DATA = fileURLToPath(new URL('../../shared/data', import.meta.url));

const tasks: Record<string, { needs: string; run: (dir?: string) => Promise<string> }> = {
  baseline: { needs: '', run: async () => 'node + tsx + the loader modules, nothing read' },
  'instacart-sample': {
    needs: join(DATA, 'instacart-sample'),
    run: async () => {
      const { summary } = await loadInstacart(join(DATA, 'instacart-sample'), { catalogDir: join(DATA, 'instacart'), orphanOrders: 'own-user' });
      return `${summary.orders} baskets, ${summary.lines} lines, ${summary.items} items`;
    },
  },
  movielens: {
    needs: join(DATA, 'movielens-100k'),
    run: async () => {
      const { rows, dataset } = await loadInteractionsCsv(join(DATA, 'movielens-100k/u.data.gz'), {
        delimiter: '\t',
        header: ['user', 'item', 'rating', 'ts'],
        mapping: { user: 'user', item: 'item', timestamp: 'ts' },
      });
      return `${rows.user.length} rows, ${dataset.nUsers} users, ${dataset.nItems} items, ${dataset.nBaskets} baskets`;
    },
  },
  lastfm: {
    needs: join(DATA, 'lastfm-2k'),
    run: async () => {
      const { rows, dataset } = await loadInteractionsCsv(join(DATA, 'lastfm-2k/user_artists.dat.gz'), {
        delimiter: '\t',
        header: ['user', 'artist', 'plays'],
        mapping: { user: 'user', item: 'artist', weight: 'plays' },
        catalog: { path: join(DATA, 'lastfm-2k/artists.dat.gz'), delimiter: '\t', mapping: { item: 'id', name: 'name' } },
      });
      return `${rows.user.length} rows, ${dataset.nUsers} users, ${dataset.nItems} items (with artists.dat)`;
    },
  },
  scale: {
    needs: '',
    run: async (dir) => {
      const { tables } = await readInstacartTables(dir!);
      const { summary } = datasetFromInstacart(tables);
      return `${summary.orders} baskets, ${summary.lines} lines, ${summary.users} users`;
    },
  },
};

/** Kaggle-shaped random tables with `lines` order lines (10 distinct products per order, 10 orders per user). */
function randomTables(lines: number): InstacartTables {
  const rng = mulberry32(42);
  const nProducts = 50_000;
  const nOrders = Math.ceil(lines / 10);
  const orderId = new Int32Array(nOrders);
  const userId = new Int32Array(nOrders);
  const orderNumber = new Int32Array(nOrders);
  const days = new Float32Array(nOrders);
  for (let o = 0; o < nOrders; o++) {
    orderId[o] = o + 1;
    userId[o] = Math.floor(o / 10) + 1;
    orderNumber[o] = (o % 10) + 1;
    days[o] = o % 10 === 0 ? NaN : Math.floor(rng() * 30);
  }
  const n = nOrders * 10;
  const lineOrder = new Int32Array(n);
  const product = new Int32Array(n);
  const cart = new Int32Array(n);
  for (let l = 0; l < n; l++) {
    lineOrder[l] = Math.floor(l / 10) + 1;
    // Distinct products within an order, as in Kaggle's files (a repeat is a DataError).
    const first = l - (l % 10);
    do product[l] = 1 + Math.floor(rng() * nProducts);
    while (product.subarray(first, l).includes(product[l]));
    cart[l] = (l % 10) + 1;
  }
  return {
    departments: { id: Int32Array.from([1]), name: ['all'] },
    aisles: { id: Int32Array.from([1]), name: ['all'] },
    products: {
      id: Int32Array.from({ length: nProducts }, (_, i) => i + 1),
      name: Array.from({ length: nProducts }, (_, i) => (i % 15 === 0 ? `Product ${i + 1}, "quoted"` : `Product ${i + 1}`)),
      aisleId: new Int32Array(nProducts).fill(1),
      departmentId: new Int32Array(nProducts).fill(1),
    },
    orders: {
      orderId,
      userId,
      evalSet: new Uint8Array(nOrders),
      orderNumber,
      orderDow: new Uint8Array(nOrders),
      orderHourOfDay: new Uint8Array(nOrders).fill(8),
      daysSincePriorOrder: days,
    },
    orderProducts: { orderId: lineOrder, productId: product, addToCartOrder: cart, reordered: new Uint8Array(n) },
  };
}

async function child(task: string, dir: string | undefined): Promise<void> {
  const t0 = performance.now();
  const what = await tasks[task].run(dir);
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, what }));
}

function cold(task: string, dir?: string): { ms: number; maxRssKb: number; what: string } {
  const out = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--child', task, ...(dir ? ['--dir', dir] : [])], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`child ${task} failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

async function warm(task: string, repeat: number, dir?: string): Promise<string> {
  const times: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    await tasks[task].run(dir);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return `warm median/p50 ${quantile(times, 0.5).toFixed(0)} ms, p99 ${quantile(times, 0.99).toFixed(0)} ms (min ${times[0].toFixed(0)}) over ${repeat}`;
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) {
    const dirAt = process.argv.indexOf('--dir');
    return child(process.argv[childAt + 1], dirAt >= 0 ? process.argv[dirAt + 1] : undefined);
  }
  const repeat = arg('repeat', 7);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}`);
  const base = cold('baseline');
  console.log(`baseline: ${base.what}, peak RSS ${(base.maxRssKb / 1024).toFixed(0)} MB`);
  for (const task of ['instacart-sample', 'movielens', 'lastfm']) {
    if (!existsSync(tasks[task].needs)) {
      console.log(`${task}: skipped, ${tasks[task].needs} is absent`);
      continue;
    }
    const c = cold(task);
    console.log(`${task}: ${c.what}\n  cold ${c.ms.toFixed(0)} ms, peak RSS ${(c.maxRssKb / 1024).toFixed(0)} MB; ${await warm(task, repeat)}`);
  }
  if (process.argv.includes('--no-scale')) return;
  const lines = arg('lines', 2_000_000);
  const dir = await mkdtemp(join(tmpdir(), 'hybridrec-load-bench-'));
  try {
    const t0 = performance.now();
    await writeInstacartCsv(randomTables(lines), dir);
    const bytes = (await stat(join(dir, 'order_products__prior.csv'))).size + (await stat(join(dir, 'orders.csv'))).size;
    console.log(`scale: wrote ${lines} lines (${(bytes / 2 ** 20).toFixed(0)} MB of orders + lines) in ${(performance.now() - t0).toFixed(0)} ms`);
    const c = cold('scale', dir);
    console.log(`  ${c.what}\n  cold ${c.ms.toFixed(0)} ms (${(bytes / 2 ** 20 / (c.ms / 1000)).toFixed(0)} MB/s), peak RSS ${(c.maxRssKb / 1024).toFixed(0)} MB; ${await warm('scale', Math.min(repeat, 3), dir)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
