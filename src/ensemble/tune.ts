import { CsrMatrix } from '../data/csr';
import { Dataset, noBaskets } from '../data/dataset';
import { OptionError, throwIfAborted } from '../errors';
import { averagePrecisionAtK, hitAtK, ndcgAtK, precisionAtK, recallAtK, type TargetSet } from '../eval/metrics';
import { basketCompletion, makeSplit, nextBasket, type EvalQuery, type Split } from '../eval/splits';
import { evalQuery } from '../eval/evaluate';
import { ScoreVector, type FitOptions, type Recommender } from '../strategies/types';
import { mulberry32, shuffleInPlace } from '../util/random';
import { TopK } from '../util/topk';
import { NORMALIZATIONS, affineOf, scoreStats, type Normalization } from './normalize';

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
 * strategy; trials then only re-weight the cached, normalized top-`depth` candidates of
 * each strategy. An item outside every strategy's top-`depth` cannot be ranked by a trial,
 * which is why `depth` defaults to 20 x k.
 */
export type ValidationProtocol = 'next-basket' | 'basket-completion' | 'holdout';

export type TuneMetric = 'ndcg' | 'recall' | 'map' | 'precision' | 'hitRate';

export interface TuneOptions {
  /** How to carve validation queries from the training data ('auto': next-basket when most users have >= 3 baskets, basket-completion when baskets exist, else holdout). */
  protocol: ValidationProtocol | 'auto';
  metric: TuneMetric;
  k: number;
  /** Candidate values of each weight. */
  grid: number[];
  /** Maximum coordinate-ascent passes. */
  rounds: number;
  normalizations: Normalization[];
  /** At most this many validation queries (a seeded sample) to bound tuning time. */
  maxQueries: number;
  /** Candidates cached per strategy and query (see above). */
  depth: number;
}

export const DEFAULT_TUNE_OPTIONS: TuneOptions = {
  protocol: 'auto',
  metric: 'ndcg',
  k: 10,
  grid: [0, 0.1, 0.25, 0.5, 1, 2, 4, 8],
  rounds: 4,
  normalizations: ['auto', 'minmax', 'zscore'],
  maxQueries: 2000,
  depth: 200,
};

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

