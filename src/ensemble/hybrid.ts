import type { Dataset } from '../data/dataset';
import { recencyWeighted, recencyWeightedSplit, resolveRecencyOptions, type RecencyOptions } from '../data/recency';
import { ArtifactError, DataError, NoCustomerDataError, NotFittedError, OptionError, UnknownIdError, throwIfAborted } from '../errors';
import { Popularity } from '../strategies/popularity';
import { checkDataset } from '../strategies/checks';
import type { Explanation, FitOptions, ItemNamer, Progress, Query, Recommender, SaveOptions, StrategyLoader } from '../strategies/types';
import { isVectorIndexed, type VectorIndexFactory } from '../util/ann';
import { boolean, custom, describe, id, idList, integer, isPlainObject, nullable, oneOf, resolveOptions, type Check, type OptionChecks } from '../util/options';
import { defaultExecutor, inlineExecutor, resolveThreads, runKernel, sharedCopy, type Kernel } from '../util/parallel';
import { deriveSeed } from '../util/random';
import { sourceNames, unpackLists, type BatchWriter, type Explained, type ListWriter, type PackedLists } from './batch-lists';
import { MergeEngine, type MergeSettings } from './merge';
import { NORMALIZATIONS, type Normalization } from './normalize';
import { FALLBACK_SECTION, readHybrid, writeHybrid } from './persist';
import { BUILTIN_LOADERS } from './registry';
import { ItemIds, shopperQuery, type Shopper, type UnknownItemPolicy } from './shopper';
import { chooseProtocol, hyperparameterGrids, resolveTuneOptions, searchHyperparameters, searchWeights, TUNE_DEFAULTS, validationSplit, type TuneOptions, type TuneResult, type ValidationProtocol } from './tune';
import { blockForList, buyAgainFill, buyAgainReason, listCheck, type ListKind } from './lists';
import { Reranker, RERANKER_DEFAULTS, resolveRerankerOptions, type FeatureContribution, type RerankerOptions, type RerankerSummary } from './reranker/combiner';
import type { LambdaMARTOptions } from './reranker/booster-options';
import type { Split } from '../eval/splits';

/** What a business-rule filter sees of an item. */
export interface ItemInfo {
  id: string;
  name: string;
  aisle: string;
  department: string;
  meta: Record<string, string> | undefined;
}

export interface HybridOptions {
  /** Named strategies; the names key weights, contributions and artifact sections ("fallback" is reserved). Required. */
  strategies: Readonly<Record<string, Recommender>>;
  /**
   * Weight per strategy name (missing names weigh 1), or 'tune' to choose weights and
   * normalization on a validation split carved from the training data at fit (see `tune`).
   * Default {}: every strategy weighs 1, the only choice that needs no data.
   */
  weights: Readonly<Record<string, number>> | 'tune';
  /** Options of the weight search when weights is 'tune' (see TuneOptions); partial options are completed from its defaults. */
  tune: Readonly<TuneOptions>;
  /** Score normalization applied to each strategy before the weighted sum. Default 'auto' (see Normalization); tuning may choose another. */
  normalization: Normalization;
  /**
   * Each strategy adds only its best `candidatesPerStrategy` items that are not excluded (ties
   * at the cut kept) to the weighted sum; normalization still sees all of its scores. The merge
   * costs per item a strategy touched, and for the heaviest 1% of shoppers ItemKNN alone
   * touched 9.4k of 50k items. Default 1000, a speed bound; Infinity merges everything. Weight
   * tuning ranks with the same cut.
   */
  candidatesPerStrategy: number;
  /**
   * Answers cold starts (a shopper the strategies have nothing for) and fills lists the
   * ensemble cannot fill to k; its results carry `sources.fallback`. Default: a new
   * Popularity() per recommender, the baseline every strategy must beat. null: none.
   */
  fallback: Recommender | null;
  /** Drop items the shopper bought before. Default false: grocery next-basket wants re-buys. */
  excludePurchased: boolean;
  /** Item ids never to recommend (discontinued, age-restricted...); ids the data lacks are ignored. Default []. */
  exclude: readonly string[];
  /** Business rule: only items for which it returns true are recommended. Default null (none). */
  filter: ((item: ItemInfo) => boolean) | null;
  /**
   * How the strategies' candidates become one list. 'linear' (default): the weighted sum of
   * normalized scores. 'reranker': a LambdaMART forest trained at fit on a validation split
   * carved from the training data (see `reranker` and docs/reranker.md); when there is too
   * little data to train it, the weighted sum ranks and `rerankerSummary` says why.
   */
  combiner: 'linear' | 'reranker';
  /** Options of the learned combiner when combiner is 'reranker' (see RerankerOptions); partial options are completed from its defaults. */
  reranker: Readonly<RerankerOptions>;
  /**
   * Candidate retrieval of the dense strategies (those isVectorIndexed: ALS,
   * SequentialRecommender, TwoTower, NeuralCF 'gmf', ContentBased with MiniLM vectors) through
   * a vector index of this factory, attached after
   * the final fit, so each scores only the index's candidates instead of the whole catalog
   * (docs/ann.md): `hnswlibIndex()` / `usearchIndex()` from hybridrec/node, or `exactIndex()`
   * anywhere. The index is saved with its strategy; a factory is code, so pass it again to
   * load() (LoadOptions.vectorIndex), which restores the stored index instead of rebuilding.
   * Default null: every item scored, as without an index (right up to a few hundred thousand
   * items). Weight tuning and the reranker's validation fits score without it.
   */
  vectorIndex: VectorIndexFactory | null;
  /**
   * Recency weighting of the training data (recencyWeighted's options; docs/data.md): each
   * user's older interactions decay by half-lives in interactions and/or days. Applied after
   * every carve, to the training part of weight tuning's and the reranker's validation splits,
   * and to the data of the final fit, so each user's latest training interaction weighs 1
   * everywhere; known users' queries then carry the decayed weights. Needs Dataset.times.
   * Default null: the interactions as they are (so is an object whose half-lives are all Infinity).
   */
  recency: Readonly<RecencyOptions> | null;
}

