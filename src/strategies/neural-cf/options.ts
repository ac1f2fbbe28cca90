import { OptionError } from '../../errors';
import type { TfBackend } from '../../util/tfjs';

export type NcfArchitecture = 'gmf' | 'neumf';
export type NcfLoss = 'bce' | 'bpr';
export type NcfSampling = 'uniform' | 'popularity';
export type NcfWeighting = 'binary' | 'log1p';
export type NcfBackend = TfBackend;
export type NcfValidationMetric = 'auc' | 'loss';

export interface NeuralCFOptions {
  /** 'gmf': generalized matrix factorization; 'neumf': GMF plus an MLP tower on separate embeddings. Default 'gmf'. */
  architecture: NcfArchitecture;
  /** Embedding size of users and items (both towers). Default 32. */
  factors: number;
  /** Hidden layer sizes of the NeuMF MLP tower (ReLU), fed [user; item] MLP embeddings. Default [32, 16, 8]. */
  mlpLayers: readonly number[];
  /** 'bce': binary cross-entropy on positives and sampled negatives; 'bpr': pairwise BPR on (positive, negative) pairs. Default 'bce'. */
  loss: NcfLoss;
  /** Sampled negatives per positive (integer >= 1). Default 4. */
  negatives: number;
  /** Negative item distribution: 'uniform', or 'popularity' (purchase count ^ 0.75). Default 'uniform'. */
  sampling: NcfSampling;
  /** Weight of a positive: 'binary' (1) or 'log1p' (log(1 + purchase count)). Default 'binary'. */
  weighting: NcfWeighting;
  /** Passes over the positives. Default 10. */
  epochs: number;
  /** Positives per mini-batch; each brings its `negatives` sampled negatives. Default 1024. */
  batchSize: number;
  /** Adam step size. Default 0.005. */
  learningRate: number;
  /** L2 penalty on the embedding rows of each example (per-example mean). Default 0.01. */
  l2: number;
  /** Share of each user's positives held out to decide early stopping; 0 turns early stopping off. Default 0. */
  validationShare: number;
  /** Epochs without validation improvement before stopping (the best epoch's weights are kept). Default 2. */
  patience: number;
  /** What early stopping watches: sampled AUC (higher is better) or loss. Default 'auc'. */
  validationMetric: NcfValidationMetric;
  /** tfjs backend for training: 'auto' takes the first that starts of wasm, webgl, cpu. Default 'auto'. */
  backend: NcfBackend;
  /**
   * Where tfjs-backend-wasm finds its .wasm files (setWasmPaths prefix) when a bundler did not
   * serve them next to the script. Node resolves them from node_modules by itself. Default null.
   */
  wasmPaths: string | null;
  /** Gradient steps that fold an unknown user's history into a user vector. Default 40. */
  foldInSteps: number;
  /** Pull of a folded-in user vector towards the average user (L2 weight). Default 0.01. */
  foldInL2: number;
}

export const NCF_DEFAULTS: Readonly<NeuralCFOptions> = Object.freeze({
  architecture: 'gmf',
  factors: 32,
  mlpLayers: [32, 16, 8],
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
});

function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) throw new OptionError(name, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
}

function integerAtLeast(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new OptionError(name, `must be an integer >= ${min}, got ${value}`);
}

function finiteAtLeast(name: string, value: number, min: number, exclusive = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || (exclusive ? value <= min : value < min)) {
    throw new OptionError(name, `must be a finite number ${exclusive ? '>' : '>='} ${min}, got ${value}`);
  }
}

/** Defaults merged with `options`, validated; throws OptionError naming the first bad option. */
export function resolveNcfOptions(options: Partial<NeuralCFOptions>): NeuralCFOptions {
  const o: NeuralCFOptions = { ...NCF_DEFAULTS, ...options, mlpLayers: [...(options.mlpLayers ?? NCF_DEFAULTS.mlpLayers)] };
  oneOf('architecture', o.architecture, ['gmf', 'neumf']);
  oneOf('loss', o.loss, ['bce', 'bpr']);
  oneOf('sampling', o.sampling, ['uniform', 'popularity']);
  oneOf('weighting', o.weighting, ['binary', 'log1p']);
  oneOf('validationMetric', o.validationMetric, ['auc', 'loss']);
  oneOf('backend', o.backend, ['auto', 'wasm', 'cpu', 'webgl']);
  integerAtLeast('factors', o.factors, 1);
  integerAtLeast('negatives', o.negatives, 1);
  integerAtLeast('epochs', o.epochs, 1);
  integerAtLeast('batchSize', o.batchSize, 1);
  integerAtLeast('patience', o.patience, 1);
  integerAtLeast('foldInSteps', o.foldInSteps, 0);
  if (o.mlpLayers.length === 0) throw new OptionError('mlpLayers', 'needs at least one hidden layer');
  o.mlpLayers.forEach((size, k) => integerAtLeast(`mlpLayers[${k}]`, size, 1));
  finiteAtLeast('learningRate', o.learningRate, 0, true);
  finiteAtLeast('l2', o.l2, 0);
  finiteAtLeast('foldInL2', o.foldInL2, 0);
  finiteAtLeast('validationShare', o.validationShare, 0);
  if (o.validationShare >= 1) throw new OptionError('validationShare', `must be below 1, got ${o.validationShare}`);
  if (o.wasmPaths !== null && typeof o.wasmPaths !== 'string') throw new OptionError('wasmPaths', 'must be a string or null');
  return o;
}
