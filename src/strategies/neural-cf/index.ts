import type { SectionReader, SectionWriter } from '../../artifact/sections';
import type { Dataset } from '../../data/dataset';
import { checkLength, checkNonDecreasing, checkValues, readF32, readF64, scopeName, StateReader, type LoadContext } from '../../artifact/validate';
import { NotFittedError, OptionError } from '../../errors';
import { VectorIndexSlot, withOwnItems, type VectorIndexed, type VectorIndexFactory, type VectorSource } from '../../util/ann';
import { InnerProductIndex, type BatchTopK, type Exclusions } from '../../util/dense';
import { optionsToJson, resolveOptions } from '../../util/options';
import { deriveSeed } from '../../util/random';
import { TopK } from '../../util/topk';
import { checkDataset, checkItem, checkQuery, checkScores } from '../checks';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, SaveOptions, ScoreVector } from '../types';
import { NcfScorer, type FoldInSettings, type NcfWeights } from './model';
import { NCF_CHECKS, NCF_DEFAULTS, type NeuralCFOptions } from './options';
import { NegativeSampler } from './sampling';

export type { NcfArchitecture, NcfBackend, NcfLoss, NcfSampling, NcfValidationMetric, NcfWeighting, NeuralCFOptions } from './options';

/** How the last fit went. */
export interface NcfTrainingInfo {
  /** tfjs backend that trained the model. */
  backend: string;
  /** Training loss per epoch run. */
  loss: number[];
  /** Validation metric per epoch (empty when early stopping was off). */
  validation: number[];
  /** 1-based epoch whose weights the model kept (the last one run without early stopping). */
  bestEpoch: number;
}

/** History items shown as evidence in an explanation. */
const EVIDENCE_ITEMS = 3;
const FORMAT_VERSION = 1;

interface FittedNcf {
  weights: NcfWeights;
  userHasData: Uint8Array;
  info: NcfTrainingInfo;
  scorer: NcfScorer;
  /** save() writes its seed and its sampler's popularity table (null for uniform sampling). */
  foldIn: FoldInSettings;
  /** GMF's items as inner-product rows [itemGmf, itemBias] (nItems x (factors + 1)), built on first use. */
  gmfRows: Float32Array | null;
  /** GMF's inner-product index for batch top-k, built on first use. */
  gmfIndex: InnerProductIndex | null;
}

/** The rows of `exclude` (one per user of `users`) of the users that `keep` keeps, as a CSR of their own. */
function exclusionsOf(exclude: Exclusions, users: Int32Array, keep: (user: number) => boolean): Exclusions {
  const indptr = [0];
  const indices: number[] = [];
  for (let q = 0; q < users.length; q++) {
    if (!keep(users[q])) continue;
    for (let e = exclude.indptr[q]; e < exclude.indptr[q + 1]; e++) indices.push(exclude.indices[e]);
    indptr.push(indices.length);
  }
  return { indptr: Int32Array.from(indptr), indices: Int32Array.from(indices) };
}

/**
 * Neural collaborative filtering (He et al. 2017): user and item embeddings scored by GMF
 * (weighted elementwise product) plus item and global biases, optionally with a NeuMF MLP
 * tower, trained with tfjs on implicit purchases (the entries of data.interactions with a
 * weight > 0) against sampled negatives (BCE) or BPR. Scores are logits, computed from the
 * learned weights in plain typed-array loops, so a loaded model needs no tfjs. Unknown users
 * are folded in from their history and basket.
 *
 * With a vector index attached (useVectorIndex, GMF only), score() takes the index's
 * indexCandidates best items by the GMF logit plus the query's own items, and scores only those.
 */
export class NeuralCF implements Recommender, VectorIndexed {
  static readonly defaults: Readonly<NeuralCFOptions> = NCF_DEFAULTS;

  readonly kind = 'ncf';
  readonly options: Readonly<NeuralCFOptions>;
  private model: FittedNcf | null = null;
  private userGmf: Float32Array;
  private userMlp: Float32Array;
  /** The index query [gmfOut * userGmf, 1] of the query in this.userGmf. */
  private readonly gmfQuery: Float32Array;
  private slot = new VectorIndexSlot();

  constructor(options: Partial<NeuralCFOptions> = {}) {
    this.options = resolveOptions('NeuralCF', NeuralCF.defaults, options, NCF_CHECKS);
    this.userGmf = new Float32Array(this.options.factors);
    this.userMlp = new Float32Array(this.options.architecture === 'neumf' ? this.options.factors : 0);
    this.gmfQuery = new Float32Array(this.options.factors + 1);
  }

