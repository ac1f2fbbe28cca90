/**
 * Approximate nearest-neighbour indexes (HNSW graphs) on native packages, for dense
 * strategies over large catalogs: `usearchIndex()` (usearch, prebuilt binaries) and
 * `hnswlibIndex()` (hnswlib-node, compiled at install). Both are optional peer dependencies,
 * loaded when an index is first built or restored; a missing one is a MissingDependencyError.
 * Numbers behind the defaults: benchmarks/ann.ts, docs/ann.md. Of the two, hnswlibIndex is
 * the one to prefer where it compiles: at 1M x 64 it matched usearch's recall at every setting
 * at a third of its query time, built faster on one thread than usearch on two, and restored in
 * 1.0 s (vs 2.6-6.3 s); usearchIndex installs from prebuilt binaries where no compiler is.
 *
 * Inner product ('ip') is searched on rescaled vectors (see IpScaling): unscaled, the small
 * inner products of ALS factors fell on a few float32 steps and the graph missed neighbours.
 *
 * Both packages serialize to files only, so serialize() / restore() go through a temporary
 * file (Node-only, hence this module lives in src/node).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionError } from '../errors';
import { Pace } from '../util/pace';
import { checkQuery, type SerializedIndex, type VectorIndex, type VectorIndexFactory, type VectorMatches, type VectorMetric, type VectorSource } from '../util/ann';
import type { JsonObject } from '../util/json';
import { loadOptional } from '../util/optional';
import { integer, resolveOptions, type OptionChecks } from '../util/options';

/** Rows added per native call during a build, so progress and an abort get a turn between calls. */
const ADD_CHUNK = 16_384;

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hybridrec-ann-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sizeOf(source: VectorSource, what: string): number {
  if (!Number.isInteger(source.dim) || source.dim < 1 || source.vectors.length % source.dim !== 0) {
    throw new OptionError(what, `vectors of length ${source.vectors.length} do not split into rows of ${source.dim}`);
  }
  return source.vectors.length / source.dim;
}

/**
 * Inner product searched in the packages' own 'ip' space, on rows scaled by 1 / R (R the
 * largest row norm) and the query scaled to unit length: the order is the inner product's
 * (both scalings are positive), but the distance 1 - q . x the packages compute in float32
 * then spans [0, 2] instead of a sliver next to 1. Why: on the factors of a small ALS fit
 * (norms ~0.002, so every q . x ~1e-6) the unscaled distances fell on a few float32 steps
 * below 1, the graph was built on ties, and hnswlib missed 10% of the exact top 15 at ef 256;
 * scaled, it missed none (test/vector-index.test.ts). Tried first and dropped: the L2
 * transform of Bachrach et al. 2014 ([x, sqrt(R^2 - |x|^2)] against [q, 0]), exact in theory,
 * lost recall@10 at 1M x 64 (0.874 vs 0.950 at M 32, ef 256; docs/ann.md). The similarity a
 * search returns is the exact inner product of the unscaled vectors.
 */
class IpScaling {
  private readonly rowScale: number;

  constructor(private readonly source: VectorSource) {
    const { vectors, dim } = source;
    let r = 0;
    for (let o = 0; o < vectors.length; o += dim) {
      let s = 0;
      for (let j = o; j < o + dim; j++) s += vectors[j] * vectors[j];
      if (s > r) r = s;
    }
    this.rowScale = r > 0 ? 1 / Math.sqrt(r) : 1;
  }

  /** Row r, scaled, into `out` (length dim). */
  row(r: number, out: Float32Array | number[]): void {
    const { vectors, dim } = this.source;
    for (let j = 0; j < dim; j++) out[j] = vectors[r * dim + j] * this.rowScale;
  }

  /** The query at unit length (a zero query stays zero) into `out`. */
  query(q: Float32Array, out: Float32Array | number[]): void {
    let s = 0;
    for (let j = 0; j < q.length; j++) s += q[j] * q[j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < q.length; j++) out[j] = q[j] * inv;
  }

  /** The exact inner product of row r and q (what search() reports as the similarity). */
  dot(r: number, q: Float32Array): number {
    const { vectors, dim } = this.source;
    let s = 0;
    for (let j = 0; j < dim; j++) s += vectors[r * dim + j] * q[j];
    return s;
  }
}

/** The search-time part every index kind stores, for restore() to compare against. */
function shapeState(index: VectorIndex, build: JsonObject): JsonObject {
  return { metric: index.metric, dim: index.dim, size: index.size, build };
}

