import { DataError, OptionError } from '../errors';
import { arrayOf, describe, isPlainObject, oneOf, resolveOptions, type OptionChecks } from '../util/options';
import { insertionSortByKey } from './csr';
import { noSkippedRows, type SkippedRows } from './csv';
import { Dataset, emptyCatalog, type Catalog } from './dataset';
import { compareRawIds, IdIndex } from './ids';

/**
 * Instacart's Kaggle tables in columnar form: what the CSV loader parses and what the
 * synthetic generator produces. Ids are the numeric ids of the files.
 */
export interface InstacartTables {
  departments: { id: Int32Array; name: string[] };
  aisles: { id: Int32Array; name: string[] };
  products: { id: Int32Array; name: string[]; aisleId: Int32Array; departmentId: Int32Array };
  orders: {
    orderId: Int32Array;
    userId: Int32Array;
    /** 0 = prior, 1 = train, 2 = test (test orders have no lines). */
    evalSet: Uint8Array;
    orderNumber: Int32Array;
    orderDow: Uint8Array;
    orderHourOfDay: Uint8Array;
    /** NaN for a user's first order. */
    daysSincePriorOrder: Float32Array;
  };
  /** All order lines (order_products__prior and __train together). */
  orderProducts: { orderId: Int32Array; productId: Int32Array; addToCartOrder: Int32Array; reordered: Uint8Array };
}

export const EVAL_SETS = ['prior', 'train', 'test'] as const;

export type InstacartEvalSet = (typeof EVAL_SETS)[number];

/** What to do with order lines whose order_id is missing from orders.csv. */
export type OrphanOrderPolicy = 'error' | 'skip' | 'own-user';

export interface InstacartDatasetOptions {
  /** Eval sets whose order lines become baskets (default ['prior', 'train']). */
  include: readonly ('prior' | 'train')[];
  /**
   * Lines of an order that orders.csv does not list (their eval set is unknown, so
   * `include` does not apply): 'error' (default) throws; 'skip' drops them and counts them;
   * 'own-user' makes each such order the only basket of a user "order:<order_id>" (the P3
   * basket-completion protocol needs all of them).
   */
  orphanOrders: OrphanOrderPolicy;
  /** A product_id in the lines that products.csv lacks: 'error' (default) or 'add' it as an item without catalog text. */
  unknownProducts: 'error' | 'add';
  /**
   * An order listing the same product on two lines (Kaggle's files never do; a file appended
   * twice does, and would double every basket): 'error' (default) throws a DataError naming
   * the order and product; 'merge' keeps the first line (by add_to_cart_order) and counts the
   * others in the summary's `duplicateLines`.
   */
  duplicateLines: 'error' | 'merge';
}

export const INSTACART_DATASET_DEFAULTS: Readonly<InstacartDatasetOptions> = {
  include: ['prior', 'train'],
  orphanOrders: 'error',
  unknownProducts: 'error',
  duplicateLines: 'error',
};

export const INSTACART_DATASET_CHECKS: OptionChecks<InstacartDatasetOptions> = {
  include: arrayOf(oneOf(['prior', 'train'] as const), { min: 1, max: 2 }),
  orphanOrders: oneOf(['error', 'skip', 'own-user']),
  unknownProducts: oneOf(['error', 'add']),
  duplicateLines: oneOf(['error', 'merge']),
};

export interface InstacartSummary {
  users: number;
  items: number;
  /** Baskets in the dataset. */
  orders: number;
  /** Order lines in the dataset. */
  lines: number;
  /** Orders of orders.csv without any included line (test orders, or eval sets left out). */
  ordersWithoutLines: number;
  /** Lines of orders whose eval set is not in `include`. */
  excludedLines: number;
  /** Distinct orders with lines but absent from orders.csv, and their lines. */
  orphanOrders: number;
  orphanLines: number;
  /** Orphan orders and lines dropped by orphanOrders: 'skip'. */
  skippedOrders: number;
  skippedLines: number;
  /** Orphan orders given their own user by orphanOrders: 'own-user'. */
  ownUserOrders: number;
  /** Product ids added by unknownProducts: 'add'. */
  unknownProducts: number;
  /** Repeated lines (same order and product) dropped by duplicateLines: 'merge'. */
  duplicateLines: number;
  /** Malformed CSV rows skipped by the file loader (onBadRow: 'skip'); zero for in-memory tables. */
  skippedRows: SkippedRows;
}

