import { datasetFromInstacart } from '../src/data/instacart';
import { generateGrocery } from '../src/data/synthetic';
import { NeuralCF } from '../src/strategies/neural-cf';
const data = datasetFromInstacart(generateGrocery({ users: Number(process.argv[3] ?? 2000), products: Number(process.argv[4] ?? 5000), seed: 42 })).dataset;
console.log('nnz', data.interactions.nnz);
const s = new NeuralCF({ architecture: (process.argv[2] ?? 'gmf') as 'gmf', epochs: 1 });
const t0 = performance.now();
await s.fit(data, { seed: 1, onProgress: (p) => console.log(p.message, ((performance.now() - t0) / 1000).toFixed(1)) });
console.log('done');
