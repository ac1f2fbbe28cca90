/**
 * The hybridrec CLI: commands run in process through program() (fast), the signal paths
 * (Ctrl-C during fit, SIGTERM while serving a request) in a child process.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HybridRecommender, datasetFromInstacart, generateGrocery } from '../src/index';
import { dataFingerprint, readRuns, sha256 } from '../src/node/runs';
import { program } from '../src/cli/program';

let dir: string;
let model: string;

/** Runs `hybridrec ...args` in process; resolves to what it printed. */
async function cli(...args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), signal: new AbortController().signal, argv: args };
  await program(io).parseAsync(['node', 'hybridrec', ...args]);
  return { out: out.join('\n'), err: err.join('\n') };
}

const SYNTHETIC = ['--synthetic', '--users', '150', '--products', '120', '--data-seed', '3'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hybridrec-cli-'));
  model = join(dir, 'model.hrec');
  await cli('fit', ...SYNTHETIC, '--strategies', 'repeat,itemknn,rules', '-o', model, '--runs', join(dir, 'runs'), '-q');
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fit, inspect and run records', () => {
  it('fit writes a model whose inspect shows format, strategies, sizes, the data fingerprint, fit times and tuning metrics', async () => {
    const bytes = new Uint8Array(await readFile(model));
    const data = datasetFromInstacart(generateGrocery({ users: 150, products: 120, seed: 3 })).dataset;
    const summary = JSON.parse((await cli('inspect', model, '--json')).out);
    expect(summary).toMatchObject({ formatVersion: 1, libraryVersion: '0.1.0', customerData: true, sha256: sha256(bytes), bytes: bytes.byteLength });
    expect(summary.strategies.map((s: { name: string; kind: string }) => [s.name, s.kind])).toEqual([['repeat', 'repeat'], ['itemknn', 'itemknn'], ['rules', 'rules']]);
    expect(summary.sections['strategies/itemknn']).toBeGreaterThan(0);
    expect(summary.sections['data/interactions']).toBe(data.interactions.indptr.byteLength + data.interactions.indices.byteLength + data.interactions.values.byteLength);
    expect(summary.fit.fingerprint).toBe(dataFingerprint(data));
    expect(summary.fit.data).toMatchObject({ users: 150, items: 120, baskets: data.nBaskets });
    expect(summary.fit.seconds.fit).toBeGreaterThan(0);
    expect(summary.tuning.single).toHaveProperty('itemknn');
    const text = (await cli('inspect', model)).out;
    expect(text).toContain(`data fingerprint ${dataFingerprint(data)}`);
    expect(text).toContain('metrics at fit (weight tuning');
    // The annotated file still loads and scores.
    expect((await HybridRecommender.load(bytes)).strategyNames).toEqual(['repeat', 'itemknn', 'rules']);
  });

  it('the fit run record names the data, the options, the timings and the model sha256', async () => {
    const [run] = await readRuns(join(dir, 'runs'));
    expect(run).toMatchObject({ kind: 'fit', libraryVersion: '0.1.0', model: { path: model, sha256: sha256(new Uint8Array(await readFile(model))) } });
    expect(run.data.fingerprint).toBe(JSON.parse((await cli('inspect', model, '--json')).out).fit.fingerprint);
    expect(run.strategies.itemknn.kind).toBe('itemknn');
    expect(run.strategies.rules.options).toHaveProperty('options.minConfidence');
    expect(Object.keys(run.weights)).toEqual(['repeat', 'itemknn', 'rules']);
    expect(run.timings.fit).toBeGreaterThan(0);
    expect(run.metrics?.tuning).toHaveProperty('ensemble');
  });

  it('the fingerprint changes with one purchase', () => {
    const tables = generateGrocery({ users: 150, products: 120, seed: 3 });
    const before = dataFingerprint(datasetFromInstacart(tables).dataset);
    tables.orderProducts.productId[0] = tables.orderProducts.productId[0] === 1 ? 2 : 1;
    expect(dataFingerprint(datasetFromInstacart(tables).dataset)).not.toBe(before);
  });

  it('evaluate prints a metrics table per strategy and for the ensemble and records the run; runs lists and compares', async () => {
    const runs = join(dir, 'runs');
    const table = (await cli('evaluate', ...SYNTHETIC, '--strategies', 'repeat,itemknn', '--weights', 'equal', '--runs', runs, '-q')).out;
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^next-basket \(P4\) @10, 150 queries evaluated/);
    expect(lines[1]).toMatch(/^ranker +precision@10 +recall@10 +map@10 +ndcg@10 +hitRate@10 +coverage@10 +recallRepeat@10 +recallExplore@10$/);
    expect(lines.slice(3).map((l) => l.split(/ +/)[0])).toEqual(['repeat', 'itemknn', 'ensemble']);
    const json = JSON.parse((await cli('evaluate', ...SYNTHETIC, '--strategies', 'repeat,itemknn', '--weights', 'equal', '--protocol', 'basket-completion', '--json', '-q')).out);
    expect(json.protocol).toBe('basket-completion');
    expect(Object.keys(json.metrics)).toEqual(['repeat', 'itemknn', 'ensemble']);
    for (const m of Object.values(json.metrics) as Array<{ ndcg: number }>) expect(m.ndcg).toBeGreaterThan(0);

    const recorded = await readRuns(runs);
    expect(recorded.map((r) => r.kind)).toEqual(['fit', 'evaluate']);
    expect(recorded[1]).toMatchObject({ protocol: 'next-basket', k: 10, model: null });
    expect(recorded[1].metrics?.ensemble.ndcg).toBeGreaterThan(0);
    const list = (await cli('runs', '--dir', runs)).out;
    expect(list).toContain(recorded[0].id);
    expect(list).toContain(recorded[1].id);
    const compare = (await cli('runs', '--dir', runs, 'compare', '1', '-1')).out;
    expect(compare).toMatch(new RegExp(`^id +${recorded[0].id} +${recorded[1].id}$`, 'm'));
    expect(compare).toMatch(/^weight rules +[0-9.]+ +-$/m);
    expect(compare).toMatch(/^ensemble ndcg +- +0\.\d{4}$/m);
  });
});

