import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { StateReader } from '../src/artifact/validate';
import { OptionError } from '../src/errors';
import { hnswlibIndex, usearchIndex } from '../src/node/ann';
import { ExactVectorIndex, VectorIndexSlot, exactIndex, type VectorIndexFactory, type VectorSource } from '../src/util/ann';
import { mulberry32, randomNormal } from '../src/util/random';

/**
 * n points around 20 cluster centers in a 4-dimensional latent space, mapped to `dim`
 * dimensions plus a little noise: the low effective rank of trained embeddings (the
 * structure of benchmarks/ann.ts's default data). Centers and map are fixed; `seed` draws the points.
 */
function clustered(n: number, dim: number, seed: number): Float32Array {
  const fixed = mulberry32(99);
  const centers = Float32Array.from({ length: 20 * 4 }, () => randomNormal(fixed));
  const map = Float32Array.from({ length: 4 * dim }, () => randomNormal(fixed) / 2);
  const rng = mulberry32(seed);
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    const c = Math.floor(rng() * 20);
    for (let j = 0; j < dim; j++) out[r * dim + j] = 0.05 * randomNormal(rng);
    for (let l = 0; l < 4; l++) {
      const z = centers[c * 4 + l] + 0.4 * randomNormal(rng);
      for (let j = 0; j < dim; j++) out[r * dim + j] += z * map[l * dim + j];
    }
  }
  return out;
}

describe('ExactVectorIndex', () => {
  // Rows: (1, 0), (0, 2), (3, 3), (-1, 0).
  const vectors = Float32Array.of(1, 0, 0, 2, 3, 3, -1, 0);

  it('ranks by inner product, best first, with exact scores', () => {
    const index = new ExactVectorIndex({ vectors, dim: 2, metric: 'ip' });
    const r = index.search(Float32Array.of(1, 1), 3);
    expect(Array.from(r.items)).toEqual([2, 1, 0]);
    expect(Array.from(r.scores)).toEqual([6, 2, 1]);
  });

  it('ranks by cosine, ties by the lower row', () => {
    const index = new ExactVectorIndex({ vectors, dim: 2, metric: 'cosine' });
    const r = index.search(Float32Array.of(1, 0), 4);
    expect(Array.from(r.items)).toEqual([0, 2, 1, 3]);
    expect(r.scores[0]).toBeCloseTo(1, 6);
    expect(r.scores[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(r.scores[2]).toBeCloseTo(0, 6);
    expect(r.scores[3]).toBeCloseTo(-1, 6);
  });

  it('returns at most size items and rejects a query of the wrong length', () => {
    const index = new ExactVectorIndex({ vectors, dim: 2, metric: 'ip' });
    expect(index.search(Float32Array.of(1, 1), 10).items.length).toBe(4);
    expect(() => index.search(Float32Array.of(1, 1, 1), 2)).toThrow(OptionError);
    expect(() => new ExactVectorIndex({ vectors, dim: 3, metric: 'ip' })).toThrow(OptionError);
  });
});

const natives: Array<[string, (ef: number) => VectorIndexFactory]> = [
  ['usearch', (ef) => usearchIndex({ expansionSearch: ef })],
  ['hnswlib', (ef) => hnswlibIndex({ ef })],
];

describe.each(natives)('%s index', (_name, make) => {
  const dim = 16;
  const source: VectorSource = { vectors: clustered(3000, dim, 1), dim, metric: 'ip' };
  const queries = clustered(50, dim, 2);
  const exact = new ExactVectorIndex(source);

  it('finds the exact top 10 (recall >= 0.95 at ef 64) with exact similarities', async () => {
    const index = await make(64).build(source);
    expect(index.size).toBe(3000);
    let hits = 0;
    for (let q = 0; q < 50; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const want = new Set(exact.search(query, 10).items);
      const got = index.search(query, 10);
      expect(got.items.length).toBe(10);
      for (let i = 0; i < 10; i++) {
        if (want.has(got.items[i])) hits++;
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += query[j] * source.vectors[got.items[i] * dim + j];
        expect(got.scores[i]).toBeCloseTo(dot, 3);
        if (i > 0) expect(got.scores[i]).toBeLessThanOrEqual(got.scores[i - 1] + 1e-5);
      }
    }
    expect(hits / 500).toBeGreaterThanOrEqual(0.95);
  });

  it('cosine: scores are cosines', async () => {
    const cos: VectorSource = { ...source, metric: 'cosine' };
    const index = await make(64).build(cos);
    const query = queries.subarray(0, dim);
    const want = new ExactVectorIndex(cos).search(query, 5);
    const got = index.search(query, 5);
    expect(Array.from(got.items)).toEqual(Array.from(want.items));
    for (let i = 0; i < 5; i++) expect(got.scores[i]).toBeCloseTo(want.scores[i], 4);
  });

  it('serializes and restores to identical results; builds are deterministic', async () => {
    const a = await make(32).build(source);
    const b = await make(32).build(source);
    const stored = a.serialize()!;
    expect(Array.from(b.serialize()!.bytes)).toEqual(Array.from(stored.bytes));
    const restored = await make(32).restore(stored, source);
    expect(restored).not.toBeNull();
    for (let q = 0; q < 10; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      expect(Array.from(restored!.search(query, 10).items)).toEqual(Array.from(a.search(query, 10).items));
    }
  });

  it('declines to restore an index built over other vectors', async () => {
    const stored = (await make(32).build(source)).serialize()!;
    const fewer: VectorSource = { ...source, vectors: source.vectors.subarray(0, 100 * dim) };
    expect(await make(32).restore(stored, fewer)).toBeNull();
    expect(await make(32).restore(stored, { ...source, metric: 'cosine' })).toBeNull();
  });
});

describe('VectorIndexSlot', () => {
  const dim = 8;
  const source: VectorSource = { vectors: clustered(500, dim, 3), dim, metric: 'ip' };

  function roundTrip(slot: VectorIndexSlot): VectorIndexSlot {
    const w = new ArtifactWriter();
    const state = slot.save(w.scope('s'));
    const r = ArtifactReader.open(w.toBytes({ ann: state }));
    return VectorIndexSlot.read(StateReader.of(r.root, 's'), r.scope('s'), 'ann');
  }

  it('stores the native index and restores it when the same kind is attached, else builds', async () => {
    const slot = new VectorIndexSlot();
    expect(await slot.attach(usearchIndex(), source)).toBe('built');
    const query = source.vectors.subarray(0, dim);
    const before = Array.from(slot.index!.search(query, 5).items);
    const loaded = roundTrip(slot);
    expect(loaded.index).toBeNull();
    expect(await loaded.attach(usearchIndex(), source)).toBe('restored');
    expect(Array.from(loaded.index!.search(query, 5).items)).toEqual(before);
    // A loaded, never-attached slot keeps the stored bytes when saved again.
    const again = roundTrip(roundTrip(slot));
    expect(await again.attach(usearchIndex(), source)).toBe('restored');
    // Another kind rebuilds; null detaches.
    const other = roundTrip(slot);
    expect(await other.attach(hnswlibIndex(), source)).toBe('built');
    expect(await other.attach(null, source)).toBe('detached');
    expect(other.index).toBeNull();
  });

  it('writes nothing for the exact index', async () => {
    const slot = new VectorIndexSlot();
    await slot.attach(exactIndex(), source);
    const w = new ArtifactWriter();
    expect(slot.save(w.scope('s'))).toBeNull();
  });
});
