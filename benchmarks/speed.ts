/**
 * Speed and memory at Instacart scale on synthetic data: load time (Kaggle CSVs written to a
 * temp folder and read back with loadInstacart, as a user loads real Instacart), fit time of
 * each strategy, single-user recommend latency p50/p99 of each strategy alone and of the
 * ensemble, batch throughput, artifact size and save/load time, and peak RSS.
 *
 *   NODE_OPTIONS=--max-old-space-size=8000 npx tsx benchmarks/speed.ts --users 200000 --products 50000 \
 *     [--strategies repeat,itemknn,content,rules,graph,ncf] [--queries 1000] [--batch 5000] \
 *     [--ncf-epochs 1] [--seed 42] [--profile DIR]
 *
 * The non-neural strategies are fitted once, inside one HybridRecommender (with the Popularity
 * fallback): the ensemble fits its strategies one after another on the same data, so each
 * strategy's fit time is its time alone, and the process holds the whole ensemble, which is
 * what the memory target is about. Once the ensemble's artifact is loaded back and checked, the
 * process keeps the loaded ensemble and its dataset only (the fitted ensemble and the loaded CSVs,
 * two copies of the same, are released). NeuralCF is then fitted on that dataset as a
 * one-strategy recommender, with the loaded ensemble still in memory, as in a process serving
 * all of them.
 *
 * Latency "alone" = userQuery + strategy.score into a ScoreVector + top-10 over its touched
 * items + reset: the strategy's own cost. Ensemble latency = rec.recommend(userId, { k: 10 }),
 * the public path (id lookup, query, every strategy, normalization, merge, fallback filler,
 * result objects). Each runs 100 warm-up calls, then `--queries` calls on users drawn with
 * mulberry32(seed).
 *
 * Peak RSS: a worker thread samples process RSS every 200 ms (it keeps sampling while the main
 * thread is busy in a synchronous fit), per phase and overall; resourceUsage().maxRSS at the
 * end is the kernel's peak. Wall vs CPU time of each phase shows how much CPU the shared
 * machine gave us; the load average is recorded at start, per phase and at the end.
 *
 * --profile DIR records a V8 CPU profile of every phase (node:inspector) into DIR and prints
 * the top self-time functions of each; timings of a profiled run are not the reference.
 *
 * Writes benchmarks/results/speed-<users>x<products>.json.
 */
import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  generateGrocery,
  HybridRecommender,
  NeuralCF,
  Popularity,
  type Dataset,
  type Recommendation,
  type Recommender,
} from '../src/index';
import { mulberry32, ScoreVector, userQuery } from '../src/strategy';
import { loadArtifactFile, loadInstacart, saveArtifactFile, writeInstacartCsv } from '../src/node';
import { TopK } from '../src/util/topk';
import { defaultStrategies } from '../examples/shared';
import { describeMachine, machine, mb, percentile } from './machine';

