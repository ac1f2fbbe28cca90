/**
 * The train/test splits of ../../BENCHMARKS.md (P1-P4). Each returns a train Dataset that
 * keeps every user and item index of the input, so a model fitted on `train` scores queries
 * in the same index space as the targets, and the counts in `stats` can be checked against
 * the protocol.
 */
import { compareRawIds, IdIndex } from '../data/ids';
import { Dataset } from '../data/dataset';
import { checkInteractionRows, type InteractionRows } from '../data/interactions';
import { DataError, OptionError } from '../errors';
import { describe, isPlainObject } from '../util/options';
import { mulberry32, shuffleInPlace } from '../util/random';

export type Protocol = 'P1' | 'P2' | 'P3' | 'P4' | 'P6' | 'cold-items';

export interface EvalQuery {
  /** Index in train users, -1 for an anonymous query. */
  user: number;
  /** Current basket items (P3 query half), in add-to-cart order. */
  basket: Int32Array;
  /** Score with the user's train history (userQuery) rather than the basket alone. */
  useHistory: boolean;
  /** Block the user's train items (P1, P2). */
  excludeHistory: boolean;
  /** Block the basket items (P3). */
  excludeBasket: boolean;
  /** Held-out items, distinct, ascending. */
  target: Int32Array;
  /** P4 only: per target item, 1 when the user bought it in train (repeat), 0 when new (explore). */
  repeat?: Uint8Array;
  /** Raw user id (P1, P2, P4) or order id (P3). */
  id: string;
}

/** Counts to check a split against its protocol. */
export interface SplitStats {
  /** Users of the train Dataset (all users of the input). */
  users: number;
  /** Items a ranker may recommend: the candidates, or every item. */
  catalog: number;
  /** Non-zero (user, item) entries of the train matrix. */
  trainNonzeros: number;
  /**
   * Non-zero (basket, item) entries of the train baskets: what P3 counts (25,712), since
   * there a basket is the unit; it exceeds trainNonzeros when a user bought an item twice.
   */
  trainBasketNonzeros: number;
  /** Baskets in train (0 for data without baskets). */
  trainBaskets: number;
  /** Baskets taken out of train for testing (P3: test orders, P4: last baskets). */
  testBaskets: number;
  queries: number;
  /** Sum of |T| over queries. */
  heldOut: number;
  /** P6: held-out items that no train basket holds (they stay in T and can never be hit). */
  heldOutUnseen?: number;
}

export interface Split {
  protocol: Protocol;
  train: Dataset;
  queries: EvalQuery[];
  /** 1 = the item may be recommended (P3: the train catalog); null = every item. */
  candidates: Uint8Array | null;
  /** Ids of the baskets held out, in split order (P3: every test order, queries or not; P4: each user's last basket). */
  testBasketIds: string[];
  stats: SplitStats;
}

const EMPTY = new Int32Array(0);

function checkSeed(seed: unknown, owner: string): void {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new OptionError(`${owner}: seed`, `must be an integer, got ${describe(seed)}`);
}

/** A splitter's data argument: a Dataset (plain JavaScript may pass anything). */
function checkData(data: unknown, owner: string): asserts data is Dataset {
  if (!(data instanceof Dataset)) throw new OptionError(`${owner}: data`, `must be a Dataset, got ${describe(data)}`);
}

/** rank[i] = position of index i when the ids are sorted by compareRawIds (the protocols' id order). */
function rawIdRanks(index: IdIndex): Int32Array {
  const order = Array.from({ length: index.size }, (_, i) => i).sort((a, b) => compareRawIds(index.id(a), index.id(b)));
  const rank = new Int32Array(index.size);
  for (let r = 0; r < order.length; r++) rank[order[r]] = r;
  return rank;
}

/** Row numbers grouped by user: rows of user u are rowsOf[ptr[u] .. ptr[u+1]) in input order. */
function groupRowsByUser(rows: InteractionRows): { ptr: Int32Array; rowsOf: Int32Array } {
  const nUsers = rows.users.size;
  const n = rows.user.length;
  if (rows.item.length !== n || rows.weight.length !== n) throw new DataError('interaction rows: user, item and weight differ in length');
  const ptr = new Int32Array(nUsers + 1);
  for (let r = 0; r < n; r++) {
    const u = rows.user[r];
    if (u < 0 || u >= nUsers) throw new DataError(`interaction row ${r} has user index ${u} out of range [0, ${nUsers})`);
    const i = rows.item[r];
    if (i < 0 || i >= rows.items.size) throw new DataError(`interaction row ${r} has item index ${i} out of range [0, ${rows.items.size})`);
    ptr[u + 1]++;
  }
  for (let u = 0; u < nUsers; u++) ptr[u + 1] += ptr[u];
  const next = ptr.slice(0, nUsers);
  const rowsOf = new Int32Array(n);
  for (let r = 0; r < n; r++) rowsOf[next[rows.user[r]]++] = r;
  return { ptr, rowsOf };
}