  /**
   * Whether useVectorIndex can attach an index: GMF only. GMF's logit is an inner product,
   * [gmfOut * userGmf, 1] . [itemGmf, itemBias] (+ the global bias, the same for every item),
   * so an index over the rows [itemGmf, itemBias] orders items as score() does. NeuMF adds an
   * MLP of [userMlp; itemMlp], which is no inner product: candidates by the GMF part alone are
   * not NeuMF's top, so such a model says false here (the ensemble then leaves it scanning)
   * rather than accepting an index that would silently change its recommendations.
   */
  get vectorIndexable(): boolean {
    return this.options.architecture === 'gmf';
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  /** Backend, loss curve and kept epoch of the fit (also restored by load), or null before fit. */
  get trainingInfo(): NcfTrainingInfo | null {
    return this.model ? this.model.info : null;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'NeuralCF');
    const seed = options.seed ?? 42;
    // Training code loads on the first fit, so a page that only loads a model and recommends never downloads it.
    const { trainNcf } = await import('./train');
    const r = await trainNcf(data, this.options, seed, options.onProgress, options.signal);
    this.model = this.assemble(r.weights, r.userHasData, r.samplingCdf, deriveSeed(seed, 'ncf:fold-in'), r.info);
    this.slot.clear();
    const factory = this.slot.attachedFactory;
    if (factory) await this.slot.attach(factory, this.source(), { signal: options.signal });
  }

  /**
   * Retrieval through a vector index over GMF's item rows [itemGmf, itemBias] (inner product,
   * see vectorIndexable): score() then scores only the index's `indexCandidates` best items plus
   * the query's own items, each with its exact logit. null detaches it (every item scored). A
   * later fit() rebuilds with the same factory; recommendUsers() always scans exactly. For
   * NeuMF a factory is an OptionError.
   */
  async useVectorIndex(factory: VectorIndexFactory | null, options: { signal?: AbortSignal } = {}): Promise<'built' | 'restored' | 'detached'> {
    if (!this.vectorIndexable) {
      if (factory !== null) {
        throw new OptionError('NeuralCF.useVectorIndex', `architecture '${this.options.architecture}' scores through an MLP, which no vector index can order by; only 'gmf' takes one`);
      }
      return 'detached';
    }
    return this.slot.attach(factory, this.source(), options);
  }

  private source(): VectorSource {
    const m = this.require();
    return { vectors: this.gmfRows(m), dim: m.weights.factors + 1, metric: 'ip' };
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.require();
    checkScores(out, m.weights.nItems, 'NeuralCF');
    if (!this.userVectors(m, query)) return;
    const index = this.slot.index;
    if (index !== null) {
      const candidates = this.indexCandidates(m, query, index.search(this.gmfIndexQuery(m), this.options.indexCandidates).items);
      const scores = new Float32Array(candidates.length);
      m.scorer.scoreItems(this.userGmf, this.userMlp, candidates, scores);
      for (let k = 0; k < candidates.length; k++) out.set(candidates[k], scores[k]);
      return;
    }
    m.scorer.scoreAll(this.userGmf, this.userMlp, out.values);
    out.markDense();
  }

  /** The index query [gmfOut * userGmf, 1] for the user vector in this.userGmf. */
  private gmfIndexQuery(m: FittedNcf): Float32Array {
    const { gmfOut, factors: f } = m.weights;
    for (let d = 0; d < f; d++) this.gmfQuery[d] = gmfOut[d] * this.userGmf[d];
    this.gmfQuery[f] = 1;
    return this.gmfQuery;
  }

  /** The index's candidates `found`, then the query's own items not among them. */
  private indexCandidates(m: FittedNcf, query: Query, found: Int32Array): Int32Array {
    return withOwnItems(found, this.queryItems(m, query).items);
  }

