import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetFromInstacart, type InstacartTables } from '../src/data/instacart';
import { DataError, OptionError } from '../src/errors';
import { loadInstacart, readInstacartTables, writeInstacartCsv } from '../src/node/instacart';
import { loadArtifactFile, readLines, saveArtifactFile } from '../src/node/files';
import { caughtAsync } from './fixtures';

const SHARED = resolve(__dirname, '../../shared');
const SAMPLE = join(SHARED, 'data/instacart-sample');
const CATALOG = join(SHARED, 'data/instacart');

/** Two users, a never-bought product (40), a name that needs quoting, and an orphan order 99. */
function smallTables(): InstacartTables {
  return {
    departments: { id: Int32Array.from([1, 2]), name: ['dairy eggs', 'pantry'] },
    aisles: { id: Int32Array.from([10, 20]), name: ['yogurt', 'spices, "dry"'] },
    products: {
      id: Int32Array.from([30, 10, 20, 40]),
      name: ['Ziti, Marinara', 'Greek Yogurt', 'Salt 9"x13"', 'Never, "Bought"'],
      aisleId: Int32Array.from([20, 10, 20, 10]),
      departmentId: Int32Array.from([2, 1, 2, 1]),
    },
    orders: {
      // User 7's orders are listed out of order; user 5 skips order number 3.
      orderId: Int32Array.from([102, 101, 103, 201, 202, 204, 205]),
      userId: Int32Array.from([7, 7, 7, 5, 5, 5, 5]),
      evalSet: Uint8Array.from([0, 0, 1, 0, 0, 0, 2]),
      orderNumber: Int32Array.from([2, 1, 3, 1, 2, 4, 5]),
      orderDow: Uint8Array.from([1, 2, 3, 4, 5, 6, 0]),
      orderHourOfDay: Uint8Array.from([8, 9, 10, 11, 12, 13, 14]),
      daysSincePriorOrder: Float32Array.from([3, NaN, 4.5, NaN, 7, 2, 1]),
    },
    orderProducts: {
      orderId: Int32Array.from([101, 101, 102, 103, 201, 202, 202, 204, 99, 99, 101]),
      productId: Int32Array.from([10, 20, 10, 30, 30, 10, 20, 10, 20, 10, 30]),
      addToCartOrder: Int32Array.from([2, 3, 1, 1, 1, 2, 1, 1, 1, 2, 1]),
      reordered: Uint8Array.from([0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0]),
    },
  };
}

function basketOf(load: ReturnType<typeof datasetFromInstacart>, orderId: string): { items: string[]; user: string; orderNumber: number; day: number } {
  const { dataset } = load;
  const b = dataset.baskets.ids.indexOf(orderId);
  if (b < 0) throw new Error(`no basket ${orderId}`);
  const { itemPtr, items, userPtr, orderNumber, day } = dataset.baskets;
  let u = 0;
  while (userPtr[u + 1] <= b) u++;
  return {
    items: Array.from(items.subarray(itemPtr[b], itemPtr[b + 1]), (i) => dataset.items.id(i)),
    user: dataset.users.id(u),
    orderNumber: orderNumber[b],
    day: day[b],
  };
}

