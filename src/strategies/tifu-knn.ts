import type { SectionReader, SectionWriter } from '../artifact/sections';
import { CsrMatrix } from '../data/csr';
import type { Dataset } from '../data/dataset';
import { readCsr, scopeName, StateReader, type LoadContext } from '../artifact/validate';
import { NotFittedError, OptionError } from '../errors';
import { integer, number, optionsToJson, resolveOptions, type OptionChecks } from '../util/options';
import { Pace } from '../util/pace';
import { checkDataset, checkItem, checkQuery, checkScores } from './checks';
import type { Explanation, FitOptions, ItemNamer, JsonObject, Query, Recommender, SaveOptions, ScoreVector } from './types';

export interface TIFUKNNOptions {
  /**
   * Nearest shoppers whose vectors are averaged (k). Default 300: the value Hu et al. and the
   * NBR reproducibility studies use on TaFeng; on P6's validation users (keyset.val) 300 was
   * within noise of the best of {100, 300, 600} (`npx tsx benchmarks/tune-latent.ts P6`).
   */
  neighbors: number;
  /**
   * Within-group decay r_b: the basket b baskets before the newest weighs r_b^b. Default 0.9
   * (the published TaFeng setting, kept on P6 validation).
   */
  withinDecay: number;
  /** Across-group decay r_g: group g groups before the newest weighs r_g^g. Default 0.9 (published TaFeng setting). */
  groupDecay: number;
  /**
   * Share of the shopper's own vector in the blend alpha * own + (1 - alpha) * mean of the
   * neighbors' vectors. Default 0.1 (published TaFeng setting; the best of {0.1, 0.3, 0.5, 0.7}
   * on P6 validation).
   */
  alpha: number;
  /**
   * m: a history is split into m groups of consecutive baskets (as the authors' code does;
   * the paper's text speaks of groups of m baskets). Default 11 (published TaFeng setting).
   */
  groups: number;
}

const DEFAULTS: Readonly<TIFUKNNOptions> = Object.freeze({ neighbors: 300, withinDecay: 0.9, groupDecay: 0.9, alpha: 0.1, groups: 11 });

const CHECKS: OptionChecks<TIFUKNNOptions> = {
  neighbors: integer({ min: 1 }),
  withinDecay: number({ min: 0, max: 1, exclusiveMin: true }),
  groupDecay: number({ min: 0, max: 1, exclusiveMin: true }),
  alpha: number({ min: 0, max: 1 }),
  groups: integer({ min: 1 }),
};

const FORMAT_VERSION = 1;

interface FittedTifu {
  nItems: number;
  /** users x items: each fitted shopper's TIFU vector. */
  vectors: CsrMatrix;
  /** items x users: the same, by item (the neighbor search's inverted index). */
  byItem: CsrMatrix;
  /** Squared norm of each user vector. */
  norm2: Float64Array;
  /** Users by ascending squared norm (then index): nearest first among users sharing no item. */
  byNorm: Int32Array;
}

/**
 * TIFU-KNN (Hu, He, Cao, Jin & Zhang, SIGIR 2020), next-basket recommendation from
 * temporal item-frequency vectors. A shopper's vector, following the authors' code
 * (HaojiHu/TIFUKNN): each past basket is a 0/1 item vector scaled by r_b^(baskets after it);
 * the n baskets are cut into m groups of consecutive baskets (n < m: one basket per group;
 * else the first groups get floor(n/m) baskets and the last n mod m groups one more); each
 * group is the mean of its baskets; the vector is sum over groups g of mean_g *
 * r_g^(m - 1 - g) / (number of groups). The prediction for a shopper is
 *   alpha * own vector + (1 - alpha) * mean of the k nearest fitted shoppers' vectors
 * (Euclidean distance, as sklearn's brute NearestNeighbors there). A known shopper is among
 * their own neighbors (distance 0), as in the published pipeline that fits on every user.
 *
 * The query's timeline gives the vector (the current basket, if any, counts as its newest
 * basket); a query without baskets uses its history as one basket. Neighbor search is sparse
 * and exact: inner products with the users who share an item (inverted index), then the
 * shortest other vectors by norm order. The model stores every fitted shopper's vector, which
 * is customer data: it cannot be saved without it.
 */
