import type { SectionReader, SectionWriter } from '../artifact/sections';
import { CsrMatrix } from '../data/csr';
import type { Dataset } from '../data/dataset';
import { readCsr, scopeName, StateReader, type LoadContext } from '../artifact/validate';
import { NotFittedError, OptionError, throwIfAborted } from '../errors';
import { cooccurrence } from '../util/cooccurrence';
import { sharedFloat32 } from '../util/parallel';
import { boolean, integer, number, oneOf, optionsToJson, resolveOptions, type OptionChecks } from '../util/options';
import { TopK } from '../util/topk';
import { checkDataset, checkItem, checkQuery, checkScores } from './checks';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, ScoreVector } from './types';

/** How a user's purchase count of an item becomes its weight in the item vectors. */
export type KnnWeighting = 'binary' | 'count' | 'log1p' | 'bm25';
/** How a query's history count of an item becomes the weight of its neighbors. */
export type HistoryWeighting = 'binary' | 'count' | 'log1p';
/** How two items' buyer vectors become their similarity. */
export type KnnSimilarity = 'cosine' | 'rp3beta';

export interface ItemKNNOptions {
  /**
   * 'cosine' (default): the shrunk cosine of the weighted buyer vectors. 'rp3beta' (Paudel et
   * al. 2017, the strong item-item baseline of Dacrema et al. 2019): a three-step random walk
   * item -> user -> item on the weighted purchase graph, each step's transition probability
   * raised to `alpha`, with the target item's popularity damped by `beta`:
   * sim(i, j) = sum over users u of (w(u, i) / d(i))^alpha (w(u, j) / d(u))^alpha / n(j)^beta,
   * where w is the `weighting` of the purchase counts, d(i) and d(u) the weighted degrees
   * (sums of w over the item's buyers, over the user's items) and n(j) the number of buyers
   * of j. It is not symmetric: rows are what to recommend after buying i. `shrink` plays no
   * part in it.
   */
  similarity: KnnSimilarity;
  /** RP3beta's exponent on the walk's transition probabilities; only with similarity 'rp3beta'. Default 1 (the plain walk, P3). */
  alpha: number;
  /** RP3beta's popularity penalty, the exponent of n(j); only with similarity 'rp3beta'. Default 0.5. */
  beta: number;
  /**
   * Divide each item's kept neighbor row by its sum, so every row sums to 1 (Dacrema et al.
   * 2019's `normalize_similarity`, applied after the top `neighbors`). A history item then
   * spreads the same total score whatever its popularity. Default false (the golden rankings).
   */
  normalizeRows: boolean;
  /**
   * Neighbors kept per item (default 50: on the synthetic shop 50 beat 25, 100 and 200 —
   * far neighbors add popularity noise more than signal).
   */
  neighbors: number;
  /**
   * Weight of a (user, item) purchase count in the item vectors the cosine compares:
   * 'binary' (bought or not), 'count', 'log1p' (log(1 + count)), or 'bm25' (users as terms,
   * items as documents: heavy shoppers' co-purchases count less, counts saturate). Default
   * 'log1p', the most robust across the benchmark protocols (NDCG@10 alone, seed 42):
   * P1 MovieLens 0.186 (bm25 0.188), P2 Last.fm 0.191 (bm25 0.183, count 0.053 on raw play
   * counts), P3 Instacart baskets 0.050 (bm25 0.004: its idf favors items seen once),
   * P4 synthetic 0.207 (bm25 0.297, mostly on re-buys, which RepeatPurchase covers).
   */
  weighting: KnnWeighting;
  /**
   * BM25 term saturation; only with weighting 'bm25'. Default 10, set by hand because repeat
   * counts matter in grocery (text retrieval's usual 1.2 flattens them); not tuned.
   */
  bm25K1: number;
  /** BM25 length normalization in [0, 1]; only with weighting 'bm25'. Default 0.8, near text retrieval's usual 0.75; not tuned. */
  bm25B: number;
  /**
   * Shrinkage: sim = dot / (|a| |b| + shrink), which pulls similarities backed by few
   * shared buyers towards 0. Default 10, the usual order of magnitude in the item-kNN
   * literature; not tuned.
   */
  shrink: number;
  /** Keep a neighbor only when at least this many users bought both. Default 1: shrink already damps rare pairs. */
  minCount: number;
  /** Weight of each history item in a query, from its purchase count. Default 'log1p', like `weighting`. */
  historyWeighting: HistoryWeighting;
  /** Weight of each line of the current basket in a query (0 ignores the basket). Default 1: a cart line counts as one purchase. */
  basketWeight: number;
}