function sameShape(stored: JsonObject, source: VectorSource, size: number, build: JsonObject): boolean {
  return stored.metric === source.metric && stored.dim === source.dim && stored.size === size && JSON.stringify(stored.build) === JSON.stringify(build);
}

// ------------------------------------------------------------------------------- usearch

/** The parts of usearch's API used here. */
interface UsearchModule {
  Index: new (config: { metric: string; dimensions: number; connectivity: number; expansion_add: number; expansion_search: number; quantization: string }) => UsearchIndex;
}
interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array; distances: Float32Array };
  size(): number;
  save(path: string): void;
  load(path: string): void;
}

export interface UsearchIndexOptions {
  /** Graph degree (HNSW M). Default 32: at 1M x 64 (benchmarks/ann.ts) M 16 topped out at recall@10 0.938 (ef 512); M 32 reached 0.950 at ef 256. */
  connectivity: number;
  /** Candidate list while inserting (efConstruction). Default 128: not varied yet (the benchmark's one setting, hnswlib's alike). */
  expansionAdd: number;
  /**
   * Candidate list while searching (ef; a search for k > ef uses k, so strategies taking 1,000
   * candidates never see it). Default 256: with M 32 at 1M x 64, recall@10 0.950 (CPU p99 2.0
   * ms here; hnswlib-node does the same search in 0.66 ms).
   */
  expansionSearch: number;
  /**
   * Threads that insert during a build (0: all cores). Default 1: a single-threaded build is
   * deterministic (byte-identical graph for the same vectors); more threads build faster but
   * race, so near-tied candidates may differ between builds.
   */
  threads: number;
}

const USEARCH_CHECKS: OptionChecks<UsearchIndexOptions> = {
  connectivity: integer({ min: 2, max: 256 }),
  expansionAdd: integer({ min: 1 }),
  expansionSearch: integer({ min: 1 }),
  threads: integer({ min: 0 }),
};

export const USEARCH_DEFAULTS: Readonly<UsearchIndexOptions> = Object.freeze({ connectivity: 32, expansionAdd: 128, expansionSearch: 256, threads: 1 });

class UsearchVectorIndex implements VectorIndex {
  readonly kind = 'usearch';
  readonly dim: number;
  readonly metric: VectorMetric;
  private readonly point: Float32Array | null;

  constructor(
    private readonly native: UsearchIndex,
    readonly size: number,
    source: VectorSource,
    private readonly scaling: IpScaling | null,
    private readonly buildState: JsonObject,
  ) {
    this.dim = source.dim;
    this.metric = source.metric;
    this.point = scaling ? new Float32Array(source.dim) : null;
  }

  search(query: Float32Array, k: number): VectorMatches {
    checkQuery(this, query, k, 'usearchIndex');
    const n = Math.min(k, this.size);
    if (n === 0) return { items: new Int32Array(0), scores: new Float32Array(0) };
    if (this.scaling) this.scaling.query(query, this.point!);
    const { keys, distances } = this.native.search(this.point ?? query, n, 1);
    const items = new Int32Array(keys.length);
    const scores = new Float32Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      items[i] = Number(keys[i]);
      // Cosine distance is 1 - similarity; an inner product is computed exactly.
      scores[i] = this.scaling ? this.scaling.dot(items[i], query) : 1 - distances[i];
    }
    return { items, scores };
  }

  serialize(): SerializedIndex {
    const bytes = withTempDir((dir) => {
      const path = join(dir, 'index.usearch');
      this.native.save(path);
      return new Uint8Array(readFileSync(path));
    });
    return { kind: this.kind, state: shapeState(this, this.buildState), bytes };
  }
}

