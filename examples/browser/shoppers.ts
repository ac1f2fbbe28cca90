/**
 * The demo's shoppers and their orders: what a shop's own database holds. A serving artifact
 * (save({ customerData: false })) knows no shoppers, so each request brings the shopper's
 * orders; build.ts writes them as shoppers.json beside the model, the page reads them there
 * (or from the model itself when it was saved with customer data).
 */
import type { Dataset } from '../../src/index';

export interface DemoShopper {
  id: string;
  /** Past orders, oldest first (item ids). */
  baskets: string[][];
  /** Day of each order; absent when the data has no days. */
  days?: number[];
}

/** The shoppers of `data` with their orders. */
export function demoShoppers(data: Dataset): DemoShopper[] {
  const { userPtr, itemPtr, items, day } = data.baskets;
  return data.users.ids.map((id, u) => {
    const baskets: string[][] = [];
    const days: number[] = [];
    for (let b = userPtr[u]; b < userPtr[u + 1]; b++) {
      baskets.push(Array.from(items.subarray(itemPtr[b], itemPtr[b + 1]), (i) => data.items.id(i)));
      days.push(day[b]);
    }
    return days.some(Number.isNaN) ? { id, baskets } : { id, baskets, days };
  });
}
