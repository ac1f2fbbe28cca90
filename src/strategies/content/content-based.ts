import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { CsrMatrix } from '../../data/csr';
import type { Catalog, Dataset } from '../../data/dataset';
import { ArtifactError, DataError, EmptyDataError, NotFittedError, OptionError } from '../../errors';
import { TopK } from '../../util/topk';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, ScoreVector } from '../types';
import type { DenseItemVectors, ItemVectors } from './encoder';
import { MiniLMEncoder } from './minilm';
import { TfidfEncoder } from './tfidf';

/** Builds an item's text from the catalog: a function, or a string with {name}, {aisle}, {department} and {meta.KEY} placeholders. */
export type ItemTemplate = string | ((catalog: Catalog, item: number) => string);

export type ContentEncoder = TfidfEncoder | MiniLMEncoder;

export interface ContentBasedOptions {
  /** Turns item texts into vectors. Default a new TfidfEncoder(). */
  encoder: ContentEncoder;
  /** The text of an item. Default '{name} {aisle} {department}'. */
  template: ItemTemplate;
  /**
   * The profile weighs a purchase 0.5^(age / recencyHalfLife), age counted in recencyUnit from
   * the user's last basket, so recent tastes lead. Infinity weighs every purchase alike.
   * Without a basket timeline (anonymous queries) purchase counts are the weights. Default 10.
   */
  recencyHalfLife: number;
  /** What a purchase's age counts: 'baskets' (orders since) or 'days' (needs basket days). Default 'baskets'. */
  recencyUnit: 'baskets' | 'days';
  /**
   * TF-IDF only: a profile term found in more than this share of items (a department word
   * like "dairy") does not make items candidates by itself; it still counts in the score of
   * items that share a rarer term with the profile. Without it every query touched nearly
   * the whole catalog (department words are in thousands of names): 2.6 ms p50 per query at
   * 50k items. Terms in at most 100 items always make candidates; 1 turns the cut off.
   * Default 0.02.
   */
  candidateMaxDf: number;
  /**
   * TF-IDF only: candidates come from the profile's distinctive terms strongest first, and
   * stop once this many items are candidates (a term's items are taken whole). Items sharing
   * only weak terms with the profile score low anyway; the cap bounds a long history's query
   * cost. Infinity turns it off. Default 500. Measured at 30k users x 50k items: p50 per
   * query 3.9 ms uncapped (21k candidates), 0.52 ms at 2000, 0.19 ms at 500 (780 candidates:
   * a term's items are taken whole); NDCG@10 on P4-small 0.2259 / 0.2259 / 0.2262, on P3
   * 0.0036 / 0.0035 / 0.0031. Content is the ensemble's costliest member at 50k items.
   */
  maxCandidates: number;
}

export const DEFAULT_TEMPLATE = '{name} {aisle} {department}';

/** History items shown as evidence of an explanation. */
const EVIDENCE = 3;
/** Profile terms ranked up front for candidate gathering (see sparseScores). */
const STRONGEST_TERMS = 32;

type TemplatePart = { literal: string } | { field: 'name' | 'aisle' | 'department' } | { meta: string };

/**
 * Content-based recommendations: every catalog item (bought or not, so new items can be
 * recommended from day one) is encoded from its text; a user's profile is the recency-weighted
 * mean of the vectors of what they bought and what is in their basket; an item scores its
 * cosine similarity to the profile. The item vectors are stored in the artifact, so scoring
 * needs neither the encoder's model nor transformers.js.
 *
 * TF-IDF vectors are scored through an inverted index (term -> items), so only items sharing a
 * term with the profile get a score; dense (MiniLM) vectors score every item.
 */
export class ContentBased implements Recommender {
  readonly kind = 'content';
  readonly options: Readonly<ContentBasedOptions>;
  private readonly templateParts: TemplatePart[] | null;
  private vectors: ItemVectors | null = null;
  /** Transpose of the sparse item matrix: the items of each term. */
  private inverted: CsrMatrix | null = null;
  private scratch: Scratch | null = null;

