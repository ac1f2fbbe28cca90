/**
 * A streaming CSV record parser (RFC 4180) that runs anywhere: feed it string chunks split at
 * any point (inside a quoted field, between \r and \n) and it emits each record with the
 * 1-based physical line where the record starts and the number of lines it spans. Fields are
 * sliced from the chunk, never built a character at a time, so it keeps up with files of
 * hundreds of megabytes.
 *
 * A bad record never takes good ones with it: by default a quoted field may not contain a line
 * break, so a stray quote costs its own line only; when multi-line fields are allowed
 * (`maxFieldLines` > 1) and a record that spans lines turns out malformed, its first line is
 * dropped and the lines after it are parsed again.
 */
import { DataError, OptionError } from '../errors';
import { boolean, custom, integer, nullable, resolveOptions, string, type OptionChecks } from '../util/options';

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
  /** Field separator, a single character other than a quote or a line break. Default ','. */
  delimiter: string;
  /**
   * Whether '"' quotes fields. Default null: true, except for a tab delimiter, since
   * tab-separated files (MovieLens, Last.fm) carry quotes as ordinary characters ("Weird Al"
   * Yankovic).
   */
  quoting: boolean | null;
  /** File name for error messages. Default null (errors name no file). */
  file: string | null;
  /**
   * true: the first record is the header; it is not passed to onRecord but to onHeader and
   * kept in `header`. A string[]: column names of a file without a header row (used to name
   * fields in errors). Default false.
   */
  header: boolean | readonly string[];
  onHeader: ((names: string[], line: number) => void) | null;
  /**
   * Receives syntax errors (stray quote, unterminated quote, over-long field) instead of
   * throwing them. Each call stands for exactly one dropped physical line, `error.line`;
   * parsing goes on at the next line. Default null: syntax errors throw.
   */
  onBadRecord: ((error: DataError) => void) | null;
  /**
   * Longest field accepted, in characters (default 1,000,000: far above any real product name
   * or description, and it bounds the memory one malformed field can take).
   */
  maxFieldLength: number;
  /**
   * How many physical lines one quoted field may span. Default 1: a line break inside quotes
   * is an error ("unterminated quote"), because in the files this library reads (order logs,
   * catalogs) a line break inside quotes is almost always a stray quote, and reading on would
   * merge the rows after it. Raise it (say to 20) for files with multi-line text fields; a
   * record that still fails is dropped by its first line only and the rest is parsed again.
   */
  maxFieldLines: number;
}

const CSV_DEFAULTS: Readonly<CsvOptions> = {
  delimiter: ',',
  quoting: null,
  file: null,
  header: false,
  onHeader: null,
  onBadRecord: null,
  maxFieldLength: 1_000_000,
  maxFieldLines: 1,
};

const isFunction = (v: unknown): boolean => typeof v === 'function';

const CSV_CHECKS: OptionChecks<CsvOptions> = {
  delimiter: custom((v) => typeof v === 'string' && v.length === 1 && v !== '"' && v !== '\n' && v !== '\r', 'one character other than a quote or line break'),
  quoting: nullable(boolean()),
  file: nullable(string()),
  header: custom((v) => typeof v === 'boolean' || (Array.isArray(v) && v.every((name) => typeof name === 'string')), 'true, false or an array of column names'),
  onHeader: nullable(custom(isFunction, 'a function')),
  onBadRecord: nullable(custom(isFunction, 'a function')),
  maxFieldLength: integer({ min: 1 }),
  maxFieldLines: integer({ min: 1, infinity: true }),
};

/**
 * Receives each record's fields (a fresh array), the line where the record starts and how many
 * physical lines it spans (more than 1 only when a quoted field holds line breaks).
 */
export type CsvRecordHandler = (fields: string[], line: number, lines: number) => void;

export interface CsvRecord {
  fields: string[];
  line: number;
}

export class CsvParser {
  static readonly defaults = CSV_DEFAULTS;
  /** Column names: from the header row once it is parsed, or as given in options.header. */
  header: string[] | null;
  readonly options: Readonly<CsvOptions>;
  private readonly delimiter: number;
  private readonly quote: number;
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
  /** The current record crossed a line break inside quotes (only when maxFieldLines > 1). */
  private spanning = false;
  /** Raw text of a spanning record after its first line break, from earlier chunks: what is parsed again if the record fails. */
  private replay = '';
  /** Whether the line break that started `replay` was a CR (so a leading LF is its CRLF's second half). */
  private replayAfterCr = false;

  constructor(
    private readonly onRecord: CsvRecordHandler,
    options: Partial<CsvOptions> = {},
  ) {
    const o = resolveOptions('CsvParser', CSV_DEFAULTS, options, CSV_CHECKS);
    this.options = o;
    this.delimiter = o.delimiter.charCodeAt(0);
    this.quote = (o.quoting ?? o.delimiter !== '\t') ? QUOTE : -1;
    this.expectHeader = o.header === true;
    this.header = Array.isArray(o.header) ? [...o.header] : null;
  }

