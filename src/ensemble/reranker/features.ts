import { StateReader } from '../../artifact/validate';
import { OptionError } from '../../errors';
import { ScoreVector, type JsonObject, type Query } from '../../strategies/types';
import { arrayOf, integer, oneOf, optionsToJson, resolveOptions, string, type OptionChecks } from '../../util/options';
import { TopK } from '../../util/topk';
import { NORMALIZATIONS, affineOf, scoreStats, type Affine, type Normalization, type ScoreStats } from '../normalize';
import type { ItemStatistics } from './item-stats';

/**
 * The reranker's features: for one query, the candidates (the union of every strategy's
 * top-N, items in the current basket left out) and a candidates x features matrix, NaN =
 * missing. docs/reranker.md documents every feature. Column order: the three columns of
 * each strategy in strategy order (`<name>.score`, `<name>.normalized`, `<name>.rank`),
 * then FIXED_FEATURES.
 *
 * The rhythm features (gaps, intervals, due-ness) are computed here from the query's
 * timeline, not taken from the RepeatPurchase strategy: the ensemble depends on no
 * strategy's internals.
 */
export interface RerankerFeaturesOptions {
  /**
   * Each strategy's best `candidatesPerStrategy` items (by raw score) join the candidate
   * pool. Default 50: six strategies then pool at most 300 candidates, the size the
   * scoring budget was set for. Not tuned yet (the integration should check the pool's
   * recall on validation queries).
   */
  candidatesPerStrategy: number;
  /** How `<name>.normalized` puts a strategy's scores on one scale; default 'auto', the linear ensemble's default (src/ensemble/normalize.ts). */
  normalization: Normalization;
}

/**
 * A scorer's scores by slot, as the merge engine's candidate union holds the linear sum
 * (MergeEngine.candidateSums): items[u] scored sums[u] where that is > 0 (the linear merge
 * ranks positive sums only), and slot(item) is its u, -1 for none. The extractor reads it as
 * it would read a ScoreVector of those positive sums set in slot order (the same floats in
 * the same order), without the caller writing one: a write and a clear per candidate of
 * every strategy, at random places of 50k-long arrays, per query.
 */
export interface SlotScores {
  readonly items: Int32Array;
  readonly sums: Float32Array;
  readonly size: number;
  slot(item: number): number;
}

/** What extract() reads per scorer. */
export type Scores = ScoreVector | SlotScores;

/** Optional facts of the request beyond the Query. */
export interface FeatureContext {
  /** The day of the order being built, on the scale of query.timeline.day (days since the shopper's first basket). Without it the day-based recency features are missing. */
  day?: number;
  /** Scores of items by co-occurrence with the current basket, from a strategy that scores the basket alone; feeds `basket.cooccurrence`. */
  basketScores?: ScoreVector | null;
  /** Items never to recommend for this request (blocked[item] === 1: bought before when excluded, business exclusions...): they never become candidates, so the pool is spent on items that can be served. */
  blocked?: Uint8Array | null;
  /**
   * Per scorer (constructor order), its map raw -> `<name>.normalized` for this query when
   * the caller already has it: the merge engine computes it from the same ScoreVector with
   * the same normalization (MergeEngine.normalizationOf), so passing it spares the extractor
   * a pass over every touched score. null: the scorer has no finite score. Missing entries
   * (and a missing array) are computed here.
   */
  normalizations?: ReadonlyArray<Affine | null | undefined>;
}

/** One query's candidates and features: views into the extractor's buffers, valid until its next extract(). */
export interface CandidateMatrix {
  count: number;
  /** Item index of each candidate (count entries). */
  items: Int32Array;
  /** count x names.length, row-major; NaN = missing. */
  features: Float32Array;
}

/** The features after the per-strategy columns, in column order. */
export const FIXED_FEATURES = [
  'candidate.proposals',
  'item.popularity',
  'item.repeatRate',
  'item.meanInterval',
  'shopper.purchases',
  'shopper.distinctItems',
  'shopper.baskets',
  'shopper.daysSinceLastOrder',
  'shopper.meanDaysBetweenOrders',
  'history.count',
  'history.share',
  'history.basketShare',
  'history.basketsSinceLast',
  'history.daysSinceLast',
  'history.meanInterval',
  'history.dueRatio',
  'basket.size',
  'basket.sameAisleShare',
  'basket.sameDepartmentShare',
  'basket.cooccurrence',
  'history.decayedShare0.9',
  'history.decayedShare0.7',
  'history.decayedShare0.5',
  'history.inLast3',
  'history.inLast5',
  'shopper.repeatRatio',
  'shopper.meanBasketSize',
  'shopper.lastBasketSize',
  'item.rebuyNext',
] as const;

