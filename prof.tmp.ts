import { HybridRecommender, Popularity, RepeatPurchase, ItemKNN, ContentBased, AssociationRules, CoPurchaseGraph } from './src/index';
import { syntheticDataset } from './examples/shared';
const data = syntheticDataset(30000, 50000, 42);
const rec = new HybridRecommender({ strategies: { popularity: new Popularity({ maxItems: 1000 }), repeat: new RepeatPurchase(), itemknn: new ItemKNN(), content: new ContentBased(), rules: new AssociationRules(), graph: new CoPurchaseGraph() } });
await rec.fit(data, { seed: 42 });
const ids = Array.from({ length: 3000 }, (_, i) => data.users.id((i * 7919) % data.nUsers));
for (let i = 0; i < 300; i++) rec.recommend(ids[i], { k: 10 });
const t: number[] = [];
for (let i = 300; i < 3000; i++) { const t0 = performance.now(); rec.recommend(ids[i], { k: 10 }); t.push(performance.now() - t0); }
t.sort((a, b) => a - b);
console.log('p50', t[t.length >> 1].toFixed(3), 'p99', t[Math.floor(t.length * 0.99)].toFixed(3));