// ------------------------------------------------------------------------------------ options

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function intArg(name: string, fallback: number): number {
  const raw = argValue(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return v;
}

// The demo's default ensemble, NeuralCF apart (names here; the instances are made where they are fitted).
const NON_NEURAL = Object.keys(defaultStrategies({ neural: false }));

const users = intArg('users', 200_000);
const products = intArg('products', 50_000);
const nQueries = intArg('queries', 1000);
const batchSize = intArg('batch', 5000);
const ncfEpochs = intArg('ncf-epochs', 1);
const seed = intArg('seed', 42);
const warmup = 100;
const profileDir = argValue('profile');
const requested = (argValue('strategies') ?? [...NON_NEURAL, 'ncf'].join(',')).split(',').filter((s) => s !== '');
for (const s of requested) {
  if (s !== 'ncf' && !NON_NEURAL.includes(s)) throw new Error(`unknown strategy "${s}" (have ${[...NON_NEURAL, 'ncf'].join(', ')})`);
}
const nonNeural = requested.filter((s) => s !== 'ncf');
const withNcf = requested.includes('ncf');

const TARGET_FIT_SECONDS = 300;
const TARGET_RSS_BYTES = 8 * 2 ** 30;
const TARGET_P99_MS = 2;

// ------------------------------------------------------------------------ memory and phases

/**
 * Shared with the sampler worker: [0] current phase index, [1] overall sampled peak, [2 + p]
 * peak of phase p. The worker only ever raises values, so torn reads cannot lower a peak.
 */
const MAX_PHASES = 128;
const memory = new Float64Array(new SharedArrayBuffer(8 * (2 + MAX_PHASES)));
const sampler = new Worker(
  `const { workerData } = require('node:worker_threads');
   const m = new Float64Array(workerData);
   const sample = () => {
     const rss = process.memoryUsage.rss();
     const p = m[0];
     if (rss > m[1]) m[1] = rss;
     if (rss > m[2 + p]) m[2 + p] = rss;
   };
   sample();
   setInterval(sample, 200);`,
  { eval: true, workerData: memory.buffer },
);
sampler.unref();

interface PhaseRecord {
  name: string;
  wallSeconds: number;
  cpuSeconds: number;
  /** Highest sampled RSS during the phase, and the kernel's process peak when it ended. */
  peakRssBytes: number;
  maxRssSoFarBytes: number;
  rssAtEndBytes: number;
  loadAvg1m: number;
}

const phases: PhaseRecord[] = [];
const profileSession = profileDir ? new Session() : null;
if (profileSession) {
  profileSession.connect();
  profileSession.post('Profiler.enable');
  profileSession.post('Profiler.setSamplingInterval', { interval: 500 });
}
const profiles: Array<Promise<{ name: string; profile: CpuProfile }>> = [];

let open: { name: string; index: number; t0: number; cpu0: NodeJS.CpuUsage } | null = null;

/**
 * Starts a named phase. Synchronous, so that progress callbacks inside a fit can delimit
 * phases (an inspector command is dispatched at once; only its reply may come later).
 */
function beginPhase(name: string): void {
  if (open) throw new Error(`phase "${open.name}" still open`);
  const index = phases.length;
  if (index >= MAX_PHASES) throw new Error('too many phases');
  memory[2 + index] = process.memoryUsage.rss();
  memory[0] = index;
  profileSession?.post('Profiler.start');
  open = { name, index, t0: performance.now(), cpu0: process.cpuUsage() };
}

function endPhase(): PhaseRecord {
  if (!open) throw new Error('no open phase');
  const { name, index, t0, cpu0 } = open;
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  open = null;
  if (profileSession) {
    profiles.push(
      new Promise((resolve, reject) =>
        profileSession.post('Profiler.stop', (err, reply) => (err ? reject(err) : resolve({ name, profile: reply.profile as CpuProfile }))),
      ),
    );
  }
  const rss = process.memoryUsage.rss();
  const record: PhaseRecord = {
    name,
    wallSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: Math.max(memory[2 + index], rss),
    maxRssSoFarBytes: process.resourceUsage().maxRSS * 1024,
    rssAtEndBytes: rss,
    loadAvg1m: loadavg()[0],
  };
  phases.push(record);
  return record;
}

/** Runs `work` as a named phase: wall and CPU time, RSS peak, load average, optional CPU profile. */
async function phase<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  beginPhase(name);
  const result = await work();
  endPhase();
  return result;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

interface HotSpot {
  fn: string;
  selfMs: number;
  share: number;
}

function topSelfTime(profile: CpuProfile, n: number): HotSpot[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i]);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    // The inspector's own dispatch (starting and stopping the profiler) is not the phase's work.
    if (!node || (node.callFrame.functionName === 'dispatch' && node.callFrame.url === '')) continue;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    // tsx compiles each file to one line; its source map gives the TypeScript line back.
    const original = (url ? findSourceMap(url)?.findEntry(lineNumber, columnNumber) : undefined) as { originalLine?: number } | undefined;
    const line = original?.originalLine !== undefined ? original.originalLine + 1 : lineNumber + 1;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${line}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, selfMs: Math.round(ms), share: total > 0 ? ms / total : 0 }));
}

// -------------------------------------------------------------------------------- measuring

interface Latency {
  calls: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /**
   * The same calls in process CPU time (getrusage, microseconds): on a machine shared with
   * other work, wall p99 catches the scheduler taking the core away; CPU p99 does not. It
   * counts every thread of the process, though: V8's parallel GC helpers and the RSS
   * sampler's worker add to it, so a call's CPU time can exceed its wall time.
   */
  cpuP50Ms: number;
  cpuP99Ms: number;
}

