/**
 * Exact frequent itemset mining over baskets, written here because no npm package does it
 * correctly at grocery scale: `apriori` 1.0.7 keeps one rule per antecedent, reports no
 * support or lift and took 15 s on 10k baskets; `node-fpgrowth` finds itemsets but no rules
 * and overflows the stack from about 500k baskets.
 *
 * Algorithm. Items below the support threshold are dropped first (at Instacart scale most of
 * 50k products go here), the rest are ranked by ascending frequency and every basket becomes
 * a sorted list of ranks. Pairs are counted in one sequential pass into a triangle of
 * counters while it is small (option pairCounters); most items then turn out to have no
 * frequent pair and are never visited again. Longer itemsets are found depth-first with occurrence delivery (LCM,
 * Uno et al. 2004), the tid-list cousin of Eclat that suits sparse data: an itemset P with
 * last rank r owns the list of baskets that contain it; one scan of those baskets' ranks
 * above r counts every extension P+j at once, and a second scan delivers each basket to the
 * lists of the frequent extensions. Extensions are restricted to frequent siblings (the
 * Apriori subset property), so no candidate is counted whose parent-level subsets fail.
 * Work is the number of (basket, itemset) incidences, memory one delivery buffer per depth,
 * and recursion depth the itemset length (at most maxLength), never the number of baskets.
 *
 * The result is a prefix tree of frequent itemsets (children contiguous, sorted by rank),
 * which answers "support count of this subset" in |subset| binary searches: rule generation
 * needs exactly that.
 */
import { DataError, OptionError, throwIfAborted } from '../../errors';
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
   * Most pair counters (a triangle over the kept items) to count pairs in one sequential
   * pass; default 2^22 (16 MB, about 2,900 kept items), which stays in cache. Above it pairs
   * are counted item by item like longer itemsets. Results are the same either way.
   */
  pairCounters?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** The absolute support threshold of arules: ceil(n * minSupport) in doubles, at least 1, at least minCount. */
export function supportThreshold(nTransactions: number, minSupport: number, minCount: number): number {
  return Math.max(1, minCount, Math.ceil(nTransactions * minSupport));
}

export function validateItemsetOptions(o: { minSupport?: number; minCount?: number; maxLength?: number; pairCounters?: number }, minMaxLength = 1): void {
  if (o.minSupport !== undefined && !(o.minSupport >= 0 && o.minSupport <= 1)) {
    throw new OptionError('minSupport', `must be a fraction in [0, 1], got ${o.minSupport}`);
  }
  if (o.minCount !== undefined && !(Number.isInteger(o.minCount) && o.minCount >= 1)) {
    throw new OptionError('minCount', `must be an integer >= 1, got ${o.minCount}`);
  }
  if (o.pairCounters !== undefined && !(o.pairCounters >= 0)) {
    throw new OptionError('pairCounters', `must be a number >= 0, got ${o.pairCounters}`);
  }
  if (o.maxLength !== undefined && !(Number.isInteger(o.maxLength) && o.maxLength >= minMaxLength)) {
    throw new OptionError('maxLength', `must be an integer >= ${minMaxLength}, got ${o.maxLength}`);
  }
}

/** An Int32Array that grows by doubling (the itemset tree's node columns). */
class GrowingI32 {
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
  ) {}

  /** Number of frequent itemsets (the empty set not counted). */
  get size(): number {
    return this.nodeRank.length - 1;
  }

  /** Tree node of a set of ranks sorted ascending, or -1 when it is not frequent. */
  nodeOfRanks(ranks: ArrayLike<number>, skip = -1): number {
    let node = 0;
    for (let k = 0; k < ranks.length; k++) {
      if (k === skip) continue;
      const r = ranks[k];
      let lo = this.childStart[node];
      let hi = this.childEnd[node] - 1;
      node = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const m = this.nodeRank[mid];
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
    const node = this.nodeOfRanks(ranks);
    return node < 0 ? 0 : this.nodeCount[node];
  }

  /** Rank of each item index, -1 for infrequent items. */
  rankOfItem(): Int32Array {
    const rankOf = new Int32Array(this.nItems).fill(-1);
    for (let r = 0; r < this.rankItem.length; r++) rankOf[this.rankItem[r]] = r;
    return rankOf;
  }

  /** Item indices of a node's itemset, ascending. */
  itemsOf(node: number): number[] {
    const out: number[] = [];
    for (let n = node; n > 0; n = this.nodeParent[n]) out.push(this.rankItem[this.nodeRank[n]]);
    return out.sort((a, b) => a - b);
  }

  /** Number of frequent itemsets by length: hist[k] = sets of k items. */
  lengthHistogram(): number[] {
    const hist = new Array<number>(this.maxLength + 1).fill(0);
    for (let n = 1; n < this.nodeDepth.length; n++) hist[this.nodeDepth[n]]++;
    while (hist.length > 1 && hist[hist.length - 1] === 0) hist.pop();
    return hist;
  }

  /** The itemsets ordered by length, then count descending, then items lexicographically. */
  toArrays(): ItemsetArrays {
    const n = this.size;
    const sets: number[][] = new Array(n);
    for (let k = 0; k < n; k++) sets[k] = this.itemsOf(k + 1);
    const order = Array.from({ length: n }, (_, k) => k);
    order.sort((a, b) => sets[a].length - sets[b].length || this.nodeCount[b + 1] - this.nodeCount[a + 1] || compareLex(sets[a], sets[b]));
    const ptr = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) ptr[k + 1] = ptr[k] + sets[order[k]].length;
    const items = new Int32Array(ptr[n]);
    const count = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      items.set(sets[order[k]], ptr[k]);
      count[k] = this.nodeCount[order[k] + 1];
    }
    return { ptr, items, count };
  }
}

