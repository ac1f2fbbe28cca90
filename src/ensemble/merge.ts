/**
 * The score merge: the one implementation of "strategies' scores -> ranked items" that serving
 * (HybridRecommender, the evaluation rankers) and weight tuning share, so a tuned trial ranks
 * exactly as the fitted recommender will.
 *
 * Per query and strategy: score into a ScoreVector; normalize over every finite score it
 * touched (normalize.ts); keep as candidates its best `candidatesPerStrategy` unblocked items
 * (ties at the cut kept). Every candidate gets a slot in the query's CandidateUnion. Then: add
 * weight x normalized score of every candidate into one float32 sum per slot, strategy by
 * strategy in order; rank the items with a positive sum (ties to the lower index); when fewer
 * than k pass, fill from the fallback, ranked below them.
 *
 * Tuning caches each validation query's candidates once (scoreMember, as slots of its union)
 * and replays only addCandidates + rankCombined per trial.
 */
import { ScoreVector, scoresVersionOf, type Query, type Recommender } from '../strategies/types';
import { TopK } from '../util/topk';
import { affineOf, rankValues, scoreStats, type Affine, type Normalization, type ScoreStats } from './normalize';

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

/**
 * Offers every fallback candidate to `visit`, in any order: the item, its fallback score, and
 * its slot in the query's candidate union (-1 when no strategy offered it).
 */
export type FallbackCandidates = (visit: (item: number, score: number, slot: number) => void) => void;

/** Where one strategy's candidates of one query go (room for every item). */
export class CandidateBuffers {
  readonly items: Int32Array;
  readonly raw: Float32Array;
  /** The candidates' slots in the query's CandidateUnion. */
  readonly slots: Int32Array;
  /** Scores copied for the cut's selection. */
  readonly scratch: Float32Array;
  /** The bits of `raw` (the cut's radix pass reads them). */
  readonly rawBits: Uint32Array;
  constructor(nItems: number) {
    this.items = new Int32Array(nItems);
    this.raw = new Float32Array(nItems);
    this.rawBits = new Uint32Array(this.raw.buffer);
    this.slots = new Int32Array(nItems);
    this.scratch = new Float32Array(nItems);
  }
}

/**
 * The items some strategy offered for one query, each at a slot 0 .. size, with one float32
 * sum per slot: the merge adds into `sums[slot]` and ranks the slots, so its cost follows the
 * candidates, not the catalog.
 */
export class CandidateUnion {
  readonly items: Int32Array;
  readonly sums: Float32Array;
  size = 0;
  /** Slot of each item in the union, -1 when absent (reset by clear()). */
  private readonly slotOf: Int32Array;

  constructor(nItems: number) {
    this.items = new Int32Array(nItems);
    this.sums = new Float32Array(nItems);
    this.slotOf = new Int32Array(nItems).fill(-1);
  }

  /** The slot of `item`, -1 when no strategy offered it. */
  slot(item: number): number {
    return this.slotOf[item];
  }

  /** Writes the slots of items[0 .. n) into `slots`, giving new items the next free slots. */
  admit(items: Int32Array, n: number, slots: Int32Array): void {
    const { slotOf } = this;
    for (let i = 0; i < n; i++) {
      const item = items[i];
      let slot = slotOf[item];
      if (slot < 0) {
        slot = this.size++;
        slotOf[item] = slot;
        this.items[slot] = item;
        this.sums[slot] = 0;
      }
      slots[i] = slot;
    }
  }

  /**
   * admit() and addCandidates() in one pass, without slots: adds weight x (raw x scale +
   * shift) of items[0 .. n) into their sums, with the same float operations in the same order.
   */
  admitAdding(items: Int32Array, raw: Float32Array, n: number, scale: number, shift: number, weight: number, base: Float32Array | null = null): void {
    const { slotOf, sums } = this;
    const a = weight * scale;
    const b = weight * shift;
    for (let i = 0; i < n; i++) {
      const item = items[i];
      let slot = slotOf[item];
      if (slot < 0) {
        slot = this.size++;
        slotOf[item] = slot;
        this.items[slot] = item;
        // A new slot starts from what the deferred fixed strategies before this one added (see FixedStep).
        if (base === null) sums[slot] = raw[i] * a + b;
        else sums[slot] = base[item] + (raw[i] * a + b);
      } else sums[slot] += raw[i] * a + b;
    }
  }

