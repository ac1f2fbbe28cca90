import { CsrMatrix } from '../data/csr';
import { DataError, OptionError, throwIfAborted } from '../errors';
import type { Progress } from '../strategies/types';
import { yieldToEventLoop } from './pace';
import { TopK } from './topk';

export interface CooccurrenceOptions {
  /**
   * Count the rows in which both items occur, ignoring the weights (default false: sum of
   * w(row, i) * w(row, j) over rows).
   */
  binary?: boolean;
  /** Keep a pair only when the two items share at least this many rows (default 1). */
  minCount?: number;
  /**
   * Maps a pair's accumulated weight to its output value, e.g. cosine normalisation. Called
   * once per co-occurring pair, before top-N selection. `count` is the number of shared rows;
   * in weighted mode it is only tracked (at some cost) when the function declares that fourth
   * parameter or minCount > 1. Default: the accumulated weight itself.
   */
  transform?: (item: number, other: number, weight: number, count: number) => number;
  /** Keep only the N highest values per item, ties to the lower index (default Infinity: keep all). */
  topN?: number;
  signal?: AbortSignal;
  /** Called after each chunk of items (`done` of `total` items). */
  onProgress?: (progress: Progress) => void;
  /** Stage name in progress reports (default 'cooccurrence'). */
  stage?: string;
}

/** Inner-loop multiply-adds between progress reports, abort checks and event-loop yields. */
const CHUNK_WORK = 1 << 22;

/**
 * Item x item co-occurrence of a rows x items matrix (rows are users or baskets, values are
 * weights, which must be positive and finite unless `binary`): entry (i, j) is the sum over rows of w(row, i) * w(row, j) — or the number of
 * shared rows with `binary` — passed through `transform`. Only positive finite values are
 * kept (a transform returns 0 or NaN to drop a pair); the diagonal is never stored. Rows of
 * the result have sorted indices and at most `topN` entries.
 *
 * Item by item, the rows containing the item (one column of the transpose) are expanded into a
 * dense accumulator with a touched list, so no items x items matrix ever exists. Time
 * O(sum over rows of len(row)^2); memory O(nItems) scratch plus the output. The work is done
 * in chunks with an event-loop yield between them, so the signal can stop it.
 */
export async function cooccurrence(matrix: CsrMatrix, options: CooccurrenceOptions = {}): Promise<CsrMatrix> {
  const binary = options.binary ?? false;
  const minCount = options.minCount ?? 1;
  const topN = options.topN ?? Infinity;
  const transform = options.transform;
  const stage = options.stage ?? 'cooccurrence';
  if (!Number.isInteger(minCount) || minCount < 1) throw new OptionError('minCount', `must be an integer >= 1, got ${minCount}`);
  if (topN !== Infinity && (!Number.isInteger(topN) || topN < 1)) {
    throw new OptionError('topN', `must be an integer >= 1 or Infinity, got ${topN}`);
  }

  if (!binary) checkWeights(matrix);
  const nItems = matrix.nCols;
  const kernel = new PairKernel(matrix, binary, minCount, topN, transform);
  throwIfAborted(options.signal, stage);
  options.onProgress?.({ stage, done: 0, total: nItems });
  for (let i = 0; i < nItems; ) {
    i = kernel.run(i, CHUNK_WORK);
    if (i < nItems) {
      options.onProgress?.({ stage, done: i, total: nItems });
      await yieldToEventLoop();
      throwIfAborted(options.signal, stage);
    }
  }
  options.onProgress?.({ stage, done: nItems, total: nItems });
  return kernel.result();
}

/**
 * The synchronous part of cooccurrence: scratch, output buffers and the hot loops, kept in
 * small methods of their own so the JIT optimises them apart from the async driver.
 */
class PairKernel {
  private readonly columns: CsrMatrix;
  private readonly acc: Float64Array;
  private readonly count: Int32Array | null;
  private readonly touched: Int32Array;
  private readonly heap: TopK | null;
  private readonly outPtr: Int32Array;
  private outIdx: Int32Array;
  private outVal: Float32Array;
  private nnz = 0;
  /** Items touched by the last accumulate(). */
  private nTouched = 0;

