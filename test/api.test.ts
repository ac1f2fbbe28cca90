/**
 * The public facade as a caller sees it, plain JavaScript callers included: the Shopper input
 * (ids, histories, baskets with days, carts), cold start, unknown ids, the explicit skip of
 * unknown items, and a typed error (never a TypeError) for every malformed argument.
 */
import { describe, expect, it } from 'vitest';
import { HybridRecommender } from '../src/ensemble/hybrid';
import { writeHybrid } from '../src/ensemble/persist';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import { ArtifactError, EmptyDataError, NotFittedError, OptionError, UnknownIdError } from '../src/errors';
import { ALS } from '../src/strategies/als';
import { AssociationRules } from '../src/strategies/association-rules';
import { ContentBased } from '../src/strategies/content';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { EASE } from '../src/strategies/ease';
import { ItemKNN } from '../src/strategies/item-knn';
import { NeuralCF } from '../src/strategies/neural-cf';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';
import { SequentialRecommender } from '../src/strategies/sequential';
import { TwoTower } from '../src/strategies/two-tower';
import { TIFUKNN } from '../src/strategies/tifu-knn';
import { MiniLMEncoder, TfidfEncoder } from '../src/strategies/content';
import { checkQuery } from '../src/strategies/checks';
import { anonymousQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject } from '../src/strategies/types';
import { basketsDataset } from './fixtures';

const shop = basketsDataset(
  {
    '1': [['milk', 'bread'], ['milk', 'eggs'], ['milk', 'coffee'], ['milk', 'bread', 'coffee']],
    '2': [['beer', 'chips'], ['chips', 'salsa'], ['beer', 'salsa']],
    '3': [['coffee', 'milk'], ['bread']],
    '4': [['eggs', 'bread', 'milk']],
  },
  { days: { '1': [0, 7, 15, 21], '2': [0, 3, 30], '3': [0, 10], '4': [5] }, extraItems: ['12'] },
);

/** Strategies that use only the query's items, so a shopper brought by the request can equal a stored one. */
function requestOnly() {
  return {
    repeat: new RepeatPurchase(),
    itemknn: new ItemKNN({ minCount: 1 }),
    content: new ContentBased(),
    rules: new AssociationRules({ minCount: 1, minSupport: 0 }),
    graph: new CoPurchaseGraph({ minCount: 1 }),
  };
}

async function fitted(): Promise<HybridRecommender> {
  const rec = new HybridRecommender({ strategies: requestOnly() });
  await rec.fit(shop, { seed: 3 });
  return rec;
}

/** The stored baskets and days of user `u`, as a request would bring them. */
function stored(u: string): { baskets: string[][]; days: number[] } {
  const i = shop.users.indexOf(u);
  const { userPtr, itemPtr, items, day } = shop.baskets;
  const baskets: string[][] = [];
  const days: number[] = [];
  for (let b = userPtr[i]; b < userPtr[i + 1]; b++) {
    baskets.push(Array.from(items.subarray(itemPtr[b], itemPtr[b + 1]), (it) => shop.items.id(it)));
    days.push(day[b]);
  }
  return { baskets, days };
}

