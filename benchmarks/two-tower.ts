/**
 * TwoTower beside ALS, NeuralCF and ContentBased (when the data has text) on one protocol per
 * run, with fit time and TwoTower's training throughput (positives per second).
 *
 *   npx tsx benchmarks/two-tower.ts P4-small|P4-large|P6|P1|P2|P3|cold-P4-small|cold-instacart [--options '{"epochs":5}'] [--seed 42] [--skip ncf,als]
 *
 * - P4-small, P4-large, P6, P1, P2, P3: quality.ts's splits (../shared/BENCHMARKS.md), K = 10 (P6 also 20).
 * - cold-P4-small: the cold-item protocol (docs/evaluation.md "Cold items", share 0.1, seed 42)
 *   on P4-small's synthetic shop (its full data, no next-basket split); cold-instacart: the
 *   same on the real Instacart sample with product names, aisles and departments
 *   (instacart-sample + instacart/). Both report candidates 'cold' (held-out items only) and
 *   'all' (every item but the user's training items).
 * All models run with their defaults (TwoTower's `--options` aside); nothing here is tuned on
 * the test targets. Writes benchmarks/results/two-tower-<protocol>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../src/data/dataset';
import { syntheticDataset } from '../examples/shared';
import { coldItems } from '../src/eval/cold-items';
import { evaluate, type EvalResult } from '../src/eval/evaluate';
import type { Split } from '../src/eval/splits';
import { loadInstacart } from '../src/node/instacart';
import { ALS } from '../src/strategies/als';
import { ContentBased } from '../src/strategies/content';
import { NeuralCF } from '../src/strategies/neural-cf';
import { Popularity } from '../src/strategies/popularity';
import { TwoTower, type TwoTowerOptions } from '../src/strategies/two-tower';
import type { Recommender } from '../src/strategies/types';
import { describeMachine, machine } from './machine';
import { loadSplit, RESULTS_DIR, SHARED_DATA } from './quality';
import { strategyRanker } from './rankers';

function flag(name: string): string | null {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : null;
}

interface Row {
  name: string;
  fitSeconds: number;
  examplesPerSecond?: number;
  epochs?: number;
  bestEpoch?: number;
  /** Per candidates setting ('split' for the ordinary protocols), per K. */
  results: Record<string, Record<number, EvalResult>>;
}

async function coldData(id: string, seed: number): Promise<Dataset> {
  if (id === 'cold-P4-small') return syntheticDataset(2000, 1500, seed);
  const { dataset } = await loadInstacart(join(SHARED_DATA, 'instacart-sample'), { catalogDir: join(SHARED_DATA, 'instacart'), orphanOrders: 'own-user' });
  return dataset;
}

async function main(): Promise<void> {
  const id = process.argv[2];
  if (!id || id.startsWith('--')) throw new Error('usage: npx tsx benchmarks/two-tower.ts P4-small|P4-large|P6|P1|P2|P3|cold-P4-small|cold-instacart [--options JSON] [--seed N] [--skip a,b]');
  const seed = Number(flag('seed') ?? 42);
  const options = JSON.parse(flag('options') ?? '{}') as Partial<TwoTowerOptions>;
  const skip = new Set((flag('skip') ?? '').split(',').filter(Boolean));
  const cold = id.startsWith('cold-');
  console.log(`two-tower on ${id}, options ${JSON.stringify(options)}, seed ${seed}`);
  console.log(`machine: ${describeMachine()}`);

  // Splits: one for the ordinary protocols; for the cold-item protocol the same train data with two candidate settings.
  const splits: Record<string, Split> = {};
  if (cold) {
    const data = await coldData(id, seed);
    splits.cold = coldItems(data, { share: 0.1, seed, candidates: 'cold' });
    splits.all = coldItems(data, { share: 0.1, seed, candidates: 'all' });
  } else {
    splits.split = await loadSplit(id, seed);
  }
  const first = Object.values(splits)[0];
  const train = first.train;
  console.log(`split: ${JSON.stringify(first.stats)}`);
  let hasText = false;
  for (let i = 0; i < train.nItems && !hasText; i++) hasText = (train.catalog.name[i] + train.catalog.aisle[i] + train.catalog.department[i]).trim().length > 0;
  const ks = id === 'P6' ? [10, 20] : [10];

  const models: Array<[string, () => Recommender]> = [
    ['twotower', () => new TwoTower(options)],
    ['als', () => new ALS()],
    ['ncf', () => new NeuralCF()],
    ...(hasText ? ([['content', () => new ContentBased()]] as Array<[string, () => Recommender]>) : []),
    ...(cold ? ([['popularity', () => new Popularity()]] as Array<[string, () => Recommender]>) : []),
  ];
  const rows: Row[] = [];
  for (const [name, make] of models) {
    if (skip.has(name)) continue;
    const s = make();
    const t = performance.now();
    await s.fit(train, {
      seed,
      onProgress: (p) => {
        if (p.message && (p.stage === 'two-tower' || p.stage === 'ncf')) console.log(`  ${name}: ${p.message}`);
      },
    });
    const fitSeconds = (performance.now() - t) / 1000;
    const row: Row = { name, fitSeconds, results: {} };
    if (s instanceof TwoTower) {
      const info = s.trainingInfo!;
      row.examplesPerSecond = info.examplesPerSecond;
      row.epochs = info.loss.length;
      row.bestEpoch = info.bestEpoch;
    }
    for (const [setting, split] of Object.entries(splits)) {
      row.results[setting] = {};
      for (const k of ks) {
        const r = await evaluate(strategyRanker(s, train.nItems), split, { k });
        row.results[setting][k] = r;
        console.log(
          `  ${name.padEnd(11)} ${setting.padEnd(5)} @${k}: Recall ${r.recall.toFixed(4)}  NDCG ${r.ndcg.toFixed(4)}  Hit ${r.hitRate.toFixed(4)}  fit ${fitSeconds.toFixed(1)} s${row.examplesPerSecond ? `  ${Math.round(row.examplesPerSecond)} positives/s, ${row.epochs} epochs (best ${row.bestEpoch})` : ''}`,
        );
      }
    }
    rows.push(row);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const suffix = Object.keys(options).length > 0 ? `-${Object.entries(options).map(([k, v]) => `${k}${typeof v === 'object' ? JSON.stringify(v).replace(/[^a-z0-9.]/gi, '') : v}`).join('-')}` : '';
  const out = join(RESULTS_DIR, `two-tower-${id}${suffix}.json`);
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        protocol: id,
        command: `npx tsx benchmarks/two-tower.ts ${process.argv.slice(2).join(' ')}`,
        seed,
        options,
        date: new Date().toISOString(),
        machine: machine(),
        note: 'Timings on a shared, loaded machine (2 cores, several sessions): noisy; compare rows of one run.',
        split: Object.fromEntries(Object.entries(splits).map(([k, s]) => [k, s.stats])),
        rows,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
