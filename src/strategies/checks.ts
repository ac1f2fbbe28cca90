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
  // Int32Array entries are integers: their least and greatest say whether all are in range,
  // in a loop without a branch per entry (a strategy checks each query it scores or explains).
  if (items instanceof Int32Array) {
    let min = 0;
    let max = 0;
    for (let k = 0; k < items.length; k++) {
      const i = items[k];
      min = i < min ? i : min;
      max = i > max ? i : max;
    }
    if (min >= 0 && max < nItems) return;
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
