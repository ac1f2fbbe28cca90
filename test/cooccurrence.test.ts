import { describe, expect, it } from 'vitest';
import { CsrMatrix } from '../src/data/csr';
import { AbortedError, DataError, OptionError } from '../src/errors';
import { cooccurrence } from '../src/util/cooccurrence';
import { mulberry32 } from '../src/util/random';

/** A random rows x items matrix with small integer weights, ~density of cells set. */
function randomMatrix(seed: number, nRows: number, nItems: number, density: number): CsrMatrix {
  const rng = mulberry32(seed);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nItems; c++) {
      if (rng() < density) {
        rows.push(r);
        cols.push(c);
        vals.push(1 + Math.floor(rng() * 3));
      }
    }
  }
  return CsrMatrix.fromCoo(nRows, nItems, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals));
}

/** Dense reference: weight and shared-row count of every item pair. */
function bruteForce(m: CsrMatrix): { weight: number[][]; count: number[][] } {
  const n = m.nCols;
  const weight = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const count = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let r = 0; r < m.nRows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      for (let q = m.indptr[r]; q < m.indptr[r + 1]; q++) {
        weight[m.indices[p]][m.indices[q]] += m.values[p] * m.values[q];
        count[m.indices[p]][m.indices[q]] += 1;
      }
    }
  }
  return { weight, count };
}

function rowOf(m: CsrMatrix, i: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) out.push([m.indices[p], m.values[p]]);
  return out;
}

function expectSortedRows(m: CsrMatrix): void {
  for (let i = 0; i < m.nRows; i++) {
    for (let p = m.indptr[i] + 1; p < m.indptr[i + 1]; p++) expect(m.indices[p]).toBeGreaterThan(m.indices[p - 1]);
  }
}

