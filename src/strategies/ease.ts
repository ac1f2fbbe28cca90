import type { SectionReader, SectionWriter } from '../artifact/sections';
import type { Dataset } from '../data/dataset';
import { checkSortedRanges, readF32, readIndices, scopeName, StateReader, type LoadContext } from '../artifact/validate';
import { ArtifactError, NotFittedError } from '../errors';
import { integer, number, oneOf, optionsToJson, resolveOptions, type OptionChecks } from '../util/options';
import { Pace } from '../util/pace';
import { spdInverse } from '../util/spd';
import { INTERACTION_WEIGHTINGS, InteractionWeights, type InteractionWeighting } from '../util/weighting';
import { checkDataset, checkItem, checkQuery, checkScores } from './checks';
import { queryPurchases } from './history';
import { joinNames } from './reasons';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, SaveOptions, ScoreVector } from './types';

export interface EASEOptions {
  /**
   * L2 penalty lambda on the item-item weights (added to the Gram matrix diagonal). Default
   * 200, of {50, 200, 500, 1000} on the validation splits carved from P1 and P2 training data
   * (`npx tsx benchmarks/tune-latent.ts P1 ease`, `... P2 ease`): the best on P2 (NDCG@10
   * 0.1660; 500: 0.1587) and within noise of the best on P1 (0.1711; 500: 0.1714).
   */
  lambda: number;
  /**
   * Largest catalog modeled: above it only the `maxItems` most purchased items (by number of
   * buyers, ties to the lower index) are modeled, and the fit summary says so; the others get
   * no score from EASE. The fit inverts a maxItems x maxItems matrix (maxItems^3 / 2
   * multiply-adds, maxItems^2 doubles of memory) and the model holds maxItems^2 float32
   * weights. Default 5000 (200 MB of working memory, a 100 MB model; see docs/strategies.md
   * for fit times).
   */
  maxItems: number;
  /** What a purchase count becomes in X (default 'binary', Steck's setting). */
  weighting: InteractionWeighting;
  /** BM25 saturation k1, only with weighting 'bm25' (default 100). */
  bm25K1: number;
  /** BM25 length normalization b, only with weighting 'bm25' (default 0.8). */
  bm25B: number;
}

const DEFAULTS: Readonly<EASEOptions> = Object.freeze({ lambda: 200, maxItems: 5000, weighting: 'binary', bm25K1: 100, bm25B: 0.8 });

const CHECKS: OptionChecks<EASEOptions> = {
  lambda: number({ min: 0, exclusiveMin: true }),
  maxItems: integer({ min: 1, max: 46340 }),
  weighting: oneOf(INTERACTION_WEIGHTINGS),
  bm25K1: number({ min: 0 }),
  bm25B: number({ min: 0, max: 1 }),
};

const FORMAT_VERSION = 1;
const EVIDENCE_ITEMS = 3;

/** What the last fit modeled. */
export interface EASESummary {
  /** Items of the data. */
  items: number;
  /** Items modeled (all of them, or the maxItems most purchased). */
  modeled: number;
  /** The fit summary line (also sent as the last progress message). */
  message: string;
}

interface FittedEase {
  nItems: number;
  /** Modeled item indices, ascending. */
  kept: Int32Array;
  /** item index -> position in kept, or -1. */
  slot: Int32Array;
  /** kept x kept, row-major float32: B[i][j] = weight of history item kept[i] for item kept[j]. */
  b: Float32Array;
  weights: InteractionWeights;
  summary: EASESummary;
}

/**
 * EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): item-item weights
 * in closed form, B = I - P / diag(P) with P = (X^T X + lambda I)^-1 (column j divided by
 * P_jj, zero diagonal), the least-squares item-to-item regression without self-similarity.
 * A query scores item j as sum over its purchases i of w_i B[i][j]: no user state, so a
 * serving artifact is the same as a full one. Catalogs above `maxItems` are cut to their
 * most purchased items (see `summary`).
 */
export class EASE implements Recommender {
  static readonly defaults: Readonly<EASEOptions> = DEFAULTS;
  readonly kind = 'ease';
  readonly options: Readonly<EASEOptions>;
  private model: FittedEase | null = null;

