import type { SectionReader, SectionWriter } from '../../artifact/sections';
import type { Dataset } from '../../data/dataset';
import { readF32, scopeName, StateReader, type LoadContext } from '../../artifact/validate';
import { NotFittedError } from '../../errors';
import { VectorIndexSlot, type VectorIndexed, type VectorIndexFactory } from '../../util/ann';
import { optionsToJson } from '../../util/options';
import { checkDataset, checkItem, checkQuery, checkScores } from '../checks';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, ScoreVector } from '../types';
import { itemSource, REPEAT_FEATURES, SequentialScorer, type SequentialWeights } from './model';
import { resolveSequentialOptions, SEQUENTIAL_CHECKS, SEQUENTIAL_DEFAULTS, type SequentialOptions } from './options';
import type { SequentialTrainingInfo } from './train';

export type { SequentialOptions, SequentialSampling } from './options';
export type { SequentialTrainingInfo } from './train';

const FORMAT_VERSION = 1;
/** Items of the most recent basket shown as evidence in an explanation. */
const EVIDENCE_ITEMS = 3;

interface Fitted {
  weights: SequentialWeights;
  scorer: SequentialScorer;
  info: SequentialTrainingInfo;
}

/**
 * Sequential next-basket model: a GRU over the shopper's baskets in order (each basket the
 * mean of its items' embeddings), whose state scores every item for the next basket, plus a
 * repeat head over the shopper's own past items (how often and how recently each was bought,
 * weighted by the state). Trained with tfjs on every step of every shopper's sequence (basket
 * t predicts basket t + 1) against sampled negatives, with early stopping on held-out last
 * baskets; see model.ts for the equations. Scores are logits computed in plain typed-array
 * loops, so a loaded model needs no tfjs.
 *
 * The state comes from the query alone: its basket timeline (known and unknown shoppers
 * alike), else its history as one basket, then the current cart as the latest basket. So the
 * artifact holds item-side weights only, no customer data.
 *
 * With a vector index attached (useVectorIndex), score() takes the index's indexCandidates
 * best items by the explore logit plus the shopper's past items, and scores only those.
 */
export class SequentialRecommender implements Recommender, VectorIndexed {
  readonly kind = 'sequential';
  static readonly defaults: Readonly<SequentialOptions> = SEQUENTIAL_DEFAULTS;
  readonly options: Readonly<SequentialOptions>;
  private model: Fitted | null = null;
  private slot = new VectorIndexSlot();
  private indexQuery: Float32Array;

  constructor(options: Partial<SequentialOptions> = {}) {
    this.options = resolveSequentialOptions(options);
    this.indexQuery = new Float32Array(this.options.factors + 1);
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  /** Backend, loss and validation curves, kept epoch and throughput of the fit (also restored by load), or null before fit. */
  get trainingInfo(): SequentialTrainingInfo | null {
    return this.model ? this.model.info : null;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'SequentialRecommender');
    // Training code loads on the first fit, so a page that only loads a model and recommends never downloads it.
    const { trainSequential } = await import('./train');
    const { weights, info } = await trainSequential(data, this.options, options.seed ?? 42, options.onProgress, options.signal);
    this.model = { weights, scorer: new SequentialScorer(weights), info };
    this.slot.clear();
    const factory = this.slot.attachedFactory;
    if (factory) await this.slot.attach(factory, itemSource(weights), { signal: options.signal });
  }