describe('the shopper of a request', () => {
  it('builds a real basket timeline from baskets, so a shopper brought by the request gets what a stored one gets', async () => {
    const rec = await fitted();
    for (const u of ['1', '2', '3']) {
      const { baskets, days } = stored(u);
      const fromStore = rec.recommend(u, { k: 5, explain: true });
      // Days of any origin: they are rebased to the first order, as stored timelines are.
      const fromRequest = rec.recommend({ baskets, days: days.map((d) => d + 100) }, { k: 5, explain: true });
      expect(fromRequest).toEqual(fromStore);
      expect(rec.recommend({ user: u, baskets, days }, { k: 5 })).toEqual(rec.recommend(u, { k: 5 }));
    }
    // The timeline matters: RepeatPurchase's reason counts orders, which a flat history has not.
    const withBaskets = rec.recommend({ baskets: stored('1').baskets }, { k: 1, explain: true });
    expect(withBaskets[0].because?.find((b) => b.strategy === 'repeat')?.text).toBe('you bought this in all of your 4 orders');
    const flat = rec.recommend({ history: ['milk', 'milk', 'milk', 'milk', 'bread'] }, { k: 1, explain: true });
    expect(flat[0].because?.find((b) => b.strategy === 'repeat')?.text).toBe('you bought this 4 times before');
  });

  it('derives the history from the baskets, and takes the given history when there is one', async () => {
    const rec = await fitted();
    const baskets = [['beer', 'chips'], ['chips']];
    expect(rec.recommend({ baskets }, { k: 4 })).toEqual(rec.recommend({ baskets, history: ['beer', 'chips', 'chips'] }, { k: 4 }));
    // A known user with a cart: the stored history plus the cart as context, never recommended back.
    const carted = rec.recommend({ user: '1', basket: ['coffee'] }, { k: 6 });
    expect(carted.map((r) => r.item)).not.toContain('coffee');
    expect(carted).not.toEqual(rec.recommend('1', { k: 6 }));
  });

  it('answers an explicit cold start from the fallback, and marks it', async () => {
    const rec = await fitted();
    const cold = rec.recommend({ history: [] }, { k: 3, explain: true });
    expect(cold).toHaveLength(3);
    for (const r of cold) {
      expect(Object.keys(r.sources)).toEqual(['fallback']);
      expect(r.reason).toMatch(/^a best seller: \d+ purchases by all shoppers$/);
    }
    expect(rec.recommend({ history: [] }, { k: 3 }).map((r) => r.item)).toEqual(['milk', 'bread', 'coffee']);
  });

  it('refuses an unknown user id instead of answering a typo with popular items', async () => {
    const rec = await fitted();
    expect(() => rec.recommend('l')).toThrow(UnknownIdError);
    expect(() => rec.recommend('l')).toThrow('unknown user id "l" (shopper)');
    expect(() => rec.recommend({ user: 'nobody', basket: ['milk'] })).toThrow(UnknownIdError);
    // With a history the request is the source of truth: the user id is not looked up.
    expect(rec.recommend({ user: 'nobody', history: ['beer'] }, { k: 3 })).toEqual(rec.recommend({ history: ['beer'] }, { k: 3 }));
  });

  it('refuses unknown item ids by default, naming where, and skips and reports them when asked', async () => {
    const rec = await fitted();
    expect(() => rec.recommend({ history: ['milk', 'caviar'] })).toThrow('unknown item id "caviar" (shopper.history[1])');
    expect(() => rec.recommend({ baskets: [['milk'], ['bread', 'caviar']] })).toThrow(/shopper.baskets\[1\]\[1\]/);
    expect(() => rec.recommend('1', { exclude: ['caviar'] })).toThrow(/options.exclude\[0\]/);
    const skipped: Array<[string, string]> = [];
    const out = rec.recommend(
      { history: ['milk', 'caviar', 'bread'], basket: ['truffle'] },
      { k: 4, unknownItems: 'skip', onUnknownItem: (id, field) => skipped.push([id, field]) },
    );
    expect(skipped).toEqual([
      ['truffle', 'shopper.basket[0]'],
      ['caviar', 'shopper.history[1]'],
    ]);
    expect(out).toEqual(rec.recommend({ history: ['milk', 'bread'] }, { k: 4 }));
    // Skipping without a listener is allowed too; the subject of similarItems must exist.
    expect(rec.recommend({ history: ['caviar'] }, { k: 2, unknownItems: 'skip' })).toEqual(rec.recommend({ history: [] }, { k: 2 }));
    expect(() => rec.similarItems('caviar')).toThrow(UnknownIdError);
  });

  it('recommends in batch exactly as one by one', async () => {
    const rec = await fitted();
    const shoppers = ['1', { history: ['beer'] }, { basket: ['coffee'] }, '4'] as const;
    expect(await rec.recommendBatch(shoppers, { k: 3, explain: true })).toEqual(shoppers.map((s) => rec.recommend(s, { k: 3, explain: true })));
    await expect(rec.recommendBatch(['1', 'nobody'])).rejects.toThrow('unknown user id "nobody" (shoppers[1])');
  });
});

