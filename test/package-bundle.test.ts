/**
 * The load-and-recommend page from the sources (fast; test/package.test.ts checks the same from
 * the packed tarball), built as test/page-bundle.ts describes: its initial download stays under
 * 100 KB gzip and holds none of the optional peers (tfjs, transformers.js, graphology), which
 * only the calls that need them load (src/util/optional.ts).
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundlePage } from './page-bundle';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = (contents: string) => bundlePage({ stdin: { contents, resolveDir: root, loader: 'ts' } });

const OPTIONAL = /@tensorflow|@huggingface|graphology(?!-types)|ml-matrix/;

describe('browser bundle of a page that loads a model and recommends', () => {
  it('is under 100 KB gzip with no optional peer inside', async () => {
    const { initialGzip, lazyGzip, inputs, initialInputs } = await page(`
      import { HybridRecommender } from './src/index';
      const bytes = new Uint8Array(await (await fetch('model.hrec')).arrayBuffer());
      const rec = await HybridRecommender.load(bytes);
      console.log(rec.recommend({ history: ['1'], basket: ['2'] }, { k: 10 }));
    `);
    expect(inputs.filter((p) => OPTIONAL.test(p))).toEqual([]);
    // Every built-in strategy's loader is in it (the registry), so it is not trivially small.
    expect(initialInputs.some((p) => p.includes('src/strategies/copurchase-graph/ppr'))).toBe(true);
    // The neural strategies' training code is in the bundle, behind fit()'s dynamic import.
    for (const train of ['neural-cf/train', 'sequential/train', 'two-tower/train']) {
      expect(inputs.some((p) => p.includes(`src/strategies/${train}`))).toBe(true);
      expect(initialInputs.some((p) => p.includes(`src/strategies/${train}`))).toBe(false);
    }
    // So is the reranker's trainer (its forest scores in the page; the booster only trains).
    for (const train of ['ensemble/reranker/train', 'ensemble/reranker/gbdt', 'ensemble/reranker/tree-grower']) {
      expect(inputs.some((p) => p.includes(`src/${train}`))).toBe(true);
      expect(initialInputs.some((p) => p.includes(`src/${train}`))).toBe(false);
    }
    expect(initialInputs.some((p) => p.includes('src/ensemble/reranker/forest'))).toBe(true);
    expect(lazyGzip).toBeGreaterThan(5_000);
    expect(initialGzip).toBeGreaterThan(20_000);
    expect(initialGzip).toBeLessThan(100_000);
  });

  it('the check has teeth: a static graphology import shows up', async () => {
    const { inputs } = await page(`import { UndirectedGraph } from 'graphology'; console.log(new UndirectedGraph());`);
    expect(inputs.filter((p) => OPTIONAL.test(p)).length).toBeGreaterThan(0);
  });

  it('keeps the error names when minified (code branches on error.name across threads and in apps)', async () => {
    const built = await build({
      stdin: {
        contents: `
      import * as errors from './src/errors';
      export const made = [
        new errors.OptionError('k', 'bad'), new errors.DataError('bad'), new errors.EmptyDataError('none'), new errors.UnknownIdError('user', 'u'),
        new errors.NoCustomerDataError('u'), new errors.NotFittedError('X'), new errors.ArtifactError('bad'), new errors.ArtifactVersionError(9, 1),
        new errors.MissingDependencyError('p', 'X'), new errors.AbortedError('X'), new errors.HybridrecError('x'),
      ].map((e) => e.name);
    `,
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const code = built.outputFiles[0].text;
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { made: string[] };
    expect(mod.made).toEqual(['OptionError', 'DataError', 'EmptyDataError', 'UnknownIdError', 'NoCustomerDataError', 'NotFittedError', 'ArtifactError', 'ArtifactVersionError', 'MissingDependencyError', 'AbortedError', 'HybridrecError']);
  });
});
