import type { CsrMatrix } from '../../data/csr';

/**
 * Personalized PageRank (random walk with restart) on a weighted CSR graph by forward push
 * (Andersen, Chung & Lang 2006). The walk moves from u to a neighbor v with probability
 * w(u, v) / strength(u) and jumps back to the restart distribution s with probability
 * `restart`; an item without neighbors ends the walk. The exact vector solves
 * π = restart · s + (1 - restart) · π T.
 *
 * Push keeps a residual r (mass not yet spread, initially s) and repeatedly takes a node u
 * with r(u) > epsilon · degree(u): `restart · r(u)` stays at u, the rest moves to u's
 * neighbors by T. Every push spreads at least restart · epsilon · degree(u) of mass over
 * degree(u) edges, so one query costs at most 1 / (restart · epsilon) edge visits whatever
 * the graph size, and touches only nodes near the sources.
 *
 * The score of a node is restart x (all mass that ever arrived there by walking, excluding its
 * own restart mass s(v)) = π̂(v) - restart · s(v), where π̂ = p + restart · r is the usual
 * push estimate (a lower bound of π that converges to it as epsilon -> 0). Leaving s out
 * means a query item is not scored merely for being in the query, only for being reachable
 * from the query (its own or other items' neighborhoods).
 */
export class PushWorkspace {
  private readonly residual: Float64Array;
  /** Mass that arrived at each node by a walk step (the score before scaling by restart). */
  private readonly arrived: Float64Array;
  private readonly mark: Uint8Array;
  private readonly queued: Uint8Array;
  private readonly queue: Int32Array;
  /** Nodes with a nonzero residual or arrival, in first-touch order. */
  readonly touched: Int32Array;
  private nTouched = 0;

  constructor(
    private readonly graph: CsrMatrix,
    /** 1 / strength(u) (0 for an isolated node), the row normalization of the transitions. */
    private readonly invStrength: Float64Array,
  ) {
    const n = graph.nRows;
    this.residual = new Float64Array(n);
    this.arrived = new Float64Array(n);
    this.mark = new Uint8Array(n);
    this.queued = new Uint8Array(n);
    this.queue = new Int32Array(n);
    this.touched = new Int32Array(n);
  }

  get touchedCount(): number {
    return this.nTouched;
  }

  /** Score of `node` from the last run (restart x mass that walked there). */
  score(node: number, restart: number): number {
    return restart * this.arrived[node];
  }

  /**
   * Runs push from restart masses `mass[k]` on `sources[k]` (sources distinct). Clears the
   * previous run first. Afterwards touched[0 .. touchedCount) lists every node with a score.
   */
  run(sources: Int32Array, mass: Float64Array, restart: number, epsilon: number): void {
    this.clear();
    const { indptr, indices, values } = this.graph;
    const { residual, arrived, mark, queued, queue, touched, invStrength } = this;
    const capacity = queue.length;
    let head = 0;
    let size = 0;
    let nTouched = 0;
    for (let k = 0; k < sources.length; k++) {
      const u = sources[k];
      residual[u] += mass[k];
      if (mark[u] === 0) {
        mark[u] = 1;
        touched[nTouched++] = u;
      }
    }
    for (let k = 0; k < sources.length; k++) {
      const u = sources[k];
      if (queued[u] === 0 && residual[u] > epsilon * (indptr[u + 1] - indptr[u])) {
        queued[u] = 1;
        queue[(head + size++) % capacity] = u;
      }
    }
    const walk = 1 - restart;
    while (size > 0) {
      const u = queue[head];
      head = head + 1 === capacity ? 0 : head + 1;
      size--;
      queued[u] = 0;
      const ru = residual[u];
      residual[u] = 0;
      const start = indptr[u];
      const end = indptr[u + 1];
      if (start === end) continue;
      const spread = walk * ru * invStrength[u];
      for (let e = start; e < end; e++) {
        const v = indices[e];
        const m = spread * values[e];
        residual[v] += m;
        arrived[v] += m;
        if (mark[v] === 0) {
          mark[v] = 1;
          touched[nTouched++] = v;
        }
        if (queued[v] === 0 && residual[v] > epsilon * (indptr[v + 1] - indptr[v])) {
          queued[v] = 1;
          let tail = head + size++;
          if (tail >= capacity) tail -= capacity;
          queue[tail] = v;
        }
      }
    }
    this.nTouched = nTouched;
  }

  /** Resets the buffers the last run touched: O(touched). */
  clear(): void {
    const { residual, arrived, mark, touched } = this;
    for (let t = 0; t < this.nTouched; t++) {
      const v = touched[t];
      residual[v] = 0;
      arrived[v] = 0;
      mark[v] = 0;
    }
    this.nTouched = 0;
  }
}

/** 1 / (sum of a row's weights), 0 for an empty row: the row normalization of a walk. */
export function inverseStrengths(graph: CsrMatrix): Float64Array {
  const out = new Float64Array(graph.nRows);
  const { indptr, values } = graph;
  for (let u = 0; u < graph.nRows; u++) {
    let s = 0;
    for (let e = indptr[u]; e < indptr[u + 1]; e++) s += values[e];
    out[u] = s > 0 ? 1 / s : 0;
  }
  return out;
}