  /**
   * Top-k for many known users at once, each excluding its own row of `exclude` (e.g. its
   * train items); a user without training purchases gets an empty list, as score() gives
   * them no scores. GMF's logit is an inner product, [gmfOut * userGmf, 1] . [itemGmf,
   * itemBias] plus the global bias, so GMF runs through the blocked dense top-k of
   * src/util/dense.ts; NeuMF's MLP tower is not, and it scores every item per user.
   */
  recommendUsers(users: Int32Array, k: number, exclude: Exclusions | null = null): BatchTopK {
    const m = this.require();
    const w = m.weights;
    if (w.userGmf.length === 0) throw new OptionError('NeuralCF.recommendUsers', 'the model was loaded without customer data: score histories with score()');
    if (!Number.isInteger(k) || k < 0) throw new OptionError('NeuralCF.recommendUsers: k', `must be an integer >= 0, got ${k}`);
    if (exclude !== null && exclude.indptr.length !== users.length + 1) throw new OptionError('NeuralCF.recommendUsers: exclude', `has ${exclude.indptr.length - 1} rows for ${users.length} users`);
    const f = w.factors;
    for (const u of users) if (!Number.isInteger(u) || u < 0 || u >= w.nUsers) throw new OptionError('users', `user index ${u} out of range [0, ${w.nUsers})`);
    const known = users.filter((u) => m.userHasData[u] === 1);
    const knownExclude = exclude === null ? null : exclusionsOf(exclude, users, (u) => m.userHasData[u] === 1);
    let best: BatchTopK;
    if (w.architecture === 'gmf') {
      const dim = f + 1;
      const queries = new Float32Array(known.length * dim);
      for (let q = 0; q < known.length; q++) {
        const o = known[q] * f;
        for (let d = 0; d < f; d++) queries[q * dim + d] = w.gmfOut[d] * w.userGmf[o + d];
        queries[q * dim + f] = 1;
      }
      best = this.gmfIndex(m).topKBatch(queries, k, knownExclude);
      for (let p = 0; p < best.scores.length; p++) best.scores[p] += w.globalBias[0];
    } else best = this.scoreEach(m, known, k, knownExclude);
    // Back in the order of `users`, with empty rows for the users without data.
    const out: BatchTopK = { k, items: new Int32Array(users.length * k), scores: new Float32Array(users.length * k), counts: new Int32Array(users.length) };
    for (let q = 0, r = 0; q < users.length; q++) {
      if (m.userHasData[users[q]] !== 1) continue;
      out.items.set(best.items.subarray(r * k, (r + 1) * k), q * k);
      out.scores.set(best.scores.subarray(r * k, (r + 1) * k), q * k);
      out.counts[q] = best.counts[r++];
    }
    return out;
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.require();
    checkItem(item, m.weights.nItems, 'NeuralCF.explain');
    if (!this.userVectors(m, query)) return null;
    const score = m.scorer.scoreOne(this.userGmf, this.userMlp, item);
    const { items } = this.queryItems(m, query);
    const evidence: Array<{ item: number; weight: number }> = [];
    for (let k = 0; k < items.length; k++) {
      const h = items[k];
      if (h === item) continue;
      const similarity = m.scorer.itemCosine(item, h);
      if (similarity > 0) evidence.push({ item: h, weight: similarity });
    }
    evidence.sort((a, b) => b.weight - a.weight || a.item - b.item);
    evidence.length = Math.min(evidence.length, EVIDENCE_ITEMS);
    const reason =
      evidence.length > 0
        ? `people with tastes like yours buy ${name(item)}, similar in taste to ${name(evidence[0].item)}`
        : `people with tastes like yours buy ${name(item)}`;
    return { score, reason, evidence };
  }

  /**
   * With `{ customerData: false }` (a serving artifact) the user embeddings and their flags are
   * left out; only the mean user vectors are kept, the start and prior of the fold-in that
   * scores every shopper then, so a request's history scores as with the full model.
   */
  save(out: SectionWriter, options: SaveOptions = {}): JsonObject {
    const m = this.require();
    const w = m.weights;
    const withUsers = options.customerData ?? true;
    if (withUsers) {
      out.array('userGmf', w.userGmf);
      out.array('userHasData', m.userHasData);
    } else out.array('meanUserGmf', m.scorer.meanUserGmf);
    out.array('itemGmf', w.itemGmf);
    out.array('itemBias', w.itemBias);
    out.array('gmfOut', w.gmfOut);
    out.array('globalBias', w.globalBias);
    const samplingCdf = m.foldIn.sampler.cdf;
    if (samplingCdf) out.array('samplingCdf', samplingCdf);
    if (w.architecture === 'neumf') {
      if (withUsers) out.array('userMlp', w.userMlp);
      else out.array('meanUserMlp', m.scorer.meanUserMlp);
      out.array('itemMlp', w.itemMlp);
      w.mlpKernels.forEach((k, l) => out.array(`mlpKernel${l}`, k));
      w.mlpBiases.forEach((b, l) => out.array(`mlpBias${l}`, b));
      out.array('mlpOut', w.mlpOut);
    }
    return {
      version: FORMAT_VERSION,
      options: optionsToJson(this.options),
      nUsers: withUsers ? w.nUsers : 0,
      nItems: w.nItems,
      userEmbeddings: withUsers,
      foldSeed: m.foldIn.seed,
      training: { ...m.info },
      index: this.slot.save(out),
    };
  }

