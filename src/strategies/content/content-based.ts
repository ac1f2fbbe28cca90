import type { SectionReader, SectionWriter } from '../../artifact/sections';
import type { Catalog, Dataset } from '../../data/dataset';
import { parseTemplate, renderTemplate, type TemplatePart } from '../../data/template';
import { scopeName, StateReader, type LoadContext } from '../../artifact/validate';
import { DataError, EmptyDataError, NotFittedError, OptionError } from '../../errors';
import { VectorIndexSlot, type VectorIndexed, type VectorIndexFactory } from '../../util/ann';
import { custom, integer, nullable, number, optionsToJson, resolveOptions, string, type OptionChecks } from '../../util/options';
import { AscendingSet } from '../../util/ascending-set';
import { Pace } from '../../util/pace';
import { TopK } from '../../util/topk';
import { checkDataset, checkItem, checkQuery, checkScores } from '../checks';
import { BasketDecay } from '../decay';
import { QuerySnapshot } from '../query';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, ScoreVector } from '../types';
import { DenseContentIndex } from './dense-index';
import type { ItemVectors } from './encoder';
import { MiniLMEncoder } from './minilm';
import { SparseContentIndex } from './sparse-index';
import { TfidfEncoder } from './tfidf';
import type { ContentIndex, Profile } from './vectors';

/** Builds an item's text from the catalog: a function, or a string with {name}, {aisle}, {department} and {meta.KEY} placeholders. */
export type ItemTemplate = string | ((catalog: Catalog, item: number) => string);

export type ContentEncoder = TfidfEncoder | MiniLMEncoder;

export interface ContentBasedOptions {
  /** Turns item texts into vectors. Default: a new TfidfEncoder() per model (no download, same vectors everywhere). */
  encoder: ContentEncoder;
  /** The text of an item. Default '{name} {aisle} {department}': every catalog field Instacart has. */
  template: ItemTemplate;
  /**
   * Half-life of a purchase's weight in the profile, in baskets before the shopper's most
   * recent one (a purchase 10 baskets back weighs half), so recent tastes lead; Infinity weighs
   * every purchase alike. Without a basket timeline (a history of ids) purchase counts are the
   * weights. Same meaning as RepeatPurchase's. Default 10, set by hand; not tuned.
   */
  halfLifeBaskets: number;
  /**
   * Half-life in days before the most recent basket, multiplied with the basket decay; baskets
   * with an unknown day get no day decay. Same meaning as RepeatPurchase's. Default Infinity
   * (off): many datasets have no days.
   */
  halfLifeDays: number;
  /**
   * TF-IDF only: a profile term found in more than this share of items (a department word
   * like "dairy") does not make items candidates by itself; it still counts in the score of
   * items that share a rarer term with the profile. Without it every query touched nearly
   * the whole catalog (department words are in thousands of names): 2.6 ms p50 per query at
   * 50k items. Terms in at most 100 items always make candidates; 1 turns the cut off.
   * Default 0.02, chosen for speed at 50k items.
   */
  candidateMaxDf: number;
  /**
   * TF-IDF only: candidates come from the profile's distinctive terms strongest first, and
   * stop once this many items are candidates (a term's items are taken whole). Items sharing
   * only weak terms with the profile score low anyway; the cap bounds a long history's query
   * cost. Infinity turns it off. Default 500, chosen for speed. Measured at 30k users x 50k
   * items: p50 per query 3.9 ms uncapped (21k candidates), 0.52 ms at 2000, 0.19 ms at 500
   * (780 candidates: a term's items are taken whole); NDCG@10 on P4-small 0.2259 / 0.2259 /
   * 0.2262, on P3 0.0036 / 0.0035 / 0.0031.
   */
  maxCandidates: number;
  /**
   * Dense vectors only: candidates score() takes from an attached vector index
   * (useVectorIndex, docs/ann.md), on top of the query's own items. Default 1000: the
   * ensemble's per-strategy candidate cut (ALS's and NeuralCF's default too).
   */
  indexCandidates: number;
}

export const DEFAULT_TEMPLATE = '{name} {aisle} {department}';

/** The options an artifact stores: all but the encoder (saved on its own), a template function as null. */
type StoredOptions = Omit<ContentBasedOptions, 'encoder' | 'template'> & { template: string | null };

/** A template string with known placeholders only. */
function templateString(value: unknown, name: string): string {
  parseTemplate(string()(value, name), name);
  return value as string;
}

const STORED_CHECKS: OptionChecks<StoredOptions> = {
  template: nullable(templateString),
  halfLifeBaskets: number({ min: 0, exclusiveMin: true, infinity: true }),
  halfLifeDays: number({ min: 0, exclusiveMin: true, infinity: true }),
  candidateMaxDf: number({ min: 0, max: 1, exclusiveMin: true }),
  maxCandidates: integer({ min: 1, infinity: true }),
  indexCandidates: integer({ min: 1 }),
};

