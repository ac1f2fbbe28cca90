import { ArtifactReader, ArtifactWriter } from '../artifact/container';
import type { Dataset } from '../data/dataset';
import { readDataset, writeDataset } from '../data/serialize';
import { ArtifactError, NotFittedError, OptionError, UnknownIdError, throwIfAborted } from '../errors';
import { anonymousQuery, userQuery } from '../strategies/query';
import {
  ScoreVector,
  type Explanation,
  type FitOptions,
  type JsonObject,
  type Query,
  type Recommender,
  type StrategyLoader,
} from '../strategies/types';
import { TopK } from '../util/topk';
import { deriveSeed } from '../util/random';
import { addWeighted, assertNormalization, cutoffScore, normalizer, type Affine, type Normalization } from './normalize';
import { BUILTIN_LOADERS, DEFAULT_FALLBACK } from './registry';
import { chooseProtocol, resolveTuneOptions, searchWeights, validationSplit, type TuneOptions, type TuneResult } from './tune';
import type { IndexRanker } from '../eval/evaluate';

export const LIBRARY_VERSION = '0.1.0';

const DEFAULT_CANDIDATES_PER_STRATEGY = 1000;

/** What a business-rule filter sees of an item. */
export interface ItemInfo {
  id: string;
  name: string;
  aisle: string;
  department: string;
  meta: Record<string, string> | undefined;
}

export interface HybridOptions {
  /** Named strategies; the names key weights, contributions and artifact sections. */
  strategies: Record<string, Recommender>;
  /**
   * Weight per strategy name (missing names weigh 1), or 'tune' to choose weights and
   * normalization on a validation split carved from the training data at fit (see `tune`).
   */
  weights?: Record<string, number> | 'tune';
  /** Options of the weight search when weights is 'tune'. */
  tune?: Partial<TuneOptions>;
  /** Score normalization applied to each strategy before the weighted sum (default 'auto'). */
  normalization?: Normalization;
  /**
   * Each strategy adds only its best `candidatesPerStrategy` items (ties at the cut kept) to
   * the weighted sum; normalization still sees all of its scores. The merge costs per item a
   * strategy touched, and for the heaviest 1% of shoppers ItemKNN alone touched 9.4k of 50k
   * items. Default 1000; Infinity merges everything.
   */
  candidatesPerStrategy?: number;
  /** Cold-start strategy for users with nothing to go on, and filler when the ensemble has fewer than k items (default Popularity). Pass null for none. */
  fallback?: Recommender | null;
  /** Drop items the user bought before (default false: grocery next-basket wants re-buys). */
  excludePurchased?: boolean;
  /** Item ids never to recommend (discontinued, age-restricted...). */
  exclude?: readonly string[];
  /** Business rule: only items for which it returns true are recommended. */
  filter?: (item: ItemInfo) => boolean;
}

export interface RecommendOptions {
  k?: number;
  /** Attach per-strategy reasons to each result. */
  explain?: boolean;
  /** Overrides the recommender's excludePurchased for this call. */
  excludePurchased?: boolean;
  /** Extra item ids to leave out for this call. */
  exclude?: readonly string[];
  /** Extra business rule for this call (ANDed with the recommender's). */
  filter?: (item: ItemInfo) => boolean;
  /** Current cart: scored as context and never recommended back. */
  basket?: readonly string[];
  /** For an unknown user: their past purchases (ids; repeats count). Ignored for known users. */
  history?: readonly string[];
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

export interface Recommendation {
  item: string;
  name: string;
  score: number;
  /** Weighted normalized contribution of each strategy that scored the item. */
  sources: Record<string, number>;
  /** Main reason in one sentence (with explain). */
  reason?: string;
  because?: Reason[];
}

const FALLBACK_NAME = 'fallback';

/**
 * The hybrid recommender: fits named strategies, normalizes and weights their scores,
 * filters, falls back for cold start, explains, and saves to one artifact.
 */
export class HybridRecommender implements IndexRanker {
  private readonly names: string[];
  private readonly strategies: Recommender[];
  private weights: Float64Array;
  private normalization: Normalization;
  private readonly candidatesPerStrategy: number;
  private readonly tuneOptions: TuneOptions | null;
  private tuned: TuneResult | null = null;
  private fitTimes: Record<string, number> = {};
  private readonly fallback: Recommender | null;
  private readonly excludePurchased: boolean;
  private readonly excludeIds: readonly string[];
  /** excludeIds that name items of the fitted data, as indices (resolved once per fit). */
  private excludedItems = new Int32Array(0);
  private readonly filter: ((item: ItemInfo) => boolean) | undefined;
  private data: Dataset | null = null;
  private buffers: ScoringBuffers | null = null;