export class TIFUKNN implements Recommender {
  static readonly defaults: Readonly<TIFUKNNOptions> = DEFAULTS;
  readonly kind = 'tifuknn';
  readonly options: Readonly<TIFUKNNOptions>;
  private model: FittedTifu | null = null;
  private dots = new Float64Array(0);
  private touched = new Int32Array(0);
  private vec = new Float64Array(0);
  private vecItems = new Int32Array(0);
  /** Per item: the basket of the vector being built that last added it (-1: none). */
  private lastBasket = new Int32Array(0);

  constructor(options: Partial<TIFUKNNOptions> = {}) {
    this.options = resolveOptions('TIFUKNN', DEFAULTS, options, CHECKS);
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'TIFUKNN');
    const pace = new Pace(options.signal, 'TIFUKNN.fit');
    const nUsers = data.nUsers;
    const nItems = data.nItems;
    this.prepare(nItems, nUsers);
    const indptr = new Int32Array(nUsers + 1);
    const idx: number[] = [];
    const val: number[] = [];
    const { userPtr, itemPtr, items } = data.baskets;
    const m = data.interactions;
    for (let u = 0; u < nUsers; u++) {
      const b0 = userPtr[u];
      const b1 = userPtr[u + 1];
      const n = b1 > b0 ? this.vectorOf(itemPtr.subarray(b0, b1 + 1), items, null) : this.vectorOfHistory(m.indices.subarray(m.indptr[u], m.indptr[u + 1]), m.values.subarray(m.indptr[u], m.indptr[u + 1]));
      for (let t = 0; t < n; t++) {
        idx.push(this.vecItems[t]);
        val.push(this.vec[this.vecItems[t]]);
      }
      this.clearVector(n);
      indptr[u + 1] = idx.length;
      if (u % 256 === 255) {
        options.onProgress?.({ stage: 'TIFU-KNN vectors', done: u + 1, total: nUsers });
        if (pace.due()) await pace.pause();
      }
    }
    options.onProgress?.({ stage: 'TIFU-KNN vectors', done: nUsers, total: nUsers, message: `${nUsers} shopper vectors, ${idx.length} entries` });
    // Rows are built item-sorted by vectorOf, so the CSR invariant (sorted unique indices) holds.
    const vectors = new CsrMatrix(nUsers, nItems, indptr, Int32Array.from(idx), Float32Array.from(val));
    this.attach(nItems, vectors);
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.require();
    checkScores(out, m.nItems, 'TIFUKNN');
    const n = this.queryVector(query);
    if (n === 0) return;
    const { alpha } = this.options;
    const neighbors = this.nearest(n);
    for (let t = 0; t < n; t++) {
      const i = this.vecItems[t];
      out.add(i, alpha * this.vec[i]);
    }
    this.clearVector(n);
    if (neighbors.length === 0) return;
    const share = (1 - alpha) / neighbors.length;
    const { indptr, indices, values } = m.vectors;
    for (const u of neighbors) for (let p = indptr[u]; p < indptr[u + 1]; p++) out.add(indices[p], share * values[p]);
  }

  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.require();
    checkItem(item, m.nItems, 'TIFUKNN.explain');
    const n = this.queryVector(query);
    if (n === 0) return null;
    const own = this.options.alpha * this.vec[item];
    const neighbors = this.nearest(n);
    this.clearVector(n);
    let withItem = 0;
    let fromNeighbors = 0;
    for (const u of neighbors) {
      const v = m.vectors.get(u, item);
      if (v > 0) {
        withItem++;
        fromNeighbors += v;
      }
    }
    if (neighbors.length > 0) fromNeighbors *= (1 - this.options.alpha) / neighbors.length;
    const score = own + fromNeighbors;
    if (!(score > 0)) return null;
    const parts: string[] = [];
    if (own > 0) parts.push(`you bought ${name(item)} before, recently enough to count`);
    if (withItem > 0) parts.push(`${withItem} of the ${neighbors.length} shoppers whose baskets are most like yours buy it`);
    return { score: Math.fround(score), reason: parts.join('; '), evidence: own > 0 ? [{ item, weight: own }] : [] };
  }

  save(out: SectionWriter, options: SaveOptions = {}): JsonObject {
    const m = this.require();
    if (options.customerData === false) {
      throw new OptionError('TIFUKNN.save', 'TIFU-KNN cannot be saved without customer data: its neighbors are the fitted shoppers\' purchase vectors (leave this strategy out of a serving artifact)');
    }
    out.array('indptr', m.vectors.indptr);
    out.array('indices', m.vectors.indices);
    out.array('values', m.vectors.values);
    return { version: FORMAT_VERSION, nUsers: m.vectors.nRows, nItems: m.nItems, options: optionsToJson(this.options) };
  }

  /**
   * Rebuilds a saved model: the fitted shoppers' vectors as an nUsers x nItems CSR (the
   * dataset's counts), sorted unique items per row, finite weights >= 0; else an ArtifactError.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): TIFUKNN {
    const s = StateReader.of(state, scopeName(sections)).keys(['version', 'nUsers', 'nItems', 'options']);
    s.literal('version', FORMAT_VERSION);
    const options = s.options('TIFUKNN', CHECKS);
    const nUsers = s.count('nUsers', context?.nUsers);
    const nItems = s.count('nItems', context?.nItems);
    const { indptr, indices, values } = readCsr(sections, '', { nRows: nUsers, nCols: nItems }, { values: { min: 0 } });
    const model = new TIFUKNN(options);
    model.prepare(nItems, nUsers);
    model.attach(nItems, new CsrMatrix(nUsers, nItems, indptr, indices, values));
    return model;
  }

  private attach(nItems: number, vectors: CsrMatrix): void {
    const nUsers = vectors.nRows;
    const norm2 = new Float64Array(nUsers);
    for (let u = 0; u < nUsers; u++) {
      let s = 0;
      for (let p = vectors.indptr[u]; p < vectors.indptr[u + 1]; p++) s += vectors.values[p] * vectors.values[p];
      norm2[u] = s;
    }
    const byNorm = Int32Array.from({ length: nUsers }, (_, u) => u).sort((a, b) => norm2[a] - norm2[b] || a - b);
    this.model = { nItems, vectors, byItem: vectors.transpose(), norm2, byNorm };
  }

  private require(): FittedTifu {
    if (!this.model) throw new NotFittedError('TIFUKNN');
    return this.model;
  }

  private prepare(nItems: number, nUsers: number): void {
    this.vec = new Float64Array(nItems);
    this.vecItems = new Int32Array(nItems);
    this.lastBasket = new Int32Array(nItems).fill(-1);
    this.dots = new Float64Array(nUsers);
    this.touched = new Int32Array(nUsers);
  }

  /**
   * Builds the query's vector into this.vec / this.vecItems (items ascending); returns the
   * number of items. Baskets: the timeline's, then the current basket as the newest one.
   */
  private queryVector(query: Query): number {
    checkQuery(query, this.require().nItems, 'TIFUKNN');
    const tl = query.timeline;
    const basket = query.basket;
    if (tl !== null && tl.itemPtr.length > 1) return this.vectorOf(tl.itemPtr, tl.items, basket.length > 0 ? basket : null);
    const { items, weights } = query.history;
    if (basket.length === 0) return this.vectorOfHistory(items, weights);
    // The history (if any) as one basket, then the current basket.
    const lines: number[] = [];
    for (let k = 0; k < items.length; k++) if (weights[k] > 0) lines.push(items[k]);
    const ptr = lines.length > 0 ? Int32Array.from([0, lines.length]) : Int32Array.from([0]);
    return this.vectorOf(ptr, Int32Array.from(lines), basket);
  }

  /** The history's positive items as a single basket. */
  private vectorOfHistory(items: Int32Array, weights: Float32Array): number {
    const lines: number[] = [];
    for (let k = 0; k < items.length; k++) if (weights[k] > 0) lines.push(items[k]);
    if (lines.length === 0) return 0;
    return this.vectorOf(Int32Array.from([0, lines.length]), Int32Array.from(lines), null);
  }

  /**
   * TIFU vector of the baskets of itemPtr (basket b: items[itemPtr[b] .. itemPtr[b+1])), plus
   * `extra` as a newest basket, into this.vec; returns its item count (items in
   * this.vecItems, sorted).
   */
  private vectorOf(itemPtr: Int32Array, items: Int32Array, extra: Int32Array | null): number {
    const nPast = itemPtr.length - 1;
    const n = nPast + (extra !== null ? 1 : 0);
    if (n === 0) return 0;
    const { withinDecay, groupDecay, groups: m } = this.options;
    const { vec, lastBasket } = this;
    const list = this.vecItems;
    let count = 0;
    // Group sizes: n < m -> one basket each; else the last (n - m*base) groups hold base + 1.
    const nGroups = n < m ? n : m;
    const base = n < m ? 1 : Math.floor(n / m);
    const extraGroups = n < m ? 0 : n - base * m;
    let b = 0;
    for (let g = 0; g < nGroups; g++) {
      const size = g < nGroups - extraGroups ? base : base + 1;
      const groupWeight = Math.pow(groupDecay, m - 1 - g) / (size * nGroups);
      for (let s = 0; s < size; s++, b++) {
        const w = groupWeight * Math.pow(withinDecay, n - 1 - b);
        let lo: number;
        let hi: number;
        let src: Int32Array;
        if (b < nPast) {
          src = items;
          lo = itemPtr[b];
          hi = itemPtr[b + 1];
        } else {
          src = extra!;
          lo = 0;
          hi = extra!.length;
        }
        for (let p = lo; p < hi; p++) {
          const it = src[p];
          // A basket is a set: a repeated line adds nothing (the authors' vectors are 0/1).
          if (lastBasket[it] === b) continue;
          if (lastBasket[it] < 0) list[count++] = it;
          vec[it] += w;
          lastBasket[it] = b;
        }
      }
    }
    for (let t = 0; t < count; t++) lastBasket[list[t]] = -1;
    list.subarray(0, count).sort();
    return count;
  }

  private clearVector(n: number): void {
    for (let t = 0; t < n; t++) this.vec[this.vecItems[t]] = 0;
  }

  /**
   * The fitted users nearest (Euclidean) to the query vector of n items in this.vec, up to
   * `neighbors` of them; ties to the lower user index.
   */
  private nearest(n: number): Int32Array {
    const m = this.require();
    const k = Math.min(this.options.neighbors, m.vectors.nRows);
    const { vec, vecItems, dots, touched } = this;
    const { indptr, indices, values } = m.byItem;
    let q2 = 0;
    let nTouched = 0;
    for (let t = 0; t < n; t++) {
      const i = vecItems[t];
      const qi = vec[i];
      q2 += qi * qi;
      for (let p = indptr[i]; p < indptr[i + 1]; p++) {
        const u = indices[p];
        if (dots[u] === 0) touched[nTouched++] = u;
        dots[u] += qi * values[p];
      }
    }
    const heap = new NearestK(k);
    for (let t = 0; t < nTouched; t++) {
      const u = touched[t];
      heap.push(u, Math.max(0, q2 + m.norm2[u] - 2 * dots[u]));
    }
    for (let p = 0; p < m.byNorm.length; p++) {
      const u = m.byNorm[p];
      if (dots[u] !== 0) continue;
      const d2 = q2 + m.norm2[u];
      if (heap.full && d2 > heap.worst) break;
      heap.push(u, d2);
    }
    for (let t = 0; t < nTouched; t++) dots[touched[t]] = 0;
    return heap.members();
  }
}

