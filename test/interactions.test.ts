import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset';
import { datasetFromInteractions, interactionsFromRows, parseTimestamp } from '../src/data/interactions';
import { DataError, OptionError } from '../src/errors';
import { loadInteractionsCsv } from '../src/node/interactions';
import { caught } from './fixtures';

const SHARED = resolve(__dirname, '../../shared');
const MOVIELENS = join(SHARED, 'data/movielens-100k');
const LASTFM = join(SHARED, 'data/lastfm-2k');

function baskets(data: Dataset): Array<{ user: string; id: string; items: string[]; orderNumber: number; day: number }> {
  const b = data.baskets;
  const out = [];
  for (let u = 0; u < data.nUsers; u++) {
    for (let k = b.userPtr[u]; k < b.userPtr[u + 1]; k++) {
      out.push({
        user: data.users.id(u),
        id: b.ids[k],
        items: Array.from(b.items.subarray(b.itemPtr[k], b.itemPtr[k + 1]), (i) => data.items.id(i)),
        orderNumber: b.orderNumber[k],
        day: b.day[k],
      });
    }
  }
  return out;
}

describe('interactionsFromRows', () => {
  it('turns ids into strings in raw-id order and keeps one entry per row', () => {
    const { rows, skipped } = interactionsFromRows(
      [
        { u: 10, i: 'b', w: '2' },
        { u: '9', i: 3, w: 1.5 },
        { u: 10, i: 'b', w: 1 },
      ],
      { user: 'u', item: 'i', weight: 'w' },
    );
    expect(rows.users.ids).toEqual(['9', '10']);
    expect(rows.items.ids).toEqual(['3', 'b']);
    expect([...rows.user]).toEqual([1, 0, 1]);
    expect([...rows.item]).toEqual([1, 0, 1]);
    expect([...rows.weight]).toEqual([2, 1.5, 1]);
    expect(rows.time).toBeNull();
    expect(rows.basket).toBeNull();
    expect(skipped).toEqual({ count: 0, lines: 0, firstLines: [], errors: [] });
  });

  it('names the row and field of a bad value, or skips and counts it', () => {
    const data = [
      { u: 'a', i: 'x', w: 1 },
      { u: 'a', i: 'y', w: 0 },
      { u: '', i: 'y', w: 1 },
      { u: 'b', i: 'y', w: 'lots' },
      { u: 'b', i: 'z', w: Infinity },
    ];
    const error = caught(() => interactionsFromRows(data, { user: 'u', item: 'i', weight: 'w' }));
    expect(error.field).toBe('w');
    expect(error.message).toMatch(/^row 2: weight must be a finite number > 0, got 0/);
    const { rows, skipped } = interactionsFromRows(data, { user: 'u', item: 'i', weight: 'w' }, { onBadRow: 'skip' });
    expect(rows.user.length).toBe(1);
    expect(skipped.count).toBe(4);
    expect(skipped.errors[1]).toMatch(/^row 3: missing value \(field "u"\)/);
    const badTime = caught(() => interactionsFromRows([{ u: 1, i: 2, t: 'yesterday' }], { user: 'u', item: 'i', timestamp: 't' }));
    expect(badTime).toMatchObject({ field: 't' });
    expect(() => interactionsFromRows([], { user: '', item: 'i' })).toThrow(OptionError);
  });

  it('reads unix seconds and ISO-8601 timestamps (UTC unless an offset is given)', () => {
    expect(parseTimestamp(881250949)).toBe(881250949);
    expect(parseTimestamp(' 881250949 ')).toBe(881250949);
    expect(parseTimestamp('2017-05-01')).toBe(Date.UTC(2017, 4, 1) / 1000);
    expect(parseTimestamp('2017-05-01T08:30:00Z')).toBe(Date.UTC(2017, 4, 1, 8, 30) / 1000);
    expect(parseTimestamp('2017-05-01 08:30')).toBe(Date.UTC(2017, 4, 1, 8, 30) / 1000);
    expect(parseTimestamp('2017-05-01T08:30:00.250+02:00')).toBe(Date.UTC(2017, 4, 1, 6, 30) / 1000 + 0.25);
    expect(parseTimestamp('2017-05-01T08:30-0130')).toBe(Date.UTC(2017, 4, 1, 10, 0) / 1000);
    expect(parseTimestamp(new Date(Date.UTC(2020, 0, 1)))).toBe(Date.UTC(2020, 0, 1) / 1000);
    for (const bad of ['2017-02-30', '2017-13-01', '2017-05-01T25:00', 'May 1 2017', '', null]) expect(parseTimestamp(bad), String(bad)).toBeNaN();
  });
});

