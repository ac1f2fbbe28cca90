/**
 * Batch recommend throughput of the non-neural ensemble on the P1 and P2 training splits: every
 * train user, k = 10, excludePurchased (the protocols exclude train items), through
 * recommendBatch on 1 and 2 threads, against recommend() per user in the same run (which they
 * must equal exactly).
 *
 *   npx tsx benchmarks/ensemble-batch.ts [P1,P2] [--reps 7]
 *
 * The ensemble is the demo's and the CLI's default non-neural set (examples/shared.ts
 * defaultStrategies({ neural: false }) = src/cli/strategies.ts DEFAULT_STRATEGIES), equal
 * weights, the library's defaults otherwise. Per rep the ways alternate (per-user, batch, ...)
 * so machine noise hits them alike; each row is the median of the reps, in users per second of
 * wall time and per second of process CPU time (every thread of the process). On a loaded
 * machine read CPU time and the ratios. Writes benchmarks/results/ensemble-batch-<protocols>.json
 * (rendered by benchmarks/report.ts). About 1 minute for P1,P2 with 7 reps on a quiet 2-core
 * machine. Exits 0 with a message when ../shared/data is absent.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { HybridRecommender, type Recommendation } from '../src/index';
import { installWorkerPool } from '../src/node';
import { defaultStrategies } from '../examples/shared';
import { arg, describeMachine, machine, median, procCpuSeconds } from './machine';
import { loadSplit, RESULTS_DIR, SHARED_DATA } from './quality';

interface Way {
  name: string;
  run: (rec: HybridRecommender, users: string[]) => Promise<Recommendation[][]> | Recommendation[][];
}

const OPTIONS = { k: 10, excludePurchased: true } as const;

/**
 * CPU seconds of the calling thread alone (its task in /proc: Node 20 has no per-thread CPU
 * clock), in 10 ms ticks, so read as a sum over reps; null without /proc.
 */
const callingThreadCpu = () => procCpuSeconds(`/proc/self/task/${process.pid}/stat`);
const HAS_THREAD_CPU = callingThreadCpu() !== null;

const WAYS: Way[] = [
  { name: 'recommend() per user', run: (rec, users) => users.map((u) => rec.recommend(u, OPTIONS)) },
  { name: 'recommendBatch threads 1', run: (rec, users) => rec.recommendBatch(users, { ...OPTIONS, threads: 1 }) },
  { name: 'recommendBatch threads 2', run: (rec, users) => rec.recommendBatch(users, { ...OPTIONS, threads: 2 }) },
];