describe('datasetFromInstacart', () => {
  it('builds users, every catalog item, baskets in cart order, and cumulative days', () => {
    const load = datasetFromInstacart(smallTables(), { orphanOrders: 'skip' });
    const { dataset, summary } = load;
    expect(dataset.users.ids).toEqual(['5', '7']);
    expect(dataset.items.ids).toEqual(['10', '20', '30', '40']);
    expect(dataset.catalog.name).toEqual(['Greek Yogurt', 'Salt 9"x13"', 'Ziti, Marinara', 'Never, "Bought"']);
    expect(dataset.catalog.aisle).toEqual(['yogurt', 'spices, "dry"', 'spices, "dry"', 'yogurt']);
    expect(dataset.catalog.department).toEqual(['dairy eggs', 'pantry', 'pantry', 'dairy eggs']);
    expect(dataset.baskets.ids).toEqual(['201', '202', '204', '101', '102', '103']);
    expect(basketOf(load, '101')).toEqual({ items: ['30', '10', '20'], user: '7', orderNumber: 1, day: 0 });
    expect(basketOf(load, '102')).toMatchObject({ items: ['10'], orderNumber: 2, day: 3 });
    expect(basketOf(load, '103')).toMatchObject({ orderNumber: 3, day: 7.5 });
    expect(basketOf(load, '202')).toMatchObject({ items: ['20', '10'], day: 7 });
    // Order number 3 of user 5 is missing, so the gap before order 4 is unknown.
    expect(basketOf(load, '204').day).toBeNaN();
    expect(dataset.interactions.get(dataset.users.indexOf('7'), dataset.items.indexOf('10'))).toBe(2);
    expect(dataset.itemTotals()[dataset.items.indexOf('40')]).toBe(0);
    expect(summary).toMatchObject({
      users: 2,
      items: 4,
      orders: 6,
      lines: 9,
      ordersWithoutLines: 1,
      excludedLines: 0,
      orphanOrders: 1,
      orphanLines: 2,
      skippedOrders: 1,
      skippedLines: 2,
      ownUserOrders: 0,
      unknownProducts: 0,
    });
  });

  it('includes only the asked eval sets', () => {
    const { dataset, summary } = datasetFromInstacart(smallTables(), { include: ['prior'], orphanOrders: 'skip' });
    expect(dataset.baskets.ids).not.toContain('103');
    expect(summary).toMatchObject({ orders: 5, excludedLines: 1, ordersWithoutLines: 2 });
    expect(() => datasetFromInstacart(smallTables(), { include: [] })).toThrow(OptionError);
  });

  it('throws on orphan orders by default, naming orders.csv and the order', () => {
    const error = (() => {
      try {
        datasetFromInstacart(smallTables());
      } catch (e) {
        return e as DataError;
      }
      throw new Error('expected a throw');
    })();
    expect(error).toBeInstanceOf(DataError);
    expect(error.file).toBe('orders.csv');
    expect(error.message).toContain('99');
  });

  it("gives each orphan order its own user 'order:<id>'", () => {
    const load = datasetFromInstacart(smallTables(), { orphanOrders: 'own-user' });
    expect(load.dataset.users.ids).toEqual(['5', '7', 'order:99']);
    expect(basketOf(load, '99')).toEqual({ items: ['20', '10'], user: 'order:99', orderNumber: 1, day: 0 });
    expect(load.summary).toMatchObject({ orders: 7, lines: 11, ownUserOrders: 1, skippedOrders: 0 });
  });

  it('rejects or adds product ids missing from products', () => {
    const tables = smallTables();
    tables.orderProducts.productId[3] = 77;
    expect(() => datasetFromInstacart(tables, { orphanOrders: 'skip' })).toThrow(/product_id 77/);
    const { dataset, summary } = datasetFromInstacart(tables, { orphanOrders: 'skip', unknownProducts: 'add' });
    expect(dataset.items.ids).toEqual(['10', '20', '30', '40', '77']);
    expect(dataset.catalog.name[4]).toBe('');
    expect(summary.unknownProducts).toBe(1);
  });

  it('rejects duplicate order ids, lines on test orders and duplicate order numbers', () => {
    const dup = smallTables();
    dup.orders.orderId[1] = 102;
    expect(() => datasetFromInstacart(dup, { orphanOrders: 'skip' })).toThrow(/duplicate order_id 102/);
    const test = smallTables();
    test.orders.evalSet[0] = 2;
    expect(() => datasetFromInstacart(test, { orphanOrders: 'skip' })).toThrow(/test order/);
    const twice = smallTables();
    twice.orders.orderNumber[0] = 1;
    expect(() => datasetFromInstacart(twice, { orphanOrders: 'skip' })).toThrow(/two orders numbered 1/);
  });
});