describe('datasetFromInteractions', () => {
  it('builds baskets from a basket column, ordered by first timestamp, days from timestamps', () => {
    const DAY = 86400;
    const { rows } = interactionsFromRows(
      [
        { user: 'u1', item: 'milk', order: 'o2', ts: 3 * DAY },
        { user: 'u1', item: 'eggs', order: 'o1', ts: DAY },
        { user: 'u2', item: 'milk', order: 'o3', ts: 0 },
        { user: 'u1', item: 'milk', order: 'o1', ts: DAY + 60 },
        { user: 'u1', item: 'bread', order: 'o2', ts: 3 * DAY },
      ],
      { user: 'user', item: 'item', basket: 'order', timestamp: 'ts' },
    );
    const data = datasetFromInteractions(rows);
    expect(baskets(data)).toEqual([
      { user: 'u1', id: 'o1', items: ['eggs', 'milk'], orderNumber: 1, day: 0 },
      { user: 'u1', id: 'o2', items: ['milk', 'bread'], orderNumber: 2, day: 2 },
      { user: 'u2', id: 'o3', items: ['milk'], orderNumber: 1, day: 0 },
    ]);
    expect(data.interactions.get(data.users.indexOf('u1'), data.items.indexOf('milk'))).toBe(2);
  });

  it('orders baskets by first appearance without timestamps, and sums weights', () => {
    const { rows } = interactionsFromRows(
      [
        { user: 'u1', item: 'a', order: 'z', qty: 2 },
        { user: 'u1', item: 'b', order: 'y', qty: 1 },
        { user: 'u1', item: 'a', order: 'y', qty: 0.5 },
      ],
      { user: 'user', item: 'item', basket: 'order', weight: 'qty' },
    );
    const data = datasetFromInteractions(rows);
    expect(baskets(data).map((b) => [b.id, b.orderNumber, b.items])).toEqual([
      ['z', 1, ['a']],
      ['y', 2, ['b', 'a']],
    ]);
    expect(baskets(data)[0].day).toBeNaN();
    expect(data.interactions.get(0, data.items.indexOf('a'))).toBe(2.5);
  });

  it('rejects a basket shared by two users', () => {
    const { rows } = interactionsFromRows(
      [
        { u: 'a', i: 'x', b: 'o1' },
        { u: 'b', i: 'y', b: 'o1' },
      ],
      { user: 'u', item: 'i', basket: 'b' },
    );
    expect(() => datasetFromInteractions(rows)).toThrow(/basket "o1" has rows of two users/);
  });

  it('groups a user rows with one timestamp into a basket, and has no baskets without either', () => {
    const data = [
      { u: 'a', i: 'x', t: 200 },
      { u: 'a', i: 'y', t: 100 },
      { u: 'a', i: 'z', t: 200 },
      { u: 'b', i: 'x', t: 100 },
    ];
    const timed = datasetFromInteractions(interactionsFromRows(data, { user: 'u', item: 'i', timestamp: 't' }).rows);
    expect(baskets(timed)).toEqual([
      { user: 'a', id: 'a@100', items: ['y'], orderNumber: 1, day: 0 },
      { user: 'a', id: 'a@200', items: ['x', 'z'], orderNumber: 2, day: 100 / 86400 },
      { user: 'b', id: 'b@100', items: ['x'], orderNumber: 1, day: 0 },
    ]);
    const plain = datasetFromInteractions(interactionsFromRows(data, { user: 'u', item: 'i' }).rows);
    expect(plain.nBaskets).toBe(0);
    expect(plain.interactions.nnz).toBe(4);
    expect(plain.times).toBeNull();
  });

  it('keeps the latest timestamp of each (user, item) as Dataset.times, beside the baskets', () => {
    const data = [
      { u: 'a', i: 'x', t: 300, o: 'o3', w: 2 },
      { u: 'a', i: 'y', t: 100, o: 'o1', w: 1 },
      { u: 'a', i: 'x', t: 100, o: 'o1', w: 1 },
      { u: 'b', i: 'y', t: 50, o: 'o2', w: 1 },
    ];
    const timeOf = (d: Dataset, u: string, i: string) => {
      const m = d.interactions;
      const row = d.users.indexOf(u);
      for (let p = m.indptr[row]; p < m.indptr[row + 1]; p++) if (m.indices[p] === d.items.indexOf(i)) return d.times![p];
      throw new Error(`no entry (${u}, ${i})`);
    };
    // Unit weights (the basket matrix), by timestamp baskets, by a basket column, and with weights (the summed matrix).
    for (const mapping of [{ timestamp: 't' }, { timestamp: 't', basket: 'o' }, { timestamp: 't', weight: 'w' }]) {
      const timed = datasetFromInteractions(interactionsFromRows(data, { user: 'u', item: 'i', ...mapping }).rows);
      expect(timed.times).not.toBeNull();
      expect(timed.times!.length).toBe(timed.interactions.nnz);
      expect([timeOf(timed, 'a', 'x'), timeOf(timed, 'a', 'y'), timeOf(timed, 'b', 'y')]).toEqual([300, 100, 50]);
      // Nothing else changes: the same baskets and matrix as without times.
      const again = datasetFromInteractions(interactionsFromRows(data, { user: 'u', item: 'i', ...mapping }).rows);
      expect(baskets(timed)).toEqual(baskets(again));
      expect(timed.nBaskets).toBe(3);
    }
    const weighted = datasetFromInteractions(interactionsFromRows(data, { user: 'u', item: 'i', timestamp: 't', weight: 'w' }).rows);
    expect(weighted.interactions.get(weighted.users.indexOf('a'), weighted.items.indexOf('x'))).toBe(3);
  });
});

