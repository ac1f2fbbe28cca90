import type { RankingData } from '../src/ensemble/reranker/gbdt';
import type { Rng } from '../src/util/random';

/**
 * Planted ranking data for the reranker benchmarks: `queries` queries of `candidates` rows
 * with `nFeatures` (>= 8) values in [0, 1). For a random half of the rows every third feature
 * is missing (NaN), like strategies that did not propose an item; relevance (0/1, about 19%
 * relevant) is a noisy non-linear function of the first eight features, so trees grow full
 * and unbalanced as on real candidates.
 */
export function plantedRanking(rng: Rng, queries: number, candidates: number, nFeatures: number): RankingData & { labels: Uint8Array } {
  const rows = queries * candidates;
  const features = new Float32Array(rows * nFeatures);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = features.subarray(r * nFeatures, (r + 1) * nFeatures);
    const sparse = rng() < 0.5;
    for (let f = 0; f < nFeatures; f++) x[f] = sparse && f % 3 === 0 ? NaN : rng();
    const a = x[1] === x[1] ? x[1] : 0.5;
    const utility = (x[0] > 0.5 ? a : 1 - a) + 0.5 * x[2] * x[4] + 0.3 * Math.sin(6 * x[5]) + 0.2 * (x[7] > x[6] ? 1 : 0) + 0.4 * (rng() - 0.5);
    labels[r] = utility > 1.05 ? 1 : 0;
  }
  const queryPtr = Int32Array.from({ length: queries + 1 }, (_, q) => q * candidates);
  return { features, labels, queryPtr, featureNames: Array.from({ length: nFeatures }, (_, f) => `f${f}`) };
}
