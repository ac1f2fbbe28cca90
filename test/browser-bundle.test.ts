import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('isomorphic entry', () => {
  it('bundles for the browser with no Node built-in in its import graph', async () => {
    // platform=browser makes any import of fs, path, zlib... an unresolvable error.
    const result = await build({
      entryPoints: [`${root}/src/index.ts`],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
      // The heavy training/encoding dependencies are loaded lazily and have browser builds of their own.
      external: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@huggingface/transformers'],
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.some((p) => p.includes('src/node'))).toBe(false);
    expect(inputs.some((p) => p.startsWith('node:'))).toBe(false);
  });

  it('fails the same check when a Node built-in sneaks in (the check has teeth)', async () => {
    await expect(
      build({
        stdin: { contents: "import { readFileSync } from 'fs'; export const x = readFileSync;", resolveDir: root },
        bundle: true,
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/fs/);
  });
});
