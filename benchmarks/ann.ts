/**
 * Vector index benchmark: recall@10 against exact search, query latency, build time, memory,
 * and serialize / restore time, for usearch and hnswlib-node at a few settings.
 *
 *   npx tsx benchmarks/ann.ts [--items 1000000] [--dim 64] [--queries 1000] [--data lowrank|clustered|gaussian]
 *                             [--metric ip|cosine] [--configs u16,u32,h16] [--ef 16,32,64,128,256,512] [--quick]
 *
 * Configurations: u16 / u32 = usearch with M 16 / 32 built on 2 threads, u16t1 = usearch M 16
 * on 1 thread (its deterministic default), h16 / h32 = hnswlib-node M 16 / 32 (one thread),
 * efConstruction 128 for these; h32c256 = hnswlib-node M 32, efConstruction 256. Each build is
 * searched at every ef of `--ef` (search-time only: the built graph is restored with each).
 *
 * A 1M build takes minutes to half an hour on a loaded 2-core machine, while ef is a search
 * setting, so each built index is kept in the OS temp directory
 * (hybridrec-ann-bench/index-<setup>-<config>.bin, with its build time and load in a .json
 * beside it) and restored by later runs of the same setup and configuration: sweeping other ef
 * values costs no rebuild. `--rebuild` ignores a kept index. The row's `buildCached` says
 * whether its build time is from an earlier run.
 *
 * Data (seeded, mulberry32), 1,000 clusters each:
 * - `lowrank` (default): trained embeddings have an effective rank well below their width, so
 *   points are cluster centers N(0, I) plus 0.35 N(0, I) in a 16-dimensional latent space,
 *   mapped to `dim` dimensions by a fixed random Gaussian matrix, plus 0.05 N(0, I) noise;
 * - `clustered`: centers N(0, I) plus 0.35 N(0, I) in all `dim` dimensions (full rank within
 *   a cluster: much harder);
 * - `gaussian`: isotropic N(0, I), no structure at all, the worst case for a graph index.
 * Queries are fresh points of the same distribution (another seed). Ground truth: usearch's
 * brute-force exactSearch (SIMD, multi-threaded), checked against the exact index of
 * src/util/ann.ts on the first 20 queries; that index is also timed (the browser fallback).
 * Each configuration builds in a
 * child process, one at a time, so its memory is its own: RSS is the child's peak (vectors
 * included: items x dim x 4 bytes), and build, search and restore are timed there. Searches
 * are single-threaded, one query per call, after 100 warm-up queries. Writes
 * benchmarks/results/ann-<data>-<metric>-<items>x<dim>-<configs>.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hnswlibIndex, usearchIndex } from '../src/node/ann';
import { ExactVectorIndex, type SerializedIndex, type VectorIndex, type VectorIndexFactory, type VectorMetric, type VectorSource } from '../src/util/ann';
import { mulberry32, randomNormal } from '../src/util/random';
import { describeMachine, machine, percentile } from './machine';

const here = dirname(fileURLToPath(import.meta.url));
const K = 10;
const WARMUP = 100;
const CLUSTERS = 1000;
const CLUSTER_SPREAD = 0.35;
const LATENT_DIM = 16;
const LOWRANK_NOISE = 0.05;
/** ef values swept per build by default (`--ef` replaces them). */
const EF_SWEEP = [16, 32, 64, 128, 256, 512];
/** Candidate counts a strategy asks for (ensemble: up to 1,000 per strategy). */
const CANDIDATES = [100, 1000];

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

interface Setup {
  items: number;
  dim: number;
  queries: number;
  data: 'lowrank' | 'clustered' | 'gaussian';
  metric: VectorMetric;
}

interface Config {
  package: 'usearch' | 'hnswlib';
  /** Graph degree M. */
  m: number;
  efConstruction: number;
  /** usearch build threads (hnswlib-node builds on one thread). */
  threads: number;
}

interface Row {
  package: string;
  m: number;
  efConstruction: number;
  buildThreads: number;
  ef: number;
  recallAt10: number;
  p50ms: number;
  p99ms: number;
  cpuP50ms: number;
  cpuP99ms: number;
  buildSeconds: number;
  /** True when the build time (and its load) is from the earlier run that built the kept index. */
  buildCached: boolean;
  /** 1-minute load average when the build finished. */
  buildLoad: number;
  /** 1-minute load average before and after this row's searches (the machine is shared). */
  searchLoad: [number, number];
  peakRssMiB: number;
  indexMiB: number;
  serializeSeconds: number;
  /** Seconds to restore the serialized index for this row; null for the row searched on the index just built. */
  restoreSeconds: number | null;
  candidates: Array<{ k: number; p50ms: number; p99ms: number }>;
}

