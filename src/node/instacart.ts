/**
 * Instacart's Kaggle CSV folder -> Dataset. Every file is streamed record by record into
 * typed-array columns (the full prior file is 32 million lines), and each may be gzipped.
 */
import { open, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCsvField, GrowableColumn, noSkippedRows, parseInteger, recordSkippedRow, resolveColumns, type NumericArray, type SkippedRows } from '../data/csv';
import {
  datasetFromInstacart,
  EVAL_SETS,
  INSTACART_DATASET_CHECKS,
  INSTACART_DATASET_DEFAULTS,
  IntKeyIndex,
  type InstacartDatasetOptions,
  type InstacartLoad,
  type InstacartTables,
} from '../data/instacart';
import { DataError } from '../errors';
import type { Progress } from '../strategies/types';
import { custom, integer, nullable, oneOf, resolveOptions, string, type OptionChecks } from '../util/options';
import { checkPath, findDataFile, readCsvFile } from './files';

const COLUMNS = {
  departments: ['department_id', 'department'],
  aisles: ['aisle_id', 'aisle'],
  products: ['product_id', 'product_name', 'aisle_id', 'department_id'],
  orders: ['order_id', 'user_id', 'eval_set', 'order_number', 'order_dow', 'order_hour_of_day', 'days_since_prior_order'],
  orderProducts: ['order_id', 'product_id', 'add_to_cart_order', 'reordered'],
} as const;

export interface ReadInstacartOptions {
  /** Folder of products.csv, aisles.csv and departments.csv (default null: the orders folder). */
  catalogDir: string | null;
  /** Which order_products files to read (default ['prior', 'train']; the train file is optional). */
  include: readonly ('prior' | 'train')[];
  /**
   * A malformed row: 'error' (default) throws a DataError naming file, line and field; 'skip'
   * drops it and counts it (and every physical line it covered) in `skippedRows`. File
   * failures (a missing or corrupt file, invalid UTF-8) always throw.
   */
  onBadRow: 'error' | 'skip';
  /** Text encoding of the files (default 'utf8', decoded strictly, as Kaggle's files are). */
  encoding: 'utf8' | 'latin1';
  /**
   * Physical lines one quoted field may span (default 1: Kaggle's files have no multi-line
   * field, so a line break inside quotes is a stray quote, reported at its line). See CsvOptions.
   */
  maxFieldLines: number;
  /** Bytes read per file (stage "read <path>"). Default null. */
  onProgress: ((progress: Progress) => void) | null;
  signal: AbortSignal | null;
}

const READ_DEFAULTS: Readonly<ReadInstacartOptions> = {
  catalogDir: null,
  include: ['prior', 'train'],
  onBadRow: 'error',
  encoding: 'utf8',
  maxFieldLines: 1,
  onProgress: null,
  signal: null,
};

const READ_CHECKS: OptionChecks<ReadInstacartOptions> = {
  catalogDir: nullable(string()),
  include: INSTACART_DATASET_CHECKS.include,
  onBadRow: oneOf(['error', 'skip']),
  encoding: oneOf(['utf8', 'latin1']),
  maxFieldLines: integer({ min: 1, infinity: true }),
  onProgress: nullable(custom((v) => typeof v === 'function', 'a function')),
  signal: nullable(custom((v) => typeof AbortSignal !== 'undefined' && v instanceof AbortSignal, 'an AbortSignal')),
};

export type LoadInstacartOptions = ReadInstacartOptions & InstacartDatasetOptions;

