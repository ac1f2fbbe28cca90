/**
 * The main entry as Node loads it (package.json `exports` condition "node"): the same API as
 * src/index.ts, with the worker pool installed as the default executor at import, so every
 * fit uses all cores with no extra code (FitOptions.threads: 1 keeps a fit on the calling
 * thread). Browsers and browser bundles get src/index.ts, which never reaches worker_threads.
 */
import { installWorkerPool } from './node/pool';

installWorkerPool();

export * from './index';
