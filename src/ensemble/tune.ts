import { CsrMatrix } from '../data/csr';
import { GrowableColumn } from '../data/csv';
import { Dataset, noBaskets } from '../data/dataset';
import { evalQuery } from '../eval/evaluate';
import { averagePrecisionAtK, hitAtK, ndcgAtK, precisionAtK, recallAtK, type TargetSet } from '../eval/metrics';
import { basketCompletion, makeSplit, nextBasket, type EvalQuery, type Split } from '../eval/splits';
import { ScoreVector, type FitOptions, type Recommender } from '../strategies/types';
import { arrayOf, integer, number, oneOf, resolveOptions, type OptionChecks } from '../util/options';
import { Pace } from '../util/pace';
import { mulberry32, shuffleInPlace } from '../util/random';
import { TopK } from '../util/topk';
import { addCandidates, CandidateBuffers, CandidateUnion, rankCombined, RankBuffers, scoreMember, type FallbackCandidates } from './merge';
import { NORMALIZATIONS, affineOf, type Normalization } from './normalize';

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
export type ValidationProtocol = 'next-basket' | 'basket-completion' | 'holdout';

export type TuneMetric = 'ndcg' | 'recall' | 'map' | 'precision' | 'hitRate';

export interface TuneOptions {
  /**
   * How to carve validation queries from the training data: 'auto' takes next-basket when at
   * least half the users with baskets have 3 or more, basket-completion when baskets exist,
   * else holdout (the protocols of BENCHMARKS.md that fit the data). Default 'auto'.
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
}

const TUNE_CHECKS: OptionChecks<TuneOptions> = {
  protocol: oneOf<ValidationProtocol | 'auto'>(['auto', 'next-basket', 'basket-completion', 'holdout']),
  metric: oneOf<TuneMetric>(['ndcg', 'recall', 'map', 'precision', 'hitRate']),
  k: integer({ min: 1 }),
  grid: arrayOf(number({ min: 0 }), { min: 1 }),
  rounds: integer({ min: 1 }),
  normalizations: arrayOf(oneOf(NORMALIZATIONS), { min: 1 }),
  maxQueries: integer({ min: 1 }),
};

export const TUNE_DEFAULTS: Readonly<TuneOptions> = Object.freeze({
  protocol: 'auto',
  metric: 'ndcg',
  k: 10,
  grid: Object.freeze([0, 0.1, 0.25, 0.5, 1, 2, 4, 8]),
  rounds: 4,
  normalizations: Object.freeze(['auto', 'minmax', 'zscore'] as Normalization[]),
  maxQueries: 2000,
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
}

/** The tune options with defaults filled in and checked (OptionErrors are named `owner.key`). */
export function resolveTuneOptions(options: Partial<TuneOptions> | undefined, owner = 'tune'): Readonly<TuneOptions> {
  return resolveOptions(owner, TUNE_DEFAULTS, options, TUNE_CHECKS);
}

/** Picks the validation protocol for 'auto'. */
export function chooseProtocol(data: Dataset): ValidationProtocol {
  if (data.nBaskets === 0) return 'holdout';
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
  return holdoutFromMatrix(data, seed);
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
    }
    if (nTest > 0) {
      const target = Int32Array.from(order.slice(n - nTest), (p) => m.indices[p]).sort();
      queries.push({ user: u, basket: new Int32Array(0), useHistory: true, excludeHistory: true, excludeBasket: false, target, id: data.users.id(u) });
    }
  }
  const interactions = CsrMatrix.fromCoo(data.nUsers, data.nItems, Int32Array.from(keepRows), Int32Array.from(keepCols), Float32Array.from(keepVals));
  const train = new Dataset(data.users, data.items, interactions, noBaskets(data.nUsers), data.catalog);
  return makeSplit('P2', train, queries);
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
      const blockList: number[] = [];
      const block = (i: number) => {
        if (blocked[i] === 0) {
          blocked[i] = 1;
          blockList.push(i);
        }
      };
      if (q.excludeHistory) for (const i of query.history.items) block(i);
      if (q.excludeBasket) for (const i of q.basket) block(i);
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
    return new ValidationCache(nS, normalizations, k, unions, ptr, slots.toArray(), raw.toArray(), maps, fbPtr, fbItems.toArray(), fbScores.toArray(), fbSlots.toArray(), targets);
  }

  /**
   * The top k items of validation query `q` under normalization normalizations[n] and
   * `weights`, as the recommender ranks them: a view valid until the next call.
   */
  rank(q: number, n: number, weights: Float64Array): Int32Array {
    const { sums, nStrategies: nS, ptr } = this;
    const items = this.unions[q];
    const maps = this.maps[n];
    sums.fill(0, 0, items.length);
    for (let s = 0; s < nS; s++) {
      const at = q * nS + s;
      if (weights[s] === 0 || Number.isNaN(maps[2 * at])) continue;
      addCandidates(this.slots, this.raw, ptr[at], ptr[at + 1], maps[2 * at], maps[2 * at + 1], weights[s], sums);
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
  const normalizations = [...new Set<Normalization>(['auto', ...options.normalizations])];
  const cache = await ValidationCache.build(strategies, fallback, split, queries, { k: options.k, normalizations, candidatesPerStrategy }, fit);
  const score = metricFn(options.metric);
  const pace = new Pace(fit.signal, 'weight tuning');
  const evaluateTrial = async (norm: Normalization, w: Float64Array): Promise<number> => {
    const n = normalizations.indexOf(norm);
    let total = 0;
    for (let q = 0; q < cache.size; q++) {
      if ((q & 127) === 0 && pace.due()) await pace.pause();
      total += score(cache.rank(q, n, w), cache.targets[q], options.k);
    }
    return cache.size ? total / cache.size : 0;
  };

  const n = names.length;
  let trials = 0;
  const single: Record<string, number> = {};
  for (let s = 0; s < n; s++) {
    const w = new Float64Array(n);
    w[s] = 1;
    single[names[s]] = await evaluateTrial('auto', w);
    trials++;
  }
  const baseline = await evaluateTrial('auto', new Float64Array(n).fill(1));
  trials++;
  let best: TuneTrial = { normalization: 'auto', weights: toRecord(names, new Float64Array(n).fill(1)), score: baseline };
  for (const norm of options.normalizations) {
    const w = new Float64Array(n).fill(1);
    let current = norm === 'auto' ? baseline : await evaluateTrial(norm, w);
    trials++;
    for (let round = 0; round < options.rounds; round++) {
      let changed = false;
      for (let s = 0; s < n; s++) {
        const keep = w[s];
        let bestValue = keep;
        for (const value of options.grid) {
          if (value === keep) continue;
          w[s] = value;
          if (w.every((x) => x === 0)) continue;
          const m = await evaluateTrial(norm, w);
          trials++;
          if (m > current + 1e-6) {
            current = m;
            bestValue = value;
          }
        }
        w[s] = bestValue;
        if (bestValue !== keep) changed = true;
      }
      fit.onProgress?.({ stage: 'tune', done: round + 1, total: options.rounds, message: `${norm} round ${round + 1}: ${options.metric}@${options.k} ${current.toFixed(4)}` });
      if (!changed) break;
    }
    if (current > best.score + 1e-6) best = { normalization: norm, weights: toRecord(names, w), score: current };
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
  };
}

function toRecord(names: readonly string[], w: Float64Array): Record<string, number> {
  return Object.fromEntries(names.map((n, i) => [n, w[i]]));
}

/** At most `max` of `queries`: all of them, or a seeded sample. */
export function sampleQueries(queries: EvalQuery[], max: number, seed: number): EvalQuery[] {
  if (queries.length <= max) return queries;
  return shuffleInPlace(queries.slice(), mulberry32(seed)).slice(0, max);
}