function timeCalls(run: (i: number) => void, calls: number): Latency {
  for (let i = 0; i < warmup; i++) run(i);
  const times = new Array<number>(calls);
  const cpuTimes = new Array<number>(calls);
  for (let i = 0; i < calls; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run(warmup + i);
    times[i] = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuTimes[i] = (c.user + c.system) / 1000;
  }
  return {
    calls,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    meanMs: times.reduce((a, b) => a + b, 0) / calls,
    maxMs: Math.max(...times),
    cpuP50Ms: percentile(cpuTimes, 50),
    cpuP99Ms: percentile(cpuTimes, 99),
  };
}

/** Users drawn with a seeded stream (with replacement: repeated users are as in production). */
function drawUsers(data: Dataset, n: number, stream: number): number[] {
  const rng = mulberry32(seed * 1000 + stream);
  return Array.from({ length: n }, () => Math.floor(rng() * data.nUsers));
}

interface AloneLatency extends Latency {
  /** Mean number of items the strategy scored per query. */
  meanTouched: number;
}

function strategyAlone(strategy: Recommender, data: Dataset, sample: number[]): AloneLatency {
  const out = new ScoreVector(data.nItems);
  const top = new TopK(10);
  let touched = 0;
  const latency = timeCalls((i) => {
    const q = userQuery(data, sample[i]);
    strategy.score(q, out);
    top.clear();
    for (let t = 0; t < out.length; t++) {
      const item = out.at(t);
      top.push(item, out.values[item]);
    }
    top.sorted();
    if (i >= warmup) touched += out.length;
    out.reset();
  }, sample.length - warmup);
  return { ...latency, meanTouched: touched / (sample.length - warmup) };
}

function sameRecommendations(a: Recommendation[], b: Recommendation[]): boolean {
  return a.length === b.length && a.every((r, i) => r.item === b[i].item && r.score === b[i].score);
}

const ms = (v: number) => v.toFixed(3);

// ------------------------------------------------------------------------------------- run

const startLoad = loadavg();
const m = machine();
console.log(`machine: ${describeMachine(m)}`);
console.log(`load average at start (1/5/15 min): ${startLoad.map((x) => x.toFixed(2)).join(' / ')} on ${m.cores} cores`);
console.log(`scale: ${users} users x ${products} products; strategies ${requested.join(', ')}; ${nQueries} queries after ${warmup} warm-up; seed ${seed}`);
const heapLimitBytes = (await import('node:v8')).getHeapStatistics().heap_size_limit;
console.log(`heap limit: ${mb(heapLimitBytes)}`);

// Data: generate, write Kaggle CSVs, load them back as a user would.
const csvDir = await mkdtemp(join(tmpdir(), 'hybridrec-speed-'));
const csv = await phase('generate + write CSV', async () => {
  let tables: ReturnType<typeof generateGrocery> | null = generateGrocery({ users, products, seed });
  const orders = tables.orders.orderId.length;
  const lines = tables.orderProducts.orderId.length;
  await writeInstacartCsv(tables, csvDir);
  tables = null;
  let bytes = 0;
  for (const f of await readdir(csvDir)) bytes += (await stat(join(csvDir, f))).size;
  return { orders, lines, bytes };
});
console.log(`generated ${csv.orders} orders, ${csv.lines} lines; CSVs ${mb(csv.bytes)} (${phases.at(-1)!.wallSeconds.toFixed(1)} s)`);

let ordersWithoutLines = 0;
/**
 * The data every phase runs on: the loaded CSVs, and once the artifact has been loaded back
 * and checked, the artifact's copy (the same data), so that the process holds one dataset and
 * one ensemble from then on, as a serving process does, not the fitted copies next to them.
 */
