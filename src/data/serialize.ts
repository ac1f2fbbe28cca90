import type { SectionReader, SectionWriter } from '../artifact/sections';
import { ArtifactError } from '../errors';
import { CsrMatrix } from './csr';
import { Dataset, type Catalog } from './dataset';
import { IdIndex } from './ids';

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

export function readDataset(sections: SectionReader): Dataset {
  const users = new IdIndex(sections.strings('users'), 'user');
  const items = new IdIndex(sections.strings('items'), 'item');
  const interactions = new CsrMatrix(
    users.size,
    items.size,
    sections.i32('interactions/indptr'),
    sections.i32('interactions/indices'),
    sections.f32('interactions/values'),
  );
  const catalog: Catalog = {
    name: sections.strings('catalog/name'),
    aisle: sections.strings('catalog/aisle'),
    department: sections.strings('catalog/department'),
    meta: sections.strings('catalog/meta').map((s, i) => {
      if (s === '') return undefined;
      try {
        return JSON.parse(s) as Record<string, string>;
      } catch {
        throw new ArtifactError(`catalog metadata of item ${i} is not valid JSON`, 'data/catalog/meta');
      }
    }),
  };
  try {
    return new Dataset(
      users,
      items,
      interactions,
      {
        userPtr: sections.i32('baskets/userPtr'),
        itemPtr: sections.i32('baskets/itemPtr'),
        items: sections.i32('baskets/items'),
        ids: sections.strings('baskets/ids'),
        orderNumber: sections.i32('baskets/orderNumber'),
        day: sections.f64('baskets/day'),
      },
      catalog,
    );
  } catch (e) {
    if (e instanceof ArtifactError) throw e;
    throw new ArtifactError(`inconsistent training data: ${(e as Error).message}`, 'data');
  }
}
