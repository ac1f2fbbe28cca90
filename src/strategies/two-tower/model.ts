/**
 * The two-tower model's parameters and its typed-array scorer (no tfjs: a loaded model scores
 * in Node and browsers alike).
 *
 * User tower: u = userId[user] + mean over the shopper's items j of history[j] (the pooled
 * history; an unknown user, or one without training data, is the pooled part alone: fold-in).
 * Item tower: v_i = itemId[i] + sum over text terms t of x_it * textW[t], x_i the item's
 * L2-normalized TF-IDF row, so an item nobody bought still gets a vector from its text.
 * Retrieval score: u . v_i / temperature. Ranking head: one ReLU layer over the interaction
 * u * v_i (elementwise, NeuMF's GMF layer), logit = rankOutBias + rankOut . relu(rankKernel^T
 * (u * v_i) + rankBias). Over the elementwise product the head's gradients keep the towers'
 * dot-product geometry; a head over [u; v_i] taught the item tower popularity directions that
 * pulled a never-sold item's text vector away from its group (test/two-tower.test.ts).
 */
import type { CsrArrays } from '../../artifact/validate';
import type { TwoTowerScoring } from './options';

export interface TwoTowerWeights {
  nUsers: number;
  nItems: number;
  nTerms: number;
  factors: number;
  hidden: number;
  temperature: number;
  /** nUsers x factors, or null in a serving artifact (every query folds in). */
  userId: Float32Array | null;
  /** 1 for users with training positives (the others have no learned id embedding); null with userId. */
  userHasData: Uint8Array | null;
  itemId: Float32Array;
  /** Item embeddings the user tower pools over a history (nItems x factors). */
  history: Float32Array;
  /** Dense projection of the text features (nTerms x factors). */
  textW: Float32Array;
  /** Item text features: nItems x nTerms CSR, L2-normalized rows (empty for items without text). */
  text: CsrArrays;
  /** [factors][hidden], over u * v. */
  rankKernel: Float32Array;
  rankBias: Float32Array;
  rankOut: Float32Array;
  /** [bias] */
  rankOutBias: Float32Array;
}

/** The arrays training updates, in a fixed order (for the best-epoch snapshot). */
export function weightArrays(w: TwoTowerWeights): Float32Array[] {
  return [w.userId ?? new Float32Array(0), w.itemId, w.history, w.textW, w.rankKernel, w.rankBias, w.rankOut, w.rankOutBias];
}

/** Writes item i's tower output (no dropout) into out[o .. o + f). Float64 sums, one order: fit and load agree to the bit. */
export function itemVector(w: TwoTowerWeights, i: number, out: Float32Array, o: number, keepId = true): void {
  const f = w.factors;
  const { indptr, indices, values } = w.text;
  for (let k = 0; k < f; k++) {
    let s = keepId ? w.itemId[i * f + k] : 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) s += values[p] * w.textW[indices[p] * f + k];
    out[o + k] = s;
  }
}

/** Every item's tower output, nItems x factors. */
export function itemVectors(w: TwoTowerWeights): Float32Array {
  const out = new Float32Array(w.nItems * w.factors);
  for (let i = 0; i < w.nItems; i++) itemVector(w, i, out, i * w.factors);
  return out;
}

/**
 * Scores from the weights with plain loops. Holds the current query's user vector
 * (setUser / foldIn), then scores any item by the chosen head.
 */
export class TwoTowerScorer {
  readonly vectors: Float32Array;
  private readonly norms: Float64Array;
  /** The current user vector, and the ranking kernel scaled by it (userKernel[k][h] = u_k kernel[k][h]). */
  readonly user: Float32Array;
  private readonly userKernel: Float32Array;
  private readonly acc: Float64Array;

  constructor(
    readonly w: TwoTowerWeights,
    readonly scoring: TwoTowerScoring,
  ) {
    this.vectors = itemVectors(w);
    const f = w.factors;
    this.norms = new Float64Array(w.nItems);
    for (let i = 0; i < w.nItems; i++) {
      let s = 0;
      for (let k = 0; k < f; k++) s += this.vectors[i * f + k] ** 2;
      this.norms[i] = Math.sqrt(s);
    }
    this.user = new Float32Array(f);
    this.userKernel = new Float32Array(f * w.hidden);
    this.acc = new Float64Array(Math.max(f, w.hidden));
  }

