import { ArtifactError } from '../errors';

/** Typed arrays an artifact section can hold. */
export type SectionArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export type SectionDtype = 'f32' | 'f64' | 'i32' | 'u32' | 'i16' | 'u16' | 'i8' | 'u8';

type SectionCtor = { new (length: number): SectionArray; BYTES_PER_ELEMENT: number; name: string };

export const DTYPES: Record<SectionDtype, SectionCtor> = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u32: Uint32Array,
  i16: Int16Array,
  u16: Uint16Array,
  i8: Int8Array,
  u8: Uint8Array,
};

export function dtypeOf(a: SectionArray): SectionDtype {
  for (const [k, ctor] of Object.entries(DTYPES)) if (a instanceof ctor) return k as SectionDtype;
  throw new ArtifactError('unsupported section array type');
}

/** Where a strategy (or any part) writes its binary sections; names are scoped by the caller. */
export interface SectionWriter {
  array(name: string, data: SectionArray): void;
  /** A list of strings (ids, names) as UTF-8 bytes plus offsets. */
  strings(name: string, data: readonly string[]): void;
  /** A writer whose section names are prefixed with `prefix/`. */
  scope(prefix: string): SectionWriter;
}

/** Reads sections back; a missing section or a wrong type is an ArtifactError naming it. */
export interface SectionReader {
  has(name: string): boolean;
  /** The full name of section `name` (with this reader's scope), for error messages. */
  fullName(name: string): string;
  f32(name: string): Float32Array;
  f64(name: string): Float64Array;
  i32(name: string): Int32Array;
  u32(name: string): Uint32Array;
  u8(name: string): Uint8Array;
  array(name: string): SectionArray;
  strings(name: string): string[];
  scope(prefix: string): SectionReader;
}