  constructor(
    private readonly rows: CsrMatrix,
    private readonly binary: boolean,
    private readonly minCount: number,
    private readonly topN: number,
    private readonly transform: CooccurrenceOptions['transform'],
  ) {
    const nItems = rows.nCols;
    this.columns = rows.transpose();
    this.acc = new Float64Array(nItems);
    // Shared-row counts cost an extra scattered write per multiply-add: only kept when read.
    const needCount = !binary && (minCount > 1 || (transform !== undefined && transform.length >= 4));
    this.count = needCount ? new Int32Array(nItems) : null;
    this.touched = new Int32Array(nItems);
    this.heap = topN === Infinity ? null : new TopK(topN);
    this.outPtr = new Int32Array(nItems + 1);
    this.outIdx = new Int32Array(Math.min(1 << 16, Math.max(16, nItems * Math.min(topN, 64))));
    this.outVal = new Float32Array(this.outIdx.length);
  }

  /** Processes items from `first` until about `budget` multiply-adds are done; returns the next item. */
  run(first: number, budget: number): number {
    const nItems = this.rows.nCols;
    let work = 0;
    let i = first;
    while (i < nItems && work < budget) {
      work += this.accumulate(i);
      this.emit(i, this.select(i));
      i++;
    }
    return i;
  }

  result(): CsrMatrix {
    const n = this.rows.nCols;
    return new CsrMatrix(n, n, this.outPtr, this.outIdx.slice(0, this.nnz), this.outVal.slice(0, this.nnz));
  }

  /** Sums every row containing item i into acc; touched lists the items hit. Returns the work done. */
  private accumulate(i: number): number {
    const { indptr, indices, values } = this.rows;
    const colPtr = this.columns.indptr;
    const colRows = this.columns.indices;
    const colValues = this.columns.values;
    const { acc, count, touched } = this;
    let nTouched = 0;
    let work = 0;
    const c1 = colPtr[i + 1];
    for (let p = colPtr[i]; p < c1; p++) {
      const r = colRows[p];
      const r0 = indptr[r];
      const r1 = indptr[r + 1];
      work += r1 - r0;
      // A pair is new when its accumulator is still 0, which positive weights guarantee.
      if (this.binary) {
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
    return work;
  }


  /**
   * Filters and transforms item i's pairs in place (touched[0 .. kept) become the survivors,
   * acc their values, the heap their best topN), resets everything else, and returns how
   * many survived.
   */
  private select(i: number): number {
    const { acc, count, touched, binary, minCount, transform, heap } = this;
    const nTouched = this.nTouched;
    heap?.clear();
    let kept = 0;
    for (let t = 0; t < nTouched; t++) {
      const j = touched[t];
      const weight = acc[j];
      // Without a count array, minCount is 1 and every touched pair shares a row.
      const shared = binary ? weight : count !== null ? count[j] : 1;
      if (count !== null) count[j] = 0;
      acc[j] = 0;
      if (j === i || shared < minCount) continue;
      const v = transform ? transform(i, j, weight, shared) : weight;
      if (!(v > 0) || v === Infinity) continue;
      acc[j] = v;
      touched[kept++] = j;
      heap?.push(j, v);
    }
    return kept;
  }

  /** Appends item i's best pairs (sorted by index) to the output and clears acc. */
  private emit(i: number, kept: number): void {
    const { acc, touched, heap } = this;
    let selected: Int32Array = touched;
    let nSelected = kept;
    if (heap !== null && kept > this.topN) {
      selected = heap.items;
      nSelected = heap.size;
    }
    selected.subarray(0, nSelected).sort();
    if (this.nnz + nSelected > this.outIdx.length) this.grow(this.nnz + nSelected);
    const { outIdx, outVal } = this;
    let nnz = this.nnz;
    for (let t = 0; t < nSelected; t++) {
      const j = selected[t];
      outIdx[nnz] = j;
      outVal[nnz] = acc[j];
      nnz++;
    }
    for (let t = 0; t < kept; t++) acc[touched[t]] = 0;
    this.nnz = nnz;
    this.outPtr[i + 1] = nnz;
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