async function main(): Promise<void> {
  const protocols = (process.argv.slice(2).find((a) => /^P\d/.test(a)) ?? 'P1,P2').split(',');
  const reps = arg('reps', 7);
  if (!existsSync(SHARED_DATA)) {
    console.log(`skipped: ${SHARED_DATA} is absent (the real datasets live there on developer machines and in CI)`);
    return;
  }
  // The Node entry's pool, but with workers kept between the reps: with the default idle
  // timeout (5 s) a worker exits while the other ways run, and every 2-thread rep would pay a
  // worker start and a model load (the first-call table shows that cost).
  const pool = installWorkerPool({ idleTimeout: 600_000 });
  const loads: number[] = [loadavg()[0]];
  console.log(`machine: ${describeMachine()}, load average ${loads[0].toFixed(1)}`);
  const rows: Array<Record<string, unknown>> = [];
  const firstCalls: Array<Record<string, unknown>> = [];
  for (const id of protocols) {
    const split = await loadSplit(id);
    const data = split.train;
    const rec = new HybridRecommender({ strategies: defaultStrategies({ neural: false }) });
    const t0 = performance.now();
    await rec.fit(data, { seed: 42 });
    console.log(`${id}: ${data.nUsers} users x ${data.nItems} items, fitted ${rec.strategyNames.join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const users = Array.from({ length: data.nUsers }, (_, u) => data.users.id(u));
    // Warm-up, and the reference every way must match exactly (items, order, scores, sources).
    const reference = JSON.stringify(await WAYS[0].run(rec, users));
    // The first parallel batch after a fit also saves the artifact and loads it in each worker.
    const cold0 = performance.now();
    await rec.recommendBatch(users, { ...OPTIONS, threads: 2 });
    const firstParallelSeconds = (performance.now() - cold0) / 1000;
    console.log(`  first threads-2 batch (save, worker start and load included): ${firstParallelSeconds.toFixed(2)} s`);
    firstCalls.push({ protocol: id, 'first threads-2 batch s': Number(firstParallelSeconds.toFixed(3)), 'artifact MiB': Number((rec.save().byteLength / 2 ** 20).toFixed(1)) });
    const samples = WAYS.map(() => ({ wall: [] as number[], cpu: [] as number[], callingThread: 0 }));
    const identical = WAYS.map(() => true);
    for (let r = 0; r < reps; r++) {
      for (let w = 0; w < WAYS.length; w++) {
        const cpu0 = process.cpuUsage();
        const calling0 = callingThreadCpu();
        const wall0 = performance.now();
        const out = await WAYS[w].run(rec, users);
        const wall = (performance.now() - wall0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        samples[w].wall.push(wall);
        samples[w].cpu.push((cpu.user + cpu.system) / 1e6);
        if (calling0 !== null) samples[w].callingThread += callingThreadCpu()! - calling0;
        if (r === 0) identical[w] = JSON.stringify(out) === reference;
      }
      loads.push(loadavg()[0]);
    }
    const base = median(samples[0].wall);
    for (let w = 0; w < WAYS.length; w++) {
      const wall = median(samples[w].wall);
      const cpu = median(samples[w].cpu);
      const row = {
        protocol: id,
        way: WAYS[w].name,
        users: users.length,
        'users/s (wall)': Math.round(users.length / wall),
        'users/s (CPU)': Math.round(users.length / cpu),
        'speed-up (wall)': Number((base / wall).toFixed(2)),
        // Where the CPU of a parallel batch goes: the calling thread's part (reading the workers' lists) against the workers'.
        'calling-thread CPU ms/batch': HAS_THREAD_CPU ? Math.round((1000 * samples[w].callingThread) / reps) : null,
        'identical to recommend()': identical[w],
      };
      rows.push(row);
      console.log(`  ${WAYS[w].name.padEnd(28)} ${String(row['users/s (wall)']).padStart(7)} users/s wall  ${String(row['users/s (CPU)']).padStart(7)} users/s CPU  x${row['speed-up (wall)']}  calling thread ${row['calling-thread CPU ms/batch']} ms/batch  identical ${identical[w]}`);
    }
  }
  let rev = 'unknown';
  try {
    rev = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const result = {
    title: `Ensemble batch recommend (${protocols.join(', ')}; non-neural demo ensemble, every train user, k = 10, train items excluded)`,
    command: `npx tsx benchmarks/ensemble-batch.ts ${protocols.join(',')} --reps ${reps}`,
    date: new Date().toISOString().slice(0, 10),
    rev,
    machine: machine(),
    loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
    tables: { throughput: rows, 'first parallel batch after a fit': firstCalls },
    notes: [
      'Ensemble: popularity (maxItems 1000), repeat, itemknn, content (TF-IDF), rules, graph at equal weights, the demo\'s and the CLI\'s default non-neural set; the library\'s defaults otherwise (candidatesPerStrategy 1000, popularity fallback).',
      `Median of ${reps} reps per way, the ways alternating within each rep; CPU is the whole process (all threads); "calling-thread CPU ms/batch" is the calling thread's alone (Linux /proc, 10 ms ticks summed over the reps), the rest of a threads-2 batch's CPU is the workers'. Load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} on ${machine().cores} cores, git ${rev}.`,
      'threads 2 runs on the worker pool (installWorkerPool, idle timeout raised so workers live through the reps): each worker loads the recommender\'s artifact once; the first parallel batch after a fit pays the save, the worker starts (from the TypeScript sources here) and the loads (second table), the rows time later batches.',
      '"identical to recommend()" compares the whole result lists (items, order, scores, sources) of the first rep with recommend() per user.',
    ],
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = `ensemble-batch-${protocols.join('-')}.json`;
  await writeFile(join(RESULTS_DIR, file), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote benchmarks/results/${file}`);
  await pool.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
