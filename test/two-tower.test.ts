import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import type { Dataset } from '../src/data/dataset';
import { ArtifactError, NotFittedError, OptionError } from '../src/errors';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { TwoTower, type TwoTowerOptions } from '../src/strategies/two-tower';
import { TwoTowerScorer, type TwoTowerWeights } from '../src/strategies/two-tower/model';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { exactIndex } from '../src/util/ann';
import { basketsDataset, expectAbortMidRun, groupOf, plantedGroups } from './fixtures';

/** Words that name each planted group in the item texts. */
const GROUP_WORDS = ['yogurt', 'lager', 'apple', 'pasta', 'shampoo', 'coffee'];

/**
 * plantedGroups (6 groups of 10 items, users buy 4 of their group's items, 20% one stray item)
 * with item texts "<group word> <item id>" (the id a word of its own), plus a cold item "fresh yogurt" nobody bought, whose
 * only link to group 0 is its word "yogurt".
 */
function groceryGroups(seed: number, users = 180): Dataset {
  const data = plantedGroups(seed, { users });
  for (let i = 0; i < data.nItems; i++) {
    const id = data.items.id(i);
    data.catalog.name[i] = `${GROUP_WORDS[groupOf(id)]} ${id}`;
  }
  return withColdItem(data);
}

/** The same dataset with one extra item nobody bought ("zcold", named "fresh yogurt"). */
function withColdItem(data: Dataset): Dataset {
  // Rebuild through the fixture path: plantedGroups' catalog plus one extra item id sorted last.
  const items = data.items;
  const ids = Array.from({ length: items.size }, (_, i) => items.id(i));
  const baskets: Record<string, string[][]> = {};
  for (let u = 0; u < data.nUsers; u++) {
    const b: string[][] = [];
    for (let k = data.baskets.userPtr[u]; k < data.baskets.userPtr[u + 1]; k++) {
      b.push(Array.from(data.baskets.items.subarray(data.baskets.itemPtr[k], data.baskets.itemPtr[k + 1]), (i) => ids[i]));
    }
    baskets[data.users.id(u)] = b;
  }
  const catalog: Record<string, { name: string }> = {};
  ids.forEach((id, i) => (catalog[id] = { name: data.catalog.name[i] }));
  catalog.zcold = { name: 'fresh yogurt' };
  return basketsDataset(baskets, { catalog });
}

const FAST: Partial<TwoTowerOptions> = { factors: 16, hidden: 8, epochs: 8, batchSize: 64, learningRate: 0.02, validationShare: 0, backend: 'cpu' };

const userGroup = (data: Dataset, u: number) => Number(data.users.id(u).slice(1)) % 6;

/** score()'s values, -Infinity for the items it left unscored (the two stages score rankCandidates items). */
function scores(s: TwoTower, nItems: number, query: Query): Float32Array {
  const out = new ScoreVector(nItems);
  s.score(query, out);
  return Float32Array.from(out.values, (v, i) => (out.has(i) ? v : -Infinity));
}

function top(values: Float32Array, k: number, skip: (i: number) => boolean = () => false): number[] {
  return Array.from(values.keys())
    .filter((i) => !skip(i))
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, k);
}

/** Share of the top 10 of each user that is an item of their own group. */
function ownGroupShare(s: TwoTower, data: Dataset, queryOf: (u: number) => Query): number {
  let hits = 0;
  const cold = data.items.indexOf('zcold');
  for (let u = 0; u < data.nUsers; u++) {
    const g = userGroup(data, u);
    hits += top(scores(s, data.nItems, queryOf(u)), 10, (i) => i === cold).filter((i) => groupOf(data.items.id(i)) === g).length;
  }
  return hits / (10 * data.nUsers);
}

function roundTrip(s: TwoTower, customerData = true): TwoTower {
  const w = new ArtifactWriter();
  const state = s.save(w.scope('tt'), { customerData });
  const r = ArtifactReader.open(w.toBytes(state));
  return TwoTower.load(r.root as JsonObject, r.scope('tt'));
}