  constructor(options: HybridOptions) {
    if (!options || typeof options.strategies !== 'object' || options.strategies === null) {
      throw new OptionError('strategies', 'must be an object of named strategies');
    }
    this.names = Object.keys(options.strategies);
    if (this.names.length === 0) throw new OptionError('strategies', 'at least one strategy is required');
    if (this.names.includes(FALLBACK_NAME)) throw new OptionError('strategies', `"${FALLBACK_NAME}" is a reserved name`);
    this.strategies = this.names.map((n) => {
      const s = options.strategies[n];
      if (!s || typeof s.score !== 'function' || typeof s.fit !== 'function') {
        throw new OptionError(`strategies.${n}`, 'is not a Recommender');
      }
      return s;
    });
    this.tuneOptions = options.weights === 'tune' ? resolveTuneOptions(options.tune) : null;
    this.weights = resolveWeights(this.names, options.weights === 'tune' ? undefined : options.weights);
    this.normalization = options.normalization ?? 'auto';
    assertNormalization(this.normalization, 'normalization');
    const cap = options.candidatesPerStrategy ?? DEFAULT_CANDIDATES_PER_STRATEGY;
    if (typeof cap !== 'number' || !(cap === Infinity || (Number.isInteger(cap) && cap >= 1))) {
      throw new OptionError('candidatesPerStrategy', `must be an integer >= 1 or Infinity, got ${cap}`);
    }
    this.candidatesPerStrategy = cap;
    this.fallback = options.fallback === undefined ? DEFAULT_FALLBACK() : options.fallback;
    this.excludePurchased = options.excludePurchased ?? false;
    this.excludeIds = [...(options.exclude ?? [])];
    this.filter = options.filter;
  }

  get fitted(): boolean {
    return this.data !== null;
  }

  /** Strategy names in order. */
  get strategyNames(): string[] {
    return [...this.names];
  }

  /** The normalization in use (tuning may have chosen it). */
  get scoreNormalization(): Normalization {
    return this.normalization;
  }

  /** What weight tuning found at the last fit (null when weights were given). */
  get tuning(): TuneResult | null {
    return this.tuned;
  }

  /** Seconds each strategy (and the fallback, and weight tuning) took in the last fit(). */
  get fitSeconds(): Record<string, number> {
    return { ...this.fitTimes };
  }

  /** The weight of each strategy. */
  get strategyWeights(): Record<string, number> {
    return Object.fromEntries(this.names.map((n, i) => [n, this.weights[i]]));
  }

  /** Replaces the weights (e.g. after tuning). Missing names keep their weight. */
  setWeights(weights: Record<string, number>): void {
    const next = resolveWeights(this.names, { ...this.strategyWeights, ...weights });
    this.weights = next;
  }

  /** The strategy registered under `name`. */
  strategy(name: string): Recommender {
    const i = this.names.indexOf(name);
    if (i < 0) throw new OptionError('name', `no strategy named "${name}" (have ${this.names.join(', ')})`);
    return this.strategies[i];
  }

  /** The training data the recommender was fitted on (ids, histories, catalog). */
  get dataset(): Dataset {
    if (!this.data) throw new NotFittedError('HybridRecommender');
    return this.data;
  }

  /**
   * Fits every strategy (and the fallback) on `data`, one after another. Each strategy gets
   * its own seed derived from `seed` and its name, so adding a strategy does not change the
   * others' fits. With weights 'tune', the strategies are first fitted on a validation split
   * carved from `data`, the weights searched there, then everything is refitted on `data`.
   */
  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    data.assertNotEmpty('HybridRecommender.fit');
    const seed = options.seed ?? 42;
    this.fitTimes = {};
    if (this.tuneOptions) {
      const started = Date.now();
      const protocol = this.tuneOptions.protocol === 'auto' ? chooseProtocol(data) : this.tuneOptions.protocol;
      const split = validationSplit(data, protocol, seed);
      await this.fitStrategies(split.train, options, 'tune/', false);
      this.tuned = searchWeights(this.names, this.strategies, split, this.tuneOptions, protocol, options);
      this.weights = resolveWeights(this.names, this.tuned.weights);
      this.normalization = this.tuned.normalization;
      this.fitTimes.tuning = (Date.now() - started) / 1000;
    }
    await this.fitStrategies(data, options, '', true);
    this.attach(data);
  }