/** What the constructor takes: `strategies`, and any other option (undefined means its default). */
export type HybridInit = Partial<Omit<HybridOptions, 'tune' | 'reranker' | 'recency'>> &
  Pick<HybridOptions, 'strategies'> & {
    tune?: Partial<TuneOptions>;
    reranker?: Partial<Omit<RerankerOptions, 'booster'>> & { booster?: Partial<LambdaMARTOptions> };
    recency?: Partial<RecencyOptions> | null;
  };

export interface RecommendOptions extends UnknownItemPolicy {
  /** How many items (default 10). */
  k: number;
  /** Attach per-strategy reasons to each result (default false). */
  explain: boolean;
  /** Overrides the recommender's excludePurchased for this call (default null: keep it). */
  excludePurchased: boolean | null;
  /** Extra item ids to leave out for this call (default []); unknown ids follow unknownItems. */
  exclude: readonly string[];
  /** Extra business rule for this call, ANDed with the recommender's (default null). */
  filter: ((item: ItemInfo) => boolean) | null;
  /**
   * Which list (src/ensemble/lists.ts): 'all' (default) the usual list; 'buy-again' only items
   * the shopper bought before, by re-buy likelihood now (excludePurchased does not apply);
   * 'discover' only items new to the shopper, none in the cart.
   */
  list: ListKind;
}

/**
 * recommendBatch()'s options: recommend()'s, and how the batch runs. Results never depend on
 * `threads`.
 */
export interface BatchOptions extends RecommendOptions {
  /**
   * Threads that rank (an integer >= 1). Default: every thread of the installed executor, all
   * cores in Node (the worker pool), 1 in browsers. 1 ranks on the calling thread.
   */
  threads: number | undefined;
  /** Aborting rejects the batch with AbortedError after the block of shoppers being ranked. */
  signal: AbortSignal | undefined;
  /** Called after each block of shoppers: `done` of `total` shoppers (stage 'recommendBatch'). */
  onProgress: ((progress: Progress) => void) | undefined;
}

/** similarItems() takes the options of recommend() but excludePurchased and list (there is no shopper). */
export type SimilarItemsOptions = Omit<RecommendOptions, 'excludePurchased' | 'list'>;

/**
 * Options of save() (the one SaveOptions type: strategies' save() takes the same object).
 * `customerData: false` writes a serving artifact: no user ids, no purchase histories, no
 * user-side strategy state (see docs/artifacts.md); requests then bring the shopper's history.
 */
export type { SaveOptions };

const SAVE_DEFAULTS: Readonly<Required<SaveOptions>> = Object.freeze({ customerData: true });
const SAVE_CHECKS: OptionChecks<Required<SaveOptions>> = { customerData: boolean() };

export interface LoadOptions {
  /** Loaders of custom strategy kinds (built-in kinds need none). Default {}. */
  loaders: Readonly<Record<string, StrategyLoader>>;
  /** The business-rule filter: code is not stored in artifacts, so pass it again. Default null. */
  filter: ((item: ItemInfo) => boolean) | null;
  /**
   * HybridOptions.vectorIndex of the loaded recommender: a stored index of the same kind and
   * settings is restored, otherwise one is built. Default null: the stored indexes stay unread
   * (and are saved again) and every item is scored.
   */
  vectorIndex: VectorIndexFactory | null;
}

/** One strategy's part in a recommendation. */
export interface Reason {
  strategy: string;
  /** Weighted normalized score this strategy added. */
  contribution: number;
  text: string;
  /** Item ids behind the reason (e.g. the product it is often bought with). */
  items: string[];
}

export type { FeatureContribution, RerankerOptions, RerankerSummary } from './reranker/combiner';
export type { ListKind } from './lists';

export interface Recommendation {
  item: string;
  name: string;
  score: number;
  /**
   * Weighted normalized contribution of each strategy that scored the item. An item the
   * fallback added (a cold start, or filler past what the ensemble found) has `fallback`
   * here, and only that: a list whose items all have it is a cold start.
   */
  sources: Record<string, number>;
  /** Main reason in one sentence (with explain). */
  reason?: string;
  because?: Reason[];
  /** With explain and the reranker: the features that moved the item's reranker score most (path contributions), largest first. */
  features?: FeatureContribution[];
}

const FALLBACK_NAME = FALLBACK_SECTION;

const isRecommender = (s: unknown): s is Recommender =>
  s !== null && typeof s === 'object' && typeof (s as Recommender).score === 'function' && typeof (s as Recommender).fit === 'function';

const filterCheck: Check<((item: ItemInfo) => boolean) | null> = nullable(custom((f) => typeof f === 'function', 'a function (item) => boolean'));
const vectorIndexCheck: Check<VectorIndexFactory | null> = nullable(
  custom<VectorIndexFactory>(
    (f) => f !== null && typeof f === 'object' && typeof (f as VectorIndexFactory).kind === 'string' && typeof (f as VectorIndexFactory).build === 'function' && typeof (f as VectorIndexFactory).restore === 'function',
    'a VectorIndexFactory (hnswlibIndex() or usearchIndex() from hybridrec/node, exactIndex()) or null',
  ),
);

/** The options an artifact stores (the rest is strategies, or code). */
type StoredOptions = Pick<HybridOptions, 'normalization' | 'candidatesPerStrategy' | 'excludePurchased' | 'exclude' | 'recency'> & { weights: Readonly<Record<string, number>> };

const recencyCheck: Check<Readonly<RecencyOptions> | null> = (value, name) => (value === null ? null : resolveRecencyOptions(value, name));

/** What artifacts written before the option existed were fitted with. */
const STORED_ADDED_LATER: Partial<StoredOptions> = { recency: null };

const WEIGHTS_CHECK: Check<Readonly<Record<string, number>>> = (value, name) => {
  if (!isPlainObject(value)) throw new OptionError(name, `must be 'tune' or an object of weights by strategy name, got ${describe(value)}`);
  const out: Record<string, number> = {};
  for (const [key, w] of Object.entries(value)) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new OptionError(`${name}.${key}`, `must be a finite number >= 0, got ${describe(w)}`);
    out[key] = w;
  }
  return Object.freeze(out);
};