const CHECKS: OptionChecks<ItemKNNOptions> = {
  similarity: oneOf<KnnSimilarity>(['cosine', 'rp3beta']),
  // [0, 2]: Dacrema et al.'s search range (past it, alpha only sharpens each walk step onto the single heaviest edge).
  alpha: number({ min: 0, max: 2 }),
  beta: number({ min: 0, max: 2 }),
  normalizeRows: boolean(),
  neighbors: integer({ min: 1 }),
  weighting: oneOf<KnnWeighting>(['binary', 'count', 'log1p', 'bm25']),
  bm25K1: number({ min: 0 }),
  bm25B: number({ min: 0, max: 1 }),
  shrink: number({ min: 0 }),
  minCount: integer({ min: 1 }),
  historyWeighting: oneOf<HistoryWeighting>(['binary', 'count', 'log1p']),
  basketWeight: number({ min: 0 }),
};

/**
 * What a binary-search probe of a history item's neighbor row costs in ItemKNN.explain, in
 * reads of the explained item's column: the rows are scattered over the model and often out
 * of cache, the column is one run. Set by hand; timings of 1, 2 and 4 on a loaded machine
 * could not tell them apart on long histories.
 */
const SEARCH_READS_PER_PROBE = 2;

/** Evidence items of an explanation: its largest parts. */
const EVIDENCE = 3;

/** Options an artifact written before they existed lacks: what it was fitted with. */
const ADDED_LATER: Partial<ItemKNNOptions> = { similarity: 'cosine', alpha: 1, beta: 0.5, normalizeRows: false };

/**
 * Item-based collaborative filtering: cosine similarity between the items' buyer vectors
 * (columns of the user x item matrix, weighted and shrunk), or RP3beta's random-walk
 * similarity (`similarity`), top `neighbors` per item. A
 * query scores candidate c as the sum over its history and basket items q of
 * weight(q) * sim(q, c): "people who bought what you buy also bought c".
 */
export class ItemKNN implements Recommender {
  static readonly defaults: Readonly<ItemKNNOptions> = Object.freeze({
    similarity: 'cosine',
    alpha: 1,
    beta: 0.5,
    normalizeRows: false,
    neighbors: 50,
    weighting: 'log1p',
    bm25K1: 10,
    bm25B: 0.8,
    shrink: 10,
    minCount: 1,
    historyWeighting: 'log1p',
    basketWeight: 1,
  });

  readonly kind = 'itemknn';
  readonly options: Readonly<ItemKNNOptions>;
  private sims: CsrMatrix | null = null;
  /** Scratch of explain(): per item its part in the explained score, and whether it has one (zeroed between uses). */
  private contribution = new Float64Array(0);
  private contributing = new Uint8Array(0);
  /**
   * explain()'s view of the neighbors from the other side: per item, the items that list it
   * as a neighbor, with the similarity (the transpose of `sims`, built at the first explain:
   * 8 bytes per neighbor, which scoring never needs). With it an explanation costs the
   * explained item's column, not a binary search per history item.
   */
  private listedBy: CsrMatrix | null = null;
  /** Per item: its position + 1 in the explained query's history, 0 elsewhere (zeroed between uses). */
  private historyAt = new Int32Array(0);
  /** explain()'s list of the items with a part in the score (distinct, so at most one per item). */
  private from = new Int32Array(0);
  /** explain()'s copy of the parts' values, sorted to sum them (grown as needed). */
  private parts = new Float64Array(0);
  /** explain()'s strongest parts so far, by item. */
  private readonly best = new Int32Array(EVIDENCE);

