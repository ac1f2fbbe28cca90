/**
 * Writing your own strategy: a "promoted items" booster that a shop uses to push items on
 * promotion (or with a good margin) to the shoppers likely to want them, plugged into the
 * ensemble next to built-in strategies, saved, and loaded back with a custom loader.
 *
 *   npx tsx examples/custom-strategy.ts [--users 1000 --products 800 --seed 42]
 *
 * A strategy implements the Recommender interface (kind, fitted, fit, score, explain, save)
 * plus a static load; HybridRecommender.load(bytes, { loaders: { promoted: ... } }) finds it
 * by its `kind`. Scores are raw and "more is better": the ensemble normalizes and weights them,
 * filters bought / basket items and fills from the fallback, so the strategy does none of that.
 * 'hybridrec/strategy' has the building blocks: the options mechanism every built-in class
 * uses, the argument checks, the query helpers and the artifact section types.
 */
import {
  ArtifactError,
  HybridRecommender,
  ItemKNN,
  NotFittedError,
  RepeatPurchase,
  UnknownIdError,
  weightedRanker,
  type Dataset,
  type FitOptions,
  type IndexRanker,
  type Recommender,
} from '../src/index';
import {
  checkDataset,
  checkItem,
  checkQuery,
  checkScores,
  custom,
  optionsFromArtifact,
  optionsToJson,
  resolveOptions,
  userQuery,
  type Explanation,
  type ItemNamer,
  type JsonObject,
  type OptionChecks,
  type Query,
  type ScoreVector,
  type SectionReader,
  type SectionWriter,
  type StrategyLoader,
} from '../src/strategy';
import { runIfMain, syntheticDataset } from './shared';

export interface PromotedItemsOptions {
  /** Item id -> boost (a campaign weight, a margin...), > 0. Default {} (nothing promoted). */
  promotions: Readonly<Record<string, number>>;
  /** How explanations name the promotion. Default 'on promotion'. */
  label: string;
}

const CHECKS: OptionChecks<PromotedItemsOptions> = {
  promotions: (value, name) => {
    const record = custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'an object of boosts by item id')(value, name);
    for (const [id, boost] of Object.entries(record)) {
      custom<number>((b) => typeof b === 'number' && Number.isFinite(b) && b > 0, 'a finite number > 0')(boost, `${name}.${id}`);
    }
    return Object.freeze({ ...(record as Record<string, number>) });
  },
  label: custom<string>((v) => typeof v === 'string' && v !== '', 'a non-empty string'),
};

/**
 * Scores each promoted item by its boost times the share of the shopper's purchases (history
 * and current basket) made in the item's aisle: a yogurt promotion reaches yogurt buyers, not
 * everyone. Shoppers with no purchases get no opinion (the ensemble's fallback covers them).
 */
export class PromotedItems implements Recommender {
  static readonly defaults: Readonly<PromotedItemsOptions> = Object.freeze({ promotions: Object.freeze({}), label: 'on promotion' });

  readonly kind = 'promoted';
  readonly options: Readonly<PromotedItemsOptions>;
  private model: { promoted: Int32Array; boost: Float32Array; aisleOf: Int32Array; aisles: string[] } | null = null;
  /** Per aisle, the query's purchase weight in it; reset after each query through `touched`. */
  private aisleWeight = new Float64Array(0);
  private touched: number[] = [];

  constructor(options: Partial<PromotedItemsOptions> = {}) {
    this.options = resolveOptions('PromotedItems', PromotedItems.defaults, options, CHECKS);
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  async fit(data: Dataset, _options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'PromotedItems');
    const ids = Object.keys(this.options.promotions);
    const promoted = new Int32Array(ids.length);
    ids.forEach((id, k) => {
      promoted[k] = data.items.indexOf(id);
      if (promoted[k] < 0) throw new UnknownIdError('item', id, 'PromotedItems.promotions');
    });
    promoted.sort();
    const boost = Float32Array.from(promoted, (i) => this.options.promotions[data.items.id(i)]);
    const aisles: string[] = [];
    const code = new Map<string, number>();
    const aisleOf = Int32Array.from(data.catalog.aisle, (aisle) => {
      if (aisle === '') return -1;
      let c = code.get(aisle);
      if (c === undefined) {
        c = aisles.length;
        code.set(aisle, c);
        aisles.push(aisle);
      }
      return c;
    });
    this.install({ promoted, boost, aisleOf, aisles });
  }

