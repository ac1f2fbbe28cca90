import { afterEach, describe, expect, it, vi } from 'vitest';
import { CsrMatrix } from '../src/data/csr';
import { AbortedError, OptionError } from '../src/errors';
import { InnerProductIndex, dot } from '../src/util/dense';
import { mulberry32 } from '../src/util/random';
import { cholesky, choleskySolve, spdInverse } from '../src/util/spd';
import { SimdKernels } from '../src/util/wasm';
import { InteractionWeights } from '../src/util/weighting';

/** rows x dim with skewed norms (like latent item factors: a few long rows) and some exact ties. */
function rows(n: number, dim: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    const scale = 1 / (1 + r * 0.05);
    for (let d = 0; d < dim; d++) out[r * dim + d] = (rng() - 0.3) * scale;
  }
  out.copyWithin(5 * dim, 3 * dim, 4 * dim); // rows 3 and 5 identical: tied scores
  return out;
}

function bruteTopK(items: Float32Array, dim: number, q: Float32Array, k: number, skip: (i: number) => boolean): number[] {
  const n = items.length / dim;
  const scores = Array.from({ length: n }, (_, i) => Math.fround(dot(q, 0, items, i * dim, dim)));
  return scores
    .map((s, i) => [s, i] as const)
    .filter(([, i]) => !skip(i))
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

describe('InnerProductIndex', () => {
  const dim = 13;
  const items = rows(500, dim, 1);
  const index = new InnerProductIndex(items, dim);
  const rng = mulberry32(2);
  const queries = Array.from({ length: 30 }, () => Float32Array.from({ length: dim }, () => rng() - 0.4));

  it('returns exactly the brute-force top-k, ties to the lower row, with blocked rows skipped', () => {
    for (const q of queries) {
      const blocked = new Uint8Array(500);
      for (let i = 0; i < 500; i += 7) blocked[i] = 1;
      for (const k of [1, 10, 50]) {
        expect(Array.from(index.topK(q, k).items)).toEqual(bruteTopK(items, dim, q, k, () => false));
        expect(Array.from(index.topK(q, k, blocked).items)).toEqual(bruteTopK(items, dim, q, k, (i) => blocked[i] === 1));
      }
    }
    // The bound prunes: a top-10 scan stops well before the end on skewed norms.
    const scanned = queries.map((q) => index.topK(q, 10).scanned);
    expect(Math.min(...scanned)).toBeLessThan(500);
  });

  it('ranks a batch with per-query exclusions exactly as one query at a time', () => {
    const flat = new Float32Array(queries.length * dim);
    queries.forEach((q, i) => flat.set(q, i * dim));
    const excl = CsrMatrix.fromCoo(
      queries.length,
      500,
      Int32Array.from({ length: 90 }, (_, e) => e % queries.length),
      Int32Array.from({ length: 90 }, (_, e) => (e * 37) % 500),
      null,
    );
    const batch = index.topKBatch(flat, 10, { indptr: excl.indptr, indices: excl.indices });
    queries.forEach((q, i) => {
      const blocked = new Uint8Array(500);
      for (let p = excl.indptr[i]; p < excl.indptr[i + 1]; p++) blocked[excl.indices[p]] = 1;
      expect(Array.from(batch.items.subarray(i * 10, i * 10 + batch.counts[i]))).toEqual(Array.from(index.topK(q, 10, blocked).items));
    });
    expect(() => index.topKBatch(flat, 10, { indptr: Int32Array.of(0, 1), indices: Int32Array.of(0) })).toThrow(OptionError);
  });

  describe.each([
    ['WebAssembly SIMD', false],
    ['typed arrays (no SIMD)', true],
  ])('batches of four queries with %s', (_, noSimd) => {
    afterEach(() => vi.restoreAllMocks());

    it('equal single queries bit for bit on flat norms (deep scans), a short last block and a partial last group', () => {
      if (noSimd) vi.spyOn(SimdKernels, 'create').mockReturnValue(null);
      // 203 rows: the last block has 11 (not a multiple of 4, the kernel's tail rows); norms
      // nearly flat so every query scans deep; rows 40 and 41 identical (a tie across a group).
      const n = 203;
      const d = 9;
      const rng = mulberry32(5);
      const flatRows = Float32Array.from({ length: n * d }, () => rng() - 0.5);
      flatRows.copyWithin(41 * d, 40 * d, 41 * d);
      const flatIndex = new InnerProductIndex(flatRows, d);
      const nq = 7;
      const qs = Float32Array.from({ length: nq * d }, () => rng() - 0.5);
      const excl = CsrMatrix.fromCoo(nq, n, Int32Array.from({ length: 40 }, (_, e) => e % nq), Int32Array.from({ length: 40 }, (_, e) => (e * 53) % n), null);
      for (const k of [0, 1, 10, 250]) {
        const batch = flatIndex.topKBatch(qs, k, { indptr: excl.indptr, indices: excl.indices });
        for (let q = 0; q < nq; q++) {
          const blocked = new Uint8Array(n);
          for (let p = excl.indptr[q]; p < excl.indptr[q + 1]; p++) blocked[excl.indices[p]] = 1;
          const one = flatIndex.topK(qs.subarray(q * d, (q + 1) * d), k, blocked);
          expect(Array.from(batch.items.subarray(q * k, q * k + batch.counts[q]))).toEqual(Array.from(one.items));
          expect(Array.from(batch.scores.subarray(q * k, q * k + batch.counts[q]))).toEqual(Array.from(one.scores));
          expect(Array.from(one.items)).toEqual(bruteTopK(flatRows, d, qs.subarray(q * d, (q + 1) * d), k, (i) => blocked[i] === 1));
        }
      }
    });
  });

  it('scores every row in the original order', () => {
    const out = new Float32Array(500);
    index.scoreAll(queries[0], out);
    for (let i = 0; i < 500; i++) expect(out[i]).toBeCloseTo(dot(queries[0], 0, items, i * dim, dim), 5);
    expect(() => index.scoreAll(queries[0], new Float32Array(3))).toThrow(OptionError);
  });
});

describe('SPD algebra', () => {
  function spd(n: number, seed: number): Float64Array {
    const rng = mulberry32(seed);
    const m = Float64Array.from({ length: n * n }, () => rng() - 0.5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += m[k * n + i] * m[k * n + j];
    for (let i = 0; i < n; i++) a[i * n + i] += 1;
    return a;
  }

  it('inverts across several sweep blocks (A A^-1 = I) and solves by Cholesky', async () => {
    const n = 150; // 64 + 64 + 22
    const a = spd(n, 3);
    const inv = a.slice();
    await spdInverse(inv, n);
    for (let i = 0; i < n; i += 7) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
    const b = Float64Array.from({ length: n }, (_, i) => i % 5);
    const x = b.slice();
    choleskySolve(cholesky(a, n), n, x);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += inv[i * n + j] * b[j];
      expect(x[i]).toBeCloseTo(s, 9);
    }
    expect(() => cholesky(Float64Array.of(1, 2, 2, 1), 2)).toThrow(/not positive definite/);
  });

  it('stops when a timer aborts a long inverse', async () => {
    const n = 700;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = 2;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(spdInverse(a, n, { signal: controller.signal })).rejects.toThrow(AbortedError);
  });
});

describe('InteractionWeights', () => {
  it('weights like implicit\'s bm25_weight (items as documents, users as terms)', () => {
    // 2 users x 5 items; user 0 bought item 0 twice and item 1 once, user 1 bought item 1 three times.
    const m = CsrMatrix.fromCoo(2, 5, Int32Array.of(0, 0, 1), Int32Array.of(0, 1, 1), Float32Array.of(2, 1, 3));
    const w = InteractionWeights.fit(m, 'bm25', { k1: 100, b: 0.8 });
    const out = w.matrix(m);
    const mean = (2 + 4) / 5;
    const norm = (len: number) => 0.2 + (0.8 * len) / mean;
    const idf = (nu: number) => Math.log(5) - Math.log1p(nu);
    const expected = [((2 * 101) / (100 * norm(2) + 2)) * idf(2), ((1 * 101) / (100 * norm(4) + 1)) * idf(2), ((3 * 101) / (100 * norm(4) + 3)) * idf(1)];
    expect(Array.from(out.values).map((v) => Number(v.toFixed(5)))).toEqual(expected.map((v) => Number(Math.fround(v).toFixed(5))));
    expect(w.weight(3, 1, 1)).toBeCloseTo(expected[2], 5);
    expect(Array.from(InteractionWeights.fit(m, 'log1p', { k1: 1, b: 1 }).matrix(m).values)).toEqual([Math.fround(Math.log1p(2)), Math.fround(Math.log1p(1)), Math.fround(Math.log1p(3))]);
  });
});
