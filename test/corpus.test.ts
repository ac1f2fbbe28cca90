/**
 * The bad-input corpus (test/corpus/): CSV syntax, text encoding, file and stream failures,
 * interaction rows, ids and numbers, Instacart folders. Every case asserts the error type and
 * that the message names the place (file and line, row and field); every skip asserts exact
 * counts. The per-category table is printed at the end (and in the closing note).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactWriter } from '../src/artifact/container';
import { CsrMatrix } from '../src/data/csr';
import { CsvParser } from '../src/data/csv';
import { IdIndex } from '../src/data/ids';
import { datasetFromInstacart, type InstacartTables } from '../src/data/instacart';
import { datasetFromInteractions, interactionsFromRows, type InteractionMapping } from '../src/data/interactions';
import { writeDataset } from '../src/data/serialize';
import { generateGrocery } from '../src/data/synthetic';
import { ArtifactError, DataError, OptionError } from '../src/errors';
import { decodeText, loadArtifactFile, readLines } from '../src/node/files';
import { loadInstacart, readInstacartTables, writeInstacartCsv } from '../src/node/instacart';
import { loadInteractionsCsv } from '../src/node/interactions';
import { mulberry32 } from '../src/util/random';
import { caseTally, CSV_CASES, CSV_DIR, INVALID_UTF8, rejected, seededPositions, strayQuoteFile, type CsvCase } from './corpus/corpus';
import { basketsDataset } from './fixtures';

const counted = caseTally('data');
const failure = rejected;

/** A DataError naming `file` (and `line`, `field` when given) in its properties and its message. */
async function dataError(category: string, run: () => unknown, where: { file?: string; line?: number; field?: string; message?: RegExp }): Promise<DataError> {
  const error = await failure(DataError, run);
  if (where.file !== undefined) {
    expect(error.file).toBe(where.file);
    expect(error.message).toContain(`file ${where.file}`);
  }
  if (where.line !== undefined) {
    expect(error.line).toBe(where.line);
    expect(error.message).toContain(`line ${where.line}`);
  }
  if (where.field !== undefined) {
    expect(error.field).toBe(where.field);
    expect(error.message).toContain(`field "${where.field}"`);
  }
  if (where.message) expect(error.message).toMatch(where.message);
  counted(category);
  return error;
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hybridrec-corpus-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const QTY: InteractionMapping = { user: 'user', item: 'item', weight: 'qty' };
const corpusFile = (name: string): string => fileURLToPath(new URL(name, CSV_DIR));
const linesAt = (file: string, lines: number[]): Array<{ file: string; line: number }> => lines.map((line) => ({ file, line }));

// --------------------------------------------------------------------------- CSV syntax

async function loadCase(c: CsvCase, onBadRow: 'error' | 'skip'): Promise<{ read: number; skipped: { count: number; lines: number; firstLines: unknown[] } }> {
  const path = corpusFile(c.file);
  if (!c.catalog) {
    const { rows, skipped } = await loadInteractionsCsv(path, { mapping: QTY, onBadRow, maxFieldLines: c.maxFieldLines });
    return { read: rows.user.length, skipped };
  }
  const good = join(dir, 'good-interactions.csv');
  await writeFile(good, 'user,item\nu1,i1\n');
  const { dataset, skipped } = await loadInteractionsCsv(good, {
    mapping: { user: 'user', item: 'item' },
    onBadRow,
    catalog: { path, mapping: { item: 'item', name: 'name', aisle: 'aisle' }, maxFieldLines: c.maxFieldLines },
  });
  return { read: dataset.catalog.name.filter((name) => name !== '').length, skipped };
}

describe('corpus: CSV syntax (test/corpus/csv)', () => {
  for (const c of CSV_CASES) {
    const label = `${c.file}${c.maxFieldLines ? ` (maxFieldLines ${c.maxFieldLines})` : ''}`;
    it(`${label}: strict mode`, async () => {
      if (c.error === null) {
        expect((await loadCase(c, 'error')).read).toBe(c.skip!.read);
        counted('csv syntax');
        return;
      }
      await dataError('csv syntax', () => loadCase(c, 'error'), { file: corpusFile(c.file), line: c.error.line, field: c.error.field, message: c.error.message });
    });
    it(`${label}: onBadRow 'skip' counts every lost line`, async () => {
      if (c.skip === null) {
        await dataError('csv syntax', () => loadCase(c, 'skip'), { file: corpusFile(c.file), line: c.error!.line, message: c.error!.message });
        return;
      }
      const { read, skipped } = await loadCase(c, 'skip');
      expect(read).toBe(c.skip.read);
      expect(skipped).toMatchObject({ count: c.skip.count, lines: c.skip.lines, firstLines: linesAt(corpusFile(c.file), c.skip.firstLines) });
      counted('csv syntax');
    });
  }

  it('the empty file is a DataError naming it, in both modes', async () => {
    const path = corpusFile('empty.csv');
    for (const onBadRow of ['error', 'skip'] as const) {
      await dataError('csv syntax', () => loadInteractionsCsv(path, { mapping: QTY, onBadRow }), { file: path, message: /empty file: no header row/ });
    }
  });

  it('a header given as names must not repeat a name', async () => {
    const path = join(dir, 'noheader.tsv');
    await writeFile(path, '1\t2\n');
    await dataError('csv syntax', () => loadInteractionsCsv(path, { delimiter: '\t', header: ['user', 'user'], mapping: { user: 'user', item: 'user' } }), {
      file: path,
      field: 'user',
      message: /twice/,
    });
  });

  it('gives the same records and errors however the text is cut into chunks', async () => {
    const rng = mulberry32(11);
    for (const c of CSV_CASES) {
      const text = await readFile(corpusFile(c.file), 'utf8');
      const parse = (chunks: string[]): unknown => {
        const out: unknown[] = [];
        const parser = new CsvParser((fields, line, lines) => out.push(['record', line, lines, fields]), {
          maxFieldLines: c.maxFieldLines,
          onBadRecord: (e) => out.push(['bad', e.line, e.message]),
        });
        for (const chunk of chunks) parser.write(chunk);
        parser.end();
        return out;
      };
      const whole = parse([text]);
      expect(parse([...text]), `${c.file} one character at a time`).toEqual(whole);
      for (let trial = 0; trial < 20; trial++) {
        const cuts = [0, ...seededPositions(Math.floor(rng() * 1e9), 4, 1, Math.max(2, text.length)), text.length];
        expect(parse(cuts.slice(1).map((end, k) => text.slice(cuts[k], end))), `${c.file} trial ${trial}`).toEqual(whole);
      }
      counted('csv chunk splits');
    }
  });
});

describe('corpus: stray quotes in a 200,000-row file (seeded)', () => {
  const ROWS = 200_000;

  it('one stray opening quote: a DataError at its line, or exactly that line skipped', async () => {
    const { text, badLines } = strayQuoteFile(1, ROWS, 1);
    const path = join(dir, 'stray-1.csv');
    await writeFile(path, text);
    await dataError('csv large', () => loadInteractionsCsv(path, { mapping: QTY }), { file: path, line: badLines[0] });
    const { rows, skipped } = await loadInteractionsCsv(path, { mapping: QTY, onBadRow: 'skip' });
    // The old parser read 133,080 rows of such a file and reported 1 skipped.
    expect(rows.user.length).toBe(ROWS - 1);
    expect(skipped).toMatchObject({ count: 1, lines: 1, firstLines: linesAt(path, badLines) });
    counted('csv large');
  });

  for (const maxFieldLines of [1, 50]) {
    it(`25 stray quotes of three kinds (maxFieldLines ${maxFieldLines}): exactly 25 lines lost, each named`, async () => {
      const { text, badLines } = strayQuoteFile(2, ROWS, 25);
      const path = join(dir, `stray-25-${maxFieldLines}.csv`);
      await writeFile(path, text);
      const { rows, skipped } = await loadInteractionsCsv(path, { mapping: QTY, onBadRow: 'skip', maxFieldLines });
      expect(rows.user.length).toBe(ROWS - 25);
      expect(skipped.count).toBe(25);
      expect(skipped.lines).toBe(25);
      expect(skipped.firstLines).toEqual(linesAt(path, badLines.slice(0, 10)));
      for (const [k, message] of skipped.errors.entries()) expect(message).toContain(`line ${badLines[k]}`);
      counted('csv large');
    });
  }
});

// ------------------------------------------------------------------------------ encoding

describe('corpus: text encoding (strict UTF-8 by default)', () => {
  for (const { what, bytes } of INVALID_UTF8) {
    it(`${what}: a DataError naming file and line, plain and gzipped`, async () => {
      const body = Buffer.concat([Buffer.from('user,item\nu1,i1\ncaf'), Buffer.from(bytes), Buffer.from(',i2\nu3,i3\n')]);
      const slug = what.replace(/\W+/g, '-');
      for (const [name, data] of [[`${slug}.csv`, body], [`${slug}.csv.gz`, gzipSync(body)]] as const) {
        const path = join(dir, name);
        await writeFile(path, data);
        for (const onBadRow of ['error', 'skip'] as const) {
          await dataError('encoding', () => loadInteractionsCsv(path, { mapping: { user: 'user', item: 'item' }, onBadRow }), {
            file: path,
            line: 3,
            message: name.endsWith('.gz') ? /invalid UTF-8.*decompressed byte 19/ : /invalid UTF-8.*at byte 19.*encoding: 'latin1'/,
          });
        }
      }
    });
  }

  it("caf\\xE9 and caf\\xE8 are an error in UTF-8 and two users in Latin-1, never one", async () => {
    const path = join(dir, 'latin1.csv');
    await writeFile(path, Buffer.concat([Buffer.from('user,item\ncaf'), Buffer.from([0xe9]), Buffer.from(',i1\ncaf'), Buffer.from([0xe8]), Buffer.from(',i2\n')]));
    await dataError('encoding', () => loadInteractionsCsv(path, { mapping: { user: 'user', item: 'item' } }), { file: path, line: 2 });
    const { rows } = await loadInteractionsCsv(path, { mapping: { user: 'user', item: 'item' }, encoding: 'latin1' });
    // Two users (in raw-id order, U+00E8 before U+00E9).
    expect(rows.users.ids).toEqual(['cafè', 'café']);
    counted('encoding');
  });

  it('decodes a sequence split across the 64 KiB read boundary, and names the line of a bad byte on either side of it', async () => {
    const head = 'user,item\n';
    const filler = (bytes: number): string => {
      let out = '';
      let line = 0;
      while (out.length < bytes - 20) out += `u${line++ % 100},i${line % 50}\n`;
      return out + 'x'.repeat(bytes - out.length);
    };
    // "é" (C3 A9) at bytes 65535-65536: valid, split by the read.
    const pad = filler(65535 - head.length - 1);
    const split = Buffer.concat([Buffer.from(head), Buffer.from(pad), Buffer.from(',é\nlast,one\n')]);
    expect(split[65535]).toBe(0xc3);
    const path = join(dir, 'boundary.csv');
    await writeFile(path, split);
    const { rows } = await loadInteractionsCsv(path, { mapping: { user: 'user', item: 'item' } });
    expect(rows.items.ids).toContain('é');
    counted('encoding');
    const lineOfBad = (buffer: Buffer, at: number): number => 1 + buffer.subarray(0, at).filter((b) => b === 10).length;
    for (const at of [65535, 65536]) {
      const bad = Buffer.from(split);
      bad[65535] = 0x61;
      bad[65536] = 0x62;
      bad[at] = 0xff;
      await writeFile(path, bad);
      await dataError('encoding', () => loadInteractionsCsv(path, { mapping: { user: 'user', item: 'item' } }), { file: path, line: lineOfBad(bad, at), message: new RegExp(`byte ${at}`) });
    }
  });

  it('a file that ends inside a UTF-8 sequence, a UTF-16 file, and readLines', async () => {
    const truncated = join(dir, 'truncated-utf8.csv');
    await writeFile(truncated, Buffer.concat([Buffer.from('user,item\nu1,caf'), Buffer.from([0xc3])]));
    await dataError('encoding', () => loadInteractionsCsv(truncated, { mapping: { user: 'user', item: 'item' } }), { file: truncated, line: 2, message: /ends inside a UTF-8 sequence/ });
    const utf16 = join(dir, 'utf16.csv');
    await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('user,item\n', 'utf16le')]));
    await dataError('encoding', () => loadInteractionsCsv(utf16, { mapping: { user: 'user', item: 'item' } }), { file: utf16, line: 1, message: /UTF-16/ });
    const lines = join(dir, 'lines.txt');
    await writeFile(lines, Buffer.concat([Buffer.from('one\ntwo\nthr'), Buffer.from([0xfe]), Buffer.from('e\n')]));
    await dataError('encoding', async () => {
      for await (const _ of readLines(lines));
    }, { file: lines, line: 3 });
  });
});

