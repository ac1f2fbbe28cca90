import type { Pace } from '../../util/pace';
import type { FeatureBins } from './binning';

/** What limits one regression tree. */
export interface TreeLimits {
  numLeaves: number;
  minDataInLeaf: number;
  minSumHessian: number;
  l2: number;
}

/** Slots of a histogram entry: gradient sum, hessian sum, row count. */
const STRIDE = 3;

/** Gains below this share of the children's score are float64 rounding, not signal. */
const RELATIVE_GAIN_FLOOR = 1e-10;

/**
 * Grows one regression tree on gradients and hessians, leaf-wise (always split the leaf
 * whose best split gains most, until numLeaves) on byte-binned rows, the way LightGBM does:
 *
 * - a leaf's rows are a contiguous range of `rows`, partitioned in place at each split;
 * - a leaf's histogram holds per feature and bin the sums of gradient, hessian and count;
 *   only the smaller child is summed from its rows, the larger is its parent minus the
 *   smaller (the subtraction trick), in the parent's buffer;
 * - a split "bin <= b" sends missing values (bin 0) left or right, whichever gains more; when
 *   the leaf had no missing value for the feature, missing goes to the child with the larger
 *   hessian sum (the likelier side);
 * - gain = (GL^2 / (HL + l2) + GR^2 / (HR + l2) - G^2 / (H + l2)) / 2, the second-order loss
 *   reduction; a split needs a gain above rounding noise, minDataInLeaf rows and
 *   minSumHessian on both sides.
 *
 * Ties go to the first feature (in `features` order), the lowest bin, missing right: the tree
 * is a pure function of its inputs. The grower keeps its buffers across trees.
 *
 * After grow(): nodes 0..nNodes-1 (node 0 the root when nNodes > 0) with children encoded
 * as node index (>= 0) or ~leaf (< 0); leaves 0..nLeaves-1 with their row ranges of `rows`
 * and gradient sums. Node indices grow in split order, so a child's index exceeds its parent's.
 */
export class TreeGrower {
  nNodes = 0;
  nLeaves = 0;
  readonly nodeFeature: Int32Array;
  readonly nodeBin: Int32Array;
  readonly nodeDefaultLeft: Uint8Array;
  readonly nodeLeft: Int32Array;
  readonly nodeRight: Int32Array;
  readonly nodeGain: Float64Array;
  readonly nodeG: Float64Array;
  readonly nodeH: Float64Array;
  readonly nodeCount: Int32Array;
  readonly leafStart: Int32Array;
  readonly leafEnd: Int32Array;
  readonly leafG: Float64Array;
  readonly leafH: Float64Array;

  private readonly leafParent: Int32Array;
  private readonly leafIsLeft: Uint8Array;
  private readonly leafSlot: Int32Array;
  private readonly bestGain: Float64Array;
  private readonly bestFeature: Int32Array;
  private readonly bestBin: Int32Array;
  private readonly bestDefaultLeft: Uint8Array;
  private readonly bestLeftG: Float64Array;
  private readonly bestLeftH: Float64Array;
  private readonly slots: Float64Array[] = [];
  private scratch = new Int32Array(0);

  constructor(
    private readonly bins: FeatureBins,
    private readonly limits: TreeLimits,
  ) {
    const L = limits.numLeaves;
    this.nodeFeature = new Int32Array(L - 1);
    this.nodeBin = new Int32Array(L - 1);
    this.nodeDefaultLeft = new Uint8Array(L - 1);
    this.nodeLeft = new Int32Array(L - 1);
    this.nodeRight = new Int32Array(L - 1);
    this.nodeGain = new Float64Array(L - 1);
    this.nodeG = new Float64Array(L - 1);
    this.nodeH = new Float64Array(L - 1);
    this.nodeCount = new Int32Array(L - 1);
    this.leafStart = new Int32Array(L);
    this.leafEnd = new Int32Array(L);
    this.leafG = new Float64Array(L);
    this.leafH = new Float64Array(L);
    this.leafParent = new Int32Array(L);
    this.leafIsLeft = new Uint8Array(L);
    this.leafSlot = new Int32Array(L);
    this.bestGain = new Float64Array(L);
    this.bestFeature = new Int32Array(L);
    this.bestBin = new Int32Array(L);
    this.bestDefaultLeft = new Uint8Array(L);
    this.bestLeftG = new Float64Array(L);
    this.bestLeftH = new Float64Array(L);
  }

