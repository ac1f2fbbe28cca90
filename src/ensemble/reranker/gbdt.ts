/**
 * LambdaMART: gradient-boosted regression trees trained with the LambdaRank objective on
 * NDCG@k (Burges 2010), histogram-based and grown leaf-wise like LightGBM.
 *
 * Why hand-written: npm has no well-kept GBDT that trains a ranker and scores in the browser.
 * The closest, ml-xgboost (1.1.2), is an emscripten build of XGBoost whose last commit is
 * from April 2018, depends on ml-matrix ^5 (hybridrec is on ml-matrix 6), needs manual
 * free() of wasm memory and ships a wasm binary. decision-tree (1.0.0, "XGBoost" included)
 * trains on arrays of objects through lodash, with regression/binary/multiclass objectives
 * and no ranking objective; xgboost-scorer only scores. LightGBM and XGBoost themselves are
 * native. A booster is small (binning, histograms, leaf-wise growth, one objective) and
 * must serialize into hybridrec's artifact and score with plain typed-array loops, so it is
 * written here.
 *
 * One boosting round: lambdas and hessians of the (bagged) training queries at the current
 * scores (lambdarank.ts), one tree grown on them (tree-grower.ts) over a per-tree sample of
 * the features, its Newton-step leaves scaled by the learning rate and added to the forest
 * (forest-builder.ts), every training and validation row's score updated through the new
 * tree's raw thresholds. Early stopping keeps the forest up to the tree with the best mean
 * validation NDCG@k once `earlyStoppingRounds` trees in a row have not beaten it.
 */
import { OptionError } from '../../errors';
import type { FitOptions } from '../../strategies/types';
import { describe, resolveOptions } from '../../util/options';
import { Pace } from '../../util/pace';
import { deriveSeed, mulberry32, shuffleInPlace, type Rng } from '../../util/random';
import { binRows, findBins } from './binning';
import { LAMBDAMART_CHECKS, LAMBDAMART_DEFAULTS, type LambdaMARTOptions } from './booster-options';
import type { BoostedTrees, ForestBase } from './forest';
import { ForestBuilder } from './forest-builder';
import { LambdaRank } from './lambdarank';
import { TreeGrower } from './tree-grower';

/** Candidates grouped by query, the input of LambdaMART.fit. */
export interface RankingData {
  /** Row-major matrix, rows x featureNames.length; NaN = missing. */
  features: Float32Array;
  /** Relevance of each row: an integer 0..31, 0 = not relevant (gain 2^label - 1). */
  labels: ArrayLike<number>;
  /** Rows of query q are queryPtr[q] .. queryPtr[q+1]; queryPtr[0] = 0, the last entry = rows. */
  queryPtr: Int32Array;
  featureNames: readonly string[];
  /**
   * Boost from a given ranker (LightGBM's init_score): the column holding its score. Every
   * row starts from scale x that value (0 when missing), the scale fitted before the first
   * tree to minimize the LambdaRank cost of the training queries; trees learn corrections,
   * and early stopping keeps no tree unless one beats the given ranking on the validation
   * queries. Omitted: rows start from 0.
   */
  baseFeature?: number;
  /**
   * A group per query (e.g. its shopper): the validation share is drawn by group, so
   * queries of one group are never split between training and validation (several queries
   * of one shopper would otherwise leak their habits into validation). Omitted: each query
   * is its own group.
   */
  groups?: Int32Array;
}

/** How a fit went. */
export interface TrainingReport {
  /** Trees grown, and kept in the model (fewer when early stopping cut back to the best). */
  treesGrown: number;
  treesKept: number;
  /** Why growing stopped: the tree budget, early stopping, or no leaf could be split. */
  stoppedBy: 'trees' | 'early-stopping' | 'no-split';
  /** Queries trained on (those with a relevant candidate and at least two rows) and validated on (those with a relevant candidate). */
  trainingQueries: number;
  validationQueries: number;
  /** Mean validation NDCG@k before any tree (candidate order) and after each tree; empty without validation. */
  initialValidationNdcg: number;
  validationNdcg: number[];
  /** The scale fitted for data.baseFeature (null without one; see RankingData.baseFeature). */
  baseScale: number | null;
  /**
   * Paired bootstrap over the validation queries (2000 seeded resamples): the share of
   * resamples in which the kept forest's mean NDCG@k beats the initial ranking's. NaN
   * without validation queries or without a kept tree.
   */
  gainConfidence: number;
}

export interface LambdaMARTResult {
  model: BoostedTrees;
  report: TrainingReport;
}

/** Trains BoostedTrees rankers. See the file header. */
export class LambdaMART {
  static readonly defaults: Readonly<LambdaMARTOptions> = LAMBDAMART_DEFAULTS;

