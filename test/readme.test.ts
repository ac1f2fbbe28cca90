/**
 * The README's "Use" snippet runs as written: its code block is taken from README.md, its
 * imports of 'hybridrec' and 'hybridrec/node' point at the sources, and only the Instacart
 * folder is replaced by the synthetic generator's Instacart-shaped tables (product ids 1..24,852,
 * so the snippet's '24852' and '13176' exist, and user '1').
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string | null = null;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The first ```ts block after the "## Use" heading. */
function useSnippet(readme: string): string {
  const section = readme.slice(readme.indexOf('\n## Use'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no ```ts block under "## Use"');
  return match[1];
}

describe('README', () => {
  it('runs the "Use" snippet as written on synthetic Instacart-shaped data', async () => {
    const snippet = useSnippet(await readFile(join(root, 'README.md'), 'utf8'));
    expect(snippet).toContain("from 'hybridrec'");
    expect(snippet).toContain("from 'hybridrec/node'");
    dir = await mkdtemp(join(tmpdir(), 'hybridrec-readme-'));
    const src = (path: string) => JSON.stringify(pathToFileURL(join(root, path)).href);
    // 'hybridrec/node' with the Instacart folder replaced by synthetic tables and files written to a temp folder.
    await writeFile(
      join(dir, 'node-entry.ts'),
      [
        `import { datasetFromInstacart, generateGrocery } from ${src('src/index.ts')};`,
        `import { saveRecommender as save } from ${src('src/node.ts')};`,
        `export const loadInstacart = async (_dir: string) => datasetFromInstacart(generateGrocery({ users: 50, products: 24852, seed: 42 }));`,
        `export const saveRecommender = (rec: Parameters<typeof save>[0], file: string) => save(rec, ${JSON.stringify(dir)} + '/' + file);`,
      ].join('\n'),
    );
    const code = snippet
      .replace(/from 'hybridrec\/node'/g, `from ${JSON.stringify(pathToFileURL(join(dir, 'node-entry.ts')).href)}`)
      .replace(/from 'hybridrec'/g, `from ${src('src/index.ts')}`);
    const module = join(dir, 'use.ts');
    // Each statement's value is kept, so the test can look at what the snippet computed.
    const lines = code.split('\n');
    const collected = lines.map((line) => (/^rec\.(recommend|similarItems)\(/.test(line) ? `results.push(${line.replace(/;\s*(\/\/.*)?$/, '')});` : line));
    await writeFile(module, `export const results: unknown[] = [];\n${collected.join('\n')}\nexport { rec };\n`);
    const log = console.log;
    console.log = () => undefined;
    let ran: { results: Array<Array<{ item: string; sources: Record<string, number> }>>; rec: { fitted: boolean } };
    try {
      ran = await import(pathToFileURL(module).href);
    } finally {
      console.log = log;
    }
    expect(ran.rec.fitted).toBe(true);
    const calls = lines.filter((l) => /^rec\.(recommend|similarItems)\(/.test(l)).length;
    expect(ran.results).toHaveLength(calls);
    expect(calls).toBeGreaterThanOrEqual(7);
    for (const list of ran.results) expect(list.length).toBeGreaterThan(0);
    // The cold start is answered by the fallback (or by the popularity member of the ensemble).
    const cold = ran.results[lines.filter((l) => /^rec\.(recommend|similarItems)\(/.test(l)).findIndex((l) => l.includes('history: []'))];
    for (const r of cold) expect(Object.keys(r.sources).every((s) => s === 'fallback' || s === 'popularity')).toBe(true);
    const saved = await readFile(join(dir, 'model.hrec'));
    expect(saved.byteLength).toBeGreaterThan(1000);
  });
});