/** HNSW index on usearch (https://github.com/unum-cloud/usearch), Node only. */
export function usearchIndex(options: Partial<UsearchIndexOptions> = {}): VectorIndexFactory {
  const o = resolveOptions('usearchIndex', USEARCH_DEFAULTS, options, USEARCH_CHECKS);
  const buildState = (metric: VectorMetric): JsonObject => ({ connectivity: o.connectivity, expansionAdd: o.expansionAdd, space: metric === 'ip' ? 'ip-scaled' : 'cos' });
  const create = async (source: VectorSource) => {
    const usearch = await loadOptional<UsearchModule>('usearch', 'usearchIndex');
    return new usearch.Index({
      metric: source.metric === 'cosine' ? 'cos' : 'ip',
      dimensions: source.dim,
      connectivity: o.connectivity,
      expansion_add: o.expansionAdd,
      expansion_search: o.expansionSearch,
      quantization: 'f32',
    });
  };
  return {
    kind: 'usearch',
    async build(source, { signal } = {}) {
      const size = sizeOf(source, 'usearchIndex');
      const native = await create(source);
      const scaling = source.metric === 'ip' ? new IpScaling(source) : null;
      const pace = new Pace(signal, 'usearchIndex.build');
      const rows = new Float32Array(scaling ? Math.min(size, ADD_CHUNK) * source.dim : 0);
      for (let start = 0; start < size; start += ADD_CHUNK) {
        const end = Math.min(size, start + ADD_CHUNK);
        const keys = new BigUint64Array(end - start);
        for (let r = start; r < end; r++) keys[r - start] = BigInt(r);
        if (scaling) {
          for (let r = start; r < end; r++) scaling.row(r, rows.subarray((r - start) * source.dim, (r - start + 1) * source.dim));
          native.add(keys, rows.subarray(0, (end - start) * source.dim), o.threads);
        } else {
          native.add(keys, source.vectors.subarray(start * source.dim, end * source.dim), o.threads);
        }
        if (pace.due()) await pace.pause();
      }
      return new UsearchVectorIndex(native, size, source, scaling, buildState(source.metric));
    },
    async restore(stored, source) {
      const size = sizeOf(source, 'usearchIndex');
      if (stored.kind !== 'usearch' || !sameShape(stored.state, source, size, buildState(source.metric))) return null;
      const native = await create(source);
      try {
        withTempDir((dir) => {
          const path = join(dir, 'index.usearch');
          writeFileSync(path, stored.bytes);
          native.load(path);
        });
      } catch {
        return null; // a format this usearch cannot read: rebuild
      }
      return native.size() === size ? new UsearchVectorIndex(native, size, source, source.metric === 'ip' ? new IpScaling(source) : null, buildState(source.metric)) : null;
    },
  };
}

// --------------------------------------------------------------------------- hnswlib-node

/** The parts of hnswlib-node's API used here. */
interface HnswlibModule {
  HierarchicalNSW: new (space: 'ip' | 'cosine', dim: number) => HnswlibIndex;
}
interface HnswlibIndex {
  initIndex(opts: { maxElements: number; m: number; efConstruction: number; randomSeed: number }): void;
  addPoint(point: number[], label: number): void;
  searchKnn(point: number[], k: number): { distances: number[]; neighbors: number[] };
  setEf(ef: number): void;
  getCurrentCount(): number;
  writeIndexSync(path: string): void;
  readIndexSync(path: string): void;
}

export interface HnswlibIndexOptions {
  /** Graph degree (HNSW M). Default 32: at 1M x 64 (benchmarks/ann.ts) M 16 topped out at recall@10 0.937 (ef 512, p99 0.93 ms); M 32 reached 0.950 at ef 256. */
  m: number;
  /**
   * Candidate list while inserting. Default 256: at M 32, 1M x 64 (benchmarks/ann.ts) it
   * reached recall@10 0.961 at ef 192 (CPU p99 0.80 ms) where 128 needed ef 320 for 0.954
   * (CPU p99 1.05 ms), for a build 1.8x as long (1,482 vs 830 s, one thread, load ~15).
   */
  efConstruction: number;
  /**
   * Candidate list while searching (a search for k > ef uses k). Default 192: with M 32 and
   * efConstruction 256 at 1M x 64 (docs/ann.md), recall@10 0.9610 at CPU p99 0.80 ms on the
   * loaded machine; 128 gave 0.9519 (0.61 ms), a thinner margin over 0.95, 256 gave 0.9649.
   */
  ef: number;
  /** Seed of the level draws (hnswlib's randomSeed); the build is single-threaded, so it is deterministic. Default 100 (hnswlib's). */
  seed: number;
}

const HNSWLIB_CHECKS: OptionChecks<HnswlibIndexOptions> = {
  m: integer({ min: 2, max: 256 }),
  efConstruction: integer({ min: 1 }),
  ef: integer({ min: 1 }),
  seed: integer({ min: 0 }),
};

export const HNSWLIB_DEFAULTS: Readonly<HnswlibIndexOptions> = Object.freeze({ m: 32, efConstruction: 256, ef: 192, seed: 100 });

