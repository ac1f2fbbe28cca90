// Entry of a pool worker while hybridrec runs from its TypeScript sources (vitest, tsx): Node
// cannot load worker.ts by itself, so register tsx in this thread first. The built package
// starts dist/worker.js (or .cjs) instead and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
