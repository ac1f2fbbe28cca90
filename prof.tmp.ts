import { HybridRecommender, Popularity, RepeatPurchase, ItemKNN, ContentBased, AssociationRules, CoPurchaseGraph, type Recommender } from './src/index';
import { syntheticDataset } from './examples/shared';
const data = syntheticDataset(30000, 50000, 42);
const variants: Record<string, () => Record<string, Recommender>> = {
  // 'pop1000 content1000': () => ({ popularity: new Popularity({ maxItems: 1000 }), repeat: new RepeatPurchase(), itemknn: new ItemKNN(), content: new ContentBased(), rules: new AssociationRules(), graph: new CoPurchaseGraph() }),
  'pop1000 content500': () => ({ popularity: new Popularity({ maxItems: 1000 }), repeat: new RepeatPurchase(), itemknn: new ItemKNN(), content: new ContentBased({ maxCandidates: 500 }), rules: new AssociationRules(), graph: new CoPurchaseGraph() }),
};
for (const [name, make] of Object.entries(variants)) {
  const rec = new HybridRecommender({ strategies: make() });
  await rec.fit(data, { seed: 42 });
  const ids = Array.from({ length: 3000 }, (_, i) => data.users.id((i * 7919) % data.nUsers));
  for (let i = 0; i < 300; i++) rec.recommend(ids[i], { k: 10 });
  const t: number[] = []; const te: number[] = [];
  for (let i = 300; i < 3000; i++) { const t0 = performance.now(); rec.recommend(ids[i], { k: 10 }); t.push(performance.now() - t0); }
  for (let i = 300; i < 1300; i++) { const t0 = performance.now(); rec.recommend(ids[i], { k: 10, explain: true }); te.push(performance.now() - t0); }
  t.sort((a, b) => a - b); te.sort((a, b) => a - b);
  console.log(name, 'p50', t[t.length >> 1].toFixed(3), 'p99', t[Math.floor(t.length * 0.99)].toFixed(3), '| explain p50', te[te.length >> 1].toFixed(3), 'p99', te[Math.floor(te.length * 0.99)].toFixed(3));
}
