import { describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import type { SectionReader, SectionWriter } from '../src/artifact/sections';
import type { Dataset } from '../src/data/dataset';
import { ArtifactError, NotFittedError, OptionError, UnknownIdError } from '../src/errors';
import { strategyRanker } from '../src/eval/rankers';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, ScoreVector } from '../src/strategies/types';
import { basketsDataset } from './fixtures';
import { CandidateBuffers, cutCandidates } from '../src/ensemble/merge';
import { ScoreVector as Scores } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';

/**
 * A strategy with fixed raw scores per item id, scoring only when the query has any item, so
 * the ensemble's arithmetic can be checked by hand.
 */
class FixedScores implements Recommender {
  readonly kind = 'fixed';
  private table: Float32Array = new Float32Array(0);
  private isFitted = false;
  constructor(private readonly byId: Record<string, number>) {}
  get fitted() {
    return this.isFitted;
  }
  async fit(data: Dataset, _options?: FitOptions) {
    this.table = new Float32Array(data.nItems).fill(NaN);
    for (const [id, s] of Object.entries(this.byId)) this.table[data.items.indexOf(id)] = s;
    this.isFitted = true;
  }
  score(query: Query, out: ScoreVector) {
    if (query.history.items.length === 0 && query.basket.length === 0) return;
    for (let i = 0; i < this.table.length; i++) if (!Number.isNaN(this.table[i])) out.set(i, this.table[i]);
  }
  explain(_q: Query, item: number, name: ItemNamer): Explanation | null {
    return Number.isNaN(this.table[item]) ? null : { score: this.table[item], reason: `fixed score for ${name(item)}`, evidence: [{ item, weight: 1 }] };
  }
  save(out: SectionWriter): JsonObject {
    out.array('table', this.table);
    return { byId: this.byId };
  }
  static load(state: JsonObject, sections: SectionReader): FixedScores {
    const s = new FixedScores(state.byId as Record<string, number>);
    s.table = sections.f32('table');
    s.isFitted = true;
    return s;
  }
}

const data = basketsDataset(
  {
    alice: [['milk', 'bread'], ['milk', 'eggs']],
    bob: [['milk'], ['milk'], ['bread', 'beer']],
    carol: [['beer', 'chips'], ['chips']],
  },
  { extraItems: ['salsa'], catalog: { salsa: { name: 'Salsa', aisle: 'dips', department: 'snacks' } } },
);

async function fitted(opts: Partial<ConstructorParameters<typeof HybridRecommender>[0]> = {}): Promise<HybridRecommender> {
  const rec = new HybridRecommender({
    strategies: { a: new FixedScores({ salsa: 4, chips: 2, beer: 1 }), b: new FixedScores({ chips: 10, eggs: 5 }) },
    weights: { a: 1, b: 0.5 },
    normalization: 'max',
    fallback: null,
    ...opts,
  });
  await rec.fit(data, { seed: 1 });
  return rec;
}

describe('cutCandidates', () => {
  it('keeps the unblocked items scoring at least the cap-th best of a sort, with ties, NaN and small vectors', () => {
    const rng = mulberry32(7);
    const buffers = new CandidateBuffers(500);
    for (let trial = 0; trial < 200; trial++) {
      const v = new Scores(500);
      const n = 1 + Math.floor(rng() * 400);
      for (let i = 0; i < n; i++) v.set(Math.floor(rng() * 500), rng() < 0.05 ? NaN : Math.floor(rng() * 20) / 4);
      const blocked = Uint8Array.from({ length: 500 }, () => (rng() < 0.2 ? 1 : 0));
      const finite = Array.from({ length: v.length }, (_, i) => v.at(i))
        .filter((item) => blocked[item] === 0)
        .map((item) => v.values[item])
        .filter(Number.isFinite)
        .sort((a, b) => b - a);
      const cap = 1 + Math.floor(rng() * 60);
      const { items, raw } = buffers;
      const { count, cutoff } = cutCandidates(v, cap, blocked, buffers);
      expect(cutoff).toBe(finite.length <= cap ? -Infinity : finite[cap - 1]);
      expect(count).toBe(finite.filter((s) => s >= cutoff).length);
      const expected = Array.from({ length: v.length }, (_, i) => v.at(i)).filter((item) => blocked[item] === 0 && Number.isFinite(v.values[item]) && v.values[item] >= cutoff);
      expect(Array.from(items.subarray(0, count))).toEqual(expected);
      expect(Array.from(raw.subarray(0, count))).toEqual(expected.map((item) => v.values[item]));
    }
  });
});

