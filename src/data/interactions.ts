import { DataError, OptionError } from '../errors';
import { custom, describe, oneOf, resolveOptions, type OptionChecks } from '../util/options';
import { describeLoneSurrogate, loneSurrogateAt } from '../util/text';
import { GrowableColumn, noSkippedRows, recordSkippedRow, type SkippedRows } from './csv';
import { Dataset, emptyCatalog, type BasketInput, type Catalog } from './dataset';
import { IdIndex } from './ids';

/**
 * Interaction rows in columnar form, as read from a generic CSV or rows: one entry per input
 * row (not aggregated), so splitters that cut by time or at random see every event.
 */
export interface InteractionRows {
  users: IdIndex;
  items: IdIndex;
  user: Int32Array;
  item: Int32Array;
  /** Per row weight (1 when the source has no weight column). */
  weight: Float32Array;
  /** Per row timestamp in seconds since the epoch, or null when the source has none. */
  time: Float64Array | null;
  /** Per row basket (order) index into basketIds, or null when the source has none. */
  basket: Int32Array | null;
  basketIds: string[] | null;
  catalog: Catalog | null;
}

/** Which field of a row holds what. Only user and item are required. */
export interface InteractionMapping {
  user: string;
  item: string;
  /** Positive finite weight (a count, a rating, a play count); 1 when absent. */
  weight?: string;
  /** Basket (order, session) id: rows with the same value form one basket. */
  basket?: string;
  /** Unix seconds (a number or numeric text) or ISO-8601 text (UTC unless it has an offset). */
  timestamp?: string;
}

const columnName = (optional: boolean) =>
  custom<string>((v) => (optional && v === undefined) || (typeof v === 'string' && v !== ''), optional ? 'a column name (a non-empty string) or undefined' : 'a column name (a non-empty string)');

const MAPPING_DEFAULTS: Readonly<InteractionMapping> = { user: '', item: '', weight: undefined, basket: undefined, timestamp: undefined };
const MAPPING_CHECKS = {
  user: columnName(false),
  item: columnName(false),
  weight: columnName(true),
  basket: columnName(true),
  timestamp: columnName(true),
} as OptionChecks<InteractionMapping>;

/** The mapping, checked: user and item name columns, the optional keys name one or are absent, no unknown key (a typo would silently drop a column). */
export function resolveMapping(mapping: unknown, name = 'mapping'): Readonly<InteractionMapping> {
  if (mapping === undefined) throw new OptionError(name, 'is required: which columns hold user and item');
  return resolveOptions(name, MAPPING_DEFAULTS, mapping, MAPPING_CHECKS);
}

/** What to do with a bad row: 'error' (default) throws a DataError naming it; 'skip' drops and counts it. */
export type BadRowPolicy = 'error' | 'skip';

export const checkBadRowPolicy = oneOf<BadRowPolicy>(['error', 'skip']);

export interface InteractionRowsResult {
  rows: InteractionRows;
  skipped: SkippedRows;
}

/** Catalog text of one item, for InteractionRowsBuilder.finish. */
export interface CatalogEntry {
  name: string;
  aisle: string;
  department: string;
  meta?: Record<string, string>;
}

/**
 * Accumulates interaction rows into columns, with the validation and bad-row policy shared
 * by interactionsFromRows and the CSV loader. Ids get codes in order of first appearance;
 * finish() renumbers them in raw-id order. Text ids and numbers lose surrounding whitespace,
 * since real exports pad them (Last.fm's user_artists.dat has an artist "65  " and weights
 * like "    316"), and "65  " must be the same artist as "65".
 */
export class InteractionRowsBuilder {
  private readonly userCode = new Map<string, number>();
  private readonly itemCode = new Map<string, number>();
  private readonly basketCode = new Map<string, number>();
  private readonly user = new GrowableColumn((n) => new Int32Array(n));
  private readonly item = new GrowableColumn((n) => new Int32Array(n));
  private readonly weight = new GrowableColumn((n) => new Float32Array(n));
  private readonly time: GrowableColumn<Float64Array> | null;
  private readonly basket: GrowableColumn<Int32Array> | null;
  readonly skipped = noSkippedRows();

  /**
   * `file` set: errors name file and line (`position` is the line); unset: they name the
   * 1-based row number.
   */
  private readonly mapping: Readonly<InteractionMapping>;
  private readonly onBadRow: BadRowPolicy;
  private readonly file?: string;

