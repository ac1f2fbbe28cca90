import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
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
  // serving: the server pool finds its worker file from import.meta.url, which the CJS build needs shimmed.
  shims: true,
  external: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@huggingface/transformers'],
});