describe('HybridRecommender', () => {
  it('sums max-normalized scores with weights (hand-computed)', async () => {
    const rec = await fitted();
    // a/4: salsa 1, chips .5, beer .25; b/10 * .5: chips .5, eggs .25
    const out = rec.recommend('carol', { k: 5 });
    expect(out.map((r) => r.item)).toEqual(['chips', 'salsa', 'beer', 'eggs']);
    expect(out[0].score).toBeCloseTo(1.0, 6);
    expect(out[0].sources).toEqual({ a: 0.5, b: 0.5 });
    expect(out[2].score).toBeCloseTo(0.25, 6);
    // Ties (beer .25, eggs .25) break by lower raw id.
    expect(out[3].score).toBeCloseTo(0.25, 6);
  });

  it('merges only each strategy\'s best candidatesPerStrategy items, normalized over all of them', async () => {
    const rec = await fitted({ candidatesPerStrategy: 1 });
    // a adds only salsa (4/4 = 1), b only chips (10/10 x 0.5): beer and eggs are cut.
    const out = rec.recommend('carol', { k: 5 });
    expect(out.map((r) => [r.item, r.sources])).toEqual([
      ['salsa', { a: 1 }],
      ['chips', { b: 0.5 }],
    ]);
    const back = await HybridRecommender.load(rec.save(), { loaders: { fixed: FixedScores.load } });
    expect(back.recommend('carol', { k: 5 })).toEqual(out);
    expect(() => new HybridRecommender({ strategies: { a: new FixedScores({}) }, candidatesPerStrategy: 0 })).toThrow(OptionError);
    // Ties at the cut are all kept.
    const tied = new HybridRecommender({ strategies: { a: new FixedScores({ salsa: 4, chips: 2, beer: 2, eggs: 1 }) }, candidatesPerStrategy: 2, fallback: null });
    await tied.fit(data, { seed: 1 });
    expect(tied.recommend('carol', { k: 5 }).map((r) => r.item)).toEqual(['salsa', 'beer', 'chips']);
  });

  it('filters purchased items, explicit ids and business rules', async () => {
    const rec = await fitted();
    expect(rec.recommend('carol', { k: 5, excludePurchased: true }).map((r) => r.item)).toEqual(['salsa', 'eggs']);
    expect(rec.recommend('carol', { k: 5, exclude: ['salsa'] }).map((r) => r.item)).toEqual(['chips', 'beer', 'eggs']);
    const noSnacks = rec.recommend('carol', { k: 5, filter: (i) => i.department !== 'snacks' });
    expect(noSnacks.map((r) => r.item)).toEqual(['chips', 'beer', 'eggs']);
    const global = await fitted({ exclude: ['chips'], excludePurchased: true });
    expect(global.recommend('carol', { k: 5 }).map((r) => r.item)).toEqual(['salsa', 'eggs']);
    // The current basket is never recommended back.
    expect(rec.recommend({ user: 'alice', basket: ['chips'] }, { k: 2 }).map((r) => r.item)).toEqual(['salsa', 'beer']);
  });

  it('fills from the fallback past items a strict filter rejects', async () => {
    const rec = await fitted({ fallback: new FixedScores({ milk: 3, salsa: 2, bread: 1 }) });
    const staples = new Set(['eggs', 'milk', 'bread']);
    // The ensemble offers only eggs; the fallback's head (milk, salsa) loses salsa to the
    // filter, so the rest of the fallback is scanned in score order for bread.
    const out = rec.recommend({ history: ['beer'] }, { k: 3, filter: (i) => staples.has(i.id) });
    expect(out.map((r) => r.item)).toEqual(['eggs', 'milk', 'bread']);
    expect(out.slice(1).every((r) => 'fallback' in r.sources)).toBe(true);
  });

  it('scores a shopper from a given history and fills from the fallback, which says so', async () => {
    const rec = await fitted({ fallback: new FixedScores({ milk: 3, bread: 1 }) });
    expect(rec.recommend({ user: 'dave', history: ['beer'] }, { k: 2 }).map((r) => r.item)).toEqual(['chips', 'salsa']);
    // The fixed fallback scores nothing for an empty query: the explicit cold start is empty.
    expect(rec.recommend({ history: [] }, { k: 2 })).toEqual([]);
    const filled = rec.recommend({ history: ['beer'] }, { k: 6 });
    expect(filled.map((r) => r.item)).toEqual(['chips', 'salsa', 'beer', 'eggs', 'milk', 'bread']);
    expect(filled[4].sources).toEqual({ fallback: filled[4].score });
    expect(filled[4].score).toBeLessThan(filled[3].score);
  });

  it('answers the explicit cold start from the fallback, every item marked', async () => {
    const rec = await fitted({ fallback: new FixedScores({ milk: 3, bread: 1 }), strategies: { a: new FixedScores({ salsa: 4 }) }, weights: {} });
    // The fixed strategies score nothing for an empty query; this fallback scores once it has a basket item.
    const cold = rec.recommend({ basket: ['eggs'] }, { k: 3, explain: true });
    expect(cold.map((r) => r.item)).toEqual(['salsa', 'milk', 'bread']);
    expect(cold.slice(1).map((r) => Object.keys(r.sources))).toEqual([['fallback'], ['fallback']]);
    expect(cold[1].reason).toBe('fixed score for milk');
  });

  it('explains with per-strategy reasons, strongest first', async () => {
    const rec = await fitted();
    const [top] = rec.recommend('carol', { k: 1, explain: true });
    expect(top.because?.map((b) => b.strategy)).toEqual(['a', 'b']);
    expect(top.reason).toBe('fixed score for chips');
    expect(top.because?.[0].items).toEqual(['chips']);
  });

  it('completes baskets and finds similar items without returning the inputs', async () => {
    const rec = await fitted();
    expect(rec.recommend({ basket: ['chips'] }, { k: 2 }).map((r) => r.item)).toEqual(['salsa', 'beer']);
    expect(rec.similarItems('salsa', { k: 1 }).map((r) => r.item)).toEqual(['chips']);
    // No fallback filler in similar items: only what the strategies relate to the item.
    const withFallback = await fitted({ fallback: new FixedScores({ milk: 3, bread: 1 }) });
    expect(withFallback.similarItems('salsa', { k: 10 }).map((r) => r.item)).toEqual(['chips', 'beer', 'eggs']);
    expect(withFallback.recommend({ basket: ['salsa'] }, { k: 10 }).map((r) => r.item)).toEqual(['chips', 'beer', 'eggs', 'milk', 'bread']);
  });

  it('round-trips through save/load with identical results', async () => {
    const rec = await fitted();
    const bytes = rec.save();
    await expect(HybridRecommender.load(bytes)).rejects.toThrow(ArtifactError);
    const back = await HybridRecommender.load(bytes, { loaders: { fixed: FixedScores.load } });
    for (const u of ['alice', 'bob', 'carol']) {
      expect(back.recommend(u, { k: 5, explain: true })).toEqual(rec.recommend(u, { k: 5, explain: true }));
    }
    expect(back.strategyWeights).toEqual({ a: 1, b: 0.5 });
    expect(back.save()).toEqual(bytes);
  });

  it('rejects bad options and unknown items with typed errors', async () => {
    expect(() => new HybridRecommender({ strategies: {} })).toThrow(OptionError);
    expect(() => new HybridRecommender({ strategies: { a: new FixedScores({}) }, weights: { a: NaN } })).toThrow(/weights.a/);
    expect(() => new HybridRecommender({ strategies: { a: new FixedScores({}) }, weights: { zz: 1 } })).toThrow(/zz/);
    const rec = await fitted();
    expect(() => rec.recommend({ basket: ['unobtainium'] })).toThrow(UnknownIdError);
    expect(() => rec.recommend('alice', { k: -1 })).toThrow(OptionError);
  });

  it('ranks each strategy alone on the same fit', async () => {
    const rec = await fitted();
    const q = { user: 0, history: { items: Int32Array.from([0]), weights: Float32Array.from([1]) }, timeline: null, basket: new Int32Array(0) };
    const onlyB = strategyRanker(rec, 'b').rankIndices(q, 3, null);
    expect([...onlyB].map((i) => data.items.id(i))).toEqual(['chips', 'eggs']);
  });
});
