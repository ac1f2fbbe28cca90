import { ArtifactError, ArtifactVersionError } from '../errors';
import type { Json } from '../util/json';
import { describe } from '../util/options';
import { describeLoneSurrogate, loneSurrogateAt } from '../util/text';
import { crc32 } from './crc32';
import { DTYPES, dtypeOf, type SectionArray, type SectionDtype, type SectionReader, type SectionWriter } from './sections';

/**
 * The artifact container: one byte layout for Node and browsers.
 *
 *   0  magic "HYBRIDRC" (8 bytes)
 *   8  u32 format version
 *  12  u32 manifest byte length
 *  16  u32 CRC-32 of the manifest
 *  20  u32 reserved (0)
 *  24  manifest: UTF-8 JSON { root, sections: [{ name, dtype, offset, length, crc }] }
 *      then sections, each at an 8-byte aligned absolute offset, little-endian.
 *
 * Alignment lets a reader view Float64/Float32/Int32 sections in place when the input
 * buffer itself is aligned; otherwise it copies. Every section carries its own CRC-32, so a
 * flipped bit is reported with the name of the section it hit; every byte outside the header,
 * the manifest and the sections (alignment padding) must be 0, so no flip goes unnoticed.
 *
 * The reader checks meaning as well as checksums, since a hand-edited file can carry correct
 * CRCs: the reserved bytes, the manifest's field types, unique section names, sections inside
 * the file, past the manifest and not overlapping, string offsets and their UTF-8. What the
 * sections hold (pointer arrays, index ranges) is checked by their readers, with the helpers
 * of ./validate.
 */
export const FORMAT_VERSION = 1;
const MAGIC = 'HYBRIDRC';
const HEADER_BYTES = 24;

interface SectionEntry {
  name: string;
  dtype: SectionDtype;
  offset: number;
  length: number;
  crc: number;
}

interface Manifest {
  root: Json;
  sections: SectionEntry[];
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new ArtifactError('hybridrec artifacts need a little-endian platform');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Collects sections, then writes the container bytes. */
export class ArtifactWriter implements SectionWriter {
  private readonly entries = new Map<string, SectionArray>();

  constructor(
    private readonly prefix = '',
    private readonly store?: Map<string, SectionArray>,
  ) {}

  private get sections(): Map<string, SectionArray> {
    return this.store ?? this.entries;
  }

  array(name: string, data: SectionArray): void {
    const full = this.prefix + name;
    if (this.sections.has(full)) throw new ArtifactError('section written twice', full);
    dtypeOf(data);
    this.sections.set(full, data);
  }

  /** UTF-8 cannot hold a lone surrogate (TextEncoder would write U+FFFD), so such a string is an ArtifactError naming it, not a silent change. */
  strings(name: string, data: readonly string[]): void {
    const offsets = new Int32Array(data.length + 1);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < data.length; i++) {
      const text = data[i];
      if (typeof text !== 'string') throw new ArtifactError(`entry ${i} is ${describe(text)}, not a string`, this.prefix + name, `[${i}]`);
      const bad = loneSurrogateAt(text);
      if (bad >= 0) throw new ArtifactError(`string ${JSON.stringify(text)} ${describeLoneSurrogate(text, bad)}`, this.prefix + name, `[${i}]`);
      const bytes = encoder.encode(text);
      chunks.push(bytes);
      total += bytes.length;
      offsets[i + 1] = total;
    }
    const utf8 = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      utf8.set(c, at);
      at += c.length;
    }
    this.array(`${name}#offsets`, offsets);
    this.array(`${name}#utf8`, utf8);
  }

  scope(prefix: string): SectionWriter {
    return new ArtifactWriter(`${this.prefix}${prefix}/`, this.sections);
  }

  /** The container bytes with `root` as the manifest's JSON root. */
  toBytes(root: Json): Uint8Array {
    const entries: SectionEntry[] = [...this.sections].map(([name, data]) => ({ name, dtype: dtypeOf(data), offset: 0, length: data.length, crc: 0 }));
    const sectionBytes = [...this.sections.values()].map((data) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    // CRCs do not depend on the layout: computed once, not on every layout attempt.
    const crcs = sectionBytes.map((bytes) => crc32(bytes));
    // Offsets depend on the manifest length, which depends on the offsets' digits: fix them
    // with a generous manifest estimate, then place sections after the real manifest.
    let manifestBytes = encoder.encode(JSON.stringify({ root, sections: entries }));
    let total = 0;
    for (let attempt = 0; ; attempt++) {
      const dataStart = align8(HEADER_BYTES + manifestBytes.length + 16 * entries.length + 64);
      total = dataStart;
      for (let i = 0; i < entries.length; i++) {
        entries[i].offset = total;
        entries[i].crc = crcs[i];
        total = align8(total + sectionBytes[i].length);
      }
      manifestBytes = encoder.encode(JSON.stringify({ root, sections: entries } satisfies Manifest));
      if (HEADER_BYTES + manifestBytes.length <= dataStart) break;
      if (attempt === 3) throw new ArtifactError('could not lay out the artifact manifest', 'manifest');
    }
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    out.set(encoder.encode(MAGIC), 0);
    view.setUint32(8, FORMAT_VERSION, true);
    view.setUint32(12, manifestBytes.length, true);
    view.setUint32(16, crc32(manifestBytes), true);
    view.setUint32(20, 0, true);
    out.set(manifestBytes, HEADER_BYTES);
    for (let i = 0; i < entries.length; i++) out.set(sectionBytes[i], entries[i].offset);
    return out;
  }
}

