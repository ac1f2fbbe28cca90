/**
 * A generic interactions file (user, item, optional weight / basket / timestamp columns) ->
 * interaction rows and Dataset, streamed record by record. Covers MovieLens u.data, Last.fm
 * user_artists.dat, retail exports and the like.
 */
import { recordSkippedRow, resolveColumns, type CsvOptions, type SkippedRows } from '../data/csv';
import type { Dataset } from '../data/dataset';
import {
  checkBadRowPolicy,
  datasetFromInteractions,
  InteractionRowsBuilder,
  resolveMapping,
  type BadRowPolicy,
  type CatalogEntry,
  type InteractionMapping,
  type InteractionRows,
} from '../data/interactions';
import { DataError } from '../errors';
import type { Progress } from '../strategies/types';
import { boolean, custom, integer, nullable, oneOf, resolveOptions, string, type Check, type OptionChecks } from '../util/options';
import { readCsvFile, type ReadTextOptions } from './files';

export interface DelimitedFileOptions {
  /** Field separator (default ','; '\t' for tab-separated files, '|' for MovieLens u.item). */
  delimiter: string;
  /** Whether '"' quotes fields (default null: true unless the delimiter is a tab). */
  quoting: boolean | null;
  /**
   * true (default): the first row names the columns. A string[]: the column names of a file
   * without a header row (MovieLens u.data: ['user', 'item', 'rating', 'ts']). false: no header,
   * columns are named by position "1", "2", ...
   */
  header: boolean | readonly string[];
  /**
   * Text encoding (default 'utf8', decoded strictly: invalid bytes are a DataError naming file
   * and line). 'latin1' for Latin-1 files such as MovieLens' u.item.
   */
  encoding: 'utf8' | 'latin1';
  /**
   * Physical lines one quoted field may span (default 1: a line break inside quotes is an
   * error, since in interaction logs it is almost always a stray quote). See CsvOptions.
   */
  maxFieldLines: number;
}

export interface CatalogFileOptions extends DelimitedFileOptions {
  path: string;
  /** Columns of the item id and its text; other non-empty columns go to the item's meta. */
  mapping: { item: string; name: string; aisle?: string; department?: string };
}

export interface InteractionsCsvOptions extends DelimitedFileOptions {
  mapping: InteractionMapping;
  /**
   * A malformed row: 'error' (default) throws a DataError naming file, line and field; 'skip'
   * drops it and counts it (and every physical line it covered) in `skipped`. File failures
   * (missing, unreadable, corrupt .gz, invalid UTF-8) always throw.
   */
  onBadRow: BadRowPolicy;
  /** Item names (and aisle/department) from a second file; its items all become items of the dataset. Default null. */
  catalog: (Partial<CatalogFileOptions> & Pick<CatalogFileOptions, 'path' | 'mapping'>) | null;
  onProgress: ((progress: Progress) => void) | null;
  signal: AbortSignal | null;
}

export interface InteractionsLoad {
  rows: InteractionRows;
  dataset: Dataset;
  /** Rows skipped in the interactions and catalog files (onBadRow: 'skip'). */
  skipped: SkippedRows;
}

const DELIMITED_DEFAULTS: Readonly<DelimitedFileOptions> = { delimiter: ',', quoting: null, header: true, encoding: 'utf8', maxFieldLines: 1 };

const DELIMITED_CHECKS: OptionChecks<DelimitedFileOptions> = {
  delimiter: string(),
  quoting: nullable(boolean()),
  header: custom((v) => typeof v === 'boolean' || (Array.isArray(v) && v.every((name) => typeof name === 'string')), 'true, false or an array of column names'),
  encoding: oneOf(['utf8', 'latin1']),
  maxFieldLines: integer({ min: 1, infinity: true }),
};

const columnName: Check<string> = custom((v) => typeof v === 'string' && v !== '', 'a column name (a non-empty string)');
const optionalColumn: Check<string | undefined> = custom((v) => v === undefined || (typeof v === 'string' && v !== ''), 'a column name or undefined');

const CATALOG_CHECKS: OptionChecks<CatalogFileOptions> = {
  ...DELIMITED_CHECKS,
  path: custom((v) => typeof v === 'string' && v !== '', 'the path of the catalog file'),
  mapping: (v, name) =>
    resolveOptions(name, { item: '', name: '', aisle: undefined, department: undefined }, v ?? {}, {
      item: columnName,
      name: columnName,
      aisle: optionalColumn,
      department: optionalColumn,
    }),
};

const isFunction = (v: unknown): boolean => typeof v === 'function';

const LOAD_DEFAULTS: Readonly<InteractionsCsvOptions> = {
  ...DELIMITED_DEFAULTS,
  mapping: undefined as unknown as InteractionMapping,
  onBadRow: 'error',
  catalog: null,
  onProgress: null,
  signal: null,
};

const LOAD_CHECKS: OptionChecks<InteractionsCsvOptions> = {
  ...DELIMITED_CHECKS,
  mapping: (v, name) => resolveMapping(v, name),
  onBadRow: checkBadRowPolicy,
  catalog: nullable((v, name) => resolveOptions(name, { ...DELIMITED_DEFAULTS, path: '', mapping: { item: '', name: '' } }, v, CATALOG_CHECKS)),
  onProgress: nullable(custom(isFunction, 'a function')),
  signal: nullable(custom((v) => typeof AbortSignal !== 'undefined' && v instanceof AbortSignal, 'an AbortSignal')),
};

