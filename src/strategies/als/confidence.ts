/**
 * ALS's confidence matrices c = alpha * weight, user-major and item-major (the transpose), built
 * in two jobs on the parallel executor rather than on the calling thread: at 100k users x 20k
 * items the weights and the transpose were a serial 0.7 s in front of a fit that the threads
 * share. Both jobs cut the users into ranges of about equal entries:
 * 1. `als-confidence-weights`: each entry's weight (NaN for an entry that is not a purchase,
 *    dropped) into a buffer aligned with the input, and per range the kept entries per user and
 *    per item;
 * 2. `als-confidence-fill`: from the offsets the calling thread sums from those counts (range by
 *    range, so an item's entries keep ascending user order), each range writes its users' entries
 *    into both matrices.
 * Each output position is written by one range, so the matrices are the same bytes as the
 * weighted matrix and its transpose built on one thread, whatever the thread count.
 */
import type { CsrMatrix } from '../../data/csr';
import { defineKernel, rangesByCost, runKernel, sharedCopy, sharedFloat32, sharedInt32 } from '../../util/parallel';
import { InteractionWeights, type InteractionWeighting } from '../../util/weighting';

/** Entries per range: about a millisecond of work each. */
const RANGE_ENTRIES = 1 << 18;
/** Each range counts its entries per item, so a large catalog takes fewer, longer ranges (2^23 counts in all). */
const RANGE_ITEM_COUNTS = 1 << 23;

/** A confidence matrix as the ALS jobs read it (arrays shared between threads where the platform can). */
export type Confidences = Pick<CsrMatrix, 'indptr' | 'indices' | 'values'>;

interface WeightInput {
  indptr: Int32Array;
  indices: Int32Array;
  counts: Float32Array;
  weighting: InteractionWeighting;
  k1: number;
  lengthNorm: Float32Array | null;
  nItems: number;
  /** Out: each entry's weight as float32, NaN where dropped. */
  weight: Float32Array;
}

/** Kept entries per user of the range, and per item. */
interface KeptCounts {
  perUser: Int32Array;
  perItem: Int32Array;
}

export const alsConfidenceWeightsKernel = defineKernel('als-confidence-weights', (input: WeightInput, start: number, end: number): KeptCounts => {
  const { indptr, indices, counts, weight } = input;
  const weights = InteractionWeights.restore(input.weighting, input.k1, input.lengthNorm, input.nItems);
  const perUser = new Int32Array(end - start);
  const perItem = new Int32Array(input.nItems);
  for (let u = start; u < end; u++) {
    let distinct = 0;
    for (let p = indptr[u]; p < indptr[u + 1]; p++) if (counts[p] > 0) distinct++;
    let kept = 0;
    for (let p = indptr[u]; p < indptr[u + 1]; p++) {
      const w = weights.weight(counts[p], indices[p], distinct);
      if (!(w > 0)) {
        weight[p] = NaN;
        continue;
      }
      weight[p] = w;
      kept++;
      perItem[indices[p]]++;
    }
    perUser[u - start] = kept;
  }
  return { perUser, perItem };
});

interface FillInput {
  indptr: Int32Array;
  indices: Int32Array;
  weight: Float32Array;
  alpha: number;
  bounds: Int32Array;
  /** Per range, nItems positions: where the range's first entry of each item goes in byItem. */
  itemStart: Int32Array;
  nItems: number;
  byUser: Confidences;
  byItem: Confidences;
}

export const alsConfidenceFillKernel = defineKernel('als-confidence-fill', (input: FillInput, start: number, end: number): null => {
  const { indptr, indices, weight, alpha, nItems, byUser, byItem } = input;
  const range = input.bounds.indexOf(start);
  const next = input.itemStart.slice(range * nItems, (range + 1) * nItems);
  let q = byUser.indptr[start];
  for (let u = start; u < end; u++) {
    for (let p = indptr[u]; p < indptr[u + 1]; p++) {
      const w = weight[p];
      if (w !== w) continue;
      const i = indices[p];
      // Rounded to float32 as the weight was, then scaled (and rounded) once.
      const c = Math.fround(w * alpha);
      byUser.indices[q] = i;
      byUser.values[q++] = c;
      const at = next[i]++;
      byItem.indices[at] = u;
      byItem.values[at] = c;
    }
  }
  return null;
});

/**
 * The user-major confidences alpha * weight of `m` (users x items; entries weighted <= 0
 * dropped) and their item-major transpose, each row in index order.
 */
export async function confidenceMatrices(
  m: CsrMatrix,
  weights: InteractionWeights,
  alpha: number,
  run: { threads?: number; signal?: AbortSignal; stage: string },
): Promise<{ byUser: Confidences; byItem: Confidences }> {
  const { nRows, nCols } = m;
  // Shared once for both jobs (each job would copy a plain array for the workers).
  const indptr = sharedCopy(m.indptr);
  const indices = sharedCopy(m.indices);
  const values = sharedCopy(m.values);
  const maxRanges = Math.max(2, Math.floor(RANGE_ITEM_COUNTS / Math.max(1, nCols)));
  const bounds = rangesByCost(nRows, Math.max(RANGE_ENTRIES, Math.ceil(values.length / maxRanges)), (u) => 1 + indptr[u + 1] - indptr[u]);
  const weight = sharedFloat32(values.length);
  const input: WeightInput = { indptr, indices, counts: values, weighting: weights.weighting, k1: weights.k1, lengthNorm: weights.lengthNorm, nItems: nCols, weight };
  const kept = await runKernel(alsConfidenceWeightsKernel, input, bounds, run);
  const userPtr = sharedInt32(nRows + 1);
  const itemPtr = sharedInt32(nCols + 1);
  const itemStart = sharedInt32(kept.length * nCols);
  for (let r = 0; r < kept.length; r++) {
    const { perUser, perItem } = kept[r];
    for (let t = 0; t < perUser.length; t++) userPtr[bounds[r] + t + 1] = userPtr[bounds[r] + t] + perUser[t];
    for (let i = 0; i < nCols; i++) itemPtr[i + 1] += perItem[i];
  }
  for (let i = 0; i < nCols; i++) itemPtr[i + 1] += itemPtr[i];
  // Range r's entries of item i follow those of ranges before it.
  for (let i = 0; i < nCols; i++) {
    let at = itemPtr[i];
    for (let r = 0; r < kept.length; r++) {
      itemStart[r * nCols + i] = at;
      at += kept[r].perItem[i];
    }
  }
  const nnz = userPtr[nRows];
  const byUser = { indptr: userPtr, indices: sharedInt32(nnz), values: sharedFloat32(nnz) };
  const byItem = { indptr: itemPtr, indices: sharedInt32(nnz), values: sharedFloat32(nnz) };
  await runKernel(alsConfidenceFillKernel, { indptr, indices, weight, alpha, bounds, itemStart, nItems: nCols, byUser, byItem }, bounds, run);
  return { byUser, byItem };
}
