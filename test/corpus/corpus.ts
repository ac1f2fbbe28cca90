/**
 * The project's bad-input corpus: what each file of test/corpus/csv holds and what loading it
 * must give, plus seeded generators for the inputs that are large or binary (a 200,000-row
 * file with stray quotes, invalid UTF-8, damaged gzip, artifact edits). test/corpus.test.ts
 * runs every case; README.md lists the categories.
 *
 * Line numbers are 1-based and count the header. Each case names the error the strict
 * (default) mode must throw, and what onBadRow: 'skip' must read and count.
 */
import { afterAll } from 'vitest';
import type { HybridrecError } from '../../src/errors';
import { mulberry32 } from '../../src/util/random';

/**
 * Counts the cases of a corpus test file per category (a case is counted once its assertions
 * passed) and prints the table when the file is done: category -> cases -> all typed errors.
 */
export function caseTally(title: string): (category: string) => void {
  const tally = new Map<string, number>();
  afterAll(() => {
    const rows = [...tally].map(([category, cases]) => `| ${category} | ${cases} | yes |`);
    console.log([`bad-input corpus (${title}): category -> cases -> all typed errors`, '| category | cases | all typed |', '|---|---|---|', ...rows].join('\n'));
  });
  return (category) => tally.set(category, (tally.get(category) ?? 0) + 1);
}

