/**
 * Sparse (TF-IDF) item vectors for ContentBased: an inverted index (term -> items), so only
 * items sharing a distinctive term with the profile become candidates.
 */
import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { CsrMatrix } from '../../data/csr';
import { readCsr } from '../../artifact/validate';
import type { JsonObject } from '../../util/json';
import { AscendingSet } from '../../util/ascending-set';
import { TopK } from '../../util/topk';
import type { ScoreVector } from '../types';
import type { CandidateLimits, ContentIndex, Profile } from './vectors';

/** Profile terms ranked up front for candidate gathering (see score). */
const STRONGEST_TERMS = 32;

export class SparseContentIndex implements ContentIndex {
  readonly format = 'sparse';
  /** Transpose of the item matrix: the items of each term. */
  private readonly inverted: CsrMatrix;
  // Scratch reused across queries, kept zeroed between uses.
  private readonly candidates: Int32Array;
  private readonly itemScore: Float32Array;
  private readonly acc: Float64Array;
  private readonly accSet: AscendingSet;
  /** Profile weight per term during scoring (0 elsewhere). */
  private readonly termWeight: Float64Array;
  /** The profile's strongest candidate terms during scoring (cleared before each use). */
  private readonly strongestTerms = new TopK(STRONGEST_TERMS);
  /** Positions in the profile's terms of the eligible terms past the strongest, and marks of the strongest (0 between uses). */
  private readonly restTerms: Int32Array;
  private readonly inHead: Uint8Array;
  /** similarity()'s second item, its weight per term (0 elsewhere), and which item that is (-1: none). */
  private readonly spread: Float64Array;
  private spreadItem = -1;
  /**
   * profileSimilarities()'s inverted index of one profile's item rows: per term a chain of
   * postings (profile position, value), headed by termPosting[term] (posting + 1, 0: none).
   * Built in one pass once per profile (the explained items of a query share it), so an
   * explained item walks only the postings of its own terms instead of every profile item's row.
   */
  private postingsOf: Profile | null = null;
  private readonly termPosting: Int32Array;
  private postingTerms = new Int32Array(0);
  private nPostingTerms = 0;
  /**
   * The postings, three words each in one buffer: the profile position (int32), the value
   * (float32, through `postingValue`, a view of the same buffer) and the next posting of the
   * term (int32, -1: none). A step along a chain reads one cache line where three arrays cost
   * a line each.
   */
  private postings = new Int32Array(0);
  private postingValue = new Float32Array(0);
  /** profileSimilarities()'s sum per profile position (0 between uses). */
  private positionSum = new Float64Array(0);

  /** `matrix`: items x terms, rows L2-normalized with ascending term indices. */
  constructor(readonly matrix: CsrMatrix) {
    this.inverted = matrix.transpose();
    this.candidates = new Int32Array(matrix.nRows);
    this.itemScore = new Float32Array(matrix.nRows);
    this.acc = new Float64Array(matrix.nCols);
    this.accSet = new AscendingSet(matrix.nCols);
    this.termWeight = new Float64Array(matrix.nCols);
    this.restTerms = new Int32Array(matrix.nCols);
    this.inHead = new Uint8Array(matrix.nCols);
    this.spread = new Float64Array(matrix.nCols);
    this.termPosting = new Int32Array(matrix.nCols);
  }

  get nItems(): number {
    return this.matrix.nRows;
  }