  constructor(mapping: InteractionMapping, options: { onBadRow?: BadRowPolicy; file?: string } = {}) {
    this.mapping = resolveMapping(mapping);
    this.onBadRow = checkBadRowPolicy(options.onBadRow ?? 'error', 'onBadRow');
    this.file = options.file;
    this.time = this.mapping.timestamp !== undefined ? new GrowableColumn((n) => new Float64Array(n)) : null;
    this.basket = this.mapping.basket !== undefined ? new GrowableColumn((n) => new Int32Array(n)) : null;
  }

  /**
   * Adds one row given the raw values of the mapped fields (undefined for unmapped ones);
   * `position` is its line (or row number), `span` the physical lines it covers.
   */
  add(user: unknown, item: unknown, weight: unknown, basket: unknown, timestamp: unknown, position: number, span = 1): void {
    try {
      const m = this.mapping;
      const userId = this.id(user, m.user, position);
      const itemId = this.id(item, m.item, position);
      let w = 1;
      if (m.weight !== undefined) {
        const raw = toNumber(weight);
        if (!(raw > 0) || !Number.isFinite(raw)) throw this.error(`weight must be a finite number > 0, got ${describe(weight)}`, m.weight, position);
        // Weights are stored as float32: a value that does not survive that is an error, not a silent 0 or Infinity.
        w = Math.fround(raw);
        if (!(w > 0) || !Number.isFinite(w)) throw this.error(`weight ${raw} is outside the float32 range the interaction matrix stores`, m.weight, position);
      }
      const basketId = m.basket !== undefined ? this.id(basket, m.basket, position) : '';
      let t = 0;
      if (m.timestamp !== undefined) {
        t = parseTimestamp(timestamp);
        if (!Number.isFinite(t)) throw this.error(`timestamp must be unix seconds or ISO-8601, got ${describe(timestamp)}`, m.timestamp, position);
      }
      this.user.push(codeOf(this.userCode, userId));
      this.item.push(codeOf(this.itemCode, itemId));
      this.weight.push(w);
      this.time?.push(t);
      this.basket?.push(codeOf(this.basketCode, basketId));
    } catch (error) {
      if (this.onBadRow === 'skip' && error instanceof DataError) recordSkippedRow(this.skipped, error, { line: position, span });
      else throw error;
    }
  }

  /**
   * A row rejected before add() (a CSV syntax error, a wrong field count, a row that is not an
   * object): thrown, or counted under onBadRow 'skip' (`span` physical lines from its line).
   */
  reject(error: DataError, where: { line?: number; span?: number } = {}): void {
    if (this.onBadRow === 'skip') recordSkippedRow(this.skipped, error, where);
    else throw error;
  }

  /**
   * The rows with users and items renumbered in raw-id order. Catalog items that no row
   * mentions become items too (columns of zeros that content strategies can still rank).
   */
  finish(catalog?: ReadonlyMap<string, CatalogEntry>): InteractionRowsResult {
    const users = IdIndex.sorted(this.userCode.keys(), 'user');
    const itemIds = catalog ? new Set([...this.itemCode.keys(), ...catalog.keys()]) : this.itemCode.keys();
    const items = IdIndex.sorted(itemIds, 'item');
    const userOf = Int32Array.from(this.userCode.keys(), (id) => users.indexOf(id));
    const itemOf = Int32Array.from(this.itemCode.keys(), (id) => items.indexOf(id));
    const user = this.user.toArray();
    const item = this.item.toArray();
    for (let r = 0; r < user.length; r++) {
      user[r] = userOf[user[r]];
      item[r] = itemOf[item[r]];
    }
    let itemCatalog: Catalog | null = null;
    if (catalog) {
      itemCatalog = emptyCatalog(items.size);
      for (let i = 0; i < items.size; i++) {
        const entry = catalog.get(items.id(i));
        if (!entry) continue;
        itemCatalog.name[i] = entry.name;
        itemCatalog.aisle[i] = entry.aisle;
        itemCatalog.department[i] = entry.department;
        itemCatalog.meta[i] = entry.meta;
      }
    }
    return {
      rows: {
        users,
        items,
        user,
        item,
        weight: this.weight.toArray(),
        time: this.time ? this.time.toArray() : null,
        basket: this.basket ? this.basket.toArray() : null,
        basketIds: this.basket ? [...this.basketCode.keys()] : null,
        catalog: itemCatalog,
      },
      skipped: this.skipped,
    };
  }

