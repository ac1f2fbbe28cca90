import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { NeuralCF } from '../src/strategies/neural-cf';
const data = datasetFromInstacart(generateGrocery({ users: Number(process.argv[3] ?? 2000), products: Number(process.argv[4] ?? 5000), seed: 42 })).dataset;
const opts = JSON.parse(process.argv[5] ?? '{}');
const s = new NeuralCF({ architecture: (process.argv[2] ?? 'gmf') as 'gmf', epochs: 2, ...opts });
let t = 0, c = process.cpuUsage();
await s.fit(data, { seed: 1, onProgress: (p) => {
  const now = performance.now(), cu = process.cpuUsage(c);
  if (p.done === 2) console.log(JSON.stringify(opts), 'nnz', data.interactions.nnz, 'epoch2 wall', ((now - t) / 1000).toFixed(2), 'cpu', ((cu.user + cu.system) / 1e6).toFixed(2), 'ex/s(cpu)', Math.round(data.interactions.nnz * 5 / ((cu.user + cu.system) / 1e6)), p.message);
  t = now; c = process.cpuUsage();
} });