/** Loads an interactions file (plain or .gz) into rows (for the splitters) and a Dataset (for fitting). */
export async function loadInteractionsCsv(path: string, options: Partial<InteractionsCsvOptions> & Pick<InteractionsCsvOptions, 'mapping'>): Promise<InteractionsLoad> {
  const o = resolveOptions('loadInteractionsCsv', LOAD_DEFAULTS, options, LOAD_CHECKS);
  const { mapping } = o;
  const builder = new InteractionRowsBuilder(mapping, { onBadRow: o.onBadRow, file: path });
  const wanted = [mapping.user, mapping.item, mapping.weight, mapping.basket, mapping.timestamp];
  await readMappedFile(path, wanted, o, {
    onRow: (values, line, _fields, span) => builder.add(values[0], values[1], values[2], values[3], values[4], line, span),
    onBadRow: (error, span) => builder.reject(error, { line: error.line, span }),
  });
  let catalog: Map<string, CatalogEntry> | undefined;
  if (o.catalog) catalog = await readCatalogFile(o.catalog as CatalogFileOptions, o, builder.skipped);
  const { rows, skipped } = builder.finish(catalog);
  return { rows, dataset: datasetFromInteractions(rows), skipped };
}

async function readCatalogFile(spec: CatalogFileOptions, options: Readonly<InteractionsCsvOptions>, skipped: SkippedRows): Promise<Map<string, CatalogEntry>> {
  const { mapping } = spec;
  const entries = new Map<string, CatalogEntry>();
  const skip = options.onBadRow === 'skip';
  const fail = (error: DataError, span = 1): void => {
    if (skip) recordSkippedRow(skipped, error, { span });
    else throw error;
  };
  let metaColumns: Array<[number, string]> = [];
  await readMappedFile(spec.path, [mapping.item, mapping.name, mapping.aisle, mapping.department], { ...spec, onBadRow: options.onBadRow, onProgress: options.onProgress, signal: options.signal }, {
    onHeader: (names, positions) => {
      const mapped = new Set(positions);
      metaColumns = names.flatMap((name, i): Array<[number, string]> => (mapped.has(i) ? [] : [[i, name]]));
    },
    onRow: (values, line, fields, span) => {
      const id = values[0]!;
      if (id === '') return fail(new DataError('missing item id', { file: spec.path, line, field: mapping.item }), span);
      if (entries.has(id)) return fail(new DataError(`duplicate item id "${id}"`, { file: spec.path, line, field: mapping.item }), span);
      let meta: Record<string, string> | undefined;
      for (const [i, name] of metaColumns) {
        if (fields[i] === '') continue;
        meta ??= {};
        meta[name] = fields[i];
      }
      entries.set(id, { name: values[1]!, aisle: values[2] ?? '', department: values[3] ?? '', meta });
    },
    onBadRow: fail,
  });
  return entries;
}

interface MappedRowHandlers {
  onHeader?: (names: string[], positions: number[]) => void;
  /** values[k] is the field of wanted[k], undefined where wanted[k] is undefined; `span` the physical lines of the record. */
  onRow: (values: Array<string | undefined>, line: number, fields: string[], span: number) => void;
  /** A record dropped before onRow: a syntax error (one line) or a wrong field count (`span` lines). */
  onBadRow: (error: DataError, span: number) => void;
}

/** Streams a delimited file, resolving the wanted column names against its header (or given names). */
async function readMappedFile(
  path: string,
  wanted: Array<string | undefined>,
  options: Readonly<DelimitedFileOptions> & { onBadRow: BadRowPolicy; onProgress: ((progress: Progress) => void) | null; signal: AbortSignal | null },
  handlers: MappedRowHandlers,
): Promise<void> {
  const { header } = options;
  let names: string[] | null = Array.isArray(header) ? [...header] : null;
  let positions: Array<number | undefined> = [];
  const values: Array<string | undefined> = new Array(wanted.length);
  const resolve = (columnNames: string[], line: number | undefined): void => {
    const present = wanted.filter((w): w is string => w !== undefined);
    const found = resolveColumns(columnNames, present, { file: path, line });
    let k = 0;
    positions = wanted.map((w) => (w === undefined ? undefined : found[k++]));
    handlers.onHeader?.(columnNames, found);
  };
  if (names) resolve(names, undefined);
  const csvOptions: Partial<CsvOptions> & Omit<ReadTextOptions, 'currentLine'> = {
    delimiter: options.delimiter,
    quoting: options.quoting,
    header: header === true ? true : names ?? false,
    maxFieldLines: options.maxFieldLines,
    onHeader: (headerNames, line) => {
      names = headerNames;
      resolve(headerNames, line);
    },
    onBadRecord: options.onBadRow === 'skip' ? (error) => handlers.onBadRow(error, 1) : null,
    encoding: options.encoding,
    onProgress: options.onProgress ?? undefined,
    signal: options.signal ?? undefined,
  };
  await readCsvFile(
    path,
    (fields, line, span) => {
      if (!names) {
        names = fields.map((_, i) => String(i + 1));
        resolve(names, line);
      }
      if (fields.length !== names.length) {
        handlers.onBadRow(new DataError(`expected ${names.length} fields, found ${fields.length}`, { file: path, line }), span);
        return;
      }
      for (let k = 0; k < wanted.length; k++) {
        const p = positions[k];
        values[k] = p === undefined ? undefined : fields[p];
      }
      handlers.onRow(values, line, fields, span);
    },
    csvOptions,
  );
  if (!names && header === true) throw new DataError('empty file: no header row', { file: path });
}
