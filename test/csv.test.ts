import { describe, expect, it } from 'vitest';
import { csvRecords, CsvParser, formatCsvField, parseCsv, parseInteger, resolveColumns, type CsvOptions, type CsvRecord } from '../src/data/csv';
import { DataError } from '../src/errors';
import { mulberry32 } from '../src/util/random';
import { caught } from './fixtures';

function feed(chunks: string[], options: Partial<CsvOptions> = {}): CsvRecord[] {
  const records: CsvRecord[] = [];
  const parser = new CsvParser((fields, line) => records.push({ fields, line }), options);
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  return records;
}

// Every feature at once: quoted delimiters, doubled quotes, line breaks inside quotes (LF and
// CRLF, read with maxFieldLines: MULTI), empty fields, CRLF and LF record ends, a blank line,
// no final line break.
const TRICKY = 'id,name,note\r\n1,"Ziti, Marinara","say ""hi"""\r\n2,,"two\r\nlines"\n\n3,"a\nb\nc",\r\n4,"",last';
const MULTI = { maxFieldLines: 3 };
const TRICKY_RECORDS: CsvRecord[] = [
  { fields: ['id', 'name', 'note'], line: 1 },
  { fields: ['1', 'Ziti, Marinara', 'say "hi"'], line: 2 },
  { fields: ['2', '', 'two\r\nlines'], line: 3 },
  { fields: ['3', 'a\nb\nc', ''], line: 6 },
  { fields: ['4', '', 'last'], line: 9 },
];

describe('CsvParser', () => {
  it('parses RFC 4180 records with the line where each starts', () => {
    expect(feed([TRICKY], MULTI)).toEqual(TRICKY_RECORDS);
  });

  it('gives the same records for a split at every offset, and fed one character at a time', () => {
    for (let cut = 0; cut <= TRICKY.length; cut++) {
      expect(feed([TRICKY.slice(0, cut), TRICKY.slice(cut)], MULTI), `cut at ${cut}`).toEqual(TRICKY_RECORDS);
    }
    expect(feed([...TRICKY], MULTI)).toEqual(TRICKY_RECORDS);
  });

  it('gives the same records for random three-way splits', () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const a = Math.floor(rng() * (TRICKY.length + 1));
      const b = a + Math.floor(rng() * (TRICKY.length + 1 - a));
      expect(feed([TRICKY.slice(0, a), TRICKY.slice(a, b), TRICKY.slice(b)], MULTI)).toEqual(TRICKY_RECORDS);
    }
  });

  it('handles LF, CRLF and lone CR line ends, trailing delimiters, a BOM and empty input', () => {
    expect(feed(['a,b\nc,d\n']).map((r) => r.fields)).toEqual([['a', 'b'], ['c', 'd']]);
    expect(feed(['a,b\r', '\nc,d\r\n'])).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['c', 'd'], line: 2 },
    ]);
    expect(feed(['a\rb\r'])).toEqual([
      { fields: ['a'], line: 1 },
      { fields: ['b'], line: 2 },
    ]);
    expect(feed(['a,\n,b,\n']).map((r) => r.fields)).toEqual([['a', ''], ['', 'b', '']]);
    expect(feed(['\ufeffx,y\n']).map((r) => r.fields)).toEqual([['x', 'y']]);
    expect(feed(['', '']).length).toBe(0);
    expect(feed(['""']).map((r) => r.fields)).toEqual([['']]);
    expect(feed(['a,"b"']).map((r) => r.fields)).toEqual([['a', 'b']]);
    expect(feed(['a,']).map((r) => r.fields)).toEqual([['a', '']]);
  });

  it('takes the header row apart and names fields by it in errors', () => {
    const names: string[][] = [];
    const records = feed(['user,item\n1,2\n'], { header: true, onHeader: (h) => names.push(h) });
    expect(names).toEqual([['user', 'item']]);
    expect(records).toEqual([{ fields: ['1', '2'], line: 2 }]);
    const error = caught(() => feed(['user,item\n1,2"x\n'], { header: true, file: 'f.csv' }));
    expect(error).toMatchObject({ file: 'f.csv', line: 2, field: 'item' });
    const given = caught(() => feed(['1\t2\n3\t4"\n'], { header: ['user', 'item'], quoting: true, delimiter: '\t' }));
    expect(given).toMatchObject({ line: 2, field: 'item' });
  });

  it('uses tab as a delimiter with quotes as ordinary characters unless asked', () => {
    expect(feed(['1\t"Weird Al" Yankovic\tx\n'], { delimiter: '\t' }).map((r) => r.fields)).toEqual([['1', '"Weird Al" Yankovic', 'x']]);
    expect(feed(['1\t"a\tb"\n'], { delimiter: '\t', quoting: true }).map((r) => r.fields)).toEqual([['1', 'a\tb']]);
    expect(feed(['1|b|c\n'], { delimiter: '|' }).map((r) => r.fields)).toEqual([['1', 'b', 'c']]);
  });

  it('rejects a stray quote, text after a closing quote and an unterminated quote, naming file, line and field', () => {
    const stray = caught(() => feed(['a,b\n1,x"y\n'], { file: 'p.csv' }));
    expect(stray).toMatchObject({ file: 'p.csv', line: 2, field: 'column 2' });
    expect(stray.message).toContain('stray quote');
    const after = caught(() => feed(['a\n"x"y,2\n'], { file: 'p.csv' }));
    expect(after).toMatchObject({ line: 2, field: 'column 1' });
    // The quote opened on line 2 and never closed: the error points at its start.
    const open = caught(() => feed(['a,b\n1,"never\nclosed\n'], { file: 'p.csv', header: true, maxFieldLines: 5 }));
    expect(open).toMatchObject({ file: 'p.csv', line: 2, field: 'b' });
    expect(open.message).toContain('unterminated');
  });

  it('with onBadRecord, reports syntax errors and goes on at the next line', () => {
    const errors: DataError[] = [];
    const records = feed(['a,b\n1,x"y,z\n2,ok\n3,"open'], { onBadRecord: (e) => errors.push(e) });
    expect(records).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['2', 'ok'], line: 3 },
    ]);
    expect(errors.map((e) => e.line)).toEqual([2, 4]);
  });

  it('bounds field length so a stray opening quote cannot swallow a whole file', () => {
    const error = caught(() => feed(['a,"', 'x'.repeat(50), 'y'.repeat(50), '\n'], { maxFieldLength: 64, file: 'big.csv' }));
    expect(error).toMatchObject({ file: 'big.csv', line: 1 });
    expect(() => new CsvParser(() => undefined, { delimiter: ',,' })).toThrow(/delimiter/);
  });

  it('streams records from async chunks', async () => {
    async function* chunks(): AsyncGenerator<string> {
      yield 'x,y\n1,"a';
      yield ',b"\n2,c';
    }
    const out: CsvRecord[] = [];
    for await (const record of csvRecords(chunks(), { header: true })) out.push(record);
    expect(out).toEqual([
      { fields: ['1', 'a,b'], line: 2 },
      { fields: ['2', 'c'], line: 3 },
    ]);
  });
});