  constructor(options: Partial<ItemKNNOptions> = {}) {
    this.options = resolveOptions('ItemKNN', ItemKNN.defaults, options, CHECKS);
  }

  get fitted(): boolean {
    return this.sims !== null;
  }

  /** The item x item neighbor matrix (rows sorted by item index, values are similarities). */
  get neighborMatrix(): CsrMatrix {
    if (!this.sims) throw new NotFittedError('ItemKNN');
    return this.sims;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'ItemKNN');
    throwIfAborted(options.signal, 'ItemKNN.fit');
    const weighted = weightMatrix(data.interactions, this.options);
    const o = this.options;
    this.listedBy = null;
    const rp3 = o.similarity === 'rp3beta' ? rp3betaWalk(weighted, o.alpha, o.beta) : null;
    const sims = await cooccurrence(rp3 ? rp3.walk : weighted, {
      topN: o.neighbors,
      minCount: o.minCount,
      measure: rp3 ? { kind: 'product', factors: rp3.factors } : { kind: 'cosine', norms: columnNorms(weighted), shrink: o.shrink },
      threads: options.threads,
      signal: options.signal,
      onProgress: options.onProgress,
      stage: 'item similarities',
    });
    // With normalizeRows, RP3beta's row scale is a constant per row that the sum divides out.
    if (o.normalizeRows) normalizeRowSums(sims);
    else if (rp3) scaleRows(sims, rp3.rowScale);
    this.sims = sims;
  }

  score(query: Query, out: ScoreVector): void {
    const sims = this.model(query);
    checkScores(out, sims.nRows, 'ItemKNN');
    const { indptr, indices, values } = sims;
    const { items, weights } = query.history;
    const hw = this.options.historyWeighting;
    // The history's neighbor rows are scattered over the model: touch them all first (CsrMatrix.touchRows).
    sims.touchRows(items, items.length);
    for (let k = 0; k < items.length; k++) {
      const w = historyWeight(weights[k], hw);
      if (!(w > 0)) continue;
      const q = items[k];
      out.addScaled(indices, values, indptr[q], indptr[q + 1], w);
    }
    const bw = this.options.basketWeight;
    if (bw === 0) return;
    const basket = query.basket;
    for (let k = 0; k < basket.length; k++) {
      const q = basket[k];
      out.addScaled(indices, values, indptr[q], indptr[q + 1], bw);
    }
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const sims = this.model(query);
    checkItem(item, sims.nRows, 'ItemKNN.explain');
    if (this.contribution.length !== sims.nRows) {
      this.contribution = new Float64Array(sims.nRows);
      this.contributing = new Uint8Array(sims.nRows);
      this.historyAt = new Int32Array(sims.nRows);
      this.from = new Int32Array(sims.nRows);
    }
    if (this.listedBy === null) this.listedBy = sims.transpose();
    // Each history and basket item's part in the score, summed per item (a basket line may repeat one).
    const { contribution, contributing } = this;
    const from = this.from;
    let nFrom = 0;
    const { items, weights } = query.history;
    const hw = this.options.historyWeighting;
    // The history items that list `item` as a neighbor: those of its column that are in the
    // history, found by marking the history and walking the column; or a binary search of each
    // history item's row, when that costs fewer reads (SEARCH_READS_PER_PROBE: a short history
    // and a popular item). Either finds the same parts. A history that repeats an item (the
    // Query contract says it does not) takes the search, so that each entry adds its part.
    const listedBy = this.listedBy;
    const column = listedBy.indptr[item + 1] - listedBy.indptr[item];
    let search = items.length * SEARCH_READS_PER_PROBE * (Math.log2(this.options.neighbors) + 1) < column;
    if (!search) {
      const at = this.historyAt;
      let marked = 0;
      for (; marked < items.length; marked++) {
        if (at[items[marked]] !== 0) {
          search = true;
          break;
        }
        at[items[marked]] = marked + 1;
      }
      if (!search) {
        const { indptr, indices, values } = listedBy;
        for (let p = indptr[item]; p < indptr[item + 1]; p++) {
          const q = indices[p];
          const k = at[q] - 1;
          if (k >= 0 && values[p] > 0) nFrom = this.addPart(nFrom, q, values[p], historyWeight(weights[k], hw));
        }
      }
      for (let k = 0; k < marked; k++) at[items[k]] = 0;
    }
    if (search) {
      for (let k = 0; k < items.length; k++) {
        const s = sims.get(items[k], item);
        if (s > 0) nFrom = this.addPart(nFrom, items[k], s, historyWeight(weights[k], hw));
      }
    }
    const bw = this.options.basketWeight;
    for (let k = 0; k < query.basket.length; k++) {
      const s = sims.get(query.basket[k], item);
      if (s > 0) nFrom = this.addPart(nFrom, query.basket[k], s, bw);
    }
    if (nFrom === 0) return null;
    // The score sums the parts largest first. Summed from the top of their values sorted
    // ascending (a numeric sort without a comparator): equal parts add the same float in
    // either order, so it is that sum. Parts of a long history number in the hundreds, and a
    // comparator sort of them (the comparator called per comparison, its merge buffer
    // allocated per call) was a third of ItemKNN's explain.
    if (this.parts.length < nFrom) this.parts = new Float64Array(Math.max(nFrom, 2 * this.parts.length));
    const parts = this.parts;
    for (let i = 0; i < nFrom; i++) parts[i] = contribution[from[i]];
    parts.subarray(0, nFrom).sort();
    let score = 0;
    for (let i = nFrom - 1; i >= 0; i--) score += parts[i];
    // The evidence: the EVIDENCE largest parts (ties to the lower item), by insertion into the
    // few kept items, then one entry object each.
    const best = this.best;
    let nBest = 0;
    for (let i = 0; i < nFrom; i++) {
      const q = from[i];
      const c = contribution[q];
      let j = nBest;
      while (j > 0 && (c > contribution[best[j - 1]] || (c === contribution[best[j - 1]] && q < best[j - 1]))) j--;
      if (j >= EVIDENCE) continue;
      if (nBest < EVIDENCE) nBest++;
      for (let m = nBest - 1; m > j; m--) best[m] = best[m - 1];
      best[j] = q;
    }
    const top: Array<{ item: number; weight: number }> = [];
    for (let j = 0; j < nBest; j++) top.push({ item: best[j], weight: contribution[best[j]] });
    for (let i = 0; i < nFrom; i++) {
      contribution[from[i]] = 0;
      contributing[from[i]] = 0;
    }
    return { score: Math.fround(score), reason: `often bought with ${joinNames(top.map((e) => name(e.item)))}`, evidence: top };
  }

  /** Adds w x s to q's part of the explained score, listing q in `from` at its first part; returns the list's length. */
  private addPart(nFrom: number, q: number, s: number, w: number): number {
    if (!(w > 0)) return nFrom;
    if (this.contributing[q] === 0) {
      this.contributing[q] = 1;
      this.from[nFrom++] = q;
    }
    this.contribution[q] += w * s;
    return nFrom;
  }

  /** The k most similar items to `item` (index level), most similar first; never `item` itself. */
  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const sims = this.model(null);
    checkItem(item, sims.nRows, 'ItemKNN.similarItems');
    if (!Number.isInteger(k) || k < 0) throw new OptionError('k', `must be a non-negative integer, got ${k}`);
    const heap = new TopK(k);
    for (let p = sims.indptr[item]; p < sims.indptr[item + 1]; p++) heap.push(sims.indices[p], sims.values[p]);
    return heap.sorted();
  }

  save(out: SectionWriter): JsonObject {
    const sims = this.model(null);
    out.array('indptr', sims.indptr);
    out.array('indices', sims.indices);
    out.array('values', sims.values);
    return { options: optionsToJson(this.options), nItems: sims.nRows };
  }

  /** Rebuilds a saved model: an nItems x nItems CSR of finite similarities, sorted unique per row, else an ArtifactError. */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): ItemKNN {
    const s = StateReader.of(state, scopeName(sections)).keys(['options', 'nItems']);
    const model = new ItemKNN(s.options('ItemKNN', CHECKS, 'options', ADDED_LATER));
    const nItems = s.count('nItems', context?.nItems);
    const { indptr, indices, values } = readCsr(sections, '', { nRows: nItems, nCols: nItems });
    model.sims = new CsrMatrix(nItems, nItems, indptr, indices, values);
    return model;
  }

  /** The fitted neighbors, after checking `query` (when given) against them. */
  private model(query: Query | null): CsrMatrix {
    if (!this.sims) throw new NotFittedError('ItemKNN');
    if (query !== null) checkQuery(query, this.sims.nRows, 'ItemKNN');
    return this.sims;
  }
}

