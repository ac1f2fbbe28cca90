/**
 * NeuralCF speed: training throughput per tfjs backend, fit time at 100k users x 20k items,
 * and per-query scoring latency.
 *
 *   npx tsx benchmarks/ncf-backends.ts [--quick] [--skip-cpu] [--skip-fit] [--neumf-epochs=N]
 *
 * 1. Throughput (examples/s) of a GMF dot model at 5k x 2k and 100k x 20k on 'cpu' and 'wasm',
 *    for NeuralCF's trainer (sparse rows + lazy Adam in JS, tfjs for the batch maths and its
 *    gradients) and for the tfjs-only alternative it replaced (tf.customGrad embedding: gather
 *    forward, scatterND into a dense table gradient, tf.train.adam; median of 10 batches).
 * 2. NeuralCF.fit at defaults on 100k users x 20k items (wall time, per-epoch time): GMF for
 *    the default 10 epochs, NeuMF for --neumf-epochs (default 2) to keep the run short.
 * 3. score() latency p50/p99 over 1,000 known users and 1,000 fold-in (anonymous) queries.
 *
 * Data: the seeded synthetic grocery shop (generateGrocery -> datasetFromInstacart), 5k users x
 * 2k products and 100k users x 20k products (--quick: 20k users).
 */
import type { GradSaveFunc, Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { Dataset } from '../src/data/dataset';
import { NeuralCF, type NeuralCFOptions } from '../src/strategies/neural-cf';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { syntheticDataset } from '../examples/shared';
import { quantile } from './machine';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');

function median(xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/** Examples/s of NeuralCF's trainer over its 2nd epoch (the 1st warms up). */
async function ncfThroughput(data: Dataset, backend: 'cpu' | 'wasm', options: Partial<NeuralCFOptions>): Promise<number> {
  const s = new NeuralCF({ ...options, backend, epochs: 2 });
  const stamps: number[] = [];
  await s.fit(data, { seed: 1, onProgress: () => stamps.push(performance.now()) });
  const examplesPerEpoch = data.interactions.nnz * (1 + (options.negatives ?? 4));
  return examplesPerEpoch / ((stamps[2] - stamps[1]) / 1000);
}

/** The tfjs-only design: table variables, customGrad embedding with a dense scatterND gradient, tf.train.adam. */
async function denseGradThroughput(backend: string, nUsers: number, nItems: number, batch: number, steps: number): Promise<number> {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(backend);
  const f = 32;
  const rng = mulberry32(1);
  const init = (n: number) => Float32Array.from({ length: n * f }, () => 0.1 * (rng() - 0.5));
  const users = tf.variable(tf.tensor2d(init(nUsers), [nUsers, f]));
  const items = tf.variable(tf.tensor2d(init(nItems), [nItems, f]));
  const embed = tf.customGrad((...inputs: Array<Tensor | GradSaveFunc>) => {
    const [table, idx, save] = inputs as [Tensor2D, Tensor1D, GradSaveFunc];
    save([idx]);
    return {
      value: tf.gather(table, idx),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.scatterND(tf.expandDims(saved[0], 1), dy, table.shape), tf.zerosLike(saved[0])],
    };
  });
  const optimizer = tf.train.adam(0.005);
  const times: number[] = [];
  for (let s = 0; s < steps + 1; s++) {
    const u = Int32Array.from({ length: batch }, () => Math.floor(rng() * nUsers));
    const i = Int32Array.from({ length: batch }, () => Math.floor(rng() * nItems));
    const y = Float32Array.from({ length: batch }, (_, k) => (k % 5 === 0 ? 1 : 0));
    const t0 = performance.now();
    const [ut, it, yt] = [tf.tensor1d(u, 'int32'), tf.tensor1d(i, 'int32'), tf.tensor1d(y)];
    const loss = optimizer.minimize(
      () => tf.losses.sigmoidCrossEntropy(yt, tf.sum(tf.mul(embed(users, ut), embed(items, it)), 1)) as Scalar,
      true,
      [users, items],
    )!;
    await loss.data();
    tf.dispose([loss, ut, it, yt]);
    if (s > 0) times.push(performance.now() - t0);
  }
  optimizer.dispose();
  tf.dispose([users, items]);
  return batch / (median(times) / 1000);
}

async function latency(s: NeuralCF, data: Dataset, label: string): Promise<void> {
  const out = new ScoreVector(data.nItems);
  const rng = mulberry32(3);
  const known: number[] = [];
  const folded: number[] = [];
  for (let q = 0; q < 1100; q++) {
    const u = Math.floor(rng() * data.nUsers);
    const query = userQuery(data, u);
    const anon = anonymousQuery(query.history.items.slice(0, 10));
    out.reset();
    let t0 = performance.now();
    s.score(query, out);
    if (q >= 100) known.push(performance.now() - t0);
    out.reset();
    t0 = performance.now();
    s.score(anon, out);
    if (q >= 100) folded.push(performance.now() - t0);
  }
  for (const [what, xs] of [['known user', known], ['fold-in, 10 items', folded]] as const) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(`  ${label} score() ${what}: p50 ${quantile(sorted, 0.5).toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms (1000 queries, ${data.nItems} items)`);
  }
}

