/**
 * Exact frequent itemset mining over baskets, written here because no npm package does it
 * correctly at grocery scale: `apriori` 1.0.7 keeps one rule per antecedent, reports no
 * support or lift and took 15 s on 10k baskets; `node-fpgrowth` finds itemsets but no rules
 * and overflows the stack from about 500k baskets.
 *
 * Algorithm: Apriori (Agrawal & Srikant 1994) over a prefix tree of itemsets, as in Borgelt's
 * implementation inside R arules, tuned for millions of sparse baskets:
 * - items below the support threshold go first (at Instacart scale most of 50k products), the
 *   rest are ranked by ascending frequency and each basket becomes a sorted list of ranks
 *   (baskets with fewer than two left are dropped);
 * - pairs are counted in sequential passes into blocks of a triangle of counters, or item by
 *   item over occurrence lists when the triangle would need too many passes;
 * - level k >= 3: candidates join two frequent (k-1)-sets with the same prefix (siblings in
 *   the tree) and must have every other (k-1)-subset frequent; one sequential pass walks each
 *   basket down the tree through the nodes that lead to candidates and counts them.
 * Sequential passes matter: visiting each item's baskets (Eclat, LCM, FP-growth projections)
 * costs a cache miss per visit once the baskets outgrow the cache, and measured slower here.
 * Recursion depth is the itemset length, never the number of baskets or tree nodes.
 *
 * The result is a prefix tree of frequent itemsets (children contiguous, sorted by rank),
 * which answers "support count of this subset" in |subset| binary searches: rule generation
 * needs exactly that.
 */
import { DataError, OptionError } from '../../errors';
import { defineKernel, rangesByCost, resolveThreads, runKernel } from '../../util/parallel';
import { integer, nullable, number, resolveOptions, type Check, type OptionChecks } from '../../util/options';
import { Pace } from '../../util/pace';
import type { Progress } from '../types';

/**
 * Baskets as CSR: the items of transaction t are items[ptr[t] .. ptr[t+1]) (indices in
 * [0, nItems)). An item repeated within a transaction counts once.
 */
export interface Transactions {
  ptr: Int32Array;
  items: Int32Array;
  nItems: number;
}

export interface ItemsetOptions {
  /**
   * Minimum support as a fraction of transactions. The absolute threshold is
   * `ceil(nTransactions * minSupport)` computed in double precision, the convention of
   * R arules / Borgelt's apriori (0.001 x 9835 = 9.835 -> 10 baskets).
   */
  minSupport?: number;
  /** Minimum support as a basket count; with minSupport, the larger threshold applies. */
  minCount?: number;
  /** Longest itemset (default 10, as arules' maxlen). */
  maxLength?: number;
  /**
   * Stop before a level (itemset length >= 3) whose candidates would take the number of
   * itemsets past this (default Infinity). Dense data (whole user histories of hundreds of
   * items) has tens of millions of frequent triples; the cap keeps mining bounded, and
   * FrequentItemsets.truncatedAt says which length was not mined.
   */
  maxItemsets?: number;
  /**
   * Pair counters per sequential pass over the baskets (default 2^22, 16 MB). Pairs of the kept
   * items are counted in blocks of this many; when that takes more than 16 passes (above
   * about 11,600 kept items by default) or this is 0, pairs are counted item by item like
   * longer itemsets instead. Results are the same either way, only speed and memory differ.
   */
  pairCounters?: number;
  /** Threads for pair counting (default: all the executor has, see util/parallel; 1 runs on the calling thread). The result is the same for any count. */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** The absolute support threshold of arules: ceil(n * minSupport) in doubles, at least 1, at least minCount. */
export function supportThreshold(nTransactions: number, minSupport: number, minCount: number): number {
  return Math.max(1, minCount, Math.ceil(nTransactions * minSupport));
}

/** Checks of the itemset options, shared with AssociationRules. */
export const ITEMSET_CHECKS = {
  minSupport: number({ min: 0, max: 1 }),
  minCount: integer({ min: 1 }),
  maxLength: integer({ min: 1 }),
  maxItemsets: integer({ min: 1, infinity: true }),
  pairCounters: integer({ min: 0 }),
} satisfies Record<string, Check<number>>;

type ItemsetSettings = { minSupport: number | null; minCount: number | null; maxLength: number; maxItemsets: number; pairCounters: number };

const SETTINGS_DEFAULTS: Readonly<ItemsetSettings> = Object.freeze({
  minSupport: null,
  minCount: null,
  maxLength: 10,
  maxItemsets: Infinity,
  pairCounters: 1 << 22,
});

const SETTINGS_CHECKS: OptionChecks<ItemsetSettings> = {
  ...ITEMSET_CHECKS,
  minSupport: nullable(ITEMSET_CHECKS.minSupport),
  minCount: nullable(ITEMSET_CHECKS.minCount),
};

/** An Int32Array that grows by doubling (tree node and candidate columns). */
export class GrowingI32 {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Frequent itemsets in flat form: set k is items[ptr[k] .. ptr[k+1]) (ascending item indices) with count[k]. */
export interface ItemsetArrays {
  ptr: Int32Array;
  items: Int32Array;
  count: Int32Array;
}

/**
 * All itemsets with support count >= minCount and length <= maxLength, as a prefix tree over
 * frequency ranks. Node 0 is the empty set (count = nTransactions); node n > 0 adds rank
 * nodeRank[n] to its parent's set; the children of n are childStart[n] .. childEnd[n],
 * sorted by rank.
 */
export class FrequentItemsets {
  private rankOf: Int32Array | null = null;

