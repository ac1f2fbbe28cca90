import { describe, expect, it } from 'vitest';
import { ArtifactReader, ArtifactWriter } from '../src/artifact/container';
import type { Dataset } from '../src/data/dataset';
import { DataError, NotFittedError, OptionError } from '../src/errors';
import { ContentBased, TfidfEncoder } from '../src/strategies/content';
import { anonymousQuery, userQuery } from '../src/strategies/query';
import { ScoreVector, type JsonObject, type Query } from '../src/strategies/types';
import { mulberry32 } from '../src/util/random';
import { TopK } from '../src/util/topk';
import { basketsDataset, itemIdx } from './fixtures';

const CATALOG = {
  yStraw: { name: 'Greek Yogurt Strawberry', aisle: 'yogurt', department: 'dairy eggs' },
  yBlue: { name: 'Greek Yogurt Blueberry', aisle: 'yogurt', department: 'dairy eggs' },
  yHoney: { name: 'Greek Yogurt Honey', aisle: 'yogurt', department: 'dairy eggs' },
  spag: { name: 'Spaghetti Pasta', aisle: 'dry pasta', department: 'pantry' },
  penne: { name: 'Penne Pasta', aisle: 'dry pasta', department: 'pantry' },
  creme: { name: 'Crème Fraîche', aisle: 'cream', department: 'dairy eggs' },
  banana: { name: 'Bananas', aisle: 'fresh fruits', department: 'produce' },
  sponge: { name: 'Kitchen Sponge', aisle: 'cleaning', department: 'household' },
};

/** yHoney is in the catalog but nobody bought it. */
function grocery(): Dataset {
  return basketsDataset(
    {
      u1: [['yStraw', 'banana'], ['yStraw']],
      u2: [['spag', 'penne'], ['banana']],
      u3: [['creme'], ['sponge']],
    },
    { catalog: CATALOG },
  );
}

function scores(model: ContentBased, query: Query, nItems: number): ScoreVector {
  const out = new ScoreVector(nItems);
  model.score(query, out);
  return out;
}

const namer = (data: Dataset) => (i: number) => data.catalog.name[i];

async function roundTrip(model: ContentBased): Promise<ContentBased> {
  const w = new ArtifactWriter();
  const state = model.save(w.scope('content'));
  const r = ArtifactReader.open(w.toBytes(state));
  return ContentBased.load(r.root as JsonObject, r.scope('content'));
}