function artifact(s: TwoTower): { state: JsonObject; sections: Map<string, Float32Array | Int32Array | Uint8Array> } {
  const w = new ArtifactWriter();
  const state = s.save(w.scope('tt'));
  const r = ArtifactReader.open(w.toBytes(state));
  const sections = new Map(r.sectionNames.map((n) => [n, r.array(n).slice() as Float32Array | Int32Array | Uint8Array]));
  return { state: r.root as JsonObject, sections };
}

function loadEdited(state: JsonObject, sections: Map<string, Float32Array | Int32Array | Uint8Array>): TwoTower {
  const w = new ArtifactWriter();
  for (const [name, a] of sections) w.array(name, a);
  const r = ArtifactReader.open(w.toBytes(state));
  return TwoTower.load(r.root as JsonObject, r.scope('tt'));
}

function artifactError(run: () => unknown): ArtifactError {
  try {
    run();
  } catch (e) {
    if (e instanceof ArtifactError) return e;
    throw e;
  }
  throw new Error('expected an ArtifactError');
}

describe('TwoTower scorer: known answers on hand-set weights', () => {
  // 2 users, 3 items, 2 terms, factors 2, hidden 1. Item 2 has no id embedding learned (0) and
  // text term 1 only: its vector is textW[1].
  const w: TwoTowerWeights = {
    nUsers: 2,
    nItems: 3,
    nTerms: 2,
    factors: 2,
    hidden: 1,
    temperature: 2,
    userId: Float32Array.of(1, 0, 0, 1),
    userHasData: Uint8Array.of(1, 0),
    itemId: Float32Array.of(1, 0, 0, 1, 0, 0),
    history: Float32Array.of(2, 0, 0, 2, 4, 4),
    textW: Float32Array.of(0.5, 0, 0, 3),
    text: { indptr: Int32Array.of(0, 1, 1, 2), indices: Int32Array.of(0, 1), values: Float32Array.of(1, 1) },
    rankKernel: Float32Array.of(1, 1),
    rankBias: Float32Array.of(-1),
    rankOut: Float32Array.of(2),
    rankOutBias: Float32Array.of(0.5),
  };
  // Item vectors: v0 = (1, 0) + 0.5 * (1, 0)... term 0 row is (0.5, 0): v0 = (1.5, 0); v1 = (0, 1); v2 = (0, 3).

  it('item vectors, retrieval, ranking and their sum', () => {
    const s = new TwoTowerScorer(w, 'sum');
    expect(Array.from(s.vectors)).toEqual([1.5, 0, 0, 1, 0, 3]);
    // User 0 with history [item 1]: u = (1, 0) + (0, 2) = (1, 2).
    expect(s.setUser(0, [1])).toBe(true);
    expect(Array.from(s.user)).toEqual([1, 2]);
    // Retrieval u.v / 2: item 0 0.75, item 1 1, item 2 3.
    expect([0, 1, 2].map((i) => s.retrieval(i))).toEqual([0.75, 1, 3]);
    // Ranking: 0.5 + 2 * relu((u * v) . (1, 1) - 1): item 0 relu(0.5) -> 1.5; item 1 relu(1) -> 2.5; item 2 relu(5) -> 10.5.
    expect([0, 1, 2].map((i) => s.ranking(i))).toEqual([1.5, 2.5, 10.5]);
    expect([0, 1, 2].map((i) => s.score(i))).toEqual([2.25, 3.5, 13.5]);
  });

  it('fold-in is the pooled history alone: a user without an id embedding, or -1', () => {
    const s = new TwoTowerScorer(w, 'retrieval');
    // User 1 has no training data: u = mean(history[0], history[2]) = ((2 + 4) / 2, (0 + 4) / 2) = (3, 2).
    s.setUser(1, [0, 2]);
    expect(Array.from(s.user)).toEqual([3, 2]);
    const again = new TwoTowerScorer(w, 'retrieval');
    again.setUser(-1, [0, 2]);
    expect(Array.from(again.user)).toEqual([3, 2]);
    expect(s.setUser(-1, [])).toBe(false);
    // A known user with no history: the id embedding alone.
    expect(s.setUser(0, [])).toBe(true);
    expect(Array.from(s.user)).toEqual([1, 0]);
  });

  it('history and text-term contributions add up to the retrieval score', () => {
    const s = new TwoTowerScorer(w, 'retrieval');
    s.setUser(-1, [0, 2]);
    // u = (3, 2); item 2 = (0, 3): retrieval 6 / 2 = 3; history[0].v2 / (2 * 2) = 0, history[2].v2 / 4 = 3.
    expect(s.retrieval(2)).toBe(3);
    expect(s.historyContribution(0, 2, 2) + s.historyContribution(2, 2, 2)).toBe(3);
    // Item 2 is all text: term 1 gives 1 * (textW[1] . u) / 2 = 6 / 2 = 3.
    expect(s.termContributions(2)).toEqual([{ term: 1, weight: 3 }]);
    // Cosine of items 1 and 2 (both along the second axis) is 1; of 0 and 1, 0.
    expect(s.cosine(1, 2)).toBeCloseTo(1, 12);
    expect(s.cosine(0, 1)).toBe(0);
  });
});

