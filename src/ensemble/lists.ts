/**
 * The two lists of a grocery app, from one fitted recommender:
 *
 * - 'buy-again': only items the shopper bought before, ranked by how likely they are to be
 *   re-bought now (the combiner's ranking restricted to the history; items no strategy scored
 *   follow by purchase count). The recommender's excludePurchased does not apply. Reasons
 *   speak of the shopper's own habit ("you buy this about every 2nd order"), never of the
 *   crowd.
 * - 'discover': no item the shopper bought before and none in the cart, ranked by the
 *   combiner (the fallback fills). Reasons are the strategies' ("often bought with Greek
 *   Yogurt").
 * - 'all' (the default): the recommender's usual list, re-buys and new items together.
 *
 * `recommend(shopper, { list })` takes the list; this module says which items each list may
 * hold and words the re-buys.
 */
import type { Query } from '../strategies/types';
import { countReason, timelineRebuy } from '../strategies/reasons';
import { oneOf } from '../util/options';

export type ListKind = 'all' | 'buy-again' | 'discover';

export const LIST_KINDS: readonly ListKind[] = Object.freeze(['all', 'buy-again', 'discover'] as ListKind[]);

export const listCheck = oneOf<ListKind>(LIST_KINDS);

/** Items of the shopper's history with a positive count. */
function historyItems(query: Query): number[] {
  const { items, weights } = query.history;
  const out: number[] = [];
  for (let k = 0; k < items.length; k++) if (weights[k] > 0) out.push(items[k]);
  return out;
}

/**
 * Blocks what `list` may not hold through `block` (which the caller undoes): buy-again every
 * item outside the history, discover every item in it. 'all' blocks nothing here.
 */
export function blockForList(list: ListKind, query: Query, nItems: number, block: (item: number) => void): void {
  if (list === 'all') return;
  const own = historyItems(query);
  if (list === 'discover') {
    for (const i of own) block(i);
    return;
  }
  const mine = new Uint8Array(nItems);
  for (const i of own) mine[i] = 1;
  for (let i = 0; i < nItems; i++) if (mine[i] === 0) block(i);
}

/**
 * The history items a buy-again list of `k` lacks, best first: unblocked, accepted, not
 * already in `chosen`, by purchase count (ties to the lower index).
 */
export function buyAgainFill(query: Query, chosen: ArrayLike<number>, k: number, blocked: Uint8Array, accept: ((item: number) => boolean) | null): number[] {
  const need = k - chosen.length;
  if (need <= 0) return [];
  const taken = new Set<number>(Array.from(chosen));
  const { items, weights } = query.history;
  const rest: Array<{ item: number; w: number }> = [];
  for (let p = 0; p < items.length; p++) {
    const item = items[p];
    if (!(weights[p] > 0) || blocked[item] === 1 || taken.has(item) || (accept !== null && !accept(item))) continue;
    rest.push({ item, w: weights[p] });
  }
  rest.sort((a, b) => b.w - a.w || a.item - b.item);
  return rest.slice(0, need).map((r) => r.item);
}

/** Why `item` is on the shopper's buy-again list, in their own words (from the timeline when there is one, else the counts); null when they never bought it. */
export function buyAgainReason(query: Query, item: number): string | null {
  const tl = query.timeline;
  if (tl !== null && tl.itemPtr.length > 1) {
    const rebuy = timelineRebuy(tl, item);
    if (rebuy !== null) return rebuy.reason;
  }
  const k = query.history.items.indexOf(item);
  const times = k >= 0 ? query.history.weights[k] : 0;
  return times > 0 ? countReason(times) : null;
}
