import { CsrMatrix } from '../data/csr';
import { GrowableColumn } from '../data/csv';
import { Dataset, noBaskets } from '../data/dataset';
import { compareRawIds } from '../data/ids';
import { DataError, OptionError } from '../errors';
import { evalQuery } from '../eval/evaluate';
import { averagePrecisionAtK, hitAtK, ndcgAtK, precisionAtK, recallAtK, type TargetSet } from '../eval/metrics';
import { basketCompletion, makeSplit, nextBasket, type EvalQuery, type Split } from '../eval/splits';
import { ScoreVector, type FitOptions, type Query, type Recommender } from '../strategies/types';
import { arrayOf, describe, integer, isPlainObject, number, oneOf, resolveOptions, type OptionChecks } from '../util/options';
import { Pace } from '../util/pace';
import { StateReader } from '../artifact/validate';
import { mulberry32, shuffleInPlace } from '../util/random';
import { TopK } from '../util/topk';
import { addCandidates, CandidateBuffers, CandidateUnion, rankCombined, RankBuffers, scoreMember, type FallbackCandidates } from './merge';
import { NORMALIZATIONS, affineOf, rankValues, type Normalization } from './normalize';

/**
 * Ensemble weight tuning on a validation split carved from the training data only.
 *
 * Search: coordinate ascent on the validation metric. Starting from equal weights, each round
 * tries every value of `grid` for one strategy's weight at a time, keeping a change only when
 * it improves the metric by more than 1e-6 (so ties keep the simpler, earlier setting);
 * rounds repeat until no weight changes or `rounds` is reached. This is done once per
 * normalization in `normalizations`, and the best (normalization, weights) wins.
 *
 * Strategy scores do not depend on the weights, so each validation query is scored once per
 * strategy and its candidates (the recommender's candidatesPerStrategy cut) and normalization
 * statistics cached, with the fallback's candidates for the fill; a trial replays only the
 * merge of merge.ts on them, so it ranks exactly as the fitted recommender would with those
 * weights (a test checks it).
 */
export type ValidationProtocol = 'next-basket' | 'basket-completion' | 'holdout-temporal' | 'holdout';

/**
 * Per strategy name, per option: the values tried (e.g. `{ als: { factors: [32, 64, 128] } }`).
 * Values must be options the strategy's constructor accepts.
 */
export type HyperparameterGrid = Readonly<Record<string, Readonly<Record<string, readonly unknown[]>>>>;

export type TuneMetric = 'ndcg' | 'recall' | 'map' | 'precision' | 'hitRate';

export interface TuneOptions {
  /**
   * How to carve validation queries from the training data: 'auto' takes next-basket when at
   * least half the users with baskets have 3 or more, basket-completion when baskets exist,
   * else holdout-temporal when the data has timestamps (Dataset.times: each user's latest 20%
   * held out, as P1), else holdout (a random 20% of each user's items, as P2): the protocols of
   * BENCHMARKS.md that fit the data. Default 'auto'.
   */
  protocol: ValidationProtocol | 'auto';
  /** The validation metric maximized. Default 'ndcg', the benchmarks' headline metric. */
  metric: TuneMetric;
  /** Its cutoff. Default 10, the benchmarks' K. */
  k: number;
  /** Candidate values of each weight. Default [0, 0.1, 0.25, 0.5, 1, 2, 4, 8]: roughly doubling steps over two orders of magnitude, and 0 to drop a strategy. */
  grid: readonly number[];
  /** Maximum coordinate-ascent passes. Default 4: the search had settled within 2-3 on every benchmark. */
  rounds: number;
  /** Normalizations tried. Default ['auto', 'minmax', 'zscore'] ('max' is 'auto' on non-negative scores). */
  normalizations: readonly Normalization[];
  /** At most this many validation queries (a seeded sample), to bound tuning time. Default 2000: a time bound. */
  maxQueries: number;
  /**
   * Opt-in strategy hyper-parameter search on the same validation split, before the weights:
   * false (default) keeps every strategy's options; true searches the built-in grid of each
   * strategy kind that has one (HYPERPARAMETER_GRIDS: ALS, EASE, TIFU-KNN, ItemKNN); a grid
   * by strategy name searches those. Coordinate search, one option at a time in grid order,
   * each variant fitted on the validation training data and scored alone by `metric`@`k`; a
   * value is kept only when it beats the best so far by more than 1e-6 (ties keep the given
   * options). The chosen options are refitted on all the data and reported in
   * TuneResult.hyperparameters. Cost: one fit per grid value.
   */
  hyperparameters: boolean | HyperparameterGrid;
  /**
   * How far the searched weights are pulled toward equal weights, against over-fitting a small
   * or noisy validation split: the weights w (scaled to mean 1) become (1 - f) w + f, so
   * f = 0 keeps the search's weights and f = 1 is equal weights. 'cv' chooses f (from
   * SHRINKAGE_FACTORS) and the normalization by `folds`-fold cross-validation over the
   * validation queries: the search is rerun on each fold's complement and the shrunk weights
   * scored on the fold; the factor with the best held-out mean wins (ties go to the larger
   * factor, i.e. toward equal weights), then it is applied to the weights searched on every
   * query. Cost: about `folds` more searches (no extra fits). Default 0.
   */
  shrinkage: number | 'cv';
  /** Folds of `shrinkage: 'cv'` (queries dealt to folds by a seeded shuffle). Default 4. */
  folds: number;
}

/** The factors `shrinkage: 'cv'` chooses from, from equal weights (1) to the searched ones (0). */
export const SHRINKAGE_FACTORS: readonly number[] = Object.freeze([1, 0.75, 0.5, 0.25, 0]);