/**
 * Decay rates of `history.decayedShare<r>`: per basket the weight r^(baskets ago - 1), so
 * the last basket weighs 1. 0.9 is TIFU-KNN's published within-group rate on TaFeng; 0.7
 * and 0.5 look at the last few baskets (a weight under 0.1 from 8 and from 5 baskets ago on).
 */
const DECAY_RATES = [0.9, 0.7, 0.5] as const;

// Offsets of the fixed features after the strategy columns (FIXED_FEATURES order).
const PROPOSALS = 0;
const POPULARITY = 1;
const REPEAT_RATE = 2;
const ITEM_INTERVAL = 3;
const PURCHASES = 4;
const DISTINCT = 5;
const BASKETS = 6;
const DAYS_SINCE_ORDER = 7;
const DAYS_BETWEEN_ORDERS = 8;
const COUNT = 9;
const SHARE = 10;
const BASKET_SHARE = 11;
const BASKETS_SINCE = 12;
const DAYS_SINCE = 13;
const INTERVAL = 14;
const DUE = 15;
const BASKET_SIZE = 16;
const SAME_AISLE = 17;
const SAME_DEPARTMENT = 18;
const COOCCURRENCE = 19;
const DECAYED = 20; // one column per DECAY_RATES entry, named in FIXED_FEATURES
const IN_LAST_3 = DECAYED + DECAY_RATES.length;
const IN_LAST_5 = IN_LAST_3 + 1;
const REPEAT_RATIO = IN_LAST_3 + 2;
const MEAN_BASKET_SIZE = IN_LAST_3 + 3;
const LAST_BASKET_SIZE = IN_LAST_3 + 4;
const REBUY_NEXT = IN_LAST_3 + 5;

const CHECKS: OptionChecks<RerankerFeaturesOptions> = {
  candidatesPerStrategy: integer({ min: 1 }),
  normalization: oneOf(NORMALIZATIONS),
};

const STRATEGY_NAMES = arrayOf(string(), { min: 1 });

/** Extracts candidate features per query. See the file header and docs/reranker.md. */
export class RerankerFeatures {
  static readonly defaults: Readonly<RerankerFeaturesOptions> = Object.freeze({ candidatesPerStrategy: 50, normalization: 'auto' });

  readonly options: Readonly<RerankerFeaturesOptions>;
  readonly strategies: readonly string[];
  /** Feature names in column order. */
  readonly names: readonly string[];

  private readonly capacity: number;
  private readonly itemsBuf: Int32Array;
  private readonly featuresBuf: Float32Array;
  /** Rows of featuresBuf the last extract() wrote; every row past them is all NaN. */
  private written = 0;
  /** Per item: its candidate slot, or -1. */
  private readonly slot: Int32Array;
  private readonly inBasket: Uint8Array;
  private readonly aisleCount: Int32Array;
  private readonly departmentCount: Int32Array;
  // Per candidate slot: timeline scan state.
  private readonly firstBasket: Int32Array;
  private readonly lastBasket: Int32Array;
  private readonly basketsWith: Int32Array;
  /** Per candidate slot: DECAY_RATES.length decayed basket counts, rate-major (rate r at r * capacity + slot). */
  private readonly decayed: Float64Array;
  private readonly inLast3: Int32Array;
  private readonly inLast5: Int32Array;
  /** Per item: the last timeline basket of this query that held it, -1 outside the timeline scan. */
  private readonly lastSeen: Int32Array;
  private readonly top: TopK;
  private readonly topItems: Int32Array;
  private readonly topScores: Float32Array;

