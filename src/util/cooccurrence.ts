import { CsrMatrix } from '../data/csr';
import { DataError, OptionError, throwIfAborted } from '../errors';
import type { Progress } from '../strategies/types';
import { defineKernel, evenRanges, rangesByCost, resolveThreads, runKernel, sharedFloat32, sharedInt32, sharedUint16 } from './parallel';
import { before, TopK } from './topk';

/**
 * What a co-occurring pair's accumulated value v becomes before top-N selection. v is the sum
 * over shared rows of w(row, i) * w(row, j), or the number of shared rows with `binary`; n(i)
 * is `support[i]` (the rows holding item i) and N is `rows`. Declared as data, not as a
 * function, so every thread computes it (a closure cannot cross to a worker).
 * - 'sum': v
 * - 'cosine': v / (norms[i] * norms[j] + shrink) (shrunk cosine of weighted columns)
 * - 'lift': v N / (n(i) n(j)), i.e. exp(PMI)
 * - 'log-lift': log(v N / (n(i) n(j))), i.e. PMI (pairs at or below chance are dropped: PPMI)
 * - 'jaccard': v / (n(i) + n(j) - v)
 * - 'ochiai': v / sqrt(n(i) n(j)) (cosine of binary columns)
 * - 'product': v f(i) f(j) with f = `factors`, any per-item scale (RP3beta's popularity
 *   penalty has f = n^-beta: see ItemKNN)
 */
export type PairMeasure =
  | { kind: 'sum' }
  | { kind: 'cosine'; norms: Float64Array; shrink: number }
  | { kind: 'lift'; support: Int32Array; rows: number }
  | { kind: 'log-lift'; support: Int32Array; rows: number }
  | { kind: 'jaccard'; support: Int32Array }
  | { kind: 'ochiai'; support: Int32Array }
  | { kind: 'product'; factors: Float64Array };

export interface CooccurrenceOptions {
  /**
   * Count the rows in which both items occur, ignoring the weights (default false: sum of
   * w(row, i) * w(row, j) over rows).
   */
  binary?: boolean;
  /**
   * Keep a pair only when the two items share at least this many rows (default 1). Above 1 in
   * weighted mode the shared rows are counted beside the weights, at the cost of one more
   * scattered write per multiply-add.
   */
  minCount?: number;
  /** What a pair's accumulated value becomes (default { kind: 'sum' }: the value itself). */
  measure?: PairMeasure;
  /** Keep only the N highest values per item, ties to the lower index (default Infinity: keep all). */
  topN?: number;
  /** Threads (default: all the executor has, see util/parallel; 1 runs on the calling thread). The result is the same for any count. */
  threads?: number;
  signal?: AbortSignal;
  /** Called as items are done (`done` of `total` items). */
  onProgress?: (progress: Progress) => void;
  /** Stage name in progress reports (default 'cooccurrence'). */
  stage?: string;
}

/**
 * Inner-loop multiply-adds per range: a few milliseconds, so abort and progress stay prompt and
 * ranges balance across threads, while the per-range overhead (scratch, one message each way)
 * stays under a percent.
 */
const RANGE_WORK = 1 << 22;

/**
 * The last RANGE_TAPER ranges' worth of work is cut finer (rangesByCost's taper), down to an
 * eighth of a range: at 100k x 20k a range is about 45 ms on one thread, and the thread that
 * finished first waited up to that long for the other's last one.
 */
const RANGE_TAPER = 8;

