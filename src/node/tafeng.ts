/**
 * Reader of the next-basket JSON files of the NBR literature (the TaFeng copy of
 * ../shared/data/tafeng, protocol P6): `{dataset}_history.json`, `{dataset}_future.json` and
 * `{dataset}_keyset.json`, plain or gzipped. The files are a few MB, parsed whole.
 */
import { join } from 'node:path';
import { DataError } from '../errors';
import type { NbrJson } from '../eval/splits';
import { checkPath, findDataFile, readTextChunks } from './files';

/** A JSON file, plain or gzipped: read failures, bad gzip, invalid UTF-8 and bad JSON are DataErrors naming it. */
async function readJson(path: string): Promise<unknown> {
  let text = '';
  for await (const chunk of readTextChunks(path)) text += chunk;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`not valid JSON: ${(e as Error).message}`, { file: path });
  }
}

/** The three files of `name` (e.g. 'tafeng') in `dir`, `.json.gz` or `.json`. */
export async function loadNbrJson(dir: string, name: string): Promise<NbrJson> {
  checkPath(dir, 'loadNbrJson: dir');
  checkPath(name, 'loadNbrJson: name');
  const pick = async (base: string) => {
    const path = await findDataFile(dir, `${base}.json`);
    if (path === null) throw new DataError(`missing file (nor ${base}.json.gz)`, { file: join(dir, `${base}.json`) });
    return { path, value: await readJson(path) };
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
