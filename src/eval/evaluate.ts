/**
 * Runs a ranker over the queries of a split and averages the metrics of ../../BENCHMARKS.md.
 * The harness owns exclusions (non-candidates, train history, the query basket) through one
 * reusable `blocked` mask, and checks that the ranker respects it, so every method is scored
 * on exactly the same candidate sets.
 */
import { Dataset } from '../data/dataset';
import { OptionError } from '../errors';
import { anonymousQuery, userQuery } from '../strategies/query';
import type { Progress, Query } from '../strategies/types';
import { custom, describe, integer, isPlainObject, resolveOptions, type OptionChecks } from '../util/options';
import { Pace } from '../util/pace';
import { ItemSet, MetricAccumulator, recallAtK, type MetricSummary } from './metrics';
import type { EvalQuery, Protocol, Split } from './splits';

/** Anything that can rank item indices for a query: a strategy, an ensemble, a baseline. */
export interface IndexRanker {
  /**
   * Up to k distinct item indices, best first, none with blocked[item] === 1. `blocked` is
   * null when nothing is excluded; it is reused across calls, so do not keep it.
   */
  rankIndices(query: Query, k: number, blocked: Uint8Array | null): Int32Array;
}

export interface EvaluateOptions {
  /** Cutoff K (default 10). */
  k?: number;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** Evaluate only the first `users` queries of the split (default: all), for quick runs. */
  users?: number;
}

type EvaluateSettings = Required<Pick<EvaluateOptions, 'k'>> & Omit<EvaluateOptions, 'k'>;

const EVALUATE_DEFAULTS: Readonly<EvaluateSettings> = Object.freeze({ k: 10, users: undefined, onProgress: undefined, signal: undefined });

// undefined means "not given" for the optional ones (all queries, no progress, no signal).
const EVALUATE_CHECKS: OptionChecks<EvaluateSettings> = {
  k: integer({ min: 1 }),
  users: custom((v) => v === undefined || (Number.isInteger(v) && (v as number) >= 0), 'an integer >= 0'),
  onProgress: custom((f) => f === undefined || typeof f === 'function', 'a function (progress) => void'),
  signal: custom((s) => s === undefined || (typeof AbortSignal !== 'undefined' && s instanceof AbortSignal), 'an AbortSignal'),
};

export interface EvalResult extends MetricSummary {
  protocol: Protocol;
  seconds: number;
  /** P4: Recall@K over the T items the user had bought before, averaged over queries that have some. */
  recallRepeat?: number;
  /** P4: Recall@K over the T items new to the user, averaged over queries that have some. */
  recallExplore?: number;
  /** P4: queries with at least one repeat item in T. */
  repeatEvaluated?: number;
  /** P4: queries with at least one explore item in T. */
  exploreEvaluated?: number;
  /**
   * P4/P6: share of the top-K slots filled with items the user bought in train (repeats),
   * hits or not, divided by K as the next-basket papers' code does; averaged over evaluated queries.
   */
  repeatShare?: number;
}

const PROGRESS_EVERY = 100;

