/**
 * Adam for parameters kept in typed arrays, shared by the tfjs-trained models (tfjs computes a
 * batch's gradients; these apply them): dense Adam for small tensors, and a lazy (sparse)
 * Adam over the rows of an embedding table that a batch touched.
 */

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/**
 * Embedding tables live in typed arrays and are updated by a lazy (sparse) Adam on the rows a
 * batch touched; tfjs computes the batch's loss and gradients from gathered rows. A tfjs
 * embedding gradient is a dense table-sized tensor, and Adam over it costs O(table) per step:
 * at 100k users x 20k items that was 4x slower than this (benchmarks/ncf-backends.ts).
 */
export class SparseAdamRows {
  /** Adam moments interleaved per parameter (m at 2p, v at 2p + 1): one cache miss per row, not two. */
  private readonly moments: Float32Array;
  private readonly slot: Int32Array;
  /** Per batch: the distinct rows touched, their summed gradients and summed L2 decay factors. */
  private rows: Int32Array;
  private grad: Float32Array;
  private decay: Float32Array;
  private count = 0;

  constructor(
    readonly table: Float32Array,
    readonly width: number,
  ) {
    this.moments = new Float32Array(2 * table.length);
    this.slot = new Int32Array(table.length / width).fill(-1);
    this.rows = new Int32Array(1024);
    this.grad = new Float32Array(1024 * width);
    this.decay = new Float32Array(1024);
  }

  /** Copies row `rows[e]` of the table to `out[e * width ..]` for e < n; returns their summed squares. */
  gather(rows: Int32Array, n: number, out: Float32Array): number {
    const { table, width } = this;
    let squares = 0;
    for (let e = 0; e < n; e++) {
      const src = rows[e] * width;
      const dst = e * width;
      for (let k = 0; k < width; k++) {
        const x = table[src + k];
        out[dst + k] = x;
        squares += x * x;
      }
    }
    return squares;
  }

  /** Sums by row the gradients of `rows` (duplicates included); each occurrence adds `decay` times the row (the L2 gradient) at step(). */
  accumulate(rows: Int32Array, n: number, grads: Float32Array, decay: number): void {
    const { width, slot } = this;
    for (let e = 0; e < n; e++) {
      const row = rows[e];
      let s = slot[row];
      if (s < 0) {
        s = this.count++;
        if (s === this.rows.length) this.grow();
        slot[row] = s;
        this.rows[s] = row;
        this.grad.fill(0, s * width, (s + 1) * width);
        this.decay[s] = 0;
      }
      this.decay[s] += decay;
      const grad = this.grad;
      const dst = s * width;
      const src = e * width;
      for (let k = 0; k < width; k++) grad[dst + k] += grads[src + k];
    }
  }

  /** One Adam step on the accumulated rows (bias corrections c1, c2 of the global step). */
  step(lr: number, c1: number, c2: number): void {
    const { table, moments, width, slot, rows, grad, decay } = this;
    const rate = lr / c1;
    const vScale = 1 / c2;
    for (let s = 0; s < this.count; s++) {
      const row = rows[s];
      slot[row] = -1;
      const base = row * width;
      const d = decay[s];
      for (let k = 0; k < width; k++) {
        const p = base + k;
        const g = grad[s * width + k] + d * table[p];
        const mk = ADAM_BETA1 * moments[2 * p] + (1 - ADAM_BETA1) * g;
        const vk = ADAM_BETA2 * moments[2 * p + 1] + (1 - ADAM_BETA2) * g * g;
        moments[2 * p] = mk;
        moments[2 * p + 1] = vk;
        table[p] -= (rate * mk) / (Math.sqrt(vk * vScale) + ADAM_EPSILON);
      }
    }
    this.count = 0;
  }

  private grow(): void {
    const size = this.rows.length * 2;
    const rows = new Int32Array(size);
    rows.set(this.rows);
    const grad = new Float32Array(size * this.width);
    grad.set(this.grad);
    const decay = new Float32Array(size);
    decay.set(this.decay);
    this.rows = rows;
    this.grad = grad;
    this.decay = decay;
  }
}

export class DenseAdam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  constructor(readonly param: Float32Array) {
    this.m = new Float32Array(param.length);
    this.v = new Float32Array(param.length);
  }

  step(grad: ArrayLike<number>, lr: number, c1: number, c2: number): void {
    const { param, m, v } = this;
    for (let p = 0; p < param.length; p++) {
      const g = grad[p];
      m[p] = ADAM_BETA1 * m[p] + (1 - ADAM_BETA1) * g;
      v[p] = ADAM_BETA2 * v[p] + (1 - ADAM_BETA2) * g * g;
      param[p] -= (lr * (m[p] / c1)) / (Math.sqrt(v[p] / c2) + ADAM_EPSILON);
    }
  }
}
