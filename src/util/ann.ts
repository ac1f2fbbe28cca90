import type { SectionReader, SectionWriter } from '../artifact/sections';
import type { StateReader } from '../artifact/validate';
import { ArtifactError, OptionError } from '../errors';
import type { JsonObject } from './json';
import { InnerProductIndex } from './dense';

/**
 * Vector indexes: the rows of an items x dim matrix nearest to a query vector, by inner
 * product or cosine. Dense strategies (embeddings, factors) use one to take a query's best
 * candidates without scoring the whole catalog. This module is isomorphic: the exact index
 * lives here; approximate (HNSW) indexes on native packages live in src/node/ann.ts and reach
 * a strategy only as a VectorIndexFactory the caller passes, so nothing here imports them.
 */

/** 'ip': inner product (maximum inner product search); 'cosine': cosine similarity. */
export type VectorMetric = 'ip' | 'cosine';

/** Search results, best first: item (row) indices and their similarity (inner product or cosine). */
export interface VectorMatches {
  items: Int32Array;
  scores: Float32Array;
}

/** An index's own serialization (see VectorIndex.serialize). */
export interface SerializedIndex {
  /** The factory kind that wrote it ('usearch', 'hnswlib'). */
  kind: string;
  /** Settings and package version, for the factory to decide whether it can read `bytes`. */
  state: JsonObject;
  bytes: Uint8Array;
}

/** A search structure over `size` vectors of `dim` floats. */
export interface VectorIndex {
  readonly kind: string;
  readonly size: number;
  readonly dim: number;
  readonly metric: VectorMetric;
  /** The min(k, size) best rows for `query` (length dim), best first; ties by the lower row. */
  search(query: Float32Array, k: number): VectorMatches;
  /** The index as bytes to store in an artifact, or null when rebuilding it is as cheap as reading it (exact search). */
  serialize(): SerializedIndex | null;
}

/** Row-major vectors (row r at r * dim) an index is built over. */
export interface VectorSource {
  vectors: Float32Array;
  dim: number;
  metric: VectorMetric;
}

/** Builds (and restores) one kind of index. Node's HNSW factories come from hybridrec/node. */
export interface VectorIndexFactory {
  readonly kind: string;
  /** An index over the rows of `source` (which it may keep a reference to: do not change it afterwards). */
  build(source: VectorSource, options?: { signal?: AbortSignal }): Promise<VectorIndex>;
  /**
   * The index from `stored` (written by serialize() of an index of this kind over the same
   * vectors), or null when it cannot read it (another package version or other settings):
   * the caller then builds a new one.
   */
  restore(stored: SerializedIndex, source: VectorSource): Promise<VectorIndex | null>;
}

function checkSource({ vectors, dim }: VectorSource, what: string): number {
  if (!Number.isInteger(dim) || dim < 1) throw new OptionError(`${what}.dim`, `must be an integer >= 1, got ${dim}`);
  if (vectors.length % dim !== 0) throw new OptionError(`${what}.vectors`, `length ${vectors.length} is not a multiple of dim ${dim}`);
  return vectors.length / dim;
}

/** Checks a query against an index's shape; k below 0 or not an integer is an OptionError. */
export function checkQuery(index: { dim: number }, query: Float32Array, k: number, what: string): void {
  if (query.length !== index.dim) throw new OptionError(`${what}.search`, `query has ${query.length} values, the index ${index.dim}`);
  if (!Number.isInteger(k) || k < 0) throw new OptionError(`${what}.search`, `k must be an integer >= 0, got ${k}`);
}

/**
 * Exact search (src/util/dense.ts's InnerProductIndex: a norm-ordered scan that stops when no
 * later row can enter the top k). The fallback wherever no native package can be loaded (the
 * browser), and the reference the approximate indexes are measured against
 * (benchmarks/ann.ts). Cosine searches unit-length copies of the rows.
 */
export class ExactVectorIndex implements VectorIndex {
  readonly kind = 'exact';
  readonly size: number;
  readonly dim: number;
  readonly metric: VectorMetric;
  private readonly index: InnerProductIndex;
  private readonly unit: Float32Array;

  constructor(source: VectorSource) {
    this.size = checkSource(source, 'ExactVectorIndex');
    this.dim = source.dim;
    this.metric = source.metric;
    this.unit = new Float32Array(this.metric === 'cosine' ? this.dim : 0);
    this.index = new InnerProductIndex(this.metric === 'cosine' ? unitRows(source.vectors, source.dim) : source.vectors, source.dim);
  }

  search(query: Float32Array, k: number): VectorMatches {
    checkQuery(this, query, k, 'ExactVectorIndex');
    const q = this.metric === 'cosine' ? unitRows(query, this.dim, this.unit) : query;
    const { items, scores } = this.index.topK(q, Math.min(k, this.size));
    return { items, scores };
  }

  serialize(): null {
    return null;
  }
}

