import type { SectionReader, SectionWriter } from '../../artifact/sections';
import type { Dataset } from '../../data/dataset';
import { readF32, scopeName, StateReader, type LoadContext } from '../../artifact/validate';
import { NotFittedError, OptionError, throwIfAborted } from '../../errors';
import { VectorIndexSlot, withOwnItems, type VectorIndexed, type VectorIndexFactory, type VectorSource } from '../../util/ann';
import { dot, InnerProductIndex, scoreAll, type BatchTopK, type Exclusions } from '../../util/dense';
import { boolean, describe, integer, number, oneOf, optionsToJson, resolveOptions, type OptionChecks } from '../../util/options';
import { deriveSeed, mulberry32 } from '../../util/random';
import { cholesky, choleskySolve } from '../../util/spd';
import { TopK } from '../../util/topk';
import { INTERACTION_WEIGHTINGS, InteractionWeights, type InteractionWeighting } from '../../util/weighting';
import { checkDataset, checkItem, checkQuery, checkScores } from '../checks';
import { queryPurchases } from '../history';
import { joinNames } from '../reasons';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, SaveOptions, ScoreVector } from '../types';
import { confidenceMatrices } from './confidence';
import { alternate, foldInSystem, gramPlusRidge } from './solve';

export interface ALSOptions {
  /**
   * Latent factors per user and item. Default 64: on the validation splits carved from P1 and
   * P2 training data (`npx tsx benchmarks/tune-latent.ts P1 als`, `... P2 als`), 32 and 128
   * both scored below 64 at the first grid's setting, and 64 is the size of implicit's
   * published comparisons.
   */
  factors: number;
  /**
   * L2 penalty on every factor (the ridge of each least-squares half-step, not scaled by the
   * row's purchases, as in implicit). Default 20: with alpha 2 and log1p weights the best on
   * the P1 validation split (NDCG@10 0.1731) and 5% under the best on P2's (0.1674 vs 0.1761
   * at 35 with alpha 1, which scored 0.1541 on P1); grids in benchmarks/results/tune-P*-als*.json.
   */
  regularization: number;
  /**
   * Confidence slope: a purchase with weight w has confidence 1 + alpha * w against 1 for
   * every unbought item (Hu et al.'s c = 1 + alpha r). Default 2, chosen with the
   * regularization above (grid {0, 0.25, 1, 2, 4}). implicit's own convention is c = alpha * w
   * (its alpha multiplies the whole weight, with no base 1).
   */
  alpha: number;
  /**
   * What a purchase count becomes before confidence: 'binary', 'count', 'log1p', or 'bm25'
   * (implicit's `bm25_weight`, items as documents). Default 'log1p': on P2's play counts it
   * beat bm25 at every regularization tried (best 0.1724 vs 0.1494), and on P1 (every count
   * 1) it is binary with a smaller slope.
   */
  weighting: InteractionWeighting;
  /** BM25 saturation k1 (default 100, implicit's `bm25_weight` default); only with 'bm25'. */
  bm25K1: number;
  /** BM25 length normalization b in [0, 1] (default 0.8, implicit's default); only with 'bm25'. */
  bm25B: number;
  /** Alternations of the user and item half-steps (default 15, implicit's default). */
  iterations: number;
  /** Conjugate-gradient steps per row and half-step (default 3, implicit's `cg_steps`). */
  cgSteps: number;
  /**
   * Score known users from the factors learned in the fit (default true). False folds every
   * query in from its history, known users included (the serving-artifact behavior).
   */
  useUserFactors: boolean;
  /**
   * Candidates score() and rankIndices() take from an attached vector index (useVectorIndex,
   * docs/ann.md), on top of the query's own items. Default 1000: the ensemble's per-strategy
   * candidate cut (SequentialRecommender's and TwoTower's default too).
   */
  indexCandidates: number;
}

const DEFAULTS: Readonly<ALSOptions> = Object.freeze({
  factors: 64,
  regularization: 20,
  alpha: 2,
  weighting: 'log1p',
  bm25K1: 100,
  bm25B: 0.8,
  iterations: 15,
  cgSteps: 3,
  useUserFactors: true,
  indexCandidates: 1000,
});

