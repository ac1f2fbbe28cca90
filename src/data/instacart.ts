/**
 * Instacart's Kaggle tables in columnar form: what the CSV loader parses and what the
 * synthetic generator produces. Ids are the numeric ids of the files.
 */
export interface InstacartTables {
  departments: { id: Int32Array; name: string[] };
  aisles: { id: Int32Array; name: string[] };
  products: { id: Int32Array; name: string[]; aisleId: Int32Array; departmentId: Int32Array };
  orders: {
    orderId: Int32Array;
    userId: Int32Array;
    /** 0 = prior, 1 = train, 2 = test (test orders have no lines). */
    evalSet: Uint8Array;
    orderNumber: Int32Array;
    orderDow: Uint8Array;
    orderHourOfDay: Uint8Array;
    /** NaN for a user's first order. */
    daysSincePriorOrder: Float32Array;
  };
  /** All order lines (order_products__prior and __train together). */
  orderProducts: { orderId: Int32Array; productId: Int32Array; addToCartOrder: Int32Array; reordered: Uint8Array };
}

export const EVAL_SETS = ['prior', 'train', 'test'] as const;