  readonly options: Readonly<LambdaMARTOptions>;

  constructor(options: Partial<LambdaMARTOptions> = {}) {
    this.options = resolveOptions('LambdaMART', LambdaMART.defaults, options, LAMBDAMART_CHECKS);
  }

  /**
   * Trains a forest on `data`. Progress: one unit per tree (stage 'LambdaMART.fit').
   * Abortable mid-run through options.signal (AbortedError). Same data, options and seed:
   * the same trees, bit for bit.
   */
  async fit(data: RankingData, options: FitOptions = {}): Promise<LambdaMARTResult> {
    const pace = new Pace(options.signal, 'LambdaMART.fit');
    const o = this.options;
    const F = checkData(data);
    const baseFeature = data.baseFeature ?? null;
    if (baseFeature !== null && !(Number.isInteger(baseFeature) && baseFeature >= 0 && baseFeature < F)) {
      throw new OptionError('data.baseFeature', `must be a feature column 0..${F - 1}, got ${describe(baseFeature)}`);
    }
    const seed = options.seed ?? 42;
    const { train, validation } = splitQueries(data, o.validationShare, mulberry32(deriveSeed(seed, 'LambdaMART.validation')));
    if (train.queries === 0) throw new OptionError('data', 'no query has a relevant candidate (label > 0) and at least two candidates to train on');

    const bins = findBins(data.features, F, train.rows, o.maxBins);
    const binned = binRows(bins, data.features, train.rows);
    const objective = new LambdaRank(o.ndcgAt, o.sigma, Math.max(longestQuery(train.ptr), longestQuery(validation.ptr)));
    const invIdeal = new Float64Array(train.queries);
    for (let q = 0; q < train.queries; q++) invIdeal[q] = 1 / objective.idealDcg(train.labels, train.ptr[q], train.ptr[q + 1] - train.ptr[q]);

    const nTrain = train.rows.length;
    const trainScores = new Float64Array(nTrain);
    const validationScores = new Float64Array(validation.rows.length);
    const grad = new Float64Array(nTrain);
    const hess = new Float64Array(nTrain);
    const bagRows = new Int32Array(nTrain);
    const grower = new TreeGrower(bins, o);
    const forest = new ForestBuilder(data.featureNames, o.numLeaves);
    const rng = mulberry32(deriveSeed(seed, 'LambdaMART.trees'));
    const queryPool = Int32Array.from({ length: train.queries }, (_, q) => q);
    const featurePool = Int32Array.from({ length: F }, (_, f) => f);
    const nBag = Math.max(1, Math.round(o.baggingFraction * train.queries));
    const nFeat = Math.max(1, Math.round(o.featureFraction * F));

    let base: ForestBase | null = null;
    if (baseFeature !== null) {
      const column = (set: QuerySet) => Float64Array.from(set.rows, (r) => (Number.isNaN(data.features[r * F + baseFeature]) ? 0 : data.features[r * F + baseFeature]));
      const trainBase = column(train);
      base = { feature: baseFeature, scale: fitBaseScale(objective, train, trainBase, invIdeal, grad, hess, trainScores) };
      for (let r = 0; r < nTrain; r++) trainScores[r] = base.scale * trainBase[r];
      const validationBase = column(validation);
      for (let r = 0; r < validationScores.length; r++) validationScores[r] = base.scale * validationBase[r];
    }

    const perQuery = new Float64Array(validation.queries);
    const meanNdcg = () => meanQueryNdcg(objective, validationScores, validation, perQuery);
    const report: TrainingReport = {
      treesGrown: 0,
      treesKept: 0,
      stoppedBy: 'trees',
      trainingQueries: train.queries,
      validationQueries: validation.queries,
      initialValidationNdcg: validation.queries > 0 ? meanNdcg() : NaN,
      validationNdcg: [],
      baseScale: base === null ? null : base.scale,
      gainConfidence: NaN,
    };
    const initialPerQuery = Float64Array.from(perQuery);
    const bestPerQuery = Float64Array.from(perQuery);
    // From a base ranking, a tree is kept only when it beats that ranking; from 0 (an
    // arbitrary row order) the first tree always counts.
    let best = base !== null && validation.queries > 0 ? report.initialValidationNdcg : -Infinity;
    let bestTrees = 0;

    for (let t = 0; t < o.trees; t++) {
      const queries = nBag < train.queries ? sample(queryPool, nBag, rng) : queryPool;
      const features = nFeat < F ? sample(featurePool, nFeat, rng) : featurePool;
      let nRows = 0;
      for (let i = 0; i < queries.length; i++) {
        const q = queries[i];
        const start = train.ptr[q];
        const n = train.ptr[q + 1] - start;
        objective.gradients(trainScores, train.labels, start, n, invIdeal[q], grad, hess);
        for (let r = start; r < start + n; r++) bagRows[nRows++] = r;
        if (pace.due()) await pace.pause();
      }
      await grower.grow(binned, bagRows, nRows, grad, hess, features, pace);
      if (grower.nNodes === 0) {
        report.stoppedBy = 'no-split';
        break;
      }
      forest.add(grower, bins, o.learningRate);
      const tree = forest.lastTree();
      tree.addScores(data.features, train.rows, nTrain, trainScores);
      report.treesGrown = t + 1;
      let message: string | undefined;
      if (validation.queries > 0) {
        tree.addScores(data.features, validation.rows, validation.rows.length, validationScores);
        const ndcg = meanNdcg();
        report.validationNdcg.push(ndcg);
        message = `validation NDCG@${o.ndcgAt} ${ndcg.toFixed(4)}`;
        if (ndcg > best) {
          best = ndcg;
          bestTrees = t + 1;
          bestPerQuery.set(perQuery);
        }
      }
      options.onProgress?.({ stage: 'LambdaMART.fit', done: t + 1, total: o.trees, message });
      if (validation.queries > 0 && o.earlyStoppingRounds > 0 && t + 1 - bestTrees >= o.earlyStoppingRounds) {
        report.stoppedBy = 'early-stopping';
        break;
      }
      if (pace.due()) await pace.pause();
    }
    const keep = validation.queries > 0 && o.earlyStoppingRounds > 0 ? bestTrees : forest.nTrees;
    report.treesKept = keep;
    if (validation.queries > 0 && keep > 0) {
      if (keep !== bestTrees) bestPerQuery.set(perQuery); // no early stopping: the last tree's
      report.gainConfidence = pairedBootstrap(initialPerQuery, bestPerQuery, mulberry32(deriveSeed(seed, 'LambdaMART.bootstrap')));
    }
    return { model: forest.build(keep, base), report };
  }
}

