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
import { describe, optionsFromArtifact, type OptionChecks } from '../util/options';
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

/** The values never decrease (a cumulative table). */
export function checkNonDecreasing(values: FloatArray | IntegerArray, section: string): void {
  for (let p = 1; p < values.length; p++) {
    if (values[p] < values[p - 1]) throw new ArtifactError(`values decrease (${values[p - 1]} then ${values[p]})`, section, `[${p}]`);
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

/**
 * A square CSR (already checked by checkCsr, rows sorted) that is symmetric with no diagonal:
 * every entry (i, j, v) has i !== j and a twin (j, i, v). Reported on the entry that lacks it.
 */
export function checkSymmetric(csr: CsrArrays, names: { indices: string; values: string }): void {
  const { indptr, indices, values } = csr;
  for (let i = 0; i + 1 < indptr.length; i++) {
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      const j = indices[p];
      if (j === i) throw new ArtifactError(`row ${i} links to itself`, names.indices, `[${p}]`);
      let lo = indptr[j];
      let hi = indptr[j + 1] - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (indices[mid] < i) lo = mid + 1;
        else hi = mid;
      }
      if (!(lo <= hi && indices[lo] === i)) throw new ArtifactError(`entry (${i}, ${j}) has no twin (${j}, ${i})`, names.indices, `[${p}]`);
      if (values[lo] !== values[p]) {
        throw new ArtifactError(`entry (${i}, ${j}) is ${values[p]} but (${j}, ${i}) is ${values[lo]}`, names.values, `[${p}]`);
      }
    }
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

/**
 * What a strategy (or any part) is loaded against: the shape of the artifact's dataset.
 * HybridRecommender.load passes it to every loader, so a strategy whose item count (or, when
 * it stores per-user state, user count) disagrees with the dataset it serves is an
 * ArtifactError at load, not a wrong-size score buffer at the first request.
 */
export interface LoadContext {
  nUsers: number;
  nItems: number;
}

/** The name errors give a reader's scope: "strategies/knn" for sections "strategies/knn/...", "manifest" for an unscoped reader. */
export function scopeName(sections: SectionReader): string {
  return sections.fullName('').replace(/\/$/, '') || 'manifest';
}

/**
 * A JSON state object read key by key. Each getter checks one key; a failure is an
 * ArtifactError naming `section` and the key's path (`nItems`, `options.neighbors`,
 * `training.loss[3]`). `keys()` pins the key set, so a missing or unknown key is named too.
 */
export class StateReader {
  private constructor(
    private readonly state: JsonObject,
    readonly section: string,
    /** '' or the path of this object inside the state, ending in '.' ("encoder."). */
    private readonly path: string,
  ) {}

  /** `state` as an object (else an ArtifactError naming `field`, default "state"). */
  static of(state: unknown, section: string, field = 'state'): StateReader {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new ArtifactError(`must be an object, got ${describe(state)}`, section, field);
    return new StateReader(state as JsonObject, section, '');
  }

  /** The full path of `key` (for messages and nested readers). */
  field(key: string): string {
    return `${this.path}${key}`;
  }

  fail(key: string, message: string): never {
    throw new ArtifactError(message, this.section, this.field(key));
  }

  /** Every key of `required` is present, and none but those and `optional`. */
  keys(required: readonly string[], optional: readonly string[] = []): this {
    for (const key of required) if (!(key in this.state)) this.fail(key, 'is missing');
    for (const key of Object.keys(this.state)) {
      if (!required.includes(key) && !optional.includes(key)) this.fail(key, 'is unknown to this version');
    }
    return this;
  }

  has(key: string): boolean {
    return key in this.state;
  }

  /** The value as stored (unchecked), for checks that live elsewhere (optionsFromArtifact). */
  raw(key: string): Json | undefined {
    return this.state[key];
  }

  integer(key: string, range: { min?: number; max?: number } = {}): number {
    const value = this.state[key];
    const { min, max } = range;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || (min !== undefined && value < min) || (max !== undefined && value > max)) {
      this.fail(key, `must be an integer${bounds(min, max, false)}, got ${describe(value)}`);
    }
    return value;
  }

  number(key: string, range: Omit<ValueRange, 'allowNaN'> = {}): number {
    return finiteNumber(this.state[key], range, (message) => this.fail(key, message));
  }

  /** A count (an integer >= 0) that must equal `expected` when given: the dataset's count of the same thing (LoadContext). */
  count(key: string, expected?: number): number {
    const value = this.integer(key, { min: 0 });
    if (expected !== undefined && value !== expected) this.fail(key, `is ${value}, but the artifact's dataset has ${expected}`);
    return value;
  }

  boolean(key: string): boolean {
    const value = this.state[key];
    if (typeof value !== 'boolean') this.fail(key, `must be true or false, got ${describe(value)}`);
    return value;
  }

  string(key: string): string {
    const value = this.state[key];
    if (typeof value !== 'string') this.fail(key, `must be a string, got ${describe(value)}`);
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.state[key];
    if (typeof value !== 'string' || !allowed.includes(value as T)) this.fail(key, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`);
    return value as T;
  }

  /** The value `expected` exactly (a format version, a kind tag). */
  literal(key: string, expected: string | number): void {
    const value = this.state[key];
    if (value !== expected) this.fail(key, `must be ${JSON.stringify(expected)} (what this version writes), got ${describe(value)}`);
  }

  /** A nested object, read the same way. */
  object(key: string): StateReader {
    const value = this.state[key];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(key, `must be an object, got ${describe(value)}`);
    return new StateReader(value as JsonObject, this.section, `${this.field(key)}.`);
  }

  /** null, or what `read(key)` reads. */
  nullable<T>(key: string, read: (key: string) => T): T | null {
    return this.state[key] === null ? null : read(key);
  }

  /** An array of finite numbers in `range`. */
  numbers(key: string, range: Omit<ValueRange, 'allowNaN'> = {}): number[] {
    const value = this.state[key];
    if (!Array.isArray(value)) this.fail(key, `must be an array of numbers, got ${describe(value)}`);
    return value.map((v, i) => finiteNumber(v, range, (message) => this.fail(`${key}[${i}]`, message)));
  }

  /** An array of strings. */
  strings(key: string): string[] {
    const value = this.state[key];
    if (!Array.isArray(value)) this.fail(key, `must be an array of strings, got ${describe(value)}`);
    value.forEach((v, i) => {
      if (typeof v !== 'string') this.fail(`${key}[${i}]`, `must be a string, got ${describe(v)}`);
    });
    return value as string[];
  }

  /** Stored options (see optionsFromArtifact): a bad one is an ArtifactError naming `<key>.<option>`. */
  /** The options under `key` (optionsFromArtifact: `addedLater` are options an older artifact may lack). */
  options<T extends object>(owner: string, checks: OptionChecks<T>, key = 'options', addedLater: Partial<Readonly<T>> = {}): Readonly<T> {
    return optionsFromArtifact(owner, this.state[key], checks, this.section, this.field(key), addedLater);
  }
}

/** `state[key]` as an integer in `range`; anything else is an ArtifactError naming `section` and the key. */
export function stateInteger(state: JsonObject, key: string, section: string, range: { min?: number; max?: number } = {}): number {
  return StateReader.of(state, section).integer(key, range);
}

/** `state[key]` as a finite number in `range`; anything else is an ArtifactError naming `section` and the key. */
export function stateNumber(state: JsonObject, key: string, section: string, range: Omit<ValueRange, 'allowNaN'> = {}): number {
  return StateReader.of(state, section).number(key, range);
}

function finiteNumber(value: unknown, range: Omit<ValueRange, 'allowNaN'>, fail: (message: string) => never): number {
  const { min, max, exclusiveMin = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || (exclusiveMin ? value > min : value >= min)) &&
    (max === undefined || value <= max);
  if (!ok) fail(`must be a finite number${bounds(min, max, exclusiveMin)}, got ${describe(value)}`);
  return value as number;
}

function bounds(min: number | undefined, max: number | undefined, exclusiveMin: boolean): string {
  const text = [min !== undefined ? `${exclusiveMin ? '>' : '>='} ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ');
  return text ? ` ${text}` : '';
}
