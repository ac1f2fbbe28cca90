/**
 * The reranked recommend path of this checkout against another git revision, side by side
 * on one fitted model: benchmarks/reranker-fixture.ts's shop is fitted once (in a child
 * process) and cached in the temp folder, both sides load that artifact, and rounds
 * alternate between them, each in a fresh process. Per call, wall time and process CPU time
 * (process.cpuUsage: on a shared machine the wall p99 measures the scheduler, the CPU time
 * the code, V8's GC threads included) of
 *   - recommend(user, { k: 10 }), the public path;
 *   - the reranked index ranker (ensembleRanker, combiner 'fitted') and the linear one
 *     (combiner 'linear') on the same query, so their difference is the reranker's cost.
 * Each side also hashes every recommend result (items and scores) and every reranked index
 * ranking: the run fails when the two sides do not rank identically. The table holds each
 * side's median over rounds (machine.ts median: with two rounds, the lower) and new / base.
 *
 *   NODE_OPTIONS=--max-old-space-size=10000 nice -n 10 npx tsx benchmarks/reranker-ab.ts [--base main] \
 *     [--users 200000] [--products 50000] [--max-queries 1000] [--folds 1] [--queries 2000] [--rounds 3]
 *
 * One side alone, e.g. under --cpu-prof: node --import tsx benchmarks/reranker-ab.ts --child <lib root> <model> <queries>
 * Writes benchmarks/results/reranker-ab-<users>x<products>.json.
 *
 * --same-process: both libraries load the cached model in this one process and every shopper
 * goes through both, alternating which goes first (no rounds), for recommend and the reranked
 * index ranker. Fresh-process rounds move with the machine's load between rounds (at a load of
 * 9-11, the unchanged linear ranker's CPU p50 moved 1.36x between two rounds); here both sides
 * see the same load at the same time, so read the ratios (each side's caches are cold from the
 * other's call: absolute times run high). Writes reranker-ab-same-process-<users>x<products>.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machine, percentile, textArg } from './machine';
import { alternateRevisions, baseTree, medianTable, timingRows, withBaseTree, type Timing } from './revision-ab';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..');
const args = process.argv.slice(2);
const flag = textArg;

interface ChildResult {
  recommend: Timing;
  reranked: Timing;
  linear: Timing;
  /** Garbage collections and their total pause (ms) over the timed loop. */
  gcCount: number;
  gcMs: number;
  /** FNV-1a over every recommend result (item ids, score bits) and reranked index ranking. */
  hash: string;
}

/** In a child: fit the shop and write its artifact to `model` (via a temporary name, so an interrupted fit leaves no cache). */
async function fitChild(model: string, users: number, products: number, maxQueries: number, folds: number): Promise<void> {
  const { syntheticDataset } = await import('../examples/shared');
  const { shopRecommender } = await import('./reranker-fixture');
  const data = syntheticDataset(users, products, 42);
  const rec = shopRecommender(maxQueries, folds);
  const t0 = performance.now();
  await rec.fit(data, { seed: 42 });
  if (rec.reranker === null) throw new Error(`the reranker did not train: ${rec.rerankerSummary?.reason}`);
  console.log(`fitted in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${rec.reranker.model.nTrees} trees, ${rec.reranker.model.nFeatures} features`);
  await writeFile(`${model}.part`, rec.save());
  await rename(`${model}.part`, model);
}

/** FNV-1a over recommend results (item indices, score bits) and index rankings: equal on both sides when they rank identically. */
function resultHash() {
  let hash = 0x811c9dc5;
  const mix = (x: number) => {
    hash = Math.imul(hash ^ (x | 0), 0x01000193) >>> 0;
  };
  const f32 = new Float32Array(1);
  const bits = new Int32Array(f32.buffer);
  return {
    recommendations(recs: ReadonlyArray<{ item: string; score: number }>, indexOf: (id: string) => number): void {
      for (const r of recs) {
        mix(indexOf(r.item));
        f32[0] = r.score;
        mix(bits[0]);
      }
    },
    ranking(items: Int32Array): void {
      for (const item of items) mix(item);
    },
    value: () => hash.toString(16),
  };
}

