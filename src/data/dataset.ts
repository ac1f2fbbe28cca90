import { DataError, EmptyDataError } from '../errors';
import { CsrMatrix } from './csr';
import { IdIndex } from './ids';

/** Product information per item index. Unknown text fields are ''. */
export interface Catalog {
  name: string[];
  aisle: string[];
  department: string[];
  /** Free metadata per item (brand, price, tags...), or undefined for an item without any. */
  meta: Array<Record<string, string> | undefined>;
}

export function emptyCatalog(nItems: number): Catalog {
  return {
    name: new Array<string>(nItems).fill(''),
    aisle: new Array<string>(nItems).fill(''),
    department: new Array<string>(nItems).fill(''),
    meta: new Array<Record<string, string> | undefined>(nItems).fill(undefined),
  };
}

/**
 * Every user's baskets in purchase order, as flat arrays: the baskets of user u are
 * userPtr[u] .. userPtr[u+1] (oldest first), the lines of basket b are
 * items[itemPtr[b] .. itemPtr[b+1]) in add-to-cart order.
 */
export interface Baskets {
  userPtr: Int32Array;
  itemPtr: Int32Array;
  items: Int32Array;
  /** Per basket: the source's order id. */
  ids: string[];
  /** Per basket: the user's order number (1 = first order). */
  orderNumber: Int32Array;
  /** Per basket: days since the user's first basket (sum of days_since_prior_order), NaN when unknown. */
  day: Float64Array;
}

/** Baskets given in any order, for Dataset.fromBaskets. */
export interface BasketInput {
  users: IdIndex;
  items: IdIndex;
  catalog?: Catalog;
  /** Per basket. */
  user: Int32Array;
  ids: string[];
  orderNumber: Int32Array;
  day: Float64Array;
  /** Lines of basket b: lines[linePtr[b] .. linePtr[b+1]) (item indices, add-to-cart order). */
  linePtr: Int32Array;
  lines: Int32Array;
}

/** Interaction rows, for Dataset.fromInteractions (no basket structure). */
export interface InteractionInput {
  users: IdIndex;
  items: IdIndex;
  catalog?: Catalog;
  user: Int32Array;
  item: Int32Array;
  /** Per row weight (default 1); rows of the same (user, item) are summed. */
  weight?: Float32Array;
  /** Per row timestamp (any increasing unit); the Dataset keeps the latest per (user, item) as `times`. */
  time?: Float64Array | null;
  baskets?: Baskets;
}

/**
 * The data every strategy fits on: dense user and item indices (assigned in raw-id order, see
 * compareRawIds), the user x item matrix of purchase counts (or summed weights), the ordered
 * baskets of each user, and the catalog. Items in the catalog that nobody bought are
 * columns of zeros: content strategies can still recommend them.
 */
export class Dataset {
  constructor(
    readonly users: IdIndex,
    readonly items: IdIndex,
    readonly interactions: CsrMatrix,
    readonly baskets: Baskets,
    readonly catalog: Catalog,
    /**
     * Per non-zero of `interactions` (aligned with its indices): the latest timestamp of that
     * (user, item), or null when the source had no timestamps. Weight tuning uses it to hold
     * out each user's latest interactions (a temporal validation split).
     */
    readonly times: Float64Array | null = null,
  ) {
    if (times !== null && times.length !== interactions.nnz) throw new DataError(`times has ${times.length} entries, the interaction matrix ${interactions.nnz} non-zeros`);
    if (interactions.nRows !== users.size || interactions.nCols !== items.size) {
      throw new DataError(
        `interaction matrix is ${interactions.nRows} x ${interactions.nCols}, expected ${users.size} users x ${items.size} items`,
      );
    }
    if (baskets.userPtr.length !== users.size + 1) throw new DataError('baskets.userPtr does not match the user count');
    if (catalog.name.length !== items.size) throw new DataError('catalog size does not match the item count');
  }

  get nUsers(): number {
    return this.users.size;
  }