/** Options ALS gained after its first artifacts: an artifact without them loads with these (how it was written). */
const ADDED_LATER: Partial<ALSOptions> = { indexCandidates: DEFAULTS.indexCandidates };

const CHECKS: OptionChecks<ALSOptions> = {
  factors: integer({ min: 1, max: 1024 }),
  regularization: number({ min: 0 }),
  alpha: number({ min: 0 }),
  weighting: oneOf(INTERACTION_WEIGHTINGS),
  bm25K1: number({ min: 0 }),
  bm25B: number({ min: 0, max: 1 }),
  iterations: integer({ min: 0 }),
  cgSteps: integer({ min: 1 }),
  useUserFactors: boolean(),
  indexCandidates: integer({ min: 1 }),
};

const FORMAT_VERSION = 1;
/** History items shown as evidence in an explanation. */
const EVIDENCE_ITEMS = 3;

interface FittedAls {
  nUsers: number;
  nItems: number;
  itemFactors: Float32Array;
  /** nUsers x f, or null when the artifact was saved without customer data. */
  userFactors: Float32Array | null;
  weights: InteractionWeights;
}

/**
 * Implicit-feedback matrix factorization (Hu, Koren & Volinsky 2008), fitted by alternating
 * least squares with implicit's conjugate-gradient half-steps: user and item factors whose
 * inner product predicts "bought", each purchase weighted by its confidence 1 + alpha * w.
 *
 * A query is scored from the known user's fitted factors, or — for an unknown shopper, a
 * query that brings a current basket, or a model loaded without customer data — from a user
 * factor solved against the fixed item factors from the query's history and basket (implicit's
 * `recalculate_user`: the exact least-squares solve), so a new shopper's first orders count
 * without a refit. A history therefore gets the same scores from a full artifact and from a
 * serving artifact (`save(out, { customerData: false })`).
 */
export class ALS implements Recommender, VectorIndexed {
  static readonly defaults: Readonly<ALSOptions> = DEFAULTS;
  readonly kind = 'als';
  readonly options: Readonly<ALSOptions>;
  private model: FittedAls | null = null;
  private gram: Float64Array | null = null;
  private index: InnerProductIndex | null = null;
  private slot = new VectorIndexSlot();
  private unitItems: Float32Array | null = null;
  private readonly user: Float32Array;
  private solver: 'simd' | 'js' | null = null;

  constructor(options: Partial<ALSOptions> = {}) {
    this.options = resolveOptions('ALS', DEFAULTS, options, CHECKS);
    this.user = new Float32Array(this.options.factors);
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  /**
   * Which solver the last fit ran: 'simd' (float32 WebAssembly SIMD kernels) or 'js' (the
   * typed-array fallback where WebAssembly SIMD is missing); null after load.
   */
  get fitSolver(): 'simd' | 'js' | null {
    return this.solver;
  }

  /** Item factors, row-major nItems x factors. */
  get itemFactors(): Float32Array {
    return this.require().itemFactors;
  }

  /** User factors, row-major nUsers x factors, or null when loaded from a serving artifact. */
  get userFactors(): Float32Array | null {
    return this.require().userFactors;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'ALS');
    throwIfAborted(options.signal, 'ALS.fit');
    const o = this.options;
    const f = o.factors;
    const seed = options.seed ?? 42;
    const weights = InteractionWeights.fit(data.interactions, o.weighting, { k1: o.bm25K1, b: o.bm25B });
    const { byUser, byItem } = await confidenceMatrices(data.interactions, weights, o.alpha, { threads: options.threads, signal: options.signal, stage: 'ALS.fit' });
    const nnz = byUser.indptr[data.nUsers];
    const users = randomFactors(data.nUsers, f, deriveSeed(seed, 'als:users'));
    const items = randomFactors(data.nItems, f, deriveSeed(seed, 'als:items'));
    const started = performance.now();
    options.onProgress?.({ stage: 'ALS', done: 0, total: o.iterations, message: `${data.nUsers} users x ${data.nItems} items, ${nnz} purchases, ${f} factors` });
    this.solver = await alternate(byUser, byItem, users, items, {
      f,
      regularization: o.regularization,
      cgSteps: o.cgSteps,
      iterations: o.iterations,
      threads: options.threads,
      signal: options.signal,
      stage: 'ALS.fit',
      onIteration: (it) => {
        const seconds = (performance.now() - started) / 1000;
        options.onProgress?.({ stage: 'ALS', done: it, total: o.iterations, message: `iteration ${it}/${o.iterations} (${seconds.toFixed(1)} s)` });
      },
    });
    this.attach({ nUsers: data.nUsers, nItems: data.nItems, itemFactors: items, userFactors: users, weights });
    this.slot.clear();
    const factory = this.slot.attachedFactory;
    if (factory) await this.slot.attach(factory, this.source(), { signal: options.signal });
  }

