import type { SectionReader, SectionWriter } from '../../artifact/sections';
import type { Dataset } from '../../data/dataset';
import { checkLength, checkValues, scopeName, StateReader, type LoadContext, type ValueRange } from '../../artifact/validate';
import type { JsonObject } from '../../util/json';

/**
 * Per-item aggregates of the training data that the reranker's features read: item-side
 * only (no user ids, no histories), so a serving artifact can carry them.
 */
export class ItemStatistics {
  constructor(
    /** Share of the training shoppers who bought the item at least once. */
    readonly popularity: Float32Array,
    /** Share of the item's buyers who bought it at least twice (purchase count >= 2); NaN when nobody bought it. */
    readonly repeatRate: Float32Array,
    /** Mean number of baskets between two consecutive purchases of the item, over every shopper's timeline; NaN when nobody bought it in two baskets. */
    readonly meanInterval: Float32Array,
    /** Share of the times the item was in a shopper's basket that it was in that shopper's next basket too (baskets followed by one only); NaN when it never was in a basket with a next one. */
    readonly rebuyNext: Float32Array,
    /** Aisle and department of each item as codes 0..n-1 (-1 when the catalog has none). */
    readonly aisle: Int32Array,
    readonly department: Int32Array,
    readonly nAisles: number,
    readonly nDepartments: number,
  ) {}

  get nItems(): number {
    return this.popularity.length;
  }

  static fromDataset(data: Dataset): ItemStatistics {
    data.assertNotEmpty('ItemStatistics');
    const nItems = data.nItems;
    const buyers = new Float64Array(nItems);
    const repeaters = new Float64Array(nItems);
    const { indices, values } = data.interactions;
    for (let p = 0; p < indices.length; p++) {
      if (values[p] > 0) buyers[indices[p]]++;
      if (values[p] >= 2) repeaters[indices[p]]++;
    }
    const popularity = new Float32Array(nItems);
    const repeatRate = new Float32Array(nItems);
    for (let i = 0; i < nItems; i++) {
      popularity[i] = buyers[i] / data.nUsers;
      repeatRate[i] = buyers[i] > 0 ? repeaters[i] / buyers[i] : NaN;
    }
    const aisles = codes(data.catalog.aisle);
    const departments = codes(data.catalog.department);
    return new ItemStatistics(popularity, repeatRate, meanIntervals(data), rebuyNextRates(data), aisles.codes, departments.codes, aisles.n, departments.n);
  }

  /** Writes the arrays as sections; returns the JSON state load() needs. */
  save(out: SectionWriter): JsonObject {
    out.array('popularity', this.popularity);
    out.array('repeatRate', this.repeatRate);
    out.array('meanInterval', this.meanInterval);
    out.array('rebuyNext', this.rebuyNext);
    out.array('aisle', this.aisle);
    out.array('department', this.department);
    return { nItems: this.nItems, nAisles: this.nAisles, nDepartments: this.nDepartments };
  }

  /**
   * Rebuilds saved statistics: per item a popularity in [0, 1], a repeat rate in [0, 1] or NaN,
   * a mean interval >= 1 or NaN, a next-basket re-buy rate in [0, 1] or NaN, aisle and department codes in [-1, n); `context` pins the item
   * count. A malformed one is an ArtifactError naming `section` (default: the reader's scope).
   */
  static load(state: JsonObject, sections: SectionReader, section = scopeName(sections), context?: LoadContext): ItemStatistics {
    const s = StateReader.of(state, section).keys(['nItems', 'nAisles', 'nDepartments']);
    const nItems = s.count('nItems', context?.nItems);
    const nAisles = s.count('nAisles');
    const nDepartments = s.count('nDepartments');
    const at = (name: string) => `${section}/${name}`;
    const f32 = (name: string, range: ValueRange) => {
      const a = sections.f32(name);
      checkLength(a, nItems, at(name), 'one per item');
      checkValues(a, at(name), range);
      return a;
    };
    const codes = (name: string, n: number) => {
      const a = sections.i32(name);
      checkLength(a, nItems, at(name), 'one per item');
      checkValues(a, at(name), { min: -1, max: n - 1 });
      return a;
    };
    return new ItemStatistics(
      f32('popularity', { min: 0, max: 1 }),
      f32('repeatRate', { min: 0, max: 1, allowNaN: true }),
      f32('meanInterval', { min: 1, allowNaN: true }),
      f32('rebuyNext', { min: 0, max: 1, allowNaN: true }),
      codes('aisle', nAisles),
      codes('department', nDepartments),
      nAisles,
      nDepartments,
    );
  }
}

/** Codes 0..n-1 for the distinct non-empty strings in first-seen order, -1 for ''. */
function codes(values: readonly string[]): { codes: Int32Array; n: number } {
  const index = new Map<string, number>();
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === '') {
      out[i] = -1;
      continue;
    }
    let c = index.get(v);
    if (c === undefined) index.set(v, (c = index.size));
    out[i] = c;
  }
  return { codes: out, n: index.size };
}

/** Per item: (sum over shoppers of last - first purchase basket) / (sum of purchase baskets - 1). */
function meanIntervals(data: Dataset): Float32Array {
  const nItems = data.nItems;
  const { userPtr, itemPtr, items } = data.baskets;
  const first = new Int32Array(nItems).fill(-1);
  const last = new Int32Array(nItems).fill(-1);
  const baskets = new Int32Array(nItems);
  const span = new Float64Array(nItems);
  const intervals = new Float64Array(nItems);
  const touched = new Int32Array(nItems);
  for (let u = 0; u < data.nUsers; u++) {
    let nTouched = 0;
    for (let b = userPtr[u]; b < userPtr[u + 1]; b++) {
      for (let p = itemPtr[b]; p < itemPtr[b + 1]; p++) {
        const it = items[p];
        if (last[it] === b) continue;
        if (first[it] < 0) {
          first[it] = b;
          touched[nTouched++] = it;
        }
        last[it] = b;
        baskets[it]++;
      }
    }
    for (let t = 0; t < nTouched; t++) {
      const it = touched[t];
      span[it] += last[it] - first[it];
      intervals[it] += baskets[it] - 1;
      first[it] = -1;
      last[it] = -1;
      baskets[it] = 0;
    }
  }
  return Float32Array.from(span, (s, i) => (intervals[i] > 0 ? s / intervals[i] : NaN));
}

/** Per item: (baskets holding it whose shopper's next basket holds it too) / (baskets holding it that have a next basket). */
function rebuyNextRates(data: Dataset): Float32Array {
  const nItems = data.nItems;
  const { userPtr, itemPtr, items } = data.baskets;
  // Stamps are global basket indices, unique across shoppers: nothing to clear between baskets.
  const inNext = new Int32Array(nItems).fill(-1); // the basket b + 1 that holds the item
  const counted = new Int32Array(nItems).fill(-1); // the basket b whose lines already counted it
  const held = new Float64Array(nItems);
  const kept = new Float64Array(nItems);
  for (let u = 0; u < data.nUsers; u++) {
    for (let b = userPtr[u]; b + 1 < userPtr[u + 1]; b++) {
      for (let p = itemPtr[b + 1]; p < itemPtr[b + 2]; p++) inNext[items[p]] = b + 1;
      for (let p = itemPtr[b]; p < itemPtr[b + 1]; p++) {
        const it = items[p];
        if (counted[it] === b) continue;
        counted[it] = b;
        held[it]++;
        if (inNext[it] === b + 1) kept[it]++;
      }
    }
  }
  return Float32Array.from(held, (h, i) => (h > 0 ? kept[i] / h : NaN));
}