  private install(model: NonNullable<PromotedItems['model']>): void {
    this.model = model;
    this.aisleWeight = new Float64Array(model.aisles.length);
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.require(query);
    checkScores(out, m.aisleOf.length, 'PromotedItems');
    const total = this.tallyAisles(query, m.aisleOf);
    if (total > 0) {
      for (let k = 0; k < m.promoted.length; k++) {
        const a = m.aisleOf[m.promoted[k]];
        const share = a < 0 ? 0 : this.aisleWeight[a] / total;
        if (share > 0) out.set(m.promoted[k], m.boost[k] * share);
      }
    }
    this.resetAisles();
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.require(query);
    checkItem(item, m.aisleOf.length, 'PromotedItems.explain');
    const k = m.promoted.indexOf(item);
    const a = m.aisleOf[item];
    if (k < 0 || a < 0) return null;
    const total = this.tallyAisles(query, m.aisleOf);
    const share = total > 0 ? this.aisleWeight[a] / total : 0;
    this.resetAisles();
    if (!(share > 0)) return null;
    // The shopper's own items in that aisle are the evidence, most bought first.
    const evidence: Array<{ item: number; weight: number }> = [];
    const { items, weights } = query.history;
    for (let h = 0; h < items.length; h++) if (m.aisleOf[items[h]] === a && weights[h] > 0) evidence.push({ item: items[h], weight: weights[h] });
    for (const b of query.basket) if (m.aisleOf[b] === a) evidence.push({ item: b, weight: 1 });
    evidence.sort((x, y) => y.weight - x.weight || x.item - y.item);
    evidence.length = Math.min(evidence.length, 3);
    const like = evidence.length > 0 ? `, like ${name(evidence[0].item)}` : '';
    return {
      score: Math.fround(m.boost[k] * share),
      reason: `${this.options.label}: ${m.aisles[a]} is ${Math.round(100 * share)}% of what you buy${like}`,
      evidence,
    };
  }

  save(out: SectionWriter): JsonObject {
    const m = this.require(null);
    out.array('promoted', m.promoted);
    out.array('boost', m.boost);
    out.array('aisleOf', m.aisleOf);
    out.strings('aisles', m.aisles);
    return { options: optionsToJson(this.options) };
  }

  static load(state: JsonObject, sections: SectionReader): PromotedItems {
    // A bad stored option is an ArtifactError naming the section, not an OptionError.
    const s = new PromotedItems(optionsFromArtifact('PromotedItems', state.options, CHECKS, 'promoted'));
    const model = { promoted: sections.i32('promoted'), boost: sections.f32('boost'), aisleOf: sections.i32('aisleOf'), aisles: sections.strings('aisles') };
    if (model.boost.length !== model.promoted.length) throw new ArtifactError('promoted and boost differ in length', 'promoted');
    for (const a of model.aisleOf) if (a >= model.aisles.length) throw new ArtifactError(`aisle code ${a} out of range`, 'promoted');
    s.install(model);
    return s;
  }

  /** The fitted model, after checking `query` (when given) against it. */
  private require(query: Query | null): NonNullable<PromotedItems['model']> {
    if (!this.model) throw new NotFittedError('PromotedItems');
    if (query !== null) checkQuery(query, this.model.aisleOf.length, 'PromotedItems');
    return this.model;
  }

  /** Adds the query's purchases (history counts, 1 per basket line) per aisle; returns their total. */
  private tallyAisles(query: Query, aisleOf: Int32Array): number {
    let total = 0;
    const add = (item: number, w: number) => {
      const a = aisleOf[item];
      if (a < 0 || !(w > 0)) return;
      if (this.aisleWeight[a] === 0) this.touched.push(a);
      this.aisleWeight[a] += w;
      total += w;
    };
    const { items, weights } = query.history;
    for (let h = 0; h < items.length; h++) add(items[h], weights[h]);
    for (const b of query.basket) add(b, 1);
    return total;
  }

  private resetAisles(): void {
    for (const a of this.touched) this.aisleWeight[a] = 0;
    this.touched.length = 0;
  }
}

/** What HybridRecommender.load needs to rebuild artifacts that contain a PromotedItems. */
export const customLoaders: Record<string, StrategyLoader> = {
  promoted: (state, sections) => PromotedItems.load(state, sections),
};

export interface CustomStrategyReport {
  promotions: Record<string, number>;
  /** Known shoppers whose top 10 holds a promoted item: with the booster weighted in, and with its weight at 0. */
  listsWithPromotion: { boosted: number; unboosted: number; users: number };
  /** The message of loading without the custom loader. */
  missingLoaderError: string;
  /** Recommendation lists identical between the fitted and the reloaded model. */
  identical: number;
  bytes: number;
}