  /** The physical line the parser has reached (1-based): where the next character of input belongs. */
  get currentLine(): number {
    return this.line;
  }

  write(chunk: string): void {
    if (this.ended) throw new OptionError('CsvParser.write', 'called after end()');
    if (chunk.length === 0) return;
    let start = 0;
    if (this.atStart) {
      this.atStart = false;
      if (chunk.charCodeAt(0) === BOM) start = 1;
    }
    let text: string | null = chunk;
    while (text !== null) {
      text = this.scan(text, start);
      start = 0;
    }
  }

  /** Flushes the last record (a file need not end with a line break). */
  end(): void {
    if (this.ended) return;
    // A quote still open at the end of input: a spanning record is dropped by its first line
    // and the rest parsed again (which may end inside another quote).
    while (this.state === QUOTED) {
      const found = this.line;
      const replay = this.bad('unterminated quoted field at end of input', this.spanning ? this.recordLine : this.quoteLine, found);
      if (replay === null) {
        this.state = FIELD_START;
        break;
      }
      let text: string | null = replay;
      while (text !== null) text = this.scan(text, 0);
    }
    this.ended = true;
    const state = this.state;
    if (state === UNQUOTED || state === QUOTE_SEEN) {
      this.fields.push(this.acc);
      this.finishRecord(this.line + 1);
    } else if (state === FIELD_START && this.fields.length > 0) {
      this.fields.push('');
      this.finishRecord(this.line + 1);
    }
    this.acc = '';
  }

  /** Name of column `index` (0-based) for messages: the header name, else "column N". */
  columnName(index: number): string {
    return this.header?.[index] ?? `column ${index + 1}`;
  }

  /**
   * Parses `chunk` from `start`. Returns null when done, or the text to parse next when a
   * spanning record failed and its lines after the first must be parsed again.
   */
  private scan(chunk: string, start: number): string | null {
    const n = chunk.length;
    const d = this.delimiter;
    const q = this.quote;
    const maxLines = this.options.maxFieldLines;
    let state = this.state;
    let line = this.line;
    let seg = start;
    /**
     * Where this chunk's part of the replay text begins when the record spans lines (stale
     * otherwise, and then unused). Failures go through this.failAt, not a closure: a closure
     * over `state` and `line` would move them out of registers and slow the loop down.
     */
    let replayStart = this.spanning ? start : -1;
    for (let i = start; i < n; i++) {
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
          const replay = this.failAt('stray quote in an unquoted field', line, line, chunk, replayStart);
          if (replay !== null) return replay;
          state = SKIP_LINE;
        }
      } else if (state === QUOTED) {
        if (c === q) {
          this.acc += chunk.slice(seg, i);
          state = QUOTE_SEEN;
        } else if (c === CR || (c === LF && !(i > 0 ? chunk.charCodeAt(i - 1) === CR : this.lastWasCr))) {
          if (line - this.quoteLine + 1 >= maxLines) {
            const message =
              maxLines === 1
                ? 'line break inside a quoted field (an unterminated quote?); set maxFieldLines above 1 to read multi-line fields'
                : `quoted field opened at line ${this.quoteLine} spans more than maxFieldLines = ${maxLines} lines (an unterminated quote?)`;
            const replay = this.failAt(message, this.quoteLine, line, chunk, replayStart);
            if (replay !== null) return replay;
            // Not spanning: the error cost this one line, which ends here.
            line++;
            this.recordLine = line;
            state = FIELD_START;
          } else {
            line++;
            if (!this.spanning) {
              this.spanning = true;
              this.replay = '';
              this.replayAfterCr = c === CR;
              replayStart = i + 1;
            }
          }
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
          const replay = this.failAt('unexpected character after a closing quote', line, line, chunk, replayStart);
          if (replay !== null) return replay;
          state = SKIP_LINE;
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
      if (this.acc.length > this.options.maxFieldLength) {
        const what = state === QUOTED ? 'quoted field (an unterminated quote?)' : 'field';
        const replay = this.failAt(`${what} longer than maxFieldLength = ${this.options.maxFieldLength} characters`, state === QUOTED ? this.quoteLine : line, line, chunk, replayStart);
        if (replay !== null) return replay;
        state = SKIP_LINE;
      }
    }
    if (this.spanning) this.replay += chunk.slice(replayStart);
    this.lastWasCr = chunk.charCodeAt(n - 1) === CR;
    this.state = state;
    this.line = line;
    return null;
  }