// ------------------------------------------------------------------- files and streams

describe('corpus: file and stream failures are DataErrors naming the file', () => {
  const mapping = { user: 'user', item: 'item' };

  it('a missing path, a directory, a missing catalog file, readLines and artifact files', async () => {
    const missing = join(dir, 'nope.csv');
    await dataError('files and streams', () => loadInteractionsCsv(missing, { mapping }), { file: missing, message: /no such file/ });
    const folder = join(dir, 'a-folder.csv');
    await mkdir(folder, { recursive: true });
    await dataError('files and streams', () => loadInteractionsCsv(folder, { mapping }), { file: folder, message: /is a directory/ });
    const good = join(dir, 'good.csv');
    await writeFile(good, 'user,item\nu1,i1\n');
    await dataError('files and streams', () => loadInteractionsCsv(good, { mapping, catalog: { path: missing, mapping: { item: 'item', name: 'name' } } }), { file: missing });
    await dataError('files and streams', async () => {
      for await (const _ of readLines(missing));
    }, { file: missing, message: /no such file/ });
    await dataError('files and streams', () => loadArtifactFile(missing), { file: missing, message: /no such file/ });
    await dataError('files and streams', () => loadArtifactFile(folder), { file: folder, message: /is a directory/ });
  });

  it('a .gz that is not gzip, an empty .gz, and truncations at 40 seeded lengths', async () => {
    const text = Buffer.from(`user,item\n${Array.from({ length: 300 }, (_, i) => `u${i % 17},i${i % 23}`).join('\n')}\n`);
    const gz = gzipSync(text);
    const notGzip = join(dir, 'plain.csv.gz');
    await writeFile(notGzip, text);
    await dataError('files and streams', () => loadInteractionsCsv(notGzip, { mapping }), { file: notGzip, message: /not gzip data/ });
    const empty = join(dir, 'empty.csv.gz');
    await writeFile(empty, '');
    await dataError('files and streams', () => loadInteractionsCsv(empty, { mapping }), { file: empty, message: /truncated gzip/ });
    const cut = join(dir, 'cut.csv.gz');
    for (const length of seededPositions(5, 40, 0, gz.length)) {
      await writeFile(cut, gz.subarray(0, length));
      await dataError('files and streams', () => loadInteractionsCsv(cut, { mapping, onBadRow: 'skip' }), { file: cut, message: /gzip/ });
    }
  });

  it('a bit flip anywhere in a .gz: a DataError naming the file, or (gzip header metadata) the same rows', async () => {
    const text = Buffer.from(`user,item\n${Array.from({ length: 300 }, (_, i) => `u${i % 17},i${i % 23}`).join('\n')}\n`);
    const gz = gzipSync(text);
    const path = join(dir, 'flip.csv.gz');
    const rng = mulberry32(9);
    await writeFile(path, gz);
    const original = await loadInteractionsCsv(path, { mapping });
    for (const at of seededPositions(6, 60, 0, gz.length)) {
      const flipped = Buffer.from(gz);
      flipped[at] ^= 1 << Math.floor(rng() * 8);
      await writeFile(path, flipped);
      let error: unknown = null;
      const load = await loadInteractionsCsv(path, { mapping }).catch((e: unknown) => {
        error = e;
        return null;
      });
      if (load) {
        // Only gzip's own metadata (mtime, flags for the OS, extra flags) may change without an error.
        expect(at, `flip at byte ${at} loaded`).toBeLessThan(10);
        expect(load.rows).toEqual(original.rows);
      } else {
        expect(error).toBeInstanceOf(DataError);
        expect((error as DataError).file).toBe(path);
      }
      counted('files and streams');
    }
  });

  it('a read error mid-stream names the file and the line reached', async () => {
    async function* failingSource(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('user,item\nu1,i1\nu2,');
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    }
    const parser = new CsvParser(() => undefined, { header: true });
    await dataError('files and streams', async () => {
      for await (const text of decodeText(failingSource(), { file: 'disk.csv', gzip: false, encoding: 'utf8', currentLine: () => parser.currentLine })) parser.write(text);
    }, { file: 'disk.csv', line: 3, message: /read failed \(EIO/ });
  });
});

// --------------------------------------------------------------------- interaction rows

describe('corpus: interaction rows from plain JavaScript', () => {
  const mapping: InteractionMapping = { user: 'u', item: 'i', weight: 'w', basket: 'b', timestamp: 't' };
  const good = { u: 'a', i: 'x', w: 1, b: 'o1', t: 100 };

  const badInputs: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a string', 'u,i\n1,2'],
    ['an object that is not iterable', { 0: good, length: 1 }],
  ];
  for (const [what, input] of badInputs) {
    it(`rows given as ${what}: an OptionError naming the argument`, async () => {
      const error = await failure(OptionError, () => interactionsFromRows(input as never, mapping));
      expect(error.message).toMatch(/^interactionsFromRows\.rows: must be an array/);
      counted('rows');
    });
  }

  const badMappings: Array<[string, unknown, RegExp]> = [
    ['missing', undefined, /^mapping: is required/],
    ['without item', { user: 'u' }, /^mapping\.item: must be a column name/],
    ['with a typo', { user: 'u', item: 'i', weigth: 'w' }, /^mapping\.weigth: unknown option; did you mean "weight"\?/],
    ['a number for a column', { user: 'u', item: 3 }, /^mapping\.item:/],
  ];
  for (const [what, m, message] of badMappings) {
    it(`a mapping ${what}: an OptionError naming it`, async () => {
      const error = await failure(OptionError, () => interactionsFromRows([good], m as never));
      expect(error.message).toMatch(message);
      counted('rows');
    });
  }

  it('an options typo: an OptionError with a suggestion', async () => {
    const error = await failure(OptionError, () => interactionsFromRows([good], mapping, { onBadRows: 'skip' } as never));
    expect(error.message).toMatch(/onBadRows: unknown option; did you mean "onBadRow"/);
    counted('rows');
  });

  const badRows: Array<[string, unknown, string | undefined, RegExp]> = [
    ['null', null, undefined, /not a row object: null/],
    ['undefined', undefined, undefined, /not a row object: undefined/],
    ['a number', 7, undefined, /not a row object: 7/],
    ['a string', 'a,x', undefined, /not a row object: "a,x"/],
    ['without the user field', { i: 'x', w: 1, b: 'o', t: 1 }, 'u', /has no field "u" \(it has "i", "w", "b", "t"\)/],
    ['without the weight field', { u: 'a', i: 'x', b: 'o', t: 1 }, 'w', /has no field "w"/],
    ['a null user', { ...good, u: null }, 'u', /missing value/],
    ['a blank user', { ...good, u: '   ' }, 'u', /missing value/],
    ['an object as user', { ...good, u: { id: 1 } }, 'u', /not an id: an object/],
    ['an array as item', { ...good, i: ['x'] }, 'i', /not an id: an array/],
    ['true as item', { ...good, i: true }, 'i', /not an id: true/],
    ['NaN as user', { ...good, u: NaN }, 'u', /not an id: NaN/],
    ['a lone surrogate in the user', { ...good, u: 'ab\uD800' }, 'u', /lone surrogate \\uD800 at position 2/],
    ['a lone surrogate in the item', { ...good, i: '\uDC00x' }, 'i', /lone surrogate \\uDC00 at position 0/],
    ['a lone surrogate in the basket', { ...good, b: 'o\uDBFF' }, 'b', /lone surrogate/],
    ['weight NaN', { ...good, w: NaN }, 'w', /weight must be a finite number > 0, got NaN/],
    ['weight -1', { ...good, w: -1 }, 'w', /got -1/],
    ['weight 0', { ...good, w: 0 }, 'w', /got 0/],
    ['weight Infinity', { ...good, w: Infinity }, 'w', /got Infinity/],
    ['weight text', { ...good, w: 'lots' }, 'w', /got "lots"/],
    ['weight 1e39 (beyond float32)', { ...good, w: 1e39 }, 'w', /outside the float32 range/],
    ['weight 1e-50 (rounds to 0 in float32)', { ...good, w: 1e-50 }, 'w', /outside the float32 range/],
    ['timestamp text', { ...good, t: 'yesterday' }, 't', /timestamp must be unix seconds or ISO-8601/],
    ['timestamp 30 February', { ...good, t: '2017-02-30' }, 't', /timestamp/],
    ['timestamp object', { ...good, t: {} }, 't', /timestamp/],
  ];
  for (const [what, row, field, message] of badRows) {
    it(`row 2 ${what}: a DataError naming row and field; skipped and counted on request`, async () => {
      const rows = [good, row, { ...good, u: 'c' }];
      const error = await failure(DataError, () => interactionsFromRows(rows as never, mapping));
      expect(error.message).toMatch(/^row 2: /);
      expect(error.message).toMatch(message);
      expect(error.field).toBe(field);
      if (field !== undefined) expect(error.message).toContain(`field "${field}"`);
      const { rows: kept, skipped } = interactionsFromRows(rows as never, mapping, { onBadRow: 'skip' });
      expect(kept.user.length).toBe(2);
      expect(skipped).toMatchObject({ count: 1, lines: 1, firstLines: [{ line: 2 }] });
      counted('rows');
    });
  }

  it('datasetFromInteractions: a wrong argument is an OptionError naming the field, a bad index a DataError naming the row', async () => {
    const { rows } = interactionsFromRows([good, { ...good, u: 'b', i: 'y' }], mapping);
    const wrong: Array<[unknown, RegExp]> = [
      [undefined, /^datasetFromInteractions\.rows: must be the rows/],
      [null, /^datasetFromInteractions\.rows: must be the rows/],
      [interactionsFromRows([good], mapping), /pass its \.rows/],
      [{ ...rows, user: [0, 1] }, /^datasetFromInteractions\.rows\.user: must be an Int32Array, got an array of 2/],
      [{ ...rows, users: ['a', 'b'] }, /rows\.users: must be an IdIndex/],
      [{ ...rows, weight: Float32Array.of(1) }, /rows\.weight: has 1 entries, rows\.user has 2/],
      [{ ...rows, basketIds: null }, /rows\.basketIds/],
    ];
    for (const [input, message] of wrong) {
      const error = await failure(OptionError, () => datasetFromInteractions(input as never));
      expect(error.message).toMatch(message);
      counted('rows');
    }
    const outOfRange = { ...rows, item: Int32Array.of(0, 5) };
    await dataError('rows', () => datasetFromInteractions(outOfRange), { field: 'item', message: /interaction row 2 has item index 5, outside \[0, 2\)/ });
  });

  it('skipping: every dropped row counted, the first ten named', () => {
    const rows: unknown[] = [];
    const bad: number[] = [];
    const rng = mulberry32(3);
    for (let r = 1; r <= 200; r++) {
      if (rng() < 0.1) {
        rows.push(r % 2 ? null : { ...good, w: -r });
        bad.push(r);
      } else rows.push({ ...good, u: `u${r}` });
    }
    const { rows: kept, skipped } = interactionsFromRows(rows as never, mapping, { onBadRow: 'skip' });
    expect(kept.user.length).toBe(200 - bad.length);
    expect(skipped.count).toBe(bad.length);
    expect(skipped.lines).toBe(bad.length);
    expect(skipped.firstLines).toEqual(bad.slice(0, 10).map((line) => ({ line })));
    counted('rows');
  });
});