/** Distinct items of `items`, ascending. */
function distinctSorted(items: ArrayLike<number>): Int32Array {
  return Int32Array.from(new Set(Array.from(items))).sort();
}

/** Sum over baskets of their distinct items. */
function basketNonzeros(data: Dataset): number {
  const { itemPtr, items } = data.baskets;
  const seen = new Int32Array(data.nItems).fill(-1);
  let nnz = 0;
  for (let b = 0; b < data.nBaskets; b++) {
    for (let p = itemPtr[b]; p < itemPtr[b + 1]; p++) {
      if (seen[items[p]] !== b) {
        seen[items[p]] = b;
        nnz++;
      }
    }
  }
  return nnz;
}

/** A Split with its stats computed from its parts (for splitters, including hand-made validation splits). */
export function makeSplit(
  protocol: Protocol,
  train: Dataset,
  queries: EvalQuery[],
  candidates: Uint8Array | null = null,
  testBasketIds: string[] = [],
): Split {
  let heldOut = 0;
  for (const q of queries) heldOut += q.target.length;
  let catalog = train.nItems;
  if (candidates) {
    catalog = 0;
    for (let i = 0; i < candidates.length; i++) catalog += candidates[i];
  }
  return {
    protocol,
    train,
    queries,
    candidates,
    testBasketIds,
    stats: {
      users: train.nUsers,
      catalog,
      trainNonzeros: train.interactions.nnz,
      trainBasketNonzeros: basketNonzeros(train),
      trainBaskets: train.nBaskets,
      testBaskets: testBasketIds.length,
      queries: queries.length,
      heldOut,
    },
  };
}

/** The train Dataset of the rows a splitter kept, in the index space of `rows`. */
function trainFromRows(rows: InteractionRows, user: number[], item: number[], weight: number[], time: number[] | null = null): Dataset {
  return Dataset.fromInteractions({
    time: time === null ? null : Float64Array.from(time),
    users: rows.users,
    items: rows.items,
    catalog: rows.catalog ?? undefined,
    user: Int32Array.from(user),
    item: Int32Array.from(item),
    weight: Float32Array.from(weight),
  });
}

function historyQuery(user: number, id: string, target: Int32Array): EvalQuery {
  return { user, basket: EMPTY, useHistory: true, excludeHistory: true, excludeBasket: false, target, id };
}

/**
 * P1 holdout-temporal: per user, rows sorted by time (ties by raw item id); the last 20%
 * (rounded up, at least 1) are held out, the rest is train. Rows are events: T is the
 * distinct items of the held-out rows, train sums the weights of the rest and keeps each
 * (user, item)'s latest timestamp (Dataset.times).
 */
export function holdoutTemporal(rows: InteractionRows): Split {
  checkInteractionRows(rows, 'holdoutTemporal: rows');
  const time = rows.time;
  if (time === null) throw new DataError('holdoutTemporal needs a timestamp per row, and these rows have none', { field: 'time' });
  // checkInteractionRows has checked every timestamp is finite.
  const { ptr, rowsOf } = groupRowsByUser(rows);
  const itemRank = rawIdRanks(rows.items);
  const trainUser: number[] = [];
  const trainItem: number[] = [];
  const trainWeight: number[] = [];
  const trainTime: number[] = [];
  const queries: EvalQuery[] = [];
  for (let u = 0; u < rows.users.size; u++) {
    const own = Array.from(rowsOf.subarray(ptr[u], ptr[u + 1]));
    if (own.length === 0) continue;
    own.sort((a, b) => time[a] - time[b] || itemRank[rows.item[a]] - itemRank[rows.item[b]] || a - b);
    const cut = own.length - Math.max(1, Math.ceil(0.2 * own.length));
    for (let p = 0; p < cut; p++) {
      trainUser.push(u);
      trainItem.push(rows.item[own[p]]);
      trainWeight.push(rows.weight[own[p]]);
      trainTime.push(time[own[p]]);
    }
    const target = distinctSorted(own.slice(cut).map((r) => rows.item[r]));
    queries.push(historyQuery(u, rows.users.id(u), target));
  }
  // The train part keeps its timestamps, so weight tuning can carve a temporal validation split from it.
  const train = trainFromRows(rows, trainUser, trainItem, trainWeight, trainTime);
  return makeSplit('P1', train, queries, null, []);
}

