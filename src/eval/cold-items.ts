/**
 * The cold-item protocol (docs/evaluation.md, "Cold items"): can a model rank items nobody
 * bought in training, from what else it knows of them (their catalog text)?
 *
 * A seeded share of the items that have purchases is held out with every purchase of them:
 * they stay in the catalog (with their text) but leave the training data entirely, as an item
 * added to the shop after the fit would. Each user who bought a held-out item and still has a
 * training purchase is a query: their training history in, their held-out items as the target.
 */
import { CsrMatrix } from '../data/csr';
import { Dataset, type Baskets } from '../data/dataset';
import { DataError, OptionError } from '../errors';
import { describe, integer, number, oneOf, resolveOptions, type OptionChecks } from '../util/options';
import { mulberry32, shuffleInPlace } from '../util/random';
import type { EvalQuery, Split } from './splits';

export interface ColdItemsOptions {
  /** Share of the items with purchases held out, in (0, 1); the count is rounded, at least 1. Default 0.1. */
  share: number;
  /** Seed of the held-out draw (mulberry32 shuffle of the items with purchases in index order). Default 42. */
  seed: number;
  /**
   * What a ranker may recommend: 'cold', only the held-out items (the cold-start literature's
   * setting: how well are new items ordered among themselves); 'all', every item but the
   * user's training items (do new items reach a list where the warm ones compete). Default 'cold'.
   */
  candidates: 'cold' | 'all';
  /** Held-out items given by id instead of drawn (share and seed are then unused). Default null. */
  items: readonly string[] | null;
}

const DEFAULTS: Readonly<ColdItemsOptions> = Object.freeze({ share: 0.1, seed: 42, candidates: 'cold', items: null });

const CHECKS: OptionChecks<ColdItemsOptions> = {
  share: (value, name) => {
    const v = number({ min: 0, exclusiveMin: true })(value, name);
    if (v >= 1) throw new OptionError(name, `must be below 1, got ${v}`);
    return v;
  },
  seed: integer(),
  candidates: oneOf<'cold' | 'all'>(['cold', 'all']),
  items: (value, name) => {
    if (value === null) return null;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new OptionError(name, `must be null or an array of item ids, got ${describe(value)}`);
    return Object.freeze([...value]) as readonly string[];
  },
};

/** The split of the cold-item protocol (protocol 'cold-items'). */
export function coldItems(data: Dataset, options: Partial<ColdItemsOptions> = {}): Split {
  if (!(data instanceof Dataset)) throw new OptionError('coldItems: data', `must be a Dataset, got ${describe(data)}`);
  const o = resolveOptions('coldItems', DEFAULTS, options, CHECKS);
  const m = data.interactions;
  const sold = new Uint8Array(data.nItems);
  for (let p = 0; p < m.indices.length; p++) if (m.values[p] > 0) sold[m.indices[p]] = 1;

  const held = new Uint8Array(data.nItems);
  if (o.items !== null) {
    for (const id of o.items) {
      const i = data.items.indexOf(id);
      if (i < 0) throw new OptionError('coldItems: items', `no item "${id}" in the dataset`);
      if (!sold[i]) throw new OptionError('coldItems: items', `item "${id}" has no purchases to hold out`);
      held[i] = 1;
    }
  } else {
    const eligible = Int32Array.from(Array.from({ length: data.nItems }, (_, i) => i).filter((i) => sold[i] === 1));
    if (eligible.length < 2) throw new DataError(`coldItems needs at least 2 items with purchases, the dataset has ${eligible.length}`);
    const count = Math.min(eligible.length - 1, Math.max(1, Math.round(o.share * eligible.length)));
    shuffleInPlace(eligible, mulberry32(o.seed));
    for (let k = 0; k < count; k++) held[eligible[k]] = 1;
  }

  const train = withoutItems(data, held);
  const t = train.interactions;
  const queries: EvalQuery[] = [];
  let heldOut = 0;
  for (let u = 0; u < data.nUsers; u++) {
    const target: number[] = [];
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) if (m.values[p] > 0 && held[m.indices[p]]) target.push(m.indices[p]);
    if (target.length === 0) continue;
    let hasHistory = false;
    for (let p = t.indptr[u]; p < t.indptr[u + 1] && !hasHistory; p++) if (t.values[p] > 0) hasHistory = true;
    if (!hasHistory) continue;
    heldOut += target.length;
    queries.push({ user: u, basket: new Int32Array(0), useHistory: true, excludeHistory: true, excludeBasket: false, target: Int32Array.from(target), id: data.users.id(u) });
  }
  const candidates = o.candidates === 'cold' ? held.slice() : null;
  let catalog = data.nItems;
  if (candidates !== null) catalog = candidates.reduce((a, b) => a + b, 0);
  return {
    protocol: 'cold-items',
    train,
    queries,
    candidates,
    testBasketIds: [],
    stats: {
      users: train.nUsers,
      catalog,
      trainNonzeros: t.nnz,
      trainBasketNonzeros: basketNonzeros(train),
      trainBaskets: train.nBaskets,
      testBaskets: 0,
      queries: queries.length,
      heldOut,
    },
  };
}

/** The same users, items and catalog without any purchase of the `drop` items; baskets left empty are removed. */
function withoutItems(data: Dataset, drop: Uint8Array): Dataset {
  const m = data.interactions;
  const indptr = new Int32Array(data.nUsers + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let u = 0; u < data.nUsers; u++) {
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) {
      if (drop[m.indices[p]]) continue;
      indices.push(m.indices[p]);
      values.push(m.values[p]);
    }
    indptr[u + 1] = indices.length;
  }
  const interactions = new CsrMatrix(data.nUsers, data.nItems, indptr, Int32Array.from(indices), Float32Array.from(values));

  const b = data.baskets;
  const userPtr = new Int32Array(data.nUsers + 1);
  const itemPtr: number[] = [0];
  const items: number[] = [];
  const ids: string[] = [];
  const orderNumber: number[] = [];
  const day: number[] = [];
  for (let u = 0; u < data.nUsers; u++) {
    for (let k = b.userPtr[u]; k < b.userPtr[u + 1]; k++) {
      const before = items.length;
      for (let p = b.itemPtr[k]; p < b.itemPtr[k + 1]; p++) if (!drop[b.items[p]]) items.push(b.items[p]);
      if (items.length === before) continue;
      itemPtr.push(items.length);
      ids.push(b.ids[k]);
      orderNumber.push(b.orderNumber[k]);
      day.push(b.day[k]);
    }
    userPtr[u + 1] = ids.length;
  }
  const baskets: Baskets = {
    userPtr,
    itemPtr: Int32Array.from(itemPtr),
    items: Int32Array.from(items),
    ids,
    orderNumber: Int32Array.from(orderNumber),
    day: Float64Array.from(day),
  };
  return new Dataset(data.users, data.items, interactions, baskets, data.catalog);
}

function basketNonzeros(data: Dataset): number {
  const { itemPtr, items } = data.baskets;
  const seen = new Int32Array(data.nItems).fill(-1);
  let nnz = 0;
  for (let k = 0; k < data.nBaskets; k++) {
    for (let p = itemPtr[k]; p < itemPtr[k + 1]; p++) {
      if (seen[items[p]] !== k) {
        seen[items[p]] = k;
        nnz++;
      }
    }
  }
  return nnz;
}
