/**
 * Association rules as a recommender: mine X -> {y} rules from the baskets, then recommend y
 * when the shopper's items contain X. Mining is exact (it reproduces R arules, see miner.ts
 * and rules.ts); scoring touches only the rules whose rarest antecedent item the shopper has.
 */
import type { SectionReader, SectionWriter } from '../../artifact/sections';
import { checkIndices, checkSortedRanges, readI32, readIndices, readPointers, scopeName, StateReader, type LoadContext } from '../../artifact/validate';
import type { Dataset } from '../../data/dataset';
import { ArtifactError, NotFittedError, OptionError } from '../../errors';
import type { JsonObject } from '../../util/json';
import { integer, oneOf, optionsToJson, resolveOptions, type OptionChecks } from '../../util/options';
import { checkDataset, checkItem, checkQuery, checkScores } from '../checks';
import type { Explanation, FitOptions, ItemNamer, Query, Recommender, ScoreVector } from '../types';
import { ITEMSET_CHECKS, mineItemsets, supportThreshold, type FrequentItemsets, type Transactions } from './miner';
import { generateRules, RULE_CHECKS, RuleSet, type AssociationRule } from './rules';

export { FrequentItemsets, mineItemsets, supportThreshold, type ItemsetArrays, type ItemsetOptions, type Transactions } from './miner';
export { generateRules, RuleSet, THRESHOLD_EPSILON, type AssociationRule, type RuleOptions, type RuleOrder } from './rules';

export interface AssociationRulesOptions {
  /**
   * Minimum itemset support as a fraction of baskets (default 0.001: 10 of Groceries' 9,835
   * baskets, 3,200 of Instacart's 3.2M orders). Threshold count = ceil(nBaskets x minSupport).
   */
  minSupport: number;
  /** Minimum support count, so small shops do not mine one-off baskets (default 5, set by hand). The larger threshold applies. */
  minCount: number;
  /** Minimum rule confidence (default 0.1: grocery rules rarely pass 0.5 except towards staples). */
  minConfidence: number;
  /** Minimum lift (default 1: only rules that raise the consequent's odds). */
  minLift: number;
  /** Longest itemset, antecedent plus consequent (default 3: rules from one or two items, which keeps mining cheap). */
  maxLength: number;
  /**
   * Mining stops before an itemset length whose candidates would pass this many itemsets
   * (default 1,000,000; Infinity: never). Baskets never come near it (Instacart scale: about
   * 20k); whole user histories do (MovieLens: tens of millions of frequent triples), and
   * there the rules come from the shorter itemsets. `truncatedAt` tells when it happened.
   */
  maxItemsets: number;
  /**
   * Rules kept, those of highest weight (see ruleWeighting) first (default 20,000, a memory
   * bound set by hand); Infinity keeps all. Weight rather than lift, because the top lifts of
   * a big shop are rules between rare items seen together a handful of times.
   */
  maxRules: number;
  /**
   * Which of the shopper's items may fire a rule: the current basket, the purchase history,
   * or both (default: every item the shopper has says something). With an empty history
   * 'both' is the basket alone.
   */
  source: 'both' | 'basket' | 'history';
  /**
   * How the rules that fire for one consequent combine: 'max' (default) keeps the best rule,
   * which is also the one explain() names (hence the default); 'noisyOr' is 1 - prod(1 - w);
   * 'sum' adds them.
   */
  combine: 'max' | 'noisyOr' | 'sum';
  /**
   * A rule's weight w: 'addedValue' (default) is confidence x (1 - 1/lift) = P(y|X) - P(y),
   * how much X raises y above its base rate, so staples bought by everyone do not dominate;
   * 'confidence' is P(y|X) itself.
   */
  ruleWeighting: 'addedValue' | 'confidence';
}

const CHECKS: OptionChecks<AssociationRulesOptions> = {
  minSupport: ITEMSET_CHECKS.minSupport,
  minCount: ITEMSET_CHECKS.minCount,
  minConfidence: RULE_CHECKS.minConfidence,
  minLift: RULE_CHECKS.minLift,
  maxLength: integer({ min: 2 }),
  maxItemsets: ITEMSET_CHECKS.maxItemsets,
  maxRules: RULE_CHECKS.maxRules,
  source: oneOf(['both', 'basket', 'history']),
  combine: oneOf(['max', 'noisyOr', 'sum']),
  ruleWeighting: oneOf(['addedValue', 'confidence']),
};

