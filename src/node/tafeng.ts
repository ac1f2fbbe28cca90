/**
 * Reader of the next-basket JSON files of the NBR literature (the TaFeng copy of
 * ../shared/data/tafeng, protocol P6): `{dataset}_history.json`, `{dataset}_future.json` and
 * `{dataset}_keyset.json`, plain or gzipped. The files are a few MB, parsed whole.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors';
import type { NbrJson } from '../eval/splits';

async function readJson(path: string): Promise<unknown> {
  const bytes = await readFile(path);
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`not valid JSON: ${(e as Error).message}`, { file: path });
  }
}

/** The three files of `name` (e.g. 'tafeng') in `dir`, `.json.gz` or `.json`. */
export async function loadNbrJson(dir: string, name: string): Promise<NbrJson> {
  const pick = async (base: string) => {
    const gz = join(dir, `${base}.json.gz`);
    try {
      return { path: gz, value: await readJson(gz) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const plain = join(dir, `${base}.json`);
      return { path: plain, value: await readJson(plain) };
    }
  };
  const history = await pick(`${name}_history`);
  const future = await pick(`${name}_future`);
  const keyset = await pick(`${name}_keyset`);
  const k = keyset.value as Record<string, unknown>;
  for (const field of ['train', 'val', 'test']) {
    if (!Array.isArray(k?.[field])) throw new DataError(`keyset has no "${field}" list of user ids`, { file: keyset.path, field });
  }
  return {
    history: history.value as NbrJson['history'],
    future: future.value as NbrJson['future'],
    keyset: { train: k.train as string[], val: k.val as string[], test: k.test as string[] },
    files: { history: history.path, future: future.path, keyset: keyset.path },
  };
}
