import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node.ts', strategy: 'src/strategy.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  splitting: true,
  external: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@huggingface/transformers'],
});
