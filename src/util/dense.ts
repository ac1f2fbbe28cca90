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
 * - `topKBatch` runs many queries against one index in blocks of queries x rows, so a block of
 *   rows is read from memory once for the whole block of queries while it is in cache, and
 *   each query leaves the block loop as soon as its bound stops it.
 *
 * Shared by every dense model (ALS, NeuralCF, two-tower, dense content vectors).
 */
import { OptionError } from '../errors';
import { TopK } from './topk';

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
 * Relative slack on the Cauchy-Schwarz bound: dot products are rounded (float32 inputs,
 * double sums, float32 kept scores), so a computed score can exceed |q||v| by a few ulps.
 * Stopping only below bound * (1 + SLACK) keeps the result exactly the brute-force one.
 */
const SLACK = 1e-5;
/** Queries per block in topKBatch. */
const QUERY_BLOCK = 32;
/** Rows per block in topKBatch (32 queries x 256 rows x 64 dims stays within L2). */
const ROW_BLOCK = 256;

/**
 * Exact maximum-inner-product top-k over a fixed set of rows (see the module comment).
 * Building it copies the rows in descending norm order: O(rows x dim) memory.
 */
export class InnerProductIndex {
  readonly size: number;
  /** Rows in descending norm order (row-major, dim values each). */
  private readonly sorted: Float32Array;
  /** sorted position -> original row index. */
  private readonly order: Int32Array;
  /** Norm of each sorted row (descending). */
  private readonly norms: Float64Array;
  private readonly heap: TopK;
  /** Scratch of topKBatch: bit b of excluded[p] = query b of the current block excludes sorted row p. */
  private readonly excluded: Uint32Array;
  /** original row index -> sorted position. */
  private readonly position: Int32Array;

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
    this.sorted = new Float32Array(rows.length);
    for (let p = 0; p < n; p++) this.sorted.set(rows.subarray(order[p] * dim, (order[p] + 1) * dim), p * dim);
    this.heap = new TopK(0);
    this.excluded = new Uint32Array(n);
    this.position = new Int32Array(n);
    for (let p = 0; p < n; p++) this.position[order[p]] = p;
  }

  /**
   * The k rows with the highest inner product with `query`, best first (ties: lower row
   * index), skipping rows with blocked[row] === 1. Also returns how many rows were scored.
   */
  topK(query: Float32Array, k: number, blocked: Uint8Array | null = null): { items: Int32Array; scores: Float32Array; scanned: number } {
    if (query.length < this.dim) throw new OptionError('query', `has ${query.length} values, expected ${this.dim}`);
    if (blocked !== null && blocked.length < this.size) throw new OptionError('blocked', `has ${blocked.length} entries for ${this.size} rows`);
    const heap = k === this.heap.k ? this.heap : new TopK(k);
    heap.clear();
    const qNorm = Math.sqrt(dot(query, 0, query, 0, this.dim)) * (1 + SLACK);
    const { sorted, order, norms, dim, size } = this;
    let p = 0;
    for (; p < size; p++) {
      if (heap.size === k && qNorm * norms[p] < heap.scores[0]) break;
      const row = order[p];
      if (blocked !== null && blocked[row] === 1) continue;
      heap.push(row, dot(query, 0, sorted, p * dim, dim));
    }
    return { ...heap.sorted(), scanned: p };
  }

  /**
   * topK for each of the n queries of a row-major n x dim matrix, each excluding its own
   * rows of `exclude` (null: none). Blocked over queries and rows; results equal n topK calls.
   */
  topKBatch(queries: Float32Array, k: number, exclude: Exclusions | null = null): BatchTopK {
    const { dim, size, sorted, order, norms, excluded, position } = this;
    if (queries.length % dim !== 0) throw new OptionError('queries', `has ${queries.length} values, not a multiple of dim ${dim}`);
    const n = queries.length / dim;
    if (exclude !== null && exclude.indptr.length !== n + 1) throw new OptionError('exclude', `has ${exclude.indptr.length - 1} rows for ${n} queries`);
    if (!Number.isInteger(k) || k < 0) throw new OptionError('k', `must be an integer >= 0, got ${k}`);
    const out: BatchTopK = { k, items: new Int32Array(n * k), scores: new Float32Array(n * k), counts: new Int32Array(n) };
    const heaps = Array.from({ length: Math.min(QUERY_BLOCK, n) }, () => new TopK(k));
    const qNorms = new Float64Array(QUERY_BLOCK);
    const done = new Uint8Array(QUERY_BLOCK);
    for (let q0 = 0; q0 < n; q0 += QUERY_BLOCK) {
      const q1 = Math.min(n, q0 + QUERY_BLOCK);
      let active = q1 - q0;
      for (let q = q0; q < q1; q++) {
        heaps[q - q0].clear();
        qNorms[q - q0] = Math.sqrt(dot(queries, q * dim, queries, q * dim, dim)) * (1 + SLACK);
        done[q - q0] = 0;
        if (exclude !== null) for (let e = exclude.indptr[q]; e < exclude.indptr[q + 1]; e++) excluded[position[checkRow(exclude.indices[e], size)]] |= 1 << (q - q0);
      }
      for (let r0 = 0; r0 < size && active > 0; r0 += ROW_BLOCK) {
        const r1 = Math.min(size, r0 + ROW_BLOCK);
        for (let q = q0; q < q1; q++) {
          const b = q - q0;
          if (done[b] === 1) continue;
          const heap = heaps[b];
          const qn = qNorms[b];
          const bit = 1 << b;
          let p = r0;
          for (; p < r1; p++) {
            if (heap.size === k && qn * norms[p] < heap.scores[0]) break;
            if ((excluded[p] & bit) !== 0) continue;
            heap.push(order[p], dot(queries, q * dim, sorted, p * dim, dim));
          }
          if (p < r1 || k === 0) {
            done[b] = 1;
            active--;
          }
        }
      }
      for (let q = q0; q < q1; q++) {
        if (exclude !== null) for (let e = exclude.indptr[q]; e < exclude.indptr[q + 1]; e++) excluded[position[exclude.indices[e]]] = 0;
        const best = heaps[q - q0].sorted();
        out.items.set(best.items, q * k);
        out.scores.set(best.scores, q * k);
        out.counts[q] = best.items.length;
      }
    }
    return out;
  }
}

function checkRow(row: number, size: number): number {
  if (!(Number.isInteger(row) && row >= 0 && row < size)) throw new OptionError('exclude', `row index ${row} out of range [0, ${size})`);
  return row;
}
