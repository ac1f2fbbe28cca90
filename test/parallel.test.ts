import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetFromInstacart } from '../src/data/instacart';
import { CsrMatrix } from '../src/data/csr';
import type { Dataset } from '../src/data/dataset';
import { generateGrocery } from '../src/data/synthetic';
import { AbortedError, DataError, HybridrecError, OptionError } from '../src/errors';
import { WorkerPool } from '../src/node/pool';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { ALS } from '../src/strategies/als';
import { alternate } from '../src/strategies/als/solve';
import { ItemKNN } from '../src/strategies/item-knn';
import { mineItemsets, type Transactions } from '../src/strategies/association-rules';
import { cooccurrence, type PairMeasure } from '../src/util/cooccurrence';
import { defaultExecutor, evenRanges, inlineExecutor, rangesByCost, resolveThreads, runKernel, setDefaultExecutor } from '../src/util/parallel';
import { mulberry32 } from '../src/util/random';
import { failingKernel, spinKernel } from './pool-test-kernels';

const root = fileURLToPath(new URL('..', import.meta.url));
const pool = new WorkerPool({ threads: 2, modules: [new URL('./pool-test-kernels.ts', import.meta.url)] });
setDefaultExecutor(pool);
afterAll(async () => {
  setDefaultExecutor(null);
  await pool.close();
});

/** One synthetic shop (8000 users x 800 products) for every fit test here: generating it takes longer than the fits. */
let shop: Dataset | null = null;
const sharedShop = (): Dataset => (shop ??= datasetFromInstacart(generateGrocery({ users: 8000, products: 800, seed: 5 })).dataset);

/** Rows of ~perRow items drawn with a popularity skew, weights 1..4: about nRows * perRow^2 multiply-adds. */
function skewedMatrix(seed: number, nRows: number, nItems: number, perRow: number): CsrMatrix {
  const rng = mulberry32(seed);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let k = 0; k < perRow; k++) {
      rows.push(r);
      cols.push(Math.floor(rng() ** 2 * nItems));
      vals.push(1 + Math.floor(rng() * 4));
    }
  }
  return CsrMatrix.fromCoo(nRows, nItems, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals));
}

function expectIdentical(a: CsrMatrix, b: CsrMatrix): void {
  expect(b.nRows).toBe(a.nRows);
  expect(Buffer.from(b.indptr.buffer, b.indptr.byteOffset, b.indptr.byteLength).equals(Buffer.from(a.indptr.buffer, a.indptr.byteOffset, a.indptr.byteLength))).toBe(true);
  expect(Buffer.from(b.indices.buffer, b.indices.byteOffset, b.indices.byteLength).equals(Buffer.from(a.indices.buffer, a.indices.byteOffset, a.indices.byteLength))).toBe(true);
  expect(Buffer.from(b.values.buffer, b.values.byteOffset, b.values.byteLength).equals(Buffer.from(a.values.buffer, a.values.byteOffset, a.values.byteLength))).toBe(true);
}

describe('ranges', () => {
  it('cuts by cost from the data alone, every range non-empty', () => {
    expect(Array.from(rangesByCost(6, 10, (u) => [4, 4, 4, 30, 1, 1][u]))).toEqual([0, 3, 4, 6]);
    expect(Array.from(rangesByCost(0, 10, () => 1))).toEqual([0]);
    // Tapered: full budgets of 4 while more than 2 budgets are left, then half of what is left, down to 4 / 2.
    expect(Array.from(rangesByCost(20, 4, () => 1, 2))).toEqual([0, 4, 8, 12, 16, 18, 20]);
    expect(Array.from(rangesByCost(6, 10, (u) => [4, 4, 4, 30, 1, 1][u], 1))).toEqual([0, 3, 4, 6]);
    expect(Array.from(evenRanges(10, 3))).toEqual([0, 3, 6, 10]);
    expect(Array.from(evenRanges(2, 5))).toEqual([0, 1, 2]);
  });

  it('checks threads and defaults to the installed executor', () => {
    expect(resolveThreads(undefined)).toBe(2);
    expect(resolveThreads(3)).toBe(3);
    for (const bad of [0, 1.5, -1, NaN, '2']) expect(() => resolveThreads(bad)).toThrow(OptionError);
    expect(defaultExecutor()).toBe(pool);
    expect(inlineExecutor.threads).toBe(1);
  });
});

