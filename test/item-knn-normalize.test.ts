import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import type { CsrMatrix } from '../src/data/csr';
import { OptionError } from '../src/errors';
import { ItemKNN, type ItemKNNOptions } from '../src/strategies/item-knn';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { basketsDataset } from './fixtures';

/** 40 users over 15 items, skewed toward low items (so row sums differ a lot), 1-3 buys each. */
function randomShop(seed: number) {
  const rng = mulberry32(seed);
  const users: Record<string, string[][]> = {};
  for (let u = 0; u < 40; u++) {
    const baskets: string[][] = [];
    for (let b = 0; b < 1 + Math.floor(rng() * 3); b++) {
      const basket = new Set<string>();
      for (let n = 0; n < 1 + Math.floor(rng() * 4); n++) basket.add(`i${Math.floor(15 * rng() * rng())}`);
      baskets.push([...basket]);
    }
    users[`u${u}`] = baskets;
  }
  return basketsDataset(users, { extraItems: Array.from({ length: 15 }, (_, i) => `i${i}`) });
}

function rows(m: CsrMatrix): Array<Map<number, number>> {
  return Array.from({ length: m.nRows }, (_, i) => {
    const row = new Map<number, number>();
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) row.set(m.indices[p], m.values[p]);
    return row;
  });
}

describe('ItemKNN normalizeRows', () => {
  it('divides each kept row by its sum, after the top k, for cosine and rp3beta', async () => {
    const data = randomShop(11);
    let compared = 0;
    const settings: Array<Partial<ItemKNNOptions>> = [
      { similarity: 'cosine', neighbors: 4 },
      { similarity: 'cosine', neighbors: 14, weighting: 'bm25' },
      { similarity: 'rp3beta', alpha: 0, beta: 0.5, neighbors: 5 },
      { similarity: 'rp3beta', alpha: 0.8, beta: 0.3, neighbors: 3, weighting: 'count' },
    ];
    for (const options of settings) {
      // The un-normalized fit is checked against brute force in item-knn(-rp3beta).test.ts: the known answer is its rows over their sums.
      const plain = new ItemKNN(options);
      const normalized = new ItemKNN({ ...options, normalizeRows: true });
      await plain.fit(data, { threads: 1 });
      await normalized.fit(data, { threads: 1 });
      const want = rows(plain.neighborMatrix);
      const got = rows(normalized.neighborMatrix);
      let unequalSums = 0;
      for (let i = 0; i < want.length; i++) {
        expect([...got[i].keys()]).toEqual([...want[i].keys()]);
        const sum = [...want[i].values()].reduce((a, b) => a + b, 0);
        if (want[i].size > 0 && Math.abs(sum - 1) > 1e-3) unequalSums++;
        for (const [j, v] of want[i]) {
          expect(got[i].get(j)!).toBeCloseTo(v / sum, 6);
          compared++;
        }
        if (got[i].size > 0) expect([...got[i].values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
      // The rows did not already sum to 1, so the option had something to do.
      expect(unequalSums, JSON.stringify(options)).toBeGreaterThan(3);
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('round-trips through the artifact, and an older artifact loads without it', async () => {
    const data = randomShop(12);
    const knn = new ItemKNN({ similarity: 'rp3beta', alpha: 0.1, beta: 0.5, neighbors: 4, normalizeRows: true });
    await knn.fit(data);
    const w = new ArtifactWriter();
    const state = knn.save(w.scope('x'));
    const back = ItemKNN.load(ArtifactReader.open(w.toBytes(state)).root as JsonObject, ArtifactReader.open(w.toBytes(state)).scope('x'));
    expect(back.options.normalizeRows).toBe(true);
    for (const q of [userQuery(data, 0), userQuery(data, 9), anonymousQuery([1, 2], [3])]) {
      const a = new ScoreVector(data.nItems);
      const b = new ScoreVector(data.nItems);
      knn.score(q, a);
      back.score(q, b);
      expect(b.values).toEqual(a.values);
    }
    const options = { ...(state.options as JsonObject) };
    delete options.normalizeRows;
    const old = ArtifactReader.open(w.toBytes({ ...state, options }));
    expect(ItemKNN.load(old.root as JsonObject, old.scope('x')).options.normalizeRows).toBe(false);
  });

  it('rejects a non-boolean normalizeRows', () => {
    for (const normalizeRows of ['yes', 1, null]) expect(() => new ItemKNN({ normalizeRows: normalizeRows as never })).toThrow(OptionError);
  });
});