/** items x dim floats of the setup's distribution; `stream` 0 for items, 1 for queries. */
function generate(s: Setup, n: number, stream: number): Float32Array {
  const out = new Float32Array(n * s.dim);
  if (s.data === 'gaussian') {
    const rng = mulberry32(1000 + stream);
    for (let i = 0; i < out.length; i++) out[i] = randomNormal(rng);
    return out;
  }
  const latent = s.data === 'lowrank' ? LATENT_DIM : s.dim;
  const fixed = mulberry32(7);
  const centers = Float32Array.from({ length: CLUSTERS * latent }, () => randomNormal(fixed));
  const map = Float32Array.from({ length: latent * s.dim }, () => randomNormal(fixed) / Math.sqrt(latent));
  const rng = mulberry32(1000 + stream);
  const z = new Float32Array(latent);
  for (let r = 0; r < n; r++) {
    const c = Math.floor(rng() * CLUSTERS);
    for (let j = 0; j < latent; j++) z[j] = centers[c * latent + j] + CLUSTER_SPREAD * randomNormal(rng);
    const row = out.subarray(r * s.dim, (r + 1) * s.dim);
    if (s.data === 'clustered') {
      row.set(z);
      continue;
    }
    for (let j = 0; j < s.dim; j++) row[j] = LOWRANK_NOISE * randomNormal(rng);
    for (let l = 0; l < latent; l++) {
      const x = z[l];
      for (let j = 0; j < s.dim; j++) row[j] += x * map[l * s.dim + j];
    }
  }
  return out;
}

function factory(c: Config, ef: number): VectorIndexFactory {
  return c.package === 'usearch'
    ? usearchIndex({ connectivity: c.m, expansionAdd: c.efConstruction, expansionSearch: ef, threads: c.threads })
    : hnswlibIndex({ m: c.m, efConstruction: c.efConstruction, ef });
}

/**
 * Wall-clock and process-CPU p50 / p99 per search. On a shared machine the wall-clock tail
 * includes time the process waited for a core; the CPU time (user + system) of a
 * single-threaded search does not.
 */
function timeSearches(index: VectorIndex, queries: Float32Array, dim: number, k: number): { p50: number; p99: number; cpuP50: number; cpuP99: number; results: Int32Array[] } {
  const n = queries.length / dim;
  for (let q = 0; q < Math.min(WARMUP, n); q++) index.search(queries.subarray(q * dim, (q + 1) * dim), k);
  const times: number[] = [];
  const cpu: number[] = [];
  const results: Int32Array[] = [];
  for (let q = 0; q < n; q++) {
    const query = queries.subarray(q * dim, (q + 1) * dim);
    const c = process.cpuUsage();
    const t = performance.now();
    const r = index.search(query, k);
    times.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
    results.push(r.items);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), cpuP50: percentile(cpu, 50), cpuP99: percentile(cpu, 99), results };
}

function recall(results: Int32Array[], truth: Int32Array): number {
  let hits = 0;
  for (let q = 0; q < results.length; q++) {
    const want = new Set(truth.subarray(q * K, (q + 1) * K));
    for (let i = 0; i < Math.min(K, results[q].length); i++) if (want.has(results[q][i])) hits++;
  }
  return hits / (results.length * K);
}

const gc = (globalThis as { gc?: () => void }).gc;

/** What a kept index was built with and how long it took (the .json beside its bytes). */
interface KeptBuild {
  kind: string;
  state: SerializedIndex['state'];
  buildSeconds: number;
  buildLoad: number;
  serializeSeconds: number;
}

