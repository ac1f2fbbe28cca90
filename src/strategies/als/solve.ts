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
 * A half-step is two jobs on the parallel executor (src/util/parallel.ts): the Gram matrix as
 * partial sums over fixed blocks of rows (summed in block order), then the row solves over
 * ranges cut by their work. Each row's solve depends only on G, the fixed side and the row's
 * own entries and warm start, so the factors are bit-identical whatever the thread count.
 *
 * Shapes: factor matrices are row-major Float32Array, rows of n values: n = f on the
 * typed-array path (float64 arithmetic), n = f padded to a multiple of 4 on the float32
 * WebAssembly SIMD path (src/util/wasm, the padding stays zero). G and the small systems of
 * the fold-in are Float64Array f x f.
 */
import type { Confidences } from './confidence';
import { defineKernel, rangesByCost, runKernel, sharedCopy, sharedFloat32 } from '../../util/parallel';
import { paddedWidth, SimdKernels, type Region } from '../../util/wasm';

/** G = F^T F + reg I for the row-major rows x f matrix F (Float64, f x f, symmetric). */
export function gramPlusRidge(factors: Float32Array, f: number, reg: number): Float64Array {
  const g = new Float64Array(f * f);
  addGram(factors, f, 0, factors.length / f, g);
  return finishGram(g, f, reg);
}

/** g's upper triangle += sum over rows [r0, r1) of F of f_r f_r^T (rows of n values, the first f used). */
function addGram(factors: Float32Array, n: number, r0: number, r1: number, g: Float64Array, f = n): void {
  for (let r = r0; r < r1; r++) {
    const o = r * n;
    for (let a = 0; a < f; a++) {
      const va = factors[o + a];
      if (va === 0) continue;
      const ga = a * f;
      for (let b = a; b < f; b++) g[ga + b] += va * factors[o + b];
    }
  }
}

/** Adds the ridge to the diagonal of g's upper triangle and mirrors it below. */
function finishGram(g: Float64Array, f: number, reg: number): Float64Array {
  for (let a = 0; a < f; a++) {
    g[a * f + a] += reg;
    for (let b = a + 1; b < f; b++) g[b * f + a] = g[a * f + b];
  }
  return g;
}

/** Rows of the fixed side per Gram block: fixed, so the block sums never depend on the thread count. */
const GRAM_BLOCK_ROWS = 8192;
/**
 * Multiply-adds per range of row solves: about 15 ms, so abort and load balance stay
 * fine-grained, while the calling thread's hand-out of ranges (about 0.14 ms of its CPU per
 * range, measured at 100k x 20k, on a core the workers need) stays near 1%: a third of 16M,
 * the size before, took 0.4 s of a 5-iteration fit there.
 */
const SOLVE_RANGE_WORK = 48_000_000;

/** Input of the Gram job: rows [start, end) of `fixed` (rows of n values, f of them used). */
interface GramInput {
  fixed: Float32Array;
  n: number;
  f: number;
  simd: boolean;
}

/**
 * Sum of y y^T over rows [start, end) of the fixed side: the full n x n block in float32 from
 * the SIMD kernel, the upper f x f triangle in float64 on the typed-array path.
 */
export const alsGramKernel = defineKernel('als-gram', (input: GramInput, start: number, end: number): Float32Array | Float64Array => {
  const { fixed, n, f, simd } = input;
  if (!simd) {
    const g = new Float64Array(f * f);
    addGram(fixed, n, start, end, g, f);
    return g;
  }
  const m = kernelMemory(n, 0, end - start, 0);
  m.x.view.set(fixed.subarray(start * n, end * n));
  const g = m.g.view.subarray(0, n * n);
  g.fill(0);
  m.kernels.gram(m.x.ptr, 0, end - start, n, m.g.ptr);
  // G of the row-solve job set up here is gone: its next range copies it in again.
  m.job = null;
  return g.slice();
});

/** Input of the row-solve job: the target rows' entries (CSR), their warm starts, the fixed side and G. */
interface SolveInput {
  indptr: Int32Array;
  indices: Int32Array;
  conf: Float32Array;
  /** Current target factors (rows x n), the CG's starting points, overwritten by the solves. */
  target: Float32Array;
  fixed: Float32Array;
  /** G + reg I: n x n float32 (SIMD) or f x f float64 (typed arrays). */
  g: Float32Array | Float64Array;
  n: number;
  f: number;
  steps: number;
  simd: boolean;
  /** Rows and entries of the largest range, to size a thread's kernel memory once per job. */
  maxRows: number;
  maxEntries: number;
}

/**
 * A thread's kernel memory for ALS jobs, kept from job to job (a fit runs two jobs per
 * half-step, and a fresh WebAssembly instance and memory for each was a tenth of a small fit):
 * the fixed side and G of the row-solve job it last set up (`job`), and room for one range.
 */
