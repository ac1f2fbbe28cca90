/**
 * Dense scoring: query vectors (users, folded-in shoppers, items) times a row-major
 * rows x dim factor matrix (items), Float32Array storage, scores accumulated in doubles.
 *
 * - `scoreAll` writes every row's inner product with one query (what a ScoreVector needs).
 * - `InnerProductIndex` answers exact top-k by inner product without scoring every row: its
 *   rows are stored in descending norm order, and a scan stops at the first row whose
 *   Cauchy-Schwarz bound |q| |v| is below the current k-th best score, since no later row can
 *   beat it. The result is exactly the brute-force top-k (same ties: higher score, then lower
 *   row index). Latent-factor item norms are skewed (popular items are long), so the scan
 *   usually stops within the head of the catalog; exclusions (a user's train items) only
 *   lengthen it by the excluded rows it meets.
 * - Rows are scored in blocks of 64 by a float32 WebAssembly SIMD kernel (src/util/wasm)
 *   where available, the bound checked row by row; `topKBatch` runs many queries with
 *   per-query exclusions (a CSR of each user's items), four at a time: each block of rows is
 *   read once for four queries (on a flat-norm catalog the scan reads most of the matrix per
 *   query, and the reads, not the arithmetic, bound it), and the kernel lists the rows each
 *   query keeps above its current floor, so JavaScript touches only those.
 *
 * Shared by every dense model (ALS, NeuralCF, two-tower, dense content vectors).
 */
import { OptionError } from '../errors';
import { TopK } from './topk';
import { paddedWidth, SimdKernels } from './wasm';

/** Per-query exclusions as CSR over the queries: query q excludes indices[indptr[q] .. indptr[q+1]). */
export interface Exclusions {
  indptr: Int32Array;
  indices: Int32Array;
}

/** Top-k of a batch: row q's items are items[q*k .. q*k + counts[q]), best first. */
export interface BatchTopK {
  k: number;
  items: Int32Array;
  scores: Float32Array;
  counts: Int32Array;
}

/** Inner product of a[aOff .. aOff+dim) and b[bOff .. bOff+dim), unrolled by 4, in doubles. */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += a[aOff + d] * b[bOff + d];
    s1 += a[aOff + d + 1] * b[bOff + d + 1];
    s2 += a[aOff + d + 2] * b[bOff + d + 2];
    s3 += a[aOff + d + 3] * b[bOff + d + 3];
  }
  for (; d < dim; d++) s0 += a[aOff + d] * b[bOff + d];
  return s0 + s1 + (s2 + s3);
}

/** out[r] = query . rows[r] for every row of the rows x dim matrix `rows`. */
export function scoreAll(query: Float32Array, rows: Float32Array, dim: number, out: Float32Array): void {
  const n = out.length;
  if (rows.length !== n * dim) throw new OptionError('rows', `has ${rows.length} values, expected ${n} rows x ${dim}`);
  if (query.length < dim) throw new OptionError('query', `has ${query.length} values, expected ${dim}`);
  for (let r = 0; r < n; r++) out[r] = dot(query, 0, rows, r * dim, dim);
}

/** Euclidean norm of each row of a rows x dim matrix. */
export function rowNorms(rows: Float32Array, dim: number): Float64Array {
  const n = dim === 0 ? 0 : rows.length / dim;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = Math.sqrt(dot(rows, r * dim, rows, r * dim, dim));
  return out;
}

/**
 * Relative slack on the Cauchy-Schwarz bound: dot products are rounded (float32 inputs and,
 * in the SIMD kernel, float32 sums), so a computed score can exceed |q||v| by a few ulps.
 * Stopping only below bound * (1 + SLACK) keeps the result exactly the brute-force one.
 */
const SLACK = 1e-4;
/** Rows scored per kernel call before the bound is checked row by row. */
const ROW_BLOCK = 64;

/**
 * Exact maximum-inner-product top-k over a fixed set of rows (see the module comment).
 * Building it copies the rows in descending norm order (into WebAssembly memory when the SIMD
 * kernels are available, scored 4 lanes at a time; else a Float32Array scored in doubles).
 */