describe('plain JavaScript callers get typed errors, never wrong answers', () => {
  // What a caller without TypeScript can pass.
  const js = <T>(v: unknown) => v as T;

  it('ids are strings: a number is an OptionError that says so, everywhere', async () => {
    const rec = await fitted();
    // User "1" exists: recommend(1) must not quietly become a cold start.
    expect(() => rec.recommend(js(1))).toThrow('shopper: ids are strings, got number 1');
    expect(() => rec.recommend({ user: js(1) })).toThrow('shopper.user: ids are strings, got number 1');
    expect(() => rec.recommend({ history: js([1, 2]) })).toThrow('shopper.history[0]: ids are strings, got number 1');
    // Item "12" exists: the string must not be read as the cart ['1', '2'], nor as ['12'].
    expect(() => rec.recommend({ basket: js('12') })).toThrow('shopper.basket: must be an array of id strings, got "12"');
    expect(() => rec.recommend({ baskets: js([['milk'], 'bread']) })).toThrow('shopper.baskets[1]: must be an array of id strings, got "bread"');
    expect(() => rec.recommend('1', { exclude: js(['milk', 7]) })).toThrow('recommend.exclude[1]: ids are strings, got number 7');
    expect(() => rec.similarItems(js(12))).toThrow('itemId: ids are strings, got number 12');
    await expect(rec.recommendBatch(js('1'))).rejects.toThrow(OptionError);
  });

  it('missing or malformed arguments are OptionErrors', async () => {
    const rec = await fitted();
    for (const bad of [
      () => rec.recommend(js(undefined)),
      () => rec.recommend(js(null)),
      () => rec.recommend(js(['1'])),
      () => rec.recommend({}),
      () => rec.recommend({ histroy: ['milk'] } as never),
      () => rec.recommend({ days: [1] }),
      () => rec.recommend({ baskets: [['milk'], ['eggs']], days: [3] }),
      () => rec.recommend({ baskets: [['milk'], ['eggs']], days: [3, 1] }),
      () => rec.recommend({ baskets: [['milk']], days: [NaN] }),
      () => rec.recommend('1', js(5)),
      () => rec.recommend('1', { k: 2.5 }),
      () => rec.recommend('1', { k: js('5') }),
      () => rec.recommend('1', js({ K: 5 })),
      () => rec.recommend('1', { filter: js('department') }),
      () => rec.recommend('1', { unknownItems: js('ignore') }),
      () => rec.save(js({ customerdata: false })),
      () => rec.save(js({ customerData: 'no' })),
    ]) {
      expect(bad).toThrow(OptionError);
    }
    expect(() => rec.recommend({ histroy: ['milk'] } as never)).toThrow('shopper.histroy: unknown option; did you mean "history"?');
    expect(() => rec.recommend({})).toThrow('{ history: [] } is the explicit cold start');
    // The options of the API before Shopper say where the field went.
    expect(() => rec.recommend('1', js({ basket: ['milk'] }))).toThrow('recommend.basket: is part of the shopper, not of the options');
    await expect(HybridRecommender.load(js('bytes'))).rejects.toThrow(/Uint8Array/);
    await expect(HybridRecommender.load(rec.save(), js({ loader: {} }))).rejects.toThrow(/did you mean "loaders"/);
  });

  it('fit and the constructors check their arguments', async () => {
    await expect(new HybridRecommender({ strategies: requestOnly() }).fit(js(undefined))).rejects.toThrow('HybridRecommender.fit: data must be a Dataset, got undefined');
    await expect(new HybridRecommender({ strategies: requestOnly() }).fit(shop, js({ seed: 'x' }))).rejects.toThrow(/HybridRecommender.fit.seed/);
    await expect(new HybridRecommender({ strategies: requestOnly() }).fit(shop, js({ sed: 1 }))).rejects.toThrow(/did you mean "seed"/);
    for (const s of [new Popularity(), new RepeatPurchase(), new ItemKNN(), new NeuralCF(), new AssociationRules(), new CoPurchaseGraph(), new ContentBased()]) {
      await expect(s.fit(js(undefined)), s.kind).rejects.toThrow(/data must be a Dataset, got undefined/);
      await expect(s.fit(js({})), s.kind).rejects.toThrow(OptionError);
    }
    const empty = basketsDataset({});
    await expect(new ItemKNN().fit(empty)).rejects.toThrow(EmptyDataError);
    expect(() => new HybridRecommender(js(undefined))).toThrow('HybridRecommender.strategies: at least one strategy is required');
    expect(() => new HybridRecommender({ strategies: { a: js({}) } })).toThrow('HybridRecommender.strategies.a: is not a Recommender');
    expect(() => new HybridRecommender({ strategies: requestOnly(), weight: {} } as never)).toThrow(/did you mean "weights"/);
    expect(() => new HybridRecommender({ strategies: requestOnly(), exclude: js('milk') })).toThrow(OptionError);
    expect(() => new HybridRecommender({ strategies: requestOnly(), fallback: js({}) })).toThrow(OptionError);
    expect(() => new HybridRecommender({ strategies: requestOnly(), weights: { repeat: -1 } })).toThrow('HybridRecommender.weights.repeat');
    expect(() => new HybridRecommender({ strategies: requestOnly(), weights: { nope: 1 } })).toThrow(/no strategy named "nope"/);
    expect(() => new HybridRecommender({ strategies: { fallback: new Popularity() } })).toThrow(/reserved/);
    const unfitted = new HybridRecommender({ strategies: requestOnly() });
    expect(() => unfitted.recommend('1')).toThrow(NotFittedError);
    expect(() => unfitted.save()).toThrow(NotFittedError);
  });
});

