/**
 * Small Node file helpers shared by the loaders: streamed text of plain or gzipped files,
 * lines, CSV records, and artifact files. Every file or stream failure (missing path, a
 * directory, a corrupt or truncated .gz, invalid UTF-8, a read error) is a DataError naming
 * the file, and the line where it is known.
 */
import { createReadStream } from 'node:fs';
import { access, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvParser, type CsvOptions, type CsvRecordHandler } from '../data/csv';
import { DataError, HybridrecError, OptionError, throwIfAborted } from '../errors';
import type { Progress } from '../strategies/types';
import { describe } from '../util/options';

/** A path argument: a non-empty string (else an OptionError naming `name`, e.g. "loadInstacart: dir"). */
export function checkPath(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new OptionError(name, `must be a non-empty path string, got ${describe(value)}`);
  return value;
}

export interface ReadTextOptions {
  signal?: AbortSignal;
  /**
   * Text encoding (default 'utf8'). UTF-8 is decoded strictly: invalid bytes are a DataError
   * naming the file and line, never a silent U+FFFD (which would make "caf\xE9" and
   * "caf\xE8" one id). Latin-1 files (MovieLens' u.item) need 'latin1'.
   */
  encoding?: 'utf8' | 'latin1';
  /** Called after each chunk with bytes read from disk (compressed bytes for .gz) of the file size. */
  onProgress?: (progress: Progress) => void;
  /** The line a consumer has reached, so that a failure mid-file can name it. */
  currentLine?: () => number;
}

/** Decoded text chunks of a file, gunzipped when its name ends in .gz. Never the whole file at once. */
export async function* readTextChunks(path: string, options: ReadTextOptions = {}): AsyncGenerator<string> {
  checkPath(path, 'path');
  const { signal, onProgress } = options;
  const encoding = options.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'latin1') throw new DataError(`unknown encoding ${JSON.stringify(encoding)}: use 'utf8' or 'latin1'`, { file: path });
  throwIfAborted(signal, `reading ${path}`);
  let total = 0;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new DataError('cannot read: is a directory, not a file', { file: path });
    total = info.size;
  } catch (error) {
    throw streamError(error, { file: path, gzip: false });
  }
  const gzip = path.endsWith('.gz');
  const raw = createReadStream(path, { highWaterMark: 1 << 16 });
  let bytes: Readable = raw;
  if (gzip) {
    const gunzip = createGunzip();
    raw.on('error', (error) => gunzip.destroy(error));
    bytes = raw.pipe(gunzip);
  }
  try {
    for await (const text of decodeText(bytes as AsyncIterable<Uint8Array>, { file: path, gzip, encoding, currentLine: options.currentLine })) {
      throwIfAborted(signal, `reading ${path}`);
      yield text;
      onProgress?.({ stage: `read ${path}`, done: raw.bytesRead, total });
    }
  } finally {
    raw.destroy();
    bytes.destroy();
  }
}

interface DecodeOptions {
  file: string;
  /** The bytes are gunzipped (zlib errors mean a corrupt or truncated .gz, byte offsets are of the decompressed text). */
  gzip: boolean;
  encoding: 'utf8' | 'latin1';
  currentLine?: () => number;
}

/**
 * Text of a byte stream. UTF-8 is decoded strictly; at an invalid sequence the valid text
 * before it is yielded first (so a consumer's line count reaches the bad line), then a
 * DataError names the file, the line and the byte. Any failure of the stream itself becomes a
 * DataError naming the file.
 */
export async function* decodeText(source: AsyncIterable<Uint8Array>, options: DecodeOptions): AsyncGenerator<string> {
  const { encoding } = options;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** An incomplete UTF-8 sequence at the end of the previous chunk. */
  let tail: Uint8Array | null = null;
  /** Bytes decoded so far. */
  let offset = 0;
  try {
    for await (const chunk of source) {
      if (encoding === 'latin1') {
        offset += chunk.length;
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
        continue;
      }
      const bytes: Uint8Array = tail ? concatBytes(tail, chunk) : chunk;
      const end = completeUtf8Length(bytes);
      let text: string;
      try {
        text = decoder.decode(bytes.subarray(0, end));
      } catch {
        const bad = firstInvalidUtf8(bytes, end);
        if (bad > 0) yield decoder.decode(bytes.subarray(0, bad));
        throw invalidUtf8(bytes, bad, offset + bad, options);
      }
      tail = end < bytes.length ? bytes.slice(end) : null;
      offset += end;
      if (text.length > 0) yield text;
    }
  } catch (error) {
    throw streamError(error, { ...options, line: offset > 0 ? options.currentLine?.() : undefined });
  }
  if (tail) throw invalidUtf8(tail, 0, offset, options, 'the file ends inside a UTF-8 sequence (truncated?)');
}

