/**
 * The linear algebra of implicit ALS (Hu, Koren & Volinsky 2008), with the conjugate-gradient
 * half-step of Takacs et al. 2011 that implicit's AlternatingLeastSquares uses.
 *
 * For a row u (a user when solving users, an item when solving items) with entries (i, c_ui),
 * c_ui = alpha * w_ui, the factor x_u minimises
 *   sum over all i of (1 + c_ui) (p_ui - x_u . y_i)^2 + reg |x_u|^2,   p_ui = 1 where c_ui > 0,
 * the normal equations being A x = b with
 *   A = Y^T Y + reg I + sum over entries of c_ui y_i y_i^T,   b = sum over entries of (1 + c_ui) y_i.
 * Y^T Y + reg I (G) is shared by every row; the entry terms touch only the row's items.
 *
 * Shapes: factor matrices are row-major Float32Array (rows x f); G and the small systems are
 * Float64Array f x f.
 */
import type { CsrMatrix } from '../../data/csr';
import type { Pace } from '../../util/pace';
import { paddedWidth, SimdKernels } from '../../util/wasm';

/** G = F^T F + reg I for the row-major rows x f matrix F (Float64, f x f, symmetric). */
export function gramPlusRidge(factors: Float32Array, f: number, reg: number): Float64Array {
  const g = new Float64Array(f * f);
  const n = factors.length / f;
  for (let r = 0; r < n; r++) {
    const o = r * f;
    for (let a = 0; a < f; a++) {
      const va = factors[o + a];
      if (va === 0) continue;
      const ga = a * f;
      for (let b = a; b < f; b++) g[ga + b] += va * factors[o + b];
    }
  }
  for (let a = 0; a < f; a++) {
    g[a * f + a] += reg;
    for (let b = a + 1; b < f; b++) g[b * f + a] = g[a * f + b];
  }
  return g;
}

/** Scratch vectors of one CG solve. */
class CgScratch {
  readonly x: Float64Array;
  readonly r: Float64Array;
  readonly p: Float64Array;
  readonly ap: Float64Array;
  constructor(f: number) {
    this.x = new Float64Array(f);
    this.r = new Float64Array(f);
    this.p = new Float64Array(f);
    this.ap = new Float64Array(f);
  }
}

/**
 * One half-iteration: updates every row of `target` (rows x f) against the fixed `fixed`
 * (cols x f) with `steps` conjugate-gradient steps started from the row's current value, as
 * implicit does (three steps from a warm start are enough, since ALS only needs each
 * half-step to descend). `conf` holds c_ui = alpha * w_ui. A row with no entries gets the
 * zero factor. Yields through `pace` every few hundred rows.
 */
export async function conjugateGradientPass(conf: CsrMatrix, target: Float32Array, fixed: Float32Array, f: number, reg: number, steps: number, pace: Pace): Promise<void> {
  const g = gramPlusRidge(fixed, f, reg);
  const s = new CgScratch(f);
  const { indptr, indices, values } = conf;
  const n = conf.nRows;
  for (let u0 = 0; u0 < n; u0 += 64) {
    const u1 = Math.min(n, u0 + 64);
    for (let u = u0; u < u1; u++) solveRow(u, indptr, indices, values, target, fixed, f, g, steps, s);
    if (pace.due()) await pace.pause();
  }
}

function solveRow(
  u: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  target: Float32Array,
  fixed: Float32Array,
  f: number,
  g: Float64Array,
  steps: number,
  s: CgScratch,
): void {
  const start = indptr[u];
  const end = indptr[u + 1];
  const xo = u * f;
  if (start === end) {
    target.fill(0, xo, xo + f);
    return;
  }
  const { x, r, p, ap } = s;
  for (let d = 0; d < f; d++) x[d] = target[xo + d];
  // r = b - A x = -G x + sum over entries of ((1 + c) - c (y . x)) y
  symv(g, x, r, f, -1);
  for (let e = start; e < end; e++) {
    const yo = indices[e] * f;
    const c = values[e];
    const t = 1 + c - c * dotMixed(fixed, yo, x, f);
    for (let d = 0; d < f; d++) r[d] += t * fixed[yo + d];
  }
  let rsOld = 0;
  for (let d = 0; d < f; d++) {
    p[d] = r[d];
    rsOld += r[d] * r[d];
  }
  if (rsOld < 1e-20) return;
  for (let it = 0; it < steps; it++) {
    // ap = A p = G p + sum of c (y . p) y
    symv(g, p, ap, f, 1);
    for (let e = start; e < end; e++) {
      const yo = indices[e] * f;
      const t = values[e] * dotMixed(fixed, yo, p, f);
      for (let d = 0; d < f; d++) ap[d] += t * fixed[yo + d];
    }
    let pap = 0;
    for (let d = 0; d < f; d++) pap += p[d] * ap[d];
    const step = rsOld / pap;
    let rsNew = 0;
    for (let d = 0; d < f; d++) {
      x[d] += step * p[d];
      r[d] -= step * ap[d];
      rsNew += r[d] * r[d];
    }
    if (rsNew < 1e-20) break;
    const beta = rsNew / rsOld;
    for (let d = 0; d < f; d++) p[d] = r[d] + beta * p[d];
    rsOld = rsNew;
  }
  for (let d = 0; d < f; d++) target[xo + d] = x[d];
}