function shrinkageCheck(value: unknown, name: string): number | 'cv' {
  if (value === 'cv') return value;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new OptionError(name, `must be 'cv' or a number in [0, 1], got ${describe(value)}`);
  return value;
}

/**
 * The built-in grids of `hyperparameters: true`, by strategy kind: few values around each
 * default, the options that moved the validation metric most in benchmarks/tune-latent.ts.
 */
export const HYPERPARAMETER_GRIDS: Readonly<Record<string, Readonly<Record<string, readonly unknown[]>>>> = Object.freeze({
  als: Object.freeze({ regularization: Object.freeze([5, 20, 50]), alpha: Object.freeze([1, 2, 4]), factors: Object.freeze([32, 64, 128]) }),
  ease: Object.freeze({ lambda: Object.freeze([100, 200, 500]) }),
  tifuknn: Object.freeze({ neighbors: Object.freeze([100, 300, 600]), alpha: Object.freeze([0.1, 0.3, 0.5]) }),
  itemknn: Object.freeze({ neighbors: Object.freeze([20, 50, 200, 500]), weighting: Object.freeze(['log1p', 'bm25']) }),
});

function hyperparameterCheck(value: unknown, name: string): boolean | HyperparameterGrid {
  if (typeof value === 'boolean') return value;
  if (!isPlainObject(value)) throw new OptionError(name, `must be true, false or a grid by strategy name ({ als: { factors: [32, 64] } }), got ${describe(value)}`);
  const out: Record<string, Readonly<Record<string, readonly unknown[]>>> = {};
  for (const [strategy, grid] of Object.entries(value)) {
    if (!isPlainObject(grid)) throw new OptionError(`${name}.${strategy}`, `must be an object of option -> values tried, got ${describe(grid)}`);
    const options: Record<string, readonly unknown[]> = {};
    for (const [option, values] of Object.entries(grid)) {
      if (!Array.isArray(values) || values.length === 0) throw new OptionError(`${name}.${strategy}.${option}`, `must be a non-empty array of values, got ${describe(values)}`);
      options[option] = Object.freeze([...values]);
    }
    out[strategy] = Object.freeze(options);
  }
  return Object.freeze(out);
}

const TUNE_CHECKS: OptionChecks<TuneOptions> = {
  protocol: oneOf<ValidationProtocol | 'auto'>(['auto', 'next-basket', 'basket-completion', 'holdout-temporal', 'holdout']),
  metric: oneOf<TuneMetric>(['ndcg', 'recall', 'map', 'precision', 'hitRate']),
  k: integer({ min: 1 }),
  grid: arrayOf(number({ min: 0 }), { min: 1 }),
  rounds: integer({ min: 1 }),
  normalizations: arrayOf(oneOf(NORMALIZATIONS), { min: 1 }),
  maxQueries: integer({ min: 1 }),
  hyperparameters: hyperparameterCheck,
  shrinkage: shrinkageCheck,
  folds: integer({ min: 2 }),
};

export const TUNE_DEFAULTS: Readonly<TuneOptions> = Object.freeze({
  protocol: 'auto',
  metric: 'ndcg',
  k: 10,
  grid: Object.freeze([0, 0.1, 0.25, 0.5, 1, 2, 4, 8]),
  rounds: 4,
  normalizations: Object.freeze(['auto', 'minmax', 'zscore'] as Normalization[]),
  maxQueries: 2000,
  hyperparameters: false,
  shrinkage: 0,
  folds: 4,
});

export interface TuneTrial {
  normalization: Normalization;
  weights: Record<string, number>;
  score: number;
}

export interface TuneResult {
  protocol: ValidationProtocol;
  metric: TuneMetric;
  k: number;
  weights: Record<string, number>;
  normalization: Normalization;
  /** Validation metric of the chosen setting, and of equal weights with 'auto' normalization. */
  score: number;
  baseline: number;
  /** Validation metric of each strategy alone. */
  single: Record<string, number>;
  queries: number;
  trials: number;
  /** With `hyperparameters`: per searched strategy, the options chosen and every value scored. */
  hyperparameters?: Record<string, HyperparameterResult>;
  /** With `shrinkage` other than 0: the factor applied to the searched weights, and with 'cv' what each (normalization, factor) scored held out. */
  shrinkage?: ShrinkageResult;
}

export interface ShrinkageResult {
  factor: number;
  /** 'cv': the number of folds; 0 when the factor was given. */
  folds: number;
  /** Mean held-out validation metric of each (normalization, factor) tried, in search order. */
  tried: Array<{ normalization: Normalization; factor: number; score: number }>;
}

export interface HyperparameterResult {
  /** The options changed from those given (empty: the given options won). */
  chosen: Record<string, unknown>;
  /** Validation metric of the strategy alone with the given options, and with the chosen ones. */
  given: number;
  score: number;
  /** Every variant scored, in search order: the options changed and its metric. */
  tried: Array<{ options: Record<string, unknown>; score: number }>;
}

/** The tune options with defaults filled in and checked (OptionErrors are named `owner.key`). */
export function resolveTuneOptions(options: Partial<TuneOptions> | undefined, owner = 'tune'): Readonly<TuneOptions> {
  return resolveOptions(owner, TUNE_DEFAULTS, options, TUNE_CHECKS);
}

/**
 * Sets blocked[i] = 1 for what validation query `q` may not recommend (its history when the
 * protocol excludes it, its basket when it excludes that); returns the items it set, for the
 * caller to unset after the query.
 */