const STORED_CHECKS: OptionChecks<StoredOptions> = {
  weights: WEIGHTS_CHECK,
  normalization: oneOf(NORMALIZATIONS),
  candidatesPerStrategy: integer({ min: 1, infinity: true }),
  excludePurchased: boolean(),
  exclude: (value, name) => Object.freeze([...idList()(value, name)]),
  // save() writes every half-life, an unused one (Infinity) as null.
  recency: (value, name) => {
    if (!isPlainObject(value)) return recencyCheck(value, name);
    for (const key of ['halfLifeInteractions', 'halfLifeDays']) if (!(key in value)) throw new OptionError(`${name}.${key}`, 'is missing');
    return recencyCheck(Object.fromEntries(Object.entries(value).map(([k, h]) => [k, h === null ? Infinity : h])), name);
  },
};

const CHECKS: OptionChecks<HybridOptions> = {
  ...STORED_CHECKS,
  strategies: (value, name) => {
    if (!isPlainObject(value)) throw new OptionError(name, `must be an object of named strategies, got ${describe(value)}`);
    const entries = Object.entries(value);
    if (entries.length === 0) throw new OptionError(name, 'at least one strategy is required');
    for (const [n, s] of entries) {
      if (n === FALLBACK_NAME) throw new OptionError(name, `"${FALLBACK_NAME}" is a reserved name`);
      if (!isRecommender(s)) throw new OptionError(`${name}.${n}`, 'is not a Recommender');
    }
    return Object.freeze({ ...(value as Record<string, Recommender>) });
  },
  weights: (value, name) => (value === 'tune' ? 'tune' : WEIGHTS_CHECK(value, name)),
  tune: (value, name) => resolveTuneOptions(value as Partial<TuneOptions> | undefined, name),
  // undefined is the default: a fresh Popularity per recommender, never one shared through the defaults.
  fallback: (value, name) => (value === undefined ? new Popularity() : nullable(custom<Recommender>(isRecommender, 'a Recommender or null'))(value, name)),
  filter: filterCheck,
  combiner: oneOf(['linear', 'reranker']),
  reranker: (value, name) => resolveRerankerOptions(value, name),
  vectorIndex: vectorIndexCheck,
  recency: recencyCheck,
};

const RECOMMEND_DEFAULTS: Readonly<RecommendOptions> = Object.freeze({
  k: 10,
  explain: false,
  excludePurchased: null,
  exclude: Object.freeze([]) as readonly string[],
  filter: null,
  unknownItems: 'error',
  onUnknownItem: null,
  list: 'all',
});

const RECOMMEND_CHECKS: OptionChecks<RecommendOptions> = {
  k: integer({ min: 0 }),
  explain: boolean(),
  excludePurchased: nullable(boolean()),
  exclude: idList(),
  filter: filterCheck,
  unknownItems: oneOf(['error', 'skip']),
  onUnknownItem: nullable(custom((f) => typeof f === 'function', 'a function (id, field) => void')),
  list: listCheck,
};

const { excludePurchased: _notForSimilar, list: _noList, ...SIMILAR_DEFAULTS } = RECOMMEND_DEFAULTS;
const { excludePurchased: _notChecked, list: _notListed, ...SIMILAR_CHECKS } = RECOMMEND_CHECKS;

type FitSettings = Required<Pick<FitOptions, 'seed'>> & Pick<FitOptions, 'onProgress' | 'signal' | 'threads'>;
const FIT_DEFAULTS: Readonly<FitSettings> = Object.freeze({ seed: 42, onProgress: undefined, signal: undefined, threads: undefined });
const FIT_CHECKS: OptionChecks<FitSettings> = {
  seed: integer(),
  // undefined: every core when a worker pool is installed (the Node entry), else 1.
  threads: custom((t) => t === undefined || (Number.isInteger(t) && (t as number) >= 1), 'an integer >= 1'),
  onProgress: custom((f) => f === undefined || typeof f === 'function', 'a function (progress) => void'),
  signal: custom((s) => s === undefined || (s !== null && typeof s === 'object' && typeof (s as AbortSignal).aborted === 'boolean'), 'an AbortSignal'),
};

const LOAD_DEFAULTS: Readonly<LoadOptions> = Object.freeze({ loaders: Object.freeze({}), filter: null, vectorIndex: null });
const LOAD_CHECKS: OptionChecks<LoadOptions> = {
  loaders: custom((v) => isPlainObject(v) && Object.values(v).every((f) => typeof f === 'function'), 'an object of loader functions by kind'),
  filter: filterCheck,
  vectorIndex: vectorIndexCheck,
};

/** HybridRecommender's rankShoppers, set by its static block (a private method the worker kernel reaches through rankBatchBlock). */
let rankBlock: ((rec: HybridRecommender, input: BatchInput, start: number, end: number, writer: BatchWriter) => void) | null = null;

/**
 * The hybrid recommender: fits named strategies, normalizes and weights their scores,
 * filters, falls back for cold start, explains, and saves to one artifact.
 */
export class HybridRecommender {
  static readonly defaults: Readonly<HybridOptions> = Object.freeze({
    strategies: Object.freeze({}),
    weights: Object.freeze({}),
    tune: TUNE_DEFAULTS,
    normalization: 'auto',
    candidatesPerStrategy: 1000,
    fallback: undefined as unknown as Recommender,
    excludePurchased: false,
    exclude: Object.freeze([]) as readonly string[],
    filter: null,
    combiner: 'linear',
    reranker: RERANKER_DEFAULTS,
    vectorIndex: null,
    recency: null,
  });

  /** The options as given (with defaults); `weights` may be 'tune'. */
  readonly options: Readonly<HybridOptions>;
  private readonly names: readonly string[];
  /** Replaced by better variants when tune.hyperparameters finds some. */
  private members: readonly Recommender[];
  private readonly settings: MergeSettings;
  private tuned: TuneResult | null = null;
  private learned: Reranker | null = null;
  private learnedSummary: RerankerSummary | null = null;
  private fitTimes: Record<string, number> = {};
  /** `parts`: rankInto's scratch, each strategy's contribution to the entry being written. */
  private fittedState: { data: Dataset; engine: MergeEngine; excluded: Int32Array; blocked: Uint8Array; parts: Float64Array } | null = null;
  /** False when loaded from a serving artifact (save({ customerData: false })): no users are known. */
  private hasCustomerData = true;
  /** What the workers of a parallel recommendBatch load (see batchArtifact); reset by every fit and load. */
  private sharedArtifact: Pick<BatchInput, 'artifact' | 'model'> | null = null;

