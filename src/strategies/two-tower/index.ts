import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { checkLength, checkValues, readCsr, readF32, scopeName, StateReader, type CsrArrays, type LoadContext } from '../../artifact/validate';
import type { Catalog, Dataset } from '../../data/dataset';
import { NotFittedError, OptionError } from '../../errors';
import { VectorIndexSlot, type VectorIndexed, type VectorIndexFactory, type VectorSource } from '../../util/ann';
import { describe, optionsToJson } from '../../util/options';
import { Pace } from '../../util/pace';
import { TopK } from '../../util/topk';
import { checkDataset, checkItem, checkQuery, checkScores } from '../checks';
// The TF-IDF encoder is a util-level module (it imports no strategy), shared with ContentBased.
import { isBlank } from '../content/encoder';
import { TfidfEncoder } from '../content/tfidf';
import { queryPurchases } from '../history';
import { ScoreVector as ScoreVectorClass, type Explanation, type FitOptions, type ItemNamer, type JsonObject, type Query, type Recommender, type SaveOptions, type ScoreVector } from '../types';
import { TwoTowerScorer, type TwoTowerWeights } from './model';
import { parseTemplate, renderTemplate, type TemplatePart } from '../../data/template';
import { resolveTwoTowerOptions, TWO_TOWER_CHECKS, TWO_TOWER_DEFAULTS, type TwoTowerOptions } from './options';
import type { TwoTowerTrainingInfo } from './train';

export type { TwoTowerOptions, TwoTowerScoring, TwoTowerTaskWeights } from './options';
export type { TwoTowerTrainingInfo } from './train';

const FORMAT_VERSION = 1;
/** History items and text terms shown in an explanation. */
const EVIDENCE = 3;
/** Item texts built per pacing check in fit. */
const TEXT_CHUNK = 4096;

interface Fitted {
  weights: TwoTowerWeights;
  scorer: TwoTowerScorer;
  encoder: TfidfEncoder | null;
  info: TwoTowerTrainingInfo;
}

/**
 * Two-tower retrieval model with a text tower, trained multi-task (TensorFlow Recommenders'
 * retrieval + ranking). User tower: user id embedding + mean-pooled history item embeddings.
 * Item tower: item id embedding + a dense projection of the item's TF-IDF text features (built
 * from data.catalog with `template`), so an item nobody bought still gets a vector from its
 * text. Trained with tfjs (batch loss and gradients) on every purchase: in-batch softmax for
 * retrieval, BCE of a small ranking head on positives vs sampled negatives, their sum weighted
 * by `taskWeights`; id dropout on both towers teaches the text and history paths to stand
 * alone. Scores are computed from the artifact in typed-array loops (no tfjs).
 *
 * Unknown users (and every user of a serving artifact) fold in through the pooled-history part
 * of the user tower: the mean history embedding of their history and basket.
 */
export class TwoTower implements Recommender, VectorIndexed {
  static readonly defaults: Readonly<TwoTowerOptions> = TWO_TOWER_DEFAULTS;

  readonly kind = 'twotower';
  readonly options: Readonly<TwoTowerOptions>;
  private readonly templateParts: TemplatePart[];
  private model: Fitted | null = null;
  private slot = new VectorIndexSlot();
  private scratch: ScoreVector | null = null;