/** Per call wall and CPU time (ms) of the timed calls, by kind. */
function timer<K extends string>(kinds: readonly K[]) {
  const wall = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const cpu = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  return {
    time<T>(kind: K, timed: boolean, run: () => T): T {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = run();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (timed) {
        wall[kind].push(ms);
        cpu[kind].push((c.user + c.system) / 1000);
      }
      return out;
    },
    stats(kind: K): Timing {
      const w = wall[kind];
      const c = cpu[kind];
      return { wallP50: percentile(w, 50), wallP99: percentile(w, 99), cpuP50: percentile(c, 50), cpuP99: percentile(c, 99), cpuMean: c.reduce((a, b) => a + b, 0) / c.length };
    },
  };
}

/** In a child: load `model` with the library at `libRoot`, time the calls, print one JSON line. */
async function child(libRoot: string, model: string, queries: number): Promise<void> {
  const lib = (await import(pathToFileURL(join(libRoot, 'src/index.ts')).href)) as typeof import('../src/index');
  const { mulberry32, userQuery } = (await import(pathToFileURL(join(libRoot, 'src/strategy.ts')).href)) as typeof import('../src/strategy');
  const rec = await lib.HybridRecommender.load(new Uint8Array(await readFile(model)));
  if (rec.reranker === null) throw new Error('the cached model has no reranker');
  const data = rec.dataset;
  const reranked = lib.ensembleRanker(rec);
  const linear = lib.ensembleRanker(rec, { combiner: 'linear' });
  const rng = mulberry32(2);
  const warmup = 200;
  const users = Array.from({ length: warmup + queries }, () => Math.floor(rng() * data.nUsers));
  const hash = resultHash();
  const calls = timer(['recommend', 'reranked', 'linear'] as const);
  // GC entries arrive asynchronously, after the synchronous loop: kept when they started inside its timed part.
  const gcs: Array<{ start: number; ms: number }> = [];
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, ms: e.duration });
  });
  gc.observe({ entryTypes: ['gc'] });
  let timedFrom = Infinity;
  for (let i = 0; i < users.length; i++) {
    if (i === warmup) timedFrom = performance.now();
    const u = users[i];
    const id = data.users.id(u);
    const query = userQuery(data, u);
    const timed = i >= warmup;
    hash.recommendations(calls.time('recommend', timed, () => rec.recommend(id, { k: 10 })), (item) => data.items.indexOf(item));
    hash.ranking(calls.time('reranked', timed, () => reranked.rankIndices(query, 10, null)));
    calls.time('linear', timed, () => linear.rankIndices(query, 10, null));
  }
  const timedTo = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  gc.disconnect();
  const timedGcs = gcs.filter((g) => g.start >= timedFrom && g.start <= timedTo);
  const result: ChildResult = {
    recommend: calls.stats('recommend'),
    reranked: calls.stats('reranked'),
    linear: calls.stats('linear'),
    gcCount: timedGcs.length,
    gcMs: timedGcs.reduce((a, g) => a + g.ms, 0),
    hash: hash.value(),
  };
  console.log(JSON.stringify(result));
}