/** Rows, labels and query offsets of one side of the query split. */
interface QuerySet {
  queries: number;
  /** Rows of the input matrix, query by query. */
  rows: Int32Array;
  /** Query q's entries in rows / labels: ptr[q] .. ptr[q+1]. */
  ptr: Int32Array;
  labels: Float64Array;
}

/** Validates the ranking data; returns the number of features. */
function checkData(data: RankingData): number {
  if (data === null || typeof data !== 'object') throw new OptionError('data', 'must be { features, labels, queryPtr, featureNames }');
  const { features, labels, queryPtr, featureNames } = data;
  if (!Array.isArray(featureNames) || featureNames.length === 0 || !featureNames.every((n) => typeof n === 'string')) {
    throw new OptionError('data.featureNames', 'must be a non-empty list of names');
  }
  const F = featureNames.length;
  if (!(features instanceof Float32Array)) throw new OptionError('data.features', 'must be a Float32Array (rows x features, row-major)');
  if (!(queryPtr instanceof Int32Array) || queryPtr.length < 2 || queryPtr[0] !== 0) {
    throw new OptionError('data.queryPtr', 'must be an Int32Array of query offsets starting at 0, with at least one query');
  }
  const nRows = queryPtr[queryPtr.length - 1];
  for (let q = 0; q + 1 < queryPtr.length; q++) {
    if (queryPtr[q + 1] < queryPtr[q]) throw new OptionError('data.queryPtr', `offsets must not decrease (query ${q})`);
  }
  if (features.length !== nRows * F) throw new OptionError('data.features', `has ${features.length} values, ${nRows} rows x ${F} features need ${nRows * F}`);
  if (labels === null || typeof labels !== 'object' || labels.length !== nRows) throw new OptionError('data.labels', `must have one label per row (${nRows})`);
  const groups = data.groups;
  if (groups !== undefined && !(groups instanceof Int32Array && groups.length === queryPtr.length - 1 && groups.every((g) => g >= 0))) {
    throw new OptionError('data.groups', `must be an Int32Array of one group index >= 0 per query (${queryPtr.length - 1})`);
  }
  for (let r = 0; r < nRows; r++) {
    const l = labels[r];
    if (!Number.isInteger(l) || l < 0 || l > 31) throw new OptionError('data.labels', `row ${r} has label ${l}; labels are integers 0..31`);
  }
  return F;
}

/**
 * Draws the validation queries (share of all, seeded), then keeps the training queries
 * that carry a gradient and the validation queries whose NDCG is defined.
 */
