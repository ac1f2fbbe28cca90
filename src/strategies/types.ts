import type { Dataset } from '../data/dataset';
import type { SectionReader, SectionWriter } from '../artifact/sections';
import type { LoadContext } from '../artifact/validate';

import type { JsonObject } from '../util/json';

export type { Json, JsonObject } from '../util/json';
export type { LoadContext } from '../artifact/validate';

/** Progress of long work: `done` of `total` units of `stage`. */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  message?: string;
}

export interface FitOptions {
  /** Seed for every random choice of the fit (default 42). */
  seed?: number;
  /**
   * Threads for the fit's parallel stages (default: every core when the worker pool is
   * installed, as the Node build of hybridrec does at import; 1 elsewhere, e.g. browsers).
   * 1 runs on the calling thread. Results are bit-identical whatever the count.
   */
  threads?: number;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

/** Items with weights (purchase counts or any positive weight), item indices unique. */
export interface SparseVector {
  items: Int32Array;
  weights: Float32Array;
}

/** A user's past baskets in order (a slice of Dataset.baskets, re-based to start at 0). */
export interface BasketTimeline {
  /** Lines of basket b: items[itemPtr[b] .. itemPtr[b+1]). */
  itemPtr: Int32Array;
  items: Int32Array;
  /** Per basket: days since the user's first basket, NaN when unknown. */
  day: Float64Array;
}

/**
 * What a strategy scores. The ensemble builds it: for a known user, `user` is their index and
 * `history`/`timeline` come from the fitted data; for an unknown user, `user` is -1 and the
 * history is whatever the caller passed (possibly empty). `basket` is the current cart or
 * anonymous session. Strategies never look users up themselves, so they need not store
 * purchase histories in their artifacts.
 */
export interface Query {
  user: number;
  history: SparseVector;
  timeline: BasketTimeline | null;
  basket: Int32Array;
}

/**
 * One human-readable reason for an item's score from one strategy. `evidence` are the items
 * (indices) that caused it with their weight in it, strongest first.
 */
export interface Explanation {
  score: number;
  reason: string;
  evidence: Array<{ item: number; weight: number }>;
}

/**
 * What a saved artifact may hold. `customerData: false` writes a serving artifact: no
 * user-level state (user factors, user vectors, histories); queries then bring the
 * shopper's history. A strategy that cannot work without customer data throws an
 * OptionError naming itself.
 */
export interface SaveOptions {
  /** Default true. */
  customerData?: boolean;
}

/** How strategies turn an item index into a display name for reasons. */
export type ItemNamer = (item: number) => string;

/**
 * A strategy: fits on a dataset, scores queries into a ScoreVector, explains, and saves itself
 * as an artifact section. Scores are raw (any scale); the ensemble normalizes them. A score
 * says "more is better"; items a strategy has no opinion on stay untouched.
 */
export interface Recommender {
  /** Registry key of the class, e.g. 'itemknn'. Stored in artifacts. */
  readonly kind: string;
  readonly fitted: boolean;
  fit(data: Dataset, options?: FitOptions): Promise<void>;
  /** Adds this strategy's scores for `query` into `out` (which the caller has reset). */
  score(query: Query, out: ScoreVector): void;
  /** Why `item` scored for `query`, or null when this strategy gave it nothing. */
  explain(query: Query, item: number, name: ItemNamer): Explanation | null;
  /** Writes typed-array sections through `out` and returns the JSON state (options included) needed to load. */
  save(out: SectionWriter, options?: SaveOptions): JsonObject;
}

/**
 * What a strategy whose score() writes the same scores for every query (Popularity) adds
 * beside Recommender (whose six members stay as they are): `scoresVersion`, an object that
 * stays the same while those scores do and is replaced by every fit or load (null: not
 * fitted). A ranker may then score the strategy once and reuse its cut across queries.
 */
export interface QueryIndependentScores {
  readonly scoresVersion: object | null;
}

/** The strategy's scoresVersion when it declares query-independent scores, otherwise null. */
export function scoresVersionOf(strategy: Recommender): object | null {
  return (strategy as Partial<QueryIndependentScores>).scoresVersion ?? null;
}

/**
 * Rebuilds a fitted strategy from its artifact section. One per `kind`. `context` (given by
 * HybridRecommender.load) is the shape of the artifact's dataset, for the loader to check its
 * item and user counts against; a malformed state or section is an ArtifactError.
 */
export type StrategyLoader = (state: JsonObject, sections: SectionReader, context?: LoadContext) => Recommender | Promise<Recommender>;

/**
 * A dense score buffer over all items plus the list of items a strategy touched, so
 * sparse strategies (neighbors, rules, repeats) cost O(touched) to normalize and merge,
 * while dense ones (embeddings) mark the whole vector. Reused across queries: reset() is
 * O(touched).
 */
export class ScoreVector {
  readonly values: Float32Array;
  readonly touched: Int32Array;
  private readonly mark: Uint8Array;
  private count = 0;
  private isDense = false;

