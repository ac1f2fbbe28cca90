/**
 * recommendBatch's worker kernel: Node-only (it loads a whole recommender on a pool thread), so
 * the isomorphic core names it (BATCH_KERNEL in src/ensemble/hybrid.ts) without importing it,
 * and a browser bundle does not carry it.
 */
import type { PackedLists } from '../ensemble/batch-lists';
import { BATCH_KERNEL, HybridRecommender, packBatch, type BatchInput } from '../ensemble/hybrid';
import { defineKernel } from '../util/parallel';

/** The recommender this thread loaded for the batch kernel: one at a time (a new fit sends a new artifact). */
let workerModel: { model: number; loaded: Promise<HybridRecommender> } | null = null;

/**
 * Ranks shoppers [start, end) of a parallel recommendBatch on a worker thread: this thread's
 * copy of the recommender, loaded from the artifact on the thread's first block, ranks them as
 * recommend() would and packs the lists for the trip back (src/ensemble/batch-lists.ts).
 */
export const recommendBatchKernel = defineKernel(BATCH_KERNEL, async (input: BatchInput, start: number, end: number): Promise<PackedLists> => {
  if (workerModel === null || workerModel.model !== input.model) workerModel = { model: input.model, loaded: HybridRecommender.load(input.artifact) };
  return packBatch(await workerModel.loaded, input, start, end);
});