  constructor(
    readonly nTransactions: number,
    readonly nItems: number,
    readonly minCount: number,
    readonly maxLength: number,
    /** Support count of every item (frequent or not). */
    readonly itemCount: Int32Array,
    /** Item index of each frequency rank (rank 0 = least frequent kept item). */
    readonly rankItem: Int32Array,
    readonly nodeRank: Int32Array,
    readonly nodeCount: Int32Array,
    readonly nodeParent: Int32Array,
    readonly nodeDepth: Int32Array,
    readonly childStart: Int32Array,
    readonly childEnd: Int32Array,
    /** The itemset length that was not mined because its candidates exceeded maxItemsets (longer ones neither); null when mining was complete. */
    readonly truncatedAt: number | null = null,
  ) {}

  /** Number of frequent itemsets (the empty set not counted). */
  get size(): number {
    return this.nodeRank.length - 1;
  }

  /** Tree node of a set of ranks sorted ascending (leaving out position `skip`), or -1 when it is not frequent. */
  nodeOfRanks(ranks: Int32Array, skip = -1): number {
    return findNode(this.nodeRank, this.childStart, this.childEnd, ranks, ranks.length, skip);
  }

  /** Support count of a set of item indices; 0 when it is not frequent (or not within maxLength). */
  count(items: ArrayLike<number>): number {
    const rankOf = (this.rankOf ??= this.rankOfItem());
    const ranks: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (!(it >= 0 && it < this.nItems)) return 0;
      const r = rankOf[it];
      if (r < 0) return 0;
      ranks.push(r);
    }
    ranks.sort((a, b) => a - b);
    for (let k = 1; k < ranks.length; k++) if (ranks[k] === ranks[k - 1]) ranks.splice(k--, 1);
    const node = this.nodeOfRanks(Int32Array.from(ranks));
    return node < 0 ? 0 : this.nodeCount[node];
  }

  /** Rank of each item index, -1 for infrequent items. */
  rankOfItem(): Int32Array {
    const rankOf = new Int32Array(this.nItems).fill(-1);
    for (let r = 0; r < this.rankItem.length; r++) rankOf[this.rankItem[r]] = r;
    return rankOf;
  }

