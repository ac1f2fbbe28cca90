/**
 * How the defaults of ALS, EASE and TIFU-KNN were chosen: small grids scored on validation
 * data only, never on a protocol's test queries.
 * - P1: a temporal holdout of the P1 training rows (each user's latest 20% of train, as P1 does).
 * - P2: a random 20% holdout of each P2 training user's items (holdoutFromMatrix, seed 43).
 * - P3: basket completion on the P3 training baskets (seed 43).
 * - P6: the 5,091 keyset.val users (the split's own validation users).
 *
 *   npx tsx benchmarks/tune-latent.ts P1|P2|P3|P6 als|als-focus|als-weighting|als-bm25|ease|tifuknn [--quick]
 *
 * Prints NDCG@10 (P6: Recall@20) per setting; writes benchmarks/results/tune-<P>-<strategy>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InteractionRows } from '../src/data/interactions';
import { holdoutFromMatrix } from '../src/ensemble/tune';
import { evaluate } from '../src/eval/evaluate';
import { basketCompletion, holdoutTemporal, nextBasketFixed, type Split } from '../src/eval/splits';
import { loadNbrJson } from '../src/node/tafeng';
import { ALS, type ALSOptions } from '../src/strategies/als';
import { EASE, type EASEOptions } from '../src/strategies/ease';
import { TIFUKNN, type TIFUKNNOptions } from '../src/strategies/tifu-knn';
import type { Recommender } from '../src/strategies/types';
import { describeMachine, machine } from './machine';
import { loadSplit, movielensRows, RESULTS_DIR, SHARED_DATA } from './quality';
import { strategyRanker } from './rankers';

/** The rows of each user's earliest 80% (P1's train rows), so P1's temporal rule can carve validation from them. */
function temporalTrainRows(rows: InteractionRows): InteractionRows {
  const time = rows.time!;
  const byUser = new Map<number, number[]>();
  for (let r = 0; r < rows.user.length; r++) {
    const list = byUser.get(rows.user[r]) ?? [];
    list.push(r);
    byUser.set(rows.user[r], list);
  }
  const keep: number[] = [];
  for (const own of byUser.values()) {
    own.sort((a, b) => time[a] - time[b] || Number(rows.items.id(rows.item[a])) - Number(rows.items.id(rows.item[b])) || a - b);
    keep.push(...own.slice(0, own.length - Math.max(1, Math.ceil(0.2 * own.length))));
  }
  keep.sort((a, b) => a - b);
  const pick = <T extends Int32Array | Float32Array | Float64Array>(a: T): T => (a.constructor as unknown as { from(x: number[]): T }).from(keep.map((r) => a[r]));
  return { ...rows, user: pick(rows.user), item: pick(rows.item), weight: pick(rows.weight), time: pick(time), basket: null, basketIds: null };
}

async function validationSplit(id: string): Promise<{ split: Split; metric: 'ndcg@10' | 'recall@20' }> {
  if (id === 'P1') return { split: holdoutTemporal(temporalTrainRows(await movielensRows())), metric: 'ndcg@10' };
  if (id === 'P2') return { split: holdoutFromMatrix((await loadSplit('P2')).train, 43), metric: 'ndcg@10' };
  if (id === 'P3') return { split: basketCompletion((await loadSplit('P3')).train, 43), metric: 'ndcg@10' };
  if (id === 'P6') return { split: nextBasketFixed(await loadNbrJson(join(SHARED_DATA, 'tafeng'), 'tafeng')).val, metric: 'recall@20' };
  throw new Error(`no validation split for ${id}`);
}