/**
 * P2 holdout-random: users in ascending raw id; each user's distinct items sorted by raw id
 * and, for users with at least 5, shuffled by ONE mulberry32(seed) stream shared across
 * users; the last ceil(0.2 n) are held out. Users with fewer than 5 items draw nothing and
 * stay wholly in train. Weights of repeated (user, item) rows are summed.
 */
export function holdoutRandom(rows: InteractionRows, seed = 42): Split {
  checkInteractionRows(rows, 'holdoutRandom: rows');
  checkSeed(seed, 'holdoutRandom');
  const { ptr, rowsOf } = groupRowsByUser(rows);
  const userRank = rawIdRanks(rows.users);
  const itemRank = rawIdRanks(rows.items);
  const usersInOrder = new Int32Array(rows.users.size);
  for (let u = 0; u < userRank.length; u++) usersInOrder[userRank[u]] = u;
  const rng = mulberry32(seed);
  const trainUser: number[] = [];
  const trainItem: number[] = [];
  const trainWeight: number[] = [];
  const queries: EvalQuery[] = [];
  for (const u of usersInOrder) {
    const weightOf = new Map<number, number>();
    for (let p = ptr[u]; p < ptr[u + 1]; p++) {
      const r = rowsOf[p];
      weightOf.set(rows.item[r], (weightOf.get(rows.item[r]) ?? 0) + rows.weight[r]);
    }
    const items = [...weightOf.keys()].sort((a, b) => itemRank[a] - itemRank[b]);
    let cut = items.length;
    if (items.length >= 5) {
      shuffleInPlace(items, rng);
      cut = items.length - Math.ceil(0.2 * items.length);
    }
    for (let p = 0; p < cut; p++) {
      trainUser.push(u);
      trainItem.push(items[p]);
      trainWeight.push(weightOf.get(items[p])!);
    }
    if (cut < items.length) queries.push(historyQuery(u, rows.users.id(u), distinctSorted(items.slice(cut))));
  }
  const train = trainFromRows(rows, trainUser, trainItem, trainWeight);
  return makeSplit('P2', train, queries, null, []);
}

/** Minimum basket size (lines) for a P3 test basket to become a query. */
const MIN_QUERY_BASKET = 4;

/**
 * P3 basket-completion: every basket is an order. Order ids sorted ascending (raw-id order)
 * are shuffled with mulberry32(seed); the last ceil(0.2 n) are test orders, the rest train.
 * A test basket of at least 4 lines becomes a query: its first half (rounded down, in
 * add-to-cart order) is the basket, the other items are T (T items never bought in train stay
 * in T and can never be hit; items already in the query half are not T, as they are blocked).
 * Candidates are the train catalog; queries are anonymous (no user history).
 */
export function basketCompletion(data: Dataset, seed = 42): Split {
  checkData(data, 'basketCompletion');
  checkSeed(seed, 'basketCompletion');
  const order = shuffledOrders(data, seed);
  return completionSplit(data, order.slice(order.length - Math.ceil(0.2 * order.length)));
}

/**
 * P3's rule as K-fold cross-validation, for tuning on small data: the orders shuffled as by
 * basketCompletion(data, seed), dealt into `folds` contiguous runs; split f holds run f out
 * (its baskets become queries as in basketCompletion) and trains on the rest. Every basket is
 * a query in exactly one split, so the folds together score every basket once instead of 20%.
 */
export function basketCompletionFolds(data: Dataset, folds: number, seed = 42): Split[] {
  checkData(data, 'basketCompletionFolds');
  checkSeed(seed, 'basketCompletionFolds');
  if (!Number.isInteger(folds) || folds < 2) throw new OptionError('basketCompletionFolds: folds', `must be an integer >= 2, got ${describe(folds)}`);
  const order = shuffledOrders(data, seed);
  if (folds > order.length) throw new DataError(`basketCompletionFolds: ${folds} folds need at least as many baskets, and the dataset has ${order.length}`);
  const at = (f: number) => Math.round((f * order.length) / folds);
  return Array.from({ length: folds }, (_, f) => completionSplit(data, order.slice(at(f), at(f + 1))));
}

