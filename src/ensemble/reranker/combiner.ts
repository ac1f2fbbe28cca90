/**
 * The learned combiner of HybridRecommender: a LambdaMART forest over the strategies'
 * candidates, trained at fit on a validation split carved from the training data (the
 * protocol logic of weight tuning, src/ensemble/tune.ts) or on an explicit validation set
 * (RerankerOptions.validation), never on test data.
 *
 * Training (trainReranker in train.ts, which fit() imports on demand): the strategies,
 * fitted on the split's train part, score each validation query (a seeded sample of at most
 * `maxQueries`) through the merge engine, which
 * also adds up the linear weighted sum (the recommender's weights, normalization and cut);
 * that sum joins the features as one more scorer, "(linear)", so the forest starts from the
 * linear ranking and learns where to depart from it. RerankerFeatures pools every scorer's
 * top `candidatesPerStrategy` items that the query may be served (its blocked items left
 * out, as evaluation and serving leave them out) and describes them; a candidate
 * is labelled 1 when it is one of the query's held-out items. Queries whose pool holds no
 * held-out item carry no gradient and are dropped. LambdaMART trains on the rest, early
 * stopping on a share of those queries. With fewer than `minQueries` such queries there is
 * nothing to learn from: the recommender keeps the linear weighted sum and its summary says
 * so.
 *
 * Serving (Reranker.rank): the merge engine scores every strategy (MergeEngine.
 * scoreStrategies), the features of the pooled candidates are extracted from those scores,
 * the forest scores them, and the engine picks the top k and fills from the fallback
 * (MergeEngine.rankScored). Scores shown are logistic(forest score), in (0, 1).
 */
import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { StateReader, type LoadContext } from '../../artifact/validate';
import type { Dataset } from '../../data/dataset';
import type { Split } from '../../eval/splits';
import { OptionError } from '../../errors';
import type { JsonObject, Query } from '../../strategies/types';
import { custom, integer, number, isPlainObject, oneOf, resolveOptions, describe, type OptionChecks } from '../../util/options';
import { MergeEngine, byScoreDescending, type MergeSettings, type Ranked } from '../merge';
import { NORMALIZATIONS, type Affine } from '../normalize';
import type { ValidationProtocol } from '../tune';
import { BoostedTrees, type FeatureImportance } from './forest';
import { LAMBDAMART_CHECKS, LAMBDAMART_DEFAULTS, type LambdaMARTOptions } from './booster-options';
import type { TrainingReport } from './gbdt';
import { RerankerFeatures, type CandidateMatrix, type Scores } from './features';
import { ItemStatistics } from './item-stats';