  /** Writes the item indices of a node's set, ascending, to out[offset ..]; returns its length. */
  writeItems(node: number, out: Int32Array, offset: number): number {
    const len = this.nodeDepth[node];
    let d = len;
    for (let n = node; n > 0; n = this.nodeParent[n]) out[offset + --d] = this.rankItem[this.nodeRank[n]];
    sortRun(out, offset, offset + len);
    return len;
  }

  /** Number of frequent itemsets by length: hist[k] = sets of k items. */
  lengthHistogram(): number[] {
    const hist = [0];
    for (let n = 1; n < this.nodeDepth.length; n++) {
      const d = this.nodeDepth[n];
      while (hist.length <= d) hist.push(0);
      hist[d]++;
    }
    while (hist.length > 1 && hist[hist.length - 1] === 0) hist.pop();
    return hist;
  }

  /** The itemsets ordered by length, then count descending, then items lexicographically. */
  toArrays(): ItemsetArrays {
    const n = this.size;
    const { nodeDepth, nodeCount } = this;
    const at = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) at[k + 1] = at[k] + nodeDepth[k + 1];
    const flat = new Int32Array(at[n]);
    for (let k = 0; k < n; k++) this.writeItems(k + 1, flat, at[k]);
    const order = Array.from({ length: n }, (_, k) => k);
    order.sort(
      (a, b) => nodeDepth[a + 1] - nodeDepth[b + 1] || nodeCount[b + 1] - nodeCount[a + 1] || compareRuns(flat, at[a], at[a + 1], at[b], at[b + 1]),
    );
    const ptr = new Int32Array(n + 1);
    const items = new Int32Array(at[n]);
    const count = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const m = order[k];
      items.set(flat.subarray(at[m], at[m + 1]), ptr[k]);
      ptr[k + 1] = ptr[k] + at[m + 1] - at[m];
      count[k] = nodeCount[m + 1];
    }
    return { ptr, items, count };
  }
}

/** Lexicographic order of the runs a[a0, a1) and a[b0, b1) of one array (a shorter prefix first). */
export function compareRuns(a: Int32Array, a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) if (a[a0 + i] !== a[b0 + i]) return a[a0 + i] - a[b0 + i];
  return a1 - a0 - (b1 - b0);
}

/** Beyond this many passes pairs are counted item by item instead. */
const MAX_PAIR_PASSES = 16;
/** Baskets per pacing check (a clock read) in the counting passes. */
const PACE_MASK = 1023;

/**
 * Mines all frequent itemsets of `tx`. Needs minSupport or minCount (an unbounded search is
 * never a default). Long passes yield to the event loop now and then, so `signal` can stop
 * them mid-run.
 */