  /**
   * Grows a tree on rows[0 .. nRows) (indices into `binned`, row-major with
   * bins.nFeatures bytes per row, and into grad / hess), splitting only on `features`.
   * Reorders `rows`.
   */
  async grow(
    binned: Uint8Array,
    rows: Int32Array,
    nRows: number,
    grad: Float64Array,
    hess: Float64Array,
    features: Int32Array,
    pace: Pace,
  ): Promise<void> {
    this.nNodes = 0;
    this.nLeaves = 1;
    if (this.scratch.length < nRows) this.scratch = new Int32Array(nRows);
    let g = 0;
    let h = 0;
    for (let k = 0; k < nRows; k++) {
      g += grad[rows[k]];
      h += hess[rows[k]];
    }
    this.leafStart[0] = 0;
    this.leafEnd[0] = nRows;
    this.leafG[0] = g;
    this.leafH[0] = h;
    this.leafParent[0] = -1;
    this.leafSlot[0] = 0;
    this.bestGain[0] = 0;
    const { numLeaves, minDataInLeaf } = this.limits;
    if (numLeaves < 2 || nRows < 2 * minDataInLeaf) return;
    this.buildHistogram(this.slot(0), binned, rows, 0, nRows, grad, hess, features);
    this.findBestSplit(0, features);
    while (this.nLeaves < numLeaves) {
      let leaf = -1;
      let gain = 0;
      for (let l = 0; l < this.nLeaves; l++) {
        if (this.bestGain[l] > gain) {
          gain = this.bestGain[l];
          leaf = l;
        }
      }
      if (leaf < 0) break;
      this.split(leaf, binned, rows, grad, hess, features);
      if (pace.due()) await pace.pause();
    }
  }

  /** The leaf values -G / (H + l2) times `scale` (0 for a leaf without curvature). */
  leafValues(scale: number, out: Float64Array): Float64Array {
    for (let l = 0; l < this.nLeaves; l++) out[l] = newtonStep(this.leafG[l], this.leafH[l], this.limits.l2) * scale;
    return out;
  }

  /** The value each internal node would have as a leaf, times `scale` (its expected value, for path contributions). */
  nodeValues(scale: number, out: Float64Array): Float64Array {
    for (let n = 0; n < this.nNodes; n++) out[n] = newtonStep(this.nodeG[n], this.nodeH[n], this.limits.l2) * scale;
    return out;
  }

  private slot(i: number): Float64Array {
    while (this.slots.length <= i) this.slots.push(new Float64Array(this.bins.totalSlots * STRIDE));
    return this.slots[i];
  }

  private split(leaf: number, binned: Uint8Array, rows: Int32Array, grad: Float64Array, hess: Float64Array, features: Int32Array): void {
    const node = this.nNodes++;
    const f = this.bestFeature[leaf];
    const bin = this.bestBin[leaf];
    const defaultLeft = this.bestDefaultLeft[leaf];
    const start = this.leafStart[leaf];
    const end = this.leafEnd[leaf];
    this.nodeFeature[node] = f;
    this.nodeBin[node] = bin;
    this.nodeDefaultLeft[node] = defaultLeft;
    this.nodeGain[node] = this.bestGain[leaf];
    this.nodeG[node] = this.leafG[leaf];
    this.nodeH[node] = this.leafH[leaf];
    this.nodeCount[node] = end - start;
    const parent = this.leafParent[leaf];
    if (parent >= 0) {
      if (this.leafIsLeft[leaf] === 1) this.nodeLeft[parent] = node;
      else this.nodeRight[parent] = node;
    }

    // Stable partition of the leaf's rows: left in place, right through the scratch.
    const F = this.bins.nFeatures;
    const scratch = this.scratch;
    let mid = start;
    let nRight = 0;
    for (let k = start; k < end; k++) {
      const r = rows[k];
      const b = binned[r * F + f];
      const goLeft = b === 0 ? defaultLeft === 1 : b <= bin;
      if (goLeft) rows[mid++] = r;
      else scratch[nRight++] = r;
    }
    rows.set(scratch.subarray(0, nRight), mid);

    const right = this.nLeaves++;
    const parentSlot = this.leafSlot[leaf];
    this.leafStart[right] = mid;
    this.leafEnd[right] = end;
    this.leafG[right] = this.leafG[leaf] - this.bestLeftG[leaf];
    this.leafH[right] = this.leafH[leaf] - this.bestLeftH[leaf];
    this.leafParent[right] = node;
    this.leafIsLeft[right] = 0;
    this.leafEnd[leaf] = mid;
    this.leafG[leaf] = this.bestLeftG[leaf];
    this.leafH[leaf] = this.bestLeftH[leaf];
    this.leafParent[leaf] = node;
    this.leafIsLeft[leaf] = 1;
    this.nodeLeft[node] = ~leaf;
    this.nodeRight[node] = ~right;
    this.bestGain[leaf] = 0;
    this.bestGain[right] = 0;

    const { numLeaves, minDataInLeaf } = this.limits;
    const splittable = (l: number) => this.leafEnd[l] - this.leafStart[l] >= 2 * minDataInLeaf;
    if (this.nLeaves >= numLeaves || (!splittable(leaf) && !splittable(right))) return;
    // The smaller child is summed into a fresh slot; the parent's slot becomes the larger child.
    const leftSmaller = mid - start <= end - mid;
    const small = leftSmaller ? leaf : right;
    const large = leftSmaller ? right : leaf;
    const freshSlot = right;
    const smallHist = this.slot(freshSlot);
    const largeHist = this.slot(parentSlot);
    this.buildHistogram(smallHist, binned, rows, this.leafStart[small], this.leafEnd[small], grad, hess, features);
    for (let i = 0; i < largeHist.length; i++) largeHist[i] -= smallHist[i];
    this.leafSlot[small] = freshSlot;
    this.leafSlot[large] = parentSlot;
    if (splittable(leaf)) this.findBestSplit(leaf, features);
    if (splittable(right)) this.findBestSplit(right, features);
  }

