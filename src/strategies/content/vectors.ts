/**
 * What ContentBased needs of its item vectors, whatever their format: build a shopper's unit
 * profile, score it against the items, and compare items. One implementation per format:
 * sparse (TF-IDF, an inverted index) in sparse-index.ts, dense (MiniLM) in dense-index.ts.
 */
import type { SectionWriter } from '../../artifact/sections';
import type { JsonObject } from '../../util/json';
import type { ScoreVector } from '../types';

/** A shopper's unit-length profile. */
export interface Profile {
  /** Items the profile is made of, ascending. */
  items: Int32Array;
  /** Sparse: the profile's terms, ascending; dense: null. */
  terms: Int32Array | null;
  /** Unit-length profile weights (per term, or per dimension). */
  weights: Float64Array;
}

/** How scoring picks candidates (sparse vectors only; dense vectors score every item). */
export interface CandidateLimits {
  candidateMaxDf: number;
  maxCandidates: number;
}

export interface ContentIndex {
  readonly format: 'sparse' | 'dense';
  readonly nItems: number;
  /** The unit profile of items (ascending) with their weights, or null when none has a vector. */
  profile(items: Int32Array, itemWeights: Float64Array): Profile | null;
  /** Sets the cosine of the profile with the candidate items (sparse) or every item (dense) in `out`. */
  score(profile: Profile, out: ScoreVector, limits: CandidateLimits): void;
  /** The score score() gives `item`, with the same float operations in the same order. */
  profileScore(profile: Profile, item: number): number;
  /** Cosine similarity of two items' vectors. */
  similarity(a: number, b: number): number;
  /**
   * Explain's evidence: lists in positions[0 .. n) (n returned) the profile positions k whose
   * similarity(profile.items[k], item) may be positive, with that similarity (the same float)
   * in similarities[i]; every profile item not listed has a similarity <= 0. Both arrays have
   * room for every profile item.
   */
  profileSimilarities(profile: Profile, item: number, positions: Int32Array, similarities: Float64Array): number;
  /** The k items most similar to `item` with a positive similarity, best first (ties by lower index), without `item`. */
  similarItems(item: number, k: number): { items: Int32Array; scores: Float32Array };
  /** Writes the vectors and returns their JSON state. */
  save(out: SectionWriter): JsonObject;
}