async function child(s: Setup, c: Config, truthPath: string, efs: number[], keptPath: string, rebuild: boolean): Promise<Row[]> {
  const source: VectorSource = { vectors: generate(s, s.items, 0), dim: s.dim, metric: s.metric };
  const queries = generate(s, s.queries, 1);
  const truth = new Int32Array(new Uint8Array(readFileSync(truthPath)).buffer);
  const metaPath = `${keptPath}.json`;
  let stored: SerializedIndex;
  let kept: KeptBuild;
  let built: VectorIndex | null = null;
  const buildCached = !rebuild && existsSync(keptPath) && existsSync(metaPath);
  if (buildCached) {
    kept = JSON.parse(readFileSync(metaPath, 'utf8')) as KeptBuild;
    stored = { kind: kept.kind, state: kept.state, bytes: new Uint8Array(readFileSync(keptPath)) };
    console.error(`    restoring the kept build ${keptPath} (built in ${kept.buildSeconds.toFixed(1)} s at load ${kept.buildLoad.toFixed(1)})`);
  } else {
    let t = performance.now();
    built = await factory(c, efs[0]).build(source);
    const buildSeconds = (performance.now() - t) / 1000;
    const buildLoad = loadavg()[0];
    t = performance.now();
    stored = built.serialize()!;
    const serializeSeconds = (performance.now() - t) / 1000;
    kept = { kind: stored.kind, state: stored.state, buildSeconds, buildLoad, serializeSeconds };
    writeFileSync(keptPath, stored.bytes);
    writeFileSync(metaPath, JSON.stringify(kept));
  }
  const rows: Row[] = [];
  for (const ef of efs) {
    gc?.();
    const t = performance.now();
    const index = built !== null && ef === efs[0] ? built : await factory(c, ef).restore(stored, source);
    const restoreSeconds = built !== null && ef === efs[0] ? null : (performance.now() - t) / 1000;
    if (index === null) throw new Error(`${c.package} could not restore its own serialization (${keptPath}: --rebuild if it is stale)`);
    const loadBefore = loadavg()[0];
    const { p50, p99, cpuP50, cpuP99, results } = timeSearches(index, queries, s.dim, K);
    const candidates = CANDIDATES.map((k) => {
      const r = timeSearches(index, queries, s.dim, k);
      return { k, p50ms: r.p50, p99ms: r.p99 };
    });
    rows.push({
      package: c.package,
      m: c.m,
      efConstruction: c.efConstruction,
      buildThreads: c.package === 'usearch' ? c.threads : 1,
      ef,
      recallAt10: recall(results, truth),
      p50ms: p50,
      p99ms: p99,
      cpuP50ms: cpuP50,
      cpuP99ms: cpuP99,
      buildSeconds: kept.buildSeconds,
      buildCached,
      buildLoad: kept.buildLoad,
      searchLoad: [loadBefore, loadavg()[0]],
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      indexMiB: stored.bytes.length / 2 ** 20,
      serializeSeconds: kept.serializeSeconds,
      restoreSeconds,
      candidates,
    });
    console.error(`    ${c.package} M=${c.m} efC=${c.efConstruction} ef=${ef}: recall@10 ${rows[rows.length - 1].recallAt10.toFixed(4)}, p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms (CPU ${cpuP50.toFixed(3)} / ${cpuP99.toFixed(3)} ms), load ${loadBefore.toFixed(1)}`);
  }
  return rows;
}

function setupFromArgs(): Setup {
  const quick = process.argv.includes('--quick');
  return {
    items: Number(flag('items', quick ? '100000' : '1000000')),
    dim: Number(flag('dim', '64')),
    queries: Number(flag('queries', '1000')),
    data: flag('data', 'lowrank') as Setup['data'],
    metric: flag('metric', 'ip') as VectorMetric,
  };
}