export interface RerankerOptions {
  /** How the validation split is carved from the training data: as weight tuning's `protocol` ('auto' picks next-basket, basket-completion or holdout from the data). Default 'auto'. */
  protocol: ValidationProtocol | 'auto';
  /**
   * An explicit validation set in place of the carve: a Split whose `train` is the Dataset
   * given to fit() and whose queries are shoppers of it with held-out items (e.g. a protocol's
   * own validation users, as P6's keyset.val users, the Split that weight tuning's
   * searchWeights takes for them). The forest then trains on those queries, their candidates
   * scored by the strategies of the final fit on all of the data (the shape of the serving
   * queries), and the guard holds out `guardShare` of its shoppers. `protocol` and `folds`
   * concern the carve and are not read. Checked at fit (checkValidationSet, train.ts): an
   * OptionError names the field and the query index. Default null: carve.
   */
  validation: Split | null;
  /**
   * At most this many validation queries per fold (a seeded sample) build the training set.
   * Default 5000, chosen on validation (P6's guard shoppers, never its test baskets): at 1000
   * the forest trained on 977 queries and beat the linear sum by +6.1% NDCG@10 on the guard
   * (94.9% of bootstrap resamples); at 5000, on 4,978 queries, by +7.3% (100%), on 5x the
   * guard shoppers. Above it the bound is time (rows = queries x pooled candidates, and a
   * tree costs time per row); see docs/reranker.md, v6.
   */
  maxQueries: number;
  /** Fewest validation queries with a held-out item among their candidates needed to train; with fewer the linear weighted sum stays the combiner. Default 50. */
  minQueries: number;
  /**
   * Validation splits the training set is built from: the first is weight tuning's, each
   * further one is carved as foldSplit says, with the strategies refitted on its train part
   * (a fit of every strategy per fold). Default 2: twice the training queries for one more
   * fit; at most 1 + the baskets a next-basket shopper has.
   */
  folds: number;
  /** Each strategy's best `candidatesPerStrategy` servable items join a query's candidate pool. Default 30: a time bound on training and scoring (8 strategies pool at most 240). */
  candidatesPerStrategy: number;
  /**
   * Share of the training queries' shoppers (all their queries) held out as guard queries:
   * neither trained nor early-stopped on, they judge the finished forest against the linear
   * sum (RerankerSummary.guard). Default 0.25. 0: the judge is the booster's early-stopping
   * share, which picked the trees and so flatters them.
   */
  guardShare: number;
  /**
   * The forest is used only when, on the guard queries, a paired bootstrap finds its mean
   * NDCG@k above the linear sum's in at least this share of resamples; else the linear
   * weighted sum ranks. Default 0.9: a forest that only ties or wins by noise is not worth
   * its serving cost.
   */
  minConfidence: number;
  /** Options of the LambdaMART booster (see LambdaMARTOptions); partial options are completed from RERANKER_BOOSTER. */
  booster: Readonly<LambdaMARTOptions>;
}

/** The booster settings of the combiner: LambdaMART's defaults with a smaller forest, a bound on training and scoring time (chosen for time, not on test results). */
export const RERANKER_BOOSTER: Readonly<LambdaMARTOptions> = Object.freeze({ ...LAMBDAMART_DEFAULTS, trees: 200, numLeaves: 15, minDataInLeaf: 50, earlyStoppingRounds: 15 });

export const RERANKER_DEFAULTS: Readonly<RerankerOptions> = Object.freeze({
  protocol: 'auto',
  validation: null,
  maxQueries: 5000,
  minQueries: 50,
  folds: 2,
  candidatesPerStrategy: 30,
  guardShare: 0.25,
  minConfidence: 0.9,
  booster: RERANKER_BOOSTER,
});

const RERANKER_CHECKS: OptionChecks<RerankerOptions> = {
  protocol: oneOf<ValidationProtocol | 'auto'>(['auto', 'next-basket', 'basket-completion', 'holdout-temporal', 'holdout']),
  // The shape only; the queries are checked against the fit's data (checkValidationSet).
  validation: custom<Split | null>((v) => v === null || (isPlainObject(v) && Array.isArray((v as Partial<Split>).queries) && typeof (v as Partial<Split>).train === 'object'), 'null or a Split { train: the Dataset given to fit(), queries: [...] }'),
  maxQueries: integer({ min: 1 }),
  minQueries: integer({ min: 1 }),
  folds: integer({ min: 1, max: 10 }),
  candidatesPerStrategy: integer({ min: 1 }),
  guardShare: number({ min: 0, max: 0.5 }),
  minConfidence: number({ min: 0, max: 1 }),
  booster: (value, name) => {
    if (value !== undefined && !isPlainObject(value)) throw new OptionError(name, `must be an object of LambdaMART options, got ${describe(value)}`);
    return resolveOptions(name, RERANKER_BOOSTER, value, LAMBDAMART_CHECKS);
  },
};

/** The reranker options with defaults filled in and checked (OptionErrors are named `owner.key`). */
export function resolveRerankerOptions(options: unknown, owner = 'reranker'): Readonly<RerankerOptions> {
  return resolveOptions(owner, RERANKER_DEFAULTS, options, RERANKER_CHECKS);
}

/** The name of the linear weighted sum among the reranker's scorers: its features are `(linear).score`, `(linear).normalized`, `(linear).rank`. */
export const LINEAR_SCORER = '(linear)';

