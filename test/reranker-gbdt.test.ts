import { Matrix, solve } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { AbortedError, ArtifactError, OptionError } from '../src/errors';
import { BoostedTrees, type ForestArrays } from '../src/ensemble/reranker/forest';
import { LambdaMART, type RankingData } from '../src/ensemble/reranker/gbdt';
import { LambdaRank } from '../src/ensemble/reranker/lambdarank';
import { mulberry32 } from '../src/util/random';

// ----------------------------------------------------------------------------- brute force

/** The ranking of scores: indices best first, ties by index. */
function ranking(scores: number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}

/** NDCG@k of an ordering (indices best first), gains 2^label - 1, straight from the definition. */
function ndcgOfOrder(order: number[], labels: number[], k: number): number {
  const dcg = (o: number[]) => o.slice(0, k).reduce((sum, i, r) => sum + (2 ** labels[i] - 1) / Math.log2(r + 2), 0);
  const ideal = labels.map((_, i) => i).sort((a, b) => labels[b] - labels[a]);
  return dcg(order) / dcg(ideal);
}

/** |change of NDCG@k| when i and j swap places in the ranking of scores. */
function swapDelta(scores: number[], labels: number[], k: number, i: number, j: number): number {
  const order = ranking(scores);
  const swapped = order.map((x) => (x === i ? j : x === j ? i : x));
  return Math.abs(ndcgOfOrder(swapped, labels, k) - ndcgOfOrder(order, labels, k));
}

/** The LambdaRank cost at s with the pair weights frozen at s0: sum over pairs with label(i) > label(j). */
function lambdaCost(s: number[], s0: number[], labels: number[], k: number, sigma: number): number {
  let cost = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (labels[i] <= labels[j]) continue;
      cost += swapDelta(s0, labels, k, i, j) * Math.log(1 + Math.exp(-sigma * (s[i] - s[j])));
    }
  }
  return cost;
}

/** Planted queries: rows x nFeatures uniform in [-1, 1), label from `relevance(row)`. */
function planted(nQueries: number, perQuery: number, nFeatures: number, seed: number, relevance: (x: Float32Array) => number): RankingData {
  const rng = mulberry32(seed);
  const rows = nQueries * perQuery;
  const features = new Float32Array(rows * nFeatures);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = features.subarray(r * nFeatures, (r + 1) * nFeatures);
    for (let f = 0; f < nFeatures; f++) x[f] = 2 * rng() - 1;
    labels[r] = relevance(x);
  }
  const queryPtr = Int32Array.from({ length: nQueries + 1 }, (_, q) => q * perQuery);
  return { features, labels, queryPtr, featureNames: Array.from({ length: nFeatures }, (_, f) => `x${f}`) };
}

/** Mean NDCG@k of scores over the queries of data that have a relevant row. */
function meanNdcg(data: RankingData, scores: ArrayLike<number>, k: number): number {
  const metric = new LambdaRank(k, 1, 1000);
  let sum = 0;
  let n = 0;
  for (let q = 0; q + 1 < data.queryPtr.length; q++) {
    const v = metric.ndcg(scores, data.labels, data.queryPtr[q], data.queryPtr[q + 1] - data.queryPtr[q]);
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
  }
  return sum / n;
}

const xor = (x: Float32Array) => (x[0] > 0 !== x[1] > 0 ? 1 : 0);

function roundTrip(model: BoostedTrees): BoostedTrees {
  const writer = new ArtifactWriter();
  const state = model.save(writer.scope('reranker/forest'));
  const reader = ArtifactReader.open(writer.toBytes(state));
  return BoostedTrees.load(reader.root as typeof state, reader.scope('reranker/forest'));
}

// ----------------------------------------------------------------------------------- tests