  /**
   * A syntax error found at line `found` while scanning `chunk`: for a record that spans lines
   * it is reported at the record's first line and the text after that line is returned to be
   * parsed again (the parser state is set for it); otherwise it is reported at `line` and null
   * returned, and the caller drops the rest of the line.
   */
  private failAt(message: string, line: number, found: number, chunk: string, replayStart: number): string | null {
    return this.spanning ? this.bad(message, this.recordLine, found, chunk.slice(replayStart)) : this.bad(message, line, found);
  }

  private finishRecord(nextLine: number): void {
    const fields = this.fields;
    const line = this.recordLine;
    this.fields = [];
    this.recordLine = nextLine;
    this.spanning = false;
    this.replay = '';
    if (this.expectHeader) {
      this.expectHeader = false;
      this.header = fields;
      this.options.onHeader?.(fields, line);
    } else {
      this.onRecord(fields, line, nextLine - line);
    }
  }

  /**
   * A syntax error at `line` (found at line `found`): thrown, or reported to onBadRecord.
   * Reported in a record that spans lines, the record's first line is dropped and the parser
   * restarts at the next line: returns the text to parse again (`rest` is the current chunk
   * from where the replay part of it begins). Otherwise returns null and the caller drops the
   * rest of the line.
   */
  private bad(message: string, line: number, found: number, rest = ''): string | null {
    const where = found > line ? `${message} (found at line ${found}, in a record that starts at line ${line})` : message;
    const error = new DataError(where, { file: this.options.file ?? undefined, line, field: this.columnName(this.fields.length) });
    if (!this.options.onBadRecord) throw error;
    this.options.onBadRecord(error);
    this.fields = [];
    this.acc = '';
    if (!this.spanning) return null;
    const replay = this.replay + rest;
    this.spanning = false;
    this.replay = '';
    this.state = FIELD_START;
    this.line = line + 1;
    this.recordLine = line + 1;
    this.lastWasCr = this.replayAfterCr;
    return replay;
  }
}

/** Parses a whole string (small inputs, tests, browser uploads). */
export function parseCsv(text: string, options: Partial<CsvOptions> = {}): { header: string[] | null; records: CsvRecord[] } {
  const records: CsvRecord[] = [];
  const parser = new CsvParser((fields, line) => records.push({ fields, line }), options);
  parser.write(text);
  parser.end();
  return { header: parser.header, records };
}

/** Records of a stream of text chunks (for example a fetch body through TextDecoderStream). */
export async function* csvRecords(chunks: AsyncIterable<string> | Iterable<string>, options: Partial<CsvOptions> = {}): AsyncGenerator<CsvRecord> {
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
 * Index of each wanted column in a header row. A missing column, or a name the header holds
 * twice (which of the two would be meant?), is a DataError naming it. Extra columns are allowed
 * and ignored.
 */
export function resolveColumns(header: readonly string[], wanted: readonly string[], where: { file?: string; line?: number } = {}): number[] {
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) {
      throw new DataError(`the header names column "${name}" twice (columns ${first + 1} and ${i + 1})`, { file: where.file, line: where.line, field: name });
    }
    seen.set(name, i);
  });
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

/** One physical line (or in-memory row) a loader dropped. */
export interface SkippedLine {
  /** The file, or undefined for in-memory rows. */
  file?: string;
  /** 1-based line of the file (the header is line 1), or the 1-based row number of in-memory rows. */
  line: number;
}

/**
 * What a loader skipped on request (onBadRow: 'skip'), counted exactly: nothing is dropped
 * without being counted here.
 */
export interface SkippedRows {
  /** Records (rows) dropped. A record whose quoted field spans lines counts once. */
  count: number;
  /** Physical lines those records covered (>= count); for in-memory rows, equal to count. */
  lines: number;
  /** The first dropped lines, in reading order (at most 10). */
  firstLines: SkippedLine[];
  /** The reasons of the first dropped records (at most 10), each naming file, line and field. */
  errors: string[];
}

/** How many lines and reasons a SkippedRows keeps. */
const SKIPPED_KEPT = 10;

export function noSkippedRows(): SkippedRows {
  return { count: 0, lines: 0, firstLines: [], errors: [] };
}

/**
 * Counts one dropped record: `span` physical lines from `line` (default: the error's line)
 * of `file` (default: the error's file).
 */
export function recordSkippedRow(skipped: SkippedRows, error: DataError, where: { line?: number; span?: number; file?: string } = {}): void {
  const span = where.span ?? 1;
  const line = where.line ?? error.line;
  const file = where.file ?? error.file;
  skipped.count++;
  skipped.lines += span;
  if (skipped.errors.length < SKIPPED_KEPT) skipped.errors.push(error.message);
  if (line === undefined) return;
  for (let k = 0; k < span && skipped.firstLines.length < SKIPPED_KEPT; k++) {
    skipped.firstLines.push(file === undefined ? { line: line + k } : { file, line: line + k });
  }
}
