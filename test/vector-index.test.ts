/**
 * Candidate retrieval through a vector index: ALS's, NeuralCF's (GMF) and dense ContentBased's
 * useVectorIndex, and HybridRecommender's `vectorIndex` option attaching one to every dense
 * member (ALS, TwoTower, NeuralCF, dense ContentBased here), saved with
 * the artifact and restored by load (docs/ann.md). On these small catalogs an HNSW graph
 * finds the exact neighbours, so the indexed results must equal the full scan's.
 */
import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { OptionError } from '../src/errors';
import { hnswlibIndex } from '../src/node/ann';
import { ALS } from '../src/strategies/als';
import { ContentBased, MiniLMEncoder, type DenseItemVectors } from '../src/strategies/content';
import { NeuralCF } from '../src/strategies/neural-cf';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { TwoTower } from '../src/strategies/two-tower';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { isVectorIndexed, type VectorIndexFactory } from '../src/util/ann';
import { optionsToJson } from '../src/util/options';
import { mulberry32 } from '../src/util/random';
import { plantedGroups } from './fixtures';

const data = plantedGroups(3, { users: 240, groups: 6, perGroup: 20 });
const CANDIDATES = 15;

const PLANTED_DIM = 8;

/**
 * A dense encoder without a model: item "g<g>i<i>" gets unit vector e_g plus seeded noise, so
 * items of a group are near each other. Saved as a MiniLMEncoder (which loads without its model).
 */
class PlantedEncoder extends MiniLMEncoder {
  override async fit(texts: readonly string[]): Promise<DenseItemVectors> {
    return this.encode(texts);
  }

  override async encode(texts: readonly string[]): Promise<DenseItemVectors> {
    const data = new Float32Array(texts.length * PLANTED_DIM);
    texts.forEach((text, r) => {
      const rng = mulberry32(r + 1);
      const row = data.subarray(r * PLANTED_DIM, (r + 1) * PLANTED_DIM);
      for (let j = 0; j < PLANTED_DIM; j++) row[j] = 0.4 * (rng() - 0.5);
      row[Number(text.slice(1, text.indexOf('i')))] += 1;
      const norm = Math.hypot(...row);
      for (let j = 0; j < PLANTED_DIM; j++) row[j] /= norm;
    });
    return { format: 'dense', rows: texts.length, dim: PLANTED_DIM, data };
  }

  override get dim(): number {
    return PLANTED_DIM;
  }

  override save(): JsonObject {
    return { kind: 'minilm', options: optionsToJson(this.options), dim: PLANTED_DIM };
  }
}

function scoresOf(model: ALS | NeuralCF | ContentBased, q: Query): Float32Array {
  const out = new ScoreVector(data.nItems);
  model.score(q, out);
  return Float32Array.from({ length: data.nItems }, (_, i) => (out.has(i) ? out.values[i] : -Infinity));
}

/**
 * The items an indexed score() touched, checked against the full scan of the same query: exactly
 * the scan's CANDIDATES best plus the query's own items (history and basket).
 */
function expectIndexCandidates(via: Float32Array, full: Float32Array, q: Query, what: string): number[] {
  const touched = Array.from(via.keys()).filter((i) => via[i] !== -Infinity);
  const best = Array.from(full.keys()).sort((a, b) => full[b] - full[a] || a - b).slice(0, CANDIDATES);
  const own = [...q.history.items, ...q.basket];
  expect(touched, what).toEqual([...new Set([...best, ...own])].sort((a, b) => a - b));
  return touched;
}

/** hnswlibIndex() that counts its builds and restores. */
function counting(): { factory: VectorIndexFactory; builds: number; restores: number } {
  const inner = hnswlibIndex();
  const c = {
    builds: 0,
    restores: 0,
    factory: {
      kind: inner.kind,
      build: (source, options) => {
        c.builds++;
        return inner.build(source, options);
      },
      restore: (stored, source) => {
        c.restores++;
        return inner.restore(stored, source);
      },
    } as VectorIndexFactory,
  };
  return c;
}

