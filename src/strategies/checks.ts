/**
 * The argument checks every strategy runs at its public entries, so one mistake gets one
 * error type everywhere: a missing dataset, an item index outside the fitted items, a score
 * buffer of the wrong size are all OptionErrors (argument errors) that name the strategy and
 * the argument. Each check is one pass over what the call reads anyway.
 */
import type { Dataset } from '../data/dataset';
import { OptionError } from '../errors';
import { describe } from '../util/options';
import type { Query, ScoreVector } from './types';

/**
 * `data` is a Dataset (else OptionError) with interactions to fit on (else EmptyDataError,
 * unless `needsInteractions` is false).
 */
export function checkDataset(data: unknown, owner: string, needsInteractions = true): asserts data is Dataset {
  if (data === null || typeof data !== 'object' || typeof (data as Dataset).assertNotEmpty !== 'function') {
    throw new OptionError(`${owner}.fit`, `data must be a Dataset, got ${describe(data)}`);
  }
  if (needsInteractions) (data as Dataset).assertNotEmpty(`${owner}.fit`);
}

/** An item index in [0, nItems); returns it. */
export function checkItem(item: unknown, nItems: number, owner: string, name = 'item'): number {
  if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item >= nItems) {
    throw new OptionError(`${owner}: ${name}`, `item index ${describe(item)} out of range [0, ${nItems})`);
  }
  return item;
}

/**
 * A Query whose history, basket and timeline hold only item indices in [0, nItems), with one
 * weight per history item. Strategies call it once per score() and explain().
 */
export function checkQuery(query: Query, nItems: number, owner: string): void {
  if (query === null || typeof query !== 'object') throw new OptionError(`${owner}: query`, `must be a Query, got ${describe(query)}`);
  const { history, basket, timeline } = query;
  if (history === null || typeof history !== 'object' || !isIndexArray(history.items) || !isNumberArray(history.weights)) {
    throw new OptionError(`${owner}: query.history`, 'must be { items: Int32Array, weights: Float32Array }');
  }
  if (history.weights.length !== history.items.length) {
    throw new OptionError(`${owner}: query.history`, `has ${history.items.length} items but ${history.weights.length} weights`);
  }
  if (!isIndexArray(basket)) throw new OptionError(`${owner}: query.basket`, `must be an Int32Array, got ${describe(basket)}`);
  if (typeof query.user !== 'number' || !Number.isInteger(query.user) || query.user < -1) {
    throw new OptionError(`${owner}: query.user`, `must be a user index or -1, got ${describe(query.user)}`);
  }
  inRange(history.items, nItems, owner, 'query.history.items');
  inRange(basket, nItems, owner, 'query.basket');
  if (timeline !== null && timeline !== undefined) {
    if (!isIndexArray(timeline.items) || !isIndexArray(timeline.itemPtr) || timeline.itemPtr.length < 1) {
      throw new OptionError(`${owner}: query.timeline`, 'must be { itemPtr: Int32Array, items: Int32Array, day: Float64Array }');
    }
    const { itemPtr, items } = timeline;
    if (itemPtr[0] !== 0 || itemPtr[itemPtr.length - 1] !== items.length || timeline.day.length !== itemPtr.length - 1) {
      throw new OptionError(`${owner}: query.timeline`, 'itemPtr, items and day do not fit together');
    }
    inRange(items, nItems, owner, 'query.timeline.items');
  }
}

/** A ScoreVector over exactly the model's nItems items. */
export function checkScores(out: ScoreVector, nItems: number, owner: string): void {
  if (out === null || typeof out !== 'object' || !(out.values instanceof Float32Array)) {
    throw new OptionError(`${owner}: out`, `must be a ScoreVector, got ${describe(out)}`);
  }
  if (out.size !== nItems) throw new OptionError(`${owner}: out`, `ScoreVector has ${out.size} items, the model ${nItems}`);
}

function inRange(items: ArrayLike<number>, nItems: number, owner: string, name: string): void {
  // Int32Array entries are integers: i is in [0, nItems) exactly when neither i nor
  // nItems - 1 - i has the int32 sign bit, so an OR of those over all entries says whether all
  // are, in four independent accumulators (every strategy checks each query it scores or
  // explains: sixty checks of a long history and timeline per explained recommendation, where
  // a least-and-greatest loop was a twentieth of the call; this one takes 0.6 of its time).
  if (items instanceof Int32Array) {
    const last = nItems - 1;
    const n = items.length;
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    let k = 0;
    for (; k + 4 <= n; k += 4) {
      const i0 = items[k];
      const i1 = items[k + 1];
      const i2 = items[k + 2];
      const i3 = items[k + 3];
      a |= i0 | (last - i0);
      b |= i1 | (last - i1);
      c |= i2 | (last - i2);
      d |= i3 | (last - i3);
    }
    for (; k < n; k++) a |= items[k] | (last - items[k]);
    if ((a | b | c | d) >= 0) return;
  }
  for (let k = 0; k < items.length; k++) {
    const i = items[k];
    if (!(i >= 0 && i < nItems) || (i | 0) !== i) throw new OptionError(`${owner}: ${name}[${k}]`, `item index ${i} out of range [0, ${nItems})`);
  }
}

function isIndexArray(a: unknown): a is ArrayLike<number> {
  return a instanceof Int32Array || a instanceof Uint32Array || Array.isArray(a);
}

function isNumberArray(a: unknown): a is ArrayLike<number> {
  return ArrayBuffer.isView(a) || Array.isArray(a);
}
