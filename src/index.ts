/**
 * hybridrec — the isomorphic entry (Node and browsers): what an application needs to fit,
 * evaluate, save, load and serve recommendations. Nothing reachable from here imports a Node
 * built-in; file loaders live in 'hybridrec/node', the building blocks for writing your own
 * strategy in 'hybridrec/strategy'.
 */

// The recommender
export {
  HybridRecommender,
  type HybridInit,
  type HybridOptions,
  type ItemInfo,
  type LoadOptions,
  type Reason,
  type RecommendOptions,
  type BatchOptions,
  type Recommendation,
  type SaveOptions,
  type SimilarItemsOptions,
  type FeatureContribution,
  type ListKind,
  type RerankerOptions,
  type RerankerSummary,
} from './ensemble/hybrid';
export type { Shopper, ShopperInput, UnknownItemPolicy } from './ensemble/shopper';
export type { Normalization } from './ensemble/normalize';
export type { TuneMetric, TuneOptions, TuneResult, ValidationProtocol } from './ensemble/tune';

// Strategies
export { Popularity, type PopularityOptions } from './strategies/popularity';
export { RepeatPurchase, type RepeatPurchaseOptions } from './strategies/repeat-purchase';
export { ItemKNN, type ItemKNNOptions, type KnnWeighting, type HistoryWeighting } from './strategies/item-knn';
export { NeuralCF, type NeuralCFOptions, type NcfTrainingInfo } from './strategies/neural-cf';
export {
  ContentBased,
  MiniLMEncoder,
  TfidfEncoder,
  type ContentBasedOptions,
  type ContentEncoder,
  type ItemTemplate,
  type MiniLMOptions,
  type TfidfOptions,
} from './strategies/content';
export { AssociationRules, type AssociationRule, type AssociationRulesOptions, type Itemset } from './strategies/association-rules';
export { CoPurchaseGraph, type CentralityKind, type CoPurchaseGraphOptions, type GraphWeighting } from './strategies/copurchase-graph';
export { ALS, type ALSOptions } from './strategies/als';
export { EASE, type EASEOptions, type EASESummary } from './strategies/ease';
export { TIFUKNN, type TIFUKNNOptions } from './strategies/tifu-knn';
export { SequentialRecommender, type SequentialOptions, type SequentialTrainingInfo } from './strategies/sequential';
export { TwoTower, type TwoTowerOptions, type TwoTowerScoring, type TwoTowerTaskWeights, type TwoTowerTrainingInfo } from './strategies/two-tower';
export type { VectorIndex, VectorIndexFactory, VectorMatches, VectorMetric } from './util/ann';
export type { FitOptions, Progress, Recommender } from './strategies/types';

// Data
export type { Baskets, Catalog, Dataset } from './data/dataset';
export { datasetFromInstacart, type InstacartDatasetOptions, type InstacartSummary, type InstacartTables } from './data/instacart';
export { datasetFromInteractions, interactionsFromRows, type InteractionMapping, type InteractionRows } from './data/interactions';
export { recencyWeighted, type RecencyOptions } from './data/recency';
export { generateGrocery, type SyntheticOptions } from './data/synthetic';

// Evaluation
export { evaluate, type EvalResult, type EvaluateOptions, type IndexRanker } from './eval/evaluate';
export { ensembleRanker, strategyRanker, weightedRanker, type EnsembleRankerOptions } from './eval/rankers';
export { basketCompletion, holdoutRandom, holdoutTemporal, nextBasket, type EvalQuery, type Split } from './eval/splits';
export { coldItems, type ColdItemsOptions } from './eval/cold-items';
export type { MetricSummary } from './eval/metrics';

// Errors
export {
  AbortedError,
  ArtifactError,
  ArtifactVersionError,
  DataError,
  EmptyDataError,
  HybridrecError,
  MissingDependencyError,
  NotFittedError,
  OptionError,
  NoCustomerDataError,
  UnknownIdError,
} from './errors';