export async function mineItemsets(tx: Transactions, options: ItemsetOptions): Promise<FrequentItemsets> {
  const { signal, onProgress, threads, ...given } = options ?? ({} as ItemsetOptions);
  const o = resolveOptions('mineItemsets', SETTINGS_DEFAULTS, given, SETTINGS_CHECKS);
  if (o.minSupport === null && o.minCount === null) throw new OptionError('mineItemsets.minSupport', 'give minSupport or minCount');
  const pace = new Pace(signal, 'itemset mining');
  // No itemset is longer than the catalog: a larger maxLength (a caller's 2^53) must not size arrays.
  const maxLength = Math.min(o.maxLength, Math.max(1, tx.nItems));
  const nTx = tx.ptr.length - 1;
  const minCount = supportThreshold(nTx, o.minSupport ?? 0, o.minCount ?? 1);

  const itemCount = countItems(tx);
  const kept: number[] = [];
  for (let i = 0; i < tx.nItems; i++) if (itemCount[i] >= minCount) kept.push(i);
  // Ascending frequency, as Borgelt's apriori: rare items head the prefixes and have few
  // frequent extensions, so the tree and the candidate joins stay small near the root.
  kept.sort((a, b) => itemCount[a] - itemCount[b] || a - b);
  const nRanks = kept.length;
  const rankItem = Int32Array.from(kept);
  const rows = rankRows(tx, rankItem, itemCount);
  if (pace.due()) await pace.pause();

  const tree = new Tree(nRanks + 1);
  tree.add(-1, nTx, -1, 0);
  if (nRanks > 0) {
    tree.childStart.data[0] = 1;
    tree.childEnd.data[0] = 1 + nRanks;
    for (let r = 0; r < nRanks; r++) tree.add(r, itemCount[rankItem[r]], 0, 1);
  }
  const block = o.pairCounters;
  if (maxLength >= 2) {
    onProgress?.({ stage: 'mine itemsets', done: 1, total: maxLength });
    const run: PairRun = { threads, signal, stage: 'itemset mining' };
    if (block > 0 && (nRanks * (nRanks - 1)) / 2 / block <= MAX_PAIR_PASSES) await countPairs(rows, nRanks, minCount, tree, block, run);
    else await countPairsByItem(rows, nRanks, itemCount, rankItem, minCount, tree, run);
  }
  const levelStart = [0, 1, 1 + nRanks];
  const maxItemsets = o.maxItemsets;
  let truncatedAt: number | null = null;
  for (let k = 3; k <= maxLength; k++) {
    onProgress?.({ stage: 'mine itemsets', done: k - 1, total: maxLength });
    levelStart.push(tree.size);
    const level = await countLevel(rows, tree, levelStart[k - 2], levelStart[k - 1], levelStart[k], k, minCount, maxItemsets - (tree.size - 1), pace);
    if (level === 'over budget') truncatedAt = k;
    if (level !== 'counted') break;
  }
  onProgress?.({ stage: 'mine itemsets', done: maxLength, total: maxLength });

  return new FrequentItemsets(
    nTx,
    tx.nItems,
    minCount,
    maxLength,
    itemCount,
    rankItem,
    tree.rank.view().slice(),
    tree.count.view().slice(),
    tree.parent.view().slice(),
    tree.depth.view().slice(),
    tree.childStart.view().slice(),
    tree.childEnd.view().slice(),
    truncatedAt,
  );
}

/** Validates the transaction CSR and counts the baskets holding each item (repeats within a basket once). */
function countItems(tx: Transactions): Int32Array {
  const { ptr, items, nItems } = tx;
  if (!(Number.isInteger(nItems) && nItems >= 0)) throw new DataError(`transactions: nItems must be a non-negative integer, got ${nItems}`);
  if (ptr.length < 1 || ptr[0] !== 0 || ptr[ptr.length - 1] !== items.length) {
    throw new DataError('transactions: ptr must start at 0 and end at items.length');
  }
  const nTx = ptr.length - 1;
  const itemCount = new Int32Array(nItems);
  // seen[i] is the last transaction that counted item i.
  const seen = new Int32Array(nItems).fill(-1);
  for (let t = 0; t < nTx; t++) {
    const end = ptr[t + 1];
    if (end < ptr[t]) throw new DataError(`transactions: ptr decreases at transaction ${t}`);
    for (let p = ptr[t]; p < end; p++) {
      const it = items[p];
      if (!(it >= 0 && it < nItems)) throw new DataError(`transaction ${t} has item index ${it} outside [0, ${nItems})`);
      if (seen[it] !== t) {
        seen[it] = t;
        itemCount[it]++;
      }
    }
  }
  return itemCount;
}

/** Baskets as sorted, unique rank lists (CSR); baskets with fewer than two kept items cannot hold a pair and are left out. */
interface RankRows {
  ptr: Int32Array;
  items: Int32Array;
}

