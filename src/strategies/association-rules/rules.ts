/**
 * Association rules X -> {y} (non-empty antecedent, one consequent item) from frequent
 * itemsets, with the measures of R arules. Every frequent itemset Z of two or more items
 * yields the rules Z \ {y} -> {y} for each y in Z whose confidence clears the threshold.
 */
import { integer, number, oneOf, resolveOptions, type OptionChecks } from '../../util/options';
import { Pace } from '../../util/pace';
import type { Progress } from '../types';
import { compareRuns, GrowingI32, sortRun, type FrequentItemsets } from './miner';

/**
 * Slack of the confidence and lift thresholds, as in Borgelt's apriori inside arules
 * (`c < conf - EPSILON` rejects): a rule at exactly 0.8 stays in despite rounding in the
 * division.
 */
export const THRESHOLD_EPSILON = 1e-12;

export interface RuleOptions {
  /** Keep rules with confidence >= minConfidence (default 0). */
  minConfidence?: number;
  /** Keep rules with lift >= minLift (default 0: no filter). */
  minLift?: number;
  /** Keep at most this many rules, the first ones in rule order (default Infinity). */
  maxRules?: number;
  /**
   * The first key of rule order, descending (default 'lift', as arules' sort by lift):
   * 'lift', 'confidence', or 'addedValue' (confidence - support of the consequent).
   */
  sortBy?: RuleOrder;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** One rule in item indices, with arules' measures. */
export interface AssociationRule {
  antecedent: number[];
  consequent: number;
  /** Fraction of transactions holding antecedent and consequent. */
  support: number;
  /** support(X u {y}) / support(X). */
  confidence: number;
  /** confidence / support({y}). */
  lift: number;
  /** support(X u {y}) - support(X) * support({y}). */
  leverage: number;
  /** (1 - support({y})) / (1 - confidence); Infinity when confidence is 1. */
  conviction: number;
  /** Transactions holding antecedent and consequent. */
  count: number;
}

export type RuleOrder = 'lift' | 'confidence' | 'addedValue';

type RuleSettings = Required<Omit<RuleOptions, 'signal' | 'onProgress'>>;

const RULE_DEFAULTS: Readonly<RuleSettings> = Object.freeze({ minConfidence: 0, minLift: 0, maxRules: Infinity, sortBy: 'lift' });

/** Checks of the rule options, shared with AssociationRules. */
export const RULE_CHECKS: OptionChecks<RuleSettings> = {
  minConfidence: number({ min: 0, max: 1 }),
  minLift: number({ min: 0 }),
  maxRules: integer({ min: 1, infinity: true }),
  sortBy: oneOf<RuleOrder>(['lift', 'confidence', 'addedValue']),
};

/**
 * Rules in columns. Rule r: antecedent items ant[antPtr[r] .. antPtr[r+1]) ascending,
 * consequent cons[r]; counts of the whole itemset, of the antecedent and of the consequent.
 * The float measures derive from the counts, so a saved and loaded set is bit-identical.
 * Order ("rule order"): the sortBy key descending (lift by default), then confidence
 * descending, then count descending, then shorter antecedents, then antecedent items
 * lexicographically, then consequent.
 */
export class RuleSet {
  readonly support: Float64Array;
  readonly confidence: Float64Array;
  readonly lift: Float64Array;
  readonly leverage: Float64Array;
  readonly conviction: Float64Array;

  constructor(
    readonly nTransactions: number,
    readonly antPtr: Int32Array,
    readonly ant: Int32Array,
    readonly cons: Int32Array,
    readonly count: Int32Array,
    readonly antCount: Int32Array,
    readonly consCount: Int32Array,
  ) {
    const n = cons.length;
    const N = nTransactions;
    this.support = new Float64Array(n);
    this.confidence = new Float64Array(n);
    this.lift = new Float64Array(n);
    this.leverage = new Float64Array(n);
    this.conviction = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const m = measures(N, count[r], antCount[r], consCount[r]);
      this.support[r] = m.support;
      this.confidence[r] = m.confidence;
      this.lift[r] = m.lift;
      this.leverage[r] = m.leverage;
      this.conviction[r] = m.conviction;
    }
  }

  get size(): number {
    return this.cons.length;
  }

  rule(r: number): AssociationRule {
    return {
      antecedent: Array.from(this.ant.subarray(this.antPtr[r], this.antPtr[r + 1])),
      consequent: this.cons[r],
      support: this.support[r],
      confidence: this.confidence[r],
      lift: this.lift[r],
      leverage: this.leverage[r],
      conviction: this.conviction[r],
      count: this.count[r],
    };
  }

  toArray(): AssociationRule[] {
    return Array.from({ length: this.size }, (_, r) => this.rule(r));
  }

  /** Rules by length (antecedent + consequent): hist[k] = rules of k items. */
  lengthHistogram(): number[] {
    const hist: number[] = [0];
    for (let r = 0; r < this.size; r++) {
      const len = this.antPtr[r + 1] - this.antPtr[r] + 1;
      while (hist.length <= len) hist.push(0);
      hist[len]++;
    }
    return hist;
  }
}