  profile(items: Int32Array, itemWeights: Float64Array): Profile | null {
    const { indptr, indices, values } = this.matrix;
    const { acc, accSet } = this;
    // The purchases' rows are read whole below: touch them all first (CsrMatrix.touchRows).
    this.matrix.touchRows(items, items.length);
    for (let k = 0; k < items.length; k++) {
      const w = itemWeights[k];
      for (let p = indptr[items[k]]; p < indptr[items[k] + 1]; p++) {
        const t = indices[p];
        const c = w * values[p];
        if (c === 0) continue;
        if (acc[t] === 0) accSet.add(t);
        acc[t] += c;
      }
    }
    // Ascending terms make the accumulation order (and so every float) independent of history order.
    const terms = accSet.drain();
    const nTerms = terms.length;
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

  /**
   * Candidates come from the profile's distinctive terms, strongest first (see
   * ContentBasedOptions.candidateMaxDf and maxCandidates); each gets its exact cosine, summed
   * in the item's term order as profileScore() does, so explain() agrees bit for bit.
   */
  score(profile: Profile, out: ScoreVector, limits: CandidateLimits): void {
    const inv = this.inverted;
    const matrix = this.matrix;
    const terms = profile.terms!;
    const { candidates, termWeight, strongestTerms: strongest } = this;
    // Small catalogs are cheap to score whole: the cut starts above 100 items per term.
    const maxDf = Math.max(100, Math.floor(limits.candidateMaxDf * matrix.nRows));
    let distinctive = false;
    for (let k = 0; k < terms.length; k++) {
      const t = terms[k];
      termWeight[t] = profile.weights[k];
      if (inv.indptr[t + 1] - inv.indptr[t] <= maxDf) distinctive = true;
    }
    // A profile of common words only (a one-item "Milk" basket) still gets candidates.
    const limit = distinctive ? maxDf : Infinity;
    const budget = limits.maxCandidates;
    const invPtr = inv.indptr;
    // The budget is usually spent within a few terms: select the strongest STRONGEST_TERMS
    // first (a long history has hundreds of terms, and sorting them all was a tail cost) and
    // order the rest only when the budget outlasts them.
    strongest.clear();
    let nEligible = 0;
    for (let k = 0; k < terms.length; k++) {
      if (invPtr[terms[k] + 1] - invPtr[terms[k]] > limit) continue;
      nEligible++;
      strongest.push(k, profile.weights[k]);
    }
    // sorted(), not drainInto(): the heap holds float32 copies of the float64 weights pushed,
    // and only a full sort orders two weights that round to one float32 by term.
    const head = strongest.sorted().items;
    const nHead = head.length;
    let nCandidates = 0;
    for (let i = 0; i < nHead && nCandidates < budget; i++) nCandidates = this.gather(terms[head[i]], out, nCandidates);
    if (nCandidates < budget && nEligible > nHead) {
      const { restTerms, inHead } = this;
      for (let i = 0; i < nHead; i++) inHead[head[i]] = 1;
      let nRest = 0;
      for (let k = 0; k < terms.length; k++) if (invPtr[terms[k] + 1] - invPtr[terms[k]] <= limit && inHead[k] === 0) restTerms[nRest++] = k;
      for (let i = 0; i < nHead; i++) inHead[head[i]] = 0;
      // Strongest first (ties to the lower position) from a heap, popped only while the budget
      // lasts: a long history's rest is hundreds of terms, of which a few are taken, and a
      // comparator sort of them all was a tenth of content scoring.
      const weights = profile.weights;
      for (let i = (nRest >> 1) - 1; i >= 0; i--) siftDown(restTerms, nRest, i, weights);
      for (let n = nRest; n > 0 && nCandidates < budget; ) {
        const k = restTerms[0];
        restTerms[0] = restTerms[--n];
        siftDown(restTerms, n, 0, weights);
        nCandidates = this.gather(terms[k], out, nCandidates);
      }
    }
    const { indptr, indices, values } = matrix;
    const scores = out.values;
    // Each candidate's row is read whole below: touch them all first (CsrMatrix.touchRows).
    matrix.touchRows(candidates, nCandidates);
    for (let c = 0; c < nCandidates; c++) {
      const item = candidates[c];
      let acc = 0;
      // Without the test for a profile term: a term outside the profile adds +0, which leaves
      // the sum of non-negative weights unchanged, and the loop no longer mispredicts.
      for (let p = indptr[item], end = indptr[item + 1]; p < end; p++) acc = Math.fround(acc + termWeight[indices[p]] * values[p]);
      // The candidate is in `out` already (gather set it to 0).
      scores[item] = acc;
    }
    for (let k = 0; k < terms.length; k++) termWeight[terms[k]] = 0;
  }

  /** Makes the items of term `t` candidates (score 0 in `out`, listed in `candidates` after the first nCandidates); returns the new count. */
  private gather(t: number, out: ScoreVector, nCandidates: number): number {
    const { indptr, indices } = this.inverted;
    const candidates = this.candidates;
    for (let p = indptr[t], end = indptr[t + 1]; p < end; p++) {
      const item = indices[p];
      if (!out.has(item)) {
        out.set(item, 0);
        candidates[nCandidates++] = item;
      }
    }
    return nCandidates;
  }

  profileScore(profile: Profile, item: number): number {
    const { indptr, indices, values } = this.matrix;
    const terms = profile.terms!;
    let acc = 0;
    let k = 0;
    for (let p = indptr[item]; p < indptr[item + 1]; p++) {
      const t = indices[p];
      // The first profile term >= t by binary search from k: a long history's profile has
      // hundreds of terms, which a linear merge walked for each explained item.
      let hi = terms.length;
      while (k < hi) {
        const mid = (k + hi) >>> 1;
        if (terms[mid] < t) k = mid + 1;
        else hi = mid;
      }
      if (k < terms.length && terms[k] === t) acc = Math.fround(acc + profile.weights[k] * values[p]);
    }
    return acc;
  }

  /**
   * The dot product over the terms the two items share, in ascending term order. `b`'s vector
   * is kept spread over the terms (explain() compares one item with every profile item), so a
   * call reads `a`'s terms only; a term `b` lacks adds values x 0 = +0, which leaves the sum
   * of non-negative products unchanged: the same float as a merge of the two term lists.
   */
  similarity(a: number, b: number): number {
    const { indptr, indices, values } = this.matrix;
    const spread = this.spread;
    if (b !== this.spreadItem) {
      if (this.spreadItem >= 0) for (let q = indptr[this.spreadItem]; q < indptr[this.spreadItem + 1]; q++) spread[indices[q]] = 0;
      for (let q = indptr[b]; q < indptr[b + 1]; q++) spread[indices[q]] = values[q];
      this.spreadItem = b;
    }
    let s = 0;
    for (let p = indptr[a], end = indptr[a + 1]; p < end; p++) s += values[p] * spread[indices[p]];
    return s;
  }

  /**
   * The profile positions k whose item shares a term with `item` (the others' similarity is
   * 0), with similarity(profile.items[k], item) for each: each sum adds the products of the
   * terms the two items share in ascending term order (item's terms ascending, one posting
   * per profile item and term), the sequence similarity() adds less its +0 terms, so the same
   * float. A long history's profile has hundreds of items, of which an item's terms reach a
   * part: explain() offers only those.
   */
  profileSimilarities(profile: Profile, item: number, positions: Int32Array, similarities: Float64Array): number {
    if (this.postingsOf !== profile) this.buildPostings(profile);
    const { indptr, indices, values } = this.matrix;
    const { termPosting, postings, postingValue, positionSum } = this;
    let n = 0;
    for (let p = indptr[item], end = indptr[item + 1]; p < end; p++) {
      const v = values[p];
      // A 0 value adds +0 to every sum: left out, so that the sums below are 0 only before their first product.
      if (v === 0) continue;
      for (let q = 3 * (termPosting[indices[p]] - 1); q >= 0; q = 3 * postings[q + 2]) {
        const k = postings[q];
        // Postings (left out when 0) and values are >= 0: a position's sum is 0 until its first product.
        if (positionSum[k] === 0) positions[n++] = k;
        positionSum[k] += postingValue[q + 1] * v;
      }
    }
    for (let i = 0; i < n; i++) {
      similarities[i] = positionSum[positions[i]];
      positionSum[positions[i]] = 0;
    }
    return n;
  }

  /** The inverted index of `profile`'s item rows (see postingsOf). */
  private buildPostings(profile: Profile): void {
    const { indptr, indices, values } = this.matrix;
    const items = profile.items;
    const termPosting = this.termPosting;
    for (let j = 0; j < this.nPostingTerms; j++) termPosting[this.postingTerms[j]] = 0;
    let nnz = 0;
    for (let k = 0; k < items.length; k++) nnz += indptr[items[k] + 1] - indptr[items[k]];
    if (this.postingTerms.length < nnz) {
      this.postings = new Int32Array(3 * nnz);
      this.postingValue = new Float32Array(this.postings.buffer);
      this.postingTerms = new Int32Array(nnz);
    }
    if (this.positionSum.length < items.length) this.positionSum = new Float64Array(items.length);
    const { postingTerms, postings, postingValue } = this;
    let nTerms = 0;
    let n = 0;
    for (let k = 0; k < items.length; k++) {
      for (let p = indptr[items[k]], end = indptr[items[k] + 1]; p < end; p++) {
        // A 0 value adds +0 to a sum: left out.
        if (values[p] === 0) continue;
        const t = indices[p];
        if (termPosting[t] === 0) postingTerms[nTerms++] = t;
        postings[3 * n] = k;
        postingValue[3 * n + 1] = values[p];
        postings[3 * n + 2] = termPosting[t] - 1;
        termPosting[t] = ++n;
      }
    }
    this.nPostingTerms = nTerms;
    this.postingsOf = profile;
  }

  /** Only items sharing a term can have a positive similarity: walks the item's terms' postings. */
  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const { indptr, indices, values } = this.matrix;
    const inv = this.inverted;
    const { itemScore, candidates } = this;
    const top = new TopK(k);
    let touched = 0;
    for (let p = indptr[item]; p < indptr[item + 1]; p++) {
      const t = indices[p];
      const w = values[p];
      for (let q = inv.indptr[t]; q < inv.indptr[t + 1]; q++) {
        const other = inv.indices[q];
        if (itemScore[other] === 0) candidates[touched++] = other;
        itemScore[other] += w * inv.values[q];
      }
    }
    for (let i = 0; i < touched; i++) {
      const other = candidates[i];
      if (other !== item && itemScore[other] > 0) top.push(other, itemScore[other]);
      itemScore[other] = 0;
    }
    return top.sorted();
  }

