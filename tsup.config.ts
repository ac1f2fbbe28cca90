import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    strategy: 'src/strategy.ts',
    // The main entry for Node (installs the worker pool) and the pool's worker.
    'index-node': 'src/index-node.ts',
    worker: 'src/node/worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  splitting: true,
  // parallel: the pool finds its worker file from import.meta.url, which the CJS build needs shimmed.
  shims: true,
  external: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@huggingface/transformers'],
});
