import { DataError } from '../errors';

/**
 * Compressed sparse rows. Row r's entries are indices[indptr[r] .. indptr[r+1]) with column
 * indices sorted ascending and unique, and values alongside. Every hot loop in the library
 * walks these three arrays.
 */
export class CsrMatrix {
  constructor(
    readonly nRows: number,
    readonly nCols: number,
    readonly indptr: Int32Array,
    readonly indices: Int32Array,
    readonly values: Float32Array,
  ) {
    if (indptr.length !== nRows + 1) throw new DataError(`CSR indptr has length ${indptr.length}, expected ${nRows + 1}`);
    if (indices.length !== values.length) throw new DataError('CSR indices and values differ in length');
  }

  get nnz(): number {
    return this.indptr[this.nRows];
  }

  rowStart(r: number): number {
    return this.indptr[r];
  }

  rowEnd(r: number): number {
    return this.indptr[r + 1];
  }

  /** Value at (r, c), 0 when absent (binary search in the sorted row). */
  get(r: number, c: number): number {
    let lo = this.indptr[r];
    let hi = this.indptr[r + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.indices[mid];
      if (v === c) return this.values[mid];
      if (v < c) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /**
   * Builds from coordinate triples. Duplicated (row, col) pairs are summed, so a purchase
   * log of (user, item, 1) rows becomes purchase counts. Sums run in float64 and are rounded
   * to float32 once (20 million rows of weight 1 count 20,000,000, not float32's 16,777,216);
   * a sum (or a value) that is not finite in float32 is a DataError naming the entry, through
   * `label(row, col)` when given. Column indices come out sorted.
   */
  static fromCoo(
    nRows: number,
    nCols: number,
    rows: Int32Array,
    cols: Int32Array,
    vals: Float32Array | null,
    label: (row: number, col: number) => string = (r, c) => `row ${r}, column ${c}`,
  ): CsrMatrix {
    const n = rows.length;
    if (cols.length !== n || (vals && vals.length !== n)) throw new DataError('COO arrays differ in length');
    const counts = new Int32Array(nRows + 1);
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (r < 0 || r >= nRows) throw new DataError(`COO row ${r} out of range [0, ${nRows})`);
      const c = cols[i];
      if (c < 0 || c >= nCols) throw new DataError(`COO column ${c} out of range [0, ${nCols})`);
      counts[r + 1]++;
    }
    for (let r = 0; r < nRows; r++) counts[r + 1] += counts[r];
    // Counting sort by row, then sort each row by column and merge duplicates in place.
    const next = counts.slice(0, nRows);
    const tmpCols = new Int32Array(n);
    const tmpVals = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = next[rows[i]]++;
      tmpCols[p] = cols[i];
      tmpVals[p] = vals ? vals[i] : 1;
    }
    const indptr = new Int32Array(nRows + 1);
    let write = 0;
    for (let r = 0; r < nRows; r++) {
      const start = counts[r];
      const end = counts[r + 1];
      sortRowByColumn(tmpCols, tmpVals, start, end);
      indptr[r] = write;
      let p = start;
      while (p < end) {
        const c = tmpCols[p];
        // A run of equal columns, summed in a float64 local.
        let sum = tmpVals[p++];
        while (p < end && tmpCols[p] === c) sum += tmpVals[p++];
        const value = Math.fround(sum);
        if (!Number.isFinite(value)) {
          throw new DataError(`the weights of ${label(r, c)} sum to ${sum}${Number.isFinite(sum) ? ', beyond the float32 range' : ''}`);
        }
        tmpCols[write] = c;
        tmpVals[write] = value;
        write++;
      }
    }
    indptr[nRows] = write;
    return new CsrMatrix(nRows, nCols, indptr, tmpCols.slice(0, write), tmpVals.slice(0, write));
  }

  /** The transpose (CSC of this matrix), with sorted indices. O(nnz). */
  transpose(): CsrMatrix {
    const { nRows, nCols, indptr, indices, values } = this;
    const nnz = this.nnz;
    const tIndptr = new Int32Array(nCols + 1);
    for (let p = 0; p < nnz; p++) tIndptr[indices[p] + 1]++;
    for (let c = 0; c < nCols; c++) tIndptr[c + 1] += tIndptr[c];
    const next = tIndptr.slice(0, nCols);
    const tIndices = new Int32Array(nnz);
    const tValues = new Float32Array(nnz);
    for (let r = 0; r < nRows; r++) {
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        const q = next[indices[p]]++;
        tIndices[q] = r;
        tValues[q] = values[p];
      }
    }
    return new CsrMatrix(nCols, nRows, tIndptr, tIndices, tValues);
  }

  /**
   * Reads the first entry of rows[0 .. n) in a loop of independent loads. The rows a query
   * reads (a history's neighbor rows, content candidates' terms) are scattered over the
   * matrix and mostly not in cache: read one after another, each waits for its own misses
   * (memory latency made ContentBased's cosine loop over its candidates most of its query
   * cost at 50k items); touched first, their misses overlap, and the loop that follows finds
   * the rows in cache. Changes nothing.
   */
  touchRows(rows: Int32Array, n: number): void {
    const { indptr, indices, values } = this;
    let first = 0;
    for (let k = 0; k < n; k++) {
      const start = indptr[rows[k]];
      if (start < indptr[rows[k] + 1]) first += indices[start] + values[start];
    }
    touched = first;
  }
}

/** Where touchRows() puts its loads' sum, so that the compiler keeps them. */
let touched = 0;

function sortRowByColumn(cols: Int32Array, vals: Float32Array, start: number, end: number): void {
  const len = end - start;
  if (len < 2) return;
  let sorted = true;
  for (let p = start + 1; p < end; p++) {
    if (cols[p - 1] > cols[p]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  if (len <= 32) {
    insertionSortByKey(cols, vals, start, end);
    return;
  }
  const order = Array.from({ length: len }, (_, i) => start + i).sort((a, b) => cols[a] - cols[b]);
  const c2 = order.map((p) => cols[p]);
  const v2 = order.map((p) => vals[p]);
  for (let i = 0; i < len; i++) {
    cols[start + i] = c2[i];
    vals[start + i] = v2[i];
  }
}

/** Stable insertion sort of keys[start .. end) ascending, moving values along (fast when nearly sorted). */
export function insertionSortByKey(keys: Int32Array, values: Int32Array | Float32Array, start: number, end: number): void {
  for (let i = start + 1; i < end; i++) {
    const k = keys[i];
    if (keys[i - 1] <= k) continue;
    const v = values[i];
    let j = i - 1;
    while (j >= start && keys[j] > k) {
      keys[j + 1] = keys[j];
      values[j + 1] = values[j];
      j--;
    }
    keys[j + 1] = k;
    values[j + 1] = v;
  }
}
