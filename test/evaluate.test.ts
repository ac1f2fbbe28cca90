import { describe, expect, it } from 'vitest';
import { OptionError } from '../src/errors';
import { evaluate, type IndexRanker } from '../src/eval/evaluate';
import { makeSplit, nextBasket, type EvalQuery, type Split } from '../src/eval/splits';
import type { Query } from '../src/strategies/types';
import type { Dataset } from '../src/data/dataset';
import { basketsDataset, expectAbortMidRun, itemIdx } from './fixtures';

const LOG2_3 = Math.log2(3);

/** Ranks items in a fixed preference order, skipping blocked ones; records what it was given. */
class FixedOrderRanker implements IndexRanker {
  readonly calls: Array<{ query: Query; blocked: number[] | null }> = [];
  constructor(private readonly order: Int32Array) {}
  rankIndices(query: Query, k: number, blocked: Uint8Array | null): Int32Array {
    this.calls.push({ query, blocked: blocked && [...blocked.keys()].filter((i) => blocked[i] === 1) });
    return this.order.filter((i) => blocked === null || blocked[i] === 0).slice(0, k);
  }
}

const handSplit = (train: Dataset, queries: EvalQuery[], candidates: Uint8Array | null = null): Split =>
  makeSplit(candidates ? 'P3' : 'P1', train, queries, candidates);

const EMPTY = new Int32Array(0);

