import { CsrMatrix } from '../data/csr';
import { DataError, OptionError, throwIfAborted } from '../errors';
import type { Progress } from '../strategies/types';
import { defineKernel, rangesByCost, runKernel } from './parallel';
import { TopK } from './topk';

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
 */
export type PairMeasure =
  | { kind: 'sum' }
  | { kind: 'cosine'; norms: Float64Array; shrink: number }
  | { kind: 'lift'; support: Int32Array; rows: number }
  | { kind: 'log-lift'; support: Int32Array; rows: number }
  | { kind: 'jaccard'; support: Int32Array }
  | { kind: 'ochiai'; support: Int32Array };

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
const RANGE_WORK = 1 << 23;

/**
 * Item x item co-occurrence of a rows x items matrix (rows are users or baskets, values are
 * weights, which must be positive and finite unless `binary`): entry (i, j) is the sum over
 * rows of w(row, i) * w(row, j) — or the number of shared rows with `binary` — passed through
 * `measure`. Only positive finite values are kept; the diagonal is never stored. Rows of the
 * result have sorted indices and at most `topN` entries.
 *
 * Item by item, the rows containing the item (one column of the transpose) are expanded into a
 * dense accumulator with a touched list, so no items x items matrix ever exists. Time
 * O(sum over rows of len(row)^2); memory O(nItems) scratch per thread plus the output. Items
 * are cut into ranges of about equal work (from the data, never from the thread count) that
 * run on the executor's threads; each row of the result is computed by one thread with the
 * same arithmetic in the same order, so the result is bit-identical for any thread count.
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

  if (!binary) checkWeights(matrix);
  const nItems = matrix.nCols;
  const columns = matrix.transpose();
  const input: PairInput = {
    indptr: matrix.indptr,
    // Item indices are read once per multiply-add: as 16-bit, where they fit, that is a quarter less memory traffic.
    indices: nItems <= 1 << 16 ? Uint16Array.from(matrix.indices) : matrix.indices,
    values: matrix.values,
    colPtr: columns.indptr,
    colRows: columns.indices,
    colValues: columns.values,
    binary,
    minCount,
    topN,
    measure,
  };
  const { indptr } = matrix;
  const colPtr = columns.indptr;
  const colRows = columns.indices;
  const bounds = rangesByCost(nItems, RANGE_WORK, (i) => {
    let work = 1;
    for (let p = colPtr[i]; p < colPtr[i + 1]; p++) work += indptr[colRows[p] + 1] - indptr[colRows[p]];
    return work;
  });
  const parts = await runKernel(cooccurrenceKernel, input, bounds, {
    threads: options.threads,
    signal: options.signal,
    onProgress: options.onProgress,
    stage,
  });
  return concatRows(nItems, parts);
}

/** The kernel's input: the matrix and its transpose as plain arrays, and the options. */
interface PairInput {
  indptr: Int32Array;
  indices: Int32Array | Uint16Array;
  values: Float32Array;
  colPtr: Int32Array;
  colRows: Int32Array;
  colValues: Float32Array;
  binary: boolean;
  minCount: number;
  topN: number;
  measure: PairMeasure;
}