export interface InstacartLoad {
  dataset: Dataset;
  summary: InstacartSummary;
}

/**
 * Instacart tables -> Dataset. Users are user_id strings (those with at least one basket),
 * items every catalog product (bought or not), baskets the orders with lines, lines in
 * add_to_cart_order, basket ids the order_id strings. A basket's day is the running sum of
 * days_since_prior_order over the user's orders in orders.csv by order_number, counted from the
 * user's first listed order (day 0); it is NaN when a value is missing or order numbers skip
 * (the gap's length is unknown), and stays NaN for the user's later orders.
 */
export function datasetFromInstacart(tables: InstacartTables, options: Partial<InstacartDatasetOptions> = {}): InstacartLoad {
  const o = resolveOptions('datasetFromInstacart', INSTACART_DATASET_DEFAULTS, options, INSTACART_DATASET_CHECKS);
  const { include, orphanOrders: orphanPolicy, unknownProducts: unknownPolicy } = o;
  checkTableLengths(tables);
  const { orders, orderProducts: op, products } = tables;
  const includeSet = [include.includes('prior'), include.includes('train'), false];

  const orderIndex = new IntKeyIndex(orders.orderId, (id) => new DataError(`duplicate order_id ${id} in orders`, { field: 'order_id' }));
  const productIndex = new IntKeyIndex(products.id, (id) => new DataError(`duplicate product_id ${id} in products`, { field: 'product_id' }));
  const orderDay = orderDays(orders);

  // Pass 1: which basket each line goes to (>= 0 an orders row, -1 none, <= -2 an orphan slot).
  const nLines = op.orderId.length;
  const lineRef = new Int32Array(nLines);
  const linesOfOrder = new Int32Array(orders.orderId.length);
  const orphanSlot = new Map<number, number>();
  const orphanIds: number[] = [];
  let orphanLines = 0;
  let excludedLines = 0;
  const unknown = new Set<number>();
  for (let l = 0; l < nLines; l++) {
    const orderId = op.orderId[l];
    const o = orderIndex.get(orderId);
    let keep: boolean;
    if (o >= 0) {
      const evalSet = orders.evalSet[o];
      if (evalSet === 2) throw new DataError(`order ${orderId} is a test order (no known lines) but has order lines`, { field: 'order_id' });
      keep = includeSet[evalSet];
      if (keep) {
        linesOfOrder[o]++;
        lineRef[l] = o;
      } else {
        excludedLines++;
        lineRef[l] = -1;
      }
    } else {
      let slot = orphanSlot.get(orderId);
      if (slot === undefined) {
        slot = orphanIds.length;
        orphanSlot.set(orderId, slot);
        orphanIds.push(orderId);
      }
      orphanLines++;
      keep = orphanPolicy === 'own-user';
      lineRef[l] = keep ? -2 - slot : -1;
    }
    if (keep && productIndex.get(op.productId[l]) < 0) {
      if (unknownPolicy === 'error') {
        throw new DataError(`order ${orderId} has product_id ${op.productId[l]}, which is not in products (use unknownProducts: 'add' to accept it)`, {
          field: 'product_id',
        });
      }
      unknown.add(op.productId[l]);
    }
  }
  if (orphanIds.length > 0 && orphanPolicy === 'error') {
    throw new DataError(
      `${orphanIds.length} orders (${orphanLines} lines) in order_products are not in orders.csv, first order_id ${orphanIds[0]}; ` +
        `use orphanOrders: 'skip' to drop them or 'own-user' to keep each as its own user`,
      { file: 'orders.csv', field: 'order_id' },
    );
  }

  // Items: every product id, numerically (the raw-id order of IdIndex for integer ids).
  const itemIds = new Int32Array(products.id.length + unknown.size);
  itemIds.set(products.id);
  let k = products.id.length;
  for (const id of unknown) itemIds[k++] = id;
  itemIds.sort();
  const itemIndex = new IntKeyIndex(itemIds, (id) => new DataError(`duplicate product_id ${id}`, { field: 'product_id' }));
  const items = new IdIndex(Array.from(itemIds, String), 'item');
  const catalog = instacartCatalog(tables, itemIds, productIndex);

  // Baskets: orders with lines in orders.csv order, then own-user orphans by first appearance.
  const nOrders = orders.orderId.length;
  const basketOfOrder = new Int32Array(nOrders);
  let nOrderBaskets = 0;
  let ordersWithoutLines = 0;
  const orderOfBasket = new Int32Array(nOrders);
  for (let o = 0; o < nOrders; o++) {
    if (linesOfOrder[o] > 0) {
      orderOfBasket[nOrderBaskets] = o;
      basketOfOrder[o] = nOrderBaskets++;
    } else {
      basketOfOrder[o] = -1;
      ordersWithoutLines++;
    }
  }
  const nOrphanBaskets = orphanPolicy === 'own-user' ? orphanIds.length : 0;
  const nBaskets = nOrderBaskets + nOrphanBaskets;
  const linePtr = new Int32Array(nBaskets + 1);
  for (let l = 0; l < nLines; l++) {
    const ref = lineRef[l];
    if (ref >= 0) linePtr[basketOfOrder[ref] + 1]++;
    else if (ref <= -2) linePtr[nOrderBaskets - ref - 2 + 1]++;
  }
  for (let b = 0; b < nBaskets; b++) linePtr[b + 1] += linePtr[b];
  const lines = new Int32Array(linePtr[nBaskets]);
  const cartOrder = new Int32Array(lines.length);
  const next = linePtr.slice(0, nBaskets);
  for (let l = 0; l < nLines; l++) {
    const ref = lineRef[l];
    if (ref === -1) continue;
    const b = ref >= 0 ? basketOfOrder[ref] : nOrderBaskets - ref - 2;
    const p = next[b]++;
    lines[p] = itemIndex.get(op.productId[l]);
    cartOrder[p] = op.addToCartOrder[l];
  }
  // Each basket's lines by add-to-cart order (a stable sort; usually they already are).
  for (let b = 0; b < nBaskets; b++) insertionSortByKey(cartOrder, lines, linePtr[b], linePtr[b + 1]);
  const duplicateLines = dropRepeatedLines(linePtr, lines, itemIds.length, o.duplicateLines, (b, item) => {
    const orderId = b < nOrderBaskets ? orders.orderId[orderOfBasket[b]] : orphanIds[b - nOrderBaskets];
    return new DataError(
      `order ${orderId} lists product_id ${itemIds[item]} on two lines of order_products (the same order line twice?); ` +
        `use duplicateLines: 'merge' to keep one line and count the others`,
      { field: 'product_id' },
    );
  });

  // Users: numeric user ids ascending, then "order:<id>" users, as compareRawIds orders them.
  const basketUserIds = new Int32Array(nOrderBaskets);
  for (let o = 0; o < nOrders; o++) if (basketOfOrder[o] >= 0) basketUserIds[basketOfOrder[o]] = orders.userId[o];
  const distinctUsers = distinctSorted(basketUserIds);
  const orphanUsers = orphanIds.slice(0, nOrphanBaskets).map((id) => `order:${id}`);
  const orphanUserRank = orphanUsers.map((_, i) => i).sort((a, b) => compareRawIds(orphanUsers[a], orphanUsers[b]));
  const users = new IdIndex([...Array.from(distinctUsers, String), ...orphanUserRank.map((i) => orphanUsers[i])], 'user');
  const userIndex = new IntKeyIndex(distinctUsers, (id) => new DataError(`duplicate user_id ${id}`));
  const orphanUserIndex = new Int32Array(nOrphanBaskets);
  orphanUserRank.forEach((slot, rank) => (orphanUserIndex[slot] = distinctUsers.length + rank));

  const user = new Int32Array(nBaskets);
  const ids = new Array<string>(nBaskets);
  const orderNumber = new Int32Array(nBaskets);
  const day = new Float64Array(nBaskets);
  for (let o = 0; o < nOrders; o++) {
    const b = basketOfOrder[o];
    if (b < 0) continue;
    user[b] = userIndex.get(orders.userId[o]);
    ids[b] = String(orders.orderId[o]);
    orderNumber[b] = orders.orderNumber[o];
    day[b] = orderDay[o];
  }
  for (let s = 0; s < nOrphanBaskets; s++) {
    const b = nOrderBaskets + s;
    user[b] = orphanUserIndex[s];
    ids[b] = String(orphanIds[s]);
    orderNumber[b] = 1;
    day[b] = 0;
  }

  const kept = duplicateLines > 0 ? lines.slice(0, linePtr[nBaskets]) : lines;
  const dataset = Dataset.fromBaskets({ users, items, catalog, user, ids, orderNumber, day, linePtr, lines: kept });
  const skippedOrphans = orphanPolicy === 'skip';
  return {
    dataset,
    summary: {
      users: users.size,
      items: items.size,
      orders: nBaskets,
      lines: kept.length,
      ordersWithoutLines,
      excludedLines,
      orphanOrders: orphanIds.length,
      orphanLines,
      skippedOrders: skippedOrphans ? orphanIds.length : 0,
      skippedLines: skippedOrphans ? orphanLines : 0,
      ownUserOrders: nOrphanBaskets,
      unknownProducts: unknown.size,
      duplicateLines,
      skippedRows: noSkippedRows(),
    },
  };
}

