import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import type { Dataset } from '../src/data/dataset';
import { AbortedError, NotFittedError, OptionError } from '../src/errors';
import { SequentialRecommender, type SequentialOptions } from '../src/strategies/sequential';
import { gruStep, initWeights, REPEAT_FEATURES, RepeatHistory } from '../src/strategies/sequential/model';
import { gruStates } from '../src/strategies/sequential/train';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type BasketTimeline, type Query } from '../src/strategies/types';
import { exactIndex } from '../src/util/ann';
import type { JsonObject } from '../src/util/json';
import { mulberry32 } from '../src/util/random';
import { basketsDataset, itemIdx } from './fixtures';

/**
 * Planted order: half the shoppers buy a, then b, then c (one item per basket, plus a noise
 * item), the other half d, e, f. After a the next basket is b, after a, b it is c, and past
 * items never come back, so both the GRU (what follows what) and the repeat head (past items
 * do not repeat here) have something true to learn.
 */
function chains(): Dataset {
  const users: Record<string, string[][]> = {};
  const rng = mulberry32(5);
  const noise = () => `n${Math.floor(rng() * 6)}`;
  for (let u = 0; u < 40; u++) {
    const [x, y, z] = u % 2 === 0 ? ['a', 'b', 'c'] : ['d', 'e', 'f'];
    users[`u${String(u).padStart(2, '0')}`] = [[x, noise()], [y, noise()], [z, noise()]];
  }
  return basketsDataset(users);
}

const FAST: Partial<SequentialOptions> = { factors: 8, epochs: 40, batchSize: 8, learningRate: 0.03, validationShare: 0, historyNegatives: 2 };

function timeline(data: Dataset, ...baskets: string[][]): BasketTimeline {
  const itemPtr = [0];
  const items: number[] = [];
  for (const b of baskets) {
    items.push(...itemIdx(data, ...b));
    itemPtr.push(items.length);
  }
  return { itemPtr: Int32Array.from(itemPtr), items: Int32Array.from(items), day: new Float64Array(baskets.length).fill(NaN) };
}

function queryOf(data: Dataset, ...baskets: string[][]): Query {
  return { ...anonymousQuery([]), timeline: timeline(data, ...baskets) };
}

function scores(s: SequentialRecommender, query: Query, n: number): Float32Array {
  const out = new ScoreVector(n);
  s.score(query, out);
  return out.values.slice();
}