/** Rows [start, end) of the result: entries per row, then their indices and values. */
interface PairRows {
  lengths: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export const cooccurrenceKernel = defineKernel('cooccurrence', (input: PairInput, start: number, end: number): PairRows => {
  return new PairKernel(input, start, end).run();
});

/** Stacks the row ranges into one items x items CSR. */
function concatRows(nItems: number, parts: PairRows[]): CsrMatrix {
  let nnz = 0;
  for (const part of parts) nnz += part.indices.length;
  const indptr = new Int32Array(nItems + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let row = 0;
  let at = 0;
  for (const part of parts) {
    for (let k = 0; k < part.lengths.length; k++, row++) indptr[row + 1] = indptr[row] + part.lengths[k];
    indices.set(part.indices, at);
    values.set(part.values, at);
    at += part.indices.length;
  }
  return new CsrMatrix(nItems, nItems, indptr, indices, values);
}

/** Measure kinds as small integers, for one switch per pair. */
const SUM = 0;
const COSINE = 1;
const LIFT = 2;
const LOG_LIFT = 3;
const JACCARD = 4;
const OCHIAI = 5;
const MEASURE_CODES = { sum: SUM, cosine: COSINE, lift: LIFT, 'log-lift': LOG_LIFT, jaccard: JACCARD, ochiai: OCHIAI } as const;

/**
 * One range of items: scratch, output buffers and the hot loops, kept in small methods of
 * their own so the JIT optimises them apart.
 */
class PairKernel {
  private readonly acc: Float64Array;
  private readonly count: Int32Array | null;
  private readonly touched: Int32Array;
  private readonly heap: TopK | null;
  private readonly lengths: Int32Array;
  private outIdx: Int32Array;
  private outVal: Float32Array;
  private nnz = 0;
  /** Items touched by the last accumulate(). */
  private nTouched = 0;
  private readonly code: number;
  private readonly scale: Float64Array | Int32Array;
  private readonly shrink: number;
  private readonly rows: number;

  constructor(
    private readonly input: PairInput,
    private readonly start: number,
    private readonly end: number,
  ) {
    const nItems = input.colPtr.length - 1;
    const { binary, minCount, topN, measure } = input;
    this.acc = new Float64Array(nItems);
    // Shared-row counts cost an extra scattered write per multiply-add: only kept when read.
    this.count = !binary && minCount > 1 ? new Int32Array(nItems) : null;
    this.touched = new Int32Array(nItems);
    // A row has at most nItems partners: a larger topN (a caller's 2^53) must not size the heap.
    this.heap = topN === Infinity ? null : new TopK(Math.min(topN, nItems));
    this.lengths = new Int32Array(end - start);
    const capacity = Math.min(1 << 16, Math.max(16, (end - start) * Math.min(topN, 64)));
    this.outIdx = new Int32Array(capacity);
    this.outVal = new Float32Array(capacity);
    this.code = MEASURE_CODES[measure.kind];
    this.scale = measure.kind === 'cosine' ? measure.norms : measure.kind === 'sum' ? new Int32Array(0) : measure.support;
    this.shrink = measure.kind === 'cosine' ? measure.shrink : 0;
    this.rows = measure.kind === 'lift' || measure.kind === 'log-lift' ? measure.rows : 0;
  }

  run(): PairRows {
    for (let i = this.start; i < this.end; i++) {
      this.accumulate(i);
      this.emit(i, this.select(i));
    }
    return { lengths: this.lengths, indices: this.outIdx.slice(0, this.nnz), values: this.outVal.slice(0, this.nnz) };
  }

  /** Sums every row containing item i into acc; touched lists the items hit. */
  private accumulate(i: number): void {
    const { indptr, indices, values, colPtr, colRows, colValues, binary } = this.input;
    const { acc, count, touched } = this;
    let nTouched = 0;
    const c1 = colPtr[i + 1];
    for (let p = colPtr[i]; p < c1; p++) {
      const r = colRows[p];
      const r0 = indptr[r];
      const r1 = indptr[r + 1];
      // A pair is new when its accumulator is still 0, which positive weights guarantee.
      if (binary) {
        for (let q = r0; q < r1; q++) {
          const j = indices[q];
          const a = acc[j];
          if (a === 0) touched[nTouched++] = j;
          acc[j] = a + 1;
        }
      } else if (count !== null) {
        const wi = colValues[p];
        for (let q = r0; q < r1; q++) {
          const j = indices[q];
          const a = acc[j];
          if (a === 0) touched[nTouched++] = j;
          acc[j] = a + wi * values[q];
          count[j]++;
        }
      } else {
        const wi = colValues[p];
        for (let q = r0; q < r1; q++) {
          const j = indices[q];
          const a = acc[j];
          if (a === 0) touched[nTouched++] = j;
          acc[j] = a + wi * values[q];
        }
      }
    }
    this.nTouched = nTouched;
  }

  /**
   * Filters and measures item i's pairs and resets acc. With top N, the heap keeps the best N
   * (scored by the value as stored, float32, so the order pairs come in never matters) and 0
   * is returned; without, touched[0 .. kept) and acc hold the survivors and kept is returned.
   */
  private select(i: number): number {
    const { acc, count, touched, heap } = this;
    const { binary, minCount } = this.input;
    const nTouched = this.nTouched;
    let kept = 0;
    heap?.clear();
    for (let t = 0; t < nTouched; t++) {
      const j = touched[t];
      const weight = acc[j];
      // Without a count array, minCount is 1 and every touched pair shares a row.
      const shared = binary ? weight : count !== null ? count[j] : 1;
      if (count !== null) count[j] = 0;
      acc[j] = 0;
      if (j === i || shared < minCount) continue;
      const v = this.value(i, j, weight);
      if (!(v > 0) || v === Infinity) continue;
      if (heap !== null) heap.push(j, Math.fround(v));
      else {
        acc[j] = v;
        touched[kept++] = j;
      }
    }
    return kept;
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
      default:
        return v / Math.sqrt(s[i] * s[j]);
    }
  }

  /** Appends item i's pairs (sorted by index) to the output and leaves acc all zero. */
  private emit(i: number, kept: number): void {
    const { acc, heap } = this;
    let selected = this.touched;
    let nSelected = kept;
    if (heap !== null) {
      // Park the heap's values in acc while its items are sorted by index.
      selected = heap.items;
      nSelected = heap.size;
      for (let t = 0; t < nSelected; t++) acc[selected[t]] = heap.scores[t];
    }
    selected.subarray(0, nSelected).sort();
    if (this.nnz + nSelected > this.outIdx.length) this.grow(this.nnz + nSelected);
    const { outIdx, outVal } = this;
    let nnz = this.nnz;
    for (let t = 0; t < nSelected; t++) {
      const j = selected[t];
      outIdx[nnz] = j;
      outVal[nnz] = acc[j];
      acc[j] = 0;
      nnz++;
    }
    this.lengths[i - this.start] = nnz - this.nnz;
    this.nnz = nnz;
  }

  private grow(needed: number): void {
    const size = Math.max(this.outIdx.length * 2, needed);
    const idx = new Int32Array(size);
    idx.set(this.outIdx.subarray(0, this.nnz));
    const val = new Float32Array(size);
    val.set(this.outVal.subarray(0, this.nnz));
    this.outIdx = idx;
    this.outVal = val;
  }
}

function checkMeasure(measure: PairMeasure, nItems: number): void {
  if (measure === null || typeof measure !== 'object' || !(measure.kind in MEASURE_CODES)) {
    throw new OptionError('measure', `must be one of ${Object.keys(MEASURE_CODES).join(', ')}, got ${JSON.stringify(measure)}`);
  }
  if (measure.kind === 'sum') return;
  const perItem = measure.kind === 'cosine' ? measure.norms : measure.support;
  if (!ArrayBuffer.isView(perItem) || perItem.length !== nItems) {
    throw new OptionError(`measure.${measure.kind === 'cosine' ? 'norms' : 'support'}`, `must be a typed array of one value per item (${nItems})`);
  }
  if (measure.kind === 'cosine' && !(Number.isFinite(measure.shrink) && measure.shrink >= 0)) {
    throw new OptionError('measure.shrink', `must be a finite number >= 0, got ${measure.shrink}`);
  }
}

function checkWeights(m: CsrMatrix): void {
  const { indptr, values } = m;
  for (let p = 0; p < values.length; p++) {
    const v = values[p];
    if (v > 0 && v !== Infinity) continue;
    let row = 0;
    while (indptr[row + 1] <= p) row++;
    throw new DataError(`cooccurrence weights must be positive and finite, got ${v} at row ${row}, column ${m.indices[p]}`, { field: 'values' });
  }
}
