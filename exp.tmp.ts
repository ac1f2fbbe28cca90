import { ContentBased, ScoreVector, userQuery } from './src/index';
import { syntheticDataset } from './examples/shared';
const big = syntheticDataset(30000, 50000, 42);
const s = new ContentBased(); await s.fit(big);
const v = new ScoreVector(big.nItems);
for (let rep = 0; rep < 2; rep++) {
  const t: number[] = [];
  for (let u = 0; u < 5000; u++) { const q = userQuery(big, (u * 7919) % big.nUsers); v.reset(); const t0 = performance.now(); s.score(q, v); if (u >= 500) t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  console.log('content p50', t[t.length >> 1].toFixed(3), 'p90', t[Math.floor(t.length * 0.9)].toFixed(3), 'p99', t[Math.floor(t.length * 0.99)].toFixed(3));
}