/** arules' measures from counts (n transactions, itemset, antecedent and consequent counts). */
function measures(n: number, count: number, antCount: number, consCount: number) {
  const support = count / n;
  const confidence = count / antCount;
  const consSupport = consCount / n;
  return {
    support,
    confidence,
    lift: confidence / consSupport,
    leverage: support - (antCount / n) * consSupport,
    conviction: confidence === 1 ? Infinity : (1 - consSupport) / (1 - confidence),
  };
}

/** All rules X -> {y} of the frequent itemsets that pass the thresholds, in rule order. Abortable mid-run through `signal`. */
export async function generateRules(sets: FrequentItemsets, options: RuleOptions = {}): Promise<RuleSet> {
  const { signal, onProgress, ...given } = options ?? {};
  const o = resolveOptions('generateRules', RULE_DEFAULTS, given, RULE_CHECKS);
  const pace = new Pace(signal, 'rule generation');
  const minConfidence = o.minConfidence - THRESHOLD_EPSILON;
  const minLift = o.minLift - THRESHOLD_EPSILON;
  const maxRules = o.maxRules;
  const sortBy = o.sortBy;
  const { nodeRank, nodeCount, nodeParent, nodeDepth, rankItem, itemCount, nTransactions: N } = sets;
  const nNodes = nodeRank.length;

  // Candidates as (node, position of the consequent in the node's rank path, antecedent count).
  const candNode = new GrowingI32(1024);
  const candPos = new GrowingI32(1024);
  const candAnt = new GrowingI32(1024);
  const path = new Int32Array(Math.max(1, sets.maxLength));
  const every = Math.max(1, Math.floor(nNodes / 100));
  for (let node = 1; node < nNodes; node++) {
    if (node % every === 0) onProgress?.({ stage: 'generate rules', done: node, total: nNodes });
    if ((node & 1023) === 0 && pace.due()) await pace.pause();
    const k = nodeDepth[node];
    if (k < 2) continue;
    for (let n = node, d = k - 1; n > 0; n = nodeParent[n], d--) path[d] = nodeRank[n];
    const zCount = nodeCount[node];
    const ranks = path.subarray(0, k);
    for (let pos = 0; pos < k; pos++) {
      const xCount = nodeCount[pos === k - 1 ? nodeParent[node] : sets.nodeOfRanks(ranks, pos)];
      const confidence = zCount / xCount;
      if (confidence < minConfidence) continue;
      if (confidence / (itemCount[rankItem[ranks[pos]]] / N) < minLift) continue;
      candNode.push(node);
      candPos.push(pos);
      candAnt.push(xCount);
    }
  }
  onProgress?.({ stage: 'generate rules', done: nNodes, total: nNodes });

  const nCand = candNode.length;
  const at = new Int32Array(nCand + 1);
  for (let c = 0; c < nCand; c++) at[c + 1] = at[c] + nodeDepth[candNode.data[c]] - 1;
  const flat = new Int32Array(at[nCand]);
  const cons = new Int32Array(nCand);
  const count = new Int32Array(nCand);
  const conf = new Float64Array(nCand);
  const key = new Float64Array(nCand);
  for (let c = 0; c < nCand; c++) {
    const node = candNode.data[c];
    let w = at[c + 1];
    for (let n = node, d = nodeDepth[node] - 1; n > 0; n = nodeParent[n], d--) {
      const item = rankItem[nodeRank[n]];
      if (d === candPos.data[c]) cons[c] = item;
      else flat[--w] = item;
    }
    sortRun(flat, at[c], at[c + 1]);
    count[c] = nodeCount[node];
    conf[c] = count[c] / candAnt.data[c];
    const consSupport = itemCount[cons[c]] / N;
    key[c] = sortBy === 'lift' ? conf[c] / consSupport : sortBy === 'addedValue' ? conf[c] - consSupport : conf[c];
  }
  const order = Array.from({ length: nCand }, (_, c) => c);
  order.sort(
    (a, b) =>
      key[b] - key[a] ||
      conf[b] - conf[a] ||
      count[b] - count[a] ||
      at[a + 1] - at[a] - (at[b + 1] - at[b]) ||
      compareRuns(flat, at[a], at[a + 1], at[b], at[b + 1]) ||
      cons[a] - cons[b],
  );
  const n = Math.min(nCand, maxRules);
  const antPtr = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) antPtr[r + 1] = antPtr[r] + at[order[r] + 1] - at[order[r]];
  const ant = new Int32Array(antPtr[n]);
  const outCons = new Int32Array(n);
  const outCount = new Int32Array(n);
  const antCount = new Int32Array(n);
  const consCount = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const c = order[r];
    ant.set(flat.subarray(at[c], at[c + 1]), antPtr[r]);
    outCons[r] = cons[c];
    outCount[r] = count[c];
    antCount[r] = candAnt.data[c];
    consCount[r] = itemCount[cons[c]];
  }
  return new RuleSet(N, antPtr, ant, outCons, outCount, antCount, consCount);
}
