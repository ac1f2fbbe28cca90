/**
 * hybridrec/strategy — building blocks for writing a strategy (a Recommender) of your own, or
 * tools around the built-in ones: the query and score types, argument and options checks,
 * sparse kernels, artifact sections, seeded randomness, abortable pacing, the rule miner,
 * and the metric functions. Isomorphic, like 'hybridrec'.
 */

// The Recommender contract
export {
  ScoreVector,
  type BasketTimeline,
  type Explanation,
  type FitOptions,
  type ItemNamer,
  type Json,
  type JsonObject,
  type Progress,
  type Query,
  type Recommender,
  type SaveOptions,
  type SparseVector,
  type StrategyLoader,
} from './strategies/types';
export { anonymousQuery, userQuery, userTimeline } from './strategies/query';
export { checkDataset, checkItem, checkQuery, checkScores } from './strategies/checks';
export { basketWeight } from './strategies/decay';
export { BUILTIN_LOADERS } from './ensemble/registry';
export { NORMALIZATIONS } from './ensemble/normalize';

// Options: the one mechanism every class uses
export {
  arrayOf,
  boolean,
  custom,
  describe,
  id,
  idList,
  integer,
  nullable,
  number,
  oneOf,
  optionsFromArtifact,
  optionsToJson,
  resolveOptions,
  string,
  type Check,
  type OptionChecks,
} from './util/options';

// Data structures and kernels
export { Dataset, emptyCatalog, type BasketInput, type InteractionInput } from './data/dataset';
export { CsrMatrix } from './data/csr';
export { IdIndex, compareRawIds } from './data/ids';
export { CsvParser, parseCsv } from './data/csv';
export { cooccurrence, type CooccurrenceOptions, type PairMeasure } from './util/cooccurrence';
export { TopK, topKDense } from './util/topk';
export { ExactVectorIndex, VectorIndexSlot, exactIndex, isVectorIndexed, type SerializedIndex, type VectorIndexed, type VectorSource } from './util/ann';
export { InnerProductIndex, type BatchTopK, type Exclusions } from './util/dense';
export { defineKernel, inlineExecutor, rangesByCost, runKernel, setDefaultExecutor, type Executor, type Kernel, type ParallelOptions } from './util/parallel';
export { StateReader, checkCsr, checkIndices, checkLength, checkNonDecreasing, checkPointers, checkSortedRanges, checkSymmetric, checkValues, readCsr, scopeName, readF32, readF64, readI32, readIndices, readPointers, readStrings, stateInteger, stateNumber, type CsrArrays, type CsrCheckOptions, type LoadContext, type ValueRange } from './artifact/validate';
export { Pace } from './util/pace';
export { deriveSeed, mulberry32 } from './util/random';
export { generateGroceryWithTruth, type SyntheticTruth } from './data/synthetic';

// Artifacts: a strategy's save(out) writes sections, its load(state, sections) reads them
export { ArtifactReader, ArtifactWriter, FORMAT_VERSION } from './artifact/container';
export type { SectionReader, SectionWriter } from './artifact/sections';

// The rule miner and content tools on their own
export {
  FrequentItemsets,
  RuleSet,
  generateRules,
  mineItemsets,
  supportThreshold,
  type ItemsetOptions,
  type RuleOptions,
  type Transactions,
} from './strategies/association-rules';
export { tokenize, type DenseItemVectors, type ItemVectors, type SparseItemVectors } from './strategies/content';

// Metric functions (evaluate() computes them all)
export { MetricAccumulator, averagePrecisionAtK, hitAtK, ndcgAtK, ndcgFullAtK, precisionAtK, recallAtK, type TargetSet } from './eval/metrics';