  constructor(options: Partial<ContentBasedOptions> = {}) {
    const o: ContentBasedOptions = { encoder: options.encoder ?? new TfidfEncoder(), template: DEFAULT_TEMPLATE, recencyHalfLife: 10, recencyUnit: 'baskets', candidateMaxDf: 0.02, maxCandidates: 500, ...options };
    if (!(o.encoder instanceof TfidfEncoder) && !(o.encoder instanceof MiniLMEncoder)) {
      throw new OptionError('encoder', 'must be a TfidfEncoder or a MiniLMEncoder');
    }
    if (typeof o.template === 'string') this.templateParts = parseTemplate(o.template);
    else if (typeof o.template === 'function') this.templateParts = null;
    else throw new OptionError('template', 'must be a string or a function (catalog, item) => string');
    if (typeof o.recencyHalfLife !== 'number' || !(o.recencyHalfLife > 0)) {
      throw new OptionError('recencyHalfLife', `must be a number > 0 or Infinity, got ${o.recencyHalfLife}`);
    }
    if (typeof o.candidateMaxDf !== 'number' || !(o.candidateMaxDf > 0 && o.candidateMaxDf <= 1)) {
      throw new OptionError('candidateMaxDf', `must be a number in (0, 1], got ${o.candidateMaxDf}`);
    }
    if (typeof o.maxCandidates !== 'number' || !(o.maxCandidates >= 1) || (o.maxCandidates !== Infinity && !Number.isInteger(o.maxCandidates))) {
      throw new OptionError('maxCandidates', `must be an integer >= 1 or Infinity, got ${o.maxCandidates}`);
    }
    if (o.recencyUnit !== 'baskets' && o.recencyUnit !== 'days') throw new OptionError('recencyUnit', `must be 'baskets' or 'days', got ${String(o.recencyUnit)}`);
    this.options = Object.freeze(o);
  }

  get fitted(): boolean {
    return this.vectors !== null;
  }

  get encoder(): ContentEncoder {
    return this.options.encoder;
  }

  /** The unit vector of every item (zero rows for items with no text). */
  get itemVectors(): ItemVectors {
    if (!this.vectors) throw new NotFittedError('ContentBased');
    return this.vectors;
  }

  /** The text the template makes for an item of a catalog. */
  itemText(catalog: Catalog, item: number): string {
    const parts = this.templateParts;
    if (parts === null) {
      const text = (this.options.template as (c: Catalog, i: number) => string)(catalog, item);
      if (typeof text !== 'string') throw new DataError(`template returned ${typeof text} for item ${item}, expected a string`);
      return text;
    }
    let text = '';
    for (const p of parts) {
      if ('literal' in p) text += p.literal;
      else if ('field' in p) text += catalog[p.field][item] ?? '';
      else text += catalog.meta[item]?.[p.meta] ?? '';
    }
    return text;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    if (data.nItems === 0) throw new EmptyDataError('ContentBased.fit: the catalog has no items');
    const texts = new Array<string>(data.nItems);
    for (let i = 0; i < data.nItems; i++) texts[i] = this.itemText(data.catalog, i);
    const vectors = await this.options.encoder.fit(texts, { signal: options.signal, onProgress: options.onProgress });
    this.setVectors(vectors);
  }

  private setVectors(vectors: ItemVectors): void {
    this.vectors = vectors;
    if (vectors.format === 'sparse') {
      this.inverted = vectors.matrix.transpose();
      this.scratch = new Scratch(vectors.matrix.nRows, vectors.matrix.nCols);
    } else {
      this.inverted = null;
      this.scratch = new Scratch(vectors.rows, vectors.dim);
    }
  }

  private get nItems(): number {
    const v = this.itemVectors;
    return v.format === 'sparse' ? v.matrix.nRows : v.rows;
  }

  score(query: Query, out: ScoreVector): void {
    const vectors = this.itemVectors;
    if (out.size !== this.nItems) throw new OptionError('out', `ScoreVector has ${out.size} items, the model ${this.nItems}`);
    const profile = this.profile(query);
    if (profile === null) return;
    if (vectors.format === 'sparse') {
      this.sparseScores(profile, vectors.matrix, out);
    } else {
      denseScores(vectors, profile.weights, out.values);
      out.markDense();
    }
  }

