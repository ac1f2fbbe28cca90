/**
 * The score merge: the one implementation of "strategies' scores -> ranked items" that serving
 * (HybridRecommender, the evaluation rankers) and weight tuning share, so a tuned trial ranks
 * exactly as the fitted recommender will.
 *
 * Per query and strategy: score into a ScoreVector; normalize over every finite score it
 * touched (normalize.ts); keep as candidates its best `candidatesPerStrategy` unblocked items
 * (ties at the cut kept). Then: add weight x normalized score of every candidate into one
 * float32 sum, strategy by strategy in order; rank the items with a positive sum (ties to the
 * lower index); when fewer than k pass, fill from the fallback, ranked below them.
 *
 * Tuning caches each validation query's candidates once (candidateCut, collectCandidates) and
 * replays only addCandidates + rankCombined per trial.
 */
import { ScoreVector, type Query, type Recommender } from '../strategies/types';
import { TopK } from '../util/topk';
import { affineOf, scoreStats, type Affine, type Normalization, type ScoreStats } from './normalize';

/** How the merge weighs and cuts: one weight per strategy (0 leaves it out), a normalization, a candidate cap. */
export interface MergeSettings {
  weights: Float64Array;
  normalization: Normalization;
  /** Candidates each strategy adds to the sum (Infinity: all). */
  candidatesPerStrategy: number;
}

/** The top k items, best first, with their scores; those from `fromEnsemble` on are the fallback's filler. */
export interface Ranked {
  items: Int32Array;
  scores: Float32Array;
  fromEnsemble: number;
}

/** Offers every fallback candidate (item, score) to `visit`, in any order. */
export type FallbackCandidates = (visit: (item: number, score: number) => void) => void;

/**
 * The raw score of the `cap`-th best finite touched item of `v` that is not blocked (the cut
 * of a strategy's candidate list), or -Infinity when at most `cap` items qualify. `scratch`
 * needs room for v.length numbers. Quickselect: O(touched) on average.
 */
export function candidateCut(v: ScoreVector, cap: number, blocked: Uint8Array | null, scratch: Float32Array): number {
  if (v.length <= cap) return -Infinity;
  const values = v.values;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const item = v.at(i);
    if (blocked !== null && blocked[item] === 1) continue;
    const s = values[item];
    if (Number.isFinite(s)) scratch[n++] = s;
  }
  if (n <= cap) return -Infinity;
  // Select the element of rank cap - 1 in descending order.
  const target = cap - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const a = scratch[lo];
    const b = scratch[mid];
    const c = scratch[hi];
    const pivot = a > b ? (b > c ? b : a > c ? c : a) : a > c ? a : b > c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (scratch[i] > pivot) i++;
      while (scratch[j] < pivot) j--;
      if (i <= j) {
        const t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return scratch[target];
}

/**
 * Copies the candidates of `v` (touched, unblocked, finite, raw >= cutoff) into items/raw in
 * touched order; returns how many.
 */
export function collectCandidates(v: ScoreVector, cutoff: number, blocked: Uint8Array | null, items: Int32Array, raw: Float32Array): number {
  const values = v.values;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const item = v.at(i);
    if (blocked !== null && blocked[item] === 1) continue;
    const s = values[item];
    if (!Number.isFinite(s) || s < cutoff) continue;
    items[n] = item;
    raw[n++] = s;
  }
  return n;
}

/** Adds weight x (raw x scale + shift) of candidates [from, to) into `combined`. */
export function addCandidates(items: Int32Array, raw: Float32Array, from: number, to: number, scale: number, shift: number, weight: number, combined: ScoreVector): void {
  const a = weight * scale;
  const b = weight * shift;
  for (let i = from; i < to; i++) combined.add(items[i], raw[i] * a + b);
}

/**
 * Buffers for rankCombined when one caller ranks many queries (weight tuning): the result is
 * then a view into them, valid until the next call.
 */
export class RankBuffers {
  readonly heap: TopK;
  readonly items: Int32Array;
  readonly scores: Float32Array;
  constructor(readonly k: number) {
    this.heap = new TopK(k);
    this.items = new Int32Array(k);
    this.scores = new Float32Array(k);
  }
}