interface KernelMemory {
  kernels: SimdKernels;
  n: number;
  fixedCap: number;
  rowsCap: number;
  entriesCap: number;
  job: SolveInput | null;
  fixed: Region<Float32Array>;
  g: Region<Float32Array>;
  indptr: Region<Int32Array>;
  indices: Region<Int32Array>;
  conf: Region<Float32Array>;
  x: Region<Float32Array>;
  scratch: Region<Float32Array>;
}

let memory: KernelMemory | null = null;

/** This thread's kernel memory with room for `fixedLength` fixed values, `rows` rows of n and `entries` entries (grown, never shrunk, while a fit runs). */
function kernelMemory(n: number, fixedLength: number, rows: number, entries: number): KernelMemory {
  const m = memory;
  if (m && m.n === n && m.fixedCap >= fixedLength && m.rowsCap >= rows && m.entriesCap >= entries) return m;
  const fixedCap = Math.max(fixedLength, m?.n === n ? m.fixedCap : 0);
  const rowsCap = Math.max(rows, m?.n === n ? m.rowsCap : 0);
  const entriesCap = Math.max(entries, m?.n === n ? m.entriesCap : 0);
  const k = SimdKernels.create();
  if (!k) throw new Error('ALS: WebAssembly SIMD is missing on this thread but was found on the calling one');
  const next: KernelMemory = {
    kernels: k,
    n,
    fixedCap,
    rowsCap,
    entriesCap,
    job: null,
    fixed: k.f32(fixedCap),
    g: k.f32(n * n),
    indptr: k.i32(rowsCap + 1),
    indices: k.i32(entriesCap),
    conf: k.f32(entriesCap),
    x: k.f32(rowsCap * n),
    scratch: k.f32(3 * n),
  };
  k.commit();
  memory = next;
  return next;
}

/** Lets the calling thread's kernel memory go at the end of a fit (pool workers drop theirs when they exit). */
function releaseKernelMemory(): void {
  memory = null;
}

/** The kernel memory holding `input`'s fixed side and G (copied in on the thread's first range of the job). */
function solveMemory(input: SolveInput): KernelMemory {
  const m = kernelMemory(input.n, input.fixed.length, input.maxRows, input.maxEntries);
  if (m.job !== input) {
    m.fixed.view.set(input.fixed);
    m.g.view.set(input.g);
    m.job = input;
  }
  return m;
}

/**
 * `steps` conjugate-gradient steps for each row of [start, end), started from the row's
 * current value, as implicit does (three steps from a warm start are enough, since ALS only
 * needs each half-step to descend). A row with no entries gets the zero factor. Writes the new
 * rows in place in `target` (shared between threads where the platform can): no other range
 * reads them, and the calling thread no longer copies every range's rows back one after another.
 */
export const alsSolveKernel = defineKernel('als-solve', (input: SolveInput, start: number, end: number): null => {
  const { indptr, indices, conf, target, n, steps } = input;
  const rows = end - start;
  const e0 = indptr[start];
  const e1 = indptr[end];
  if (!input.simd) {
    const s = new CgScratch(n);
    const g = input.g as Float64Array;
    for (let u = start; u < end; u++) solveRow(indptr[u], indptr[u + 1], indices, conf, target, u * n, input.fixed, n, g, steps, s);
    return null;
  }
  const m = solveMemory(input);
  for (let u = 0; u <= rows; u++) m.indptr.view[u] = indptr[start + u] - e0;
  m.indices.view.set(indices.subarray(e0, e1));
  m.conf.view.set(conf.subarray(e0, e1));
  m.x.view.set(target.subarray(start * n, end * n));
  m.kernels.cgRows(m.fixed.ptr, m.x.ptr, m.g.ptr, m.indptr.ptr, m.indices.ptr, m.conf.ptr, 0, rows, n, steps, m.scratch.ptr);
  target.set(m.x.view.subarray(0, rows * n), start * n);
  return null;
});

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