  private buildHistogram(
    hist: Float64Array,
    binned: Uint8Array,
    rows: Int32Array,
    start: number,
    end: number,
    grad: Float64Array,
    hess: Float64Array,
    features: Int32Array,
  ): void {
    hist.fill(0);
    const F = this.bins.nFeatures;
    const histStart = this.bins.histStart;
    const nSel = features.length;
    const all = nSel === F;
    for (let k = start; k < end; k++) {
      const r = rows[k];
      const base = r * F;
      const g = grad[r];
      const h = hess[r];
      for (let i = 0; i < nSel; i++) {
        const f = all ? i : features[i];
        const o = (histStart[f] + binned[base + f]) * STRIDE;
        hist[o] += g;
        hist[o + 1] += h;
        hist[o + 2] += 1;
      }
    }
  }

  private findBestSplit(leaf: number, features: Int32Array): void {
    const hist = this.slots[this.leafSlot[leaf]];
    const { minDataInLeaf, minSumHessian, l2 } = this.limits;
    const G = this.leafG[leaf];
    const H = this.leafH[leaf];
    const C = this.leafEnd[leaf] - this.leafStart[leaf];
    const parentScore = (G * G) / (H + l2);
    let best = 0;
    let bestFeature = -1;
    let bestBin = 0;
    let bestDefaultLeft = 0;
    let bestG = 0;
    let bestH = 0;
    const { histStart, valueBins } = this.bins;
    for (let i = 0; i < features.length; i++) {
      const f = features[i];
      const base = histStart[f] * STRIDE;
      const gM = hist[base];
      const hM = hist[base + 1];
      const cM = hist[base + 2];
      let gL = 0;
      let hL = 0;
      let cL = 0;
      const B = valueBins[f];
      for (let b = 1; b <= B; b++) {
        const o = base + b * STRIDE;
        const c = hist[o + 2];
        if (c === 0) continue;
        gL += hist[o];
        hL += hist[o + 1];
        cL += c;
        // Missing right, then missing left (only when the leaf has missing values).
        for (let side = 0; side < 2; side++) {
          if (side === 1 && cM === 0) break;
          const lg = side === 0 ? gL : gL + gM;
          const lh = side === 0 ? hL : hL + hM;
          const lc = side === 0 ? cL : cL + cM;
          const rc = C - lc;
          const rh = H - lh;
          if (lc < minDataInLeaf || rc < minDataInLeaf || lh < minSumHessian || rh < minSumHessian) continue;
          const rg = G - lg;
          const children = (lg * lg) / (lh + l2) + (rg * rg) / (rh + l2);
          const gain = 0.5 * (children - parentScore);
          // A gain within rounding of zero (children that score like their parent) is no gain.
          if (gain > best && gain > RELATIVE_GAIN_FLOOR * children) {
            best = gain;
            bestFeature = f;
            bestBin = b;
            bestDefaultLeft = side === 1 || (cM === 0 && lh >= rh) ? 1 : 0;
            bestG = lg;
            bestH = lh;
          }
        }
      }
    }
    this.bestGain[leaf] = bestFeature >= 0 ? best : 0;
    this.bestFeature[leaf] = bestFeature;
    this.bestBin[leaf] = bestBin;
    this.bestDefaultLeft[leaf] = bestDefaultLeft;
    this.bestLeftG[leaf] = bestG;
    this.bestLeftH[leaf] = bestH;
  }
}

/** The Newton step -G / (H + l2) of a leaf, 0 when it has no curvature. */
export function newtonStep(g: number, h: number, l2: number): number {
  const d = h + l2;
  return d > 0 ? -g / d : 0;
}