  constructor(
    strategies: readonly string[],
    readonly items: ItemStatistics,
    options: Partial<RerankerFeaturesOptions> = {},
  ) {
    this.strategies = STRATEGY_NAMES(strategies, 'RerankerFeatures.strategies');
    if (new Set(this.strategies).size !== this.strategies.length) throw new OptionError('RerankerFeatures.strategies', 'names must be distinct');
    this.options = resolveOptions('RerankerFeatures', RerankerFeatures.defaults, options, CHECKS);
    this.names = Object.freeze([...this.strategies.flatMap((s) => [`${s}.score`, `${s}.normalized`, `${s}.rank`]), ...FIXED_FEATURES]);
    const nItems = items.nItems;
    this.capacity = Math.min(nItems, this.strategies.length * this.options.candidatesPerStrategy);
    this.itemsBuf = new Int32Array(this.capacity);
    this.featuresBuf = new Float32Array(this.capacity * this.names.length).fill(NaN);
    this.slot = new Int32Array(nItems).fill(-1);
    this.inBasket = new Uint8Array(nItems);
    this.aisleCount = new Int32Array(items.nAisles);
    this.departmentCount = new Int32Array(items.nDepartments);
    this.firstBasket = new Int32Array(this.capacity);
    this.lastBasket = new Int32Array(this.capacity);
    this.basketsWith = new Int32Array(this.capacity);
    this.decayed = new Float64Array(DECAY_RATES.length * this.capacity);
    this.inLast3 = new Int32Array(this.capacity);
    this.inLast5 = new Int32Array(this.capacity);
    this.lastSeen = new Int32Array(nItems).fill(-1);
    this.top = new TopK(this.options.candidatesPerStrategy);
    this.topItems = new Int32Array(this.options.candidatesPerStrategy);
    this.topScores = new Float32Array(this.options.candidatesPerStrategy);
  }

  /**
   * The candidates of `query` and their features. scores[s] is strategy s's ScoreVector for
   * this query (strategies in constructor order), each sized for the item statistics, or
   * its SlotScores.
   */
  extract(query: Query, scores: readonly Scores[], context: FeatureContext = {}): CandidateMatrix {
    const nItems = this.items.nItems;
    if (scores.length !== this.strategies.length) throw new OptionError('scores', `needs one ScoreVector per strategy (${this.strategies.length}), got ${scores.length}`);
    scores.forEach((v, s) => {
      if (v instanceof ScoreVector && v.size !== nItems) throw new OptionError(`scores[${s}]`, `ScoreVector has ${v.size} items, the item statistics ${nItems}`);
    });
    const basketScores = context.basketScores ?? null;
    if (basketScores !== null && basketScores.size !== nItems) throw new OptionError('context.basketScores', `ScoreVector has ${basketScores.size} items, the item statistics ${nItems}`);
    const { basket } = query;
    checkItems(basket, nItems, 'query.basket');
    checkItems(query.history.items, nItems, 'query.history');
    if (query.timeline !== null) checkItems(query.timeline.items, nItems, 'query.timeline');

    for (let i = 0; i < basket.length; i++) this.inBasket[basket[i]] = 1;
    const blocked = context.blocked ?? null;
    if (blocked !== null && blocked.length !== nItems) throw new OptionError('context.blocked', `has ${blocked.length} entries, the item statistics ${nItems}`);
    const normalizations = context.normalizations ?? null;
    if (normalizations !== null && normalizations.length !== scores.length) throw new OptionError('context.normalizations', `needs one entry per strategy (${scores.length}), got ${normalizations.length}`);
    const count = this.collectCandidates(scores, blocked);
    this.strategyColumns(scores, count, normalizations);
    this.itemAndShopperColumns(query, count, context.day ?? NaN, basketScores);
    for (let c = 0; c < count; c++) this.slot[this.itemsBuf[c]] = -1;
    for (let i = 0; i < basket.length; i++) this.inBasket[basket[i]] = 0;
    return { count, items: this.itemsBuf.subarray(0, count), features: this.featuresBuf.subarray(0, count * this.names.length) };
  }

  /** The state load() needs (the item statistics are saved on their own). */
  save(): JsonObject {
    return { strategies: [...this.strategies], options: optionsToJson(this.options) };
  }

  static load(state: JsonObject, items: ItemStatistics, section = 'reranker/features'): RerankerFeatures {
    const s = StateReader.of(state, section).keys(['strategies', 'options']);
    let strategies: readonly string[];
    try {
      strategies = STRATEGY_NAMES(state.strategies, 'strategies');
    } catch (e) {
      if (e instanceof OptionError) s.fail('strategies', `bad strategy names: ${e.message}`);
      throw e;
    }
    return new RerankerFeatures(strategies, items, s.options('RerankerFeatures', CHECKS));
  }

