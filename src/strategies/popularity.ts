import type { SectionReader, SectionWriter } from '../artifact/sections';
import type { Dataset } from '../data/dataset';
import { DataError, NotFittedError, OptionError } from '../errors';
import { readF64, scopeName, StateReader, type LoadContext } from '../artifact/validate';
import { integer, number, oneOf, optionsToJson, resolveOptions, type OptionChecks } from '../util/options';
import { Pace } from '../util/pace';
import { checkDataset, checkItem, checkQuery, checkScores } from './checks';
import { formatCount } from './reasons';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, QueryIndependentScores, Recommender, ScoreVector } from './types';

export interface PopularityOptions {
  /**
   * What is counted per item: 'purchases' (sum of purchase counts / weights) or 'users'
   * (distinct buyers, so one household's weekly milk does not outweigh a hundred shoppers).
   * Default 'purchases'.
   */
  count: 'purchases' | 'users';
  /**
   * Only count each user's baskets from their last `windowDays` days (Infinity: all
   * history). Basket days are relative to each user's first order (Instacart has no calendar
   * dates), so the window is per user: "what people bought in their most recent month".
   * Needs baskets with known days. Default Infinity: the whole history, the baseline's
   * usual definition.
   */
  windowDays: number;
  /**
   * Score only the `maxItems` most popular items (ties by lower index). As an ensemble member
   * popularity is a prior over the head of the catalog; scoring all of a 50k-item catalog per
   * query cost more than the personal strategies together. Default Infinity (every item).
   */
  maxItems: number;
}

const CHECKS: OptionChecks<PopularityOptions> = {
  count: oneOf(['purchases', 'users']),
  windowDays: number({ min: 0, infinity: true }),
  maxItems: integer({ min: 1, infinity: true }),
};

/** Users per progress report. */
const USER_CHUNK = 20_000;

/**
 * The same score for everyone: how often each item was bought (or by how many users).
 * Dense. The ensemble's cold-start fallback and the baseline every other strategy must beat.
 */
export class Popularity implements Recommender, QueryIndependentScores {
  static readonly defaults: Readonly<PopularityOptions> = Object.freeze({ count: 'purchases', windowDays: Infinity, maxItems: Infinity });

  readonly kind = 'popularity';
  readonly options: Readonly<PopularityOptions>;
  private counts: Float64Array | null = null;
  private scores: Float32Array | null = null;
  /** With a finite maxItems: the scored items, most popular first. */
  private head: Int32Array | null = null;

  constructor(options: Partial<PopularityOptions> = {}) {
    this.options = resolveOptions('Popularity', Popularity.defaults, options, CHECKS);
  }

  get fitted(): boolean {
    return this.counts !== null;
  }

  /** QueryIndependentScores: the scores array itself, which every fit or load replaces (setCounts). */
  get scoresVersion(): object | null {
    return this.scores;
  }