describe('one options mechanism in every class', () => {
  const classes: Array<[string, (o: object) => unknown, Record<string, unknown>]> = [
    ['Popularity', (o) => new Popularity(o), Popularity.defaults],
    ['RepeatPurchase', (o) => new RepeatPurchase(o), RepeatPurchase.defaults],
    ['ItemKNN', (o) => new ItemKNN(o), ItemKNN.defaults],
    ['NeuralCF', (o) => new NeuralCF(o), NeuralCF.defaults],
    ['ContentBased', (o) => new ContentBased(o), ContentBased.defaults],
    ['TfidfEncoder', (o) => new TfidfEncoder(o), TfidfEncoder.defaults],
    ['MiniLMEncoder', (o) => new MiniLMEncoder(o), MiniLMEncoder.defaults],
    ['AssociationRules', (o) => new AssociationRules(o), AssociationRules.defaults],
    ['CoPurchaseGraph', (o) => new CoPurchaseGraph(o), CoPurchaseGraph.defaults],
    ['HybridRecommender', (o) => new HybridRecommender({ strategies: { p: new Popularity() }, ...o }), HybridRecommender.defaults],
  ];

  it.each(classes)('%s: unknown keys are errors naming the class, undefined is the default, defaults are frozen', (name, make, defaults) => {
    expect(() => make({ zzzzzzzzzz: 1 })).toThrow(new RegExp(`^${name}\\.zzzzzzzzzz: unknown option`));
    expect(() => make({ zzzzzzzzzz: 1 })).toThrow(OptionError);
    expect(Object.isFrozen(defaults)).toBe(true);
    const key = Object.keys(defaults).find((k) => k !== 'strategies')!;
    const model = make({ [key]: undefined }) as { options: Record<string, unknown> };
    expect(Object.isFrozen(model.options)).toBe(true);
    if (defaults[key] !== undefined) expect(model.options[key]).toEqual(defaults[key]);
  });

  it('suggests the spelling of today for the names of yesterday', () => {
    expect(() => new ItemKNN({ neighbours: 20 } as never)).toThrow('ItemKNN.neighbours: unknown option; did you mean "neighbors"?');
    expect(() => new ItemKNN({ minCommon: 2 } as never)).toThrow(/known options: .*minCount/);
    expect(() => new CoPurchaseGraph({ weighting: 'count' } as never)).toThrow(/did you mean "edgeWeighting"/);
    expect(() => new CoPurchaseGraph({ maxNeighbors: 10 } as never)).toThrow(/did you mean "neighbors"/);
    expect(() => new AssociationRules({ weighting: 'confidence' } as never)).toThrow(/did you mean "ruleWeighting"/);
    expect(() => new ContentBased({ recencyHalfLife: 3 } as never)).toThrow(/ContentBased.recencyHalfLife: unknown option/);
    expect(() => new NeuralCF({ factor: 8 } as never)).toThrow(/did you mean "factors"/);
  });

  it('gives every instance a fresh default fallback and encoder, never one shared through the defaults', () => {
    const a = new HybridRecommender({ strategies: { p: new Popularity() } });
    const b = new HybridRecommender({ strategies: { p: new Popularity() } });
    expect(a.fallback).toBeInstanceOf(Popularity);
    expect(a.fallback).not.toBe(b.fallback);
    expect(new ContentBased().encoder).not.toBe(new ContentBased().encoder);
    expect(new HybridRecommender({ strategies: { p: new Popularity() }, fallback: null }).fallback).toBeNull();
  });
});

