/**
 * Checks of what artifact sections hold, for every reader's load(). CRCs catch accidents, not
 * a hand-edited file whose checksums were recomputed; these catch what would otherwise load
 * and then answer wrongly or crash: pointer arrays that are not monotone, indices out of
 * range, NaN or negative counts, lengths that disagree with a count.
 *
 * Every failure is an ArtifactError naming the section (its full name) and the field: the
 * element ("[17]") or "length". Two forms of each check:
 * - `read*(sections, name, ...)` reads a section and checks it in one call (the usual form);
 * - `check*(array, ..., section)` checks an array already read, `section` naming it.
 */
import { ArtifactError } from '../errors';
import type { Json, JsonObject } from '../util/json';
import { describe } from '../util/options';
import type { SectionReader } from './sections';

export type IntegerArray = Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
export type FloatArray = Float32Array | Float64Array;

/** A range for values: `min` (inclusive unless `exclusiveMin`), `max` inclusive; NaN only when `allowNaN`. */
export interface ValueRange {
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
  /** NaN is allowed (it means "unknown", as for a basket's day); ±Infinity never is. */
  allowNaN?: boolean;
}

// ------------------------------------------------------------------------- array checks

/** `array` has exactly `expected` entries; `what` says what the count is ("one per item"). */
export function checkLength(array: { length: number }, expected: number, section: string, what?: string): void {
  if (array.length !== expected) {
    throw new ArtifactError(`has ${array.length} entries, expected ${expected}${what ? ` (${what})` : ''}`, section, 'length');
  }
}

/**
 * A pointer array of `count` ranges over `total` entries (CSR indptr, basket pointers):
 * count + 1 entries, starting at 0, never decreasing, ending at `total`.
 */
export function checkPointers(ptr: IntegerArray, count: number, total: number, section: string): void {
  checkLength(ptr, count + 1, section, `${count} ranges + 1`);
  if (ptr[0] !== 0) throw new ArtifactError(`pointers must start at 0, found ${ptr[0]}`, section, '[0]');
  for (let k = 1; k <= count; k++) {
    if (ptr[k] < ptr[k - 1]) throw new ArtifactError(`pointers decrease (${ptr[k - 1]} then ${ptr[k]})`, section, `[${k}]`);
  }
  if (ptr[count] !== total) throw new ArtifactError(`pointers end at ${ptr[count]}, expected ${total} (the entry count)`, section, `[${count}]`);
}

/** Every value is an index in [0, bound). */
export function checkIndices(values: IntegerArray, bound: number, section: string): void {
  for (let p = 0; p < values.length; p++) {
    const v = values[p];
    if (!(v >= 0 && v < bound)) throw new ArtifactError(`index ${v} is outside [0, ${bound})`, section, `[${p}]`);
  }
}

/** Every value is finite (NaN only with allowNaN) and inside `range`. */
export function checkValues(values: FloatArray | IntegerArray, section: string, range: ValueRange = {}): void {
  const { min, max, exclusiveMin = false, allowNaN = false } = range;
  for (let p = 0; p < values.length; p++) {
    const v = values[p];
    if (v !== v) {
      if (allowNaN) continue;
      throw new ArtifactError('value is NaN', section, `[${p}]`);
    }
    if (v === Infinity || v === -Infinity) throw new ArtifactError(`value is ${v}`, section, `[${p}]`);
    if (min !== undefined && (exclusiveMin ? !(v > min) : !(v >= min))) throw new ArtifactError(`value ${v} is not ${exclusiveMin ? '>' : '>='} ${min}`, section, `[${p}]`);
    if (max !== undefined && !(v <= max)) throw new ArtifactError(`value ${v} is above ${max}`, section, `[${p}]`);
  }
}

/** Within each range of `ptr` (already checked), the indices strictly increase: sorted and unique. */
export function checkSortedRanges(ptr: IntegerArray, indices: IntegerArray, section: string): void {
  for (let r = 0; r + 1 < ptr.length; r++) {
    for (let p = ptr[r] + 1; p < ptr[r + 1]; p++) {
      if (indices[p] <= indices[p - 1]) {
        const what = indices[p] === indices[p - 1] ? `repeats index ${indices[p]}` : `is not sorted (${indices[p - 1]} before ${indices[p]})`;
        throw new ArtifactError(`row ${r} ${what}`, section, `[${p}]`);
      }
    }
  }
}

export interface CsrArrays<V extends FloatArray = Float32Array> {
  indptr: Int32Array;
  indices: Int32Array;
  values: V;
}

export interface CsrCheckOptions {
  /** Column indices strictly increase within each row (what CsrMatrix.get's binary search needs). Default true. */
  sortedUnique?: boolean;
  /** Range of the values (default: finite). */
  values?: ValueRange;
}

