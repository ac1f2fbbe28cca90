/**
 * The load-and-recommend page as a bundler builds it: esbuild, minified, for browsers, ESM with
 * code splitting (what Vite, Rollup and webpack do with a dynamic import()). A page downloads the
 * entry and the chunks it imports statically; the chunks behind a dynamic import (the training
 * code of the neural strategies) load only when fit() is called. Each file is gzipped on its own,
 * as a server sends it.
 */
import { build, type BuildOptions } from 'esbuild';
import { gzipSync } from 'node:zlib';

export interface PageBundle {
  /** gzip bytes of the entry plus every chunk it imports statically. */
  initialGzip: number;
  /** gzip bytes of the chunks that load on demand. */
  lazyGzip: number;
  /** Every source file in the bundle (initial or lazy). */
  inputs: string[];
  /** Source files that reach the initial download. */
  initialInputs: string[];
}

export async function bundlePage(entry: Pick<BuildOptions, 'stdin' | 'entryPoints' | 'absWorkingDir'>): Promise<PageBundle> {
  const result = await build({ ...entry, bundle: true, minify: true, platform: 'browser', format: 'esm', splitting: true, outdir: 'page', write: false, metafile: true, logLevel: 'silent' });
  const outputs = result.metafile.outputs;
  const byName = new Map(result.outputFiles.map((f) => [f.path.split('/').pop() ?? '', f.contents]));
  const entryName = Object.keys(outputs).find((k) => outputs[k].entryPoint !== undefined || k.endsWith('/stdin.js'));
  if (!entryName) throw new Error('esbuild produced no entry chunk');
  const initial = new Set<string>();
  const stack = [entryName];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (initial.has(name)) continue;
    initial.add(name);
    for (const imported of outputs[name].imports) if (imported.kind === 'import-statement') stack.push(imported.path);
  }
  let initialGzip = 0;
  let lazyGzip = 0;
  for (const name of Object.keys(outputs)) {
    if (!name.endsWith('.js')) continue;
    const bytes = byName.get(name.split('/').pop() ?? '');
    if (!bytes) throw new Error(`esbuild output ${name} has no contents`);
    const gzip = gzipSync(bytes).byteLength;
    if (initial.has(name)) initialGzip += gzip;
    else lazyGzip += gzip;
  }
  const initialInputs = [...initial].flatMap((name) => Object.keys(outputs[name].inputs));
  return { initialGzip, lazyGzip, inputs: Object.keys(result.metafile.inputs), initialInputs };
}
