/**
 * The load-and-recommend browser bundle from the sources (fast; test/package.test.ts checks the
 * same from the packed tarball): esbuild, minified, for browsers, no externals. It stays under
 * 100 KB gzip and holds none of the optional peers (tfjs, transformers.js, graphology), which
 * only the calls that need them load (src/util/optional.ts).
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

async function bundle(contents: string): Promise<{ gzip: number; inputs: string[]; code: string }> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { gzip: gzipSync(result.outputFiles[0].contents).byteLength, inputs: Object.keys(result.metafile.inputs), code: result.outputFiles[0].text };
}

const OPTIONAL = /@tensorflow|@huggingface|graphology(?!-types)|ml-matrix/;

describe('browser bundle of a page that loads a model and recommends', () => {
  it('is under 100 KB gzip with no optional peer inside', async () => {
    const { gzip, inputs } = await bundle(`
      import { HybridRecommender } from './src/index';
      const bytes = new Uint8Array(await (await fetch('model.hrec')).arrayBuffer());
      const rec = await HybridRecommender.load(bytes);
      console.log(rec.recommend({ history: ['1'], basket: ['2'] }, { k: 10 }));
    `);
    expect(inputs.filter((p) => OPTIONAL.test(p))).toEqual([]);
    // Every built-in strategy's loader is in it (the registry), so it is not trivially small.
    expect(inputs.some((p) => p.includes('src/strategies/copurchase-graph/ppr'))).toBe(true);
    expect(gzip).toBeGreaterThan(20_000);
    expect(gzip).toBeLessThan(100_000);
  });

  it('the check has teeth: a static graphology import shows up', async () => {
    const { inputs } = await bundle(`import { UndirectedGraph } from 'graphology'; console.log(new UndirectedGraph());`);
    expect(inputs.filter((p) => OPTIONAL.test(p)).length).toBeGreaterThan(0);
  });

  it('keeps the error names when minified (code branches on error.name across threads and in apps)', async () => {
    const { code } = await bundle(`
      import * as errors from './src/errors';
      export const made = [
        new errors.OptionError('k', 'bad'), new errors.DataError('bad'), new errors.EmptyDataError('none'), new errors.UnknownIdError('user', 'u'),
        new errors.NoCustomerDataError('u'), new errors.NotFittedError('X'), new errors.ArtifactError('bad'), new errors.ArtifactVersionError(9, 1),
        new errors.MissingDependencyError('p', 'X'), new errors.AbortedError('X'), new errors.HybridrecError('x'),
      ].map((e) => e.name);
    `);
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { made: string[] };
    expect(mod.made).toEqual(['OptionError', 'DataError', 'EmptyDataError', 'UnknownIdError', 'NoCustomerDataError', 'NotFittedError', 'ArtifactError', 'ArtifactVersionError', 'MissingDependencyError', 'AbortedError', 'HybridrecError']);
  });
});