  /**
   * admitAdding() of every finite, unblocked score of `v`, read in place: the candidates of a
   * strategy that touched no more than the cap (cutCandidates would copy them all, in this order).
   */
  admitScores(v: ScoreVector, blocked: Uint8Array | null, scale: number, shift: number, weight: number, base: Float32Array | null): void {
    const { slotOf, sums, items } = this;
    const values = v.values;
    const a = weight * scale;
    const b = weight * shift;
    for (let i = 0; i < v.length; i++) {
      const item = v.at(i);
      const s = values[item];
      if (!Number.isFinite(s) || (blocked !== null && blocked[item] === 1)) continue;
      let slot = slotOf[item];
      if (slot < 0) {
        slot = this.size++;
        slotOf[item] = slot;
        items[slot] = item;
        if (base === null) sums[slot] = s * a + b;
        else sums[slot] = base[item] + (s * a + b);
      } else sums[slot] += s * a + b;
    }
  }

  clear(): void {
    for (let u = 0; u < this.size; u++) this.slotOf[this.items[u]] = -1;
    this.size = 0;
  }
}

/**
 * The statistics every normalization needs (over all finite touched scores of `v`, blocked
 * items included: normalize.ts scoreStats, in the same order) and, in the same pass, the
 * candidates after the cut: its touched, unblocked items with a finite raw score at least the
 * `cap`-th best of them (ties at the cut kept), copied into out.items/out.raw in touched
 * order. `cutoff` is that score (-Infinity when at most `cap` items qualify): a radix pass
 * over the scores' top bits finds the bucket that holds it, and a quickselect among that
 * bucket's scores its value. O(touched).
 */
export function cutCandidates(v: ScoreVector, cap: number, blocked: Uint8Array | null, out: CandidateBuffers): MemberCandidates {
  const { items, raw } = out;
  const values = v.values;
  const length = v.length;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let finite = 0;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const item = v.at(i);
    const s = values[item];
    if (!Number.isFinite(s)) continue;
    if (s < min) min = s;
    if (s > max) max = s;
    sum += s;
    sumSq += s * s;
    finite++;
    if (blocked !== null && blocked[item] === 1) continue;
    items[n] = item;
    raw[n++] = s;
  }
  const stats = finite === 0 ? null : { min, max, sum, sumSq, finite };
  if (n <= cap) return { stats, count: n, cutoff: -Infinity };
  const cutoff = selectCutoff(out, n, cap - 1);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (raw[i] < cutoff) continue;
    items[kept] = items[i];
    raw[kept++] = raw[i];
  }
  return { stats, count: kept, cutoff };
}

/** Buckets of selectCutoff's radix pass: the top 12 bits of a float32's order key (sign, exponent, 3 mantissa bits). */
const CUT_BUCKETS = 4096;
/** selectCutoff's bucket counts (zero between calls; one cut runs at a time on a thread). */
const cutCounts = new Int32Array(CUT_BUCKETS);

/**
 * The value of rank `target` (0 = largest) among the finite out.raw[0 .. n), raw left as it
 * is. A float32's bits with the sign bit flipped (all bits for a negative) order as unsigned
 * integers as the floats do, so counting the scores per top 12 bits of that key says which
 * bucket holds rank `target`; only that bucket's scores are copied to out.scratch for the
 * quickselect. It replaced a quickselect over all n scores, whose partitions mispredicted
 * about every other comparison (a long history's ItemKNN cut selects among ~9k scores).
 */
function selectCutoff(out: CandidateBuffers, n: number, target: number): number {
  const { rawBits, raw, scratch } = out;
  const counts = cutCounts;
  for (let i = 0; i < n; i++) {
    const u = rawBits[i];
    counts[(u ^ ((u >> 31) | 0x80000000)) >>> 20]++;
  }
  let bucket = CUT_BUCKETS - 1;
  let above = 0;
  while (above + counts[bucket] <= target) above += counts[bucket--];
  counts.fill(0);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const u = rawBits[i];
    if ((u ^ ((u >> 31) | 0x80000000)) >>> 20 === bucket) scratch[m++] = raw[i];
  }
  return selectDescending(scratch, m, target - above);
}