  /**
   * An id as a string: text trimmed, finite numbers and bigints in decimal (rows from JSON or a
   * database carry numeric ids). Anything else, an empty value, or text that is not
   * well-formed Unicode (a lone surrogate would change on save) is a DataError.
   */
  private id(value: unknown, field: string, position: number): string {
    if (typeof value === 'string') {
      const id = value.trim();
      if (id !== '') {
        const bad = loneSurrogateAt(id);
        if (bad >= 0) throw this.error(`id ${JSON.stringify(id)} ${describeLoneSurrogate(id, bad)}`, field, position);
        return id;
      }
    }
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
    const missing = value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
    throw this.error(missing ? 'missing value' : `not an id: ${describe(value)}`, field, position);
  }

  /** A DataError at `position`: a file line when the builder reads a file, else a 1-based row number. */
  error(message: string, field: string | undefined, position: number): DataError {
    const { file } = this;
    return file !== undefined ? new DataError(message, { file, line: position, field }) : new DataError(`row ${position}: ${message}`, { field });
  }
}

/**
 * Plain objects (parsed JSON, database rows) -> interaction rows. Ids become strings;
 * a bad weight, id or timestamp is a DataError naming the 1-based row and the field, or with
 * onBadRow 'skip' the row is dropped and counted.
 */
