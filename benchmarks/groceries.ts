/**
 * The Groceries dataset of R arules (../shared/data/groceries): one basket per line, item
 * labels separated by ',' and kept exactly as written (some end in a space, as in arules).
 * Shared by the P5 benchmark, the rules speed benchmark and the P5 test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Transactions } from '../src/strategies/association-rules';

export const GROCERIES_FILE = fileURLToPath(new URL('../../shared/data/groceries/groceries.csv.gz', import.meta.url));

export function readGroceries(file = GROCERIES_FILE): { names: string[]; tx: Transactions; lines: number } {
  const rows = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  const index = new Map<string, number>();
  const ptr = [0];
  const items: number[] = [];
  for (const row of rows) {
    for (const name of row.split(',')) {
      let i = index.get(name);
      if (i === undefined) index.set(name, (i = index.size));
      items.push(i);
    }
    ptr.push(items.length);
  }
  return { names: [...index.keys()], tx: { ptr: Int32Array.from(ptr), items: Int32Array.from(items), nItems: index.size }, lines: items.length };
}
