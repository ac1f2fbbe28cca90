/**
 * recommendBatch's worker kernel: Node-only (it loads a whole recommender on a pool thread), so
 * the isomorphic core names it (BATCH_KERNEL in src/ensemble/hybrid.ts) without importing it,
 * and a browser bundle does not carry it.
 */
import { packLists, sourceNames, type PackedLists } from '../ensemble/batch-lists';
import { BATCH_KERNEL, HybridRecommender, type BatchInput } from '../ensemble/hybrid';
import { defineKernel } from '../util/parallel';

/** The recommender this thread loaded for the batch kernel, and its sources' names: one at a time (a new fit sends a new artifact). */
let workerModel: { model: number; loaded: Promise<{ rec: HybridRecommender; sources: string[] }> } | null = null;

/**
 * Ranks shoppers [start, end) of a parallel recommendBatch on a worker thread: recommend() on
 * this thread's copy of the recommender, loaded from the artifact on the thread's first block,
 * and the lists packed for the trip back (src/ensemble/batch-lists.ts).
 */
export const recommendBatchKernel = defineKernel(BATCH_KERNEL, async (input: BatchInput, start: number, end: number): Promise<PackedLists> => {
  if (workerModel === null || workerModel.model !== input.model) {
    workerModel = { model: input.model, loaded: HybridRecommender.load(input.artifact).then((rec) => ({ rec, sources: sourceNames(rec.strategyNames) })) };
  }
  const { rec, sources } = await workerModel.loaded;
  const lists = await rec.recommendBatch(input.shoppers.slice(start, end), { ...input.options, threads: 1 });
  return packLists(lists, rec.dataset.items, sources, input.options.explain);
});
