/**
 * The runnable examples' exported pieces on tiny data: the custom strategy (known scores,
 * explanation, artifact round trip, custom loader), train-and-save (synthetic and an
 * Instacart-format folder) and the Instacart next-basket evaluation.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromotedItems, customLoaders, runCustomStrategyExample } from '../examples/custom-strategy';
import { evaluateInstacart, metricsTable } from '../examples/instacart';
import { trainAndSave } from '../examples/train-and-save';
import { OptionError, UnknownIdError, generateGrocery } from '../src/index';
import { ArtifactReader, ArtifactWriter, ScoreVector, anonymousQuery, userQuery, type JsonObject } from '../src/strategy';
import { writeInstacartCsv } from '../src/node';
import { basketsDataset, itemIdx } from './fixtures';

const quiet = () => undefined;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hybridrec-examples-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('custom strategy: PromotedItems', () => {
  const data = basketsDataset(
    { alice: [['y1', 'y2', 'm1'], ['y1']], bob: [['c2']] },
    {
      catalog: {
        y1: { name: 'Plain Yogurt', aisle: 'yogurt' },
        y2: { name: 'Greek Yogurt', aisle: 'yogurt' },
        y3: { name: 'Skyr', aisle: 'yogurt' },
        m1: { name: 'Milk', aisle: 'milk' },
        m2: { name: 'Oat Milk', aisle: 'milk' },
        c1: { name: 'Chips', aisle: 'chips' },
        c2: { name: 'Salsa Chips', aisle: 'chips' },
      },
    },
  );
  const promotions = { y3: 2, m2: 1, c1: 5 };

  async function fitted() {
    const s = new PromotedItems({ promotions });
    await s.fit(data);
    return s;
  }

  function scores(s: PromotedItems, query = userQuery(data, data.users.indexOf('alice'))) {
    const out = new ScoreVector(data.nItems);
    s.score(query, out);
    return Object.fromEntries(Array.from({ length: out.length }, (_, i) => [data.items.id(out.at(i)), out.values[out.at(i)]]));
  }

  it('scores promoted items by boost x the shopper share of their aisle', async () => {
    const s = await fitted();
    // alice bought y1 twice, y2 and m1 once: yogurt 3/4, milk 1/4, chips 0.
    expect(scores(s)).toEqual({ y3: 1.5, m2: 0.25 });
    expect(scores(s, userQuery(data, data.users.indexOf('bob')))).toEqual({ c1: 5 });
    expect(scores(s, anonymousQuery([], itemIdx(data, 'm1')))).toEqual({ m2: 1 });
    expect(scores(s, anonymousQuery([]))).toEqual({});
  });

  it('explains with the aisle share and the shopper own items', async () => {
    const s = await fitted();
    const alice = userQuery(data, data.users.indexOf('alice'));
    const name = (i: number) => data.catalog.name[i];
    const e = s.explain(alice, itemIdx(data, 'y3')[0], name)!;
    expect(e.reason).toBe('on promotion: yogurt is 75% of what you buy, like Plain Yogurt');
    expect(e.score).toBe(1.5);
    expect(e.evidence).toEqual([
      { item: itemIdx(data, 'y1')[0], weight: 2 },
      { item: itemIdx(data, 'y2')[0], weight: 1 },
    ]);
    expect(s.explain(alice, itemIdx(data, 'c1')[0], name)).toBeNull();
    expect(s.explain(alice, itemIdx(data, 'y1')[0], name)).toBeNull();
  });

  it('rejects bad options and unknown promoted ids', async () => {
    expect(() => new PromotedItems({ promotions: { y3: -1 } })).toThrow(OptionError);
    expect(() => new PromotedItems({ promotions: { y3: NaN } })).toThrow(OptionError);
    await expect(new PromotedItems({ promotions: { nope: 1 } }).fit(data)).rejects.toThrow(UnknownIdError);
  });

  it('round-trips through an artifact with identical scores', async () => {
    const s = await fitted();
    const w = new ArtifactWriter();
    const state = s.save(w.scope('x'));
    const r = ArtifactReader.open(w.toBytes(state));
    const s2 = await customLoaders.promoted(r.root as JsonObject, r.scope('x'));
    expect(s2).toBeInstanceOf(PromotedItems);
    for (const user of ['alice', 'bob']) {
      const q = userQuery(data, data.users.indexOf(user));
      expect(scores(s2 as PromotedItems, q)).toEqual(scores(s, q));
    }
  });

  it('runs in the ensemble and needs its loader to load', async () => {
    const report = await runCustomStrategyExample({ users: 150, products: 120, seed: 3, log: quiet });
    expect(Object.keys(report.promotions).length).toBeGreaterThan(0);
    expect(report.missingLoaderError).toContain('no loader for strategy kind "promoted"');
    expect(report.identical).toBe(150);
    expect(report.listsWithPromotion.boosted).toBeGreaterThan(report.listsWithPromotion.unboosted);
  });
});

describe('train-and-save', () => {
  it('fits synthetic data, saves, reloads identical', async () => {
    const out = join(dir, 'synthetic', 'model.hrec');
    const report = await trainAndSave({ out, users: 150, products: 120, seed: 4, neural: false, tune: false, check: 40, log: quiet });
    expect(report.users).toBe(150);
    expect((await stat(out)).size).toBe(report.bytes);
    expect(report.compared).toBeGreaterThanOrEqual(80);
    expect(report.parts.reduce((s, p) => s + p.bytes, 0)).toBe(report.bytes);
    expect(report.parts.map((p) => p.part)).toEqual(
      expect.arrayContaining(['data/baskets', 'data/catalog', 'strategies/itemknn', 'strategies/rules', 'strategies/graph', 'fallback']),
    );
    // The serving artifact beside it: smaller (no histories), flagged, the same lists for the same orders.
    expect(report.serving.path).toBe(join(dir, 'synthetic', 'model.serving.hrec'));
    expect(report.serving.bytes).toBeLessThan(report.bytes);
    expect(report.servingCompared).toBe(50); // every 3rd of 150 shoppers (check 40)
    const serving = await readFile(report.serving.path);
    expect(serving.includes(Buffer.from('"customerData":false'))).toBe(true);
  });

  it('reads an Instacart-format folder', async () => {
    const folder = join(dir, 'instacart');
    await writeInstacartCsv(generateGrocery({ users: 60, products: 80, seed: 9 }), folder);
    const out = join(dir, 'instacart.hrec');
    const report = await trainAndSave({ out, instacart: folder, neural: false, tune: false, check: 20, log: quiet });
    expect(report.users).toBe(60);
    expect(report.items).toBe(80);
    expect(existsSync(out)).toBe(true);
  });
});

describe('instacart next-basket evaluation', () => {
  it('evaluates every strategy and the ensemble under P4', async () => {
    const folder = join(dir, 'instacart');
    if (!existsSync(folder)) await writeInstacartCsv(generateGrocery({ users: 60, products: 80, seed: 9 }), folder);
    const lines: string[] = [];
    const report = await evaluateInstacart({ dir: folder, neural: false, tune: false, evalUsers: 'all', log: (l) => lines.push(l) });
    expect(report.rows.map((r) => r.ranker)).toEqual(['popularity', 'repeat', 'itemknn', 'content', 'rules', 'graph', 'ensemble']);
    expect(report.evaluated).toBe(report.queries);
    expect(report.queries).toBe(60);
    for (const { result } of report.rows) {
      expect(result.protocol).toBe('P4');
      expect(result.recall).toBeGreaterThan(0);
      expect(result.recallRepeat).toBeDefined();
    }
    const repeat = report.rows.find((r) => r.ranker === 'repeat')!.result;
    const popularity = report.rows.find((r) => r.ranker === 'popularity')!.result;
    expect(repeat.recall).toBeGreaterThan(popularity.recall);
    expect(lines.join('\n')).toContain(metricsTable(report.rows, 10).join('\n'));
  });

  it('says plainly when no shopper has a history to predict from', async () => {
    const folder = join(dir, 'one-order-each');
    await writeInstacartCsv(generateGrocery({ users: 20, products: 30, seed: 2, minOrdersPerUser: 1, maxOrdersPerUser: 2, meanOrdersPerUser: 1.5 }), folder);
    await expect(evaluateInstacart({ dir: folder, log: quiet })).rejects.toThrow(/no shopper .* has 3 or more orders/);
  });
});