describe('TwoTower on planted groups with item texts', () => {
  const data = groceryGroups(11);
  const cold = data.items.indexOf('zcold');
  let model: TwoTower;
  const progress: Array<{ done: number; total: number }> = [];
  beforeAll(async () => {
    model = new TwoTower(FAST);
    await model.fit(data, { seed: 5, onProgress: (p) => progress.push({ done: p.done, total: p.total }) });
  }, 60_000);

  it('ranks each user’s own group first (known users and fold-in from the history alone)', () => {
    expect(ownGroupShare(model, data, (u) => userQuery(data, u))).toBeGreaterThanOrEqual(0.9);
    expect(ownGroupShare(model, data, (u) => anonymousQuery(userQuery(data, u).history.items))).toBeGreaterThanOrEqual(0.85);
  });

  it('reports progress once per epoch and a falling loss', () => {
    expect(progress.map((p) => p.done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const info = model.trainingInfo!;
    expect(info.loss.length).toBe(8);
    expect(info.loss[7]).toBeLessThan(info.loss[0]);
    expect(info.validation).toEqual([]);
    expect(info.positives).toBe(data.interactions.nnz);
  });

  it('a never-sold item gets its vector from its text: near its group, for its group’s shoppers', () => {
    // Its nearest items are group 0's ("yogurt").
    const similar = model.similarItems(cold, 5);
    expect(Array.from(similar.items, (i) => groupOf(data.items.id(i))).filter((g) => g === 0).length).toBeGreaterThanOrEqual(4);
    
    // Group 0's shoppers rank it above every item of the other groups, on average over them.
    let above = 0;
    let groupZero = 0;
    for (let u = 0; u < data.nUsers; u++) {
      if (userGroup(data, u) !== 0) continue;
      groupZero++;
      const out = new ScoreVector(data.nItems);
      model.score(userQuery(data, u), out);
      expect(out.has(cold)).toBe(true);
      let others = 0;
      let below = 0;
      for (let i = 0; i < data.nItems; i++) {
        if (i === cold || groupOf(data.items.id(i)) === 0) continue;
        others++;
        // An item the two stages left unscored ranks below every scored one.
        if (!out.has(i) || out.values[i] < out.values[cold]) below++;
      }
      above += below / others;
    }
    expect(above / groupZero).toBeGreaterThanOrEqual(0.9);
    // And group 3's shoppers do not: it is below most of their own group.
    const u3 = Array.from({ length: data.nUsers }, (_, u) => u).find((u) => userGroup(data, u) === 3)!;
    const v3 = scores(model, data.nItems, userQuery(data, u3));
    const own3 = Array.from({ length: data.nItems }, (_, i) => i).filter((i) => i !== cold && groupOf(data.items.id(i)) === 3);
    expect(own3.filter((i) => v3[i] > v3[cold]).length).toBeGreaterThanOrEqual(8);
  });

  it('explains with the shopper’s own group items and the item’s text terms', () => {
    const u = Array.from({ length: data.nUsers }, (_, k) => k).find((k) => userGroup(data, k) === 0)!;
    const q = userQuery(data, u);
    const target = top(scores(model, data.nItems, q), 1, (i) => q.history.items.includes(i))[0];
    const e = model.explain(q, target, (i) => data.items.id(i))!;
    expect(Math.fround(e.score)).toBe(scores(model, data.nItems, q)[target]);
    expect(e.evidence.length).toBeGreaterThan(0);
    for (const ev of e.evidence) expect(groupOf(data.items.id(ev.item))).toBe(0);
    const terms = model.explainTerms(q, cold);
    expect(terms[0].term).toBe('yogurt');
    expect(model.explain(anonymousQuery([]), target, String)).toBeNull();
  });

  it('loads back to identical scores, explanations and similar items', () => {
    const again = roundTrip(model);
    for (const q of [userQuery(data, 0), userQuery(data, 7), anonymousQuery([1, 2, 3], [cold])]) {
      expect(scores(again, data.nItems, q)).toEqual(scores(model, data.nItems, q));
      expect(again.explain(q, 4, String)).toEqual(model.explain(q, 4, String));
    }
    expect(again.similarItems(cold, 5)).toEqual(model.similarItems(cold, 5));
    expect(again.trainingInfo).toEqual(model.trainingInfo);
  });

  it('a serving artifact (no customer data) folds every user in from their history', () => {
    const serving = roundTrip(model, false);
    const q = userQuery(data, 3);
    const folded = anonymousQuery(q.history.items);
    expect(scores(serving, data.nItems, q)).toEqual(scores(model, data.nItems, folded));
  });

  it('unknown fields, options and bad sections are ArtifactErrors naming the field', () => {
    const { state, sections } = artifact(model);
    const cases: Array<[string, (s: JsonObject) => void, string]> = [
      ['an unknown state key', (s) => (s.unexpected = 1), 'unexpected'],
      ['an unknown option', (s) => ((s.options as JsonObject).layers = 2), 'options.layers'],
      ['a task weight missing', (s) => delete ((s.options as JsonObject).taskWeights as JsonObject).ranking, 'options.taskWeights'],
      ['an unknown training field', (s) => ((s.training as JsonObject).epochs = 3), 'training.epochs'],
      ['nTerms off by one', (s) => (s.nTerms = (s.nTerms as number) + 1), 'nTerms'],
      ['a version from elsewhere', (s) => (s.version = 2), 'version'],
    ];
    for (const [what, edit, field] of cases) {
      const edited = structuredClone(state);
      edit(edited);
      const e = artifactError(() => loadEdited(edited, sections));
      expect(e.field === field || e.field!.startsWith(`${field}.`), `${what}: ${e.field}`).toBe(true);
    }
    const poisoned = new Map(sections);
    const itemId = (sections.get('tt/itemId') as Float32Array).slice();
    itemId[3] = NaN;
    poisoned.set('tt/itemId', itemId);
    expect([artifactError(() => loadEdited(state, poisoned)).section, artifactError(() => loadEdited(state, poisoned)).field]).toEqual(['tt/itemId', '[3]']);
    const badTerm = new Map(sections);
    const indices = (sections.get('tt/text/indices') as Int32Array).slice();
    indices[0] = 1e6;
    badTerm.set('tt/text/indices', indices);
    expect(artifactError(() => loadEdited(state, badTerm)).section).toBe('tt/text/indices');
  });
});

describe('TwoTower with a vector index (candidate retrieval through the ANN interface)', () => {
  const data = groceryGroups(11);

  it('the exact index retrieves the same candidates as the full scan, for both scorings', async () => {
    for (const scoring of ['sum', 'retrieval'] as const) {
      const o = { ...FAST, scoring, rankCandidates: 10, indexCandidates: 15 };
      const plain = new TwoTower(o);
      await plain.fit(data, { seed: 5 });
      const indexed = new TwoTower(o);
      await indexed.fit(data, { seed: 5 });
      expect(await indexed.useVectorIndex(exactIndex())).toBe('built');
      for (const u of [0, 5, 9]) {
        const q = userQuery(data, u);
        const full = scores(plain, data.nItems, q);
        const viaIndex = scores(indexed, data.nItems, q);
        const touched = (v: Float32Array) => Array.from(v.keys()).filter((i) => v[i] !== -Infinity);
        if (scoring === 'sum') {
          // Two stages either way: the 10 best by u . v, scored alike.
          expect(viaIndex).toEqual(full);
        } else {
          // The index's 15 best by u . v are the full scan's 15 best, with the full scan's scores.
          expect(touched(viaIndex)).toEqual(top(full, 15).sort((a, b) => a - b));
          for (const i of touched(viaIndex)) expect(viaIndex[i]).toBe(full[i]);
        }
      }
      // A saved model keeps no exact index (it rebuilds cheaply): the loaded one scans in full until one is attached.
      const again = roundTrip(indexed);
      expect(scores(again, data.nItems, userQuery(data, 0))).toEqual(scores(plain, data.nItems, userQuery(data, 0)));
      expect(await indexed.useVectorIndex(null)).toBe('detached');
    }
  }, 60_000);
});

describe('TwoTower: seeds, tasks, abort and options', () => {
  const data = groceryGroups(3, 90);

  it('the same seed gives identical scores, another seed others', async () => {
    const fit = async (seed: number) => {
      const s = new TwoTower({ ...FAST, epochs: 2 });
      await s.fit(data, { seed });
      return scores(s, data.nItems, userQuery(data, 2));
    };
    const a = await fit(1);
    expect(await fit(1)).toEqual(a);
    expect(await fit(2)).not.toEqual(a);
  }, 60_000);

  it('either task alone still learns the groups (taskWeights), and early stopping keeps its best epoch', async () => {
    const retrievalOnly = new TwoTower({ ...FAST, taskWeights: { retrieval: 1, ranking: 0 }, scoring: 'retrieval' });
    await retrievalOnly.fit(data, { seed: 1 });
    expect(ownGroupShare(retrievalOnly, data, (u) => userQuery(data, u))).toBeGreaterThanOrEqual(0.85);
    const rankingOnly = new TwoTower({ ...FAST, taskWeights: { retrieval: 0, ranking: 1 }, scoring: 'ranking', validationShare: 0.3, patience: 1, epochs: 12 });
    await rankingOnly.fit(data, { seed: 1 });
    expect(ownGroupShare(rankingOnly, data, (u) => userQuery(data, u))).toBeGreaterThanOrEqual(0.8);
    const info = rankingOnly.trainingInfo!;
    expect(info.validation.length).toBe(info.loss.length);
    expect(info.validationPositives).toBeGreaterThan(0);
    expect(info.validation[info.bestEpoch - 1]).toBe(Math.max(...info.validation));
  }, 60_000);

  it('aborts between batches when the signal fires after training started', async () => {
    // A batch of 2 and many epochs: training runs for seconds, the timer fires well inside it.
    const s = new TwoTower({ ...FAST, batchSize: 2, epochs: 50 });
    await expectAbortMidRun((signal) => s.fit(data, { signal }), /TwoTower/, 50);
    expect(s.fitted).toBe(false);
  }, 60_000);

  it('rejects bad options with an OptionError naming them', () => {
    expect(() => new TwoTower({ factor: 8 } as Partial<TwoTowerOptions>)).toThrow(/factors/);
    expect(() => new TwoTower({ taskWeights: { retrieval: 0, ranking: 0 } })).toThrow(OptionError);
    expect(() => new TwoTower({ taskWeights: { retrieval: 1 } as never })).toThrow(/taskWeights.ranking/);
    expect(() => new TwoTower({ taskWeights: { retrieval: 1, ranking: 0 }, scoring: 'sum' })).toThrow(/scoring/);
    expect(() => new TwoTower({ itemIdDropout: 1 })).toThrow(OptionError);
    expect(() => new TwoTower({ template: '{brand}' })).toThrow(/placeholder/);
    expect(() => new TwoTower().score(anonymousQuery([0]), new ScoreVector(1))).toThrow(NotFittedError);
  });
});