  private async fitStrategies(data: Dataset, options: FitOptions, stagePrefix: string, withFallback: boolean): Promise<void> {
    const seed = options.seed ?? 42;
    const all = this.fallback && withFallback ? [...this.strategies, this.fallback] : this.strategies;
    const names = this.fallback && withFallback ? [...this.names, FALLBACK_NAME] : this.names;
    for (let i = 0; i < all.length; i++) {
      throwIfAborted(options.signal, 'HybridRecommender.fit');
      const name = stagePrefix + names[i];
      options.onProgress?.({ stage: name, done: 0, total: 1, message: `fitting ${name} (${i + 1}/${all.length})` });
      const started = Date.now();
      await all[i].fit(data, {
        seed: deriveSeed(seed, names[i]),
        threads: options.threads,
        signal: options.signal,
        onProgress: options.onProgress ? (p) => options.onProgress!({ ...p, stage: `${name}: ${p.stage}` }) : undefined,
      });
      if (withFallback) this.fitTimes[names[i]] = (Date.now() - started) / 1000;
      options.onProgress?.({ stage: name, done: 1, total: 1, message: `fitted ${name}` });
    }
  }

  private attach(data: Dataset): void {
    this.data = data;
    this.buffers = new ScoringBuffers(data.nItems, this.strategies.length);
    this.excludedItems = Int32Array.from(this.excludeIds.map((id) => data.items.indexOf(id)).filter((i) => i >= 0));
  }

  // ---------------------------------------------------------------- public, id-level API

  /**
   * Top-k items for a user id. An unknown user is scored from `options.history` when given,
   * otherwise gets the fallback (cold start).
   */
  recommend(userId: string, options: RecommendOptions = {}): Recommendation[] {
    return this.recommendQuery(this.queryOf(userId, options.history, options.basket ?? []), options);
  }

  /** recommend() for many users (one result list per id, in order). */
  recommendBatch(userIds: readonly string[], options: RecommendOptions = {}): Recommendation[][] {
    return userIds.map((id) => this.recommend(id, options));
  }

  /** Recommendations for someone without an id: a purchase history and/or a current basket. */
  recommendAnonymous(input: { history?: readonly string[]; basket?: readonly string[] }, options: RecommendOptions = {}): Recommendation[] {
    const query = anonymousQuery(this.itemIndices(input.history ?? []), this.itemIndices(input.basket ?? []));
    return this.recommendQuery(query, options);
  }

  /** "People who bought X also bought": the ensemble's scores for a basket of just `itemId`. */
  similarItems(itemId: string, options: Omit<RecommendOptions, 'basket' | 'history'> = {}): Recommendation[] {
    const query = anonymousQuery([], this.itemIndices([itemId]));
    return this.recommendQuery(query, { ...options, excludePurchased: false });
  }

  /** Items to add to a basket (an anonymous session, a bundle); basket items are never returned. */
  completeBasket(itemIds: readonly string[], options: Omit<RecommendOptions, 'basket'> & { user?: string } = {}): Recommendation[] {
    return this.recommendQuery(this.queryOf(options.user, options.history, itemIds), options);
  }

  /** The query of `userId` when known, else of someone with `history` (ids), with a current basket. */
  private queryOf(userId: string | undefined, history: readonly string[] | undefined, basketIds: readonly string[]): Query {
    const data = this.dataset;
    const basket = this.itemIndices(basketIds);
    const u = userId !== undefined ? data.users.indexOf(userId) : -1;
    return u >= 0 ? userQuery(data, u, basket) : anonymousQuery(this.itemIndices(history ?? []), basket);
  }

