/**
 * Training of the learned combiner (trainReranker): the candidates of validation queries
 * carved from the training data (or of an explicit validation set, RerankerOptions.validation),
 * labelled by their held-out items, and the LambdaMART forest fitted on them, checked against
 * the linear sum on guard shoppers it was not trained on.
 *
 * Fit-time code only: HybridRecommender.fit imports this module dynamically, so a page that
 * loads a model and recommends (src/ensemble/reranker/combiner.ts ranks) does not download
 * the booster, the tree grower or the guard.
 */
import type { Dataset } from '../../data/dataset';
import { GrowableColumn } from '../../data/csv';
import { OptionError } from '../../errors';
import { recencyWeightedSplit, type RecencyOptions } from '../../data/recency';
import { evalQuery } from '../../eval/evaluate';
import { nextBasket, type Split } from '../../eval/splits';
import type { FitOptions, Recommender } from '../../strategies/types';
import { describe, isPlainObject } from '../../util/options';
import { Pace } from '../../util/pace';
import { deriveSeed, mulberry32, shuffleInPlace, type Rng } from '../../util/random';
import { MergeEngine, type MergeSettings } from '../merge';
import type { Affine } from '../normalize';
import { blockForValidation, holdoutTemporalFromMatrix, sampleQueries, validationSplit, type ValidationProtocol } from '../tune';
import { engineNormalizations, LINEAR_SCORER, type RerankerGuard, type RerankerOptions, type RerankerSummary } from './combiner';
import { RerankerFeatures, type CandidateMatrix } from './features';
import type { BoostedTrees } from './forest';
import { LambdaMART, pairedBootstrap, type RankingData } from './gbdt';
import { ItemStatistics } from './item-stats';
import { LambdaRank } from './lambdarank';

/**
 * The validation split of fold `fold` >= 1, for more training queries than weight tuning's
 * split holds: under the time-ordered protocols, the same split of the previous fold's train
 * part (next-basket: each shopper's basket before the previous target; holdout-temporal:
 * the latest 20% of what is left); under the other protocols, a fresh
 * seeded draw on the full data (queries of one shopper or order are grouped, see
 * RankingData.groups, so a repeat draw does not leak into the booster's validation share).
 */
export function foldSplit(data: Dataset, protocol: ValidationProtocol, previous: Split, fold: number, seed: number): Split {
  if (protocol === 'next-basket') return nextBasket(previous.train);
  if (protocol === 'holdout-temporal') return holdoutTemporalFromMatrix(previous.train);
  return validationSplit(data, protocol, deriveSeed(seed, `reranker.fold${fold}`));
}

/**
 * Checks an explicit validation set (RerankerOptions.validation) against `data`, the Dataset
 * given to fit(), before anything is fitted: its `train` must be that Dataset (the queries read
 * their histories there and the strategies are fitted on it), and every query an EvalQuery of
 * it. An OptionError names the field, with the query index (`<owner>.queries[12].target[3]`).
 */
export function checkValidationSet(set: Split, data: Dataset, owner: string): void {
  if (set.train !== data) throw new OptionError(`${owner}.train`, 'must be the Dataset given to fit(): the queries read their histories there, and the strategies that score them are fitted on it');
  if (set.candidates !== null && !(set.candidates instanceof Uint8Array && set.candidates.length === data.nItems)) {
    throw new OptionError(`${owner}.candidates`, `must be null or a Uint8Array of one flag per item (${data.nItems}), got ${describe(set.candidates)}`);
  }
  const items = (at: string, v: unknown, ascending: boolean) => {
    if (!(v instanceof Int32Array)) throw new OptionError(at, `must be an Int32Array of item indices, got ${describe(v)}`);
    for (let j = 0; j < v.length; j++) {
      if (!(v[j] >= 0 && v[j] < data.nItems)) throw new OptionError(`${at}[${j}]`, `is ${v[j]}, not an item index of the fit data (0 .. ${data.nItems - 1})`);
      if (ascending && j > 0 && !(v[j] > v[j - 1])) throw new OptionError(`${at}[${j}]`, `is ${v[j]} after ${v[j - 1]}: held-out items must be distinct and ascending`);
    }
  };
  set.queries.forEach((q: unknown, i) => {
    const at = `${owner}.queries[${i}]`;
    if (!isPlainObject(q)) throw new OptionError(at, `must be an EvalQuery { user, basket, useHistory, excludeHistory, excludeBasket, target, id }, got ${describe(q)}`);
    if (!(Number.isInteger(q.user) && (q.user as number) >= -1 && (q.user as number) < data.nUsers)) throw new OptionError(`${at}.user`, `must be -1 (anonymous) or a user index of the fit data (0 .. ${data.nUsers - 1}), got ${describe(q.user)}`);
    items(`${at}.basket`, q.basket, false);
    items(`${at}.target`, q.target, true);
    for (const flag of ['useHistory', 'excludeHistory', 'excludeBasket']) {
      if (typeof q[flag] !== 'boolean') throw new OptionError(`${at}.${flag}`, `must be a boolean, got ${describe(q[flag])}`);
    }
  });
}

