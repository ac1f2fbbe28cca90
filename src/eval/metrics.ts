/**
 * Ranking metrics at a cutoff K, exactly as ../../BENCHMARKS.md defines them: binary
 * relevance, Precision@K always divides by K, AP@K and IDCG@K are normalised by
 * min(K, |T|). `ranked` holds distinct item indices, best first; only its first K count.
 */
import { OptionError } from '../errors';

/** Membership test for a held-out set. A ReadonlySet<number> is one; ItemSet is the reusable typed-array one. */
export interface TargetSet {
  readonly size: number;
  has(item: number): boolean;
}

/**
 * A set of item indices over a fixed index space, backed by a byte mask so membership is
 * O(1) and clear() is O(size): evaluation refills one instance per query instead of
 * allocating a Set.
 */
export class ItemSet implements TargetSet {
  private readonly mask: Uint8Array;
  private readonly members: Int32Array;
  private count = 0;

  constructor(readonly capacity: number) {
    this.mask = new Uint8Array(capacity);
    this.members = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  has(item: number): boolean {
    return this.mask[item] === 1;
  }

  add(item: number): void {
    if (!Number.isInteger(item) || item < 0 || item >= this.capacity) {
      throw new OptionError('item', `index ${item} is outside [0, ${this.capacity})`);
    }
    if (this.mask[item] === 1) return;
    this.mask[item] = 1;
    this.members[this.count++] = item;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.mask[this.members[i]] = 0;
    this.count = 0;
  }
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new OptionError('k', `must be an integer >= 1, got ${k}`);
}

function checkTarget(target: TargetSet, metric: string): void {
  if (target.size === 0) {
    throw new OptionError('target', `${metric} is undefined for an empty held-out set (such queries are skipped, not scored)`);
  }
}

/** Number of the first K ranked items that are in the target. */
export function hitsAtK(ranked: Int32Array, target: TargetSet, k: number): number {
  checkK(k);
  const n = Math.min(k, ranked.length);
  let hits = 0;
  for (let i = 0; i < n; i++) if (target.has(ranked[i])) hits++;
  return hits;
}

/** hits / K, even when fewer than K items were returned. */
export function precisionAtK(ranked: Int32Array, target: TargetSet, k: number): number {
  return hitsAtK(ranked, target, k) / k;
}

/** hits / |T|. */
export function recallAtK(ranked: Int32Array, target: TargetSet, k: number): number {
  checkTarget(target, 'Recall@K');
  return hitsAtK(ranked, target, k) / target.size;
}

/** (1 / min(K, |T|)) * sum over ranks i <= K of P@i * rel(i). */
export function averagePrecisionAtK(ranked: Int32Array, target: TargetSet, k: number): number {
  checkK(k);
  checkTarget(target, 'AP@K');
  const n = Math.min(k, ranked.length);
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (target.has(ranked[i])) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum / Math.min(k, target.size);
}

/** DCG@K / IDCG@K with binary gains, DCG = sum rel(i) / log2(i + 1), IDCG over min(K, |T|) hits. */
export function ndcgAtK(ranked: Int32Array, target: TargetSet, k: number): number {
  checkK(k);
  checkTarget(target, 'NDCG@K');
  const n = Math.min(k, ranked.length);
  let dcg = 0;
  for (let i = 0; i < n; i++) if (target.has(ranked[i])) dcg += 1 / Math.log2(i + 2);
  let idcg = 0;
  const ideal = Math.min(k, target.size);
  for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
  return dcg / idcg;
}

/**
 * NDCG@K with the ideal DCG over all of T (not min(K, |T|)): the convention of the
 * next-basket papers' code (e.g. the NBR-fairness `get_NDCG` used for P6), so a target larger
 * than K can never reach 1. Reported as NDCG-full for head-on comparison.
 */
export function ndcgFullAtK(ranked: Int32Array, target: TargetSet, k: number): number {
  checkK(k);
  checkTarget(target, 'NDCG-full@K');
  const n = Math.min(k, ranked.length);
  let dcg = 0;
  for (let i = 0; i < n; i++) if (target.has(ranked[i])) dcg += 1 / Math.log2(i + 2);
  let idcg = 0;
  for (let i = 0; i < target.size; i++) idcg += 1 / Math.log2(i + 2);
  return dcg / idcg;
}

/** 1 when at least one of the first K ranked items is in the target, else 0. */
export function hitAtK(ranked: Int32Array, target: TargetSet, k: number): number {
  return hitsAtK(ranked, target, k) > 0 ? 1 : 0;
}

/** Averages over evaluated queries (NaN when none was evaluated). */
export interface MetricSummary {
  k: number;
  precision: number;
  recall: number;
  map: number;
  ndcg: number;
  /** NDCG@K with IDCG over all of T (ndcgFullAtK). */
  ndcgFull: number;
  hitRate: number;
  /** Distinct items in any top-K list / catalog size. */
  coverage: number;
  /** Queries with a non-empty held-out set. */
  evaluated: number;
  /** Queries with an empty held-out set (not evaluated). */
  skipped: number;
}

/**
 * Averages the metrics over queries. Queries with an empty target are skipped and counted,
 * as the protocols require; coverage counts every item that reached a top-K list.
 */
export class MetricAccumulator {
  private readonly seen: Uint8Array;
  private distinct = 0;
  private evaluated = 0;
  private skipped = 0;
  private precision = 0;
  private recall = 0;
  private ap = 0;
  private ndcg = 0;
  private ndcgFull = 0;
  private hits = 0;