/** --same-process: the base tree's library and this checkout's in one process, every shopper through both. */
async function sameProcess(base: string, model: string, queries: number, users: number, products: number, command: string): Promise<void> {
  await withBaseTree(root, base, 'reranker-ab', async (tree, rev, head) => {
    const bytes = new Uint8Array(await readFile(model));
    const side = async (libRoot: string) => {
      const lib = (await import(pathToFileURL(join(libRoot, 'src/index.ts')).href)) as typeof import('../src/index');
      const { userQuery } = (await import(pathToFileURL(join(libRoot, 'src/strategy.ts')).href)) as typeof import('../src/strategy');
      const rec = await lib.HybridRecommender.load(bytes);
      if (rec.reranker === null) throw new Error('the cached model has no reranker');
      return { rec, reranked: lib.ensembleRanker(rec), userQuery, hash: resultHash(), calls: timer(['recommend', 'reranked'] as const) };
    };
    const sides = [await side(tree), await side(root)];
    const { mulberry32 } = await import('../src/strategy');
    const rng = mulberry32(2);
    const warmup = 300;
    const picked = Array.from({ length: warmup + queries }, () => Math.floor(rng() * sides[1].rec.dataset.nUsers));
    const load = [loadavg()[0]];
    console.log(`${describeMachine()}; same process: base ${base} (${rev}) against this checkout (${head}); ${queries} users; load ${load[0].toFixed(2)}`);
    for (let i = 0; i < picked.length; i++) {
      const u = picked[i];
      const timed = i >= warmup;
      for (const s of i % 2 === 0 ? sides : [sides[1], sides[0]]) {
        const d = s.rec.dataset;
        s.hash.recommendations(s.calls.time('recommend', timed, () => s.rec.recommend(d.users.id(u), { k: 10 })), (item) => d.items.indexOf(item));
        const query = s.userQuery(d, u);
        s.hash.ranking(s.calls.time('reranked', timed, () => s.reranked.rankIndices(query, 10, null)));
      }
      if (i % 500 === 0) load.push(loadavg()[0]);
    }
    load.push(loadavg()[0]);
    type SideTimings = { recommend: Timing; reranked: Timing };
    const timings: SideTimings[] = sides.map((s) => ({ recommend: s.calls.stats('recommend'), reranked: s.calls.stats('reranked') }));
    const table = medianTable({ base: [timings[0]], new: [timings[1]] }, [...timingRows<SideTimings>('recommend', (r) => r.recommend), ...timingRows<SideTimings>('reranked', (r) => r.reranked)]);
    const [h0, h1] = sides.map((s) => s.hash.value());
    const identical = h0 === h1;
    console.log(`load average (1 min) over the run: ${load.map((x) => x.toFixed(1)).join(', ')}`);
    console.log(identical ? `both sides ranked identically (hash ${h0})` : `RANKINGS DIFFER: hashes ${h0}, ${h1}`);
    const out = join(root, `benchmarks/results/reranker-ab-same-process-${users}x${products}.json`);
    await mkdir(dirname(out), { recursive: true });
    const notes = [
      `Base ${base} (${rev}) against ${head}, one cached fit loaded by both libraries in one process; each of ${queries} users (after ${warmup} warm-up) through both sides, alternating which goes first.`,
      `Load average (1 min) over the run: ${load.map((x) => x.toFixed(1)).join(', ')}: read CPU-time ratios.`,
      identical ? 'Both sides ranked identically (same hash of every result).' : 'The two sides ranked DIFFERENTLY.',
    ];
    const title = `Reranked recommend A/B in one process (${users.toLocaleString('en-US')} x ${products.toLocaleString('en-US')})`;
    await writeFile(out, `${JSON.stringify({ title, command, machine: machine(), mode: 'same-process', base: { rev: base, commit: rev }, head, users, products, queries, loadAverage: load, identical, tables: { [`${base} against ${head}`]: table }, notes }, null, 2)}\n`);
    console.log(`wrote ${out}`);
    if (!identical) process.exit(1);
  });
}

