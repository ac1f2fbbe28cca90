/**
 * recommendBatch's worker kernel: Node-only (it loads a whole recommender on a pool thread), so
 * the isomorphic core names it (BATCH_KERNEL in src/ensemble/hybrid.ts) without importing it,
 * and a browser bundle does not carry it.
 */
import { BATCH_KERNEL, HybridRecommender, type BatchInput, type Recommendation } from '../ensemble/hybrid';
import { defineKernel } from '../util/parallel';

/** The recommender this thread loaded for the batch kernel: one at a time (a new fit sends a new artifact). */
let workerModel: { model: number; rec: Promise<HybridRecommender> } | null = null;

/**
 * Ranks shoppers [start, end) of a parallel recommendBatch on a worker thread: recommend() on
 * this thread's copy of the recommender, loaded from the artifact on the thread's first block.
 */
export const recommendBatchKernel = defineKernel(BATCH_KERNEL, async (input: BatchInput, start: number, end: number): Promise<Recommendation[][]> => {
  if (workerModel === null || workerModel.model !== input.model) workerModel = { model: input.model, rec: HybridRecommender.load(input.artifact) };
  const rec = await workerModel.rec;
  return rec.recommendBatch(input.shoppers.slice(start, end), { ...input.options, threads: 1 });
});
