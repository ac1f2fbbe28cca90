/**
 * The package as users get it: `npm pack`, the tarball installed into a fresh project outside
 * the repository (so nothing resolves to the repo's node_modules: the optional peers tfjs,
 * transformers.js and graphology are really absent), then in plain node both entries as ESM
 * and as CJS (fit, recommend, save, load), a TypeScript consumer type-checked with
 * moduleResolution node16 and bundler, and the load-and-recommend browser bundle's size.
 * dist is built first when it is missing or older than src (a clean checkout, as in CI).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssociationRules, HybridRecommender, ItemKNN, RepeatPurchase, datasetFromInstacart, generateGrocery } from '../src/index';
import { bundlePage } from './page-bundle';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

/** The child's environment without npm's per-run variables (npm test sets npm_config_*, which would steer the nested npm). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

async function sh(file: string, args: string[], cwd: string, timeout = 240_000): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** Newest modification time under `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist with tsup unless every entry exists and is newer than src and the build config. */
async function ensureBuilt(): Promise<void> {
  const outputs = ['index.js', 'index.cjs', 'index.d.ts', 'index-node.js', 'node.js', 'node.cjs', 'node.d.ts', 'strategy.js', 'cli.js'].map((f) => join(root, 'dist', f));
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'tsup.config.ts')).mtimeMs, statSync(join(root, 'package.json')).mtimeMs);
  if (outputs.every((f) => existsSync(f) && statSync(f).mtimeMs >= sources)) return;
  await sh(bin('tsup'), [], root, 600_000);
}

// The same small fit everywhere: synthetic grocery data, three fast strategies, a fixed seed.
const FIT = `
const { dataset } = datasetFromInstacart(generateGrocery({ users: 80, products: 60, seed: 4 }));
const make = () => new HybridRecommender({ strategies: { repeat: new RepeatPurchase(), itemknn: new ItemKNN(), rules: new AssociationRules() } });
const rec = make();
await rec.fit(dataset, { seed: 9 });
const shopper = { history: [dataset.items.id(0), dataset.items.id(1)], basket: [dataset.items.id(2)] };
const user = dataset.users.id(0);
const out = { recs: rec.recommend(user, { k: 5 }).map((r) => r.item), request: rec.recommend(shopper, { k: 5 }).map((r) => r.item) };
const file = join(dir, 'model-' + kind + '.hrec');
await saveRecommender(rec, file);
const back = await loadRecommender(file);
out.loaded = back.recommend(user, { k: 5 }).map((r) => r.item);
const serving = await HybridRecommender.load(rec.save({ customerData: false }));
out.serving = serving.recommend(shopper, { k: 5 }).map((r) => r.item);
try { serving.recommend(user); out.servingUser = 'no error'; } catch (e) { out.servingUser = e instanceof NoCustomerDataError ? 'NoCustomerDataError' : String(e); }
try { await new NeuralCF({ epochs: 1 }).fit(dataset); out.ncf = 'fitted'; } catch (e) { out.ncf = e instanceof MissingDependencyError ? e.package : String(e); }
console.log(JSON.stringify(out));
`;
const NAMES = 'AssociationRules, HybridRecommender, ItemKNN, MissingDependencyError, NeuralCF, NoCustomerDataError, RepeatPurchase, datasetFromInstacart, generateGrocery';

const ESM = `import { ${NAMES} } from 'hybridrec';
import { loadRecommender, saveRecommender } from 'hybridrec/node';
import { join } from 'node:path';
const dir = process.argv[2];
const kind = 'esm';
${FIT}`;

const CJS = `const { ${NAMES} } = require('hybridrec');
const { loadRecommender, saveRecommender } = require('hybridrec/node');
const { join } = require('node:path');
const dir = process.argv[2];
const kind = 'cjs';
(async () => {
${FIT}
})().catch((e) => { console.error(e); process.exit(1); });`;

/** A TypeScript consumer: the public types of every entry, used as an application would. */
const CONSUMER = (from: 'esm' | 'cjs') => `${from === 'esm' ? "import { HybridRecommender, ItemKNN, NoCustomerDataError, type Recommendation, type SaveOptions, type Shopper } from 'hybridrec';\nimport { loadRecommender } from 'hybridrec/node';\nimport { ScoreVector, type Query, type Recommender } from 'hybridrec/strategy';" : "import hr = require('hybridrec');\nimport node = require('hybridrec/node');\nimport strategy = require('hybridrec/strategy');\nconst { HybridRecommender, ItemKNN, NoCustomerDataError } = hr;\nconst { loadRecommender } = node;\nconst { ScoreVector } = strategy;\ntype Recommendation = hr.Recommendation; type SaveOptions = hr.SaveOptions; type Shopper = hr.Shopper; type Query = strategy.Query; type Recommender = strategy.Recommender;"}
export async function serve(path: string): Promise<Recommendation[]> {
  const rec: InstanceType<typeof HybridRecommender> = await loadRecommender(path);
  const shopper: Shopper = { baskets: [['1', '2']], basket: ['3'] };
  const options: SaveOptions = { customerData: false };
  const bytes: Uint8Array = rec.save(options);
  const served = await HybridRecommender.load(bytes);
  try {
    served.recommend('u1');
  } catch (e) {
    if (e instanceof NoCustomerDataError) console.log(e.id);
  }
  return served.recommend(shopper, { k: 5, explain: true });
}
export function scores(s: Recommender, q: Query): Float32Array {
  const out = new ScoreVector(10);
  s.score(q, out);
  return out.values;
}
export const knn: Recommender = new ItemKNN({ neighbors: 20 });
// @ts-expect-error a mistyped option is a type error too
export const typo = new ItemKNN({ neighbours: 20 });
`;