  constructor(readonly size: number) {
    this.values = new Float32Array(size);
    // One slot past the last item: addScaled writes the end of the list even when every item is listed.
    this.touched = new Int32Array(size + 1);
    this.mark = new Uint8Array(size);
  }

  /** Number of touched items (all items when dense). */
  get length(): number {
    return this.isDense ? this.size : this.count;
  }

  get dense(): boolean {
    return this.isDense;
  }

  /** The i-th touched item (i-th item when dense). */
  at(i: number): number {
    return this.isDense ? i : this.touched[i];
  }

  has(item: number): boolean {
    return this.isDense || this.mark[item] === 1;
  }

  add(item: number, score: number): void {
    if (this.mark[item] === 0) {
      this.mark[item] = 1;
      this.touched[this.count++] = item;
    }
    this.values[item] += score;
  }

  /**
   * add(indices[p], scale x weights[p]) for p in [start, end), in that order (the same
   * floats): one neighbor row of a sparse model. The loop keeps the touched count local,
   * which made ItemKNN's scoring of a long history 1.8x faster than add() per neighbor.
   */
  addScaled(indices: Int32Array, weights: Float32Array, start: number, end: number, scale: number): void {
    const { values, mark, touched } = this;
    let count = this.count;
    // Branch-free listing: every entry writes its item at the end of the list, and only a
    // first touch (mark 0) moves the end past it. Whether an entry is a first touch does not
    // follow a pattern in a long history's rows, and the mispredicted test took a fifth of the
    // loop (202 -> 158 us per shopper over the 60 longest histories at 200k x 50k).
    for (let p = start; p < end; p++) {
      const item = indices[p];
      touched[count] = item;
      count += 1 - mark[item];
      mark[item] = 1;
      values[item] += scale * weights[p];
    }
    this.count = count;
  }

  /** set(item, score) when the item is untouched or scores less, else nothing: the best of several scores (AssociationRules' 'max'). */
  max(item: number, score: number): void {
    if (this.mark[item] === 0) {
      this.mark[item] = 1;
      this.touched[this.count++] = item;
      this.values[item] = score;
    } else if (score > this.values[item]) this.values[item] = score;
  }

  set(item: number, score: number): void {
    if (this.mark[item] === 0) {
      this.mark[item] = 1;
      this.touched[this.count++] = item;
    }
    this.values[item] = score;
  }

  /** Declares that `values` holds a score for every item (the caller wrote it directly). */
  markDense(): void {
    this.isDense = true;
  }

  reset(): void {
    // Past a sixteenth of the items, clearing every item sequentially beats clearing the
    // touched ones at random (measured at 50k items: 4 us against 36 us for 25k touched, a
    // long history's ItemKNN query).
    if (this.isDense || this.count > this.size >> 4) {
      this.values.fill(0);
      this.mark.fill(0);
      this.isDense = false;
    } else {
      for (let i = 0; i < this.count; i++) {
        const item = this.touched[i];
        this.values[item] = 0;
        this.mark[item] = 0;
      }
    }
    this.count = 0;
  }
}