  constructor(options: HybridInit) {
    this.options = resolveOptions('HybridRecommender', HybridRecommender.defaults, options, CHECKS);
    const o = this.options;
    this.names = Object.keys(o.strategies);
    this.members = this.names.map((n) => o.strategies[n]);
    if (o.weights === 'tune') hyperparameterGrids(o.tune.hyperparameters, this.names, this.members);
    this.settings = { weights: this.weightsOf(o.weights === 'tune' ? {} : o.weights), normalization: o.normalization, candidatesPerStrategy: o.candidatesPerStrategy };
  }

  // ---------------------------------------------------------------- read-only state

  get fitted(): boolean {
    return this.fittedState !== null;
  }

  /** Strategy names in order. */
  get strategyNames(): string[] {
    return [...this.names];
  }

  /** The strategy registered under `name`. */
  strategy(name: string): Recommender {
    const i = this.names.indexOf(name);
    if (i < 0) throw new OptionError('HybridRecommender.strategy', `no strategy named ${describe(name)} (have ${this.names.join(', ')})`);
    return this.members[i];
  }

  /** The weight of each strategy (tuning may have chosen them). */
  get strategyWeights(): Record<string, number> {
    return Object.fromEntries(this.names.map((n, i) => [n, this.settings.weights[i]]));
  }

  /** The normalization in use (tuning may have chosen it). */
  get normalization(): Normalization {
    return this.settings.normalization;
  }

  /** The per-strategy candidate cut of the merge. */
  get candidatesPerStrategy(): number {
    return this.settings.candidatesPerStrategy;
  }

  /** The cold-start and filler strategy, or null. */
  get fallback(): Recommender | null {
    return this.options.fallback;
  }

  /** What weight tuning found at the last fit (null when weights were given). */
  get tuning(): TuneResult | null {
    return this.tuned;
  }

  /** The learned combiner when it ranks (combiner 'reranker', trained), else null: importance(), its features and forest. */
  get reranker(): Reranker | null {
    return this.learned;
  }

  /** What reranker training did at the last fit (null unless combiner is 'reranker'): trained or not, and why. */
  get rerankerSummary(): RerankerSummary | null {
    return this.learnedSummary;
  }

  /** Seconds each strategy (and the fallback, and weight tuning) took in the last fit(). */
  get fitSeconds(): Record<string, number> {
    return { ...this.fitTimes };
  }

  /**
   * True when the recommender knows its training shoppers (fitted, or loaded from a full
   * artifact); false when loaded from a serving artifact, where recommend() needs the shopper's
   * history and a user id is a NoCustomerDataError.
   */
  get customerData(): boolean {
    this.state();
    return this.hasCustomerData;
  }

  /** The training data the recommender was fitted on (ids, histories, catalog; items and catalog only from a serving artifact). */
  get dataset(): Dataset {
    return this.state().data;
  }

  // ---------------------------------------------------------------- fit