// ---------------------------------------------------------------------- ids and numbers

describe('corpus: ids and numbers', () => {
  it('ids that are not well-formed strings are DataErrors wherever they enter', async () => {
    await dataError('ids and numbers', () => new IdIndex(['a', 'b\uD800'], 'user'), { message: /user id "b\\ud800" at index 1 is not well-formed Unicode: lone surrogate \\uD800 at position 1/ });
    await dataError('ids and numbers', () => IdIndex.sorted(['\uDFFF', '\uDFFE'], 'item'), { message: /lone surrogate/ });
    await dataError('ids and numbers', () => new IdIndex(['a', 5 as never], 'item'), { message: /item id at index 1 is a number, not a string/ });
    await dataError('ids and numbers', () => new IdIndex(['a', 'a'], 'item'), { message: /duplicate item "a"/ });
    // Two different lone surrogates would both become U+FFFD on save: neither gets in.
    for (const id of ['x\uD800', 'x\uD801']) {
      await dataError('ids and numbers', () => interactionsFromRows([{ u: id, i: 'k' }], { user: 'u', item: 'i' }), { field: 'u', message: /^row 1: .*lone surrogate/ });
    }
  });

  it('strings that UTF-8 cannot hold are ArtifactErrors on save, never changed silently', async () => {
    const w = new ArtifactWriter();
    const error = await failure(ArtifactError, () => w.strings('names', ['ok', 'bad\uDC00']));
    expect(error).toMatchObject({ section: 'names', field: '[1]' });
    const data = basketsDataset({ a: [['x', 'y']] }, { catalog: { x: { name: 'Cr\uD83Dme' } } });
    const saved = await failure(ArtifactError, () => writeDataset(data, new ArtifactWriter().scope('data')));
    expect(saved).toMatchObject({ section: 'data/catalog/name', field: '[0]' });
    expect(saved.message).toContain('section "data/catalog/name", field "[0]"');
    counted('ids and numbers');
    counted('ids and numbers');
  });

  it('counts accumulate in float64: 20,000,000 rows of weight 1 count 20,000,000', () => {
    const n = 20_000_000;
    const m = CsrMatrix.fromCoo(1, 1, new Int32Array(n), new Int32Array(n), null);
    expect(m.values[0]).toBe(20_000_000);
    // Summed in float32, the count would stop at 2^24.
    let f = Math.fround(0);
    for (let k = 0; k < 16_777_220; k++) f = Math.fround(f + 1);
    expect(f).toBe(16_777_216);
    const rows = interactionsFromRows(
      [16_777_216, 1, 1].map((w) => ({ u: 'a', i: 'x', w })),
      { user: 'u', item: 'i', weight: 'w' },
    ).rows;
    expect(datasetFromInteractions(rows).interactions.values[0]).toBe(16_777_218);
    counted('ids and numbers');
  });

  it('a sum beyond float32 is a DataError naming the user and item', async () => {
    const { rows } = interactionsFromRows(
      [
        { u: 'a', i: 'x', w: 3e38 },
        { u: 'a', i: 'x', w: 3e38 },
      ],
      { user: 'u', item: 'i', weight: 'w' },
    );
    await dataError('ids and numbers', () => datasetFromInteractions(rows), { message: /weights of user "a", item "x" sum to 6\.\d+e\+38, beyond the float32 range/ });
    await dataError('ids and numbers', () => CsrMatrix.fromCoo(2, 2, Int32Array.of(1), Int32Array.of(0), Float32Array.of(NaN)), { message: /row 1, column 0 sum to NaN/ });
  });
});

