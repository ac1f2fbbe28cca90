/**
 * The reranked synthetic shop that benchmarks/reranker-shop.ts fits and times and
 * benchmarks/reranker-ab.ts caches: the default ensemble without NeuralCF, equal fixed
 * weights (weight tuning is not what is timed), combiner 'reranker' with minConfidence 0 so
 * the forest ranks whatever its validation margin (the serving cost is the subject; quality
 * is benchmarks/reranker-quality.ts's).
 */
import { HybridRecommender } from '../src/index';
import { defaultStrategies } from '../examples/shared';
import { RERANKER_DEFAULTS } from '../src/ensemble/reranker/combiner';

export function shopRecommender(maxQueries: number, folds: number, candidatesPerStrategy = RERANKER_DEFAULTS.candidatesPerStrategy): HybridRecommender {
  const strategies = defaultStrategies({ neural: false });
  return new HybridRecommender({
    strategies,
    weights: Object.fromEntries(Object.keys(strategies).map((n) => [n, 1])),
    combiner: 'reranker',
    reranker: { maxQueries, folds, minConfidence: 0, candidatesPerStrategy },
  });
}
