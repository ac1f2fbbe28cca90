/**
 * The recommend path of this checkout against another git revision, side by side on one saved
 * model: both load the same artifact (fitted once by this checkout and cached in the temp
 * folder), then rounds alternate between the two, each in a fresh process, timing
 * recommend(user, { k: 10 }), recommend with explain, and recommendBatch on the same users.
 * Every call's wall time and process CPU time are recorded: on a machine shared with other
 * work the wall p99 measures the scheduler, the CPU time the code (it also counts V8's GC
 * threads). The table holds each side's median over rounds (machine.ts median: with two rounds, the lower)
 * and the ratio new / base (below 1 = faster). A sha256 of every list each side returned (the
 * timed calls, with and without explanations, and the batch) says whether the rankings are identical.
 *
 *   NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/ensemble-ab.ts [--base main] [--users 200000] [--products 50000] \
 *     [--queries 2000] [--batch 2000] [--rounds 2] [--same-process] [--exclude-purchased]
 *
 * --exclude-purchased: every call (timed and batch) with excludePurchased: true, as the
 * protocols and ensemble-batch.ts rank: every query then blocks the shopper's purchases.
 * Writes ensemble-ab-<users>x<products>-exclude-purchased.json (fresh-process rounds only).
 *
 * --same-process: both libraries load the model in this one process and every shopper goes
 * through both, alternating which goes first (no rounds, no batch), for recommend(user id),
 * with explain, and recommend({ history }) as POST /recommend sends it. On a shared machine
 * fresh-process rounds moved by 20-30% between rounds; this mode's base-against-base run
 * (stop 19) was within 1% at p50 and mean, 6% at p99. Each side's caches are cold from the
 * other's call, so its absolute times run high; read its ratios. Writes
 * benchmarks/results/ensemble-ab-same-process-<users>x<products>.json.
 *
 * The ensemble is the demo's non-neural one (examples/shared.ts) with the Popularity fallback.
 * Writes benchmarks/results/ensemble-ab-<users>x<products>.json.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machine, percentile, textArg } from './machine';
import { alternateRevisions, baseTree, medianTable, timingRows, withBaseTree, type Timing } from './revision-ab';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..');
const args = process.argv.slice(2);
/** How to run this again, written into each results file. */
const command = `NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/ensemble-ab.ts ${args.join(' ')}`;
const flag = textArg;

interface ChildResult {
  /** sha256 of every timed call's list (items, names, scores, sources, reasons) in order: equal on both sides means identical rankings. */
  listsHash: string;
  recommend: Timing;
  explain: Timing;
  batchUsersPerCpuSecond: number;
  batchUsersPerSecond: number;
}

/** In a child: load `model` with the library at `libRoot`, time the calls, print one JSON line. */
async function child(libRoot: string, model: string, queries: number, batch: number, excludePurchased: boolean): Promise<void> {
  const lib = (await import(pathToFileURL(join(libRoot, 'src/index.ts')).href)) as typeof import('../src/index');
  const { mulberry32 } = (await import(pathToFileURL(join(libRoot, 'src/strategy.ts')).href)) as typeof import('../src/strategy');
  const rec = await lib.HybridRecommender.load(new Uint8Array(await readFile(model)));
  const data = rec.dataset;
  const rng = mulberry32(2);
  const warmup = 200;
  const ids = Array.from({ length: warmup + queries }, () => data.users.id(Math.floor(rng() * data.nUsers)));
  const lists = createHash('sha256');
  const time = (run: (id: string) => unknown): Timing => {
    for (let i = 0; i < warmup; i++) run(ids[i]);
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = warmup; i < ids.length; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = run(ids[i]);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      lists.update(JSON.stringify(out));
    }
    return timing(wall, cpu);
  };
  const options = { k: 10, excludePurchased };
  const recommend = time((id) => rec.recommend(id, options));
  const explain = time((id) => rec.recommend(id, { ...options, explain: true }));
  const batchIds = ids.slice(warmup, warmup + batch);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // Awaited: recommendBatch is async since the parallel batch (a sync base's array awaits as itself); src/index installs no pool, so one thread.
  const batchLists = await rec.recommendBatch(batchIds, options);
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  lists.update(JSON.stringify(batchLists));
  const result: ChildResult = { listsHash: lists.digest('hex'), recommend, explain, batchUsersPerSecond: batchIds.length / seconds, batchUsersPerCpuSecond: batchIds.length / ((c.user + c.system) / 1e6) };
  console.log(JSON.stringify(result));
}

/** Wall and CPU p50 / p99 and CPU mean of one side's calls (ms). */
function timing(wall: number[], cpu: number[]): Timing {
  return { wallP50: percentile(wall, 50), wallP99: percentile(wall, 99), cpuP50: percentile(cpu, 50), cpuP99: percentile(cpu, 99), cpuMean: cpu.reduce((a, b) => a + b, 0) / cpu.length };
}