/** A copy of merge settings (the reranker keeps the recommender's linear merge as one of its inputs). */
function copySettings(m: MergeSettings): MergeSettings {
  return { weights: Float64Array.from(m.weights), normalization: m.normalization, candidatesPerStrategy: m.candidatesPerStrategy };
}

/** What reranker training did at the last fit. */
export interface RerankerSummary {
  /** true: the forest ranks; false: too little data, the linear weighted sum ranks (see `reason`). */
  trained: boolean;
  reason: string;
  protocol: ValidationProtocol;
  /** 'carved': the queries were carved from the training data by `protocol`; 'given': RerankerOptions.validation's. */
  validation: 'carved' | 'given';
  /** Validation queries sampled, and those with a held-out item among their candidates (trained on). */
  queries: number;
  usableQueries: number;
  /** Candidate rows of the training set, and the share of held-out items the pools held (the most the reranker can find). */
  rows: number;
  poolRecall: number;
  /** The booster's report (null when not trained). */
  training: TrainingReport | null;
  /** The forest against the linear sum on the guard queries (null without guard queries or without a tree). */
  guard: RerankerGuard | null;
  seconds: number;
}

/** The forest against the linear sum on the guard queries (RerankerOptions.guardShare). */
export interface RerankerGuard {
  queries: number;
  /** Mean NDCG@k of the guard queries' candidates ranked by the linear sum, and by the forest. */
  linearNdcg: number;
  forestNdcg: number;
  /** Share of paired bootstrap resamples of the guard queries in which the forest's mean beats the linear sum's. */
  confidence: number;
  /** Mean share of a guard query's pooled held-out items ranked in the top GUARD_RECALL_AT by the linear sum, and by the forest (recall within the pool: the pool's own misses count for neither). */
  linearRecall: number;
  forestRecall: number;
}

/** One feature's part in an item's reranker score (per-tree path contributions). */
export interface FeatureContribution {
  feature: string;
  /** The feature's value for the item (null = missing). */
  value: number | null;
  /** How much it moved the item's forest score (before the logistic). */
  contribution: number;
}

/**
 * After engine.scoreStrategies(): `out` (one entry per scorer) gets each strategy's
 * normalizing map from the engine, which the extractor would otherwise recompute from the
 * same scores, and undefined for "(linear)", whose scores only the extractor sees.
 */
export function engineNormalizations(engine: MergeEngine, out: Array<Affine | null | undefined>): Array<Affine | null | undefined> {
  const S = out.length - 1;
  for (let s = 0; s < S; s++) out[s] = engine.normalizationOf(s);
  out[S] = undefined;
  return out;
}

/**
 * The `m` best of scores[0 .. n) (higher first, ties to the lower index) written to out[0 .. m)
 * and returned as that view. m < n: insertion into the m kept (a few compares per candidate
 * for the k of a request); m = n: a sort.
 */
export function bestFirst(scores: Float64Array, n: number, m: number, out: Int32Array): Int32Array {
  const best = out.subarray(0, m);
  if (m >= n) {
    for (let c = 0; c < n; c++) best[c] = c;
    return best.sort(byScoreDescending(scores));
  }
  let size = 0;
  for (let c = 0; c < n; c++) {
    const x = scores[c];
    // A later candidate that ties the last kept one ranks after it: strictly greater only.
    if (size === m && !(x > scores[best[m - 1]])) continue;
    let r = size < m ? size++ : m - 1;
    while (r > 0 && x > scores[best[r - 1]]) {
      best[r] = best[r - 1];
      r--;
    }
    best[r] = c;
  }
  return best;
}

/** The reranker section's format: 2 since the next-basket features (docs/reranker.md, stop 25); a format-1 reranker's forest was trained on the columns before them. */
const RERANKER_FORMAT = 2;

/** The fitted learned combiner: features of the full training data's items plus the forest. */
export class Reranker {
  private scores = new Float64Array(0);
  private shown = new Float64Array(0);
  private order = new Int32Array(0);
  private ordered = new Int32Array(0);
  private readonly contribution: Float64Array;
  private last: CandidateMatrix | null = null;
  private readonly normalizations: Array<Affine | null | undefined>;
  private readonly scorers: Scores[] = [];
  /** The linear merge the reranker reads as its "(linear)" scorer: the recommender's weights, normalization and cut. */
  readonly merge: MergeSettings;

