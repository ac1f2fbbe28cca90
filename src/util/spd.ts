/**
 * Dense symmetric positive definite algebra on row-major Float64Array matrices: a Cholesky
 * solve for the small factors x factors systems of ALS fold-in and explain, and a blocked
 * in-place inverse for EASE's items x items Gram matrix.
 *
 * Why not ml-matrix for these: its matrices are arrays of row arrays and its inverse is an
 * LU solve against the identity, unblocked. `npx tsx benchmarks/dense-algebra.ts` measures
 * both side by side (the numbers are in docs/strategies.md, EASE section); the blocked sweep
 * below keeps the working set of its inner loop (two 64-wide panel rows) in L1 and reads the
 * matrix once per 64 columns instead of once per column.
 */
import { OptionError } from '../errors';
import { Pace } from './pace';
import { SimdKernels } from './wasm';

/**
 * Cholesky factor of the SPD n x n matrix `a` (row-major, only the lower triangle is read):
 * returns L (lower, row-major, a new array) with a = L L^T. Throws OptionError when `a` is not
 * positive definite (a pivot <= 0), naming `what`.
 */
export function cholesky(a: Float64Array, n: number, what = 'matrix'): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      if (i === j) {
        if (!(s > 0)) throw new OptionError(what, `is not positive definite (pivot ${j} is ${s}); increase the regularization`);
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j];
      }
    }
  }
  return l;
}

/** Solves L L^T x = b in place of `b` for the Cholesky factor `l` (n x n, lower, row-major). */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

/** Columns swept per block of spdInverse. */
const SWEEP_BLOCK = 64;

/**
 * Inverts the SPD n x n matrix `a` in place (row-major; on return `a` holds the full
 * symmetric inverse) by the blocked symmetric sweep operator: sweeping block K maps
 *   A_KK -> -A_KK^-1,  A_IK -> A_IK A_KK^-1,  A_IJ -> A_IJ - A_IK A_KK^-1 A_KJ,
 * and after every block is swept the matrix is -A^-1. Only the lower triangle is updated
 * (n^3 / 2 multiply-adds in all). Each block's rank-64 update is a dot product of two
 * contiguous 64-wide panel rows per matrix entry. Yields through `Pace` so a signal can stop it.
 */
export async function spdInverse(
  a: Float64Array,
  n: number,
  options: { signal?: AbortSignal; what?: string; onBlock?: (done: number, total: number) => void } = {},
): Promise<void> {
  if (a.length !== n * n) throw new OptionError('a', `has ${a.length} values for a ${n} x ${n} matrix`);
  const what = options.what ?? 'spdInverse';
  const pace = new Pace(options.signal, what);
  const nb = SWEEP_BLOCK;
  // The float64 SIMD kernel runs the rank updates where WebAssembly SIMD exists; the matrix
  // then lives in the kernel memory for the duration (copied in and out: n^2 against n^3 / 2).
  const kernels = SimdKernels.create();
  let work: Float64Array = a;
  let panel: Float64Array = new Float64Array(0);
  let scaled: Float64Array = new Float64Array(0);
  let ptr = { a: 0, panel: 0, scaled: 0 };
  if (kernels) {
    const ra = kernels.f64(n * n);
    const rp = kernels.f64(n * nb);
    const rs = kernels.f64(n * nb);
    kernels.commit();
    ra.view.set(a);
    work = ra.view;
    panel = rp.view;
    scaled = rs.view;
    ptr = { a: ra.ptr, panel: rp.ptr, scaled: rs.ptr };
  } else {
    panel = new Float64Array(n * nb); // A_iK for every row i (width w <= nb)
    scaled = new Float64Array(n * nb); // A_iK W
  }
  for (let k0 = 0; k0 < n; k0 += nb) {
    const k1 = Math.min(n, k0 + nb);
    const w = k1 - k0;
    // The kernel reads w rounded up to even: the extra column is zero in both panels.
    const wKernel = w + (w & 1);
    // Panel: A[i][k] for k in K, read from the lower triangle.
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < w; t++) {
        const k = k0 + t;
        panel[i * nb + t] = i >= k ? work[i * n + k] : work[k * n + i];
      }
      if (wKernel > w) panel[i * nb + w] = 0;
    }
    // W = A_KK^-1 through its Cholesky factor (column by column).
    const kk = new Float64Array(w * w);
    for (let s = 0; s < w; s++) for (let t = 0; t < w; t++) kk[s * w + t] = panel[(k0 + s) * nb + t];
    const l = cholesky(kk, w, what);
    const inv = new Float64Array(w * w);
    const col = new Float64Array(w);
    for (let t = 0; t < w; t++) {
      col.fill(0);
      col[t] = 1;
      choleskySolve(l, w, col);
      for (let s = 0; s < w; s++) inv[s * w + t] = col[s];
    }
    // scaled[i] = A_iK W for rows outside K.
    for (let i = 0; i < n; i++) {
      if (i >= k0 && i < k1) continue;
      const pi = i * nb;
      for (let t = 0; t < w; t++) {
        let s = 0;
        for (let u = 0; u < w; u++) s += panel[pi + u] * inv[u * w + t];
        scaled[pi + t] = s;
      }
      if (wKernel > w) scaled[pi + w] = 0;
    }
    // Rank-w update of the lower triangle outside K.
    for (let i = 0; i < n; i++) {
      if (i >= k0 && i < k1) continue;
      const before = Math.min(i + 1, k0);
      const after = i >= k1 ? i + 1 - k1 : 0;
      if (kernels) {
        kernels.rankUpdateF64(ptr.a + i * n * 8, ptr.scaled + i * nb * 8, ptr.panel, nb, wKernel, before);
        if (after > 0) kernels.rankUpdateF64(ptr.a + (i * n + k1) * 8, ptr.scaled + i * nb * 8, ptr.panel + k1 * nb * 8, nb, wKernel, after);
      } else {
        rankUpdateRow(work, i * n, scaled, i * nb, panel, nb, w, before);
        if (after > 0) rankUpdateRow(work, i * n + k1, scaled, i * nb, panel.subarray(k1 * nb), nb, w, after);
      }
      if (pace.due()) await pace.pause();
    }
    // New K columns: A_iK W outside K, -W inside.
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < w; t++) {
        const k = k0 + t;
        const v = i >= k0 && i < k1 ? -inv[(i - k0) * w + t] : scaled[i * nb + t];
        if (i >= k) work[i * n + k] = v;
        else work[k * n + i] = v;
      }
    }
    options.onBlock?.(k1, n);
  }
  // work holds -A^-1 in its lower triangle: negate and mirror into a.
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = -work[i * n + j];
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
}

/** a[row + j] -= scaled[pi .. pi+w) . panel[j*nb .. j*nb+w) for j in [0, count). */
function rankUpdateRow(a: Float64Array, row: number, scaled: Float64Array, pi: number, panel: Float64Array, nb: number, w: number, count: number): void {
  for (let j = 0; j < count; j++) {
    const pj = j * nb;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let u = 0;
    for (; u + 3 < w; u += 4) {
      s0 += scaled[pi + u] * panel[pj + u];
      s1 += scaled[pi + u + 1] * panel[pj + u + 1];
      s2 += scaled[pi + u + 2] * panel[pj + u + 2];
      s3 += scaled[pi + u + 3] * panel[pj + u + 3];
    }
    for (; u < w; u++) s0 += scaled[pi + u] * panel[pj + u];
    a[row + j] -= s0 + s1 + (s2 + s3);
  }
}
