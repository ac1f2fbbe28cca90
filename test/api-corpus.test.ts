/**
 * The API half of the bad-input corpus: plain-JavaScript misuse of every public entry. A table
 * of entries x argument positions is run over one list of hostile values (numbers as ids,
 * strings as arrays, null/undefined/NaN/bigint/symbols/functions/exotic objects, unknown option
 * keys, k as "5", true, [5], "0x10", 1e3, -1, 1.5, 2^53). Each value a position does not
 * accept must be a typed error (HybridrecError) whose message names the argument; each value it
 * documents as valid must give the documented answer. Then the cases that need more than one
 * value: empty shoppers, user and history together, unknown items with and without
 * unknownItems 'skip' (skips counted exactly), duplicate ids in history and basket.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetFromInstacart } from '../src/data/instacart';
import { Dataset } from '../src/data/dataset';
import { datasetFromInteractions, interactionsFromRows } from '../src/data/interactions';
import { recencyWeighted } from '../src/data/recency';
import { generateGrocery } from '../src/data/synthetic';
import { HybridRecommender, type Recommendation } from '../src/ensemble/hybrid';
import { HybridrecError, UnknownIdError } from '../src/errors';
import { evaluate } from '../src/eval/evaluate';
import { ensembleRanker, strategyRanker, weightedRanker } from '../src/eval/rankers';
import { basketCompletion, holdoutRandom, holdoutTemporal, nextBasket, nextBasketFixed } from '../src/eval/splits';
import { loadArtifactFile, readLines, saveArtifactFile } from '../src/node/files';
import { loadInstacart, readInstacartTables } from '../src/node/instacart';
import { loadInteractionsCsv } from '../src/node/interactions';
import { loadRecommender, saveRecommender } from '../src/node/recommender-files';
import { loadNbrJson } from '../src/node/tafeng';
import { ALS } from '../src/strategies/als';
import { AssociationRules } from '../src/strategies/association-rules';
import { ContentBased, MiniLMEncoder, TfidfEncoder } from '../src/strategies/content';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { EASE } from '../src/strategies/ease';
import { ItemKNN } from '../src/strategies/item-knn';
import { NeuralCF } from '../src/strategies/neural-cf';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { SequentialRecommender } from '../src/strategies/sequential';
import { TwoTower } from '../src/strategies/two-tower';
import { TIFUKNN } from '../src/strategies/tifu-knn';
import type { Recommender } from '../src/strategies/types';
import { caseTally } from './corpus/corpus';
import { basketsDataset } from './fixtures';

const counted = caseTally('api');

/**
 * Item ids "1", "2", "12" and user ids "1", "2" make every number-for-string mix-up visible:
 * recommend(1) must not serve user "1", a history of '12' must not be the items "1" and "2".
 */
const data = basketsDataset(
  {
    '1': [['1', '2'], ['1', '12'], ['1', 'milk']],
    '2': [['bread', 'jam'], ['jam', '2'], ['bread']],
    '3': [['milk', 'bread', '12'], ['eggs']],
    u4: [['eggs', 'jam']],
  },
  { extraItems: ['never'] },
);
const N_ITEMS = data.nItems;
/** A dataset with Dataset.times (holdoutTemporal's training part), for recencyWeighted. */
const TIMED = holdoutTemporal(
  interactionsFromRows(
    [1, 2, 3, 4, 5].flatMap((t) => [{ u: 'a', i: `x${t}`, t }, { u: 'b', i: `x${6 - t}`, t }]),
    { user: 'u', item: 'i', timestamp: 't' },
  ).rows,
).train;
const strategies = () => ({ pop: new Popularity(), repeat: new RepeatPurchase(), knn: new ItemKNN() });
const rec = new HybridRecommender({ strategies: strategies() });
await rec.fit(data, { seed: 1 });
const BYTES = rec.save();

/** The hostile values every argument position is tried with. */
const VALUES: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['NaN', NaN],
  ['0', 0],
  ['1', 1],
  ['-1', -1],
  ['1.5', 1.5],
  ['Infinity', Infinity],
  ['1e3', 1e3],
  ['2^53', 2 ** 53],
  ["''", ''],
  ["'1'", '1'],
  ["'5'", '5'],
  ["'0x10'", '0x10'],
  ["'x'", 'x'],
  ['true', true],
  ['false', false],
  ['[]', []],
  ['[1]', [1]],
  ['[5]', [5]],
  ["['1']", ['1']],
  ['{}', {}],
  ['{ bogus: 1 }', { bogus: 1 }],
  ['a function', () => true],
  ['1n', 1n],
  ['a symbol', Symbol('s')],
  ['a Date', new Date(0)],
  ['a Map', new Map([['k', 1]])],
  ['an Int32Array', Int32Array.of(1)],
  ['Object.create(null)', Object.create(null)],
];

/**
 * One argument position of one public entry. `valid(value)` says whether the entry documents
 * the value as acceptable: if so, `check` asserts the answer; else the call must throw a typed
 * error whose message matches `names`.
 */
interface Position {
  category: string;
  entry: string;
  names: RegExp;
  call: (value: unknown) => unknown;
  valid?: (value: unknown) => boolean;
  check?: (result: unknown, value: unknown) => void | Promise<void>;
  /** For positions whose valid values the corpus cannot list (option ranges): asserts what an accepted value must satisfy. */
  accepted?: (result: unknown, value: unknown) => void;
}

