/**
 * Seeded randomness. mulberry32 is the PRNG that ../BENCHMARKS.md fixes for splits, so the
 * same generator serves every fit: one algorithm, reproducible everywhere, 2^32 period,
 * fast enough for negative sampling in hot loops.
 */

/** A function returning uniform floats in [0, 1). */
export type Rng = () => number;

/** mulberry32 seeded with `seed` (first draws for 42: 0.6011037519201636, 0.44829055899754167, ...). */
export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** In-place Fisher-Yates shuffle from the end (the protocol's exact order of draws). */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(a: T, rng: Rng): T {
  for (let i = a.length - 1; i >= 1; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
  return a;
}

/** Standard normal draw (Box-Muller), for embedding initialisation. */
export function randomNormal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Derive an independent seed for a sub-task (e.g. one strategy of an ensemble) from a base seed and a label. */
export function deriveSeed(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h | 0;
}
