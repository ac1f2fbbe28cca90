/**
 * The shopper of a request -> the Query strategies score. Ids are checked here, once per
 * request: they are strings (a number is an OptionError that says so), lists are arrays, an
 * unknown user id is an UnknownIdError (never a silent cold start), and an unknown item id is
 * an UnknownIdError unless the caller asked to skip them (then each skipped id is reported).
 */
import type { Dataset } from '../data/dataset';
import { OptionError, UnknownIdError } from '../errors';
import { anonymousQuery, userQuery } from '../strategies/query';
import type { BasketTimeline, Query, SparseVector } from '../strategies/types';
import { arrayOf, describe, id, idList, nullable, number, resolveOptions, type OptionChecks } from '../util/options';

/**
 * Who to recommend for:
 * - a user id string the fitted model knows (its stored history and baskets are used);
 * - or an object. With `history` and/or `baskets` the query is built from them alone (the
 *   request is the source of truth, as with a model saved without customer data; `user` is
 *   then not looked up). With neither, `user` must be a known id. `basket` is the current cart:
 *   it is scored as context and never recommended back. `{ history: [] }` is the explicit
 *   cold start (the fallback answers); `{ basket: [...] }` alone is an anonymous session.
 */
export type Shopper = string | ShopperInput;

/** Every field is optional; one given as null is as if absent. */
export interface ShopperInput {
  /** A user id; used only when neither history nor baskets are given. */
  user?: string;
  /** Past purchases (item ids; repeats count). Derived from `baskets` when absent. */
  history?: readonly string[];
  /** Past orders, oldest first (item ids): the timeline repeat-purchase and recency need. */
  baskets?: readonly (readonly string[])[];
  /** Day of each past order (any origin, non-decreasing; one per basket). */
  days?: readonly number[];
  /** The current cart. */
  basket?: readonly string[];
}

/** How a request treats item ids the model does not know. */
export interface UnknownItemPolicy {
  /** 'error' (default): UnknownIdError. 'skip': leave them out, calling onUnknownItem for each. */
  unknownItems: 'error' | 'skip';
  /** Called once per skipped item id with the field it was in (e.g. "shopper.history[3]"). */
  onUnknownItem: ((id: string, field: string) => void) | null;
}

type ShopperFields = { [K in keyof ShopperInput]-?: NonNullable<ShopperInput[K]> | null };

const SHOPPER_DEFAULTS: Readonly<ShopperFields> = Object.freeze({ user: null, history: null, baskets: null, days: null, basket: null });

const SHOPPER_CHECKS: OptionChecks<ShopperFields> = {
  user: nullable(id()),
  history: nullable(idList()),
  baskets: nullable((value, name) => {
    if (!Array.isArray(value)) throw new OptionError(name, `must be an array of baskets (arrays of item id strings), got ${describe(value)}`);
    const check = idList();
    value.forEach((b, i) => check(b, `${name}[${i}]`));
    return value as readonly (readonly string[])[];
  }),
  days: nullable(arrayOf(number())),
  basket: nullable(idList()),
};

const EMPTY = new Int32Array(0);

/** The query of `shopper` against the fitted `data`. `where` names the argument in errors. */
export function shopperQuery(data: Dataset, shopper: unknown, policy: UnknownItemPolicy, where = 'shopper'): Query {
  if (typeof shopper === 'string') return knownUser(data, shopper, EMPTY, where);
  if (shopper === null || typeof shopper !== 'object' || Array.isArray(shopper)) {
    const expected = 'a user id string or { user?, history?, baskets?, days?, basket? }';
    if (shopper === undefined) throw new OptionError(where, `is required: ${expected}`);
    if (typeof shopper === 'number') throw new OptionError(where, `ids are strings, got number ${describe(shopper)}`);
    throw new OptionError(where, `must be ${expected}, got ${describe(shopper)}`);
  }
  const s = resolveOptions(where, SHOPPER_DEFAULTS, shopper, SHOPPER_CHECKS);
  const ids = new ItemIds(data, policy);
  const basket = s.basket === null ? EMPTY : ids.indices(s.basket, `${where}.basket`);
  if (s.history === null && s.baskets === null) {
    if (s.days !== null) throw new OptionError(`${where}.days`, 'needs baskets: one day per past order');
    if (s.user !== null) return knownUser(data, s.user, basket, `${where}.user`);
    if (s.basket !== null) return anonymousQuery(EMPTY, basket);
    throw new OptionError(where, 'gives no user, history, baskets or basket; { history: [] } is the explicit cold start');
  }
  const timeline = s.baskets === null ? null : basketTimeline(s.baskets, s.days, ids, where);
  const history = s.history !== null ? counts(ids.indices(s.history, `${where}.history`)) : counts(timeline!.items);
  return { user: -1, history, timeline, basket };
}

function knownUser(data: Dataset, user: string, basket: Int32Array, field: string): Query {
  const u = data.users.indexOf(user);
  if (u < 0) throw new UnknownIdError('user', user, field);
  return userQuery(data, u, basket);
}

/** Item ids -> indices under the request's unknown-item policy. */
export class ItemIds {
  constructor(
    private readonly data: Dataset,
    private readonly policy: UnknownItemPolicy,
  ) {}

  /** Indices of `ids` (already checked to be strings), unknown ones thrown or skipped. */
  indices(ids: readonly string[], field: string): Int32Array {
    const out = new Int32Array(ids.length);
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const idx = this.data.items.indexOf(ids[i]);
      if (idx >= 0) out[n++] = idx;
      else this.unknown(ids[i], `${field}[${i}]`);
    }
    return n === ids.length ? out : out.slice(0, n);
  }

  private unknown(item: string, field: string): void {
    if (this.policy.unknownItems === 'error') throw new UnknownIdError('item', item, field);
    this.policy.onUnknownItem?.(item, field);
  }
}

/** A history of item indices (repeats count) as sorted items with purchase counts. */
function counts(items: ArrayLike<number>): SparseVector {
  return anonymousQuery(items).history;
}

/** The request's past orders as a BasketTimeline (days rebased to the first order, NaN when not given). */
function basketTimeline(baskets: readonly (readonly string[])[], days: readonly number[] | null, ids: ItemIds, where: string): BasketTimeline {
  if (days !== null && days.length !== baskets.length) {
    throw new OptionError(`${where}.days`, `has ${days.length} days for ${baskets.length} baskets: give one day per past order`);
  }
  if (days !== null) {
    for (let b = 1; b < days.length; b++) {
      if (days[b] < days[b - 1]) throw new OptionError(`${where}.days[${b}]`, `baskets go oldest first, but day ${days[b]} comes after day ${days[b - 1]}`);
    }
  }
  const itemPtr = new Int32Array(baskets.length + 1);
  const parts: Int32Array[] = [];
  for (let b = 0; b < baskets.length; b++) {
    const part = ids.indices(baskets[b], `${where}.baskets[${b}]`);
    parts.push(part);
    itemPtr[b + 1] = itemPtr[b] + part.length;
  }
  const items = new Int32Array(itemPtr[baskets.length]);
  parts.forEach((part, b) => items.set(part, itemPtr[b]));
  const day = new Float64Array(baskets.length).fill(NaN);
  if (days !== null) for (let b = 0; b < days.length; b++) day[b] = days[b] - days[0];
  return { itemPtr, items, day };
}
