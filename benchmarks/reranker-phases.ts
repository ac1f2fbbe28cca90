/**
 * Where a reranked recommend spends its time, on benchmarks/reranker-ab.ts's cached model:
 * per call, the CPU-clock time (performance.now, one process, nothing else timed) of each
 * phase of Reranker.rank - the strategies' scoring and cut (MergeEngine.scoreStrategies),
 * the linear sum's candidate union (read in place), feature extraction, the forest, the final pick (rankScored) -
 * and the call's history length, touched items per strategy and candidate count. Prints the
 * phases' medians and p99s, and the median call time by history-length and candidate-count
 * quartile.
 *
 *   NODE_OPTIONS=--max-old-space-size=10000 nice -n 10 npx tsx benchmarks/reranker-phases.ts [--model <.hrec>] [--queries 2000]
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HybridRecommender } from '../src/index';
import { MergeEngine } from '../src/ensemble/merge';
import { bestFirst } from '../src/ensemble/reranker/combiner';
import { mulberry32, userQuery } from '../src/strategy';
import { percentile } from './machine';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const model = flag('model', join(tmpdir(), 'hybridrec-reranker-200000x50000-q1000-f1.hrec'));
const queries = Number(flag('queries', '2000'));

const rec = await HybridRecommender.load(new Uint8Array(await readFile(model)));
const reranker = rec.reranker;
if (reranker === null) throw new Error(`${model} has no reranker`);
const data = rec.dataset;
const names = rec.strategyNames;
const engine = new MergeEngine(names.map((n) => rec.strategy(n)), rec.fallback, data.nItems);
const blocked = new Uint8Array(data.nItems);
const scores = new Float64Array(data.nItems);
const rng = mulberry32(2);
const warmup = 200;
const phases = ['score', 'linear', 'features', 'forest', 'pick'] as const;
const times: Record<(typeof phases)[number] | 'total', number[]> = { score: [], linear: [], features: [], forest: [], pick: [], total: [] };
const history: number[] = [];
const candidates: number[] = [];
const touched: number[][] = names.map(() => []);
const order = new Int32Array(data.nItems);
for (let i = 0; i < warmup + queries; i++) {
  const query = userQuery(data, Math.floor(rng() * data.nUsers));
  for (const b of query.basket) blocked[b] = 1;
  // As recommend(): null when nothing is blocked.
  const mask = query.basket.length > 0 ? blocked : null;
  const t0 = performance.now();
  const vectors = engine.scoreStrategies(query, mask, reranker.merge);
  const t1 = performance.now();
  const lin = engine.candidateSums();
  const t2 = performance.now();
  // As Reranker.rank: the engine's normalizing maps, "(linear)"'s computed by the extractor.
  const m = reranker.features.extract(query, [...vectors, lin], { blocked: mask, normalizations: [...names.map((_, s) => engine.normalizationOf(s)), undefined] });
  const t3 = performance.now();
  reranker.model.score(m.features, m.count, scores);
  const t4 = performance.now();
  const n = m.count;
  // As Reranker.rank without a filter: the 10 best in order, then the engine's pick.
  const o = bestFirst(scores, n, Math.min(10, n), order);
  const items = Int32Array.from(o, (c) => m.items[c]);
  const shown = Float64Array.from(o, (c) => 1 / (1 + Math.exp(-scores[c])));
  engine.rankScored(query, items, shown, o.length, 10, mask, null, true);
  const t5 = performance.now();
  for (const b of query.basket) blocked[b] = 0;
  if (i < warmup) continue;
  times.score.push(t1 - t0);
  times.linear.push(t2 - t1);
  times.features.push(t3 - t2);
  times.forest.push(t4 - t3);
  times.pick.push(t5 - t4);
  times.total.push(t5 - t0);
  history.push(query.history.items.length);
  candidates.push(n);
  vectors.forEach((v, s) => touched[s].push(v.length));
}
for (const [phase, v] of Object.entries(times)) console.log(`${phase.padEnd(9)} p50 ${percentile(v, 50).toFixed(3)} ms  p99 ${percentile(v, 99).toFixed(3)} ms  mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)} ms`);
names.forEach((name, s) => console.log(`touched by ${name.padEnd(10)} p50 ${percentile(touched[s], 50)}  p99 ${percentile(touched[s], 99)}`));
console.log(`candidates p50 ${percentile(candidates, 50)} p99 ${percentile(candidates, 99)}; history length p50 ${percentile(history, 50)} p99 ${percentile(history, 99)}`);
const byQuartile = (key: number[], label: string) => {
  const idx = key.map((_, i) => i).sort((a, b) => key[a] - key[b]);
  const q = Math.ceil(idx.length / 4);
  for (let part = 0; part < 4; part++) {
    const calls = idx.slice(part * q, (part + 1) * q);
    const cell = (phase: keyof typeof times) => percentile(calls.map((i) => times[phase][i]), 50).toFixed(3);
    console.log(`${label} quartile ${part + 1} (${key[calls[0]]}..${key[calls[calls.length - 1]]}): total ${cell('total')}  score ${cell('score')}  features ${cell('features')}  forest ${cell('forest')}  pick ${cell('pick')} ms (medians)`);
  }
};
byQuartile(history, 'history');
byQuartile(candidates, 'candidates');
{
  // The tail: the slowest 2% of calls, phase by phase (medians), against all calls.
  const idx = times.total.map((_, i) => i).sort((a, b) => times.total[b] - times.total[a]).slice(0, Math.max(1, Math.round(times.total.length / 50)));
  const cell = (phase: keyof typeof times) => percentile(idx.map((i) => times[phase][i]), 50).toFixed(3);
  console.log(`slowest 2%: total ${cell('total')}  score ${cell('score')}  linear ${cell('linear')}  features ${cell('features')}  forest ${cell('forest')}  pick ${cell('pick')} ms (medians); history p50 ${percentile(idx.map((i) => history[i]), 50)}`);
}