/**
 * The interaction matrix with each count replaced by its weight. A count <= 0 (returns
 * netting out purchases) means "not bought": its entry is left out of the item vectors.
 */
function weightMatrix(input: CsrMatrix, o: ItemKNNOptions): CsrMatrix {
  const m = positiveEntries(input);
  // In shared memory where the platform has it: the co-occurrence kernel's workers read it as it is.
  const values = sharedFloat32(m.values.length);
  const src = m.values;
  switch (o.weighting) {
    case 'binary':
      values.fill(1);
      break;
    case 'count':
      values.set(src);
      break;
    case 'log1p':
      // Counts are mostly small integers: their log1p is looked up, the same float32 either way.
      for (let p = 0; p < src.length; p++) {
        const c = src[p];
        values[p] = c === (c & 255) ? LOG1P_SMALL[c] : Math.log1p(c);
      }
      break;
    case 'bm25':
      bm25(m, o.bm25K1, o.bm25B, values);
      break;
  }
  return new CsrMatrix(m.nRows, m.nCols, m.indptr, m.indices, values);
}

/** log1p(c) for the integer counts c < 256. */
const LOG1P_SMALL = Float64Array.from({ length: 256 }, (_, c) => Math.log1p(c));

function positiveEntries(m: CsrMatrix): CsrMatrix {
  const { nRows, indptr, indices, values } = m;
  let kept = 0;
  for (let p = 0; p < values.length; p++) if (values[p] > 0) kept++;
  if (kept === values.length) return m;
  const ptr = new Int32Array(nRows + 1);
  const idx = new Int32Array(kept);
  const val = new Float32Array(kept);
  let q = 0;
  for (let r = 0; r < nRows; r++) {
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      if (!(values[p] > 0)) continue;
      idx[q] = indices[p];
      val[q++] = values[p];
    }
    ptr[r + 1] = q;
  }
  return new CsrMatrix(nRows, m.nCols, ptr, idx, val);
}