  private itemIndices(ids: readonly string[]): Int32Array {
    const data = this.dataset;
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const idx = data.items.indexOf(ids[i]);
      if (idx < 0) throw new UnknownIdError('item', ids[i]);
      out[i] = idx;
    }
    return out;
  }

  private recommendQuery(query: Query, options: RecommendOptions): Recommendation[] {
    const data = this.dataset;
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 0) throw new OptionError('k', `must be a non-negative integer, got ${k}`);
    const buffers = this.buffers!;
    const blocked = buffers.blocked;
    const blockedList: number[] = [];
    const block = (i: number) => {
      if (blocked[i] === 0) {
        blocked[i] = 1;
        blockedList.push(i);
      }
    };
    if (options.excludePurchased ?? this.excludePurchased) for (const i of query.history.items) block(i);
    for (const i of query.basket) block(i);
    for (const i of this.excludedItems) block(i);
    for (const id of options.exclude ?? []) {
      const i = data.items.indexOf(id);
      if (i >= 0) block(i);
    }
    const filters = [this.filter, options.filter].filter((f): f is (item: ItemInfo) => boolean => f !== undefined);
    const accept = filters.length === 0 ? null : (item: number) => {
      const info = this.itemInfo(item);
      return filters.every((f) => f(info));
    };
    try {
      const ranked = this.rank(query, k, blocked, accept, this.weights);
      const results: Recommendation[] = [];
      for (let r = 0; r < ranked.items.length; r++) {
        const item = ranked.items[r];
        const sources: Record<string, number> = {};
        for (let s = 0; s < this.names.length; s++) {
          const c = buffers.contribution(s, item, this.weights[s]);
          if (c !== 0) sources[this.names[s]] = c;
        }
        const fromFallback = r >= ranked.fromEnsemble;
        if (fromFallback) sources[FALLBACK_NAME] = ranked.scores[r];
        const rec: Recommendation = { item: data.items.id(item), name: data.catalog.name[item], score: ranked.scores[r], sources };
        if (options.explain) {
          rec.because = this.explainItem(query, item, sources, fromFallback);
          rec.reason = rec.because[0]?.text;
        }
        results.push(rec);
      }
      return results;
    } finally {
      for (const i of blockedList) blocked[i] = 0;
    }
  }

  private itemInfo(item: number): ItemInfo {
    const c = this.dataset.catalog;
    return { id: this.dataset.items.id(item), name: c.name[item], aisle: c.aisle[item], department: c.department[item], meta: c.meta[item] };
  }

  private explainItem(query: Query, item: number, sources: Record<string, number>, fromFallback: boolean): Reason[] {
    const data = this.dataset;
    const namer = (i: number) => data.catalog.name[i] || data.items.id(i);
    const reasons: Reason[] = [];
    const add = (strategy: string, contribution: number, e: Explanation | null) => {
      if (e) reasons.push({ strategy, contribution, text: e.reason, items: e.evidence.map((x) => data.items.id(x.item)) });
    };
    for (let s = 0; s < this.names.length; s++) {
      const contribution = sources[this.names[s]];
      if (contribution) add(this.names[s], contribution, this.strategies[s].explain(query, item, namer));
    }
    if (fromFallback && this.fallback) add(FALLBACK_NAME, sources[FALLBACK_NAME] ?? 0, this.fallback.explain(query, item, namer));
    reasons.sort((a, b) => b.contribution - a.contribution);
    return reasons;
  }

  // ---------------------------------------------------------------- index-level ranking

  /** IndexRanker: the ensemble's top-k item indices for a query. */
  rankIndices(query: Query, k: number, blocked: Uint8Array | null): Int32Array {
    return this.rank(query, k, blocked, null, this.weights).items;
  }

  /**
   * An IndexRanker that uses only the strategy `name` (with the same fallback filler), to
   * compare each strategy alone against the ensemble on one fit.
   */
  rankerFor(name: string): IndexRanker {
    const idx = this.names.indexOf(name);
    if (idx < 0) throw new OptionError('name', `no strategy named "${name}"`);
    const weights = new Float64Array(this.names.length);
    weights[idx] = 1;
    return { rankIndices: (query, k, blocked) => this.rank(query, k, blocked, null, weights).items };
  }

  /** An IndexRanker with other weights (for tuning), sharing this fit. */
  rankerWithWeights(weights: Record<string, number>): IndexRanker {
    const w = resolveWeights(this.names, { ...this.strategyWeights, ...weights });
    return { rankIndices: (query, k, blocked) => this.rank(query, k, blocked, null, w).items };
  }

  /** The top k items, best first; those from `fromEnsemble` on are the fallback's filler. */
  private rank(
    query: Query,
    k: number,
    blocked: Uint8Array | null,
    accept: ((item: number) => boolean) | null,
    weights: Float64Array,
  ): { items: Int32Array; scores: Float32Array; fromEnsemble: number } {
    if (!this.buffers) throw new NotFittedError('HybridRecommender');
    const b = this.buffers;
    b.reset();
    const combined = b.combined;
    for (let s = 0; s < this.strategies.length; s++) {
      if (weights[s] === 0) continue;
      const v = b.perStrategy[s];
      this.strategies[s].score(query, v);
      const map = normalizer(v, this.normalization);
      b.maps[s] = map;
      if (!map) continue;
      const cutoff = cutoffScore(v, this.candidatesPerStrategy, b.scratch);
      b.cutoffs[s] = cutoff;
      addWeighted(v, map, weights[s], combined, cutoff);
    }
    const chosen = pickTop(combined.length, k, accept, (heap) => {
      for (let i = 0; i < combined.length; i++) {
        const item = combined.at(i);
        if (blocked !== null && blocked[item] === 1) continue;
        const s = combined.values[item];
        if (!(s > 0)) continue;
        heap.push(item, s);
      }
    });
    const n = chosen.items.length;
    if (n >= k || !this.fallback) return { ...chosen, fromEnsemble: n };

    // Fewer than k items with a positive ensemble score: fill from the fallback, ranked below them.
    // Fewer than k chosen means every unblocked item with a positive ensemble score was chosen
    // or rejected by `accept` (which would reject it again), so skipping them all skips the chosen.
    const fb = b.fallbackScores;
    this.fallback.score(query, fb);
    const extra = pickTop(fb.length, k - n, accept, (heap) => {
      for (let i = 0; i < fb.length; i++) {
        const item = fb.at(i);
        if ((blocked !== null && blocked[item] === 1) || combined.values[item] > 0) continue;
        heap.push(item, fb.values[item]);
      }
    });
    // Fallback scores sit below every ensemble score: scaled into (0, floor).
    const floor = n ? chosen.scores[n - 1] : 1;
    const top = extra.scores.length ? Math.max(extra.scores[0], 1e-12) : 1;
    const items = new Int32Array(n + extra.items.length);
    const scores = new Float32Array(items.length);
    items.set(chosen.items);
    scores.set(chosen.scores);
    items.set(extra.items, n);
    for (let i = 0; i < extra.items.length; i++) scores[n + i] = (0.5 * floor * Math.max(extra.scores[i], 0)) / top;
    return { items, scores, fromEnsemble: n };
  }

  // ---------------------------------------------------------------- artifacts

  /** The fitted recommender as one artifact (same bytes in Node and browsers). */
  save(): Uint8Array {
    const data = this.dataset;
    const w = new ArtifactWriter();
    writeDataset(data, w.scope('data'));
    const strategies: JsonObject = {};
    for (let s = 0; s < this.names.length; s++) {
      strategies[this.names[s]] = { kind: this.strategies[s].kind, state: this.strategies[s].save(w.scope(`strategies/${this.names[s]}`)) };
    }
    const fallback = this.fallback ? { kind: this.fallback.kind, state: this.fallback.save(w.scope(FALLBACK_NAME)) } : null;
    return w.toBytes({
      library: 'hybridrec',
      libraryVersion: LIBRARY_VERSION,
      kind: 'hybrid',
      order: this.names,
      weights: this.strategyWeights,
      normalization: this.normalization,
      candidatesPerStrategy: this.candidatesPerStrategy === Infinity ? null : this.candidatesPerStrategy,
      tuning: this.tuned as unknown as JsonObject | null,
      excludePurchased: this.excludePurchased,
      exclude: [...this.excludeIds],
      strategies,
      fallback,
    });
  }

  /**
   * Rebuilds a fitted recommender from save()'s bytes; scores are identical. Custom strategy
   * kinds need their loader in `loaders`. A business-rule `filter` is code, not data, so pass
   * it again here.
   */
  static async load(
    bytes: Uint8Array,
    options: { loaders?: Record<string, StrategyLoader>; filter?: (item: ItemInfo) => boolean } = {},
  ): Promise<HybridRecommender> {
    const reader = ArtifactReader.open(bytes);
    const root = reader.root as JsonObject | null;
    if (!root || root.library !== 'hybridrec' || root.kind !== 'hybrid') throw new ArtifactError('not a HybridRecommender artifact', 'manifest');
    const loaders = { ...BUILTIN_LOADERS, ...options.loaders };
    const order = root.order as string[];
    const specs = root.strategies as Record<string, { kind: string; state: JsonObject }>;
    if (!Array.isArray(order) || typeof specs !== 'object' || specs === null) throw new ArtifactError('manifest lacks the strategy list', 'manifest');
    const load = async (spec: { kind: string; state: JsonObject }, scope: string): Promise<Recommender> => {
      const loader = loaders[spec?.kind];
      if (!loader) throw new ArtifactError(`no loader for strategy kind "${spec?.kind}" (pass it in options.loaders)`, scope);
      return loader(spec.state, reader.scope(scope));
    };
    const strategies: Record<string, Recommender> = {};
    for (const name of order) strategies[name] = await load(specs[name], `strategies/${name}`);
    const fbSpec = root.fallback as { kind: string; state: JsonObject } | null;
    const rec = new HybridRecommender({
      strategies,
      weights: root.weights as Record<string, number>,
      normalization: root.normalization as Normalization,
      // Absent: an artifact from before the cut, which merged everything.
      candidatesPerStrategy: root.candidatesPerStrategy === undefined || root.candidatesPerStrategy === null ? Infinity : (root.candidatesPerStrategy as number),
      fallback: fbSpec ? await load(fbSpec, FALLBACK_NAME) : null,
      excludePurchased: root.excludePurchased as boolean,
      exclude: root.exclude as string[],
      filter: options.filter,
    });
    rec.tuned = (root.tuning ?? null) as unknown as TuneResult | null;
    rec.attach(readDataset(reader.scope('data')));
    return rec;
  }
}

