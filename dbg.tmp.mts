import { ALS } from './src/strategies/als';
import { userQuery } from './src/strategies/query';
import { groupOf, plantedGroups } from './test/fixtures';
const data = plantedGroups(42);
for (const o of [{ factors: 16, iterations: 10 }, { factors: 16, iterations: 10, weighting: 'binary' as const }, { factors: 16, iterations: 10, regularization: 1 }, {factors: 16, iterations: 10, alpha: 20}]) {
  const als = new ALS(o);
  await als.fit(data, { seed: 42 });
  let inGroup = 0, total = 0;
  for (let u = 0; u < 60; u++) {
    const q = userQuery(data, u);
    const blocked = new Uint8Array(data.nItems);
    for (const i of q.history.items) blocked[i] = 1;
    for (const i of als.rankIndices(q, 3, blocked)) { total++; if (groupOf(data.items.id(i)) === u % 6) inGroup++; }
  }
  console.log(JSON.stringify(o), inGroup / total, als.itemFactors.slice(0, 4));
}
