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
  explanations: Explained[] | null;
}

/** The keys a Recommendation's sources can have: the strategy names in order, then the fallback's. */
export function sourceNames(strategyNames: readonly string[]): string[] {
  return [...strategyNames, FALLBACK_SECTION];
}

/** An entry's fields besides item, name, score and sources: with explain, because and reason (and the reranker's features). */
export type Explained = Omit<Recommendation, 'item' | 'name' | 'score' | 'sources'>;

/**
 * Where HybridRecommender's ranking writes a list, entry by entry, best first: the item
 * index, its score, each strategy's contribution in `parts` (by strategy index; 0: not a
 * source; read during the call only) or null for a fallback entry (its one source, the
 * fallback, contributes its score), and with explain the explanation fields.
 */
export interface ListWriter {
  entry(item: number, score: number, parts: Float64Array | null, explanation: Explained | null): void;
}

/** A ListWriter of several lists: endList() after each. */
export interface BatchWriter extends ListWriter {
  endList(): void;
}

/** A block's lists packed as they are ranked (the batch kernel's writer): entries, endList() after each list, then finish(). */
export class ListPacker implements BatchWriter {
  private readonly listEnds: number[] = [];
  private readonly items: number[] = [];
  private readonly scores: number[] = [];
  private readonly sourceEnds: number[] = [];
  private readonly sourceKeys: number[] = [];
  private readonly contributions: number[] = [];
  private readonly explanations: Explained[] | null;

  /** `nStrategies` strategy sources; the fallback's key follows them (see sourceNames). */
  constructor(
    private readonly nStrategies: number,
    explain: boolean,
  ) {
    this.explanations = explain ? [] : null;
  }

  entry(item: number, score: number, parts: Float64Array | null, explanation: Explained | null): void {
    this.items.push(item);
    this.scores.push(score);
    if (parts === null) {
      this.sourceKeys.push(this.nStrategies);
      this.contributions.push(score);
    } else {
      for (let s = 0; s < this.nStrategies; s++) {
        if (parts[s] === 0) continue;
        this.sourceKeys.push(s);
        this.contributions.push(parts[s]);
      }
    }
    this.sourceEnds.push(this.sourceKeys.length);
    this.explanations?.push(explanation!);
  }

  endList(): void {
    this.listEnds.push(this.items.length);
  }

  finish(): PackedLists {
    return {
      listEnds: Int32Array.from(this.listEnds),
      items: Int32Array.from(this.items),
      scores: Float64Array.from(this.scores),
      sourceEnds: Int32Array.from(this.sourceEnds),
      sourceKeys: Int32Array.from(this.sourceKeys),
      contributions: Float64Array.from(this.contributions),
      explanations: this.explanations,
    };
  }
}

/** The packed lists as Recommendation objects, equal field by field to what recommend() returns, with this thread's strings for item ids and names. */
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