function rankRows(tx: Transactions, rankItem: Int32Array, itemCount: Int32Array): RankRows {
  const { ptr, items } = tx;
  const rankOf = new Int32Array(tx.nItems).fill(-1);
  let nnz = 0;
  for (let r = 0; r < rankItem.length; r++) {
    rankOf[rankItem[r]] = r;
    nnz += itemCount[rankItem[r]];
  }
  const nTx = ptr.length - 1;
  const rowPtr = new Int32Array(nTx + 1);
  const row = new Int32Array(nnz);
  // seen[r] is the last transaction that wrote rank r, so repeats are dropped as they come.
  const seen = new Int32Array(rankItem.length).fill(-1);
  let nRows = 0;
  let write = 0;
  for (let t = 0; t < nTx; t++) {
    const start = write;
    for (let p = ptr[t]; p < ptr[t + 1]; p++) {
      const r = rankOf[items[p]];
      if (r >= 0 && seen[r] !== t) {
        seen[r] = t;
        row[write++] = r;
      }
    }
    if (write - start < 2) write = start;
    else {
      sortRun(row, start, write);
      rowPtr[++nRows] = write;
    }
  }
  return { ptr: rowPtr.slice(0, nRows + 1), items: row.slice(0, write) };
}

/** Sorts a[lo, hi) ascending; baskets and itemsets are short, so insertion sort beats a sort() call on each. */
export function sortRun(a: Int32Array, lo: number, hi: number): void {
  if (hi - lo > 32) {
    a.subarray(lo, hi).sort();
    return;
  }
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

/** Frequent pairs of the ranks [start, end) of a pair kernel: rank a has lengths[a - start] partners b > a, ascending, with their counts. */
interface FrequentPairs {
  lengths: Int32Array;
  partners: Int32Array;
  counts: Int32Array;
}

/** Collects frequent pairs per rank (ranks ascending, partners ascending within each). */
class PairCollector {
  private partners: GrowingI32 = new GrowingI32(1024);
  private counts: GrowingI32 = new GrowingI32(1024);
  readonly lengths: Int32Array;
  constructor(private readonly start: number, end: number) {
    this.lengths = new Int32Array(end - start);
  }
  add(a: number, b: number, count: number): void {
    this.partners.push(b);
    this.counts.push(count);
    this.lengths[a - this.start]++;
  }
  result(): FrequentPairs {
    return { lengths: this.lengths, partners: this.partners.view().slice(), counts: this.counts.view().slice() };
  }
}

interface TriangleInput {
  ptr: Int32Array;
  items: Int32Array;
  nRanks: number;
  minCount: number;
}

/**
 * Pairs (a, b > a) for the ranks a in [a0, a1), counted in one sequential pass over the
 * baskets into that block of the upper triangle of counters (row a holds pairs (a, b > a)).
 * Visiting each item's baskets instead costs a cache miss per visit at millions of baskets,
 * and one huge triangle a miss per increment.
 */
export const trianglePairsKernel = defineKernel('apriori.triangle-pairs', (input: TriangleInput, a0: number, a1: number): FrequentPairs => {
  const { ptr, items, nRanks, minCount } = input;
  // Row a of the block starts at base(a) + a + 1 (its first partner is a + 1).
  const rowStart = new Float64Array(a1 - a0 + 1);
  for (let a = a0; a < a1; a++) rowStart[a - a0 + 1] = rowStart[a - a0] + (nRanks - a - 1);
  const tri = new Int32Array(rowStart[a1 - a0]);
  const nRows = ptr.length - 1;
  for (let t = 0; t < nRows; t++) {
    const hi = ptr[t + 1];
    for (let i = lowerBound(items, ptr[t], hi - 1, a0); i < hi - 1; i++) {
      const a = items[i];
      if (a >= a1) break;
      const base = (rowStart[a - a0] - a - 1) | 0;
      for (let j = i + 1; j < hi; j++) tri[base + items[j]]++;
    }
  }
  const out = new PairCollector(a0, a1);
  for (let a = a0; a < a1; a++) {
    const base = (rowStart[a - a0] - a - 1) | 0;
    for (let b = a + 1; b < nRanks; b++) if (tri[base + b] >= minCount) out.add(a, b, tri[base + b]);
  }
  return out.result();
});

/**
 * Counts all pairs with the triangle kernel over blocks of ranks: each block holds at most
 * `block` counters and, when several threads run, about an equal share of the increments.
 * Counts are integers, so the result is the same for any cut and any thread count; on one
 * thread the blocks are the fewest passes that fit `block`.
 */
async function countPairs(rows: RankRows, nRanks: number, minCount: number, tree: Tree, block: number, run: PairRun): Promise<void> {
  const { ptr, items } = rows;
  // Increments of row a: the items after a in each basket holding it.
  const work = new Float64Array(nRanks);
  let total = 0;
  for (let t = 0; t + 1 < ptr.length; t++) {
    const hi = ptr[t + 1];
    for (let i = ptr[t]; i < hi; i++) work[items[i]] += hi - i - 1;
    total += ((hi - ptr[t]) * (hi - ptr[t] - 1)) / 2;
  }
  const share = Math.max(1, Math.ceil(total / resolveThreads(run.threads)));
  const bounds = [0];
  let counters = 0;
  let increments = 0;
  for (let a = 0; a < nRanks - 1; a++) {
    const rowCounters = nRanks - a - 1;
    if (a > bounds[bounds.length - 1] && (counters + rowCounters > block || increments >= share)) {
      bounds.push(a);
      counters = 0;
      increments = 0;
    }
    counters += rowCounters;
    increments += work[a];
  }
  if (nRanks > 1) bounds.push(nRanks - 1);
  const parts = await runKernel(trianglePairsKernel, { ptr, items, nRanks, minCount }, bounds, run);
  addPairs(tree, bounds, parts);
}

/** Adds the frequent pairs of kernel ranges (ranks bounds[r] .. bounds[r + 1]) as the children of their first rank. */
function addPairs(tree: Tree, bounds: ArrayLike<number>, parts: FrequentPairs[]): void {
  for (let r = 0; r < parts.length; r++) {
    const { lengths, partners, counts } = parts[r];
    let p = 0;
    for (let a = bounds[r]; a < bounds[r + 1]; a++) {
      tree.childStart.data[1 + a] = tree.size;
      for (const end = p + lengths[a - bounds[r]]; p < end; p++) tree.add(partners[p], counts[p], 1 + a, 2);
      tree.childEnd.data[1 + a] = tree.size;
    }
  }
}

/** How pair counting runs: threads and signal of the fit. */
interface PairRun {
  threads?: number;
  signal?: AbortSignal;
  stage: string;
}

/** The growing prefix tree: node columns, children of a node contiguous and sorted by rank. */
class Tree {
  readonly rank: GrowingI32;
  readonly count: GrowingI32;
  readonly parent: GrowingI32;
  readonly depth: GrowingI32;
  readonly childStart: GrowingI32;
  readonly childEnd: GrowingI32;

  constructor(capacity: number) {
    this.rank = new GrowingI32(capacity);
    this.count = new GrowingI32(capacity);
    this.parent = new GrowingI32(capacity);
    this.depth = new GrowingI32(capacity);
    this.childStart = new GrowingI32(capacity);
    this.childEnd = new GrowingI32(capacity);
  }

  get size(): number {
    return this.rank.length;
  }

  add(rank: number, count: number, parent: number, depth: number): void {
    this.rank.push(rank);
    this.count.push(count);
    this.parent.push(parent);
    this.depth.push(depth);
    this.childStart.push(0);
    this.childEnd.push(0);
  }

  /** True when the ranks path[0 .. len) without position `skip` form a set in the tree. */
  has(path: Int32Array, len: number, skip: number): boolean {
    return findNode(this.rank.data, this.childStart.data, this.childEnd.data, path, len, skip) >= 0;
  }
}

/** Node of the ranks path[0 .. len) (ascending) without position `skip`, by binary search down the tree; -1 when absent. */
function findNode(rank: Int32Array, childStart: Int32Array, childEnd: Int32Array, path: Int32Array, len: number, skip: number): number {
  let node = 0;
  for (let k = 0; k < len; k++) {
    if (k === skip) continue;
    const r = path[k];
    let lo = childStart[node];
    let hi = childEnd[node] - 1;
    node = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = rank[mid];
      if (m === r) {
        node = mid;
        break;
      }
      if (m < r) lo = mid + 1;
      else hi = mid - 1;
    }
    if (node < 0) return -1;
  }
  return node;
}

