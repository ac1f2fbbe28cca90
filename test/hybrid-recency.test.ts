import { describe, expect, it } from 'vitest';
import { Dataset } from '../src/data/dataset';
import { datasetFromInteractions, interactionsFromRows } from '../src/data/interactions';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { DataError, OptionError } from '../src/errors';
import { Popularity } from '../src/strategies/popularity';
import type { FitOptions } from '../src/strategies/types';
import { basketsDataset, timedDataset } from './fixtures';

/** Popularity that keeps the (user, item) weights of every dataset it was fitted on. */
class RecordingPopularity extends Popularity {
  readonly fits: Array<Record<string, number>> = [];
  override async fit(data: Dataset, options?: FitOptions): Promise<void> {
    const m = data.interactions;
    const weights: Record<string, number> = {};
    for (let u = 0; u < m.nRows; u++) {
      for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) weights[`${data.users.id(u)}:${data.items.id(m.indices[p])}`] = m.values[p];
    }
    this.fits.push(weights);
    return super.fit(data, options);
  }
}

/** Users a and b, one interaction a second: a buys i1..i5 in order, b buys i5..i1; c buys i1 then i2. */
function timedData(): Dataset {
  const rows: Array<[string, string, number]> = [];
  for (let k = 1; k <= 5; k++) rows.push(['a', `i${k}`, k], ['b', `i${6 - k}`, k]);
  rows.push(['c', 'i1', 1], ['c', 'i2', 2]);
  return timedDataset(rows);
}