  /**
   * Candidates come from the profile's distinctive terms, strongest first (see candidateMaxDf
   * and maxCandidates); each gets its exact cosine, summed in the item's term order as profileScore() does, so explain() agrees
   * bit for bit.
   */
  private sparseScores(profile: Profile, matrix: CsrMatrix, out: ScoreVector): void {
    const inv = this.inverted!;
    const terms = profile.terms!;
    const { itemTouched, termWeight, strongestTerms: strongest } = this.scratch!;
    // Small catalogs are cheap to score whole: the cut starts above 100 items per term.
    const maxDf = Math.max(100, Math.floor(this.options.candidateMaxDf * matrix.nRows));
    let distinctive = false;
    for (let k = 0; k < terms.length; k++) {
      const t = terms[k];
      termWeight[t] = profile.weights[k];
      if (inv.indptr[t + 1] - inv.indptr[t] <= maxDf) distinctive = true;
    }
    // A profile of common words only (a one-item "Milk" basket) still gets candidates.
    const limit = distinctive ? maxDf : Infinity;
    const budget = this.options.maxCandidates;
    let nCandidates = 0;
    const gather = (k: number) => {
      const t = terms[k];
      for (let p = inv.indptr[t]; p < inv.indptr[t + 1]; p++) {
        const item = inv.indices[p];
        if (!out.has(item)) {
          out.set(item, 0);
          itemTouched[nCandidates++] = item;
        }
      }
    };
    // The budget is usually spent within a few terms: select the strongest STRONGEST_TERMS
    // first (a long history has hundreds of terms, and sorting them all was a tail cost) and
    // order the rest only when the budget outlasts them.
    const eligible = (k: number) => inv.indptr[terms[k] + 1] - inv.indptr[terms[k]] <= limit;
    strongest.clear();
    let nEligible = 0;
    for (let k = 0; k < terms.length; k++) {
      if (!eligible(k)) continue;
      nEligible++;
      strongest.push(k, profile.weights[k]);
    }
    const head = strongest.sorted().items;
    for (let i = 0; i < head.length && nCandidates < budget; i++) gather(head[i]);
    if (nCandidates < budget && nEligible > head.length) {
      const taken = new Set(head);
      const rest = Array.from(terms.keys())
        .filter((k) => eligible(k) && !taken.has(k))
        .sort((a, b) => profile.weights[b] - profile.weights[a] || a - b);
      for (let i = 0; i < rest.length && nCandidates < budget; i++) gather(rest[i]);
    }
    const { indptr, indices, values } = matrix;
    for (let c = 0; c < nCandidates; c++) {
      const item = itemTouched[c];
      let acc = 0;
      for (let p = indptr[item]; p < indptr[item + 1]; p++) {
        const w = termWeight[indices[p]];
        if (w !== 0) acc = Math.fround(acc + w * values[p]);
      }
      out.set(item, acc);
    }
    for (let k = 0; k < terms.length; k++) termWeight[terms[k]] = 0;
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const vectors = this.itemVectors;
    const profile = this.profile(query);
    if (profile === null) return null;
    const score = this.profileScore(profile, item, vectors);
    if (!(score > 0)) return null;
    const evidence = new TopK(EVIDENCE);
    const { items } = profile;
    for (let k = 0; k < items.length; k++) {
      if (items[k] !== item) evidence.push(items[k], this.similarity(items[k], item));
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
    const vectors = this.itemVectors;
    if (vectors.format === 'dense') {
      const { dim, data } = vectors;
      let s = 0;
      for (let j = 0; j < dim; j++) s += data[a * dim + j] * data[b * dim + j];
      return s;
    }
    const { indptr, indices, values } = vectors.matrix;
    let p = indptr[a];
    let q = indptr[b];
    const pEnd = indptr[a + 1];
    const qEnd = indptr[b + 1];
    let s = 0;
    while (p < pEnd && q < qEnd) {
      if (indices[p] === indices[q]) s += values[p++] * values[q++];
      else if (indices[p] < indices[q]) p++;
      else q++;
    }
    return s;
  }

  /**
   * The k items whose text is most similar to `item` (cosine, best first, ties by lower index),
   * without the item itself. Only items with a positive similarity qualify, which with TF-IDF
   * means sharing a term.
   */
  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const vectors = this.itemVectors;
    const n = this.nItems;
    if (!Number.isInteger(item) || item < 0 || item >= n) throw new OptionError('item', `must be an item index in [0, ${n}), got ${item}`);
    if (!Number.isInteger(k) || k < 0) throw new OptionError('k', `must be a non-negative integer, got ${k}`);
    const top = new TopK(k);
    if (vectors.format === 'dense') {
      const { itemScore, acc } = this.scratch!;
      for (let j = 0; j < vectors.dim; j++) acc[j] = vectors.data[item * vectors.dim + j];
      denseScores(vectors, acc, itemScore);
      for (let i = 0; i < n; i++) if (i !== item && itemScore[i] > 0) top.push(i, itemScore[i]);
      return top.sorted();
    }
    const { indptr, indices, values } = vectors.matrix;
    const inv = this.inverted!;
    const { itemScore, itemTouched } = this.scratch!;
    let touched = 0;
    for (let p = indptr[item]; p < indptr[item + 1]; p++) {
      const t = indices[p];
      const w = values[p];
      for (let q = inv.indptr[t]; q < inv.indptr[t + 1]; q++) {
        const other = inv.indices[q];
        if (itemScore[other] === 0) itemTouched[touched++] = other;
        itemScore[other] += w * inv.values[q];
      }
    }
    for (let i = 0; i < touched; i++) {
      const other = itemTouched[i];
      if (other !== item && itemScore[other] > 0) top.push(other, itemScore[other]);
      itemScore[other] = 0;
    }
    return top.sorted();
  }