  constructor(options: Partial<EASEOptions> = {}) {
    this.options = resolveOptions('EASE', DEFAULTS, options, CHECKS);
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  /** What the fit modeled, and whether the catalog was cut to maxItems. */
  get summary(): EASESummary {
    return this.require().summary;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'EASE');
    const pace = new Pace(options.signal, 'EASE.fit');
    const o = this.options;
    const weights = InteractionWeights.fit(data.interactions, o.weighting, { k1: o.bm25K1, b: o.bm25B });
    const x = weights.matrix(data.interactions);
    const nItems = data.nItems;
    const buyers = new Int32Array(nItems);
    for (let p = 0; p < x.indices.length; p++) buyers[x.indices[p]]++;
    let candidates = 0;
    for (let i = 0; i < nItems; i++) if (buyers[i] > 0) candidates++;
    const byBuyers = Int32Array.from({ length: nItems }, (_, i) => i)
      .filter((i) => buyers[i] > 0)
      .sort((a, b) => buyers[b] - buyers[a] || a - b);
    const kept = byBuyers.slice(0, Math.min(o.maxItems, byBuyers.length)).sort();
    const n = kept.length;
    const slot = new Int32Array(nItems).fill(-1);
    for (let s = 0; s < n; s++) slot[kept[s]] = s;
    const message =
      candidates > n
        ? `EASE models the ${n.toLocaleString('en-US')} most purchased of ${candidates.toLocaleString('en-US')} purchased items (maxItems ${o.maxItems}); the other ${(candidates - n).toLocaleString('en-US')} get no EASE score`
        : `EASE models all ${n.toLocaleString('en-US')} purchased items`;
    options.onProgress?.({ stage: 'EASE', done: 0, total: n, message });

    // G = X^T X + lambda I over the kept items (lower triangle).
    const g = new Float64Array(n * n);
    const rowSlots = new Int32Array(nItems);
    const rowValues = new Float64Array(nItems);
    for (let u = 0; u < x.nRows; u++) {
      let len = 0;
      for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) {
        const s = slot[x.indices[p]];
        if (s < 0) continue;
        rowSlots[len] = s;
        rowValues[len++] = x.values[p];
      }
      for (let a = 0; a < len; a++) {
        const ra = rowSlots[a] * n;
        const va = rowValues[a];
        for (let c = 0; c <= a; c++) g[ra + rowSlots[c]] += va * rowValues[c];
      }
      if ((u & 255) === 255 && pace.due()) await pace.pause();
    }
    for (let s = 0; s < n; s++) g[s * n + s] += o.lambda;
    await spdInverse(g, n, { signal: options.signal, what: 'EASE.fit', onBlock: (done, total) => options.onProgress?.({ stage: 'EASE', done, total }) });
    const b = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -g[i * n + j] / g[j * n + j];
    }
    const summary: EASESummary = { items: nItems, modeled: n, message };
    this.model = { nItems, kept, slot, b, weights, summary };
    options.onProgress?.({ stage: 'EASE', done: n, total: n, message });
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.require();
    checkScores(out, m.nItems, 'EASE');
    const rows = this.queryRows(m, query);
    if (rows.slots.length === 0) return;
    const n = m.kept.length;
    const acc = new Float64Array(n);
    for (let k = 0; k < rows.slots.length; k++) {
      const ro = rows.slots[k] * n;
      const w = rows.weights[k];
      for (let j = 0; j < n; j++) acc[j] += w * m.b[ro + j];
    }
    for (let j = 0; j < n; j++) out.set(m.kept[j], acc[j]);
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.require();
    checkItem(item, m.nItems, 'EASE.explain');
    const rows = this.queryRows(m, query);
    const j = m.slot[item];
    if (j < 0) return null;
    if (rows.slots.length === 0) return null;
    const n = m.kept.length;
    let score = 0;
    const evidence: Array<{ item: number; weight: number }> = [];
    for (let k = 0; k < rows.slots.length; k++) {
      const c = rows.weights[k] * m.b[rows.slots[k] * n + j];
      score += c;
      if (c > 0) evidence.push({ item: m.kept[rows.slots[k]], weight: c });
    }
    evidence.sort((a, c) => c.weight - a.weight || a.item - c.item);
    evidence.length = Math.min(evidence.length, EVIDENCE_ITEMS);
    if (evidence.length === 0) return { score: Math.fround(score), reason: `nothing you bought points to ${name(item)}`, evidence };
    return { score: Math.fround(score), reason: `goes with ${joinNames(evidence.map((e) => name(e.item)))}`, evidence };
  }

  save(out: SectionWriter, _options: SaveOptions = {}): JsonObject {
    const m = this.require();
    out.array('kept', m.kept);
    out.array('weights', m.b);
    if (m.weights.lengthNorm) out.array('lengthNorm', m.weights.lengthNorm);
    return { version: FORMAT_VERSION, nItems: m.nItems, message: m.summary.message, options: optionsToJson(this.options) };
  }

  /**
   * Rebuilds a saved model: at most maxItems modeled items (ascending, unique, in range), their
   * kept x kept finite weights, bm25's length norms (finite, >= 0, one per item); anything else
   * is an ArtifactError naming the section or state field.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): EASE {
    const s = StateReader.of(state, scopeName(sections)).keys(['version', 'nItems', 'message', 'options']);
    s.literal('version', FORMAT_VERSION);
    const options = s.options('EASE', CHECKS);
    const nItems = s.count('nItems', context?.nItems);
    const message = s.string('message');
    const kept = readIndices(sections, 'kept', nItems);
    const n = kept.length;
    if (n > options.maxItems) throw new ArtifactError(`models ${n} items, more than maxItems (${options.maxItems})`, sections.fullName('kept'), 'length');
    checkSortedRanges(Int32Array.of(0, n), kept, sections.fullName('kept'));
    const b = readF32(sections, 'weights', { length: n * n });
    const slot = new Int32Array(nItems).fill(-1);
    for (let k = 0; k < n; k++) slot[kept[k]] = k;
    const lengthNorm = options.weighting === 'bm25' ? readF32(sections, 'lengthNorm', { length: nItems, min: 0 }) : null;
    const model = new EASE(options);
    const weights = InteractionWeights.restore(options.weighting, options.bm25K1, lengthNorm, nItems);
    model.model = { nItems, kept, slot, b, weights, summary: { items: nItems, modeled: n, message } };
    return model;
  }

  private require(): FittedEase {
    if (!this.model) throw new NotFittedError('EASE');
    return this.model;
  }

  /** The query's modeled purchases: their rows (slots) in B and their weights. */
  private queryRows(m: FittedEase, query: Query): { slots: Int32Array; weights: Float64Array } {
    checkQuery(query, m.nItems, 'EASE');
    const { items, counts } = queryPurchases(query);
    const slots = new Int32Array(items.length);
    const weights = new Float64Array(items.length);
    let kept = 0;
    for (let k = 0; k < items.length; k++) {
      const s = m.slot[items[k]];
      const w = m.weights.weight(counts[k], items[k], items.length);
      if (s < 0 || !(w > 0)) continue;
      slots[kept] = s;
      weights[kept++] = w;
    }
    return { slots: slots.subarray(0, kept), weights: weights.subarray(0, kept) };
  }
}