export function blockForValidation(q: EvalQuery, query: Query, blocked: Uint8Array): number[] {
  const set: number[] = [];
  const block = (i: number) => {
    if (blocked[i] === 0) {
      blocked[i] = 1;
      set.push(i);
    }
  };
  if (q.excludeHistory) for (const i of query.history.items) block(i);
  if (q.excludeBasket) for (const i of q.basket) block(i);
  return set;
}

/** Picks the validation protocol for 'auto'. */
export function chooseProtocol(data: Dataset): ValidationProtocol {
  if (data.nBaskets === 0) return data.times !== null ? 'holdout-temporal' : 'holdout';
  const { userPtr } = data.baskets;
  let withThree = 0;
  let withAny = 0;
  for (let u = 0; u < data.nUsers; u++) {
    const n = userPtr[u + 1] - userPtr[u];
    if (n >= 3) withThree++;
    if (n > 0) withAny++;
  }
  return withThree >= 0.5 * withAny ? 'next-basket' : 'basket-completion';
}

/** Validation split of the training data for a protocol. */
export function validationSplit(data: Dataset, protocol: ValidationProtocol, seed: number): Split {
  if (protocol === 'next-basket') return nextBasket(data);
  if (protocol === 'basket-completion') return basketCompletion(data, seed);
  if (protocol === 'holdout-temporal') return holdoutTemporalFromMatrix(data);
  return holdoutFromMatrix(data, seed);
}

/**
 * P1's rule on a Dataset with timestamps (Dataset.times): per user, the (user, item) entries
 * sorted by their latest time (ties by raw item id), the last 20% (rounded up, at least 1) are
 * held out; users with a single entry stay wholly in train. The train part keeps its times.
 */
export function holdoutTemporalFromMatrix(data: Dataset, fraction = 0.2): Split {
  const times = data.times;
  if (times === null) throw new DataError('a temporal validation split needs timestamps (Dataset.times), and this dataset has none: use protocol "holdout"', { field: 'time' });
  const m = data.interactions;
  const itemRank = rawIdRanks(data.items);
  const keepRows: number[] = [];
  const keepCols: number[] = [];
  const keepVals: number[] = [];
  const keepTimes: number[] = [];
  const queries: EvalQuery[] = [];
  for (let u = 0; u < data.nUsers; u++) {
    const start = m.indptr[u];
    const n = m.indptr[u + 1] - start;
    const order = Array.from({ length: n }, (_, i) => start + i);
    order.sort((a, b) => times[a] - times[b] || itemRank[m.indices[a]] - itemRank[m.indices[b]]);
    const nTest = n >= 2 ? Math.max(1, Math.ceil(fraction * n)) : 0;
    for (let i = 0; i < n - nTest; i++) {
      keepRows.push(u);
      keepCols.push(m.indices[order[i]]);
      keepVals.push(m.values[order[i]]);
      keepTimes.push(times[order[i]]);
    }
    if (nTest > 0) {
      const target = Int32Array.from(order.slice(n - nTest), (p) => m.indices[p]).sort();
      queries.push({ user: u, basket: new Int32Array(0), useHistory: true, excludeHistory: true, excludeBasket: false, target, id: data.users.id(u) });
    }
  }
  const train = Dataset.fromInteractions({
    users: data.users,
    items: data.items,
    catalog: data.catalog,
    user: Int32Array.from(keepRows),
    item: Int32Array.from(keepCols),
    weight: Float32Array.from(keepVals),
    time: Float64Array.from(keepTimes),
  });
  return makeSplit('P1', train, queries);
}

/** rank[i] = position of item i when the raw ids are sorted (the protocols' tie order). */
function rawIdRanks(index: Dataset['items']): Int32Array {
  const order = Array.from({ length: index.size }, (_, i) => i).sort((a, b) => compareRawIds(index.id(a), index.id(b)));
  const rank = new Int32Array(index.size);
  for (let r = 0; r < order.length; r++) rank[order[r]] = r;
  return rank;
}

/**
 * Random 20% holdout of each user's items (users with >= 5), from the interaction matrix
 * alone: the validation analogue of P1/P2 for data without baskets.
 */
export function holdoutFromMatrix(data: Dataset, seed: number, fraction = 0.2): Split {
  const m = data.interactions;
  const rng = mulberry32(seed);
  const keepRows: number[] = [];
  const keepCols: number[] = [];
  const keepVals: number[] = [];
  const keepTimes: number[] = [];
  const times = data.times;
  const queries: EvalQuery[] = [];
  for (let u = 0; u < data.nUsers; u++) {
    const start = m.indptr[u];
    const end = m.indptr[u + 1];
    const n = end - start;
    const order = Array.from({ length: n }, (_, i) => start + i);
    if (n >= 5) shuffleInPlace(order, rng);
    const nTest = n >= 5 ? Math.ceil(fraction * n) : 0;
    for (let i = 0; i < n - nTest; i++) {
      keepRows.push(u);
      keepCols.push(m.indices[order[i]]);
      keepVals.push(m.values[order[i]]);
      if (times !== null) keepTimes.push(times[order[i]]);
    }
    if (nTest > 0) {
      const target = Int32Array.from(order.slice(n - nTest), (p) => m.indices[p]).sort();
      queries.push({ user: u, basket: new Int32Array(0), useHistory: true, excludeHistory: true, excludeBasket: false, target, id: data.users.id(u) });
    }
  }
  const rows = Int32Array.from(keepRows);
  const cols = Int32Array.from(keepCols);
  const interactions = CsrMatrix.fromCoo(data.nUsers, data.nItems, rows, cols, Float32Array.from(keepVals));
  const train = new Dataset(data.users, data.items, interactions, noBaskets(data.nUsers), data.catalog);
  // The train part keeps its entries' times, for recency weighting after the carve (HybridOptions.recency).
  return makeSplit('P2', times === null ? train : train.withTimes(rows, cols, Float64Array.from(keepTimes)), queries);
}

