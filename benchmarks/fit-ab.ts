/**
 * The parallel fits (ItemKNN's co-occurrence, ALS) of this checkout against a base revision,
 * on 1 and 2 threads: rounds alternate a fresh child process of each side (base, new, base,
 * ...; benchmarks/revision-ab.ts), each child generating the same synthetic shop and fitting
 * it once per thread count. A child reports, per fit, the wall time, the process CPU time, and
 * the on-CPU time of each of its threads (/proc/self/task/<tid>/schedstat, Linux): the main
 * thread's (the serial phases) and its busiest other threads' (the pool workers). On a shared
 * machine the wall speed-up is what other processes left; `main + busiest worker` is the wall
 * time the fit would take with both cores to itself, so its ratio is the load-proof speed-up.
 * Checks that every fitted model is bit-identical across thread counts and sides.
 *
 *   npx tsx benchmarks/fit-ab.ts [--fit itemknn|als] [--base 5b64e61] [--rounds 3] [--users 100000] [--products 20000] [--iterations 5]
 *
 * Writes benchmarks/results/fit-ab-<fit>-<users>x<products>.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { arg, describeMachine, machine, median, textArg } from './machine';
import { alternateRevisions } from './revision-ab';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = fileURLToPath(import.meta.url);
const THREADS = [1, 2];

/** One fit as a child measured it. */
interface FitTiming {
  threads: number;
  wallSeconds: number;
  /** Process CPU (every thread), process.cpuUsage. */
  cpuSeconds: number;
  /** On-CPU seconds of the main thread, and of the other threads, busiest first. */
  mainSeconds: number;
  otherSeconds: number[];
  digest: string;
  load: number;
}

/** On-CPU nanoseconds of each thread of this process, by thread id. */
function threadTimes(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // A thread that ended between the listing and the read did no work in the fit.
    }
  }
  return out;
}