function top(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function roundTrip(s: SequentialRecommender): SequentialRecommender {
  const w = new ArtifactWriter();
  const state = s.save(w.scope('sequential'));
  const r = ArtifactReader.open(w.toBytes(state));
  return SequentialRecommender.load(r.root as JsonObject, r.scope('sequential'));
}

describe('SequentialRecommender GRU', () => {
  const f = 5;
  const w = initWeights(3, f, 0.2, mulberry32(1));
  // A non-zero bias, so the test covers its layout too.
  w.bias.forEach((_, k) => (w.bias[k] = 0.05 * Math.sin(k)));
  const T = 4;
  const rng = mulberry32(2);
  const x = Float32Array.from({ length: 2 * T * f }, () => 2 * rng() - 1);

  /** States [2 * T, f] of the JS step over x. */
  function jsStates(): Float32Array {
    const out = new Float32Array(2 * T * f);
    const scratch = new Float32Array(4 * f);
    for (let b = 0; b < 2; b++) {
      const h = new Float32Array(f);
      for (let t = 0; t < T; t++) {
        gruStep(w, x.subarray((b * T + t) * f, (b * T + t + 1) * f), h, scratch);
        out.set(h, (b * T + t) * f);
      }
    }
    return out;
  }

  it("JS forward pass equals tfjs's GRU layer on the same weights", () => {
    const layer = tf.layers.gru({ units: f, recurrentActivation: 'sigmoid', returnSequences: true, inputShape: [T, f] });
    const model = tf.sequential({ layers: [layer] });
    layer.setWeights([tf.tensor2d(w.kernel, [f, 3 * f]), tf.tensor2d(w.recurrent, [f, 3 * f]), tf.tensor1d(w.bias)]);
    const want = (model.predict(tf.tensor3d(x, [2, T, f])) as tf.Tensor).dataSync();
    const got = jsStates();
    for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo(want[k], 5);
  });

  it('the training graph computes the same states', () => {
    const want = jsStates();
    const got = tf.tidy(() => gruStates(tf, tf.tensor3d(x, [2, T, f]), tf.tensor2d(w.kernel, [f, 3 * f]), tf.tensor2d(w.recurrent, [f, 3 * f]), tf.tensor1d(w.bias)).dataSync());
    for (let k = 0; k < want.length; k++) expect(got[k]).toBeCloseTo(want[k], 5);
  });

  it('repeat features count, decay and share by basket', () => {
    const h = new RepeatHistory(4);
    h.add([0, 1], 0, 2);
    h.add([1], 0, 1);
    h.add([2], 0, 1);
    const phi = new Float32Array(REPEAT_FEATURES);
    h.features(1, phi, 0);
    expect(Array.from(phi)).toEqual([1, Math.fround(Math.log1p(2)), 0.25 + 0.5, Math.fround(2 / 3)]);
    h.features(3, phi, 0);
    expect(Array.from(phi)).toEqual([0, 0, 0, 0]);
    h.reset();
    expect(h.size).toBe(0);
    expect(h.has(1)).toBe(false);
  });
});

describe('SequentialRecommender', () => {
  const data = chains();
  let s: SequentialRecommender;
  beforeAll(async () => {
    s = new SequentialRecommender(FAST);
    await s.fit(data, { seed: 7 });
  }, 60_000);

  it('learns what comes next: after a comes b, after a then b comes c (not a repeat)', () => {
    const [a, b, c, , e, f] = itemIdx(data, 'a', 'b', 'c', 'd', 'e', 'f');
    expect(top(scores(s, queryOf(data, ['a']), data.nItems))).toBe(b);
    expect(top(scores(s, queryOf(data, ['a'], ['b']), data.nItems))).toBe(c);
    expect(top(scores(s, queryOf(data, ['d']), data.nItems))).toBe(e);
    expect(top(scores(s, queryOf(data, ['d'], ['e']), data.nItems))).toBe(f);
    // Known shoppers are read from their timeline the same way.
    const u0 = data.users.indexOf('u00');
    const known = userQuery(data, u0);
    const tl = known.timeline!;
    const firstTwo = { ...known, timeline: { itemPtr: tl.itemPtr.subarray(0, 3), items: tl.items.subarray(0, tl.itemPtr[2]), day: tl.day.subarray(0, 2) } };
    expect(top(scores(s, firstTwo, data.nItems))).toBe(c);
    expect(a).not.toBe(b);
  });

  it('reads an unknown shopper without a timeline from the history, then the cart', () => {
    const [a, b] = itemIdx(data, 'a', 'b');
    expect(top(scores(s, anonymousQuery([], [a]), data.nItems))).toBe(b);
    expect(top(scores(s, anonymousQuery([a], []), data.nItems))).toBe(b);
    const none = new ScoreVector(data.nItems);
    s.score(anonymousQuery([]), none);
    expect(none.length).toBe(0);
  });

  it('round-trips through the artifact to identical scores', () => {
    const loaded = roundTrip(s);
    for (const q of [queryOf(data, ['a']), queryOf(data, ['d'], ['e']), anonymousQuery([0, 1], [2])]) {
      expect(Array.from(scores(loaded, q, data.nItems))).toEqual(Array.from(scores(s, q, data.nItems)));
    }
    expect(loaded.trainingInfo?.loss).toEqual(s.trainingInfo?.loss);
  });

  it('with a vector index, scores only its candidates and the past items, with the same values', async () => {
    const q = queryOf(data, ['a']);
    const dense = scores(s, q, data.nItems);
    const out = new ScoreVector(data.nItems);
    // The fitted weights with indexCandidates 2.
    const w = new ArtifactWriter();
    const state = s.save(w.scope('sequential'));
    (state.options as JsonObject).indexCandidates = 2;
    const r = ArtifactReader.open(w.toBytes(state));
    const small = SequentialRecommender.load(r.root as JsonObject, r.scope('sequential'));
    expect(small.options.indexCandidates).toBe(2);
    expect(await small.useVectorIndex(exactIndex())).toBe('built');
    small.score(q, out);
    expect(out.dense).toBe(false);
    // The 2 best explore candidates plus the past item a (and its noise item).
    expect(out.length).toBeLessThanOrEqual(2 + 2);
    expect(out.has(itemIdx(data, 'b')[0])).toBe(true);
    expect(out.has(itemIdx(data, 'a')[0])).toBe(true);
    for (let k = 0; k < out.length; k++) expect(out.values[out.at(k)]).toBe(dense[out.at(k)]);
    expect(await small.useVectorIndex(null)).toBe('detached');
    const again = new ScoreVector(data.nItems);
    small.score(q, again);
    expect(again.dense).toBe(true);
  });

  it('explains repeats by their frequency and new items by the latest basket', () => {
    const [a, b] = itemIdx(data, 'a', 'b');
    const name = (i: number) => data.items.id(i);
    const e = s.explain(queryOf(data, ['a']), b, name)!;
    expect(e.reason).toContain('b');
    expect(e.score).toBeCloseTo(scores(s, queryOf(data, ['a']), data.nItems)[b], 5);
    expect(s.explain(anonymousQuery([]), a, name)).toBeNull();
    expect(() => s.explain(queryOf(data, ['a']), data.nItems, name)).toThrow(OptionError);
  });

  it('rejects out-of-range items, wrong-size score vectors and unknown options', () => {
    expect(() => s.score(anonymousQuery([], [data.nItems]), new ScoreVector(data.nItems))).toThrow(OptionError);
    expect(() => s.score(queryOf(data, ['a']), new ScoreVector(data.nItems + 1))).toThrow(OptionError);
    expect(() => new SequentialRecommender({ factor: 8 } as Partial<SequentialOptions>)).toThrow(/did you mean "factors"/);
    expect(() => new SequentialRecommender().score(anonymousQuery([0]), new ScoreVector(1))).toThrow(NotFittedError);
  });
});

describe('SequentialRecommender training', () => {
  const data = chains();

  it('is deterministic by seed', async () => {
    const options = { ...FAST, epochs: 3 };
    const a = new SequentialRecommender(options);
    const b = new SequentialRecommender(options);
    const c = new SequentialRecommender(options);
    await a.fit(data, { seed: 11 });
    await b.fit(data, { seed: 11 });
    await c.fit(data, { seed: 12 });
    const q = queryOf(data, ['a']);
    expect(Array.from(scores(a, q, data.nItems))).toEqual(Array.from(scores(b, q, data.nItems)));
    expect(Array.from(scores(a, q, data.nItems))).not.toEqual(Array.from(scores(c, q, data.nItems)));
  });

  it('stops early on the held-out last baskets and keeps the best epoch, with progress per epoch', async () => {
    const s = new SequentialRecommender({ ...FAST, epochs: 30, validationShare: 0.5, patience: 1 });
    const messages: string[] = [];
    await s.fit(data, { seed: 3, onProgress: (p) => messages.push(p.message ?? '') });
    const info = s.trainingInfo!;
    expect(info.validationSequences).toBe(20);
    expect(info.validation.length).toBe(info.loss.length);
    expect(info.validation[info.bestEpoch - 1]).toBe(Math.max(...info.validation));
    expect(messages.some((m) => m.includes('validation recall@20'))).toBe(true);
    expect(info.sequencesPerSecond).toBeGreaterThan(0);
  });

  it('aborts mid-run when a timer fires the signal', async () => {
    const controller = new AbortController();
    const s = new SequentialRecommender({ ...FAST, epochs: 10_000 });
    const started = s.fit(data, { seed: 1, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(started).rejects.toThrow(AbortedError);
    expect(s.fitted).toBe(false);
  });
});
