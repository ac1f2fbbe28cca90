/**
 * SequentialRecommender alone, beside the baselines that matter for next-basket data, on one
 * protocol per run; fit time and training throughput (sequences per second).
 *
 *   npx tsx benchmarks/sequential.ts P4-small|P4-large|P6|P6-val [--options '{"factors":32}'] [--seed 42]
 *
 * - P4-small / P4-large: ../shared/BENCHMARKS.md P4 on the synthetic shop (quality.ts's
 *   split), K = 10, beside RepeatPurchase (the strongest single P4 strategy).
 * - P6: TaFeng, the 5,091 keyset.test users, K = 10 and 20, beside TIFU-KNN (its published
 *   setting) and P-TopFreq; published Recall@20: TIFU-KNN 0.2130, DNNTSP 0.1986, Dream 0.1210.
 * - P6-val: the same on the 5,091 keyset.val users: what --options comparisons are run on
 *   (tuning never reads keyset.test).
 * Writes benchmarks/results/sequential-<protocol>[-<options>].json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, type EvalResult } from '../src/eval/evaluate';
import { nextBasketFixed, type Split } from '../src/eval/splits';
import { loadNbrJson } from '../src/node/tafeng';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { SequentialRecommender, type SequentialOptions } from '../src/strategies/sequential';
import { TIFUKNN } from '../src/strategies/tifu-knn';
import type { Recommender } from '../src/strategies/types';
import { describeMachine, machine } from './machine';
import { loadSplit, RESULTS_DIR, SHARED_DATA } from './quality';
import { strategyRanker, topFreqRanker } from './rankers';

function flag(name: string): string | null {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : null;
}

async function splitOf(id: string, seed: number): Promise<Split> {
  if (id === 'P6' || id === 'P6-val') {
    const both = nextBasketFixed(await loadNbrJson(join(SHARED_DATA, 'tafeng'), 'tafeng'));
    return id === 'P6' ? both.test : both.val;
  }
  return loadSplit(id, seed);
}

interface Row {
  name: string;
  fitSeconds: number | null;
  byK: Record<number, EvalResult>;
}

async function main(): Promise<void> {
  const id = process.argv[2];
  if (!id || id.startsWith('--')) throw new Error('usage: npx tsx benchmarks/sequential.ts P4-small|P4-large|P6|P6-val [--options JSON] [--seed N]');
  const seed = Number(flag('seed') ?? 42);
  const options = JSON.parse(flag('options') ?? '{}') as Partial<SequentialOptions>;
  const ks = id.startsWith('P6') ? [10, 20] : [10];
  console.log(`sequential on ${id}, options ${JSON.stringify(options)}, seed ${seed}`);
  console.log(`machine: ${describeMachine()}`);
  const split = await splitOf(id, seed);
  console.log(`split: ${JSON.stringify(split.stats)}`);
  const rows: Row[] = [];
  const run = async (name: string, s: Recommender | null, ranker = s ? strategyRanker(s, split.train.nItems) : null) => {
    let fitSeconds: number | null = null;
    if (s) {
      const t = performance.now();
      await s.fit(split.train, {
        seed,
        onProgress: (p) => {
          if (p.message && p.stage === 'sequential') console.log(`  ${p.message}`);
        },
      });
      fitSeconds = (performance.now() - t) / 1000;
    }
    const byK: Record<number, EvalResult> = {};
    for (const k of ks) byK[k] = await evaluate(ranker!, split, { k });
    rows.push({ name, fitSeconds, byK });
    for (const k of ks) {
      const r = byK[k];
      console.log(
        `  ${name.padEnd(14)} @${k}: Recall ${r.recall.toFixed(4)}  NDCG ${r.ndcg.toFixed(4)}  Hit ${r.hitRate.toFixed(4)}  repeat ${r.recallRepeat?.toFixed(4)}  explore ${r.recallExplore?.toFixed(4)}${fitSeconds !== null ? `  fit ${fitSeconds.toFixed(1)} s` : ''}`,
      );
    }
  };
  const sequential = new SequentialRecommender(options);
  await run('sequential', sequential);
  const info = sequential.trainingInfo!;
  console.log(`  training: ${info.sequences} sequences, ${info.sequencesPerSecond.toFixed(1)} sequences/s, best epoch ${info.bestEpoch} of ${info.loss.length}, backend ${info.backend}`);
  if (id.startsWith('P6')) {
    await run('tifuknn', new TIFUKNN());
    await run('P-TopFreq', null, topFreqRanker(split.train, false));
  } else {
    await run('repeat', new RepeatPurchase());
  }
  const suffix = Object.keys(options).length > 0 ? `-${Object.entries(options).map(([k, v]) => `${k}${v}`).join('-')}` : '';
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, `sequential-${id}${suffix}.json`);
  const command = `npx tsx benchmarks/sequential.ts ${process.argv.slice(2).map((a) => (a.startsWith('{') ? `'${a}'` : a)).join(' ')}`;
  writeFileSync(out, `${JSON.stringify({ protocol: id, command, date: new Date().toISOString().slice(0, 10), machine: machine(), options: sequential.options, split: split.stats, training: info, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
