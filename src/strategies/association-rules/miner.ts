/**
 * Exact frequent itemset mining over baskets, written here because no npm package does it
 * correctly at grocery scale: `apriori` 1.0.7 keeps one rule per antecedent, reports no
 * support or lift and took 15 s on 10k baskets; `node-fpgrowth` finds itemsets but no rules
 * and overflows the stack from about 500k baskets (it recurses per tree node).
 *
 * Algorithm: depth-first enumeration with occurrence delivery (LCM, Uno et al. 2004), the
 * tid-list cousin of Eclat that suits sparse data. Items below the support threshold are
 * dropped first (at Instacart scale most of 50k products go here), the rest are ranked by
 * ascending frequency and every basket becomes a sorted list of ranks. An itemset P with
 * last rank r owns the list of baskets that contain it; one scan of those baskets' ranks
 * above r counts every extension P+j at once, and a second scan delivers each basket to the
 * lists of the frequent extensions. Extensions are restricted to frequent siblings (the
 * Apriori subset property), so no candidate is counted whose parent-level subsets fail.
 * Work is the number of (basket, itemset) incidences, memory is one delivery buffer per
 * depth, and recursion depth is the itemset length (at most maxLength), never the number
 * of baskets or tree nodes.
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

/** Sorts tItems[lo, hi) ascending; baskets are short, so insertion sort beats a sort() call per basket. */
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