/** Evaluates `ranker` on `split`; abortable mid-run through options.signal. */
export async function evaluate(ranker: IndexRanker, split: Split, options: EvaluateOptions = {}): Promise<EvalResult> {
  const start = performance.now();
  if (ranker === null || typeof ranker !== 'object' || typeof ranker.rankIndices !== 'function') {
    throw new OptionError('evaluate: ranker', `must be an IndexRanker, e.g. ensembleRanker(rec) from the evaluation rankers, got ${describe(ranker)}`);
  }
  if (!isPlainObject(split) || !(split.train instanceof Dataset) || !Array.isArray(split.queries)) {
    throw new OptionError('evaluate: split', `must be a Split of the splitters (nextBasket, basketCompletion, holdoutTemporal...), got ${describe(split)}`);
  }
  const o = resolveOptions('evaluate', EVALUATE_DEFAULTS, options, EVALUATE_CHECKS);
  const k = o.k;
  const limit = o.users ?? split.queries.length;
  const { train, candidates } = split;
  const nItems = train.nItems;
  if (candidates !== null && candidates.length !== nItems) {
    throw new OptionError('split.candidates', `has ${candidates.length} entries for ${nItems} items`);
  }

  const queries = split.queries.slice(0, limit);
  const acc = new MetricAccumulator(k, nItems, split.stats.catalog);
  const target = new ItemSet(nItems);
  const repeatPart = new ItemSet(nItems);
  const explorePart = new ItemSet(nItems);
  const splitsRepeats = queries.some((q) => q.repeat !== undefined);
  let repeatSum = 0;
  let repeatEvaluated = 0;
  let exploreSum = 0;
  let exploreEvaluated = 0;
  let repeatSlots = 0;
  const history = new ItemSet(nItems);

  // Non-candidates stay blocked for the whole run; per-query blocks are undone via `touched`.
  const blocked = new Uint8Array(nItems);
  if (candidates !== null) for (let i = 0; i < nItems; i++) blocked[i] = candidates[i] === 1 ? 0 : 1;
  const touched = new Int32Array(nItems);
  const returned = new ItemSet(nItems);
  const m = train.interactions;

  const pace = new Pace(o.signal, 'evaluate');
  for (let qi = 0; qi < queries.length; qi++) {
    if (pace.due()) await pace.pause();
    if (qi > 0 && qi % PROGRESS_EVERY === 0) o.onProgress?.({ stage: 'evaluate', done: qi, total: queries.length });
    const q = queries[qi];
    if (q.target.length === 0) {
      acc.skip();
      continue;
    }
    if (q.useHistory && (q.user < 0 || q.user >= train.nUsers)) {
      throw new OptionError(`query ${q.id}`, `user index ${q.user} is not a train user`);
    }
    let nTouched = 0;
    const block = (item: number) => {
      if (blocked[item] === 0) {
        blocked[item] = 1;
        touched[nTouched++] = item;
      }
    };
    if (q.excludeHistory && q.user >= 0) for (let p = m.indptr[q.user]; p < m.indptr[q.user + 1]; p++) block(m.indices[p]);
    if (q.excludeBasket) for (let i = 0; i < q.basket.length; i++) block(q.basket[i]);
    const anyBlocked = candidates !== null || nTouched > 0;

    const query = evalQuery(train, q);
    const ranked = ranker.rankIndices(query, k, anyBlocked ? blocked : null).subarray(0, k);
    checkRanked(ranked, blocked, returned, q.id);

    for (let i = 0; i < q.target.length; i++) target.add(q.target[i]);
    acc.add(ranked, target);
    target.clear();
    if (q.repeat !== undefined) {
      for (let i = 0; i < q.target.length; i++) (q.repeat[i] === 1 ? repeatPart : explorePart).add(q.target[i]);
      if (repeatPart.size > 0) {
        repeatSum += recallAtK(ranked, repeatPart, k);
        repeatEvaluated++;
      }
      if (explorePart.size > 0) {
        exploreSum += recallAtK(ranked, explorePart, k);
        exploreEvaluated++;
      }
      repeatPart.clear();
      explorePart.clear();
      if (q.user >= 0) {
        for (let p = m.indptr[q.user]; p < m.indptr[q.user + 1]; p++) if (m.values[p] > 0) history.add(m.indices[p]);
        let repeats = 0;
        for (let i = 0; i < ranked.length; i++) if (history.has(ranked[i])) repeats++;
        repeatSlots += repeats / k;
        history.clear();
      }
    }
    for (let i = 0; i < nTouched; i++) blocked[touched[i]] = 0;
  }
  o.onProgress?.({ stage: 'evaluate', done: queries.length, total: queries.length });

  const result: EvalResult = { protocol: split.protocol, ...acc.summary(), seconds: (performance.now() - start) / 1000 };
  if (splitsRepeats) {
    result.recallRepeat = repeatEvaluated === 0 ? NaN : repeatSum / repeatEvaluated;
    result.recallExplore = exploreEvaluated === 0 ? NaN : exploreSum / exploreEvaluated;
    result.repeatEvaluated = repeatEvaluated;
    result.exploreEvaluated = exploreEvaluated;
    result.repeatShare = acc.summary().evaluated === 0 ? NaN : repeatSlots / acc.summary().evaluated;
  }
  return result;
}

/** The query an EvalQuery stands for, scored against the split's `train`. */
export function evalQuery(train: Dataset, q: EvalQuery): Query {
  return q.useHistory && q.user >= 0 ? userQuery(train, q.user, q.basket) : anonymousQuery([], q.basket);
}

/** A ranker that returns a blocked, repeated or out-of-range item would be scored on a different task: refuse it. */
function checkRanked(ranked: Int32Array, blocked: Uint8Array, returned: ItemSet, queryId: string): void {
  for (let i = 0; i < ranked.length; i++) {
    const item = ranked[i];
    if (!(item >= 0 && item < blocked.length)) {
      throw new OptionError('ranker', `returned item index ${item}, outside [0, ${blocked.length}), for query ${queryId}`);
    }
    if (blocked[item] === 1 || returned.has(item)) {
      throw new OptionError('ranker', `returned ${blocked[item] === 1 ? 'blocked' : 'repeated'} item ${item} for query ${queryId}`);
    }
    returned.add(item);
  }
  returned.clear();
}