/**
 * Item x item co-occurrence of a rows x items matrix (rows are users or baskets, values are
 * weights, which must be positive and finite unless `binary`; each row's indices sorted and
 * unique, as CsrMatrix promises): entry (i, j) is the sum over rows of w(row, i) * w(row, j) —
 * or the number of shared rows with `binary` — passed through `measure`. Only positive finite
 * values are kept; the diagonal is never stored. Rows of the result have sorted indices and at
 * most `topN` entries.
 *
 * Every measure is symmetric, and (i, j) and (j, i) sum the same products in the same (row)
 * order, so each pair is computed once, from its lower item: item by item, the part after
 * item i of each row holding i is expanded into a dense accumulator, which is then scanned
 * once in index order. With top N, each pair is offered to both items' bounded heaps (one
 * shared buffer of nItems heaps, each under its own lock, since either item's heap may be
 * filled by another thread); a heap keeps the best N of what it was offered whatever the
 * order, so the result does not depend on the threads. Without, each item's pairs after it
 * come back per range and the lower half is their mirror. No items x items matrix ever exists:
 * time O(sum over rows of len(row)^2 / 2 + nItems^2 / 2), memory O(nItems) scratch per thread
 * plus the output (nItems x topN heaps). Items are cut into ranges of about equal work (from
 * the data, never from the thread count) that run on the executor's threads; each pair's value
 * is computed by one thread with the same arithmetic, so the result is bit-identical for any
 * thread count.
 */
export async function cooccurrence(matrix: CsrMatrix, options: CooccurrenceOptions = {}): Promise<CsrMatrix> {
  const binary = options.binary ?? false;
  const minCount = options.minCount ?? 1;
  const topN = options.topN ?? Infinity;
  const measure = options.measure ?? { kind: 'sum' };
  const stage = options.stage ?? 'cooccurrence';
  if (!Number.isInteger(minCount) || minCount < 1) throw new OptionError('minCount', `must be an integer >= 1, got ${minCount}`);
  if (topN !== Infinity && (!Number.isInteger(topN) || topN < 1)) {
    throw new OptionError('topN', `must be an integer >= 1 or Infinity, got ${topN}`);
  }
  checkMeasure(measure, matrix.nCols);
  throwIfAborted(options.signal, stage);

  const nItems = matrix.nCols;
  const run = { threads: options.threads, signal: options.signal, stage };
  // Item indices are read once per multiply-add: as 16-bit, where they fit, that is a quarter less memory traffic.
  // Converted straight into shared memory, so the pool does not copy them again for its workers.
  const indices = nItems <= 1 << 16 ? sixteenBit(matrix.indices) : matrix.indices;
  const { colPtr, colPos, colEnd, pairs } = await upperColumns(matrix, indices, !binary, run);
  // A row has at most nItems - 1 partners: a topN that keeps them all (a caller's 2^53) needs no heaps.
  const k = topN >= nItems - 1 ? 0 : topN;
  const input: PairInput = {
    indices,
    // Copied by the pool for its workers unless the caller's are shared already (ItemKNN's are).
    values: matrix.values,
    colPtr,
    colPos,
    colEnd,
    binary,
    minCount,
    measure,
    heaps: k === 0 ? null : newHeaps(nItems, k),
  };
  // With heaps, ranges and the items in them run from the last item down (unit u is item
  // nItems - 1 - u; see PairKernel.run): heap j then holds its own row's best k before the
  // items below j offer to it, so its floor turns most of those offers away without a lock.
  const descending = input.heaps !== null;
  const bounds = rangesByCost(nItems, RANGE_WORK, (u) => {
    const i = descending ? nItems - 1 - u : u;
    return 1 + ((nItems - i) >> 2) + pairs[i];
  }, RANGE_TAPER);
  const parts = await runKernel(cooccurrenceKernel, input, bounds, { ...run, onProgress: options.onProgress });
  return input.heaps !== null ? heapRows(nItems, input.heaps, run) : mirrorRows(nItems, parts as PairRows[]);
}

/**
 * Per item i, where it sits in each row holding it: colPos[colPtr[i] .. colPtr[i + 1]) are the
 * positions p (in the matrix's indices/values) with indices[p] = i, by ascending row, and
 * colEnd alongside is where that row ends. The pairs of i with items after it are then the
 * entries after p, since CsrMatrix rows are sorted and unique (CsrMatrix.get relies on it too);
 * pairs[i] counts them (plus one per row: the cost of i's range share). With `checkValues`, the
 * weights are checked in the counting pass (positive and finite). This setup sits in front of
 * the pair kernel, so both its passes run on the executor too: the counting by one range of
 * entries per thread (columnCountsKernel; the calling thread adds up their counts), the
 * scatter by one range of columns per thread (any cut gives the same arrays, see columnsKernel).
 */