export function interactionsFromRows(
  rows: Iterable<Record<string, unknown>>,
  mapping: InteractionMapping,
  options: { onBadRow?: BadRowPolicy } = {},
): InteractionRowsResult {
  if (rows === null || typeof rows !== 'object' || typeof (rows as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
    throw new OptionError('interactionsFromRows.rows', `must be an array (or iterable) of row objects, got ${describe(rows)}`);
  }
  const o = resolveOptions('interactionsFromRows', { onBadRow: 'error' as BadRowPolicy }, options, { onBadRow: checkBadRowPolicy });
  const builder = new InteractionRowsBuilder(mapping, o);
  const { user, item, weight, basket, timestamp } = resolveMapping(mapping);
  const mapped = [user, item, weight, basket, timestamp].filter((field): field is string => field !== undefined);
  let position = 0;
  for (const row of rows as Iterable<unknown>) {
    position++;
    if (row === null || typeof row !== 'object') {
      builder.reject(builder.error(`not a row object: ${describe(row)}`, undefined, position), { line: position });
      continue;
    }
    const missing = mapped.find((field) => !(field in row));
    if (missing !== undefined) {
      const has = Object.keys(row).slice(0, 10).map((k) => JSON.stringify(k)).join(', ');
      builder.reject(builder.error(`the row has no field "${missing}" (it has ${has || 'no fields'})`, missing, position), { line: position });
      continue;
    }
    const r = row as Record<string, unknown>;
    builder.add(
      r[user],
      r[item],
      weight !== undefined ? r[weight] : undefined,
      basket !== undefined ? r[basket] : undefined,
      timestamp !== undefined ? r[timestamp] : undefined,
      position,
    );
  }
  return builder.finish();
}

const SECONDS_PER_DAY = 86400;

/**
 * Interaction rows -> Dataset; the matrix sums the weights of each (user, item).
 * - With a basket column: one basket per basket id (all its rows must share a user), a
 *   user's baskets ordered by their earliest timestamp, else by first appearance; lines in
 *   row order; day = days since the user's first basket (NaN without timestamps).
 * - Without one but with timestamps: a user's rows with the same timestamp form a basket
 *   with id "<user>@<timestamp>".
 * - With neither: no baskets, only the weighted matrix.
 * With timestamps, Dataset.times holds each (user, item)'s latest one (what recency weighting
 * and the temporal validation carve read), beside the baskets.
 */
export function datasetFromInteractions(rows: InteractionRows): Dataset {
  checkInteractionRows(rows);
  const catalog = rows.catalog ?? undefined;
  const input = rows.basket ? basketsByColumn(rows, rows.basket, rows.basketIds ?? []) : rows.time ? basketsByTimestamp(rows, rows.time) : null;
  if (!input) return Dataset.fromInteractions({ users: rows.users, items: rows.items, catalog, user: rows.user, item: rows.item, weight: rows.weight });
  const basketed = Dataset.fromBaskets(input);
  // Every row is a basket line, so each row's (user, item) is an entry of the basket matrix.
  if (rows.weight.every((w) => w === 1)) return rows.time ? basketed.withTimes(rows.user, rows.item, rows.time) : basketed;
  return Dataset.fromInteractions({
    users: rows.users,
    items: rows.items,
    catalog,
    user: rows.user,
    item: rows.item,
    weight: rows.weight,
    time: rows.time,
    baskets: basketed.baskets,
  });
}

/**
 * The shape and ranges of InteractionRows (which plain JavaScript callers may build by hand):
 * a wrong shape is an OptionError naming the field (`name` names the argument), a bad value a
 * DataError naming the row.
 */
export function checkInteractionRows(rows: InteractionRows, name = 'datasetFromInteractions.rows'): void {
  if (rows === null || typeof rows !== 'object') throw new OptionError(name, `must be the rows of interactionsFromRows() or loadInteractionsCsv(), got ${describe(rows)}`);
  if ('rows' in rows && 'skipped' in rows) throw new OptionError(name, 'got the whole result of interactionsFromRows(): pass its .rows');
  const field = (key: keyof InteractionRows, ok: boolean, expected: string): void => {
    if (!ok) throw new OptionError(`${name}.${key}`, `must be ${expected}, got ${describe(rows[key])}`);
  };
  field('users', rows.users instanceof IdIndex, 'an IdIndex');
  field('items', rows.items instanceof IdIndex, 'an IdIndex');
  field('user', rows.user instanceof Int32Array, 'an Int32Array');
  field('item', rows.item instanceof Int32Array, 'an Int32Array');
  field('weight', rows.weight instanceof Float32Array, 'a Float32Array');
  field('time', rows.time === null || rows.time instanceof Float64Array, 'a Float64Array or null');
  field('basket', rows.basket === null || rows.basket instanceof Int32Array, 'an Int32Array or null');
  field('basketIds', rows.basket === null ? rows.basketIds === null || Array.isArray(rows.basketIds) : Array.isArray(rows.basketIds), 'an array of basket ids (or null without baskets)');
  field('catalog', rows.catalog === null || (typeof rows.catalog === 'object' && Array.isArray(rows.catalog.name) && rows.catalog.name.length === rows.items.size), `null or a catalog of ${rows.items.size} items`);
  const n = rows.user.length;
  for (const key of ['item', 'weight', 'time', 'basket'] as const) {
    const column = rows[key];
    if (column !== null && column.length !== n) throw new OptionError(`${name}.${key}`, `has ${column.length} entries, rows.user has ${n}`);
  }
  const nUsers = rows.users.size;
  const nItems = rows.items.size;
  for (let r = 0; r < n; r++) {
    const u = rows.user[r];
    const i = rows.item[r];
    if (u < 0 || u >= nUsers) throw new DataError(`interaction row ${r + 1} has user index ${u}, outside [0, ${nUsers})`, { field: 'user' });
    if (i < 0 || i >= nItems) throw new DataError(`interaction row ${r + 1} has item index ${i}, outside [0, ${nItems})`, { field: 'item' });
    if (!Number.isFinite(rows.weight[r])) throw new DataError(`interaction row ${r + 1} has weight ${rows.weight[r]}`, { field: 'weight' });
    if (rows.time && !Number.isFinite(rows.time[r])) throw new DataError(`interaction row ${r + 1} has timestamp ${rows.time[r]}`, { field: 'time' });
  }
}

function basketsByColumn(rows: InteractionRows, basket: Int32Array, basketIds: string[]): BasketInput {
  const n = basket.length;
  const nIds = basketIds.length;
  const owner = new Int32Array(nIds).fill(-1);
  const firstRow = new Int32Array(nIds).fill(-1);
  const start = new Float64Array(nIds).fill(Infinity);
  const size = new Int32Array(nIds);
  for (let r = 0; r < n; r++) {
    const b = basket[r];
    if (b < 0 || b >= nIds) throw new DataError(`interaction row ${r} has basket index ${b} out of range [0, ${nIds})`);
    const u = rows.user[r];
    if (owner[b] === -1) {
      owner[b] = u;
      firstRow[b] = r;
    } else if (owner[b] !== u) {
      throw new DataError(`basket "${basketIds[b]}" has rows of two users, "${rows.users.id(owner[b])}" and "${rows.users.id(u)}"`);
    }
    if (rows.time && rows.time[r] < start[b]) start[b] = rows.time[r];
    size[b]++;
  }
  const used: number[] = [];
  for (let b = 0; b < nIds; b++) if (size[b] > 0) used.push(b);
  const timed = rows.time !== null;
  used.sort((a, b) => owner[a] - owner[b] || (timed ? start[a] - start[b] : 0) || firstRow[a] - firstRow[b]);
  const slot = new Int32Array(nIds);
  used.forEach((b, k) => (slot[b] = k));
  const linePtr = new Int32Array(used.length + 1);
  for (let k = 0; k < used.length; k++) linePtr[k + 1] = linePtr[k] + size[used[k]];
  const lines = new Int32Array(n);
  const next = linePtr.slice(0, used.length);
  for (let r = 0; r < n; r++) lines[next[slot[basket[r]]]++] = rows.item[r];
  const user = Int32Array.from(used, (b) => owner[b]);
  const orderNumber = new Int32Array(used.length);
  const day = new Float64Array(used.length);
  for (let k = 0; k < used.length; k++) {
    orderNumber[k] = k === 0 || user[k - 1] !== user[k] ? 1 : orderNumber[k - 1] + 1;
    day[k] = timed ? (start[used[k]] - start[used[k - orderNumber[k] + 1]]) / SECONDS_PER_DAY : NaN;
  }
  return { users: rows.users, items: rows.items, catalog: rows.catalog ?? undefined, user, ids: used.map((b) => basketIds[b]), orderNumber, day, linePtr, lines };
}

function basketsByTimestamp(rows: InteractionRows, time: Float64Array): BasketInput {
  const n = time.length;
  const order = new Int32Array(n);
  for (let r = 0; r < n; r++) order[r] = r;
  order.sort((a, b) => rows.user[a] - rows.user[b] || time[a] - time[b] || a - b);
  const user: number[] = [];
  const ids: string[] = [];
  const orderNumber: number[] = [];
  const day: number[] = [];
  const linePtr: number[] = [0];
  const lines = new Int32Array(n);
  let userStart = 0;
  for (let k = 0; k < n; k++) {
    const r = order[k];
    lines[k] = rows.item[r];
    const prev = k > 0 ? order[k - 1] : -1;
    const newUser = prev < 0 || rows.user[prev] !== rows.user[r];
    if (newUser || time[prev] !== time[r]) {
      if (k > 0) linePtr.push(k);
      if (newUser) userStart = time[r];
      user.push(rows.user[r]);
      ids.push(`${rows.users.id(rows.user[r])}@${time[r]}`);
      orderNumber.push(newUser ? 1 : orderNumber[orderNumber.length - 1] + 1);
      day.push((time[r] - userStart) / SECONDS_PER_DAY);
    }
  }
  if (n > 0) linePtr.push(n);
  return {
    users: rows.users,
    items: rows.items,
    catalog: rows.catalog ?? undefined,
    user: Int32Array.from(user),
    ids,
    orderNumber: Int32Array.from(orderNumber),
    day: Float64Array.from(day),
    linePtr: Int32Array.from(linePtr),
    lines,
  };
}

function codeOf(codes: Map<string, number>, id: string): number {
  let code = codes.get(id);
  if (code === undefined) {
    code = codes.size;
    codes.set(id, code);
  }
  return code;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}


const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Seconds since the epoch of a timestamp value: a number or numeric text is taken as unix
 * seconds; ISO-8601 text ("2017-05-01", "2017-05-01T08:30:00Z", "2017-05-01 08:30+02:00") is
 * read as UTC unless it carries an offset, so results do not depend on the machine's time zone.
 * NaN when the value is neither.
 */
export function parseTimestamp(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime() / 1000;
  if (typeof value !== 'string') return NaN;
  const text = value.trim();
  if (NUMERIC.test(text)) return Number(text);
  const m = ISO_8601.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const dayOfMonth = Number(d);
  const ms = Date.UTC(year, month - 1, dayOfMonth, Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== dayOfMonth || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return NaN;
  }
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  }
  return ms / 1000 + (frac ? Number(`0.${frac}`) : 0) - offsetMinutes * 60;
}
