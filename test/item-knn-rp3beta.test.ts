import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { CsrMatrix } from '../src/data/csr';
import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { OptionError } from '../src/errors';
import { WorkerPool } from '../src/node/pool';
import { ItemKNN, type ItemKNNOptions } from '../src/strategies/item-knn';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject } from '../src/strategies/types';
import { cooccurrence } from '../src/util/cooccurrence';
import { setDefaultExecutor } from '../src/util/parallel';
import { mulberry32 } from '../src/util/random';
import { basketsDataset } from './fixtures';

const pool = new WorkerPool({ threads: 2 });
afterAll(async () => {
  setDefaultExecutor(null);
  await pool.close();
});

/** 30 users over 12 items, skewed toward low items, each user buying an item 1-3 times. */
function randomShop(seed: number) {
  const rng = mulberry32(seed);
  const users: Record<string, string[][]> = {};
  for (let u = 0; u < 30; u++) {
    const baskets: string[][] = [];
    for (let b = 0; b < 1 + Math.floor(rng() * 3); b++) {
      const basket = new Set<string>();
      for (let n = 0; n < 1 + Math.floor(rng() * 4); n++) basket.add(`i${Math.floor(12 * rng() * rng())}`);
      baskets.push([...basket]);
    }
    users[`u${u}`] = baskets;
  }
  return basketsDataset(users, { extraItems: Array.from({ length: 12 }, (_, i) => `i${i}`) });
}

/**
 * RP3beta straight from its definition, in float64 on a dense matrix: the row-stochastic
 * transitions item -> user and user -> item of the weighted graph, each raised to alpha,
 * multiplied, each column j divided by its buyer count to the beta, then the top k of each
 * row (ties to the lower item), the diagonal left out.
 */
function bruteForce(x: number[][], alpha: number, beta: number, k: number): Array<Map<number, number>> {
  const nUsers = x.length;
  const nItems = x[0].length;
  const du = x.map((row) => row.reduce((a, b) => a + b, 0));
  const di = Array.from({ length: nItems }, (_, i) => x.reduce((a, row) => a + row[i], 0));
  const ni = Array.from({ length: nItems }, (_, i) => x.reduce((a, row) => a + (row[i] > 0 ? 1 : 0), 0));
  const out: Array<Map<number, number>> = [];
  for (let i = 0; i < nItems; i++) {
    const row: Array<[number, number]> = [];
    for (let j = 0; j < nItems; j++) {
      if (j === i) continue;
      let s = 0;
      for (let u = 0; u < nUsers; u++) if (x[u][i] > 0 && x[u][j] > 0) s += (x[u][i] / di[i]) ** alpha * (x[u][j] / du[u]) ** alpha;
      if (s > 0) row.push([j, s / ni[j] ** beta]);
    }
    row.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    out.push(new Map(row.slice(0, k)));
  }
  return out;
}

/** The weighted matrix ItemKNN builds for `weighting` (binary: 1, count: the count), dense. */
function dense(m: CsrMatrix, weighting: 'binary' | 'count'): number[][] {
  const x = Array.from({ length: m.nRows }, () => new Array<number>(m.nCols).fill(0));
  for (let u = 0; u < m.nRows; u++) for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) x[u][m.indices[p]] = weighting === 'binary' ? 1 : m.values[p];
  return x;
}

function rows(m: CsrMatrix): Array<Map<number, number>> {
  return Array.from({ length: m.nRows }, (_, i) => {
    const row = new Map<number, number>();
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) row.set(m.indices[p], m.values[p]);
    return row;
  });
}

