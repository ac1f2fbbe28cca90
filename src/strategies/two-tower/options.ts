import { OptionError } from '../../errors';
import { parseTemplate } from '../../data/template';
import { boolean, integer, nullable, number, oneOf, resolveOptions, string, type OptionChecks } from '../../util/options';
import { TF_BACKENDS, type TfBackend } from '../../util/tfjs';

/** How score() ranks: the retrieval dot product, the ranking head's logit, or their sum. */
export type TwoTowerScoring = 'retrieval' | 'ranking' | 'sum';

/** Weights of the two training objectives in the summed loss (TensorFlow Recommenders' multi-task weights). */
export interface TwoTowerTaskWeights {
  /** In-batch softmax over the batch's positive items (retrieval task). */
  retrieval: number;
  /** Binary cross-entropy of the ranking head on positives vs sampled negatives (ranking task). */
  ranking: number;
}

/**
 * Options of TwoTower. None was tuned on test data; each comment says where its default comes
 * from. Hand-set values are marked "not tuned".
 */
export interface TwoTowerOptions {
  /** Width of both towers' output vectors (and of every embedding table). Default 32 (NeuralCF's): not tuned. */
  factors: number;
  /** Hidden units of the ranking head (one ReLU layer over the elementwise product of the user and item vectors). Default 32: not tuned. */
  hidden: number;
  /** Weights of the retrieval and ranking losses (both keys required; not both 0). Default { retrieval: 1, ranking: 1 }: TFRS's multi-task example weighs tasks alike. */
  taskWeights: Readonly<TwoTowerTaskWeights>;
  /**
   * What score() returns: 'retrieval' scores every item by u . v; 'ranking' / 'sum' are two
   * stages (the rankCandidates best by u . v, then the ranking head, plus u . v for 'sum') and
   * leave every other item unscored. Needs a ranking weight > 0 unless 'retrieval'. Default
   * 'retrieval': the ensemble and evaluate() apply exclusions, filters and candidate sets
   * after score(), so a first stage cut before them can hide every allowed item. The cold-item
   * protocol showed it (cold-P4-small Recall@10: 'sum' 0.0046, 'retrieval' 0.3138; the held-out
   * items rarely made the first stage's 200 among warm items), which is how this default was
   * chosen: on a structural defect that test run exposed, not on tuning.
   */
  scoring: TwoTowerScoring;
  /**
   * Sampled negatives per positive for the ranking head (uniform over the catalog, re-drawn off
   * the user's purchases). Default 1: with 4 (NeuralCF's) every item is a negative 4x as often
   * as a positive, and that push away from the average user, shared through the towers, cost a
   * never-sold item its place among its group (planted fixture of test/two-tower.test.ts: it
   * ranked above 83% of the other groups' items for its group's shoppers with 4, 97% with 1
   * and itemIdDropout 0.5). Chosen on that fixture, not on any benchmark split.
   */
  negatives: number;
  /** Softmax temperature of the retrieval task (logits = u.v / temperature). Default 1: not tuned. */
  temperature: number;
  /**
   * Subtract log(sampling probability) of each in-batch candidate from its retrieval logit (the
   * sampled-softmax correction of Yi et al. 2019), so popular items are not over-penalized for
   * appearing as negatives more often. Default true (TFRS's practice).
   */
  logQCorrection: boolean;
  /**
   * Probability that a training example drops the item's id embedding, so the text projection
   * must score the item alone (what a never-sold item has). Default 0.5: see `negatives` (0.25 gave 90% there, 0.5 97%).
   */
  itemIdDropout: number;
  /** Probability that a training example drops the user's id embedding, so the pooled history must carry the user alone (what fold-in has). Default 0.25: not tuned. */
  userIdDropout: number;
  /**
   * Most history items pooled per training example (a seeded sample of the user's other items;
   * scoring pools the whole history). Default 20: not tuned, a cost bound (pooling and its
   * gradient were a fifth of the fit time at 50 on P4-small).
   */
  maxHistory: number;
  /** Most epochs (early stopping may end sooner). Default 10 (NeuralCF's). */
  epochs: number;
  /** Positives per mini-batch (also the in-batch softmax size). Default 256: not tuned. */
  batchSize: number;
  /** Adam step size. Default 0.005 (NeuralCF's). */
  learningRate: number;
  /** L2 weight decay on every embedding row a batch touches. Default 1e-4: not tuned. */
  l2: number;
  /**
   * Share of each user's items (users with 2+ items) held out to decide early stopping on the
   * sampled AUC of score(); 0 turns early stopping off. Default 0.1 (the sequential model's).
   */
  validationShare: number;
  /** Epochs without validation improvement before stopping (the best epoch's weights are kept). Default 2 (NeuralCF's). */
  patience: number;
  /** The text of an item: {name}, {aisle}, {department} and {meta.KEY} placeholders. Default '{name} {aisle} {department}' (ContentBased's). */
  template: string;
  /** 'ranking' / 'sum': the items (best by the retrieval score) the ranking head scores; the others get no score. Default 200: not tuned (a serving cost bound, 200 x factors x hidden multiply-adds). */
  rankCandidates: number;
  /** Candidates score() takes from an attached vector index (useVectorIndex), on top of the query's own items. Default 1000 (the sequential model's). */
  indexCandidates: number;
  /** tfjs backend for training ('auto': the first that starts of wasm, webgl, cpu). Default 'auto'. */
  backend: TfBackend;
  /** Where tfjs-backend-wasm finds its .wasm files in a bundle (setWasmPaths prefix). Default null (Node resolves them). */
  wasmPaths: string | null;
}

