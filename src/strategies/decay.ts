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

/**
 * basketWeight for one pair of half-lives, with its basket factor kept per basketsAgo: a
 * strategy weighs every basket of a timeline at each score and explain, and Math.pow per
 * basket was a quarter of RepeatPurchase's explained recommendation. The same floats as
 * basketWeight: with a day half-life every weight is basketWeight's own.
 */
export class BasketDecay {
  private factors = new Float64Array(0);

  constructor(
    private readonly halfLifeBaskets: number,
    private readonly halfLifeDays: number,
  ) {}

  weight(basketsAgo: number, daysAgo: number): number {
    if (this.halfLifeDays !== Infinity) return basketWeight(basketsAgo, daysAgo, this.halfLifeBaskets, this.halfLifeDays);
    if (basketsAgo >= this.factors.length) this.grow(basketsAgo + 1);
    return this.factors[basketsAgo];
  }

  private grow(size: number): void {
    const factors = new Float64Array(Math.max(size, 2 * this.factors.length, 64));
    for (let b = 0; b < factors.length; b++) factors[b] = basketWeight(b, NaN, this.halfLifeBaskets, Infinity);
    this.factors = factors;
  }
}