async function hnswlib(): Promise<HnswlibModule> {
  const m = await loadOptional<HnswlibModule & { default?: HnswlibModule }>('hnswlib-node', 'hnswlibIndex');
  return m.default ?? m;
}

class HnswlibVectorIndex implements VectorIndex {
  readonly kind = 'hnswlib';
  readonly dim: number;
  readonly metric: VectorMetric;
  private readonly point: number[];

  constructor(
    private readonly native: HnswlibIndex,
    readonly size: number,
    source: VectorSource,
    private readonly scaling: IpScaling | null,
    private readonly buildState: JsonObject,
  ) {
    this.dim = source.dim;
    this.metric = source.metric;
    this.point = new Array<number>(source.dim).fill(0);
  }

  search(query: Float32Array, k: number): VectorMatches {
    checkQuery(this, query, k, 'hnswlibIndex');
    const n = Math.min(k, this.size);
    if (n === 0) return { items: new Int32Array(0), scores: new Float32Array(0) };
    if (this.scaling) this.scaling.query(query, this.point);
    else for (let j = 0; j < this.dim; j++) this.point[j] = query[j];
    const { distances, neighbors } = this.native.searchKnn(this.point, n);
    const items = new Int32Array(neighbors.length);
    const scores = new Float32Array(neighbors.length);
    for (let i = 0; i < neighbors.length; i++) {
      items[i] = neighbors[i];
      // Cosine distance is 1 - similarity; an inner product is computed exactly.
      scores[i] = this.scaling ? this.scaling.dot(items[i], query) : 1 - distances[i];
    }
    return { items, scores };
  }

  serialize(): SerializedIndex {
    const bytes = withTempDir((dir) => {
      const path = join(dir, 'index.hnsw');
      this.native.writeIndexSync(path);
      return new Uint8Array(readFileSync(path));
    });
    return { kind: this.kind, state: shapeState(this, this.buildState), bytes };
  }
}

/** HNSW index on hnswlib-node (https://github.com/yoshoku/hnswlib-node), Node only. */
export function hnswlibIndex(options: Partial<HnswlibIndexOptions> = {}): VectorIndexFactory {
  const o = resolveOptions('hnswlibIndex', HNSWLIB_DEFAULTS, options, HNSWLIB_CHECKS);
  const buildState = (metric: VectorMetric): JsonObject => ({ m: o.m, efConstruction: o.efConstruction, seed: o.seed, space: metric === 'ip' ? 'ip-scaled' : 'cosine' });
  const space = (metric: VectorMetric) => (metric === 'cosine' ? 'cosine' : 'ip');
  return {
    kind: 'hnswlib',
    async build(source, { signal } = {}) {
      const size = sizeOf(source, 'hnswlibIndex');
      const { HierarchicalNSW } = await hnswlib();
      const native = new HierarchicalNSW(space(source.metric), source.dim);
      native.initIndex({ maxElements: Math.max(size, 1), m: o.m, efConstruction: o.efConstruction, randomSeed: o.seed });
      const pace = new Pace(signal, 'hnswlibIndex.build');
      const scaling = source.metric === 'ip' ? new IpScaling(source) : null;
      const { vectors, dim } = source;
      const point = new Array<number>(source.dim);
      for (let r = 0; r < size; r++) {
        if (scaling) scaling.row(r, point);
        else for (let j = 0; j < dim; j++) point[j] = vectors[r * dim + j];
        native.addPoint(point, r);
        if ((r & 1023) === 0 && pace.due()) await pace.pause();
      }
      native.setEf(o.ef);
      return new HnswlibVectorIndex(native, size, source, scaling, buildState(source.metric));
    },
    async restore(stored, source) {
      const size = sizeOf(source, 'hnswlibIndex');
      if (stored.kind !== 'hnswlib' || !sameShape(stored.state, source, size, buildState(source.metric))) return null;
      const { HierarchicalNSW } = await hnswlib();
      const native = new HierarchicalNSW(space(source.metric), source.dim);
      try {
        withTempDir((dir) => {
          const path = join(dir, 'index.hnsw');
          writeFileSync(path, stored.bytes);
          native.readIndexSync(path);
        });
      } catch {
        return null;
      }
      if (native.getCurrentCount() !== size) return null;
      native.setEf(o.ef);
      return new HnswlibVectorIndex(native, size, source, source.metric === 'ip' ? new IpScaling(source) : null, buildState(source.metric));
    },
  };
}