describe('ItemKNN similarity rp3beta', () => {
  it('equals brute-force RP3beta on binary and weighted counts, top k and all', async () => {
    const data = randomShop(3);
    // The counts must vary, or 'count' would test nothing beyond 'binary'.
    expect(new Set(data.interactions.values).size).toBeGreaterThan(1);
    let compared = 0;
    for (const weighting of ['binary', 'count'] as const) {
      for (const [alpha, beta, k] of [
        [1, 0, 11],
        [1, 0.5, 11],
        [0.7, 0.3, 3],
        [1.6, 1.2, 4],
      ]) {
        const knn = new ItemKNN({ similarity: 'rp3beta', weighting, alpha, beta, neighbors: k });
        await knn.fit(data, { threads: 1 });
        const expected = bruteForce(dense(data.interactions, weighting), alpha, beta, k);
        const got = rows(knn.neighborMatrix);
        for (let i = 0; i < expected.length; i++) {
          expect([...got[i].keys()].sort((a, b) => a - b)).toEqual([...expected[i].keys()].sort((a, b) => a - b));
          for (const [j, v] of expected[i]) {
            expect(Math.abs(got[i].get(j)! - v) / v).toBeLessThan(1e-5);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('is not symmetric, and beta demotes popular neighbours', async () => {
    const data = randomShop(3);
    const plain = new ItemKNN({ similarity: 'rp3beta', weighting: 'binary', beta: 0, neighbors: 11 });
    const damped = new ItemKNN({ similarity: 'rp3beta', weighting: 'binary', beta: 1, neighbors: 11 });
    await plain.fit(data);
    await damped.fit(data);
    const w = plain.neighborMatrix;
    let asymmetric = 0;
    for (let i = 0; i < w.nRows; i++) for (let p = w.indptr[i]; p < w.indptr[i + 1]; p++) if (Math.abs(w.get(w.indices[p], i) - w.values[p]) > 1e-6) asymmetric++;
    expect(asymmetric).toBeGreaterThan(10);
    // Item 0 is the most bought (draws skew low): with beta 1 it falls in its neighbours' rankings.
    const rank = (m: ItemKNN, i: number) => Array.from(m.similarItems(i, 11).items).indexOf(0);
    let fell = 0;
    for (let i = 1; i < w.nRows; i++) if (rank(damped, i) > rank(plain, i)) fell++;
    expect(fell).toBeGreaterThan(3);
  });

  it('ranks by the symmetric measure as the kernel does: product factors keep the right top k', async () => {
    // The 'product' measure itself against its formula, v f(i) f(j), on a hand-made matrix.
    const m = CsrMatrix.fromCoo(3, 3, Int32Array.of(0, 0, 1, 1, 1, 2, 2), Int32Array.of(0, 1, 0, 1, 2, 1, 2), Float32Array.of(1, 2, 3, 1, 2, 2, 1));
    const factors = Float64Array.of(0.5, 2, 0.25);
    const c = await cooccurrence(m, { measure: { kind: 'product', factors } });
    expect(c.get(0, 1)).toBeCloseTo((1 * 2 + 3 * 1) * 0.5 * 2, 6);
    expect(c.get(1, 2)).toBeCloseTo((1 * 2 + 2 * 1) * 2 * 0.25, 6);
    expect(c.get(0, 2)).toBeCloseTo(3 * 2 * 0.5 * 0.25, 6);
    expect(c.get(2, 0)).toBe(c.get(0, 2));
    await expect(cooccurrence(m, { measure: { kind: 'product', factors: new Float64Array(2) } })).rejects.toThrow(/measure\.factors/);
  });

  it('round-trips through the artifact with identical scores and explanations', async () => {
    const data = randomShop(5);
    const knn = new ItemKNN({ similarity: 'rp3beta', alpha: 0.8, beta: 0.4, neighbors: 4, weighting: 'count' });
    await knn.fit(data);
    const w = new ArtifactWriter();
    const state = knn.save(w.scope('x'));
    const r = ArtifactReader.open(w.toBytes(state));
    const back = ItemKNN.load(r.root as JsonObject, r.scope('x'));
    expect(back.options).toEqual(knn.options);
    let explained = 0;
    for (const q of [userQuery(data, 0), userQuery(data, 7), anonymousQuery([1, 2], [3])]) {
      const a = new ScoreVector(data.nItems);
      const b = new ScoreVector(data.nItems);
      knn.score(q, a);
      back.score(q, b);
      expect(b.values).toEqual(a.values);
      for (let t = 0; t < a.length; t++) {
        const item = a.at(t);
        const e = knn.explain(q, item, String);
        expect(back.explain(q, item, String)).toEqual(e);
        expect(e!.score).toBeCloseTo(a.values[item], 5);
        explained++;
      }
    }
    expect(explained).toBeGreaterThan(5);
  });

  it('reads an artifact written before rp3beta as cosine', async () => {
    const data = randomShop(5);
    const knn = new ItemKNN({ neighbors: 4 });
    await knn.fit(data);
    const w = new ArtifactWriter();
    const state = knn.save(w.scope('x'));
    const options = { ...(state.options as JsonObject) };
    delete options.similarity;
    delete options.alpha;
    delete options.beta;
    const r = ArtifactReader.open(w.toBytes({ ...state, options }));
    expect(ItemKNN.load(r.root as JsonObject, r.scope('x')).options).toEqual(knn.options);
  });

  it('fits the same bytes on 1 and 2 threads', async () => {
    const data = datasetFromInstacart(generateGrocery({ users: 6000, products: 600, seed: 9 })).dataset;
    const rangesPerJob: number[] = [];
    setDefaultExecutor({ threads: 2, run: (kernel, input, bounds, options) => (rangesPerJob.push(bounds.length - 1), pool.run(kernel, input, bounds, options)) });
    const fit = async (threads: number) => {
      const model = new ItemKNN({ similarity: 'rp3beta', alpha: 0.9, beta: 0.3, weighting: 'log1p' });
      await model.fit(data, { threads });
      return model.neighborMatrix;
    };
    const one = await fit(1);
    const two = await fit(2);
    expect(one.nnz).toBeGreaterThan(10_000);
    expect(Buffer.from(two.indices.buffer).equals(Buffer.from(one.indices.buffer))).toBe(true);
    expect(Buffer.from(two.values.buffer).equals(Buffer.from(one.values.buffer))).toBe(true);
    expect(Buffer.from(two.indptr.buffer).equals(Buffer.from(one.indptr.buffer))).toBe(true);
    // The 2-thread fit really split the work.
    expect(Math.min(...rangesPerJob)).toBeGreaterThan(1);
  });

  it('rejects bad similarity options', () => {
    const bad: Array<Partial<ItemKNNOptions>> = [
      { similarity: 'jaccard' as never },
      { alpha: -0.1 },
      { alpha: 2.5 },
      { alpha: NaN },
      { beta: -1 },
      { beta: Infinity },
    ];
    for (const options of bad) expect(() => new ItemKNN(options), JSON.stringify(options)).toThrow(OptionError);
  });
});
