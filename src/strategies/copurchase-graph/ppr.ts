import type { CsrMatrix } from '../../data/csr';
import type { ScoreVector } from '../types';

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
  /**
   * Per node v, one record of four float64 at 4v: residual (mass not yet spread), arrived
   * (mass that came by a walk step: the score before scaling by restart), the push threshold
   * epsilon x degree(v), and the state: `run0 + TOUCHED` or `run0 + TOUCHED + QUEUED` when the
   * current run touched v; anything below `run0` means untouched, its residual and arrival
   * stale and read as 0 (zeroed at the first touch, in the line the visit writes anyway). An
   * edge visit reads and writes its neighbor's record only, one cache line, where separate
   * arrays cost one miss each (the walk was a quarter of a query's ensemble time at 50k items).
   */
  private readonly node: Float64Array;
  /**
   * The current run's state base, a multiple of 4 that every run raises by 4: clearing the
   * last run is O(1), where zeroing its touched records cost a cold miss per record at the
   * next query.
   */
  private run0 = 0;
  /** The epsilon the thresholds were computed for (NaN before the first run). */
  private epsilon = NaN;
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
    this.node = new Float64Array(4 * n);
    this.queue = new Int32Array(n);
    this.touched = new Int32Array(n);
  }

  get touchedCount(): number {
    return this.nTouched;
  }

  /** Score of `node` from the last run (restart x mass that walked there). */
  score(node: number, restart: number): number {
    return this.node[4 * node + 3] > this.run0 ? restart * this.node[4 * node + 1] : 0;
  }

  /**
   * Adds every node of the last run with a positive score to `out`, in touched order: the
   * score() of each, without its state test (a touched node is always of this run).
   */
  addScores(out: ScoreVector, restart: number): void {
    const { node, touched } = this;
    for (let t = 0; t < this.nTouched; t++) {
      const v = touched[t];
      const s = restart * node[4 * v + 1];
      if (s > 0) out.add(v, s);
    }
  }

  /**
   * Runs push from restart masses `mass[k]` on `sources[k]` (sources distinct). Clears the
   * previous run first. Afterwards touched[0 .. touchedCount) lists every node with a score.
   */
  run(sources: Int32Array, mass: Float64Array, restart: number, epsilon: number): void {
    this.clear();
    const { indptr, indices, values } = this.graph;
    const { node, queue, touched, invStrength } = this;
    if (epsilon !== this.epsilon) {
      // The same product the test residual > epsilon x degree always computed.
      for (let v = 0; v < this.graph.nRows; v++) node[4 * v + 2] = epsilon * (indptr[v + 1] - indptr[v]);
      this.epsilon = epsilon;
    }
    const touchedState = this.run0 + TOUCHED;
    const queuedState = touchedState + QUEUED;
    const capacity = queue.length;
    let head = 0;
    let size = 0;
    let nTouched = 0;
    for (let k = 0; k < sources.length; k++) {
      const u = 4 * sources[k];
      if (node[u + 3] < touchedState) {
        node[u] = 0;
        node[u + 1] = 0;
        node[u + 3] = touchedState;
        touched[nTouched++] = sources[k];
      }
      node[u] += mass[k];
    }
    for (let k = 0; k < sources.length; k++) {
      const u = 4 * sources[k];
      if (node[u + 3] === touchedState && node[u] > node[u + 2]) {
        node[u + 3] = queuedState;
        queue[(head + size++) % capacity] = sources[k];
      }
    }
    const walk = 1 - restart;
    while (size > 0) {
      const u = queue[head];
      head = head + 1 === capacity ? 0 : head + 1;
      size--;
      const r = 4 * u;
      node[r + 3] = touchedState;
      const ru = node[r];
      node[r] = 0;
      const start = indptr[u];
      const end = indptr[u + 1];
      if (start === end) continue;
      const spread = walk * ru * invStrength[u];
      for (let e = start; e < end; e++) {
        const v = indices[e];
        const m = spread * values[e];
        const w = 4 * v;
        const fresh = node[w + 3] < touchedState;
        if (fresh) {
          node[w] = 0;
          node[w + 1] = 0;
          touched[nTouched++] = v;
        }
        const residual = node[w] + m;
        node[w] = residual;
        node[w + 1] += m;
        if (node[w + 3] !== queuedState && residual > node[w + 2]) {
          node[w + 3] = queuedState;
          let tail = head + size++;
          if (tail >= capacity) tail -= capacity;
          queue[tail] = v;
        } else if (fresh) node[w + 3] = touchedState;
      }
    }
    this.nTouched = nTouched;
  }

  /** Forgets the last run: every record reads as untouched (O(1), see run0). */
  clear(): void {
    this.run0 += 4;
    this.nTouched = 0;
  }
}

/** PushWorkspace node states. */
const TOUCHED = 1;
const QUEUED = 2;

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
