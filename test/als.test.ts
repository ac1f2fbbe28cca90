import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { CsrMatrix } from '../src/data/csr';
import { AbortedError, ArtifactError, NotFittedError, OptionError } from '../src/errors';
import { ALS } from '../src/strategies/als';
import { confidenceMatrices } from '../src/strategies/als/confidence';
import { alternate, foldInSystem, gramPlusRidge } from '../src/strategies/als/solve';
import { InteractionWeights } from '../src/util/weighting';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { cholesky, choleskySolve } from '../src/util/spd';
import { groupOf, plantedGroups } from './fixtures';

function scoresOf(model: ALS, nItems: number, q: Query): Float32Array {
  const out = new ScoreVector(nItems);
  model.score(q, out);
  return out.values.slice();
}

function roundTrip(model: ALS, customerData = true): ALS {
  const w = new ArtifactWriter();
  const state = model.save(w.scope('als'), { customerData });
  const r = ArtifactReader.open(w.toBytes(state));
  return ALS.load(r.root as JsonObject, r.scope('als'));
}

function randomCsr(rows: number, cols: number, perRow: number, seed: number): CsrMatrix {
  const rng = mulberry32(seed);
  const r: number[] = [];
  const c: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < perRow; k++) {
      r.push(i);
      c.push(Math.floor(rng() * cols));
      v.push(1 + Math.floor(rng() * 3));
    }
  }
  return CsrMatrix.fromCoo(rows, cols, Int32Array.from(r), Int32Array.from(c), Float32Array.from(v));
}

describe('ALS confidence matrices', () => {
  it('are the weighted matrix times alpha and its transpose, entries weighted <= 0 dropped, over many ranges', async () => {
    // 9000 users x 60 draws (some repeated): ~530k entries, three ranges of the jobs; some counts <= 0 (returns).
    const m = randomCsr(9000, 300, 60, 9);
    for (let p = 0; p < m.values.length; p += 7) m.values[p] = p % 2 === 0 ? 0 : -1;
    for (const weighting of ['log1p', 'bm25'] as const) {
      const weights = InteractionWeights.fit(m, weighting, { k1: 100, b: 0.8 });
      const w = weights.matrix(m);
      for (let p = 0; p < w.values.length; p++) w.values[p] *= 2;
      const t = w.transpose();
      const { byUser, byItem } = await confidenceMatrices(m, weights, 2, { stage: 'test' });
      expect(w.nnz).toBeLessThan(m.nnz);
      for (const [got, want] of [[byUser, w], [byItem, t]] as const) {
        expect(Array.from(got.indptr)).toEqual(Array.from(want.indptr));
        expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
        expect(Array.from(got.values)).toEqual(Array.from(want.values));
      }
    }
  });
});

describe('ALS solver', () => {
  it('solves each row exactly when the CG runs as many steps as there are factors', async () => {
    const f = 6;
    const conf = randomCsr(20, 15, 4, 1);
    const confT = conf.transpose();
    const users = Float32Array.from({ length: 20 * f }, (_, i) => Math.sin(i + 1));
    const items = new Float32Array(15 * f);
    // One iteration: the items' half-step comes last, so they are the exact solves against the final users.
    for (const simd of [false, true]) {
      const x = users.slice();
      const y = items.slice();
      await alternate(conf, confT, x, y, { f, regularization: 0.1, cgSteps: f, iterations: 1, simd, stage: 'test', onIteration: () => {} });
      const g = gramPlusRidge(x, f, 0.1);
      for (let i = 0; i < 15; i++) {
        const rows = confT.indices.subarray(confT.indptr[i], confT.indptr[i + 1]);
        const c = Float64Array.from(confT.values.subarray(confT.indptr[i], confT.indptr[i + 1]));
        const b = new Float64Array(f);
        const a = foldInSystem(g, x, f, rows, c, b);
        choleskySolve(cholesky(a, f), f, b);
        for (let d = 0; d < f; d++) expect(y[i * f + d]).toBeCloseTo(b[d], simd ? 3 : 4);
      }
    }
  });

  it('gives the same factors on the SIMD and the typed-array paths (to float32 precision)', async () => {
    const conf = randomCsr(60, 40, 5, 2);
    const confT = conf.transpose();
    const f = 7; // not a multiple of 4: the SIMD path pads
    const init = (n: number, seed: number) => Float32Array.from({ length: n * f }, mulberry32(seed));
    const u1 = init(60, 3);
    const i1 = init(40, 4);
    const u2 = u1.slice();
    const i2 = i1.slice();
    const settings = { f, regularization: 0.1, cgSteps: 3, iterations: 3, stage: 'test', onIteration: () => {} };
    expect(await alternate(conf, confT, u1, i1, settings)).toBe('simd');
    expect(await alternate(conf, confT, u2, i2, { ...settings, simd: false })).toBe('js');
    for (let p = 0; p < u1.length; p++) expect(u1[p]).toBeCloseTo(u2[p], 3);
    for (let p = 0; p < i1.length; p++) expect(i1[p]).toBeCloseTo(i2[p], 3);
  });
});

