import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import type { InteractionRows } from '../src/data/interactions';
import { DataError, OptionError } from '../src/errors';
import { basketCompletion, basketCompletionFolds, holdoutRandom, holdoutTemporal, nextBasket, type Split } from '../src/eval/splits';
import { basketsDataset, itemIdx } from './fixtures';

/** Interaction rows from (user, item, weight, time) tuples over the given (possibly unsorted) id indexes. */
function makeRows(users: IdIndex, items: IdIndex, tuples: Array<[string, string, number, number]>, withTime = true): InteractionRows {
  return {
    users,
    items,
    user: Int32Array.from(tuples, (t) => users.indexOf(t[0])),
    item: Int32Array.from(tuples, (t) => items.indexOf(t[1])),
    weight: Float32Array.from(tuples, (t) => t[2]),
    time: withTime ? Float64Array.from(tuples, (t) => t[3]) : null,
    basket: null,
    basketIds: null,
    catalog: null,
  };
}

const ids = (split: Split, q: number) => Array.from(split.queries[q].target, (i) => split.train.items.id(i));
const trainItems = (split: Split, user: string) => {
  const m = split.train.interactions;
  const u = split.train.users.indexOf(user);
  return Array.from(m.indices.subarray(m.indptr[u], m.indptr[u + 1]), (i) => split.train.items.id(i)).sort();
};

describe('P1 holdoutTemporal', () => {
  // Item index order deliberately differs from raw-id order: ties must follow raw ids (9 < 10).
  const items = new IdIndex(['10', '9', '2', '30', '40', '50', '60', '70'], 'item');
  const users = new IdIndex(['a', 'b', 'c', 'd'], 'user');
  const rows = makeRows(users, items, [
    ['a', '2', 1, 5],
    ['a', '10', 1, 20],
    ['a', '30', 1, 10],
    ['a', '9', 1, 20],
    ['b', '40', 1, 7],
    ['c', '10', 1, 1],
    ['c', '9', 1, 2],
    ['c', '2', 1, 3],
    ['c', '30', 1, 6],
    ['c', '40', 1, 5],
    ['c', '50', 1, 4],
  ]);

  it('holds out the last ceil(20%) (>= 1) by time, ties by raw item id', () => {
    const s = holdoutTemporal(rows);
    expect(s.protocol).toBe('P1');
    // a: 2@5, 30@10, then the tie at 20 in raw-id order 9, 10: n = 4, ceil(0.8) = 1 -> T = {10}.
    // b: one row, ceil(0.2) = 1 -> everything is T, nothing in train.
    // c: n = 6, ceil(1.2) = 2 held out: times 6 (30) and 5 (40).
    // d: no rows, no query.
    expect(s.queries.map((q) => q.id)).toEqual(['a', 'b', 'c']);
    expect(ids(s, 0)).toEqual(['10']);
    expect(ids(s, 1)).toEqual(['40']);
    expect(ids(s, 2)).toEqual(['30', '40']);
    expect(trainItems(s, 'a')).toEqual(['2', '30', '9']);
    expect(trainItems(s, 'b')).toEqual([]);
    expect(trainItems(s, 'c')).toEqual(['10', '2', '50', '9']);
    for (const q of s.queries) {
      expect(q).toMatchObject({ useHistory: true, excludeHistory: true, excludeBasket: false });
      expect(q.basket.length).toBe(0);
      expect(q.user).toBe(users.indexOf(q.id));
    }
    expect(s.train.users).toBe(users);
    expect(s.train.items).toBe(items);
    expect(s.candidates).toBeNull();
    expect(s.stats).toMatchObject({ users: 4, catalog: 8, trainNonzeros: 7, queries: 3, heldOut: 4, testBaskets: 0 });
  });

  it('needs timestamps', () => {
    expect(() => holdoutTemporal({ ...rows, time: null })).toThrow(DataError);
    const bad = { ...rows, time: Float64Array.from(rows.time!, (t, i) => (i === 3 ? NaN : t)) };
    // Rows are counted from 1, as everywhere (the fourth row).
    expect(() => holdoutTemporal(bad)).toThrow(/interaction row 4 has timestamp NaN/);
  });
});