/** The same fit from the sources in this process: what the packed code must reproduce. */
async function reference(): Promise<Record<string, string[]>> {
  const { dataset } = datasetFromInstacart(generateGrocery({ users: 80, products: 60, seed: 4 }));
  const rec = new HybridRecommender({ strategies: { repeat: new RepeatPurchase(), itemknn: new ItemKNN(), rules: new AssociationRules() } });
  await rec.fit(dataset, { seed: 9 });
  const shopper = { history: [dataset.items.id(0), dataset.items.id(1)], basket: [dataset.items.id(2)] };
  const user = dataset.users.id(0);
  return { recs: rec.recommend(user, { k: 5 }).map((r) => r.item), request: rec.recommend(shopper, { k: 5 }).map((r) => r.item) };
}

describe('the packed package in a fresh project', () => {
  let dir: string;
  let project: string;

  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'hybridrec-package-'));
    project = join(dir, 'app');
    await mkdir(project);
    const packed = JSON.parse(await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const shipped = packed[0].files.map((f) => f.path);
    // What ships: the build, the readme, the licence and the docs; no tests, fixtures or data.
    expect(shipped.filter((p) => !/^(dist\/|docs\/[^/]+\.md$|README\.md$|LICENSE$|package\.json$)/.test(p))).toEqual([]);
    expect(shipped).toContain('LICENSE');
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // The tarball's few dependencies come from the npm cache (npm ci filled it); the registry only when they are not there.
    await sh('npm', ['install', join(dir, packed[0].filename), '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
  }, 600_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('installs without the optional peers (tfjs, transformers.js, graphology)', () => {
    const installed = readdirSync(join(project, 'node_modules'));
    for (const pkg of ['@tensorflow', '@huggingface', 'graphology', 'graphology-metrics', 'fastify', 'ml-matrix']) expect(installed).not.toContain(pkg);
    expect(installed).toContain('hybridrec');
  });

  it('imports both entries as ESM and as CJS in plain node: fit, recommend, save, load, serving artifact, with the results of the sources', async () => {
    await writeFile(join(project, 'esm.mjs'), ESM);
    await writeFile(join(project, 'cjs.cjs'), CJS);
    const [esm, cjs] = await Promise.all(['esm.mjs', 'cjs.cjs'].map(async (f) => JSON.parse((await sh(process.execPath, [f, dir], project, 120_000)).trim().split('\n').pop()!)));
    const expected = await reference();
    for (const out of [esm, cjs]) {
      expect(out.recs).toEqual(expected.recs);
      expect(out.request).toEqual(expected.request);
      expect(out.recs.length).toBe(5);
      expect(out.loaded).toEqual(out.recs);
      expect(out.serving).toEqual(out.request);
      expect(out.servingUser).toBe('NoCustomerDataError');
      // tfjs is an optional peer, not installed here: the fit says which package to install.
      expect(out.ncf).toBe('@tensorflow/tfjs');
    }
    const files = await Promise.all(['esm', 'cjs'].map((k) => readFile(join(dir, `model-${k}.hrec`))));
    expect(files[0].equals(files[1])).toBe(true);
  }, 180_000);

  it('type-checks a TypeScript consumer with moduleResolution node16 (ESM and CJS) and bundler', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // No @types/node: the types of hybridrec, hybridrec/node and hybridrec/strategy need none
    // (a browser project has none). skipLibCheck false checks the shipped .d.ts / .d.cts (an
    // unresolvable import in them is an error); skipDefaultLibCheck spares TypeScript's own lib
    // files. The consumer's @ts-expect-error gives the check teeth: were the types any, the
    // unused expectation would fail it.
    const common = { strict: true, noEmit: true, target: 'es2022', lib: ['es2022', 'dom'], types: [], skipLibCheck: false, skipDefaultLibCheck: true };
    await writeFile(join(project, 'consumer.mts'), CONSUMER('esm'));
    await writeFile(join(project, 'consumer.cts'), CONSUMER('cjs'));
    await writeFile(join(project, 'bundler.ts'), CONSUMER('esm'));
    await writeFile(join(project, 'tsconfig.node16.json'), JSON.stringify({ compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16' }, files: ['consumer.mts', 'consumer.cts'] }));
    await writeFile(join(project, 'tsconfig.bundler.json'), JSON.stringify({ compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler' }, files: ['bundler.ts'] }));
    await Promise.all(['node16', 'bundler'].map((c) => sh(process.execPath, [tsc, '-p', `tsconfig.${c}.json`], project, 180_000)));
  }, 240_000);

  it('bundles a load-and-recommend browser page (initial download) under 100 KB gzip, with no tfjs, transformers.js or graphology', async () => {
    await writeFile(
      join(project, 'entry.js'),
      "import { HybridRecommender } from 'hybridrec';\nconst bytes = new Uint8Array(await (await fetch('model.hrec')).arrayBuffer());\nconst rec = await HybridRecommender.load(bytes);\nconsole.log(rec.recommend({ history: ['1'], basket: ['2'] }, { k: 10 }));\n",
    );
    const { initialGzip, inputs } = await bundlePage({ entryPoints: [join(project, 'entry.js')], absWorkingDir: project });
    expect(inputs.filter((p) => /@tensorflow|@huggingface|graphology(?!-types)|node:/.test(p))).toEqual([]);
    expect(initialGzip).toBeGreaterThan(20_000);
    expect(initialGzip).toBeLessThan(100_000);
  }, 60_000);
});