/** A CSR matrix of nRows x nCols: its pointers, column indices (sorted and unique by default) and values. */
export function checkCsr(
  csr: { indptr: IntegerArray; indices: IntegerArray; values?: FloatArray },
  shape: { nRows: number; nCols: number },
  names: { indptr: string; indices: string; values?: string },
  options: CsrCheckOptions = {},
): void {
  checkPointers(csr.indptr, shape.nRows, csr.indices.length, names.indptr);
  checkIndices(csr.indices, shape.nCols, names.indices);
  if (options.sortedUnique ?? true) checkSortedRanges(csr.indptr, csr.indices, names.indices);
  if (csr.values) {
    const valuesName = names.values ?? `${names.indices} values`;
    checkLength(csr.values, csr.indices.length, valuesName, 'one per index');
    checkValues(csr.values, valuesName, options.values);
  }
}

// -------------------------------------------------------------------------------- readers

/** An i32 pointer section (see checkPointers). */
export function readPointers(sections: SectionReader, name: string, count: number, total: number): Int32Array {
  const ptr = sections.i32(name);
  checkPointers(ptr, count, total, sections.fullName(name));
  return ptr;
}

/** An i32 index section: values in [0, bound), and `length` entries when given. */
export function readIndices(sections: SectionReader, name: string, bound: number, length?: number): Int32Array {
  const values = sections.i32(name);
  if (length !== undefined) checkLength(values, length, sections.fullName(name));
  checkIndices(values, bound, sections.fullName(name));
  return values;
}

/** An f32 section of finite values in `range`, with `length` entries when given. */
export function readF32(sections: SectionReader, name: string, options: ValueRange & { length?: number } = {}): Float32Array {
  const values = sections.f32(name);
  checkRead(sections, name, values, options);
  return values;
}

/** An f64 section of finite values in `range`, with `length` entries when given. */
export function readF64(sections: SectionReader, name: string, options: ValueRange & { length?: number } = {}): Float64Array {
  const values = sections.f64(name);
  checkRead(sections, name, values, options);
  return values;
}

/** An i32 section of values in `range`, with `length` entries when given. */
export function readI32(sections: SectionReader, name: string, options: ValueRange & { length?: number } = {}): Int32Array {
  const values = sections.i32(name);
  checkRead(sections, name, values, options);
  return values;
}

function checkRead(sections: SectionReader, name: string, values: FloatArray | IntegerArray, options: ValueRange & { length?: number }): void {
  const full = sections.fullName(name);
  if (options.length !== undefined) checkLength(values, options.length, full);
  checkValues(values, full, options);
}

/**
 * A CSR matrix stored as three sections `<prefix>indptr`, `<prefix>indices`, `<prefix>values`
 * (i32, i32, f32), checked by checkCsr. `prefix` is '' or ends in '/'.
 */
export function readCsr(sections: SectionReader, prefix: string, shape: { nRows: number; nCols: number }, options: CsrCheckOptions = {}): CsrArrays {
  const csr = { indptr: sections.i32(`${prefix}indptr`), indices: sections.i32(`${prefix}indices`), values: sections.f32(`${prefix}values`) };
  checkCsr(csr, shape, { indptr: sections.fullName(`${prefix}indptr`), indices: sections.fullName(`${prefix}indices`), values: sections.fullName(`${prefix}values`) }, options);
  return csr;
}

/** A string-list section with `length` strings when given (offsets and UTF-8 are checked by the reader). */
export function readStrings(sections: SectionReader, name: string, length?: number): string[] {
  const strings = sections.strings(name);
  if (length !== undefined) checkLength(strings, length, sections.fullName(name));
  return strings;
}

// ----------------------------------------------------------------------- JSON state values

/** `state[key]` as an integer in `range`; anything else is an ArtifactError naming `section` and the key. */
export function stateInteger(state: JsonObject, key: string, section: string, range: { min?: number; max?: number } = {}): number {
  const value: Json | undefined = state[key];
  const { min, max } = range;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || (min !== undefined && value < min) || (max !== undefined && value > max)) {
    const bounds = [min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new ArtifactError(`must be an integer${bounds ? ` ${bounds}` : ''}, got ${describe(value)}`, section, key);
  }
  return value;
}

/** `state[key]` as a finite number in `range`; anything else is an ArtifactError naming `section` and the key. */
export function stateNumber(state: JsonObject, key: string, section: string, range: Omit<ValueRange, 'allowNaN'> = {}): number {
  const value: Json | undefined = state[key];
  const { min, max, exclusiveMin = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || (exclusiveMin ? value > min : value >= min)) &&
    (max === undefined || value <= max);
  if (!ok) {
    const bounds = [min !== undefined ? `${exclusiveMin ? '>' : '>='} ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new ArtifactError(`must be a finite number${bounds ? ` ${bounds}` : ''}, got ${describe(value)}`, section, key);
  }
  return value as number;
}