/**
 * The k best items of `combined` with a positive sum that pass `accept` (all when null), then,
 * when fewer than k, the best `fallback` candidates that are not blocked, have no positive sum
 * and pass `accept`, scored below the last ensemble item (scaled into (0, half of it)).
 */
export function rankCombined(
  combined: ScoreVector,
  k: number,
  accept: ((item: number) => boolean) | null,
  fallback: FallbackCandidates | null,
  blocked: Uint8Array | null,
  buffers: RankBuffers | null = null,
): Ranked {
  const values = combined.values;
  const reuse = buffers !== null && accept === null && buffers.k === k;
  const chosen = pickTop(combined.length, k, accept, reuse ? buffers : null, 0, (heap) => {
    for (let i = 0; i < combined.length; i++) {
      const item = combined.at(i);
      const s = values[item];
      if (s > 0) heap.push(item, s);
    }
  });
  const n = chosen.items.length;
  if (n >= k || fallback === null) return { ...chosen, fromEnsemble: n };

  // Fewer than k chosen means every item with a positive sum was chosen or rejected by
  // `accept` (which would reject it again), so skipping them all skips the chosen.
  const extra = pickTop(Infinity, k - n, accept, reuse ? buffers : null, n, (heap) =>
    fallback((item, score) => {
      if ((blocked !== null && blocked[item] === 1) || values[item] > 0) return;
      heap.push(item, score);
    }),
  );
  const floor = n ? chosen.scores[n - 1] : 1;
  const top = extra.scores.length ? Math.max(extra.scores[0], 1e-12) : 1;
  const total = n + extra.items.length;
  const items = reuse ? buffers.items.subarray(0, total) : new Int32Array(total);
  const scores = reuse ? buffers.scores.subarray(0, total) : new Float32Array(total);
  if (!reuse) {
    items.set(chosen.items);
    scores.set(chosen.scores);
    items.set(extra.items, n);
  }
  for (let i = 0; i < extra.items.length; i++) scores[n + i] = (0.5 * floor * Math.max(extra.scores[i], 0)) / top;
  return { items, scores, fromEnsemble: n };
}

/**
 * The best k candidates (ties to the lower index) that pass `accept` (all when null), best
 * first. `collect` pushes every eligible candidate, of which there are at most `count`, into
 * the heap it is given. With a predicate, over-fetch and filter; grow the budget until k pass
 * or candidates run out. With `buffers` (no predicate) the result is a view of buffers from
 * position `at`.
 */
function pickTop(
  count: number,
  k: number,
  accept: ((item: number) => boolean) | null,
  buffers: RankBuffers | null,
  at: number,
  collect: (heap: TopK) => void,
): { items: Int32Array; scores: Float32Array } {
  if (buffers !== null) {
    const heap = k === buffers.k ? buffers.heap : new TopK(k);
    heap.clear();
    collect(heap);
    const n = heap.drainInto(buffers.items.subarray(at), buffers.scores.subarray(at));
    return { items: buffers.items.subarray(at, at + n), scores: buffers.scores.subarray(at, at + n) };
  }
  let budget = accept ? Math.max(4 * k, 16) : k;
  for (;;) {
    const heap = new TopK(Math.min(budget, count));
    collect(heap);
    const top = heap.sorted();
    if (!accept) return top;
    const items: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < top.items.length && items.length < k; i++) {
      if (accept(top.items[i])) {
        items.push(top.items[i]);
        scores.push(top.scores[i]);
      }
    }
    if (items.length >= k || heap.size < budget || budget >= count) {
      return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
    }
    budget *= 4;
  }
}

/**
 * One strategy's part of a query after scoring: the statistics every normalization needs,
 * and its candidates after the cut (in the candidate buffers of `MemberBuffers`).
 */
export interface MemberCandidates {
  stats: ScoreStats | null;
  cutoff: number;
  count: number;
}

