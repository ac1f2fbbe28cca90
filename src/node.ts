/** hybridrec/node — Node-only helpers: streamed file loaders and artifact files. */
export { loadInstacart, readInstacartTables, writeInstacartCsv, type LoadInstacartOptions, type ReadInstacartOptions } from './node/instacart';
export { loadInteractionsCsv, type InteractionsCsvOptions, type InteractionsLoad } from './node/interactions';
export { loadArtifactFile, readLines, saveArtifactFile } from './node/files';
export { loadRecommender, saveRecommender } from './node/recommender-files';
export { loadNbrJson } from './node/tafeng';
export { WorkerPool, installWorkerPool, type WorkerPoolOptions } from './node/pool';
export { hnswlibIndex, usearchIndex, type HnswlibIndexOptions, type UsearchIndexOptions } from './node/ann';
export { appendRun, dataFingerprint, findRun, readRuns, type RunRecord } from './node/runs';
