import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { NotFittedError, OptionError } from '../src/errors';
import { NeuralCF, type NeuralCFOptions } from '../src/strategies/neural-cf';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { basketsDataset, expectAbortMidRun } from './fixtures';

/**
 * Two taste groups: users a0..a29 buy only from A0..A9, users b0..b29 only from B0..B9, each
 * about 6 of the 10 items over 3 baskets of 3 (seeded). Nothing links the groups, so any
 * working collaborative model ranks a user's own group first.
 */
function plantedGroups() {
  const rng = mulberry32(7);
  const users: Record<string, string[][]> = {};
  for (const g of ['a', 'b']) {
    for (let u = 0; u < 30; u++) {
      const baskets: string[][] = [];
      for (let b = 0; b < 3; b++) {
        const basket = new Set<string>();
        while (basket.size < 3) basket.add(`${g.toUpperCase()}${Math.floor(rng() * 10)}`);
        baskets.push([...basket]);
      }
      users[`${g}${u}`] = baskets;
    }
  }
  return basketsDataset(users, {
    catalog: { A0: { name: 'Greek Yogurt' }, B0: { name: 'Lager' } },
  });
}

const data = plantedGroups();
// Strong L2: with ~6 items per user, 8 factors memorise each user's items instead of the groups.
const FAST: Partial<NeuralCFOptions> = { factors: 8, epochs: 10, batchSize: 32, learningRate: 0.02, l2: 0.1 };
const GROUP_SIZE = 10;
const groupOf = (item: number) => data.items.id(item)[0];

function topItems(s: NeuralCF, query: ReturnType<typeof userQuery>, k: number): number[] {
  const out = new ScoreVector(data.nItems);
  s.score(query, out);
  expect(out.dense).toBe(true);
  return Array.from(out.values.keys())
    .sort((a, b) => out.values[b] - out.values[a] || a - b)
    .slice(0, k);
}

function scoresOf(s: NeuralCF, query: ReturnType<typeof userQuery>): Float32Array {
  const out = new ScoreVector(data.nItems);
  s.score(query, out);
  return out.values.slice();
}

async function roundTrip(s: NeuralCF): Promise<NeuralCF> {
  const w = new ArtifactWriter();
  const state = s.save(w.scope('ncf'));
  const r = ArtifactReader.open(w.toBytes(state));
  return NeuralCF.load(r.root as JsonObject, r.scope('ncf'));
}

