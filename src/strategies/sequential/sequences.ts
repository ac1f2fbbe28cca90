import type { Dataset } from '../../data/dataset';
import { shuffleInPlace, type Rng } from '../../util/random';

/**
 * Shoppers' basket sequences as flat arrays: sequence s has baskets basketPtr[s] ..
 * basketPtr[s+1) (oldest first), basket b has the distinct items items[itemPtr[b] ..
 * itemPtr[b+1]) in ascending order. Empty baskets are dropped.
 */
export interface Sequences {
  basketPtr: Int32Array;
  itemPtr: Int32Array;
  items: Int32Array;
}

export function sequenceCount(s: Sequences): number {
  return s.basketPtr.length - 1;
}

export function basketsOf(s: Sequences, seq: number): number {
  return s.basketPtr[seq + 1] - s.basketPtr[seq];
}

/** What training sees: sequences of 2+ baskets, and the validation shoppers' held-out next baskets. */
export interface TrainingSequences {
  train: Sequences;
  /** Validation shoppers: their input baskets (also in `train`, without the target) and target baskets (one per sequence). */
  validation: { inputs: Sequences; targets: Sequences } | null;
}

/** Bound on validation shoppers, so validating stays a small share of an epoch. */
export const MAX_VALIDATION_SEQUENCES = 2000;

/**
 * Each shopper's last `maxBaskets` non-empty baskets (distinct items). When share > 0, a
 * seeded `share` of the shoppers with 3+ baskets (at most MAX_VALIDATION_SEQUENCES) give their
 * last basket as a validation target and train on the baskets before it; shoppers with fewer
 * than 2 baskets (no transition to learn) are left out of training.
 */
export function buildSequences(data: Dataset, maxBaskets: number, share: number, rng: Rng): TrainingSequences {
  const { userPtr, itemPtr, items } = data.baskets;
  const nUsers = data.nUsers;
  // Distinct sorted items per basket, empty baskets dropped.
  const cleanPtr = new Int32Array(itemPtr.length);
  const clean = new Int32Array(items.length);
  const keptPtr = new Int32Array(nUsers + 1);
  const kept: number[] = [];
  let n = 0;
  const nonEmpty = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) {
    for (let b = userPtr[u]; b < userPtr[u + 1]; b++) {
      const start = n;
      const lines = Array.from(items.subarray(itemPtr[b], itemPtr[b + 1])).sort((x, y) => x - y);
      for (let k = 0; k < lines.length; k++) if (k === 0 || lines[k] !== lines[k - 1]) clean[n++] = lines[k];
      cleanPtr[b] = start;
      cleanPtr[b + 1] = n;
      if (n > start) {
        kept.push(b);
        nonEmpty[u]++;
      }
    }
    keptPtr[u + 1] = kept.length;
  }
  // Baskets are contiguous, so basket b's lines are clean[cleanPtr[b] .. cleanPtr[b + 1]).
  const basketStart = (b: number) => cleanPtr[b];
  const basketEnd = (b: number) => cleanPtr[b + 1];

  const eligible: number[] = [];
  for (let u = 0; u < nUsers; u++) if (nonEmpty[u] >= 3) eligible.push(u);
  const isValidation = new Uint8Array(nUsers);
  if (share > 0 && eligible.length > 0) {
    const pick = shuffleInPlace(Int32Array.from(eligible), rng);
    const count = Math.min(MAX_VALIDATION_SEQUENCES, Math.round(share * eligible.length));
    for (let k = 0; k < count; k++) isValidation[pick[k]] = 1;
  }

  const trainParts: number[][] = [];
  const inputParts: number[][] = [];
  const targetParts: number[][] = [];
  for (let u = 0; u < nUsers; u++) {
    let own = kept.slice(keptPtr[u], keptPtr[u + 1]);
    if (isValidation[u]) {
      const target = own[own.length - 1];
      own = own.slice(0, -1).slice(-maxBaskets);
      inputParts.push(own);
      targetParts.push([target]);
    } else {
      own = own.slice(-maxBaskets);
    }
    if (own.length >= 2) trainParts.push(own);
  }
  const pack = (parts: number[][]): Sequences => {
    const basketPtr = new Int32Array(parts.length + 1);
    let nBaskets = 0;
    let nItems = 0;
    parts.forEach((p, s) => {
      nBaskets += p.length;
      basketPtr[s + 1] = nBaskets;
      for (const b of p) nItems += basketEnd(b) - basketStart(b);
    });
    const ptr = new Int32Array(nBaskets + 1);
    const out = new Int32Array(nItems);
    let k = 0;
    let m = 0;
    for (const p of parts) {
      for (const b of p) {
        out.set(clean.subarray(basketStart(b), basketEnd(b)), m);
        m += basketEnd(b) - basketStart(b);
        ptr[++k] = m;
      }
    }
    return { basketPtr, itemPtr: ptr, items: out };
  };
  return {
    train: pack(trainParts),
    validation: inputParts.length > 0 ? { inputs: pack(inputParts), targets: pack(targetParts) } : null,
  };
}