  /**
   * The unit profile of a query: purchase weights (recency-decayed over the basket timeline
   * when there is one, else purchase counts) plus 1 per basket item, times item vectors.
   * Null when nothing in it has a vector.
   */
  private profile(query: Query): Profile | null {
    const s = this.scratch!;
    const { itemWeight, itemTouched } = s;
    let nTouched = 0;
    const addItem = (item: number, w: number) => {
      // A weight that decayed to 0 adds nothing, and must not list the item twice.
      if (!(w > 0)) return;
      if (itemWeight[item] === 0) itemTouched[nTouched++] = item;
      itemWeight[item] += w;
    };
    const timeline = query.timeline;
    const nBaskets = timeline ? timeline.itemPtr.length - 1 : 0;
    if (timeline && nBaskets > 0) {
      const { itemPtr, items, day } = timeline;
      const halfLife = this.options.recencyHalfLife;
      const byDays = this.options.recencyUnit === 'days';
      const lastDay = day[nBaskets - 1];
      for (let b = 0; b < nBaskets; b++) {
        if (byDays && !(Number.isFinite(day[b]) && Number.isFinite(lastDay))) {
          throw new DataError(`basket ${b} of user ${query.user} has no day, which recencyUnit 'days' needs`, { field: 'day' });
        }
        const age = byDays ? lastDay - day[b] : nBaskets - 1 - b;
        const w = halfLife === Infinity ? 1 : Math.pow(0.5, age / halfLife);
        for (let p = itemPtr[b]; p < itemPtr[b + 1]; p++) addItem(items[p], w);
      }
    } else {
      const { items, weights } = query.history;
      for (let k = 0; k < items.length; k++) addItem(items[k], weights[k]);
    }
    for (let k = 0; k < query.basket.length; k++) addItem(query.basket[k], 1);

    const items = itemTouched.slice(0, nTouched).sort();
    const itemWeights = new Float64Array(nTouched);
    for (let k = 0; k < nTouched; k++) {
      itemWeights[k] = itemWeight[items[k]];
      itemWeight[items[k]] = 0;
    }
    return this.vectors!.format === 'sparse' ? this.sparseProfile(items, itemWeights) : this.denseProfile(items, itemWeights);
  }

  private sparseProfile(items: Int32Array, itemWeights: Float64Array): Profile | null {
    const { indptr, indices, values } = (this.vectors as { matrix: CsrMatrix }).matrix;
    const { acc, accTouched } = this.scratch!;
    let nTerms = 0;
    for (let k = 0; k < items.length; k++) {
      const w = itemWeights[k];
      for (let p = indptr[items[k]]; p < indptr[items[k] + 1]; p++) {
        const t = indices[p];
        const c = w * values[p];
        if (c === 0) continue;
        if (acc[t] === 0) accTouched[nTerms++] = t;
        acc[t] += c;
      }
    }
    // Ascending terms make the accumulation order (and so every float) independent of history order.
    const terms = accTouched.slice(0, nTerms).sort();
    const weights = new Float64Array(nTerms);
    let norm = 0;
    for (let k = 0; k < nTerms; k++) {
      weights[k] = acc[terms[k]];
      acc[terms[k]] = 0;
      norm += weights[k] * weights[k];
    }
    if (!(norm > 0)) return null;
    norm = Math.sqrt(norm);
    for (let k = 0; k < nTerms; k++) weights[k] /= norm;
    return { items, terms, weights };
  }