describe('Instacart CSV files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hybridrec-instacart-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the six Kaggle files and reads back identical tables', async () => {
    const tables = smallTables();
    const out = join(dir, 'roundtrip');
    await writeInstacartCsv(tables, out);
    const orders = await readFile(join(out, 'orders.csv'), 'utf8');
    expect(orders.split('\n').slice(0, 3)).toEqual([
      'order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order',
      '102,7,prior,2,1,08,3.0',
      '101,7,prior,1,2,09,',
    ]);
    expect(await readFile(join(out, 'products.csv'), 'utf8')).toContain('20,"Salt 9""x13""",20,2');
    const back = await readInstacartTables(out);
    expect(back.skippedRows.count).toBe(0);
    const expected = smallTables();
    // Lines come back grouped by file: prior (with the orphan order) then train.
    const trainLine = 3;
    const order = [...Array(expected.orderProducts.orderId.length).keys()].filter((l) => l !== trainLine).concat(trainLine);
    const pick = <T extends Int32Array | Uint8Array>(column: T): T => column.map((_, k) => column[order[k]]) as T;
    const op = expected.orderProducts;
    expected.orderProducts = { orderId: pick(op.orderId), productId: pick(op.productId), addToCartOrder: pick(op.addToCartOrder), reordered: pick(op.reordered) };
    expect(back.tables).toEqual(expected);
    const a = datasetFromInstacart(expected, { orphanOrders: 'own-user' }).dataset;
    const b = (await loadInstacart(out, { orphanOrders: 'own-user' })).dataset;
    expect(b.baskets).toEqual(a.baskets);
    expect(b.catalog).toEqual(a.catalog);
  });

  it('reads a multi-line product name only when maxFieldLines allows it', async () => {
    const tables = smallTables();
    tables.products.name[3] = 'Never\nBought';
    const out = join(dir, 'multiline');
    await writeInstacartCsv(tables, out);
    // Product 40 is the fourth data row: line 5, where its quote opens.
    const error = await caughtAsync(readInstacartTables(out));
    expect(error).toMatchObject({ file: join(out, 'products.csv'), line: 5, field: 'product_name' });
    expect(error.message).toMatch(/line break inside a quoted field.*maxFieldLines/);
    const back = await readInstacartTables(out, { maxFieldLines: 2 });
    expect(back.tables.products.name[3]).toBe('Never\nBought');
  });

  it('reads gzipped files, and the train file is optional', async () => {
    const out = join(dir, 'gz');
    await writeInstacartCsv(smallTables(), out);
    for (const name of ['orders.csv', 'products.csv']) {
      await writeFile(join(out, `${name}.gz`), gzipSync(await readFile(join(out, name))));
      await rm(join(out, name));
    }
    await rm(join(out, 'order_products__train.csv'));
    const { summary } = await loadInstacart(out, { orphanOrders: 'skip' });
    expect(summary).toMatchObject({ orders: 5, lines: 8, items: 4 });
  });

  it('names the file and the missing column of a bad header, and a missing file', async () => {
    const out = join(dir, 'header');
    await writeInstacartCsv(smallTables(), out);
    await writeFile(join(out, 'orders.csv'), 'order_id,user_id,order_number\n1,2,3\n');
    const error = await caughtAsync(readInstacartTables(out));
    expect(error.file).toBe(join(out, 'orders.csv'));
    expect(error.field).toBe('eval_set');
    await rm(join(out, 'orders.csv'));
    expect((await caughtAsync(readInstacartTables(out))).message).toMatch(/neither orders.csv nor orders.csv.gz/);
  });

  it('names file, line and field of a malformed row, or skips and counts it', async () => {
    const out = join(dir, 'bad');
    await writeInstacartCsv(smallTables(), out);
    const path = join(out, 'orders.csv');
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[2] = lines[2].replace('101,7', '101,x7'); // line 3: user_id
    lines[3] = lines[3].replace('train', 'later'); // line 4: eval_set
    lines[5] = '202,5,prior'; // line 6: field count
    await writeFile(path, lines.join('\n'));
    const error = await caughtAsync(readInstacartTables(out));
    expect(error).toMatchObject({ file: path, line: 3, field: 'user_id' });
    expect(error.message).toContain('not an integer: "x7"');
    const skipped = await readInstacartTables(out, { onBadRow: 'skip' });
    expect(skipped.skippedRows.count).toBe(3);
    expect(skipped.skippedRows.errors[1]).toMatch(/eval_set must be one of prior, train, test.*line 4/);
    expect(skipped.skippedRows.errors[2]).toMatch(/expected 7 fields, found 3.*line 6/);
    expect(skipped.tables.orders.orderId.length).toBe(4);
    const load = await loadInstacart(out, { onBadRow: 'skip', orphanOrders: 'skip' });
    expect(load.summary.skippedRows.count).toBe(3);
  });

  it('reports progress and stops on abort', async () => {
    const out = join(dir, 'progress');
    await writeInstacartCsv(smallTables(), out);
    const stages = new Set<string>();
    await readInstacartTables(out, { onProgress: (p) => stages.add(p.stage.replace(out, '')) });
    expect([...stages].sort()).toEqual(
      ['/aisles.csv', '/departments.csv', '/order_products__prior.csv', '/order_products__train.csv', '/orders.csv', '/products.csv'].map((f) => `read ${f}`),
    );
    const controller = new AbortController();
    controller.abort();
    await expect(readInstacartTables(out, { signal: controller.signal })).rejects.toThrow(/aborted/);
  });

  it('reads lines of plain and gzipped files, and saves artifacts atomically', async () => {
    const path = join(dir, 'lines.txt.gz');
    await writeFile(path, gzipSync('\ufeffa\r\nb\n\nc'));
    const lines: string[] = [];
    for await (const line of readLines(path)) lines.push(line);
    expect(lines).toEqual(['a', 'b', '', 'c']);
    const bytes = Uint8Array.from([1, 2, 3, 250]);
    await saveArtifactFile(join(dir, 'sub/model.hrec'), bytes);
    expect(await loadArtifactFile(join(dir, 'sub/model.hrec'))).toEqual(bytes);
  });
});

