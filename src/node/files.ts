/**
 * Small Node file helpers shared by the loaders: streamed text of plain or gzipped files,
 * lines, CSV records, and artifact files.
 */
import { createReadStream } from 'node:fs';
import { access, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvParser, type CsvOptions, type CsvRecordHandler } from '../data/csv';
import { throwIfAborted } from '../errors';
import type { Progress } from '../strategies/types';

export interface ReadTextOptions {
  signal?: AbortSignal;
  /** Text encoding (default 'utf8'); MovieLens' u.item is 'latin1'. */
  encoding?: 'utf8' | 'latin1';
  /** Called after each chunk with bytes read from disk (compressed bytes for .gz) of the file size. */
  onProgress?: (progress: Progress) => void;
}

/** Decoded text chunks of a file, gunzipped when its name ends in .gz. Never the whole file at once. */
export async function* readTextChunks(path: string, options: ReadTextOptions = {}): AsyncGenerator<string> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, `reading ${path}`);
  const total = onProgress ? (await stat(path)).size : 0;
  const raw = createReadStream(path, { highWaterMark: 1 << 16 });
  let text: Readable = raw;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    raw.on('error', (error) => gunzip.destroy(error));
    text = raw.pipe(gunzip);
  }
  text.setEncoding(options.encoding ?? 'utf8');
  try {
    for await (const chunk of text as AsyncIterable<string>) {
      throwIfAborted(signal, `reading ${path}`);
      yield chunk;
      onProgress?.({ stage: `read ${path}`, done: raw.bytesRead, total });
    }
  } finally {
    raw.destroy();
    text.destroy();
  }
}

/** Lines of a text file (.gz gunzipped), without their \n or \r\n. */
export async function* readLines(path: string, options: ReadTextOptions = {}): AsyncGenerator<string> {
  let rest = '';
  let first = true;
  for await (let chunk of readTextChunks(path, options)) {
    if (first) {
      first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    let start = 0;
    let nl = chunk.indexOf('\n');
    if (nl >= 0 && rest) {
      const line = rest + chunk.slice(0, nl);
      rest = '';
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    while (nl >= 0) {
      yield chunk.charCodeAt(nl - 1) === 13 && nl > start ? chunk.slice(start, nl - 1) : chunk.slice(start, nl);
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    rest += chunk.slice(start);
  }
  if (rest) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** Streams a CSV file through CsvParser (file name in errors defaults to the path). */
export async function readCsvFile(path: string, onRecord: CsvRecordHandler, options: CsvOptions & ReadTextOptions = {}): Promise<CsvParser> {
  const parser = new CsvParser(onRecord, { file: path, ...options });
  for await (const chunk of readTextChunks(path, options)) parser.write(chunk);
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
  const buffer = await readFile(path);
  if (buffer.byteOffset % 8 === 0) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return new Uint8Array(buffer);
}
