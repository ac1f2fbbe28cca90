import { DataError } from '../errors';

const CANONICAL_INT = /^-?(0|[1-9][0-9]{0,14})$/;

/**
 * Order of raw ids: numerically when both are canonical integers ("7" < "10"), otherwise by
 * UTF-16 code units, numbers before other strings. This is the tie-break order of
 * BENCHMARKS.md, and indices are assigned in it, so "lower index" means "lower raw id".
 */
export function compareRawIds(a: string, b: string): number {
  const an = CANONICAL_INT.test(a);
  const bn = CANONICAL_INT.test(b);
  if (an && bn) return Number(a) - Number(b);
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A bijection between string ids and dense indices 0..size-1. */
export class IdIndex {
  readonly ids: readonly string[];
  private readonly lookup: Map<string, number>;

  /** `ids` in index order; duplicates are an error. */
  constructor(ids: readonly string[], what = 'id') {
    this.ids = ids;
    this.lookup = new Map();
    for (let i = 0; i < ids.length; i++) {
      if (this.lookup.has(ids[i])) throw new DataError(`duplicate ${what} "${ids[i]}"`);
      this.lookup.set(ids[i], i);
    }
  }

  /** Distinct ids sorted by compareRawIds. */
  static sorted(ids: Iterable<string>, what = 'id'): IdIndex {
    const unique = [...new Set(ids)].sort(compareRawIds);
    return new IdIndex(unique, what);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Index of `id`, or -1. */
  indexOf(id: string): number {
    const i = this.lookup.get(id);
    return i === undefined ? -1 : i;
  }

  has(id: string): boolean {
    return this.lookup.has(id);
  }

  id(index: number): string {
    return this.ids[index];
  }
}