  /**
   * Rebuilds a saved model. Every weight array must have its size (from the stored options and
   * counts) and finite values, userHasData 0/1 flags, the sampling table finite, positive and
   * never decreasing; anything else is an ArtifactError naming the section or state field.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): NeuralCF {
    // userEmbeddings false: a serving artifact's model (mean user vectors instead of one per user).
    const s = StateReader.of(state, scopeName(sections)).keys(['version', 'options', 'nUsers', 'nItems', 'userEmbeddings', 'foldSeed', 'training'], ['index']);
    s.literal('version', FORMAT_VERSION);
    // indexCandidates came after NeuralCF's first artifacts: one without it loads with the default.
    const model = new NeuralCF(s.options('NeuralCF', NCF_CHECKS, 'options', { indexCandidates: NCF_DEFAULTS.indexCandidates }));
    const o = model.options;
    const withUsers = s.boolean('userEmbeddings');
    const nUsers = withUsers ? s.count('nUsers', context?.nUsers) : s.count('nUsers', 0);
    const nItems = s.count('nItems', context?.nItems);
    const foldSeed = s.integer('foldSeed', { min: -(2 ** 31), max: 2 ** 31 - 1 });
    const t = s.object('training').keys(['backend', 'loss', 'validation', 'bestEpoch']);
    const loss = t.numbers('loss');
    const info: NcfTrainingInfo = { backend: t.string('backend'), loss, validation: t.numbers('validation'), bestEpoch: t.integer('bestEpoch', { min: 0, max: loss.length }) };
    const f = o.factors;
    const weightsOf = (name: string, length: number): Float32Array => readF32(sections, name, { length });
    const neumf = o.architecture === 'neumf';
    const mlpKernels: Float32Array[] = [];
    const mlpBiases: Float32Array[] = [];
    let mlpOut: Float32Array = new Float32Array(0);
    if (neumf) {
      let inSize = 2 * f;
      o.mlpLayers.forEach((size, l) => {
        mlpKernels.push(weightsOf(`mlpKernel${l}`, inSize * size));
        mlpBiases.push(weightsOf(`mlpBias${l}`, size));
        inSize = size;
      });
      mlpOut = weightsOf('mlpOut', inSize);
    }
    const weights: NcfWeights = {
      architecture: o.architecture,
      nUsers,
      nItems,
      factors: f,
      mlpLayers: neumf ? [...o.mlpLayers] : [],
      userGmf: withUsers ? weightsOf('userGmf', nUsers * f) : new Float32Array(0),
      itemGmf: weightsOf('itemGmf', nItems * f),
      itemBias: weightsOf('itemBias', nItems),
      gmfOut: weightsOf('gmfOut', f),
      globalBias: weightsOf('globalBias', 1),
      userMlp: neumf && withUsers ? weightsOf('userMlp', nUsers * f) : new Float32Array(0),
      itemMlp: neumf ? weightsOf('itemMlp', nItems * f) : new Float32Array(0),
      mlpKernels,
      mlpBiases,
      mlpOut,
    };
    let userHasData: Uint8Array = new Uint8Array(0);
    let means: { gmf: Float32Array; mlp: Float32Array } | null = null;
    if (withUsers) {
      userHasData = sections.u8('userHasData');
      checkLength(userHasData, nUsers, sections.fullName('userHasData'), 'one flag per user');
      checkValues(userHasData, sections.fullName('userHasData'), { max: 1 });
    } else means = { gmf: weightsOf('meanUserGmf', f), mlp: neumf ? weightsOf('meanUserMlp', f) : new Float32Array(0) };
    let samplingCdf: Float64Array | null = null;
    if (o.sampling === 'popularity') {
      samplingCdf = readF64(sections, 'samplingCdf', { length: nItems, min: 0, exclusiveMin: true });
      checkNonDecreasing(samplingCdf, sections.fullName('samplingCdf'));
    }
    model.model = model.assemble(weights, userHasData, samplingCdf, foldSeed, info, means);
    model.slot = VectorIndexSlot.read(s, sections);
    return model;
  }

  private assemble(
    weights: NcfWeights,
    userHasData: Uint8Array,
    samplingCdf: Float64Array | null,
    foldSeed: number,
    info: NcfTrainingInfo,
    means: { gmf: Float32Array; mlp: Float32Array } | null = null,
  ): FittedNcf {
    const o = this.options;
    return {
      weights,
      userHasData,
      info,
      scorer: new NcfScorer(weights, userHasData, means),
      foldIn: {
        loss: o.loss,
        negatives: o.negatives,
        steps: o.foldInSteps,
        l2: o.foldInL2,
        seed: foldSeed,
        sampler: new NegativeSampler(weights.nItems, samplingCdf),
      },
      gmfRows: null,
      gmfIndex: null,
    };
  }

  /** GMF's items as inner-product rows [itemGmf, itemBias], built on first use. */
  private gmfRows(m: FittedNcf): Float32Array {
    if (!m.gmfRows) {
      const { nItems, factors: f, itemGmf, itemBias } = m.weights;
      const rows = new Float32Array(nItems * (f + 1));
      for (let i = 0; i < nItems; i++) {
        rows.set(itemGmf.subarray(i * f, (i + 1) * f), i * (f + 1));
        rows[i * (f + 1) + f] = itemBias[i];
      }
      m.gmfRows = rows;
    }
    return m.gmfRows;
  }