function grid(strategy: string, id: string, quick: boolean): Array<{ label: string; make: () => Recommender }> {
  const out: Array<{ label: string; make: () => Recommender }> = [];
  if (strategy === 'als') {
    const weightings: ALSOptions['weighting'][] = id === 'P1' || id === 'P3' ? ['binary', 'bm25'] : ['bm25', 'log1p'];
    for (const weighting of weightings) {
      for (const regularization of quick ? [5] : [0.05, 1, 5, 20, 50]) {
        for (const alpha of quick ? [0.25] : [0, 0.25, 1]) {
          const o: Partial<ALSOptions> = { weighting, regularization, alpha };
          out.push({ label: JSON.stringify(o), make: () => new ALS(o) });
        }
      }
    }
    if (!quick) for (const factors of [32, 128]) out.push({ label: JSON.stringify({ factors }), make: () => new ALS({ factors }) });
    if (!quick) out.push({ label: JSON.stringify({ iterations: 30 }), make: () => new ALS({ iterations: 30 }) });
  } else if (strategy === 'als-focus') {
    // Second pass around the best region of the first grid on P1 and P2 (log1p, reg 20-50, alpha 1).
    for (const regularization of [10, 20, 35]) {
      for (const alpha of [1, 2, 4]) {
        const o: Partial<ALSOptions> = { weighting: 'log1p', regularization, alpha };
        out.push({ label: JSON.stringify(o), make: () => new ALS(o) });
      }
    }
  } else if (strategy === 'als-weighting') {
    // What a play count becomes (issue 8, stop 24): each weighting with confidence slopes on its own scale
    // (log1p of Last.fm play counts is about 5, binary 1, bm25 up to a few hundred, count up to 10^5), at 128
    // factors and 15 iterations to screen quickly (128 scored within 0.001 of 256 on P2's validation split).
    const settings: Array<Partial<ALSOptions>> = [
      { weighting: 'log1p', alpha: 1 },
      ...[2, 4, 8, 16].map((alpha) => ({ weighting: 'binary' as const, alpha })),
      ...[0.02, 0.05, 0.1].map((alpha) => ({ weighting: 'bm25' as const, alpha })),
      ...[0.005, 0.02].map((alpha) => ({ weighting: 'count' as const, alpha })),
    ];
    for (const s of settings) {
      const o: Partial<ALSOptions> = { factors: 128, regularization: 35, ...s };
      out.push({ label: JSON.stringify(o), make: () => new ALS(o) });
    }
  } else if (strategy === 'als-bm25') {
    // Second pass around the best of als-weighting (bm25, alpha 0.02): slope by ridge, then BM25's own k1 (the slope
    // scaled by 101 / (k1 + 1), as a saturated weight is (k1 + 1) idf) and b.
    const settings: Array<Partial<ALSOptions>> = [];
    for (const regularization of [20, 35, 50]) for (const alpha of [0.01, 0.015, 0.02, 0.03]) settings.push({ regularization, alpha });
    for (const bm25K1 of [10, 30, 300]) settings.push({ bm25K1, alpha: (0.02 * 101) / (bm25K1 + 1) });
    for (const bm25B of [0.5, 0.65, 0.95]) settings.push({ bm25B });
    for (const s of settings) {
      const o: Partial<ALSOptions> = { factors: 128, weighting: 'bm25', regularization: 35, alpha: 0.02, ...s };
      out.push({ label: JSON.stringify(o), make: () => new ALS(o) });
    }
  } else if (strategy === 'ease') {
    for (const lambda of quick ? [200] : [50, 200, 500, 1000]) {
      const o: Partial<EASEOptions> = { lambda };
      out.push({ label: JSON.stringify(o), make: () => new EASE(o) });
    }
  } else if (strategy === 'tifuknn') {
    const settings: Array<Partial<TIFUKNNOptions>> = [{}];
    if (!quick) {
      for (const alpha of [0.3, 0.5, 0.7]) settings.push({ alpha });
      for (const neighbors of [100, 600]) settings.push({ neighbors });
      for (const groups of [3, 7]) settings.push({ groups });
      settings.push({ groupDecay: 0.7 }, { withinDecay: 1 });
    }
    for (const o of settings) out.push({ label: JSON.stringify(o), make: () => new TIFUKNN(o) });
  } else throw new Error(`unknown strategy ${strategy}`);
  return out;
}

async function main(): Promise<void> {
  const [id, strategy] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const quick = process.argv.includes('--quick');
  console.log(`machine: ${describeMachine()}`);
  const { split, metric } = await validationSplit(id);
  console.log(`${id} validation: ${JSON.stringify(split.stats)}; metric ${metric}`);
  const rows: Array<{ setting: string; value: number; fitSeconds: number }> = [];
  for (const { label, make } of grid(strategy, id, quick)) {
    const s = make();
    const t0 = performance.now();
    await s.fit(split.train, { seed: 42 });
    const fitSeconds = (performance.now() - t0) / 1000;
    const k = metric === 'recall@20' ? 20 : 10;
    const r = await evaluate(strategyRanker(s, split.train.nItems), split, { k });
    const value = metric === 'recall@20' ? r.recall : r.ndcg;
    rows.push({ setting: label, value, fitSeconds });
    console.log(`  ${label.padEnd(60)} ${metric} ${value.toFixed(4)}  fit ${fitSeconds.toFixed(1)} s`);
  }
  const best = rows.reduce((a, b) => (b.value > a.value ? b : a));
  console.log(`best: ${best.setting} ${best.value.toFixed(4)}`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const command = `npx tsx benchmarks/tune-latent.ts ${id} ${strategy}${quick ? ' --quick' : ''}`;
  await writeFile(join(RESULTS_DIR, `tune-${id}-${strategy}.json`), `${JSON.stringify({ command, machine: machine(), date: new Date().toISOString().slice(0, 10), split: split.stats, metric, rows }, null, 2)}\n`);
}

await main();