describe('cooccurrence', () => {
  it('matches a dense brute force on random matrices (weighted, binary, minCount)', async () => {
    for (const seed of [1, 2, 3]) {
      const m = randomMatrix(seed, 40, 25, 0.15);
      const ref = bruteForce(m);
      const weighted = await cooccurrence(m);
      const binary = await cooccurrence(m, { binary: true });
      const min3 = await cooccurrence(m, { minCount: 3 });
      for (const out of [weighted, binary, min3]) {
        expect(out.nRows).toBe(25);
        expect(out.nCols).toBe(25);
        expectSortedRows(out);
      }
      for (let i = 0; i < 25; i++) {
        const expectW: Array<[number, number]> = [];
        const expectB: Array<[number, number]> = [];
        const expectM: Array<[number, number]> = [];
        for (let j = 0; j < 25; j++) {
          if (j === i || ref.count[i][j] === 0) continue;
          expectW.push([j, ref.weight[i][j]]);
          expectB.push([j, ref.count[i][j]]);
          if (ref.count[i][j] >= 3) expectM.push([j, ref.weight[i][j]]);
        }
        expect(rowOf(weighted, i)).toEqual(expectW);
        expect(rowOf(binary, i)).toEqual(expectB);
        expect(rowOf(min3, i)).toEqual(expectM);
      }
    }
  });

  it('keeps the top N per item by measured value, ties to the lower index', async () => {
    const m = randomMatrix(7, 60, 30, 0.2);
    const ref = bruteForce(m);
    const norms = Float64Array.from({ length: 30 }, (_, i) => Math.sqrt(ref.weight[i][i]));
    const shrink = 0.5;
    const cosine = (i: number, j: number, w: number) => w / (norms[i] * norms[j] + shrink);
    const out = await cooccurrence(m, { topN: 4, measure: { kind: 'cosine', norms, shrink } });
    expectSortedRows(out);
    for (let i = 0; i < 30; i++) {
      const all: Array<[number, number]> = [];
      for (let j = 0; j < 30; j++) if (j !== i && ref.count[i][j] > 0) all.push([j, Math.fround(cosine(i, j, ref.weight[i][j]))]);
      all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const expected = all.slice(0, 4).sort((a, b) => a[0] - b[0]);
      expect(rowOf(out, i)).toEqual(expected);
    }
  });

  it('computes each measure on shared-row counts, drops values <= 0, and counts shared rows for minCount in weighted mode', async () => {
    // Rows: {0,1}, {0,1}, {0,2}, {1,2,3}; n(i) = 3, 3, 2, 1 of N = 4 rows.
    const m = CsrMatrix.fromCoo(4, 4, Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 3]), Int32Array.from([0, 1, 0, 1, 0, 2, 1, 2, 3]), Float32Array.from([2, 1, 1, 1, 1, 1, 1, 1, 1]));
    const support = Int32Array.from([3, 3, 2, 1]);
    const f = Math.fround;
    const lift = await cooccurrence(m, { binary: true, measure: { kind: 'lift', support, rows: 4 } });
    expect(rowOf(lift, 0)).toEqual([[1, f(8 / 9)], [2, f(4 / 6)]]);
    expect(rowOf(lift, 3)).toEqual([[1, f(4 / 3)], [2, f(2)]]);
    // PMI: only pairs above chance survive.
    const pmi = await cooccurrence(m, { binary: true, measure: { kind: 'log-lift', support, rows: 4 } });
    expect([0, 1, 2, 3].map((i) => rowOf(pmi, i))).toEqual([[], [[3, f(Math.log(4 / 3))]], [[3, f(Math.log(2))]], [[1, f(Math.log(4 / 3))], [2, f(Math.log(2))]]]);
    const jaccard = await cooccurrence(m, { binary: true, measure: { kind: 'jaccard', support } });
    expect(rowOf(jaccard, 1)).toEqual([[0, f(2 / 4)], [2, f(1 / 4)], [3, f(1 / 3)]]);
    const ochiai = await cooccurrence(m, { binary: true, measure: { kind: 'ochiai', support } });
    expect(rowOf(ochiai, 0)).toEqual([[1, f(2 / 3)], [2, f(1 / Math.sqrt(6))]]);
    // Weighted, two shared rows needed: only (0, 1), weight 2 * 1 + 1 * 1.
    const shared2 = await cooccurrence(m, { minCount: 2 });
    expect([0, 1, 2, 3].map((i) => rowOf(shared2, i))).toEqual([[[1, 3]], [[0, 3]], [], []]);
  });

  it('handles empty input and rejects bad options', async () => {
    const empty = await cooccurrence(new CsrMatrix(3, 5, new Int32Array(4), new Int32Array(0), new Float32Array(0)));
    expect(empty.nRows).toBe(5);
    expect(empty.nnz).toBe(0);
    const m = randomMatrix(1, 5, 5, 0.5);
    await expect(cooccurrence(m, { minCount: 0 })).rejects.toThrow(OptionError);
    await expect(cooccurrence(m, { minCount: 1.5 })).rejects.toThrow(OptionError);
    await expect(cooccurrence(m, { topN: 0 })).rejects.toThrow(OptionError);
    await expect(cooccurrence(m, { topN: NaN })).rejects.toThrow(OptionError);
    await expect(cooccurrence(m, { measure: { kind: 'jaccard', support: new Int32Array(2) } })).rejects.toThrow(OptionError);
    await expect(cooccurrence(m, { measure: { kind: 'cosine', norms: new Float64Array(5), shrink: -1 } })).rejects.toThrow(OptionError);
    await expect(cooccurrence(m, { threads: 0 })).rejects.toThrow(OptionError);
    // A weight that is not positive and finite is named by row and column (binary mode ignores weights).
    const bad = new CsrMatrix(2, 3, Int32Array.from([0, 1, 3]), Int32Array.from([0, 1, 2]), Float32Array.from([1, 2, -1]));
    await expect(cooccurrence(bad)).rejects.toThrow(DataError);
    await expect(cooccurrence(bad)).rejects.toThrow('got -1 at row 1, column 2');
    expect((await cooccurrence(bad, { binary: true })).nnz).toBe(2);
  });

  it('reports progress and stops when aborted between chunks', async () => {
    // One dense block of 3000 rows x 80 items: 19.2M multiply-adds, several chunks.
    const nRows = 3000;
    const nItems = 80;
    const rows = new Int32Array(nRows * nItems);
    const cols = new Int32Array(nRows * nItems);
    for (let r = 0; r < nRows; r++) for (let c = 0; c < nItems; c++) (rows[r * nItems + c] = r), (cols[r * nItems + c] = c);
    const m = CsrMatrix.fromCoo(nRows, nItems, rows, cols, null);
    const done: number[] = [];
    const out = await cooccurrence(m, { binary: true, onProgress: (p) => done.push(p.done), stage: 'pairs' });
    expect(done[0]).toBe(0);
    expect(done[done.length - 1]).toBe(nItems);
    expect(done.length).toBeGreaterThan(3);
    expect(out.get(0, 79)).toBe(nRows);

    const controller = new AbortController();
    const run = cooccurrence(m, { binary: true, signal: controller.signal, onProgress: (p) => p.done > 0 && controller.abort() });
    await expect(run).rejects.toThrow(AbortedError);
  });
});