/**
 * Drops the repeats of a product within a basket, keeping its first line: compacts `lines`
 * in place and rewrites `linePtr`. Returns the number dropped; with policy 'error' the first
 * repeat throws `error(basket, item)` instead.
 */
function dropRepeatedLines(
  linePtr: Int32Array,
  lines: Int32Array,
  nItems: number,
  policy: 'error' | 'merge',
  error: (basket: number, item: number) => DataError,
): number {
  const nBaskets = linePtr.length - 1;
  const seenIn = new Int32Array(nItems).fill(-1);
  let write = 0;
  for (let b = 0; b < nBaskets; b++) {
    const start = linePtr[b];
    const end = linePtr[b + 1];
    linePtr[b] = write;
    for (let p = start; p < end; p++) {
      const item = lines[p];
      if (seenIn[item] === b) {
        if (policy === 'error') throw error(b, item);
        continue;
      }
      seenIn[item] = b;
      lines[write++] = item;
    }
  }
  const dropped = linePtr[nBaskets] - write;
  linePtr[nBaskets] = write;
  return dropped;
}

/** Columns of each table, as InstacartTables declares them. */
const TABLE_COLUMNS: { readonly [T in keyof InstacartTables]: ReadonlyArray<keyof InstacartTables[T]> } = {
  departments: ['id', 'name'],
  aisles: ['id', 'name'],
  products: ['id', 'name', 'aisleId', 'departmentId'],
  orders: ['orderId', 'userId', 'evalSet', 'orderNumber', 'orderDow', 'orderHourOfDay', 'daysSincePriorOrder'],
  orderProducts: ['orderId', 'productId', 'addToCartOrder', 'reordered'],
};