  constructor(
    readonly features: RerankerFeatures,
    readonly model: BoostedTrees,
    merge: MergeSettings,
  ) {
    if (model.nFeatures !== features.names.length || model.featureNames.some((n, i) => n !== features.names[i])) {
      throw new OptionError('Reranker', 'the forest was trained on other features than the extractor makes');
    }
    if (features.strategies[features.strategies.length - 1] !== LINEAR_SCORER || merge.weights.length !== features.strategies.length - 1) {
      throw new OptionError('Reranker', `the scorers must be the strategies then "${LINEAR_SCORER}", with one weight per strategy`);
    }
    // rank() hands the extractor the merge engine's normalizing maps (engineNormalizations).
    if (features.options.normalization !== merge.normalization) {
      throw new OptionError('Reranker', `the features normalize with "${features.options.normalization}", the linear merge with "${merge.normalization}"`);
    }
    this.merge = copySettings(merge);
    this.contribution = new Float64Array(model.nFeatures + 1);
    this.normalizations = new Array<Affine | null | undefined>(features.strategies.length);
  }

  /** Builds the serving combiner for strategies refitted on the full data; `merge` is the recommender's linear merge. */
  static forData(names: readonly string[], data: Dataset, model: BoostedTrees, options: { candidatesPerStrategy: number }, merge: MergeSettings): Reranker {
    return new Reranker(new RerankerFeatures([...names, LINEAR_SCORER], ItemStatistics.fromDataset(data), { candidatesPerStrategy: options.candidatesPerStrategy, normalization: merge.normalization }), model, merge);
  }

  /** Gain importance of every feature, largest first. */
  importance(): FeatureImportance[] {
    return this.model.importance();
  }

  /**
   * The reranked top k of `query`: `engine` scores the strategies (all of them: every weight
   * 1), the forest scores the pooled servable candidates, the engine picks and fills.
   * Feature rows stay readable through explain() until the next call.
   */
  rank(engine: MergeEngine, query: Query, k: number, blocked: Uint8Array | null, accept: ((item: number) => boolean) | null, fill: boolean): Ranked {
    const vectors = engine.scoreStrategies(query, blocked, this.merge);
    const scorers = this.scorers;
    scorers.length = 0;
    for (const v of vectors) scorers.push(v);
    scorers.push(engine.candidateSums());
    const m = this.features.extract(query, scorers, { blocked, normalizations: engineNormalizations(engine, this.normalizations) });
    this.last = m;
    const n = m.count;
    if (this.scores.length < n) {
      const size = Math.max(n, 2 * this.scores.length);
      this.scores = new Float64Array(size);
      this.shown = new Float64Array(size);
      this.order = new Int32Array(size);
      this.ordered = new Int32Array(size);
    }
    const raw = this.model.score(m.features, n, this.scores);
    // Without a filter the engine picks the k best of what it is given and fills only when
    // given fewer than k: the k best candidates are then all it needs (the same pick, a
    // fraction of the ordering and logistics). A filter may reject any of them: all go.
    const given = accept === null ? Math.min(k, n) : n;
    const order = bestFirst(raw, n, given, this.order);
    // The logistic of a forest that starts from the linear sum can round to 1 for several
    // candidates: the candidates go to the engine in raw-score order, whose ties go to the
    // earlier one, so the shown scores may tie but the order is the forest's.
    for (let r = 0; r < given; r++) {
      this.ordered[r] = m.items[order[r]];
      this.shown[r] = 1 / (1 + Math.exp(-raw[order[r]]));
    }
    return engine.rankScored(query, this.ordered, this.shown, given, k, blocked, accept, fill);
  }