  /**
   * Fills the candidate slots from each strategy's top-N (basket items, blocked items and
   * non-finite scores skipped), writing ranks and proposal counts; returns the candidate count.
   */
  private collectCandidates(scores: readonly Scores[], blocked: Uint8Array | null): number {
    const F = this.names.length;
    const fixed = 3 * this.strategies.length;
    const { slot, inBasket, itemsBuf, featuresBuf, top, topItems: best } = this;
    // One fill of the last call's rows instead of one per candidate (a builtin call each).
    featuresBuf.fill(NaN, 0, this.written * F);
    let count = 0;
    for (let s = 0; s < scores.length; s++) {
      const v = scores[s];
      top.clear();
      if (v instanceof ScoreVector) offerScores(top, v, inBasket, blocked);
      else offerSums(top, v, inBasket, blocked);
      const kept = top.drainInto(best, this.topScores);
      for (let r = 0; r < kept; r++) {
        const item = best[r];
        let c = slot[item];
        if (c < 0) {
          c = slot[item] = count++;
          itemsBuf[c] = item;
          featuresBuf[c * F + fixed + PROPOSALS] = 0;
        }
        featuresBuf[c * F + 3 * s + 2] = r + 1;
        featuresBuf[c * F + fixed + PROPOSALS]++;
      }
    }
    this.written = count;
    return count;
  }

  /** Raw and normalized score of every candidate a strategy touched. */
  private strategyColumns(scores: readonly Scores[], count: number, normalizations: ReadonlyArray<Affine | null | undefined> | null): void {
    const F = this.names.length;
    const { itemsBuf, featuresBuf } = this;
    for (let s = 0; s < scores.length; s++) {
      const v = scores[s];
      const given = normalizations === null ? undefined : normalizations[s];
      const map = given !== undefined ? given : this.normalizationOf(v);
      if (map === null) continue;
      const { scale, shift } = map;
      // One loop per kind of scorer: each reads its own arrays only.
      if (v instanceof ScoreVector) {
        const { values } = v;
        for (let c = 0; c < count; c++) {
          const item = itemsBuf[c];
          const raw = values[item];
          if (!v.has(item) || !Number.isFinite(raw)) continue;
          featuresBuf[c * F + 3 * s] = raw;
          featuresBuf[c * F + 3 * s + 1] = raw * scale + shift;
        }
      } else {
        const { sums } = v;
        for (let c = 0; c < count; c++) {
          const u = v.slot(itemsBuf[c]);
          const raw = u < 0 ? NaN : sums[u];
          if (!(raw > 0) || !Number.isFinite(raw)) continue;
          featuresBuf[c * F + 3 * s] = raw;
          featuresBuf[c * F + 3 * s + 1] = raw * scale + shift;
        }
      }
    }
  }

  private normalizationOf(v: Scores): Affine | null {
    const stats = v instanceof ScoreVector ? scoreStats(v) : slotStats(v);
    return stats === null ? null : affineOf(stats, this.options.normalization);
  }

