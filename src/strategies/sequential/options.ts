import { TF_BACKENDS, type TfBackend } from '../../util/tfjs';
import { integer, nullable, number, oneOf, resolveOptions, string, type OptionChecks } from '../../util/options';

export type SequentialSampling = 'uniform' | 'popularity';

/**
 * Options of SequentialRecommender. Only validation data informed these defaults (the
 * held-out last baskets the model carves from its training histories, P6's keyset.val users),
 * never a test set; most are not tuned yet, and each comment says which. The runs behind them:
 * `npx tsx benchmarks/sequential.ts P4-small` and `P6-val --options '{...}'`.
 */
export interface SequentialOptions {
  /** Width of the item embeddings and of the GRU state. Default 64: not tuned (DREAM-size; twice NeuralCF's 32). */
  factors: number;
  /** Most recent baskets of a shopper the model reads (training and scoring). Default 50: the P6 data keep at most 50 per user. */
  maxBaskets: number;
  /**
   * Negatives per prediction step drawn from the shopper's own past items that the next basket
   * does not contain, so the repeat head learns which past items do not come back. Default 8:
   * not tuned (about one basket's worth on Instacart-like data).
   */
  historyNegatives: number;
  /**
   * Catalog negative distribution: 'uniform', or 'popularity' (purchase count ^ 0.75; each
   * sample importance-weighted, so both estimate the same loss). Default 'popularity': on P6's
   * keyset.val users recall@20 0.1891 vs 0.1692 uniform (benchmarks/sequential.ts P6-val).
   */
  sampling: SequentialSampling;
  /** Most epochs (early stopping usually ends sooner). Default 30. */
  epochs: number;
  /** Shoppers (sequences) per mini-batch. Default 128: not tuned. */
  batchSize: number;
  /** Adam step size. Default 0.005 (NeuralCF's): on P6's keyset.val users recall@20 0.1891, 0.01 gave 0.1859. */
  learningRate: number;
  /** L2 penalty on the embedding rows an example touches. Default 1e-5: not tuned. */
  l2: number;
  /**
   * Share of shoppers (with 3+ baskets) whose last basket is held out to decide early stopping
   * (at most 2,000 shoppers); 0 turns early stopping off. Default 0.1 (NeuralCF's practice).
   */
  validationShare: number;
  /** Epochs without validation improvement before stopping (the best epoch's weights are kept). Default 2 (NeuralCF's). */
  patience: number;
  /** Cutoff of the validation recall that early stopping watches. Default 20 (the P6 headline cutoff). */
  validationK: number;
  /**
   * Candidates score() takes from an attached vector index (useVectorIndex), on top of the
   * query's past items (always scored). Default 1000: the ensemble's per-strategy candidate cut.
   */
  indexCandidates: number;
  /** tfjs backend for training ('auto': the first that starts of wasm, webgl, cpu). Default 'auto'. */
  backend: TfBackend;
  /** Where tfjs-backend-wasm finds its .wasm files in a bundle (setWasmPaths prefix). Default null (Node resolves them). */
  wasmPaths: string | null;
}

export const SEQUENTIAL_CHECKS: OptionChecks<SequentialOptions> = {
  factors: integer({ min: 1, max: 1024 }),
  maxBaskets: integer({ min: 2 }),
  historyNegatives: integer({ min: 0 }),
  sampling: oneOf(['uniform', 'popularity']),
  epochs: integer({ min: 1 }),
  batchSize: integer({ min: 1 }),
  learningRate: number({ min: 0, exclusiveMin: true }),
  l2: number({ min: 0 }),
  validationShare: number({ min: 0, max: 0.9 }),
  patience: integer({ min: 1 }),
  validationK: integer({ min: 1 }),
  indexCandidates: integer({ min: 1 }),
  backend: oneOf(TF_BACKENDS),
  wasmPaths: nullable(string()),
};

export const SEQUENTIAL_DEFAULTS: Readonly<SequentialOptions> = Object.freeze({
  factors: 64,
  maxBaskets: 50,
  historyNegatives: 8,
  sampling: 'popularity',
  epochs: 30,
  batchSize: 128,
  learningRate: 0.005,
  l2: 1e-5,
  validationShare: 0.1,
  patience: 2,
  validationK: 20,
  indexCandidates: 1000,
  backend: 'auto',
  wasmPaths: null,
});

export function resolveSequentialOptions(options: Partial<SequentialOptions>): Readonly<SequentialOptions> {
  return resolveOptions('SequentialRecommender', SEQUENTIAL_DEFAULTS, options, SEQUENTIAL_CHECKS);
}
