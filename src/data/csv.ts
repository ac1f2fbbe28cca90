/**
 * A streaming CSV record parser (RFC 4180) that runs anywhere: feed it string chunks split at
 * any point (inside a quoted field, between \r and \n) and it emits each record with the
 * 1-based physical line where the record starts. Fields are sliced from the chunk, never
 * built a character at a time, so it keeps up with files of hundreds of megabytes.
 */
import { DataError, OptionError } from '../errors';

const QUOTE = 34;
const LF = 10;
const CR = 13;
const BOM = 0xfeff;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** Inside a quoted field right after a quote: either the closing quote or the first of "". */
const QUOTE_SEEN = 3;
/** After a syntax error that a caller chose to skip: drop the rest of the physical line. */
const SKIP_LINE = 4;

export interface CsvOptions {
  /** Field separator, a single character (default ','). */
  delimiter?: string;
  /**
   * Whether '"' quotes fields. Default: true, except for a tab delimiter, since tab-separated
   * files (MovieLens, Last.fm) carry quotes as ordinary characters ("Weird Al" Yankovic).
   */
  quoting?: boolean;
  /** File name for error messages. */
  file?: string;
  /**
   * true: the first record is the header; it is not passed to onRecord but to onHeader and
   * kept in `header`. A string[]: column names of a file without a header row (used to name
   * fields in errors). Default false.
   */
  header?: boolean | readonly string[];
  onHeader?: (names: string[], line: number) => void;
  /**
   * Receives syntax errors (stray quote, unterminated quote) instead of throwing them; the
   * rest of the offending physical line is dropped and parsing goes on.
   */
  onBadRecord?: (error: DataError) => void;
  /** Longest field accepted, in characters (default 1,000,000): bounds memory when a stray
   * opening quote would otherwise swallow the rest of the file. */
  maxFieldLength?: number;
}

/** Receives each record's fields (a fresh array) and the line where the record starts. */
export type CsvRecordHandler = (fields: string[], line: number) => void;

export interface CsvRecord {
  fields: string[];
  line: number;
}

export class CsvParser {
  /** Column names: from the header row once it is parsed, or as given in options.header. */
  header: string[] | null;
  private readonly delimiter: number;
  private readonly quote: number;
  private readonly file?: string;
  private readonly maxFieldLength: number;
  private readonly onHeader?: (names: string[], line: number) => void;
  private readonly onBadRecord?: (error: DataError) => void;
  private expectHeader: boolean;
  private state = FIELD_START;
  private fields: string[] = [];
  /** Text of the current field carried over from earlier chunks (or before a ""). */
  private acc = '';
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private lastWasCr = false;
  private atStart = true;
  private ended = false;

  constructor(
    private readonly onRecord: CsvRecordHandler,
    options: CsvOptions = {},
  ) {
    const delimiter = options.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new OptionError('delimiter', `must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`);
    }
    this.delimiter = delimiter.charCodeAt(0);
    this.quote = (options.quoting ?? delimiter !== '\t') ? QUOTE : -1;
    this.file = options.file;
    this.maxFieldLength = options.maxFieldLength ?? 1_000_000;
    if (!(this.maxFieldLength > 0)) throw new OptionError('maxFieldLength', `must be > 0, got ${this.maxFieldLength}`);
    this.onHeader = options.onHeader;
    this.onBadRecord = options.onBadRecord;
    this.expectHeader = options.header === true;
    this.header = Array.isArray(options.header) ? [...options.header] : null;
  }

  write(chunk: string): void {
    if (this.ended) throw new OptionError('CsvParser.write', 'called after end()');
    const n = chunk.length;
    if (n === 0) return;
    const d = this.delimiter;
    const q = this.quote;
    let i = 0;
    if (this.atStart) {
      this.atStart = false;
      if (chunk.charCodeAt(0) === BOM) i = 1;
    }
    let state = this.state;
    let line = this.line;
    let seg = i;
    for (; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (state === UNQUOTED) {
        // Most characters are neither line breaks (10, 13) nor a quote (34) nor the delimiter.
        if (c > QUOTE && c !== d) continue;
        if (c === d || c === LF || c === CR) {
          this.fields.push(this.acc === '' ? chunk.slice(seg, i) : this.acc + chunk.slice(seg, i));
          this.acc = '';
          state = FIELD_START;
          if (c !== d) {
            line++;
            this.finishRecord(line);
          }
        } else if (c === q) {
          state = this.fail('stray quote in an unquoted field', line);
        }
      } else if (state === QUOTED) {
        if (c === q) {
          this.acc += chunk.slice(seg, i);
          state = QUOTE_SEEN;
        } else if (c === CR || (c === LF && !(i > 0 ? chunk.charCodeAt(i - 1) === CR : this.lastWasCr))) {
          line++;
        }
      } else if (state === QUOTE_SEEN) {
        if (c === q) {
          this.acc += '"';
          seg = i + 1;
          state = QUOTED;
        } else if (c === d || c === LF || c === CR) {
          this.fields.push(this.acc);
          this.acc = '';
          state = FIELD_START;
          if (c !== d) {
            line++;
            this.finishRecord(line);
          }
        } else {
          state = this.fail('unexpected character after a closing quote', line);
        }
      } else if (state === FIELD_START) {
        if (c === q) {
          state = QUOTED;
          seg = i + 1;
          this.quoteLine = line;
        } else if (c === d) {
          this.fields.push('');
        } else if (c === LF || c === CR) {
          if (this.fields.length > 0) {
            this.fields.push('');
            line++;
            this.finishRecord(line);
          } else if (c === CR || !(i > 0 ? chunk.charCodeAt(i - 1) === CR : this.lastWasCr)) {
            // An empty line: no record. (The LF of a CRLF that ended a record lands here too
            // and is not counted twice.)
            line++;
            this.recordLine = line;
          }
        } else {
          state = UNQUOTED;
          seg = i;
        }
      } else if (c === LF || c === CR) {
        line++;
        this.fields = [];
        this.acc = '';
        this.recordLine = line;
        state = FIELD_START;
      }
    }
    if (state === UNQUOTED || state === QUOTED) {
      this.acc += chunk.slice(seg, n);
      if (this.acc.length > this.maxFieldLength) {
        const what = state === QUOTED ? 'quoted field (unterminated quote?)' : 'field';
        state = this.fail(`${what} longer than ${this.maxFieldLength} characters`, state === QUOTED ? this.quoteLine : line);
        this.acc = '';
      }
    }
    this.lastWasCr = chunk.charCodeAt(n - 1) === CR;
    this.state = state;
    this.line = line;
  }

  /** Flushes the last record (a file need not end with a line break). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const state = this.state;
    if (state === QUOTED) {
      this.fail('unterminated quoted field at end of input', this.quoteLine);
    } else if (state === UNQUOTED || state === QUOTE_SEEN) {
      this.fields.push(this.acc);
      this.finishRecord(this.line);
    } else if (state === FIELD_START && this.fields.length > 0) {
      this.fields.push('');
      this.finishRecord(this.line);
    }
    this.acc = '';
  }

  /** Name of column `index` (0-based) for messages: the header name, else "column N". */
  columnName(index: number): string {
    return this.header?.[index] ?? `column ${index + 1}`;
  }

  private finishRecord(nextLine: number): void {
    const fields = this.fields;
    const line = this.recordLine;
    this.fields = [];
    this.recordLine = nextLine;
    if (this.expectHeader) {
      this.expectHeader = false;
      this.header = fields;
      this.onHeader?.(fields, line);
    } else {
      this.onRecord(fields, line);
    }
  }

  private fail(message: string, line: number): number {
    const error = new DataError(message, { file: this.file, line, field: this.columnName(this.fields.length) });
    if (!this.onBadRecord) throw error;
    this.onBadRecord(error);
    this.fields = [];
    this.acc = '';
    return SKIP_LINE;
  }
}