const CHECKS: OptionChecks<ContentBasedOptions> = {
  ...STORED_CHECKS,
  // undefined is the default: a fresh encoder per model, never one shared through the defaults.
  encoder: (value, name) =>
    value === undefined ? new TfidfEncoder() : custom<ContentEncoder>((v) => v instanceof TfidfEncoder || v instanceof MiniLMEncoder, 'a TfidfEncoder or a MiniLMEncoder')(value, name),
  template: (value, name) =>
    typeof value === 'string' ? templateString(value, name) : custom<ItemTemplate>((v) => typeof v === 'function', 'a string or a function (catalog, item) => string')(value, name),
};

/** History items shown as evidence of an explanation. */
const EVIDENCE = 3;
/** Item texts built per pacing check in fit. */
const TEXT_CHUNK = 4096;


/**
 * Content-based recommendations: every catalog item (bought or not, so new items can be
 * recommended from day one) is encoded from its text; a user's profile is the recency-weighted
 * mean of the vectors of what they bought and what is in their basket; an item scores its
 * cosine similarity to the profile. The item vectors are stored in the artifact, so scoring
 * needs neither the encoder's model nor transformers.js.
 *
 * TF-IDF vectors are scored through an inverted index (term -> items, sparse-index.ts), so
 * only items sharing a term with the profile get a score; dense (MiniLM) vectors score every
 * item (dense-index.ts), or with a vector index attached (useVectorIndex) the index's
 * indexCandidates best items for the profile plus the query's own items.
 */
export class ContentBased implements Recommender, VectorIndexed {
  static readonly defaults: Readonly<ContentBasedOptions> = Object.freeze({
    encoder: undefined as unknown as ContentEncoder,
    template: DEFAULT_TEMPLATE,
    halfLifeBaskets: 10,
    halfLifeDays: Infinity,
    candidateMaxDf: 0.02,
    maxCandidates: 500,
    indexCandidates: 1000,
  });

  readonly kind = 'content';
  readonly options: Readonly<ContentBasedOptions>;
  private readonly templateParts: TemplatePart[] | null;
  private index: ContentIndex | null = null;
  private slot = new VectorIndexSlot();
  // Per-item scratch of profile building, kept zeroed between uses.
  private itemWeight = new Float64Array(0);
  private itemSet = new AscendingSet(0);
  /** explain()'s profile positions that may have a positive similarity to the explained item, and those similarities (grown, never shrunk). */
  private positions = new Int32Array(0);
  private similarities = new Float64Array(0);
  /** explain()'s heap of the strongest evidence, reused (cleared per call): one made per explained item was a thirtieth of an explained recommendation's garbage. */
  private readonly evidence = new TopK(EVIDENCE);
  /** The last profile built (null also when nothing had a vector), and a copy of the query it came from (see profile()). */
  private lastProfile: Profile | null = null;
  private readonly profiled = new QuerySnapshot();
  private readonly decay: BasketDecay;

  constructor(options: Partial<ContentBasedOptions> = {}) {
    this.options = resolveOptions('ContentBased', ContentBased.defaults, options, CHECKS);
    this.decay = new BasketDecay(this.options.halfLifeBaskets, this.options.halfLifeDays);
    const template = this.options.template;
    this.templateParts = typeof template === 'string' ? parseTemplate(template, 'ContentBased.template') : null;
  }

  get fitted(): boolean {
    return this.index !== null;
  }

  get encoder(): ContentEncoder {
    return this.options.encoder;
  }

  /**
   * Whether useVectorIndex can attach an index: with dense vectors (MiniLMEncoder) only, whose
   * profile is one unit vector scored against every item. TF-IDF vectors are sparse and scored
   * through the inverted index (only items sharing a distinctive term with the profile), which
   * already avoids the catalog scan; such a model says false (the ensemble leaves it as is).
   */
  get vectorIndexable(): boolean {
    return this.options.encoder instanceof MiniLMEncoder;
  }

  /**
   * Retrieval through a vector index over the dense item vectors (inner product of unit rows:
   * the cosine score() gives): score() then scores only the index's `indexCandidates` best
   * items plus the query's own items. null detaches it (every item scored). A later fit()
   * rebuilds with the same factory. With TF-IDF a factory is an OptionError.
   */
  async useVectorIndex(factory: VectorIndexFactory | null, options: { signal?: AbortSignal } = {}): Promise<'built' | 'restored' | 'detached'> {
    if (!this.vectorIndexable) {
      if (factory !== null) throw new OptionError('ContentBased.useVectorIndex', 'TF-IDF vectors are sparse and scored through their inverted index; only a dense encoder (MiniLMEncoder) takes a vector index');
      return 'detached';
    }
    return this.slot.attach(factory, this.denseIndex().indexSource, options);
  }