async function upperColumns(
  m: CsrMatrix,
  indices: Int32Array | Uint16Array,
  checkValues: boolean,
  run: { threads?: number; signal?: AbortSignal; stage: string },
): Promise<{ colPtr: Int32Array; colPos: Int32Array; colEnd: Int32Array; pairs: Float64Array }> {
  const { nCols, indptr, values } = m;
  const nnz = indices.length;
  const threads = resolveThreads(run.threads);
  // The weights cross to the workers only to be checked (ItemKNN's are shared already).
  const counted = await runKernel(columnCountsKernel, { indices, values: checkValues ? values : new Float32Array(0), nCols, checkValues }, evenRanges(nnz, threads), run);
  const colPtr = new Int32Array(nCols + 1);
  for (const counts of counted) {
    // Ranges in entry order: the first that found a bad weight found the first one.
    if (counts[nCols] >= 0) throw badWeight(m, counts[nCols]);
    for (let c = 0; c < nCols; c++) colPtr[c + 1] += counts[c];
  }
  for (let c = 0; c < nCols; c++) colPtr[c + 1] += colPtr[c];
  // Shared from the start: the pool would otherwise copy them into shared memory for its workers.
  const input: ColumnInput = { indptr, indices, colPtr, colPos: sharedInt32(nnz), colEnd: sharedInt32(nnz) };
  // At least 1: a budget of 0 (no entries) would cut a range per column.
  const bounds = rangesByCost(nCols, Math.max(1, Math.ceil(nnz / threads)), (c) => colPtr[c + 1] - colPtr[c]);
  const parts = await runKernel(columnsKernel, input, bounds, run);
  const pairs = new Float64Array(nCols);
  for (let r = 0; r < parts.length; r++) pairs.set(parts[r], bounds[r]);
  return { colPtr, colPos: input.colPos, colEnd: input.colEnd, pairs };
}

function badWeight(m: CsrMatrix, p: number): DataError {
  let row = 0;
  while (m.indptr[row + 1] <= p) row++;
  return new DataError(`cooccurrence weights must be positive and finite, got ${m.values[p]} at row ${row}, column ${m.indices[p]}`, { field: 'values' });
}

/** The counting pass's input: the entries' columns and, when checked, their weights. */
interface CountInput {
  indices: Int32Array | Uint16Array;
  values: Float32Array;
  nCols: number;
  checkValues: boolean;
}

/**
 * Entries [start, end): how many fall in each column (slots 0 .. nCols - 1) and, in slot nCols,
 * the first whose weight is not positive and finite (-1: none; checked with checkValues). The
 * counts are integers, so any cut of the entries sums to the same columns: one range per thread.
 */
export const columnCountsKernel = defineKernel('cooccurrence-column-counts', (input: CountInput, start: number, end: number): Int32Array => {
  const { indices, values, nCols, checkValues } = input;
  const counts = new Int32Array(nCols + 1);
  counts[nCols] = -1;
  for (let p = start; p < end; p++) {
    counts[indices[p]]++;
    if (checkValues && !(values[p] > 0 && values[p] !== Infinity)) {
      counts[nCols] = p;
      break;
    }
  }
  return counts;
});

/** The scatter's input: the matrix's rows, the column starts, and colPos / colEnd to fill. */
interface ColumnInput {
  indptr: Int32Array;
  indices: Int32Array | Uint16Array;
  colPtr: Int32Array;
  colPos: Int32Array;
  colEnd: Int32Array;
}

/**
 * The slots of columns [start, end) in colPos / colEnd, and their pair counts: a range reads
 * every entry but writes only its own columns' slots, in row order, so the arrays are the same
 * however the columns are cut.
 */