let data: Dataset = await phase('loadInstacart', async () => {
  const loaded = await loadInstacart(csvDir);
  ordersWithoutLines = loaded.summary.ordersWithoutLines;
  return loaded.dataset;
});
await rm(csvDir, { recursive: true, force: true });
const dataStats = {
  users: data.nUsers,
  items: data.nItems,
  baskets: data.nBaskets,
  lines: data.baskets.items.length,
  userItemNonzeros: data.interactions.nnz,
  csvBytes: csv.bytes,
  generatedOrders: csv.orders,
  generatedLines: csv.lines,
  ordersWithoutLines,
};
console.log(
  `loadInstacart: ${phases.at(-1)!.wallSeconds.toFixed(1)} s -> ${data.nUsers} users, ${data.nItems} items, ${data.nBaskets} baskets, ` +
    `${dataStats.lines} lines, ${data.interactions.nnz} user-item nonzeros; rss ${mb(process.memoryUsage.rss())}`,
);

const fitPhase: Record<string, PhaseRecord> = {};
let fitSeconds: Record<string, number> = {};
const alone: Record<string, AloneLatency> = {};
// The users of the strategies-alone latencies (the ensemble's and NeuralCF's).
const aloneSample = drawUsers(data, warmup + nQueries, 1);

interface EnsembleResults {
  recommend: Latency;
  recommendExplain: Latency;
  completeBasket: Latency;
  batch: { users: number; seconds: number; usersPerSecond: number };
  artifact: { bytes: number; saveSeconds: number; writeFileSeconds: number; loadSeconds: number; identical: boolean };
  loadedRecommend: Latency;
}

// The users of the recommend() latencies: the ensemble's and NeuralCF's.
const ids = drawUsers(data, warmup + nQueries, 2).map((u) => data.users.id(u));

/**
 * Fits the non-neural ensemble (each strategy's fit is its own phase), measures it, saves it
 * and loads it back; returns the measures and the loaded recommender. The fitted one and its
 * strategies are this function's alone, so they are released when it returns.
 */