describe('ALS model', () => {
  const data = plantedGroups(42);
  const nItems = data.nItems;

  it('recommends from the shopper\'s own taste group (planted structure)', async () => {
    const als = new ALS({ factors: 16, iterations: 10, regularization: 0.5 }); // the default 20 is sized for thousands of shoppers
    await als.fit(data, { seed: 42 });
    let inGroup = 0;
    let total = 0;
    for (let u = 0; u < 60; u++) {
      const q = userQuery(data, u);
      const blocked = new Uint8Array(nItems);
      for (const i of q.history.items) blocked[i] = 1;
      const top = als.rankIndices(q, 3, blocked);
      for (const i of top) {
        total++;
        if (groupOf(data.items.id(i)) === Number(data.users.id(u).slice(1)) % 6) inGroup++;
      }
    }
    expect(inGroup / total).toBeGreaterThan(0.9);
    // similarItems: the nearest items of an item are from its group.
    let same = 0;
    for (let i = 0; i < nItems; i++) for (const j of als.similarItems(i, 3).items) if (groupOf(data.items.id(j)) === groupOf(data.items.id(i))) same++;
    expect(same / (3 * nItems)).toBeGreaterThan(0.9);
    expect([...als.similarItems(0, 5).items]).not.toContain(0);
  });

  it('folds in an unknown history exactly, and explains the score by history items', async () => {
    const als = new ALS({ factors: 8, iterations: 6, weighting: 'binary' });
    await als.fit(data, { seed: 1 });
    const history = Array.from(data.interactions.indices.subarray(data.interactions.indptr[7], data.interactions.indptr[8]));
    const q = anonymousQuery(history);
    const scores = scoresOf(als, nItems, q);
    // The fold-in factor solves the normal equations: reconstruct it from two item scores' system.
    const f = 8;
    const g = gramPlusRidge(als.itemFactors, f, als.options.regularization);
    const conf = Float64Array.from(q.history.items, () => als.options.alpha * 1);
    const b = new Float64Array(f);
    const a = foldInSystem(g, als.itemFactors, f, q.history.items, conf, b);
    choleskySolve(cholesky(a, f), f, b);
    for (let i = 0; i < nItems; i++) {
      let s = 0;
      for (let d = 0; d < f; d++) s += b[d] * als.itemFactors[i * f + d];
      expect(scores[i]).toBeCloseTo(s, 4);
    }
    const best = Array.from(scores.keys()).filter((i) => !history.includes(i)).sort((x, y) => scores[y] - scores[x])[0];
    const e = als.explain(q, best, (i) => data.items.id(i))!;
    expect(e.score).toBeCloseTo(scores[best], 4);
    expect(e.evidence.length).toBeGreaterThan(0);
    for (const ev of e.evidence) expect(history).toContain(ev.item);
    expect(e.reason).toContain(data.items.id(e.evidence[0].item));
    expect(als.explain(anonymousQuery([]), best, String)).toBeNull();
    // An empty query gets no scores (the ensemble's fallback takes over).
    const empty = new ScoreVector(nItems);
    als.score(anonymousQuery([]), empty);
    expect(empty.length).toBe(0);
  });

  it('is deterministic by seed and differs across seeds', async () => {
    const a = new ALS({ factors: 8, iterations: 3 });
    const b = new ALS({ factors: 8, iterations: 3 });
    const c = new ALS({ factors: 8, iterations: 3 });
    await a.fit(data, { seed: 5 });
    await b.fit(data, { seed: 5 });
    await c.fit(data, { seed: 6 });
    expect(b.itemFactors).toEqual(a.itemFactors);
    expect(b.userFactors).toEqual(a.userFactors);
    expect(c.itemFactors).not.toEqual(a.itemFactors);
  });

  it('round-trips to identical scores, with and without customer data', async () => {
    const als = new ALS({ factors: 8, iterations: 4, weighting: 'bm25' });
    await als.fit(data, { seed: 3 });
    const full = roundTrip(als);
    const serving = roundTrip(als, false);
    expect(full.options).toEqual(als.options);
    expect(serving.userFactors).toBeNull();
    const known = userQuery(data, 4);
    expect(scoresOf(full, nItems, known)).toEqual(scoresOf(als, nItems, known));
    const anon = anonymousQuery([0, 0, 3], [5]);
    expect(scoresOf(full, nItems, anon)).toEqual(scoresOf(als, nItems, anon));
    expect(scoresOf(serving, nItems, anon)).toEqual(scoresOf(als, nItems, anon));
    // Without customer data a known user is folded in from their history: the same scores as
    // the full artifact gives that history.
    const asHistory: Query = { ...known, user: -1 };
    expect(scoresOf(serving, nItems, known)).toEqual(scoresOf(als, nItems, asHistory));
    expect(() => serving.recommendUsers(Int32Array.of(0), 5)).toThrow(OptionError);
  });

  it('ranks a batch of known users exactly as one query at a time', async () => {
    const als = new ALS({ factors: 12, iterations: 4 });
    await als.fit(data, { seed: 9 });
    const users = Int32Array.from({ length: 40 }, (_, i) => i * 7);
    const m = data.interactions;
    const indptr = new Int32Array(users.length + 1);
    const idx: number[] = [];
    users.forEach((u, q) => {
      idx.push(...m.indices.subarray(m.indptr[u], m.indptr[u + 1]));
      indptr[q + 1] = idx.length;
    });
    const batch = als.recommendUsers(users, 10, { indptr, indices: Int32Array.from(idx) });
    users.forEach((u, q) => {
      const blocked = new Uint8Array(data.nItems);
      for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) blocked[m.indices[p]] = 1;
      const one = als.rankIndices(userQuery(data, u), 10, blocked);
      expect(Array.from(batch.items.subarray(q * 10, q * 10 + batch.counts[q]))).toEqual(Array.from(one));
      // ... and as a full sort of the dense scores.
      const s = scoresOf(als, data.nItems, userQuery(data, u));
      const brute = Array.from(s.keys()).filter((i) => blocked[i] === 0).sort((a, b) => s[b] - s[a] || a - b).slice(0, 10);
      expect(Array.from(one)).toEqual(brute);
    });
  });

  it('reports progress per iteration and stops when a timer aborts it mid-fit', async () => {
    const small = new ALS({ factors: 4, iterations: 3 });
    const seen: number[] = [];
    await small.fit(data, { onProgress: (p) => p.stage === 'ALS' && seen.push(p.done) });
    expect(seen).toEqual([0, 1, 2, 3]);
    const big = plantedGroups(3, { users: 6000, groups: 20, perGroup: 40, perUser: 10 });
    const controller = new AbortController();
    const slow = new ALS({ factors: 64, iterations: 200 });
    const started = Date.now();
    setTimeout(() => controller.abort(), 30);
    await expect(slow.fit(big, { signal: controller.signal })).rejects.toThrow(AbortedError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(slow.fitted).toBe(false);
  });

  it('rejects bad options, bad queries, bad artifacts and use before fit', async () => {
    expect(() => new ALS({ factors: 0 })).toThrow(OptionError);
    expect(() => new ALS({ weighting: 'tfidf' as never })).toThrow(/ALS.weighting/);
    expect(() => new ALS({ factor: 3 } as never)).toThrow(/did you mean "factors"/);
    const fresh = new ALS();
    expect(() => fresh.score(anonymousQuery([0]), new ScoreVector(nItems))).toThrow(NotFittedError);
    const als = new ALS({ factors: 4, iterations: 1 });
    await als.fit(data);
    // The checks of src/strategies/checks.ts, as every strategy runs them: named strategy and argument.
    expect(() => als.score(anonymousQuery([nItems]), new ScoreVector(nItems))).toThrow(/^ALS: query.history.items\[0\]: item index \d+ out of range/);
    expect(() => als.score(anonymousQuery([0], [-1]), new ScoreVector(nItems))).toThrow(/^ALS: query.basket\[0\]/);
    expect(() => als.rankIndices(anonymousQuery([nItems]), 3, null)).toThrow(OptionError);
    expect(() => als.rankIndices(anonymousQuery([0]), 3, new Uint8Array(nItems - 1))).toThrow(/ALS.rankIndices: blocked/);
    expect(() => als.explain(anonymousQuery([0], [nItems + 2]), 1, String)).toThrow(/^ALS: query.basket\[0\]/);
    expect(() => als.explain(anonymousQuery([0]), nItems, String)).toThrow(/^ALS.explain: item: item index \d+ out of range/);
    expect(() => als.score(anonymousQuery([0]), new ScoreVector(nItems + 1))).toThrow(/^ALS: out: ScoreVector has \d+ items, the model \d+/);
    expect(() => als.similarItems(-1, 3)).toThrow(/^ALS.similarItems: item/);
    await expect(als.fit(undefined as never)).rejects.toThrow(/^ALS.fit: data must be a Dataset, got undefined/);
    const w = new ArtifactWriter();
    const state = als.save(w.scope('als'));
    const r = ArtifactReader.open(w.toBytes({ ...state, nItems: nItems + 1 }));
    expect(() => ALS.load(r.root as JsonObject, r.scope('als'))).toThrow(ArtifactError);
  });
});