export const columnsKernel = defineKernel('cooccurrence-columns', (input: ColumnInput, start: number, end: number): Float64Array => {
  const { indptr, indices, colPtr, colPos, colEnd } = input;
  const width = end - start;
  const next = colPtr.slice(start, end);
  const pairs = new Float64Array(width);
  const nRows = indptr.length - 1;
  for (let r = 0; r < nRows; r++) {
    const rEnd = indptr[r + 1];
    for (let p = indptr[r]; p < rEnd; p++) {
      const c = indices[p] - start;
      // One unsigned compare for c < 0 or c >= width.
      if (c >>> 0 >= width) continue;
      const at = next[c]++;
      colPos[at] = p;
      colEnd[at] = rEnd;
      pairs[c] += rEnd - p;
    }
  }
  return pairs;
});

/** `indices` (each below 2^16) as 16-bit, in shared memory where the platform has it. */
function sixteenBit(indices: Int32Array): Uint16Array {
  const out = sharedUint16(indices.length);
  out.set(indices);
  return out;
}

/**
 * nItems bounded heaps of k (score, item) in one buffer (shared between threads where the
 * platform can): heap x is [x k, x k + size[x]), its root the worst kept; floor[x] is the root's
 * score once full (-Infinity before), read without the lock to skip most offers; lock[x] is 1
 * while a thread changes heap x.
 */
interface Heaps {
  k: number;
  items: Int32Array;
  scores: Float32Array;
  size: Int32Array;
  floor: Float32Array;
  lock: Int32Array;
}

function newHeaps(nItems: number, k: number): Heaps {
  const floor = sharedFloat32(nItems);
  floor.fill(-Infinity);
  return { k, items: sharedInt32(nItems * k), scores: sharedFloat32(nItems * k), size: sharedInt32(nItems), floor, lock: sharedInt32(nItems) };
}

/** The kernel's input: the matrix, where each item sits in its rows, the options and the heaps (top N) or null. */
interface PairInput {
  indices: Int32Array | Uint16Array;
  values: Float32Array;
  colPtr: Int32Array;
  colPos: Int32Array;
  colEnd: Int32Array;
  binary: boolean;
  minCount: number;
  measure: PairMeasure;
  heaps: Heaps | null;
}

