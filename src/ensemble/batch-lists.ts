/**
 * Recommendation lists packed into typed arrays: the form in which a pool worker of a parallel
 * recommendBatch (src/node/batch-kernel.ts) sends a block back. Structured-cloning the
 * Recommendation objects themselves (an item id, a name and a sources object each, after the
 * walk for transferables) cost a worker 27 ms of its 198 ms of CPU for the 943 shoppers of P1,
 * and the main thread 12-15 ms to read; typed arrays are transferred instead, and the main thread
 * names the items from its own dataset (the worker's is loaded from its artifact: same item
 * order).
 */
import type { Dataset } from '../data/dataset';
import type { IdIndex } from '../data/ids';
import type { Recommendation } from './hybrid';
import { FALLBACK_SECTION } from './persist';

/** A block of lists; entry e is the e-th recommendation of the block, lists one after another. */
export interface PackedLists {
  /** List j holds entries [listEnds[j - 1], listEnds[j]) (the first from 0). */
  listEnds: Int32Array;
  /** Each entry's item index. */
  items: Int32Array;
  scores: Float64Array;
  /** Entry e's sources are [sourceEnds[e - 1], sourceEnds[e]) of sourceKeys and contributions, in the object's key order. */
  sourceEnds: Int32Array;
  /** Index into the source names (see sourceNames). */
  sourceKeys: Int32Array;
  contributions: Float64Array;
  /** With explain, each entry's remaining fields (because, reason, features) as they were; else null. */
  explanations: Array<Omit<Recommendation, 'item' | 'name' | 'score' | 'sources'>> | null;
}

/** The keys a Recommendation's sources can have: the strategy names in order, then the fallback's. */
export function sourceNames(strategyNames: readonly string[]): string[] {
  return [...strategyNames, FALLBACK_SECTION];
}

/** One block's lists packed; with `explain`, each entry's explanation fields are kept beside them as objects. */
export function packLists(lists: readonly Recommendation[][], items: IdIndex, names: readonly string[], explain: boolean): PackedLists {
  let n = 0;
  for (const list of lists) n += list.length;
  const keyOf = new Map(names.map((name, i) => [name, i]));
  const packed: PackedLists = {
    listEnds: new Int32Array(lists.length),
    items: new Int32Array(n),
    scores: new Float64Array(n),
    sourceEnds: new Int32Array(n),
    sourceKeys: new Int32Array(n * names.length),
    contributions: new Float64Array(n * names.length),
    explanations: explain ? [] : null,
  };
  let e = 0;
  let s = 0;
  for (let j = 0; j < lists.length; j++) {
    for (const rec of lists[j]) {
      packed.items[e] = items.indexOf(rec.item);
      packed.scores[e] = rec.score;
      const sources = rec.sources;
      for (const key in sources) {
        packed.sourceKeys[s] = keyOf.get(key)!;
        packed.contributions[s++] = sources[key];
      }
      packed.sourceEnds[e++] = s;
      if (packed.explanations !== null) {
        const { item: _item, name: _name, score: _score, sources: _sources, ...explanation } = rec;
        packed.explanations.push(explanation);
      }
    }
    packed.listEnds[j] = e;
  }
  // Only the written part crosses threads.
  packed.sourceKeys = packed.sourceKeys.slice(0, s);
  packed.contributions = packed.contributions.slice(0, s);
  return packed;
}

/** packLists' lists again, equal field by field, with this thread's strings for item ids and names. */
export function unpackLists(packed: PackedLists, data: Dataset, names: readonly string[]): Recommendation[][] {
  const { listEnds, items, scores, sourceEnds, sourceKeys, contributions, explanations } = packed;
  const lists = new Array<Recommendation[]>(listEnds.length);
  let e = 0;
  let s = 0;
  for (let j = 0; j < listEnds.length; j++) {
    const list = new Array<Recommendation>(listEnds[j] - e);
    for (let r = 0; e < listEnds[j]; r++, e++) {
      const sources: Record<string, number> = {};
      for (; s < sourceEnds[e]; s++) sources[names[sourceKeys[s]]] = contributions[s];
      const item = items[e];
      const rec: Recommendation = { item: data.items.id(item), name: data.catalog.name[item], score: scores[e], sources };
      list[r] = explanations === null ? rec : Object.assign(rec, explanations[e]);
    }
    lists[j] = list;
  }
  return lists;
}