describe('ContentBased with TF-IDF', () => {
  it('ranks a similar product above an unrelated one, and leaves unrelated items untouched', async () => {
    const data = grocery();
    const model = new ContentBased();
    await model.fit(data);
    const [yStraw, yBlue, spag, creme] = itemIdx(data, 'yStraw', 'yBlue', 'spag', 'creme');
    const out = scores(model, userQuery(data, data.users.indexOf('u1')), data.nItems);
    expect(out.values[yBlue]).toBeGreaterThan(0.5);
    expect(out.values[yBlue]).toBeGreaterThan(out.values[spag]);
    // Sparse scoring: only items sharing a term with the profile get a score at all.
    expect(out.has(spag)).toBe(false);
    expect(out.dense).toBe(false);
    // Shares only the department words with the yogurts, so it scores below the other yogurts.
    expect(out.values[creme]).toBeGreaterThan(0);
    expect(out.values[creme]).toBeLessThan(out.values[yBlue]);
    expect(out.values[yStraw]).toBeGreaterThan(out.values[yBlue]);
  });

  it('takes candidates from the strongest profile terms until maxCandidates, with exact scores', async () => {
    const data = grocery();
    const [spag, penne] = itemIdx(data, 'spag', 'penne');
    const capped = new ContentBased({ maxCandidates: 1, template: '{name}' });
    const open = new ContentBased({ maxCandidates: Infinity, template: '{name}' });
    await capped.fit(data);
    await open.fit(data);
    const q = anonymousQuery([spag]);
    // "spaghetti" is the profile's strongest (rarest) term and only spag has it: the budget
    // of 1 is spent, so penne (sharing "pasta") is not a candidate.
    const few = scores(capped, q, data.nItems);
    const all = scores(open, q, data.nItems);
    expect(few.length).toBe(1);
    expect(few.has(penne)).toBe(false);
    expect(all.has(penne)).toBe(true);
    expect(few.values[spag]).toBe(all.values[spag]);
    const back = await roundTrip(capped);
    expect(back.options.maxCandidates).toBe(1);
    expect((await roundTrip(open)).options.maxCandidates).toBe(Infinity);
    expect(() => new ContentBased({ maxCandidates: 0 })).toThrow(OptionError);
    expect(() => new ContentBased({ maxCandidates: 2.5 })).toThrow(OptionError);
  });

  it('recommends a never-bought catalog item (item cold start)', async () => {
    const data = grocery();
    const model = new ContentBased();
    await model.fit(data);
    const [yHoney, spag] = itemIdx(data, 'yHoney', 'spag');
    expect(data.itemTotals()[yHoney]).toBe(0);
    const out = scores(model, userQuery(data, data.users.indexOf('u1')), data.nItems);
    expect(out.values[yHoney]).toBeGreaterThan(0.5);
    expect(out.values[yHoney]).toBeGreaterThan(out.values[spag]);
    // And it is a neighbour of the yogurts it was never bought with.
    const similar = model.similarItems(itemIdx(data, 'yBlue')[0], 2);
    expect(new Set(similar.items)).toEqual(new Set(itemIdx(data, 'yStraw', 'yHoney')));
  });

  it('explains with the most similar purchase, with the score it gave', async () => {
    const data = grocery();
    const model = new ContentBased();
    await model.fit(data);
    const [yStraw, yBlue, banana, spag] = itemIdx(data, 'yStraw', 'yBlue', 'banana', 'spag');
    const query = userQuery(data, data.users.indexOf('u1'));
    const out = scores(model, query, data.nItems);
    const e = model.explain(query, yBlue, namer(data))!;
    expect(e.reason).toBe('similar to Greek Yogurt Strawberry you bought');
    expect(e.evidence[0].item).toBe(yStraw);
    expect(e.evidence.map((x) => x.item)).not.toContain(banana);
    expect(e.score).toBe(out.values[yBlue]);
    expect(model.explain(query, spag, namer(data))).toBeNull();
    // A basket item is named as such.
    const inBasket = anonymousQuery([], itemIdx(data, 'spag'));
    expect(model.explain(inBasket, itemIdx(data, 'penne')[0], namer(data))!.reason).toBe('similar to Spaghetti Pasta in your basket');
  });

  it('gives a long history the evidence (items and weights) that a scan of similarity() over its items gives', async () => {
    // 300 items named from 40 words (shared words of different weights), one shopper with 40
    // baskets of 6: a profile of about 200 items compared with each explained item. Seed 1
    // has explained items where two similarities that differ as float64 round to one float32
    // at the third place: the evidence takes the lower item, as the float32 weights it shows say.
    let float32Ties = 0;
    for (const seed of [5, 1]) {
      const rand = mulberry32(seed);
      const words = Array.from({ length: 40 }, (_, w) => `word${w}`);
      const catalog: Record<string, { name: string; aisle: string; department: string }> = {};
      for (let i = 0; i < 300; i++) {
        const name = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => words[Math.floor(rand() * words.length)]).join(' ');
        catalog[`i${i}`] = { name, aisle: words[Math.floor(rand() * 8)], department: words[Math.floor(rand() * 3)] };
      }
      const baskets = Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => `i${Math.floor(rand() * 300)}`));
      const data = basketsDataset({ u: baskets }, { catalog });
      const model = new ContentBased();
      await model.fit(data);
      const basket = itemIdx(data, 'i7', 'i8');
      const query = userQuery(data, 0, basket);
      const out = scores(model, query, data.nItems);
      const profileItems = [...new Set([...query.history.items, ...basket])].sort((a, b) => a - b);
      let explained = 0;
      for (let item = 0; item < data.nItems; item++) {
        const e = model.explain(query, item, namer(data));
        if (e === null) continue;
        if (out.has(item)) expect(e.score).toBe(out.values[item]);
        // The best three by the float32 similarity the evidence shows, ties to the lower item.
        const scan = new TopK(3);
        const float64Scan = new TopK(3);
        for (const a of profileItems) {
          if (a === item) continue;
          scan.push(a, Math.fround(model.similarity(a, item)));
          float64Scan.push(a, model.similarity(a, item));
        }
        const best = scan.sorted();
        if (best.items.join() !== float64Scan.sorted().items.join()) float32Ties++;
        const expected = Array.from(best.items, (a, k) => ({ item: a, weight: best.scores[k] })).filter((x) => x.weight > 0);
        expect(e.evidence).toEqual(expected.length > 0 ? expected : [{ item, weight: 1 }]);
        explained++;
      }
      expect(explained).toBeGreaterThan(100);
    }
    expect(float32Ties).toBeGreaterThan(0);
  });

  it('explains a query changed in place after its score from the changed query, never from the kept profile', async () => {
    const data = basketsDataset({ u: [['yStraw'], ['spag'], ['yBlue']] }, { catalog: CATALOG, days: { u: [0, 5, 9] } });
    const model = new ContentBased();
    await model.fit(data);
    const fresh = new ContentBased();
    await fresh.fit(data);
    const [yHoney, penne, spag, yStraw] = itemIdx(data, 'yHoney', 'penne', 'spag', 'yStraw');
    const query = userQuery(data, 0);
    // Views of the dataset: copy them, so that changing the query leaves the data alone.
    const timeline = { itemPtr: query.timeline!.itemPtr.slice(), items: query.timeline!.items.slice(), day: query.timeline!.day.slice() };
    const q: Query = { ...query, timeline, history: { items: query.history.items.slice(), weights: query.history.weights.slice() } };
    scores(model, q, data.nItems);
    const before = model.explain(q, yHoney, namer(data));
    // Each change in place: the explanation is the one a model that never saw q gives.
    const changes = [() => (timeline.items[timeline.items.indexOf(yStraw)] = spag), () => (timeline.day[2] = 100), () => (timeline.day[0] = Number.NaN), () => (q.basket = Int32Array.of(penne))];
    for (const change of changes) {
      change();
      for (const item of [yHoney, penne]) expect(model.explain(q, item, namer(data))).toEqual(fresh.explain({ ...q }, item, namer(data)));
    }
    expect(model.explain(q, yHoney, namer(data))).not.toEqual(before);
  });

  it('scores an anonymous basket (the ensemble similarItems path) and history counts', async () => {
    const data = grocery();
    const model = new ContentBased();
    await model.fit(data);
    const [spag, penne, yBlue] = itemIdx(data, 'spag', 'penne', 'yBlue');
    const out = scores(model, anonymousQuery([], [spag]), data.nItems);
    expect(out.values[penne]).toBeGreaterThan(0.5);
    expect(out.has(yBlue)).toBe(false);
    // Counts weigh the profile: three pastas outvote one yogurt.
    const mixed = scores(model, anonymousQuery([spag, spag, spag, yBlue]), data.nItems);
    expect(mixed.values[penne]).toBeGreaterThan(mixed.values[itemIdx(data, 'yHoney')[0]]);
    expect(scores(model, anonymousQuery([]), data.nItems).length).toBe(0);
  });

  it('weighs recent baskets more, by baskets or by days', async () => {
    const data = basketsDataset(
      { u: [['yStraw'], ['yBlue'], ['yStraw'], ['spag']] },
      { catalog: CATALOG, days: { u: [0, 1, 2, 90] } },
    );
    const [penne, yHoney] = itemIdx(data, 'penne', 'yHoney');
    const query = userQuery(data, 0);
    const rank = async (options: ConstructorParameters<typeof ContentBased>[0]) => {
      const model = new ContentBased(options);
      await model.fit(data);
      const out = scores(model, query, data.nItems);
      return out.values[penne] - out.values[yHoney];
    };
    expect(await rank({ halfLifeBaskets: Infinity })).toBeLessThan(0);
    expect(await rank({ halfLifeBaskets: 1 })).toBeGreaterThan(0);
    // Three baskets back is 3 half-lives by order but 88+ days by date.
    expect(await rank({ halfLifeBaskets: 3 })).toBeLessThan(0);
    expect(await rank({ halfLifeBaskets: Infinity, halfLifeDays: 30 })).toBeGreaterThan(0);

    // Unknown days add no day decay (as in RepeatPurchase): the baskets weigh alike.
    const noDays = basketsDataset({ u: [['spag'], ['yBlue']] }, { catalog: CATALOG, days: { u: [Number.NaN, Number.NaN] } });
    const byDays = new ContentBased({ halfLifeBaskets: Infinity, halfLifeDays: 1 });
    const flat = new ContentBased({ halfLifeBaskets: Infinity });
    await byDays.fit(noDays);
    await flat.fit(noDays);
    expect(Array.from(scores(byDays, userQuery(noDays, 0), noDays.nItems).values)).toEqual(Array.from(scores(flat, userQuery(noDays, 0), noDays.nItems).values));
  });

  it('builds item text from a template string or function', async () => {
    const data = grocery();
    data.catalog.meta[itemIdx(data, 'sponge')[0]] = { brand: 'Scrub Daddy' };
    const sponge = itemIdx(data, 'sponge')[0];
    expect(new ContentBased().itemText(data.catalog, sponge)).toBe('Kitchen Sponge cleaning household');
    const branded = new ContentBased({ template: '{name} by {meta.brand}{meta.missing}' });
    expect(branded.itemText(data.catalog, sponge)).toBe('Kitchen Sponge by Scrub Daddy');
    expect(branded.itemText(data.catalog, itemIdx(data, 'spag')[0])).toBe('Spaghetti Pasta by ');
    const fn = new ContentBased({ template: (c, i) => c.department[i] });
    expect(fn.itemText(data.catalog, sponge)).toBe('household');
    expect(() => new ContentBased({ template: '{name} {price}' })).toThrow(OptionError);
    const bad = new ContentBased({ template: () => 42 as unknown as string });
    await expect(bad.fit(data)).rejects.toThrow(DataError);
  });

  it('round-trips through an artifact with identical scores', async () => {
    const data = grocery();
    const model = new ContentBased({ encoder: new TfidfEncoder({ bigrams: true }), halfLifeBaskets: 2, halfLifeDays: 60 });
    await model.fit(data);
    const again = await roundTrip(model);
    expect(again.fitted).toBe(true);
    expect(again.options.halfLifeBaskets).toBe(2);
    expect(again.options.halfLifeDays).toBe(60);
    expect(again.encoder).toBeInstanceOf(TfidfEncoder);
    const queries = [
      ...data.users.ids.map((_, u) => userQuery(data, u)),
      anonymousQuery(itemIdx(data, 'creme', 'spag', 'spag'), itemIdx(data, 'banana')),
    ];
    for (const q of queries) {
      const a = scores(model, q, data.nItems);
      const b = scores(again, q, data.nItems);
      expect(b.length).toBe(a.length);
      expect(Array.from(b.values)).toEqual(Array.from(a.values));
    }
    for (let i = 0; i < data.nItems; i++) expect(again.similarItems(i, 3)).toEqual(model.similarItems(i, 3));
    // The restored encoder places new product texts in the same space.
    const encoded = async (m: ContentBased) => {
      const v = await m.encoder.encode(['Greek Yogurt Vanilla']);
      return v.format === 'sparse' ? [Array.from(v.matrix.indices), Array.from(v.matrix.values)] : [];
    };
    // greek, yogurt and the bigram "greek yogurt"; vanilla is not in the vocabulary.
    expect((await encoded(again))[0]).toHaveLength(3);
    expect(await encoded(again)).toEqual(await encoded(model));
  });

  it('loads a model whose template was a function, and refuses to refit it', async () => {
    const data = grocery();
    const model = new ContentBased({ template: (c, i) => `${c.name[i]} ${c.aisle[i]}` });
    await model.fit(data);
    const again = await roundTrip(model);
    const q = userQuery(data, 0);
    expect(Array.from(scores(again, q, data.nItems).values)).toEqual(Array.from(scores(model, q, data.nItems).values));
    await expect(again.fit(data)).rejects.toThrow(OptionError);
  });

  it('validates options and state', async () => {
    expect(() => new ContentBased({ halfLifeBaskets: 0 })).toThrow(OptionError);
    expect(() => new ContentBased({ halfLifeDays: Number.NaN })).toThrow(OptionError);
    expect(() => new ContentBased({ recencyUnit: 'days' } as never)).toThrow(/ContentBased.recencyUnit: unknown option/);
    expect(() => new ContentBased({ encoder: {} as TfidfEncoder })).toThrow(OptionError);
    const model = new ContentBased();
    expect(model.fitted).toBe(false);
    expect(() => model.score(anonymousQuery([0]), new ScoreVector(3))).toThrow(NotFittedError);
    const data = grocery();
    await model.fit(data);
    expect(() => model.score(anonymousQuery([0]), new ScoreVector(3))).toThrow(OptionError);
    expect(() => model.similarItems(data.nItems, 3)).toThrow(OptionError);
    expect(() => model.similarItems(0, -1)).toThrow(OptionError);
  });

  it('finds a shopper\'s category among 300 products with planted name structure', async () => {
    // 6 categories, each with its own nouns; names mix a shared adjective pool with a category noun.
    const rng = mulberry32(42);
    const nouns = [
      ['yogurt', 'kefir', 'skyr'],
      ['pasta', 'spaghetti', 'penne'],
      ['apple', 'pear', 'plum'],
      ['shampoo', 'conditioner', 'soap'],
      ['coffee', 'espresso', 'latte'],
      ['chips', 'crackers', 'pretzels'],
    ];
    const adjectives = ['organic', 'classic', 'family', 'fresh', 'original', 'light', 'premium', 'natural'];
    const catalog: Record<string, { name: string }> = {};
    const categoryOf: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const c = i % 6;
      const adj = adjectives[Math.floor(rng() * adjectives.length)];
      const noun = nouns[c][Math.floor(rng() * 3)];
      const id = `p${String(i).padStart(3, '0')}`;
      catalog[id] = { name: `${adj} ${noun} ${Math.floor(rng() * 1000)}` };
      categoryOf[id] = c;
    }
    const ids = Object.keys(catalog);
    const users: Record<string, string[][]> = {};
    for (let u = 0; u < 30; u++) {
      const c = u % 6;
      const mine = ids.filter((id) => categoryOf[id] === c);
      users[`u${u}`] = [0, 1, 2].map(() => [mine[Math.floor(rng() * mine.length)], mine[Math.floor(rng() * mine.length)]]);
    }
    const data = basketsDataset(users, { catalog });
    const model = new ContentBased();
    await model.fit(data);
    let hits = 0;
    let total = 0;
    for (let u = 0; u < data.nUsers; u++) {
      const q = userQuery(data, u);
      const out = scores(model, q, data.nItems);
      const bought = new Set(q.history.items);
      const ranked = Array.from({ length: data.nItems }, (_, i) => i)
        .filter((i) => !bought.has(i) && out.has(i))
        .sort((a, b) => out.values[b] - out.values[a] || a - b)
        .slice(0, 10);
      const c = categoryOf[data.items.id(q.history.items[0])];
      for (const i of ranked) if (categoryOf[data.items.id(i)] === c) hits++;
      total += 10;
    }
    expect(hits / total).toBeGreaterThanOrEqual(0.95);
  });
});