/** In a child: fit with the library at `libRoot` on 1 and 2 threads, print one JSON line. */
async function child(libRoot: string, fit: string, users: number, products: number, iterations: number): Promise<void> {
  const lib = async <T>(path: string) => (await import(pathToFileURL(join(libRoot, path)).href)) as T;
  const { installWorkerPool } = await lib<typeof import('../src/node/pool')>('src/node/pool.ts');
  const { ItemKNN } = await lib<typeof import('../src/strategies/item-knn')>('src/strategies/item-knn.ts');
  const { ALS } = await lib<typeof import('../src/strategies/als')>('src/strategies/als/index.ts');
  // The same generator for both sides (this checkout's), so both fit the same bytes.
  const { syntheticDataset } = await import('../examples/shared');
  const data = syntheticDataset(users, products);
  // Workers that idle past the default 5 s would exit during the 1-thread fit and start again inside the timed 2-thread one.
  const pool = installWorkerPool({ threads: 2, idleTimeout: 3_600_000 });
  const fitOnce = async (threads: number, d = data): Promise<string> => {
    if (fit === 'als') {
      const model = new ALS({ factors: 64, iterations, weighting: 'log1p' });
      await model.fit(d, { threads, seed: 42 });
      return createHash('sha256').update(model.userFactors!).update(model.itemFactors).digest('hex');
    }
    const model = new ItemKNN({ neighbors: 50 });
    await model.fit(d, { threads, seed: 42 });
    const s = model.neighborMatrix;
    return createHash('sha256').update(s.indptr).update(s.indices).update(s.values).digest('hex');
  };
  // Workers start (and load their modules) before anything is timed.
  await fitOnce(2, syntheticDataset(2000, 500));
  const fits: FitTiming[] = [];
  for (const threads of THREADS) {
    const before = threadTimes();
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const digest = await fitOnce(threads);
    const wallSeconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    const after = threadTimes();
    const main = String(process.pid);
    const delta = (tid: string) => ((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) / 1e9;
    const otherSeconds = [...after.keys()].filter((tid) => tid !== main).map(delta).sort((a, b) => b - a).slice(0, 4);
    fits.push({ threads, wallSeconds, cpuSeconds: (used.user + used.system) / 1e6, mainSeconds: delta(main), otherSeconds, digest, load: loadavg()[0] });
  }
  await pool.close();
  console.log(JSON.stringify(fits));
}

/** Wall time with the cores to itself: the main thread's serial work plus the busiest worker's (on 1 thread the fit runs on the main thread). */
const busy = (t: FitTiming) => t.mainSeconds + (t.threads > 1 ? (t.otherSeconds[0] ?? 0) : 0);
/**
 * The same with the workers' time split evenly: ranges go to whichever worker is free, so on
 * a loaded machine the one other processes preempt less takes more of them, and `busy` then
 * carries that imbalance; on free cores the two split to within one range.
 */
const balanced = (t: FitTiming) => t.mainSeconds + (t.threads > 1 ? t.otherSeconds.slice(0, t.threads).reduce((a, b) => a + b, 0) / t.threads : 0);

async function main(): Promise<void> {
  const fit = textArg('fit', 'itemknn');
  if (fit !== 'itemknn' && fit !== 'als') throw new Error(`--fit must be itemknn or als, got ${fit}`);
  const base = textArg('base', '5b64e61');
  const rounds = arg('rounds', 3);
  const users = arg('users', 100_000);
  const products = arg('products', 20_000);
  const iterations = arg('iterations', 5);
  if (!existsSync('/proc/self/task')) throw new Error('fit-ab reads per-thread CPU from /proc/self/task (Linux only)');
  const f = (x: number) => x.toFixed(2);
  const { rev, head, load, runs } = await alternateRevisions<FitTiming[]>({
    root,
    script: here,
    base,
    tag: 'fit-ab',
    rounds,
    childArgs: [fit, String(users), String(products), String(iterations)],
    intro: (rev, head, l) => console.log(`${describeMachine()}; ${fit} fit at ${users} x ${products}${fit === 'als' ? `, ${iterations} iterations` : ''}; base ${base} (${rev}) against ${head}; ${rounds} rounds; load ${l.toFixed(2)}`),
    report: (round, side, fits) =>
      console.log(
        `  round ${round} ${side.padEnd(4)} ` +
          fits.map((t) => `${t.threads}T wall ${f(t.wallSeconds)} s CPU ${f(t.cpuSeconds)} s main ${f(t.mainSeconds)} s workers ${t.otherSeconds.slice(0, 2).map(f).join('/')} s busy ${f(busy(t))} s (load ${t.load.toFixed(1)})`).join('; '),
      ),
  });
  const digests = new Set([...runs.base, ...runs.new].flat().map((t) => t.digest));
  const rows: Array<{ measure: string; base: number; new: number; ratio: number }> = [];
  console.log('\n| measure (median over rounds) | base | new | new / base |\n|---|---:|---:|---:|');
  const row = (measure: string, of: (fits: FitTiming[]) => number) => {
    const b = median(runs.base.map(of));
    const n = median(runs.new.map(of));
    rows.push({ measure, base: b, new: n, ratio: n / b });
    console.log(`| ${measure} | ${f(b)} | ${f(n)} | ${f(n / b)} |`);
  };
  const at = (fits: FitTiming[], threads: number) => fits.find((t) => t.threads === threads)!;
  for (const threads of THREADS) {
    row(`${threads} thread(s): wall s`, (x) => at(x, threads).wallSeconds);
    row(`${threads} thread(s): process CPU s`, (x) => at(x, threads).cpuSeconds);
    row(`${threads} thread(s): main thread on-CPU s`, (x) => at(x, threads).mainSeconds);
    row(`${threads} thread(s): busy s (main + busiest worker)`, (x) => busy(at(x, threads)));
    if (threads > 1) row(`${threads} thread(s): balanced s (main + mean of the workers)`, (x) => balanced(at(x, threads)));
  }
  row('speed-up 1 -> 2 threads, wall', (x) => at(x, 1).wallSeconds / at(x, 2).wallSeconds);
  row('speed-up 1 -> 2 threads, busy', (x) => busy(at(x, 1)) / busy(at(x, 2)));
  row('speed-up 1 -> 2 threads, balanced', (x) => busy(at(x, 1)) / balanced(at(x, 2)));
  console.log(`load average (1 min) over the run: ${load.map((x) => x.toFixed(1)).join(', ')}`);
  const identical = digests.size === 1;
  console.log(identical ? `every model bit-identical (sha256 ${[...digests][0].slice(0, 16)}...)` : `MODELS DIFFER: ${[...digests].join(', ')}`);
  const out = join(root, `benchmarks/results/fit-ab-${fit}-${users}x${products}.json`);
  await mkdir(dirname(out), { recursive: true });
  const command = `npx tsx benchmarks/fit-ab.ts --fit ${fit} --base ${base} --rounds ${rounds} --users ${users} --products ${products}${fit === 'als' ? ` --iterations ${iterations}` : ''}`;
  const notes = [
    `Base ${base} (${rev}) against ${head}, ${rounds} alternating rounds of fresh processes; medians over rounds.`,
    `busy = main thread on-CPU + the busiest other thread's (a pool worker): the wall time with both cores free. Load average (1 min): ${load.map((x) => x.toFixed(1)).join(', ')}.`,
    identical ? 'Every fitted model bit-identical across thread counts and sides.' : 'The fitted models DIFFER.',
  ];
  const title = `${fit === 'als' ? 'ALS' : 'ItemKNN'} fit A/B on 1 and 2 threads (${users.toLocaleString('en-US')} x ${products.toLocaleString('en-US')})`;
  await writeFile(out, `${JSON.stringify({ title, command, machine: machine(), base: { rev: base, commit: rev }, head, rounds, loadAverage: load, identical, tables: { [`${base} against ${head}`]: rows }, notes, runs }, null, 2)}\n`);
  console.log(`wrote ${out}`);
  if (!identical) process.exit(1);
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  child(args[1], args[2], Number(args[3]), Number(args[4]), Number(args[5])).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