/** Rows scaled to unit length (zero rows stay zero), into `out` (a new array by default). */
function unitRows(rows: Float32Array, dim: number, out: Float32Array = new Float32Array(rows.length)): Float32Array {
  for (let o = 0; o < rows.length; o += dim) {
    let s = 0;
    for (let j = o; j < o + dim; j++) s += rows[j] * rows[j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = o; j < o + dim; j++) out[j] = rows[j] * inv;
  }
  return out;
}

/** The exact index as a factory (the default wherever a strategy is given none). */
export function exactIndex(): VectorIndexFactory {
  return {
    kind: 'exact',
    build: async (source) => new ExactVectorIndex(source),
    restore: async (_stored, source) => new ExactVectorIndex(source),
  };
}

/**
 * The vector index of a dense strategy, and the serialized one read from an artifact until a
 * factory is attached. A strategy keeps one slot: save() writes the index's own bytes (so a
 * loaded artifact need not rebuild an HNSW graph: see docs/ann.md for the numbers), load()
 * keeps them unread, and attach() restores them when the factory is of the same kind, else
 * builds anew from the strategy's vectors.
 */
export class VectorIndexSlot {
  private current: VectorIndex | null = null;
  private factory: VectorIndexFactory | null = null;

  constructor(private stored: SerializedIndex | null = null) {}

  /** The attached index, or null (the strategy then scores every item exactly). */
  get index(): VectorIndex | null {
    return this.current;
  }

  /** The factory last attached (fit() rebuilds with it), or null. */
  get attachedFactory(): VectorIndexFactory | null {
    return this.factory;
  }

  /**
   * Attaches an index of `factory` over `source` (restored from the stored bytes when they are
   * of its kind and it can read them), or detaches with null. Returns how it was obtained.
   */
  async attach(factory: VectorIndexFactory | null, source: VectorSource, options: { signal?: AbortSignal } = {}): Promise<'built' | 'restored' | 'detached'> {
    this.factory = factory;
    if (factory === null) {
      this.current = null;
      return 'detached';
    }
    if (this.stored !== null && this.stored.kind === factory.kind) {
      const restored = await factory.restore(this.stored, source);
      if (restored !== null) {
        if (restored.size * restored.dim !== source.vectors.length || restored.dim !== source.dim) {
          throw new ArtifactError(`stored ${factory.kind} index holds ${restored.size} x ${restored.dim} vectors, the model ${source.vectors.length / source.dim} x ${source.dim}`, 'ann');
        }
        this.current = restored;
        return 'restored';
      }
    }
    this.current = await factory.build(source, options);
    this.stored = null;
    return 'built';
  }

  /** Forgets the index and the stored bytes (the vectors changed: a new fit). The factory stays. */
  clear(): void {
    this.current = null;
    this.stored = null;
  }

  /** Writes the index's bytes as section `ann` and returns its JSON state, or null when there is nothing to store. */
  save(out: SectionWriter): JsonObject | null {
    const s = this.current !== null ? this.current.serialize() : this.stored;
    if (s === null) return null;
    out.array('ann', s.bytes);
    return { kind: s.kind, state: s.state };
  }

  /**
   * The slot of a loaded strategy from its state's `key`, which holds what save() returned:
   * null (no stored index) or { kind, state }, else an ArtifactError naming the field. An
   * artifact written before its strategy could hold an index has no `key`: no stored index.
   */
  static read(s: StateReader, sections: SectionReader, key = 'index'): VectorIndexSlot {
    if (!s.has(key) || s.raw(key) === null) return new VectorIndexSlot();
    const index = s.object(key).keys(['kind', 'state']);
    const kind = index.string('kind');
    index.object('state');
    return new VectorIndexSlot({ kind, state: index.raw('state') as JsonObject, bytes: sections.u8('ann') });
  }
}

/**
 * What a dense strategy that can retrieve through a vector index offers (the ensemble attaches
 * one factory to every member that has this method).
 */
export interface VectorIndexed {
  /**
   * Builds (or restores from the artifact) an index of `factory` over the strategy's item
   * vectors, so score() touches only the index's best candidates; null detaches it (every item
   * scored exactly, as without an index). A later fit() rebuilds with the same factory.
   */
  useVectorIndex(factory: VectorIndexFactory | null, options?: { signal?: AbortSignal }): Promise<'built' | 'restored' | 'detached'>;
  /**
   * False when this instance's configuration has no single query vector an index could order
   * by (NeuralCF's NeuMF, ContentBased on TF-IDF): its useVectorIndex then throws for a
   * factory, and isVectorIndexed() says false, so the ensemble leaves it scanning. Absent: true.
   */
  readonly vectorIndexable?: boolean;
}

export function isVectorIndexed(x: unknown): x is VectorIndexed {
  return typeof x === 'object' && x !== null && typeof (x as VectorIndexed).useVectorIndex === 'function' && (x as VectorIndexed).vectorIndexable !== false;
}

/** An index's candidates `found`, then the query's `own` items not among them (each once): what an indexed score() scores. */
export function withOwnItems(found: Int32Array, own: Int32Array): Int32Array {
  const seen = new Set(found);
  const rest = own.filter((i) => !seen.has(i));
  const out = new Int32Array(found.length + rest.length);
  out.set(found);
  out.set(rest, found.length);
  return out;
}
