import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { readF32, scopeName, StateReader } from '../../artifact/validate';
import { CsrMatrix } from '../../data/csr';
import { GrowableColumn } from '../../data/csv';
import { ArtifactError, DataError, EmptyDataError, NotFittedError } from '../../errors';
import { arrayOf, boolean, integer, number, optionsToJson, resolveOptions, string, type OptionChecks } from '../../util/options';
import { Pace } from '../../util/pace';
import type { JsonObject } from '../types';
import { textAt, type EncodeOptions, type ItemTextEncoder, type SparseItemVectors } from './encoder';

export interface TfidfOptions {
  /**
   * Fold accents before matching (é -> e), so "Jalapeño" and "Jalapeno" are one term; catalogs
   * spell the same product both ways (Instacart: 28 vs 157 names). Default true, for that reason.
   */
  stripAccents: boolean;
  /**
   * Words dropped before weighting, compared after lowercasing (and accent folding). Default
   * none: idf already damps words that are everywhere. ENGLISH_STOP_WORDS is a ready list.
   */
  stopWords: readonly string[];
  /** Also use adjacent word pairs ("greek yogurt") as terms, after stop words are dropped. Default false: sklearn's default, and a smaller vocabulary. */
  bigrams: boolean;
  /** Keep only terms found in at least this many texts of the fit corpus (integer >= 1). Default 1 (sklearn's): a word of one product still finds it. */
  minDf: number;
  /** Keep only terms found in at most this fraction of the fit corpus, in (0, 1]. Default 1 (sklearn's): idf already damps common words. */
  maxDf: number;
  /** Term frequency tf counts as 1 + ln(tf), so a word repeated in name and aisle does not dominate. Default true, for that reason. */
  sublinearTf: boolean;
  /** idf = ln((1 + n) / (1 + df)) + 1 (as if one extra text held every term); false: ln(n / df) + 1. Default true (sklearn's). */
  smoothIdf: boolean;
}

const CHECKS: OptionChecks<TfidfOptions> = {
  stripAccents: boolean(),
  stopWords: arrayOf(string()),
  bigrams: boolean(),
  minDf: integer({ min: 1 }),
  maxDf: number({ min: 0, max: 1, exclusiveMin: true }),
  sublinearTf: boolean(),
  smoothIdf: boolean(),
};

/** Common English function words, for the stopWords option. */
export const ENGLISH_STOP_WORDS: readonly string[] = Object.freeze([
  'a', 'about', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'but', 'by', 'can', 'do', 'for', 'from',
  'has', 'have', 'he', 'her', 'his', 'i', 'if', 'in', 'into', 'is', 'it', 'its', 'me', 'my', 'no',
  'not', 'of', 'off', 'on', 'or', 'our', 'out', 'over', 'she', 'so', 'than', 'that', 'the', 'their',
  'them', 'then', 'there', 'these', 'they', 'this', 'to', 'up', 'us', 'was', 'we', 'were', 'what',
  'when', 'which', 'who', 'will', 'with', 'you', 'your',
]);