describe('CSV helpers', () => {
  it('round-trips any text through formatCsvField', () => {
    const rng = mulberry32(3);
    const alphabet = ['a', ',', '"', '\n', '\r', ' ', 'é', '\t'];
    const rows: string[][] = [];
    for (let r = 0; r < 50; r++) {
      rows.push(Array.from({ length: 3 }, () => Array.from({ length: Math.floor(rng() * 6) }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('')));
    }
    // A record of one empty field would be an empty line, which the parser skips.
    const text = rows.map((row) => ['k', ...row].map((f) => formatCsvField(f)).join(',')).join('\r\n');
    expect(parseCsv(text, { maxFieldLines: Infinity }).records.map((r) => r.fields.slice(1))).toEqual(rows);
    expect(formatCsvField('plain')).toBe('plain');
    expect(formatCsvField('a\tb', '\t')).toBe('"a\tb"');
  });

  it('parses strict int32 integers', () => {
    expect(parseInteger('42')).toBe(42);
    expect(parseInteger('09')).toBe(9);
    expect(parseInteger('-7')).toBe(-7);
    expect(parseInteger('2147483647')).toBe(2147483647);
    for (const bad of ['', '-', '1.5', ' 1', '1e3', '+1', '2147483648', 'abc', '12a']) expect(parseInteger(bad), bad).toBeNaN();
  });

  it('resolves columns by name and names a missing one', () => {
    expect(resolveColumns(['b', 'a', 'c'], ['a', 'c'])).toEqual([1, 2]);
    const error = caught(() => resolveColumns(['order_id', 'user_id'], ['order_id', 'eval_set'], { file: 'orders.csv', line: 1 }));
    expect(error).toMatchObject({ file: 'orders.csv', line: 1, field: 'eval_set' });
    expect(error.message).toContain('missing column "eval_set"');
  });
});