  get nItems(): number {
    return this.items.size;
  }

  get nBaskets(): number {
    return this.baskets.itemPtr.length - 1;
  }

  /** Number of purchases (sum of weights) of each item. */
  itemTotals(): Float64Array {
    const totals = new Float64Array(this.nItems);
    const { indices, values } = this.interactions;
    for (let p = 0; p < indices.length; p++) totals[indices[p]] += values[p];
    return totals;
  }

  /**
   * Baskets in any order -> Dataset. Baskets are sorted per user by order number; the
   * interaction matrix counts every line of every basket.
   */
  static fromBaskets(input: BasketInput): Dataset {
    const nBaskets = input.user.length;
    const { users, items } = input;
    if (input.linePtr.length !== nBaskets + 1) throw new DataError('linePtr length must be the basket count + 1');
    if (input.ids.length !== nBaskets || input.orderNumber.length !== nBaskets || input.day.length !== nBaskets) {
      throw new DataError('per-basket arrays differ in length');
    }
    const order = new Int32Array(nBaskets);
    for (let b = 0; b < nBaskets; b++) {
      order[b] = b;
      const u = input.user[b];
      if (u < 0 || u >= users.size) throw new DataError(`basket ${input.ids[b]} has user index ${u} out of range`);
    }
    order.sort((a, b) => input.user[a] - input.user[b] || input.orderNumber[a] - input.orderNumber[b] || a - b);

    const userPtr = new Int32Array(users.size + 1);
    for (let b = 0; b < nBaskets; b++) userPtr[input.user[b] + 1]++;
    for (let u = 0; u < users.size; u++) userPtr[u + 1] += userPtr[u];

    const itemPtr = new Int32Array(nBaskets + 1);
    for (let k = 0; k < nBaskets; k++) {
      const b = order[k];
      itemPtr[k + 1] = itemPtr[k] + (input.linePtr[b + 1] - input.linePtr[b]);
    }
    const lines = new Int32Array(itemPtr[nBaskets]);
    const rowUser = new Int32Array(lines.length);
    const ids = new Array<string>(nBaskets);
    const orderNumber = new Int32Array(nBaskets);
    const day = new Float64Array(nBaskets);
    for (let k = 0; k < nBaskets; k++) {
      const b = order[k];
      ids[k] = input.ids[b];
      orderNumber[k] = input.orderNumber[b];
      day[k] = input.day[b];
      const src = input.linePtr[b];
      const len = input.linePtr[b + 1] - src;
      const dst = itemPtr[k];
      for (let i = 0; i < len; i++) {
        const it = input.lines[src + i];
        if (it < 0 || it >= items.size) throw new DataError(`basket ${input.ids[b]} has item index ${it} out of range`);
        lines[dst + i] = it;
        rowUser[dst + i] = input.user[b];
      }
    }
    const interactions = CsrMatrix.fromCoo(users.size, items.size, rowUser, lines, null, entryLabel(users, items));
    const baskets: Baskets = { userPtr, itemPtr, items: lines, ids, orderNumber, day };
    return new Dataset(users, items, interactions, baskets, input.catalog ?? emptyCatalog(items.size));
  }

  /** Interaction rows -> Dataset; weights of repeated (user, item) rows are summed. */
  static fromInteractions(input: InteractionInput): Dataset {
    const { users, items } = input;
    if (input.weight) {
      for (let i = 0; i < input.weight.length; i++) {
        const w = input.weight[i];
        if (!Number.isFinite(w)) throw new DataError(`interaction row ${i} has a non-finite weight ${w}`);
      }
    }
    const interactions = CsrMatrix.fromCoo(users.size, items.size, input.user, input.item, input.weight ?? null, entryLabel(users, items));
    const baskets = input.baskets ?? noBaskets(users.size);
    const times = input.time ? latestTimes(interactions, input.user, input.item, input.time) : null;
    return new Dataset(users, items, interactions, baskets, input.catalog ?? emptyCatalog(items.size), times);
  }