async function measureEnsemble(): Promise<{ ensemble: EnsembleResults; served: HybridRecommender }> {
  const defaults = defaultStrategies({ neural: false });
  const strategies: Record<string, Recommender> = {};
  for (const s of nonNeural) strategies[s] = defaults[s];
  const fallback = new Popularity();
  const rec = new HybridRecommender({ strategies, fallback });
  const order = new Set([...nonNeural, 'fallback']);
  await rec.fit(data, {
    seed,
    onProgress: (p) => {
      // Top-level stages are exactly the strategy names (sub-stages are "name: stage"), and
      // the ensemble fits them one after another: 'fitting x' (done 0) ... 'fitted x' (done 1).
      if (!order.has(p.stage)) return;
      if (p.done === 0) beginPhase(`fit ${p.stage}`);
      else {
        const record = endPhase();
        fitPhase[p.stage] = record;
        console.log(`fit ${p.stage}: ${record.wallSeconds.toFixed(2)} s wall, ${record.cpuSeconds.toFixed(2)} s CPU, peak rss ${mb(record.peakRssBytes)}`);
      }
    },
  });
  fitSeconds = rec.fitSeconds;

  // Latency of each strategy alone, then the ensemble.
  for (const name of nonNeural) {
    alone[name] = await phase(`latency ${name}`, () => strategyAlone(rec.strategy(name), data, aloneSample));
    console.log(`latency ${name} alone: p50 ${ms(alone[name].p50Ms)} ms, p99 ${ms(alone[name].p99Ms)} ms, ${alone[name].meanTouched.toFixed(0)} items scored per query`);
  }
  alone.fallback = await phase('latency fallback', () => strategyAlone(fallback, data, aloneSample));

  const recommend = await phase('latency ensemble', () => timeCalls((i) => void rec.recommend(ids[i], { k: 10 }), nQueries));
  console.log(`latency ensemble recommend: p50 ${ms(recommend.p50Ms)} ms, p99 ${ms(recommend.p99Ms)} ms, max ${ms(recommend.maxMs)} ms (CPU p99 ${ms(recommend.cpuP99Ms)} ms)`);
  const recommendExplain = await phase('latency ensemble explain', () =>
    timeCalls((i) => void rec.recommend(ids[i], { k: 10, explain: true }), nQueries),
  );
  console.log(`latency ensemble recommend + explain: p50 ${ms(recommendExplain.p50Ms)} ms, p99 ${ms(recommendExplain.p99Ms)} ms`);
  // A 3-item cart of a random user's last basket, no user: the anonymous session path.
  const carts = drawUsers(data, warmup + nQueries, 3).map((u) => {
    const t = userQuery(data, u).timeline!;
    const last = t.items.subarray(t.itemPtr[t.itemPtr.length - 2], t.itemPtr[t.itemPtr.length - 1]);
    return Array.from(last.subarray(0, 3), (i) => data.items.id(i));
  });
  // Stored as `completeBasket` (the method this path had before recommend({ basket })), so earlier results still compare.
  const completeBasket = await phase('latency recommend({ basket })', () => timeCalls((i) => void rec.recommend({ basket: carts[i] }, { k: 10 }), nQueries));
  console.log(`latency recommend({ basket }) (3-item cart): p50 ${ms(completeBasket.p50Ms)} ms, p99 ${ms(completeBasket.p99Ms)} ms`);

  const batchIds = drawUsers(data, batchSize, 4).map((u) => data.users.id(u));
  const batchSeconds = await phase('batch', async () => {
    const t0 = performance.now();
    await rec.recommendBatch(batchIds, { k: 10, threads: 1 });
    return (performance.now() - t0) / 1000;
  });
  const batch = { users: batchSize, seconds: batchSeconds, usersPerSecond: batchSize / batchSeconds };
  console.log(`batch: ${batchSize} users in ${batchSeconds.toFixed(2)} s = ${batch.usersPerSecond.toFixed(0)} users/s`);

  const bytes = await phase('artifact save', () => rec.save());
  const saveSeconds = phases.at(-1)!.wallSeconds;
  const artifactPath = join(tmpdir(), `hybridrec-speed-${process.pid}.hrec`);
  await phase('artifact write file', () => saveArtifactFile(artifactPath, bytes));
  const writeFileSeconds = phases.at(-1)!.wallSeconds;
  const checkIds = ids.slice(0, 50);
  const reference = checkIds.map((id) => rec.recommend(id, { k: 10 }));
  const artifactBytes = bytes.length;
  const again = await phase('artifact load file', async () => HybridRecommender.load(await loadArtifactFile(artifactPath)));
  const loadSeconds = phases.at(-1)!.wallSeconds;
  await rm(artifactPath, { force: true });
  const identical = checkIds.every((id, i) => sameRecommendations(again.recommend(id, { k: 10 }), reference[i]));
  console.log(
    `artifact: ${mb(artifactBytes)}, save ${saveSeconds.toFixed(2)} s, write file ${writeFileSeconds.toFixed(2)} s, ` +
      `load from file ${loadSeconds.toFixed(2)} s, same recommendations after load: ${identical}`,
  );
  const loadedRecommend = await phase('latency loaded ensemble', () => timeCalls((i) => void again.recommend(ids[i], { k: 10 }), nQueries));
  console.log(`latency loaded ensemble: p50 ${ms(loadedRecommend.p50Ms)} ms, p99 ${ms(loadedRecommend.p99Ms)} ms`);
  return {
    ensemble: { recommend, recommendExplain, completeBasket, batch, artifact: { bytes: artifactBytes, saveSeconds, writeFileSeconds, loadSeconds, identical }, loadedRecommend },
    served: again,
  };
}

let ensemble: EnsembleResults | null = null;
// The loaded ensemble stays in memory to the end, as in a process serving it and NeuralCF.
let keepAlive: HybridRecommender | null = null;
if (nonNeural.length) {
  const measured = await measureEnsemble();
  ensemble = measured.ensemble;
  keepAlive = measured.served;
  data = measured.served.dataset;
}