/** Most catalog text is ASCII, which needs no Unicode normalization. */
const ASCII = /^[\x00-\x7f]*$/;
const COMBINING_MARKS = /\p{M}+/gu;
const POSSESSIVE = /['\u2019]s(?![\p{L}\p{M}\p{N}])/gu;
const APOSTROPHE = /['\u2019]/gu;
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
/** WORD on lowercased ASCII, where the Unicode classes are slower and match the same. */
const ASCII_WORD = /[a-z0-9]+/g;

/**
 * The words of a text: Unicode-normalized (NFC), lowercased, optionally accent-folded, split on
 * anything that is not a letter, mark or digit. Possessive "'s" is dropped and other apostrophes
 * join ("Annie's" -> "annie", "O'Doul" -> "odoul"), so brand spellings match.
 */
export function tokenize(text: string, stripAccents = true): string[] {
  let s = text.toLowerCase();
  const ascii = ASCII.test(s);
  if (!ascii) s = stripAccents ? s.normalize('NFD').replace(COMBINING_MARKS, '').normalize('NFC') : s.normalize('NFC');
  if (s.includes("'") || s.includes('\u2019')) s = s.replace(POSSESSIVE, '').replace(APOSTROPHE, '');
  return s.match(ascii ? ASCII_WORD : WORD) ?? [];
}

/** Texts per progress report. */
const CHUNK = 10_000;
/** Texts per pacing check (a clock read). */
const PACE_CHUNK = 512;

/**
 * TF-IDF over words (and optionally word pairs): sparse, L2-normalized rows, the classic
 * sklearn TfidfVectorizer weighting. The vocabulary and idf are kept, so texts of items added
 * later encode into the same space, in Node or in the browser, with no model download.
 */
export class TfidfEncoder implements ItemTextEncoder {
  static readonly defaults: Readonly<TfidfOptions> = Object.freeze({
    stripAccents: true,
    stopWords: Object.freeze([]) as readonly string[],
    bigrams: false,
    minDf: 1,
    maxDf: 1,
    sublinearTf: true,
    smoothIdf: true,
  });

  readonly kind = 'tfidf';
  readonly options: Readonly<TfidfOptions>;
  private readonly stopSet: ReadonlySet<string>;
  private vocab: readonly string[] | null = null;
  private termIndex: Map<string, number> | null = null;
  private idfs: Float32Array | null = null;

  constructor(options: Partial<TfidfOptions> = {}) {
    this.options = resolveOptions('TfidfEncoder', TfidfEncoder.defaults, options, CHECKS);
    const o = this.options;
    this.stopSet = new Set(o.stopWords.flatMap((w) => tokenize(w, o.stripAccents)));
  }

  get fitted(): boolean {
    return this.vocab !== null;
  }

  /** Terms in index order. */
  get vocabulary(): readonly string[] {
    if (!this.vocab) throw new NotFittedError('TfidfEncoder');
    return this.vocab;
  }

  /** idf of each term, in vocabulary order. */
  get idf(): Float32Array {
    if (!this.idfs) throw new NotFittedError('TfidfEncoder');
    return this.idfs;
  }

  /** The terms of a text in order, repeats kept: words without stop words, then word pairs when bigrams is on. */
  terms(text: string): string[] {
    const words = tokenize(text, this.options.stripAccents).filter((w) => !this.stopSet.has(w));
    if (!this.options.bigrams) return words;
    const n = words.length;
    for (let i = 0; i + 1 < n; i++) words.push(`${words[i]} ${words[i + 1]}`);
    return words;
  }

  async fit(texts: readonly string[], options: EncodeOptions = {}): Promise<SparseItemVectors> {
    const n = texts.length;
    if (n === 0) throw new EmptyDataError('TfidfEncoder.fit: no texts');
    // Pass 1: every text as provisional term ids (first-seen order) and document frequencies.
    const provisional = new Map<string, number>();
    const provisionalTerms: string[] = [];
    const pace = new Pace(options.signal, 'TfidfEncoder.fit');
    const { docPtr, ids } = await this.termIds(texts, options, pace, 'tfidf vocabulary', (term) => {
      let id = provisional.get(term);
      if (id === undefined) {
        id = provisionalTerms.length;
        provisional.set(term, id);
        provisionalTerms.push(term);
      }
      return id;
    });
    const df = new Int32Array(provisionalTerms.length);
    const lastDoc = new Int32Array(provisionalTerms.length).fill(-1);
    for (let d = 0; d < n; d++) {
      for (let p = docPtr[d]; p < docPtr[d + 1]; p++) {
        if (lastDoc[ids[p]] !== d) {
          lastDoc[ids[p]] = d;
          df[ids[p]]++;
        }
      }
    }

    // Vocabulary: terms within [minDf, maxDf * n] texts, sorted so the index is reproducible.
    const maxCount = this.options.maxDf * n;
    const kept: number[] = [];
    for (let t = 0; t < provisionalTerms.length; t++) if (df[t] >= this.options.minDf && df[t] <= maxCount) kept.push(t);
    if (kept.length === 0) {
      throw new DataError(
        `TfidfEncoder.fit: no term is left of ${provisionalTerms.length} distinct terms in ${n} texts with minDf ${this.options.minDf} and maxDf ${this.options.maxDf}`,
      );
    }
    kept.sort((a, b) => (provisionalTerms[a] < provisionalTerms[b] ? -1 : 1));
    const remap = new Int32Array(provisionalTerms.length).fill(-1);
    const idf = new Float32Array(kept.length);
    for (let i = 0; i < kept.length; i++) {
      const t = kept[i];
      remap[t] = i;
      idf[i] = this.options.smoothIdf ? Math.log((1 + n) / (1 + df[t])) + 1 : Math.log(n / df[t]) + 1;
    }
    for (let p = 0; p < ids.length; p++) ids[p] = remap[ids[p]];
    this.setState(kept.map((t) => provisionalTerms[t]), idf);
    return { format: 'sparse', matrix: await this.weigh(n, docPtr, ids, pace) };
  }

  async encode(texts: readonly string[], options: EncodeOptions = {}): Promise<SparseItemVectors> {
    const termIndex = this.termIndex;
    if (!termIndex) throw new NotFittedError('TfidfEncoder');
    const pace = new Pace(options.signal, 'TfidfEncoder.encode');
    const { docPtr, ids } = await this.termIds(texts, options, pace, 'tfidf encode', (term) => termIndex.get(term) ?? -1);
    return { format: 'sparse', matrix: await this.weigh(texts.length, docPtr, ids, pace) };
  }

  /** Each text's terms as ids (`idOf`), in CSR form: text d is ids[docPtr[d] .. docPtr[d+1]). Reports progress as `stage`. */
  private async termIds(
    texts: readonly string[],
    options: EncodeOptions,
    pace: Pace,
    stage: string,
    idOf: (term: string) => number,
  ): Promise<{ docPtr: Int32Array; ids: Int32Array }> {
    const n = texts.length;
    const docPtr = new Int32Array(n + 1);
    const docTerms = new GrowableColumn((size) => new Int32Array(size), 4 * n + 16);
    for (let d = 0; d < n; d++) {
      if (d % CHUNK === 0) options.onProgress?.({ stage, done: d, total: n });
      if (d % PACE_CHUNK === 0 && pace.due()) await pace.pause();
      for (const term of this.terms(textAt(texts, d))) docTerms.push(idOf(term));
      docPtr[d + 1] = docTerms.length;
    }
    options.onProgress?.({ stage, done: n, total: n });
    return { docPtr, ids: docTerms.toArray() };
  }

  /** CSR rows of tf-idf weights from each text's term ids (-1: not in the vocabulary), L2-normalized. */
  private async weigh(n: number, docPtr: Int32Array, ids: Int32Array, pace: Pace): Promise<CsrMatrix> {
    const idf = this.idfs!;
    const counts = new Int32Array(idf.length);
    const indptr = new Int32Array(n + 1);
    const indices = new GrowableColumn((size) => new Int32Array(size), ids.length + 16);
    const values = new GrowableColumn((size) => new Float32Array(size), ids.length + 16);
    let row = new Int32Array(64);
    const weights = new Float64Array(idf.length);
    for (let d = 0; d < n; d++) {
      if (d % PACE_CHUNK === 0 && pace.due()) await pace.pause();
      let m = 0;
      for (let p = docPtr[d]; p < docPtr[d + 1]; p++) {
        const t = ids[p];
        if (t < 0) continue;
        if (counts[t]++ === 0) {
          if (m === row.length) {
            const bigger = new Int32Array(2 * m);
            bigger.set(row);
            row = bigger;
          }
          row[m++] = t;
        }
      }
      const terms = row.subarray(0, m).sort();
      let norm = 0;
      for (let i = 0; i < m; i++) {
        const t = terms[i];
        const tf = this.options.sublinearTf ? 1 + Math.log(counts[t]) : counts[t];
        const w = tf * idf[t];
        weights[t] = w;
        norm += w * w;
        counts[t] = 0;
      }
      norm = Math.sqrt(norm);
      for (let i = 0; i < m; i++) {
        indices.push(terms[i]);
        values.push(weights[terms[i]] / norm);
      }
      indptr[d + 1] = indices.length;
    }
    return new CsrMatrix(n, idf.length, indptr, indices.toArray(), values.toArray());
  }

  private setState(vocab: readonly string[], idf: Float32Array): void {
    const index = new Map<string, number>();
    for (let i = 0; i < vocab.length; i++) index.set(vocab[i], i);
    this.vocab = vocab;
    this.termIndex = index;
    this.idfs = idf;
  }

  save(out: SectionWriter): JsonObject {
    if (!this.vocab || !this.idfs) throw new NotFittedError('TfidfEncoder');
    out.strings('vocab', this.vocab);
    out.array('idf', this.idfs);
    return { kind: this.kind, options: optionsToJson(this.options) };
  }

  /**
   * Rebuilds a saved encoder: its options, a vocabulary of distinct terms and one finite idf > 0
   * per term (`state`: the encoder's JSON state, or a reader of it inside a larger state).
   */
  static load(state: JsonObject | StateReader, sections: SectionReader): TfidfEncoder {
    const s = state instanceof StateReader ? state : StateReader.of(state, scopeName(sections));
    s.keys(['kind', 'options']).literal('kind', 'tfidf');
    const encoder = new TfidfEncoder(s.options('TfidfEncoder', CHECKS));
    const vocab = sections.strings('vocab');
    const idf = readF32(sections, 'idf', { length: vocab.length, min: 0, exclusiveMin: true });
    encoder.setState(vocab, idf);
    if (encoder.termIndex!.size !== vocab.length) {
      const seen = new Set<string>();
      const repeated = vocab.findIndex((term) => seen.size === seen.add(term).size);
      throw new ArtifactError(`repeats the term ${JSON.stringify(vocab[repeated])}`, sections.fullName('vocab'), `[${repeated}]`);
    }
    return encoder;
  }

}
