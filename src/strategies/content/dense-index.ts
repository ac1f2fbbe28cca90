/**
 * Dense (MiniLM) item vectors for ContentBased: every item is scored, one dot product each, or
 * (with a vector index attached to ContentBased) only the index's best items for the profile.
 */
import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { readF32 } from '../../artifact/validate';
import type { VectorIndex, VectorSource } from '../../util/ann';
import type { JsonObject } from '../../util/json';
import { TopK } from '../../util/topk';
import type { ScoreVector } from '../types';
import type { DenseItemVectors } from './encoder';
import type { ContentIndex, Profile } from './vectors';

export class DenseContentIndex implements ContentIndex {
  readonly format = 'dense';
  // Scratch of similarItems.
  private readonly itemScore: Float32Array;
  private readonly row: Float64Array;
  // The profile as an index query.
  private readonly query: Float32Array;

  constructor(readonly vectors: DenseItemVectors) {
    this.itemScore = new Float32Array(vectors.rows);
    this.row = new Float64Array(vectors.dim);
    this.query = new Float32Array(vectors.dim);
  }

  /**
   * What a vector index is built over: the unit item rows by inner product. A profile is one
   * unit vector and an item's score its inner product with the row (their cosine), so the
   * index orders items as score() does; 'ip' rather than 'cosine' because the rows are unit
   * already (zero rows for items without text, which score 0 either way).
   */
  get indexSource(): VectorSource {
    return { vectors: this.vectors.data, dim: this.vectors.dim, metric: 'ip' };
  }

  /**
   * Scores the `k` best items of `index` for the profile plus the profile's own items (a
   * sparse ScoreVector), each with the score score() gives it.
   */
  scoreCandidates(profile: Profile, index: VectorIndex, k: number, out: ScoreVector): void {
    this.query.set(profile.weights);
    const found = index.search(this.query, k).items;
    for (let c = 0; c < found.length; c++) out.set(found[c], this.profileScore(profile, found[c]));
    const own = profile.items;
    for (let c = 0; c < own.length; c++) if (!out.has(own[c])) out.set(own[c], this.profileScore(profile, own[c]));
  }

  get nItems(): number {
    return this.vectors.rows;
  }

  profile(items: Int32Array, itemWeights: Float64Array): Profile | null {
    const { dim, data } = this.vectors;
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

  score(profile: Profile, out: ScoreVector): void {
    denseScores(this.vectors, profile.weights, out.values);
    out.markDense();
  }

  profileScore(profile: Profile, item: number): number {
    const { dim, data } = this.vectors;
    let s = 0;
    for (let j = 0; j < dim; j++) s += profile.weights[j] * data[item * dim + j];
    return Math.fround(s);
  }

  similarity(a: number, b: number): number {
    const { dim, data } = this.vectors;
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[a * dim + j] * data[b * dim + j];
    return s;
  }

  /** Every profile item, in order: dense vectors give no cheap way to tell which are <= 0. */
  profileSimilarities(profile: Profile, item: number, positions: Int32Array, similarities: Float64Array): number {
    const items = profile.items;
    for (let k = 0; k < items.length; k++) {
      positions[k] = k;
      similarities[k] = this.similarity(items[k], item);
    }
    return items.length;
  }

  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array } {
    const { dim, data, rows } = this.vectors;
    const { itemScore, row } = this;
    for (let j = 0; j < dim; j++) row[j] = data[item * dim + j];
    denseScores(this.vectors, row, itemScore);
    const top = new TopK(k);
    for (let i = 0; i < rows; i++) if (i !== item && itemScore[i] > 0) top.push(i, itemScore[i]);
    return top.sorted();
  }

  save(out: SectionWriter): JsonObject {
    out.array('vectors', this.vectors.data);
    return { vectors: 'dense', nItems: this.vectors.rows, dim: this.vectors.dim };
  }

  /** The saved item vectors: nItems x dim finite values. */
  static load(sections: SectionReader, nItems: number, dim: number): DenseContentIndex {
    const data = readF32(sections, 'vectors', { length: nItems * dim });
    return new DenseContentIndex({ format: 'dense', rows: nItems, dim, data });
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
