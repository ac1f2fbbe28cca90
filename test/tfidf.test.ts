import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import type { CsrMatrix } from '../src/data/csr';
import { DataError, EmptyDataError, NotFittedError, OptionError } from '../src/errors';
import { ENGLISH_STOP_WORDS, TfidfEncoder, tokenize } from '../src/strategies/content';
import type { JsonObject } from '../src/strategies/types';
import { expectAbortMidRun } from './fixtures';

/** Row r as { term: weight }. */
function row(m: CsrMatrix, vocab: readonly string[], r: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) out[vocab[m.indices[p]]] = m.values[p];
  return out;
}

function dot(m: CsrMatrix, a: number, b: number): number {
  let s = 0;
  for (let p = m.indptr[a]; p < m.indptr[a + 1]; p++) s += m.values[p] * m.get(b, m.indices[p]);
  return s;
}

function expectRow(actual: Record<string, number>, expected: Record<string, number>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [t, w] of Object.entries(expected)) expect(actual[t]).toBeCloseTo(w, 6);
}

// n = 4 texts; df: apple 3, banana 2, cherry 2, date 1.
const DOCS = ['apple banana', 'apple apple cherry', 'banana cherry date', 'Apple'];

describe('tokenize', () => {
  it('lowercases and folds accents so spellings of one word match', () => {
    expect(tokenize('Crème Fraîche')).toEqual(['creme', 'fraiche']);
    expect(tokenize('Jalapeño Peppers')).toEqual(['jalapeno', 'peppers']);
    expect(tokenize('JALAPEÑO')).toEqual(['jalapeno']);
    expect(tokenize('Müller Joghurt')).toEqual(['muller', 'joghurt']);
    // The same words typed with combining accents (NFD) give the same tokens.
    expect(tokenize('Cre\u0300me Frai\u0302che')).toEqual(['creme', 'fraiche']);
  });

  it('keeps accented letters inside words when folding is off', () => {
    expect(tokenize('Crème Fraîche', false)).toEqual(['crème', 'fraîche']);
    expect(tokenize('Jalapen\u0303o', false)).toEqual(['jalapeño']);
    expect(tokenize('Γιαούρτι Στραγγιστό', false)).toEqual(['γιαούρτι', 'στραγγιστό']);
    expect(tokenize('Γιαούρτι Στραγγιστό')).toEqual(['γιαουρτι', 'στραγγιστο']);
  });

  it('splits on punctuation and symbols, drops possessive s, keeps digits', () => {
    expect(tokenize("Annie's Mac & Cheese, 6-oz.")).toEqual(['annie', 'mac', 'cheese', '6', 'oz']);
    expect(tokenize('Tri-Vi-Sol® Drops')).toEqual(['tri', 'vi', 'sol', 'drops']);
    expect(tokenize('Listerine® Zero™ 2% Milk')).toEqual(['listerine', 'zero', '2', 'milk']);
    expect(tokenize("O\u2019Doul's")).toEqual(['odoul']);
    expect(tokenize('  ')).toEqual([]);
  });
});