describe('P2 holdoutRandom', () => {
  // Index orders differ from raw-id order on purpose: visiting and sorting must use raw ids.
  const users = new IdIndex(['3', '1', '2'], 'user');
  const itemIds = ['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36'];
  const items = new IdIndex([...itemIds].reverse(), 'item');
  const tuples: Array<[string, string, number, number]> = [];
  for (const i of ['36', '31', '34', '33', '32', '35']) tuples.push(['3', i, 1, 0]);
  for (const i of ['23', '21', '22']) tuples.push(['2', i, 1, 0]);
  for (const i of ['15', '13', '12', '11', '14']) tuples.push(['1', i, 1, 0]);
  tuples.push(['1', '12', 4, 0]); // a second row of the same pair: one artist, weights summed
  const rows = makeRows(users, items, tuples, false);

  it('shares one mulberry32(42) stream across users in ascending user id; small users draw nothing', () => {
    const s = holdoutRandom(rows);
    // Draws of mulberry32(42): 0.6011, 0.4483, 0.8525, 0.6697, 0.1748, 0.5266, 0.2732, 0.6247, 0.8655.
    // User 1, [11..15]: i=4 j=floor(0.6011*5)=3 -> [11,12,13,15,14]; i=3 j=floor(0.4483*4)=1 ->
    //   [11,15,13,12,14]; i=2 j=2; i=1 j=floor(0.6697*2)=1. Last ceil(1.0)=1 -> T = {14}.
    // User 2 has 3 artists: no draws, no query, all in train.
    // User 3, [31..36], draws 5-9: i=5 j=1 -> [31,36,33,34,35,32]; i=4 j=2 -> [31,36,35,34,33,32];
    //   i=3 j=1 -> [31,34,35,36,33,32]; i=2 j=1 -> [31,35,34,36,33,32]; i=1 j=1.
    //   Last ceil(1.2)=2 -> T = {32, 33}.
    expect(s.queries.map((q) => q.id)).toEqual(['1', '3']);
    expect(ids(s, 0)).toEqual(['14']);
    expect(ids(s, 1).sort()).toEqual(['32', '33']);
    expect(trainItems(s, '2')).toEqual(['21', '22', '23']);
    expect(trainItems(s, '1')).toEqual(['11', '12', '13', '15']);
    expect(s.train.interactions.get(users.indexOf('1'), items.indexOf('12'))).toBe(5);
    expect(s.stats).toMatchObject({ users: 3, catalog: 14, trainNonzeros: 11, queries: 2, heldOut: 3 });
  });

  it('is deterministic for a seed and follows the seed', () => {
    const a = holdoutRandom(rows, 7);
    const b = holdoutRandom(rows, 7);
    expect(a.queries.map((q) => Array.from(q.target))).toEqual(b.queries.map((q) => Array.from(q.target)));
    expect(() => holdoutRandom(rows, 1.5)).toThrow(OptionError);
  });
});

/** Baskets with numeric order ids, one user per order unless `user` says otherwise. */
function ordersDataset(orders: Array<{ id: string; items: string[]; user?: string }>, extraItems: string[] = []): Dataset {
  const items = IdIndex.sorted([...orders.flatMap((o) => o.items), ...extraItems], 'item');
  const userOf = (o: { id: string; user?: string }) => o.user ?? `u${o.id}`;
  const users = IdIndex.sorted(orders.map(userOf), 'user');
  const linePtr = [0];
  const lines: number[] = [];
  for (const o of orders) {
    for (const i of o.items) lines.push(items.indexOf(i));
    linePtr.push(lines.length);
  }
  return Dataset.fromBaskets({
    users,
    items,
    user: Int32Array.from(orders, (o) => users.indexOf(userOf(o))),
    ids: orders.map((o) => o.id),
    orderNumber: Int32Array.from(orders, (_, k) => k + 1),
    day: new Float64Array(orders.length).fill(NaN),
    linePtr: Int32Array.from(linePtr),
    lines: Int32Array.from(lines),
  });
}

