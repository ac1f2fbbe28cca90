/**
 * The float32 SIMD kernels of kernels.wat, instantiated on a memory sized for one job. The
 * module is embedded (about 1 KB), compiled synchronously, and works the same in Node and in
 * browsers; `simdKernels` returns null where WebAssembly SIMD is missing, and callers keep a
 * plain typed-array path for that case.
 */
import { KERNELS_WASM_BASE64 } from './kernels';

interface KernelExports {
  memory: WebAssembly.Memory;
  cg_rows(y: number, x: number, g: number, indptr: number, indices: number, conf: number, u0: number, u1: number, n: number, steps: number, scratch: number): void;
  gram(y: number, r0: number, r1: number, n: number, g: number): void;
  score_rows(q: number, rows: number, count: number, n: number, out: number): void;
  score_above_4q(qs: number, rows: number, count: number, n: number, floors: number, scores: number, hits: number, cap: number, counts: number): void;
  rank_update_f64(a: number, scaled: number, panel: number, nb: number, w: number, count: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

type Kind = 'f32' | 'f64' | 'i32';
type View = Float32Array | Float64Array | Int32Array;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function compiledModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes = moduleBytes();
      compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A region of the kernel memory, as a byte offset and a typed view. */
export interface Region<T> {
  ptr: number;
  view: T;
}

/**
 * One instance of the kernels with a bump allocator over its memory: plan every region with
 * `f32`/`i32` first, then `commit()` grows the memory once and creates the views (growing
 * later would detach them).
 */
export class SimdKernels {
  private readonly exports: KernelExports;
  private next = 16;
  private readonly pending: Array<{ ptr: number; length: number; kind: Kind; resolve: (r: Region<View>) => void }> = [];
  private committed = false;

  private constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as KernelExports;
  }

  /** A fresh instance, or null where WebAssembly SIMD is unavailable. */
  static create(): SimdKernels | null {
    const module = compiledModule();
    if (!module) return null;
    return new SimdKernels(new WebAssembly.Instance(module, {}));
  }

  /** Plans a float32 region of `length` values (16-byte aligned); its view exists after commit(). */
  f32(length: number): Region<Float32Array> {
    return this.plan(length, 'f32') as Region<Float32Array>;
  }

  i32(length: number): Region<Int32Array> {
    return this.plan(length, 'i32') as Region<Int32Array>;
  }

  f64(length: number): Region<Float64Array> {
    return this.plan(length, 'f64') as Region<Float64Array>;
  }

  /** Grows the memory to hold every planned region and creates their views. */
  commit(): void {
    if (this.committed) throw new Error('SimdKernels.commit called twice');
    this.committed = true;
    const memory = this.exports.memory;
    const needed = Math.ceil(this.next / 65536) - memory.buffer.byteLength / 65536;
    if (needed > 0) memory.grow(needed);
    for (const p of this.pending) {
      const view =
        p.kind === 'f32' ? new Float32Array(memory.buffer, p.ptr, p.length) : p.kind === 'f64' ? new Float64Array(memory.buffer, p.ptr, p.length) : new Int32Array(memory.buffer, p.ptr, p.length);
      p.resolve({ ptr: p.ptr, view });
    }
  }

  cgRows(y: number, x: number, g: number, indptr: number, indices: number, conf: number, u0: number, u1: number, n: number, steps: number, scratch: number): void {
    this.exports.cg_rows(y, x, g, indptr, indices, conf, u0, u1, n, steps, scratch);
  }

  gram(y: number, r0: number, r1: number, n: number, g: number): void {
    this.exports.gram(y, r0, r1, n, g);
  }

  scoreRows(q: number, rows: number, count: number, n: number, out: number): void {
    this.exports.score_rows(q, rows, count, n, out);
  }

  /** Four queries against `count` rows, with the rows each query keeps above its floor; see kernels.wat. */
  scoreAbove4q(qs: number, rows: number, count: number, n: number, floors: number, scores: number, hits: number, cap: number, counts: number): void {
    this.exports.score_above_4q(qs, rows, count, n, floors, scores, hits, cap, counts);
  }

  /** a[j] -= scaled . panel_j (float64, w even) for j < count; see kernels.wat. */
  rankUpdateF64(a: number, scaled: number, panel: number, nb: number, w: number, count: number): void {
    this.exports.rank_update_f64(a, scaled, panel, nb, w, count);
  }

  private plan(length: number, kind: Kind): Region<View> {
    if (this.committed) throw new Error('SimdKernels: plan every region before commit()');
    const ptr = this.next;
    const bytes = kind === 'f64' ? 8 : 4;
    this.next = ptr + Math.ceil((Math.max(length, 1) * bytes) / 16) * 16;
    if (this.next > 4 * 2 ** 30 - 65536) throw new RangeError(`SimdKernels: ${this.next} bytes exceed WebAssembly's 4 GiB memory`);
    const region = { ptr, view: new Float32Array(0) as View };
    this.pending.push({ ptr, length, kind, resolve: (r) => (region.view = r.view) });
    return region;
  }
}

/** Rows of `width` values padded to a multiple of 4 (the kernels' vector length). */
export function paddedWidth(width: number): number {
  return Math.ceil(width / 4) * 4;
}