describe('WorkerPool', () => {
  it('gives bit-identical co-occurrence on 1, 2 and 3 threads for every measure', async () => {
    // ~12M multiply-adds: at least 3 ranges per pair job (asserted), so 2 and 3 threads really split the work.
    const m = skewedMatrix(11, 6_000, 2_000, 64);
    const support = new Int32Array(m.nCols);
    for (let p = 0; p < m.nnz; p++) support[m.indices[p]]++;
    const norms = new Float64Array(m.nCols);
    for (let p = 0; p < m.nnz; p++) norms[m.indices[p]] += m.values[p] * m.values[p];
    for (let i = 0; i < norms.length; i++) norms[i] = Math.sqrt(norms[i]);
    const cases: Array<{ binary: boolean; minCount: number; measure: PairMeasure }> = [
      { binary: false, minCount: 2, measure: { kind: 'cosine', norms, shrink: 10 } },
      { binary: true, minCount: 2, measure: { kind: 'log-lift', support, rows: m.nRows } },
      { binary: true, minCount: 1, measure: { kind: 'ochiai', support } },
    ];
    const rangesPerJob: number[] = [];
    setDefaultExecutor({ threads: 2, run: (kernel, input, bounds, options) => (rangesPerJob.push(bounds.length - 1), pool.run(kernel, input, bounds, options)) });
    for (const c of cases) {
      const one = await cooccurrence(m, { ...c, topN: 50, threads: 1 });
      expect(one.nnz).toBeGreaterThan(50_000);
      for (const threads of [2, 3]) expectIdentical(one, await cooccurrence(m, { ...c, topN: 50, threads }));
    }
    setDefaultExecutor(pool);
    // Per multi-thread run, the column counts and the column scatter (one range per thread each), the pairs and the heaps' rows (one range per thread).
    expect(rangesPerJob.length).toBe(24);
    for (let j = 2; j < rangesPerJob.length; j += 4) expect(rangesPerJob[j]).toBeGreaterThanOrEqual(3);
    expect(pool.size).toBe(3);
  });

  it('cuts a matrix without pairs, or without entries, into one range per thread, not one per item', async () => {
    // 40 rows of one item each: no entries after any item, so no pairs and empty heaps; then no entries at all.
    const lonely = CsrMatrix.fromCoo(40, 40, Int32Array.from({ length: 40 }, (_, r) => r), Int32Array.from({ length: 40 }, (_, r) => r), new Float32Array(40).fill(1));
    const empty = new CsrMatrix(40, 40, new Int32Array(41), new Int32Array(0), new Float32Array(0));
    const rangesPerJob: number[] = [];
    setDefaultExecutor({ threads: 2, run: (kernel, input, bounds, options) => (rangesPerJob.push(bounds.length - 1), pool.run(kernel, input, bounds, options)) });
    for (const m of [lonely, empty]) {
      const result = await cooccurrence(m, { topN: 5, threads: 2 });
      expect(result.nnz).toBe(0);
      expect(Array.from(result.indptr)).toEqual(new Array(41).fill(0));
    }
    setDefaultExecutor(pool);
    // Jobs of one range run inline and are not counted here; the others have one range per thread.
    expect(rangesPerJob.length).toBeGreaterThan(0);
    expect(Math.max(...rangesPerJob)).toBe(2);
  });

  it('names the first bad weight whatever the thread count', async () => {
    // One bad weight in each thread's half of the entries (the counting pass cuts them by thread): every count names the first.
    const m = skewedMatrix(5, 400, 50, 8);
    const values = Float32Array.from(m.values);
    values[10] = -1;
    values[m.nnz - 5] = Infinity;
    const bad = new CsrMatrix(m.nRows, m.nCols, m.indptr, m.indices, values);
    let row = 0;
    while (m.indptr[row + 1] <= 10) row++;
    for (const threads of [1, 2, 3]) {
      const error = await cooccurrence(bad, { threads }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toContain(`got -1 at row ${row}, column ${m.indices[10]}`);
    }
  });

  it('fits ItemKNN and CoPurchaseGraph to the same bytes whatever the thread count', async () => {
    const data = sharedShop();
    // Every job must split into several ranges, or the pool would not be tested.
    const rangesPerJob: number[] = [];
    setDefaultExecutor({ threads: 2, run: (kernel, input, bounds, options) => (rangesPerJob.push(bounds.length - 1), pool.run(kernel, input, bounds, options)) });
    const knn = async (threads: number) => {
      const model = new ItemKNN();
      await model.fit(data, { threads });
      return model.neighborMatrix;
    };
    const reference = await knn(1);
    expectIdentical(reference, await knn(2));
    expectIdentical(reference, await knn(3));
    const graphs: Uint8Array[] = [];
    for (const threads of [1, 2]) {
      const graph = new CoPurchaseGraph();
      await graph.fit(data, { threads });
      const sections: Uint8Array[] = [];
      graph.save({ array: (_name: string, a: ArrayBufferView) => sections.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) } as never);
      graphs.push(Buffer.concat(sections));
    }
    expect(Buffer.from(graphs[1]).equals(Buffer.from(graphs[0]))).toBe(true);
    setDefaultExecutor(pool);
    // Four jobs per multi-thread fit: the column counts, the column scatter, the pairs, then the heaps' rows.
    expect(rangesPerJob.length).toBe(12);
    expect(Math.min(...rangesPerJob)).toBeGreaterThan(1);
  });

  it('mines the same itemsets on 1, 2 and 3 threads, by triangle and by occurrence lists', async () => {
    // 60k baskets of ~16 items over 400 products with a popularity skew: ~8M pair increments.
    const rng = mulberry32(9);
    const ptr = [0];
    const items: number[] = [];
    for (let t = 0; t < 60_000; t++) {
      const n = 4 + Math.floor(rng() * 24);
      for (let k = 0; k < n; k++) items.push(Math.floor(rng() ** 1.5 * 400));
      ptr.push(items.length);
    }
    const tx: Transactions = { ptr: Int32Array.from(ptr), items: Int32Array.from(items), nItems: 400 };
    const rangesPerJob: number[] = [];
    setDefaultExecutor({ threads: 2, run: (kernel, input, bounds, options) => (rangesPerJob.push(bounds.length - 1), pool.run(kernel, input, bounds, options)) });
    for (const pairCounters of [undefined, 0]) {
      const one = (await mineItemsets(tx, { minCount: 300, maxLength: 2, pairCounters, threads: 1 })).toArrays();
      expect(one.count.length).toBeGreaterThan(1000);
      for (const threads of [2, 3]) expect((await mineItemsets(tx, { minCount: 300, maxLength: 2, pairCounters, threads })).toArrays()).toEqual(one);
    }
    setDefaultExecutor(pool);
    expect(rangesPerJob.length).toBe(4);
    expect(Math.min(...rangesPerJob)).toBeGreaterThan(1);
  });

  it('fits ALS to the same factors on 1 and 2 threads, on the SIMD and the typed-array paths, and stops mid-fit on abort', async () => {
    const data = sharedShop();
    const rangesPerJob: number[] = [];
    setDefaultExecutor({ threads: 2, run: (kernel, input, bounds, options) => (rangesPerJob.push(bounds.length - 1), pool.run(kernel, input, bounds, options)) });
    const fit = async (threads: number) => {
      const model = new ALS({ factors: 24, iterations: 2 });
      await model.fit(data, { threads, seed: 3 });
      expect(model.fitSolver).toBe('simd');
      return Buffer.concat([Buffer.from(model.userFactors!.buffer), Buffer.from(model.itemFactors.buffer)]);
    };
    const one = await fit(1);
    expect((await fit(2)).equals(one)).toBe(true);
    // The 2-thread fit's two confidence jobs and its row solves (its Gram jobs are one block each, run inline), each split into several ranges.
    expect(rangesPerJob.length).toBe(6);
    expect(Math.min(...rangesPerJob)).toBeGreaterThan(1);
    // The typed-array path (browsers without WebAssembly SIMD) on the pool.
    const conf = data.interactions;
    const confT = conf.transpose();
    const f = 6;
    const init = (n: number, seed: number) => Float32Array.from({ length: n * f }, mulberry32(seed));
    const factors = async (threads: number) => {
      const x = init(conf.nRows, 1);
      const y = init(conf.nCols, 2);
      const settings = { f, regularization: 1, cgSteps: 3, iterations: 2, threads, stage: 'test', simd: false, onIteration: () => {} };
      expect(await alternate(conf, confT, x, y, settings)).toBe('js');
      return Buffer.concat([Buffer.from(x.buffer), Buffer.from(y.buffer)]);
    };
    expect((await factors(2)).equals(await factors(1))).toBe(true);
    setDefaultExecutor(pool);

    // The same shop with 256 factors: every half-step is dozens of row-solve ranges.
    const controller = new AbortController();
    const slow = new ALS({ factors: 256, iterations: 100 });
    const iterations: number[] = [];
    const run = slow.fit(data, {
      threads: 2,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage !== 'ALS' || p.done === 0) return;
        iterations.push(p.done);
        if (p.done === 1) setTimeout(() => controller.abort(), 5);
      },
    });
    await expect(run).rejects.toThrow(AbortedError);
    // Aborted inside the second iteration (its half-steps are dozens of ranges), by the ranges not yet started.
    expect(iterations).toEqual([1]);
    expect(slow.fitted).toBe(false);
  });

  it('rejects with the kernel\'s own typed error, fields and worker stack', async () => {
    const run = runKernel(failingKernel, { badUnit: 25 }, Int32Array.from([0, 10, 20, 30, 40]), { threads: 2, stage: 'test' });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ name: 'DataError', file: 'orders.csv', line: 27, field: 'quantity' });
    expect((error as Error).message).toBe('bad unit 25 (file orders.csv, line 27, field "quantity")');
    expect((error as Error).stack).toContain('pool-test-kernels');
    // The pool keeps working after a failed job.
    expect(await runKernel(failingKernel, { badUnit: -1 }, Int32Array.from([0, 10, 20, 30]), { threads: 2, stage: 'test' })).toEqual([10, 10, 10]);
  });

  it('stops a job mid-run when the signal fires from a timer', async () => {
    const controller = new AbortController();
    const bounds = Int32Array.from({ length: 201 }, (_, r) => r);
    let done = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Once the first ranges are done (the workers may still be starting), abort 60 ms later.
    const onProgress = (p: { done: number }) => {
      done = p.done;
      if (done > 0) timer ??= setTimeout(() => controller.abort(), 60);
    };
    const run = runKernel(spinKernel, { ms: 20 }, bounds, { threads: 2, signal: controller.signal, stage: 'spin', onProgress });
    await expect(run).rejects.toThrow(AbortedError);
    // 200 ranges of 20 ms on 2 threads take 2 s; the abort came after a handful of them.
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(200);
    const controller2 = new AbortController();
    setTimeout(() => controller2.abort(), 50);
    const m = skewedMatrix(3, 20_000, 3_000, 64);
    await expect(cooccurrence(m, { threads: 2, signal: controller2.signal })).rejects.toThrow(AbortedError);
    // Ranges still running when the signal fired are dropped; the next job runs normally.
    expect(await runKernel(spinKernel, { ms: 1 }, Int32Array.from([0, 1, 2, 3]), { threads: 2, stage: 'spin' })).toEqual([0, 1, 2]);
  });

  it('rejects running jobs on close and starts workers again when used after', async () => {
    const run = runKernel(spinKernel, { ms: 20 }, Int32Array.from({ length: 51 }, (_, r) => r), { threads: 2, stage: 'spin' });
    const failure = run.catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await pool.close();
    expect(await failure).toBeInstanceOf(HybridrecError);
    expect(pool.size).toBe(0);
    expect(await runKernel(spinKernel, { ms: 1 }, Int32Array.from([0, 5, 9]), { threads: 2, stage: 'spin' })).toEqual([0, 5]);
    expect(pool.size).toBe(2);
  });

  it('lets idle workers go after idleTimeout, keeps them with Infinity, and checks the option', async () => {
    const brief = new WorkerPool({ threads: 1, idleTimeout: 50, modules: [new URL('./pool-test-kernels.ts', import.meta.url)] });
    // Infinity is past what setTimeout honours (it would fire at once): no timer at all.
    const kept = new WorkerPool({ threads: 1, idleTimeout: Infinity, modules: [new URL('./pool-test-kernels.ts', import.meta.url)] });
    const job = Int32Array.from([0, 1, 2]);
    // Each pool's size read as its job resolves: the brief pool's timer may fire before the other's worker has started.
    const sizes = await Promise.all([brief, kept].map((p) => p.run(spinKernel, { ms: 1 }, job, { stage: 'spin' }).then(() => p.size)));
    expect(sizes).toEqual([1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect([brief.size, kept.size]).toEqual([0, 1]);
    await kept.close();
    for (const idleTimeout of [-1, NaN, '5' as unknown as number]) expect(() => new WorkerPool({ idleTimeout })).toThrow(HybridrecError);
  });

  it('names a kernel no worker knows', async () => {
    const stray = { name: 'test.unknown', run: () => 0 };
    await expect(runKernel(stray, {}, Int32Array.from([0, 1, 2]), { threads: 2, stage: 'x' })).rejects.toThrow(/no pool kernel "test.unknown"/);
  });

  it('is installed by the Node entry and never keeps the process alive: a script that leaves it open exits by itself', async () => {
    // Started as `node --input-type=module -e`, an option workers must not inherit.
    const script = `await import(${JSON.stringify(new URL('./pool-exit-fixture.ts', import.meta.url).href)});`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, timeout: 60_000 });
    // The job has three ranges: it starts one worker per range up to the core count.
    expect(stdout).toContain(`pool true threads ${availableParallelism()} workers ${Math.min(3, availableParallelism())}`);
  });
});