describe('loadInteractionsCsv', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hybridrec-interactions-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maps header columns, reads a catalog with meta, and adds catalog-only items', async () => {
    const path = join(dir, 'orders.csv');
    await writeFile(path, 'invoice,customer,sku,qty,when\r\nA1,c1,s1,2,2020-01-01T10:00:00Z\r\nA1,c1,s2,1,2020-01-01T10:00:00Z\r\nA2,c1,s1,3,2020-01-03T10:00:00Z\r\n');
    const catalogPath = join(dir, 'items.csv');
    await writeFile(catalogPath, 'sku,title,category,brand\ns1,"Milk, whole",dairy,Acme\ns2,Eggs,dairy,\ns3,Flour,baking,Mill\n');
    const { rows, dataset, skipped } = await loadInteractionsCsv(path, {
      mapping: { user: 'customer', item: 'sku', weight: 'qty', basket: 'invoice', timestamp: 'when' },
      catalog: { path: catalogPath, mapping: { item: 'sku', name: 'title', aisle: 'category' } },
    });
    expect(skipped.count).toBe(0);
    expect(rows.items.ids).toEqual(['s1', 's2', 's3']);
    expect(dataset.catalog.name).toEqual(['Milk, whole', 'Eggs', 'Flour']);
    expect(dataset.catalog.aisle).toEqual(['dairy', 'dairy', 'baking']);
    expect(dataset.catalog.meta).toEqual([{ brand: 'Acme' }, undefined, { brand: 'Mill' }]);
    expect(baskets(dataset).map((b) => [b.id, b.day, b.items])).toEqual([
      ['A1', 0, ['s1', 's2']],
      ['A2', 2, ['s1']],
    ]);
    expect(dataset.interactions.get(0, 0)).toBe(5);
  });

  it('reads tab-separated files without a header, gzipped, by given or positional names', async () => {
    const path = join(dir, 'u.data.gz');
    await writeFile(path, gzipSync('196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250949\n'));
    const named = await loadInteractionsCsv(path, { delimiter: '\t', header: ['user', 'item', 'rating', 'ts'], mapping: { user: 'user', item: 'item', timestamp: 'ts' } });
    expect(named.rows.users.ids).toEqual(['186', '196']);
    expect([...named.rows.time!]).toEqual([881250949, 891717742, 881250949]);
    expect(named.dataset.nBaskets).toBe(2);
    const positional = await loadInteractionsCsv(path, { delimiter: '\t', header: false, mapping: { user: '1', item: '2', weight: '3' } });
    expect([...positional.rows.weight]).toEqual([3, 3, 5]);
  });

  it('names file, line and field of bad rows, or skips and counts them', async () => {
    const path = join(dir, 'bad.csv');
    await writeFile(path, 'user,item,plays\nu1,i1,3\nu1,i2,-1\nu2,i1\nu2,"i3,4\nu3,i9,5\n');
    const error = await loadInteractionsCsv(path, { mapping: { user: 'user', item: 'item', weight: 'plays' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ file: path, line: 3, field: 'plays' });
    const missing = await loadInteractionsCsv(path, { mapping: { user: 'user', item: 'sku' } }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ file: path, line: 1, field: 'sku' });
    const { rows, skipped } = await loadInteractionsCsv(path, { mapping: { user: 'user', item: 'item', weight: 'plays' }, onBadRow: 'skip' });
    // The unterminated quote of line 5 costs line 5 only: u3's row on line 6 is read.
    expect(rows.user.length).toBe(2);
    expect(rows.users.ids).toEqual(['u1', 'u3']);
    expect(skipped).toMatchObject({ count: 3, lines: 3, firstLines: [3, 4, 5].map((line) => ({ file: path, line })) });
    expect(skipped.errors[0]).toMatch(/line 3, field "plays"/);
    expect(skipped.errors[1]).toMatch(/expected 3 fields, found 2.*line 4/);
    expect(skipped.errors[2]).toMatch(/line break inside a quoted field.*line 5/);
  });
});

