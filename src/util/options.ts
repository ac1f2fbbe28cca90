import { ArtifactError, OptionError } from '../errors';
import type { Json, JsonObject } from './json';

/**
 * The one options mechanism of every class (graphology's resolveDefaults, with checks):
 * - a missing key or `undefined` means the default;
 * - an unknown key is an OptionError that names the nearest known key ("did you mean ...");
 * - every value is checked by the class's check for that key;
 * - the result is a fresh frozen object, so no caller can change a default process-wide.
 *
 * Artifacts store the resolved options (Infinity as null, since JSON has no Infinity) and
 * read them back with optionsFromArtifact, which needs every key and reports a bad one as an
 * ArtifactError naming the section and the field.
 */

/** Checks one option value; returns it (copied when mutable) or throws OptionError(name, ...). */
export type Check<T> = (value: unknown, name: string) => T;

export type OptionChecks<T> = { readonly [K in keyof T]-?: Check<T[K]> };

export function resolveOptions<T extends object>(owner: string, defaults: Readonly<T>, given: unknown, checks: OptionChecks<T>): Readonly<T> {
  if (given !== undefined && !isPlainObject(given)) throw new OptionError(owner, `options must be a plain object, got ${describe(given)}`);
  const input = (given ?? {}) as Record<string, unknown>;
  const known = Object.keys(checks);
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) throw unknownOption(owner, key, known);
  }
  const out: Record<string, unknown> = {};
  for (const key of known) {
    const value = input[key] === undefined ? (defaults as Record<string, unknown>)[key] : input[key];
    out[key] = (checks as Record<string, Check<unknown>>)[key](value, `${owner}.${key}`);
  }
  return Object.freeze(out) as Readonly<T>;
}

/** Options as JSON for an artifact: Infinity becomes null, arrays and objects are copied. */
export function optionsToJson<T extends object>(options: Readonly<T>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(options)) out[key] = toJson(value, key);
  return out;
}

/**
 * Options read back from an artifact's JSON state: every key of `checks` must be present
 * (null stands for Infinity), none other, except the options in `addedLater`: options a
 * strategy gained after its artifacts were first written, which an older artifact lacks and
 * which then take the value given there (the behaviour that artifact was written with). A
 * failure is an ArtifactError naming `section` and the option's path `<field>.<key>` (`field`
 * is where the options sit, default "options").
 */
export function optionsFromArtifact<T extends object>(
  owner: string,
  state: unknown,
  checks: OptionChecks<T>,
  section: string,
  field = 'options',
  addedLater: Partial<Readonly<T>> = {},
): Readonly<T> {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new ArtifactError(`${owner} options must be an object, got ${describe(state)}`, section, field);
  }
  const input = state as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(checks)) {
    if (!(key in input) && !(key in addedLater)) throw new ArtifactError(`${owner} option "${key}" is missing`, section, `${field}.${key}`);
  }
  for (const key of Object.keys(input)) {
    if (!(key in checks)) throw new ArtifactError(`${owner} option "${key}" is unknown to this version`, section, `${field}.${key}`);
  }
  for (const key of Object.keys(checks)) {
    const check = (checks as Record<string, Check<unknown>>)[key];
    if (!(key in input)) {
      out[key] = check((addedLater as Record<string, unknown>)[key], `${owner}.${key}`);
      continue;
    }
    try {
      out[key] = checkStored(check, input[key], `${owner}.${key}`);
    } catch (e) {
      if (e instanceof OptionError) throw new ArtifactError(`bad option in artifact: ${e.message}`, section, `${field}.${key}`);
      throw e;
    }
  }
  return Object.freeze(out) as Readonly<T>;
}

// ------------------------------------------------------------------------------------ checks

interface NumberRange {
  min?: number;
  max?: number;
  /** min itself is not allowed. */
  exclusiveMin?: boolean;
  /** Infinity is allowed (above any max). */
  infinity?: boolean;
}

/** A finite number in the range (or Infinity when allowed). */
export function number(range: NumberRange = {}): Check<number> {
  return (value, name) => {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new OptionError(name, `must be a number${rangeText(range)}, got ${describe(value)}`);
    if (value === Infinity && range.infinity) return value;
    const { min, max } = range;
    const ok = Number.isFinite(value) && (min === undefined || (range.exclusiveMin ? value > min : value >= min)) && (max === undefined || value <= max);
    if (!ok) throw new OptionError(name, `must be a finite number${rangeText(range)}, got ${describe(value)}`);
    return value;
  };
}

/** An integer in the range (or Infinity when allowed). */
export function integer(range: Omit<NumberRange, 'exclusiveMin'> = {}): Check<number> {
  return (value, name) => {
    if (value === Infinity && range.infinity) return value;
    const { min, max } = range;
    if (typeof value !== 'number' || !Number.isInteger(value) || (min !== undefined && value < min) || (max !== undefined && value > max)) {
      throw new OptionError(name, `must be an integer${rangeText(range)}, got ${describe(value)}`);
    }
    return value;
  };
}