describe('TfidfEncoder', () => {
  it('learns a sorted vocabulary and smoothed idf', async () => {
    const enc = new TfidfEncoder({ sublinearTf: false });
    await enc.fit(DOCS);
    expect(enc.vocabulary).toEqual(['apple', 'banana', 'cherry', 'date']);
    // ln((1 + n) / (1 + df)) + 1 with n = 4
    expect(enc.idf[0]).toBeCloseTo(1.2231435513142097, 6);
    expect(enc.idf[1]).toBeCloseTo(1.5108256237659907, 6);
    expect(enc.idf[2]).toBeCloseTo(1.5108256237659907, 6);
    expect(enc.idf[3]).toBeCloseTo(1.916290731874155, 6);
  });

  it('weighs raw tf x smoothed idf, L2-normalised, and cosines are dot products', async () => {
    const enc = new TfidfEncoder({ sublinearTf: false });
    const { matrix } = await enc.fit(DOCS);
    const v = enc.vocabulary;
    expectRow(row(matrix, v, 0), { apple: 0.6292275, banana: 0.7772212 });
    // "apple apple cherry": (2 * 1.22314, 1.51083) / 2.87522
    expectRow(row(matrix, v, 1), { apple: 0.8508161, cherry: 0.5254636 });
    expectRow(row(matrix, v, 2), { banana: 0.5264054, cherry: 0.5264054, date: 0.6676785 });
    expectRow(row(matrix, v, 3), { apple: 1 });
    expect(dot(matrix, 0, 1)).toBeCloseTo(0.5353569, 6);
    expect(dot(matrix, 0, 2)).toBeCloseTo(0.4091334, 6);
    expect(dot(matrix, 1, 2)).toBeCloseTo(0.2766069, 6);
  });

  it('uses 1 + ln(tf) with sublinearTf and ln(n / df) + 1 without smoothing', async () => {
    const sub = new TfidfEncoder();
    const a = (await sub.fit(DOCS)).matrix;
    expectRow(row(a, sub.vocabulary, 1), { apple: 0.8078684, cherry: 0.5893629 });
    expect(dot(a, 0, 1)).toBeCloseTo(0.508333, 6);

    const raw = new TfidfEncoder({ smoothIdf: false, sublinearTf: false });
    const b = (await raw.fit(DOCS)).matrix;
    expect(raw.idf[0]).toBeCloseTo(1.2876820724517808, 6);
    expect(raw.idf[3]).toBeCloseTo(2.386294361119891, 6);
    expectRow(row(b, raw.vocabulary, 2), { banana: 0.5008545, cherry: 0.5008545, date: 0.7058963 });
    expect(dot(b, 1, 2)).toBeCloseTo(0.275145, 6);
  });

  it('prunes terms by minDf (texts) and maxDf (fraction)', async () => {
    const min2 = new TfidfEncoder({ minDf: 2 });
    await min2.fit(DOCS);
    expect(min2.vocabulary).toEqual(['apple', 'banana', 'cherry']);
    const max = new TfidfEncoder({ maxDf: 0.5 });
    const { matrix } = await max.fit(DOCS);
    expect(max.vocabulary).toEqual(['banana', 'cherry', 'date']);
    // "Apple" has no term left: an all-zero row, not a NaN one.
    expect(matrix.indptr[4] - matrix.indptr[3]).toBe(0);
    await expect(new TfidfEncoder({ minDf: 5 }).fit(DOCS)).rejects.toThrow(DataError);
  });

  it('drops stop words and adds bigrams of the remaining words', () => {
    const enc = new TfidfEncoder({ stopWords: ENGLISH_STOP_WORDS, bigrams: true });
    expect(enc.terms('The Greek Yogurt with Honey')).toEqual(['greek', 'yogurt', 'honey', 'greek yogurt', 'yogurt honey']);
    expect(new TfidfEncoder().terms('The Greek Yogurt')).toEqual(['the', 'greek', 'yogurt']);
  });

  it('matches accent variants of a product name exactly', async () => {
    const enc = new TfidfEncoder();
    const { matrix } = await enc.fit(['Jalapeño Chips', 'Jalapeno Chips', 'Crème Fraîche', 'Creme Fraiche', 'Potato Chips']);
    expect(dot(matrix, 0, 1)).toBeCloseTo(1, 6);
    expect(dot(matrix, 2, 3)).toBeCloseTo(1, 6);
    expect(dot(matrix, 0, 2)).toBe(0);
  });

  it('encodes new texts in the fitted space, ignoring unknown words', async () => {
    const enc = new TfidfEncoder();
    const fitted = (await enc.fit(DOCS)).matrix;
    const { matrix } = await enc.encode(['kiwi apple', 'kiwi', '', 'apple banana']);
    expectRow(row(matrix, enc.vocabulary, 0), { apple: 1 });
    expect(matrix.indptr[2] - matrix.indptr[1]).toBe(0);
    expect(matrix.indptr[3] - matrix.indptr[2]).toBe(0);
    expect(Array.from(matrix.values.subarray(matrix.indptr[3], matrix.indptr[4]))).toEqual(
      Array.from(fitted.values.subarray(fitted.indptr[0], fitted.indptr[1])),
    );
    expect(matrix.nCols).toBe(4);
  });

  it('round-trips vocabulary and idf through an artifact, encoding identically', async () => {
    const enc = new TfidfEncoder({ bigrams: true, stopWords: ['and'], minDf: 1, maxDf: 0.9 });
    await enc.fit(['Greek Yogurt Strawberry', 'Greek Yogurt Blueberry', 'Spaghetti and Pasta', 'Crème Fraîche']);
    const w = new ArtifactWriter();
    const state = enc.save(w.scope('enc'));
    const r = ArtifactReader.open(w.toBytes(state));
    const again = TfidfEncoder.load(r.root as JsonObject, r.scope('enc'));
    expect(again.options).toEqual(enc.options);
    expect(again.vocabulary).toEqual(enc.vocabulary);
    const texts = ['greek yogurt with crème fraîche', 'pasta and spaghetti', 'nothing known'];
    const a = (await enc.encode(texts)).matrix;
    const b = (await again.encode(texts)).matrix;
    expect(Array.from(b.indptr)).toEqual(Array.from(a.indptr));
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
  });

  it('rejects bad options and input with typed errors', async () => {
    expect(() => new TfidfEncoder({ minDf: 0 })).toThrow(OptionError);
    expect(() => new TfidfEncoder({ minDf: 1.5 })).toThrow(OptionError);
    expect(() => new TfidfEncoder({ maxDf: 0 })).toThrow(OptionError);
    expect(() => new TfidfEncoder({ maxDf: Number.NaN })).toThrow(OptionError);
    expect(() => new TfidfEncoder({ bigrams: 'yes' as unknown as boolean })).toThrow(OptionError);
    await expect(new TfidfEncoder().encode(['x'])).rejects.toThrow(NotFittedError);
    await expect(new TfidfEncoder().fit([])).rejects.toThrow(EmptyDataError);
    await expect(new TfidfEncoder().fit(['ok', null as unknown as string])).rejects.toThrow(/text 1 is null/);
  });

  it('stops fitting and encoding mid-run when the signal fires', async () => {
    const texts = Array.from({ length: 200_000 }, (_, i) => `organic product ${i % 977} named ${i} in aisle ${i % 37}`);
    await expectAbortMidRun((signal) => new TfidfEncoder({ bigrams: true }).fit(texts, { signal }), /TfidfEncoder.fit was aborted/);
    const fitted = new TfidfEncoder();
    await fitted.fit(texts.slice(0, 1000));
    await expectAbortMidRun((signal) => fitted.encode(texts, { signal }), /TfidfEncoder.encode was aborted/);
  });
});