  private itemAndShopperColumns(query: Query, count: number, day: number, basketScores: ScoreVector | null): void {
    const F = this.names.length;
    const o = 3 * this.strategies.length;
    const { itemsBuf, featuresBuf, slot, items: stats } = this;

    // The shopper: purchases, and each candidate's count in the history.
    const { items: hItems, weights } = query.history;
    let purchases = 0;
    let distinct = 0;
    for (let k = 0; k < hItems.length; k++) {
      if (!(weights[k] > 0)) continue;
      purchases += weights[k];
      distinct++;
    }
    for (let c = 0; c < count; c++) featuresBuf[c * F + o + COUNT] = 0;
    for (let k = 0; k < hItems.length; k++) {
      const c = slot[hItems[k]];
      if (c >= 0 && weights[k] > 0) featuresBuf[c * F + o + COUNT] = weights[k];
    }

    // The timeline: baskets, days, and per candidate its first and last basket, how many
    // contain it, its decayed basket counts and its baskets among the last 3 and 5; per
    // shopper the distinct lines per basket and how many of them (after the first basket)
    // were bought in an earlier one. One pass over the timeline's lines.
    const tl = query.timeline;
    const nBaskets = tl === null ? -1 : tl.itemPtr.length - 1;
    const { firstBasket, lastBasket, basketsWith, decayed, inLast3, inLast5, lastSeen } = this;
    const cap = this.capacity;
    firstBasket.fill(-1, 0, count);
    lastBasket.fill(-1, 0, count);
    basketsWith.fill(0, 0, count);
    inLast3.fill(0, 0, count);
    inLast5.fill(0, 0, count);
    for (let r = 0; r < DECAY_RATES.length; r++) decayed.fill(0, r * cap, r * cap + count);
    let lastDay = NaN;
    let daysBetween = NaN;
    let repeatRatio = NaN;
    let meanBasketSize = NaN;
    let lastBasketSize = NaN;
    if (tl !== null && nBaskets > 0) {
      let lines = 0;
      let laterLines = 0;
      let repeatedLines = 0;
      for (let b = 0; b < nBaskets; b++) {
        const ago = nBaskets - 1 - b; // 0 for the last basket
        // The three rates unrolled: no per-line loop over them.
        const w0 = DECAY_RATES[0] ** ago;
        const w1 = DECAY_RATES[1] ** ago;
        const w2 = DECAY_RATES[2] ** ago;
        let distinctHere = 0;
        for (let p = tl.itemPtr[b]; p < tl.itemPtr[b + 1]; p++) {
          const item = tl.items[p];
          const seen = lastSeen[item];
          if (seen === b) continue; // a second line of the item in this basket
          lastSeen[item] = b;
          distinctHere++;
          if (b > 0 && seen >= 0) repeatedLines++;
          const c = slot[item];
          if (c < 0) continue;
          if (firstBasket[c] < 0) firstBasket[c] = b;
          lastBasket[c] = b;
          basketsWith[c]++;
          decayed[c] += w0;
          decayed[cap + c] += w1;
          decayed[2 * cap + c] += w2;
          if (ago < 5) {
            inLast5[c]++;
            if (ago < 3) inLast3[c]++;
          }
        }
        lines += distinctHere;
        if (b > 0) laterLines += distinctHere;
        if (b === nBaskets - 1) lastBasketSize = distinctHere;
      }
      for (let p = 0; p < tl.items.length; p++) lastSeen[tl.items[p]] = -1;
      lastDay = tl.day[nBaskets - 1];
      if (nBaskets >= 2) daysBetween = (lastDay - tl.day[0]) / (nBaskets - 1);
      if (laterLines > 0) repeatRatio = repeatedLines / laterLines;
      meanBasketSize = lines / nBaskets;
      // Total weight of the shopper's baskets per rate: a decayed count over it is a share in [0, 1].
      for (let r = 0; r < DECAY_RATES.length; r++) {
        const rate = DECAY_RATES[r];
        const total = (1 - rate ** nBaskets) / (1 - rate);
        for (let c = 0; c < count; c++) decayed[r * cap + c] /= total;
      }
    }

    // The basket: its size and its aisle / department counts.
    const { basket } = query;
    const { aisle, department } = stats;
    for (let i = 0; i < basket.length; i++) {
      if (aisle[basket[i]] >= 0) this.aisleCount[aisle[basket[i]]]++;
      if (department[basket[i]] >= 0) this.departmentCount[department[basket[i]]]++;
    }

    for (let c = 0; c < count; c++) {
      const item = itemsBuf[c];
      const row = c * F + o;
      featuresBuf[row + POPULARITY] = stats.popularity[item];
      featuresBuf[row + REPEAT_RATE] = stats.repeatRate[item];
      featuresBuf[row + ITEM_INTERVAL] = stats.meanInterval[item];
      featuresBuf[row + PURCHASES] = purchases;
      featuresBuf[row + DISTINCT] = distinct;
      featuresBuf[row + BASKETS] = nBaskets >= 0 ? nBaskets : NaN;
      featuresBuf[row + DAYS_SINCE_ORDER] = day - lastDay;
      featuresBuf[row + DAYS_BETWEEN_ORDERS] = daysBetween;
      featuresBuf[row + SHARE] = purchases > 0 ? featuresBuf[row + COUNT] / purchases : NaN;
      if (nBaskets > 0) {
        featuresBuf[row + BASKET_SHARE] = basketsWith[c] / nBaskets;
        for (let r = 0; r < DECAY_RATES.length; r++) featuresBuf[row + DECAYED + r] = decayed[r * cap + c];
        featuresBuf[row + IN_LAST_3] = inLast3[c];
        featuresBuf[row + IN_LAST_5] = inLast5[c];
        if (basketsWith[c] > 0) {
          const since = nBaskets - lastBasket[c];
          featuresBuf[row + BASKETS_SINCE] = since;
          featuresBuf[row + DAYS_SINCE] = day - tl!.day[lastBasket[c]];
          if (basketsWith[c] >= 2) {
            const interval = (lastBasket[c] - firstBasket[c]) / (basketsWith[c] - 1);
            featuresBuf[row + INTERVAL] = interval;
            featuresBuf[row + DUE] = since / interval;
          }
        }
      }
      featuresBuf[row + REBUY_NEXT] = stats.rebuyNext[item];
      featuresBuf[row + REPEAT_RATIO] = repeatRatio;
      featuresBuf[row + MEAN_BASKET_SIZE] = meanBasketSize;
      featuresBuf[row + LAST_BASKET_SIZE] = lastBasketSize;
      featuresBuf[row + BASKET_SIZE] = basket.length;
      if (basket.length > 0) {
        if (aisle[item] >= 0) featuresBuf[row + SAME_AISLE] = this.aisleCount[aisle[item]] / basket.length;
        if (department[item] >= 0) featuresBuf[row + SAME_DEPARTMENT] = this.departmentCount[department[item]] / basket.length;
      }
      if (basketScores !== null && basketScores.has(item)) {
        const s = basketScores.values[item];
        if (Number.isFinite(s)) featuresBuf[row + COOCCURRENCE] = s;
      }
    }
    for (let i = 0; i < basket.length; i++) {
      if (aisle[basket[i]] >= 0) this.aisleCount[aisle[basket[i]]] = 0;
      if (department[basket[i]] >= 0) this.departmentCount[department[basket[i]]] = 0;
    }
  }
}

