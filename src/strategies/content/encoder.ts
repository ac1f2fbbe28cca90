import type { SectionWriter } from '../../artifact/sections';
import type { CsrMatrix } from '../../data/csr';
import { DataError } from '../../errors';
import type { JsonObject, Progress } from '../types';

/**
 * Sparse text vectors: one CSR row per text over the encoder's vocabulary, each row
 * L2-normalized (an empty text is an all-zero row), so the dot product of two rows is their
 * cosine similarity.
 */
export interface SparseItemVectors {
  readonly format: 'sparse';
  readonly matrix: CsrMatrix;
}

/**
 * Dense text vectors: `rows` x `dim` row-major Float32, each row L2-normalized (an empty text
 * is an all-zero row), so the dot product of two rows is their cosine similarity.
 */
export interface DenseItemVectors {
  readonly format: 'dense';
  readonly rows: number;
  readonly dim: number;
  readonly data: Float32Array;
}

export type ItemVectors = SparseItemVectors | DenseItemVectors;

export interface EncodeOptions {
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

/**
 * Turns item texts (product name, aisle, department...) into unit vectors. Named so as not
 * to shadow the global TextEncoder.
 */
export interface ItemTextEncoder {
  /** Registry key stored in artifacts: 'tfidf' or 'minilm'. */
  readonly kind: string;
  /** True once fit() or load() has given the encoder what encode() needs. */
  readonly fitted: boolean;
  /** Learns what the encoder learns from a corpus (a vocabulary, the output size) and encodes it. */
  fit(texts: readonly string[], options?: EncodeOptions): Promise<ItemVectors>;
  /** Encodes texts with the fitted state, e.g. items added after fit. */
  encode(texts: readonly string[], options?: EncodeOptions): Promise<ItemVectors>;
  /** Writes the state encode() needs as sections and returns its JSON part (kind included). */
  save(out: SectionWriter): JsonObject;
}

/** True when a text has nothing to encode (empty or whitespace only). */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

/** texts[i], checked to be a string (callers from JavaScript may pass anything). */
export function textAt(texts: readonly string[], i: number): string {
  const t = texts[i];
  if (typeof t !== 'string') throw new DataError(`text ${i} is ${t === null ? 'null' : typeof t}, expected a string`);
  return t;
}
