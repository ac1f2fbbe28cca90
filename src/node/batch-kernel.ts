/**
 * recommendBatch's worker kernel: Node-only (it loads a whole recommender on a pool thread), so
 * the isomorphic core names it (BATCH_KERNEL in src/ensemble/hybrid.ts) without importing it,
 * and a browser bundle does not carry it.
 */
import { ListPacker, type PackedLists } from '../ensemble/batch-lists';
import { BATCH_KERNEL, HybridRecommender, rankBatchBlock, type BatchInput } from '../ensemble/hybrid';
import { defineKernel } from '../util/parallel';

/** The recommender this thread loaded for the batch kernel, and its number of strategies: one at a time (a new fit sends a new artifact). */
let workerModel: { model: number; loaded: Promise<{ rec: HybridRecommender; nStrategies: number }> } | null = null;

/**
 * Ranks shoppers [start, end) of a parallel recommendBatch on a worker thread: this thread's
 * copy of the recommender, loaded from the artifact on the thread's first block, ranks them as
 * recommend() would, and the lists are packed as they are ranked for the trip back
 * (src/ensemble/batch-lists.ts).
 */
export const recommendBatchKernel = defineKernel(BATCH_KERNEL, async (input: BatchInput, start: number, end: number): Promise<PackedLists> => {
  if (workerModel === null || workerModel.model !== input.model) {
    workerModel = { model: input.model, loaded: HybridRecommender.load(input.artifact).then((rec) => ({ rec, nStrategies: rec.strategyNames.length })) };
  }
  const { rec, nStrategies } = await workerModel.loaded;
  const packer = new ListPacker(nStrategies, input.options.explain);
  rankBatchBlock(rec, input, start, end, packer);
  return packer.finish();
});