/** Reads the Kaggle CSV tables (each file `name.csv` or `name.csv.gz`) into columns. */
export async function readInstacartTables(
  dir: string,
  options: Partial<ReadInstacartOptions> = {},
): Promise<{ tables: InstacartTables; skippedRows: SkippedRows }> {
  checkPath(dir, 'readInstacartTables: dir');
  const o = resolveOptions('readInstacartTables', READ_DEFAULTS, options, READ_CHECKS);
  const catalogDir = o.catalogDir ?? dir;
  await requireFolder(dir);
  if (catalogDir !== dir) await requireFolder(catalogDir);
  const { include } = o;
  const reader = new TableReader(o);

  const readIdNames = async (file: string, columns: readonly string[]): Promise<{ id: GrowableColumn<Int32Array>; name: string[] }> => {
    const table = { id: int32Column(1024), name: [] as string[] };
    await reader.read(await requireFile(catalogDir, file), columns, (row, parse) => {
      const id = parse.int(0);
      table.id.push(id);
      table.name.push(row[1]);
    });
    return table;
  };
  const departments = await readIdNames('departments.csv', COLUMNS.departments);
  const aisles = await readIdNames('aisles.csv', COLUMNS.aisles);

  const products = { id: int32Column(), name: [] as string[], aisleId: int32Column(), departmentId: int32Column() };
  await reader.read(await requireFile(catalogDir, 'products.csv'), COLUMNS.products, (row, parse) => {
    const id = parse.int(0);
    const aisleId = parse.int(2);
    const departmentId = parse.int(3);
    products.id.push(id);
    products.name.push(row[1]);
    products.aisleId.push(aisleId);
    products.departmentId.push(departmentId);
  });

  const orders = {
    orderId: int32Column(),
    userId: int32Column(),
    evalSet: uint8Column(),
    orderNumber: int32Column(),
    orderDow: uint8Column(),
    orderHourOfDay: uint8Column(),
    daysSincePriorOrder: new GrowableColumn((n) => new Float32Array(n), 1 << 16),
  };
  await reader.read(await requireFile(dir, 'orders.csv'), COLUMNS.orders, (row, parse) => {
    const orderId = parse.int(0);
    const userId = parse.int(1);
    const evalSet = (EVAL_SETS as readonly string[]).indexOf(row[2]);
    if (evalSet < 0) parse.fail(2, `eval_set must be one of ${EVAL_SETS.join(', ')}, got ${JSON.stringify(row[2])}`);
    const orderNumber = parse.int(3, 1);
    const dow = parse.int(4, 0, 6);
    const hour = parse.int(5, 0, 23);
    const days = row[6] === '' ? NaN : parse.number(6);
    orders.orderId.push(orderId);
    orders.userId.push(userId);
    orders.evalSet.push(evalSet);
    orders.orderNumber.push(orderNumber);
    orders.orderDow.push(dow);
    orders.orderHourOfDay.push(hour);
    orders.daysSincePriorOrder.push(days);
  });

  const orderProducts = { orderId: int32Column(), productId: int32Column(), addToCartOrder: int32Column(), reordered: uint8Column() };
  const readLines = async (path: string): Promise<void> =>
    reader.read(path, COLUMNS.orderProducts, (_row, parse) => {
      const orderId = parse.int(0);
      const productId = parse.int(1);
      const addToCartOrder = parse.int(2, 1);
      const reordered = parse.int(3, 0, 1);
      orderProducts.orderId.push(orderId);
      orderProducts.productId.push(productId);
      orderProducts.addToCartOrder.push(addToCartOrder);
      orderProducts.reordered.push(reordered);
    });
  if (include.includes('prior')) await readLines(await requireFile(dir, 'order_products__prior.csv'));
  if (include.includes('train')) {
    const trainFile = await findDataFile(dir, 'order_products__train.csv');
    if (trainFile) await readLines(trainFile);
  }

  const tables: InstacartTables = {
    departments: trimmed(departments),
    aisles: trimmed(aisles),
    products: trimmed(products),
    orders: trimmed(orders),
    orderProducts: trimmed(orderProducts),
  };
  return { tables, skippedRows: reader.skipped };
}

const int32Column = (initialSize = 1 << 16): GrowableColumn<Int32Array> => new GrowableColumn((n) => new Int32Array(n), initialSize);
const uint8Column = (): GrowableColumn<Uint8Array> => new GrowableColumn((n) => new Uint8Array(n), 1 << 16);

/** A table with each growable column replaced by its trimmed array (string columns pass through). */
function trimmed<T extends Record<string, GrowableColumn<NumericArray> | string[]>>(
  table: T,
): { [K in keyof T]: T[K] extends GrowableColumn<infer A> ? A : T[K] } {
  const out: Record<string, NumericArray | string[]> = {};
  for (const [name, column] of Object.entries(table)) out[name] = column instanceof GrowableColumn ? column.toArray() : column;
  return out as { [K in keyof T]: T[K] extends GrowableColumn<infer A> ? A : T[K] };
}