function resolveWeights(names: string[], weights: Record<string, number> | undefined): Float64Array {
  const out = new Float64Array(names.length).fill(1);
  if (weights === undefined) return out;
  for (const key of Object.keys(weights)) {
    if (!names.includes(key)) throw new OptionError(`weights.${key}`, `no strategy named "${key}" (have ${names.join(', ')})`);
  }
  names.forEach((n, i) => {
    if (weights[n] === undefined) return;
    const w = weights[n];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new OptionError(`weights.${n}`, `must be a finite number >= 0, got ${w}`);
    out[i] = w;
  });
  return out;
}

/** Reusable per-query buffers (one set per recommender; scoring is synchronous). */
class ScoringBuffers {
  /** The weighted sum of the strategies' normalized scores. */
  readonly combined: ScoreVector;
  readonly blocked: Uint8Array;
  readonly perStrategy: ScoreVector[];
  readonly fallbackScores: ScoreVector;
  /** Per strategy, its normalization in the last query (null: it scored nothing). */
  readonly maps: Array<Affine | null>;
  /** Per strategy, the lowest raw score it added in the last query (see candidatesPerStrategy). */
  readonly cutoffs: Float64Array;
  /** Scores copied for the cutoff selection. */
  readonly scratch: Float32Array;

  constructor(nItems: number, nStrategies: number) {
    this.combined = new ScoreVector(nItems);
    this.blocked = new Uint8Array(nItems);
    this.perStrategy = Array.from({ length: nStrategies }, () => new ScoreVector(nItems));
    this.fallbackScores = new ScoreVector(nItems);
    this.maps = new Array<Affine | null>(nStrategies).fill(null);
    this.cutoffs = new Float64Array(nStrategies).fill(-Infinity);
    this.scratch = new Float32Array(nItems);
  }