  async useVectorIndex(factory: VectorIndexFactory | null, options: { signal?: AbortSignal } = {}): Promise<'built' | 'restored' | 'detached'> {
    const m = this.require();
    return this.slot.attach(factory, itemSource(m.weights), options);
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.require();
    checkScores(out, m.weights.nItems, 'SequentialRecommender');
    if (!this.read(m, query)) return;
    const index = this.slot.index;
    if (index === null) {
      m.scorer.scoreAll(out.values);
      out.markDense();
      return;
    }
    const { items } = index.search(m.scorer.indexQuery(this.indexQuery), this.options.indexCandidates);
    for (let k = 0; k < items.length; k++) out.set(items[k], m.scorer.score(items[k]));
    const h = m.scorer.history;
    for (let k = 0; k < h.size; k++) {
      const i = h.touched[k];
      if (!out.has(i)) out.set(i, m.scorer.score(i));
    }
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.require();
    const w = m.weights;
    checkItem(item, w.nItems, 'SequentialRecommender.explain');
    if (!this.read(m, query)) return null;
    const s = m.scorer;
    const score = s.score(item);
    const h = s.history;
    if (h.has(item) && s.repeat(item) > 0) {
      const count = h.countOf(item);
      return {
        score,
        reason: `you bought ${name(item)} in ${count} of your last ${h.basketCount} baskets`,
        evidence: [{ item, weight: count / h.basketCount }],
      };
    }
    // Evidence: items of the latest basket whose output embeddings are closest to the item's
    // (items that tend to come up in the same next-basket contexts).
    const latest = this.latestBasket(query);
    const f = w.factors;
    const evidence: Array<{ item: number; weight: number }> = [];
    for (const j of latest) {
      if (j === item) continue;
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let k = 0; k < f; k++) {
        const a = w.itemOut[item * f + k];
        const b = w.itemOut[j * f + k];
        dot += a * b;
        na += a * a;
        nb += b * b;
      }
      const cosine = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
      if (cosine > 0) evidence.push({ item: j, weight: cosine });
    }
    evidence.sort((a, b) => b.weight - a.weight || a.item - b.item);
    evidence.length = Math.min(evidence.length, EVIDENCE_ITEMS);
    const reason =
      evidence.length > 0
        ? `shoppers whose recent baskets look like yours buy ${name(item)} next, as after ${name(evidence[0].item)}`
        : `shoppers whose recent baskets look like yours buy ${name(item)} next`;
    return { score, reason, evidence };
  }

  save(out: SectionWriter): JsonObject {
    const m = this.require();
    const w = m.weights;
    out.array('itemIn', w.itemIn);
    out.array('kernel', w.kernel);
    out.array('recurrent', w.recurrent);
    out.array('bias', w.bias);
    out.array('itemOut', w.itemOut);
    out.array('itemBias', w.itemBias);
    out.array('repeatBase', w.repeatBase);
    out.array('repeatGate', w.repeatGate);
    const index = this.slot.save(out);
    return {
      version: FORMAT_VERSION,
      options: optionsToJson(this.options),
      nItems: w.nItems,
      training: { ...m.info, loss: [...m.info.loss], validation: [...m.info.validation] },
      index,
    };
  }

  /**
   * Rebuilds a saved model: every weight array of its size (from nItems and the stored factors)
   * with finite values, the training record, and the stored vector index (null, or its kind and
   * state with section "ann"); anything else is an ArtifactError naming the section or field.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): SequentialRecommender {
    const s = StateReader.of(state, scopeName(sections)).keys(['version', 'options', 'nItems', 'training', 'index']);
    s.literal('version', FORMAT_VERSION);
    const model = new SequentialRecommender(s.options('SequentialRecommender', SEQUENTIAL_CHECKS));
    const nItems = s.count('nItems', context?.nItems);
    if (nItems < 1) s.fail('nItems', 'must be at least 1');
    const t = s.object('training').keys(['backend', 'sequences', 'validationSequences', 'loss', 'validation', 'bestEpoch', 'sequencesPerSecond', 'seconds']);
    const loss = t.numbers('loss');
    const info: SequentialTrainingInfo = {
      backend: t.string('backend'),
      sequences: t.integer('sequences', { min: 0 }),
      validationSequences: t.integer('validationSequences', { min: 0 }),
      loss,
      validation: t.numbers('validation'),
      bestEpoch: t.integer('bestEpoch', { min: 0, max: loss.length }),
      sequencesPerSecond: t.number('sequencesPerSecond', { min: 0 }),
      seconds: t.number('seconds', { min: 0 }),
    };
    const f = model.options.factors;
    const sized = (name: string, length: number): Float32Array => readF32(sections, name, { length });
    const weights: SequentialWeights = {
      nItems,
      factors: f,
      itemIn: sized('itemIn', nItems * f),
      kernel: sized('kernel', f * 3 * f),
      recurrent: sized('recurrent', f * 3 * f),
      bias: sized('bias', 3 * f),
      itemOut: sized('itemOut', nItems * f),
      itemBias: sized('itemBias', nItems),
      repeatBase: sized('repeatBase', REPEAT_FEATURES),
      repeatGate: sized('repeatGate', f * REPEAT_FEATURES),
    };
    model.model = { weights, scorer: new SequentialScorer(weights), info };
    model.slot = VectorIndexSlot.read(s, sections);
    return model;
  }

  private require(): Fitted {
    if (!this.model) throw new NotFittedError('SequentialRecommender');
    return this.model;
  }

  /** Reads the query into the scorer: timeline, else history as one basket, then the cart. */
  private read(m: Fitted, query: Query): boolean {
    checkQuery(query, m.weights.nItems, 'SequentialRecommender');
    const extras: ArrayLike<number>[] = [];
    if (query.timeline === null && query.history.items.length > 0) extras.push(query.history.items);
    if (query.basket.length > 0) extras.push(query.basket);
    return m.scorer.read(query.timeline, extras, this.options.maxBaskets);
  }

  /** The basket the state read last: the cart, else the timeline's last non-empty basket, else the history. */
  private latestBasket(query: Query): Int32Array {
    if (query.basket.length > 0) return query.basket;
    const t = query.timeline;
    if (t !== null) {
      for (let b = t.itemPtr.length - 2; b >= 0; b--) if (t.itemPtr[b + 1] > t.itemPtr[b]) return t.items.subarray(t.itemPtr[b], t.itemPtr[b + 1]);
    }
    return query.history.items;
  }
}