  /**
   * Fits every strategy (and the fallback) on `data`, one after another. Each strategy gets
   * its own seed derived from `seed` and its name, so adding a strategy does not change the
   * others' fits. With weights 'tune', the strategies are first fitted on a validation split
   * carved from `data`, the weights searched there, then everything is refitted on `data`.
   */
  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'HybridRecommender');
    const fit = resolveOptions('HybridRecommender.fit', FIT_DEFAULTS, options, FIT_CHECKS);
    const recency = this.options.recency;
    if (recency !== null) {
      if (data.times === null) throw new DataError('HybridRecommender.recency needs a timestamp per interaction (Dataset.times), and this dataset has none', { field: 'time' });
      // The basket carves rebuild the training matrix from baskets, which hold no timestamps.
      const carves = [...(this.options.weights === 'tune' ? [['tune', this.options.tune.protocol]] : []), ...(this.options.combiner === 'reranker' && this.options.reranker.validation === null ? [['reranker', this.options.reranker.protocol]] : [])];
      for (const [owner, given] of carves) {
        const protocol = given === 'auto' ? chooseProtocol(data) : given;
        if (protocol === 'next-basket' || protocol === 'basket-completion') {
          throw new OptionError(`HybridRecommender.${owner}.protocol`, `carves a ${protocol} validation split, whose training part keeps no timestamps to weight by recency: use 'holdout-temporal' or 'holdout' with the recency option`);
        }
      }
    }
    // Fit-time code, loaded on demand so a page that only loads and recommends never downloads it.
    const trainer = this.options.combiner === 'reranker' ? await import('./reranker/train') : null;
    const o = this.options.reranker;
    if (trainer !== null && o.validation !== null) trainer.checkValidationSet(o.validation, data, 'HybridRecommender.reranker.validation');
    this.fitTimes = {};
    this.learned = null;
    this.learnedSummary = null;
    // A refit: the members' indexes of the last fit would be rebuilt by every fit below; detached, they are built once, at the end.
    if (this.options.vectorIndex !== null) for (const m of this.members) if (m.fitted && isVectorIndexed(m)) await m.useVectorIndex(null);
    // The split as carved, before recency weighting (the reranker carves its further folds from it).
    let carved: { protocol: ValidationProtocol; split: Split } | null = null;
    if (this.options.weights === 'tune') {
      const started = Date.now();
      const tune = this.options.tune;
      const protocol = tune.protocol === 'auto' ? chooseProtocol(data) : tune.protocol;
      const unweighted = validationSplit(data, protocol, fit.seed);
      const split = recencyWeightedSplit(unweighted, recency);
      // The fallback fills tuned lists as it fills served ones: it is fitted on the split too.
      await this.fitStrategies(split.train, fit, 'tune/', false);
      const grids = hyperparameterGrids(tune.hyperparameters, this.names, this.members);
      let hyperparameters: TuneResult['hyperparameters'];
      if (Object.keys(grids).length > 0) {
        const fitMember = (s: Recommender, name: string) => s.fit(split.train, { seed: deriveSeed(fit.seed, name), threads: fit.threads, signal: fit.signal });
        const found = await searchHyperparameters(this.names, this.members, this.fallback, split, tune, this.settings.candidatesPerStrategy, grids, fitMember, fit);
        this.members = found.members;
        hyperparameters = found.report;
      }
      this.tuned = await searchWeights(this.names, this.members, this.fallback, split, tune, protocol, this.settings.candidatesPerStrategy, fit);
      if (hyperparameters) this.tuned.hyperparameters = hyperparameters;
      this.settings.weights = this.weightsOf(this.tuned.weights);
      this.settings.normalization = this.tuned.normalization;
      this.fitTimes.tuning = (Date.now() - started) / 1000;
      carved = { protocol, split: unweighted };
    }
    let forest: Reranker['model'] | null = null;
    const rerankProtocol = o.protocol === 'auto' ? chooseProtocol(data) : o.protocol;
    /** Trains the forest on `split` with the members as fitted now (see trainReranker). */
    const trainForest = async (split: Split, refit: (train: Dataset, fold: number) => Promise<void>) => {
      const started = Date.now();
      const trained = await trainer!.trainReranker(this.names, this.members, data, split, rerankProtocol, o, this.settings, fit, refit, recency);
      this.learnedSummary = trained.summary;
      fit.onProgress?.({ stage: 'reranker', done: 1, total: 1, message: trained.summary.reason });
      this.fitTimes.reranker = (Date.now() - started) / 1000;
      return trained.model;
    };
    if (trainer !== null && o.validation === null) {
      // Weight tuning's split (same protocol, same seed: the same split) and its fits are reused.
      if (carved === null || carved.protocol !== rerankProtocol) {
        carved = { protocol: rerankProtocol, split: validationSplit(data, rerankProtocol, fit.seed) };
        await this.fitStrategies(recencyWeightedSplit(carved.split, recency).train, fit, 'rerank/', false);
      }
      forest = await trainForest(carved.split, (train, fold) => this.fitStrategies(train, fit, `rerank/fold${fold + 1}/`, false));
    }
    const train = recency === null ? data : recencyWeighted(data, recency);
    await this.fitStrategies(train, fit, '', true);
    // A given validation set is scored as serving queries are: by the strategies fitted on all of the data (one fold, no refit).
    if (trainer !== null && o.validation !== null) forest = await trainForest(o.validation, async () => undefined);
    await this.attachVectorIndexes(fit);
    if (forest !== null) {
      this.learned = Reranker.forData(this.names, train, forest, { candidatesPerStrategy: o.candidatesPerStrategy }, this.settings);
    }
    this.attach(train);
    this.hasCustomerData = true;
  }

  /** Fits the strategies and the fallback on `data`; records each one's seconds in fitSeconds when `timed`. */
  private async fitStrategies(data: Dataset, fit: FitSettings, stagePrefix: string, timed: boolean): Promise<void> {
    const all = this.fallback ? [...this.members, this.fallback] : this.members;
    const names = this.fallback ? [...this.names, FALLBACK_NAME] : this.names;
    const onProgress = fit.onProgress;
    for (let i = 0; i < all.length; i++) {
      throwIfAborted(fit.signal, 'HybridRecommender.fit');
      const name = stagePrefix + names[i];
      onProgress?.({ stage: name, done: 0, total: 1, message: `fitting ${name} (${i + 1}/${all.length})` });
      const started = Date.now();
      await all[i].fit(data, {
        seed: deriveSeed(fit.seed, names[i]),
        threads: fit.threads,
        signal: fit.signal,
        onProgress: onProgress ? (p) => onProgress({ ...p, stage: `${name}: ${p.stage}` }) : undefined,
      });
      if (timed) this.fitTimes[names[i]] = (Date.now() - started) / 1000;
      onProgress?.({ stage: name, done: 1, total: 1, message: `fitted ${name}` });
    }
  }

  /** Attaches options.vectorIndex to every member that takes one (building, or restoring a loaded one's stored index). */
  private async attachVectorIndexes(fit: Pick<FitSettings, 'onProgress' | 'signal'>): Promise<void> {
    const factory = this.options.vectorIndex;
    if (factory === null) return;
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[i];
      if (!isVectorIndexed(member)) continue;
      const stage = `${this.names[i]}: vector index`;
      fit.onProgress?.({ stage, done: 0, total: 1, message: `${factory.kind} index for ${this.names[i]}` });
      const how = await member.useVectorIndex(factory, { signal: fit.signal });
      fit.onProgress?.({ stage, done: 1, total: 1, message: `${factory.kind} index for ${this.names[i]}: ${how}` });
    }
  }

  private attach(data: Dataset): void {
    this.sharedArtifact = null;
    const excluded = Int32Array.from(this.options.exclude.map((i) => data.items.indexOf(i)).filter((i) => i >= 0));
    this.fittedState = { data, engine: new MergeEngine(this.members, this.fallback, data.nItems), excluded, blocked: new Uint8Array(data.nItems), parts: new Float64Array(this.members.length) };
  }

  private state(): NonNullable<HybridRecommender['fittedState']> {
    if (!this.fittedState) throw new NotFittedError('HybridRecommender');
    return this.fittedState;
  }

  private weightsOf(weights: Readonly<Record<string, number>>): Float64Array {
    for (const key of Object.keys(weights)) {
      if (!this.names.includes(key)) throw new OptionError(`HybridRecommender.weights.${key}`, `no strategy named "${key}" (have ${this.names.join(', ')})`);
    }
    return Float64Array.from(this.names, (n) => weights[n] ?? 1);
  }

  // ---------------------------------------------------------------- recommend

  /**
   * The top-k items for a shopper: a known user id, or { user?, history?, baskets?, days?,
   * basket? } (see Shopper). An unknown user id is an UnknownIdError; `{ history: [] }` is the
   * explicit cold start, answered by the fallback (its results carry `sources.fallback`).
   */
  recommend(shopper: Shopper, options: Partial<RecommendOptions> = {}): Recommendation[] {
    const o = resolveRecommendOptions('recommend', options);
    return this.recommendOne(shopper, o, 'shopper');
  }

  /**
   * recommend() for each shopper, in order: the same lists (items, order, scores, sources) for
   * any `threads`. Every shopper is checked first, in order, so a bad one rejects the batch
   * before any ranking, naming `shoppers[i]` (skipped unknown items are reported then, once
   * each). Then blocks of shoppers are ranked: on the calling thread (threads 1, browsers), or
   * on the worker pool of hybridrec's Node entry, whose threads each load this recommender's
   * artifact once (see docs/parallel.md; kept until the next fit). A filter function, a vector
   * index or a strategy kind without a built-in loader cannot cross threads: the batch then
   * ranks on the calling thread.
   */
  async recommendBatch(shoppers: readonly Shopper[], options: Partial<BatchOptions> = {}): Promise<Recommendation[][]> {
    if (!Array.isArray(shoppers)) throw new OptionError('shoppers', `must be an array of shoppers, got ${shoppers === null ? 'null' : typeof shoppers}`);
    const o = resolveRecommendOptions('recommendBatch', options, BATCH_DEFAULTS, BATCH_CHECKS);
    const n = shoppers.length;
    const queries = shoppers.map((s, i) => this.queryOf(s, o, `shoppers[${i}]`));
    const bounds = batchBounds(n);
    const parallel = resolveThreads(o.threads) > 1 && n > BATCH_BLOCK && defaultExecutor() !== inlineExecutor && this.crossesThreads(o);
    const { excludePurchased, k, explain, exclude, unknownItems, list } = o;
    // Pool workers run the kernel of this name (src/node/batch-kernel.ts: it loads the artifact, skips the unknown items the checks above reported, and sends its lists packed); on this thread (threads 1, browsers, or what cannot cross threads) it ranks here, with the same lists.
    const kernel: Kernel<object, Recommendation[][] | PackedLists> = { name: BATCH_KERNEL, run: (_, start, end) => queries.slice(start, end).map((q) => this.rankQuery(q, o, true)) };
    const input = parallel ? { ...this.batchArtifact(), shoppers, options: { k, explain, excludePurchased, exclude, unknownItems, list } } : {};
    const blocks = await runKernel(kernel, input, bounds, { threads: parallel ? o.threads : 1, stage: 'recommendBatch', signal: o.signal, onProgress: o.onProgress });
    const { data } = this.state();
    const names = sourceNames(this.names);
    return blocks.flatMap((block) => (Array.isArray(block) ? block : unpackLists(block, data, names)));
  }

  /**
   * "People who bought X also bought": the ensemble's items for a cart of just `itemId`, never
   * `itemId` itself and no fallback filler (an item with few co-purchases gets a short list).
   */
  similarItems(itemId: string, options: Partial<SimilarItemsOptions> = {}): Recommendation[] {
    const o = resolveOptions('similarItems', SIMILAR_DEFAULTS, options, SIMILAR_CHECKS);
    const { data } = this.state();
    id()(itemId, 'itemId');
    const item = data.items.indexOf(itemId);
    if (item < 0) throw new UnknownIdError('item', itemId, 'itemId');
    const query: Query = { user: -1, history: { items: new Int32Array(0), weights: new Float32Array(0) }, timeline: null, basket: Int32Array.of(item) };
    // The linear merge: the reranker learned next orders of shoppers, not "bought with X".
    return this.rankQuery(query, { ...o, excludePurchased: false, list: 'all' }, false, false);
  }

  private recommendOne(shopper: unknown, o: Readonly<RecommendOptions>, where: string): Recommendation[] {
    return this.rankQuery(this.queryOf(shopper, o, where), o, true);
  }

  static {
    rankBlock = (rec, input, start, end, writer) => rec.rankShoppers(input.shoppers.slice(start, end), input.options, writer);
  }

  /** The lists of recommendBatch(shoppers, { ...options, threads: 1 }), written into `writer` as they are ranked (see rankBatchBlock). */
  private rankShoppers(shoppers: readonly Shopper[], options: BatchInput['options'], writer: BatchWriter): void {
    const o = resolveRecommendOptions('recommendBatch', { ...options, threads: 1 }, BATCH_DEFAULTS, BATCH_CHECKS);
    const queries = shoppers.map((s, i) => this.queryOf(s, o, `shoppers[${i}]`));
    for (const query of queries) {
      this.rankInto(query, o, true, true, writer);
      writer.endList();
    }
  }

  private queryOf(shopper: unknown, o: Readonly<RecommendOptions>, where: string): Query {
    const { data } = this.state();
    try {
      return shopperQuery(data, shopper, o, where);
    } catch (e) {
      if (!this.hasCustomerData && e instanceof UnknownIdError && e.kind === 'user') throw new NoCustomerDataError(e.id, e.field);
      throw e;
    }
  }

  /** Whether a batch with options `o` can rank on other threads: everything it needs is in the artifact. */
  private crossesThreads(o: Readonly<RecommendOptions>): boolean {
    const members = this.fallback ? [...this.members, this.fallback] : this.members;
    return o.filter === null && this.options.filter === null && this.options.vectorIndex === null && members.every((m) => Object.hasOwn(BUILTIN_LOADERS, m.kind));
  }

  /**
   * This recommender's artifact in shared memory, for the batch kernel, written on the first
   * parallel batch after a fit or load and kept until the next (the workers key their loaded
   * copy by `model`).
   */
  private batchArtifact(): Pick<BatchInput, 'artifact' | 'model'> {
    this.sharedArtifact ??= { artifact: sharedCopy(this.save()), model: nextBatchModel++ };
    return this.sharedArtifact;
  }

  private rankQuery(query: Query, o: Readonly<RecommendOptions>, fill: boolean, rerank = true): Recommendation[] {
    const { data } = this.state();
    const writer = new RecommendationWriter(data, this.names);
    this.rankInto(query, o, fill, rerank, writer);
    return writer.list;
  }

  /**
   * The ranked list of `query`, entry by entry, best first, into `writer`: the one ranking of
   * recommend(), similarItems() and both kinds of batch, whatever form their lists take.
   */
  private rankInto(query: Query, o: Readonly<RecommendOptions>, fill: boolean, rerank: boolean, writer: ListWriter): void {
    const { data, engine, excluded, blocked, parts } = this.state();
    const blockedList: number[] = [];
    const block = (i: number) => {
      if (blocked[i] === 0) {
        blocked[i] = 1;
        blockedList.push(i);
      }
    };
    try {
      const list = o.list;
      if (list === 'all' && (o.excludePurchased ?? this.options.excludePurchased)) for (const i of query.history.items) block(i);
      blockForList(list, query, data.nItems, block);
      for (const i of query.basket) block(i);
      for (const i of excluded) block(i);
      if (o.exclude.length > 0) for (const i of new ItemIds(data, o).indices(o.exclude, 'options.exclude')) block(i);
      const accept = this.options.filter === null && o.filter === null ? null : this.acceptOf(data, o.filter);
      // A buy-again list is filled from the history, never by the fallback's best sellers.
      const fillList = fill && list !== 'buy-again';
      const learned = rerank ? this.learned : null;
      // Nothing blocked (the usual request) spares the merge a look-up per scored item.
      const ranked = learned
        ? learned.rank(engine, query, o.k, blockedList.length > 0 ? blocked : null, accept, fillList)
        : engine.rank(query, o.k, blockedList.length > 0 ? blocked : null, accept, this.settings, fillList);
      // The reranker reads every strategy at weight 1: sources are then each one's normalized score.
      const weights = learned ? null : this.settings.weights;
      // One namer per call, not one per explained item.
      const namer: ItemNamer = (i) => data.catalog.name[i] || data.items.id(i);
      const n = ranked.items.length;
      for (let r = 0; r < n; r++) {
        const item = ranked.items[r];
        const score = ranked.scores[r];
        const fromFallback = r >= ranked.fromEnsemble;
        if (!fromFallback) for (let s = 0; s < this.names.length; s++) parts[s] = engine.contribution(s, item, weights ? weights[s] : 1);
        let explanation: Explained | null = null;
        if (o.explain) {
          const because = this.explainItem(data, query, item, score, fromFallback ? null : parts, learned, namer);
          explanation = { because, reason: (list === 'buy-again' ? buyAgainReason(query, item) : null) ?? because[0]?.text };
          if (learned && !fromFallback) explanation.features = learned.explain(item);
        }
        writer.entry(item, score, fromFallback ? null : parts, explanation);
      }
      if (list === 'buy-again' && fill && n < o.k) {
        const last = n ? ranked.scores[n - 1] : 1;
        const extra = buyAgainFill(query, ranked.items, o.k, blocked, accept);
        // History filler: no strategy's source.
        parts.fill(0);
        extra.forEach((item, i) => writer.entry(item, (0.5 * last) / (i + 1), parts, o.explain ? { because: [], reason: buyAgainReason(query, item) ?? undefined } : null));
      }
    } finally {
      for (const i of blockedList) blocked[i] = 0;
    }
  }

  /** The recommender's filter and the call's, ANDed, as a predicate on item indices. */
  private acceptOf(data: Dataset, callFilter: ((item: ItemInfo) => boolean) | null): (item: number) => boolean {
    const filters = [this.options.filter, callFilter].filter((f): f is (item: ItemInfo) => boolean => f !== null);
    return (item: number) => {
      const info = itemInfo(data, item);
      return filters.every((f) => f(info));
    };
  }

  /** An item's reasons: the fallback's for a fallback entry (parts null, its contribution its score), else each strategy's with a contribution in `parts`. */
  private explainItem(data: Dataset, query: Query, item: number, score: number, parts: Float64Array | null, learned: Reranker | null, namer: ItemNamer): Reason[] {
    const reasons: Reason[] = [];
    if (parts === null) pushReason(reasons, data, FALLBACK_NAME, score, this.fallback!.explain(query, item, namer));
    else {
      for (let s = 0; s < this.names.length; s++) {
        const contribution = parts[s];
        if (contribution) pushReason(reasons, data, this.names[s], contribution, this.members[s].explain(query, item, namer));
      }
    }
    if (learned && parts !== null) {
      // Reranked: the strategy whose features moved the item's score most comes first.
      const credit = learned.strategyCredit(item);
      const of = (r: Reason) => credit[this.names.indexOf(r.strategy)];
      sortReasons(reasons, (a, b) => of(b) - of(a) || byContribution(a, b));
    } else sortReasons(reasons, byContribution);
    return reasons;
  }

  // ---------------------------------------------------------------- artifacts

  /**
   * The fitted recommender as one artifact (same bytes in Node and browsers). With
   * `{ customerData: false }`, a serving artifact: items, catalog and item-side models only,
   * no user id and no purchase history; a strategy that needs customer data to recommend
   * (TIFU-KNN) makes it an OptionError naming the strategy.
   */
  save(options: SaveOptions = {}): Uint8Array {
    const o = resolveOptions('save', SAVE_DEFAULTS, options, SAVE_CHECKS);
    const { data } = this.state();
    const { normalization, candidatesPerStrategy } = this.settings;
    const stored: StoredOptions = {
      weights: this.strategyWeights,
      normalization,
      candidatesPerStrategy,
      excludePurchased: this.options.excludePurchased,
      exclude: this.options.exclude,
      recency: this.options.recency,
    };
    // A recommender loaded from a serving artifact has no customer data to write.
    const customerData = o.customerData && this.hasCustomerData;
    return writeHybrid({ names: this.names, strategies: this.members, fallback: this.fallback, stored, tuning: this.tuned, data, customerData, reranker: this.learned });
  }

  /**
   * Rebuilds a fitted recommender from save()'s bytes; scores are identical. Custom strategy
   * kinds need their loader in `loaders`. A business-rule `filter` is code, not data, so pass
   * it again here.
   */
  static async load(bytes: Uint8Array, options: Partial<LoadOptions> = {}): Promise<HybridRecommender> {
    const o = resolveOptions('HybridRecommender.load', LOAD_DEFAULTS, options, LOAD_CHECKS);
    const parts = await readHybrid(bytes, o.loaders, STORED_CHECKS, STORED_ADDED_LATER);
    let rec: HybridRecommender;
    try {
      rec = new HybridRecommender({ ...parts.stored, strategies: parts.strategiesByName, fallback: parts.fallback, filter: o.filter, vectorIndex: o.vectorIndex, combiner: parts.reranker ? 'reranker' : 'linear' });
    } catch (e) {
      // The stored options passed their checks; what is left is how they fit together (weights of unknown strategies).
      if (e instanceof OptionError) throw new ArtifactError(`bad recommender options in artifact: ${e.message}`, 'manifest.options');
      throw e;
    }
    await rec.attachVectorIndexes({});
    rec.tuned = parts.tuning;
    rec.learned = parts.reranker ?? null;
    rec.attach(parts.data);
    rec.hasCustomerData = parts.customerData;
    return rec;
  }
}