export function compareLex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const DEFAULT_PAIR_COUNTERS = 1 << 22;

/** Mines all frequent itemsets of `tx`. Needs minSupport or minCount (an unbounded search is never a default). */
export function mineItemsets(tx: Transactions, options: ItemsetOptions): FrequentItemsets {
  if (options.minSupport === undefined && options.minCount === undefined) {
    throw new OptionError('minSupport', 'give minSupport or minCount');
  }
  validateItemsetOptions(options);
  const { signal, onProgress } = options;
  const maxLength = options.maxLength ?? 10;
  const nTx = tx.ptr.length - 1;
  const minCount = supportThreshold(nTx, options.minSupport ?? 0, options.minCount ?? 1);
  throwIfAborted(signal, 'itemset mining');

  const itemCount = countItems(tx);
  const kept: number[] = [];
  for (let i = 0; i < tx.nItems; i++) if (itemCount[i] >= minCount) kept.push(i);
  // Ascending frequency keeps the lists of long prefixes short (rare items come first).
  kept.sort((a, b) => itemCount[a] - itemCount[b] || a - b);
  const nRanks = kept.length;
  const rankItem = Int32Array.from(kept);
  const rows = rankRows(tx, rankItem);
  throwIfAborted(signal, 'itemset mining');

  const tree = new Tree(nRanks + 1);
  tree.add(-1, nTx, -1, 0);
  if (nRanks > 0) {
    tree.childStart.data[0] = 1;
    tree.childEnd.data[0] = 1 + nRanks;
    for (let r = 0; r < nRanks; r++) tree.add(r, itemCount[rankItem[r]], 0, 1);
  }
  const triangleSize = (nRanks * (nRanks - 1)) / 2;
  const triangle = maxLength >= 2 && triangleSize <= (options.pairCounters ?? DEFAULT_PAIR_COUNTERS);
  if (triangle) countPairs(rows, nRanks, minCount, tree);

  if (maxLength >= 3 || (maxLength >= 2 && !triangle)) {
    const search = new Search(tree, rows, nRanks, minCount, maxLength);
    // Without counted pairs every item is searched; with them, only items with two frequent
    // pairs can start a triple.
    const searched = (a: number): boolean => !triangle || tree.childEnd.data[1 + a] - tree.childStart.data[1 + a] >= 2;
    const occ = occurrences(rows, nRanks, (a) => (searched(a) ? itemCount[rankItem[a]] : 0));
    const every = Math.max(1, Math.floor(nRanks / 100));
    // Descending ranks: every itemset that starts with a higher rank is complete before the
    // branch of a starts, which the subset check of candidates relies on.
    for (let a = nRanks - 1; a >= 0; a--) {
      if ((nRanks - 1 - a) % every === 0) {
        throwIfAborted(signal, 'itemset mining');
        onProgress?.({ stage: 'mine itemsets', done: nRanks - 1 - a, total: nRanks });
      }
      if (occ.end[a] === occ.ptr[a]) continue;
      search.path[0] = a;
      const list = occ.tx.subarray(occ.ptr[a], occ.end[a]);
      if (triangle) search.descend(1 + a, list, 1);
      else search.expand(1 + a, list, a, 1);
    }
  }
  onProgress?.({ stage: 'mine itemsets', done: nRanks, total: nRanks });

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

function rankRows(tx: Transactions, rankItem: Int32Array): RankRows {
  const { ptr, items } = tx;
  const rankOf = new Int32Array(tx.nItems).fill(-1);
  for (let r = 0; r < rankItem.length; r++) rankOf[rankItem[r]] = r;
  let nnz = 0;
  for (let p = 0; p < items.length; p++) if (rankOf[items[p]] >= 0) nnz++;
  const nTx = ptr.length - 1;
  const rowPtr = new Int32Array(nTx + 1);
  const row = new Int32Array(nnz);
  let nRows = 0;
  let write = 0;
  for (let t = 0; t < nTx; t++) {
    const start = write;
    for (let p = ptr[t]; p < ptr[t + 1]; p++) {
      const r = rankOf[items[p]];
      if (r >= 0) row[write++] = r;
    }
    if (write - start > 1) {
      sortRow(row, start, write);
      let u = start + 1;
      for (let q = start + 1; q < write; q++) if (row[q] !== row[u - 1]) row[u++] = row[q];
      write = u;
    }
    if (write - start < 2) write = start;
    else rowPtr[++nRows] = write;
  }
  return { ptr: rowPtr.slice(0, nRows + 1), items: row.slice(0, write) };
}

/** Sorts a[lo, hi) ascending; baskets are short, so insertion sort beats a sort() call per basket. */
function sortRow(a: Int32Array, lo: number, hi: number): void {
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

/**
 * Counts all pairs in one sequential pass into the upper triangle of counters (row a holds
 * pairs (a, b > a)) and adds the frequent ones to the tree. Visiting each item's baskets
 * instead would cost a cache miss per visit at millions of baskets.
 */
function countPairs(rows: RankRows, nRanks: number, minCount: number, tree: Tree): void {
  const rowOff = new Int32Array(nRanks + 1);
  for (let a = 0; a < nRanks; a++) rowOff[a + 1] = rowOff[a] + (nRanks - a - 1);
  const tri = new Int32Array(rowOff[nRanks]);
  const { ptr, items } = rows;
  const nRows = ptr.length - 1;
  for (let t = 0; t < nRows; t++) {
    const hi = ptr[t + 1];
    for (let i = ptr[t]; i < hi - 1; i++) {
      const a = items[i];
      const base = rowOff[a] - a - 1;
      for (let j = i + 1; j < hi; j++) tri[base + items[j]]++;
    }
  }
  for (let a = 0; a < nRanks; a++) {
    const base = rowOff[a] - a - 1;
    tree.childStart.data[1 + a] = tree.size;
    for (let b = a + 1; b < nRanks; b++) if (tri[base + b] >= minCount) tree.add(b, tri[base + b], 1 + a, 2);
    tree.childEnd.data[1 + a] = tree.size;
  }
}

/** The rows holding each rank: tx[ptr[a] .. end[a]), with room for slots(a) entries (0 skips the rank). */
function occurrences(rows: RankRows, nRanks: number, slots: (rank: number) => number): { ptr: Int32Array; end: Int32Array; tx: Int32Array } {
  const ptr = new Int32Array(nRanks + 1);
  for (let a = 0; a < nRanks; a++) ptr[a + 1] = ptr[a] + slots(a);
  const tx = new Int32Array(ptr[nRanks]);
  const end = ptr.slice(0, nRanks);
  const nRows = rows.ptr.length - 1;
  for (let t = 0; t < nRows; t++) {
    for (let p = rows.ptr[t]; p < rows.ptr[t + 1]; p++) {
      const a = rows.items[p];
      if (end[a] < ptr[a + 1]) tx[end[a]++] = t;
    }
  }
  return { ptr, end, tx };
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
    const rank = this.rank.data;
    const childStart = this.childStart.data;
    const childEnd = this.childEnd.data;
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
      if (node < 0) return false;
    }
    return true;
  }
}