describe('HybridRecommender recency', () => {
  it('weights the tuner\'s validation training part after the carve, and the final training data', async () => {
    const pop = new RecordingPopularity();
    const rec = new HybridRecommender({ strategies: { pop }, weights: 'tune', tune: { protocol: 'holdout-temporal' }, recency: { halfLifeInteractions: 1 } });
    await rec.fit(timedData());
    expect(pop.fits).toHaveLength(2);
    // holdout-temporal holds out each user's latest entry (of 5: ceil(20%) = 1; of 2: 1); what is left is weighted, its latest at 1.
    expect(pop.fits[0]).toEqual({ 'a:i1': 0.125, 'a:i2': 0.25, 'a:i3': 0.5, 'a:i4': 1, 'b:i5': 0.125, 'b:i4': 0.25, 'b:i3': 0.5, 'b:i2': 1, 'c:i1': 1 });
    // The final fit: every entry, each user's latest at 1.
    expect(pop.fits[1]).toEqual({ 'a:i1': 0.0625, 'a:i2': 0.125, 'a:i3': 0.25, 'a:i4': 0.5, 'a:i5': 1, 'b:i5': 0.0625, 'b:i4': 0.125, 'b:i3': 0.25, 'b:i2': 0.5, 'b:i1': 1, 'c:i1': 0.5, 'c:i2': 1 });
    // Known users' queries read the weighted data.
    expect(rec.dataset.interactions.get(rec.dataset.users.indexOf('a'), rec.dataset.items.indexOf('i1'))).toBe(0.0625);
  });

  it('weights each of the reranker\'s validation folds after its own carve from the unweighted data', async () => {
    const pop = new RecordingPopularity();
    const rec = new HybridRecommender({ strategies: { pop }, combiner: 'reranker', reranker: { protocol: 'holdout-temporal', folds: 2 }, recency: { halfLifeInteractions: 1 } });
    await rec.fit(timedData());
    expect(pop.fits).toHaveLength(3);
    expect(pop.fits[0]).toEqual({ 'a:i1': 0.125, 'a:i2': 0.25, 'a:i3': 0.5, 'a:i4': 1, 'b:i5': 0.125, 'b:i4': 0.25, 'b:i3': 0.5, 'b:i2': 1, 'c:i1': 1 });
    // Fold 2 carves the latest entry again from fold 1's train part as it was (weighting it twice would give a:i3 0.25).
    expect(pop.fits[1]).toEqual({ 'a:i1': 0.25, 'a:i2': 0.5, 'a:i3': 1, 'b:i5': 0.25, 'b:i4': 0.5, 'b:i3': 1, 'c:i1': 1 });
    expect(pop.fits[2]['a:i5']).toBe(1);
    expect(pop.fits[2]['a:i1']).toBe(0.0625);
  });

  it('fits a timestamped dataset of datasetFromInteractions with a temporal carve', async () => {
    const rows = [];
    for (let k = 1; k <= 5; k++) rows.push({ u: 'a', i: `i${k}`, t: k * 86400 }, { u: 'b', i: `i${6 - k}`, t: k * 86400 });
    const data = datasetFromInteractions(interactionsFromRows(rows, { user: 'u', item: 'i', timestamp: 't' }).rows);
    const pop = new RecordingPopularity();
    const rec = new HybridRecommender({ strategies: { pop }, weights: 'tune', tune: { protocol: 'holdout-temporal' }, recency: { halfLifeInteractions: 1 } });
    await rec.fit(data);
    expect(pop.fits[0]).toEqual({ 'a:i1': 0.125, 'a:i2': 0.25, 'a:i3': 0.5, 'a:i4': 1, 'b:i5': 0.125, 'b:i4': 0.25, 'b:i3': 0.5, 'b:i2': 1 });
    expect(pop.fits[1]['a:i5']).toBe(1);
    expect(pop.fits[1]['b:i5']).toBe(0.0625);
  });

  it('without the option fits the data as it is (the default is null)', async () => {
    expect(HybridRecommender.defaults.recency).toBeNull();
    const pop = new RecordingPopularity();
    await new HybridRecommender({ strategies: { pop } }).fit(timedData());
    expect(pop.fits[0]['a:i1']).toBe(1);
    // Every half-life Infinity is no decay: resolved to none, so no timestamps are needed.
    const none = new HybridRecommender({ strategies: { pop: new Popularity() }, recency: { halfLifeInteractions: Infinity } });
    expect(none.options.recency).toBeNull();
  });

  it('keeps the option through save and load, with identical recommendations', async () => {
    const rec = new HybridRecommender({ strategies: { pop: new Popularity() }, weights: 'tune', tune: { protocol: 'holdout' }, recency: { halfLifeInteractions: 2 } });
    await rec.fit(timedData());
    const loaded = await HybridRecommender.load(rec.save());
    expect(loaded.options.recency).toEqual({ halfLifeInteractions: 2, halfLifeDays: Infinity });
    for (const user of ['a', 'b', 'c']) expect(loaded.recommend({ user }, { k: 5 })).toEqual(rec.recommend({ user }, { k: 5 }));
    expect(loaded.dataset.interactions.get(loaded.dataset.users.indexOf('b'), loaded.dataset.items.indexOf('i5'))).toBe(0.25);
    // An artifact of a recommender without the option loads without it (artifact-compat.test.ts: one written before the option existed).
    const plainRec = new HybridRecommender({ strategies: { pop: new Popularity() } });
    await plainRec.fit(timedData());
    expect((await HybridRecommender.load(plainRec.save())).options.recency).toBeNull();
  });

  it('refuses data without timestamps, bad options and basket carves, before any fit', async () => {
    const pop = new RecordingPopularity();
    const rec = new HybridRecommender({ strategies: { pop }, recency: { halfLifeInteractions: 1 } });
    const untimed = basketsDataset({ a: [['x', 'y'], ['y', 'z']], b: [['x'], ['z']] });
    await expect(rec.fit(untimed)).rejects.toThrow(DataError);
    await expect(rec.fit(untimed)).rejects.toMatchObject({ field: 'time', message: expect.stringMatching(/HybridRecommender\.recency.*Dataset\.times/) });
    expect(pop.fits).toHaveLength(0);
    expect(() => new HybridRecommender({ strategies: { pop }, recency: { halfLifeInteractions: 0 } })).toThrow(/HybridRecommender\.recency\.halfLifeInteractions/);
    expect(() => new HybridRecommender({ strategies: { pop }, recency: { halfLife: 1 } as never })).toThrow(OptionError);
    expect(() => new HybridRecommender({ strategies: { pop }, recency: 1 as never })).toThrow(/HybridRecommender\.recency/);
    // Baskets and times, as datasetFromInteractions gives for timestamped rows: 'auto' carves next-basket, whose training part keeps no times.
    const timedBaskets = untimed.withTimes(...entryRows(untimed));
    const tuned = new HybridRecommender({ strategies: { pop }, weights: 'tune', recency: { halfLifeInteractions: 1 } });
    await expect(tuned.fit(timedBaskets)).rejects.toThrow(/HybridRecommender\.tune\.protocol: carves a (next-basket|basket-completion) validation split/);
    expect(pop.fits).toHaveLength(0);
  });
});

/** Each matrix entry as one row at time = its position in the user's row. */
function entryRows(data: Dataset): [Int32Array, Int32Array, Float64Array] {
  const m = data.interactions;
  const user = new Int32Array(m.nnz);
  for (let u = 0; u < m.nRows; u++) user.fill(u, m.indptr[u], m.indptr[u + 1]);
  return [user, Int32Array.from(m.indices), Float64Array.from(m.indices, (_, p) => p)];
}
