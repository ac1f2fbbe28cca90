/**
 * Evaluation adapters: a fitted HybridRecommender seen as an IndexRanker, as a whole, one
 * strategy alone, or with other weights, all on the same fit. Each ranks through the merge of
 * src/ensemble/merge.ts (its own buffers, the recommender's strategies and fallback), so what
 * is measured is exactly what recommend() serves.
 */
import { HybridRecommender } from '../ensemble/hybrid';
import { blockForList, buyAgainFill, listCheck, type ListKind } from '../ensemble/lists';
import { MergeEngine, type MergeSettings } from '../ensemble/merge';
import { NORMALIZATIONS, type Normalization } from '../ensemble/normalize';
import { OptionError } from '../errors';
import { describe, isPlainObject, oneOf, resolveOptions, type OptionChecks } from '../util/options';
import type { IndexRanker } from './evaluate';

function checkRecommender(rec: unknown, owner: string): asserts rec is HybridRecommender {
  if (!(rec instanceof HybridRecommender)) throw new OptionError(`${owner}: rec`, `must be a fitted HybridRecommender, got ${describe(rec)}`);
}

/** ensembleRanker's options. */
export interface EnsembleRankerOptions {
  /**
   * Which list, as recommend(shopper, { list }) serves it (src/ensemble/lists.ts): 'all',
   * 'buy-again' (history items only, filled from the history by purchase count) or 'discover'
   * (no history items). Default 'all'.
   */
  list: ListKind;
  /** 'fitted': the recommender's combiner (the reranker when one was trained); 'linear': the weighted sum even then, to compare the two on one fit. Default 'fitted'. */
  combiner: 'fitted' | 'linear';
}

const ENSEMBLE_RANKER_DEFAULTS: Readonly<EnsembleRankerOptions> = Object.freeze({ list: 'all', combiner: 'fitted' });
const ENSEMBLE_RANKER_CHECKS: OptionChecks<EnsembleRankerOptions> = {
  list: listCheck,
  combiner: oneOf(['fitted', 'linear']),
};

/**
 * The recommender as fitted, ranking one of its lists: its weights, normalization, cut and
 * fallback, or its reranker when one was trained (and `combiner` is 'fitted').
 */
export function ensembleRanker(rec: HybridRecommender, options: Partial<EnsembleRankerOptions> = {}): IndexRanker {
  checkRecommender(rec, 'ensembleRanker');
  const o = resolveOptions('ensembleRanker', ENSEMBLE_RANKER_DEFAULTS, options, ENSEMBLE_RANKER_CHECKS);
  if (o.list === 'all' && (rec.reranker === null || o.combiner === 'linear')) return weightedRanker(rec, rec.strategyWeights);
  return listRanker(rec, o.list, o.combiner);
}

function listRanker(rec: HybridRecommender, kind: ListKind, combiner: 'fitted' | 'linear'): IndexRanker {
  const names = rec.strategyNames;
  const nItems = rec.dataset.nItems;
  const engine = new MergeEngine(
    names.map((n) => rec.strategy(n)),
    rec.fallback,
    nItems,
  );
  const reranker = combiner === 'fitted' ? rec.reranker : null;
  const settings: MergeSettings = { weights: Float64Array.from(names, (n) => rec.strategyWeights[n]), normalization: rec.normalization, candidatesPerStrategy: rec.candidatesPerStrategy };
  const own = new Uint8Array(nItems);
  const touched: number[] = [];
  const fill = kind !== 'buy-again';
  return {
    rankIndices: (query, k, blocked) => {
      const mask = blocked ?? own;
      const block = (i: number) => {
        if (mask[i] === 0) {
          mask[i] = 1;
          touched.push(i);
        }
      };
      try {
        blockForList(kind, query, nItems, block);
        for (const i of query.basket) block(i);
        // Nothing blocked: null spares the merge a look-up per scored item and lets it reuse popularity's kept cut.
        const given = blocked !== null || touched.length > 0 ? mask : null;
        const ranked = reranker ? reranker.rank(engine, query, k, given, null, fill) : engine.rank(query, k, given, null, settings, fill);
        if (kind !== 'buy-again' || ranked.items.length >= k) return ranked.items;
        const extra = buyAgainFill(query, ranked.items, k, mask, null);
        const out = new Int32Array(ranked.items.length + extra.length);
        out.set(ranked.items);
        out.set(extra, ranked.items.length);
        return out;
      } finally {
        for (const i of touched) mask[i] = 0;
        touched.length = 0;
      }
    },
  };
}

/**
 * Only the strategy `name` (weight 1, the others 0), with the recommender's fallback filler:
 * each strategy alone on one fit. Always normalized 'auto' (as tuning's single-strategy
 * scores), never with the recommender's normalization: minmax and zscore map a strategy's
 * lowest score to about 0, so its lowest-scored items (a shopper's once-bought items, often
 * several tied) would leave the list for the fallback's, kept or not by float rounding, and
 * "the strategy alone" would change with whatever normalization tuning chose for the ensemble.
 */
export function strategyRanker(rec: HybridRecommender, name: string): IndexRanker {
  checkRecommender(rec, 'strategyRanker');
  const names = rec.strategyNames;
  if (!names.includes(name)) throw new OptionError('strategyRanker: name', `no strategy named ${describe(name)} (have ${names.join(', ')})`);
  return weightedRanker(rec, Object.fromEntries(names.map((n) => [n, n === name ? 1 : 0])), 'auto');
}

/**
 * The recommender's strategies with other weights (missing names keep the recommender's) and
 * optionally another normalization, sharing its fit: e.g. equal weights against the tuned ones.
 */
export function weightedRanker(rec: HybridRecommender, weights: Readonly<Record<string, number>>, normalization?: Normalization): IndexRanker {
  checkRecommender(rec, 'weightedRanker');
  const names = rec.strategyNames;
  const current = rec.strategyWeights;
  if (!isPlainObject(weights)) throw new OptionError('weightedRanker: weights', `must be an object of weights by strategy name, got ${describe(weights)}`);
  for (const [key, w] of Object.entries(weights)) {
    if (!names.includes(key)) throw new OptionError(`weightedRanker: weights.${key}`, `no strategy named ${JSON.stringify(key)} (have ${names.join(', ')})`);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new OptionError(`weightedRanker: weights.${key}`, `must be a finite number >= 0, got ${describe(w)}`);
  }
  const settings: MergeSettings = {
    weights: Float64Array.from(names, (n) => weights[n] ?? current[n]),
    normalization: oneOf(NORMALIZATIONS)(normalization === undefined ? rec.normalization : normalization, 'weightedRanker: normalization'),
    candidatesPerStrategy: rec.candidatesPerStrategy,
  };
  const engine = new MergeEngine(
    names.map((n) => rec.strategy(n)),
    rec.fallback,
    rec.dataset.nItems,
  );
  return { rankIndices: (query, k, blocked) => engine.rank(query, k, blocked, null, settings).items };
}