/** The tables' shape (an OptionError naming the table and column: plain JavaScript may pass anything), then equal column lengths per table. */
function checkTableLengths(tables: InstacartTables): void {
  const name = 'datasetFromInstacart: tables';
  if (!isPlainObject(tables)) throw new OptionError(name, `must be the tables of readInstacartTables() or generateGrocery(), got ${describe(tables)}`);
  for (const [table, columns] of Object.entries(TABLE_COLUMNS)) {
    const t = (tables as unknown as Record<string, Record<string, unknown>>)[table];
    if (!isPlainObject(t)) throw new OptionError(`${name}.${table}`, `must be an object of columns, got ${describe(t)}`);
    for (const column of columns as string[]) {
      if (!Array.isArray(t[column]) && !ArrayBuffer.isView(t[column])) throw new OptionError(`${name}.${table}.${column}`, `must be an array, got ${describe(t[column])}`);
    }
  }
  const check = (table: string, columns: Record<string, { length: number }>): void => {
    const entries = Object.entries(columns);
    const n = entries[0][1].length;
    for (const [name, column] of entries) {
      if (column.length !== n) throw new DataError(`${table}.${name} has ${column.length} entries, expected ${n}`);
    }
  };
  check('departments', tables.departments);
  check('aisles', tables.aisles);
  check('products', tables.products);
  check('orders', tables.orders);
  check('orderProducts', tables.orderProducts);
  for (let o = 0; o < tables.orders.evalSet.length; o++) {
    if (tables.orders.evalSet[o] > 2) {
      throw new DataError(`order ${tables.orders.orderId[o]} has eval set code ${tables.orders.evalSet[o]} (0 prior, 1 train, 2 test)`, { field: 'eval_set' });
    }
  }
}

/**
 * Per orders row: days since the user's first listed order (running sum of
 * days_since_prior_order by order_number), NaN once a value or an order in between is missing.
 */
