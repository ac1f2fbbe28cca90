import type { ScoreVector } from '../strategies/types';

/**
 * How raw strategy scores are put on one scale before the weighted sum:
 * - 'max': divide by the largest |score| (keeps 0 at 0 and ratios; for non-negative scores).
 * - 'minmax': map the touched scores' [min, max] to [0, 1] (for scores that can be negative, like logits).
 * - 'zscore': (score - mean) / std over touched items, shifted so the lowest touched score is 0.
 * - 'auto': 'max' when every touched score is >= 0, else 'minmax'.
 * - 'rank': reciprocal rank over the strategy's candidates after the cut, (RANK_OFFSET + 1) /
 *   (RANK_OFFSET + r) with r = 1 + the number of candidates scoring strictly higher (ties share
 *   a rank): 1 for the best, positive for every candidate (its lowest is not mapped to "no
 *   opinion" as minmax/zscore map it), and blind to the score's scale and spread. Not affine:
 *   the merge replaces the candidates' raw scores with these values (rankValues) and adds them
 *   with the identity map.
 * Items a strategy did not touch keep 0: "no opinion" never outranks a real opinion.
 */
export type Normalization = 'auto' | 'max' | 'minmax' | 'zscore' | 'rank';

export const NORMALIZATIONS: readonly Normalization[] = ['auto', 'max', 'minmax', 'zscore', 'rank'];

/** The c of 'rank' (1 / (c + r)): reciprocal rank fusion's usual 60, so a strategy's 10th candidate still counts 0.87 of its 1st. */
export const RANK_OFFSET = 60;

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

const IDENTITY: Affine = Object.freeze({ scale: 1, shift: 0 });

/**
 * 'rank': replaces raw[0 .. n) (one strategy's candidates) with their reciprocal-rank values,
 * (RANK_OFFSET + 1) / (RANK_OFFSET + r), r = 1 + the number of raw scores strictly above.
 * `scratch` (room for n) is overwritten. O(n log n).
 */
export function rankValues(raw: Float32Array, n: number, scratch: Float32Array): void {
  const sorted = scratch.subarray(0, n);
  sorted.set(raw.subarray(0, n));
  sorted.sort();
  for (let i = 0; i < n; i++) {
    // Ascending order: the scores strictly above raw[i] are those after its last copy.
    const x = raw[i];
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    raw[i] = (RANK_OFFSET + 1) / (RANK_OFFSET + 1 + (n - lo));
  }
}

/** The normalizing map of scores with these statistics. */
export function affineOf(stats: ScoreStats, normalization: Normalization): Affine {
  // 'rank' values are computed by rankValues; they are added as they are.
  if (normalization === 'rank') return IDENTITY;
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
