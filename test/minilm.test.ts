import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { AbortedError, NotFittedError, OptionError } from '../src/errors';
import { ContentBased, MiniLMEncoder, type DenseItemVectors } from '../src/strategies/content';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject } from '../src/strategies/types';
import { basketsDataset, expectAbortMidRun, itemIdx } from './fixtures';

const MODELS = fileURLToPath(new URL('../../shared/models/', import.meta.url));
const TINY = `${MODELS}test/tiny-random-bert`;
const HAVE_MODEL = existsSync(`${TINY}/onnx/model.onnx`);
if (!HAVE_MODEL) console.warn(`MiniLM model tests skipped: the test model ${TINY} is missing (see shared/models/README.md)`);

/** The random-weight test model: real tokenizer and loading path, 32 dims, no meaning. */
function tinyEncoder(batchSize = 64): MiniLMEncoder {
  return new MiniLMEncoder({ model: 'test/tiny-random-bert', localModelPath: MODELS, dtype: 'fp32', batchSize });
}

const NAMES = [
  'Greek Yogurt Strawberry',
  'Crème Fraîche',
  'Jalapeño Kettle Chips with a much longer product name that pads the batch',
  'Bananas',
  '',
  'Organic Whole Milk 1 gal',
  'Spaghetti',
];

function rowNorm(v: DenseItemVectors, r: number): number {
  let s = 0;
  for (let j = 0; j < v.dim; j++) s += v.data[r * v.dim + j] ** 2;
  return Math.sqrt(s);
}