/** Basket indices in raw order-id order, shuffled with mulberry32(seed) (P3's order). */
function shuffledOrders(data: Dataset, seed: number): number[] {
  const { ids } = data.baskets;
  const n = data.nBaskets;
  if (n === 0) throw new DataError('basketCompletion needs baskets (orders), and the dataset has none');
  const order = Array.from({ length: n }, (_, b) => b).sort((a, b) => compareRawIds(ids[a], ids[b]));
  for (let p = 1; p < n; p++) {
    if (ids[order[p]] === ids[order[p - 1]]) throw new DataError(`order id "${ids[order[p]]}" names two baskets`, { field: 'order_id' });
  }
  return shuffleInPlace(order, mulberry32(seed));
}

/** P3's split with `testOrders` (basket indices, in query order) held out. */
function completionSplit(data: Dataset, testOrders: number[]): Split {
  const { ids, itemPtr, items } = data.baskets;
  const isTest = new Uint8Array(data.nBaskets);
  for (const b of testOrders) isTest[b] = 1;
  const train = data.filterBaskets((b) => isTest[b] === 0);

  const candidates = new Uint8Array(data.nItems);
  for (const item of train.interactions.indices) candidates[item] = 1;

  const queries: EvalQuery[] = [];
  for (const b of testOrders) {
    const lines = items.subarray(itemPtr[b], itemPtr[b + 1]);
    if (lines.length < MIN_QUERY_BASKET) continue;
    const half = Math.floor(lines.length / 2);
    const basket = lines.slice(0, half);
    const inBasket = new Set(basket);
    const target = distinctSorted(Array.from(lines.subarray(half)).filter((i) => !inBasket.has(i)));
    queries.push({ user: -1, basket, useHistory: false, excludeHistory: false, excludeBasket: true, target, id: ids[b] });
  }
  return makeSplit('P3', train, queries, candidates, testOrders.map((b) => ids[b]));
}

/** Minimum number of baskets for a user to be evaluated in P4. */
const MIN_P4_BASKETS = 3;

/**
 * P4 next-basket: for each user with at least 3 baskets, the last basket is T and the earlier
 * ones are train; other users stay wholly in train. Repeats are allowed (nothing is blocked),
 * and each query marks which T items the user bought in train, for the repeat/explore recall
 * split.
 */
export function nextBasket(data: Dataset): Split {
  checkData(data, 'nextBasket');
  const { userPtr, itemPtr, items } = data.baskets;
  const isLast = new Uint8Array(data.nBaskets);
  for (let u = 0; u < data.nUsers; u++) {
    if (userPtr[u + 1] - userPtr[u] >= MIN_P4_BASKETS) isLast[userPtr[u + 1] - 1] = 1;
  }
  const train = data.filterBaskets((b) => isLast[b] === 0);
  const m = train.interactions;
  const bought = new Uint8Array(data.nItems);
  const queries: EvalQuery[] = [];
  const testBasketIds: string[] = [];
  for (let u = 0; u < data.nUsers; u++) {
    const last = userPtr[u + 1] - 1;
    if (last < userPtr[u] || isLast[last] === 0) continue;
    const target = distinctSorted(items.subarray(itemPtr[last], itemPtr[last + 1]));
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) bought[m.indices[p]] = 1;
    const repeat = Uint8Array.from(target, (i) => bought[i]);
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) bought[m.indices[p]] = 0;
    queries.push({ user: u, basket: EMPTY, useHistory: true, excludeHistory: false, excludeBasket: false, target, repeat, id: data.users.id(u) });
    testBasketIds.push(data.baskets.ids[last]);
  }
  return makeSplit('P4', train, queries, null, testBasketIds);
}

/**
 * The next-basket JSON files of the NBR literature (P6): per user id, baskets of integer item
 * ids framed by [-1] sentinels, and a keyset naming the train, validation and test users.
 */
export interface NbrJson {
  history: Record<string, number[][]>;
  future: Record<string, number[][]>;
  keyset: { train: string[]; val: string[]; test: string[] };
  /** Where each part was read from (for error messages). */
  files: { history: string; future: string; keyset: string };
}

/**
 * P6 next-basket-real: train = the histories of every user of `history` (history[u][1:-1],
 * oldest first), one Split for the keyset's test users and one for its validation users, both
 * sharing that train Dataset. T = the distinct items of future[u][1]; repeats are allowed
 * (nothing is blocked); candidates are the items some train basket holds, so T items never
 * seen stay in T and can never be hit (counted in stats.heldOutUnseen). Item and user
 * indices follow raw-id order; each query marks its repeat T items.
 */