/** Mines all frequent itemsets of `tx`. Needs minSupport or minCount (an unbounded search is never a default). */
export function mineItemsets(tx: Transactions, options: ItemsetOptions): FrequentItemsets {
  if (options.minSupport === undefined && options.minCount === undefined) {
    throw new OptionError('minSupport', 'give minSupport or minCount');
  }
  validateItemsetOptions(options);
  const { signal, onProgress } = options;
  const maxLength = options.maxLength ?? 10;
  const { ptr, items, nItems } = tx;
  if (!(Number.isInteger(nItems) && nItems >= 0)) throw new DataError(`transactions: nItems must be a non-negative integer, got ${nItems}`);
  if (ptr.length < 1 || ptr[0] !== 0 || ptr[ptr.length - 1] !== items.length) {
    throw new DataError('transactions: ptr must start at 0 and end at items.length');
  }
  const nTx = ptr.length - 1;
  for (let t = 0; t < nTx; t++) if (ptr[t + 1] < ptr[t]) throw new DataError(`transactions: ptr decreases at transaction ${t}`);
  const minCount = supportThreshold(nTx, options.minSupport ?? 0, options.minCount ?? 1);
  throwIfAborted(signal, 'itemset mining');

  // Distinct item counts: `seen` holds the last transaction that counted each item.
  const itemCount = new Int32Array(nItems);
  const seen = new Int32Array(nItems).fill(-1);
  for (let t = 0; t < nTx; t++) {
    for (let p = ptr[t]; p < ptr[t + 1]; p++) {
      const it = items[p];
      if (!(it >= 0 && it < nItems)) throw new DataError(`transaction ${t} has item index ${it} outside [0, ${nItems})`);
      if (seen[it] !== t) {
        seen[it] = t;
        itemCount[it]++;
      }
    }
  }
  const kept: number[] = [];
  for (let i = 0; i < nItems; i++) if (itemCount[i] >= minCount) kept.push(i);
  // Ascending frequency keeps the lists of long prefixes short (rare items come first).
  kept.sort((a, b) => itemCount[a] - itemCount[b] || a - b);
  const nRanks = kept.length;
  const rankItem = Int32Array.from(kept);
  const rankOf = new Int32Array(nItems).fill(-1);
  for (let r = 0; r < nRanks; r++) rankOf[rankItem[r]] = r;

  // Horizontal database of ranks, ascending and unique per transaction; transactions with
  // fewer than two kept items cannot hold a pair and are left out.
  let nnz = 0;
  for (let p = 0; p < items.length; p++) if (rankOf[items[p]] >= 0) nnz++;
  const tPtrBuf = new Int32Array(nTx + 1);
  const tItems = new Int32Array(nnz);
  let nT = 0;
  let write = 0;
  for (let t = 0; t < nTx; t++) {
    const start = write;
    for (let p = ptr[t]; p < ptr[t + 1]; p++) {
      const r = rankOf[items[p]];
      if (r >= 0) tItems[write++] = r;
    }
    if (write - start > 1) {
      sortRow(tItems, start, write);
      let u = start + 1;
      for (let q = start + 1; q < write; q++) if (tItems[q] !== tItems[u - 1]) tItems[u++] = tItems[q];
      write = u;
    }
    if (write - start < 2) {
      write = start;
      continue;
    }
    tPtrBuf[++nT] = write;
  }
  const tPtr = tPtrBuf.subarray(0, nT + 1);

  const nodeRank = new GrowingI32(nRanks + 1);
  const nodeCount = new GrowingI32(nRanks + 1);
  const nodeParent = new GrowingI32(nRanks + 1);
  const nodeDepth = new GrowingI32(nRanks + 1);
  const childStart = new GrowingI32(nRanks + 1);
  const childEnd = new GrowingI32(nRanks + 1);
  const addNode = (rank: number, count: number, parent: number, depth: number): void => {
    nodeRank.push(rank);
    nodeCount.push(count);
    nodeParent.push(parent);
    nodeDepth.push(depth);
    childStart.push(0);
    childEnd.push(0);
  };
  addNode(-1, nTx, -1, 0);
  if (nRanks > 0) {
    childStart.data[0] = 1;
    childEnd.data[0] = 1 + nRanks;
    for (let r = 0; r < nRanks; r++) addNode(r, itemCount[rankItem[r]], 0, 1);
  }

  // Pairs, when their triangle of counters fits in cache: one sequential pass over the baskets
  // (row a of the triangle holds pairs (a, b > a)). Otherwise pairs are counted like deeper
  // levels, item by item over its baskets, with counters that always fit in cache.
  const rowOff = new Float64Array(nRanks + 1);
  for (let a = 0; a < nRanks; a++) rowOff[a + 1] = rowOff[a] + (nRanks - a - 1);
  const triangle = maxLength >= 2 && rowOff[nRanks] <= (options.pairCounters ?? DEFAULT_PAIR_COUNTERS);
  if (triangle) {
    throwIfAborted(signal, 'itemset mining');
    const tri = new Int32Array(rowOff[nRanks]);
    for (let t = 0; t < nT; t++) {
      const hi = tPtr[t + 1];
      for (let i = tPtr[t]; i < hi - 1; i++) {
        const base = (rowOff[tItems[i]] - tItems[i] - 1) | 0;
        for (let j = i + 1; j < hi; j++) tri[base + tItems[j]]++;
      }
    }
    for (let a = 0; a < nRanks; a++) {
      const base = (rowOff[a] - a - 1) | 0;
      childStart.data[1 + a] = nodeRank.length;
      for (let b = a + 1; b < nRanks; b++) if (tri[base + b] >= minCount) addNode(b, tri[base + b], 1 + a, 2);
      childEnd.data[1 + a] = nodeRank.length;
    }
  }

  if (maxLength >= 3 || (maxLength >= 2 && !triangle)) {
    const counts = new Int32Array(nRanks);
    const touched = new Int32Array(nRanks);
    const fill = new Int32Array(nRanks);
    // allowed[d][j] = 1 when rank j may extend a depth-d set: it extends the set's parent (siblings).
    const allowed: Uint8Array[] = [];
    const deliveries: Int32Array[] = [];
    const allowedAt = (depth: number): Uint8Array => {
      while (allowed.length <= depth) allowed.push(new Uint8Array(nRanks));
      return allowed[depth];
    };
    allowedAt(1).fill(1);

    /** Delivers the transactions `occ` of `node` to its children's lists and searches below each child. */
    const descend = (node: number, occ: Int32Array, tail: number, depth: number): void => {
      const first = childStart.data[node];
      const nExt = childEnd.data[node] - first;
      const ext = nodeRank.data.slice(first, first + nExt);
      const next = allowedAt(depth + 1);
      const starts = new Int32Array(nExt + 1);
      for (let k = 0; k < nExt; k++) {
        next[ext[k]] = 1;
        fill[ext[k]] = starts[k];
        starts[k + 1] = starts[k] + nodeCount.data[first + k];
      }
      while (deliveries.length <= depth) deliveries.push(new Int32Array(0));
      if (deliveries[depth].length < starts[nExt]) deliveries[depth] = new Int32Array(Math.max(starts[nExt], deliveries[depth].length * 2));
      const buf = deliveries[depth];
      for (let k = 0; k < occ.length; k++) {
        const t = occ[k];
        const lo = tPtr[t];
        for (let q = tPtr[t + 1] - 1; q >= lo; q--) {
          const j = tItems[q];
          if (j <= tail) break;
          if (next[j] === 1) buf[fill[j]++] = t;
        }
      }
      for (let k = 0; k < nExt; k++) expand(first + k, buf.subarray(starts[k], starts[k + 1]), ext[k], depth + 1);
      for (let k = 0; k < nExt; k++) next[ext[k]] = 0;
    };

    /** Counts the extensions of `node` (depth `depth`, last rank `tail`) among its transactions `occ`. */
    const expand = (node: number, occ: Int32Array, tail: number, depth: number): void => {
      const ok = allowed[depth];
      let nTouched = 0;
      for (let k = 0; k < occ.length; k++) {
        const t = occ[k];
        const lo = tPtr[t];
        for (let q = tPtr[t + 1] - 1; q >= lo; q--) {
          const j = tItems[q];
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
      childStart.data[node] = nodeRank.length;
      for (let k = 0; k < nExt; k++) {
        addNode(ext[k], counts[ext[k]], node, depth + 1);
        counts[ext[k]] = 0;
      }
      childEnd.data[node] = nodeRank.length;
      if (depth + 1 < maxLength) descend(node, occ, tail, depth);
    };

    // Occurrence lists of the items still to search: with counted pairs, only items that have one.
    const search = (a: number): boolean => !triangle || childEnd.data[1 + a] > childStart.data[1 + a];
    const vPtr = new Int32Array(nRanks + 1);
    for (let a = 0; a < nRanks; a++) vPtr[a + 1] = vPtr[a] + (search(a) ? itemCount[rankItem[a]] : 0);
    const vTx = new Int32Array(vPtr[nRanks]);
    const vNext = vPtr.slice(0, nRanks);
    for (let t = 0; t < nT; t++) {
      for (let p = tPtr[t]; p < tPtr[t + 1]; p++) {
        const a = tItems[p];
        if (vNext[a] < vPtr[a + 1]) vTx[vNext[a]++] = t;
      }
    }
    const every = Math.max(1, Math.floor(nRanks / 100));
    for (let a = 0; a < nRanks; a++) {
      if (a % every === 0) {
        throwIfAborted(signal, 'itemset mining');
        onProgress?.({ stage: 'mine itemsets', done: a, total: nRanks });
      }
      if (vNext[a] === vPtr[a]) continue;
      const occ = vTx.subarray(vPtr[a], vNext[a]);
      if (triangle) descend(1 + a, occ, a, 1);
      else expand(1 + a, occ, a, 1);
    }
  }
  onProgress?.({ stage: 'mine itemsets', done: nRanks, total: nRanks });

  return new FrequentItemsets(
    nTx,
    nItems,
    minCount,
    maxLength,
    itemCount,
    rankItem,
    nodeRank.view().slice(),
    nodeCount.view().slice(),
    nodeParent.view().slice(),
    nodeDepth.view().slice(),
    childStart.view().slice(),
    childEnd.view().slice(),
  );
}