async function main(): Promise<void> {
  const base = flag('base', 'main');
  const users = Number(flag('users', '200000'));
  const products = Number(flag('products', '50000'));
  const maxQueries = Number(flag('max-queries', '1000'));
  const folds = Number(flag('folds', '1'));
  const queries = Number(flag('queries', '2000'));
  const rounds = Number(flag('rounds', '3'));
  const model = join(tmpdir(), `hybridrec-reranker-${users}x${products}-q${maxQueries}-f${folds}.hrec`);
  if (!existsSync(model)) {
    console.log(`fitting the model (${users} x ${products}, seed 42, reranker maxQueries ${maxQueries}, folds ${folds}) into ${model}`);
    const out = spawnSync(process.execPath, ['--import', 'tsx', here, '--fit', model, String(users), String(products), String(maxQueries), String(folds)], { cwd: root, stdio: 'inherit' });
    if (out.status !== 0) throw new Error('the fit failed');
  }
  if (args.includes('--same-process')) {
    const command = `NODE_OPTIONS=--max-old-space-size=10000 npx tsx benchmarks/reranker-ab.ts --same-process --base ${base} --users ${users} --products ${products} --max-queries ${maxQueries} --folds ${folds} --queries ${queries}`;
    return sameProcess(base, model, queries, users, products, command);
  }
  const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src']).toString().trim() !== '';
  const t = (x: Timing) => `CPU p50 ${x.cpuP50.toFixed(3)} p99 ${x.cpuP99.toFixed(3)} mean ${x.cpuMean.toFixed(3)}`;
  const { rev, head, load, runs } = await alternateRevisions<ChildResult>({
    root,
    script: here,
    base,
    tag: 'reranker-ab',
    rounds,
    childArgs: [model, String(queries)],
    intro: (rev, head, load) => console.log(`${describeMachine()}; base ${base} (${rev}) against this checkout (${head}${dirty ? ' + uncommitted src changes' : ''}); ${queries} users, ${rounds} rounds; load ${load.toFixed(2)}`),
    report: (round, side, result) =>
      console.log(`  round ${round} ${side.padEnd(4)} recommend ${t(result.recommend)}; reranked ${t(result.reranked)}; linear ${t(result.linear)}; ${result.gcCount} GCs ${result.gcMs.toFixed(0)} ms; hash ${result.hash}`),
  });
  const hashes = new Set([...runs.base, ...runs.new].map((r) => r.hash));
  const identical = hashes.size === 1;
  const table = medianTable(runs, [
    ...timingRows<ChildResult>('recommend', (r) => r.recommend),
    ...timingRows<ChildResult>('reranked', (r) => r.reranked),
    ...timingRows<ChildResult>('linear', (r) => r.linear),
    ['GC pause ms (timed loop)', (r) => r.gcMs],
  ]);
  console.log(`load average (1 min) over the run: ${load.map((x) => x.toFixed(1)).join(', ')}`);
  console.log(identical ? 'both sides ranked identically (same hash)' : `RANKINGS DIFFER: hashes ${[...hashes].join(', ')}`);
  const out = join(root, `benchmarks/results/reranker-ab-${users}x${products}.json`);
  await mkdir(dirname(out), { recursive: true });
  // title / command / tables / notes: the shape benchmarks/report.ts renders for a results file it has no section for.
  const command = `NODE_OPTIONS=--max-old-space-size=10000 npx tsx benchmarks/reranker-ab.ts --base ${base} --users ${users} --products ${products} --max-queries ${maxQueries} --folds ${folds} --queries ${queries} --rounds ${rounds}`;
  const notes = [
    `Base ${base} (${rev}) against ${head}${dirty ? ' with uncommitted src changes' : ''}, one cached fit, ${rounds} alternating rounds of fresh processes, ${queries} users each; medians over rounds.`,
    `Load average (1 min) over the run: ${load.map((x) => x.toFixed(1)).join(', ')}: on a shared machine read CPU time, not wall p99.`,
    identical ? 'Both sides ranked identically (same hash of every result).' : 'The two sides ranked DIFFERENTLY.',
  ];
  const title = `Reranked recommend A/B (${users.toLocaleString('en-US')} x ${products.toLocaleString('en-US')})`;
  await writeFile(out, `${JSON.stringify({ title, command, machine: machine(), base: { rev: base, commit: rev }, head, dirty, users, products, maxQueries, folds, queries, rounds, loadAverage: load, identical, tables: { [`${base} against ${head}`]: table }, notes, runs }, null, 2)}\n`);
  console.log(`wrote ${out}`);
  if (!identical) process.exit(1);
}

if (args[0] === '--child') {
  child(args[1], args[2], Number(args[3])).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if (args[0] === '--fit') {
  fitChild(args[1], Number(args[2]), Number(args[3]), Number(args[4]), Number(args[5])).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch(async (e) => {
    console.error(e);
    await rm(baseTree('reranker-ab'), { recursive: true, force: true });
    process.exit(1);
  });
}