/** One frequent itemset in item indices. */
export interface Itemset {
  items: number[];
  count: number;
  support: number;
}

interface Model {
  nItems: number;
  nTransactions: number;
  minCount: number;
  itemCount: Int32Array;
  rules: RuleSet;
  /** Null after load: artifacts keep only the rules. */
  itemsets: FrequentItemsets | null;
  /** The itemset length mining stopped before (see AssociationRules.truncatedAt). */
  truncatedAt: number | null;
  /** Rule weight w per rule. */
  weight: Float64Array;
  /**
   * Rules keyed by their rarest antecedent item, in rule order within a key: entries
   * keyPtr[i] .. keyPtr[i+1]. Entry p holds its rule's antecedent items but the key,
   * keyOthers[keyOtherPtr[p] .. keyOtherPtr[p+1]), its consequent and its weight: scoring
   * reads them in order instead of looking each rule up.
   */
  keyPtr: Int32Array;
  keyOtherPtr: Int32Array;
  keyOthers: Int32Array;
  /**
   * Per entry its first other antecedent item, or nItems (whose mark is always 1) when the key
   * is the whole antecedent: one read answers the rules of one or two items (all of them at
   * the default maxLength 3), where the loop over keyOthers read two pointers and mispredicted.
   */
  keyFirst: Int32Array;
  /** Whether some entry has more than one other antecedent item (then keyOthers is read past keyFirst). */
  longAntecedents: boolean;
  keyCons: Int32Array;
  keyWeight: Float64Array;
  /** The rule of each entry. */
  keyRule: Int32Array;
  /** Rules by consequent, for explain. */
  consPtr: Int32Array;
  consRules: Int32Array;
  /**
   * Scratch for one query: marks of the shopper's items (mark[nItems] stays 1, see keyFirst)
   * and their distinct list.
   */
  mark: Uint8Array;
  present: Int32Array;
  /**
   * explain()'s memo under combine 'max' (see explainMax): per consequent the entry of its
   * best fired rule + 1 (0: none fired) for the shopper's items explainedItems[0 ..
   * nExplainedItems) (-1: none), and the consequents set.
   */
  bestEntry: Int32Array;
  bestTouched: Int32Array;
  nBestTouched: number;
  explainedItems: Int32Array;
  nExplainedItems: number;
}

export class AssociationRules implements Recommender {
  static readonly defaults: Readonly<AssociationRulesOptions> = Object.freeze({
    minSupport: 0.001,
    minCount: 5,
    minConfidence: 0.1,
    minLift: 1,
    maxLength: 3,
    maxItemsets: 1_000_000,
    maxRules: 20_000,
    source: 'both',
    combine: 'max',
    ruleWeighting: 'addedValue',
  });

  readonly kind = 'rules';
  readonly options: Readonly<AssociationRulesOptions>;
  private model: Model | null = null;

  constructor(options: Partial<AssociationRulesOptions> = {}) {
    this.options = resolveOptions('AssociationRules', AssociationRules.defaults, options, CHECKS);
  }

  get fitted(): boolean {
    return this.model !== null;
  }