/**
 * Builds the training set on the validation split (and `options.folds - 1` more, see
 * foldSplit; `refit` fits the members on each fold's train part) and trains the forest.
 * `split` is carved from `data` as it is, or is options.validation (then the only fold, and
 * its train part is `data`); every fold is carved unweighted and then its train part weighted
 * by `recency` (HybridOptions.recency; null: none), so `members` must be fitted on
 * recencyWeightedSplit(split, recency).train. Returns the model (null when too little data,
 * or when the forest does not beat the linear sum on held-out queries) and the summary.
 */
export async function trainReranker(
  names: readonly string[],
  members: readonly Recommender[],
  data: Dataset,
  split: Split,
  protocol: ValidationProtocol,
  options: Readonly<RerankerOptions>,
  merge: MergeSettings,
  fit: Pick<FitOptions, 'onProgress' | 'signal' | 'seed'>,
  refit: (train: Dataset, fold: number) => Promise<void>,
  recency: Partial<RecencyOptions> | null,
): Promise<{ model: BoostedTrees | null; summary: RerankerSummary }> {
  const started = Date.now();
  const seed = fit.seed ?? 42;
  const pace = new Pace(fit.signal, 'reranker training');
  const nItems = split.train.nItems;
  const extractorFor = (train: Dataset) => new RerankerFeatures([...names, LINEAR_SCORER], ItemStatistics.fromDataset(train), { candidatesPerStrategy: options.candidatesPerStrategy, normalization: merge.normalization });
  // The time-ordered folds carve the previous fold's unweighted train part (weighting twice would decay twice).
  let carved = split;
  let fold = recencyWeightedSplit(split, recency);
  let extractor = extractorFor(fold.train);
  const F = extractor.names.length;
  const engine = new MergeEngine(members, null, nItems);
  const linearColumn = extractor.names.indexOf(`${LINEAR_SCORER}.score`);
  const blocked = new Uint8Array(nItems);
  const normalizations = new Array<Affine | null | undefined>(names.length + 1);
  const isTarget = new Uint8Array(nItems);
  const features = new GrowableColumn((n) => new Float32Array(n), 1 << 16);
  const labels: number[] = [];
  const queryPtr: number[] = [0];
  const groupOf = new Map<string, number>();
  const groups: number[] = [];
  let sampled = 0;
  let held = 0;
  let found = 0;
  const given = options.validation !== null;
  const folds = given ? 1 : options.folds;
  for (let f = 0; f < folds; f++) {
    if (f > 0) {
      carved = foldSplit(data, protocol, carved, f, seed);
      fold = recencyWeightedSplit(carved, recency);
      await refit(fold.train, f);
      // Item statistics of the fold's own train part (as the first fold's are of its own).
      extractor = extractorFor(fold.train);
    }
    const train = fold.train;
    const queries = sampleQueries(fold.queries.filter((q) => q.target.length > 0), options.maxQueries, deriveSeed(seed, f === 0 ? 'reranker.queries' : `reranker.queries${f}`));
    sampled += queries.length;
    blocked.fill(0);
    if (fold.candidates !== null) for (let i = 0; i < nItems; i++) blocked[i] = fold.candidates[i] === 1 ? 0 : 1;
    for (let qi = 0; qi < queries.length; qi++) {
      if (qi % 128 === 0) fit.onProgress?.({ stage: `reranker: candidates of validation queries (fold ${f + 1} of ${folds})`, done: qi, total: queries.length });
      if (pace.due()) await pace.pause();
      const q = queries[qi];
      const query = evalQuery(train, q);
      const blockList = blockForValidation(q, query, blocked);
      const vectors = engine.scoreStrategies(query, blocked, merge);
      const m = extractor.extract(query, [...vectors, engine.candidateSums()], { blocked, normalizations: engineNormalizations(engine, normalizations) });
      for (const i of q.target) isTarget[i] = 1;
      let positives = 0;
      for (let c = 0; c < m.count; c++) positives += isTarget[m.items[c]];
      held += q.target.length;
      found += positives;
      if (positives > 0) {
        // Rows in the linear sum's order (missing last, ties in pool order): the booster's
        // "before any tree" ranking is then exactly the linear one, which it starts from.
        const order = linearOrder(m, F, linearColumn);
        for (const c of order) labels.push(isTarget[m.items[c]]);
        for (const c of order) for (let j = 0; j < F; j++) features.push(m.features[c * F + j]);
        queryPtr.push(labels.length);
        const key = q.user >= 0 ? `u${q.user}` : `o${q.id}`;
        if (!groupOf.has(key)) groupOf.set(key, groupOf.size);
        groups.push(groupOf.get(key)!);
      }
      for (const i of q.target) isTarget[i] = 0;
      for (const i of blockList) blocked[i] = 0;
    }
  }
  const usable = queryPtr.length - 1;
  const base = { protocol, validation: given ? ('given' as const) : ('carved' as const), queries: sampled, usableQueries: usable, rows: labels.length, poolRecall: held > 0 ? found / held : 0 };
  if (usable < options.minQueries) {
    const reason = `not trained: ${usable} of ${sampled} validation queries have a held-out item among their candidates (minQueries is ${options.minQueries}); ranking with the linear weighted sum`;
    return { model: null, summary: { trained: false, reason, ...base, training: null, guard: null, seconds: (Date.now() - started) / 1000 } };
  }
  const all: RankingData & { labels: Uint8Array; groups: Int32Array } = { features: features.toArray(), labels: Uint8Array.from(labels), queryPtr: Int32Array.from(queryPtr), featureNames: extractor.names, baseFeature: linearColumn, groups: Int32Array.from(groups) };
  const { kept: fitPart, held: guardPart } = splitByGroup(all, options.guardShare, mulberry32(deriveSeed(seed, 'reranker.guard')));
  const booster = new LambdaMART(options.booster);
  const { model, report } = await booster.fit(fitPart, {
    seed: deriveSeed(seed, 'reranker.trees'),
    signal: fit.signal,
    onProgress: fit.onProgress ? (p) => fit.onProgress!({ ...p, stage: `reranker: ${p.stage}` }) : undefined,
  });
  const k = options.booster.ndcgAt;
  const curve = report.validationNdcg.length ? `early stopping on ${report.validationQueries} queries: ${report.initialValidationNdcg.toFixed(4)} -> ${Math.max(...report.validationNdcg).toFixed(4)}` : 'no early stopping';
  const trees = `${report.treesKept} trees kept of ${report.treesGrown} grown (stopped by ${report.stoppedBy}; ${curve})`;
  let guard: RerankerGuard | null = null;
  let verdict: string;
  if (guardPart !== null && model.nTrees > 0) {
    guard = checkOnGuard(model, guardPart, k, mulberry32(deriveSeed(seed, 'reranker.bootstrap')));
    verdict = `on ${guard.queries} guard queries (not trained on) NDCG@${k} of the linear sum ${guard.linearNdcg.toFixed(4)} -> the forest ${guard.forestNdcg.toFixed(4)}, better in ${(100 * guard.confidence).toFixed(1)}% of bootstrap resamples (R@${GUARD_RECALL_AT} within the pool ${guard.linearRecall.toFixed(4)} -> ${guard.forestRecall.toFixed(4)})`;
  } else {
    verdict = Number.isNaN(report.gainConfidence) ? 'unchecked against the linear sum (no held-out queries)' : `better than the linear sum in ${(100 * report.gainConfidence).toFixed(1)}% of bootstrap resamples of the early-stopping queries`;
  }
  const confidence = guard !== null ? guard.confidence : report.gainConfidence;
  const summaryOf = (trained: boolean, reason: string): RerankerSummary => ({ trained, reason, ...base, training: report, guard, seconds: (Date.now() - started) / 1000 });
  if (model.nTrees === 0) return { model: null, summary: summaryOf(false, `not used: no tree beat the linear sum on the early-stopping queries (${trees}); ranking with the linear weighted sum`) };
  if (!Number.isNaN(confidence) && !(confidence >= options.minConfidence)) {
    return { model: null, summary: summaryOf(false, `not used: ${verdict} (minConfidence ${options.minConfidence}); ${trees}; ranking with the linear weighted sum`) };
  }
  return { model, summary: summaryOf(true, `trained on ${fitPart.queryPtr.length - 1} ${given ? 'queries of the given validation set' : 'validation queries'} (${fitPart.labels.length} candidates): ${trees}; ${verdict}`) };
}

