import { describe, expect, it } from 'vitest';
import { datasetFromInstacart, type InstacartTables } from '../src/data/instacart';
import { AISLE_COUNT, generateGrocery, generateGroceryWithTruth, resolveSyntheticOptions, userListOf, type SyntheticGrocery } from '../src/data/synthetic';
import { OptionError } from '../src/errors';

type Column = Int32Array | Uint8Array | Float32Array;

function columns(t: InstacartTables): Record<string, Column> {
  return {
    'departments.id': t.departments.id,
    'aisles.id': t.aisles.id,
    'products.id': t.products.id,
    'products.aisleId': t.products.aisleId,
    'products.departmentId': t.products.departmentId,
    ...Object.fromEntries(Object.entries(t.orders).map(([k, v]) => [`orders.${k}`, v])),
    ...Object.fromEntries(Object.entries(t.orderProducts).map(([k, v]) => [`orderProducts.${k}`, v])),
  };
}

const bytes = (a: Column): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Per order row: its lines' index range, with lines grouped by order (checked, not assumed). */
function linesByOrder(t: InstacartTables): { orderOf: Int32Array; lineCount: Int32Array } {
  const index = new Map<number, number>();
  t.orders.orderId.forEach((id, o) => index.set(id, o));
  const orderOf = new Int32Array(t.orderProducts.orderId.length);
  const lineCount = new Int32Array(t.orders.orderId.length);
  t.orderProducts.orderId.forEach((id, l) => {
    const o = index.get(id);
    if (o === undefined) throw new Error(`line ${l} names order ${id}, which is not in orders`);
    orderOf[l] = o;
    lineCount[o]++;
  });
  return { orderOf, lineCount };
}

const small: SyntheticGrocery = generateGroceryWithTruth({ users: 1000, products: 2000, seed: 42 });
const { tables, truth } = small;
const { orderOf, lineCount } = linesByOrder(tables);
const nLines = tables.orderProducts.orderId.length;
const nOrders = tables.orders.orderId.length;

describe('generateGrocery determinism', () => {
  it('gives byte-identical tables for the same options and different ones for another seed', () => {
    const again = generateGrocery({ users: 1000, products: 2000, seed: 42 });
    const other = generateGrocery({ users: 1000, products: 2000, seed: 7 });
    const a = columns(tables);
    const b = columns(again);
    const c = columns(other);
    for (const name of Object.keys(a)) expect(bytes(a[name]).equals(bytes(b[name])), name).toBe(true);
    expect(again.products.name).toEqual(tables.products.name);
    expect(again.aisles.name).toEqual(tables.aisles.name);
    expect(bytes(c['orderProducts.productId']).equals(bytes(a['orderProducts.productId']))).toBe(false);
    expect(other.products.name).not.toEqual(tables.products.name);
  });

  it('uses the documented defaults', () => {
    const o = resolveSyntheticOptions();
    expect(o).toMatchObject({ users: 1000, products: 2000, seed: 42, meanBasketSize: 10, lastOrderEvalSet: 'train', minOrdersPerUser: 4, maxOrdersPerUser: 100 });
    expect(o.aisles).toBe(27);
    expect(resolveSyntheticOptions({ products: 50_000 }).aisles).toBe(AISLE_COUNT);
  });
});

