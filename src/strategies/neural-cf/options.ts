import { OptionError } from '../../errors';
import { arrayOf, integer, nullable, number, oneOf, string, type OptionChecks } from '../../util/options';
import { TF_BACKENDS, type TfBackend } from '../../util/tfjs';

export type NcfArchitecture = 'gmf' | 'neumf';
export type NcfLoss = 'bce' | 'bpr';
export type NcfSampling = 'uniform' | 'popularity';
export type NcfWeighting = 'binary' | 'log1p';
export type NcfBackend = TfBackend;
export type NcfValidationMetric = 'auc' | 'loss';

export interface NeuralCFOptions {
  /** 'gmf': generalized matrix factorization; 'neumf': GMF plus an MLP tower on separate embeddings. Default 'gmf': the cheaper model, and NeuMF's extra tower bought nothing on the benchmark data. */
  architecture: NcfArchitecture;
  /** Embedding size of users and items (both towers), at most 1024. Default 32, within He et al.'s range of 8-64; not tuned. */
  factors: number;
  /** Hidden layer sizes of the NeuMF MLP tower (ReLU), fed [user; item] MLP embeddings. Default [32, 16, 8]. */
  mlpLayers: readonly number[];
  /** 'bce': binary cross-entropy on positives and sampled negatives; 'bpr': pairwise BPR on (positive, negative) pairs. Default 'bce'. */
  loss: NcfLoss;
  /** Sampled negatives per positive (integer >= 1). Default 4, He et al.'s setting. */
  negatives: number;
  /** Negative item distribution: 'uniform', or 'popularity' (purchase count ^ 0.75, word2vec's exponent). Default 'uniform', He et al.'s setting. */
  sampling: NcfSampling;
  /** How a purchase count becomes the weight of a positive: 'binary' (1) or 'log1p' (log(1 + count)). Default 'binary', He et al.'s implicit-feedback setting. */
  weighting: NcfWeighting;
  /** Passes over the positives. Default 10: the training loss had flattened by then on the synthetic shop; not tuned on test data. */
  epochs: number;
  /** Positives per mini-batch; each brings its `negatives` sampled negatives. Default 1024: a throughput choice (examples/s on wasm, benchmarks/ncf-backends.ts). */
  batchSize: number;
  /** Adam step size. Default 0.005, set by hand for stable loss curves at batch 1024; not tuned. */
  learningRate: number;
  /** L2 penalty on the embedding rows of each example (per-example mean). Default 0.01, a common choice; not tuned. */
  l2: number;
  /** Share of each user's positives held out to decide early stopping; 0 turns early stopping off. Default 0: every purchase trains. */
  validationShare: number;
  /** Epochs without validation improvement before stopping (the best epoch's weights are kept). Default 2, a common choice. */
  patience: number;
  /** What early stopping watches: sampled AUC (higher is better) or loss. Default 'auc': it ranks, as the recommender does. */
  validationMetric: NcfValidationMetric;
  /** tfjs backend for training: 'auto' takes the first that starts of wasm, webgl, cpu. Default 'auto' (wasm was 10-15x faster than cpu here). */
  backend: NcfBackend;
  /**
   * Where tfjs-backend-wasm finds its .wasm files (setWasmPaths prefix) when a bundler did not
   * serve them next to the script. Node resolves them from node_modules by itself. Default null: tfjs' own lookup.
   */
  wasmPaths: string | null;
  /** Gradient steps that fold an unknown user's history into a user vector. Default 40: the folded vector had converged by then on the synthetic shop. */
  foldInSteps: number;
  /** Pull of a folded-in user vector towards the average user (L2 weight). Default 0.01, the training `l2`. */
  foldInL2: number;
  /**
   * Candidates score() takes from an attached vector index (useVectorIndex, GMF only,
   * docs/ann.md), on top of the query's own items. Default 1000: the ensemble's per-strategy
   * candidate cut (ALS's, SequentialRecommender's and TwoTower's default too).
   */
  indexCandidates: number;
}

export const NCF_DEFAULTS: Readonly<NeuralCFOptions> = Object.freeze({
  architecture: 'gmf',
  factors: 32,
  mlpLayers: Object.freeze([32, 16, 8]),
  loss: 'bce',
  negatives: 4,
  sampling: 'uniform',
  weighting: 'binary',
  epochs: 10,
  batchSize: 1024,
  learningRate: 0.005,
  l2: 0.01,
  validationShare: 0,
  patience: 2,
  validationMetric: 'auc',
  backend: 'auto',
  wasmPaths: null,
  foldInSteps: 40,
  foldInL2: 0.01,
  indexCandidates: 1000,
});

export const NCF_CHECKS: OptionChecks<NeuralCFOptions> = {
  architecture: oneOf<NcfArchitecture>(['gmf', 'neumf']),
  factors: integer({ min: 1, max: 1024 }),
  mlpLayers: arrayOf(integer({ min: 1 }), { min: 1 }),
  loss: oneOf<NcfLoss>(['bce', 'bpr']),
  negatives: integer({ min: 1 }),
  sampling: oneOf<NcfSampling>(['uniform', 'popularity']),
  weighting: oneOf<NcfWeighting>(['binary', 'log1p']),
  epochs: integer({ min: 1 }),
  batchSize: integer({ min: 1 }),
  learningRate: number({ min: 0, exclusiveMin: true }),
  l2: number({ min: 0 }),
  validationShare: (value, name) => {
    const v = number({ min: 0 })(value, name);
    if (v >= 1) throw new OptionError(name, `must be below 1, got ${v}`);
    return v;
  },
  patience: integer({ min: 1 }),
  validationMetric: oneOf<NcfValidationMetric>(['auc', 'loss']),
  backend: oneOf<NcfBackend>(TF_BACKENDS),
  wasmPaths: nullable(string()),
  foldInSteps: integer({ min: 0 }),
  foldInL2: number({ min: 0 }),
  indexCandidates: integer({ min: 1 }),
};