/**
 * Loads an Instacart Kaggle folder (orders.csv, order_products__prior.csv, optional
 * order_products__train.csv; products/aisles/departments from catalogDir) into a Dataset,
 * with a summary of what was read, left out and skipped.
 */
export async function loadInstacart(dir: string, options: Partial<LoadInstacartOptions> = {}): Promise<InstacartLoad> {
  const o = resolveOptions('loadInstacart', { ...READ_DEFAULTS, ...INSTACART_DATASET_DEFAULTS }, options, { ...READ_CHECKS, ...INSTACART_DATASET_CHECKS });
  const pick = <K extends string>(keys: readonly K[]): Record<K, unknown> => Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]])) as Record<K, unknown>;
  const { tables, skippedRows } = await readInstacartTables(dir, pick(Object.keys(READ_CHECKS) as Array<keyof ReadInstacartOptions>) as Partial<ReadInstacartOptions>);
  const { dataset, summary } = datasetFromInstacart(tables, pick(Object.keys(INSTACART_DATASET_CHECKS) as Array<keyof InstacartDatasetOptions>) as Partial<InstacartDatasetOptions>);
  summary.skippedRows = skippedRows;
  return { dataset, summary };
}

/**
 * Writes tables as the six Kaggle CSV files (orders.csv in Kaggle's column order and number
 * style, e.g. hour "08" and days "15.0"), so synthetic data can be exported and read back.
 * Lines of train orders go to order_products__train.csv, all others (prior orders and orders
 * missing from orders) to order_products__prior.csv.
 */
export async function writeInstacartCsv(tables: InstacartTables, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { departments, aisles, products, orders, orderProducts: op } = tables;
  await writeCsvFile(join(dir, 'departments.csv'), COLUMNS.departments, departments.id.length, (i) => `${departments.id[i]},${formatCsvField(departments.name[i])}`);
  await writeCsvFile(join(dir, 'aisles.csv'), COLUMNS.aisles, aisles.id.length, (i) => `${aisles.id[i]},${formatCsvField(aisles.name[i])}`);
  await writeCsvFile(
    join(dir, 'products.csv'),
    COLUMNS.products,
    products.id.length,
    (i) => `${products.id[i]},${formatCsvField(products.name[i])},${products.aisleId[i]},${products.departmentId[i]}`,
  );
  await writeCsvFile(join(dir, 'orders.csv'), COLUMNS.orders, orders.orderId.length, (i) => {
    const days = orders.daysSincePriorOrder[i];
    const daysText = Number.isNaN(days) ? '' : Number.isInteger(days) ? days.toFixed(1) : String(days);
    const hour = String(orders.orderHourOfDay[i]).padStart(2, '0');
    return `${orders.orderId[i]},${orders.userId[i]},${EVAL_SETS[orders.evalSet[i]]},${orders.orderNumber[i]},${orders.orderDow[i]},${hour},${daysText}`;
  });

  const orderIndex = new IntKeyIndex(orders.orderId, (id) => new DataError(`duplicate order_id ${id} in orders`, { field: 'order_id' }));
  const isTrain = new Uint8Array(op.orderId.length);
  let trainLines = 0;
  for (let l = 0; l < op.orderId.length; l++) {
    const o = orderIndex.get(op.orderId[l]);
    if (o < 0) continue;
    if (orders.evalSet[o] === 2) throw new DataError(`order ${op.orderId[l]} is a test order but has order lines`, { field: 'order_id' });
    if (orders.evalSet[o] === 1) {
      isTrain[l] = 1;
      trainLines++;
    }
  }
  const lineText = (l: number): string => `${op.orderId[l]},${op.productId[l]},${op.addToCartOrder[l]},${op.reordered[l]}`;
  const linesWhere = (train: number, count: number): Int32Array => {
    const picked = new Int32Array(count);
    let k = 0;
    for (let l = 0; l < isTrain.length; l++) if (isTrain[l] === train) picked[k++] = l;
    return picked;
  };
  const prior = linesWhere(0, op.orderId.length - trainLines);
  const train = linesWhere(1, trainLines);
  await writeCsvFile(join(dir, 'order_products__prior.csv'), COLUMNS.orderProducts, prior.length, (i) => lineText(prior[i]));
  await writeCsvFile(join(dir, 'order_products__train.csv'), COLUMNS.orderProducts, train.length, (i) => lineText(train[i]));
}