describe.skipIf(!existsSync(SAMPLE) || !existsSync(CATALOG))(`real Instacart sample (needs ${SAMPLE} and ${CATALOG})`, () => {
  let tables: InstacartTables;
  beforeAll(async () => {
    const read = await readInstacartTables(SAMPLE, { catalogDir: CATALOG });
    expect(read.skippedRows.count).toBe(0);
    tables = read.tables;
  });

  it('reads the counts of shared/data/README.md', () => {
    expect(tables.orderProducts.orderId.length).toBe(32_290);
    expect(new Set(tables.orderProducts.orderId).size).toBe(3_214);
    expect(tables.orders.orderId.length).toBe(3_220);
    expect(tables.orders.evalSet.filter((e) => e === 0).length).toBe(3_013);
    // The README says 3,160 users; Python's csv module also counts 3,159.
    expect(new Set(tables.orders.userId).size).toBe(3_159);
    expect(tables.products.id.length).toBe(49_688);
    expect(tables.aisles.id.length).toBe(134);
    expect(tables.departments.id.length).toBe(21);
    expect(tables.departments.name[20]).toBe('missing');
  });

  it('keeps quoted product names intact', () => {
    const name = (id: number): string => tables.products.name[tables.products.id.indexOf(id)];
    expect(name(30)).toBe('Three Cheese Ziti, Marinara with Meatballs');
    expect(name(48)).toBe('School Glue, Washable, No Run');
    expect(name(105)).toBe('Easy Grab 9\\"x13\\" Oblong Glass Bakeware');
    // 3,330 names are quoted in the file (the README's figure): 3,220 hold a comma, the rest a quote.
    expect(tables.products.name.filter((n) => n.includes(',')).length).toBe(3_220);
    expect(tables.products.name.filter((n) => n.includes(',') || n.includes('"')).length).toBe(3_330);
  });

  it('applies the orphan-order policies to the 201 orders missing from orders.csv', () => {
    expect(() => datasetFromInstacart(tables)).toThrow(/201 orders \(2169 lines\)/);
    const skipped = datasetFromInstacart(tables, { orphanOrders: 'skip' });
    expect(skipped.summary).toMatchObject({ orders: 3_013, skippedOrders: 201, skippedLines: 2_169, lines: 30_121, items: 49_688 });
    const own = datasetFromInstacart(tables, { orphanOrders: 'own-user' });
    expect(own.summary).toMatchObject({ orders: 3_214, lines: 32_290, ownUserOrders: 201 });
    expect(own.dataset.nBaskets).toBe(3_214);
    const i = own.dataset.items.indexOf('30');
    expect([own.dataset.catalog.name[i], own.dataset.catalog.aisle[i], own.dataset.catalog.department[i]]).toEqual([
      'Three Cheese Ziti, Marinara with Meatballs',
      'frozen meals',
      'frozen',
    ]);
  });

  it('loads through loadInstacart with the same result', async () => {
    const { dataset, summary } = await loadInstacart(SAMPLE, { catalogDir: CATALOG, orphanOrders: 'own-user' });
    expect(summary.orders).toBe(3_214);
    expect(dataset.baskets).toEqual(datasetFromInstacart(tables, { orphanOrders: 'own-user' }).dataset.baskets);
  });
});