describe('MiniLMEncoder options (no model needed)', () => {
  it('defaults to the quantized MiniLM, with downloads off when a local folder is given', () => {
    const remote = new MiniLMEncoder();
    expect(remote.options).toMatchObject({ model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8', batchSize: 64, localModelPath: null, allowRemote: null });
    expect(remote.remoteAllowed).toBe(true);
    expect(new MiniLMEncoder({ localModelPath: '/models/' }).remoteAllowed).toBe(false);
    expect(new MiniLMEncoder({ localModelPath: '/models/', allowRemote: true }).remoteAllowed).toBe(true);
    expect(remote.fitted).toBe(false);
    expect(() => remote.dim).toThrow(NotFittedError);
  });

  it('rejects bad options', () => {
    expect(() => new MiniLMEncoder({ batchSize: 0 })).toThrow(OptionError);
    expect(() => new MiniLMEncoder({ batchSize: 2.5 })).toThrow(OptionError);
    expect(() => new MiniLMEncoder({ model: '' })).toThrow(OptionError);
    expect(() => new MiniLMEncoder({ dtype: 'fp64' as 'fp32' })).toThrow(OptionError);
    expect(() => new MiniLMEncoder({ localModelPath: '' })).toThrow(OptionError);
  });
});

describe.skipIf(!HAVE_MODEL)(`MiniLMEncoder on the tiny random test model (${TINY})`, () => {
  const encoder = tinyEncoder(64);
  afterAll(() => encoder.dispose());

  it('encodes to [n, 32] unit vectors, zero rows for blank texts', async () => {
    const v = await encoder.fit(NAMES);
    expect(v.format).toBe('dense');
    expect([v.rows, v.dim]).toEqual([NAMES.length, 32]);
    expect(v.data).toHaveLength(NAMES.length * 32);
    expect(encoder.dim).toBe(32);
    for (let r = 0; r < NAMES.length; r++) {
      if (NAMES[r] === '') expect(rowNorm(v, r)).toBe(0);
      else expect(rowNorm(v, r)).toBeCloseTo(1, 5);
    }
    // Different texts, different vectors (the random model still reads the tokens).
    expect(Array.from(v.data.subarray(0, 32))).not.toEqual(Array.from(v.data.subarray(32, 64)));
  });

  it('gives the same vectors in batches as one by one', async () => {
    const all = await encoder.encode(NAMES);
    const small = tinyEncoder(2);
    try {
      const batched = await small.encode(NAMES);
      for (let r = 0; r < NAMES.length; r++) {
        const single = await small.encode([NAMES[r]]);
        for (let j = 0; j < 32; j++) {
          expect(Math.abs(single.data[j] - all.data[r * 32 + j])).toBeLessThan(1e-5);
          expect(Math.abs(batched.data[r * 32 + j] - all.data[r * 32 + j])).toBeLessThan(1e-5);
        }
      }
    } finally {
      await small.dispose();
    }
  });

  it("restores transformers.js' global settings after loading", async () => {
    const { env } = await import('@huggingface/transformers');
    const before = { localModelPath: env.localModelPath, allowLocalModels: env.allowLocalModels, allowRemoteModels: env.allowRemoteModels };
    const fresh = tinyEncoder();
    try {
      await fresh.encode(['Bananas']);
    } finally {
      await fresh.dispose();
    }
    expect({ localModelPath: env.localModelPath, allowLocalModels: env.allowLocalModels, allowRemoteModels: env.allowRemoteModels }).toEqual(before);
  });

  it('reports a missing model as an OptionError naming it, without downloading', async () => {
    const missing = new MiniLMEncoder({ model: 'test/no-such-model', localModelPath: MODELS, dtype: 'fp32' });
    await expect(missing.encode(['x'])).rejects.toThrow(/no-such-model.*downloads are off/);
    await expect(missing.encode(['x'])).rejects.toThrow(OptionError);
  });

  it('stops mid-run when the signal fires', async () => {
    const many = Array.from({ length: 4000 }, (_, i) => `${NAMES[i % NAMES.length]} ${i}`);
    await expectAbortMidRun((signal) => tinyEncoder(4).encode(many, { signal }), /MiniLMEncoder.encode was aborted/);
  });

  it('round-trips its settings through an artifact', async () => {
    await encoder.encode(['x']);
    const w = new ArtifactWriter();
    const state = encoder.save(w.scope('enc'));
    const again = MiniLMEncoder.load(ArtifactReader.open(w.toBytes(state)).root as JsonObject);
    expect(again.options).toEqual(encoder.options);
    expect(again.dim).toBe(32);
    const a = await encoder.encode(['Greek Yogurt']);
    const b = await again.encode(['Greek Yogurt']);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    await again.dispose();
  });

  it('drives ContentBased: dense scores, explanations, identical scores after a round trip', async () => {
    const data = basketsDataset(
      { u1: [['y1', 'b'], ['y2']], u2: [['p1'], ['c']] },
      {
        catalog: {
          y1: { name: 'Greek Yogurt Strawberry', aisle: 'yogurt', department: 'dairy eggs' },
          y2: { name: 'Greek Yogurt Blueberry', aisle: 'yogurt', department: 'dairy eggs' },
          p1: { name: 'Spaghetti Pasta', aisle: 'dry pasta', department: 'pantry' },
          b: { name: 'Bananas', aisle: 'fresh fruits', department: 'produce' },
          c: { name: 'Crème Fraîche', aisle: 'cream', department: 'dairy eggs' },
          n: { name: 'Never Bought Granola', aisle: 'cereal', department: 'breakfast' },
        },
      },
    );
    const model = new ContentBased({ encoder });
    await model.fit(data);
    const vectors = model.itemVectors;
    expect(vectors.format === 'dense' && [vectors.rows, vectors.dim]).toEqual([6, 32]);
    const w = new ArtifactWriter();
    const state = model.save(w.scope('content'));
    const r = ArtifactReader.open(w.toBytes(state));
    const again = await ContentBased.load(r.root as JsonObject, r.scope('content'));
    expect(again.encoder).toBeInstanceOf(MiniLMEncoder);
    const queries = [userQuery(data, 0), userQuery(data, 1), anonymousQuery(itemIdx(data, 'c'), itemIdx(data, 'n'))];
    for (const q of queries) {
      const a = new ScoreVector(data.nItems);
      const b = new ScoreVector(data.nItems);
      model.score(q, a);
      again.score(q, b);
      expect(a.dense).toBe(true);
      expect(Array.from(b.values)).toEqual(Array.from(a.values));
      // Every item, the never-bought one included, has a cosine score in [-1, 1].
      for (const s of a.values) expect(Math.abs(s)).toBeLessThanOrEqual(1 + 1e-6);
      for (let i = 0; i < data.nItems; i++) {
        const e = again.explain(q, i, (k) => data.catalog.name[k]);
        if (a.values[i] > 0) expect(e!.score).toBe(a.values[i]);
        else expect(e).toBeNull();
      }
    }
    const similar = again.similarItems(0, 5);
    const positive = Array.from({ length: 5 }, (_, i) => i + 1).filter((i) => again.similarity(0, i) > 0);
    expect(similar.items).toHaveLength(positive.length);
    expect(Array.from(similar.items)).not.toContain(0);
    for (const s of similar.scores) expect(s).toBeGreaterThan(0);
    expect(similar).toEqual(model.similarItems(0, 5));
  });
});
