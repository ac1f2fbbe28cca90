/**
 * LambdaMART's options, their defaults and checks, apart from the trainer (gbdt.ts): the
 * recommender resolves its reranker options when it is built or loaded, in a page that never
 * trains, so these must not pull the booster into that page.
 */
import { integer, number, type OptionChecks } from '../../util/options';

export interface LambdaMARTOptions {
  /** Most trees to grow (early stopping may keep fewer). Default 300: with learningRate 0.1 the validation curve of LambdaMART usually flattens well before; early stopping trims the rest. Not tuned on our data yet. */
  trees: number;
  /** Shrinkage of every tree's leaf values. Default 0.1, LightGBM's default. */
  learningRate: number;
  /** Leaves per tree (leaf-wise growth). Default 31, LightGBM's default. */
  numLeaves: number;
  /** Fewest training rows in a leaf. Default 20, LightGBM's default. */
  minDataInLeaf: number;
  /** Least hessian sum in a leaf. Default 1e-3, LightGBM's default. */
  minSumHessian: number;
  /** L2 penalty on leaf values (added to the leaf's hessian sum). Default 0, LightGBM's default. */
  l2: number;
  /** Share of the features each tree may split on (drawn per tree). Default 1 (all), LightGBM's default. */
  featureFraction: number;
  /** Share of the training queries each tree is grown on (drawn per tree; whole queries, since lambdas are per query). Default 1 (no bagging), LightGBM's default. */
  baggingFraction: number;
  /** Value bins per feature (plus one for missing). Default 255, LightGBM's default and the most a byte holds. */
  maxBins: number;
  /** The k of NDCG@k: the objective's truncation and the early-stopping metric. Default 10, the K every hybridrec benchmark reports. */
  ndcgAt: number;
  /** Steepness of the pairwise logistic loss. Default 1, LightGBM's default. */
  sigma: number;
  /** Share of the queries (seeded draw) held out for early stopping; 0 trains on all and never stops early. Default 0.2, the usual hold-out share. */
  validationShare: number;
  /** Stop after this many trees without a better validation NDCG@k; 0 grows every tree (validation is still reported). Default 20: long enough to cross noise on a few hundred validation queries, short next to `trees`. */
  earlyStoppingRounds: number;
}

export const LAMBDAMART_CHECKS: OptionChecks<LambdaMARTOptions> = {
  trees: integer({ min: 1 }),
  learningRate: number({ min: 0, exclusiveMin: true, max: 1 }),
  numLeaves: integer({ min: 2, max: 65536 }),
  minDataInLeaf: integer({ min: 1 }),
  minSumHessian: number({ min: 0 }),
  l2: number({ min: 0 }),
  featureFraction: number({ min: 0, exclusiveMin: true, max: 1 }),
  baggingFraction: number({ min: 0, exclusiveMin: true, max: 1 }),
  maxBins: integer({ min: 2, max: 255 }),
  ndcgAt: integer({ min: 1 }),
  sigma: number({ min: 0, exclusiveMin: true }),
  validationShare: number({ min: 0, max: 0.9 }),
  earlyStoppingRounds: integer({ min: 0 }),
};

/** The defaults of LambdaMART (see each option for why). */
export const LAMBDAMART_DEFAULTS: Readonly<LambdaMARTOptions> = Object.freeze({
  trees: 300,
  learningRate: 0.1,
  numLeaves: 31,
  minDataInLeaf: 20,
  minSumHessian: 1e-3,
  l2: 0,
  featureFraction: 1,
  baggingFraction: 1,
  maxBins: 255,
  ndcgAt: 10,
  sigma: 1,
  validationShare: 0.2,
  earlyStoppingRounds: 20,
});
