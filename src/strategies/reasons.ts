import type { BasketTimeline } from './types';

/** "a", "a and b", "a, b and c": item names in a reason. */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * A re-buy in the shopper's own words, from their timeline: bought in `bought` of `nBaskets`
 * orders, first in basket `first` and last in basket `last` (0-based), `ago` orders ago (1 =
 * the most recent). Never "popular": a re-buy is the shopper's habit, not the crowd's.
 */
function rebuyReason(bought: number, nBaskets: number, first: number, last: number, ago: number): string {
  const when = ago === 1 ? 'last in your most recent order' : `last ${ago} orders ago`;
  if (bought === nBaskets) return nBaskets === 1 ? 'you bought this in your only order' : `you bought this in all of your ${nBaskets} orders`;
  const share = `${bought} of your ${nBaskets} orders`;
  if (bought >= 3) {
    const every = Math.round((last - first) / (bought - 1));
    if (every === 1) return `you buy this in most orders (${share}), ${when}`;
    return `you buy this about every ${ordinal(every)} order (${share}), ${when}`;
  }
  return `you bought this in ${share}, ${when}`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/**
 * The re-buy reason for `item` from the shopper's timeline (rebuyReason over the orders that
 * hold it) and how many orders hold it; null when none does. The orders that hold it are left
 * in holding[0 .. bought), ascending (room for every order of the timeline; RepeatPurchase
 * reads them for the item's score).
 */
export function timelineRebuy(tl: BasketTimeline, item: number, holding = new Int32Array(tl.itemPtr.length - 1)): { reason: string; bought: number } | null {
  const nBaskets = tl.itemPtr.length - 1;
  let bought = 0;
  for (let b = 0; b < nBaskets; b++) if (basketHas(tl, b, item)) holding[bought++] = b;
  if (bought === 0) return null;
  const last = holding[bought - 1];
  return { reason: rebuyReason(bought, nBaskets, holding[0], last, nBaskets - last), bought };
}

/** Whether basket b of the timeline holds `item`. */
export function basketHas(tl: BasketTimeline, b: number, item: number): boolean {
  for (let p = tl.itemPtr[b]; p < tl.itemPtr[b + 1]; p++) if (tl.items[p] === item) return true;
  return false;
}

/**
 * A count in a reason: "3,942", "2.5". One formatter for every reason: toLocaleString with
 * options builds a new Intl.NumberFormat per call, which was the largest cost of explained
 * recommendations (15% of recommend with explain at 50k items).
 */
const COUNT_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatCount(n: number): string {
  // Whole counts, the usual case, without Intl: the same digits and en-US thousands commas.
  if (Number.isSafeInteger(n) && n >= 0) {
    const digits = String(n);
    if (digits.length <= 3) return digits;
    let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
    for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
    return out;
  }
  return COUNT_FORMAT.format(n);
}

/**
 * A re-buy from purchase counts alone (no timeline): "you bought this 3 times before". A
 * weight that is not a whole count (recency-weighted or rating data) says no number.
 */
export function countReason(times: number): string {
  if (!Number.isInteger(times)) return 'you bought this before';
  return `you bought this ${times === 1 ? 'once' : `${formatCount(times)} times`} before`;
}