  reset(): void {
    this.combined.reset();
    for (const v of this.perStrategy) v.reset();
    this.maps.fill(null);
    this.cutoffs.fill(-Infinity);
    this.fallbackScores.reset();
  }

  /** Weighted normalized contribution of strategy s to `item` in the last query. */
  contribution(s: number, item: number, weight: number): number {
    const v = this.perStrategy[s];
    const map = this.maps[s];
    if (weight === 0 || map === null || !v.has(item)) return 0;
    const raw = v.values[item];
    return Number.isFinite(raw) && raw >= this.cutoffs[s] ? weight * (raw * map.scale + map.shift) : 0;
  }
}

/**
 * The best k candidates (ties to the lower index) that pass `accept` (all when null), best
 * first. `collect` pushes every eligible candidate, of which there are at most `count`, into
 * the heap it is given. With a predicate, over-fetch and filter; grow the budget until k pass
 * or candidates run out.
 */
function pickTop(
  count: number,
  k: number,
  accept: ((item: number) => boolean) | null,
  collect: (heap: TopK) => void,
): { items: Int32Array; scores: Float32Array } {
  let budget = accept ? Math.max(4 * k, 16) : k;
  for (;;) {
    const heap = new TopK(Math.min(budget, count));
    collect(heap);
    const top = heap.sorted();
    if (!accept) return top;
    const items: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < top.items.length && items.length < k; i++) {
      if (accept(top.items[i])) {
        items.push(top.items[i]);
        scores.push(top.scores[i]);
      }
    }
    if (items.length >= k || heap.size < budget || budget >= count) {
      return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
    }
    budget *= 4;
  }
}