  /** GMF's inner-product index over gmfRows for batch top-k, built on first use. */
  private gmfIndex(m: FittedNcf): InnerProductIndex {
    m.gmfIndex ??= new InnerProductIndex(this.gmfRows(m), m.weights.factors + 1);
    return m.gmfIndex;
  }

  /** NeuMF's batch: every item's logit per user, then the top k not excluded. */
  private scoreEach(m: FittedNcf, users: Int32Array, k: number, exclude: Exclusions | null): BatchTopK {
    const w = m.weights;
    const f = w.factors;
    const out: BatchTopK = { k, items: new Int32Array(users.length * k), scores: new Float32Array(users.length * k), counts: new Int32Array(users.length) };
    const scores = new Float32Array(w.nItems);
    const heap = new TopK(k);
    for (let q = 0; q < users.length; q++) {
      const u = users[q];
      m.scorer.scoreAll(w.userGmf.subarray(u * f, (u + 1) * f), w.userMlp.subarray(u * f, (u + 1) * f), scores);
      if (exclude !== null) for (let e = exclude.indptr[q]; e < exclude.indptr[q + 1]; e++) scores[exclude.indices[e]] = -Infinity;
      heap.clear();
      for (let i = 0; i < w.nItems; i++) if (scores[i] !== -Infinity) heap.push(i, scores[i]);
      const best = heap.sorted();
      out.items.set(best.items, q * k);
      out.scores.set(best.scores, q * k);
      out.counts[q] = best.items.length;
    }
    return out;
  }

  private require(): FittedNcf {
    if (!this.model) throw new NotFittedError('NeuralCF');
    return this.model;
  }

  /**
   * Puts the query's user vectors in this.userGmf / this.userMlp: a known user's embeddings,
   * else a fold-in of their history and basket. False when there is nothing to go on.
   */
  private userVectors(m: FittedNcf, query: Query): boolean {
    const { weights: w } = m;
    const f = w.factors;
    checkQuery(query, w.nItems, 'NeuralCF');
    if (query.user >= w.nUsers) throw new OptionError('NeuralCF: query.user', `user index ${query.user} out of range [-1, ${w.nUsers})`);
    if (query.user >= 0 && m.userHasData[query.user]) {
      const u = query.user;
      this.userGmf.set(w.userGmf.subarray(u * f, (u + 1) * f));
      if (w.architecture === 'neumf') this.userMlp.set(w.userMlp.subarray(u * f, (u + 1) * f));
      return true;
    }
    const { items, weights } = this.queryItems(m, query);
    if (items.length === 0) return false;
    m.scorer.foldIn(items, weights, m.foldIn, this.userGmf, this.userMlp);
    return true;
  }

  /**
   * History and basket items, merged (a basket line counts as one more purchase), weighted
   * like training positives; entries with a weight <= 0 are not purchases.
   */
  private queryItems(_m: FittedNcf, query: Query): { items: Int32Array; weights: Float32Array } {
    const { history, basket } = query;
    const all = new Int32Array(history.items.length + basket.length);
    const counts = new Float32Array(all.length);
    for (let k = 0; k < history.items.length; k++) {
      all[k] = history.items[k];
      counts[k] = history.weights[k];
    }
    for (let k = 0; k < basket.length; k++) {
      all[history.items.length + k] = basket[k];
      counts[history.items.length + k] = 1;
    }
    const order = Array.from(all.keys()).sort((a, b) => all[a] - all[b]);
    const items: number[] = [];
    const weights: number[] = [];
    for (const k of order) {
      if (!(counts[k] > 0)) continue;
      if (items.length > 0 && items[items.length - 1] === all[k]) weights[weights.length - 1] += counts[k];
      else {
        items.push(all[k]);
        weights.push(counts[k]);
      }
    }
    const log1p = this.options.weighting === 'log1p';
    return { items: Int32Array.from(items), weights: Float32Array.from(weights, (c) => (log1p ? Math.log1p(c) : 1)) };
  }
}