/** Without top N: items [start, end)'s pairs after them, entries per item, then their indices and values. */
interface PairRows {
  lengths: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export const cooccurrenceKernel = defineKernel('cooccurrence', (input: PairInput, start: number, end: number): PairRows | null => {
  return new PairKernel(input, start, end).run();
});

/**
 * The heaps as CSR rows, each sorted by index: the row starts here, the rows themselves by
 * ranges on the executor (sorting them took about 30 ms of the calling thread's time after the
 * parallel part at 100k x 20k with top 50). One range per thread, since any cut writes the same
 * arrays.
 */
async function heapRows(nItems: number, heaps: Heaps, run: { threads?: number; signal?: AbortSignal; stage: string }): Promise<CsrMatrix> {
  const { size } = heaps;
  // Shared, as the rows are, so the pool hands them to its workers without a copy.
  const indptr = sharedInt32(nItems + 1);
  for (let x = 0; x < nItems; x++) indptr[x + 1] = indptr[x] + size[x];
  const nnz = indptr[nItems];
  const input: HeapRowsInput = { heaps, indptr, indices: sharedInt32(nnz), values: sharedFloat32(nnz) };
  const bounds = rangesByCost(nItems, Math.ceil((nItems + nnz) / resolveThreads(run.threads)), (x) => 1 + size[x]);
  await runKernel(heapRowsKernel, input, bounds, run);
  return new CsrMatrix(nItems, nItems, indptr, input.indices, input.values);
}

/** The filled heaps, the result's row starts, and its indices and values to fill. */
interface HeapRowsInput {
  heaps: Heaps;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Rows [start, end) of the result, each its heap's entries sorted by index: a range writes only its own rows. */
export const heapRowsKernel = defineKernel('cooccurrence-heap-rows', (input: HeapRowsInput, start: number, end: number): null => {
  const { heaps, indptr, indices, values } = input;
  const { k, items, scores } = heaps;
  // Each item's score, parked by item while its row is sorted.
  const park = new Float32Array(indptr.length - 1);
  for (let x = start; x < end; x++) {
    const base = x * k;
    const o = indptr[x];
    const n = indptr[x + 1] - o;
    for (let t = 0; t < n; t++) {
      indices[o + t] = items[base + t];
      park[items[base + t]] = scores[base + t];
    }
    const row = indices.subarray(o, o + n).sort();
    for (let t = 0; t < n; t++) values[o + t] = park[row[t]];
  }
  return null;
});

/** The pairs after each item (upper triangle U, ranges in order) stacked into U, then U ∪ Uᵀ. */
function mirrorRows(nItems: number, parts: PairRows[]): CsrMatrix {
  let nnz = 0;
  for (const part of parts) nnz += part.indices.length;
  const upper = new CsrMatrix(nItems, nItems, new Int32Array(nItems + 1), new Int32Array(nnz), new Float32Array(nnz));
  let x = 0;
  nnz = 0;
  for (const part of parts) {
    for (const n of part.lengths) upper.indptr[++x] = upper.indptr[x - 1] + n;
    upper.indices.set(part.indices, nnz);
    upper.values.set(part.values, nnz);
    nnz += part.indices.length;
  }
  return symmetricUnion(upper);
}

/**
 * A ∪ Aᵀ for a matrix whose values are symmetric where both (i, j) and (j, i) are present
 * (the pair weights are symmetric formulas, so either copy holds the same value).
 */
export function symmetricUnion(a: CsrMatrix): CsrMatrix {
  const t = a.transpose();
  const n = a.nRows;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(2 * a.nnz);
  const values = new Float32Array(2 * a.nnz);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    let p = a.indptr[i];
    const pEnd = a.indptr[i + 1];
    let q = t.indptr[i];
    const qEnd = t.indptr[i + 1];
    while (p < pEnd || q < qEnd) {
      const ja = p < pEnd ? a.indices[p] : n;
      const jt = q < qEnd ? t.indices[q] : n;
      if (ja <= jt) {
        indices[nnz] = ja;
        values[nnz++] = a.values[p++];
        if (ja === jt) q++;
      } else {
        indices[nnz] = jt;
        values[nnz++] = t.values[q++];
      }
    }
    indptr[i + 1] = nnz;
  }
  return new CsrMatrix(n, n, indptr, indices.slice(0, nnz), values.slice(0, nnz));
}

/** Measure kinds as small integers, for one switch per pair. */
const SUM = 0;
const COSINE = 1;
const LIFT = 2;
const LOG_LIFT = 3;
const JACCARD = 4;
const OCHIAI = 5;
const PRODUCT = 6;
const MEASURE_CODES = { sum: SUM, cosine: COSINE, lift: LIFT, 'log-lift': LOG_LIFT, jaccard: JACCARD, ochiai: OCHIAI, product: PRODUCT } as const;

/**
 * One range of items: scratch, output buffers and the hot loops, kept in small methods of
 * their own so the JIT optimises them apart.
 */
class PairKernel {
  private readonly acc: Float64Array;
  private readonly count: Int32Array | null;
  private readonly lengths: Int32Array | null;
  private outIdx: Int32Array;
  private outVal: Float32Array;
  private nnz = 0;
  /** Least and greatest item the last accumulate() may have touched. */
  private lo = 0;
  private hi = -1;
  private readonly code: number;
  private readonly scale: Float64Array | Int32Array;
  private readonly shrink: number;
  private readonly rows: number;
  /**
   * Item i's own candidates (pairs i, j > i) during scan(i): heap i takes only their best k, in
   * one locked merge, instead of one lock per offer (a lock and unlock pair measured 250-375 ns on
   * the 2-core Xeon VM of stop 19, and heap i took about 1 M of the 5.75 M offers at 100k x 20k).
   */
  private readonly own: TopK;
  /**
   * The heaps' floors as this range found them, refreshed from heap j at each offer to it: read
   * once per pair, a private copy is not invalidated by the other threads' writes to the shared
   * floors (a floor only rises, so a stale one only lets an offer through that the heap refuses).
   */
  private readonly floors: Float32Array;