// ---------------------------------------------------------------------- Instacart folders

describe('corpus: Instacart folders', () => {
  let tables: InstacartTables;
  let base = '';
  let n = 0;
  /** A fresh copy of the written synthetic folder. */
  async function folder(): Promise<string> {
    const out = join(dir, `instacart-${n++}`);
    await writeInstacartCsv(tables, out);
    return out;
  }
  const lines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8')).split('\n');

  beforeAll(async () => {
    tables = generateGrocery({ users: 30, products: 40, seed: 7 });
    base = await folder();
  });

  it('reads the unmodified folder (the baseline every case edits)', async () => {
    const { summary } = await loadInstacart(base);
    expect(summary.duplicateLines).toBe(0);
    expect(summary.lines).toBe(tables.orderProducts.orderId.length);
  });

  it('missing, misplaced and unreadable files name the file', async () => {
    const noOrders = await folder();
    await rm(join(noOrders, 'orders.csv'));
    await dataError('instacart folders', () => loadInstacart(noOrders), { file: join(noOrders, 'orders.csv'), message: /neither orders\.csv nor orders\.csv\.gz/ });
    const noProducts = await folder();
    await rm(join(noProducts, 'products.csv'));
    await dataError('instacart folders', () => loadInstacart(noProducts), { file: join(noProducts, 'products.csv') });
    await dataError('instacart folders', () => loadInstacart(join(dir, 'no-such-folder')), { file: join(dir, 'no-such-folder'), message: /no such folder/ });
    await dataError('instacart folders', () => loadInstacart(join(base, 'orders.csv')), { file: join(base, 'orders.csv'), message: /not a folder/ });
    await dataError('instacart folders', () => loadInstacart(base, { catalogDir: join(dir, 'no-catalog') }), { file: join(dir, 'no-catalog') });
    const dirAsFile = await folder();
    await rm(join(dirAsFile, 'orders.csv'));
    await mkdir(join(dirAsFile, 'orders.csv'));
    await dataError('instacart folders', () => loadInstacart(dirAsFile), { file: join(dirAsFile, 'orders.csv'), message: /is a directory/ });
  });

  it('a .gz that is not gzip, and a truncated one, name the file', async () => {
    const notGzip = await folder();
    await writeFile(join(notGzip, 'orders.csv.gz'), await readFile(join(notGzip, 'orders.csv')));
    await rm(join(notGzip, 'orders.csv'));
    await dataError('instacart folders', () => loadInstacart(notGzip), { file: join(notGzip, 'orders.csv.gz'), message: /not gzip data/ });
    const cut = await folder();
    const prior = join(cut, 'order_products__prior.csv');
    const gz = gzipSync(await readFile(prior));
    await writeFile(`${prior}.gz`, gz.subarray(0, gz.length >> 1));
    await rm(prior);
    await dataError('instacart folders', () => loadInstacart(cut, { onBadRow: 'skip' }), { file: `${prior}.gz`, message: /truncated gzip/ });
  });

  it('a repeated order line is a DataError, or merged and counted on request', async () => {
    const out = await folder();
    const prior = join(out, 'order_products__prior.csv');
    const text = await lines(prior);
    await writeFile(prior, [...text.slice(0, -1), text[5], ''].join('\n'));
    const [orderId, productId] = text[5].split(',');
    await dataError('instacart folders', () => loadInstacart(out), { field: 'product_id', message: new RegExp(`order ${orderId} lists product_id ${productId} on two lines.*duplicateLines: 'merge'`) });
    const merged = await loadInstacart(out, { duplicateLines: 'merge' });
    expect(merged.summary.duplicateLines).toBe(1);
    expect(merged.dataset.baskets).toEqual((await loadInstacart(base)).dataset.baskets);
    counted('instacart folders');
  });

  it('a prior file appended to itself (header in the middle): every repeat found', async () => {
    const out = await folder();
    const prior = join(out, 'order_products__prior.csv');
    const text = await readFile(prior, 'utf8');
    await writeFile(prior, text + text);
    const headerLine = text.split('\n').length; // the second header's line
    await dataError('instacart folders', () => loadInstacart(out), { file: prior, line: headerLine, field: 'order_id', message: /not an integer: "order_id"/ });
    await dataError('instacart folders', () => loadInstacart(out, { onBadRow: 'skip' }), { message: /on two lines/ });
    const merged = await loadInstacart(out, { onBadRow: 'skip', duplicateLines: 'merge' });
    expect(merged.summary.skippedRows).toMatchObject({ count: 1, lines: 1, firstLines: [{ file: prior, line: headerLine }] });
    expect(merged.summary.duplicateLines).toBe(text.split('\n').length - 2);
    expect(merged.dataset.baskets).toEqual((await loadInstacart(base)).dataset.baskets);
  });

  it('a line of a train order copied into the prior file is a repeat too', async () => {
    const out = await folder();
    const train = await lines(join(out, 'order_products__train.csv'));
    const prior = join(out, 'order_products__prior.csv');
    await writeFile(prior, `${(await readFile(prior, 'utf8')) + train[1]}\n`);
    await dataError('instacart folders', () => loadInstacart(out), { field: 'product_id', message: /on two lines/ });
  });

  it('a header naming a column twice names it', async () => {
    const out = await folder();
    const path = join(out, 'orders.csv');
    const text = await lines(path);
    await writeFile(path, text.map((l, k) => (k === 0 ? `${l},user_id` : l === '' ? l : `${l},1`)).join('\n'));
    for (const onBadRow of ['error', 'skip'] as const) {
      await dataError('instacart folders', () => loadInstacart(out, { onBadRow }), { file: path, line: 1, field: 'user_id', message: /names column "user_id" twice/ });
    }
  });

  it('a stray quote in products.csv costs its line only (it used to swallow the products after it)', async () => {
    const out = await folder();
    const path = join(out, 'products.csv');
    const text = await lines(path);
    for (const [k, edit] of [
      [3, (l: string) => l.replace(',', ',"')],
      [7, (l: string) => l.replace(/,(\w)/, ',$1"')],
    ] as const) {
      const edited = [...text];
      edited[k] = edit(text[k]);
      await writeFile(path, edited.join('\n'));
      await dataError('instacart folders', () => readInstacartTables(out), { file: path, line: k + 1, field: 'product_name' });
      const { tables: read, skippedRows } = await readInstacartTables(out, { onBadRow: 'skip' });
      expect(read.products.id.length).toBe(tables.products.id.length - 1);
      expect(skippedRows).toMatchObject({ count: 1, lines: 1, firstLines: [{ file: path, line: k + 1 }] });
      counted('instacart folders');
    }
  });

  it('invalid UTF-8 in products.csv names file and line; Latin-1 reads it when asked', async () => {
    const out = await folder();
    const path = join(out, 'products.csv');
    const text = await readFile(path);
    const line3 = text.indexOf(10, text.indexOf(10) + 1) + 1;
    const at = text.indexOf(44, line3) + 2; // inside the product name of line 3
    const edited = Buffer.from(text);
    edited[at] = 0xe9;
    await writeFile(path, edited);
    await dataError('instacart folders', () => loadInstacart(out), { file: path, line: 3, message: /invalid UTF-8/ });
    const { tables: read } = await readInstacartTables(out, { encoding: 'latin1' });
    expect(read.products.name[1]).toContain('é');
    counted('instacart folders');
  });

  const rowEdits: Array<[string, string, number, (fields: string[]) => void, string, RegExp]> = [
    ['eval_set "later"', 'orders.csv', 4, (f) => (f[2] = 'later'), 'eval_set', /eval_set must be one of prior, train, test/],
    ['a negative days_since_prior_order', 'orders.csv', 5, (f) => (f[6] = '-3'), 'days_since_prior_order', /not a number >= 0/],
    ['order_dow 7', 'orders.csv', 6, (f) => (f[4] = '7'), 'order_dow', /7 is outside 0\.\.6/],
    ['a user_id beyond int32', 'orders.csv', 7, (f) => (f[1] = '99999999999'), 'user_id', /not an integer/],
    ['add_to_cart_order 0', 'order_products__prior.csv', 8, (f) => (f[2] = '0'), 'add_to_cart_order', /0 is outside 1\.\./],
    ['reordered 2', 'order_products__prior.csv', 9, (f) => (f[3] = '2'), 'reordered', /2 is outside 0\.\.1/],
    ['a product_id with a space', 'order_products__prior.csv', 10, (f) => (f[1] = ` ${f[1]}`), 'product_id', /not an integer/],
  ];
  for (const [what, file, line, edit, field, message] of rowEdits) {
    it(`${what} in ${file}: a DataError at its line and field, or exactly that line skipped`, async () => {
      const out = await folder();
      const path = join(out, file);
      const text = await lines(path);
      const fields = text[line - 1].split(',');
      edit(fields);
      text[line - 1] = fields.join(',');
      await writeFile(path, text.join('\n'));
      await dataError('instacart folders', () => readInstacartTables(out), { file: path, line, field, message });
      const { skippedRows } = await readInstacartTables(out, { onBadRow: 'skip' });
      expect(skippedRows).toMatchObject({ count: 1, lines: 1, firstLines: [{ file: path, line }] });
    });
  }

  it('table-level errors: a test order with lines, orphan orders, an unknown option', async () => {
    const withTest = structuredClone(tables);
    const o = withTest.orders.orderId.indexOf(withTest.orderProducts.orderId[0]);
    withTest.orders.evalSet[o] = 2;
    await dataError('instacart folders', () => datasetFromInstacart(withTest), { field: 'order_id', message: /is a test order/ });
    const orphan = structuredClone(tables);
    orphan.orderProducts.orderId[0] = 999_999;
    await dataError('instacart folders', () => datasetFromInstacart(orphan), { file: 'orders.csv', field: 'order_id', message: /not in orders\.csv, first order_id 999999/ });
    const typo = await failure(OptionError, () => loadInstacart(base, { orphanOrder: 'skip' } as never));
    expect(typo.message).toMatch(/loadInstacart\.orphanOrder: unknown option; did you mean "orphanOrders"/);
    counted('instacart folders');
  });
});