describe('P3 basketCompletion', () => {
  // Order ids 9..18: numeric order differs from string order ("10" < "9").
  const orders = [
    { id: '12', items: ['a', 'b'] },
    { id: '9', items: ['a', 'c'] },
    { id: '13', items: ['a', 'b', 'c', 'a', 'z'] },
    { id: '10', items: ['b', 'c', 'd'] },
    { id: '11', items: ['c', 'e'] },
    { id: '15', items: ['e', 'b', 'a'] },
    { id: '14', items: ['d', 'e'] },
    { id: '16', items: ['a'] },
    { id: '17', items: ['b', 'e'] },
    { id: '18', items: ['c'] },
  ];
  const data = ordersDataset(orders, ['never']);

  it('shuffles the sorted order ids with mulberry32(42) and holds out the last ceil(20%)', () => {
    const s = basketCompletion(data);
    // Sorted ids [9..18]; Fisher-Yates with draws 1-9 (j = 6, 4, 6, 4, 1, 2, 1, 1, 1 for
    // i = 9..1) gives [9, 16, 12, 14, 11, 10, 17, 18, 13, 15]; the last ceil(0.2*10) = 2 are test.
    expect(s.testBasketIds).toEqual(['13', '15']);
    expect(s.protocol).toBe('P3');
    // Order 13 [a, b, c, a, z]: query = first floor(5/2) = 2 = [a, b]; the rest [c, a, z] minus
    // the query's a -> T = {c, z}; z was never bought in train and stays in T.
    // Order 15 has 3 lines (< 4): a test order but no query.
    expect(s.queries).toHaveLength(1);
    const q = s.queries[0];
    expect(q).toMatchObject({ id: '13', user: -1, useHistory: false, excludeHistory: false, excludeBasket: true });
    expect(Array.from(q.basket)).toEqual(Array.from(itemIdx(data, 'a', 'b')));
    expect(ids(s, 0)).toEqual(['c', 'z']);
    // Train catalog: a, b, c, d, e (not z, not the never-bought catalog item).
    expect(Array.from(s.candidates!)).toEqual(['a', 'b', 'c', 'd', 'e', 'never', 'z'].map((i) => (['a', 'b', 'c', 'd', 'e'].includes(i) ? 1 : 0)));
    expect(s.stats).toMatchObject({ trainBaskets: 8, testBaskets: 2, catalog: 5, queries: 1, heldOut: 2, trainBasketNonzeros: 15 });
    expect(s.train.baskets.ids.slice().sort()).toEqual(['10', '11', '12', '14', '16', '17', '18', '9']);
    expect(s.train.items).toBe(data.items);
    expect(s.train.users).toBe(data.users);
  });

  it('counts basket nonzeros separately from user nonzeros, and rejects duplicate order ids', () => {
    // Orders 12 and 9 of one user both contain a: two basket entries, one user entry.
    const merged = ordersDataset(orders.map((o) => (o.id === '12' || o.id === '9' ? { ...o, user: 'same' } : o)));
    const s = basketCompletion(merged);
    expect(s.stats.trainBasketNonzeros).toBe(15);
    expect(s.stats.trainNonzeros).toBe(14);
    expect(() => basketCompletion(ordersDataset([...orders, { id: '9', items: ['a'] }]))).toThrow(DataError);
    expect(() => basketCompletion(basketsDataset({}))).toThrow(DataError);
  });

  it('basketCompletionFolds deals the same shuffled orders into folds: each order held out once, trained on elsewhere', () => {
    const folds = basketCompletionFolds(data, 5);
    // The shuffled order [9, 16, 12, 14, 11, 10, 17, 18, 13, 15] in runs of 2; the last run is basketCompletion's test orders.
    expect(folds.map((f) => f.testBasketIds)).toEqual([['9', '16'], ['12', '14'], ['11', '10'], ['17', '18'], ['13', '15']]);
    expect(folds[4].queries).toEqual(basketCompletion(data).queries);
    for (const f of folds) {
      expect(f.train.baskets.ids.slice().sort()).toEqual(orders.map((o) => o.id).filter((id) => !f.testBasketIds.includes(id)).sort());
      expect(f.stats.trainBaskets).toBe(8);
    }
    // Only order 13 has 4 or more lines: one query over all folds.
    expect(folds.flatMap((f) => f.queries.map((q) => q.id))).toEqual(['13']);
    // Uneven counts: 10 orders in 3 folds of 3, 4, 3 (rounded boundaries).
    expect(basketCompletionFolds(data, 3, 7).map((f) => f.testBasketIds.length)).toEqual([3, 4, 3]);
    expect(() => basketCompletionFolds(data, 1)).toThrow(OptionError);
    expect(() => basketCompletionFolds(data, 11)).toThrow(DataError);
  });
});