/**
 * Items are the documents and users the terms: idf(u) = log(1 + (nItems - n_u + 0.5) /
 * (n_u + 0.5)) with n_u the user's distinct items (always positive), so a shopper who buys
 * half the store says little about any pair; tf saturates with k1 and is normalized by the
 * item's total purchases against the mean with b.
 */
function bm25(m: CsrMatrix, k1: number, b: number, out: Float32Array): void {
  const { nRows, nCols, indptr, indices, values } = m;
  const length = new Float64Array(nCols);
  for (let p = 0; p < values.length; p++) length[indices[p]] += values[p];
  let sum = 0;
  let docs = 0;
  for (let i = 0; i < nCols; i++) {
    if (length[i] > 0) {
      sum += length[i];
      docs++;
    }
  }
  const avg = docs > 0 ? sum / docs : 1;
  for (let u = 0; u < nRows; u++) {
    const nu = indptr[u + 1] - indptr[u];
    const idf = Math.log(1 + (nCols - nu + 0.5) / (nu + 0.5));
    for (let p = indptr[u]; p < indptr[u + 1]; p++) {
      const tf = values[p];
      out[p] = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length[indices[p]]) / avg));
    }
  }
}

/**
 * RP3beta as a symmetric co-occurrence, so that it runs on the parallel kernel: with P(i -> u)
 * = w(u, i) / d(i) and P(u -> j) = w(u, j) / d(u),
 *   sim(i, j) = d(i)^-alpha n(j)^-beta S(i, j), S(i, j) = sum_u w'(u, i) w'(u, j),
 *   w'(u, i) = w(u, i)^alpha d(u)^(-alpha / 2) (`walk`, S is symmetric).
 * Within row i, d(i)^-alpha is constant, and so is n(i)^-beta, so row i ranks its partners as
 * the symmetric S(i, j) n(i)^-beta n(j)^-beta does (the 'product' measure with `factors`
 * n^-beta): the kernel keeps the right top N, and multiplying row i by `rowScale`
 * d(i)^-alpha n(i)^beta then gives sim(i, j) itself.
 */
