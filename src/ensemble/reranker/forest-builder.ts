import { upperBound, type FeatureBins } from './binning';
import { BoostedTrees, type ForestArrays, type ForestBase } from './forest';
import type { TreeGrower } from './tree-grower';

/**
 * Appends grown trees to a forest during training: relative node and leaf indices become
 * absolute, split bins become raw thresholds, Newton steps are scaled by the learning rate.
 * Buffers double as they fill; build() copies them to size.
 */
export class ForestBuilder {
  private nodeStart: number[] = [0];
  private leafStart: number[] = [0];
  private a: NodeAndLeafArrays;
  private leafBuf: Float64Array;
  private nodeBuf: Float64Array;

  constructor(
    private readonly featureNames: readonly string[],
    numLeaves: number,
  ) {
    this.a = allocate(1024, 1024);
    this.leafBuf = new Float64Array(numLeaves);
    this.nodeBuf = new Float64Array(Math.max(numLeaves - 1, 1));
  }

  get nTrees(): number {
    return this.nodeStart.length - 1;
  }

  /** Appends the tree `grower` holds, its Newton steps times `learningRate`. */
  add(grower: TreeGrower, bins: FeatureBins, learningRate: number): void {
    const n0 = this.nodeStart[this.nTrees];
    const l0 = this.leafStart[this.nTrees];
    this.reserve(n0 + grower.nNodes, l0 + grower.nLeaves);
    const a = this.a;
    const nodeValues = grower.nodeValues(learningRate, this.nodeBuf);
    const leafValues = grower.leafValues(learningRate, this.leafBuf);
    const absolute = (child: number) => (child >= 0 ? n0 + child : ~(l0 + ~child));
    for (let n = 0; n < grower.nNodes; n++) {
      const f = grower.nodeFeature[n];
      a.feature[n0 + n] = f;
      a.threshold[n0 + n] = upperBound(bins, f, grower.nodeBin[n]);
      a.defaultLeft[n0 + n] = grower.nodeDefaultLeft[n];
      a.left[n0 + n] = absolute(grower.nodeLeft[n]);
      a.right[n0 + n] = absolute(grower.nodeRight[n]);
      a.nodeValue[n0 + n] = nodeValues[n];
      a.gain[n0 + n] = grower.nodeGain[n];
      a.count[n0 + n] = grower.nodeCount[n];
    }
    a.leafValue.set(leafValues.subarray(0, grower.nLeaves), l0);
    this.nodeStart.push(n0 + grower.nNodes);
    this.leafStart.push(l0 + grower.nLeaves);
  }

  /** The last tree added, as a forest of its own (for the trainer's score updates). */
  lastTree(): BoostedTrees {
    const t = this.nTrees - 1;
    const n0 = this.nodeStart[t];
    const n1 = this.nodeStart[t + 1];
    const l0 = this.leafStart[t];
    const l1 = this.leafStart[t + 1];
    const a = this.a;
    const rebase = (child: number) => (child >= 0 ? child - n0 : ~(~child - l0));
    return new BoostedTrees(this.featureNames, {
      nodeStart: Int32Array.of(0, n1 - n0),
      leafStart: Int32Array.of(0, l1 - l0),
      feature: a.feature.slice(n0, n1),
      threshold: a.threshold.slice(n0, n1),
      defaultLeft: a.defaultLeft.slice(n0, n1),
      left: a.left.slice(n0, n1).map(rebase),
      right: a.right.slice(n0, n1).map(rebase),
      nodeValue: a.nodeValue.slice(n0, n1),
      gain: a.gain.slice(n0, n1),
      count: a.count.slice(n0, n1),
      leafValue: a.leafValue.slice(l0, l1),
    });
  }

  /** The first nTrees trees in arrays of their own size, starting from `base` (see ForestBase). */
  build(nTrees: number, base: ForestBase | null = null): BoostedTrees {
    const nodes = this.nodeStart[nTrees];
    const leaves = this.leafStart[nTrees];
    const a = this.a;
    return new BoostedTrees(this.featureNames, {
      nodeStart: Int32Array.from(this.nodeStart.slice(0, nTrees + 1)),
      leafStart: Int32Array.from(this.leafStart.slice(0, nTrees + 1)),
      feature: a.feature.slice(0, nodes),
      threshold: a.threshold.slice(0, nodes),
      defaultLeft: a.defaultLeft.slice(0, nodes),
      left: a.left.slice(0, nodes),
      right: a.right.slice(0, nodes),
      nodeValue: a.nodeValue.slice(0, nodes),
      gain: a.gain.slice(0, nodes),
      count: a.count.slice(0, nodes),
      leafValue: a.leafValue.slice(0, leaves),
    }, base);
  }

  private reserve(nodes: number, leaves: number): void {
    const a = this.a;
    if (nodes <= a.feature.length && leaves <= a.leafValue.length) return;
    const next = allocate(Math.max(nodes, 2 * a.feature.length), Math.max(leaves, 2 * a.leafValue.length));
    for (const key of Object.keys(a) as (keyof NodeAndLeafArrays)[]) (next[key] as Int32Array).set(a[key] as Int32Array);
    this.a = next;
  }
}

/** The growable part of a forest: everything but the tree offsets. */
type NodeAndLeafArrays = Omit<ForestArrays, 'nodeStart' | 'leafStart'>;

function allocate(nodes: number, leaves: number): NodeAndLeafArrays {
  return {
    feature: new Int32Array(nodes),
    threshold: new Float32Array(nodes),
    defaultLeft: new Uint8Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    nodeValue: new Float64Array(nodes),
    gain: new Float64Array(nodes),
    count: new Int32Array(nodes),
    leafValue: new Float64Array(leaves),
  };
}
