import type { ScoreVector } from '../strategies/types';

/**
 * How raw strategy scores are put on one scale before the weighted sum:
 * - 'max': divide by the largest |score| (keeps 0 at 0 and ratios; for non-negative scores).
 * - 'minmax': map the touched scores' [min, max] to [0, 1] (for scores that can be negative, like logits).
 * - 'zscore': (score - mean) / std over touched items, shifted so the lowest touched score is 0.
 * - 'auto': 'max' when every touched score is >= 0, else 'minmax'.
 * Items a strategy did not touch keep 0: "no opinion" never outranks a real opinion.
 */
export type Normalization = 'auto' | 'max' | 'minmax' | 'zscore';

export const NORMALIZATIONS: readonly Normalization[] = ['auto', 'max', 'minmax', 'zscore'];

/** The affine map raw -> normalized score of one strategy for one query. */
export interface Affine {
  scale: number;
  shift: number;
}

/** Statistics of the finite touched scores of one strategy for one query. */
export interface ScoreStats {
  min: number;
  max: number;
  sum: number;
  sumSq: number;
  finite: number;
}

/** One pass over the touched scores of `v` for any normalization; null when none is finite. */
export function scoreStats(v: ScoreVector): ScoreStats | null {
  const n = v.length;
  const values = v.values;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let finite = 0;
  for (let i = 0; i < n; i++) {
    const s = values[v.at(i)];
    if (!Number.isFinite(s)) continue;
    if (s < min) min = s;
    if (s > max) max = s;
    sum += s;
    sumSq += s * s;
    finite++;
  }
  return finite === 0 ? null : { min, max, sum, sumSq, finite };
}

/** The normalizing map of scores with these statistics. */
export function affineOf(stats: ScoreStats, normalization: Normalization): Affine {
  const { min, max, sum, sumSq, finite } = stats;
  const mode = normalization === 'auto' ? (min >= 0 ? 'max' : 'minmax') : normalization;
  if (mode === 'max') {
    const m = Math.max(Math.abs(min), Math.abs(max));
    return { scale: m > 0 ? 1 / m : 0, shift: 0 };
  }
  if (mode === 'minmax') {
    // All-equal scores carry no ranking signal but are still an opinion: map them to 1.
    return max > min ? { scale: 1 / (max - min), shift: -min / (max - min) } : { scale: 0, shift: 1 };
  }
  // zscore: (s - mean) / std shifted by the lowest touched z-score, i.e. (s - min) / std.
  const mean = sum / finite;
  const std = Math.sqrt(Math.max(sumSq / finite - mean * mean, 0));
  return std > 0 ? { scale: 1 / std, shift: -min / std } : { scale: 0, shift: 1 };
}