  private denseIndex(): DenseContentIndex {
    return this.requireIndex() as DenseContentIndex;
  }

  /** The unit vector of every item (zero rows for items with no text). */
  get itemVectors(): ItemVectors {
    const index = this.requireIndex();
    return index instanceof SparseContentIndex ? { format: 'sparse', matrix: index.matrix } : (index as DenseContentIndex).vectors;
  }

  /** The text the template makes for an item of a catalog. */
  itemText(catalog: Catalog, item: number): string {
    const parts = this.templateParts;
    if (parts === null) {
      const text = (this.options.template as (c: Catalog, i: number) => string)(catalog, item);
      if (typeof text !== 'string') throw new DataError(`template returned ${typeof text} for item ${item}, expected a string`);
      return text;
    }
    return renderTemplate(parts, catalog, item);
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    // Content needs only the catalog: items nobody bought yet are encoded too.
    checkDataset(data, 'ContentBased', false);
    if (data.nItems === 0) throw new EmptyDataError('ContentBased.fit: the catalog has no items');
    const pace = new Pace(options.signal, 'ContentBased.fit');
    const texts = new Array<string>(data.nItems);
    for (let i = 0; i < data.nItems; i++) {
      if (i % TEXT_CHUNK === 0 && pace.due()) await pace.pause();
      texts[i] = this.itemText(data.catalog, i);
    }
    const vectors = await this.options.encoder.fit(texts, { signal: options.signal, onProgress: options.onProgress });
    this.install(vectors.format === 'sparse' ? new SparseContentIndex(vectors.matrix) : new DenseContentIndex(vectors));
    this.slot.clear();
    const factory = this.slot.attachedFactory;
    if (factory) await this.slot.attach(factory, this.denseIndex().indexSource, { signal: options.signal });
  }

  private install(index: ContentIndex): void {
    this.index = index;
    this.lastProfile = null;
    this.profiled.clear();
    this.itemWeight = new Float64Array(index.nItems);
    this.itemSet = new AscendingSet(index.nItems);
  }

  private requireIndex(): ContentIndex {
    if (!this.index) throw new NotFittedError('ContentBased');
    return this.index;
  }

  score(query: Query, out: ScoreVector): void {
    const index = this.requireIndex();
    checkScores(out, index.nItems, 'ContentBased');
    const profile = this.profile(index, query);
    if (profile === null) return;
    const vectorIndex = this.slot.index;
    if (vectorIndex !== null) this.denseIndex().scoreCandidates(profile, vectorIndex, this.options.indexCandidates, out);
    else index.score(profile, out, this.options);
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const index = this.requireIndex();
    checkItem(item, index.nItems, 'ContentBased.explain');
    const profile = this.profile(index, query);
    if (profile === null) return null;
    const score = index.profileScore(profile, item);
    if (!(score > 0)) return null;
    const evidence = this.evidence;
    evidence.clear();
    const { items } = profile;
    if (this.similarities.length < items.length) {
      this.positions = new Int32Array(items.length);
      this.similarities = new Float64Array(items.length);
    }
    const { positions, similarities } = this;
    const n = index.profileSimilarities(profile, item, positions, similarities);
    // Only positive similarities are kept as evidence, so the others are not offered. Each is
    // offered as the float32 the heap keeps: the kept three are then the best by that value,
    // ties to the lower item, whatever the order (a float64 compared with the kept float32s
    // could push out an equal-looking lower item).
    for (let i = 0; i < n; i++) {
      const k = positions[i];
      if (similarities[i] > 0 && items[k] !== item) evidence.push(items[k], Math.fround(similarities[i]));
    }
    const best = evidence.sorted();
    const kept: Array<{ item: number; weight: number }> = [];
    for (let k = 0; k < best.items.length; k++) if (best.scores[k] > 0) kept.push({ item: best.items[k], weight: best.scores[k] });
    if (kept.length === 0) return { score, reason: `you bought ${name(item)} before`, evidence: [{ item, weight: 1 }] };
    const where = query.basket.includes(kept[0].item) ? 'in your basket' : 'you bought';
    return { score, reason: `similar to ${name(kept[0].item)} ${where}`, evidence: kept };
  }

  /** Cosine similarity of two items' vectors. */
  similarity(a: number, b: number): number {
    const index = this.requireIndex();
    checkItem(a, index.nItems, 'ContentBased.similarity', 'a');
    checkItem(b, index.nItems, 'ContentBased.similarity', 'b');
    return index.similarity(a, b);
  }