describe.skipIf(!existsSync(MOVIELENS))(`MovieLens 100K (needs ${MOVIELENS})`, () => {
  it('loads u.data: 100,000 rows, 943 users, 1,682 items, titles from u.item (Latin-1)', async () => {
    const { rows, dataset, skipped } = await loadInteractionsCsv(join(MOVIELENS, 'u.data.gz'), {
      delimiter: '\t',
      header: ['user', 'item', 'rating', 'ts'],
      mapping: { user: 'user', item: 'item', timestamp: 'ts' },
      catalog: { path: join(MOVIELENS, 'u.item.gz'), delimiter: '|', header: false, encoding: 'latin1', mapping: { item: '1', name: '2' } },
    });
    expect(skipped.count).toBe(0);
    expect(rows.user.length).toBe(100_000);
    expect(rows.users.size).toBe(943);
    expect(rows.items.size).toBe(1_682);
    expect(rows.time![0]).toBe(881250949);
    expect(dataset.interactions.nnz).toBe(100_000);
    expect(dataset.catalog.name[dataset.items.indexOf('1')]).toBe('Toy Story (1995)');
    expect(dataset.catalog.name.some((name) => name.includes('é'))).toBe(true);
  });
});

describe.skipIf(!existsSync(LASTFM))(`Last.fm 2K (needs ${LASTFM})`, () => {
  it('loads user_artists.dat: 92,834 rows, 1,892 users, 17,632 artists, padded values trimmed', async () => {
    const { rows, dataset, skipped } = await loadInteractionsCsv(join(LASTFM, 'user_artists.dat.gz'), {
      delimiter: '\t',
      header: ['user', 'artist', 'plays'],
      mapping: { user: 'user', item: 'artist', weight: 'plays' },
    });
    expect(skipped.count).toBe(0);
    expect(rows.user.length).toBe(92_834);
    expect(rows.users.size).toBe(1_892);
    expect(rows.items.size).toBe(17_632);
    expect(dataset.nBaskets).toBe(0);
    // Line 2866 reads "61\t163\t    316\r\n".
    expect(dataset.interactions.get(dataset.users.indexOf('61'), dataset.items.indexOf('163'))).toBe(316);
    expect(dataset.interactions.get(dataset.users.indexOf('2'), dataset.items.indexOf('51'))).toBe(13_883);
  });

  it('takes artist names with literal quotes from artists.dat', async () => {
    const { dataset } = await loadInteractionsCsv(join(LASTFM, 'user_artists.dat.gz'), {
      delimiter: '\t',
      header: ['user', 'artist', 'plays'],
      mapping: { user: 'user', item: 'artist', weight: 'plays' },
      catalog: { path: join(LASTFM, 'artists.dat.gz'), delimiter: '\t', mapping: { item: 'id', name: 'name' } },
    });
    expect(dataset.nItems).toBe(17_632);
    expect(dataset.catalog.name[dataset.items.indexOf('1686')]).toBe('"Weird Al" Yankovic');
    expect(dataset.catalog.meta[dataset.items.indexOf('1')]?.url).toBe('http://www.last.fm/music/MALICE+MIZER');
  });
});
