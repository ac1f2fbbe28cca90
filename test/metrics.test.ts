import { describe, expect, it } from 'vitest';
import { OptionError } from '../src/errors';
import {
  ItemSet,
  MetricAccumulator,
  averagePrecisionAtK,
  hitAtK,
  hitsAtK,
  ndcgAtK,
  precisionAtK,
  recallAtK,
} from '../src/eval/metrics';

const ranked = (...items: number[]) => Int32Array.from(items);
const LOG2_3 = Math.log2(3);
const LOG2_5 = Math.log2(5);

describe('metrics at K', () => {
  // ranked [5, 1, 7, 3, 9], T = {1, 3, 4}: relevant at ranks 2 and 4.
  const r = ranked(5, 1, 7, 3, 9);
  const t = new Set([1, 3, 4]);

  it('K = 5', () => {
    expect(hitsAtK(r, t, 5)).toBe(2);
    // P@5 = 2 / 5.
    expect(precisionAtK(r, t, 5)).toBeCloseTo(0.4, 12);
    // R@5 = 2 / |T| = 2 / 3.
    expect(recallAtK(r, t, 5)).toBeCloseTo(2 / 3, 12);
    // AP@5 = (1 / min(5, 3)) * (P@2 + P@4) = (1/3) * (1/2 + 2/4) = 1/3.
    expect(averagePrecisionAtK(r, t, 5)).toBeCloseTo(1 / 3, 12);
    // DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061607;
    // IDCG = 1/log2(2) + 1/log2(3) + 1/log2(4) = 1 + 0.630930 + 0.5 = 2.130930; NDCG = 0.498189.
    expect(ndcgAtK(r, t, 5)).toBeCloseTo((1 / LOG2_3 + 1 / LOG2_5) / (1 + 1 / LOG2_3 + 0.5), 12);
    expect(ndcgAtK(r, t, 5)).toBeCloseTo(0.498189, 6);
    expect(hitAtK(r, t, 5)).toBe(1);
  });

  it('K = 2 cuts the list: only [5, 1] count', () => {
    // hits 1: P = 1/2, R = 1/3, AP = (1 / min(2, 3)) * P@2 = (1/2)(1/2) = 1/4.
    expect(precisionAtK(r, t, 2)).toBeCloseTo(0.5, 12);
    expect(recallAtK(r, t, 2)).toBeCloseTo(1 / 3, 12);
    expect(averagePrecisionAtK(r, t, 2)).toBeCloseTo(0.25, 12);
    // NDCG = (1/log2 3) / (1 + 1/log2 3) = 0.630930 / 1.630930 = 0.386853.
    expect(ndcgAtK(r, t, 2)).toBeCloseTo(0.386853, 6);
  });

  it('fewer than K items: precision still divides by K', () => {
    // ranked [1], T = {1, 2}, K = 10: P = 1/10, R = 1/2, AP = (1/min(10, 2)) * P@1 = 1/2,
    // NDCG = 1 / (1 + 1/log2 3) = 0.613147.
    const one = ranked(1);
    const t2 = new Set([1, 2]);
    expect(precisionAtK(one, t2, 10)).toBeCloseTo(0.1, 12);
    expect(recallAtK(one, t2, 10)).toBeCloseTo(0.5, 12);
    expect(averagePrecisionAtK(one, t2, 10)).toBeCloseTo(0.5, 12);
    expect(ndcgAtK(one, t2, 10)).toBeCloseTo(0.613147, 6);
    expect(precisionAtK(ranked(), t2, 10)).toBe(0);
    expect(hitAtK(ranked(), t2, 10)).toBe(0);
  });

  it('|T| > K: AP and NDCG normalise by K, so a perfect list scores 1 while recall does not', () => {
    // ranked [1, 2], T = {1, 2, 3, 4}, K = 2: AP = (1/2)(1/1 + 2/2) = 1, NDCG = 1, R = 2/4.
    const t4 = new Set([1, 2, 3, 4]);
    expect(averagePrecisionAtK(ranked(1, 2), t4, 2)).toBe(1);
    expect(ndcgAtK(ranked(1, 2), t4, 2)).toBeCloseTo(1, 12);
    expect(recallAtK(ranked(1, 2), t4, 2)).toBe(0.5);
    expect(precisionAtK(ranked(1, 2), t4, 2)).toBe(1);
  });

  it('ItemSet gives the same answers as a Set', () => {
    const s = new ItemSet(10);
    for (const i of [1, 3, 4, 3]) s.add(i);
    expect(s.size).toBe(3);
    expect(averagePrecisionAtK(r, s, 5)).toBe(averagePrecisionAtK(r, t, 5));
    expect(ndcgAtK(r, s, 5)).toBe(ndcgAtK(r, t, 5));
    s.clear();
    expect(s.size).toBe(0);
    expect(s.has(1)).toBe(false);
    expect(() => s.add(10)).toThrow(OptionError);
    expect(() => s.add(-1)).toThrow(OptionError);
  });

  it('rejects a bad K and metrics that are undefined for an empty target', () => {
    expect(() => precisionAtK(r, t, 0)).toThrow(OptionError);
    expect(() => precisionAtK(r, t, 2.5)).toThrow(OptionError);
    expect(() => recallAtK(r, new Set(), 5)).toThrow(OptionError);
    expect(() => averagePrecisionAtK(r, new Set(), 5)).toThrow(OptionError);
    expect(() => ndcgAtK(r, new Set(), 5)).toThrow(OptionError);
  });
});

describe('MetricAccumulator', () => {
  it('averages over evaluated queries, skips empty targets, counts coverage over the catalog', () => {
    const acc = new MetricAccumulator(5, 20, 12);
    // q1: ranked [5, 1, 7, 3, 9], T = {1, 3, 4}: P 0.4, R 2/3, AP 1/3, NDCG 0.498189, hit 1.
    expect(acc.add(ranked(5, 1, 7, 3, 9), new Set([1, 3, 4]))).toBe(true);
    // q2: ranked [2], T = {8}: all zero.
    expect(acc.add(ranked(2), new Set([8]))).toBe(true);
    // q3: empty T, skipped; its items do not count for coverage.
    expect(acc.add(ranked(11, 12), new Set())).toBe(false);
    acc.skip();
    const s = acc.summary();
    expect(s.k).toBe(5);
    expect(s.evaluated).toBe(2);
    expect(s.skipped).toBe(2);
    expect(s.precision).toBeCloseTo(0.2, 12); // (0.4 + 0) / 2
    expect(s.recall).toBeCloseTo(1 / 3, 12); // (2/3 + 0) / 2
    expect(s.map).toBeCloseTo(1 / 6, 12); // (1/3 + 0) / 2
    expect(s.ndcg).toBeCloseTo(0.498189 / 2, 6);
    expect(s.hitRate).toBe(0.5); // 1 of 2
    expect(s.coverage).toBe(0.5); // {5, 1, 7, 3, 9, 2} = 6 of 12
  });

  it('reports NaN, not zero, when nothing was evaluated', () => {
    const s = new MetricAccumulator(10, 5).summary();
    expect(s.evaluated).toBe(0);
    expect(s.precision).toBeNaN();
    expect(s.coverage).toBe(0);
  });
});