  /**
   * The same dataset with `times` from per-row timestamps (the latest per (user, item)); every
   * row's (user[r], item[r]) must be an entry of the interaction matrix.
   */
  withTimes(user: Int32Array, item: Int32Array, time: Float64Array): Dataset {
    return new Dataset(this.users, this.items, this.interactions, this.baskets, this.catalog, latestTimes(this.interactions, user, item, time));
  }

  /**
   * The same users, items and catalog with only the baskets for which keep(b) is true; the
   * interaction matrix is rebuilt from those baskets. Splitters use it, so train and test
   * share one index space.
   */
  filterBaskets(keep: (basket: number) => boolean): Dataset {
    const { baskets } = this;
    const n = this.nBaskets;
    const kept: number[] = [];
    for (let b = 0; b < n; b++) if (keep(b)) kept.push(b);
    const user = new Int32Array(kept.length);
    const basketUser = new Int32Array(n);
    for (let u = 0; u < this.nUsers; u++) basketUser.fill(u, baskets.userPtr[u], baskets.userPtr[u + 1]);
    const itemPtr = new Int32Array(kept.length + 1);
    for (let k = 0; k < kept.length; k++) {
      const b = kept[k];
      user[k] = basketUser[b];
      itemPtr[k + 1] = itemPtr[k] + baskets.itemPtr[b + 1] - baskets.itemPtr[b];
    }
    const items = new Int32Array(itemPtr[kept.length]);
    for (let k = 0; k < kept.length; k++) {
      const b = kept[k];
      items.set(baskets.items.subarray(baskets.itemPtr[b], baskets.itemPtr[b + 1]), itemPtr[k]);
    }
    return Dataset.fromBaskets({
      users: this.users,
      items: this.items,
      catalog: this.catalog,
      user,
      ids: kept.map((b) => baskets.ids[b]),
      orderNumber: Int32Array.from(kept, (b) => baskets.orderNumber[b]),
      day: Float64Array.from(kept, (b) => baskets.day[b]),
      linePtr: itemPtr,
      lines: items,
    });
  }

  /** Throws EmptyDataError when there is nothing to fit on. */
  assertNotEmpty(what: string): void {
    if (this.nUsers === 0 || this.nItems === 0 || this.interactions.nnz === 0) {
      throw new EmptyDataError(`${what}: the dataset has no interactions (${this.nUsers} users, ${this.nItems} items)`);
    }
  }
}

/** Names a matrix entry by its user and item ids, for errors. */
function entryLabel(users: IdIndex, items: IdIndex): (row: number, col: number) => string {
  return (row, col) => `user "${users.id(row)}", item "${items.id(col)}"`;
}

/** A Baskets value with no baskets, for data without order structure. */
export function noBaskets(nUsers: number): Baskets {
  return {
    userPtr: new Int32Array(nUsers + 1),
    itemPtr: new Int32Array(1),
    items: new Int32Array(0),
    ids: [],
    orderNumber: new Int32Array(0),
    day: new Float64Array(0),
  };
}

/** Per non-zero of `m`: the latest of `time` over the rows (user[r], item[r]) that summed into it. */
function latestTimes(m: CsrMatrix, user: Int32Array, item: Int32Array, time: Float64Array): Float64Array {
  if (time.length !== user.length) throw new DataError(`time has ${time.length} entries, user has ${user.length}`);
  const out = new Float64Array(m.nnz).fill(-Infinity);
  for (let r = 0; r < user.length; r++) {
    const t = time[r];
    if (!Number.isFinite(t)) throw new DataError(`interaction row ${r} has a non-finite timestamp ${t}`);
    // Binary search of item[r] in the sorted row user[r].
    let lo = m.indptr[user[r]];
    let hi = m.indptr[user[r] + 1] - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (m.indices[mid] < item[r]) lo = mid + 1;
      else hi = mid;
    }
    if (t > out[lo]) out[lo] = t;
  }
  return out;
}
