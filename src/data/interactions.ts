import type { IdIndex } from './ids';
import type { Catalog } from './dataset';

/**
 * Interaction rows in columnar form, as read from a generic CSV or rows: one entry per input
 * row (not aggregated), so splitters that cut by time or at random see every event.
 */
export interface InteractionRows {
  users: IdIndex;
  items: IdIndex;
  user: Int32Array;
  item: Int32Array;
  /** Per row weight (1 when the source has no weight column). */
  weight: Float32Array;
  /** Per row timestamp in seconds since the epoch, or null when the source has none. */
  time: Float64Array | null;
  /** Per row basket (order) index into basketIds, or null when the source has none. */
  basket: Int32Array | null;
  basketIds: string[] | null;
  catalog: Catalog | null;
}