/** The K of the guard's recall: the cut of the next-basket goals (Recall@20), reported beside NDCG@ndcgAt, never used to accept a forest. */
export const GUARD_RECALL_AT = 20;

/** Share of the positive rows of labels[0..n) among the k best scores (ties by row order). */
export function recallInPool(scores: ArrayLike<number>, labels: Uint8Array, n: number, k: number, order: Int32Array): number {
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] > 0 ? 1 : 0;
  if (positives === 0) return 0;
  const idx = order.subarray(0, n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  let hits = 0;
  for (let r = 0; r < Math.min(k, n); r++) hits += labels[idx[r]] > 0 ? 1 : 0;
  return hits / positives;
}

/** NDCG@k of the linear sum (the rows' order) and of the forest on each query of `data`, and their paired bootstrap. */
function checkOnGuard(model: BoostedTrees, data: RankingData & { labels: Uint8Array }, k: number, rng: Rng): RerankerGuard {
  const nQueries = data.queryPtr.length - 1;
  const F = data.featureNames.length;
  let longest = 1;
  for (let q = 0; q < nQueries; q++) longest = Math.max(longest, data.queryPtr[q + 1] - data.queryPtr[q]);
  const metric = new LambdaRank(k, 1, longest);
  const inOrder = Float64Array.from({ length: longest }, (_, r) => longest - r);
  const scores = new Float64Array(longest);
  const linear = new Float64Array(nQueries);
  const forest = new Float64Array(nQueries);
  const order = new Int32Array(longest);
  let linearRecall = 0;
  let forestRecall = 0;
  for (let q = 0; q < nQueries; q++) {
    const start = data.queryPtr[q];
    const n = data.queryPtr[q + 1] - start;
    const labels = data.labels.subarray(start, start + n);
    linear[q] = metric.ndcg(inOrder, labels, 0, n);
    model.score(data.features.subarray(start * F, (start + n) * F), n, scores);
    forest[q] = metric.ndcg(scores, labels, 0, n);
    linearRecall += recallInPool(inOrder, labels, n, GUARD_RECALL_AT, order);
    forestRecall += recallInPool(scores, labels, n, GUARD_RECALL_AT, order);
  }
  const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;
  return { queries: nQueries, linearNdcg: mean(linear), forestNdcg: mean(forest), confidence: pairedBootstrap(linear, forest, rng), linearRecall: linearRecall / nQueries, forestRecall: forestRecall / nQueries };
}