function metricFn(metric: TuneMetric): (ranked: Int32Array, target: TargetSet, k: number) => number {
  switch (metric) {
    case 'ndcg':
      return ndcgAtK;
    case 'recall':
      return recallAtK;
    case 'map':
      return averagePrecisionAtK;
    case 'precision':
      return precisionAtK;
    default:
      return hitAtK;
  }
}

/**
 * Every validation query scored once: per query its candidate union (merge.ts) and per query
 * and strategy its candidates after the recommender's cut (slots in that union and raw scores)
 * with the [scale, shift] of each normalization (NaN: it scored nothing), and per query the
 * fallback's candidates for the fill. rank() replays the merge of merge.ts for one
 * (normalization, weights) trial.
 */
export class ValidationCache {
  private readonly sums: Float32Array;
  private readonly buffers: RankBuffers;
  private constructor(
    readonly nStrategies: number,
    readonly normalizations: readonly Normalization[],
    readonly k: number,
    /** The union of query q's candidates, by slot. */
    private readonly unions: readonly Int32Array[],
    /** Candidates of query q and strategy s: slots/raw[ptr[q * nStrategies + s] .. ptr[q * nStrategies + s + 1]). */
    private readonly ptr: Int32Array,
    private readonly slots: Int32Array,
    private readonly raw: Float32Array,
    /** With 'rank' among the normalizations: the candidates' rank values (normalize.ts rankValues), beside raw. */
    private readonly ranks: Float32Array | null,
    /** Per normalization, per query and strategy: scale, shift. */
    private readonly maps: Float64Array[],
    /** Fallback candidates of query q: fbItems/fbScores/fbSlots[fbPtr[q] .. fbPtr[q + 1]). */
    private readonly fbPtr: Int32Array,
    private readonly fbItems: Int32Array,
    private readonly fbScores: Float32Array,
    private readonly fbSlots: Int32Array,
    readonly targets: ReadonlyArray<ReadonlySet<number>>,
  ) {
    this.sums = new Float32Array(unions.reduce((most, u) => Math.max(most, u.length), 0));
    this.buffers = new RankBuffers(k);
  }

  get size(): number {
    return this.targets.length;
  }

  /**
   * Scores `queries` of `split` with strategies (and the fallback) fitted on split.train. The
   * fallback's candidates are its best k items among those no strategy offered, plus its
   * scores of every item some strategy offered: whatever the weights, the fill picks from them.
   */
  static async build(
    strategies: readonly Recommender[],
    fallback: Recommender | null,
    split: Split,
    queries: readonly EvalQuery[],
    settings: { k: number; normalizations: readonly Normalization[]; candidatesPerStrategy: number },
    fit: Pick<FitOptions, 'onProgress' | 'signal'> = {},
  ): Promise<ValidationCache> {
    const pace = new Pace(fit.signal, 'weight tuning');
    const nItems = split.train.nItems;
    const nS = strategies.length;
    const { k, normalizations, candidatesPerStrategy } = settings;
    const v = new ScoreVector(nItems);
    const fb = new ScoreVector(nItems);
    // Non-candidates stay blocked for the whole build, as in evaluate(); per-query blocks are undone.
    const blocked = new Uint8Array(nItems);
    if (split.candidates !== null) for (let i = 0; i < nItems; i++) blocked[i] = split.candidates[i] === 1 ? 0 : 1;
    const candidates = new CandidateBuffers(nItems);
    const union = new CandidateUnion(nItems);
    const unions: Int32Array[] = [];
    const ptr = new Int32Array(queries.length * nS + 1);
    const slots = new GrowableColumn((n) => new Int32Array(n), 1024);
    const raw = new GrowableColumn((n) => new Float32Array(n), 1024);
    const ranks = normalizations.includes('rank') ? new GrowableColumn((n) => new Float32Array(n), 1024) : null;
    const rankScratch = ranks === null ? null : new Float32Array(2 * nItems);
    const maps = normalizations.map(() => new Float64Array(2 * queries.length * nS).fill(NaN));
    const fbPtr = new Int32Array(queries.length + 1);
    const fbItems = new GrowableColumn((n) => new Int32Array(n), 1024);
    const fbScores = new GrowableColumn((n) => new Float32Array(n), 1024);
    const fbSlots = new GrowableColumn((n) => new Int32Array(n), 1024);
    const targets: Set<number>[] = [];
    for (let qi = 0; qi < queries.length; qi++) {
      if (qi % 256 === 0) fit.onProgress?.({ stage: 'tune: scoring validation queries', done: qi, total: queries.length });
      if (pace.due()) await pace.pause();
      const q = queries[qi];
      const query = evalQuery(split.train, q);
      const blockList = blockForValidation(q, query, blocked);
      union.clear();
      for (let s = 0; s < nS; s++) {
        const part = scoreMember(strategies[s], query, v, candidatesPerStrategy, blocked, candidates, union);
        const at = qi * nS + s;
        if (part.stats !== null) {
          for (let n = 0; n < normalizations.length; n++) {
            const map = affineOf(part.stats, normalizations[n]);
            maps[n][2 * at] = map.scale;
            maps[n][2 * at + 1] = map.shift;
          }
        }
        for (let c = 0; c < part.count; c++) {
          slots.push(candidates.slots[c]);
          raw.push(candidates.raw[c]);
        }
        if (ranks !== null) {
          const values = rankScratch!.subarray(0, part.count);
          values.set(candidates.raw.subarray(0, part.count));
          rankValues(values, part.count, rankScratch!.subarray(nItems));
          for (let c = 0; c < part.count; c++) ranks.push(values[c]);
        }
        ptr[at + 1] = slots.length;
      }
      if (fallback !== null) {
        fb.reset();
        fallback.score(query, fb);
        const rest = new TopK(k);
        for (let i = 0; i < fb.length; i++) {
          const item = fb.at(i);
          if (blocked[item] === 1) continue;
          const slot = union.slot(item);
          if (slot < 0) {
            rest.push(item, fb.values[item]);
            continue;
          }
          fbItems.push(item);
          fbScores.push(fb.values[item]);
          fbSlots.push(slot);
        }
        const best = rest.sorted();
        for (let i = 0; i < best.items.length; i++) {
          fbItems.push(best.items[i]);
          fbScores.push(best.scores[i]);
          fbSlots.push(-1);
        }
      }
      fbPtr[qi + 1] = fbItems.length;
      unions.push(union.items.slice(0, union.size));
      for (const i of blockList) blocked[i] = 0;
      targets.push(new Set(q.target));
    }
    return new ValidationCache(nS, normalizations, k, unions, ptr, slots.toArray(), raw.toArray(), ranks === null ? null : ranks.toArray(), maps, fbPtr, fbItems.toArray(), fbScores.toArray(), fbSlots.toArray(), targets);
  }