export class InnerProductIndex {
  readonly size: number;
  /** sorted position -> original row index. */
  private readonly order: Int32Array;
  /** Norm of each sorted row (descending). */
  private readonly norms: Float64Array;
  private readonly heap: TopK;
  /** Scratch of topKBatch: bit j set where query j of the current four excludes the sorted row. */
  private readonly excluded: Uint8Array;
  /** original row index -> sorted position. */
  private readonly position: Int32Array;
  private readonly scorer: BlockScorer;

  constructor(
    rows: Float32Array,
    readonly dim: number,
  ) {
    if (!Number.isInteger(dim) || dim < 1) throw new OptionError('dim', `must be an integer >= 1, got ${dim}`);
    if (rows.length % dim !== 0) throw new OptionError('rows', `has ${rows.length} values, not a multiple of dim ${dim}`);
    const n = rows.length / dim;
    this.size = n;
    const norms = rowNorms(rows, dim);
    const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => norms[b] - norms[a] || a - b);
    this.order = order;
    this.norms = Float64Array.from(order, (r) => norms[r]);
    this.scorer = blockScorer(rows, order, dim);
    this.heap = new TopK(0);
    this.excluded = new Uint8Array(n);
    this.position = new Int32Array(n);
    for (let p = 0; p < n; p++) this.position[order[p]] = p;
  }

  /** out[row] = query . row for every row (in the original order). */
  scoreAll(query: Float32Array, out: Float32Array): void {
    if (out.length !== this.size) throw new OptionError('out', `has ${out.length} entries for ${this.size} rows`);
    this.checkQuery(query);
    const s = this.scorer;
    s.setQuery(query);
    for (let p0 = 0; p0 < this.size; p0 += ROW_BLOCK) {
      const p1 = Math.min(this.size, p0 + ROW_BLOCK);
      const scores = s.score(p0, p1);
      for (let p = p0; p < p1; p++) out[this.order[p]] = scores[p - p0];
    }
  }

  /**
   * The k rows with the highest inner product with `query`, best first (ties: lower row
   * index), skipping rows with blocked[row] === 1. Also returns how many rows were scored.
   */
  topK(query: Float32Array, k: number, blocked: Uint8Array | null = null): { items: Int32Array; scores: Float32Array; scanned: number } {
    this.checkQuery(query);
    if (blocked !== null && blocked.length < this.size) throw new OptionError('blocked', `has ${blocked.length} entries for ${this.size} rows`);
    if (!Number.isInteger(k) || k < 0) throw new OptionError('k', `must be an integer >= 0, got ${k}`);
    const heap = k === this.heap.k ? this.heap : new TopK(k);
    heap.clear();
    const scanned = this.scan(query, heap, blocked);
    return { ...heap.sorted(), scanned };
  }

  /**
   * topK for each of the n queries of a row-major n x dim matrix, each excluding its own
   * rows of `exclude` (null: none). Results equal n topK calls.
   */
  topKBatch(queries: Float32Array, k: number, exclude: Exclusions | null = null): BatchTopK {
    const { dim, size, excluded, position } = this;
    if (queries.length % dim !== 0) throw new OptionError('queries', `has ${queries.length} values, not a multiple of dim ${dim}`);
    const n = queries.length / dim;
    if (exclude !== null && exclude.indptr.length !== n + 1) throw new OptionError('exclude', `has ${exclude.indptr.length - 1} rows for ${n} queries`);
    if (!Number.isInteger(k) || k < 0) throw new OptionError('k', `must be an integer >= 0, got ${k}`);
    const out: BatchTopK = { k, items: new Int32Array(n * k), scores: new Float32Array(n * k), counts: new Int32Array(n) };
    const heaps = [new TopK(k), new TopK(k), new TopK(k), new TopK(k)];
    for (let q0 = 0; q0 < n; q0 += 4) {
      const group = Math.min(4, n - q0);
      for (let j = 0; j < group; j++) {
        heaps[j].clear();
        if (exclude !== null) for (let e = exclude.indptr[q0 + j]; e < exclude.indptr[q0 + j + 1]; e++) excluded[position[checkRow(exclude.indices[e], size)]] |= 1 << j;
      }
      this.scan4(queries.subarray(q0 * dim, (q0 + group) * dim), group, heaps);
      for (let j = 0; j < group; j++) {
        if (exclude !== null) for (let e = exclude.indptr[q0 + j]; e < exclude.indptr[q0 + j + 1]; e++) excluded[position[exclude.indices[e]]] = 0;
        const best = heaps[j].sorted();
        out.items.set(best.items, (q0 + j) * k);
        out.scores.set(best.scores, (q0 + j) * k);
        out.counts[q0 + j] = best.items.length;
      }
    }
    return out;
  }

  /**
   * Pushes rows into `heap` in descending norm order until the bound stops the scan; skips
   * rows blocked by original index. Returns the number of rows passed.
   */
  private scan(query: Float32Array, heap: TopK, blocked: Uint8Array | null): number {
    const { order, norms, size } = this;
    const k = heap.k;
    if (k === 0) return 0;
    let qNorm = 0;
    for (let d = 0; d < this.dim; d++) qNorm += query[d] * query[d];
    qNorm = Math.sqrt(qNorm) * (1 + SLACK);
    const s = this.scorer;
    s.setQuery(query);
    // The k-th best score so far (-Infinity until k rows are kept): a row scoring below it
    // cannot enter, so most rows are dismissed by one comparison.
    let floor = heap.floor;
    for (let p0 = 0; p0 < size; p0 += ROW_BLOCK) {
      if (qNorm * norms[p0] < floor) return p0;
      const p1 = Math.min(size, p0 + ROW_BLOCK);
      const scores = s.score(p0, p1);
      for (let p = p0; p < p1; p++) {
        if (qNorm * norms[p] < floor) return p;
        const score = scores[p - p0];
        if (score < floor) continue;
        const row = order[p];
        if (blocked !== null && blocked[row] === 1) continue;
        heap.push(row, score);
        floor = heap.floor;
      }
    }
    return size;
  }

  /**
   * scan() for `group` (1-4) queries at once (a group x dim matrix), query j into heaps[j],
   * skipping sorted rows whose excluded bit j is set. Each query sees exactly the tests of
   * scan(): the kernel only drops rows below the query's floor at the block's start, which
   * scan() would skip too (the floor only rises), and a query whose bound falls below its
   * floor takes no later row, here as there. Its results are scan()'s, query by query.
   */
  private scan4(queries: Float32Array, group: number, heaps: TopK[]): void {
    const { order, norms, size, dim, excluded } = this;
    if (heaps[0].k === 0) return;
    const s = this.scorer;
    s.setQueries(queries, group);
    const { floors, scores, hits, counts } = s;
    const qNorm = [0, 0, 0, 0];
    const floor = [-Infinity, -Infinity, -Infinity, -Infinity];
    let live = 0;
    for (let j = 0; j < group; j++) {
      let sq = 0;
      for (let d = 0; d < dim; d++) sq += queries[j * dim + d] * queries[j * dim + d];
      qNorm[j] = Math.sqrt(sq) * (1 + SLACK);
      floor[j] = heaps[j].floor;
      live |= 1 << j;
    }
    for (let p0 = 0; p0 < size && live !== 0; p0 += ROW_BLOCK) {
      for (let j = 0; j < 4; j++) {
        if ((live & (1 << j)) !== 0 && qNorm[j] * norms[p0] < floor[j]) live &= ~(1 << j);
        // A finished query keeps no row (+Infinity: only a +Infinity score would pass, and it is ignored).
        floors[j] = (live & (1 << j)) !== 0 ? floor[j] : Infinity;
      }
      if (live === 0) return;
      const p1 = Math.min(size, p0 + ROW_BLOCK);
      s.scoreAbove4(p0, p1);
      for (let j = 0; j < group; j++) {
        if ((live & (1 << j)) === 0) continue;
        const heap = heaps[j];
        const bit = 1 << j;
        const q = qNorm[j];
        let f = floor[j];
        for (let c = 0, end = counts[j]; c < end; c++) {
          const p = p0 + hits[j * ROW_BLOCK + c];
          if (q * norms[p] < f) {
            live &= ~bit;
            break;
          }
          const score = scores[(p - p0) * 4 + j];
          if (score < f) continue;
          if ((excluded[p] & bit) !== 0) continue;
          heap.push(order[p], score);
          f = heap.floor;
        }
        floor[j] = f;
      }
    }
  }

  private checkQuery(query: Float32Array): void {
    if (query.length < this.dim) throw new OptionError('query', `has ${query.length} values, expected ${this.dim}`);
  }
}