/** A parsed container: the manifest root and typed views of the sections. */
export class ArtifactReader implements SectionReader {
  private constructor(
    private readonly bytes: Uint8Array,
    private readonly index: Map<string, SectionEntry>,
    readonly root: Json,
    private readonly prefix: string,
  ) {}

  /**
   * Validates and opens `bytes`. Throws ArtifactError (naming the section and field) for a
   * wrong magic, truncation, a malformed manifest, a section whose CRC does not match or that
   * lies outside the file, and non-zero reserved or padding bytes; ArtifactVersionError for a
   * newer format.
   */
  static open(bytes: Uint8Array): ArtifactReader {
    if (!(bytes instanceof Uint8Array)) throw new ArtifactError(`artifact must be a Uint8Array, got ${describe(bytes)}`);
    if (bytes.length < HEADER_BYTES) throw new ArtifactError(`artifact is truncated: ${bytes.length} bytes, header needs ${HEADER_BYTES}`, 'header');
    let magic = '';
    for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
    if (magic !== MAGIC) throw new ArtifactError('not a hybridrec artifact (bad magic bytes)', 'header', 'magic');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(8, true);
    if (version > FORMAT_VERSION) throw new ArtifactVersionError(version, FORMAT_VERSION);
    if (version < 1) throw new ArtifactError(`invalid artifact format version ${version}`, 'header', 'version');
    const reserved = view.getUint32(20, true);
    if (reserved !== 0) throw new ArtifactError(`reserved header bytes 20-23 must be 0, found 0x${reserved.toString(16)}`, 'header', 'reserved');
    const manifestLength = view.getUint32(12, true);
    if (manifestLength > bytes.length - HEADER_BYTES) {
      throw new ArtifactError(`artifact is truncated inside the manifest (${manifestLength} bytes from byte ${HEADER_BYTES}, file has ${bytes.length})`, 'manifest', 'length');
    }
    const manifestEnd = HEADER_BYTES + manifestLength;
    const manifestBytes = bytes.subarray(HEADER_BYTES, manifestEnd);
    if (crc32(manifestBytes) !== view.getUint32(16, true)) throw new ArtifactError('checksum mismatch', 'manifest', 'crc');
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(manifestBytes));
    } catch (e) {
      throw new ArtifactError(`manifest is not valid UTF-8 JSON: ${(e as Error).message}`, 'manifest');
    }
    const manifest = checkManifest(json, bytes.length, manifestEnd);
    // Every byte outside header, manifest and sections is padding, which the writer leaves 0.
    const layout = [...manifest.sections].sort((a, b) => a.offset - b.offset);
    let covered = manifestEnd;
    for (const s of layout) {
      checkPadding(bytes, covered, s.offset);
      covered = s.offset + sectionBytes(s);
    }
    checkPadding(bytes, covered, bytes.length);
    const index = new Map<string, SectionEntry>();
    for (const s of manifest.sections) {
      if (crc32(bytes.subarray(s.offset, s.offset + sectionBytes(s))) !== s.crc) throw new ArtifactError('checksum mismatch (corrupt data)', s.name, 'crc');
      index.set(s.name, s);
    }
    return new ArtifactReader(bytes, index, manifest.root, '');
  }

  get sectionNames(): string[] {
    return [...this.index.keys()];
  }

  has(name: string): boolean {
    return this.index.has(this.prefix + name);
  }

  fullName(name: string): string {
    return this.prefix + name;
  }

  array(name: string): SectionArray {
    const full = this.prefix + name;
    const s = this.index.get(full);
    if (!s) throw new ArtifactError('missing section', full);
    const ctor = DTYPES[s.dtype];
    const start = this.bytes.byteOffset + s.offset;
    if (start % ctor.BYTES_PER_ELEMENT === 0) {
      return new (ctor as unknown as new (b: ArrayBufferLike, o: number, l: number) => SectionArray)(this.bytes.buffer, start, s.length);
    }
    const copy = new ctor(s.length);
    new Uint8Array(copy.buffer).set(this.bytes.subarray(s.offset, s.offset + s.length * ctor.BYTES_PER_ELEMENT));
    return copy;
  }

  private typed<T extends SectionArray>(name: string, dtype: SectionDtype): T {
    const full = this.prefix + name;
    const s = this.index.get(full);
    if (!s) throw new ArtifactError('missing section', full);
    if (s.dtype !== dtype) throw new ArtifactError(`section holds ${s.dtype} values, expected ${dtype}`, full, 'dtype');
    return this.array(name) as T;
  }

  f32(name: string): Float32Array {
    return this.typed(name, 'f32');
  }
  f64(name: string): Float64Array {
    return this.typed(name, 'f64');
  }
  i32(name: string): Int32Array {
    return this.typed(name, 'i32');
  }
  u32(name: string): Uint32Array {
    return this.typed(name, 'u32');
  }
  u8(name: string): Uint8Array {
    return this.typed(name, 'u8');
  }

  /** A string list: its offsets must start at 0, never decrease and end at the byte count; each string must be valid UTF-8. */
  strings(name: string): string[] {
    const offsetsName = `${this.prefix}${name}#offsets`;
    const utf8Name = `${this.prefix}${name}#utf8`;
    const offsets = this.i32(`${name}#offsets`);
    const utf8 = this.u8(`${name}#utf8`);
    if (offsets.length === 0) throw new ArtifactError('string offsets are empty (a list of n strings has n + 1 offsets)', offsetsName, 'length');
    if (offsets[0] !== 0) throw new ArtifactError(`string offsets must start at 0, found ${offsets[0]}`, offsetsName, '[0]');
    const n = offsets.length - 1;
    if (offsets[n] !== utf8.length) throw new ArtifactError(`string offsets end at ${offsets[n]}, the text has ${utf8.length} bytes`, offsetsName, `[${n}]`);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      if (b < a) throw new ArtifactError(`string offsets decrease (${a} then ${b})`, offsetsName, `[${i + 1}]`);
      try {
        out[i] = decoder.decode(utf8.subarray(a, b));
      } catch {
        throw new ArtifactError(`string ${i} is not valid UTF-8`, utf8Name, `[${i}]`);
      }
    }
    return out;
  }

  scope(prefix: string): SectionReader {
    return new ArtifactReader(this.bytes, this.index, this.root, `${this.prefix}${prefix}/`);
  }
}