/** The typed-array CG of one row with entries [start, end), in float64, its factor at out[xo .. xo + f). */
function solveRow(
  start: number,
  end: number,
  indices: Int32Array,
  values: Float32Array,
  out: Float32Array,
  xo: number,
  fixed: Float32Array,
  f: number,
  g: Float64Array,
  steps: number,
  s: CgScratch,
): void {
  if (start === end) {
    out.fill(0, xo, xo + f);
    return;
  }
  const { x, r, p, ap } = s;
  for (let d = 0; d < f; d++) x[d] = out[xo + d];
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
  for (let d = 0; d < f; d++) out[xo + d] = x[d];
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

/** How a fit's jobs run. */
export interface SolveSettings {
  /** Threads (default: every thread of the executor; 1 runs on the calling thread). */
  threads?: number;
  signal?: AbortSignal;
  /** Stage name of AbortedError messages. */
  stage: string;
  /** Use the WebAssembly SIMD kernels (default: where available). */
  simd?: boolean;
}

/** Settings of one ALS fit. */
export interface AlternationSettings extends SolveSettings {
  f: number;
  regularization: number;
  cgSteps: number;
  iterations: number;
  /** Called after each full iteration (1-based). */
  onIteration: (iteration: number) => void;
}

/**
 * One half-step: G from `fixed`, then `steps` CG steps for every row of `target` (in place;
 * both rows of n values), the row solves spread over ranges of about equal work.
 */
async function halfStep(conf: Confidences, target: Float32Array, fixed: Float32Array, p: { n: number; f: number; simd: boolean }, reg: number, steps: number, s: SolveSettings): Promise<void> {
  const { n, f, simd } = p;
  const run = { threads: s.threads, signal: s.signal, stage: s.stage };
  const fixedRows = fixed.length / n;
  const gramBounds = Int32Array.from({ length: Math.ceil(fixedRows / GRAM_BLOCK_ROWS) + 1 }, (_, b) => Math.min(fixedRows, b * GRAM_BLOCK_ROWS));
  const parts = await runKernel(alsGramKernel, { fixed, n, f, simd }, gramBounds, run);
  const side = simd ? n : f;
  const sum = new Float64Array(side * side);
  for (const part of parts) for (let k = 0; k < sum.length; k++) sum[k] += part[k];
  let g: Float32Array | Float64Array;
  if (simd) {
    for (let d = 0; d < f; d++) sum[d * n + d] += reg;
    g = Float32Array.from(sum);
  } else g = finishGram(sum, f, reg);
  const { indptr } = conf;
  const bounds = solveBounds(indptr, n, steps);
  let maxRows = 0;
  let maxEntries = 0;
  for (let r = 0; r + 1 < bounds.length; r++) {
    maxRows = Math.max(maxRows, bounds[r + 1] - bounds[r]);
    maxEntries = Math.max(maxEntries, indptr[bounds[r + 1]] - indptr[bounds[r]]);
  }
  const input: SolveInput = { indptr, indices: conf.indices, conf: conf.values, target, fixed, g, n, f, steps, simd, maxRows, maxEntries };
  await runKernel(alsSolveKernel, input, bounds, run);
}

/** Ranges of rows of about SOLVE_RANGE_WORK multiply-adds each: (steps + 1) passes of G (n^2) and of the row's entries (2n each). */
function solveBounds(indptr: Int32Array, n: number, steps: number): Int32Array {
  return rangesByCost(indptr.length - 1, SOLVE_RANGE_WORK, (u) => (steps + 1) * (n * n + 2 * n * (indptr[u + 1] - indptr[u])));
}

function padRows(from: Float32Array, f: number, n: number): Float32Array {
  const rows = from.length / f;
  const to = sharedFloat32(rows * n);
  if (n === f) to.set(from);
  else for (let r = 0; r < rows; r++) to.set(from.subarray(r * f, (r + 1) * f), r * n);
  return to;
}

function unpadRows(from: Float32Array, n: number, to: Float32Array, f: number): void {
  const rows = from.length / n;
  if (n === f) to.set(from);
  else for (let r = 0; r < rows; r++) to.set(from.subarray(r * n, r * n + f), r * f);
}

/**
 * Runs the ALS iterations on `users` (nUsers x f) and `items` (nItems x f), writing the fitted
 * factors back into them: the float32 WebAssembly SIMD kernels of src/util/wasm when
 * available, else typed-array passes in float64. Returns which path ran. Each path is
 * deterministic and gives the same bytes for any thread count.
 */
export async function alternate(conf: Confidences, confT: Confidences, users: Float32Array, items: Float32Array, s: AlternationSettings): Promise<'simd' | 'js'> {
  const f = s.f;
  const simd = s.simd ?? SimdKernels.create() !== null;
  const layout = { n: simd ? paddedWidth(f) : f, f, simd };
  // Shared once here (unless they already are), so no job of the fit copies them again for the workers.
  const share = (m: Confidences) => ({ indptr: sharedCopy(m.indptr), indices: sharedCopy(m.indices), values: sharedCopy(m.values) });
  const byUser = share(conf);
  const byItem = share(confT);
  const x = padRows(users, f, layout.n);
  const y = padRows(items, f, layout.n);
  try {
    for (let it = 1; it <= s.iterations; it++) {
      await halfStep(byUser, x, y, layout, s.regularization, s.cgSteps, s);
      await halfStep(byItem, y, x, layout, s.regularization, s.cgSteps, s);
      s.onIteration(it);
    }
  } finally {
    releaseKernelMemory();
  }
  unpadRows(x, layout.n, users, f);
  unpadRows(y, layout.n, items, f);
  return simd ? 'simd' : 'js';
}