  constructor(
    private readonly input: PairInput,
    private readonly start: number,
    private readonly end: number,
  ) {
    const nItems = input.colPtr.length - 1;
    const { binary, minCount, measure } = input;
    this.acc = new Float64Array(nItems);
    // Shared-row counts cost an extra scattered write per multiply-add: only kept when read.
    this.count = !binary && minCount > 1 ? new Int32Array(nItems) : null;
    const keepAll = input.heaps === null;
    this.lengths = keepAll ? new Int32Array(end - start) : null;
    this.outIdx = new Int32Array(keepAll ? 1024 : 0);
    this.outVal = new Float32Array(this.outIdx.length);
    this.code = MEASURE_CODES[measure.kind];
    this.scale = measure.kind === 'cosine' ? measure.norms : measure.kind === 'product' ? measure.factors : measure.kind === 'sum' ? new Int32Array(0) : measure.support;
    this.shrink = measure.kind === 'cosine' ? measure.shrink : 0;
    this.rows = measure.kind === 'lift' || measure.kind === 'log-lift' ? measure.rows : 0;
    this.own = new TopK(input.heaps === null ? 0 : input.heaps.k);
    this.floors = input.heaps === null ? new Float32Array(0) : input.heaps.floor.slice();
  }

  run(): PairRows | null {
    if (this.lengths === null) {
      // Heaps: [start, end) counts items from the last one down (see cooccurrence()).
      const last = this.input.colPtr.length - 2;
      for (let i = last - this.start; i > last - this.end; i--) {
        this.accumulate(i);
        this.scan(i);
      }
      return null;
    }
    for (let i = this.start; i < this.end; i++) {
      this.accumulate(i);
      this.scan(i);
    }
    return { lengths: this.lengths, indices: this.outIdx.slice(0, this.nnz), values: this.outVal.slice(0, this.nnz) };
  }

  /** Sums the part after item i of every row containing i into acc; lo and hi bound the items hit. */
  private accumulate(i: number): void {
    const { indices, values, colPtr, colPos, colEnd, binary } = this.input;
    const { acc, count } = this;
    let lo = acc.length;
    let hi = -1;
    const c1 = colPtr[i + 1];
    for (let p = colPtr[i]; p < c1; p++) {
      const at = colPos[p];
      const r0 = at + 1;
      const r1 = colEnd[p];
      if (r0 >= r1) continue;
      if (indices[r0] < lo) lo = indices[r0];
      if (indices[r1 - 1] > hi) hi = indices[r1 - 1];
      if (binary) {
        for (let q = r0; q < r1; q++) acc[indices[q]] += 1;
      } else if (count !== null) {
        const wi = values[at];
        for (let q = r0; q < r1; q++) {
          const j = indices[q];
          acc[j] += wi * values[q];
          count[j]++;
        }
      } else {
        const wi = values[at];
        for (let q = r0; q < r1; q++) acc[indices[q]] += wi * values[q];
      }
    }
    this.lo = lo;
    this.hi = hi;
  }

  /**
   * Measures item i's pairs (i, j > i) in index order and resets acc: with top N each survivor
   * is offered to both heaps, scored by its value as stored (float32), so the order pairs come
   * in never matters (heap i's offers go through `own` first); without, it is appended to the
   * range's output.
   */
  private scan(i: number): void {
    const { acc, count, lo, hi, own, floors } = this;
    const { binary, minCount, heaps } = this.input;
    const start = this.nnz;
    // Heap i's floor only rises while we scan, so the value read now rejects safely.
    const floorI = heaps !== null ? heaps.floor[i] : 0;
    own.clear();
    for (let j = lo; j <= hi; j++) {
      const weight = acc[j];
      // A pair is touched when its accumulator is not 0, which positive weights guarantee.
      if (weight === 0) continue;
      acc[j] = 0;
      // Without a count array, minCount is 1 and every touched pair shares a row.
      const shared = binary ? weight : count !== null ? count[j] : 1;
      if (count !== null) count[j] = 0;
      if (shared < minCount) continue;
      const v = this.value(i, j, weight);
      if (!(v > 0) || v === Infinity) continue;
      if (heaps !== null) {
        const s = Math.fround(v);
        if (s >= floorI && s >= own.floor) own.push(j, s);
        if (s >= floors[j]) {
          offer(heaps, j, i, s);
          floors[j] = heaps.floor[j];
        }
      } else this.append(j, v);
    }
    if (heaps !== null && own.size > 0) {
      lock(heaps, i);
      for (let t = 0; t < own.size; t++) place(heaps, i, own.items[t], own.scores[t]);
      Atomics.store(heaps.lock, i, 0);
    }
    if (this.lengths !== null) this.lengths[i - this.start] = this.nnz - start;
  }

