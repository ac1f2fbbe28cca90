import { DataError } from '../errors';
import { describeLoneSurrogate, loneSurrogateAt } from '../util/text';

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

  /**
   * `ids` in index order. A duplicate, a value that is not a string, or a string that is not
   * well-formed Unicode (a lone surrogate: it would change when saved as UTF-8, and two such
   * ids could become one) is a DataError naming the id and its position.
   */
  constructor(ids: readonly string[], what = 'id') {
    if (!Array.isArray(ids)) throw new DataError(`${what} ids must be an array of strings, got ${typeof ids}`);
    this.ids = ids;
    this.lookup = new Map();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id !== 'string') throw new DataError(`${what} id at index ${i} is a ${id === null ? 'null' : typeof id}, not a string`);
      if (this.lookup.has(id)) throw new DataError(`duplicate ${what} "${id}"`);
      const bad = loneSurrogateAt(id);
      if (bad >= 0) throw new DataError(`${what} id ${JSON.stringify(id)} at index ${i} ${describeLoneSurrogate(id, bad)}`);
      this.lookup.set(id, i);
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
