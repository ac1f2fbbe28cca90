/** Runs a parallel job on a pool it never closes, then returns: the process must exit by itself. */
import { installWorkerPool } from '../src/node/pool';
import { cooccurrence } from '../src/util/cooccurrence';
import { CsrMatrix } from '../src/data/csr';

const nRows = 8000;
const nItems = 200;
const rows = new Int32Array(nRows * 50);
const cols = new Int32Array(nRows * 50);
for (let r = 0; r < nRows; r++) for (let k = 0; k < 50; k++) (rows[r * 50 + k] = r), (cols[r * 50 + k] = (r * 7 + k * 3) % nItems);
const pool = installWorkerPool({ idleTimeout: 60_000 });
const out = await cooccurrence(CsrMatrix.fromCoo(nRows, nItems, rows, cols, null), { binary: true, threads: 2 });
console.log(`pairs ${out.nnz} workers ${pool.size}`);