/** First position of a[lo, hi) (ascending there) holding a value >= v; hi when there is none. */
function lowerBound(a: Int32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface OccurrenceInput {
  ptr: Int32Array;
  items: Int32Array;
  /** Baskets holding rank a: occ[occStart[a] .. occEnd[a]). */
  occStart: Float64Array;
  occEnd: Float64Array;
  occ: Int32Array;
  nRanks: number;
  minCount: number;
}

/**
 * Pairs (a, b > a) for the ranks a in [a0, a1), item by item: the baskets of rank a (its
 * occurrence list) are scanned for their ranks above a, with one counter per rank.
 */
export const occurrencePairsKernel = defineKernel('apriori.occurrence-pairs', (input: OccurrenceInput, a0: number, a1: number): FrequentPairs => {
  const { ptr, items, occStart, occEnd, occ, nRanks, minCount } = input;
  const counts = new Int32Array(nRanks);
  const touched = new Int32Array(nRanks);
  const out = new PairCollector(a0, a1);
  for (let a = a0; a < a1; a++) {
    let nTouched = 0;
    for (let k = occStart[a]; k < occEnd[a]; k++) {
      const t = occ[k];
      const lo = ptr[t];
      for (let q = ptr[t + 1] - 1; q >= lo; q--) {
        const b = items[q];
        if (b <= a) break;
        if (counts[b]++ === 0) touched[nTouched++] = b;
      }
    }
    const partners = touched.subarray(0, nTouched).sort();
    for (let k = 0; k < nTouched; k++) {
      const b = partners[k];
      if (counts[b] >= minCount) out.add(a, b, counts[b]);
      counts[b] = 0;
    }
  }
  return out.result();
});

/** Pair-count work per occurrence-kernel range: a few milliseconds (abort stays prompt, threads balance). */
const OCCURRENCE_RANGE_WORK = 1 << 23;

/** Counts pairs item by item (occurrence lists), for more kept items than the triangle serves. */
async function countPairsByItem(rows: RankRows, nRanks: number, itemCount: Int32Array, rankItem: Int32Array, minCount: number, tree: Tree, run: PairRun): Promise<void> {
  const { ptr, items } = rows;
  const nRows = ptr.length - 1;
  const occPtr = new Float64Array(nRanks + 1);
  for (let a = 0; a < nRanks; a++) occPtr[a + 1] = occPtr[a] + itemCount[rankItem[a]];
  const occ = new Int32Array(occPtr[nRanks]);
  const occEnd = Float64Array.from(occPtr.subarray(0, nRanks));
  const work = new Float64Array(nRanks);
  for (let t = 0; t < nRows; t++) {
    for (let p = ptr[t]; p < ptr[t + 1]; p++) {
      occ[occEnd[items[p]]++] = t;
      work[items[p]] += ptr[t + 1] - p;
    }
  }
  const bounds = rangesByCost(nRanks, OCCURRENCE_RANGE_WORK, (a) => work[a]);
  // Baskets with fewer than two kept items were dropped, so a list can end before the next one starts.
  const parts = await runKernel(occurrencePairsKernel, { ptr, items, occStart: occPtr.subarray(0, nRanks), occEnd, occ, nRanks, minCount }, bounds, run);
  addPairs(tree, bounds, parts);
}

/**
 * Level k of Apriori, given every frequent set of k-1 items (tree nodes [prevStart, prevEnd),
 * their parents [parentStart, prevStart)). Candidates join two sibling (k-1)-sets (same
 * prefix) and must have every other (k-1)-subset frequent; one sequential pass over the
 * baskets counts them by walking each basket down the tree, only through nodes that lead to
 * candidates. Frequent candidates become the children of their (k-1)-set. Counts nothing
 * when there are more than `budget` candidates.
 */
async function countLevel(
  rows: RankRows,
  tree: Tree,
  parentStart: number,
  prevStart: number,
  prevEnd: number,
  k: number,
  minCount: number,
  budget: number,
  pace: Pace,
): Promise<'counted' | 'nothing frequent' | 'over budget'> {
  // Candidates of (k-1)-set n: cand[candPtr[n - prevStart] .. candPtr[n - prevStart + 1]), ascending ranks.
  const rank = tree.rank.data;
  const parentOf = tree.parent.data;
  const childStart = tree.childStart.data;
  const childEnd = tree.childEnd.data;
  const candPtr = new Int32Array(prevEnd - prevStart + 1);
  const found = new GrowingI32(1024);
  const path = new Int32Array(k);
  for (let parent = parentStart; parent < prevStart; parent++) {
    if (pace.due()) await pace.pause();
    const first = childStart[parent];
    const end = childEnd[parent];
    if (end - first >= 2) for (let n = parent, d = k - 3; n > 0; n = parentOf[n], d--) path[d] = rank[n];
    for (let i = first; i < end; i++) {
      path[k - 2] = rank[i];
      for (let j = i + 1; j < end; j++) {
        path[k - 1] = rank[j];
        let frequent = true;
        for (let skip = 0; skip < k - 2 && frequent; skip++) frequent = tree.has(path, k, skip);
        if (frequent) found.push(rank[j]);
      }
      candPtr[i - prevStart + 1] = found.length;
      if (found.length > budget) return 'over budget';
    }
  }
  if (found.length === 0) return 'nothing frequent';
  const cand = found.view();
  const candCount = new Int32Array(cand.length);

  // live[n]: node n is a (k-1)-set with candidates or lies on the path to one.
  const live = new Uint8Array(prevEnd);
  for (let n = prevStart; n < prevEnd; n++) {
    if (candPtr[n - prevStart + 1] === candPtr[n - prevStart]) continue;
    for (let m = n; m > 0 && live[m] === 0; m = parentOf[m]) live[m] = 1;
  }

  const { ptr, items } = rows;
  /** Walks basket positions [from, hi) below `node` at `depth`. */
  const walk = (node: number, depth: number, from: number, hi: number): void => {
    if (depth === k - 1) {
      let lo = candPtr[node - prevStart];
      const last = candPtr[node - prevStart + 1];
      for (let q = from; q < hi && lo < last; q++) {
        const c = items[q];
        let l = lowerBound(cand, lo, last, c);
        if (l < last && cand[l] === c) candCount[l++]++;
        lo = l;
      }
      return;
    }
    let lo = childStart[node];
    const last = childEnd[node];
    // A child needs k - 1 - depth more items after it.
    const stop = hi - (k - 1 - depth);
    for (let q = from; q < stop && lo < last; q++) {
      const r = items[q];
      let l = lowerBound(rank, lo, last, r);
      if (l < last && rank[l] === r) {
        if (live[l] === 1) walk(l, depth + 1, q + 1, hi);
        l++;
      }
      lo = l;
    }
  };
  const nRows = ptr.length - 1;
  for (let t = 0; t < nRows; t++) {
    if ((t & PACE_MASK) === 0 && pace.due()) await pace.pause();
    const hi = ptr[t + 1];
    // Root children are the ranks themselves (node 1 + r).
    for (let q = ptr[t]; q <= hi - k; q++) {
      const n = 1 + items[q];
      if (live[n] === 1) walk(n, 1, q + 1, hi);
    }
  }

  let added = false;
  for (let n = prevStart; n < prevEnd; n++) {
    const c0 = candPtr[n - prevStart];
    const c1 = candPtr[n - prevStart + 1];
    tree.childStart.data[n] = tree.size;
    for (let c = c0; c < c1; c++) {
      if (candCount[c] >= minCount) {
        tree.add(cand[c], candCount[c], n, k);
        added = true;
      }
    }
    tree.childEnd.data[n] = tree.size;
  }
  return added ? 'counted' : 'nothing frequent';
}