function splitQueries(data: RankingData, share: number, rng: Rng): { train: QuerySet; validation: QuerySet } {
  const nQueries = data.queryPtr.length - 1;
  const groups = data.groups ?? Int32Array.from({ length: nQueries }, (_, q) => q);
  let nGroups = 0;
  for (let q = 0; q < nQueries; q++) nGroups = Math.max(nGroups, groups[q] + 1);
  const shuffled = shuffleInPlace(Int32Array.from({ length: nGroups }, (_, g) => g), rng);
  const nValidation = share > 0 && nGroups > 1 ? Math.min(nGroups - 1, Math.max(1, Math.round(share * nGroups))) : 0;
  const groupHeldOut = new Uint8Array(nGroups);
  for (let i = 0; i < nValidation; i++) groupHeldOut[shuffled[i]] = 1;
  const isValidation = Uint8Array.from(groups, (g) => groupHeldOut[g]);
  const pick = (side: number, minRows: number): QuerySet => {
    const rows: number[] = [];
    const ptr = [0];
    for (let q = 0; q < nQueries; q++) {
      const start = data.queryPtr[q];
      const end = data.queryPtr[q + 1];
      if (isValidation[q] !== side || end - start < minRows) continue;
      let relevant = false;
      for (let r = start; r < end; r++) if (data.labels[r] > 0) relevant = true;
      if (!relevant) continue;
      for (let r = start; r < end; r++) rows.push(r);
      ptr.push(rows.length);
    }
    const rowArray = Int32Array.from(rows);
    return { queries: ptr.length - 1, rows: rowArray, ptr: Int32Array.from(ptr), labels: Float64Array.from(rowArray, (r) => data.labels[r]) };
  };
  return { train: pick(0, 2), validation: pick(1, 1) };
}

function longestQuery(ptr: Int32Array): number {
  let longest = 1;
  for (let q = 0; q + 1 < ptr.length; q++) longest = Math.max(longest, ptr[q + 1] - ptr[q]);
  return longest;
}

/** Mean NDCG@k of the set's queries; each query's into perQuery. */
function meanQueryNdcg(objective: LambdaRank, scores: Float64Array, set: QuerySet, perQuery: Float64Array): number {
  let sum = 0;
  for (let q = 0; q < set.queries; q++) {
    perQuery[q] = objective.ndcg(scores, set.labels, set.ptr[q], set.ptr[q + 1] - set.ptr[q]);
    sum += perQuery[q];
  }
  return sum / set.queries;
}

/**
 * The scale c >= 0 minimizing the LambdaRank cost of the training queries at scores c x base
 * (`scores` is scratch). For c > 0 the ranking, hence every pair's |dNDCG|, does not depend
 * on c, so the cost is convex in c and its derivative sum_r lambda_r(c) base_r increases:
 * the root is bracketed by doubling and found by bisection in log scale. 0 when the base
 * ranks relevant rows no better than chance (the derivative is not negative near 0);
 * capped at 1e6 when it separates every pair.
 */
function fitBaseScale(objective: LambdaRank, train: QuerySet, base: Float64Array, invIdeal: Float64Array, grad: Float64Array, hess: Float64Array, scores: Float64Array): number {
  const slope = (c: number): number => {
    for (let r = 0; r < base.length; r++) scores[r] = c * base[r];
    let sum = 0;
    for (let q = 0; q < train.queries; q++) {
      const start = train.ptr[q];
      const n = train.ptr[q + 1] - start;
      objective.gradients(scores, train.labels, start, n, invIdeal[q], grad, hess);
      for (let r = start; r < start + n; r++) sum += grad[r] * base[r];
    }
    return sum;
  };
  let lo = 1e-6;
  if (!(slope(lo) < 0)) return 0;
  let hi = 1;
  while (slope(hi) < 0) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) return 1e6;
  }
  for (let i = 0; i < 40 && hi / lo > 1 + 1e-6; i++) {
    const mid = Math.sqrt(lo * hi);
    if (slope(mid) < 0) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}

/** Share of `rounds` bootstrap resamples of the queries in which the mean of after - before is positive (a paired bootstrap). */
export function pairedBootstrap(before: Float64Array, after: Float64Array, rng: Rng, rounds = 2000): number {
  const n = before.length;
  const delta = Float64Array.from(after, (a, q) => a - before[q]);
  let wins = 0;
  for (let b = 0; b < rounds; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += delta[Math.floor(rng() * n)];
    if (sum > 0) wins++;
  }
  return wins / rounds;
}

/** m entries of pool drawn without replacement (a partial shuffle of pool), ascending. */
function sample(pool: Int32Array, m: number, rng: Rng): Int32Array {
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng() * (pool.length - i));
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
  return pool.slice(0, m).sort();
}