  constructor(options: Partial<TwoTowerOptions> = {}) {
    this.options = resolveTwoTowerOptions(options);
    this.templateParts = parseTemplate(this.options.template, 'TwoTower.template');
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  /** Backend, loss and validation curves, kept epoch and throughput of the fit (also restored by load), or null before fit. */
  get trainingInfo(): TwoTowerTrainingInfo | null {
    return this.model ? this.model.info : null;
  }

  /** The text the template makes for an item of a catalog. */
  itemText(catalog: Catalog, item: number): string {
    return renderTemplate(this.templateParts, catalog, item);
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'TwoTower');
    const seed = options.seed ?? 42;
    const pace = new Pace(options.signal, 'TwoTower.fit');
    const texts = new Array<string>(data.nItems);
    let anyText = false;
    for (let i = 0; i < data.nItems; i++) {
      if (i % TEXT_CHUNK === 0 && pace.due()) await pace.pause();
      texts[i] = this.itemText(data.catalog, i);
      if (!anyText && !isBlank(texts[i])) anyText = true;
    }
    // No text at all (an interactions-only dataset): the item tower is its id embedding alone.
    let encoder: TfidfEncoder | null = null;
    let text: CsrArrays = { indptr: new Int32Array(data.nItems + 1), indices: new Int32Array(0), values: new Float32Array(0) };
    let nTerms = 0;
    if (anyText) {
      encoder = new TfidfEncoder();
      const vectors = await encoder.fit(texts, { signal: options.signal });
      const m = vectors.matrix;
      text = { indptr: m.indptr, indices: m.indices, values: m.values };
      nTerms = m.nCols;
    }
    // Training code loads on the first fit, so a page that only loads a model and recommends never downloads it.
    const { trainTwoTower } = await import('./train');
    const { weights, info } = await trainTwoTower(data, text, nTerms, this.options, seed, options.onProgress, options.signal);
    this.model = { weights, scorer: new TwoTowerScorer(weights, this.options.scoring), encoder, info };
    this.slot.clear();
    const factory = this.slot.attachedFactory;
    if (factory) await this.slot.attach(factory, this.source(this.model), { signal: options.signal });
  }

  /**
   * Retrieval through a vector index over the item-tower vectors (inner product): score() then
   * scores only the index's `indexCandidates` best items by u . v plus the query's own items.
   * null detaches it (every item scored). A later fit() rebuilds with the same factory.
   */
  async useVectorIndex(factory: VectorIndexFactory | null, options: { signal?: AbortSignal } = {}): Promise<'built' | 'restored' | 'detached'> {
    return this.slot.attach(factory, this.source(this.require()), options);
  }

  private source(m: Fitted): VectorSource {
    return { vectors: m.scorer.vectors, dim: m.weights.factors, metric: 'ip' };
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.require();
    checkScores(out, m.weights.nItems, 'TwoTower');
    if (this.userVector(m, query) !== null) this.fill(m, out);
  }

  /**
   * Scores the current user (see userVector) into `out`. 'retrieval': u . v of every item (or
   * of the vector index's candidates). 'ranking' / 'sum': two stages, as TFRS serves a
   * retrieval and a ranking model: the rankCandidates best items by u . v (among the index's
   * candidates when one is attached), then the ranking head (plus u . v for 'sum') on those only.
   */
  private fill(m: Fitted, out: ScoreVector): void {
    const s = m.scorer;
    const o = this.options;
    const index = this.slot.index;
    const found = index === null ? null : index.search(s.user, o.indexCandidates);
    if (o.scoring === 'retrieval') {
      if (found === null) {
        for (let i = 0; i < m.weights.nItems; i++) out.values[i] = s.retrieval(i);
        out.markDense();
      } else {
        for (let k = 0; k < found.items.length; k++) out.set(found.items[k], s.retrieval(found.items[k]));
      }
      return;
    }
    const heap = new TopK(o.rankCandidates);
    if (found === null) for (let i = 0; i < m.weights.nItems; i++) heap.push(i, s.retrieval(i));
    else for (let k = 0; k < found.items.length; k++) heap.push(found.items[k], s.retrieval(found.items[k]));
    const best = heap.sorted();
    for (let k = 0; k < best.items.length; k++) out.set(best.items[k], s.score(best.items[k]));
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.require();
    checkItem(item, m.weights.nItems, 'TwoTower.explain');
    const items = this.userVector(m, query);
    if (items === null) return null;
    // Only what score() touched has a score to explain (two stages: the ranking candidates).
    if (this.scratch === null || this.scratch.size !== m.weights.nItems) this.scratch = new ScoreVectorClass(m.weights.nItems);
    this.scratch.reset();
    this.fill(m, this.scratch);
    if (!this.scratch.has(item)) return null;
    const s = m.scorer;
    const score = this.scratch.values[item];
    const evidence = new TopK(EVIDENCE);
    for (let k = 0; k < items.length; k++) if (items[k] !== item) evidence.push(items[k], s.historyContribution(items[k], item, items.length));
    const best = evidence.sorted();
    const kept: Array<{ item: number; weight: number }> = [];
    for (let k = 0; k < best.items.length; k++) if (best.scores[k] > 0) kept.push({ item: best.items[k], weight: best.scores[k] });
    const terms = this.topTerms(m, item);
    let reason = kept.length > 0 ? `shoppers who buy ${name(kept[0].item)} like you also buy ${name(item)}` : `shoppers with tastes like yours buy ${name(item)}`;
    if (terms.length > 0) reason += `; its description (${terms.map((t) => `"${t.term}"`).join(', ')}) matches what you buy`;
    return { score, reason, evidence: kept };
  }