/** The error `run` throws; anything but an instance of `type` (or nothing) fails the case. */
export function thrown<E extends HybridrecError>(type: new (...args: never[]) => E, run: () => unknown): E {
  try {
    run();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

/** thrown() for a function that may return a promise. */
export async function rejected<E extends HybridrecError>(type: new (...args: never[]) => E, run: () => unknown): Promise<E> {
  try {
    await run();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

export const CSV_DIR = new URL('./csv/', import.meta.url);

/** What a CSV corpus file must give. */
export interface CsvCase {
  file: string;
  /** The file is a catalog (item, name, aisle) read beside a valid interactions file; else an interactions file (user, item, qty). */
  catalog?: boolean;
  maxFieldLines?: number;
  /** Default mode: a DataError at this line and field whose message matches; null: the file loads. */
  error: { line: number; field?: string; message: RegExp } | null;
  /** onBadRow 'skip': rows (or catalog entries) read and what is counted; null: the error throws in skip mode too (header and file errors). */
  skip: { read: number; count: number; lines: number; firstLines: number[] } | null;
}

export const CSV_CASES: CsvCase[] = [
  {
    file: 'stray-quote-in-field.csv',
    error: { line: 4, field: 'item', message: /stray quote/ },
    skip: { read: 8, count: 1, lines: 1, firstLines: [4] },
  },
  {
    // The old parser read on until the next quote and swallowed every row after this one.
    file: 'stray-opening-quote.csv',
    error: { line: 4, field: 'item', message: /line break inside a quoted field/ },
    skip: { read: 38, count: 1, lines: 1, firstLines: [4] },
  },
  {
    // The old parser merged lines 4 and 5 into one valid-looking row, silently.
    file: 'two-unbalanced-quotes.csv',
    error: { line: 4, field: 'item', message: /line break inside a quoted field/ },
    skip: { read: 7, count: 2, lines: 2, firstLines: [4, 5] },
  },
  {
    file: 'text-after-closing-quote.csv',
    error: { line: 4, field: 'item', message: /unexpected character after a closing quote/ },
    skip: { read: 8, count: 1, lines: 1, firstLines: [4] },
  },
  {
    file: 'unterminated-at-end.csv',
    error: { line: 7, field: 'item', message: /unterminated quoted field at end of input/ },
    skip: { read: 5, count: 1, lines: 1, firstLines: [7] },
  },
  {
    file: 'stray-quote-crlf.csv',
    error: { line: 4, field: 'item', message: /line break inside a quoted field/ },
    skip: { read: 8, count: 1, lines: 1, firstLines: [4] },
  },
  {
    file: 'stray-quote-cr-only.csv',
    error: { line: 4, field: 'item', message: /line break inside a quoted field/ },
    skip: { read: 8, count: 1, lines: 1, firstLines: [4] },
  },
  {
    file: 'stray-quote-after-bom.csv',
    error: { line: 2, field: 'item', message: /line break inside a quoted field/ },
    skip: { read: 4, count: 1, lines: 1, firstLines: [2] },
  },
  {
    file: 'quote-spans-blank-lines.csv',
    error: { line: 4, field: 'item', message: /line break inside a quoted field/ },
    skip: { read: 6, count: 1, lines: 1, firstLines: [4] },
  },
  {
    file: 'field-counts.csv',
    error: { line: 4, message: /expected 3 fields, found 2/ },
    skip: { read: 6, count: 2, lines: 2, firstLines: [4, 7] },
  },
  {
    file: 'bad-values.csv',
    error: { line: 4, field: 'qty', message: /weight must be a finite number > 0, got "-1"/ },
    skip: { read: 5, count: 6, lines: 6, firstLines: [4, 5, 6, 7, 8, 9] },
  },
  {
    file: 'duplicate-header.csv',
    error: { line: 1, field: 'user', message: /names column "user" twice \(columns 1 and 3\)/ },
    skip: null,
  },
  {
    file: 'missing-column.csv',
    error: { line: 1, field: 'item', message: /missing column "item"/ },
    skip: null,
  },
  {
    file: 'many-defects.csv',
    error: { line: 2, field: 'item', message: /line break inside a quoted field/ },
    skip: { read: 3, count: 6, lines: 6, firstLines: [2, 3, 4, 5, 6, 10] },
  },
  {
    // Legal multi-line names, read when allowed...
    file: 'multiline-catalog.csv',
    catalog: true,
    maxFieldLines: 3,
    error: null,
    skip: { read: 3, count: 0, lines: 0, firstLines: [] },
  },
  {
    // ...an error at the first one by default...
    file: 'multiline-catalog.csv',
    catalog: true,
    error: { line: 2, field: 'name', message: /line break inside a quoted field.*maxFieldLines/ },
    skip: { read: 1, count: 5, lines: 5, firstLines: [2, 3, 4, 5, 6] },
  },
  {
    // ...and past the limit, the record's first line is dropped and the rest parsed again:
    // "(12)" is then a one-field row and 'large",dairy' holds a stray quote.
    file: 'multiline-catalog.csv',
    catalog: true,
    maxFieldLines: 2,
    error: { line: 4, field: 'name', message: /spans more than maxFieldLines = 2 lines.*found at line 5/ },
    skip: { read: 2, count: 3, lines: 3, firstLines: [4, 5, 6] },
  },
  {
    // A stray quote where multi-line fields are allowed costs its own line only.
    file: 'multiline-stray-quote.csv',
    catalog: true,
    maxFieldLines: 3,
    error: { line: 4, field: 'name', message: /spans more than maxFieldLines = 3 lines.*found at line 6/ },
    skip: { read: 4, count: 1, lines: 1, firstLines: [4] },
  },
];

/** A 200,000-row interactions file with stray quotes of three kinds on seeded lines. */
export function strayQuoteFile(seed: number, rows: number, strays: number): { text: string; badLines: number[] } {
  const rng = mulberry32(seed);
  const bad = new Set<number>();
  while (bad.size < strays) bad.add(2 + Math.floor(rng() * rows));
  const kinds = ['u%,"i%,1', 'u%,i"%,1', 'u%,"i%"x,1'];
  const out: string[] = ['user,item,qty'];
  for (let line = 2; line < rows + 2; line++) {
    const id = String(line);
    out.push(bad.has(line) ? kinds[line % 3].replaceAll('%', id) : `u${line % 997},i${line % 389},${1 + (line % 4)}`);
  }
  return { text: `${out.join('\n')}\n`, badLines: [...bad].sort((a, b) => a - b) };
}

/** Byte sequences that are not UTF-8 (WHATWG), each inside a one-row interactions file after "caf". */
export const INVALID_UTF8: Array<{ what: string; bytes: number[] }> = [
  { what: 'Latin-1 é', bytes: [0xe9] },
  { what: 'lone continuation byte', bytes: [0x80] },
  { what: 'truncated 2-byte sequence', bytes: [0xc3] },
  { what: 'truncated 3-byte sequence', bytes: [0xe2, 0x82] },
  { what: 'truncated 4-byte sequence', bytes: [0xf0, 0x9f, 0x98] },
  { what: 'overlong "/" (C0 AF)', bytes: [0xc0, 0xaf] },
  { what: 'overlong 3-byte (E0 80 AF)', bytes: [0xe0, 0x80, 0xaf] },
  { what: 'UTF-16 surrogate in CESU-8 (ED A0 80)', bytes: [0xed, 0xa0, 0x80] },
  { what: 'above U+10FFFF (F4 90 80 80)', bytes: [0xf4, 0x90, 0x80, 0x80] },
  { what: 'byte FF', bytes: [0xff] },
  { what: 'byte F8 (5-byte lead)', bytes: [0xf8, 0x88, 0x80, 0x80, 0x80] },
];

/** Seeded distinct positions in [from, to). */
export function seededPositions(seed: number, count: number, from: number, to: number): number[] {
  const rng = mulberry32(seed);
  const picked = new Set<number>();
  const n = Math.min(count, to - from);
  while (picked.size < n) picked.add(from + Math.floor(rng() * (to - from)));
  return [...picked].sort((a, b) => a - b);
}
