/**
 * Time and peak memory of the synthetic grocery generator from 1k users / 2k products to
 * 200k users / 50k products (~3M orders, ~30M lines).
 *
 *   npx tsx benchmarks/synthetic-scale.ts                      # every scale
 *   npx tsx benchmarks/synthetic-scale.ts 1000x2000,20000x5000 # chosen scales
 *
 * Each run is a fresh child process, so its peak RSS (getrusage maxrss) is that run's alone; it
 * includes Node and the TypeScript loader, reported separately as the baseline. Small scales
 * run several times (median and spread of the times); the largest runs once.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateGrocery } from '../src/data/synthetic';
import { quantile } from './machine';

interface RunResult {
  users: number;
  products: number;
  ms: number;
  orders: number;
  lines: number;
  baselineRssMb: number;
  peakRssMb: number;
}

const DEFAULT_SCALES: Array<[number, number, number]> = [
  [1_000, 2_000, 7],
  [20_000, 5_000, 5],
  [100_000, 20_000, 2],
  [200_000, 50_000, 1],
];

function runOnce(users: number, products: number): RunResult {
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const start = performance.now();
  const tables = generateGrocery({ users, products });
  const ms = performance.now() - start;
  return {
    users,
    products,
    ms,
    orders: tables.orders.orderId.length,
    lines: tables.orderProducts.orderId.length,
    baselineRssMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function main(): void {
  const [, script, arg] = process.argv;
  if (arg?.startsWith('--child=')) {
    const [users, products] = arg.slice('--child='.length).split('x').map(Number);
    process.stdout.write(JSON.stringify(runOnce(users, products)));
    return;
  }
  const scales = arg ? arg.split(',').map((s) => [...s.split('x').map(Number), 1] as [number, number, number]) : DEFAULT_SCALES;
  console.log('users    products  orders     lines       runs  time median (min..max)   peak RSS   baseline RSS');
  for (const [users, products, repeats] of scales) {
    const runs: RunResult[] = [];
    for (let r = 0; r < repeats; r++) {
      const out = execFileSync(process.execPath, [...process.execArgv, script ?? fileURLToPath(import.meta.url), `--child=${users}x${products}`], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      runs.push(JSON.parse(out) as RunResult);
    }
    const times = runs.map((r) => r.ms).sort((a, b) => a - b);
    const peak = Math.max(...runs.map((r) => r.peakRssMb));
    const base = Math.max(...runs.map((r) => r.baselineRssMb));
    const { orders, lines } = runs[0];
    console.log(
      `${String(users).padEnd(9)}${String(products).padEnd(10)}${String(orders).padEnd(11)}${String(lines).padEnd(12)}${String(repeats).padEnd(6)}` +
        `${(quantile(times, 0.5) / 1000).toFixed(2)} s (${(times[0] / 1000).toFixed(2)}..${(times[times.length - 1] / 1000).toFixed(2)})`.padEnd(25) +
        `${peak.toFixed(0)} MB`.padEnd(11) +
        `${base.toFixed(0)} MB`,
    );
  }
}

main();