  save(out: SectionWriter): JsonObject {
    const m = this.matrix;
    out.array('indptr', m.indptr);
    out.array('indices', m.indices);
    out.array('values', m.values);
    return { vectors: 'sparse', nItems: m.nRows, nTerms: m.nCols };
  }

  /** The saved item x term matrix: nItems x nTerms CSR, sorted unique terms per row, finite weights >= 0. */
  static load(sections: SectionReader, nItems: number, nTerms: number): SparseContentIndex {
    const { indptr, indices, values } = readCsr(sections, '', { nRows: nItems, nCols: nTerms }, { values: { min: 0 } });
    return new SparseContentIndex(new CsrMatrix(nItems, nTerms, indptr, indices, values));
  }
}

/** Whether profile term position a ranks before b: the larger weight, ties to the lower position. */
function stronger(weights: Float64Array, a: number, b: number): boolean {
  return weights[a] > weights[b] || (weights[a] === weights[b] && a < b);
}

/** Restores the max-heap (by stronger) of heap[0 .. n) below position i. */
function siftDown(heap: Int32Array, n: number, i: number, weights: Float64Array): void {
  const k = heap[i];
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && stronger(weights, heap[r], heap[l]) ? r : l;
    if (!stronger(weights, heap[c], k)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = k;
}
