/**
 * A generic interactions file (user, item, optional weight / basket / timestamp columns) ->
 * interaction rows and Dataset, streamed record by record. Covers MovieLens u.data, Last.fm
 * user_artists.dat, retail exports and the like.
 */
import { recordSkippedRow, resolveColumns, type CsvOptions, type SkippedRows } from '../data/csv';
import type { Dataset } from '../data/dataset';
import {
  datasetFromInteractions,
  InteractionRowsBuilder,
  type CatalogEntry,
  type InteractionMapping,
  type InteractionRows,
} from '../data/interactions';
import { DataError, OptionError } from '../errors';
import type { Progress } from '../strategies/types';
import { readCsvFile, type ReadTextOptions } from './files';

export interface DelimitedFileOptions {
  /** Field separator (default ','; '\t' for tab-separated files, '|' for MovieLens u.item). */
  delimiter?: string;
  /** Whether '"' quotes fields (default: true unless the delimiter is a tab). */
  quoting?: boolean;
  /**
   * true (default): the first row names the columns. A string[]: the column names of a file
   * without a header row (MovieLens u.data: ['user', 'item', 'rating', 'ts']). false: no header,
   * columns are named by position "1", "2", ...
   */
  header?: boolean | readonly string[];
  /** Text encoding (default 'utf8'). */
  encoding?: 'utf8' | 'latin1';
}

export interface CatalogFileOptions extends DelimitedFileOptions {
  path: string;
  /** Columns of the item id and its text; other non-empty columns go to the item's meta. */
  mapping: { item: string; name: string; aisle?: string; department?: string };
}

export interface InteractionsCsvOptions extends DelimitedFileOptions {
  mapping: InteractionMapping;
  /** A malformed row: 'error' (default) throws a DataError naming file, line and field; 'skip' drops and counts it. */
  onBadRow?: 'error' | 'skip';
  /** Item names (and aisle/department) from a second file; its items all become items of the dataset. */
  catalog?: CatalogFileOptions;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface InteractionsLoad {
  rows: InteractionRows;
  dataset: Dataset;
  /** Rows skipped in the interactions and catalog files (onBadRow: 'skip'). */
  skipped: SkippedRows;
}

/** Loads an interactions file (plain or .gz) into rows (for the splitters) and a Dataset (for fitting). */
export async function loadInteractionsCsv(path: string, options: InteractionsCsvOptions): Promise<InteractionsLoad> {
  const { mapping } = options;
  if (!mapping) throw new OptionError('mapping', 'is required: which columns hold user and item');
  const builder = new InteractionRowsBuilder(mapping, { onBadRow: options.onBadRow, file: path });
  const wanted = [mapping.user, mapping.item, mapping.weight, mapping.basket, mapping.timestamp];
  await readMappedFile(path, wanted, options, {
    onRow: (values, line) => builder.add(values[0], values[1], values[2], values[3], values[4], line),
    onBadRow: (error) => builder.reject(error),
  });
  let catalog: Map<string, CatalogEntry> | undefined;
  if (options.catalog) catalog = await readCatalogFile(options.catalog, options, builder.skipped);
  const { rows, skipped } = builder.finish(catalog);
  return { rows, dataset: datasetFromInteractions(rows), skipped };
}

async function readCatalogFile(
  spec: CatalogFileOptions,
  options: InteractionsCsvOptions,
  skipped: SkippedRows,
): Promise<Map<string, CatalogEntry>> {
  const { mapping } = spec;
  if (!mapping?.item || !mapping.name) throw new OptionError('catalog.mapping', 'must name the item and name columns');
  const entries = new Map<string, CatalogEntry>();
  const skip = options.onBadRow === 'skip';
  const fail = (error: DataError): void => {
    if (skip) recordSkippedRow(skipped, error);
    else throw error;
  };
  let metaColumns: Array<[number, string]> = [];
  await readMappedFile(spec.path, [mapping.item, mapping.name, mapping.aisle, mapping.department], { ...spec, onBadRow: options.onBadRow, onProgress: options.onProgress, signal: options.signal }, {
    onHeader: (names, positions) => {
      const mapped = new Set(positions);
      metaColumns = names.flatMap((name, i): Array<[number, string]> => (mapped.has(i) ? [] : [[i, name]]));
    },
    onRow: (values, line, fields) => {
      const id = values[0]!;
      if (id === '') return fail(new DataError('missing item id', { file: spec.path, line, field: mapping.item }));
      if (entries.has(id)) return fail(new DataError(`duplicate item id "${id}"`, { file: spec.path, line, field: mapping.item }));
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
  /** values[k] is the field of wanted[k], undefined where wanted[k] is undefined. */
  onRow: (values: Array<string | undefined>, line: number, fields: string[]) => void;
  onBadRow: (error: DataError) => void;
}

/** Streams a delimited file, resolving the wanted column names against its header (or given names). */
async function readMappedFile(
  path: string,
  wanted: Array<string | undefined>,
  options: DelimitedFileOptions & Pick<ReadTextOptions, 'onProgress' | 'signal'> & { onBadRow?: 'error' | 'skip' },
  handlers: MappedRowHandlers,
): Promise<void> {
  const header = options.header ?? true;
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
  const csvOptions: CsvOptions = {
    delimiter: options.delimiter,
    quoting: options.quoting,
    header: header === true ? true : names ?? false,
    onHeader: (headerNames, line) => {
      names = headerNames;
      resolve(headerNames, line);
    },
    onBadRecord: options.onBadRow === 'skip' ? handlers.onBadRow : undefined,
  };
  await readCsvFile(
    path,
    (fields, line) => {
      if (!names) {
        names = fields.map((_, i) => String(i + 1));
        resolve(names, line);
      }
      if (fields.length !== names.length) {
        handlers.onBadRow(new DataError(`expected ${names.length} fields, found ${fields.length}`, { file: path, line }));
        return;
      }
      for (let k = 0; k < wanted.length; k++) {
        const p = positions[k];
        values[k] = p === undefined ? undefined : fields[p];
      }
      handlers.onRow(values, line, fields);
    },
    { ...csvOptions, encoding: options.encoding, onProgress: options.onProgress, signal: options.signal },
  );
  if (!names && header === true) throw new DataError('empty file: no header row', { file: path });
}