/**
 * Holds out a seeded share of the groups (shoppers) of `data` with all their queries:
 * `held` is null when share is 0 or there are fewer than two groups. Groups are renumbered
 * from 0 on each side.
 */
function splitByGroup(data: RankingData & { labels: Uint8Array; groups: Int32Array }, share: number, rng: Rng): { kept: RankingData; held: (RankingData & { labels: Uint8Array }) | null } {
  const nQueries = data.queryPtr.length - 1;
  let nGroups = 0;
  for (let q = 0; q < nQueries; q++) nGroups = Math.max(nGroups, data.groups[q] + 1);
  const nHeld = share > 0 && nGroups > 1 ? Math.min(nGroups - 1, Math.max(1, Math.round(share * nGroups))) : 0;
  const isHeld = new Uint8Array(nGroups);
  const shuffled = shuffleInPlace(Int32Array.from({ length: nGroups }, (_, g) => g), rng);
  for (let i = 0; i < nHeld; i++) isHeld[shuffled[i]] = 1;
  const F = data.featureNames.length;
  const side = (held: number): RankingData & { labels: Uint8Array } => {
    const queries: number[] = [];
    for (let q = 0; q < nQueries; q++) if (isHeld[data.groups[q]] === held) queries.push(q);
    const queryPtr = new Int32Array(queries.length + 1);
    queries.forEach((q, i) => (queryPtr[i + 1] = queryPtr[i] + data.queryPtr[q + 1] - data.queryPtr[q]));
    const rows = queryPtr[queries.length];
    const features = new Float32Array(rows * F);
    const labels = new Uint8Array(rows);
    const renumber = new Map<number, number>();
    const groups = new Int32Array(queries.length);
    queries.forEach((q, i) => {
      const [from, to] = [data.queryPtr[q], data.queryPtr[q + 1]];
      features.set(data.features.subarray(from * F, to * F), queryPtr[i] * F);
      for (let r = from; r < to; r++) labels[queryPtr[i] + r - from] = data.labels[r];
      if (!renumber.has(data.groups[q])) renumber.set(data.groups[q], renumber.size);
      groups[i] = renumber.get(data.groups[q])!;
    });
    return { features, labels, queryPtr, featureNames: data.featureNames, baseFeature: data.baseFeature, groups };
  };
  return nHeld === 0 ? { kept: data, held: null } : { kept: side(0), held: side(1) };
}

/** Candidate indices of `m` by the linear sum's raw score, best first; candidates it did not score last; ties in pool order. */
function linearOrder(m: CandidateMatrix, F: number, column: number): number[] {
  const key = (c: number) => {
    const x = m.features[c * F + column];
    return Number.isNaN(x) ? -Infinity : x;
  };
  return Array.from({ length: m.count }, (_, c) => c).sort((a, b) => key(b) - key(a) || a - b);
}