/** Parses a whole string (small inputs, tests, browser uploads). */
export function parseCsv(text: string, options: CsvOptions = {}): { header: string[] | null; records: CsvRecord[] } {
  const records: CsvRecord[] = [];
  const parser = new CsvParser((fields, line) => records.push({ fields, line }), options);
  parser.write(text);
  parser.end();
  return { header: parser.header, records };
}

/** Records of a stream of text chunks (for example a fetch body through TextDecoderStream). */
export async function* csvRecords(chunks: AsyncIterable<string> | Iterable<string>, options: CsvOptions = {}): AsyncGenerator<CsvRecord> {
  let pending: CsvRecord[] = [];
  const parser = new CsvParser((fields, line) => pending.push({ fields, line }), options);
  for await (const chunk of chunks) {
    parser.write(chunk);
    const ready = pending;
    pending = [];
    yield* ready;
  }
  parser.end();
  yield* pending;
}

/**
 * Index of each wanted column in a header row; a missing column is a DataError naming it.
 * Extra columns are allowed and ignored.
 */
export function resolveColumns(header: readonly string[], wanted: readonly string[], where: { file?: string; line?: number } = {}): number[] {
  return wanted.map((name) => {
    const index = header.indexOf(name);
    if (index < 0) {
      throw new DataError(`missing column "${name}" (header has ${header.map((h) => JSON.stringify(h)).join(', ')})`, {
        file: where.file,
        line: where.line,
        field: name,
      });
    }
    return index;
  });
}

/**
 * A base-10 integer in the int32 range ("007" allowed, no sign '+', no spaces, no decimals),
 * or NaN. Hand-rolled because it runs once per id of every order line.
 */
export function parseInteger(text: string): number {
  const n = text.length;
  if (n === 0 || n > 11) return NaN;
  let i = 0;
  let negative = false;
  if (text.charCodeAt(0) === 45) {
    if (n === 1) return NaN;
    negative = true;
    i = 1;
  }
  let value = 0;
  for (; i < n; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  if (negative) value = -value;
  return value > 2147483647 || value < -2147483648 ? NaN : value;
}

/** A field for writing: quoted (with doubled quotes) when it holds the delimiter, a quote or a line break. */
export function formatCsvField(value: string, delimiter = ','): string {
  if (value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r')) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

export type NumericArray = Int32Array | Uint8Array | Float32Array | Float64Array;

/** An append-only typed array column (doubling growth), for loaders that stream rows into columns. */
export class GrowableColumn<T extends NumericArray> {
  private buffer: T;
  length = 0;

  constructor(private readonly make: (size: number) => T, initialSize = 1024) {
    this.buffer = make(initialSize);
  }

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const bigger = this.make(this.buffer.length * 2);
      bigger.set(this.buffer as ArrayLike<number>);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = value;
  }

  /** The values, trimmed to length (a copy). */
  toArray(): T {
    return this.buffer.slice(0, this.length) as T;
  }
}

/** Rows a loader skipped on request (onBadRow: 'skip'): how many, and the first few reasons. */
export interface SkippedRows {
  count: number;
  errors: string[];
}

/** How many skip reasons a SkippedRows keeps. */
const SKIPPED_MESSAGES_KEPT = 10;

export function noSkippedRows(): SkippedRows {
  return { count: 0, errors: [] };
}

export function recordSkippedRow(skipped: SkippedRows, error: Error): void {
  skipped.count++;
  if (skipped.errors.length < SKIPPED_MESSAGES_KEPT) skipped.errors.push(error.message);
}