describe('LambdaRank', () => {
  const labels = [2, 0, 1, 0, 1, 0, 0];
  const s0 = [0.3, 1.1, -0.4, 0.8, 0.05, -1.2, 0.6];
  const k = 3;
  const sigma = 1.5;

  it('gives the gradient and diagonal hessian of the pairwise cost with frozen |dNDCG@k| (finite differences)', () => {
    const objective = new LambdaRank(k, sigma, labels.length);
    const grad = new Float64Array(labels.length);
    const hess = new Float64Array(labels.length);
    const invIdeal = 1 / objective.idealDcg(labels, 0, labels.length);
    objective.gradients(Float64Array.from(s0), labels, 0, labels.length, invIdeal, grad, hess);
    for (let i = 0; i < labels.length; i++) {
      const at = (d: number) => lambdaCost(s0.map((v, j) => (j === i ? v + d : v)), s0, labels, k, sigma);
      const h1 = 1e-5;
      const h2 = 1e-3;
      expect(grad[i]).toBeCloseTo((at(h1) - at(-h1)) / (2 * h1), 7);
      expect(hess[i]).toBeCloseTo((at(h2) - 2 * at(0) + at(-h2)) / (h2 * h2), 5);
    }
    // Lambdas push relevant items up (negative gradient) and sum to zero.
    expect(grad[0]).toBeLessThan(0);
    expect(grad.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    // Some pair of the query does cost something, so the check above was not vacuous.
    expect(hess.some((h) => h > 0.01)).toBe(true);
  });

  it('computes NDCG@k as defined, NaN without a relevant item, and zero gradients then', () => {
    const objective = new LambdaRank(k, sigma, labels.length);
    expect(objective.ndcg(s0, labels, 0, labels.length)).toBeCloseTo(ndcgOfOrder(ranking(s0), labels, k), 12);
    const none = [0, 0, 0];
    expect(objective.ndcg([1, 2, 3], none, 0, 3)).toBeNaN();
    const grad = new Float64Array(3).fill(5);
    const hess = new Float64Array(3).fill(5);
    objective.gradients(Float64Array.of(1, 2, 3), none, 0, 3, 1 / objective.idealDcg(none, 0, 3), grad, hess);
    expect([...grad, ...hess]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('ranks ties by row order, and only the top k matter', () => {
    const objective = new LambdaRank(2, 1, 4);
    // All scores tie: rows 0 and 1 take the top 2 places.
    expect(objective.ndcg([0, 0, 0, 0], [0, 0, 1, 1], 0, 4)).toBe(0);
    expect(objective.ndcg([0, 0, 0, 0], [1, 0, 0, 1], 0, 4)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
  });
});

describe('LambdaMART', () => {
  it('finds the single best split exactly, with Newton-step leaves from the lambdas', async () => {
    // Four queries of six candidates: feature 0 separates relevant (x0 >= 4) from not; feature 1 only partly.
    const x0 = [4, 1, 5, 2, 6, 3];
    const x1 = [1, 2, 3, 4, 5, 6];
    const labelsOf = (v: number) => (v >= 4 ? 1 : 0);
    const features: number[] = [];
    const labels: number[] = [];
    for (let q = 0; q < 4; q++) {
      for (let i = 0; i < 6; i++) {
        const j = (i + q) % 6;
        features.push(x0[j], x1[j]);
        labels.push(labelsOf(x0[j]));
      }
    }
    const data: RankingData = { features: Float32Array.from(features), labels, queryPtr: Int32Array.of(0, 6, 12, 18, 24), featureNames: ['x0', 'x1'] };
    const trainer = new LambdaMART({ trees: 1, numLeaves: 2, minDataInLeaf: 1, learningRate: 1, validationShare: 0, ndcgAt: 3 });
    const { model, report } = await trainer.fit(data);
    expect(report.treesKept).toBe(1);

    // Brute force: the lambdas at score 0, then the best of every split of every feature.
    const objective = new LambdaRank(3, 1, 6);
    const g = new Float64Array(24);
    const h = new Float64Array(24);
    for (let q = 0; q < 4; q++) objective.gradients(new Float64Array(24), labels, 6 * q, 6, 1 / objective.idealDcg(labels, 6 * q, 6), g, h);
    const sum = (a: Float64Array, rows: number[]) => rows.reduce((s, r) => s + a[r], 0);
    const all = Array.from({ length: 24 }, (_, r) => r);
    const G = sum(g, all);
    const H = sum(h, all);
    let best = { gain: 0, feature: -1, threshold: NaN, left: [] as number[], right: [] as number[] };
    for (let f = 0; f < 2; f++) {
      for (const t of [1.5, 2.5, 3.5, 4.5, 5.5]) {
        const left = all.filter((r) => features[2 * r + f] <= t);
        const right = all.filter((r) => features[2 * r + f] > t);
        const [gl, hl, gr, hr] = [sum(g, left), sum(h, left), sum(g, right), sum(h, right)];
        const gain = 0.5 * ((gl * gl) / hl + (gr * gr) / hr - (G * G) / H);
        if (gain > best.gain) best = { gain, feature: f, threshold: t, left, right };
      }
    }
    expect(best.feature).toBe(0);
    expect(best.threshold).toBe(3.5);

    const a = model.arrays;
    expect([...a.feature]).toEqual([0]);
    expect([...a.threshold]).toEqual([3.5]);
    expect(a.gain[0]).toBeCloseTo(best.gain, 12);
    const [leftLeaf, rightLeaf] = [~a.left[0], ~a.right[0]];
    expect(a.leafValue[leftLeaf]).toBeCloseTo(-sum(g, best.left) / sum(h, best.left), 12);
    expect(a.leafValue[rightLeaf]).toBeCloseTo(-sum(g, best.right) / sum(h, best.right), 12);
    expect(a.leafValue[rightLeaf]).toBeGreaterThan(0);
    expect(a.leafValue[leftLeaf]).toBeLessThan(0);
    expect(model.importance()[0]).toEqual({ feature: 'x0', gain: a.gain[0], share: 1, splits: 1 });
  });

  it('learns an interaction a linear ranker cannot fit (held-out queries)', async () => {
    const train = planted(300, 20, 5, 1, xor);
    const test = planted(150, 20, 5, 2, xor);
    const { model } = await new LambdaMART({ trees: 60, validationShare: 0.2 }).fit(train, { seed: 3 });
    const gbdt = meanNdcg(test, model.score(test.features, test.labels.length), 10);

    // The best linear scorer in the least-squares sense (with an intercept).
    const rows = train.labels.length;
    const X = new Matrix(rows, 6);
    for (let r = 0; r < rows; r++) {
      X.set(r, 0, 1);
      for (let f = 0; f < 5; f++) X.set(r, f + 1, train.features[5 * r + f]);
    }
    const w = solve(X.transpose().mmul(X), X.transpose().mmul(Matrix.columnVector(Array.from(train.labels)))).to1DArray();
    const linearScores = Array.from({ length: test.labels.length }, (_, r) => w[0] + [0, 1, 2, 3, 4].reduce((s, f) => s + w[f + 1] * test.features[5 * r + f], 0));
    const linear = meanNdcg(test, linearScores, 10);

    expect(gbdt).toBeGreaterThan(0.95);
    expect(linear).toBeLessThan(0.8);
    expect(gbdt - linear).toBeGreaterThan(0.2);
  });

  it('learns where missing values go, and routes NaN the same way at scoring', async () => {
    // Relevant rows miss feature 0; the others have a value in [-1, 1).
    const data = planted(100, 10, 2, 4, (x) => {
      if (x[1] > 0.2) {
        x[0] = NaN;
        return 1;
      }
      return 0;
    });
    data.featureNames = ['sometimesMissing', 'noise'];
    for (let r = 0; r < data.labels.length; r++) data.features[2 * r + 1] = mulberry32(r)() * 2 - 1;
    const { model } = await new LambdaMART({ trees: 1, numLeaves: 2, minDataInLeaf: 1, validationShare: 0 }).fit(data);
    const a = model.arrays;
    expect(a.feature[0]).toBe(0);
    // "Is missing": every value goes left, missing goes right, and the missing side scores higher.
    expect(a.threshold[0]).toBe(Infinity);
    expect(a.defaultLeft[0]).toBe(0);
    expect(a.leafValue[~a.right[0]]).toBeGreaterThan(a.leafValue[~a.left[0]]);
    const scores = model.score(Float32Array.of(NaN, 0, 0.5, 0, -1e30, 0), 3);
    expect(scores[0]).toBe(a.leafValue[~a.right[0]]);
    expect(scores[1]).toBe(a.leafValue[~a.left[0]]);
    expect(scores[2]).toBe(a.leafValue[~a.left[0]]);
  });

  it('routes NaN at scoring to the default side when training saw no missing value', async () => {
    const data = planted(100, 10, 3, 5, (x) => (x[0] > 0.3 ? 1 : 0));
    const { model } = await new LambdaMART({ trees: 5, validationShare: 0 }).fit(data);
    const a = model.arrays;
    // A row missing everything follows defaultLeft at every node.
    const nanRow = Float32Array.of(NaN, NaN, NaN);
    let expected = 0;
    for (let t = 0; t < model.nTrees; t++) {
      let n = a.nodeStart[t + 1] > a.nodeStart[t] ? a.nodeStart[t] : ~a.leafStart[t];
      while (n >= 0) n = a.defaultLeft[n] === 1 ? a.left[n] : a.right[n];
      expected += a.leafValue[~n];
    }
    expect(model.score(nanRow, 1)[0]).toBeCloseTo(expected, 12);
  });

  it('routes training rows by raw thresholds exactly as the binned trainer did (node counts)', async () => {
    const data = planted(60, 20, 4, 15, (x) => (x[0] + x[1] > 0.3 || x[2] > 0.8 ? 1 : 0));
    for (let r = 0; r < data.labels.length; r++) if (r % 3 === 0) data.features[4 * r + (r % 4)] = NaN;
    const { model } = await new LambdaMART({ trees: 8, numLeaves: 12, minDataInLeaf: 3, validationShare: 0, maxBins: 16 }).fit(data);
    const a = model.arrays;
    const trainingRows: number[] = [];
    for (let q = 0; q + 1 < data.queryPtr.length; q++) {
      const rows = Array.from({ length: data.queryPtr[q + 1] - data.queryPtr[q] }, (_, i) => data.queryPtr[q] + i);
      if (rows.some((r) => data.labels[r] > 0)) trainingRows.push(...rows);
    }
    const visits = new Int32Array(a.feature.length);
    for (const r of trainingRows) {
      for (let t = 0; t < model.nTrees; t++) {
        for (let n = a.nodeStart[t + 1] > a.nodeStart[t] ? a.nodeStart[t] : -1; n >= 0; ) {
          visits[n]++;
          const x = data.features[4 * r + a.feature[n]];
          n = x <= a.threshold[n] || (Number.isNaN(x) && a.defaultLeft[n] === 1) ? a.left[n] : a.right[n];
        }
      }
    }
    expect(a.feature.length).toBeGreaterThan(8 * 5);
    expect([...visits]).toEqual([...a.count]);
  });

  it('stops early when validation NDCG stops improving and keeps the best prefix', async () => {
    // Labels are coin flips: nothing generalizes, so validation NDCG peaks early.
    const rng = mulberry32(9);
    const data = planted(200, 15, 4, 6, () => (rng() < 0.2 ? 1 : 0));
    const patience = 5;
    const { model, report } = await new LambdaMART({ trees: 200, earlyStoppingRounds: patience, validationShare: 0.3, minDataInLeaf: 5 }).fit(data);
    expect(report.stoppedBy).toBe('early-stopping');
    expect(report.treesGrown).toBeLessThan(200);
    const curve = report.validationNdcg;
    expect(curve.length).toBe(report.treesGrown);
    const bestAt = curve.indexOf(Math.max(...curve));
    expect(report.treesKept).toBe(bestAt + 1);
    expect(report.treesGrown).toBe(report.treesKept + patience);
    expect(model.nTrees).toBe(report.treesKept);
    expect(report.validationQueries).toBeGreaterThan(40);
  });

  it('round-trips through an artifact to identical scores, contributions and importance', async () => {
    const data = planted(80, 15, 4, 7, (x) => (x[0] * x[2] > 0.1 ? 1 : 0));
    for (let r = 0; r < data.labels.length; r += 3) data.features[4 * r + 2] = NaN;
    const { model } = await new LambdaMART({ trees: 20, validationShare: 0, featureFraction: 0.75 }).fit(data);
    const back = roundTrip(model);
    const rows = data.labels.length;
    expect(back.nTrees).toBe(20);
    expect(back.featureNames).toEqual(model.featureNames);
    expect(back.score(data.features, rows)).toEqual(model.score(data.features, rows));
    expect(back.contributions(data.features, 3)).toEqual(model.contributions(data.features, 3));
    expect(back.importance()).toEqual(model.importance());
  });

  it('rejects a corrupt forest with an ArtifactError', async () => {
    const { model } = await new LambdaMART({ trees: 3, validationShare: 0, minDataInLeaf: 5 }).fit(planted(30, 10, 2, 8, xor));
    const save = (arrays: ForestArrays) => {
      const writer = new ArtifactWriter();
      const state = new BoostedTrees(model.featureNames, arrays).save(writer.scope('forest'));
      const reader = ArtifactReader.open(writer.toBytes(state));
      return () => BoostedTrees.load(reader.root as typeof state, reader.scope('forest'));
    };
    const a = model.arrays;
    const loop = { ...a, left: a.left.slice() };
    loop.left[a.nodeStart[1] - 1] = a.nodeStart[1] - 1; // a node that is its own child
    expect(save(loop)).toThrow(ArtifactError);
    const badFeature = { ...a, feature: a.feature.slice() };
    badFeature.feature[0] = 7;
    expect(save(badFeature)).toThrow(/splits on feature 7/);
  });

  it('is deterministic for a seed, and the seed matters with subsampling', async () => {
    const data = planted(120, 12, 6, 10, (x) => (x[0] + x[1] * x[2] > 0.4 ? 1 : 0));
    const options = { trees: 15, featureFraction: 0.5, baggingFraction: 0.6, validationShare: 0.25, earlyStoppingRounds: 0 };
    const one = await new LambdaMART(options).fit(data, { seed: 1 });
    const again = await new LambdaMART(options).fit(data, { seed: 1 });
    const other = await new LambdaMART(options).fit(data, { seed: 2 });
    expect(again.model.arrays).toEqual(one.model.arrays);
    expect(again.report).toEqual(one.report);
    expect(other.model.arrays.feature).not.toEqual(one.model.arrays.feature);
  });

  it('aborts mid-run when a timer fires the signal', async () => {
    const data = planted(600, 40, 12, 11, (x) => (x[0] * x[1] > 0 ? 1 : 0));
    const controller = new AbortController();
    const trees: number[] = [];
    const started = performance.now();
    setTimeout(() => controller.abort(), 150);
    const fit = new LambdaMART({ trees: 5000, validationShare: 0, minDataInLeaf: 2 }).fit(data, {
      signal: controller.signal,
      onProgress: (p) => trees.push(p.done),
    });
    await expect(fit).rejects.toThrow(AbortedError);
    expect(trees.length).toBeLessThan(5000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('explains each score exactly: bias + contributions = score', async () => {
    const data = planted(80, 15, 5, 12, (x) => (x[0] > 0 && x[3] < 0.5 ? 1 : 0));
    for (let r = 0; r < data.labels.length; r += 4) data.features[5 * r + 3] = NaN;
    const { model } = await new LambdaMART({ trees: 30, validationShare: 0, minDataInLeaf: 5 }).fit(data);
    const scores = model.score(data.features, data.labels.length);
    const unused = model.importance().filter((i) => i.splits === 0).map((i) => model.featureNames.indexOf(i.feature));
    for (let r = 0; r < 60; r++) {
      const c = model.contributions(data.features, r);
      expect(c.reduce((s, v) => s + v, 0)).toBeCloseTo(scores[r], 12);
      for (const f of unused) expect(c[f]).toBe(0);
    }
    // The planted features carry most of the gain.
    const top = model.importance().slice(0, 2).map((i) => i.feature).sort();
    expect(top).toEqual(['x0', 'x3']);
  });

  it('checks its options and data', async () => {
    expect(() => new LambdaMART({ numLeafs: 8 } as never)).toThrow(/LambdaMART.numLeafs: unknown option; did you mean "numLeaves"/);
    expect(() => new LambdaMART({ maxBins: 256 })).toThrow(OptionError);
    expect(() => new LambdaMART({ featureFraction: 0 })).toThrow(OptionError);
    const data = planted(5, 4, 2, 13, xor);
    await expect(new LambdaMART().fit({ ...data, labels: [0.5, ...Array.from(data.labels).slice(1)] })).rejects.toThrow(/labels are integers 0..31/);
    await expect(new LambdaMART().fit({ ...data, featureNames: ['only'] })).rejects.toThrow(/data.features/);
    await expect(new LambdaMART().fit({ ...data, labels: new Uint8Array(20) })).rejects.toThrow(/no query has a relevant candidate/);
    const { model } = await new LambdaMART({ trees: 2, validationShare: 0, minDataInLeaf: 1 }).fit(planted(10, 6, 2, 14, xor));
    expect(() => model.score(new Float32Array(3), 2)).toThrow(OptionError);
    expect(() => model.contributions(new Float32Array(4), 2)).toThrow(OptionError);
  });
});

describe('LambdaMART boosted from a base feature (init score)', () => {
  it('fits the base scale that minimizes the LambdaRank cost, and with no tree ranks as the base', async () => {
    // One query, the base ranks a relevant row below two irrelevant ones: not separable, so
    // the cost has an interior minimum in the scale.
    const base = [0.9, 0.8, 0.5, 0.3, 0.1, -0.2];
    const labels = [1, 0, 0, 1, 0, 0];
    const data: RankingData = {
      features: Float32Array.from(base),
      labels: Uint8Array.from(labels),
      queryPtr: Int32Array.from([0, base.length]),
      featureNames: ['base'],
      baseFeature: 0,
    };
    const { model, report } = await new LambdaMART({ trees: 1, validationShare: 0, minDataInLeaf: 20 }).fit(data);
    expect(report.treesKept).toBe(0);
    const c = report.baseScale!;
    const b = Array.from(data.features);
    const cost = (scale: number) => lambdaCost(b.map((x) => scale * x), b, labels, 10, 1);
    expect(c).toBeGreaterThan(0);
    expect(cost(c)).toBeLessThan(cost(c * 0.97));
    expect(cost(c)).toBeLessThan(cost(c * 1.03));
    expect(Array.from(model.score(data.features, base.length))).toEqual(b.map((x) => Math.fround(x) * c));
    // The base's share of the score is credited to its feature.
    expect(model.contributions(data.features, 0)[0]).toBeCloseTo(c * Math.fround(0.9), 12);
  });

  it('keeps no tree when the base is already perfect, and corrects a noisy base on held-out queries', async () => {
    const perfect = planted(200, 20, 3, 21, xor);
    for (let r = 0; r < perfect.labels.length; r++) perfect.features[3 * r + 2] = perfect.labels[r];
    const fromPerfect = await new LambdaMART({ trees: 30, validationShare: 0.3, earlyStoppingRounds: 5 }).fit({ ...perfect, baseFeature: 2 });
    expect(fromPerfect.report.initialValidationNdcg).toBe(1);
    expect(fromPerfect.report.treesKept).toBe(0);
    expect(fromPerfect.model.nTrees).toBe(0);
    expect(Number.isNaN(fromPerfect.report.gainConfidence)).toBe(true);

    // A base that knows half of the planted rule (x0 > 0): the trees learn the rest.
    const noisy = planted(200, 20, 3, 22, xor);
    for (let r = 0; r < noisy.labels.length; r++) noisy.features[3 * r + 2] = noisy.features[3 * r] > 0 ? 1 : 0;
    const { model, report } = await new LambdaMART({ trees: 60, validationShare: 0.3 }).fit({ ...noisy, baseFeature: 2 });
    expect(report.baseScale).toBeGreaterThan(0);
    expect(report.treesKept).toBeGreaterThan(0);
    expect(Math.max(...report.validationNdcg)).toBeGreaterThan(report.initialValidationNdcg + 0.1);
    expect(report.gainConfidence).toBeGreaterThan(0.99);
    const back = roundTrip(model);
    expect(back.base).toEqual(model.base);
    expect(back.score(noisy.features, noisy.labels.length)).toEqual(model.score(noisy.features, noisy.labels.length));
    const scores = model.score(noisy.features, noisy.labels.length);
    for (let r = 0; r < 20; r++) expect(model.contributions(noisy.features, r).reduce((s, v) => s + v, 0)).toBeCloseTo(scores[r], 10);
    await expect(new LambdaMART().fit({ ...noisy, baseFeature: 3 })).rejects.toThrow(/data.baseFeature/);
  });
});

describe('LambdaMART query groups', () => {
  it('holds out whole groups: the validation share is drawn by group', async () => {
    const data = planted(40, 10, 2, 23, xor);
    // Queries 0..29 form group 0, 30..39 group 1: one of the two groups is held out whole.
    const groups = Int32Array.from({ length: 40 }, (_, q) => (q < 30 ? 0 : 1));
    const usable = (from: number, to: number) => {
      let n = 0;
      for (let q = from; q < to; q++) if (Array.from(data.labels).slice(data.queryPtr[q], data.queryPtr[q + 1]).some((l) => l > 0)) n++;
      return n;
    };
    for (const seed of [1, 2, 3, 4]) {
      const { report } = await new LambdaMART({ trees: 2, validationShare: 0.5, minDataInLeaf: 5 }).fit({ ...data, groups }, { seed });
      expect([usable(0, 30), usable(30, 40)]).toContain(report.validationQueries);
    }
    await expect(new LambdaMART().fit({ ...data, groups: new Int32Array(3) })).rejects.toThrow(/data.groups/);
  });
});