/**
 * The whole story on synthetic data: promote the least-bought item of each of the largest
 * aisles, fit repeat + item-kNN + the booster, show one shopper's recommendations, measure how
 * many top-10 lists the promotions reach, and round-trip the model through its bytes.
 */
export async function runCustomStrategyExample(
  options: { users?: number; products?: number; seed?: number; log?: (line: string) => void } = {},
): Promise<CustomStrategyReport> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 42;
  const data = syntheticDataset(options.users ?? 1000, options.products ?? 800, seed);
  const promotions = slowMovers(data, 6);
  log(`promoting ${Object.keys(promotions).map((id) => data.catalog.name[data.items.indexOf(id)]).join(', ')}`);

  const rec = new HybridRecommender({
    strategies: { repeat: new RepeatPurchase(), itemknn: new ItemKNN(), promoted: new PromotedItems({ promotions, label: 'on offer this week' }) },
    weights: { repeat: 1, itemknn: 1, promoted: 0.5 },
  });
  await rec.fit(data, { seed });

  const isPromoted = new Set(Object.keys(promotions).map((id) => data.items.indexOf(id)));
  const reached = (ranker: IndexRanker) => {
    let n = 0;
    for (let u = 0; u < data.nUsers; u++) if (ranker.rankIndices(userQuery(data, u), 10, null).some((i) => isPromoted.has(i))) n++;
    return n;
  };
  const listsWithPromotion = { boosted: reached(weightedRanker(rec, {})), unboosted: reached(weightedRanker(rec, { promoted: 0 })), users: data.nUsers };
  log(`promoted items reach ${listsWithPromotion.boosted} of ${data.nUsers} top-10 lists (${listsWithPromotion.unboosted} without the booster)`);

  const shopper = firstShopperWithPromotion(rec, data);
  if (shopper !== null) {
    log(`\nshopper ${shopper}:`);
    for (const r of rec.recommend(shopper, { k: 10, explain: true })) log(`  ${r.name.padEnd(40)} ${r.score.toFixed(3)}  ${r.reason ?? ''}`);
  }

  const bytes = rec.save();
  let missingLoaderError = '';
  try {
    await HybridRecommender.load(bytes);
  } catch (e) {
    if (!(e instanceof ArtifactError)) throw e;
    missingLoaderError = e.message;
  }
  log(`\nloading without the custom loader: ${missingLoaderError}`);
  const loaded = await HybridRecommender.load(bytes, { loaders: customLoaders });
  let identical = 0;
  for (let u = 0; u < data.nUsers; u++) {
    const id = data.users.id(u);
    const a = JSON.stringify(rec.recommend(id, { k: 10, explain: true }));
    const b = JSON.stringify(loaded.recommend(id, { k: 10, explain: true }));
    if (a !== b) throw new Error(`the reloaded model differs for shopper ${id}`);
    identical++;
  }
  log(`loaded with { loaders: customLoaders }: ${(bytes.length / 1024).toFixed(0)} KiB, identical recommendations for all ${identical} shoppers`);
  return { promotions, listsWithPromotion, missingLoaderError, identical, bytes: bytes.length };
}

/** The least-bought (but bought) item of each of the `n` aisles with the most purchases, boost 1. */
function slowMovers(data: Dataset, n: number): Record<string, number> {
  const totals = data.itemTotals();
  const byAisle = new Map<string, { total: number; slowest: number }>();
  for (let i = 0; i < data.nItems; i++) {
    const aisle = data.catalog.aisle[i];
    if (aisle === '' || !(totals[i] > 0)) continue;
    const entry = byAisle.get(aisle) ?? { total: 0, slowest: i };
    entry.total += totals[i];
    if (totals[i] < totals[entry.slowest]) entry.slowest = i;
    byAisle.set(aisle, entry);
  }
  const biggest = [...byAisle.values()].sort((a, b) => b.total - a.total).slice(0, n);
  return Object.fromEntries(biggest.map((e) => [data.items.id(e.slowest), 1]));
}

function firstShopperWithPromotion(rec: HybridRecommender, data: Dataset): string | null {
  for (let u = 0; u < data.nUsers; u++) {
    const id = data.users.id(u);
    if (rec.recommend(id, { k: 10 }).some((r) => r.sources.promoted !== undefined)) return id;
  }
  return null;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string): number | undefined => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = Number(args[i + 1]);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
    return v;
  };
  await runCustomStrategyExample({ users: flag('users'), products: flag('products'), seed: flag('seed') });
}

runIfMain(import.meta.url, main);