/** out = scale * G v for the symmetric f x f G. */
function symv(g: Float64Array, v: Float64Array, out: Float64Array, f: number, scale: number): void {
  for (let a = 0; a < f; a++) {
    const ga = a * f;
    let s0 = 0;
    let s1 = 0;
    let b = 0;
    for (; b + 1 < f; b += 2) {
      s0 += g[ga + b] * v[b];
      s1 += g[ga + b + 1] * v[b + 1];
    }
    if (b < f) s0 += g[ga + b] * v[b];
    out[a] = scale * (s0 + s1);
  }
}

function dotMixed(y: Float32Array, yo: number, v: Float64Array, f: number): number {
  let s0 = 0;
  let s1 = 0;
  let d = 0;
  for (; d + 1 < f; d += 2) {
    s0 += y[yo + d] * v[d];
    s1 += y[yo + d + 1] * v[d + 1];
  }
  if (d < f) s0 += y[yo + d] * v[d];
  return s0 + s1;
}

/**
 * The exact normal equations of one folded-in row (implicit's `recalculate_user` /
 * `user_linear_equation`): A = G + sum of c_i y_i y_i^T and b = sum of (1 + c_i) y_i for
 * the row's items and confidences c_i. Returns A (f x f, new) and writes b.
 */
export function foldInSystem(g: Float64Array, fixed: Float32Array, f: number, items: Int32Array, conf: Float64Array, b: Float64Array): Float64Array {
  const a = g.slice();
  b.fill(0);
  for (let k = 0; k < items.length; k++) {
    const yo = items[k] * f;
    const c = conf[k];
    for (let d = 0; d < f; d++) {
      const yd = fixed[yo + d];
      b[d] += (1 + c) * yd;
      if (c === 0 || yd === 0) continue;
      const cy = c * yd;
      const row = d * f;
      for (let e = 0; e <= d; e++) a[row + e] += cy * fixed[yo + e];
    }
  }
  for (let d = 0; d < f; d++) for (let e = 0; e < d; e++) a[e * f + d] = a[d * f + e];
  return a;
}

/** Settings of one ALS fit. */
export interface AlternationSettings {
  f: number;
  regularization: number;
  cgSteps: number;
  iterations: number;
  pace: Pace;
  /** Called after each full iteration (1-based). */
  onIteration: (iteration: number) => void;
}

/**
 * Runs the ALS iterations in place on `users` (nUsers x f) and `items` (nItems x f): the
 * float32 WebAssembly SIMD kernels of src/util/wasm when available (rows padded to a multiple
 * of 4 inside the kernel memory), else the typed-array passes above (float64 arithmetic).
 * Returns which path ran. Each path is deterministic.
 */
export async function alternate(conf: CsrMatrix, confT: CsrMatrix, users: Float32Array, items: Float32Array, s: AlternationSettings): Promise<'simd' | 'js'> {
  const kernels = SimdKernels.create();
  if (!kernels) {
    for (let it = 1; it <= s.iterations; it++) {
      await conjugateGradientPass(conf, users, items, s.f, s.regularization, s.cgSteps, s.pace);
      await conjugateGradientPass(confT, items, users, s.f, s.regularization, s.cgSteps, s.pace);
      s.onIteration(it);
    }
    return 'js';
  }
  const f = s.f;
  const n = paddedWidth(f);
  const side = (m: CsrMatrix) => ({ indptr: kernels.i32(m.indptr.length), indices: kernels.i32(m.indices.length), conf: kernels.f32(m.values.length), rows: m.nRows });
  const u = side(conf);
  const i = side(confT);
  const x = kernels.f32(conf.nRows * n);
  const y = kernels.f32(confT.nRows * n);
  const g = kernels.f32(n * n);
  const scratch = kernels.f32(3 * n);
  kernels.commit();
  for (const [region, m] of [
    [u, conf],
    [i, confT],
  ] as const) {
    region.indptr.view.set(m.indptr);
    region.indices.view.set(m.indices);
    region.conf.view.set(m.values);
  }
  const pad = (from: Float32Array, to: Float32Array) => {
    for (let r = 0; r < from.length / f; r++) to.set(from.subarray(r * f, (r + 1) * f), r * n);
  };
  pad(users, x.view);
  pad(items, y.view);
  const rowsPerCall = Math.max(16, Math.floor(2_000_000 / (n * n + 16 * n * Math.max(1, conf.nnz / Math.max(1, conf.nRows)))));
  const pass = async (target: typeof u, tx: number, fixed: number, fixedRows: number) => {
    g.view.fill(0);
    for (let r0 = 0; r0 < fixedRows; r0 += 4096) {
      kernels.gram(fixed, r0, Math.min(fixedRows, r0 + 4096), n, g.ptr);
      if (s.pace.due()) await s.pace.pause();
    }
    for (let d = 0; d < n; d++) g.view[d * n + d] += s.regularization;
    for (let r0 = 0; r0 < target.rows; r0 += rowsPerCall) {
      kernels.cgRows(fixed, tx, g.ptr, target.indptr.ptr, target.indices.ptr, target.conf.ptr, r0, Math.min(target.rows, r0 + rowsPerCall), n, s.cgSteps, scratch.ptr);
      if (s.pace.due()) await s.pace.pause();
    }
  };
  for (let it = 1; it <= s.iterations; it++) {
    await pass(u, x.ptr, y.ptr, confT.nRows);
    await pass(i, y.ptr, x.ptr, conf.nRows);
    s.onIteration(it);
  }
  const unpad = (from: Float32Array, to: Float32Array) => {
    for (let r = 0; r < to.length / f; r++) to.set(from.subarray(r * n, r * n + f), r * f);
  };
  unpad(x.view, users);
  unpad(y.view, items);
  return 'simd';
}