describe('ALS with a vector index', () => {
  it('scores only the index candidates plus the own items, with the full scan scores; rankIndices equals the exact top k', async () => {
    const plain = new ALS({ factors: 8, iterations: 5 });
    await plain.fit(data, { seed: 1 });
    const indexed = new ALS({ factors: 8, iterations: 5, indexCandidates: CANDIDATES });
    await indexed.fit(data, { seed: 1 });
    expect(await indexed.useVectorIndex(hnswlibIndex())).toBe('built');
    for (const u of [0, 7, 50]) {
      const q = userQuery(data, u);
      const full = scoresOf(plain, q);
      const via = scoresOf(indexed, q);
      const touched = expectIndexCandidates(via, full, q, `user ${u}`);
      const own = Array.from(q.history.items);
      // Candidates are scored in doubles, the full scan by a float32 SIMD kernel: equal to float rounding.
      for (const i of touched) expect(Math.abs(via[i] - full[i])).toBeLessThanOrEqual(1e-5 * Math.abs(full[i]) + 1e-12);
      const blocked = new Uint8Array(data.nItems);
      for (const i of own) blocked[i] = 1;
      expect(Array.from(indexed.rankIndices(q, 10, blocked))).toEqual(Array.from(plain.rankIndices(q, 10, blocked)));
    }
    // A refit rebuilds with the attached factory; null detaches (full scan again).
    await indexed.fit(data, { seed: 1 });
    expect(scoresOf(indexed, userQuery(data, 0)).filter((s) => s !== -Infinity).length).toBeLessThan(data.nItems);
    expect(await indexed.useVectorIndex(null)).toBe('detached');
    expect(scoresOf(indexed, userQuery(data, 0))).toEqual(scoresOf(plain, userQuery(data, 0)));
  });
});

describe('NeuralCF with a vector index', () => {
  const gmf = () => new NeuralCF({ factors: 8, epochs: 4, batchSize: 64, learningRate: 0.02, backend: 'cpu', indexCandidates: CANDIDATES });
  const item = (id: string) => data.items.indexOf(id);
  // Known users, a fold-in (unknown shopper with a history), and a known user with a basket.
  const queries = (): Query[] => [userQuery(data, 0), userQuery(data, 7), userQuery(data, 50), anonymousQuery([item('g2i3'), item('g2i5')]), { ...userQuery(data, 9), basket: Int32Array.of(item('g4i1')) }];

  it('GMF scores the index candidates plus the own items with the full scan scores, and survives a round trip without a rebuild', async () => {
    const model = gmf();
    await model.fit(data, { seed: 2 });
    expect(isVectorIndexed(model)).toBe(true);
    const full = queries().map((q) => scoresOf(model, q));
    expect(await model.useVectorIndex(hnswlibIndex())).toBe('built');
    queries().forEach((q, n) => {
      const via = scoresOf(model, q);
      const touched = expectIndexCandidates(via, full[n], q, `query ${n}`);
      // The same arithmetic as the full scan: identical scores.
      for (const i of touched) expect(via[i]).toBe(full[n][i]);
    });
    // Nothing to go on (an unknown shopper with no history): no scores, as without an index.
    expect(scoresOf(model, anonymousQuery([])).every((s) => s === -Infinity)).toBe(true);

    const w = new ArtifactWriter();
    const state = model.save(w.scope('ncf'));
    const r = ArtifactReader.open(w.toBytes(state));
    expect(r.sectionNames).toContain('ncf/ann');
    const loaded = NeuralCF.load(state, r.scope('ncf'));
    const c = counting();
    expect(await loaded.useVectorIndex(c.factory)).toBe('restored');
    expect([c.builds, c.restores]).toEqual([0, 1]);
    for (const q of queries()) expect(scoresOf(loaded, q)).toEqual(scoresOf(model, q));
    // A serving artifact (no user rows: every query folded in) keeps the index too.
    const ws = new ArtifactWriter();
    const servingState = model.save(ws.scope('ncf'), { customerData: false });
    const serving = NeuralCF.load(servingState, ArtifactReader.open(ws.toBytes(servingState)).scope('ncf'));
    expect(await serving.useVectorIndex(c.factory)).toBe('restored');
    expect([c.builds, c.restores]).toEqual([0, 2]);
    const history = anonymousQuery(userQuery(data, 7).history.items);
    expect(scoresOf(serving, history)).toEqual(scoresOf(model, history));
    // A refit rebuilds with the attached factory; null detaches (full scan again).
    await model.fit(data, { seed: 2 });
    expect(scoresOf(model, userQuery(data, 0)).filter((s) => s !== -Infinity).length).toBeLessThan(data.nItems);
    expect(await model.useVectorIndex(null)).toBe('detached');
    expect(scoresOf(model, userQuery(data, 0))).toEqual(full[0]);
  }, 60_000);

  it('checks indexCandidates', () => {
    expect(() => new NeuralCF({ indexCandidates: 0 })).toThrow(OptionError);
    expect(() => new NeuralCF({ indexCandidates: 2.5 })).toThrow(/indexCandidates/);
    expect(() => new ContentBased({ indexCandidates: 0 })).toThrow(/indexCandidates/);
  });

  it('NeuMF takes no index: a factory is an OptionError naming the architecture, and the ensemble leaves it scanning', async () => {
    const neumf = () => new NeuralCF({ architecture: 'neumf', factors: 8, mlpLayers: [8], epochs: 2, batchSize: 64, backend: 'cpu' });
    const model = neumf();
    await model.fit(data, { seed: 2 });
    expect(isVectorIndexed(model)).toBe(false);
    await expect(model.useVectorIndex(hnswlibIndex())).rejects.toThrow(OptionError);
    await expect(model.useVectorIndex(hnswlibIndex())).rejects.toThrow(/neumf/);
    expect(await model.useVectorIndex(null)).toBe('detached');

    const c = counting();
    const indexed = new HybridRecommender({ strategies: { ncf: neumf() }, vectorIndex: c.factory });
    await indexed.fit(data, { seed: 4 });
    expect(c.builds).toBe(0);
    const plain = new HybridRecommender({ strategies: { ncf: neumf() } });
    await plain.fit(data, { seed: 4 });
    for (const user of ['u0', 'u7']) expect(indexed.recommend(user, { k: 10 })).toEqual(plain.recommend(user, { k: 10 }));
  }, 60_000);
});