describe('one error type per mistake in every strategy', () => {
  it('an out-of-range item in a query, an out-of-range explained item and a wrong-size score buffer are OptionErrors', async () => {
    const all = [
      ...Object.values(requestOnly()),
      new Popularity(),
      new NeuralCF({ epochs: 1, factors: 4, backend: 'cpu' }),
      new ContentBased({ encoder: new TfidfEncoder({ bigrams: true }) }),
      new ALS({ factors: 4, iterations: 2 }),
      new EASE(),
      new TIFUKNN({ neighbors: 3 }),
      new SequentialRecommender({ factors: 4, epochs: 1, backend: 'cpu', validationShare: 0 }),
      new TwoTower({ factors: 4, hidden: 4, epochs: 1, backend: 'cpu', validationShare: 0 }),
    ];
    const n = shop.nItems;
    const name = (i: number) => String(i);
    const ok = anonymousQuery([0, 1], [2]);
    for (const s of all) {
      await s.fit(shop, { seed: 1 });
      const fractional = { user: -1, history: { items: [1.5], weights: [1] }, timeline: null, basket: new Int32Array(0) } as never;
      for (const bad of [anonymousQuery([n]), anonymousQuery([0], [-1]), fractional]) {
        expect(() => s.score(bad, new ScoreVector(n)), s.kind).toThrow(OptionError);
        expect(() => s.explain(bad, 0, name), s.kind).toThrow(OptionError);
      }
      const timeline = { itemPtr: Int32Array.of(0, 1), items: Int32Array.of(n + 3), day: Float64Array.of(0) };
      expect(() => s.score({ ...ok, timeline }, new ScoreVector(n)), `${s.kind} timeline`).toThrow(OptionError);
      expect(() => s.score(ok, new ScoreVector(n + 1)), s.kind).toThrow(/ScoreVector has 9 items, the model 8/);
      expect(() => s.score(ok, new ScoreVector(n - 1)), s.kind).toThrow(OptionError);
      expect(() => s.explain(ok, n, name), s.kind).toThrow(/item index 8 out of range \[0, 8\)/);
      expect(() => s.explain(ok, -1, name), s.kind).toThrow(OptionError);
      // And a good query still works after the bad ones (no scratch left dirty).
      const out = new ScoreVector(n);
      s.score(ok, out);
      const again = new ScoreVector(n);
      s.score(ok, again);
      expect(Array.from(again.values), s.kind).toEqual(Array.from(out.values));
    }
  });

  it('checkQuery takes every item index in [0, nItems) and names the first one outside, wherever it sits', () => {
    const n = 50_000;
    const query = (items: Int32Array) => ({ user: -1, history: { items, weights: new Float32Array(items.length) }, timeline: null, basket: new Int32Array(0) });
    for (const length of [1, 3, 4, 5, 9, 64]) {
      const items = Int32Array.from({ length }, (_, k) => (k * 7919) % n);
      items[length - 1] = n - 1;
      expect(() => checkQuery(query(items), n, 'T')).not.toThrow();
      for (const bad of [n, -1, n + 1, 2 ** 31 - 1, -(2 ** 31)]) {
        for (const at of new Set([0, length >> 1, length - 1])) {
          const copy = items.slice();
          copy[at] = bad;
          expect(() => checkQuery(query(copy), n, 'T')).toThrow(`T: query.history.items[${at}]: item index ${bad} out of range [0, ${n})`);
        }
      }
    }
    expect(() => checkQuery(query(Int32Array.of(0)), 0, 'T')).toThrow(OptionError);
  });

  it('loaders turn a bad stored option into an ArtifactError naming the section and field', async () => {
    const s = new ItemKNN();
    await s.fit(shop);
    const w = new ArtifactWriter();
    const state = s.save(w.scope('x'));
    const r = ArtifactReader.open(w.toBytes(state));
    const broken = { ...state, options: { ...(state.options as JsonObject), neighbors: -3 } };
    expect(() => ItemKNN.load(broken, r.scope('x'))).toThrow(ArtifactError);
    expect(() => ItemKNN.load(broken, r.scope('x'))).toThrow(/section "x", field "options.neighbors"/);
    expect(() => ItemKNN.load({ ...state, options: { ...(state.options as JsonObject), neighbours: 3 } }, r.scope('x'))).toThrow(/unknown to this version/);

    const content = new ContentBased();
    await content.fit(shop);
    const cw = new ArtifactWriter();
    const cs = content.save(cw.scope('c'));
    const cr = ArtifactReader.open(cw.toBytes(cs));
    const badTemplate = { ...cs, options: { ...(cs.options as JsonObject), template: '{name} {price}' } };
    expect(() => ContentBased.load(badTemplate, cr.scope('c'))).toThrow(ArtifactError);
    expect(() => ContentBased.load(badTemplate, cr.scope('c'))).toThrow(/unknown placeholder \{price\}.*section "c", field "options.template"/);

    // A manifest whose stored weights name a strategy it does not have.
    const rec = await fitted();
    const bytes = writeHybrid({
      names: rec.strategyNames,
      strategies: rec.strategyNames.map((n) => rec.strategy(n)),
      fallback: rec.fallback,
      stored: { weights: { nope: 1 }, normalization: 'auto', candidatesPerStrategy: 1000, excludePurchased: false, exclude: [] },
      tuning: null,
      data: rec.dataset,
    });
    await expect(HybridRecommender.load(bytes)).rejects.toThrow(ArtifactError);
    await expect(HybridRecommender.load(bytes)).rejects.toThrow(/no strategy named "nope".*section "manifest", field "options.weights.nope"/);
  });
});