  /**
   * Mines the baskets (each basket's distinct items). A dataset without baskets is mined
   * with each user's whole history as one transaction.
   */
  async fit(data: Dataset, options: FitOptions = {}): Promise<void> {
    checkDataset(data, 'AssociationRules');
    const tx: Transactions =
      data.nBaskets > 0
        ? { ptr: data.baskets.itemPtr, items: data.baskets.items, nItems: data.nItems }
        : { ptr: data.interactions.indptr, items: data.interactions.indices, nItems: data.nItems };
    const o = this.options;
    const sets = await mineItemsets(tx, {
      minSupport: o.minSupport,
      minCount: o.minCount,
      maxLength: o.maxLength,
      maxItemsets: o.maxItemsets,
      threads: options.threads,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    const rules = await generateRules(sets, {
      minConfidence: o.minConfidence,
      minLift: o.minLift,
      maxRules: o.maxRules,
      sortBy: o.ruleWeighting,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    this.model = this.buildModel({
      nItems: data.nItems,
      nTransactions: sets.nTransactions,
      minCount: sets.minCount,
      itemCount: sets.itemCount,
      rules,
      itemsets: sets,
      truncatedAt: sets.truncatedAt,
    });
    if (sets.truncatedAt !== null) {
      options.onProgress?.({
        stage: 'mine itemsets',
        done: 1,
        total: 1,
        message: `itemsets of ${sets.truncatedAt}+ items not mined: their candidates would pass maxItemsets (${o.maxItemsets}); rules come from shorter itemsets`,
      });
    }
  }

  /**
   * The itemset length mining stopped before because of maxItemsets (rules then have at most
   * truncatedAt - 2 antecedent items), or null when every length up to maxLength was mined.
   */
  get truncatedAt(): number | null {
    return this.requireModel().truncatedAt;
  }

  /** The mined rules (item indices), by weight descending, then confidence, count, shorter antecedent. */
  rules(): AssociationRule[] {
    return this.requireModel().rules.toArray();
  }

  /**
   * The frequent itemsets of the last fit, by length, then count descending (item indices).
   * They are not stored in artifacts (scoring needs only the rules, and itemsets were most of
   * the section's bytes), so a loaded model has none.
   */
  itemsets(): Itemset[] {
    const { itemsets, nTransactions } = this.requireModel();
    if (itemsets === null) throw new OptionError('itemsets', 'frequent itemsets are not kept in artifacts: call itemsets() on the fitted model before saving');
    const { ptr, items, count } = itemsets.toArrays();
    const out: Itemset[] = [];
    for (let k = 0; k < count.length; k++) {
      out.push({ items: Array.from(items.subarray(ptr[k], ptr[k + 1])), count: count[k], support: count[k] / nTransactions });
    }
    return out;
  }

  score(query: Query, out: ScoreVector): void {
    const m = this.requireModel();
    checkScores(out, m.nItems, 'AssociationRules');
    checkQuery(query, m.nItems, 'AssociationRules');
    const nPresent = this.markQuery(m, query);
    const { keyPtr, keyCons, keyWeight, mark, present } = m;
    const combine = this.options.combine;
    const max = combine === 'max';
    try {
      for (let k = 0; k < nPresent; k++) {
        const i = present[k];
        // Rules keyed by i, in rule order: the key is present, so only the other antecedent items are looked up.
        for (let p = keyPtr[i], end = keyPtr[i + 1]; p < end; p++) {
          if (!entryFires(m, p)) continue;
          const y = keyCons[p];
          const w = keyWeight[p];
          if (max) out.max(y, w);
          else out.set(y, out.has(y) ? combineWeights(combine, out.values[y], w) : w);
        }
      }
    } finally {
      clearMarks(mark, present, nPresent);
    }
  }

  /** The strongest rule that fired for `item`, as "bought A and B -> C (confidence 0.62, lift 3.1)". */
  explain(query: Query, item: number, name: ItemNamer): Explanation | null {
    const m = this.requireModel();
    checkItem(item, m.nItems, 'AssociationRules.explain');
    checkQuery(query, m.nItems, 'AssociationRules');
    if (this.options.combine === 'max' && m.consPtr[item + 1] - m.consPtr[item] > MEMO_RULES) return this.explainMax(m, query, item, name);
    const nPresent = this.markQuery(m, query);
    const { rules, weight, consPtr, consRules, mark, present } = m;
    let best = -1;
    let combined = 0;
    try {
      for (let p = consPtr[item]; p < consPtr[item + 1]; p++) {
        const r = consRules[p];
        if (!antecedentPresent(mark, rules.ant, rules.antPtr[r], rules.antPtr[r + 1])) continue;
        const w = weight[r];
        combined = best < 0 ? w : combineWeights(this.options.combine, combined, w);
        // consRules is in rule order, so the first of equal weights is the better-ranked rule.
        if (best < 0 || w > weight[best]) best = r;
      }
    } finally {
      clearMarks(mark, present, nPresent);
    }
    if (best < 0) return null;
    return ruleExplanation(rules, best, combined, weight[best], item, name);
  }

  /**
   * explain() under combine 'max', where the combined weight is the best rule's, for an item
   * with more than MEMO_RULES rules: the first such call for a query finds every consequent's
   * best fired rule in one pass over the rules keyed by the shopper's items (what score()
   * reads), and the calls that follow for the same query (the ensemble explains its k items)
   * look theirs up. Scanning each explained item's rules by consequent was a fifth of an
   * explained recommendation on the demo shop (1,500 items, 19k rules: a staple is the
   * consequent of hundreds). The best is the first of the greatest weight in rule order, as
   * the scan by consequent (rule order) picks it.
   */
  private explainMax(m: Model, query: Query, item: number, name: ItemNamer): Explanation | null {
    const nPresent = this.markQuery(m, query);
    const { keyPtr, keyCons, keyWeight, keyRule, mark, present, bestEntry, bestTouched, explainedItems } = m;
    try {
      // The memo is keyed by the shopper's items as markQuery lists them, all the rules read.
      let same = m.nExplainedItems === nPresent;
      for (let k = 0; same && k < nPresent; k++) same = explainedItems[k] === present[k];
      if (!same) {
        for (let t = 0; t < m.nBestTouched; t++) bestEntry[bestTouched[t]] = 0;
        m.nExplainedItems = -1;
        let nTouched = 0;
        for (let k = 0; k < nPresent; k++) {
          const i = present[k];
          for (let p = keyPtr[i], end = keyPtr[i + 1]; p < end; p++) {
            if (!entryFires(m, p)) continue;
            const y = keyCons[p];
            const b = bestEntry[y] - 1;
            if (b < 0) bestTouched[nTouched++] = y;
            else if (!(keyWeight[p] > keyWeight[b] || (keyWeight[p] === keyWeight[b] && keyRule[p] < keyRule[b]))) continue;
            bestEntry[y] = p + 1;
          }
        }
        m.nBestTouched = nTouched;
        explainedItems.set(present.subarray(0, nPresent));
        m.nExplainedItems = nPresent;
      }
    } finally {
      clearMarks(mark, present, nPresent);
    }
    const p = bestEntry[item] - 1;
    if (p < 0) return null;
    return ruleExplanation(m.rules, keyRule[p], keyWeight[p], keyWeight[p], item, name);
  }

  save(out: SectionWriter): JsonObject {
    const m = this.requireModel();
    const { rules } = m;
    out.array('itemCount', m.itemCount);
    out.array('antPtr', rules.antPtr);
    out.array('ant', rules.ant);
    out.array('cons', rules.cons);
    out.array('count', rules.count);
    out.array('antCount', rules.antCount);
    return { options: optionsToJson(this.options), nItems: m.nItems, nTransactions: m.nTransactions, minCount: m.minCount, truncatedAt: m.truncatedAt };
  }

  /**
   * Rebuilds a saved model. The rules must be meaningful, not only well-formed: each has a
   * non-empty sorted antecedent of items in range without its consequent, and counts with
   * minCount <= count <= antCount <= nTransactions and count <= itemCount[consequent] (so no
   * measure divides by zero); anything else is an ArtifactError naming the section and the rule.
   */
  static load(state: JsonObject, sections: SectionReader, context?: LoadContext): AssociationRules {
    const s = StateReader.of(state, scopeName(sections)).keys(['options', 'nItems', 'nTransactions', 'minCount', 'truncatedAt']);
    const model = new AssociationRules(s.options('AssociationRules', CHECKS));
    const nItems = s.count('nItems', context?.nItems);
    const nTransactions = s.count('nTransactions');
    const minCount = s.integer('minCount', { min: 1 });
    const threshold = supportThreshold(nTransactions, model.options.minSupport, model.options.minCount);
    if (minCount !== threshold) s.fail('minCount', `is ${minCount}, but minSupport and minCount over ${nTransactions} transactions give ${threshold}`);
    const truncatedAt = s.nullable('truncatedAt', (key) => s.integer(key, { min: 1 }));
    const itemCount = readI32(sections, 'itemCount', { length: nItems, min: 0, max: nTransactions });
    const cons = readIndices(sections, 'cons', nItems);
    const n = cons.length;
    const ant = sections.i32('ant');
    const antPtr = readPointers(sections, 'antPtr', n, ant.length);
    checkIndices(ant, nItems, sections.fullName('ant'));
    checkSortedRanges(antPtr, ant, sections.fullName('ant'));
    const count = readI32(sections, 'count', { length: n, min: minCount });
    const antCount = readI32(sections, 'antCount', { length: n, max: nTransactions });
    for (let r = 0; r < n; r++) {
      const at = `[${r}]`;
      if (antPtr[r + 1] === antPtr[r]) throw new ArtifactError(`rule ${r} has an empty antecedent`, sections.fullName('antPtr'), `[${r + 1}]`);
      for (let p = antPtr[r]; p < antPtr[r + 1]; p++) {
        if (ant[p] === cons[r]) throw new ArtifactError(`rule ${r} has its consequent ${cons[r]} in its antecedent`, sections.fullName('cons'), at);
      }
      if (antCount[r] < count[r]) throw new ArtifactError(`rule ${r}: its antecedent is bought ${antCount[r]} times, fewer than the rule (${count[r]})`, sections.fullName('antCount'), at);
      if (itemCount[cons[r]] < count[r]) throw new ArtifactError(`rule ${r}: its consequent is bought ${itemCount[cons[r]]} times, fewer than the rule (${count[r]})`, sections.fullName('count'), at);
    }
    const consCount = Int32Array.from(cons, (y) => itemCount[y]);
    const rules = new RuleSet(nTransactions, antPtr, ant, cons, count, antCount, consCount);
    model.model = model.buildModel({ nItems, nTransactions, minCount, itemCount, rules, itemsets: null, truncatedAt });
    return model;
  }

  /** The fitted or loaded state plus the scoring indexes derived from its rules. */
  private buildModel(base: Pick<Model, 'nItems' | 'nTransactions' | 'minCount' | 'itemCount' | 'rules' | 'itemsets' | 'truncatedAt'>): Model {
    const { nItems, itemCount, rules } = base;
    const n = rules.size;
    const { antPtr, ant, cons } = rules;
    const weight = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const c = rules.confidence[r];
      weight[r] = this.options.ruleWeighting === 'confidence' ? c : c * (1 - 1 / rules.lift[r]);
    }
    // Key each rule by its rarest antecedent item: the one a shopper is least likely to have.
    const key = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      let best = ant[antPtr[r]];
      for (let p = antPtr[r] + 1; p < antPtr[r + 1]; p++) if (itemCount[ant[p]] < itemCount[best]) best = ant[p];
      key[r] = best;
    }
    const [keyPtr, keyRules] = groupBy(key, nItems);
    const keyOtherPtr = new Int32Array(n + 1);
    for (let p = 0; p < n; p++) {
      const r = keyRules[p];
      keyOtherPtr[p + 1] = keyOtherPtr[p] + antPtr[r + 1] - antPtr[r] - 1;
    }
    const keyOthers = new Int32Array(keyOtherPtr[n]);
    const keyFirst = new Int32Array(n);
    const keyCons = new Int32Array(n);
    const keyWeight = new Float64Array(n);
    let longAntecedents = false;
    for (let p = 0; p < n; p++) {
      const r = keyRules[p];
      let o = keyOtherPtr[p];
      for (let q = antPtr[r]; q < antPtr[r + 1]; q++) if (ant[q] !== key[r]) keyOthers[o++] = ant[q];
      keyFirst[p] = o > keyOtherPtr[p] ? keyOthers[keyOtherPtr[p]] : nItems;
      if (o - keyOtherPtr[p] > 1) longAntecedents = true;
      keyCons[p] = cons[r];
      keyWeight[p] = weight[r];
    }
    const [consPtr, consRules] = groupBy(cons, nItems);
    const mark = new Uint8Array(nItems + 1);
    mark[nItems] = 1;
    return {
      ...base,
      weight,
      keyPtr,
      keyOtherPtr,
      keyOthers,
      keyFirst,
      longAntecedents,
      keyCons,
      keyWeight,
      keyRule: keyRules,
      consPtr,
      consRules,
      mark,
      present: new Int32Array(nItems),
      bestEntry: new Int32Array(nItems),
      bestTouched: new Int32Array(nItems),
      nBestTouched: 0,
      explainedItems: new Int32Array(nItems),
      nExplainedItems: -1,
    };
  }

  private requireModel(): Model {
    if (!this.model) throw new NotFittedError('AssociationRules');
    return this.model;
  }

  /** Marks the shopper's items allowed by `source` (a checked query); returns how many distinct items were marked into `present`. */
  private markQuery(m: Model, query: Query): number {
    const { mark, present } = m;
    let n = 0;
    // A module function, not a closure made per call (score and each explained item mark the
    // query; under tsx, esbuild's keepNames also names each closure with a defineProperty).
    if (this.options.source !== 'history') n = markItems(mark, present, n, query.basket);
    if (this.options.source !== 'basket') n = markItems(mark, present, n, query.history.items);
    return n;
  }
}

/**
 * Rules of one consequent past which explain() under 'max' uses the per-query memo: below it,
 * scanning the item's rules costs less than the memo's pass over every rule the shopper's
 * items key (at 50k items and 20k rules most items have a rule or two). Set by hand: 32 and
 * 256 measured alike within the noise of a shared machine, at 1,500 and at 10k items.
 */
const MEMO_RULES = 32;

/** Whether rule entry p (keyed by a marked item) fires: its other antecedent items are all marked (see keyFirst). */
function entryFires(m: Model, p: number): boolean {
  if (m.mark[m.keyFirst[p]] === 0) return false;
  return !m.longAntecedents || antecedentPresent(m.mark, m.keyOthers, m.keyOtherPtr[p] + 1, m.keyOtherPtr[p + 1]);
}

/** The combined weight of a consequent that already has `v` when a rule of weight `w` fires for it. */
function combineWeights(combine: AssociationRulesOptions['combine'], v: number, w: number): number {
  if (combine === 'sum') return v + w;
  if (combine === 'noisyOr') return v + w - v * w;
  return w > v ? w : v;
}

function antecedentPresent(mark: Uint8Array, ant: Int32Array, start: number, end: number): boolean {
  for (let q = start; q < end; q++) if (mark[ant[q]] === 0) return false;
  return true;
}

/** Marks the unmarked `items`, listing each in `present` after its first n entries; returns the new count. */
function markItems(mark: Uint8Array, present: Int32Array, n: number, items: Int32Array): number {
  for (let k = 0; k < items.length; k++) {
    const i = items[k];
    if (mark[i] === 0) {
      mark[i] = 1;
      present[n++] = i;
    }
  }
  return n;
}

function clearMarks(mark: Uint8Array, present: Int32Array, n: number): void {
  for (let k = 0; k < n; k++) mark[present[k]] = 0;
}

/** CSR of rule ids grouped by `of[r]` in [0, n), rule order kept within a group. */
function groupBy(of: Int32Array, n: number): [Int32Array, Int32Array] {
  const ptr = new Int32Array(n + 1);
  for (let r = 0; r < of.length; r++) ptr[of[r] + 1]++;
  for (let i = 0; i < n; i++) ptr[i + 1] += ptr[i];
  const next = ptr.slice(0, n);
  const ids = new Int32Array(of.length);
  for (let r = 0; r < of.length; r++) ids[next[of[r]]++] = r;
  return [ptr, ids];
}

/** The explanation of rule `r` firing for `item`: "bought A and B -> C (confidence 0.62, lift 3.1)". */
function ruleExplanation(rules: RuleSet, r: number, score: number, weight: number, item: number, name: ItemNamer): Explanation {
  const antecedent = Array.from(rules.ant.subarray(rules.antPtr[r], rules.antPtr[r + 1]));
  const lift = rules.lift[r];
  const reason =
    `bought ${joinNames(antecedent.map(name))} -> ${name(item)} ` +
    `(confidence ${rules.confidence[r].toFixed(2)}, lift ${lift >= 10 ? lift.toFixed(0) : lift.toFixed(1)})`;
  return { score, reason, evidence: antecedent.map((a) => ({ item: a, weight })) };
}

function joinNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
