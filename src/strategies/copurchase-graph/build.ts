import { CsrMatrix } from '../../data/csr';
import type { Dataset } from '../../data/dataset';
import { throwIfAborted } from '../../errors';
import { cooccurrence, symmetricUnion, type PairMeasure } from '../../util/cooccurrence';
import type { FitOptions } from '../types';

/**
 * How a co-purchase count c(i, j) becomes an edge weight, with n(i) the number of baskets
 * holding i and N the number of baskets:
 * - 'count': c
 * - 'pmi': the lift c N / (n(i) n(j)), i.e. exp(PMI): a walk needs positive weights, and this
 *   keeps every co-purchased pair while ranking pairs exactly as PMI does
 * - 'ppmi': max(0, log(c N / (n(i) n(j)))): pairs bought together no more than chance are dropped
 * - 'jaccard': c / (n(i) + n(j) - c)
 * - 'cosine': c / sqrt(n(i) n(j))
 */
export type GraphWeighting = 'count' | 'pmi' | 'ppmi' | 'jaccard' | 'cosine';

export const WEIGHTINGS: readonly GraphWeighting[] = ['count', 'pmi', 'ppmi', 'jaccard', 'cosine'];

/**
 * Baskets x items with value 1 for every item in the basket (repeated lines count once).
 * Without baskets (interaction-only data) each user's history is one basket, so the graph
 * still links items bought by the same people.
 */
export function basketMatrix(data: Dataset): CsrMatrix {
  const { itemPtr, items } = data.baskets;
  const nBaskets = itemPtr.length - 1;
  if (nBaskets === 0) {
    const m = data.interactions;
    return new CsrMatrix(m.nRows, m.nCols, m.indptr, m.indices, new Float32Array(m.nnz).fill(1));
  }
  const indptr = new Int32Array(nBaskets + 1);
  const indices = new Int32Array(items.length);
  let nnz = 0;
  for (let b = 0; b < nBaskets; b++) {
    const start = nnz;
    const lines = items.subarray(itemPtr[b], itemPtr[b + 1]);
    indices.set(lines, start);
    const row = indices.subarray(start, start + lines.length).sort();
    for (let k = 0; k < row.length; k++) {
      if (k > 0 && row[k] === row[k - 1]) continue;
      indices[nnz++] = row[k];
    }
    indptr[b + 1] = nnz;
  }
  return new CsrMatrix(nBaskets, data.nItems, indptr, indices.slice(0, nnz), new Float32Array(nnz).fill(1));
}

/** The co-occurrence measure of a weighting; `support` holds n(i), the baskets holding each item. */
function pairMeasure(weighting: GraphWeighting, support: Int32Array, rows: number): PairMeasure {
  switch (weighting) {
    case 'count':
      return { kind: 'sum' };
    case 'pmi':
      return { kind: 'lift', support, rows };
    case 'ppmi':
      return { kind: 'log-lift', support, rows };
    case 'jaccard':
      return { kind: 'jaccard', support };
    case 'cosine':
      return { kind: 'ochiai', support };
  }
}

export interface EdgeOptions {
  edgeWeighting: GraphWeighting;
  minCount: number;
  neighbors: number;
}

/**
 * The weighted co-purchase graph as a symmetric item x item CSR (both directions stored, no
 * self loops). Each item keeps its `neighbors` heaviest edges, and an edge survives when
 * either end kept it, so the graph stays undirected and holds at most 2 x neighbors x
 * nItems entries however many baskets there are.
 */
export async function buildEdges(data: Dataset, options: EdgeOptions, fit: FitOptions): Promise<CsrMatrix> {
  const stage = 'graph';
  throwIfAborted(fit.signal, stage);
  const baskets = basketMatrix(data);
  const itemBaskets = new Int32Array(baskets.nCols);
  for (let p = 0; p < baskets.indices.length; p++) itemBaskets[baskets.indices[p]]++;
  const pruned = await cooccurrence(baskets, {
    binary: true,
    minCount: options.minCount,
    topN: options.neighbors,
    measure: pairMeasure(options.edgeWeighting, itemBaskets, baskets.nRows),
    threads: fit.threads,
    signal: fit.signal,
    onProgress: fit.onProgress,
    stage,
  });
  throwIfAborted(fit.signal, stage);
  return symmetricUnion(pruned);
}

export { symmetricUnion };