  private denseProfile(items: Int32Array, itemWeights: Float64Array): Profile | null {
    const { dim, data } = this.vectors as { dim: number; data: Float32Array };
    const weights = new Float64Array(dim);
    for (let k = 0; k < items.length; k++) {
      const w = itemWeights[k];
      const off = items[k] * dim;
      for (let j = 0; j < dim; j++) weights[j] += w * data[off + j];
    }
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += weights[j] * weights[j];
    if (!(norm > 0)) return null;
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; j++) weights[j] /= norm;
    return { items, terms: null, weights };
  }

  /** The score score() gives `item`, with the same float operations in the same order. */
  private profileScore(profile: Profile, item: number, vectors: ItemVectors): number {
    if (vectors.format === 'dense') {
      const { dim, data } = vectors;
      let s = 0;
      for (let j = 0; j < dim; j++) s += profile.weights[j] * data[item * dim + j];
      return Math.fround(s);
    }
    const { indptr, indices, values } = vectors.matrix;
    const terms = profile.terms!;
    let acc = 0;
    let k = 0;
    for (let p = indptr[item]; p < indptr[item + 1]; p++) {
      const t = indices[p];
      while (k < terms.length && terms[k] < t) k++;
      if (k < terms.length && terms[k] === t) acc = Math.fround(acc + profile.weights[k] * values[p]);
    }
    return acc;
  }

  save(out: SectionWriter): JsonObject {
    const vectors = this.itemVectors;
    const encoder = this.options.encoder.save(out.scope('encoder'));
    const state: JsonObject = {
      template: typeof this.options.template === 'string' ? this.options.template : null,
      recencyHalfLife: this.options.recencyHalfLife === Infinity ? null : this.options.recencyHalfLife,
      recencyUnit: this.options.recencyUnit,
      candidateMaxDf: this.options.candidateMaxDf,
      maxCandidates: this.options.maxCandidates === Infinity ? null : this.options.maxCandidates,
      encoder,
    };
    if (vectors.format === 'sparse') {
      const m = vectors.matrix;
      out.array('indptr', m.indptr);
      out.array('indices', m.indices);
      out.array('values', m.values);
      return { ...state, vectors: 'sparse', nItems: m.nRows, nTerms: m.nCols };
    }
    out.array('vectors', vectors.data);
    return { ...state, vectors: 'dense', nItems: vectors.rows, dim: vectors.dim };
  }

  static load(state: JsonObject, sections: SectionReader): ContentBased {
    const encoderState = state.encoder;
    if (typeof encoderState !== 'object' || encoderState === null || Array.isArray(encoderState)) {
      throw new ArtifactError('content state has no encoder', 'content');
    }
    const encoder =
      encoderState.kind === 'tfidf'
        ? TfidfEncoder.load(encoderState, sections.scope('encoder'))
        : encoderState.kind === 'minilm'
          ? MiniLMEncoder.load(encoderState)
          : null;
    if (encoder === null) throw new ArtifactError(`unknown content encoder kind ${String(encoderState.kind)}`, 'content');
    const template = typeof state.template === 'string' ? state.template : unsavedTemplate;
    let model: ContentBased;
    try {
      model = new ContentBased({
        encoder,
        template,
        recencyHalfLife: state.recencyHalfLife === null ? Infinity : (state.recencyHalfLife as number),
        recencyUnit: state.recencyUnit as 'baskets' | 'days',
        candidateMaxDf: typeof state.candidateMaxDf === 'number' ? state.candidateMaxDf : 1,
        maxCandidates: typeof state.maxCandidates === 'number' ? state.maxCandidates : Infinity,
      });
    } catch (e) {
      throw new ArtifactError(`bad content options: ${(e as Error).message}`, 'content');
    }
    const nItems = state.nItems;
    if (!Number.isInteger(nItems) || (nItems as number) < 0) throw new ArtifactError(`bad item count ${String(nItems)}`, 'content');
    const n = nItems as number;
    if (state.vectors === 'sparse') {
      const nTerms = state.nTerms as number;
      if (!Number.isInteger(nTerms) || nTerms < 0) throw new ArtifactError(`bad term count ${String(nTerms)}`, 'content');
      const indptr = sections.i32('indptr');
      const indices = sections.i32('indices');
      const values = sections.f32('values');
      checkCsr(n, nTerms, indptr, indices, values);
      model.setVectors({ format: 'sparse', matrix: new CsrMatrix(n, nTerms, indptr, indices, values) });
    } else if (state.vectors === 'dense') {
      const dim = state.dim as number;
      const data = sections.f32('vectors');
      if (!Number.isInteger(dim) || dim < 1 || data.length !== n * dim) {
        throw new ArtifactError(`dense vectors hold ${data.length} values, expected ${n} items x ${String(dim)}`, 'vectors');
      }
      model.setVectors({ format: 'dense', rows: n, dim, data });
    } else {
      throw new ArtifactError(`unknown vector format ${String(state.vectors)}`, 'content');
    }
    return model;
  }
}

