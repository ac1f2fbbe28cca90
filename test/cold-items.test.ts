import { describe, expect, it } from 'vitest';
import { OptionError } from '../src/errors';
import { coldItems } from '../src/eval/cold-items';
import { evaluate, type IndexRanker } from '../src/eval/evaluate';
import { ContentBased } from '../src/strategies/content';
import { ScoreVector, type Recommender } from '../src/strategies/types';
import { basketsDataset, itemIdx } from './fixtures';

/**
 * a bought x, y then z; b bought x then w; c bought w; d bought y and w together. v is in the
 * catalog, never sold. Texts: x and y are apples, w a beer, z a loaf.
 */
const data = basketsDataset(
  { a: [['x', 'y'], ['z']], b: [['x'], ['w']], c: [['w']], d: [['y', 'w']] },
  {
    catalog: { x: { name: 'red apple' }, y: { name: 'green apple' }, z: { name: 'rye loaf' }, w: { name: 'dark beer' }, v: { name: 'pale beer' } },
  },
);

/** A strategy as an IndexRanker: its scores, best first, blocked and untouched items left out. */
function ranker(s: Recommender, nItems: number): IndexRanker {
  return {
    rankIndices(query, k, blocked) {
      const out = new ScoreVector(nItems);
      s.score(query, out);
      return Int32Array.from(
        Array.from({ length: nItems }, (_, i) => i)
          .filter((i) => out.has(i) && !(blocked && blocked[i]))
          .sort((p, q) => out.values[q] - out.values[p] || p - q)
          .slice(0, k),
      );
    },
  };
}

describe('coldItems', () => {
  it('holds the given items out with every purchase, and queries the users who bought them and kept a history', () => {
    const split = coldItems(data, { items: ['x', 'w'] });
    const [x, w, y, z] = itemIdx(split.train, 'x', 'w', 'y', 'z');
    expect(split.protocol).toBe('cold-items');
    // Train: a [y] [z], d [y]; b and c bought only held-out items and have no baskets left.
    expect(split.stats).toEqual({ users: 4, catalog: 2, trainNonzeros: 3, trainBasketNonzeros: 3, trainBaskets: 3, testBaskets: 0, queries: 2, heldOut: 2 });
    const t = split.train.interactions;
    expect(t.get(0, x)).toBe(0);
    expect([t.get(0, y), t.get(0, z), t.get(3, y)]).toEqual([1, 1, 1]);
    for (let u = 0; u < 4; u++) expect(t.get(u, w)).toBe(0);
    expect(Array.from(split.train.baskets.userPtr)).toEqual([0, 2, 2, 2, 3]);
    // The held-out items stay in the catalog with their text.
    expect(split.train.catalog.name[x]).toBe('red apple');
    expect(split.queries.map((q) => [q.id, Array.from(q.target)])).toEqual([
      ['a', [x]],
      ['d', [w]],
    ]);
    for (const q of split.queries) expect([q.useHistory, q.excludeHistory, q.excludeBasket, q.basket.length]).toEqual([true, true, false, 0]);
    // Candidates: the held-out items only; with 'all', every item (catalog 5).
    expect(Array.from(split.candidates!)).toEqual(Array.from({ length: 5 }, (_, i) => (i === x || i === w ? 1 : 0)));
    const all = coldItems(data, { items: ['x', 'w'], candidates: 'all' });
    expect([all.candidates, all.stats.catalog]).toEqual([null, 5]);
  });

  it('evaluates: a model of the items’ text ranks the held-out items among themselves', async () => {
    const split = coldItems(data, { items: ['x', 'w'] });
    const content = new ContentBased();
    await content.fit(split.train);
    // a (apple, loaf) gets x (an apple) first: a hit; d (apple) gets x before w: a miss.
    const byText = await evaluate(ranker(content, data.nItems), split, { k: 1 });
    expect([byText.protocol, byText.recall, byText.evaluated]).toEqual(['cold-items', 0.5, 2]);
    // Even at k = 2 d misses: "dark beer" shares no word with d's "green apple", so text never reaches it.
    expect((await evaluate(ranker(content, data.nItems), split, { k: 2 })).recall).toBe(0.5);
  });

  it('draws a seeded share of the items with purchases (never an unsold one), the same for the same seed', () => {
    const a = coldItems(data, { share: 0.5, seed: 3 });
    const heldOf = (s: ReturnType<typeof coldItems>) => Array.from(s.candidates!.keys()).filter((i) => s.candidates![i] === 1);
    // 4 sold items (x, y, z, w): 2 held out; v (unsold) never.
    expect(heldOf(a).length).toBe(2);
    expect(heldOf(a)).not.toContain(data.items.indexOf('v'));
    expect(heldOf(coldItems(data, { share: 0.5, seed: 3 }))).toEqual(heldOf(a));
    const seeds = new Set(Array.from({ length: 8 }, (_, s) => heldOf(coldItems(data, { share: 0.5, seed: s })).join()));
    expect(seeds.size).toBeGreaterThan(1);
    // At least one item is held out, and at least one stays.
    expect(heldOf(coldItems(data, { share: 0.01 })).length).toBe(1);
    expect(heldOf(coldItems(data, { share: 0.99 })).length).toBe(3);
  });

  it('rejects bad options naming them', () => {
    expect(() => coldItems(data, { share: 1 })).toThrow(OptionError);
    expect(() => coldItems(data, { items: ['v'] })).toThrow(/no purchases/);
    expect(() => coldItems(data, { items: ['nope'] })).toThrow(/no item "nope"/);
    expect(() => coldItems(data, { shares: 0.1 } as never)).toThrow(/share/);
    expect(() => coldItems({} as never)).toThrow(/coldItems: data/);
  });
});
