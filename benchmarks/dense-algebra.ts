/**
 * ml-matrix against src/util/spd.ts on the two dense problems of the latent models, side by
 * side in one run: the factors x factors solve of ALS fold-in (Cholesky, per query) and the
 * items x items SPD inverse of EASE's fit.
 *
 *   npx tsx benchmarks/dense-algebra.ts [--sizes 500,1000,2000,5000] [--ml-max 2000] [--factors 64]
 *
 * ml-matrix is skipped above --ml-max items (its time grows as n^3 like ours; the printed
 * ratio at the largest common size carries over). Writes benchmarks/results/dense-algebra.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import { cholesky, choleskySolve, spdInverse } from '../src/util/spd';
import { mulberry32 } from '../src/util/random';
import { describeMachine, machine, median } from './machine';
import { RESULTS_DIR } from './quality';

function listArg(name: string, fallback: number[]): number[] {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1].split(',').map(Number) : fallback;
}
function numArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** A random SPD matrix like a regularized Gram matrix: G^T G / m + lambda I with m = 2n sparse-ish rows. */
function gram(n: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const m = 2 * n;
  const rows = new Float64Array(m * 8);
  const cols = new Int32Array(m * 8);
  for (let r = 0; r < m * 8; r++) {
    cols[r] = Math.floor(rng() * n);
    rows[r] = 1;
  }
  const a = new Float64Array(n * n);
  for (let r = 0; r < m; r++) {
    for (let s = 0; s < 8; s++) for (let t = 0; t < 8; t++) a[cols[r * 8 + s] * n + cols[r * 8 + t]] += 1;
  }
  for (let i = 0; i < n; i++) a[i * n + i] += 50;
  return a;
}

function time(f: () => void, repeat: number): number {
  const times: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function main(): Promise<void> {
  console.log(`machine: ${describeMachine()}`);
  const factors = numArg('factors', 64);
  const mlMax = numArg('ml-max', 2000);
  const sizes = listArg('sizes', [500, 1000, 2000, 5000]);
  const result: Record<string, unknown> = { machine: machine(), date: new Date().toISOString().slice(0, 10), command: `npx tsx benchmarks/dense-algebra.ts ${process.argv.slice(2).join(' ')}`.trim() };

  // Fold-in: Cholesky solve of one factors x factors system.
  const a = gram(factors, 1);
  const b = Float64Array.from({ length: factors }, (_, i) => i % 3);
  const mlA = new Matrix(Array.from({ length: factors }, (_, i) => Array.from(a.subarray(i * factors, (i + 1) * factors))));
  const mlB = Matrix.columnVector(Array.from(b));
  const ours = time(() => {
    for (let r = 0; r < 200; r++) choleskySolve(cholesky(a, factors), factors, b.slice());
  }, 7) / 200;
  const theirs = time(() => {
    for (let r = 0; r < 200; r++) new CholeskyDecomposition(new Matrix(mlA)).solve(mlB);
  }, 7) / 200;
  console.log(`fold-in solve ${factors}x${factors}: ours ${(ours * 1000).toFixed(1)} us, ml-matrix ${(theirs * 1000).toFixed(1)} us (ratio ${(ours / theirs).toFixed(2)})`);
  result.foldIn = { factors, oursMs: ours, mlMatrixMs: theirs };

  const inverses: unknown[] = [];
  for (const n of sizes) {
    const m = gram(n, 2);
    const copy = m.slice();
    const t0 = performance.now();
    await spdInverse(copy, n);
    const oursMs = performance.now() - t0;
    // Check: (A A^-1) e_0 = e_0.
    let err = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += m[i * n + k] * copy[k * n];
      err = Math.max(err, Math.abs(s - (i === 0 ? 1 : 0)));
    }
    let mlMs: number | null = null;
    if (n <= mlMax) {
      const mm = new Matrix(Array.from({ length: n }, (_, i) => Array.from(m.subarray(i * n, (i + 1) * n))));
      const t1 = performance.now();
      inverse(mm);
      mlMs = performance.now() - t1;
    }
    console.log(`SPD inverse n=${n}: ours ${(oursMs / 1000).toFixed(2)} s (max residual ${err.toExponential(1)}), ml-matrix ${mlMs === null ? 'skipped' : `${(mlMs / 1000).toFixed(2)} s (ratio ${(oursMs / mlMs).toFixed(2)})`}`);
    inverses.push({ n, oursSeconds: oursMs / 1000, mlMatrixSeconds: mlMs === null ? null : mlMs / 1000, maxResidual: err });
  }
  result.inverse = inverses;
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, 'dense-algebra.json'), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