describe('P4 nextBasket', () => {
  const data = basketsDataset({
    u1: [['a', 'b'], ['b', 'c'], ['c', 'd']],
    u2: [['a'], ['e']],
    u3: [['e'], ['a', 'e'], ['b'], ['e', 'f']],
  });

  it('holds out the last basket of users with >= 3 baskets and marks repeats', () => {
    const s = nextBasket(data);
    expect(s.protocol).toBe('P4');
    expect(s.testBasketIds).toEqual(['u1#3', 'u3#4']);
    expect(s.queries.map((q) => q.id)).toEqual(['u1', 'u3']);
    // u1: T = {c, d}; train history {a, b, c} -> c repeats, d is new.
    expect(ids(s, 0)).toEqual(['c', 'd']);
    expect(Array.from(s.queries[0].repeat!)).toEqual([1, 0]);
    // u3: T = {e, f}; e bought before.
    expect(ids(s, 1)).toEqual(['e', 'f']);
    expect(Array.from(s.queries[1].repeat!)).toEqual([1, 0]);
    for (const q of s.queries) expect(q).toMatchObject({ useHistory: true, excludeHistory: false, excludeBasket: false });
    expect(trainItems(s, 'u1')).toEqual(['a', 'b', 'c']);
    expect(trainItems(s, 'u2')).toEqual(['a', 'e']);
    expect(s.stats).toMatchObject({ trainBaskets: 7, testBaskets: 2, queries: 2, heldOut: 4, users: 3, catalog: 6 });
    expect(s.train.baskets.ids).toEqual(['u1#1', 'u1#2', 'u2#1', 'u2#2', 'u3#1', 'u3#2', 'u3#3']);
  });
});

const DATA = fileURLToPath(new URL('../../shared/data', import.meta.url));
const haveData = existsSync(DATA);
if (!haveData) console.warn(`splits.test: ${DATA} is missing; the protocol count checks on real data are skipped`);

/**
 * Tab-separated gzip file -> rows of trimmed fields. Minimal reader for these files only
 * (no quoting); trimming matters: Last.fm's user_artists.dat has an artist id "65  " (line 2865)
 * that is artist 65.
 */
function readTsvGz(path: string): string[][] {
  return gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => line.split('\t').map((f) => f.trim()));
}

function rowsOf(fields: string[][], weight: (f: string[]) => number, time: ((f: string[]) => number) | null): InteractionRows {
  const users = IdIndex.sorted(fields.map((f) => f[0]), 'user');
  const items = IdIndex.sorted(fields.map((f) => f[1]), 'item');
  return {
    users,
    items,
    user: Int32Array.from(fields, (f) => users.indexOf(f[0])),
    item: Int32Array.from(fields, (f) => items.indexOf(f[1])),
    weight: Float32Array.from(fields, weight),
    time: time ? Float64Array.from(fields, time) : null,
    basket: null,
    basketIds: null,
    catalog: null,
  };
}