/** out[i] = row i . p for every item; one loop shape for profiles and item rows keeps it monomorphic. */
function denseScores(vectors: DenseItemVectors, p: Float64Array, out: Float32Array): void {
  const { rows, dim, data } = vectors;
  for (let i = 0, off = 0; i < rows; i++, off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += p[j] * data[off + j];
    out[i] = s;
  }
}

interface Profile {
  /** Items the profile is made of, ascending. */
  items: Int32Array;
  /** Sparse: the profile's terms, ascending; dense: null. */
  terms: Int32Array | null;
  /** Unit-length profile weights (per term, or per dimension). */
  weights: Float64Array;
}

/** Per-model buffers reused across queries; all but the dense path's itemScore and acc are kept zeroed between uses. */
class Scratch {
  readonly itemWeight: Float64Array;
  readonly itemScore: Float32Array;
  readonly itemTouched: Int32Array;
  readonly acc: Float64Array;
  readonly accTouched: Int32Array;
  /** Profile weight per term during sparse scoring (0 elsewhere). */
  readonly termWeight: Float64Array;
  /** The profile's strongest candidate terms during sparse scoring (cleared before each use). */
  readonly strongestTerms = new TopK(STRONGEST_TERMS);

  constructor(nItems: number, width: number) {
    this.termWeight = new Float64Array(width);
    this.itemWeight = new Float64Array(nItems);
    this.itemScore = new Float32Array(nItems);
    this.itemTouched = new Int32Array(nItems);
    this.acc = new Float64Array(width);
    this.accTouched = new Int32Array(width);
  }
}

function unsavedTemplate(): string {
  throw new OptionError('template', 'was a function, which an artifact cannot store: pass it again to a new ContentBased to refit');
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ literal: template.slice(last, m.index) });
    const key = m[1].trim();
    if (key === 'name' || key === 'aisle' || key === 'department') parts.push({ field: key });
    else if (key.startsWith('meta.') && key.length > 5) parts.push({ meta: key.slice(5) });
    else throw new OptionError('template', `unknown placeholder {${m[1]}}: use {name}, {aisle}, {department} or {meta.KEY}`);
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  return parts;
}

function checkCsr(nRows: number, nCols: number, indptr: Int32Array, indices: Int32Array, values: Float32Array): void {
  if (indptr.length !== nRows + 1 || indptr[0] !== 0 || indptr[nRows] !== indices.length || indices.length !== values.length) {
    throw new ArtifactError('item vector CSR arrays do not fit together', 'indptr');
  }
  for (let r = 0; r < nRows; r++) {
    if (indptr[r + 1] < indptr[r]) throw new ArtifactError(`item vector row ${r} has a negative length`, 'indptr');
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      if (indices[p] < 0 || indices[p] >= nCols || (p > indptr[r] && indices[p] <= indices[p - 1])) {
        throw new ArtifactError(`item vector row ${r} has a term index out of range or out of order`, 'indices');
      }
    }
  }
}
