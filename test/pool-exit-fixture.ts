/**
 * Imports the Node main entry (which installs the worker pool), runs a parallel job with the
 * default thread count and returns without closing the pool: the process must exit by itself.
 */
import '../src/index-node';
import { CsrMatrix, cooccurrence } from '../src/strategy';
import { WorkerPool } from '../src/node/pool';
import { defaultExecutor } from '../src/util/parallel';

const nRows = 8000;
const nItems = 200;
const rows = new Int32Array(nRows * 50);
const cols = new Int32Array(nRows * 50);
for (let r = 0; r < nRows; r++) for (let k = 0; k < 50; k++) (rows[r * 50 + k] = r), (cols[r * 50 + k] = (r * 7 + k * 3) % nItems);
const out = await cooccurrence(CsrMatrix.fromCoo(nRows, nItems, rows, cols, null), { binary: true });
const pool = defaultExecutor();
console.log(`pairs ${out.nnz} pool ${pool instanceof WorkerPool} threads ${pool.threads} workers ${pool instanceof WorkerPool ? pool.size : 0}`);
