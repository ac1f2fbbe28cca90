import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/errors';
import { evaluate, type IndexRanker } from '../src/eval/evaluate';
import { ndcgAtK, ndcgFullAtK } from '../src/eval/metrics';
import { nextBasketFixed, type NbrJson } from '../src/eval/splits';
import { loadNbrJson } from '../src/node/tafeng';

const nbr: NbrJson = {
  history: { '1': [[-1], [10, 11], [11, 12], [-1]], '2': [[-1], [12], [-1]], '3': [[-1], [10], [13], [-1]] },
  future: { '1': [[-1], [11, 99], [-1]], '2': [[-1], [10, 12], [-1]], '3': [[-1], [13], [-1]] },
  keyset: { train: ['1', '2', '3'], val: ['3'], test: ['1', '2'] },
  files: { history: 'h.json', future: 'f.json', keyset: 'k.json' },
};

describe('nextBasketFixed (P6)', () => {
  it('trains on every history, queries the keyset users, and keeps never-seen items in T', () => {
    const { test, val } = nextBasketFixed(nbr);
    expect(test.stats).toMatchObject({ users: 3, trainBaskets: 5, trainBasketNonzeros: 7, catalog: 4, queries: 2, heldOut: 4, heldOutUnseen: 1 });
    expect(val.queries.map((q) => q.id)).toEqual(['3']);
    expect(val.train).toBe(test.train);
    const items = test.train.items;
    const q1 = test.queries[0];
    expect(Array.from(q1.target, (i) => items.id(i))).toEqual(['11', '99']);
    expect(Array.from(q1.repeat!)).toEqual([1, 0]);
    expect(test.candidates![items.indexOf('99')]).toBe(0);
    // Baskets keep their order: user 1's timeline is [10, 11], [11, 12].
    const u = test.train.users.indexOf('1');
    const { userPtr, itemPtr, items: lines } = test.train.baskets;
    expect(Array.from(lines.subarray(itemPtr[userPtr[u]], itemPtr[userPtr[u] + 1]), (i) => items.id(i))).toEqual(['10', '11']);
  });

  it('reports NDCG-full and the repeat share', async () => {
    const { test } = nextBasketFixed(nbr);
    const items = test.train.items;
    // Always recommend 11 then 12: user 1 hits 11 at rank 1 (T = {11, 99}); user 2 hits 12 at rank 2 (T = {10, 12}).
    const ranker: IndexRanker = { rankIndices: () => Int32Array.of(items.indexOf('11'), items.indexOf('12')) };
    const r = await evaluate(ranker, test, { k: 2 });
    expect(r.ndcgFull).toBeCloseTo((1 / (1 + 1 / Math.log2(3)) + 1 / Math.log2(3) / (1 + 1 / Math.log2(3))) / 2, 10);
    // User 1 bought 11 and 12 (2 of 2 slots), user 2 only 12 (1 of 2).
    expect(r.repeatShare).toBeCloseTo((1 + 0.5) / 2, 10);
    const t = new Set([1, 2, 3]);
    expect(ndcgFullAtK(Int32Array.of(1), t, 1)).toBeCloseTo(1 / (1 + 1 / Math.log2(3) + 0.5), 10);
    expect(ndcgAtK(Int32Array.of(1), t, 1)).toBe(1);
  });

  it('reads the json(.gz) files and names the file and user of bad data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nbr-'));
    try {
      await writeFile(join(dir, 'x_history.json.gz'), gzipSync(JSON.stringify(nbr.history)));
      await writeFile(join(dir, 'x_future.json'), JSON.stringify(nbr.future));
      await writeFile(join(dir, 'x_keyset.json'), JSON.stringify({ item_num: 100, ...nbr.keyset }));
      const loaded = await loadNbrJson(dir, 'x');
      expect(nextBasketFixed(loaded).test.stats.heldOut).toBe(4);
      const bad = { ...loaded, history: { ...loaded.history, '2': [[-1], ['x'], [-1]] as unknown as number[][] } };
      expect(() => nextBasketFixed(bad)).toThrow(DataError);
      expect(() => nextBasketFixed(bad)).toThrow(/x_history\.json\.gz.*"2"/);
      await writeFile(join(dir, 'x_keyset.json'), '{"train": [');
      await expect(loadNbrJson(dir, 'x')).rejects.toThrow(DataError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