let ncf: { epochs: number; fitSeconds: number; cpuSeconds: number; peakRssBytes: number; alone: AloneLatency; recommend: Latency; artifactBytes: number } | null = null;
if (withNcf) {
  const model = new NeuralCF({ epochs: ncfEpochs });
  const one = new HybridRecommender({ strategies: { ncf: model }, fallback: null });
  await phase('fit ncf', () => one.fit(data, { seed }));
  const fit = phases.at(-1)!;
  console.log(`fit ncf (${ncfEpochs} epochs): ${fit.wallSeconds.toFixed(1)} s wall, ${fit.cpuSeconds.toFixed(1)} s CPU, peak rss ${mb(fit.peakRssBytes)}`);
  const aloneNcf = await phase('latency ncf', () => strategyAlone(model, data, aloneSample));
  const recommend = await phase('latency ncf recommend', () => timeCalls((i) => void one.recommend(ids[i], { k: 10 }), nQueries));
  console.log(`latency ncf alone: p50 ${ms(aloneNcf.p50Ms)} ms, p99 ${ms(aloneNcf.p99Ms)} ms; via recommend: p50 ${ms(recommend.p50Ms)} ms, p99 ${ms(recommend.p99Ms)} ms`);
  ncf = {
    epochs: ncfEpochs,
    fitSeconds: fit.wallSeconds,
    cpuSeconds: fit.cpuSeconds,
    peakRssBytes: fit.peakRssBytes,
    alone: aloneNcf,
    recommend,
    artifactBytes: one.save().length,
  };
}

// ----------------------------------------------------------------------------------- report

const maxRss = process.resourceUsage().maxRSS * 1024;
const peakRss = Math.max(maxRss, memory[1]);
const endLoad = loadavg();
void keepAlive;

console.log('');
console.log(`=== ${users} users x ${products} products: ${dataStats.baskets} baskets, ${dataStats.lines} lines, ${dataStats.userItemNonzeros} user-item nonzeros`);
console.log(`machine: ${describeMachine(m)}; load average start ${startLoad[0].toFixed(2)}, end ${endLoad[0].toFixed(2)} (1 min) on ${m.cores} cores`);
console.log('');
console.log('strategy      fit wall   fit CPU   peak RSS in fit   p50 ms   p99 ms  CPU p50  CPU p99   items scored');
const row = (name: string, wall: number, cpu: number, rss: number, l: AloneLatency | undefined) =>
  console.log(
    `${name.padEnd(14)}${`${wall.toFixed(1)} s`.padStart(8)}${`${cpu.toFixed(1)} s`.padStart(10)}${mb(rss).padStart(18)}` +
      `${(l ? ms(l.p50Ms) : '-').padStart(9)}${(l ? ms(l.p99Ms) : '-').padStart(9)}${(l ? ms(l.cpuP50Ms) : '-').padStart(9)}${(l ? ms(l.cpuP99Ms) : '-').padStart(9)}` +
      `${(l ? l.meanTouched.toFixed(0) : '-').padStart(15)}`,
  );
for (const name of nonNeural) row(name, fitPhase[name].wallSeconds, fitPhase[name].cpuSeconds, fitPhase[name].peakRssBytes, alone[name]);
if (ensemble) row('fallback', fitPhase.fallback.wallSeconds, fitPhase.fallback.cpuSeconds, fitPhase.fallback.peakRssBytes, alone.fallback);
if (ncf) row(`ncf (${ncf.epochs} ep)`, ncf.fitSeconds, ncf.cpuSeconds, ncf.peakRssBytes, ncf.alone);
if (ensemble) {
  const total = Object.values(fitSeconds).reduce((a, b) => a + b, 0);
  console.log('');
  console.log(`ensemble (${nonNeural.join('+')} + popularity fallback): fit ${total.toFixed(1)} s total`);
  for (const [label, l] of [
    ['recommend', ensemble.recommend],
    ['recommend + explain', ensemble.recommendExplain],
    ['recommend({ basket }) (3 items)', ensemble.completeBasket],
    ['recommend (loaded artifact)', ensemble.loadedRecommend],
  ] as const) {
    console.log(`  ${label.padEnd(28)} p50 ${ms(l.p50Ms)} ms   p99 ${ms(l.p99Ms)} ms   mean ${ms(l.meanMs)} ms   max ${ms(l.maxMs)} ms   CPU p50 ${ms(l.cpuP50Ms)} ms   CPU p99 ${ms(l.cpuP99Ms)} ms`);
  }
  console.log(`  batch: ${ensemble.batch.usersPerSecond.toFixed(0)} users/s (${ensemble.batch.users} users in ${ensemble.batch.seconds.toFixed(2)} s)`);
  const a = ensemble.artifact;
  console.log(`  artifact: ${mb(a.bytes)}, save ${a.saveSeconds.toFixed(2)} s, write ${a.writeFileSeconds.toFixed(2)} s, load from file ${a.loadSeconds.toFixed(2)} s, identical after load: ${a.identical}`);
}
const load = phases.find((p) => p.name === 'loadInstacart')!;
console.log(`  loadInstacart: ${load.wallSeconds.toFixed(1)} s (${mb(dataStats.csvBytes)} of CSV)`);
console.log(`peak RSS: ${mb(peakRss)} (kernel maxRSS ${mb(maxRss)}, sampled ${mb(memory[1])})`);
console.log('');
console.log('phase                           wall s    CPU s   peak RSS   load 1m');
for (const p of phases) {
  console.log(`${p.name.padEnd(30)}${p.wallSeconds.toFixed(2).padStart(8)}${p.cpuSeconds.toFixed(2).padStart(9)}${mb(p.peakRssBytes).padStart(11)}${p.loadAvg1m.toFixed(2).padStart(10)}`);
}