const SECTION_KEYS = ['name', 'dtype', 'offset', 'length', 'crc'];

function sectionBytes(s: SectionEntry): number {
  return s.length * DTYPES[s.dtype].BYTES_PER_ELEMENT;
}

/**
 * The manifest's meaning: { root, sections } and nothing else; each section entry has exactly
 * a non-empty unique name, a known dtype, an 8-aligned offset past the manifest, a length, a
 * u32 crc, and lies inside the file without overlapping another section.
 */
function checkManifest(json: unknown, fileBytes: number, manifestEnd: number): Manifest {
  const fail = (message: string, field?: string): never => {
    throw new ArtifactError(message, 'manifest', field);
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail(`manifest must be a JSON object, got ${describe(json)}`);
  const m = json as Record<string, unknown>;
  for (const key of Object.keys(m)) if (key !== 'root' && key !== 'sections') fail(`unknown manifest key "${key}"`, key);
  if (!('root' in m)) fail('manifest has no root', 'root');
  if (!Array.isArray(m.sections)) return fail(`manifest sections must be an array, got ${describe(m.sections)}`, 'sections');
  const names = new Set<string>();
  const sections: SectionEntry[] = m.sections.map((entry: unknown, i: number): SectionEntry => {
    const at = `sections[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return fail(`section entry must be an object, got ${describe(entry)}`, at);
    const e = entry as Record<string, unknown>;
    const { name, dtype, offset, length, crc } = e;
    if (typeof name !== 'string' || name === '') return fail(`section name must be a non-empty string, got ${describe(name)}`, `${at}.name`);
    if (names.has(name)) fail(`two sections are named "${name}"`, `${at}.name`);
    names.add(name);
    const entryFail = (message: string, field: string): never => {
      throw new ArtifactError(message, name, `${at}.${field}`);
    };
    for (const key of Object.keys(e)) if (!SECTION_KEYS.includes(key)) entryFail(`unknown section entry key "${key}"`, key);
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) return entryFail(`unknown dtype ${describe(dtype)} (known: ${Object.keys(DTYPES).join(', ')})`, 'dtype');
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return entryFail(`offset must be a non-negative integer, got ${describe(offset)}`, 'offset');
    if (offset % 8 !== 0) entryFail(`offset ${offset} is not 8-byte aligned`, 'offset');
    if (offset < manifestEnd) entryFail(`offset ${offset} lies inside the header or manifest (which end at byte ${manifestEnd})`, 'offset');
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) return entryFail(`length must be a non-negative integer, got ${describe(length)}`, 'length');
    if (typeof crc !== 'number' || !Number.isInteger(crc) || crc < 0 || crc > 0xffffffff) return entryFail(`crc must be a u32, got ${describe(crc)}`, 'crc');
    const s: SectionEntry = { name, dtype: dtype as SectionDtype, offset, length, crc };
    const end = offset + sectionBytes(s);
    if (end > fileBytes) entryFail(`artifact is truncated: section ends at byte ${end} of ${fileBytes}`, 'length');
    return s;
  });
  const byOffset = sections.map((_, i) => i).sort((a, b) => sections[a].offset - sections[b].offset);
  for (let k = 1; k < byOffset.length; k++) {
    const prev = sections[byOffset[k - 1]];
    const s = sections[byOffset[k]];
    if (s.offset < prev.offset + sectionBytes(prev)) {
      throw new ArtifactError(`section overlaps section "${prev.name}" (bytes ${prev.offset}..${prev.offset + sectionBytes(prev)})`, s.name, `sections[${byOffset[k]}].offset`);
    }
  }
  // The writer ends the file at the 8-aligned end of its last section: anything shorter is truncated, anything longer was appended.
  if (sections.length > 0) {
    const last = sections[byOffset[byOffset.length - 1]];
    const end = align8(last.offset + sectionBytes(last));
    if (fileBytes !== end) {
      const what = fileBytes < end ? 'is truncated' : `has ${fileBytes - end} bytes after its last section`;
      throw new ArtifactError(`artifact ${what}: it has ${fileBytes} bytes, the sections end at byte ${end}`, last.name, 'length');
    }
  }
  return { root: m.root as Json, sections };
}

/** Padding bytes [from, to) must be 0. */
function checkPadding(bytes: Uint8Array, from: number, to: number): void {
  for (let p = from; p < to; p++) {
    if (bytes[p] !== 0) throw new ArtifactError(`padding byte ${p} is 0x${bytes[p].toString(16)}, expected 0 (corrupt or edited file)`, 'padding', `byte ${p}`);
  }
}