export function nextBasketFixed(nbr: NbrJson): { test: Split; val: Split } {
  const keyset = isPlainObject(nbr) && isPlainObject(nbr.keyset) ? (nbr.keyset as unknown as Record<string, unknown>) : null;
  if (keyset === null || !isPlainObject(nbr.history) || !isPlainObject(nbr.future) || !['train', 'val', 'test'].every((k) => Array.isArray(keyset[k]))) {
    throw new OptionError('nextBasketFixed: nbr', `must be { history, future, keyset: { train, val, test } } as loadNbrJson() reads it, got ${describe(nbr)}`);
  }
  const userIds = Object.keys(nbr.history);
  const users = IdIndex.sorted(userIds, 'user');
  const itemIds = new Set<string>();
  const framed = (value: unknown, file: string, user: string): number[][] => {
    if (!Array.isArray(value) || value.length < 2) throw new DataError('expected a list of baskets framed by [-1] sentinels', { file, field: user });
    const inner = value.slice(1, -1) as unknown[];
    for (const b of inner) {
      if (!Array.isArray(b) || b.some((i) => !Number.isInteger(i) || i < 0)) throw new DataError('a basket must be a list of non-negative integer item ids', { file, field: user });
    }
    return inner as number[][];
  };
  const histories = new Map<string, number[][]>();
  for (const u of userIds) {
    const baskets = framed(nbr.history[u], nbr.files.history, u);
    histories.set(u, baskets);
    for (const b of baskets) for (const i of b) itemIds.add(String(i));
  }
  const targets = new Map<string, number[]>();
  for (const u of [...nbr.keyset.val, ...nbr.keyset.test]) {
    if (!histories.has(u)) throw new DataError(`keyset user "${u}" has no history`, { file: nbr.files.keyset, field: u });
    const f = framed(nbr.future[u], nbr.files.future, u);
    if (f.length !== 1) throw new DataError(`expected exactly one future basket, found ${f.length}`, { file: nbr.files.future, field: u });
    targets.set(u, f[0]);
    for (const i of f[0]) itemIds.add(String(i));
  }
  const items = IdIndex.sorted(itemIds, 'item');
  const nBaskets = userIds.reduce((n, u) => n + histories.get(u)!.length, 0);
  const basketUser = new Int32Array(nBaskets);
  const ids: string[] = [];
  const orderNumber = new Int32Array(nBaskets);
  const linePtr = new Int32Array(nBaskets + 1);
  const lines: number[] = [];
  let b = 0;
  for (const u of userIds) {
    const ui = users.indexOf(u);
    histories.get(u)!.forEach((basket, k) => {
      basketUser[b] = ui;
      ids.push(`${u}:${k + 1}`);
      orderNumber[b] = k + 1;
      for (const i of basket) lines.push(items.indexOf(String(i)));
      linePtr[++b] = lines.length;
    });
  }
  const train = Dataset.fromBaskets({ users, items, user: basketUser, ids, orderNumber, day: new Float64Array(nBaskets).fill(NaN), linePtr, lines: Int32Array.from(lines) });
  const m = train.interactions;
  const candidates = new Uint8Array(items.size);
  for (let p = 0; p < m.indices.length; p++) candidates[m.indices[p]] = 1;
  const bought = new Uint8Array(items.size);
  const splitOf = (set: string[]): Split => {
    const queries: EvalQuery[] = [];
    let unseen = 0;
    for (const u of set) {
      const ui = users.indexOf(u);
      const target = distinctSorted(targets.get(u)!.map((i) => items.indexOf(String(i))));
      for (let p = m.indptr[ui]; p < m.indptr[ui + 1]; p++) bought[m.indices[p]] = 1;
      const repeat = Uint8Array.from(target, (i) => bought[i]);
      for (let p = m.indptr[ui]; p < m.indptr[ui + 1]; p++) bought[m.indices[p]] = 0;
      for (const i of target) if (candidates[i] === 0) unseen++;
      queries.push({ user: ui, basket: EMPTY, useHistory: true, excludeHistory: false, excludeBasket: false, target, repeat, id: u });
    }
    const split = makeSplit('P6', train, queries, candidates, []);
    split.stats.heldOutUnseen = unseen;
    return split;
  };
  return { test: splitOf(nbr.keyset.test), val: splitOf(nbr.keyset.val) };
}
