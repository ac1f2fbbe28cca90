/** hybridrec/node — Node-only helpers: streamed file loaders and artifact files. */
export { loadInstacart, readInstacartTables, writeInstacartCsv, type LoadInstacartOptions, type ReadInstacartOptions } from './node/instacart';
export { loadInteractionsCsv, type InteractionsCsvOptions, type InteractionsLoad } from './node/interactions';
export { loadArtifactFile, readLines, saveArtifactFile } from './node/files';
export { loadRecommender, saveRecommender } from './node/recommender-files';
export { loadNbrJson } from './node/tafeng';
// The published split that loadNbrJson reads, as a Split for evaluate() (P6 in docs/evaluation.md).
export { nextBasketFixed, type NbrJson } from './eval/splits';
export { WorkerPool, installWorkerPool, type WorkerPoolOptions } from './node/pool';
export { hnswlibIndex, usearchIndex, type HnswlibIndexOptions, type UsearchIndexOptions } from './node/ann';
export { appendRun, dataFingerprint, findRun, readRuns, type RunRecord } from './node/runs';
