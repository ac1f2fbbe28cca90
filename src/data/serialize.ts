import type { SectionReader, SectionWriter } from '../artifact/sections';
import { checkLength, checkPointers, checkValues, readCsr, readIndices, readStrings } from '../artifact/validate';
import { ArtifactError, DataError } from '../errors';
import { CsrMatrix } from './csr';
import { Dataset, type Catalog } from './dataset';
import { IdIndex } from './ids';

/**
 * The item side of `data` only: its items and catalog, no user ids, no purchase matrix rows, no
 * baskets. What a serving artifact (save({ customerData: false })) stores of the training data.
 */
export function withoutCustomers(data: Dataset): Dataset {
  const none = new Int32Array(0);
  return new Dataset(
    new IdIndex([], 'user'),
    data.items,
    new CsrMatrix(0, data.nItems, Int32Array.of(0), none, new Float32Array(0)),
    { userPtr: Int32Array.of(0), itemPtr: Int32Array.of(0), items: none, ids: [], orderNumber: none, day: new Float64Array(0) },
    data.catalog,
  );
}

/**
 * Writes what a fitted recommender needs of its training data: ids, the purchase matrix,
 * the basket timelines (repeat purchase and recency need them to score known users) and the
 * catalog (names for explanations, fields for business-rule filters).
 */
export function writeDataset(data: Dataset, out: SectionWriter): void {
  out.strings('users', data.users.ids);
  out.strings('items', data.items.ids);
  out.array('interactions/indptr', data.interactions.indptr);
  out.array('interactions/indices', data.interactions.indices);
  out.array('interactions/values', data.interactions.values);
  const b = data.baskets;
  out.array('baskets/userPtr', b.userPtr);
  out.array('baskets/itemPtr', b.itemPtr);
  out.array('baskets/items', b.items);
  out.strings('baskets/ids', b.ids);
  out.array('baskets/orderNumber', b.orderNumber);
  out.array('baskets/day', b.day);
  out.strings('catalog/name', data.catalog.name);
  out.strings('catalog/aisle', data.catalog.aisle);
  out.strings('catalog/department', data.catalog.department);
  out.strings(
    'catalog/meta',
    data.catalog.meta.map((m) => (m === undefined ? '' : JSON.stringify(m))),
  );
}

/**
 * Reads writeDataset's sections back, checking their meaning (a hand-edited file can carry
 * correct checksums): unique ids, the matrix's pointers, sorted in-range columns and finite
 * values, basket pointers and items, one id / order number / day per basket with order numbers
 * never decreasing within a user, days finite or NaN, one catalog entry per item. Every
 * failure is an ArtifactError naming the section and field.
 */
export function readDataset(sections: SectionReader): Dataset {
  const users = idIndex(sections, 'users', 'user');
  const items = idIndex(sections, 'items', 'item');
  const csr = readCsr(sections, 'interactions/', { nRows: users.size, nCols: items.size });
  const interactions = new CsrMatrix(users.size, items.size, csr.indptr, csr.indices, csr.values);

  const basketItems = readIndices(sections, 'baskets/items', items.size);
  const userPtr = sections.i32('baskets/userPtr');
  checkLength(userPtr, users.size + 1, sections.fullName('baskets/userPtr'), 'one per user + 1');
  const itemPtr = sections.i32('baskets/itemPtr');
  const ids = sections.strings('baskets/ids');
  const orderNumber = sections.i32('baskets/orderNumber');
  const day = sections.f64('baskets/day');
  // Five sections each give the basket count; the one that disagrees with the others is named.
  const nBaskets = agreedCount(sections, [
    ['baskets/userPtr', userPtr[users.size], `[${users.size}]`],
    ['baskets/itemPtr', itemPtr.length - 1, 'length'],
    ['baskets/ids', ids.length, 'length'],
    ['baskets/orderNumber', orderNumber.length, 'length'],
    ['baskets/day', day.length, 'length'],
  ]);
  checkPointers(userPtr, users.size, nBaskets, sections.fullName('baskets/userPtr'));
  checkPointers(itemPtr, nBaskets, basketItems.length, sections.fullName('baskets/itemPtr'));
  checkValues(day, sections.fullName('baskets/day'), { allowNaN: true });
  for (let u = 0; u < users.size; u++) {
    for (let b = userPtr[u] + 1; b < userPtr[u + 1]; b++) {
      if (orderNumber[b] < orderNumber[b - 1]) {
        throw new ArtifactError(`user ${JSON.stringify(users.id(u))}'s baskets are out of order (order ${orderNumber[b - 1]} before ${orderNumber[b]})`, sections.fullName('baskets/orderNumber'), `[${b}]`);
      }
    }
  }

  const metaName = sections.fullName('catalog/meta');
  const catalog: Catalog = {
    name: readStrings(sections, 'catalog/name', items.size),
    aisle: readStrings(sections, 'catalog/aisle', items.size),
    department: readStrings(sections, 'catalog/department', items.size),
    meta: readStrings(sections, 'catalog/meta', items.size).map((s, i) => (s === '' ? undefined : parseMeta(s, metaName, i))),
  };
  try {
    return new Dataset(users, items, interactions, { userPtr, itemPtr, items: basketItems, ids, orderNumber, day }, catalog);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    throw new ArtifactError(`inconsistent training data: ${e.message}`, sections.fullName(''));
  }
}

/** The count most sections agree on; a section that says otherwise is an ArtifactError naming it. */
function agreedCount(sections: SectionReader, claims: Array<[name: string, count: number, field: string]>): number {
  const votes = new Map<number, number>();
  for (const [, n] of claims) votes.set(n, (votes.get(n) ?? 0) + 1);
  const count = [...votes].sort((a, b) => b[1] - a[1])[0][0];
  for (const [name, n, field] of claims) {
    if (n !== count) throw new ArtifactError(`gives ${n} baskets, the other basket sections ${count}`, sections.fullName(name), field);
  }
  return count;
}

/** An id list: unique, well-formed strings (IdIndex's DataError becomes an ArtifactError naming the section). */
function idIndex(sections: SectionReader, name: string, what: string): IdIndex {
  const ids = sections.strings(name);
  try {
    return new IdIndex(ids, what);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    throw new ArtifactError(e.message, sections.fullName(name));
  }
}

/** One item's metadata: a JSON object of strings. */
function parseMeta(text: string, section: string, item: number): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ArtifactError(`catalog metadata of item ${item} is not valid JSON`, section, `[${item}]`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new ArtifactError(`catalog metadata of item ${item} must be an object of strings`, section, `[${item}]`);
  }
  return value as Record<string, string>;
}