/** Scores `query` with `strategy` into `v` (reset first) and cuts its candidates into items/raw. */
export function scoreMember(
  strategy: Recommender,
  query: Query,
  v: ScoreVector,
  cap: number,
  blocked: Uint8Array | null,
  scratch: Float32Array,
  items: Int32Array,
  raw: Float32Array,
): MemberCandidates {
  v.reset();
  strategy.score(query, v);
  const stats = scoreStats(v);
  if (stats === null) return { stats, cutoff: -Infinity, count: 0 };
  const cutoff = candidateCut(v, cap, blocked, scratch);
  return { stats, cutoff, count: collectCandidates(v, cutoff, blocked, items, raw) };
}

/**
 * The merge over fitted strategies, with reusable per-query buffers (one query at a time:
 * scoring is synchronous). HybridRecommender ranks through one, and so does every evaluation
 * ranker.
 */
export class MergeEngine {
  private readonly combined: ScoreVector;
  private readonly perStrategy: ScoreVector[];
  private readonly fallbackScores: ScoreVector;
  private readonly candidateItems: Int32Array;
  private readonly candidateRaw: Float32Array;
  private readonly scratch: Float32Array;
  /** Per strategy, its normalization in the last query (null: not merged). */
  private readonly maps: Array<Affine | null>;
  /** Per strategy, the lowest raw score it added in the last query. */
  private readonly cutoffs: Float64Array;

  constructor(
    readonly strategies: readonly Recommender[],
    readonly fallback: Recommender | null,
    readonly nItems: number,
  ) {
    this.combined = new ScoreVector(nItems);
    this.perStrategy = strategies.map(() => new ScoreVector(nItems));
    this.fallbackScores = new ScoreVector(nItems);
    this.candidateItems = new Int32Array(nItems);
    this.candidateRaw = new Float32Array(nItems);
    this.scratch = new Float32Array(nItems);
    this.maps = new Array<Affine | null>(strategies.length).fill(null);
    this.cutoffs = new Float64Array(strategies.length).fill(-Infinity);
  }

  /**
   * The top k items for `query`, none with blocked[item] === 1, all passing `accept`; with
   * `fill`, the fallback fills up to k. Contributions stay readable until the next call.
   */
  rank(query: Query, k: number, blocked: Uint8Array | null, accept: ((item: number) => boolean) | null, settings: MergeSettings, fill = true): Ranked {
    const { weights, normalization, candidatesPerStrategy } = settings;
    const combined = this.combined;
    combined.reset();
    this.maps.fill(null);
    this.cutoffs.fill(-Infinity);
    for (let s = 0; s < this.strategies.length; s++) {
      if (weights[s] === 0) continue;
      const v = this.perStrategy[s];
      const part = scoreMember(this.strategies[s], query, v, candidatesPerStrategy, blocked, this.scratch, this.candidateItems, this.candidateRaw);
      if (part.stats === null) continue;
      const map = affineOf(part.stats, normalization);
      this.maps[s] = map;
      this.cutoffs[s] = part.cutoff;
      addCandidates(this.candidateItems, this.candidateRaw, 0, part.count, map.scale, map.shift, weights[s], combined);
    }
    const fallback = fill && this.fallback !== null ? this.fallbackCandidates(query) : null;
    return rankCombined(combined, k, accept, fallback, blocked);
  }

  /** Weighted normalized contribution of strategy s to `item` (an unblocked item) in the last rank(). */
  contribution(s: number, item: number, weight: number): number {
    const v = this.perStrategy[s];
    const map = this.maps[s];
    if (weight === 0 || map === null || !v.has(item)) return 0;
    const raw = v.values[item];
    return Number.isFinite(raw) && raw >= this.cutoffs[s] ? weight * (raw * map.scale + map.shift) : 0;
  }

  /** The fallback's scores for `query`, computed once, when the fill first asks for them. */
  private fallbackCandidates(query: Query): FallbackCandidates {
    const fb = this.fallbackScores;
    const strategy = this.fallback!;
    let scored = false;
    return (visit) => {
      if (!scored) {
        fb.reset();
        strategy.score(query, fb);
        scored = true;
      }
      for (let i = 0; i < fb.length; i++) {
        const item = fb.at(i);
        visit(item, fb.values[item]);
      }
    };
  }
}