describe('ContentBased with a vector index', () => {
  const item = (id: string) => data.items.indexOf(id);
  // The last: one group-5 item among eight of group 2's, too far from the profile to be a candidate by itself.
  const queries = (): Query[] => [
    userQuery(data, 0),
    userQuery(data, 13),
    anonymousQuery([item('g2i3'), item('g5i0')]),
    { ...userQuery(data, 9), basket: Int32Array.of(item('g4i1')) },
    anonymousQuery([...Array.from({ length: 8 }, (_, i) => item(`g2i${i}`)), item('g5i0')]),
  ];

  it('dense vectors: scores the index candidates plus the own items with the full scan scores, and survives a round trip without a rebuild', async () => {
    const model = new ContentBased({ template: '{name}', encoder: new PlantedEncoder(), indexCandidates: CANDIDATES });
    await model.fit(data);
    expect(isVectorIndexed(model)).toBe(true);
    const full = queries().map((q) => scoresOf(model, q));
    expect(await model.useVectorIndex(hnswlibIndex())).toBe('built');
    queries().forEach((q, n) => {
      const via = scoresOf(model, q);
      const touched = expectIndexCandidates(via, full[n], q, `query ${n}`);
      for (const i of touched) expect(via[i]).toBe(full[n][i]);
    });

    const w = new ArtifactWriter();
    const state = model.save(w.scope('content'));
    const r = ArtifactReader.open(w.toBytes(state));
    expect(r.sectionNames).toContain('content/ann');
    const loaded = ContentBased.load(state, r.scope('content'));
    const c = counting();
    expect(await loaded.useVectorIndex(c.factory)).toBe('restored');
    expect([c.builds, c.restores]).toEqual([0, 1]);
    for (const q of queries()) expect(scoresOf(loaded, q)).toEqual(scoresOf(model, q));
    expect(await loaded.useVectorIndex(null)).toBe('detached');
    expect(scoresOf(loaded, queries()[0])).toEqual(full[0]);
  });

  it('TF-IDF vectors take no index: a factory is an OptionError, and the ensemble leaves it as is', async () => {
    const model = new ContentBased();
    await model.fit(data);
    expect(isVectorIndexed(model)).toBe(false);
    await expect(model.useVectorIndex(hnswlibIndex())).rejects.toThrow(OptionError);
    await expect(model.useVectorIndex(hnswlibIndex())).rejects.toThrow(/TF-IDF/);
    const c = counting();
    await new HybridRecommender({ strategies: { content: new ContentBased() }, vectorIndex: c.factory }).fit(data, { seed: 4 });
    expect(c.builds).toBe(0);
  });
});

