import type { CsrMatrix } from '../../data/csr';
import { NegativeSampler } from '../../util/negatives';
import { shuffleInPlace, type Rng } from '../../util/random';

export { NegativeSampler, popularityCdf } from '../../util/negatives';

/** Training positives as parallel arrays (one entry per nonzero of the interaction matrix kept for training). */
export interface Positives {
  user: Int32Array;
  item: Int32Array;
  weight: Float32Array;
}

/** Held-out positives for early stopping, each with `perPositive` fixed sampled negatives. */
export interface ValidationSet {
  user: Int32Array;
  item: Int32Array;
  negatives: Int32Array;
  perPositive: number;
}

/** Negatives drawn per held-out positive to estimate AUC. */
const VALIDATION_NEGATIVES = 4;

/** Bound on held-out positives scored per epoch, so validation stays a small share of an epoch. */
const MAX_VALIDATION_POSITIVES = 50_000;

/**
 * Splits the purchases of `m` (entries with a weight > 0; a zero or negative count is not a
 * purchase) into training positives and, when share > 0, a validation set: each user's items
 * are shuffled and share * n of them, stochastically rounded, are held out, always leaving at
 * least one for training so every user keeps an embedding signal.
 */
export function splitPositives(
  m: CsrMatrix,
  weighting: 'binary' | 'log1p',
  share: number,
  sampler: NegativeSampler,
  rng: Rng,
): { train: Positives; validation: ValidationSet | null } {
  const nnz = m.nnz;
  const held = new Uint8Array(nnz);
  let nPositive = 0;
  let nHeld = 0;
  let entries = new Int32Array(0);
  for (let u = 0; u < m.nRows; u++) {
    let n = 0;
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) {
      if (!(m.values[p] > 0)) continue;
      if (entries.length === n) {
        const grown = new Int32Array(Math.max(16, 2 * n));
        grown.set(entries);
        entries = grown;
      }
      entries[n++] = p;
    }
    nPositive += n;
    if (share === 0 || n < 2) continue;
    const k = Math.min(n - 1, Math.floor(n * share + rng()));
    if (k === 0) continue;
    const own = entries.subarray(0, n);
    shuffleInPlace(own, rng);
    for (let i = 0; i < k; i++) held[own[i]] = 1;
    nHeld += k;
  }
  const train: Positives = {
    user: new Int32Array(nPositive - nHeld),
    item: new Int32Array(nPositive - nHeld),
    weight: new Float32Array(nPositive - nHeld),
  };
  const heldUser = new Int32Array(nHeld);
  const heldItem = new Int32Array(nHeld);
  let t = 0;
  let h = 0;
  for (let u = 0; u < m.nRows; u++) {
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) {
      if (!(m.values[p] > 0)) continue;
      if (held[p]) {
        heldUser[h] = u;
        heldItem[h++] = m.indices[p];
      } else {
        train.user[t] = u;
        train.item[t] = m.indices[p];
        train.weight[t++] = weighting === 'log1p' ? Math.log1p(m.values[p]) : 1;
      }
    }
  }
  if (nHeld === 0) return { train, validation: null };

  let pick = Int32Array.from({ length: nHeld }, (_, i) => i);
  if (nHeld > MAX_VALIDATION_POSITIVES) pick = shuffleInPlace(pick, rng).slice(0, MAX_VALIDATION_POSITIVES).sort();
  const validation: ValidationSet = {
    user: new Int32Array(pick.length),
    item: new Int32Array(pick.length),
    negatives: new Int32Array(pick.length * VALIDATION_NEGATIVES),
    perPositive: VALIDATION_NEGATIVES,
  };
  for (let k = 0; k < pick.length; k++) {
    const u = heldUser[pick[k]];
    validation.user[k] = u;
    validation.item[k] = heldItem[pick[k]];
    for (let j = 0; j < VALIDATION_NEGATIVES; j++) validation.negatives[k * VALIDATION_NEGATIVES + j] = sampler.drawFor(rng, m, u);
  }
  return { train, validation };
}