/** Length of the prefix of `bytes` that ends on a complete UTF-8 sequence (at most 3 bytes shorter). */
function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Offset of the first byte of `bytes[0, end)` that does not start a valid UTF-8 sequence (WHATWG rules), or `end`. */
export function firstInvalidUtf8(bytes: Uint8Array, end = bytes.length): number {
  let i = 0;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // no overlong forms
      if (b === 0xed) hi = 0x9f; // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else return i;
    if (i + need >= end) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return end;
}

function invalidUtf8(bytes: Uint8Array, at: number, fileOffset: number, options: DecodeOptions, why?: string): DataError {
  const shown = Array.from(bytes.subarray(at, at + 4), (b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
  const utf16 = fileOffset === 0 && bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  const hint = utf16 ? '; the file starts with a UTF-16 byte order mark: convert it to UTF-8' : "; if the file is Latin-1, pass encoding: 'latin1'";
  const position = `${options.gzip ? 'decompressed ' : ''}byte ${fileOffset}`;
  const message = why ?? `invalid UTF-8 (bytes ${shown} at ${position})`;
  return new DataError(`${message}${hint}`, { file: options.file, line: options.currentLine?.() });
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A failure of opening, reading or gunzipping a file as a DataError naming it (our own errors pass through). */
function streamError(error: unknown, where: { file: string; gzip: boolean; line?: number }): Error {
  if (error instanceof HybridrecError) return error;
  const e = error as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  const detail = e instanceof Error ? e.message : String(error);
  let message: string;
  if (code === 'ENOENT') message = 'cannot read: no such file';
  else if (code === 'EISDIR') message = 'cannot read: is a directory, not a file';
  else if (code === 'EACCES' || code === 'EPERM') message = 'cannot read: permission denied';
  else if (code === 'Z_BUF_ERROR') message = 'truncated gzip data (unexpected end of file)';
  else if (code === 'Z_DATA_ERROR' && /header/.test(detail)) message = 'not gzip data, although the name ends in .gz';
  else if (code.startsWith('Z_')) message = `corrupt gzip data (${detail})`;
  else message = `read failed (${detail})`;
  return new DataError(message, { file: where.file, line: where.line });
}

/** Lines of a text file (.gz gunzipped), without their \n or \r\n. */
export async function* readLines(path: string, options: ReadTextOptions = {}): AsyncGenerator<string> {
  let rest = '';
  let first = true;
  let line = 1;
  for await (let chunk of readTextChunks(path, { ...options, currentLine: () => line })) {
    if (first) {
      first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    let start = 0;
    let nl = chunk.indexOf('\n');
    if (nl >= 0 && rest) {
      const text = rest + chunk.slice(0, nl);
      rest = '';
      line++;
      yield text.endsWith('\r') ? text.slice(0, -1) : text;
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    while (nl >= 0) {
      line++;
      yield chunk.charCodeAt(nl - 1) === 13 && nl > start ? chunk.slice(start, nl - 1) : chunk.slice(start, nl);
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    rest += chunk.slice(start);
  }
  if (rest) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** Streams a CSV file through CsvParser (file name in errors defaults to the path). */
export async function readCsvFile(path: string, onRecord: CsvRecordHandler, options: Partial<CsvOptions> & Omit<ReadTextOptions, 'currentLine'> = {}): Promise<CsvParser> {
  const { signal, encoding, onProgress, ...csv } = options;
  const parser = new CsvParser(onRecord, { ...csv, file: csv.file ?? path });
  for await (const chunk of readTextChunks(path, { signal, encoding, onProgress, currentLine: () => parser.currentLine })) parser.write(chunk);
  parser.end();
  return parser;
}

/** `dir/name` if it exists, else `dir/name.gz` if that exists, else null. */
export async function findDataFile(dir: string, name: string): Promise<string | null> {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next spelling
    }
  }
  return null;
}

/** Writes an artifact atomically: a temporary file renamed over the target, so readers never see half a file. */
export async function saveArtifactFile(path: string, bytes: Uint8Array): Promise<void> {
  checkPath(path, 'saveArtifactFile: path');
  if (!(bytes instanceof Uint8Array)) throw new OptionError('saveArtifactFile: bytes', `must be a Uint8Array (an artifact), got ${describe(bytes)}`);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Reads an artifact file into a Uint8Array whose buffer starts 8-aligned (so sections can be viewed without copies). */
export async function loadArtifactFile(path: string): Promise<Uint8Array> {
  checkPath(path, 'loadArtifactFile: path');
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    throw streamError(error, { file: path, gzip: false });
  }
  if (buffer.byteOffset % 8 === 0) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return new Uint8Array(buffer);
}
