/**
 * Every kernel a pool worker can run, by name. A kernel is defined (with defineKernel) in the
 * isomorphic module that owns its job; list it here so workers find it. The pool refuses a
 * kernel missing from this table before any worker starts.
 */
import { alsConfidenceFillKernel, alsConfidenceWeightsKernel } from '../strategies/als/confidence';
import { alsGramKernel, alsSolveKernel } from '../strategies/als/solve';
import { occurrencePairsKernel, trianglePairsKernel } from '../strategies/association-rules/miner';
import { columnCountsKernel, columnsKernel, cooccurrenceKernel, heapRowsKernel } from '../util/cooccurrence';
import type { Kernel } from '../util/parallel';

/**
 * recommendBatch's kernel (src/node/batch-kernel.ts), imported on its first range: it brings in
 * the whole library, which a worker started for a fit should not load at start (about 0.4 s
 * more per worker from the TypeScript sources). The name is the core's BATCH_KERNEL, written
 * out so this table does not import the library either.
 */
let batch: Promise<typeof import('./batch-kernel')> | null = null;
const recommendBatchKernel: Kernel<object, unknown> = {
  name: 'ensemble.recommend-batch',
  // Imported once: every import() would resolve the specifier again (through tsx's loader thread from the sources).
  run: async (input, start, end) => (await (batch ??= import('./batch-kernel'))).recommendBatchKernel.run(input as never, start, end),
};

// Inputs and outputs differ per kernel; each defining module types its own.
export const KERNELS: ReadonlyMap<string, Kernel<any, unknown>> = new Map([columnCountsKernel, columnsKernel, cooccurrenceKernel, heapRowsKernel, trianglePairsKernel, occurrencePairsKernel, alsGramKernel, alsSolveKernel, alsConfidenceWeightsKernel, alsConfidenceFillKernel, recommendBatchKernel].map((k) => [k.name, k]));
