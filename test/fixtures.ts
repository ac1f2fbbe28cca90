import { Dataset, emptyCatalog, type Catalog } from '../src/data/dataset';
import { IdIndex } from '../src/data/ids';
import { expect } from 'vitest';
import { AbortedError, DataError } from '../src/errors';
import { mulberry32 } from '../src/util/random';
import { AssociationRules } from '../src/strategies/association-rules';
import { ContentBased, TfidfEncoder } from '../src/strategies/content';
import { CoPurchaseGraph } from '../src/strategies/copurchase-graph';
import { ItemKNN } from '../src/strategies/item-knn';
import { Popularity } from '../src/strategies/popularity';
import { RepeatPurchase } from '../src/strategies/repeat-purchase';

/**
 * A small hand-made dataset: users map to their baskets in order, baskets are lists of item
 * ids. Item and user indices follow raw-id order. Catalog names are the item ids unless given.
 * Days: basket k of a user is on day 7k unless `days` says otherwise.
 */
export function basketsDataset(
  users: Record<string, string[][]>,
  opts: { catalog?: Record<string, { name?: string; aisle?: string; department?: string }>; extraItems?: string[]; days?: Record<string, number[]> } = {},
): Dataset {
  const itemIds = new Set<string>(opts.extraItems ?? []);
  for (const baskets of Object.values(users)) for (const b of baskets) for (const i of b) itemIds.add(i);
  for (const id of Object.keys(opts.catalog ?? {})) itemIds.add(id);
  const items = IdIndex.sorted(itemIds, 'item');
  const userIndex = IdIndex.sorted(Object.keys(users), 'user');
  const catalog: Catalog = emptyCatalog(items.size);
  for (let i = 0; i < items.size; i++) {
    const c = opts.catalog?.[items.id(i)];
    catalog.name[i] = c?.name ?? items.id(i);
    catalog.aisle[i] = c?.aisle ?? '';
    catalog.department[i] = c?.department ?? '';
  }
  const user: number[] = [];
  const ids: string[] = [];
  const orderNumber: number[] = [];
  const day: number[] = [];
  const linePtr = [0];
  const lines: number[] = [];
  for (const [uid, baskets] of Object.entries(users)) {
    baskets.forEach((b, k) => {
      user.push(userIndex.indexOf(uid));
      ids.push(`${uid}#${k + 1}`);
      orderNumber.push(k + 1);
      day.push(opts.days?.[uid]?.[k] ?? 7 * k);
      for (const i of b) lines.push(items.indexOf(i));
      linePtr.push(lines.length);
    });
  }
  return Dataset.fromBaskets({
    users: userIndex,
    items,
    catalog,
    user: Int32Array.from(user),
    ids,
    orderNumber: Int32Array.from(orderNumber),
    day: Float64Array.from(day),
    linePtr: Int32Array.from(linePtr),
    lines: Int32Array.from(lines),
  });
}

/**
 * A Dataset without baskets from (user, item, time) rows, as holdoutTemporal's training part:
 * weight 1 per row unless `weights` gives them, times kept unless `withTimes` is false.
 */
export function timedDataset(rows: ReadonlyArray<readonly [string, string, number]>, o: { weights?: readonly number[]; withTimes?: boolean } = {}): Dataset {
  const users = IdIndex.sorted(new Set(rows.map((r) => r[0])), 'user');
  const items = IdIndex.sorted(new Set(rows.map((r) => r[1])), 'item');
  return Dataset.fromInteractions({
    users,
    items,
    user: Int32Array.from(rows, (r) => users.indexOf(r[0])),
    item: Int32Array.from(rows, (r) => items.indexOf(r[1])),
    weight: o.weights ? Float32Array.from(o.weights) : undefined,
    time: o.withTimes === false ? undefined : Float64Array.from(rows, (r) => r[2]),
  });
}

/** Item indices of ids in `data`. */
export function itemIdx(data: Dataset, ...ids: string[]): Int32Array {
  return Int32Array.from(ids, (id) => {
    const i = data.items.indexOf(id);
    if (i < 0) throw new Error(`no item ${id}`);
    return i;
  });
}

/** The DataError `run` throws (any other error is rethrown; none fails the test). */
export function caught(run: () => unknown): DataError {
  try {
    run();
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error('expected a DataError');
}

/** The DataError `promise` rejects with (any other rejection is rethrown; none fails the test). */
export function caughtAsync(promise: Promise<unknown>): Promise<DataError> {
  return promise.then(
    () => {
      throw new Error('expected a DataError');
    },
    (error: unknown) => {
      if (error instanceof DataError) return error;
      throw error;
    },
  );
}

/**
 * Planted taste groups for the latent models: `groups` disjoint groups of `perGroup` items;
 * each of `users` users belongs to one group (u mod groups) and buys `perUser` distinct items
 * of it, plus one item of another group with probability `noise`. One basket per user.
 */
export function plantedGroups(seed: number, o: { users?: number; groups?: number; perGroup?: number; perUser?: number; noise?: number } = {}): Dataset {
  const { users = 300, groups = 6, perGroup = 10, perUser = 4, noise = 0.2 } = o;
  const rng = mulberry32(seed);
  const baskets: Record<string, string[][]> = {};
  for (let u = 0; u < users; u++) {
    const g = u % groups;
    const b = new Set<string>();
    while (b.size < perUser) b.add(`g${g}i${Math.floor(rng() * perGroup)}`);
    if (rng() < noise) b.add(`g${(g + 1 + Math.floor(rng() * (groups - 1))) % groups}i${Math.floor(rng() * perGroup)}`);
    baskets[`u${u}`] = [[...b]];
  }
  const extraItems: string[] = [];
  for (let g = 0; g < groups; g++) for (let i = 0; i < perGroup; i++) extraItems.push(`g${g}i${i}`);
  return basketsDataset(baskets, { extraItems });
}

/** The group of an item id made by plantedGroups ("g3i7" -> 3). */
export function groupOf(itemId: string): number {
  return Number(itemId.slice(1, itemId.indexOf('i')));
}

/**
 * Starts `work` with a fresh signal and fires the signal from a timer, so it lands while the
 * work runs (the timer can only fire once the work yields, after its synchronous start), then
 * expects an AbortedError whose message matches `what`. Work that ignores the signal, or
 * finishes before yielding, fails the test.
 */
export async function expectAbortMidRun(work: (signal: AbortSignal) => Promise<unknown>, what: RegExp, afterMs = 0): Promise<void> {
  const controller = new AbortController();
  const run = work(controller.signal);
  const timer = setTimeout(() => controller.abort(), afterMs);
  try {
    await expect(run).rejects.toThrow(AbortedError);
    await expect(run).rejects.toThrow(what);
  } finally {
    clearTimeout(timer);
  }
}

/** Fresh instances of the six non-neural strategies of the demo ensemble, small-shop options (the batch and golden-ranking tests). */
export function nonNeuralStrategies() {
  return {
    popularity: new Popularity({ maxItems: 100 }),
    repeat: new RepeatPurchase(),
    itemknn: new ItemKNN(),
    content: new ContentBased({ encoder: new TfidfEncoder() }),
    rules: new AssociationRules({ minSupport: 0.002 }),
    graph: new CoPurchaseGraph(),
  };
}