// Offer a top-N heap a scorer's servable scores: basket items, blocked items and non-finite
// scores left out (SlotScores: positive sums only). Most touched items score below the heap's
// floor once it is full: that one compare comes first (NaN fails it; push() decides ties at
// the floor by index). The kept set does not depend on the order items are offered in. One
// function per kind of scorer, so each loop reads its own arrays only.
function offerScores(top: TopK, v: ScoreVector, inBasket: Uint8Array, blocked: Uint8Array | null): void {
  const { values, touched, dense } = v;
  const n = v.length;
  let floor = -Infinity;
  for (let i = 0; i < n; i++) {
    const item = dense ? i : touched[i];
    const score = values[item];
    if (score >= floor && inBasket[item] === 0 && (blocked === null || blocked[item] === 0) && Number.isFinite(score)) {
      top.push(item, score);
      floor = top.floor;
    }
  }
}

function offerSums(top: TopK, v: SlotScores, inBasket: Uint8Array, blocked: Uint8Array | null): void {
  const { items, sums, size } = v;
  let floor = -Infinity;
  for (let u = 0; u < size; u++) {
    const score = sums[u];
    if (score >= floor && score > 0 && Number.isFinite(score)) {
      const item = items[u];
      if (inBasket[item] === 0 && (blocked === null || blocked[item] === 0)) {
        top.push(item, score);
        floor = top.floor;
      }
    }
  }
}

/** scoreStats of the positive sums in slot order: the floats, in the order, scoreStats would add up over the ScoreVector they make. */
function slotStats(v: SlotScores): ScoreStats | null {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let finite = 0;
  for (let u = 0; u < v.size; u++) {
    const s = v.sums[u];
    if (!(s > 0 && s < Infinity)) continue;
    if (s < min) min = s;
    if (s > max) max = s;
    sum += s;
    sumSq += s * s;
    finite++;
  }
  return finite === 0 ? null : { min, max, sum, sumSq, finite };
}

function checkItems(items: Int32Array, nItems: number, where: string): void {
  for (let i = 0; i < items.length; i++) {
    if (!(items[i] >= 0 && items[i] < nItems)) throw new OptionError(where, `item index ${items[i]} out of range [0, ${nItems})`);
  }
}