  /**
   * One cache of the queries of `caches`, in order: the validation queries of several splits
   * (e.g. the folds of basketCompletionFolds, each scored by strategies fitted on its own
   * training part), searched as one query set. Every cache must have the same strategies,
   * normalizations and k.
   */
  static concat(caches: readonly ValidationCache[]): ValidationCache {
    if (caches.length === 0) throw new OptionError('ValidationCache.concat: caches', 'must hold at least one cache');
    const [first] = caches;
    for (const c of caches) {
      if (c.nStrategies !== first.nStrategies || c.k !== first.k || c.normalizations.join() !== first.normalizations.join() || (c.ranks === null) !== (first.ranks === null)) {
        throw new OptionError('ValidationCache.concat: caches', `must share strategies, k and normalizations (${first.nStrategies}, ${first.k}, ${first.normalizations.join()}), got ${c.nStrategies}, ${c.k}, ${c.normalizations.join()}`);
      }
    }
    const nS = first.nStrategies;
    const size = caches.reduce((n, c) => n + c.size, 0);
    const join = <T extends Int32Array | Float32Array | Float64Array>(parts: T[], make: (n: number) => T): T => {
      const out = make(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };
    // Offsets (ptr, fbPtr) continue from the previous cache's ends; slots index each query's own union, so they carry over.
    const ptr = new Int32Array(size * nS + 1);
    const fbPtr = new Int32Array(size + 1);
    let q = 0;
    let slotBase = 0;
    let fbBase = 0;
    for (const c of caches) {
      for (let i = 1; i <= c.size * nS; i++) ptr[q * nS + i] = slotBase + c.ptr[i];
      for (let i = 1; i <= c.size; i++) fbPtr[q + i] = fbBase + c.fbPtr[i];
      q += c.size;
      slotBase += c.slots.length;
      fbBase += c.fbItems.length;
    }
    const maps = first.normalizations.map((_, n) => join(caches.map((c) => c.maps[n]), (len) => new Float64Array(len)));
    return new ValidationCache(
      nS,
      first.normalizations,
      first.k,
      caches.flatMap((c) => c.unions),
      ptr,
      join(caches.map((c) => c.slots), (n) => new Int32Array(n)),
      join(caches.map((c) => c.raw), (n) => new Float32Array(n)),
      first.ranks === null ? null : join(caches.map((c) => c.ranks!), (n) => new Float32Array(n)),
      maps,
      fbPtr,
      join(caches.map((c) => c.fbItems), (n) => new Int32Array(n)),
      join(caches.map((c) => c.fbScores), (n) => new Float32Array(n)),
      join(caches.map((c) => c.fbSlots), (n) => new Int32Array(n)),
      caches.flatMap((c) => c.targets),
    );
  }

  /**
   * The top k items of validation query `q` under normalization normalizations[n] and
   * `weights`, as the recommender ranks them: a view valid until the next call.
   */
  rank(q: number, n: number, weights: Float64Array): Int32Array {
    const { sums, nStrategies: nS, ptr } = this;
    const items = this.unions[q];
    const maps = this.maps[n];
    const values = this.normalizations[n] === 'rank' ? this.ranks! : this.raw;
    sums.fill(0, 0, items.length);
    for (let s = 0; s < nS; s++) {
      const at = q * nS + s;
      if (weights[s] === 0 || Number.isNaN(maps[2 * at])) continue;
      addCandidates(this.slots, values, ptr[at], ptr[at + 1], maps[2 * at], maps[2 * at + 1], weights[s], sums);
    }
    const from = this.fbPtr[q];
    const to = this.fbPtr[q + 1];
    const fallback: FallbackCandidates | null =
      to > from
        ? (visit) => {
            for (let i = from; i < to; i++) visit(this.fbItems[i], this.fbScores[i], this.fbSlots[i]);
          }
        : null;
    return rankCombined({ items, sums, size: items.length }, this.k, null, fallback, null, this.buffers).items;
  }
}

/**
 * Scores every validation query once per strategy (fitted on split.train) and searches the
 * weights. `strategies` and `fallback` must already be fitted on `split.train`.
 */
export async function searchWeights(
  names: readonly string[],
  strategies: readonly Recommender[],
  fallback: Recommender | null,
  split: Split,
  options: Readonly<TuneOptions>,
  protocol: ValidationProtocol,
  candidatesPerStrategy: number,
  fit: Pick<FitOptions, 'onProgress' | 'signal' | 'seed'> = {},
): Promise<TuneResult> {
  const queries = sampleQueries(split.queries.filter((q) => q.target.length > 0), options.maxQueries, fit.seed ?? 42);
  const cache = await ValidationCache.build(strategies, fallback, split, queries, { k: options.k, normalizations: cachedNormalizations(options), candidatesPerStrategy }, fit);
  return searchCachedWeights(names, cache, options, protocol, fit);
}

/** The normalizations a weight search's cache must hold: 'auto' (the baseline's) and those searched. */
export function cachedNormalizations(options: Readonly<TuneOptions>): Normalization[] {
  return [...new Set<Normalization>(['auto', ...options.normalizations])];
}

/**
 * The weight search of searchWeights on validation queries already scored: `cache` built with
 * cachedNormalizations(options) and options.k, one strategy per name.
 */
export async function searchCachedWeights(
  names: readonly string[],
  cache: ValidationCache,
  options: Readonly<TuneOptions>,
  protocol: ValidationProtocol,
  fit: Pick<FitOptions, 'onProgress' | 'signal' | 'seed'> = {},
): Promise<TuneResult> {
  const normalizations = cache.normalizations;
  if (cache.nStrategies !== names.length || cache.k !== options.k || !cachedNormalizations(options).every((n) => normalizations.includes(n))) {
    throw new OptionError('searchCachedWeights: cache', `must score ${names.length} strategies at k ${options.k} with normalizations ${cachedNormalizations(options).join(', ')}, got ${cache.nStrategies} at k ${cache.k} with ${normalizations.join(', ')}`);
  }
  const score = metricFn(options.metric);
  const pace = new Pace(fit.signal, 'weight tuning');
  const all = Int32Array.from({ length: cache.size }, (_, q) => q);
  /** Sum (not mean) of the metric over `queries` for one trial. */
  const totalOf = async (norm: Normalization, w: Float64Array, queries: Int32Array): Promise<number> => {
    const n = normalizations.indexOf(norm);
    let total = 0;
    for (let i = 0; i < queries.length; i++) {
      if ((i & 127) === 0 && pace.due()) await pace.pause();
      const q = queries[i];
      total += score(cache.rank(q, n, w), cache.targets[q], options.k);
    }
    return total;
  };
  const evaluateTrial = async (norm: Normalization, w: Float64Array, queries: Int32Array = all): Promise<number> => {
    trials++;
    return queries.length ? (await totalOf(norm, w, queries)) / queries.length : 0;
  };

  const n = names.length;
  let trials = 0;
  /** Coordinate ascent from equal weights on `queries` (see the header). */
  const ascend = async (norm: Normalization, queries: Int32Array, label: string): Promise<{ w: Float64Array; score: number }> => {
    const w = new Float64Array(n).fill(1);
    let current = await evaluateTrial(norm, w, queries);
    for (let round = 0; round < options.rounds; round++) {
      let changed = false;
      for (let s = 0; s < n; s++) {
        const keep = w[s];
        let bestValue = keep;
        for (const value of options.grid) {
          if (value === keep) continue;
          w[s] = value;
          if (w.every((x) => x === 0)) continue;
          const m = await evaluateTrial(norm, w, queries);
          if (m > current + 1e-6) {
            current = m;
            bestValue = value;
          }
        }
        w[s] = bestValue;
        if (bestValue !== keep) changed = true;
      }
      fit.onProgress?.({ stage: 'tune', done: round + 1, total: options.rounds, message: `${label}${norm} round ${round + 1}: ${options.metric}@${options.k} ${current.toFixed(4)}` });
      if (!changed) break;
    }
    return { w, score: current };
  };

  const single: Record<string, number> = {};
  for (let s = 0; s < n; s++) {
    const w = new Float64Array(n);
    w[s] = 1;
    single[names[s]] = await evaluateTrial('auto', w);
  }
  const equal = new Float64Array(n).fill(1);
  const baseline = await evaluateTrial('auto', equal);
  const searched = new Map<Normalization, Float64Array>();
  let best: TuneTrial = { normalization: 'auto', weights: toRecord(names, equal), score: baseline };
  for (const norm of options.normalizations) {
    const found = await ascend(norm, all, '');
    searched.set(norm, found.w);
    if (found.score > best.score + 1e-6) best = { normalization: norm, weights: toRecord(names, found.w), score: found.score };
  }
  let shrinkage: ShrinkageResult | undefined;
  if (options.shrinkage === 'cv') {
    const cv = await crossValidateShrinkage(cache.size, options.folds, fit.seed ?? 42, options.normalizations, async (norm, fold, rest) => {
      const found = await ascend(norm, rest, `fold ${fold + 1}/${options.folds} `);
      return found.w;
    }, totalOf);
    shrinkage = { factor: cv.factor, folds: options.folds, tried: cv.tried };
    const w = shrunk(searched.get(cv.normalization)!, cv.factor);
    best = { normalization: cv.normalization, weights: toRecord(names, w), score: await evaluateTrial(cv.normalization, w) };
  } else if (options.shrinkage > 0) {
    const w = shrunk(Float64Array.from(names, (name) => best.weights[name]), options.shrinkage);
    best = { normalization: best.normalization, weights: toRecord(names, w), score: await evaluateTrial(best.normalization, w) };
    shrinkage = { factor: options.shrinkage, folds: 0, tried: [] };
  }
  return {
    protocol,
    metric: options.metric,
    k: options.k,
    weights: best.weights,
    normalization: best.normalization,
    score: best.score,
    baseline,
    single,
    queries: cache.size,
    trials,
    ...(shrinkage ? { shrinkage } : {}),
  };
}

/** `w` scaled to mean 1, then pulled toward 1 by `factor`: (1 - factor) w + factor (all 1 when w is all 0). */
export function shrunk(w: Float64Array, factor: number): Float64Array {
  let sum = 0;
  for (const x of w) sum += x;
  const mean = sum / w.length;
  return Float64Array.from(w, (x) => (mean > 0 ? (1 - factor) * (x / mean) + factor : 1));
}

/**
 * `shrinkage: 'cv'`: the queries 0 .. size are dealt to `folds` folds by a seeded shuffle;
 * per normalization and fold, `search` finds weights on the other folds, and each factor of
 * SHRINKAGE_FACTORS is scored on the fold (`total`: the metric's sum over the queries given).
 * Returns the (normalization, factor) of the best held-out mean (factors tried from 1 down,
 * a later one kept only when better by more than 1e-6) and every mean.
 */
export async function crossValidateShrinkage(
  size: number,
  folds: number,
  seed: number,
  normalizations: readonly Normalization[],
  search: (normalization: Normalization, fold: number, rest: Int32Array) => Promise<Float64Array>,
  total: (normalization: Normalization, w: Float64Array, queries: Int32Array) => Promise<number>,
): Promise<{ normalization: Normalization; factor: number; tried: ShrinkageResult['tried'] }> {
  const order = shuffleInPlace(Array.from({ length: size }, (_, q) => q), mulberry32(seed ^ 0x5eed));
  const foldOf = new Int32Array(size);
  order.forEach((q, at) => (foldOf[q] = at % folds));
  const members = (f: number, inFold: boolean) => Int32Array.from(order.filter((q) => (foldOf[q] === f) === inFold)).sort();
  const tried: ShrinkageResult['tried'] = [];
  let best = { normalization: normalizations[0], factor: 1, score: -Infinity };
  for (const norm of normalizations) {
    const sums = new Float64Array(SHRINKAGE_FACTORS.length);
    for (let f = 0; f < folds; f++) {
      const held = members(f, true);
      if (held.length === 0) continue;
      const w = await search(norm, f, members(f, false));
      for (let i = 0; i < SHRINKAGE_FACTORS.length; i++) sums[i] += await total(norm, shrunk(w, SHRINKAGE_FACTORS[i]), held);
    }
    for (let i = 0; i < SHRINKAGE_FACTORS.length; i++) {
      const mean = size ? sums[i] / size : 0;
      tried.push({ normalization: norm, factor: SHRINKAGE_FACTORS[i], score: mean });
      if (mean > best.score + 1e-6) best = { normalization: norm, factor: SHRINKAGE_FACTORS[i], score: mean };
    }
  }
  return { normalization: best.normalization, factor: best.factor, tried };
}

function toRecord(names: readonly string[], w: Float64Array): Record<string, number> {
  return Object.fromEntries(names.map((n, i) => [n, w[i]]));
}

/** At most `max` of `queries`: all of them, or a seeded sample. */
export function sampleQueries(queries: EvalQuery[], max: number, seed: number): EvalQuery[] {
  if (queries.length <= max) return queries;
  return shuffleInPlace(queries.slice(), mulberry32(seed)).slice(0, max);
}

/** The grid `hyperparameters` asks for, by strategy name (members without one are left out). */
export function hyperparameterGrids(
  setting: boolean | HyperparameterGrid,
  names: readonly string[],
  members: readonly Recommender[],
): Record<string, Readonly<Record<string, readonly unknown[]>>> {
  if (setting === false) return {};
  if (setting === true) {
    const out: Record<string, Readonly<Record<string, readonly unknown[]>>> = {};
    names.forEach((name, i) => {
      const grid = HYPERPARAMETER_GRIDS[members[i].kind];
      if (grid !== undefined && optionsOf(members[i]) !== null) out[name] = grid;
    });
    return out;
  }
  for (const name of Object.keys(setting)) {
    const i = names.indexOf(name);
    if (i < 0) throw new OptionError(`tune.hyperparameters.${name}`, `names no strategy (have ${names.join(', ')})`);
    if (optionsOf(members[i]) === null) throw new OptionError(`tune.hyperparameters.${name}`, `strategy "${name}" (${members[i].kind}) has no options to vary`);
  }
  return { ...setting };
}

/** A strategy's own options object, or null when it has none (then it cannot be varied). */
function optionsOf(s: Recommender): Record<string, unknown> | null {
  const o = (s as unknown as { options?: unknown }).options;
  return isPlainObject(o) || (typeof o === 'object' && o !== null) ? (o as Record<string, unknown>) : null;
}

/** A new unfitted strategy of the same class as `s` with its options changed by `patch`. */
export function variantOf(s: Recommender, patch: Readonly<Record<string, unknown>>): Recommender {
  const base = optionsOf(s);
  if (base === null) throw new OptionError('tune.hyperparameters', `strategy kind "${s.kind}" has no options to vary`);
  const Ctor = s.constructor as new (options: Record<string, unknown>) => Recommender;
  return new Ctor({ ...base, ...patch });
}

/**
 * Strategy hyper-parameter search (TuneOptions.hyperparameters) on a validation split: per
 * strategy of `grids`, coordinate search over its options in grid order; every variant is
 * fitted on split.train by `fitMember` and scored alone (with the fallback fill, as the
 * ensemble would rank it) on the validation queries. Returns the members to use (the given
 * fitted ones, or better fitted variants) and what was tried. Deterministic for a seed.
 */
export async function searchHyperparameters(
  names: readonly string[],
  members: readonly Recommender[],
  fallback: Recommender | null,
  split: Split,
  options: Readonly<TuneOptions>,
  candidatesPerStrategy: number,
  grids: Readonly<Record<string, Readonly<Record<string, readonly unknown[]>>>>,
  fitMember: (strategy: Recommender, name: string) => Promise<void>,
  fit: Pick<FitOptions, 'onProgress' | 'signal' | 'seed'> = {},
): Promise<{ members: Recommender[]; report: Record<string, HyperparameterResult> }> {
  const queries = sampleQueries(split.queries.filter((q) => q.target.length > 0), options.maxQueries, fit.seed ?? 42);
  const score = metricFn(options.metric);
  const alone = async (s: Recommender): Promise<number> => {
    const cache = await ValidationCache.build([s], fallback, split, queries, { k: options.k, normalizations: ['auto'], candidatesPerStrategy }, fit);
    const w = Float64Array.of(1);
    let total = 0;
    for (let q = 0; q < cache.size; q++) total += score(cache.rank(q, 0, w), cache.targets[q], options.k);
    return cache.size ? total / cache.size : 0;
  };
  const out = [...members];
  const report: Record<string, HyperparameterResult> = {};
  for (const [name, grid] of Object.entries(grids)) {
    const i = names.indexOf(name);
    const base = optionsOf(members[i])!;
    const given = await alone(members[i]);
    let best = given;
    let chosen: Record<string, unknown> = {};
    const tried: HyperparameterResult['tried'] = [];
    // Settings of the grid's options already scored (the given one first), so none is fitted twice.
    const settingOf = (patch: Record<string, unknown>) => JSON.stringify(Object.keys(grid).map((o) => (o in patch ? patch[o] : base[o])));
    const seen = new Set([settingOf({})]);
    for (const [option, values] of Object.entries(grid)) {
      for (const value of values) {
        const patch = { ...chosen, [option]: value };
        if (seen.has(settingOf(patch))) continue;
        seen.add(settingOf(patch));
        const variant = variantOf(members[i], patch);
        fit.onProgress?.({ stage: 'tune: hyper-parameters', done: tried.length, total: tried.length + 1, message: `${name} ${JSON.stringify(patch)}` });
        await fitMember(variant, name);
        const m = await alone(variant);
        tried.push({ options: patch, score: m });
        if (m > best + 1e-6) {
          best = m;
          chosen = patch;
          out[i] = variant;
        }
      }
    }
    fit.onProgress?.({ stage: 'tune: hyper-parameters', done: 1, total: 1, message: `${name}: ${JSON.stringify(chosen)} ${options.metric}@${options.k} ${given.toFixed(4)} -> ${best.toFixed(4)}` });
    report[name] = { chosen, given, score: best, tried };
  }
  return { members: out, report };
}

/** TuneResult.hyperparameters as stored in an artifact (persist.ts reads root.tuning with `tuning`): names it searched, chosen options, scores. */
export function readHyperparameterReport(tuning: StateReader, names: readonly string[]): Record<string, HyperparameterResult> {
  const t = tuning.object('hyperparameters');
  const stored = tuning.raw('hyperparameters') as Record<string, unknown>;
  const plain = (r: StateReader, key: string): Record<string, unknown> => {
    r.object(key);
    return { ...(r.raw(key) as Record<string, unknown>) };
  };
  const out: Record<string, HyperparameterResult> = {};
  for (const name of Object.keys(stored)) {
    if (!names.includes(name)) t.fail(name, `names no strategy of this recommender (have ${names.join(', ')})`);
    const r = t.object(name).keys(['chosen', 'given', 'score', 'tried']);
    const tried = r.raw('tried');
    if (!Array.isArray(tried)) r.fail('tried', `must be an array, got ${describe(tried)}`);
    out[name] = {
      chosen: plain(r, 'chosen'),
      given: r.number('given', { min: 0 }),
      score: r.number('score', { min: 0 }),
      tried: (tried as unknown[]).map((entry, i) => {
        const e = entry as { options?: unknown; score?: unknown } | null;
        if (!isPlainObject(e) || !isPlainObject(e.options) || typeof e.score !== 'number' || !(e.score >= 0) || Object.keys(e).length !== 2) {
          r.fail(`tried[${i}]`, `must be { options: {...}, score: a number >= 0 }, got ${describe(entry)}`);
        }
        return { options: { ...(e!.options as Record<string, unknown>) }, score: e!.score as number };
      }),
    };
  }
  return out;
}

/** TuneResult.shrinkage as stored in an artifact (root.tuning.shrinkage). */
export function readShrinkage(r: StateReader): ShrinkageResult {
  r.keys(['factor', 'folds', 'tried']);
  const tried = r.raw('tried');
  if (!Array.isArray(tried)) r.fail('tried', `must be an array, got ${describe(tried)}`);
  return {
    factor: r.number('factor', { min: 0, max: 1 }),
    folds: r.integer('folds', { min: 0 }),
    tried: (tried as unknown[]).map((entry, i) => {
      const e = entry as { normalization?: unknown; factor?: unknown; score?: unknown } | null;
      const ok =
        isPlainObject(e) && Object.keys(e).length === 3 && (NORMALIZATIONS as readonly unknown[]).includes(e.normalization) &&
        typeof e.factor === 'number' && e.factor >= 0 && e.factor <= 1 && typeof e.score === 'number' && e.score >= 0;
      if (!ok) r.fail(`tried[${i}]`, `must be { normalization: one of ${NORMALIZATIONS.join(', ')}, factor: a number in [0, 1], score: a number >= 0 }, got ${describe(entry)}`);
      return { normalization: e!.normalization as Normalization, factor: e!.factor as number, score: e!.score as number };
    }),
  };
}