function orderDays(orders: InstacartTables['orders']): Float64Array {
  const n = orders.orderId.length;
  const { userId, orderNumber, daysSincePriorOrder } = orders;
  const byUser = new Int32Array(n);
  let sorted = true;
  for (let o = 0; o < n; o++) {
    byUser[o] = o;
    if (o > 0 && (userId[o - 1] > userId[o] || (userId[o - 1] === userId[o] && orderNumber[o - 1] > orderNumber[o]))) sorted = false;
  }
  // Kaggle's orders.csv is already sorted by user and order number; others get sorted here.
  if (!sorted) byUser.sort((a, b) => userId[a] - userId[b] || orderNumber[a] - orderNumber[b]);
  const day = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const o = byUser[k];
    const prev = k > 0 ? byUser[k - 1] : -1;
    if (prev < 0 || userId[prev] !== userId[o]) day[o] = 0;
    else if (orderNumber[prev] === orderNumber[o]) {
      throw new DataError(`user ${userId[o]} has two orders numbered ${orderNumber[o]} (order_id ${orders.orderId[prev]} and ${orders.orderId[o]})`, {
        field: 'order_number',
      });
    } else if (orderNumber[o] === orderNumber[prev] + 1) day[o] = day[prev] + daysSincePriorOrder[o];
    else day[o] = NaN;
  }
  return day;
}

function instacartCatalog(tables: InstacartTables, itemIds: Int32Array, productIndex: IntKeyIndex): Catalog {
  const { products, aisles, departments } = tables;
  const aisleIndex = new IntKeyIndex(aisles.id, (id) => new DataError(`duplicate aisle_id ${id} in aisles`, { field: 'aisle_id' }));
  const departmentIndex = new IntKeyIndex(departments.id, (id) => new DataError(`duplicate department_id ${id} in departments`, { field: 'department_id' }));
  const catalog = emptyCatalog(itemIds.length);
  for (let i = 0; i < itemIds.length; i++) {
    const p = productIndex.get(itemIds[i]);
    if (p < 0) continue;
    const a = aisleIndex.get(products.aisleId[p]);
    if (a < 0) throw new DataError(`product ${products.id[p]} has aisle_id ${products.aisleId[p]}, which is not in aisles`, { field: 'aisle_id' });
    const d = departmentIndex.get(products.departmentId[p]);
    if (d < 0) {
      throw new DataError(`product ${products.id[p]} has department_id ${products.departmentId[p]}, which is not in departments`, {
        field: 'department_id',
      });
    }
    catalog.name[i] = products.name[p];
    catalog.aisle[i] = aisles.name[a];
    catalog.department[i] = departments.name[d];
  }
  return catalog;
}

function distinctSorted(values: Int32Array): Int32Array {
  const sorted = values.slice().sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i];
  return sorted.slice(0, n);
}

/**
 * Row position of integer keys: a dense table when the keys span a compact range (Kaggle ids
 * do), else binary search over sorted keys, so 3 million order ids need no Map.
 */
export class IntKeyIndex {
  private readonly min: number;
  private readonly dense: Int32Array | null = null;
  private readonly sortedKeys: Int32Array | null = null;
  private readonly positions: Int32Array | null = null;

  constructor(keys: Int32Array, duplicate: (key: number) => Error) {
    const n = keys.length;
    let min = 0;
    let max = -1;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      if (i === 0 || k < min) min = k;
      if (i === 0 || k > max) max = k;
    }
    this.min = min;
    const range = max - min + 1;
    if (range <= 4 * n + 65536) {
      const dense = new Int32Array(range).fill(-1);
      for (let i = 0; i < n; i++) {
        const slot = keys[i] - min;
        if (dense[slot] >= 0) throw duplicate(keys[i]);
        dense[slot] = i;
      }
      this.dense = dense;
    } else {
      const positions = new Int32Array(n);
      for (let i = 0; i < n; i++) positions[i] = i;
      positions.sort((a, b) => keys[a] - keys[b] || a - b);
      const sortedKeys = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        sortedKeys[i] = keys[positions[i]];
        if (i > 0 && sortedKeys[i] === sortedKeys[i - 1]) throw duplicate(sortedKeys[i]);
      }
      this.sortedKeys = sortedKeys;
      this.positions = positions;
    }
  }

  /** Row of `key`, or -1. */
  get(key: number): number {
    if (this.dense) {
      const slot = key - this.min;
      return slot >= 0 && slot < this.dense.length ? this.dense[slot] : -1;
    }
    const keys = this.sortedKeys!;
    let lo = 0;
    let hi = keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid];
      if (k === key) return this.positions![mid];
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