/**
 * Depth-first search below the pairs (or below single items when pairs were not counted).
 * `path` holds the ranks of the current node, root to node.
 */
class Search {
  readonly path: Int32Array;
  private readonly counts: Int32Array;
  private readonly touched: Int32Array;
  private readonly fill: Int32Array;
  /** allowed[d][j] = 1 when rank j is a candidate extension of the depth-d set being counted. */
  private readonly allowed: Uint8Array[] = [];
  /** Per depth, the buffer the lists of that depth's children are delivered into. */
  private readonly deliveries: Int32Array[] = [];

  constructor(
    private readonly tree: Tree,
    private readonly rows: RankRows,
    private readonly nRanks: number,
    private readonly minCount: number,
    private readonly maxLength: number,
  ) {
    this.path = new Int32Array(maxLength + 1);
    this.counts = new Int32Array(nRanks);
    this.touched = new Int32Array(nRanks);
    this.fill = new Int32Array(nRanks);
    this.allowedAt(1).fill(1);
  }

  private allowedAt(depth: number): Uint8Array {
    while (this.allowed.length <= depth) this.allowed.push(new Uint8Array(this.nRanks));
    return this.allowed[depth];
  }

  /**
   * Searches below the children of `node` (depth `depth`, its transactions `occ`). Candidate
   * extensions of child b are its later siblings c such that every other subset of the same
   * size is frequent (Apriori pruning); only children with candidates get a list and a count.
   */
  descend(node: number, occ: Int32Array, depth: number): void {
    if (depth + 1 >= this.maxLength) return;
    const { tree, path, fill } = this;
    const first = tree.childStart.data[node];
    const nExt = tree.childEnd.data[node] - first;
    if (nExt < 2) return;
    const ext = tree.rank.data.slice(first, first + nExt);
    const candPtr = new Int32Array(nExt + 1);
    const cand: number[] = [];
    for (let k = 0; k < nExt; k++) {
      path[depth] = ext[k];
      for (let m = k + 1; m < nExt; m++) {
        path[depth + 1] = ext[m];
        let frequent = true;
        for (let skip = 0; skip < depth && frequent; skip++) frequent = tree.has(path, depth + 2, skip);
        if (frequent) cand.push(ext[m]);
      }
      candPtr[k + 1] = cand.length;
    }
    if (cand.length === 0) return;

    const next = this.allowedAt(depth + 1);
    const starts = new Int32Array(nExt + 1);
    for (let k = 0; k < nExt; k++) {
      const used = candPtr[k + 1] > candPtr[k];
      if (used) {
        next[ext[k]] = 1;
        fill[ext[k]] = starts[k];
      }
      starts[k + 1] = starts[k] + (used ? tree.count.data[first + k] : 0);
    }
    while (this.deliveries.length <= depth) this.deliveries.push(new Int32Array(0));
    if (this.deliveries[depth].length < starts[nExt]) {
      this.deliveries[depth] = new Int32Array(Math.max(starts[nExt], this.deliveries[depth].length * 2));
    }
    const buf = this.deliveries[depth];
    const { ptr, items } = this.rows;
    const tail = path[depth - 1];
    for (let k = 0; k < occ.length; k++) {
      const t = occ[k];
      const lo = ptr[t];
      for (let q = ptr[t + 1] - 1; q >= lo; q--) {
        const j = items[q];
        if (j <= tail) break;
        if (next[j] === 1) buf[fill[j]++] = t;
      }
    }
    for (let k = 0; k < nExt; k++) next[ext[k]] = 0;

    // Later siblings first: their subtrees hold the subsets the candidate check looks up.
    for (let k = nExt - 1; k >= 0; k--) {
      if (candPtr[k + 1] === candPtr[k]) continue;
      for (let c = candPtr[k]; c < candPtr[k + 1]; c++) next[cand[c]] = 1;
      path[depth] = ext[k];
      this.expand(first + k, buf.subarray(starts[k], starts[k + 1]), ext[k], depth + 1);
      for (let c = candPtr[k]; c < candPtr[k + 1]; c++) next[cand[c]] = 0;
    }
  }