  /**
   * The text terms of `item` that raise its retrieval score for the query most (x_it times the
   * projected term's dot product with the user vector), strongest first, positive ones only.
   */
  explainTerms(query: Query, item: number, k = EVIDENCE): Array<{ term: string; weight: number }> {
    const m = this.require();
    checkItem(item, m.weights.nItems, 'TwoTower.explainTerms');
    if (this.userVector(m, query) === null) return [];
    return this.topTerms(m, item, k);
  }

  private topTerms(m: Fitted, item: number, k = EVIDENCE): Array<{ term: string; weight: number }> {
    if (m.encoder === null) return [];
    const vocab = m.encoder.vocabulary;
    return m.scorer
      .termContributions(item)
      .filter((c) => c.weight > 0)
      .sort((a, b) => b.weight - a.weight || a.term - b.term)
      .slice(0, k)
      .map((c) => ({ term: vocab[c.term], weight: c.weight }));
  }

  /**
   * The k items whose item-tower vectors are most similar to `item` (cosine, best first, ties
   * by lower index), without the item itself; only positive similarities qualify. A never-sold
   * item has a vector from its text, so it has similar items too.
   */
  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const m = this.require();
    checkItem(item, m.weights.nItems, 'TwoTower.similarItems');
    if (!Number.isInteger(k) || k < 0) throw new OptionError('TwoTower.similarItems: k', `must be a non-negative integer, got ${describe(k)}`);
    const heap = new TopK(k);
    for (let j = 0; j < m.weights.nItems; j++) {
      if (j === item) continue;
      const c = m.scorer.cosine(item, j);
      if (c > 0) heap.push(j, c);
    }
    return heap.sorted();
  }

  /** Item i's item-tower vector (a copy). */
  itemVector(item: number): Float32Array {
    const m = this.require();
    checkItem(item, m.weights.nItems, 'TwoTower.itemVector');
    const f = m.weights.factors;
    return m.scorer.vectors.slice(item * f, (item + 1) * f);
  }

  save(out: SectionWriter, options: SaveOptions = {}): JsonObject {
    const m = this.require();
    const w = m.weights;
    const withUsers = (options.customerData ?? true) && w.userId !== null;
    if (withUsers) {
      out.array('userId', w.userId!);
      out.array('userHasData', w.userHasData!);
    }
    out.array('itemId', w.itemId);
    out.array('history', w.history);
    out.array('textW', w.textW);
    out.array('text/indptr', w.text.indptr);
    out.array('text/indices', w.text.indices);
    out.array('text/values', w.text.values);
    out.array('rankKernel', w.rankKernel);
    out.array('rankBias', w.rankBias);
    out.array('rankOut', w.rankOut);
    out.array('rankOutBias', w.rankOutBias);
    const encoder = m.encoder ? m.encoder.save(out.scope('encoder')) : null;
    const index = this.slot.save(out);
    return {
      version: FORMAT_VERSION,
      options: optionsToJson(this.options),
      nUsers: w.nUsers,
      nItems: w.nItems,
      nTerms: w.nTerms,
      userEmbeddings: withUsers,
      encoder,
      training: { ...m.info, loss: [...m.info.loss], validation: [...m.info.validation] },
      index,
    };
  }

  /**
   * Rebuilds a saved model: every weight array of its size (from the counts and the stored
   * factors/hidden) with finite values, the text features as a CSR of nItems x nTerms with
   * values in (0, 1], the user embeddings and 0/1 flags when the state says they were saved,
   * the TF-IDF encoder (its vocabulary is the text features' columns) or null with no text,
   * the training record and the stored vector index; anything else is an ArtifactError naming
   * the section or field.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): TwoTower {
    const s = StateReader.of(state, scopeName(sections)).keys(['version', 'options', 'nUsers', 'nItems', 'nTerms', 'userEmbeddings', 'encoder', 'training', 'index']);
    s.literal('version', FORMAT_VERSION);
    const stored = s.options('TwoTower', TWO_TOWER_CHECKS);
    // Both task weights are named in a stored model (a missing one is not a default).
    s.object('options').object('taskWeights').keys(['retrieval', 'ranking']);
    let model: TwoTower;
    try {
      model = new TwoTower(stored);
    } catch (e) {
      if (e instanceof OptionError) s.fail('options', `bad option in artifact: ${e.message}`);
      throw e;
    }
    const o = model.options;
    const withUsers = s.boolean('userEmbeddings');
    const nUsers = s.count('nUsers', withUsers ? context?.nUsers : undefined);
    const nItems = s.count('nItems', context?.nItems);
    if (nItems < 1) s.fail('nItems', 'must be at least 1');
    const nTerms = s.count('nTerms');
    let encoder: TfidfEncoder | null = null;
    if (s.raw('encoder') !== null) {
      encoder = TfidfEncoder.load(s.object('encoder'), sections.scope('encoder'));
      if (encoder.vocabulary.length !== nTerms) s.fail('nTerms', `is ${nTerms}, but the encoder has ${encoder.vocabulary.length} terms`);
    } else if (nTerms !== 0) s.fail('nTerms', `is ${nTerms} with no encoder (expected 0)`);
    const t = s.object('training').keys(['backend', 'positives', 'validationPositives', 'loss', 'validation', 'bestEpoch', 'examplesPerSecond', 'seconds']);
    const loss = t.numbers('loss');
    const info: TwoTowerTrainingInfo = {
      backend: t.string('backend'),
      positives: t.integer('positives', { min: 0 }),
      validationPositives: t.integer('validationPositives', { min: 0 }),
      loss,
      validation: t.numbers('validation'),
      bestEpoch: t.integer('bestEpoch', { min: 0, max: loss.length }),
      examplesPerSecond: t.number('examplesPerSecond', { min: 0 }),
      seconds: t.number('seconds', { min: 0 }),
    };
    const f = o.factors;
    const H = o.hidden;
    const sized = (name: string, length: number): Float32Array => readF32(sections, name, { length });
    let userHasData: Uint8Array | null = null;
    if (withUsers) {
      userHasData = sections.u8('userHasData');
      const full = sections.fullName('userHasData');
      checkLength(userHasData, nUsers, full, 'one flag per user');
      checkValues(userHasData, full, { max: 1 });
    }
    const text = readCsr(sections, 'text/', { nRows: nItems, nCols: nTerms }, { values: { min: 0, exclusiveMin: true, max: 1 + 1e-5 } });
    const weights: TwoTowerWeights = {
      nUsers,
      nItems,
      nTerms,
      factors: f,
      hidden: H,
      temperature: o.temperature,
      userId: withUsers ? sized('userId', nUsers * f) : null,
      userHasData,
      itemId: sized('itemId', nItems * f),
      history: sized('history', nItems * f),
      textW: sized('textW', nTerms * f),
      text,
      rankKernel: sized('rankKernel', f * H),
      rankBias: sized('rankBias', H),
      rankOut: sized('rankOut', H),
      rankOutBias: sized('rankOutBias', 1),
    };
    model.model = { weights, scorer: new TwoTowerScorer(weights, o.scoring), encoder, info };
    model.slot = VectorIndexSlot.read(s, sections);
    return model;
  }

  private require(): Fitted {
    if (!this.model) throw new NotFittedError('TwoTower');
    return this.model;
  }

  /**
   * Sets the scorer's user vector for the query: a known user's id embedding (when kept) plus
   * the pooled history embedding of their history and basket; unknown users the pooled part
   * alone. Returns the query's items (ascending, purchases only), or null when there is
   * nothing to go on.
   */
  private userVector(m: Fitted, query: Query): Int32Array | null {
    const w = m.weights;
    checkQuery(query, w.nItems, 'TwoTower');
    if (query.user >= w.nUsers && w.userId !== null) throw new OptionError('TwoTower: query.user', `user index ${query.user} out of range [-1, ${w.nUsers})`);
    const { items } = queryPurchases(query);
    return m.scorer.setUser(w.userId !== null ? query.user : -1, items) ? items : null;
  }
}