// How a batch runs is checked as a fit's threads, signal and onProgress are.
const BATCH_DEFAULTS: Readonly<BatchOptions> = Object.freeze({ ...RECOMMEND_DEFAULTS, threads: undefined, signal: undefined, onProgress: undefined });
const BATCH_CHECKS: OptionChecks<BatchOptions> = { ...RECOMMEND_CHECKS, threads: FIT_CHECKS.threads, signal: FIT_CHECKS.signal, onProgress: FIT_CHECKS.onProgress };

/** Shoppers per block of a batch: the unit of progress, abort and work sharing (a few to tens of milliseconds of ranking). */
const BATCH_BLOCK = 64;
/** The last shoppers of a batch go in blocks this much smaller, so the threads run out of work together. */
const BATCH_TAIL_SPLIT = 4;

/**
 * Block bounds of a batch of n shoppers, from n alone: blocks of BATCH_BLOCK, but the last
 * 2 to 3 * BATCH_BLOCK shoppers in blocks of BATCH_BLOCK / BATCH_TAIL_SPLIT. With whole blocks to
 * the end, the thread that took the last one ran it while the other idled: half a block on
 * average, about 6 ms of a P1 batch's 100 ms on two threads at 0.2 ms per shopper (an estimate:
 * the loaded project machine does not resolve it in wall time).
 */
