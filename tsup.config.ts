import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    strategy: 'src/strategy.ts',
    // The main entry for Node (installs the worker pool) and the pool's worker.
    'index-node': 'src/index-node.ts',
    worker: 'src/node/worker.ts',
    // serving: the HTTP server entry (hybridrec/server), its scoring worker thread, and the CLI (bin hybridrec).
    server: 'src/server/index.ts',
    'server-worker': 'src/server/worker.ts',
    cli: 'src/cli/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  splitting: true,
  // parallel, serving: the pools find their worker files from import.meta.url, which the CJS build needs shimmed.
  shims: true,
  // Optional peers, loaded with loadOptional() at the call that needs them (never bundled).
  external: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@huggingface/transformers', 'graphology', 'graphology-metrics'],
});