/** --same-process: the base tree's library and this checkout's in one process, every shopper through both. */
async function sameProcess(base: string, model: string, queries: number, users: number, products: number): Promise<void> {
  await withBaseTree(root, base, 'ab', async (tree, rev, head) => {
    const bytes = new Uint8Array(await readFile(model));
    const sides = [];
    for (const libRoot of [tree, root]) {
      const lib = (await import(pathToFileURL(join(libRoot, 'src/index.ts')).href)) as typeof import('../src/index');
      sides.push({ rec: await lib.HybridRecommender.load(bytes), lists: createHash('sha256'), timings: {} as Record<string, Timing> });
    }
    const { mulberry32 } = await import('../src/strategy');
    const data = sides[1].rec.dataset;
    const m = data.interactions;
    const rng = mulberry32(2);
    const warmup = 300;
    const picked = Array.from({ length: warmup + queries }, () => Math.floor(rng() * data.nUsers));
    // A POST body lists every purchase: an item bought 3 times appears 3 times.
    const histories = picked.map((u) => {
      const history: string[] = [];
      for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) for (let c = 0; c < m.values[p]; c++) history.push(data.items.id(m.indices[p]));
      return { history };
    });
    const load = [loadavg()[0]];
    console.log(`${describeMachine()}; same process: base ${base} (${rev}) against this checkout (${head}); ${queries} users per call kind; load ${load[0].toFixed(2)}`);
    const kinds = { recommend: false, explain: true, post: false } as const;
    for (const [kind, explain] of Object.entries(kinds)) {
      const wall = [[], []] as number[][];
      const cpu = [[], []] as number[][];
      for (let i = 0; i < picked.length; i++) {
        const shopper = kind === 'post' ? histories[i] : data.users.id(picked[i]);
        for (const s of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const out = sides[s].rec.recommend(shopper, { k: 10, explain });
          const dt = performance.now() - t0;
          const c = process.cpuUsage(c0);
          if (i < warmup) continue;
          wall[s].push(dt);
          cpu[s].push((c.user + c.system) / 1000);
          sides[s].lists.update(JSON.stringify(out));
        }
      }
      for (const s of [0, 1]) sides[s].timings[kind] = timing(wall[s], cpu[s]);
      load.push(loadavg()[0]);
    }
    const table = medianTable({ base: [sides[0].timings], new: [sides[1].timings] }, Object.keys(kinds).flatMap((kind) => timingRows<Record<string, Timing>>(kind === 'post' ? 'recommend({ history })' : kind, (r) => r[kind])));
    console.log(`load average (1 min) over the run: ${load.map((x) => x.toFixed(1)).join(', ')}`);
    const [h0, h1] = sides.map((s) => s.lists.digest('hex'));
    console.log(h0 === h1 ? `identical lists on both sides (sha256 ${h0.slice(0, 16)})` : `LISTS DIFFER: ${h0.slice(0, 16)}, ${h1.slice(0, 16)}`);
    const out = join(root, `benchmarks/results/ensemble-ab-same-process-${users}x${products}.json`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify({ command, machine: machine(), mode: 'same-process', base: { rev: base, commit: rev }, head, users, products, queries, loadAverage: load, identicalLists: h0 === h1, table }, null, 2)}\n`);
    console.log(`wrote ${out}`);
  });
}

async function main(): Promise<void> {
  const base = flag('base', 'main');
  const users = Number(flag('users', '200000'));
  const products = Number(flag('products', '50000'));
  const queries = Number(flag('queries', '2000'));
  const batch = Number(flag('batch', '2000'));
  const rounds = Number(flag('rounds', '2'));
  const excludePurchased = args.includes('--exclude-purchased');
  const model = join(tmpdir(), `hybridrec-ab-${users}x${products}.hrec`);
  if (!existsSync(model)) {
    console.log(`fitting the model (${users} x ${products}, seed 42) into ${model}`);
    const { fitDemoRecommender } = await import('../examples/shared');
    const { recommender } = await fitDemoRecommender({ users, products, neural: false, quiet: true });
    await writeFile(model, recommender.save());
  }
  if (args.includes('--same-process')) {
    if (excludePurchased) throw new Error('--exclude-purchased takes fresh-process rounds only');
    return sameProcess(base, model, queries, users, products);
  }
  const { rev, head, load, runs } = await alternateRevisions<ChildResult>({
    root,
    script: here,
    base,
    tag: 'ab',
    rounds,
    childArgs: [model, String(queries), String(batch), String(excludePurchased)],
    intro: (rev, head, load) => console.log(`${describeMachine()}; base ${base} (${rev}) against this checkout (${head}); ${queries} users per call kind, ${rounds} rounds${excludePurchased ? ', excludePurchased' : ''}; load ${load.toFixed(2)}`),
    report: (round, side, result) =>
      console.log(`  round ${round} ${side.padEnd(4)} recommend CPU mean ${result.recommend.cpuMean.toFixed(3)} ms, p99 ${result.recommend.cpuP99.toFixed(3)} ms; explain CPU mean ${result.explain.cpuMean.toFixed(3)} ms, p99 ${result.explain.cpuP99.toFixed(3)} ms; batch ${result.batchUsersPerCpuSecond.toFixed(0)} users per CPU second`),
  });
  const table = medianTable(runs, [
    ...timingRows<ChildResult>('recommend', (r) => r.recommend),
    ...timingRows<ChildResult>('explain', (r) => r.explain),
    ['batch users/s (wall)', (r) => r.batchUsersPerSecond],
    ['batch users per CPU second', (r) => r.batchUsersPerCpuSecond],
  ]);
  console.log(`load average (1 min) over the run: ${load.map((x) => x.toFixed(1)).join(', ')}`);
  const hashes = new Set([...runs.base, ...runs.new].map((r) => r.listsHash));
  console.log(hashes.size === 1 ? `identical lists on both sides (sha256 ${[...hashes][0].slice(0, 16)})` : `LISTS DIFFER: ${[...hashes].map((h) => h.slice(0, 16)).join(', ')}`);
  const out = join(root, `benchmarks/results/ensemble-ab-${users}x${products}${excludePurchased ? '-exclude-purchased' : ''}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ command, machine: machine(), base: { rev: base, commit: rev }, head, users, products, queries, batch, rounds, excludePurchased, loadAverage: load, identicalLists: hashes.size === 1, table, runs }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

if (args[0] === '--child') {
  child(args[1], args[2], Number(args[3]), Number(args[4]), args[5] === 'true').catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch(async (e) => {
    console.error(e);
    await rm(baseTree('ab'), { recursive: true, force: true });
    process.exit(1);
  });
}
