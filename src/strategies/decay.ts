/**
 * Recency decay of past baskets, shared by the strategies that weigh a shopper's timeline
 * (RepeatPurchase, ContentBased), so `halfLifeBaskets` and `halfLifeDays` mean the same there.
 */

/**
 * Weight of a past basket `basketsAgo` orders and `daysAgo` days before the most recent one:
 * 2^-(basketsAgo / halfLifeBaskets) x 2^-(daysAgo / halfLifeDays). Infinity turns a factor
 * off; an unknown day (NaN) gets no day decay.
 */
export function basketWeight(basketsAgo: number, daysAgo: number, halfLifeBaskets: number, halfLifeDays: number): number {
  let w = halfLifeBaskets === Infinity ? 1 : Math.pow(2, -basketsAgo / halfLifeBaskets);
  if (halfLifeDays !== Infinity && daysAgo === daysAgo) w *= Math.pow(2, -daysAgo / halfLifeDays);
  return w;
}
