export {};
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { IdIndex } from '../src/data/ids';
import { holdoutTemporal } from '../src/eval/splits';
import { evaluate } from '../src/eval/evaluate';
import { NeuralCF } from '../src/strategies/neural-cf';
import { ScoreVector } from '../src/strategies/types';
import { topKDense } from '../src/util/topk';

const text = gunzipSync(readFileSync('/work/shared/data/movielens-100k/u.data.gz')).toString();
const lines = text.trim().split('\n').map((l) => l.split('\t'));
const users = IdIndex.sorted(lines.map((l) => l[0]));
const items = IdIndex.sorted(lines.map((l) => l[1]));
const rows = {
  users, items,
  user: Int32Array.from(lines, (l) => users.indexOf(l[0])),
  item: Int32Array.from(lines, (l) => items.indexOf(l[1])),
  weight: new Float32Array(lines.length).fill(1),
  time: Float64Array.from(lines, (l) => Number(l[3])),
  basket: null, basketIds: null, catalog: null,
};
const split = holdoutTemporal(rows as any);
console.log(split.stats);
const configs = JSON.parse(process.argv[2] ?? '[{}]');
for (const cfg of configs) {
  const s = new NeuralCF(cfg);
  const t0 = performance.now();
  await s.fit(split.train, { seed: 42 });
  const fitS = (performance.now() - t0) / 1000;
  const out = new ScoreVector(split.train.nItems);
  const res = evaluate({ rankIndices(q, k, blocked) { out.reset(); s.score(q, out); return topKDense(out.values, k, blocked).items; } }, split);
  console.log(JSON.stringify(cfg), 'fit', fitS.toFixed(1), 's', 'ndcg', res.ndcg?.toFixed(4) ?? JSON.stringify(res).slice(0, 200), 'prec', (res as any).precision?.toFixed(4), 'loss', s.trainingInfo!.loss.map((x) => x.toFixed(3)).join(' '), s.trainingInfo!.validation.map((x) => x.toFixed(3)).join(' '));
}
{
  const totals = split.train.itemTotals();
  const pop = Float32Array.from(totals);
  const res = evaluate({ rankIndices(q, k, blocked) { return topKDense(pop, k, blocked).items; } }, split);
  console.log('popularity ndcg', res.ndcg.toFixed(4), 'prec', res.precision.toFixed(4));
}