  /**
   * Sets the user vector: the id embedding of `user` (when >= 0 and it has one) plus the mean
   * history embedding of `items`. False when neither exists (nothing to go on).
   */
  setUser(user: number, items: ArrayLike<number>): boolean {
    const { w } = this;
    const f = w.factors;
    const acc = this.acc;
    acc.fill(0, 0, f);
    const hasId = user >= 0 && w.userId !== null && w.userHasData !== null && w.userHasData[user] === 1;
    if (!hasId && items.length === 0) return false;
    for (let p = 0; p < items.length; p++) {
      const o = items[p] * f;
      for (let k = 0; k < f; k++) acc[k] += w.history[o + k];
    }
    const inv = items.length > 0 ? 1 / items.length : 0;
    for (let k = 0; k < f; k++) this.user[k] = (hasId ? w.userId![user * f + k] : 0) + acc[k] * inv;
    this.prepare();
    return true;
  }

  private prepare(): void {
    const { factors: f, hidden: h } = this.w;
    const kernel = this.w.rankKernel;
    for (let k = 0; k < f; k++) {
      const x = this.user[k];
      for (let o = 0; o < h; o++) this.userKernel[k * h + o] = x * kernel[k * h + o];
    }
  }

  /** u . v_i / temperature. */
  retrieval(i: number): number {
    const f = this.w.factors;
    const v = this.vectors;
    const u = this.user;
    const o = i * f;
    let s = 0;
    for (let k = 0; k < f; k++) s += u[k] * v[o + k];
    return s / this.w.temperature;
  }

  /** The ranking head's logit for item i (factors x hidden multiply-adds). */
  ranking(i: number): number {
    const { w } = this;
    const { factors: f, hidden: h } = w;
    const acc = this.acc;
    for (let o = 0; o < h; o++) acc[o] = w.rankBias[o];
    const v = this.vectors;
    const uk = this.userKernel;
    for (let k = 0; k < f; k++) {
      const x = v[i * f + k];
      if (x === 0) continue;
      const row = k * h;
      for (let o = 0; o < h; o++) acc[o] += x * uk[row + o];
    }
    let s = w.rankOutBias[0];
    for (let o = 0; o < h; o++) if (acc[o] > 0) s += w.rankOut[o] * acc[o];
    return s;
  }

  score(i: number): number {
    switch (this.scoring) {
      case 'retrieval':
        return this.retrieval(i);
      case 'ranking':
        return this.ranking(i);
      default:
        return this.retrieval(i) + this.ranking(i);
    }
  }

  scoreAll(out: Float32Array): void {
    for (let i = 0; i < this.w.nItems; i++) out[i] = this.score(i);
  }

  /** Cosine similarity of two items' tower outputs (0 for a zero vector). */
  cosine(a: number, b: number): number {
    const na = this.norms[a];
    const nb = this.norms[b];
    if (na === 0 || nb === 0) return 0;
    const f = this.w.factors;
    let s = 0;
    for (let k = 0; k < f; k++) s += this.vectors[a * f + k] * this.vectors[b * f + k];
    return s / (na * nb);
  }

  /** History item j's share of the retrieval score of item i: (history[j] . v_i) / (n * temperature). */
  historyContribution(j: number, i: number, n: number): number {
    const f = this.w.factors;
    let s = 0;
    for (let k = 0; k < f; k++) s += this.w.history[j * f + k] * this.vectors[i * f + k];
    return s / (n * this.w.temperature);
  }

  /** Each text term's share of the retrieval score of item i at the current user: x_it (textW[t] . u) / temperature. */
  termContributions(i: number): Array<{ term: number; weight: number }> {
    const { w } = this;
    const f = w.factors;
    const { indptr, indices, values } = w.text;
    const out: Array<{ term: number; weight: number }> = [];
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      const t = indices[p];
      let s = 0;
      for (let k = 0; k < f; k++) s += w.textW[t * f + k] * this.user[k];
      out.push({ term: t, weight: (values[p] * s) / w.temperature });
    }
    return out;
  }
}