function rp3betaWalk(m: CsrMatrix, alpha: number, beta: number): { walk: CsrMatrix; factors: Float64Array; rowScale: Float64Array } {
  const { nRows, nCols, indptr, indices, values } = m;
  const degree = new Float64Array(nCols);
  const buyers = new Float64Array(nCols);
  for (let p = 0; p < values.length; p++) {
    degree[indices[p]] += values[p];
    buyers[indices[p]]++;
  }
  const walk = new Float32Array(values.length);
  for (let u = 0; u < nRows; u++) {
    let du = 0;
    for (let p = indptr[u]; p < indptr[u + 1]; p++) du += values[p];
    const scale = du ** (-alpha / 2);
    for (let p = indptr[u]; p < indptr[u + 1]; p++) walk[p] = values[p] ** alpha * scale;
  }
  const factors = new Float64Array(nCols);
  const rowScale = new Float64Array(nCols);
  for (let i = 0; i < nCols; i++) {
    // An item nobody bought has no pairs: its factor never meets a value.
    if (buyers[i] === 0) continue;
    factors[i] = buyers[i] ** -beta;
    rowScale[i] = degree[i] ** -alpha * buyers[i] ** beta;
  }
  return { walk: new CsrMatrix(nRows, nCols, indptr, indices, walk), factors, rowScale };
}

/** Multiplies row i of `m` by scale[i], in place. */
function scaleRows(m: CsrMatrix, scale: Float64Array): void {
  const { indptr, values } = m;
  for (let i = 0; i < m.nRows; i++) for (let p = indptr[i]; p < indptr[i + 1]; p++) values[p] *= scale[i];
}

/** Divides each row of `m` by the sum of its values, in place (an empty row stays empty). */
function normalizeRowSums(m: CsrMatrix): void {
  const { indptr, values } = m;
  for (let i = 0; i < m.nRows; i++) {
    let sum = 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) sum += values[p];
    if (!(sum > 0)) continue;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) values[p] /= sum;
  }
}

function columnNorms(m: CsrMatrix): Float64Array {
  const sq = new Float64Array(m.nCols);
  const { indices, values } = m;
  for (let p = 0; p < values.length; p++) sq[indices[p]] += values[p] * values[p];
  for (let i = 0; i < sq.length; i++) sq[i] = Math.sqrt(sq[i]);
  return sq;
}

function historyWeight(count: number, how: HistoryWeighting): number {
  if (!(count > 0)) return 0;
  return how === 'binary' ? 1 : how === 'count' ? count : Math.log1p(count);
}

function joinNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