describe('queries', () => {
  it('recommend, similar and complete-basket print what the library computes', async () => {
    const rec = await HybridRecommender.load(new Uint8Array(await readFile(model)));
    const user = rec.dataset.users.id(4);
    const item = rec.dataset.items.id(7);
    const asJson = (x: unknown) => JSON.parse(JSON.stringify(x));
    expect(JSON.parse((await cli('recommend', model, '--user', user, '-k', '4', '--explain', '--json')).out).items).toEqual(asJson(rec.recommend(user, { k: 4, explain: true })));
    expect(JSON.parse((await cli('recommend', model, '--history', `${item},${item}`, '-k', '3', '--json')).out).items).toEqual(asJson(rec.recommend({ history: [item, item] }, { k: 3 })));
    expect(JSON.parse((await cli('similar', model, item, '-k', '5', '--json')).out).items).toEqual(asJson(rec.similarItems(item, { k: 5 })));
    expect(JSON.parse((await cli('complete-basket', model, item, rec.dataset.items.id(8), '--json')).out).items).toEqual(asJson(rec.recommend({ basket: [item, rec.dataset.items.id(8)] }, { k: 10 })));
    const table = (await cli('recommend', model, '--user', user, '-k', '2', '--explain')).out.split('\n');
    expect(table[0]).toMatch(/^# +item +name +score +why$/);
    expect(table).toHaveLength(4);
    await expect(cli('recommend', model, '--user', 'nobody')).rejects.toMatchObject({ name: 'UnknownIdError' });
    await expect(cli('recommend', model, '-k', '0x10', '--user', user)).rejects.toThrow(/integer/);
  });

  it('fit reads an interactions CSV through the column-mapping flags', async () => {
    const csv = join(dir, 'events.csv');
    const lines = ['customer,sku,qty,order'];
    for (let u = 0; u < 30; u++) for (let o = 0; o < 3; o++) for (const s of [u % 5, (u + o) % 7, 10 + (u % 3)]) lines.push(`c${u},p${s},${1 + (o % 2)},o${u}-${o}`);
    await writeFile(csv, `${lines.join('\n')}\n`);
    const out = join(dir, 'csv.hrec');
    await cli('fit', '--csv', csv, '--user-col', 'customer', '--item-col', 'sku', '--weight-col', 'qty', '--basket-col', 'order', '--strategies', 'repeat,itemknn', '--weights', 'equal', '-o', out, '-q');
    const summary = JSON.parse((await cli('inspect', out, '--json')).out);
    expect(summary.fit.source).toBe(`csv ${csv} (user=customer item=sku weight=qty basket=order)`);
    expect(summary.fit.data).toMatchObject({ users: 30, items: 10, baskets: 90 });
    expect(JSON.parse((await cli('recommend', out, '--user', 'c1', '-k', '3', '--json')).out).items).toHaveLength(3);
  });

  it('unknown flags and strategies are errors', async () => {
    await expect(cli('fit', '--synthetic', '--strategies', 'itemknn,nope', '-o', join(dir, 'x.hrec'), '-q')).rejects.toThrow(/unknown strategy "nope"/);
    await expect(cli('fit', '--synthetic', '--csv', 'a.csv', '-o', join(dir, 'x.hrec'))).rejects.toThrow(/exactly one of/);
    await expect(cli('inspect', model, '--bogus')).rejects.toThrow(/unknown option/);
    expect(existsSync(join(dir, 'x.hrec'))).toBe(false);
  });
});

/** Spawns the CLI from its sources; resolves when `ready` matches its stderr. */
function child(args: string[], ready: RegExp) {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../src/cli/index.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let stdout = '';
  const matched = new Promise<RegExpExecArray>((resolve, reject) => {
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = ready.exec(stderr);
      if (m) resolve(m);
    });
    exited.then(() => reject(new Error(`exited before ${ready}: ${stderr}`)));
  });
  const logged = new Set<(text: string) => void>();
  proc.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const check of logged) check(stdout);
  });
  /** Resolves once the child's stdout matches `pattern`. */
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = (text: string) => {
        if (pattern.test(text)) {
          logged.delete(check);
          resolve();
        }
      };
      logged.add(check);
      check(stdout);
    });
  return { proc, matched, exited, printed, stderr: () => stderr };
}

describe('signals', () => {
  it('Ctrl-C during fit aborts it mid-run through the AbortSignal and writes nothing', async () => {
    const out = join(dir, 'aborted.hrec');
    const run = child(['fit', '--synthetic', '--users', '4000', '--products', '2500', '-o', out], /tune\/\w+: done/);
    await run.matched;
    run.proc.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toMatch(/aborted: .* was aborted; nothing was written/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('serve: SIGTERM lets the request in flight finish, then exits 0', async () => {
    const run = child(['serve', model, '--port', '0', '--workers', '1', '--log'], /on (http:\/\/127\.0\.0\.1:\d+)/);
    const [, url] = await run.matched;
    const rec = await HybridRecommender.load(new Uint8Array(await readFile(model)));
    const inFlight = fetch(`${url}/recommend?user=${rec.dataset.users.id(2)}&k=100&explain=1`).then(async (r) => ({ status: r.status, body: await r.json() }));
    // The request log line says the server has it.
    await run.printed(/"incoming request"/);
    run.proc.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.items.length).toBeGreaterThan(0);
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain('SIGTERM: finishing requests in flight');
  }, 60_000);
});