describe('generateGrocery tables', () => {
  it('has the requested catalog with valid references and unique names', () => {
    const { products, aisles, departments } = tables;
    expect(products.id.length).toBe(2000);
    expect([...products.id]).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    const aisleIds = new Set(aisles.id);
    const departmentIds = new Set(departments.id);
    expect(Array.from(products.aisleId).every((a) => aisleIds.has(a))).toBe(true);
    expect(Array.from(products.departmentId).every((d) => departmentIds.has(d))).toBe(true);
    expect(new Set(products.name).size).toBe(products.name.length);
    expect(aisles.name).toContain('fresh fruits');
    expect(aisles.name).toContain('pasta sauce');
    expect(departments.name).toContain('dairy eggs');
    // Every aisle has products, and an aisle lies in one department.
    const departmentOfAisle = new Map<number, number>();
    let mixed = 0;
    for (let p = 0; p < products.id.length; p++) {
      const d = departmentOfAisle.get(products.aisleId[p]);
      if (d !== undefined && d !== products.departmentId[p]) mixed++;
      departmentOfAisle.set(products.aisleId[p], products.departmentId[p]);
    }
    expect(mixed).toBe(0);
    expect(departmentOfAisle.size).toBe(aisles.id.length);
  });

  it('keeps every line, order and user consistent', () => {
    const { orders, orderProducts: op } = tables;
    expect(new Set(orders.orderId).size).toBe(nOrders);
    const problems: string[] = [];
    // add_to_cart_order runs 1..n within each order, with no product twice.
    const seen = new Map<number, Set<number>>();
    for (let l = 0; l < nLines; l++) {
      if (!(op.productId[l] >= 1 && op.productId[l] <= 2000)) problems.push(`line ${l}: product ${op.productId[l]}`);
      let s = seen.get(op.orderId[l]);
      if (!s) seen.set(op.orderId[l], (s = new Set()));
      if (s.has(op.productId[l])) problems.push(`line ${l}: product ${op.productId[l]} twice in order ${op.orderId[l]}`);
      s.add(op.productId[l]);
      if (op.addToCartOrder[l] !== s.size) problems.push(`line ${l}: add_to_cart_order ${op.addToCartOrder[l]}, expected ${s.size}`);
    }
    // Orders by user then order number 1..n (as Kaggle's orders.csv), days NaN only on first orders.
    let perUser = 0;
    const orderCounts: number[] = [];
    for (let o = 0; o < nOrders; o++) {
      const first = o === 0 || orders.userId[o] !== orders.userId[o - 1];
      if (first) {
        if (o > 0) orderCounts.push(perUser);
        if (orders.userId[o] !== (o === 0 ? 1 : orders.userId[o - 1] + 1)) problems.push(`order row ${o}: user ${orders.userId[o]} out of sequence`);
        perUser = 0;
      }
      perUser++;
      if (orders.orderNumber[o] !== perUser) problems.push(`order row ${o}: order_number ${orders.orderNumber[o]}, expected ${perUser}`);
      const days = orders.daysSincePriorOrder[o];
      if (first ? !Number.isNaN(days) : !(Number.isInteger(days) && days >= 0 && days <= 30)) problems.push(`order row ${o}: days ${days}`);
      if (orders.orderDow[o] >= 7 || orders.orderHourOfDay[o] >= 24) problems.push(`order row ${o}: dow/hour`);
      if (lineCount[o] === 0) problems.push(`order row ${o}: no lines`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    orderCounts.push(perUser);
    expect(orderCounts.length).toBe(1000);
    // Instacart: 4..100 orders, the fewest the most common, median ~10, mean ~16.
    const histogram = new Map<number, number>();
    for (const c of orderCounts) histogram.set(c, (histogram.get(c) ?? 0) + 1);
    expect(Math.min(...orderCounts)).toBe(4);
    expect(Math.max(...orderCounts)).toBeLessThanOrEqual(100);
    expect(histogram.get(4)!).toBeGreaterThan(histogram.get(8)!);
    const mean = nOrders / 1000;
    const median = [...orderCounts].sort((a, b) => a - b)[500];
    expect(mean).toBeGreaterThan(13);
    expect(mean).toBeLessThan(17);
    expect(median).toBeLessThan(mean - 2);
    // Basket sizes vary around the mean of 10.
    expect(nLines / nOrders).toBeGreaterThan(9);
    expect(nLines / nOrders).toBeLessThan(11);
    expect(Math.max(...lineCount)).toBeGreaterThan(25);
    expect(Math.min(...lineCount)).toBe(1);
  });

  it('advances the day of week with the gaps and keeps hours in the daytime mostly', () => {
    const { orders } = tables;
    let daytime = 0;
    let wrongDow = 0;
    for (let o = 0; o < nOrders; o++) {
      if (orders.orderNumber[o] > 1 && orders.orderDow[o] !== (orders.orderDow[o - 1] + orders.daysSincePriorOrder[o]) % 7) wrongDow++;
      if (orders.orderHourOfDay[o] >= 7 && orders.orderHourOfDay[o] <= 21) daytime++;
    }
    expect(wrongDow).toBe(0);
    expect(daytime / nOrders).toBeGreaterThan(0.9);
    const gaps = Array.from(orders.daysSincePriorOrder).filter((d) => !Number.isNaN(d));
    expect(new Set(gaps).size).toBeGreaterThan(25);
    expect(gaps.filter((d) => d === 30).length / gaps.length).toBeGreaterThan(0.02); // Instacart's capped tail
  });

  it('marks a line reordered exactly when the user bought the product in an earlier order', () => {
    const { orders, orderProducts: op } = tables;
    const firstBought = new Map<number, number>();
    for (let l = 0; l < nLines; l++) {
      const o = orderOf[l];
      const key = orders.userId[o] * 4096 + op.productId[l];
      firstBought.set(key, Math.min(firstBought.get(key) ?? Infinity, orders.orderNumber[o]));
    }
    let wrong = 0;
    let reorders = 0;
    let lateLines = 0;
    let lateReorders = 0;
    for (let l = 0; l < nLines; l++) {
      const o = orderOf[l];
      const expected = orders.orderNumber[o] > firstBought.get(orders.userId[o] * 4096 + op.productId[l])! ? 1 : 0;
      if (op.reordered[l] !== expected) wrong++;
      reorders += expected;
      if (orders.orderNumber[o] >= 4) {
        lateLines++;
        lateReorders += expected;
      }
    }
    expect(wrong).toBe(0);
    // Instacart: ~59% of prior lines are reorders, more in later orders.
    expect(reorders / nLines).toBeGreaterThan(0.5);
    expect(reorders / nLines).toBeLessThan(0.7);
    expect(lateReorders / lateLines).toBeGreaterThan(0.55);
    expect(lateReorders / lateLines).toBeLessThan(0.75);
  });

  it('sets the last order eval set as asked, keeping the other orders the same', () => {
    const { orders } = tables;
    for (let o = 0; o < nOrders; o++) {
      const last = o === nOrders - 1 || orders.userId[o + 1] !== orders.userId[o];
      expect(orders.evalSet[o]).toBe(last ? 1 : 0);
    }
    const withTest = generateGrocery({ users: 200, products: 500, lastOrderEvalSet: 'test' });
    const withTrain = generateGrocery({ users: 200, products: 500 });
    const allPrior = generateGrocery({ users: 200, products: 500, lastOrderEvalSet: 'prior' });
    expect(withTest.orders).toEqual({ ...withTrain.orders, evalSet: withTest.orders.evalSet });
    expect(new Set(allPrior.orders.evalSet)).toEqual(new Set([0]));
    for (const [name, column] of Object.entries(allPrior.orderProducts)) {
      expect(bytes(column).equals(bytes(withTrain.orderProducts[name as keyof InstacartTables['orderProducts']])), name).toBe(true);
    }
    const testIds = new Set(withTest.orders.orderId.filter((_, o) => withTest.orders.evalSet[o] === 2));
    expect(testIds.size).toBe(200);
    expect(withTest.orderProducts.orderId.some((id) => testIds.has(id))).toBe(false);
    const kept = withTrain.orderProducts.orderId.map((id) => (testIds.has(id) ? 0 : 1));
    expect(withTest.orderProducts.orderId.length).toBe(kept.reduce((s, k) => s + k, 0));
    expect(bytes(withTest.orderProducts.productId).equals(bytes(withTrain.orderProducts.productId.filter((_, l) => kept[l] === 1)))).toBe(true);
  });

  it('loads into a Dataset', () => {
    const { dataset, summary } = datasetFromInstacart(tables);
    expect(summary.users).toBe(1000);
    expect(summary.items).toBe(2000);
    expect(summary.orders).toBe(nOrders);
    expect(summary.lines).toBe(nLines);
    expect(dataset.catalog.name[dataset.items.indexOf('1')]).toBe(tables.products.name[0]);
  });

  it('rejects bad options with OptionError', () => {
    expect(() => generateGrocery({ users: -1 })).toThrow(OptionError);
    expect(() => generateGrocery({ products: Number.NaN })).toThrow(OptionError);
    expect(() => generateGrocery({ users: 1.5 })).toThrow(OptionError);
    expect(() => generateGrocery({ complementProbability: 2 })).toThrow(OptionError);
    expect(() => generateGrocery({ aisles: AISLE_COUNT + 1 })).toThrow(OptionError);
    expect(() => generateGrocery({ minOrdersPerUser: 10, maxOrdersPerUser: 5 })).toThrow(OptionError);
    expect(() => generateGrocery({ lastOrderEvalSet: 'valid' as never })).toThrow(/lastOrderEvalSet/);
  });

  it('handles tiny shops', () => {
    const t = generateGrocery({ users: 3, products: 5, meanStaplesPerUser: 0 });
    expect(t.products.id.length).toBe(5);
    expect(t.aisles.id.length).toBe(1);
    expect(t.orderProducts.orderId.length).toBeGreaterThan(0);
  });
});

describe('generateGrocery planted structure', () => {
  const basketsOf = (productId: number): Set<number> => {
    const s = new Set<number>();
    for (let l = 0; l < nLines; l++) if (tables.orderProducts.productId[l] === productId) s.add(tables.orderProducts.orderId[l]);
    return s;
  };

  it('plants complements across aisles that co-occur far above chance', () => {
    expect(truth.complementGroups.length).toBe(20);
    expect(truth.complementGroups.some((g) => g.length === 3)).toBe(true);
    expect(truth.complements.length).toBe(truth.complementGroups.reduce((s, g) => s + (g.length * (g.length - 1)) / 2, 0));
    const basketSets = new Map<number, Set<number>>();
    for (const [a, b] of truth.complements) {
      if (!basketSets.has(a)) basketSets.set(a, basketsOf(a));
      if (!basketSets.has(b)) basketSets.set(b, basketsOf(b));
      expect(tables.products.aisleId[a - 1]).not.toBe(tables.products.aisleId[b - 1]);
      const A = basketSets.get(a)!;
      const B = basketSets.get(b)!;
      let both = 0;
      for (const o of A) if (B.has(o)) both++;
      expect(A.size).toBeGreaterThan(10);
      const lift = (both * nOrders) / (A.size * B.size);
      expect(lift).toBeGreaterThan(3);
      expect(both / A.size).toBeGreaterThan(0.4); // confidence a -> b
    }
  });

  it('has a Zipf-like head: the top 1% of products take a large share of lines', () => {
    const count = new Int32Array(2001);
    for (const p of tables.orderProducts.productId) count[p]++;
    const sorted = Array.from(count.subarray(1)).sort((a, b) => b - a);
    const head = sorted.slice(0, 20).reduce((s, c) => s + c, 0);
    expect(head / nLines).toBeGreaterThan(0.1);
    // ...and a long tail that still sells.
    expect(sorted.filter((c) => c > 0).length).toBeGreaterThan(1900);
    expect(sorted[1000]).toBeLessThan(sorted[10] / 20);
  });

  it('makes users favour their favourite aisles and re-buy their staples', () => {
    const { orders, orderProducts: op, products } = tables;
    const userLines = new Map<number, number[]>();
    for (let l = 0; l < nLines; l++) {
      const u = orders.userId[orderOf[l]];
      let a = userLines.get(u);
      if (!a) userLines.set(u, (a = []));
      a.push(l);
    }
    const aisleLines = new Float64Array(tables.aisles.id.length + 1);
    for (const p of op.productId) aisleLines[products.aisleId[p - 1]]++;
    let lift = 0;
    let stapleShare = 0;
    let counted = 0;
    for (let u = 1; u <= 1000; u++) {
      const fav = userListOf(truth.favouriteAisles, u);
      expect(fav.ids.length).toBeGreaterThanOrEqual(2);
      expect(fav.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 5);
      const favourite = new Set(fav.ids);
      const lines = userLines.get(u)!;
      const inFavourites = lines.filter((l) => favourite.has(products.aisleId[op.productId[l] - 1])).length / lines.length;
      let globalShare = 0;
      for (const a of favourite) globalShare += aisleLines[a] / nLines;
      lift += inFavourites / globalShare;
      // Staples: among the user's orders (of those with 10+), each is in a good share of baskets.
      const staples = userListOf(truth.staples, u);
      const userOrders = new Set(lines.map((l) => orderOf[l]));
      if (userOrders.size < 10 || staples.ids.length === 0) continue;
      const staple = new Set(staples.ids);
      const basketsWith = new Map<number, Set<number>>();
      for (const l of lines) {
        const p = op.productId[l];
        if (!staple.has(p)) continue;
        if (!basketsWith.has(p)) basketsWith.set(p, new Set());
        basketsWith.get(p)!.add(orderOf[l]);
      }
      for (const p of staple) stapleShare += (basketsWith.get(p)?.size ?? 0) / userOrders.size;
      counted += staple.size;
    }
    expect(lift / 1000).toBeGreaterThan(2);
    expect(stapleShare / counted).toBeGreaterThan(0.4);
  });

  it('names products of one aisle with shared words', () => {
    const { products } = tables;
    const words = products.name.map((n) => new Set(n.toLowerCase().split(' ')));
    const jaccard = (a: Set<string>, b: Set<string>): number => {
      let inter = 0;
      for (const w of a) if (b.has(w)) inter++;
      return inter / (a.size + b.size - inter);
    };
    let within = 0;
    let withinN = 0;
    let across = 0;
    let acrossN = 0;
    for (let p = 0; p < 2000; p += 3) {
      for (let q = p + 1; q < 2000; q += 7) {
        const j = jaccard(words[p], words[q]);
        if (products.aisleId[p] === products.aisleId[q]) {
          within += j;
          withinN++;
        } else {
          across += j;
          acrossN++;
        }
      }
    }
    expect(within / withinN).toBeGreaterThan(8 * (across / acrossN));
    const sauces = products.name.filter((n) => n.includes('Pasta Sauce'));
    expect(sauces.length).toBeGreaterThan(5);
    expect(products.name.some((n) => /Yogurt/.test(n))).toBe(true);
  });
});
