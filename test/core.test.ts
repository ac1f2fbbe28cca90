import { describe, expect, it } from 'vitest';
import { CsrMatrix } from '../src/data/csr';
import { compareRawIds, IdIndex } from '../src/data/ids';
import { mulberry32, shuffleInPlace } from '../src/util/random';
import { TopK, topKDense } from '../src/util/topk';
import { basketsDataset } from './fixtures';
import { readDataset, writeDataset } from '../src/data/serialize';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { DataError } from '../src/errors';
import { ScoreVector } from '../src/strategies/types';
import { checkQuery } from '../src/strategies/checks';
import { anonymousQuery } from '../src/strategies/query';

describe('mulberry32', () => {
  it('matches the protocol reference draws', () => {
    const rng = mulberry32(42);
    expect([rng(), rng(), rng()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });
  it('shuffles deterministically from the end', () => {
    const a = shuffleInPlace([1, 2, 3, 4, 5], mulberry32(42));
    const b = shuffleInPlace([1, 2, 3, 4, 5], mulberry32(42));
    expect(a).toEqual(b);
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('ids', () => {
  it('orders numeric ids numerically and others after them', () => {
    expect(['10', '9', 'b', '100', 'a', '-1'].sort(compareRawIds)).toEqual(['-1', '9', '10', '100', 'a', 'b']);
    const idx = IdIndex.sorted(['30', '4', '4', '200']);
    expect(idx.ids).toEqual(['4', '30', '200']);
    expect(idx.indexOf('30')).toBe(1);
    expect(idx.indexOf('x')).toBe(-1);
    expect(() => new IdIndex(['a', 'a'], 'item')).toThrow(DataError);
  });
});

describe('CsrMatrix', () => {
  it('sums duplicates, sorts columns and transposes', () => {
    const m = CsrMatrix.fromCoo(3, 4, Int32Array.from([2, 0, 0, 2, 0]), Int32Array.from([1, 3, 0, 1, 3]), Float32Array.from([1, 2, 3, 4, 5]));
    expect([...m.indptr]).toEqual([0, 2, 2, 3]);
    expect([...m.indices]).toEqual([0, 3, 1]);
    expect([...m.values]).toEqual([3, 7, 5]);
    expect(m.get(0, 3)).toBe(7);
    expect(m.get(1, 3)).toBe(0);
    const t = m.transpose();
    expect(t.nRows).toBe(4);
    expect([...t.indptr]).toEqual([0, 1, 2, 2, 3]);
    expect([...t.indices]).toEqual([0, 2, 0]);
    expect([...t.values]).toEqual([3, 5, 7]);
    expect(() => CsrMatrix.fromCoo(1, 1, Int32Array.from([0]), Int32Array.from([2]), null)).toThrow(/out of range/);
  });
  it('sorts long rows', () => {
    const n = 100;
    const rng = mulberry32(1);
    const cols = Int32Array.from({ length: n }, () => Math.floor(rng() * 50));
    const m = CsrMatrix.fromCoo(1, 50, new Int32Array(n), cols, null);
    const expected = new Map<number, number>();
    for (const c of cols) expected.set(c, (expected.get(c) ?? 0) + 1);
    expect([...m.indices]).toEqual([...expected.keys()].sort((a, b) => a - b));
    expect(m.values.reduce((a, b) => a + b, 0)).toBe(n);
  });
});

describe('ScoreVector', () => {
  it('adds a scaled row as add() per entry does: the same floats, touched order and count', () => {
    const rng = mulberry32(4);
    const indices = Int32Array.from({ length: 300 }, () => Math.floor(rng() * 64));
    const weights = Float32Array.from({ length: 300 }, () => rng());
    const one = new ScoreVector(64);
    const row = new ScoreVector(64);
    for (const [start, end, scale] of [[0, 120, 0.7], [100, 300, 1.3], [40, 41, 2]] as const) {
      for (let p = start; p < end; p++) one.add(indices[p], scale * weights[p]);
      row.addScaled(indices, weights, start, end, scale);
    }
    expect(row.length).toBe(one.length);
    expect(Array.from(row.touched.subarray(0, row.length))).toEqual(Array.from(one.touched.subarray(0, one.length)));
    expect(Array.from(row.values)).toEqual(Array.from(one.values));
  });

  it('is empty after reset, whether few or most items were touched', () => {
    for (const touched of [3, 60]) {
      const v = new ScoreVector(64);
      for (let i = 0; i < touched; i++) v.add((i * 7) % 64, 1 + i);
      v.reset();
      expect(v.length).toBe(0);
      expect(v.values.every((x) => x === 0)).toBe(true);
      for (let i = 0; i < 64; i++) expect(v.has(i)).toBe(false);
      v.add(5, 2);
      expect([v.length, v.at(0), v.values[5]]).toEqual([1, 5, 2]);
    }
  });
});

describe('checkQuery', () => {
  it('passes in-range queries and names the first entry out of range, typed or plain', () => {
    const ok = anonymousQuery([0, 3, 7], [2]);
    expect(() => checkQuery(ok, 8, 'M')).not.toThrow();
    expect(() => checkQuery({ ...ok, basket: Int32Array.of(1, -1, 9) }, 8, 'M')).toThrow(/^M: query.basket\[1\]: item index -1 out of range \[0, 8\)/);
    expect(() => checkQuery({ ...ok, basket: Int32Array.of(1, 8) }, 8, 'M')).toThrow(/^M: query.basket\[1\]: item index 8 out of range/);
    const plain = { items: [0, 2.5] as unknown as Int32Array, weights: Float32Array.of(1, 1) };
    expect(() => checkQuery({ ...ok, history: plain }, 8, 'M')).toThrow(/^M: query.history.items\[1\]: item index 2.5 out of range/);
    expect(() => checkQuery(anonymousQuery([], []), 0, 'M')).not.toThrow();
  });
});

describe('TopK', () => {
  it('equals a full sort with ties broken by lower index', () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rng() * 60);
      const values = Float32Array.from({ length: n }, () => Math.floor(rng() * 5));
      const blocked = Uint8Array.from({ length: n }, () => (rng() < 0.2 ? 1 : 0));
      const k = Math.floor(rng() * 12);
      const got = topKDense(values, k, blocked);
      const want = [...values.keys()]
        .filter((i) => !blocked[i])
        .sort((a, b) => values[b] - values[a] || a - b)
        .slice(0, k);
      expect([...got.items]).toEqual(want);
    }
  });
  it('drops NaN', () => {
    const h = new TopK(3);
    h.push(0, NaN);
    h.push(1, 1);
    expect([...h.sorted().items]).toEqual([1]);
  });
});

describe('Dataset', () => {
  const data = basketsDataset(
    { u2: [['milk', 'bread'], ['milk']], u1: [['eggs'], ['milk', 'eggs', 'eggs']] },
    { extraItems: ['caviar'], catalog: { milk: { name: 'Whole Milk', aisle: 'milk', department: 'dairy eggs' } } },
  );

  it('builds counts, ordered baskets and keeps unsold catalog items', () => {
    expect(data.users.ids).toEqual(['u1', 'u2']);
    expect(data.items.ids).toEqual(['bread', 'caviar', 'eggs', 'milk']);
    const u1 = data.users.indexOf('u1');
    const eggs = data.items.indexOf('eggs');
    expect(data.interactions.get(u1, eggs)).toBe(3);
    expect(data.nBaskets).toBe(4);
    expect(data.baskets.ids).toEqual(['u1#1', 'u1#2', 'u2#1', 'u2#2']);
    expect([...data.itemTotals()]).toEqual([1, 0, 3, 3]);
    expect(data.catalog.name[data.items.indexOf('milk')]).toBe('Whole Milk');
  });

  it('filters baskets in the same index space', () => {
    const last = data.filterBaskets((b) => data.baskets.orderNumber[b] === 1);
    expect(last.items).toBe(data.items);
    expect(last.nBaskets).toBe(2);
    expect(last.interactions.get(last.users.indexOf('u1'), last.items.indexOf('eggs'))).toBe(1);
  });

  it('round-trips through an artifact', () => {
    const w = new ArtifactWriter();
    writeDataset(data, w.scope('data'));
    const back = readDataset(ArtifactReader.open(w.toBytes(null)).scope('data'));
    expect(back.users.ids).toEqual(data.users.ids);
    expect([...back.interactions.values]).toEqual([...data.interactions.values]);
    expect(back.baskets.ids).toEqual(data.baskets.ids);
    expect([...back.baskets.day]).toEqual([...data.baskets.day]);
    expect(back.catalog).toEqual(data.catalog);
  });
});