async function main(): Promise<void> {
  let t0 = performance.now();
  const small = syntheticDataset(5_000, 2_000);
  const large = syntheticDataset(quick ? 20_000 : 100_000, 20_000);
  console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`data: small ${small.nUsers} x ${small.nItems}, ${small.interactions.nnz} positives; large ${large.nUsers} x ${large.nItems}, ${large.interactions.nnz} positives`);

  console.log('\n1. training throughput, GMF dot model, factors 32, 4 negatives (examples/s over the 2nd epoch)');
  // Epochs of all positives take minutes on cpu (and on wasm at 100k users): those runs keep
  // the first few items of every user, so the tables keep their full size.
  const runs: Array<[string, 'wasm' | 'cpu', Dataset, number[]]> = [
    ['5k x 2k', 'wasm', small, [1024, 4096]],
    [`${large.nUsers / 1000}k x 20k`, 'wasm', firstItems(large, 10), [1024, 4096]],
  ];
  if (!args.has('--skip-cpu')) runs.push(['5k x 2k', 'cpu', firstItems(small, 10), [1024]], [`${large.nUsers / 1000}k x 20k`, 'cpu', firstItems(large, 2), [1024]]);
  for (const [label, backend, data, batchSizes] of runs) {
    for (const batchSize of batchSizes) {
      const rate = await ncfThroughput(data, backend, { batchSize });
      console.log(`  ${backend.padEnd(4)} ${label.padEnd(10)} NeuralCF, ${data.interactions.nnz} positives, batch ${batchSize} (${batchSize * 5} rows): ${Math.round(rate).toLocaleString('en-US')}`);
    }
    const rows = 5120;
    const rate = await denseGradThroughput(backend, data.nUsers, data.nItems, rows, backend === 'cpu' ? 3 : 10);
    console.log(`  ${backend.padEnd(4)} ${label.padEnd(10)} tfjs customGrad embedding + dense-gradient tf.train.adam, ${rows} rows: ${Math.round(rate).toLocaleString('en-US')}`);
  }

  if (!args.has('--skip-fit')) {
    console.log(`\n2. NeuralCF.fit at defaults on ${large.nUsers} x ${large.nItems} (${large.interactions.nnz} positives)`);
    const neumfEpochs = Number([...args].find((a) => a.startsWith('--neumf-epochs='))?.split('=')[1] ?? 2);
    for (const architecture of ['gmf', 'neumf'] as const) {
      const s = new NeuralCF({ architecture, epochs: quick ? 2 : architecture === 'gmf' ? 10 : neumfEpochs });
      const stamps: number[] = [];
      t0 = performance.now();
      await s.fit(large, { seed: 42, onProgress: () => stamps.push(performance.now()) });
      const total = (performance.now() - t0) / 1000;
      const epochs = stamps.slice(1).map((t, k) => (t - stamps[k]) / 1000);
      const mem = process.memoryUsage();
      console.log(
        `  ${architecture}: ${total.toFixed(1)} s on ${s.trainingInfo!.backend} (${epochs.length} epochs, median ${median(epochs).toFixed(1)} s/epoch, final loss ${s.trainingInfo!.loss.at(-1)!.toFixed(4)}; rss ${(mem.rss / 2 ** 20).toFixed(0)} MB)`,
      );
      console.log('\n3. per-query latency');
      await latency(s, large, architecture);
    }
  }
}

/** `data` with only the first `perUser` items of each user (same users and items). */
function firstItems(data: Dataset, perUser: number): Dataset {
  const m = data.interactions;
  const user: number[] = [];
  const item: number[] = [];
  for (let u = 0; u < m.nRows; u++) {
    for (let p = m.indptr[u]; p < Math.min(m.indptr[u + 1], m.indptr[u] + perUser); p++) {
      user.push(u);
      item.push(m.indices[p]);
    }
  }
  return Dataset.fromInteractions({ users: data.users, items: data.items, user: Int32Array.from(user), item: Int32Array.from(item) });
}

await main();