  /** Per item: the purchase count (or number of buyers) the scores come from. */
  get itemCounts(): Float64Array {
    if (!this.counts) throw new NotFittedError('Popularity');
    return this.counts;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'Popularity');
    const counts = this.options.windowDays === Infinity ? countAll(data, this.options.count) : await countWindow(data, this.options, options);
    this.setCounts(counts);
  }

  private setCounts(counts: Float64Array): void {
    this.counts = counts;
    this.scores = Float32Array.from(counts);
    const n = counts.length;
    if (this.options.maxItems < n) {
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
      this.head = Int32Array.from(order.slice(0, this.options.maxItems));
    } else {
      this.head = null;
    }
  }

  score(query: Query, out: ScoreVector): void {
    if (!this.scores) throw new NotFittedError('Popularity');
    checkScores(out, this.scores.length, 'Popularity');
    checkQuery(query, this.scores.length, 'Popularity');
    const head = this.head;
    if (head === null) {
      out.values.set(this.scores);
      out.markDense();
      return;
    }
    for (let k = 0; k < head.length; k++) out.set(head[k], this.scores[head[k]]);
  }

  explain(query: Query, item: number, _name: ItemNamer): Explanation | null {
    if (!this.counts) throw new NotFittedError('Popularity');
    checkQuery(query, this.counts.length, 'Popularity');
    checkItem(item, this.counts.length, 'Popularity.explain');
    const n = this.counts[item];
    if (!(n > 0)) return null;
    const amount = formatCount(n);
    const crowd = this.options.count === 'users' ? `bought by ${amount} ${n === 1 ? 'shopper' : 'shoppers'}` : `${amount} ${n === 1 ? 'purchase' : 'purchases'} by all shoppers`;
    const when = this.options.windowDays === Infinity ? '' : ` in their last ${this.options.windowDays} days`;
    // A re-buy is the shopper's own habit first: never call it "popular" with the crowd's count
    // (which read as "you bought Kale 3,942 times" to a shopper who bought it 80 times).
    const at = query.history.items.indexOf(item);
    if (at >= 0) {
      const mine = query.history.weights[at];
      const times = `${formatCount(mine)} ${mine === 1 ? 'time' : 'times'}`;
      return { score: this.scores![item], reason: `you bought this ${times} before; ${crowd}${when}`, evidence: [{ item, weight: mine }] };
    }
    return { score: this.scores![item], reason: `a best seller: ${crowd}${when}`, evidence: [] };
  }

  save(out: SectionWriter): JsonObject {
    if (!this.counts) throw new NotFittedError('Popularity');
    out.array('counts', this.counts);
    return { options: optionsToJson(this.options) };
  }

  /** Rebuilds a saved model; counts that are not finite and >= 0, or not one per item of `context`, are an ArtifactError. */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): Popularity {
    const s = StateReader.of(state, scopeName(sections)).keys(['options']);
    const model = new Popularity(s.options('Popularity', CHECKS));
    model.setCounts(readF64(sections, 'counts', { min: 0, length: context?.nItems }));
    return model;
  }
}

function countAll(data: Dataset, what: PopularityOptions['count']): Float64Array {
  if (what === 'purchases') return data.itemTotals();
  const counts = new Float64Array(data.nItems);
  const { indices, values } = data.interactions;
  for (let p = 0; p < indices.length; p++) if (values[p] > 0) counts[indices[p]]++;
  return counts;
}

/** Counts lines of each user's baskets within windowDays of that user's last basket. */
async function countWindow(data: Dataset, o: PopularityOptions, fit: FitOptions): Promise<Float64Array> {
  const { userPtr, itemPtr, items, day, ids } = data.baskets;
  if (data.nBaskets === 0) throw new OptionError('windowDays', 'needs baskets with days, and the dataset has no baskets');
  const counts = new Float64Array(data.nItems);
  // Marks the last user that counted an item, for 'users' mode: one scan, no per-user reset.
  const lastUser = new Int32Array(data.nItems).fill(-1);
  const stage = 'popularity';
  const pace = new Pace(fit.signal, 'Popularity.fit');
  for (let u = 0; u < data.nUsers; u++) {
    if (u % USER_CHUNK === 0) fit.onProgress?.({ stage, done: u, total: data.nUsers });
    if (pace.due()) await pace.pause();
    const b1 = userPtr[u + 1];
    if (b1 === userPtr[u]) continue;
    const last = day[b1 - 1];
    for (let b = userPtr[u]; b < b1; b++) {
      if (Number.isNaN(day[b])) throw new DataError(`basket ${ids[b]} has no day, which windowDays needs`, { field: 'day' });
      if (last - day[b] > o.windowDays) continue;
      for (let p = itemPtr[b]; p < itemPtr[b + 1]; p++) {
        const it = items[p];
        if (o.count === 'purchases') counts[it]++;
        else if (lastUser[it] !== u) {
          lastUser[it] = u;
          counts[it]++;
        }
      }
    }
  }
  fit.onProgress?.({ stage, done: data.nUsers, total: data.nUsers });
  return counts;
}