export function resolveTuneOptions(options: Partial<TuneOptions> = {}): TuneOptions {
  const o = { ...DEFAULT_TUNE_OPTIONS, ...options };
  if (!['auto', 'next-basket', 'basket-completion', 'holdout'].includes(o.protocol)) throw new OptionError('tune.protocol', `unknown protocol ${o.protocol}`);
  if (!['ndcg', 'recall', 'map', 'precision', 'hitRate'].includes(o.metric)) throw new OptionError('tune.metric', `unknown metric ${o.metric}`);
  if (!Number.isInteger(o.k) || o.k < 1) throw new OptionError('tune.k', 'must be a positive integer');
  if (!Array.isArray(o.grid) || o.grid.length === 0 || o.grid.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new OptionError('tune.grid', 'must be a non-empty list of finite weights >= 0');
  }
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new OptionError('tune.rounds', 'must be a positive integer');
  for (const n of o.normalizations) if (!NORMALIZATIONS.includes(n)) throw new OptionError('tune.normalizations', `unknown normalization ${n}`);
  if (!Number.isInteger(o.maxQueries) || o.maxQueries < 1) throw new OptionError('tune.maxQueries', 'must be a positive integer');
  if (!Number.isInteger(o.depth) || o.depth < o.k) throw new OptionError('tune.depth', 'must be an integer >= k');
  return o;
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

/** Cached normalized candidates of every strategy for every validation query. */
interface Cache {
  nStrategies: number;
  /** Per query, per strategy: candidate items and raw scores (top-depth). */
  items: Int32Array[][];
  raw: Float32Array[][];
  /** Per normalization, per query, per strategy: [scale, shift] (NaN: no opinion). */
  maps: Map<Normalization, Float64Array[]>;
  targets: Set<number>[];
}

/**
 * Scores every validation query once per strategy (fitted on split.train) and searches the
 * weights. `strategies` must already be fitted on `split.train`.
 */
export function searchWeights(
  names: string[],
  strategies: Recommender[],
  split: Split,
  options: TuneOptions,
  protocol: ValidationProtocol,
  fit: Pick<FitOptions, 'onProgress' | 'signal' | 'seed'> = {},
): TuneResult {
  const queries = sampleQueries(split.queries.filter((q) => q.target.length > 0), options.maxQueries, fit.seed ?? 42);
  const cache = buildCache(strategies, split, queries, options, fit);
  const score = metricFn(options.metric);
  const nItems = split.train.nItems;
  const combined = new Float64Array(nItems);
  const heap = new TopK(options.k);
  const evaluateTrial = (norm: Normalization, w: Float64Array): number => {
    const mapsOf = cache.maps.get(norm)!;
    let total = 0;
    for (let q = 0; q < cache.items.length; q++) {
      heap.clear();
      const maps = mapsOf[q];
      for (let s = 0; s < cache.nStrategies; s++) {
        if (w[s] === 0 || Number.isNaN(maps[2 * s])) continue;
        const a = w[s] * maps[2 * s];
        const b = w[s] * maps[2 * s + 1];
        const its = cache.items[q][s];
        const raw = cache.raw[q][s];
        for (let i = 0; i < its.length; i++) combined[its[i]] += raw[i] * a + b;
      }
      for (let s = 0; s < cache.nStrategies; s++) {
        const its = cache.items[q][s];
        for (let i = 0; i < its.length; i++) {
          const item = its[i];
          const v = combined[item];
          if (v !== 0) {
            if (v > 0) heap.push(item, v);
            combined[item] = 0;
          }
        }
      }
      total += score(heap.sorted().items, cache.targets[q], options.k);
    }
    return cache.items.length ? total / cache.items.length : 0;
  };

  const n = names.length;
  let trials = 0;
  const single: Record<string, number> = {};
  for (let s = 0; s < n; s++) {
    const w = new Float64Array(n);
    w[s] = 1;
    single[names[s]] = evaluateTrial('auto', w);
    trials++;
  }
  const baseline = evaluateTrial('auto', new Float64Array(n).fill(1));
  trials++;
  let best: TuneTrial = { normalization: 'auto', weights: toRecord(names, new Float64Array(n).fill(1)), score: baseline };
  for (const norm of options.normalizations) {
    const w = new Float64Array(n).fill(1);
    let current = norm === 'auto' ? baseline : evaluateTrial(norm, w);
    trials++;
    for (let round = 0; round < options.rounds; round++) {
      let changed = false;
      for (let s = 0; s < n; s++) {
        throwIfAborted(fit.signal, 'weight tuning');
        const keep = w[s];
        let bestValue = keep;
        for (const value of options.grid) {
          if (value === keep) continue;
          w[s] = value;
          if (w.every((x) => x === 0)) continue;
          const m = evaluateTrial(norm, w);
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
    queries: cache.items.length,
    trials,
  };
}

function toRecord(names: string[], w: Float64Array): Record<string, number> {
  return Object.fromEntries(names.map((n, i) => [n, w[i]]));
}

function sampleQueries(queries: EvalQuery[], max: number, seed: number): EvalQuery[] {
  if (queries.length <= max) return queries;
  return shuffleInPlace(queries.slice(), mulberry32(seed)).slice(0, max);
}

function buildCache(
  strategies: Recommender[],
  split: Split,
  queries: EvalQuery[],
  options: TuneOptions,
  fit: Pick<FitOptions, 'onProgress' | 'signal'>,
): Cache {
  const nItems = split.train.nItems;
  const vectors = strategies.map(() => new ScoreVector(nItems));
  const cache: Cache = { nStrategies: strategies.length, items: [], raw: [], maps: new Map(), targets: [] };
  for (const n of options.normalizations.includes('auto') ? options.normalizations : ['auto' as Normalization, ...options.normalizations]) cache.maps.set(n, []);
  const blocked = new Uint8Array(nItems);
  for (let qi = 0; qi < queries.length; qi++) {
    if (qi % 256 === 0) {
      throwIfAborted(fit.signal, 'weight tuning');
      fit.onProgress?.({ stage: 'tune: scoring validation queries', done: qi, total: queries.length });
    }
    const q = queries[qi];
    const query = evalQuery(split.train, q);
    const blockList: number[] = [];
    if (q.excludeHistory) for (const i of query.history.items) blockList.push(i);
    if (q.excludeBasket) for (const i of q.basket) blockList.push(i);
    for (const i of blockList) blocked[i] = 1;
    const itemsPerS: Int32Array[] = [];
    const rawPerS: Float32Array[] = [];
    const mapsPerNorm = new Map<Normalization, Float64Array>();
    for (const n of cache.maps.keys()) mapsPerNorm.set(n, new Float64Array(2 * strategies.length).fill(NaN));
    for (let s = 0; s < strategies.length; s++) {
      const v = vectors[s];
      v.reset();
      strategies[s].score(query, v);
      const stats = scoreStats(v);
      if (stats) {
        for (const [n, arr] of mapsPerNorm) {
          const map = affineOf(stats, n);
          arr[2 * s] = map.scale;
          arr[2 * s + 1] = map.shift;
        }
      }
      const heap = new TopK(options.depth);
      for (let i = 0; i < v.length; i++) {
        const item = v.at(i);
        if (blocked[item] === 1 || (split.candidates !== null && split.candidates[item] === 0)) continue;
        const raw = v.values[item];
        if (Number.isFinite(raw)) heap.push(item, raw);
      }
      const top = heap.sorted();
      itemsPerS.push(top.items);
      rawPerS.push(top.scores);
    }
    for (const i of blockList) blocked[i] = 0;
    cache.items.push(itemsPerS);
    cache.raw.push(rawPerS);
    for (const [n, arr] of mapsPerNorm) cache.maps.get(n)!.push(arr);
    cache.targets.push(new Set(q.target));
  }
  return cache;
}