/** The Instacart sample as baskets = orders, in add-to-cart order; orders missing from orders.csv get their own user. */
function instacartSample(): Dataset {
  const orderUser = new Map<string, string>();
  const orderNumber = new Map<string, number>();
  for (const line of readFileSync(`${DATA}/instacart-sample/orders.csv`, 'utf8').split('\n').slice(1)) {
    if (!line) continue;
    const f = line.split(',').map((x) => x.replace(/"/g, ''));
    orderUser.set(f[0], f[1]);
    orderNumber.set(f[0], Number(f[3]));
  }
  const lines = readCsvGz(`${DATA}/instacart-sample/order_products__prior.csv.gz`);
  const byOrder = new Map<string, Array<[number, string]>>();
  for (const [order, product, position] of lines) {
    let list = byOrder.get(order);
    if (!list) byOrder.set(order, (list = []));
    list.push([Number(position), product]);
  }
  const userOf = (order: string) => orderUser.get(order) ?? `order-${order}`;
  const orderIds = [...byOrder.keys()];
  const users = IdIndex.sorted(orderIds.map(userOf), 'user');
  const items = IdIndex.sorted(lines.map((f) => f[1]), 'item');
  const linePtr = [0];
  const basketLines: number[] = [];
  for (const order of orderIds) {
    for (const [, product] of byOrder.get(order)!.sort((x, y) => x[0] - y[0])) basketLines.push(items.indexOf(product));
    linePtr.push(basketLines.length);
  }
  return Dataset.fromBaskets({
    users,
    items,
    user: Int32Array.from(orderIds, (o) => users.indexOf(userOf(o))),
    ids: orderIds,
    orderNumber: Int32Array.from(orderIds, (o) => orderNumber.get(o) ?? 1),
    day: new Float64Array(orderIds.length).fill(NaN),
    linePtr: Int32Array.from(linePtr),
    lines: Int32Array.from(basketLines),
  });
}

function readCsvGz(path: string): string[][] {
  return gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.length > 0)
    .map((line) => line.split(','));
}

describe.skipIf(!haveData)(`protocol counts on the real files (${DATA})`, () => {
  it('P1 MovieLens 100K', () => {
    const rows = rowsOf(readTsvGz(`${DATA}/movielens-100k/u.data.gz`), () => 1, (f) => Number(f[3]));
    const s = holdoutTemporal(rows);
    expect(s.stats).toMatchObject({ users: 943, trainNonzeros: 79_619, heldOut: 20_381, catalog: 1_682, queries: 943 });
  });

  it('P2 Last.fm 2K', () => {
    const rows = rowsOf(readTsvGz(`${DATA}/lastfm-2k/user_artists.dat.gz`), (f) => Number(f[2]), null);
    const s = holdoutRandom(rows, 42);
    expect(s.stats).toMatchObject({ trainNonzeros: 74_256, queries: 1_877, heldOut: 18_578, catalog: 17_632 });
  });

  it('P3 Instacart sample', () => {
    const data = instacartSample();
    expect(data.nBaskets).toBe(3_214);
    const s = basketCompletion(data, 42);
    expect(s.stats).toMatchObject({ trainBaskets: 2_571, catalog: 8_195, trainBasketNonzeros: 25_712, testBaskets: 643, queries: 546, heldOut: 3_325 });
    expect(s.testBasketIds.slice(0, 5)).toEqual(['850594', '3113894', '2640749', '3053447', '605930']);
  });

  it('P4 on the Instacart sample: users with >= 3 orders', () => {
    const data = instacartSample();
    const s = nextBasket(data);
    let withThree = 0;
    for (let u = 0; u < data.nUsers; u++) if (data.baskets.userPtr[u + 1] - data.baskets.userPtr[u] >= 3) withThree++;
    expect(s.stats.queries).toBe(withThree);
    expect(s.stats.trainBaskets).toBe(3_214 - withThree);
  });
});