const targets: Array<{ target: string; value: string; met: boolean }> = [];
for (const name of [...nonNeural, 'fallback']) {
  if (!fitPhase[name]) continue;
  targets.push({ target: `fit ${name} < ${TARGET_FIT_SECONDS} s`, value: `${fitPhase[name].wallSeconds.toFixed(1)} s`, met: fitPhase[name].wallSeconds < TARGET_FIT_SECONDS });
}
targets.push({ target: 'peak RSS < 8 GiB', value: mb(peakRss), met: peakRss < TARGET_RSS_BYTES });
if (ensemble) {
  targets.push({ target: `ensemble recommend p99 < ${TARGET_P99_MS} ms (wall)`, value: `${ms(ensemble.recommend.p99Ms)} ms`, met: ensemble.recommend.p99Ms < TARGET_P99_MS });
  targets.push({ target: `ensemble recommend p99 < ${TARGET_P99_MS} ms (CPU time)`, value: `${ms(ensemble.recommend.cpuP99Ms)} ms`, met: ensemble.recommend.cpuP99Ms < TARGET_P99_MS });
}
console.log('');
for (const t of targets) console.log(`${t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.value}`);
const hotSpots: Record<string, HotSpot[]> = {};
if (profileDir) {
  await mkdir(profileDir, { recursive: true });
  for (const { name, profile } of await Promise.all(profiles)) {
    await writeFile(join(profileDir, `${name.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`), JSON.stringify(profile));
    hotSpots[name] = topSelfTime(profile, 12);
  }
}
for (const [name, spots] of Object.entries(hotSpots)) {
  console.log(`\nhot spots (self time) of ${name}:`);
  for (const s of spots) console.log(`  ${(100 * s.share).toFixed(1).padStart(5)}%  ${String(s.selfMs).padStart(7)} ms  ${s.fn}`);
}

const result = {
  machine: m,
  loadAverage: { start: startLoad, end: endLoad },
  options: { users, products, strategies: requested, queries: nQueries, warmup, batch: batchSize, ncfEpochs, seed, profiled: profileDir !== undefined },
  heapLimitBytes,
  data: dataStats,
  loadSeconds: load.wallSeconds,
  fitSeconds,
  strategies: Object.fromEntries(
    nonNeural.map((n) => [n, { fitSeconds: fitPhase[n].wallSeconds, fitCpuSeconds: fitPhase[n].cpuSeconds, fitPeakRssBytes: fitPhase[n].peakRssBytes, latency: alone[n] }]),
  ),
  fallback: ensemble ? { fitSeconds: fitPhase.fallback.wallSeconds, latency: alone.fallback } : null,
  ensemble,
  ncf,
  peakRssBytes: peakRss,
  kernelMaxRssBytes: maxRss,
  sampledPeakRssBytes: memory[1],
  phases,
  targets,
  hotSpots,
};
if (!profileDir) {
  const out = fileURLToPath(new URL(`./results/speed-${users}x${products}.json`, import.meta.url));
  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  await writeFile(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}
await sampler.terminate();
profileSession?.disconnect();