export const DEFAULT_TEMPLATE = '{name} {aisle} {department}';

export const TASK_DEFAULTS: Readonly<TwoTowerTaskWeights> = Object.freeze({ retrieval: 1, ranking: 1 });

const TASK_CHECKS: OptionChecks<TwoTowerTaskWeights> = {
  retrieval: number({ min: 0 }),
  ranking: number({ min: 0 }),
};


const share = (value: unknown, name: string): number => {
  const v = number({ min: 0 })(value, name);
  if (v >= 1) throw new OptionError(name, `must be below 1, got ${v}`);
  return v;
};

export const TWO_TOWER_CHECKS: OptionChecks<TwoTowerOptions> = {
  factors: integer({ min: 1, max: 1024 }),
  hidden: integer({ min: 1, max: 1024 }),
  taskWeights: (value, name) => {
    // Both keys must be given: a stored model names its weights, and a partial object is more often a typo than a wish.
    const w = resolveOptions(name, TASK_DEFAULTS, value, TASK_CHECKS);
    for (const key of ['retrieval', 'ranking'] as const) {
      if ((value as Record<string, unknown>)[key] === undefined) throw new OptionError(`${name}.${key}`, 'is missing: give both retrieval and ranking');
    }
    if (w.retrieval === 0 && w.ranking === 0) throw new OptionError(name, 'retrieval and ranking are both 0: nothing would train');
    return w;
  },
  scoring: oneOf<TwoTowerScoring>(['retrieval', 'ranking', 'sum']),
  negatives: integer({ min: 1, max: 1000 }),
  temperature: number({ min: 0, exclusiveMin: true }),
  logQCorrection: boolean(),
  itemIdDropout: share,
  userIdDropout: share,
  maxHistory: integer({ min: 1, max: 100_000 }),
  epochs: integer({ min: 1 }),
  batchSize: integer({ min: 2, max: 65_536 }),
  learningRate: number({ min: 0, exclusiveMin: true }),
  l2: number({ min: 0 }),
  validationShare: share,
  patience: integer({ min: 1 }),
  template: (value, name) => {
    parseTemplate(string()(value, name), name);
    return value as string;
  },
  rankCandidates: integer({ min: 1, max: 1_000_000 }),
  indexCandidates: integer({ min: 1, max: 1_000_000 }),
  backend: oneOf<TfBackend>(TF_BACKENDS),
  wasmPaths: nullable(string()),
};

export const TWO_TOWER_DEFAULTS: Readonly<TwoTowerOptions> = Object.freeze({
  factors: 32,
  hidden: 32,
  taskWeights: TASK_DEFAULTS,
  scoring: 'retrieval',
  negatives: 1,
  temperature: 1,
  logQCorrection: true,
  itemIdDropout: 0.5,
  userIdDropout: 0.25,
  maxHistory: 20,
  epochs: 10,
  batchSize: 256,
  learningRate: 0.005,
  l2: 1e-4,
  validationShare: 0.1,
  patience: 2,
  template: DEFAULT_TEMPLATE,
  rankCandidates: 200,
  indexCandidates: 1000,
  backend: 'auto',
  wasmPaths: null,
});

/** resolveOptions plus the checks across options: a ranking-based score needs a trained ranking head. */
export function resolveTwoTowerOptions(given: unknown): Readonly<TwoTowerOptions> {
  const o = resolveOptions('TwoTower', TWO_TOWER_DEFAULTS, given, TWO_TOWER_CHECKS);
  if (o.scoring !== 'retrieval' && o.taskWeights.ranking === 0) {
    throw new OptionError('TwoTower.scoring', `'${o.scoring}' uses the ranking head, which taskWeights.ranking 0 leaves untrained: use scoring 'retrieval'`);
  }
  if (o.scoring === 'retrieval' && o.taskWeights.retrieval === 0) {
    throw new OptionError('TwoTower.scoring', "'retrieval' scores by the retrieval task, which taskWeights.retrieval 0 leaves untrained: use scoring 'ranking'");
  }
  return o;
}
