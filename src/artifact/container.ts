import { ArtifactError, ArtifactVersionError } from '../errors';
import type { Json } from '../util/json';
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
 * flipped bit is reported with the name of the section it hit.
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

  strings(name: string, data: readonly string[]): void {
    const offsets = new Int32Array(data.length + 1);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < data.length; i++) {
      const bytes = encoder.encode(data[i]);
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
   * Validates and opens `bytes`. Throws ArtifactError for a wrong magic, truncation, a bad
   * manifest or a section whose CRC does not match, and ArtifactVersionError for a newer format.
   */
  static open(bytes: Uint8Array): ArtifactReader {
    if (!(bytes instanceof Uint8Array)) throw new ArtifactError('artifact must be a Uint8Array');
    if (bytes.length < HEADER_BYTES) throw new ArtifactError(`artifact is truncated: ${bytes.length} bytes, header needs ${HEADER_BYTES}`);
    let magic = '';
    for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
    if (magic !== MAGIC) throw new ArtifactError('not a hybridrec artifact (bad magic bytes)');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(8, true);
    if (version > FORMAT_VERSION) throw new ArtifactVersionError(version, FORMAT_VERSION);
    if (version < 1) throw new ArtifactError(`invalid artifact format version ${version}`);
    const manifestLength = view.getUint32(12, true);
    if (HEADER_BYTES + manifestLength > bytes.length) throw new ArtifactError('artifact is truncated inside the manifest', 'manifest');
    const manifestBytes = bytes.subarray(HEADER_BYTES, HEADER_BYTES + manifestLength);
    if (crc32(manifestBytes) !== view.getUint32(16, true)) throw new ArtifactError('checksum mismatch', 'manifest');
    let manifest: Manifest;
    try {
      manifest = JSON.parse(decoder.decode(manifestBytes)) as Manifest;
    } catch (e) {
      throw new ArtifactError(`manifest is not valid JSON: ${(e as Error).message}`, 'manifest');
    }
    if (!manifest || !Array.isArray(manifest.sections)) throw new ArtifactError('manifest has no section list', 'manifest');
    const index = new Map<string, SectionEntry>();
    for (const s of manifest.sections) {
      const ctor = DTYPES[s.dtype];
      if (!ctor) throw new ArtifactError(`unknown dtype "${s.dtype}"`, s.name);
      const end = s.offset + s.length * ctor.BYTES_PER_ELEMENT;
      if (!Number.isInteger(s.offset) || s.offset < 0 || end > bytes.length) {
        throw new ArtifactError(`artifact is truncated: section ends at byte ${end} of ${bytes.length}`, s.name);
      }
      if (crc32(bytes.subarray(s.offset, end)) !== s.crc) throw new ArtifactError('checksum mismatch (corrupt data)', s.name);
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

  private typed<T extends SectionArray>(name: string, ctor: new (n: number) => T): T {
    const a = this.array(name);
    if (!(a instanceof ctor)) throw new ArtifactError(`section has type ${a.constructor.name}, expected ${ctor.name}`, this.prefix + name);
    return a;
  }

  f32(name: string): Float32Array {
    return this.typed(name, Float32Array);
  }
  f64(name: string): Float64Array {
    return this.typed(name, Float64Array);
  }
  i32(name: string): Int32Array {
    return this.typed(name, Int32Array);
  }
  u32(name: string): Uint32Array {
    return this.typed(name, Uint32Array);
  }
  u8(name: string): Uint8Array {
    return this.typed(name, Uint8Array);
  }

  strings(name: string): string[] {
    const offsets = this.i32(`${name}#offsets`);
    const utf8 = this.u8(`${name}#utf8`);
    const out = new Array<string>(offsets.length - 1);
    for (let i = 0; i + 1 < offsets.length; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      if (a < 0 || b < a || b > utf8.length) throw new ArtifactError('string offsets out of range', this.prefix + name);
      out[i] = decoder.decode(utf8.subarray(a, b));
    }
    return out;
  }

  scope(prefix: string): SectionReader {
    return new ArtifactReader(this.bytes, this.index, this.root, `${this.prefix}${prefix}/`);
  }
}