export function oneOf<T extends string>(allowed: readonly T[]): Check<T> {
  return (value, name) => {
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      throw new OptionError(name, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  };
}

export function boolean(): Check<boolean> {
  return (value, name) => {
    if (typeof value !== 'boolean') throw new OptionError(name, `must be true or false, got ${describe(value)}`);
    return value;
  };
}

export function string(): Check<string> {
  return (value, name) => {
    if (typeof value !== 'string') throw new OptionError(name, `must be a string, got ${describe(value)}`);
    return value;
  };
}

/**
 * A user or item id. Ids are strings everywhere (a number is an error, never converted: the
 * ids "1" and "01" differ, and a silent String(x) would hide a caller's mix-up).
 */
export function id(): Check<string> {
  return (value, name) => {
    if (typeof value !== 'string') throw new OptionError(name, `ids are strings, got ${describeTyped(value)}`);
    return value;
  };
}

/** An array of ids (a string is not a list of its characters). Returned as given, not copied. */
export function idList(): Check<readonly string[]> {
  return (value, name) => {
    if (!Array.isArray(value)) throw new OptionError(name, `must be an array of id strings, got ${describeTyped(value)}`);
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== 'string') throw new OptionError(`${name}[${i}]`, `ids are strings, got ${describeTyped(value[i])}`);
    }
    return value as readonly string[];
  };
}

/** null, or a value that passes `check`. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, name) => (value === null ? null : check(value, name));
}

/** An array (copied and frozen) whose every element passes `check`. */
export function arrayOf<T>(check: Check<T>, length: { min?: number; max?: number } = {}): Check<readonly T[]> {
  return (value, name) => {
    if (!Array.isArray(value)) throw new OptionError(name, `must be an array, got ${describe(value)}`);
    if (length.min !== undefined && value.length < length.min) throw new OptionError(name, `needs at least ${length.min} entries, got ${value.length}`);
    if (length.max !== undefined && value.length > length.max) throw new OptionError(name, `takes at most ${length.max} entries, got ${value.length}`);
    return Object.freeze(value.map((v, i) => check(v, `${name}[${i}]`)));
  };
}

/** Anything that passes `test` (for functions, class instances and other non-JSON values). */
export function custom<T>(test: (value: unknown) => boolean, expected: string): Check<T> {
  return (value, name) => {
    if (!test(value)) throw new OptionError(name, `must be ${expected}, got ${describe(value)}`);
    return value as T;
  };
}

// ------------------------------------------------------------------------------- internals

/**
 * An object literal, a null-prototype object or a class instance: what options and shoppers
 * are. Not an array, a function, a Map, a Date, a typed array...: their keys are not options,
 * so treating them as {} would silently ignore what the caller meant.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.prototype.toString.call(value) === '[object Object]';
}

function rangeText(r: NumberRange): string {
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`${r.exclusiveMin ? '>' : '>='} ${r.min}`);
  if (r.max !== undefined) parts.push(`<= ${r.max}`);
  const text = parts.length ? ` ${parts.join(' and ')}` : '';
  return r.infinity ? `${text} (or Infinity)` : text;
}

/** A value as a reader wants to see it in an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'bigint') return `${value}n`;
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
}

/** A value with its type, for "ids are strings, got number 1". */
function describeTyped(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? `${typeof value} ${describe(value)}` : describe(value);
}

function unknownOption(owner: string, key: string, known: string[]): OptionError {
  const near = nearest(key, known);
  const hint = near ? `; did you mean "${near}"?` : `; known options: ${known.join(', ')}`;
  return new OptionError(`${owner}.${key}`, `unknown option${hint}`);
}

/** The known key closest to `key` by edit distance (case-insensitive), when close enough to be a typo. */
function nearest(key: string, known: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  const k = key.toLowerCase();
  for (const candidate of known) {
    const d = editDistance(k, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== null && bestDistance <= Math.max(2, Math.floor(key.length / 3))) return best;
  // A renamed option often keeps a part of its old name (weighting -> edgeWeighting).
  const part = known.find((candidate) => candidate.toLowerCase().includes(k) || k.includes(candidate.toLowerCase()));
  return part !== undefined && Math.min(k.length, part.length) >= 4 ? part : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function toJson(value: unknown, key: string): Json {
  if (value === Infinity) return null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new OptionError(key, `cannot store ${value} in an artifact`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => toJson(v, `${key}[${i}]`));
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toJson(v, `${key}.${k}`);
    return out;
  }
  throw new OptionError(key, `cannot store ${describe(value)} in an artifact`);
}

/**
 * A stored value through its check. null is how optionsToJson writes Infinity, and also a
 * real value of nullable options: a null the check rejects is tried as Infinity. (So no option
 * may accept both null and Infinity.)
 */
function checkStored(check: Check<unknown>, value: unknown, name: string): unknown {
  if (value !== null) return check(value, name);
  try {
    return check(null, name);
  } catch (asNull) {
    if (!(asNull instanceof OptionError)) throw asNull;
    try {
      return check(Infinity, name);
    } catch {
      throw asNull;
    }
  }
}
