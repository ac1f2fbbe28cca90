import { it } from 'vitest';
import { NeuralCF } from '../src/strategies/neural-cf';
import { userQuery, anonymousQuery } from '../src/strategies/query';
import { ScoreVector } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { basketsDataset } from './fixtures';
it('dbg', async () => {
  const rng = mulberry32(7);
  const users: Record<string, string[][]> = {};
  const NU = 30, NI = 10;
  for (const g of ['a', 'b']) for (let u = 0; u < NU; u++) { const bs: string[][] = []; for (let b = 0; b < 3; b++) { const s = new Set<string>(); while (s.size < 3) s.add(`${g.toUpperCase()}${Math.floor(rng() * NI)}`); bs.push([...s]); } users[`${g}${u}`] = bs; }
  const data = basketsDataset(users);
  console.log('nnz', data.interactions.nnz);
  for (const opts of [{}, { l2: 1e-2 }, { l2: 1e-1 }, { factors: 4 }, { factors: 4, l2: 1e-2 }, {architecture:'neumf'}, {architecture:'neumf', l2: 1e-2}, {loss:'bpr'}, {loss:'bpr', l2:1e-2}] as const) {
    const s = new NeuralCF({ factors: 8, epochs: 10, batchSize: 32, learningRate: 0.02, ...opts });
    const t0 = performance.now();
    await s.fit(data, { seed: 3 });
    const dt = performance.now() - t0;
    let bad = 0;
    for (let u = 0; u < data.nUsers; u++) {
      const out = new ScoreVector(data.nItems); s.score(userQuery(data, u), out);
      const top = Array.from(out.values.keys()).sort((a, b) => out.values[b] - out.values[a]).slice(0, NI).map((i) => data.items.id(i)[0]);
      bad += top.filter((g) => g !== data.users.id(u)[0].toUpperCase()).length;
    }
    let fbad = 0;
    for (const h of [['A1','A2','A5'], ['A3'], ['B2', 'B7']]) {
      const out = new ScoreVector(data.nItems); s.score(anonymousQuery(h.map((x) => data.items.indexOf(x))), out);
      const top = Array.from(out.values.keys()).sort((a, b) => out.values[b] - out.values[a]).slice(0, NI).map((i) => data.items.id(i)[0]);
      fbad += top.filter((g) => g !== h[0][0]).length;
    }
    console.log(JSON.stringify(opts), 'bad', bad, 'foldbad', fbad, Math.round(dt), s.trainingInfo!.loss.map((x) => x.toFixed(3)).join(' '));
  }
}, 60000);