/** A DataError naming `dir` unless it is an existing folder. */
async function requireFolder(dir: string): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(dir)).isDirectory();
  } catch {
    throw new DataError('no such folder of Instacart CSV files', { file: dir });
  }
  if (!isFolder) throw new DataError('not a folder: loadInstacart reads a folder of Instacart CSV files', { file: dir });
}

async function requireFile(dir: string, name: string): Promise<string> {
  const path = await findDataFile(dir, name);
  if (!path) throw new DataError(`missing Instacart file: neither ${name} nor ${name}.gz exists`, { file: join(dir, name) });
  return path;
}

/** Field parsers for one row; each failure is a DataError naming file, line and column. */
interface RowParser {
  int(column: number, min?: number, max?: number): number;
  number(column: number): number;
  fail(column: number, message: string): never;
}

/** Reads one Kaggle table: header check, field counts, bad-row policy, progress. */
class TableReader {
  readonly skipped = noSkippedRows();

  constructor(private readonly options: Readonly<ReadInstacartOptions>) {}

  async read(path: string, columns: readonly string[], onRow: (row: string[], parse: RowParser) => void): Promise<void> {
    const skip = this.options.onBadRow === 'skip';
    let positions: number[] | null = null;
    let width = 0;
    let identity = false;
    let line = 0;
    let row: string[] = [];
    const parse: RowParser = {
      int: (column, min = -2147483648, max = 2147483647) => {
        const value = parseInteger(row[column]);
        if (Number.isNaN(value)) parse.fail(column, `not an integer: ${JSON.stringify(row[column])}`);
        if (value < min || value > max) parse.fail(column, `${value} is outside ${min}..${max}`);
        return value;
      },
      number: (column) => {
        const text = row[column];
        const value = text.trim() === text ? Number(text) : NaN;
        if (!Number.isFinite(value) || value < 0) parse.fail(column, `not a number >= 0: ${JSON.stringify(text)}`);
        return value;
      },
      fail: (column, message) => {
        throw new DataError(message, { file: path, line, field: columns[column] });
      },
    };
    await readCsvFile(
      path,
      (fields, recordLine, lines) => {
        line = recordLine;
        try {
          if (fields.length !== width) throw new DataError(`expected ${width} fields, found ${fields.length}`, { file: path, line });
          row = identity ? fields : positions!.map((p) => fields[p]);
          onRow(row, parse);
        } catch (error) {
          if (skip && error instanceof DataError) recordSkippedRow(this.skipped, error, { line: recordLine, span: lines, file: path });
          else throw error;
        }
      },
      {
        header: true,
        onHeader: (names, headerLine) => {
          positions = resolveColumns(names, columns, { file: path, line: headerLine });
          width = names.length;
          identity = positions.every((p, i) => p === i);
        },
        onBadRecord: skip ? (error) => recordSkippedRow(this.skipped, error, { file: path }) : null,
        maxFieldLines: this.options.maxFieldLines,
        encoding: this.options.encoding,
        signal: this.options.signal ?? undefined,
        onProgress: this.options.onProgress ?? undefined,
      },
    );
    if (positions === null) throw new DataError('empty file: no header row', { file: path });
  }
}

/** Writes a CSV file in blocks of about 64 KB, so large tables never become one string. */
async function writeCsvFile(path: string, header: readonly string[], rows: number, row: (i: number) => string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    let block = `${header.join(',')}\n`;
    for (let i = 0; i < rows; i++) {
      block += `${row(i)}\n`;
      if (block.length >= 1 << 16) {
        await handle.write(block);
        block = '';
      }
    }
    await handle.write(block);
  } finally {
    await handle.close();
  }
}