describe('NeuralCF', () => {
  const variants: Array<Partial<NeuralCFOptions>> = [
    { architecture: 'gmf', loss: 'bce' },
    // One hidden layer: deeper towers memorise a few users of data this small.
    { architecture: 'neumf', loss: 'bce', mlpLayers: [8] },
    { architecture: 'gmf', loss: 'bpr', sampling: 'popularity' },
  ];
  for (const variant of variants) {
    it(`ranks each user's own group first (${variant.architecture}, ${variant.loss})`, async () => {
      const s = new NeuralCF({ ...FAST, ...variant });
      await s.fit(data, { seed: 3 });
      for (let u = 0; u < data.nUsers; u++) {
        const own = data.users.id(u)[0].toUpperCase();
        expect(topItems(s, userQuery(data, u), GROUP_SIZE).map(groupOf)).toEqual(new Array(GROUP_SIZE).fill(own));
      }
      const loss = s.trainingInfo!.loss;
      expect(loss.length).toBe(10);
      expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    });
  }

  it('recommends a batch of known users as score() ranks them, train items excluded (GMF by the dense index, NeuMF item by item)', async () => {
    const m = data.interactions;
    const users = Int32Array.from([0, 7, 31, 45, 59]);
    const indptr = new Int32Array(users.length + 1);
    const rows: number[] = [];
    users.forEach((u, q) => {
      for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) rows.push(m.indices[p]);
      indptr[q + 1] = rows.length;
    });
    const exclude = { indptr, indices: Int32Array.from(rows) };
    for (const architecture of ['gmf', 'neumf'] as const) {
      const s = new NeuralCF({ ...FAST, architecture, mlpLayers: [8] });
      await s.fit(data, { seed: 3 });
      const k = 5;
      const batch = s.recommendUsers(users, k, exclude);
      users.forEach((u, q) => {
        const scores = scoresOf(s, userQuery(data, u));
        const own = new Set(exclude.indices.subarray(indptr[q], indptr[q + 1]));
        const expected = Array.from(scores.keys()).filter((i) => !own.has(i)).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
        expect(batch.counts[q]).toBe(k);
        const got = Array.from(batch.items.subarray(q * k, (q + 1) * k));
        for (const i of got) expect(own.has(i)).toBe(false);
        // Same scores (float32 blocked sums against float64 ones) and the same ranking up to ties within that rounding.
        for (let r = 0; r < k; r++) {
          expect(batch.scores[q * k + r]).toBeCloseTo(scores[got[r]], 4);
          expect(scores[got[r]]).toBeCloseTo(scores[expected[r]], 4);
        }
      });
    }
  });

  it('trains on the cpu backend, then restores the caller\'s backend and leaks no tensors', async () => {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    const tensors = tf.memory().numTensors;
    const s = new NeuralCF({ ...FAST, backend: 'cpu' });
    await s.fit(data, { seed: 3 });
    expect(s.trainingInfo!.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(tensors);
    for (const u of [0, 45]) {
      const own = data.users.id(u)[0].toUpperCase();
      expect(topItems(s, userQuery(data, u), 5).map(groupOf)).toEqual(new Array(5).fill(own));
    }
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const fit = async (seed: number) => {
      const s = new NeuralCF({ ...FAST, architecture: 'neumf', epochs: 3 });
      await s.fit(data, { seed });
      return s;
    };
    const [a, b, c] = [await fit(5), await fit(5), await fit(6)];
    const q = userQuery(data, 0);
    expect(scoresOf(a, q)).toEqual(scoresOf(b, q));
    expect(a.trainingInfo!.loss).toEqual(b.trainingInfo!.loss);
    expect(scoresOf(a, q)).not.toEqual(scoresOf(c, q));
  });

  it('folds in an unknown user: a group-A history or basket ranks group-A items first', async () => {
    for (const architecture of ['gmf', 'neumf'] as const) {
      const s = new NeuralCF({ ...FAST, architecture });
      await s.fit(data, { seed: 3 });
      const a = (id: string) => data.items.indexOf(id);
      const fromHistory = topItems(s, anonymousQuery([a('A1'), a('A2'), a('A5')]), GROUP_SIZE);
      expect(fromHistory.map(groupOf)).toEqual(new Array(GROUP_SIZE).fill('A'));
      const fromBasket = topItems(s, anonymousQuery([], [a('A3'), a('A6')]), GROUP_SIZE);
      expect(fromBasket.map(groupOf)).toEqual(new Array(GROUP_SIZE).fill('A'));
      // Same query, same vector: fold-in negatives come from a fixed seed.
      const q = anonymousQuery([a('A1'), a('A2')]);
      expect(scoresOf(s, q)).toEqual(scoresOf(s, q));
    }
  });

  it('gives no scores and no explanation for an unknown user without history', async () => {
    const s = new NeuralCF(FAST);
    await s.fit(data, { seed: 3 });
    const out = new ScoreVector(data.nItems);
    s.score(anonymousQuery([]), out);
    expect(out.length).toBe(0);
    expect(s.explain(anonymousQuery([]), 0, String)).toBeNull();
  });

  it('explains with the most similar history items', async () => {
    const s = new NeuralCF(FAST);
    await s.fit(data, { seed: 3 });
    const name = (i: number) => data.catalog.name[i];
    const q = anonymousQuery([data.items.indexOf('A0'), data.items.indexOf('B0')]);
    const target = data.items.indexOf('A4');
    const e = s.explain(q, target, name)!;
    expect(e.reason).toBe('people with tastes like yours buy A4, similar in taste to Greek Yogurt');
    expect(e.evidence[0].item).toBe(data.items.indexOf('A0'));
    expect(e.evidence.every((x) => x.weight > 0 && x.weight <= 1)).toBe(true);
    const out = new ScoreVector(data.nItems);
    s.score(q, out);
    expect(e.score).toBeCloseTo(out.values[target], 5);
  });

  it('round-trips through the artifact with identical scores', async () => {
    for (const options of [{ architecture: 'neumf' }, { architecture: 'gmf', sampling: 'popularity', weighting: 'log1p' }] as const) {
      const s = new NeuralCF({ ...FAST, epochs: 4, ...options });
      await s.fit(data, { seed: 9 });
      const loaded = await roundTrip(s);
      expect(loaded.fitted).toBe(true);
      expect(loaded.options).toEqual(s.options);
      expect(loaded.trainingInfo).toEqual(s.trainingInfo);
      for (const q of [userQuery(data, 2), userQuery(data, 20), anonymousQuery([1, 4], [9])]) {
        expect(scoresOf(loaded, q)).toEqual(scoresOf(s, q));
      }
    }
  });

  it('stops early on a validation split and keeps the best epoch', async () => {
    const progress: string[] = [];
    const s = new NeuralCF({ ...FAST, epochs: 40, learningRate: 0.1, validationShare: 0.3, patience: 2 });
    await s.fit(data, { seed: 3, onProgress: (p) => progress.push(p.message ?? '') });
    const info = s.trainingInfo!;
    expect(info.validation.length).toBe(info.loss.length);
    expect(info.loss.length).toBeLessThan(40);
    expect(info.validation[info.bestEpoch - 1]).toBe(Math.max(...info.validation));
    // Held-out items compete with unbought items of the own group too, so about 0.85 is the ceiling.
    expect(info.validation[info.bestEpoch - 1]).toBeGreaterThan(0.75);
    expect(progress.some((m) => /stopping \(best epoch \d+\)/.test(m))).toBe(true);
  });

  it('validates options', () => {
    expect(() => new NeuralCF({ factors: 0 })).toThrow(OptionError);
    expect(() => new NeuralCF({ negatives: 1.5 })).toThrow(OptionError);
    expect(() => new NeuralCF({ learningRate: NaN })).toThrow(OptionError);
    expect(() => new NeuralCF({ l2: -1 })).toThrow(OptionError);
    expect(() => new NeuralCF({ validationShare: 1 })).toThrow(OptionError);
    expect(() => new NeuralCF({ mlpLayers: [] })).toThrow(OptionError);
    expect(() => new NeuralCF({ mlpLayers: [8, 0] })).toThrow(/mlpLayers\[1\]/);
    expect(() => new NeuralCF({ backend: 'gpu' as never })).toThrow(/backend/);
    expect(() => new NeuralCF({ architecture: 'mlp' as never })).toThrow(OptionError);
    expect(() => new NeuralCF().score(anonymousQuery([0]), new ScoreVector(1))).toThrow(NotFittedError);
  });

  it('stops mid-run when the signal fires', async () => {
    const s = new NeuralCF({ ...FAST, epochs: 50, batchSize: 8 });
    await expectAbortMidRun((signal) => s.fit(data, { signal }), /NeuralCF.fit was aborted/);
    expect(s.fitted).toBe(false);
  });
});
