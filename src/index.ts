/**
 * hybridrec — the isomorphic entry (Node and browsers). Nothing reachable from here imports
 * a Node built-in; file loaders and file artifact helpers live in 'hybridrec/node'.
 */

// Ensemble
export {
  HybridRecommender,
  LIBRARY_VERSION,
  type HybridOptions,
  type ItemInfo,
  type Reason,
  type RecommendOptions,
  type Recommendation,
} from './ensemble/hybrid';
export { NORMALIZATIONS, type Normalization } from './ensemble/normalize';
export { DEFAULT_TUNE_OPTIONS, type TuneMetric, type TuneOptions, type TuneResult, type ValidationProtocol } from './ensemble/tune';
export { BUILTIN_LOADERS } from './ensemble/registry';

// Strategies
export { Popularity, type PopularityOptions } from './strategies/popularity';
export { RepeatPurchase, type RepeatPurchaseOptions } from './strategies/repeat-purchase';
export { ItemKNN, type ItemKNNOptions, type KnnWeighting, type HistoryWeighting } from './strategies/item-knn';
export { NeuralCF, NCF_DEFAULTS, type NeuralCFOptions } from './strategies/neural-cf';
export { ContentBased, TfidfEncoder, MiniLMEncoder, ENGLISH_STOP_WORDS, tokenize, type ContentBasedOptions, type TfidfOptions, type MiniLMOptions } from './strategies/content';
export {
  AssociationRules,
  ASSOCIATION_RULES_DEFAULTS,
  FrequentItemsets,
  RuleSet,
  generateRules,
  mineItemsets,
  supportThreshold,
  type AssociationRule,
  type AssociationRulesOptions,
  type Itemset,
  type ItemsetOptions,
  type RuleOptions,
  type Transactions,
} from './strategies/association-rules';
export { CoPurchaseGraph, DEFAULT_GRAPH_OPTIONS, type CoPurchaseGraphOptions, type CentralityKind, type GraphWeighting } from './strategies/copurchase-graph';
export { anonymousQuery, userQuery } from './strategies/query';
export {
  ScoreVector,
  type BasketTimeline,
  type Explanation,
  type FitOptions,
  type ItemNamer,
  type Progress,
  type Query,
  type Recommender,
  type SparseVector,
  type StrategyLoader,
} from './strategies/types';

// Data
export { Dataset, emptyCatalog, type Baskets, type Catalog } from './data/dataset';
export { CsrMatrix } from './data/csr';
export { IdIndex, compareRawIds } from './data/ids';
export { CsvParser, parseCsv } from './data/csv';
export { datasetFromInstacart, type InstacartTables, type InstacartDatasetOptions, type InstacartSummary } from './data/instacart';
export { datasetFromInteractions, interactionsFromRows, type InteractionMapping, type InteractionRows } from './data/interactions';
export { generateGrocery, generateGroceryWithTruth, type SyntheticOptions, type SyntheticTruth } from './data/synthetic';
export { cooccurrence, type CooccurrenceOptions } from './util/cooccurrence';

// Evaluation
export { evaluate, type EvalResult, type EvaluateOptions, type IndexRanker } from './eval/evaluate';
export { basketCompletion, holdoutRandom, holdoutTemporal, nextBasket, type EvalQuery, type Split } from './eval/splits';
export {
  averagePrecisionAtK,
  hitAtK,
  ndcgAtK,
  precisionAtK,
  recallAtK,
  MetricAccumulator,
  type MetricSummary,
} from './eval/metrics';

// Artifacts
export { ArtifactReader, ArtifactWriter, FORMAT_VERSION } from './artifact/container';
export type { SectionReader, SectionWriter } from './artifact/sections';

// Errors and utilities
export {
  AbortedError,
  ArtifactError,
  ArtifactVersionError,
  DataError,
  EmptyDataError,
  HybridrecError,
  NotFittedError,
  OptionError,
  UnknownIdError,
} from './errors';
export { mulberry32 } from './util/random';
export type { Json, JsonObject } from './util/json';
