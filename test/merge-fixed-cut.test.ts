/**
 * MergeEngine's reuse of a query-independent strategy's cut (Popularity's scoresVersion):
 * whatever came before (a blocked query, a refit in place), a rank equals a fresh engine's.
 */
import { describe, expect, it } from 'vitest';
import { MergeEngine, type Ranked } from '../src/ensemble/merge';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import type { Recommender } from '../src/strategies/types';
import { basketsDataset } from './fixtures';

// The same items in the same order; the second shop buys salsa three times more.
const data = basketsDataset({ alice: [['bread', 'eggs'], ['milk'], ['milk']], bob: [['chips', 'beer', 'salsa'], ['chips']] });
const more = basketsDataset({ alice: [['bread', 'eggs'], ['milk'], ['milk']], bob: [['chips', 'beer', 'salsa'], ['chips'], ['salsa'], ['salsa'], ['salsa']] });
const settings = { weights: Float64Array.of(1, 1), normalization: 'max' as const, candidatesPerStrategy: 3 };

/** Items, scores and every strategy's contribution to them. */
function read(engine: MergeEngine, ranked: Ranked): unknown {
  return { items: Array.from(ranked.items), scores: Array.from(ranked.scores), parts: Array.from(ranked.items, (i) => [engine.contribution(0, i, 1), engine.contribution(1, i, 1)]) };
}

function fresh(members: Recommender[], fallback: Recommender, blocked: Uint8Array | null, dataset = data): unknown {
  const engine = new MergeEngine(members, fallback, dataset.nItems);
  return read(engine, engine.rank(userQuery(dataset, 0), 6, blocked, null, settings));
}

describe('MergeEngine with a query-independent member', () => {
  it('ranks as a fresh engine after a blocked query and after the member is refit in place', async () => {
    expect(Array.from({ length: data.nItems }, (_, i) => data.items.id(i))).toEqual(Array.from({ length: more.nItems }, (_, i) => more.items.id(i)));
    const popularity = new Popularity();
    const repeat = new RepeatPurchase();
    const fallback = new Popularity();
    await Promise.all([popularity.fit(data), repeat.fit(data), fallback.fit(data)]);
    const members = [popularity, repeat];
    const engine = new MergeEngine(members, fallback, data.nItems);
    const query = userQuery(data, 0);
    const blocked = new Uint8Array(data.nItems);
    blocked[data.items.indexOf('chips')] = 1;
    const open = fresh(members, fallback, null);
    expect(read(engine, engine.rank(query, 6, null, null, settings))).toEqual(open);
    // Reused: the same list and contributions again, then a blocked query cuts without chips, then the reuse once more.
    expect(read(engine, engine.rank(query, 6, null, null, settings))).toEqual(open);
    const closed = read(engine, engine.rank(query, 6, blocked, null, settings));
    expect(closed).toEqual(fresh(members, fallback, blocked));
    expect(closed).not.toEqual(open);
    expect(read(engine, engine.rank(query, 6, null, null, settings))).toEqual(open);
    // A refit replaces the scores: salsa's new count must show, in the member and in the fallback fill.
    await Promise.all([popularity.fit(more), fallback.fit(more)]);
    const refit = read(engine, engine.rank(query, 6, null, null, settings));
    expect(refit).toEqual(fresh(members, fallback, null, more));
    expect(refit).not.toEqual(open);
  });

  it('blocked queries cut the kept scores as a fresh score would: from the first query, one after another, across a refit', async () => {
    const [popularity, repeat, fallback] = [new Popularity(), new RepeatPurchase(), new Popularity()];
    await Promise.all([popularity.fit(data), repeat.fit(data), fallback.fit(data)]);
    const members = [popularity, repeat];
    const engine = new MergeEngine(members, fallback, data.nItems);
    const query = userQuery(data, 0);
    const chips = new Uint8Array(data.nItems);
    chips[data.items.indexOf('chips')] = 1;
    const milk = new Uint8Array(data.nItems);
    milk[data.items.indexOf('milk')] = 1;
    // The protocol batch: every query blocked, the first one too (its cut of the kept scores is made then).
    const before = [chips, milk, chips].map((blocked) => read(engine, engine.rank(query, 6, blocked, null, settings)));
    expect(before).toEqual([chips, milk, chips].map((blocked) => fresh(members, fallback, blocked)));
    // A refit in place replaces the kept scores.
    await Promise.all([popularity.fit(more), fallback.fit(more)]);
    const refit = read(engine, engine.rank(query, 6, chips, null, settings));
    expect(refit).toEqual(fresh(members, fallback, chips, more));
    expect(refit).not.toEqual(before[0]);
  });

  it('kept out of the union (nothing filtered; nothing blocked, or nothing cut), members rank as inside it: same items, float32 scores and contributions', async () => {
    // Two query-independent members around a per-query one, uneven weights: every fixed step, the later admissions on their prefix, fixed-only items and the fallback fill.
    const [first, repeat, second, fallback] = [new Popularity(), new RepeatPurchase(), new Popularity(), new Popularity()];
    await Promise.all([first.fit(more), repeat.fit(more), second.fit(more), fallback.fit(more)]);
    const members = [first, repeat, second];
    const engine = new MergeEngine(members, fallback, more.nItems);
    // A predicate that accepts everything takes the union path for every member.
    const all = () => true;
    const chips = new Uint8Array(more.nItems);
    chips[more.items.indexOf('chips')] = 1;
    const milkAndSalsa = new Uint8Array(more.nItems);
    milkAndSalsa[more.items.indexOf('milk')] = 1;
    milkAndSalsa[more.items.indexOf('salsa')] = 1;
    // A cap of 4 cuts the popularity members' kept cuts (blocked queries then cut their kept scores again); no cap keeps their cuts whole, and a block only removes items.
    for (const candidatesPerStrategy of [4, Infinity]) {
      const uneven = { weights: Float64Array.of(0.7, 1.3, 0.4), normalization: 'minmax' as const, candidatesPerStrategy };
      const parts = (ranked: Ranked) => ({ items: Array.from(ranked.items), scores: Array.from(ranked.scores), fromEnsemble: ranked.fromEnsemble, parts: Array.from(ranked.items, (i) => members.map((_, s) => engine.contribution(s, i, uneven.weights[s]))) });
      for (const query of [userQuery(more, 0), userQuery(more, 1), anonymousQuery(new Int32Array(0))]) {
        for (const blocked of [null, chips, milkAndSalsa]) {
          for (const k of [1, 3, more.nItems]) {
            const inside = parts(engine.rank(query, k, blocked, all, uneven));
            expect(parts(engine.rank(query, k, blocked, null, uneven))).toEqual(inside);
            // Kept steps: the second query-independent rank reuses them.
            expect(parts(engine.rank(query, k, blocked, null, uneven))).toEqual(inside);
          }
        }
      }
    }
  });
});
