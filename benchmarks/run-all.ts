/**
 * `npm run bench`: every quality protocol (P1-P4 with each strategy alone and the ensembles,
 * P5 rules against arules), speed at 100k users x 20k products, then docs/benchmarks.md.
 * Real-data protocols say so and are skipped when ../shared is absent.
 *
 *   npm run bench               # about 25 minutes on 2 cores
 *   npm run bench -- --full     # also speed at Instacart scale (200k x 50k, ~15 more minutes)
 *
 * Each step runs in its own process, so one step's memory and JIT state do not bleed into
 * the next one's timings.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const full = process.argv.includes('--full');
const steps: string[][] = [
  ['benchmarks/quality.ts', 'P1', 'P2', 'P3', 'P4-small', 'P4-large'],
  ['benchmarks/p5.ts'],
  ['benchmarks/speed.ts', '--users', '100000', '--products', '20000'],
  ...(full ? [['benchmarks/speed.ts', '--users', '200000', '--products', '50000']] : []),
  ['benchmarks/report.ts'],
];

for (const step of steps) {
  console.log(`\n$ npx tsx ${step.join(' ')}`);
  const run = spawnSync('npx', ['tsx', ...step], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=8000`.trim() },
  });
  if (run.status !== 0) {
    console.error(`step failed (exit ${run.status}): ${step.join(' ')}`);
    process.exit(run.status ?? 1);
  }
}