const isIntegerIn = (v: unknown, min: number, max = Infinity) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isPlainEmpty = (v: unknown) => v === undefined || (v !== null && typeof v === 'object' && Object.prototype.toString.call(v) === '[object Object]' && Object.keys(v).length === 0);
const knownUser = (v: unknown) => typeof v === 'string' && data.users.indexOf(v) >= 0;
const knownItem = (v: unknown) => typeof v === 'string' && data.items.indexOf(v) >= 0;
const idArray = (v: unknown, ok: (id: unknown) => boolean) => Array.isArray(v) && v.every(ok);

/** A list of recommendations as documented: at most k distinct known items, finite scores, best first. */
function expectRecommendations(result: unknown, k = 10): asserts result is Recommendation[] {
  expect(Array.isArray(result)).toBe(true);
  const recs = result as Recommendation[];
  expect(recs.length).toBeLessThanOrEqual(k);
  expect(new Set(recs.map((r) => r.item)).size).toBe(recs.length);
  for (let i = 0; i < recs.length; i++) {
    expect(data.items.indexOf(recs[i].item)).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(recs[i].score)).toBe(true);
    if (i > 0) expect(recs[i].score).toBeLessThanOrEqual(recs[i - 1].score);
  }
}

const recommendations = (k = 10) => (result: unknown) => expectRecommendations(result, k);

/** Options positions: undefined and a plain empty object are the defaults; anything else not in `keys` is rejected. */
function optionsPosition(category: string, entry: string, names: RegExp, call: (v: unknown) => unknown, check?: Position['check']): Position {
  return { category, entry, names, call, valid: isPlainEmpty, check };
}

/** A key of an options object: `valid` values give `check`'s answer, the rest a typed error naming `<owner>.<key>`. */
function keyPosition(category: string, owner: string, key: string, call: (v: unknown) => unknown, valid: (v: unknown) => boolean, check?: Position['check'], required = false): Position {
  return { category, entry: `${owner}.${key}`, names: new RegExp(`${owner.replace('.', '\\.')}\\.${key}`), call, valid: (v) => (v === undefined && !required) || valid(v), check };
}

const TMP = await mkdtemp(join(tmpdir(), 'hybridrec-api-corpus-'));
afterAll(() => rm(TMP, { recursive: true, force: true }));

const recommendKeys: Array<[string, (v: unknown) => boolean, Position['check']?]> = [
  ['k', (v) => isIntegerIn(v, 0), (r, v) => expectRecommendations(r, Math.min(v === undefined ? 10 : (v as number), N_ITEMS))],
  ['explain', (v) => typeof v === 'boolean', (r, v) => {
    expectRecommendations(r);
    // With explain, every item carries its reasons (a filler item nobody bought may have none).
    for (const x of r) {
      expect(Array.isArray(x.because)).toBe(v === true);
      expect(typeof x.reason === 'string').toBe(v === true && x.because!.length > 0);
    }
  }],
  ['excludePurchased', (v) => typeof v === 'boolean' || v === null, (r, v) => {
    expectRecommendations(r);
    if (v === true) for (const x of r) expect(['1', '2', '12', 'milk']).not.toContain(x.item);
  }],
  ['exclude', (v) => idArray(v, knownItem), (r, v) => {
    expectRecommendations(r);
    for (const x of r) expect((v ?? []) as string[]).not.toContain(x.item);
  }],
  ['filter', (v) => v === null || typeof v === 'function', recommendations()],
  ['unknownItems', (v) => v === 'error' || v === 'skip', recommendations()],
  ['onUnknownItem', (v) => v === null || typeof v === 'function', recommendations()],
];

