import { join } from 'node:path';
import { ContentBased, CoPurchaseGraph, HybridRecommender, TfidfEncoder, evaluate, nextBasket, basketCompletion, ScoreVector, userQuery, type Recommender, type Split, type Dataset } from './src/index';
import { loadInstacart } from './src/node';
import { syntheticDataset } from './examples/shared';
const mode = process.argv[2];
const q = async (split: Split, s: Recommender) => {
  const rec = new HybridRecommender({ strategies: { s } });
  await rec.fit(split.train, { seed: 42 });
  const r = evaluate(rec, split, { k: 10 });
  return `ndcg ${r.ndcg.toFixed(4)} recall ${r.recall.toFixed(4)}`;
};
const variants: Array<[string, () => Recommender]> = [
  ['content inf', () => new ContentBased({ maxCandidates: Infinity })],
  ['content 2000', () => new ContentBased({ maxCandidates: 2000 })],
  ['content 500', () => new ContentBased({ maxCandidates: 500 })],
  ['graph 1e-5', () => new CoPurchaseGraph({ epsilon: 1e-5 })],
  ['graph 1e-4', () => new CoPurchaseGraph({ epsilon: 1e-4 })],
  ['graph 3e-4', () => new CoPurchaseGraph({ epsilon: 3e-4 })],
];
if (mode === 'quality') {
  const p4 = nextBasket(syntheticDataset(2000, 1500, 42));
  const { dataset } = await loadInstacart('../shared/data/instacart-sample', { catalogDir: '../shared/data/instacart', orphanOrders: 'own-user' });
  const p3 = basketCompletion(dataset, 42);
  for (const [name, make] of variants) console.log(name, 'P4', await q(p4, make()), 'P3', await q(p3, make()));
} else {
  const big: Dataset = syntheticDataset(30000, 50000, 42);
  for (const [name, make] of variants) {
    const s = make(); await s.fit(big);
    const v = new ScoreVector(big.nItems); const t: number[] = []; let touched = 0;
    for (let u = 0; u < 1100; u++) { const qq = userQuery(big, u); v.reset(); const t0 = performance.now(); s.score(qq, v); if (u >= 100) { t.push(performance.now() - t0); touched += v.length; } }
    t.sort((a, b) => a - b);
    console.log(name, 'p50', t[500].toFixed(3), 'p99', t[989].toFixed(3), 'touched', touched / 1000);
  }
}