  /**
   * Retrieval through a vector index over the item factors (inner product): score() and
   * rankIndices() then score only the index's `indexCandidates` best items plus the query's own
   * items, each with its exact u . y. null detaches it (every item scored). A later fit()
   * rebuilds with the same factory; recommendUsers() always scans exactly.
   */
  async useVectorIndex(factory: VectorIndexFactory | null, options: { signal?: AbortSignal } = {}): Promise<'built' | 'restored' | 'detached'> {
    return this.slot.attach(factory, this.source(), options);
  }

  private source(): VectorSource {
    return { vectors: this.require().itemFactors, dim: this.options.factors, metric: 'ip' };
  }

  /** The index's candidates for the user vector in this.user, then the query's own items (each once), or null without an index. */
  private indexCandidates(query: Query, k: number): Int32Array | null {
    const index = this.slot.index;
    if (index === null) return null;
    return withOwnItems(index.search(this.user, Math.max(k, this.options.indexCandidates)).items, queryPurchases(query).items);
  }

  /** this.user . y_item in doubles (the full scan's SIMD kernel accumulates in float32: the two agree to float rounding). */
  private candidateScore(item: number): number {
    const f = this.options.factors;
    return Math.fround(dot(this.user, 0, this.require().itemFactors, item * f, f));
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.require();
    checkScores(out, m.nItems, 'ALS');
    if (!this.userVector(m, query, this.user)) return;
    const candidates = this.indexCandidates(query, 0);
    if (candidates !== null) {
      for (let k = 0; k < candidates.length; k++) out.set(candidates[k], this.candidateScore(candidates[k]));
      return;
    }
    this.itemIndex().scoreAll(this.user, out.values);
    out.markDense();
  }

  /**
   * The k best items for `query` (exact, by inner product, via the norm-pruned index),
   * skipping blocked[item] === 1: an IndexRanker without a dense score pass.
   */
  rankIndices(query: Query, k: number, blocked: Uint8Array | null): Int32Array {
    const m = this.require();
    if (!Number.isInteger(k) || k < 0) throw new OptionError('ALS.rankIndices: k', `must be a non-negative integer, got ${describe(k)}`);
    if (blocked !== null && !(blocked instanceof Uint8Array && blocked.length === m.nItems)) {
      throw new OptionError('ALS.rankIndices: blocked', `must be null or a Uint8Array of ${m.nItems} flags, got ${describe(blocked)}`);
    }
    if (!this.userVector(m, query, this.user)) return new Int32Array(0);
    const candidates = this.indexCandidates(query, k);
    if (candidates !== null) {
      const heap = new TopK(k);
      for (let c = 0; c < candidates.length; c++) if (blocked === null || blocked[candidates[c]] !== 1) heap.push(candidates[c], this.candidateScore(candidates[c]));
      return heap.sorted().items;
    }
    return this.itemIndex().topK(this.user, k, blocked).items;
  }