const POSITIONS: Position[] = [
  // ------------------------------------------------------------------ recommend
  { category: 'recommend: shopper', entry: 'recommend(shopper)', names: /shopper/, call: (v) => rec.recommend(v as never), valid: knownUser, check: recommendations() },
  optionsPosition('recommend: options', 'recommend(user, options)', /recommend/, (v) => rec.recommend('1', v as never), recommendations()),
  ...recommendKeys.map(([key, valid, check]) => keyPosition('recommend: options', 'recommend', key, (v) => rec.recommend('1', { [key]: v }), valid, check)),
  ...(['user', 'history', 'baskets', 'basket'] as const).map((key): Position => ({
    category: 'recommend: shopper fields',
    entry: `recommend({ ${key} })`,
    names: new RegExp(`shopper\\.${key}|shopper: gives no user`),
    call: (v) => rec.recommend({ [key]: v }),
    valid: (v) => (key === 'user' ? knownUser(v) : key === 'baskets' ? idArray(v, (b) => idArray(b, knownItem)) : idArray(v, knownItem)),
    check: recommendations(),
  })),
  ...(['history', 'basket'] as const).map((key): Position => ({
    category: 'recommend: shopper fields',
    entry: `recommend({ ${key}: [value] })`,
    names: new RegExp(`shopper\\.${key}\\[0\\]`),
    call: (v) => rec.recommend({ [key]: [v] }),
    valid: knownItem,
    check: recommendations(),
  })),
  { category: 'recommend: shopper fields', entry: 'recommend({ baskets: [value] })', names: /shopper\.baskets\[0\]/, call: (v) => rec.recommend({ baskets: [v as string[]] }), valid: (v) => idArray(v, knownItem), check: recommendations() },
  { category: 'recommend: shopper fields', entry: 'recommend({ baskets: [[value]] })', names: /shopper\.baskets\[0\]\[0\]/, call: (v) => rec.recommend({ baskets: [[v as string]] }), valid: knownItem, check: recommendations() },
  { category: 'recommend: shopper fields', entry: 'recommend({ baskets, days })', names: /shopper\.days/, call: (v) => rec.recommend({ baskets: [['1']], days: v as number[] }), valid: (v) => v === undefined || v === null || (Array.isArray(v) && v.length === 1 && v.every((d) => typeof d === 'number' && Number.isFinite(d))), check: recommendations() },
  { category: 'recommend: shopper fields', entry: 'recommend({ baskets, days: [value] })', names: /shopper\.days\[0\]/, call: (v) => rec.recommend({ baskets: [['1']], days: [v as number] }), valid: (v) => typeof v === 'number' && Number.isFinite(v), check: recommendations() },
  // ------------------------------------------------------------------ recommendBatch
  { category: 'recommendBatch', entry: 'recommendBatch(shoppers)', names: /shoppers/, call: (v) => rec.recommendBatch(v as never), valid: (v) => idArray(v, knownUser), check: (r, v) => {
    expect((r as unknown[]).length).toBe((v as unknown[]).length);
    for (const one of r as unknown[]) expectRecommendations(one);
  } },
  { category: 'recommendBatch', entry: 'recommendBatch([shopper])', names: /shoppers\[0\]/, call: (v) => rec.recommendBatch([v as string]), valid: knownUser, check: (r) => expectRecommendations((r as unknown[][])[0]) },
  optionsPosition('recommendBatch', 'recommendBatch(shoppers, options)', /recommendBatch/, (v) => rec.recommendBatch(['1'], v as never), (r) => expectRecommendations((r as unknown[][])[0])),
  keyPosition('recommendBatch', 'recommendBatch', 'k', (v) => rec.recommendBatch(['1', '2'], { k: v as number }), (v) => isIntegerIn(v, 0), (r, v) => {
    for (const one of r as unknown[]) expectRecommendations(one, Math.min(v === undefined ? 10 : (v as number), N_ITEMS));
  }),
  // ------------------------------------------------------------------ similarItems
  { category: 'similarItems', entry: 'similarItems(itemId)', names: /itemId/, call: (v) => rec.similarItems(v as string), valid: knownItem, check: (r, v) => {
    expectRecommendations(r);
    expect((r as Recommendation[]).map((x) => x.item)).not.toContain(v);
  } },
  optionsPosition('similarItems', 'similarItems(itemId, options)', /similarItems/, (v) => rec.similarItems('1', v as never), recommendations()),
  keyPosition('similarItems', 'similarItems', 'k', (v) => rec.similarItems('1', { k: v as number }), (v) => isIntegerIn(v, 0), (r, v) => expectRecommendations(r, v === undefined ? 10 : (v as number))),
  keyPosition('similarItems', 'similarItems', 'exclude', (v) => rec.similarItems('1', { exclude: v as string[] }), (v) => idArray(v, knownItem), recommendations()),
  // ------------------------------------------------------------------ save / load
  optionsPosition('save and load', 'save(options)', /save/, (v) => rec.save(v as never), (r) => expect(r).toEqual(BYTES)),
  { category: 'save and load', entry: 'HybridRecommender.load(bytes)', names: /Uint8Array|bytes/, call: (v) => HybridRecommender.load(v as Uint8Array) },
  optionsPosition('save and load', 'HybridRecommender.load(bytes, options)', /HybridRecommender\.load/, (v) => HybridRecommender.load(BYTES, v as never), async (r) => {
    expect((r as HybridRecommender).recommend('1')).toEqual(rec.recommend('1'));
  }),
  keyPosition('save and load', 'HybridRecommender.load', 'loaders', (v) => HybridRecommender.load(BYTES, { loaders: v as never }), (v) => isPlainEmpty(v), (r) => expect((r as HybridRecommender).recommend('1')).toEqual(rec.recommend('1'))),
  keyPosition('save and load', 'HybridRecommender.load', 'filter', (v) => HybridRecommender.load(BYTES, { filter: v as never }), (v) => v === null || typeof v === 'function', (r) => expectRecommendations((r as HybridRecommender).recommend('1'))),
  // ------------------------------------------------------------------ construct and fit
  { category: 'constructor and fit', entry: 'new HybridRecommender(init)', names: /HybridRecommender/, call: (v) => new HybridRecommender(v as never) },
  keyPosition('constructor and fit', 'HybridRecommender', 'strategies', (v) => new HybridRecommender({ strategies: v as never }), () => false, undefined, true),
  ...(
    [
      ['weights', (v: unknown) => isPlainEmpty(v)],
      ['tune', (v: unknown) => isPlainEmpty(v)],
      ['normalization', () => false],
      ['candidatesPerStrategy', (v: unknown) => isIntegerIn(v, 1) || v === Infinity],
      ['fallback', (v: unknown) => v === null],
      ['excludePurchased', (v: unknown) => typeof v === 'boolean'],
      ['exclude', (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string')],
      ['filter', (v: unknown) => v === null || typeof v === 'function'],
      ['recency', (v: unknown) => v === null || isPlainEmpty(v)],
    ] as const
  ).map(([key, valid]) => keyPosition('constructor and fit', 'HybridRecommender', key, (v) => new HybridRecommender({ strategies: { pop: new Popularity() }, [key]: v }), valid, (r) => expect(r).toBeInstanceOf(HybridRecommender))),
  { category: 'constructor and fit', entry: 'fit(data)', names: /HybridRecommender\.fit/, call: (v) => new HybridRecommender({ strategies: strategies() }).fit(v as never) },
  optionsPosition('constructor and fit', 'fit(data, options)', /HybridRecommender\.fit/, (v) => new HybridRecommender({ strategies: strategies() }).fit(data, v as never)),
  ...(
    [
      ['seed', (v: unknown) => isIntegerIn(v, -Infinity)],
      ['threads', (v: unknown) => isIntegerIn(v, 1)],
      ['onProgress', (v: unknown) => typeof v === 'function'],
      ['signal', () => false],
    ] as const
  ).map(([key, valid]) =>
    keyPosition('constructor and fit', 'HybridRecommender.fit', key, async (v) => {
      const fresh = new HybridRecommender({ strategies: { pop: new Popularity(), knn: new ItemKNN() } });
      await fresh.fit(data, { [key]: v });
      return fresh;
    }, valid, (r) => expectRecommendations((r as HybridRecommender).recommend('1'))),
  ),
  { category: 'constructor and fit', entry: 'strategy(name)', names: /HybridRecommender\.strategy/, call: (v) => rec.strategy(v as string) },
  // ------------------------------------------------------------------ evaluation
  { category: 'evaluation', entry: 'evaluate(ranker)', names: /ranker/, call: (v) => evaluate(v as never, nextBasket(data)) },
  { category: 'evaluation', entry: 'evaluate(ranker, split)', names: /split/, call: (v) => evaluate(ensembleRanker(rec), v as never) },
  optionsPosition('evaluation', 'evaluate(ranker, split, options)', /evaluate/, (v) => evaluate(ensembleRanker(rec), nextBasket(data), v as never), (r) => expect((r as { k: number }).k).toBe(10)),
  ...(
    [
      ['k', (v: unknown) => isIntegerIn(v, 1)],
      ['users', (v: unknown) => isIntegerIn(v, 0)],
      ['onProgress', (v: unknown) => typeof v === 'function'],
      ['signal', () => false],
    ] as const
  ).map(([key, valid]) => keyPosition('evaluation', 'evaluate', key, (v) => evaluate(ensembleRanker(rec), nextBasket(data), { [key]: v }), valid, (r) => expect(r).toHaveProperty('protocol'))),
  { category: 'evaluation', entry: 'ensembleRanker(rec)', names: /ensembleRanker/, call: (v) => ensembleRanker(v as never) },
  optionsPosition('evaluation', 'ensembleRanker(rec, options)', /ensembleRanker/, (v) => ensembleRanker(rec, v as never), (r) => expect(r).toHaveProperty('rankIndices')),
  { category: 'evaluation', entry: 'strategyRanker(rec)', names: /strategyRanker/, call: (v) => strategyRanker(v as never, 'pop') },
  { category: 'evaluation', entry: 'strategyRanker(rec, name)', names: /strategyRanker: name/, call: (v) => strategyRanker(rec, v as string) },
  { category: 'evaluation', entry: 'weightedRanker(rec)', names: /weightedRanker/, call: (v) => weightedRanker(v as never, {}) },
  { category: 'evaluation', entry: 'weightedRanker(rec, weights)', names: /weightedRanker: weights/, call: (v) => weightedRanker(rec, v as never), valid: (v) => v !== undefined && isPlainEmpty(v), check: (r) => expect(typeof (r as { rankIndices: unknown }).rankIndices).toBe('function') },
  { category: 'evaluation', entry: 'weightedRanker(rec, weights, normalization)', names: /weightedRanker: normalization/, call: (v) => weightedRanker(rec, {}, v as never), valid: (v) => v === undefined, check: (r) => expect(typeof (r as { rankIndices: unknown }).rankIndices).toBe('function') },
  ...(
    [
      ['nextBasket', (v: unknown) => nextBasket(v as never)],
      ['basketCompletion', (v: unknown) => basketCompletion(v as never)],
      ['holdoutTemporal', (v: unknown) => holdoutTemporal(v as never)],
      ['holdoutRandom', (v: unknown) => holdoutRandom(v as never)],
      ['nextBasketFixed', (v: unknown) => nextBasketFixed(v as never)],
    ] as const
  ).map(([name, call]): Position => ({ category: 'evaluation', entry: `${name}(data)`, names: new RegExp(name), call })),
  { category: 'evaluation', entry: 'basketCompletion(data, seed)', names: /basketCompletion: seed/, call: (v) => basketCompletion(data, v as number), valid: (v) => v === undefined || isIntegerIn(v, -Infinity), check: (r) => expect(r).toHaveProperty('queries') },
  // ------------------------------------------------------------------ data builders
  { category: 'data builders', entry: 'datasetFromInteractions(rows)', names: /datasetFromInteractions/, call: (v) => datasetFromInteractions(v as never) },
  { category: 'data builders', entry: 'recencyWeighted(data)', names: /recencyWeighted: data/, call: (v) => recencyWeighted(v as never) },
  optionsPosition('data builders', 'recencyWeighted(data, options)', /recencyWeighted/, (v) => recencyWeighted(TIMED, v as never), (r) => expect(r).toBeInstanceOf(Dataset)),
  ...(['halfLifeInteractions', 'halfLifeDays'] as const).map((key) =>
    keyPosition('data builders', 'recencyWeighted', key, (v) => recencyWeighted(TIMED, { [key]: v }), (v) => typeof v === 'number' && v > 0, (r) => expect(r).toBeInstanceOf(Dataset)),
  ),
  { category: 'data builders', entry: 'interactionsFromRows(rows)', names: /interactionsFromRows|row 1/, call: (v) => interactionsFromRows(v as never, { user: 'u', item: 'i' }), valid: (v) => Array.isArray(v) && v.length === 0, check: (r) => expect((r as { rows: { user: Int32Array } }).rows.user.length).toBe(0) },
  { category: 'data builders', entry: 'interactionsFromRows(rows, mapping)', names: /mapping/, call: (v) => interactionsFromRows([{ u: 'a', i: 'b' }], v as never) },
  { category: 'data builders', entry: 'interactionsFromRows(rows, mapping, options)', names: /interactionsFromRows/, call: (v) => interactionsFromRows([{ u: 'a', i: 'b' }], { user: 'u', item: 'i' }, v as never), valid: isPlainEmpty, check: (r) => expect((r as { rows: { user: Int32Array } }).rows.user.length).toBe(1) },
  { category: 'data builders', entry: 'datasetFromInstacart(tables)', names: /datasetFromInstacart/, call: (v) => datasetFromInstacart(v as never) },
  optionsPosition('data builders', 'datasetFromInstacart(tables, options)', /datasetFromInstacart/, (v) => datasetFromInstacart(generateGrocery({ users: 20, products: 30 }), v as never), (r) => expect((r as { dataset: { nUsers: number } }).dataset.nUsers).toBeGreaterThan(0)),
  // The defaults make a 1000-user shop (test/synthetic.test.ts runs it): here only the misuse.
  optionsPosition('data builders', 'generateGrocery(options)', /generateGrocery/, (v) => (isPlainEmpty(v) ? null : generateGrocery(v as never))),
  // ------------------------------------------------------------------ Node files
  { category: 'node files', entry: 'loadInteractionsCsv(path)', names: /path|loadInteractionsCsv|file/, call: (v) => loadInteractionsCsv(v as string, { mapping: { user: 'u', item: 'i' } }), valid: () => false },
  // The mapping is required, so no options value alone is valid.
  { category: 'node files', entry: 'loadInteractionsCsv(path, options)', names: /loadInteractionsCsv/, call: (v) => loadInteractionsCsv(join(TMP, 'rows.csv'), v as never) },
  keyPosition('node files', 'loadInteractionsCsv', 'mapping', (v) => loadInteractionsCsv(join(TMP, 'rows.csv'), { mapping: v as never }), () => false, undefined, true),
  { category: 'node files', entry: 'loadInstacart(dir)', names: /dir|loadInstacart|file|folder/, call: (v) => loadInstacart(v as string) },
  // A missing folder: valid options still end in a DataError naming it.
  { category: 'node files', entry: 'loadInstacart(dir, options)', names: /loadInstacart|no-instacart/, call: (v) => loadInstacart(join(TMP, 'no-instacart'), v as never) },
  { category: 'node files', entry: 'readInstacartTables(dir)', names: /dir|readInstacartTables|file|folder/, call: (v) => readInstacartTables(v as string) },
  { category: 'node files', entry: 'loadArtifactFile(path)', names: /path|loadArtifactFile|file/, call: (v) => loadArtifactFile(v as string) },
  // A non-empty string is a path: written under the temporary folder, and read back.
  { category: 'node files', entry: 'saveArtifactFile(path, bytes)', names: /saveArtifactFile: path/, call: (v) => saveArtifactFile(typeof v === 'string' && v !== '' ? join(TMP, v) : (v as string), BYTES), valid: (v) => typeof v === 'string' && v !== '', check: async (_r, v) => expect(await loadArtifactFile(join(TMP, v as string))).toEqual(BYTES) },
  { category: 'node files', entry: 'saveArtifactFile(path, bytes)', names: /bytes|saveArtifactFile/, call: (v) => saveArtifactFile(join(TMP, 'a.hrec'), v as never) },
  { category: 'node files', entry: 'loadRecommender(path)', names: /path|loadRecommender|file/, call: (v) => loadRecommender(v as string) },
  optionsPosition('node files', 'loadRecommender(path, options)', /HybridRecommender\.load|loadRecommender/, async (v) => {
    await saveRecommender(rec, join(TMP, 'model.hrec'));
    return loadRecommender(join(TMP, 'model.hrec'), v as never);
  }, (r) => expect((r as HybridRecommender).recommend('1')).toEqual(rec.recommend('1'))),
  { category: 'node files', entry: 'saveRecommender(rec, path)', names: /saveRecommender|rec/, call: (v) => saveRecommender(v as never, join(TMP, 'b.hrec')) },
  { category: 'node files', entry: 'readLines(path)', names: /path|readLines|file/, call: async (v) => {
    for await (const _ of readLines(v as string)) break;
  } },
  { category: 'node files', entry: 'loadNbrJson(dir, name)', names: /dir|name|loadNbrJson|file/, call: (v) => loadNbrJson(v as string, 'tafeng') },
];

/**
 * Strategy classes: `new X(options)`, and one position per option key. Which values a key
 * accepts is its check's business; the corpus asserts what holds for every key: a value of
 * another type than its default (for number, string, boolean and array defaults), NaN, and
 * bigint/symbol/exotic objects are typed errors naming `X.key`, and a value the class accepts
 * is kept exactly as given (no silent coercion).
 */
const CLASSES: Array<[string, { defaults: object; new (options?: never): { options: Record<string, unknown> } }]> = [
  ['Popularity', Popularity],
  ['RepeatPurchase', RepeatPurchase],
  ['ItemKNN', ItemKNN],
  ['NeuralCF', NeuralCF],
  ['ContentBased', ContentBased],
  ['TfidfEncoder', TfidfEncoder],
  ['MiniLMEncoder', MiniLMEncoder],
  ['AssociationRules', AssociationRules],
  ['CoPurchaseGraph', CoPurchaseGraph],
  ['ALS', ALS],
  ['EASE', EASE],
  ['TIFUKNN', TIFUKNN],
  ['SequentialRecommender', SequentialRecommender],
  ['TwoTower', TwoTower],
];
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
/** Options whose documented type is wider than their default's: a template may also be a function. */
const ALSO_FUNCTIONS = new Set(['ContentBased.template']);
for (const [name, Class] of CLASSES) {
  POSITIONS.push({ category: 'strategy options', entry: `new ${name}(options)`, names: new RegExp(name), call: (v) => new Class(v as never), valid: isPlainEmpty, check: (r) => expect(r).toBeInstanceOf(Class) });
  for (const [key, fallback] of Object.entries(Class.defaults)) {
    const typed = ['number', 'string', 'boolean', 'array'].includes(typeOf(fallback)) ? typeOf(fallback) : null;
    POSITIONS.push({
      category: 'strategy options',
      entry: `new ${name}({ ${key} })`,
      names: new RegExp(`${name}\\.${key}`),
      call: (v) => new Class({ [key]: v } as never),
      valid: (v) => v === undefined,
      check: (r) => expect(r).toBeInstanceOf(Class),
      accepted: (r, v) => {
        const exotic = typeof v === 'bigint' || typeof v === 'symbol' || Number.isNaN(v) || v instanceof Map || v instanceof Date || ArrayBuffer.isView(v);
        const widened = typeof v === 'function' && ALSO_FUNCTIONS.has(`${name}.${key}`);
        if (exotic || (typed !== null && typeOf(v) !== typed && !widened)) throw new Error(`new ${name}({ ${key}: ${String(v)} }) was accepted`);
        expect((r as { options: Record<string, unknown> }).options[key]).toEqual(v);
      },
    });
  }
}

/** Runs one position with one value. */
async function attempt(p: Position, label: string, value: unknown): Promise<void> {
  const what = `${p.entry} with ${label}`;
  let result: unknown;
  try {
    result = await p.call(value);
  } catch (e) {
    if (!(e instanceof HybridrecError)) throw new Error(`${what}: expected a typed error, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    if (p.valid?.(value)) throw new Error(`${what}: documented as valid, but threw ${e.name}: ${e.message}`);
    expect(e.message, what).toMatch(p.names);
    return;
  }
  if (p.valid?.(value)) await p.check?.(result, value);
  else if (p.accepted) p.accepted(result, value);
  else throw new Error(`${what}: silently accepted`);
}

beforeAll(async () => {
  await writeFile(join(TMP, 'rows.csv'), 'u,i\na,b\n');
});

describe('API corpus: every entry x every argument position x every hostile value', () => {
  const byCategory = new Map<string, Position[]>();
  for (const p of POSITIONS) byCategory.set(p.category, [...(byCategory.get(p.category) ?? []), p]);
  for (const [category, positions] of byCategory) {
    it(`${category}: ${positions.length} positions x ${VALUES.length} values`, async () => {
      for (const p of positions) {
        for (const [label, value] of VALUES) {
          await attempt(p, label, value);
          counted(category);
        }
      }
    }, 60_000);
  }
});

describe('API corpus: shoppers, unknown items, duplicates, option typos', () => {
  const typed = <E extends HybridrecError>(run: () => unknown, type: new (...args: never[]) => E, names: RegExp): E => {
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }
    expect(error, String(names)).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(names);
    return error as E;
  };
  const items = (recs: Recommendation[]) => recs.map((r) => r.item);

  it('numbers are never ids, strings are never lists, an empty shopper is an error', async () => {
    typed(() => rec.recommend(1 as never), HybridrecError, /^shopper: ids are strings, got number 1/);
    typed(() => rec.recommend({ user: 1 as never }), HybridrecError, /^shopper\.user: ids are strings, got number 1/);
    typed(() => rec.recommend({ history: [1, 2] as never }), HybridrecError, /^shopper\.history\[0\]: ids are strings, got number 1/);
    typed(() => rec.recommend({ history: '12' as never }), HybridrecError, /^shopper\.history: must be an array of id strings, got "12"/);
    typed(() => rec.recommend({ basket: 'ab' as never }), HybridrecError, /^shopper\.basket: must be an array/);
    typed(() => rec.recommend({ baskets: ['12'] as never }), HybridrecError, /^shopper\.baskets\[0\]: must be an array/);
    typed(() => rec.similarItems(12 as never), HybridrecError, /^itemId: ids are strings, got number 12/);
    await expect(rec.recommendBatch('12' as never)).rejects.toThrow(HybridrecError);
    await expect(rec.recommendBatch('12' as never)).rejects.toThrow(/^shoppers: must be an array/);
    typed(() => rec.recommend({}), HybridrecError, /^shopper: gives no user, history, baskets or basket/);
    typed(() => rec.recommend({ days: [1] }), HybridrecError, /^shopper\.days: needs baskets/);
    typed(() => rec.recommend({ baskets: [['1'], ['2']], days: [5, 1] }), HybridrecError, /^shopper\.days\[1\]: baskets go oldest first/);
    typed(() => rec.recommend({ baskets: [['1'], ['2']], days: [1] }), HybridrecError, /^shopper\.days: has 1 days for 2 baskets/);
    typed(() => rec.recommend('1', { user: '1' } as never), HybridrecError, /^recommend\.user: is part of the shopper/);
    for (let k = 0; k < 13; k++) counted('shoppers');
  });

  it('a user with a history: the history is the shopper (documented), whoever the user is', () => {
    const history = ['1', 'jam'];
    const alone = rec.recommend({ history });
    expect(rec.recommend({ user: '2', history })).toEqual(alone);
    expect(rec.recommend({ user: 'nobody', history })).toEqual(alone);
    expect(rec.recommend({ user: '1' })).toEqual(rec.recommend('1'));
    // { history: [] } is the explicit cold start: only the non-personal strategy (pop) and the fallback answer.
    const cold = rec.recommend({ history: [] });
    expect(cold.length).toBeGreaterThan(0);
    for (const r of cold) for (const source of Object.keys(r.sources)) expect(['pop', 'fallback']).toContain(source);
    for (let k = 0; k < 4; k++) counted('shoppers');
  });

  it("k: '5', true, [5], '0x10', -1, 1.5 are errors; 0, 1e3 and 2^53 the documented lists", () => {
    for (const k of ['5', true, [5], '0x10', -1, 1.5, NaN, Infinity, null]) {
      typed(() => rec.recommend('1', { k: k as never }), HybridrecError, /^recommend\.k: must be an integer >= 0/);
      counted('k');
    }
    expect(rec.recommend('1', { k: 0 })).toEqual([]);
    for (const k of [1e3, 2 ** 31, 2 ** 53]) {
      const all = rec.recommend('1', { k });
      expect(all.length).toBe(N_ITEMS);
      expect(items(all).slice(0, 10)).toEqual(items(rec.recommend('1')));
      expect(rec.similarItems('1', { k }).length).toBeLessThan(N_ITEMS);
      counted('k');
    }
    counted('k');
  });

  it('unknown items: an UnknownIdError naming the field, or skipped with every skip reported exactly', async () => {
    const cases: Array<[string, () => unknown, (skip: { unknownItems: 'skip'; onUnknownItem: (id: string, field: string) => void }) => unknown, Array<[string, string]>, () => unknown]> = [
      ['history', () => rec.recommend({ history: ['1', 'zz', '2', 'zz', 'yy'] }), (o) => rec.recommend({ history: ['1', 'zz', '2', 'zz', 'yy'] }, o), [['zz', 'shopper.history[1]'], ['zz', 'shopper.history[3]'], ['yy', 'shopper.history[4]']], () => rec.recommend({ history: ['1', '2'] })],
      ['basket', () => rec.recommend({ basket: ['zz', 'jam'] }), (o) => rec.recommend({ basket: ['zz', 'jam'] }, o), [['zz', 'shopper.basket[0]']], () => rec.recommend({ basket: ['jam'] })],
      ['baskets', () => rec.recommend({ baskets: [['1'], ['zz', '2', 'yy']] }), (o) => rec.recommend({ baskets: [['1'], ['zz', '2', 'yy']] }, o), [['zz', 'shopper.baskets[1][0]'], ['yy', 'shopper.baskets[1][2]']], () => rec.recommend({ baskets: [['1'], ['2']] })],
      ['exclude', () => rec.recommend('1', { exclude: ['jam', 'zz'] }), (o) => rec.recommend('1', { exclude: ['jam', 'zz'], ...o }), [['zz', 'options.exclude[1]']], () => rec.recommend('1', { exclude: ['jam'] })],
      ['similarItems exclude', () => rec.similarItems('1', { exclude: ['zz'] }), (o) => rec.similarItems('1', { exclude: ['zz'], ...o }), [['zz', 'options.exclude[0]']], () => rec.similarItems('1')],
    ];
    for (const [what, strict, skipping, expected, without] of cases) {
      const error = typed(strict, UnknownIdError, new RegExp(`unknown item id "${expected[0][0]}" \\(${expected[0][1].replace(/[[\].]/g, '\\$&')}\\)`));
      expect([error.kind, error.id, error.field], what).toEqual(['item', expected[0][0], expected[0][1]]);
      const skipped: Array<[string, string]> = [];
      const result = skipping({ unknownItems: 'skip', onUnknownItem: (id, field) => skipped.push([id, field]) });
      expect(skipped, what).toEqual(expected);
      expect(result, what).toEqual(without());
      // Skipping without a callback is allowed too, with the same answer.
      expect(skipping({ unknownItems: 'skip', onUnknownItem: null as never }), what).toEqual(without());
      counted('unknown items');
      counted('unknown items');
    }
    // A batch (async): the same checks, each shopper named by its place.
    const error = await rec.recommendBatch(['1', { history: ['zz'] }]).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownIdError);
    expect([(error as UnknownIdError).kind, (error as UnknownIdError).id, (error as UnknownIdError).field]).toEqual(['item', 'zz', 'shoppers[1].history[0]']);
    const skipped: Array<[string, string]> = [];
    const without = await rec.recommendBatch(['1', { history: ['2'] }]);
    expect(await rec.recommendBatch(['1', { history: ['zz', '2'] }], { unknownItems: 'skip', onUnknownItem: (id, field) => skipped.push([id, field]) })).toEqual(without);
    expect(skipped).toEqual([['zz', 'shoppers[1].history[0]']]);
    expect(await rec.recommendBatch(['1', { history: ['zz', '2'] }], { unknownItems: 'skip', onUnknownItem: null })).toEqual(without);
    counted('unknown items');
    counted('unknown items');
  });

  it('duplicate ids: repeats in a history count (documented), in a basket, exclude list or batch they change nothing', async () => {
    const repeatOnly = new HybridRecommender({ strategies: { repeat: new RepeatPurchase() }, fallback: null });
    await repeatOnly.fit(data);
    const [first, second] = repeatOnly.recommend({ history: ['jam', 'milk', 'jam'] });
    expect([first.item, second.item]).toEqual(['jam', 'milk']);
    expect(first.sources.repeat / second.sources.repeat).toBeCloseTo(2, 5);
    expect(rec.recommend({ basket: ['jam', 'jam'] })).toEqual(rec.recommend({ basket: ['jam'] }));
    expect(items(rec.recommend({ basket: ['jam', 'jam'] }))).not.toContain('jam');
    expect(rec.recommend('1', { exclude: ['jam', 'jam'] })).toEqual(rec.recommend('1', { exclude: ['jam'] }));
    const [a, b] = await rec.recommendBatch(['1', '1']);
    expect(a).toEqual(b);
    expect(a).toEqual(rec.recommend('1'));
    for (let k = 0; k < 5; k++) counted('duplicates');
  });

  it('sizes far beyond the data (2^31, 2^53) fit and serve like the largest meaningful size, never a RangeError', async () => {
    // Size options bound lists (neighbors, rules, candidates, itemset length): above the data's
    // own size they change nothing, and must not size an allocation.
    const sized: Array<[string, (v: number) => Recommender]> = [
      ['ItemKNN.neighbors', (v) => new ItemKNN({ neighbors: v })],
      ['CoPurchaseGraph.neighbors', (v) => new CoPurchaseGraph({ neighbors: v, minCount: 1 })],
      ['TIFUKNN.neighbors', (v) => new TIFUKNN({ neighbors: v })],
      ['TIFUKNN.groups', (v) => new TIFUKNN({ groups: v })],
      ['Popularity.maxItems', (v) => new Popularity({ maxItems: v })],
      ['AssociationRules.maxLength', (v) => new AssociationRules({ maxLength: v, minCount: 1, minSupport: 0 })],
      ['AssociationRules.maxRules', (v) => new AssociationRules({ maxRules: v, minCount: 1, minSupport: 0 })],
      ['AssociationRules.maxItemsets', (v) => new AssociationRules({ maxItemsets: v, minCount: 1, minSupport: 0 })],
      ['ContentBased.maxCandidates', (v) => new ContentBased({ maxCandidates: v })],
    ];
    for (const [what, make] of sized) {
      const served: Recommendation[][] = [];
      for (const v of [1000, 2 ** 31, 2 ** 53]) {
        const one = new HybridRecommender({ strategies: { s: make(v) }, candidatesPerStrategy: v, fallback: null });
        await one.fit(data);
        served.push(one.recommend({ history: ['1', 'jam'] }, { k: v }));
      }
      expect(served[1], what).toEqual(served[0]);
      expect(served[2], what).toEqual(served[0]);
      counted('sizes beyond the data');
    }
  });

  it('unknown option keys: an OptionError naming the key and the option meant', async () => {
    const typos: Array<[string, () => unknown, RegExp]> = [
      ['recommend', () => rec.recommend('1', { K: 5 } as never), /recommend\.K: unknown option; did you mean "k"\?/],
      ['recommend', () => rec.recommend('1', { exlude: [] } as never), /recommend\.exlude: unknown option; did you mean "exclude"\?/],
      ['shopper', () => rec.recommend({ histroy: ['1'] } as never), /shopper\.histroy: unknown option; did you mean "history"\?/],
      ['recommendBatch', () => rec.recommendBatch(['1'], { explian: true } as never), /recommendBatch\.explian: unknown option; did you mean "explain"\?/],
      ['similarItems', () => rec.similarItems('1', { excludePurchased: true } as never), /similarItems\.excludePurchased: unknown option/],
      ['save', () => rec.save({ compress: true } as never), /save\.compress: unknown option/],
      ['load', () => HybridRecommender.load(BYTES, { loader: {} } as never), /HybridRecommender\.load\.loader: unknown option; did you mean "loaders"\?/],
      ['constructor', () => new HybridRecommender({ strategies: strategies(), weight: {} } as never), /HybridRecommender\.weight: unknown option; did you mean "weights"\?/],
      ['fit', () => new HybridRecommender({ strategies: strategies() }).fit(data, { sed: 1 } as never), /HybridRecommender\.fit\.sed: unknown option; did you mean "seed"\?/],
      ['evaluate', () => evaluate(ensembleRanker(rec), nextBasket(data), { kk: 3 } as never), /evaluate\.kk: unknown option; did you mean "k"\?/],
      ['generateGrocery', () => generateGrocery({ user: 5 } as never), /generateGrocery\.user: unknown option; did you mean "users"\?/],
      ['strategy', () => new ItemKNN({ neighbours: 5 } as never), /ItemKNN\.neighbours: unknown option; did you mean "neighbors"\?/],
    ];
    for (const [what, run, names] of typos) {
      let error: unknown;
      try {
        await run();
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(HybridrecError);
      expect((error as Error).message, what).toMatch(names);
      counted('unknown option keys');
    }
  });
});