  /** The measure of pair (i, j) with accumulated value v (the formulas of PairMeasure). */
  private value(i: number, j: number, v: number): number {
    const s = this.scale;
    switch (this.code) {
      case SUM:
        return v;
      case COSINE:
        return v / (s[i] * s[j] + this.shrink);
      case LIFT:
        return (v * this.rows) / (s[i] * s[j]);
      case LOG_LIFT:
        return Math.log((v * this.rows) / (s[i] * s[j]));
      case JACCARD:
        return v / (s[i] + s[j] - v);
      case PRODUCT:
        return v * s[i] * s[j];
      default:
        return v / Math.sqrt(s[i] * s[j]);
    }
  }

  private append(j: number, v: number): void {
    if (this.nnz === this.outIdx.length) {
      const size = this.outIdx.length * 2;
      const idx = new Int32Array(size);
      idx.set(this.outIdx);
      const val = new Float32Array(size);
      val.set(this.outVal);
      this.outIdx = idx;
      this.outVal = val;
    }
    this.outIdx[this.nnz] = j;
    this.outVal[this.nnz++] = v;
  }
}

/** Offers (item, score) to heap x under its lock. */
function offer(h: Heaps, x: number, item: number, score: number): void {
  lock(h, x);
  place(h, x, item, score);
  Atomics.store(h.lock, x, 0);
}

function lock(h: Heaps, x: number): void {
  while (Atomics.compareExchange(h.lock, x, 0, 1) !== 0);
}

/** Puts (item, score) in heap x, whose lock the caller holds, when it has room or it ranks before the root. */
function place(h: Heaps, x: number, item: number, score: number): void {
  const { k, items, scores, size } = h;
  const base = x * k;
  const n = size[x];
  if (n < k) {
    // Sift up from the end: the root is the worst kept.
    let i = n;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(scores[base + p], items[base + p], score, item)) break;
      items[base + i] = items[base + p];
      scores[base + i] = scores[base + p];
      i = p;
    }
    items[base + i] = item;
    scores[base + i] = score;
    size[x] = n + 1;
    if (n + 1 === k) h.floor[x] = scores[base];
  } else if (before(score, item, scores[base], items[base])) {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= k) break;
      let worst = l;
      if (l + 1 < k && before(scores[base + l], items[base + l], scores[base + l + 1], items[base + l + 1])) worst = l + 1;
      if (!before(score, item, scores[base + worst], items[base + worst])) break;
      items[base + i] = items[base + worst];
      scores[base + i] = scores[base + worst];
      i = worst;
    }
    items[base + i] = item;
    scores[base + i] = score;
    h.floor[x] = scores[base];
  }
}

function checkMeasure(measure: PairMeasure, nItems: number): void {
  if (measure === null || typeof measure !== 'object' || !(measure.kind in MEASURE_CODES)) {
    throw new OptionError('measure', `must be one of ${Object.keys(MEASURE_CODES).join(', ')}, got ${JSON.stringify(measure)}`);
  }
  if (measure.kind === 'sum') return;
  const [field, perItem] = measure.kind === 'cosine' ? ['norms', measure.norms] : measure.kind === 'product' ? ['factors', measure.factors] : ['support', measure.support];
  if (!ArrayBuffer.isView(perItem) || perItem.length !== nItems) {
    throw new OptionError(`measure.${field}`, `must be a typed array of one value per item (${nItems})`);
  }
  if (measure.kind === 'cosine' && !(Number.isFinite(measure.shrink) && measure.shrink >= 0)) {
    throw new OptionError('measure.shrink', `must be a finite number >= 0, got ${measure.shrink}`);
  }
}