function batchBounds(n: number): Int32Array {
  const tailStart = n > 2 * BATCH_BLOCK ? Math.floor((n - 2 * BATCH_BLOCK) / BATCH_BLOCK) * BATCH_BLOCK : 0;
  const bounds = [0];
  for (let b = BATCH_BLOCK; b <= tailStart; b += BATCH_BLOCK) bounds.push(b);
  for (let b = tailStart + BATCH_BLOCK / BATCH_TAIL_SPLIT; b < n; b += BATCH_BLOCK / BATCH_TAIL_SPLIT) bounds.push(b);
  if (n > 0) bounds.push(n);
  return Int32Array.from(bounds);
}

/** What the batch kernel gets: the recommender's artifact, the shoppers, and recommend()'s options that are data. */
export interface BatchInput {
  artifact: Uint8Array;
  /** Names the artifact in this process: a worker loads each one once. */
  model: number;
  shoppers: Shopper[];
  options: Omit<RecommendOptions, 'filter' | 'onUnknownItem'>;
}

let nextBatchModel = 1;

/**
 * The batch kernel's ranking on a pool thread (src/node/batch-kernel.ts): shoppers [start, end)
 * of the batch ranked by `rec` (the thread's copy), each list written entry by entry into
 * `writer` (the kernel's ListPacker, which this isomorphic module does not import: a browser
 * page does not carry it) from the merge's ranked arrays, without the Recommendation objects
 * that packing used to take apart again.
 */