  /**
   * @param nItems size of the item index space (ranked items are < nItems)
   * @param catalogSize denominator of coverage: the number of items a ranker may recommend
   */
  constructor(
    readonly k: number,
    nItems: number,
    readonly catalogSize: number = nItems,
  ) {
    checkK(k);
    if (!Number.isInteger(nItems) || nItems < 0) throw new OptionError('nItems', `must be an integer >= 0, got ${nItems}`);
    if (!Number.isInteger(catalogSize) || catalogSize < 0) {
      throw new OptionError('catalogSize', `must be an integer >= 0, got ${catalogSize}`);
    }
    this.seen = new Uint8Array(nItems);
  }

  /** Adds one query; returns false (and counts it as skipped) when the target is empty. */
  add(ranked: Int32Array, target: TargetSet): boolean {
    if (target.size === 0) {
      this.skipped++;
      return false;
    }
    const { k } = this;
    this.evaluated++;
    this.precision += precisionAtK(ranked, target, k);
    this.recall += recallAtK(ranked, target, k);
    this.ap += averagePrecisionAtK(ranked, target, k);
    this.ndcg += ndcgAtK(ranked, target, k);
    this.ndcgFull += ndcgFullAtK(ranked, target, k);
    this.hits += hitAtK(ranked, target, k);
    const n = Math.min(k, ranked.length);
    for (let i = 0; i < n; i++) {
      const item = ranked[i];
      if (this.seen[item] === 0) {
        this.seen[item] = 1;
        this.distinct++;
      }
    }
    return true;
  }

  /** Records a query with an empty target without ranking it. */
  skip(): void {
    this.skipped++;
  }

  summary(): MetricSummary {
    const n = this.evaluated;
    const mean = (sum: number) => (n === 0 ? NaN : sum / n);
    return {
      k: this.k,
      precision: mean(this.precision),
      recall: mean(this.recall),
      map: mean(this.ap),
      ndcg: mean(this.ndcg),
      ndcgFull: mean(this.ndcgFull),
      hitRate: mean(this.hits),
      coverage: this.catalogSize === 0 ? NaN : this.distinct / this.catalogSize,
      evaluated: n,
      skipped: this.skipped,
    };
  }
}