/** Scores one query, or four, against blocks of the norm-sorted rows. */
interface BlockScorer {
  setQuery(query: Float32Array): void;
  /** Scores of sorted rows [p0, p1) (a view valid until the next call). */
  score(p0: number, p1: number): Float32Array;
  /** The first `group` rows of a group x dim matrix as the four queries of scoreAbove4 (the rest zero). */
  setQueries(queries: Float32Array, group: number): void;
  /**
   * For sorted rows [p0, p1): scores[4 (p - p0) + j] = row p . query j, and for each query j
   * the rows (p - p0) whose score is not below floors[j], ascending, in
   * hits[j * ROW_BLOCK ..], counts[j] of them. Scores equal score()'s bit for bit.
   */
  scoreAbove4(p0: number, p1: number): void;
  readonly floors: Float32Array;
  readonly scores: Float32Array;
  readonly hits: Int32Array;
  readonly counts: Int32Array;
}

/** The SIMD block scorer when WebAssembly SIMD is available, else a typed-array one. */
function blockScorer(rows: Float32Array, order: Int32Array, dim: number): BlockScorer {
  const n = order.length;
  const kernels = SimdKernels.create();
  if (kernels) {
    const width = paddedWidth(dim);
    const sorted = kernels.f32(n * width);
    const query = kernels.f32(width);
    const out = kernels.f32(ROW_BLOCK);
    const queries4 = kernels.f32(4 * width);
    const floors = kernels.f32(4);
    const scores = kernels.f32(4 * ROW_BLOCK);
    const hits = kernels.i32(4 * ROW_BLOCK);
    const counts = kernels.i32(4);
    kernels.commit();
    for (let p = 0; p < n; p++) sorted.view.set(rows.subarray(order[p] * dim, (order[p] + 1) * dim), p * width);
    return {
      setQuery: (q) => query.view.set(q.subarray(0, dim)),
      score: (p0, p1) => {
        kernels.scoreRows(query.ptr, sorted.ptr + p0 * width * 4, p1 - p0, width, out.ptr);
        return out.view;
      },
      setQueries: (qs, group) => {
        queries4.view.fill(0);
        for (let j = 0; j < group; j++) queries4.view.set(qs.subarray(j * dim, (j + 1) * dim), j * width);
      },
      scoreAbove4: (p0, p1) =>
        kernels.scoreAbove4q(queries4.ptr, sorted.ptr + p0 * width * 4, p1 - p0, width, floors.ptr, scores.ptr, hits.ptr, ROW_BLOCK, counts.ptr),
      floors: floors.view,
      scores: scores.view,
      hits: hits.view,
      counts: counts.view,
    };
  }
  const sorted = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) sorted.set(rows.subarray(order[p] * dim, (order[p] + 1) * dim), p * dim);
  const out = new Float32Array(ROW_BLOCK);
  let q: Float32Array = new Float32Array(dim);
  const queries4 = new Float32Array(4 * dim);
  const floors = new Float32Array(4);
  const scores = new Float32Array(4 * ROW_BLOCK);
  const hits = new Int32Array(4 * ROW_BLOCK);
  const counts = new Int32Array(4);
  return {
    setQuery: (query) => {
      q = query;
    },
    score: (p0, p1) => {
      for (let p = p0; p < p1; p++) out[p - p0] = dot(q, 0, sorted, p * dim, dim);
      return out;
    },
    setQueries: (qs, group) => {
      queries4.fill(0);
      queries4.set(qs.subarray(0, group * dim));
    },
    scoreAbove4: (p0, p1) => {
      counts.fill(0);
      for (let p = p0; p < p1; p++) {
        for (let j = 0; j < 4; j++) {
          scores[(p - p0) * 4 + j] = dot(queries4, j * dim, sorted, p * dim, dim);
          // the stored (float32) score, as the caller reads it
          if (!(scores[(p - p0) * 4 + j] < floors[j])) hits[j * ROW_BLOCK + counts[j]++] = p - p0;
        }
      }
    },
    floors,
    scores,
    hits,
    counts,
  };
}

function checkRow(row: number, size: number): number {
  if (!(Number.isInteger(row) && row >= 0 && row < size)) throw new OptionError('exclude', `row index ${row} out of range [0, ${size})`);
  return row;
}