export function rankBatchBlock(rec: HybridRecommender, input: BatchInput, start: number, end: number, writer: BatchWriter): void {
  rankBlock!(rec, input, start, end, writer);
}

/** The name of recommendBatch's worker kernel (src/node/batch-kernel.ts): Node-only code, so no browser bundle carries it. */
export const BATCH_KERNEL = 'ensemble.recommend-batch';

/** recommend()'s options; a shopper field among them (the API before Shopper) gets told where it goes. */
function resolveRecommendOptions<T extends RecommendOptions = RecommendOptions>(
  owner: string,
  options: unknown,
  defaults: Readonly<T> = RECOMMEND_DEFAULTS as T,
  checks: OptionChecks<T> = RECOMMEND_CHECKS as OptionChecks<T>,
): Readonly<T> {
  if (options !== null && typeof options === 'object') {
    for (const key of ['user', 'history', 'baskets', 'basket'] as const) {
      if (key in options) throw new OptionError(`${owner}.${key}`, `is part of the shopper, not of the options: pass { ${key}: ... } as the shopper`);
    }
  }
  return resolveOptions(owner, defaults, options, checks);
}

/** The larger contribution first. */
const byContribution = (a: Reason, b: Reason) => b.contribution - a.contribution;

/**
 * Sorts one item's few reasons by `order` (negative: a first), stably, in place, as
 * Array.prototype.sort would: that sort allocated about 0.9 KB of sort state per call
 * whatever the length (V8's sampling heap profiler at 200k x 50k), a tenth of an explained
 * recommendation's garbage, and so of its scavenges.
 */
function sortReasons(reasons: Reason[], order: (a: Reason, b: Reason) => number): void {
  for (let i = 1; i < reasons.length; i++) {
    const r = reasons[i];
    let j = i;
    for (; j > 0 && order(r, reasons[j - 1]) < 0; j--) reasons[j] = reasons[j - 1];
    reasons[j] = r;
  }
}

/** Adds one strategy's explanation (none: nothing) to an item's reasons. */
function pushReason(reasons: Reason[], data: Dataset, strategy: string, contribution: number, e: Explanation | null): void {
  if (!e) return;
  const items = new Array<string>(e.evidence.length);
  for (let i = 0; i < items.length; i++) items[i] = data.items.id(e.evidence[i].item);
  reasons.push({ strategy, contribution, text: e.reason, items });
}

/** rankInto's entries as Recommendation objects: recommend(), similarItems() and a batch on the calling thread. */
class RecommendationWriter implements ListWriter {
  readonly list: Recommendation[] = [];
  constructor(
    private readonly data: Dataset,
    private readonly names: readonly string[],
  ) {}

  entry(item: number, score: number, parts: Float64Array | null, explanation: Explained | null): void {
    const sources: Record<string, number> = {};
    if (parts === null) sources[FALLBACK_NAME] = score;
    else for (let s = 0; s < parts.length; s++) if (parts[s] !== 0) sources[this.names[s]] = parts[s];
    const rec: Recommendation = { item: this.data.items.id(item), name: this.data.catalog.name[item], score, sources };
    this.list.push(explanation === null ? rec : Object.assign(rec, explanation));
  }
}

function itemInfo(data: Dataset, item: number): ItemInfo {
  const c = data.catalog;
  return { id: data.items.id(item), name: c.name[item], aisle: c.aisle[item], department: c.department[item], meta: c.meta[item] };
}