  /** The `top` features that moved `item` most in the last rank() (largest |contribution| first); [] when it was not a candidate. */
  explain(item: number, top = 3): FeatureContribution[] {
    const m = this.last;
    if (m === null) return [];
    const c = m.items.indexOf(item);
    if (c < 0 || c >= m.count) return [];
    const F = this.model.nFeatures;
    const contributions = this.model.contributions(m.features, c, this.contribution);
    const order = Array.from({ length: F }, (_, f) => f).filter((f) => contributions[f] !== 0);
    order.sort((a, b) => Math.abs(contributions[b]) - Math.abs(contributions[a]) || a - b);
    return order.slice(0, top).map((f) => {
      const x = m.features[c * F + f];
      return { feature: this.model.featureNames[f], value: Number.isNaN(x) ? null : x, contribution: contributions[f] };
    });
  }

  /** Per scorer (the strategies in order, then "(linear)"), the sum of its three features' contributions to `item` in the last rank(). */
  strategyCredit(item: number): Float64Array {
    const S = this.features.strategies.length;
    const out = new Float64Array(S);
    const m = this.last;
    if (m === null) return out;
    const c = m.items.indexOf(item);
    if (c < 0 || c >= m.count) return out;
    const contributions = this.model.contributions(m.features, c, this.contribution);
    for (let s = 0; s < S; s++) out[s] = contributions[3 * s] + contributions[3 * s + 1] + contributions[3 * s + 2];
    return out;
  }

  /** Writes the item statistics and the forest as sections; returns the JSON state load() needs. */
  save(out: SectionWriter): JsonObject {
    const { weights, normalization, candidatesPerStrategy } = this.merge;
    return {
      format: RERANKER_FORMAT,
      features: this.features.save(),
      items: this.features.items.save(out.scope('items')),
      forest: this.model.save(out.scope('forest')),
      merge: { weights: Array.from(weights), normalization, cut: Number.isFinite(candidatesPerStrategy) ? candidatesPerStrategy : null },
    };
  }

  /** Rebuilds a saved reranker; `names` are the recommender's strategies, which the features must name in order. */
  static load(state: JsonObject, sections: SectionReader, names: readonly string[], context?: LoadContext, section = 'reranker'): Reranker {
    const s = StateReader.of(state, section).keys(['format', 'features', 'items', 'forest', 'merge']);
    if (state.format === 1) s.fail('format', `is 1: saved before the next-basket features of format ${RERANKER_FORMAT} (history.decayedShare*, history.inLast3/5, shopper.repeatRatio, basket sizes, item.rebuyNext), so its forest reads other feature columns; refit the recommender`);
    s.literal('format', RERANKER_FORMAT);
    s.object('items');
    s.object('features');
    s.object('forest');
    const items = ItemStatistics.load(state.items as JsonObject, sections.scope('items'), `${section}/items`, context);
    const features = RerankerFeatures.load(state.features as JsonObject, items, `${section}/features`);
    const scorers = [...names, LINEAR_SCORER];
    if (features.strategies.length !== scorers.length || features.strategies.some((n, i) => n !== scorers[i])) {
      s.fail('features.strategies', `names ${features.strategies.join(', ')}, expected the recommender's strategies then "${LINEAR_SCORER}": ${scorers.join(', ')}`);
    }
    const forest = BoostedTrees.load(state.forest as JsonObject, sections.scope('forest'), `${section}/forest`);
    const m = s.object('merge').keys(['weights', 'normalization', 'cut']);
    const weights = m.numbers('weights', { min: 0 });
    if (weights.length !== names.length) m.fail('weights', `has ${weights.length} weights for ${names.length} strategies`);
    const normalization = m.oneOf('normalization', NORMALIZATIONS);
    if (normalization !== features.options.normalization) m.fail('normalization', `is "${normalization}", the features normalize with "${features.options.normalization}"`);
    const cut = m.nullable('cut', (key) => m.integer(key, { min: 1 }));
    const merge: MergeSettings = { weights: Float64Array.from(weights), normalization, candidatesPerStrategy: cut ?? Infinity };
    try {
      return new Reranker(features, forest, merge);
    } catch (e) {
      if (e instanceof OptionError) s.fail('forest.featureNames', 'do not match the features the reranker extracts');
      throw e;
    }
  }
}