  /** Counts the candidates marked in allowed[depth] among the transactions `occ` of `node` (last rank `tail`), then searches below. */
  expand(node: number, occ: Int32Array, tail: number, depth: number): void {
    const { counts, touched, tree, minCount } = this;
    const ok = this.allowed[depth];
    const { ptr, items } = this.rows;
    let nTouched = 0;
    for (let k = 0; k < occ.length; k++) {
      const t = occ[k];
      const lo = ptr[t];
      for (let q = ptr[t + 1] - 1; q >= lo; q--) {
        const j = items[q];
        if (j <= tail) break;
        if (ok[j] === 1 && counts[j]++ === 0) touched[nTouched++] = j;
      }
    }
    let nExt = 0;
    for (let k = 0; k < nTouched; k++) {
      const j = touched[k];
      if (counts[j] >= minCount) touched[nExt++] = j;
      else counts[j] = 0;
    }
    if (nExt === 0) return;
    const ext = touched.slice(0, nExt).sort();
    tree.childStart.data[node] = tree.size;
    for (let k = 0; k < nExt; k++) {
      tree.add(ext[k], counts[ext[k]], node, depth + 1);
      counts[ext[k]] = 0;
    }
    tree.childEnd.data[node] = tree.size;
    this.descend(node, occ, depth);
  }
}