/**
 * The k smallest distances seen (max-heap on distance, ties: the lower index is nearer).
 * Not TopK: distances must stay doubles, since float32 would merge near-ties that decide
 * which of two shoppers is a neighbor.
 */
class NearestK {
  private readonly ids: Int32Array;
  private readonly dist: Float64Array;
  private n = 0;

  constructor(readonly k: number) {
    this.ids = new Int32Array(k);
    this.dist = new Float64Array(k);
  }

  get full(): boolean {
    return this.n === this.k;
  }

  /** The largest kept distance. */
  get worst(): number {
    return this.dist[0];
  }

  push(id: number, d: number): void {
    if (this.k === 0) return;
    const { ids, dist } = this;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!farther(d, id, dist[p], ids[p])) break;
        ids[i] = ids[p];
        dist[i] = dist[p];
        i = p;
      }
      ids[i] = id;
      dist[i] = d;
      return;
    }
    if (!farther(dist[0], ids[0], d, id)) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      let big = l;
      if (r < this.n && farther(dist[r], ids[r], dist[l], ids[l])) big = r;
      if (!farther(dist[big], ids[big], d, id)) break;
      ids[i] = ids[big];
      dist[i] = dist[big];
      i = big;
    }
    ids[i] = id;
    dist[i] = d;
  }

  members(): Int32Array {
    return this.ids.slice(0, this.n).sort();
  }
}

/** True when (da, ia) is farther than (db, ib). */
function farther(da: number, ia: number, db: number, ib: number): boolean {
  return da > db || (da === db && ia > ib);
}