describe('HybridRecommender vectorIndex', () => {
  const strategies = () => ({
    als: new ALS({ factors: 8, iterations: 5, indexCandidates: CANDIDATES }),
    towers: new TwoTower({ factors: 8, hidden: 8, epochs: 3, batchSize: 64, learningRate: 0.02, validationShare: 0, backend: 'cpu', indexCandidates: CANDIDATES }),
    ncf: new NeuralCF({ factors: 8, epochs: 3, batchSize: 64, learningRate: 0.02, backend: 'cpu', indexCandidates: CANDIDATES }),
    content: new ContentBased({ template: '{name}', encoder: new PlantedEncoder(), indexCandidates: CANDIDATES }),
  });
  const users = ['u0', 'u7', 'u50', 'u123'];

  it('rejects what is not a factory', () => {
    expect(() => new HybridRecommender({ strategies: strategies(), vectorIndex: {} as VectorIndexFactory })).toThrow(OptionError);
    expect(() => new HybridRecommender({ strategies: strategies(), vectorIndex: {} as VectorIndexFactory })).toThrow(/vectorIndex/);
  });

  it('recommends as the full scan on a small catalog, stores the indexes and restores them at load', async () => {
    // One strategy at a time: normalization is affine per strategy, so the order of its candidates is its own.
    for (const name of ['als', 'towers', 'ncf', 'content'] as const) {
      const plain = new HybridRecommender({ strategies: { [name]: strategies()[name] }, candidatesPerStrategy: CANDIDATES });
      await plain.fit(data, { seed: 4 });
      const indexed = new HybridRecommender({ strategies: { [name]: strategies()[name] }, candidatesPerStrategy: CANDIDATES, vectorIndex: hnswlibIndex() });
      await indexed.fit(data, { seed: 4 });
      for (const user of users) {
        const want = plain.recommend(user, { k: 10 }).map((r) => r.item);
        expect(indexed.recommend(user, { k: 10 }).map((r) => r.item), `${name} ${user}`).toEqual(want);
      }
      expect(indexed.recommend({ history: ['g2i3', 'g2i5'] }, { k: 10 }).map((r) => r.item)).toEqual(plain.recommend({ history: ['g2i3', 'g2i5'] }, { k: 10 }).map((r) => r.item));
    }

    const rec = new HybridRecommender({ strategies: strategies(), vectorIndex: hnswlibIndex() });
    await rec.fit(data, { seed: 4 });
    const bytes = rec.save();
    const sections = ArtifactReader.open(bytes).sectionNames;
    expect(sections).toContain('strategies/als/ann');
    expect(sections).toContain('strategies/towers/ann');
    expect(sections).toContain('strategies/ncf/ann');
    expect(sections).toContain('strategies/content/ann');

    const c = counting();
    const loaded = await HybridRecommender.load(bytes, { vectorIndex: c.factory });
    expect([c.builds, c.restores]).toEqual([0, 4]);
    for (const user of users) expect(loaded.recommend(user, { k: 10 })).toEqual(rec.recommend(user, { k: 10 }));

    // Without a factory the stored indexes stay unread (full scan) and are saved again.
    const exact = new HybridRecommender({ strategies: strategies() });
    await exact.fit(data, { seed: 4 });
    const unindexed = await HybridRecommender.load(bytes);
    for (const user of users) expect(unindexed.recommend(user, { k: 10 })).toEqual(exact.recommend(user, { k: 10 }));
    const again = counting();
    await HybridRecommender.load(unindexed.save(), { vectorIndex: again.factory });
    expect([again.builds, again.restores]).toEqual([0, 4]);
  }, 120_000);

  it('builds one index per dense member per fit, refits and weight tuning included', async () => {
    const c = counting();
    const rec = new HybridRecommender({ strategies: strategies(), vectorIndex: c.factory, weights: 'tune', tune: { grid: [0, 1], rounds: 1, normalizations: ['auto'], maxQueries: 40 } });
    await rec.fit(data, { seed: 4 });
    expect(c.builds).toBe(4);
    await rec.fit(data, { seed: 4 });
    expect(c.builds).toBe(8);
  }, 120_000);
});