describe('evaluate', () => {
  // Items a..f are indices 0..5; u1 bought a, b; u2 bought c.
  const train = basketsDataset({ u1: [['a', 'b']], u2: [['c']] }, { extraItems: ['d', 'e', 'f'] });
  const all = itemIdx(train, 'a', 'b', 'c', 'd', 'e', 'f');
  const historyQuery = (user: string, target: string[]): EvalQuery => ({
    user: train.users.indexOf(user),
    basket: EMPTY,
    useHistory: true,
    excludeHistory: true,
    excludeBasket: false,
    target: itemIdx(train, ...target),
    id: user,
  });

  it('excludes each user’s train items (and only theirs), skips empty targets, averages exactly', async () => {
    const split = handSplit(train, [historyQuery('u1', ['c', 'd']), historyQuery('u2', ['b', 'e']), historyQuery('u1', [])]);
    const ranker = new FixedOrderRanker(all);
    const r = await evaluate(ranker, split, { k: 2 });
    // u1: a, b blocked -> [c, d], both hit: P 1, R 1, AP (1/2)(1/1 + 2/2) = 1, NDCG 1.
    // u2: c blocked (a, b free again) -> [a, b], hit at rank 2: P 1/2, R 1/2, AP (1/2)(1/2) = 1/4,
    //     NDCG (1/log2 3) / (1 + 1/log2 3) = 0.386853.
    // Third query: empty T, skipped without ranking.
    expect(ranker.calls.map((c) => c.blocked)).toEqual([Array.from(itemIdx(train, 'a', 'b')), Array.from(itemIdx(train, 'c'))]);
    expect(ranker.calls[0].query.user).toBe(train.users.indexOf('u1'));
    expect(Array.from(ranker.calls[0].query.history.items)).toEqual(Array.from(itemIdx(train, 'a', 'b')));
    expect(r).toMatchObject({ protocol: 'P1', k: 2, evaluated: 2, skipped: 1, hitRate: 1 });
    expect(r.precision).toBeCloseTo(0.75, 12); // (1 + 0.5) / 2
    expect(r.recall).toBeCloseTo(0.75, 12); // (1 + 0.5) / 2
    expect(r.map).toBeCloseTo(0.625, 12); // (1 + 0.25) / 2
    expect(r.ndcg).toBeCloseTo((1 + 1 / LOG2_3 / (1 + 1 / LOG2_3)) / 2, 12); // (1 + 0.386853) / 2 = 0.693426
    expect(r.coverage).toBeCloseTo(4 / 6, 12); // {c, d, a, b} of 6 items
    expect(r.recallRepeat).toBeUndefined();
    expect(r.seconds).toBeGreaterThanOrEqual(0);
  });

  it('blocks non-candidates and the query basket, and builds anonymous queries', async () => {
    const candidates = Uint8Array.from([1, 1, 1, 0, 1, 1]); // d is not in the train catalog
    const basketQuery = (id: string, basket: string[], target: string[]): EvalQuery => ({
      user: -1,
      basket: itemIdx(train, ...basket),
      useHistory: false,
      excludeHistory: false,
      excludeBasket: true,
      target: itemIdx(train, ...target),
      id,
    });
    const split = handSplit(train, [basketQuery('o1', ['a'], ['d', 'e']), basketQuery('o2', ['b', 'c'], ['e'])], candidates);
    const ranker = new FixedOrderRanker(all);
    const r = await evaluate(ranker, split, { k: 2 });
    // o1: a (basket) and d (non-candidate) blocked -> [b, c], no hit; d can never be hit.
    // o2: b, c (basket), d blocked -> [a, e], hit at 2: P 1/2, R 1/1, AP (1/min(2,1))(1/2) = 1/2,
    //     NDCG (1/log2 3) / 1 = 0.630930.
    expect(ranker.calls.map((c) => c.blocked)).toEqual([[0, 3], [1, 2, 3]]);
    expect(ranker.calls[1].query).toMatchObject({ user: -1, timeline: null });
    expect(ranker.calls[1].query.history.items.length).toBe(0);
    expect(Array.from(ranker.calls[1].query.basket)).toEqual([1, 2]);
    expect(r.precision).toBeCloseTo(0.25, 12); // (0 + 0.5) / 2
    expect(r.recall).toBeCloseTo(0.5, 12); // (0 + 1) / 2
    expect(r.map).toBeCloseTo(0.25, 12); // (0 + 0.5) / 2
    expect(r.ndcg).toBeCloseTo(1 / LOG2_3 / 2, 12); // 0.315465
    expect(r.hitRate).toBe(0.5);
    expect(r.coverage).toBeCloseTo(4 / 5, 12); // {b, c, a, e} of the 5 candidates
  });

  it('P4: no blocking, repeat/explore recall over the parts of T that exist', async () => {
    const data = basketsDataset({
      u1: [['a', 'b'], ['b', 'c'], ['c', 'd']],
      u2: [['a'], ['e']],
      u3: [['e'], ['a', 'e'], ['b'], ['e', 'f']],
      u4: [['a'], ['b'], ['a']],
    });
    const split = nextBasket(data);
    // Repeat-first ranker: the user's history by purchase count (ties by index), then everything else.
    const ranker: IndexRanker = {
      rankIndices(query, k, blocked) {
        expect(blocked).toBeNull();
        const { items, weights } = query.history;
        const order = Array.from(items.keys()).sort((x, y) => weights[y] - weights[x] || items[x] - items[y]);
        const ranked = order.map((p) => items[p]);
        for (let i = 0; i < data.nItems; i++) if (!ranked.includes(i)) ranked.push(i);
        return Int32Array.from(ranked.slice(0, k));
      },
    };
    const r = await evaluate(ranker, split, { k: 2 });
    // u1: history a1 b2 c1 -> [b, a]; T = {c (repeat), d (explore)}: no hit; repeat R 0, explore R 0.
    // u3: history a1 b1 e2 -> [e, a]; T = {e (repeat), f (explore)}: hit at 1: P 1/2, R 1/2,
    //     AP (1/2)(1) = 1/2, NDCG 1 / (1 + 1/log2 3) = 0.613147; repeat R 1, explore R 0.
    // u4: history a1 b1 -> [a, b]; T = {a (repeat)}: P 1/2, R 1, AP 1, NDCG 1; repeat R 1, no explore part.
    expect(r).toMatchObject({ protocol: 'P4', evaluated: 3, skipped: 0, repeatEvaluated: 3, exploreEvaluated: 2 });
    expect(r.precision).toBeCloseTo(1 / 3, 12); // (0 + 0.5 + 0.5) / 3
    expect(r.recall).toBeCloseTo(0.5, 12); // (0 + 0.5 + 1) / 3
    expect(r.map).toBeCloseTo(0.5, 12); // (0 + 0.5 + 1) / 3
    expect(r.ndcg).toBeCloseTo((1 / (1 + 1 / LOG2_3) + 1) / 3, 12); // 0.537716
    expect(r.hitRate).toBeCloseTo(2 / 3, 12);
    expect(r.recallRepeat).toBeCloseTo(2 / 3, 12); // (0 + 1 + 1) / 3
    expect(r.recallExplore).toBe(0); // (0 + 0) / 2
    expect(r.coverage).toBeCloseTo(3 / 6, 12); // {b, a, e} of a..f
  });

  it('limits queries, reports progress, honours abort, and refuses rankers that break the rules', async () => {
    const split = handSplit(train, [historyQuery('u1', ['c']), historyQuery('u2', ['a'])]);
    const progress: number[] = [];
    const r = await evaluate(new FixedOrderRanker(all), split, { k: 1, users: 1, onProgress: (p) => progress.push(p.done) });
    expect(r.evaluated).toBe(1);
    expect(r.precision).toBe(1); // u1 -> [c]
    expect(progress).toEqual([1]);

    // A ranker that takes a few milliseconds per query: the timer's signal lands mid-run.
    const slow: IndexRanker = {
      rankIndices: (query, k, blocked) => {
        const until = performance.now() + 2;
        while (performance.now() < until);
        return new FixedOrderRanker(all).rankIndices(query, k, blocked);
      },
    };
    const many = handSplit(train, Array.from({ length: 1000 }, () => historyQuery('u1', ['c'])));
    await expectAbortMidRun((signal) => evaluate(slow, many, { signal }), /evaluate was aborted/);
    await expect(evaluate({} as IndexRanker, split)).rejects.toThrow(/must be an IndexRanker/);
    await expect(evaluate(new FixedOrderRanker(all), split, { k: 0 })).rejects.toThrow(OptionError);
    await expect(evaluate(new FixedOrderRanker(all), split, { users: -1 })).rejects.toThrow(OptionError);

    const returns = (items: number[]): IndexRanker => ({ rankIndices: () => Int32Array.from(items) });
    await expect(evaluate(returns([0]), split)).rejects.toThrow(/blocked item 0/); // a is u1's train item
    await expect(evaluate(returns([3, 3]), split)).rejects.toThrow(/repeated item 3/);
    await expect(evaluate(returns([6]), split)).rejects.toThrow(/outside/);
  });
});