  /**
   * Top-k for many known users at once (blocked dense scoring, see src/util/dense.ts), each
   * excluding its own row of `exclude` (e.g. its train items). Needs the fitted user factors.
   */
  recommendUsers(users: Int32Array, k: number, exclude: Exclusions | null = null): BatchTopK {
    const m = this.require();
    if (!m.userFactors) throw new OptionError('ALS.recommendUsers', 'the model was loaded without customer data: score histories with score() or rankIndices()');
    const f = this.options.factors;
    const queries = new Float32Array(users.length * f);
    for (let q = 0; q < users.length; q++) {
      const u = users[q];
      if (!Number.isInteger(u) || u < 0 || u >= m.nUsers) throw new OptionError('users', `user index ${u} out of range [0, ${m.nUsers})`);
      queries.set(m.userFactors.subarray(u * f, (u + 1) * f), q * f);
    }
    return this.itemIndex().topKBatch(queries, k, exclude);
  }

  /**
   * Why `item` scores for `query`, as implicit explains ALS: with A the query's fold-in
   * matrix (Y^T C_u Y + reg I), the score decomposes over the history as
   * sum_j (1 + alpha w_j) y_j^T A^-1 y_item; the evidence is the largest terms.
   */
  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.require();
    checkQuery(query, m.nItems, 'ALS');
    checkItem(item, m.nItems, 'ALS.explain');
    const f = this.options.factors;
    const { items, conf } = this.purchases(m, query);
    if (items.length === 0) return null;
    const b = new Float64Array(f);
    const l = cholesky(foldInSystem(this.gramMatrix(), m.itemFactors, f, items, conf, b), f, 'ALS fold-in system');
    const v = Float64Array.from(m.itemFactors.subarray(item * f, (item + 1) * f));
    choleskySolve(l, f, v);
    let score = 0;
    const evidence: Array<{ item: number; weight: number }> = [];
    for (let k = 0; k < items.length; k++) {
      const yo = items[k] * f;
      let s = 0;
      for (let d = 0; d < f; d++) s += m.itemFactors[yo + d] * v[d];
      const contribution = (1 + conf[k]) * s;
      score += contribution;
      if (contribution > 0 && items[k] !== item) evidence.push({ item: items[k], weight: contribution });
    }
    evidence.sort((a, c) => c.weight - a.weight || a.item - c.item);
    evidence.length = Math.min(evidence.length, EVIDENCE_ITEMS);
    const reason =
      evidence.length > 0
        ? `shoppers who buy ${joinNames(evidence.map((e) => name(e.item)))} also buy ${name(item)}`
        : `shoppers with tastes like yours buy ${name(item)}`;
    return { score: Math.fround(score), reason, evidence };
  }

  /** The k items whose factors are closest in cosine to `item`'s, most similar first; never `item` itself. */
  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const m = this.require();
    checkItem(item, m.nItems, 'ALS.similarItems');
    if (!Number.isInteger(k) || k < 0) throw new OptionError('ALS.similarItems: k', `must be a non-negative integer, got ${describe(k)}`);
    const unit = this.unitItemFactors();
    const f = this.options.factors;
    const scores = new Float32Array(m.nItems);
    scoreAll(unit.subarray(item * f, (item + 1) * f), unit, f, scores);
    const heap = new TopK(k);
    for (let j = 0; j < m.nItems; j++) if (j !== item && scores[j] > 0) heap.push(j, scores[j]);
    return heap.sorted();
  }

  save(out: SectionWriter, options: SaveOptions = {}): JsonObject {
    const m = this.require();
    const customerData = options.customerData ?? true;
    out.array('itemFactors', m.itemFactors);
    if (m.weights.lengthNorm) out.array('lengthNorm', m.weights.lengthNorm);
    const withUsers = customerData && m.userFactors !== null;
    if (withUsers) out.array('userFactors', m.userFactors!);
    const index = this.slot.save(out);
    return { version: FORMAT_VERSION, nUsers: m.nUsers, nItems: m.nItems, userFactors: withUsers, options: optionsToJson(this.options), index };
  }

  /**
   * Rebuilds a saved model: finite item factors (nItems x factors), the user factors when the
   * state says they were saved (nUsers x factors, nUsers that of the dataset), bm25's length
   * norms (finite, >= 0, one per item), the stored vector index (kept unread until
   * useVectorIndex); anything else is an ArtifactError.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): ALS {
    const s = StateReader.of(state, scopeName(sections)).keys(['version', 'nUsers', 'nItems', 'userFactors', 'options'], ['index']);
    s.literal('version', FORMAT_VERSION);
    const options = s.options('ALS', CHECKS, 'options', ADDED_LATER);
    const withUsers = s.boolean('userFactors');
    const nUsers = s.count('nUsers', withUsers ? context?.nUsers : undefined);
    const nItems = s.count('nItems', context?.nItems);
    const model = new ALS(options);
    const f = options.factors;
    const itemFactors = readF32(sections, 'itemFactors', { length: nItems * f });
    const userFactors = withUsers ? readF32(sections, 'userFactors', { length: nUsers * f }) : null;
    const lengthNorm = options.weighting === 'bm25' ? readF32(sections, 'lengthNorm', { length: nItems, min: 0 }) : null;
    const weights = InteractionWeights.restore(options.weighting, options.bm25K1, lengthNorm, nItems);
    model.attach({ nUsers, nItems, itemFactors, userFactors, weights });
    model.slot = VectorIndexSlot.read(s, sections);
    return model;
  }

  private attach(m: FittedAls): void {
    this.model = m;
    this.gram = null;
    this.index = null;
    this.unitItems = null;
  }

  private require(): FittedAls {
    if (!this.model) throw new NotFittedError('ALS');
    return this.model;
  }

  /**
   * Writes the query's user factor into `out`: the fitted one for a known user with an empty
   * basket (when kept), else the fold-in of history + basket. False when there is nothing to
   * go on (no purchases).
   */
  private userVector(m: FittedAls, query: Query, out: Float32Array): boolean {
    const f = this.options.factors;
    checkQuery(query, m.nItems, 'ALS');
    if (query.user >= m.nUsers) throw new OptionError('ALS: query.user', `user index ${query.user} out of range [-1, ${m.nUsers})`);
    if (query.user >= 0 && query.basket.length === 0 && m.userFactors !== null && this.options.useUserFactors) {
      out.set(m.userFactors.subarray(query.user * f, (query.user + 1) * f));
      return true;
    }
    const { items, conf } = this.purchases(m, query);
    if (items.length === 0) return false;
    const b = new Float64Array(f);
    const l = cholesky(foldInSystem(this.gramMatrix(), m.itemFactors, f, items, conf, b), f, 'ALS fold-in system');
    choleskySolve(l, f, b);
    for (let d = 0; d < f; d++) out[d] = b[d];
    return true;
  }

  /** The (checked) query's purchases with their confidences c = alpha * weight (weight > 0 only). */
  private purchases(m: FittedAls, query: Query): { items: Int32Array; conf: Float64Array } {
    const { items, counts } = queryPurchases(query);
    const conf = new Float64Array(items.length);
    let kept = 0;
    for (let k = 0; k < items.length; k++) {
      const w = m.weights.weight(counts[k], items[k], items.length);
      if (!(w > 0)) continue;
      items[kept] = items[k];
      conf[kept++] = this.options.alpha * w;
    }
    return { items: items.subarray(0, kept), conf: conf.subarray(0, kept) };
  }

  private gramMatrix(): Float64Array {
    if (!this.gram) this.gram = gramPlusRidge(this.require().itemFactors, this.options.factors, this.options.regularization);
    return this.gram;
  }

  private itemIndex(): InnerProductIndex {
    if (!this.index) this.index = new InnerProductIndex(this.require().itemFactors, this.options.factors);
    return this.index;
  }

  private unitItemFactors(): Float32Array {
    if (!this.unitItems) {
      const f = this.options.factors;
      const y = this.require().itemFactors;
      const unit = new Float32Array(y.length);
      for (let i = 0; i < y.length / f; i++) {
        let s = 0;
        for (let d = 0; d < f; d++) s += y[i * f + d] * y[i * f + d];
        const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
        for (let d = 0; d < f; d++) unit[i * f + d] = y[i * f + d] * inv;
      }
      this.unitItems = unit;
    }
    return this.unitItems;
  }
}

/** rows x f uniform [0, 0.01) draws, implicit's initialization scale. */
function randomFactors(rows: number, f: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(rows * f);
  for (let p = 0; p < out.length; p++) out[p] = rng() * 0.01;
  return out;
}