  /**
   * The k items whose text is most similar to `item` (cosine, best first, ties by lower index),
   * without the item itself. Only items with a positive similarity qualify, which with TF-IDF
   * means sharing a term.
   */
  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const index = this.requireIndex();
    checkItem(item, index.nItems, 'ContentBased.similarItems');
    if (!Number.isInteger(k) || k < 0) throw new OptionError('ContentBased.similarItems: k', `must be a non-negative integer, got ${k}`);
    return index.similarItems(item, k);
  }

  /**
   * The unit profile of a query: purchase weights (recency-decayed over the basket timeline
   * when there is one, else purchase counts) plus 1 per basket item, times item vectors.
   * Null when nothing in it has a vector.
   */
  private profile(index: ContentIndex, query: Query): Profile | null {
    checkQuery(query, index.nItems, 'ContentBased');
    // The ensemble explains up to k items of the query it just scored: the same query gives
    // the same profile, built once (a long timeline's weights and sort were a tenth of an
    // explained recommendation).
    if (this.profiled.matches(query)) return this.lastProfile;
    const { itemWeight, itemSet } = this;
    const timeline = query.timeline;
    const nBaskets = timeline ? timeline.itemPtr.length - 1 : 0;
    if (timeline && nBaskets > 0) {
      const { itemPtr, items, day } = timeline;
      const decay = this.decay;
      const lastDay = day[nBaskets - 1];
      for (let b = 0; b < nBaskets; b++) {
        const w = decay.weight(nBaskets - 1 - b, lastDay - day[b]);
        // A weight that decayed to 0 adds nothing, and must not list the item twice.
        if (!(w > 0)) continue;
        for (let p = itemPtr[b]; p < itemPtr[b + 1]; p++) addWeight(itemWeight, itemSet, items[p], w);
      }
    } else {
      const { items, weights } = query.history;
      for (let k = 0; k < items.length; k++) addWeight(itemWeight, itemSet, items[k], weights[k]);
    }
    for (let k = 0; k < query.basket.length; k++) addWeight(itemWeight, itemSet, query.basket[k], 1);

    const items = itemSet.drain();
    const itemWeights = new Float64Array(items.length);
    for (let k = 0; k < items.length; k++) {
      itemWeights[k] = itemWeight[items[k]];
      itemWeight[items[k]] = 0;
    }
    const profile = index.profile(items, itemWeights);
    this.lastProfile = profile;
    this.profiled.take(query);
    return profile;
  }

  save(out: SectionWriter): JsonObject {
    const index = this.requireIndex();
    const { encoder: _encoder, template, ...rest } = this.options;
    const stored: StoredOptions = { ...rest, template: typeof template === 'string' ? template : null };
    return {
      options: optionsToJson(stored),
      encoder: this.options.encoder.save(out.scope('encoder')),
      ...index.save(out),
      index: this.slot.save(out),
    };
  }

  /**
   * Rebuilds a saved model: its stored options, its encoder (TF-IDF with sparse vectors, MiniLM
   * with dense ones) and the item vectors, one per item of the dataset; anything else is an
   * ArtifactError naming the section or state field.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): ContentBased {
    const s = StateReader.of(state, scopeName(sections));
    const format = s.oneOf('vectors', ['sparse', 'dense']);
    s.keys(['options', 'encoder', 'vectors', 'nItems', format === 'sparse' ? 'nTerms' : 'dim'], ['index']);
    const e = s.object('encoder');
    const encoder = e.oneOf('kind', [format === 'sparse' ? 'tfidf' : 'minilm']) === 'tfidf' ? TfidfEncoder.load(e, sections.scope('encoder')) : MiniLMEncoder.load(e);
    // indexCandidates came after ContentBased's first artifacts: one without it loads with the default.
    const stored = s.options('ContentBased', STORED_CHECKS, 'options', { indexCandidates: ContentBased.defaults.indexCandidates });
    const model = new ContentBased({ ...stored, encoder, template: stored.template ?? unsavedTemplate });
    const nItems = s.count('nItems', context?.nItems);
    if (encoder instanceof TfidfEncoder) {
      const nTerms = s.count('nTerms', encoder.vocabulary.length);
      model.install(SparseContentIndex.load(sections, nItems, nTerms));
    } else {
      model.install(DenseContentIndex.load(sections, nItems, s.count('dim', encoder.dim)));
    }
    model.slot = VectorIndexSlot.read(s, sections);
    return model;
  }
}

/** Adds `w` to the profile weight of `item`, listing it in `itemSet` (a weight of 0 or less adds nothing and lists nothing). */
function addWeight(itemWeight: Float64Array, itemSet: AscendingSet, item: number, w: number): void {
  if (!(w > 0)) return;
  if (itemWeight[item] === 0) itemSet.add(item);
  itemWeight[item] += w;
}

function unsavedTemplate(): string {
  throw new OptionError('ContentBased.template', 'was a function, which an artifact cannot store: pass it again to a new ContentBased to refit');
}