/** The value of rank `target` (0 = largest) among a[0 .. n), by quickselect (reorders a). */
function selectDescending(a: Float32Array, n: number, target: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x > y ? (y > z ? y : x > z ? z : x) : x > z ? x : y > z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

/** Adds weight x (raw x scale + shift) of candidates [from, to), at their slots, into the float32 `sums`. */
export function addCandidates(slots: Int32Array, raw: Float32Array, from: number, to: number, scale: number, shift: number, weight: number, sums: Float32Array): void {
  const a = weight * scale;
  const b = weight * shift;
  for (let i = from; i < to; i++) sums[slots[i]] += raw[i] * a + b;
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
 * The sums of the items only query-independent strategies offered, which rank() keeps out of
 * the union (see FixedStep): `sums` by item (0 for items no such strategy offered), `order`
 * the items with a positive sum, best first (ties to the lower index).
 */
export interface FixedSums {
  readonly sums: Float32Array;
  readonly order: Int32Array;
}

/**
 * The k best items of the union (size slots of items/sums) and of `fixed` (the unblocked items
 * outside the union with a positive fixed sum) with a positive sum that pass `accept` (all when
 * null), then, when fewer than k, the best `fallback` candidates that are not blocked, have
 * no positive sum and pass `accept`, scored below the last ensemble item (scaled into (0,
 * half of it)). `fixed` needs `union.slot` (a CandidateUnion).
 */
export function rankCombined(
  union: { readonly items: Int32Array; readonly sums: Float32Array; readonly size: number; slot?(item: number): number },
  k: number,
  accept: ((item: number) => boolean) | null,
  fallback: FallbackCandidates | null,
  blocked: Uint8Array | null,
  buffers: RankBuffers | null = null,
  fixed: FixedSums | null = null,
): Ranked {
  const { items: members, sums, size } = union;
  const reuse = buffers !== null && accept === null && buffers.k === k;
  const fixedOrder = fixed === null ? null : fixed.order;
  const chosen = pickTop(size + (fixedOrder === null ? 0 : fixedOrder.length), k, accept, reuse ? buffers : null, 0, (heap) => {
    let floor = heap.floor;
    for (let u = 0; u < size; u++) {
      const s = sums[u];
      if (s > 0 && s >= floor) {
        heap.push(members[u], s);
        floor = heap.floor;
      }
    }
    if (fixedOrder === null) return;
    // Best first: once the heap holds `heap.k` of them, no later one can enter.
    let taken = 0;
    for (let i = 0; i < fixedOrder.length && taken < heap.k; i++) {
      const item = fixedOrder[i];
      if (union.slot!(item) >= 0 || (blocked !== null && blocked[item] === 1)) continue;
      heap.push(item, fixed!.sums[item]);
      taken++;
    }
  });
  const n = chosen.items.length;
  if (n >= k || fallback === null) return { ...chosen, fromEnsemble: n };

  // Fewer than k chosen means every item with a positive sum was chosen or rejected by
  // `accept` (which would reject it again), so skipping them all skips the chosen.
  const fixedSums = fixed === null ? null : fixed.sums;
  const extra = pickTop(Infinity, k - n, accept, reuse ? buffers : null, n, (heap) =>
    fallback((item, score, slot) => {
      if ((blocked !== null && blocked[item] === 1) || (slot >= 0 ? sums[slot] > 0 : fixedSums !== null && fixedSums[item] > 0)) return;
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
 * A comparator of indices into `scores`: the higher score first, ties (and NaN) to the lower
 * index. It returns small integers: a comparator returning a double (scores[b] - scores[a])
 * has every result boxed by the typed-array sort, about 13 KB of garbage per sort of 127.
 */
export function byScoreDescending(scores: Float64Array): (a: number, b: number) => number {
  return (a, b) => (scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : a - b);
}

/**
 * One strategy's part of a query after scoring: the statistics every normalization needs,
 * and how many candidates the cut left in the CandidateBuffers (with their union slots).
 */
export interface MemberCandidates {
  stats: ScoreStats | null;
  cutoff: number;
  count: number;
}

/** Scores `query` with `strategy` into `v` (reset first) and cuts its candidates into `out`. */
function scoreCandidates(strategy: Recommender, query: Query, v: ScoreVector, cap: number, blocked: Uint8Array | null, out: CandidateBuffers): MemberCandidates {
  v.reset();
  strategy.score(query, v);
  return cutCandidates(v, cap, blocked, out);
}

/** scoreCandidates, then admits the candidates to `union` (their slots in out.slots). */
export function scoreMember(
  strategy: Recommender,
  query: Query,
  v: ScoreVector,
  cap: number,
  blocked: Uint8Array | null,
  out: CandidateBuffers,
  union: CandidateUnion,
): MemberCandidates {
  const part = scoreCandidates(strategy, query, v, cap, blocked, out);
  union.admit(out.items, part.count, out.slots);
  return part;
}

/** A query-independent strategy's reusable cut: candidates (items, raw) and statistics, for one scoresVersion and cap. */
interface FixedCut {
  version: object;
  cap: number;
  part: MemberCandidates;
  items: Int32Array;
  raw: Float32Array;
}

/**
 * A query-independent strategy's part of every query whose cut is the kept one (nothing
 * blocked, or nothing cut: see scoreStrategy), kept out of the union: its
 * weighted normalized scores x by item (NaN where it offered nothing) and `prefix`, the float32
 * sums of the fixed strategies up to and including this one, by item, added in strategy order
 * exactly as admitAdding would. A slot admitted later starts from `prefix`; items in the union
 * before it get x added in place; items no other strategy offers are ranked from
 * `fixed` (the last step's prefix and its positive items, best first, blocked ones skipped:
 * the union holds none). The popularity member of the demo ensemble offered 1,000 of a query's
 * 1,341 union slots, and 1,000 of 2,436 in a P2 protocol batch, where every query is blocked.
 */
interface FixedStep {
  cut: FixedCut;
  a: number;
  b: number;
  x: Float64Array;
  fixed: FixedSums;
}

/**
 * The merge over fitted strategies, with reusable per-query buffers (one query at a time:
 * scoring is synchronous). HybridRecommender ranks through one, and so does every evaluation
 * ranker.
 */
export class MergeEngine {
  private readonly union: CandidateUnion;
  private readonly perStrategy: ScoreVector[];
  private readonly fallbackScores: ScoreVector;
  private readonly candidates: CandidateBuffers;
  /** rankScored()'s candidate order and per-slot scores, reused across calls (allocated on first use: only a learned combiner calls it). */
  private scored: { order: Int32Array; display: Float64Array } | null = null;
  /** Per strategy, its normalization in the last query (null: not merged). */
  private readonly maps: Array<Affine | null>;
  /** Per strategy, the lowest raw score it added in the last query. */
  private readonly cutoffs: Float64Array;
  /** 'rank' only (allocated on first use): per strategy, its candidates' rank values in the last query, by item. */
  private rankOf: Float32Array[] | null = null;
  private lastRanked = false;
  /**
   * Per strategy with query-independent scores (scoresVersionOf): its cut with nothing
   * blocked, for the version and cap it was made with. Its ScoreVector keeps those scores
   * (never reset while the cut is reused), so contribution() reads them as after a fresh
   * score. Popularity's dense 50k-item score, reset and cut were a tenth of a query.
   */
  private readonly fixedCuts: Array<FixedCut | null>;
  /** The fallback's scoresVersion its ScoreVector holds (null: scored per query). */
  private fallbackVersion: object | null = null;
  /** rank()'s steps of the query-independent strategies, in strategy order, kept while their cuts, weights and maps stay (see FixedStep). */
  private fixedSteps: FixedStep[] = [];

  constructor(
    readonly strategies: readonly Recommender[],
    readonly fallback: Recommender | null,
    readonly nItems: number,
  ) {
    this.union = new CandidateUnion(nItems);
    this.perStrategy = strategies.map(() => new ScoreVector(nItems));
    this.fallbackScores = new ScoreVector(nItems);
    this.candidates = new CandidateBuffers(nItems);
    this.maps = new Array<Affine | null>(strategies.length).fill(null);
    this.cutoffs = new Float64Array(strategies.length).fill(-Infinity);
    this.fixedCuts = new Array<FixedCut | null>(strategies.length).fill(null);
  }

  /**
   * scoreCandidates for strategy s into this.candidates, reusing a query-independent
   * strategy's cut (see fixedCuts) and, for a blocked query, its kept scores: the cut of those
   * with the query's blocks is the cut a fresh score() would give (the same values in the same
   * touched order), without the reset and the score. Protocol batches exclude each shopper's
   * purchases, so every one of their queries is blocked.
   *
   * With `deferred` (the caller adds a kept cut as a FixedStep, reading no candidates), the
   * kept cut's part itself is returned, uncopied, whenever it is this query's cut: nothing
   * blocked, or a kept cut that cut nothing (cutoff -Infinity), of which a block only removes
   * items (the statistics count blocked items too: they are the kept ones).
   */
  private scoreStrategy(s: number, query: Query, cap: number, blocked: Uint8Array | null, deferred = false): MemberCandidates {
    const strategy = this.strategies[s];
    const version = scoresVersionOf(strategy);
    const v = this.perStrategy[s];
    if (version === null) {
      this.fixedCuts[s] = null;
      return scoreCandidates(strategy, query, v, cap, blocked, this.candidates);
    }
    let fixed = this.fixedCuts[s];
    if (fixed === null || fixed.version !== version || fixed.cap !== cap) {
      // Forgotten first: a score() that throws leaves the vector reset.
      this.fixedCuts[s] = null;
      const part = scoreCandidates(strategy, query, v, cap, null, this.candidates);
      fixed = { version, cap, part, items: this.candidates.items.slice(0, part.count), raw: this.candidates.raw.slice(0, part.count) };
      this.fixedCuts[s] = fixed;
      if (blocked === null) return part;
    } else if (blocked === null && !deferred) {
      this.candidates.items.set(fixed.items);
      this.candidates.raw.set(fixed.raw);
      return fixed.part;
    }
    if (deferred && (blocked === null || fixed.part.cutoff === -Infinity)) return fixed.part;
    return cutCandidates(v, cap, blocked, this.candidates);
  }

  /**
   * The top k items for `query`, none with blocked[item] === 1, all passing `accept`; with
   * `fill`, the fallback fills up to k. Contributions stay readable until the next call.
   */
  rank(query: Query, k: number, blocked: Uint8Array | null, accept: ((item: number) => boolean) | null, settings: MergeSettings, fill = true): Ranked {
    const { weights, normalization, candidatesPerStrategy } = settings;
    const union = this.union;
    union.clear();
    this.lastRanked = normalization === 'rank';
    this.maps.fill(null);
    this.cutoffs.fill(-Infinity);
    // Query-independent strategies stay out of the union when nothing is filtered, their kept
    // cuts are this query's (see scoreStrategy) and ranks are not per query.
    const defer = accept === null && normalization !== 'rank';
    let steps = 0;
    let base: Float32Array | null = null;
    for (let s = 0; s < this.strategies.length; s++) {
      if (weights[s] === 0) continue;
      const strategy = this.strategies[s];
      let part: MemberCandidates;
      if (normalization !== 'rank' && scoresVersionOf(strategy) === null) {
        // Scored per query: a strategy that touched no more than the cap adds every finite,
        // unblocked score, read from its vector without the cut's copy.
        this.fixedCuts[s] = null;
        const v = this.perStrategy[s];
        v.reset();
        strategy.score(query, v);
        if (v.length <= candidatesPerStrategy) {
          const stats = scoreStats(v);
          if (stats === null) continue;
          const map = affineOf(stats, normalization);
          this.maps[s] = map;
          union.admitScores(v, blocked, map.scale, map.shift, weights[s], base);
          continue;
        }
        part = cutCandidates(v, candidatesPerStrategy, blocked, this.candidates);
      } else part = this.scoreStrategy(s, query, candidatesPerStrategy, blocked, defer);
      if (part.stats === null) continue;
      const map = affineOf(part.stats, normalization);
      this.maps[s] = map;
      this.cutoffs[s] = part.cutoff;
      const cut = defer ? this.fixedCuts[s] : null;
      if (cut !== null && cut.part === part) {
        const step = this.fixedStep(steps++, cut, weights[s] * map.scale, weights[s] * map.shift);
        const { x } = step;
        for (let u = 0; u < union.size; u++) {
          const add = x[union.items[u]];
          if (add === add) union.sums[u] += add;
        }
        base = step.fixed.sums;
        continue;
      }
      if (normalization === 'rank') this.toRanks(s, part.count);
      union.admitAdding(this.candidates.items, this.candidates.raw, part.count, map.scale, map.shift, weights[s], base);
    }
    const fallback = fill && this.fallback !== null ? this.fallbackCandidates(query) : null;
    const fixed = steps > 0 ? this.fixedSteps[steps - 1].fixed : null;
    // No list holds more than every item: a huge k (a caller's 2^53) must not size the heap.
    return rankCombined(union, Math.min(k, this.nItems), accept, fallback, blocked, null, fixed);
  }

  /**
   * The j-th fixed step of this query: the kept one when its cut, a and b are those of the
   * last query and so were all steps before it; otherwise built (after step j - 1) and the
   * steps after it dropped.
   */
  private fixedStep(j: number, cut: FixedCut, a: number, b: number): FixedStep {
    const kept = this.fixedSteps[j];
    if (kept !== undefined && kept.cut === cut && kept.a === a && kept.b === b) return kept;
    this.fixedSteps.length = j;
    const previous = j > 0 ? this.fixedSteps[j - 1].fixed.sums : null;
    const x = new Float64Array(this.nItems).fill(NaN);
    const sums = previous === null ? new Float32Array(this.nItems) : previous.slice();
    for (let i = 0; i < cut.part.count; i++) {
      const item = cut.items[i];
      const add = cut.raw[i] * a + b;
      x[item] = add;
      // admitAdding's operations (0 + add is add: a new slot's value).
      sums[item] += add;
    }
    const positive: number[] = [];
    for (let item = 0; item < this.nItems; item++) if (sums[item] > 0) positive.push(item);
    positive.sort((p, q) => (sums[p] > sums[q] ? -1 : sums[p] < sums[q] ? 1 : p - q));
    const step: FixedStep = { cut, a, b, x, fixed: { sums, order: Int32Array.from(positive) } };
    this.fixedSteps.push(step);
    return step;
  }

  /**
   * The first half of rank() for a learned combiner (the reranker): every strategy scores
   * `query` (a strategy of weight 0 too: a learned combiner reads it), is normalized and cut
   * exactly as rank() does, its candidates join the union, and the weighted sum of rank() is
   * added up (weight 0 adds nothing). Returns each strategy's ScoreVector, valid until the
   * next call; contribution() and candidateSums() then read as after rank(). Follow with
   * rankScored().
   */
  scoreStrategies(query: Query, blocked: Uint8Array | null, settings: MergeSettings): readonly ScoreVector[] {
    const { weights, normalization, candidatesPerStrategy } = settings;
    this.union.clear();
    this.lastRanked = normalization === 'rank';
    this.maps.fill(null);
    this.cutoffs.fill(-Infinity);
    for (let s = 0; s < this.strategies.length; s++) {
      const part = this.scoreStrategy(s, query, candidatesPerStrategy, blocked);
      this.union.admit(this.candidates.items, part.count, this.candidates.slots);
      if (part.stats === null) continue;
      const map = affineOf(part.stats, normalization);
      this.maps[s] = map;
      this.cutoffs[s] = part.cutoff;
      if (normalization === 'rank') this.toRanks(s, part.count);
      if (weights[s] !== 0) addCandidates(this.candidates.slots, this.candidates.raw, 0, part.count, map.scale, map.shift, weights[s], this.union.sums);
    }
    return this.perStrategy;
  }

  /**
   * The second half of rank() for a learned combiner, after scoreStrategies(query): the
   * caller's `scores` (> 0, larger is better) of items[0 .. n) replace the weighted sum, and
   * the top k are picked and filled from the fallback exactly as rank() does (the same
   * accept, blocked and fill rules). Ties go to the earlier of `items`. Returned scores are
   * the caller's; fallback filler is scaled below the last of them as in rank().
   */
  rankScored(query: Query, items: Int32Array, scores: Float64Array, n: number, k: number, blocked: Uint8Array | null, accept: ((item: number) => boolean) | null, fill = true): Ranked {
    const union = this.union;
    const slots = this.candidates.slots;
    union.sums.fill(0, 0, union.size);
    union.admit(items, n, slots);
    // Order by the caller's scores; the sums the shared pick sees are exact integer ranks.
    // display is read only at the slots written here (the picked candidates').
    const buffers = (this.scored ??= { order: new Int32Array(this.nItems), display: new Float64Array(this.nItems) });
    const order = buffers.order.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort(byScoreDescending(scores));
    const display = buffers.display;
    for (let r = 0; r < n; r++) {
      const c = order[r];
      union.sums[slots[c]] = n - r;
      display[slots[c]] = scores[c];
    }
    const fallback = fill && this.fallback !== null ? this.fallbackCandidates(query) : null;
    const ranked = rankCombined(union, Math.min(k, this.nItems), accept, fallback, blocked);
    const m = ranked.fromEnsemble;
    const floorRank = m > 0 ? ranked.scores[m - 1] : 1;
    const floorScore = m > 0 ? display[union.slot(ranked.items[m - 1])] : 1;
    for (let r = 0; r < ranked.items.length; r++) {
      ranked.scores[r] = r < m ? display[union.slot(ranked.items[r])] : (ranked.scores[r] / floorRank) * floorScore;
    }
    return ranked;
  }

  /** Strategy s's normalizing map in the last rank() or scoreStrategies() (null: it scored no finite item, or rank() skipped it at weight 0). */
  normalizationOf(s: number): Affine | null {
    return this.maps[s];
  }

  /** Weighted normalized contribution of strategy s to `item` (an unblocked item) in the last rank(). */
  contribution(s: number, item: number, weight: number): number {
    const v = this.perStrategy[s];
    const map = this.maps[s];
    if (weight === 0 || map === null || !v.has(item)) return 0;
    const raw = v.values[item];
    if (!(Number.isFinite(raw) && raw >= this.cutoffs[s])) return 0;
    return weight * (this.lastRanked ? this.rankOf![s][item] : raw * map.scale + map.shift);
  }

  /** 'rank': strategy s's candidates (in this.candidates) get their rank values, kept by item for contribution(). */
  private toRanks(s: number, count: number): void {
    const { items, raw, scratch } = this.candidates;
    rankValues(raw, count, scratch);
    this.rankOf ??= this.strategies.map(() => new Float32Array(this.nItems));
    const of = this.rankOf[s];
    for (let i = 0; i < count; i++) of[items[i]] = raw[i];
  }

  /** The fallback's scores for `query`, computed once, when the fill first asks for them. */
  private fallbackCandidates(query: Query): FallbackCandidates {
    const fb = this.fallbackScores;
    const strategy = this.fallback!;
    let scored = false;
    return (visit) => {
      if (!scored) {
        // A query-independent fallback's scores are still in fb from an earlier query.
        const version = scoresVersionOf(strategy);
        if (version === null || version !== this.fallbackVersion) {
          this.fallbackVersion = null;
          fb.reset();
          strategy.score(query, fb);
          this.fallbackVersion = version;
        }
        scored = true;
      }
      for (let i = 0; i < fb.length; i++) {
        const item = fb.at(i);
        visit(item, fb.values[item], this.union.slot(item));
      }
    };
  }

  /** After scoreStrategies(): every strategy's candidates, each once, and their weighted sums (the linear merge's scores where > 0), read in place until the next call; the reranker's "(linear)" scorer. */
  candidateSums(): Pick<CandidateUnion, 'items' | 'sums' | 'size' | 'slot'> {
    return this.union;
  }
}