async function main(): Promise<void> {
  const s = setupFromArgs();
  const wanted = flag('configs', 'u16,u32,h16').split(',');
  console.log(`vector index benchmark: ${s.items.toLocaleString('en-US')} x ${s.dim} ${s.data} vectors, ${s.metric}, ${s.queries} queries, k = ${K}`);
  console.log(`machine: ${describeMachine()}`);

  // Ground truth (and the exact index's own latency), cached across runs: the data are seeded.
  const cacheDir = join(tmpdir(), 'hybridrec-ann-bench');
  mkdirSync(cacheDir, { recursive: true });
  const truthPath = join(cacheDir, `truth-${s.data}-${s.metric}-${s.items}x${s.dim}-${s.queries}.i32`);
  const source: VectorSource = { vectors: generate(s, s.items, 0), dim: s.dim, metric: s.metric };
  const queries = generate(s, s.queries, 1);
  const exact = new ExactVectorIndex(source);
  const exactQueries = Math.min(s.queries, 200);
  const exactTimes = timeSearches(exact, queries.subarray(0, exactQueries * s.dim), s.dim, K);
  console.log(`exact (JS, isomorphic): p50 ${exactTimes.p50.toFixed(2)} ms, p99 ${exactTimes.p99.toFixed(2)} ms per query (${exactQueries} queries)`);
  if (!existsSync(truthPath)) {
    const t = performance.now();
    const usearch = await import('usearch');
    const r = usearch.exactSearch(source.vectors, queries, s.dim, K, s.metric === 'cosine' ? usearch.MetricKind.Cos : usearch.MetricKind.IP, 0);
    const truth = Int32Array.from(r.keys, Number);
    // Brute force in usearch must agree with ours (near-ties aside) before it is the reference.
    const agree = recall(Array.from({ length: 20 }, (_, q) => exact.search(queries.subarray(q * s.dim, (q + 1) * s.dim), K).items), truth.subarray(0, 20 * K));
    if (agree < 0.99) throw new Error(`usearch exactSearch agrees with the exact index on only ${agree} of the top 10`);
    writeFileSync(truthPath, new Uint8Array(truth.buffer));
    console.log(`ground truth: ${s.queries} brute-force searches in ${((performance.now() - t) / 1000).toFixed(1)} s (agreement with ExactVectorIndex on 20 queries: ${agree})`);
  }

  const known: Record<string, Config> = {
    u16t1: { package: 'usearch', m: 16, efConstruction: 128, threads: 1 },
    u16: { package: 'usearch', m: 16, efConstruction: 128, threads: 2 },
    u32: { package: 'usearch', m: 32, efConstruction: 128, threads: 2 },
    h16: { package: 'hnswlib', m: 16, efConstruction: 128, threads: 1 },
    h32: { package: 'hnswlib', m: 32, efConstruction: 128, threads: 1 },
    h32c256: { package: 'hnswlib', m: 32, efConstruction: 256, threads: 1 },
  };
  const efs = flag('ef', EF_SWEEP.join(',')).split(',').map(Number);
  if (efs.some((ef) => !Number.isInteger(ef) || ef < 1)) throw new Error(`--ef needs integers >= 1, got ${flag('ef', '')}`);
  const rebuild = process.argv.includes('--rebuild');
  const configs = wanted.map((name) => {
    if (!known[name]) throw new Error(`unknown configuration ${name}; use ${Object.keys(known).join(', ')}`);
    return known[name];
  });

  const rows: Row[] = [];
  for (const [name, c] of configs.map((c, i) => [wanted[i], c] as const)) {
    const keptPath = join(cacheDir, `index-${s.data}-${s.metric}-${s.items}x${s.dim}-${name}.bin`);
    console.log(`  ${c.package} M=${c.m} efConstruction=${c.efConstruction} threads=${c.threads} (load ${loadavg()[0].toFixed(1)}) ...`);
    const r = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), '--child', JSON.stringify({ s, c, truthPath, efs, keptPath, rebuild })], {
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(`child for ${JSON.stringify(c)} failed with status ${r.status}`);
    const got = JSON.parse(r.stdout.toString()) as Row[];
    rows.push(...got);
    console.log(`    build ${got[0].buildSeconds.toFixed(1)} s${got[0].buildCached ? ' (kept from an earlier run)' : ''} at load ${got[0].buildLoad.toFixed(1)}, peak RSS ${got[0].peakRssMiB.toFixed(0)} MiB, serialized ${got[0].indexMiB.toFixed(0)} MiB (write ${got[0].serializeSeconds.toFixed(1)} s, restore ${got.find((r) => r.restoreSeconds !== null)?.restoreSeconds?.toFixed(1)} s)`);
  }

  console.log('\n| package | M | efC | build threads | ef | recall@10 | p50 ms | p99 ms | CPU p50 ms | CPU p99 ms | load | build s | peak RSS MiB | p99 ms k=100 | p99 ms k=1000 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const c = (k: number) => r.candidates.find((x) => x.k === k)!.p99ms.toFixed(2);
    console.log(`| ${r.package} | ${r.m} | ${r.efConstruction} | ${r.buildThreads} | ${r.ef} | ${r.recallAt10.toFixed(4)} | ${r.p50ms.toFixed(3)} | ${r.p99ms.toFixed(3)} | ${r.cpuP50ms.toFixed(3)} | ${r.cpuP99ms.toFixed(3)} | ${r.searchLoad.map((l) => l.toFixed(1)).join('-')} | ${r.buildSeconds.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} | ${c(100)} | ${c(1000)} |`);
  }
  const efPart = flag('ef', '') === '' ? '' : `-ef${efs.join('-')}`;
  const out = join(here, 'results', `ann-${s.data}-${s.metric}-${s.items}x${s.dim}-${wanted.join('-')}${efPart}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const command = `npx tsx benchmarks/ann.ts ${process.argv.slice(2).join(' ')}`.trim();
  writeFileSync(out, `${JSON.stringify({ command, date: new Date().toISOString().slice(0, 10), machine: machine(), setup: s, exact: { p50ms: exactTimes.p50, p99ms: exactTimes.p99 }, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const { s, c, truthPath, efs, keptPath, rebuild } = JSON.parse(process.argv[childAt + 1]) as { s: Setup; c: Config; truthPath: string; efs: number[]; keptPath: string; rebuild: boolean };
  child(s, c, truthPath, efs, keptPath, rebuild)
    .then((rows) => process.stdout.write(JSON.stringify(rows)))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
