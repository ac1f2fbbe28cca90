/**
 * The Node executor: a pool of worker_threads that run kernels (src/util/parallel.ts) over
 * ranges of SharedArrayBuffer-backed typed arrays.
 *
 * - A job's input is copied once into shared memory and sent to each worker once (with its
 *   first range); ranges are then handed out one at a time to whichever worker is free, so
 *   uneven ranges balance themselves. Outputs come back by transfer and are returned in range
 *   order: the result never depends on which worker ran what.
 * - A kernel that throws rejects the job with the same error class, fields and stack.
 * - Abort rejects the job at once with AbortedError; no further range starts (a range is a few
 *   milliseconds of work, and the worker stays warm for the next job).
 * - Workers start on first use, are unref'ed while no job runs (they never keep the process
 *   alive) and exit after `idleTimeout` ms without work (default a minute; Infinity: never).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AbortedError, HybridrecError, throwIfAborted } from '../errors';
import { inlineExecutor, setDefaultExecutor, type Executor, type Kernel, type ParallelOptions } from '../util/parallel';
import { deserializeError, shareInput, type FromWorker, type ToWorker, type WorkerData } from './worker-protocol';

export interface WorkerPoolOptions {
  /** Threads a job uses when it does not say (default: os.availableParallelism(), every core). */
  threads?: number;
  /**
   * Milliseconds a worker waits without work before it exits (default 60000; Infinity, or 2^31 ms
   * and more: only close() stops them). Idle workers never keep the process alive, so the cost of
   * keeping them is their memory (a V8 isolate each, and the model a parallel recommendBatch
   * loaded into it), while a restart costs their start (about 50 ms each from dist, a second
   * from the TypeScript sources) and, for recommendBatch, loading the model again (seconds at
   * P1/P2 size). The default keeps them across an application's pauses of up to a minute
   * between fits and batches (5 s, before, let them go between most), and frees that memory after.
   */
  idleTimeout?: number;
  /**
   * More modules (file URLs or absolute paths) each worker imports at start; every Kernel they
   * export can run on the pool beside the built-in ones of src/node/kernels.ts (default none).
   * For kernels of strategies outside the library.
   */
  modules?: ReadonlyArray<string | URL>;
}

interface Job {
  readonly id: number;
  readonly kernel: string;
  readonly input: object;
  readonly bounds: ArrayLike<number>;
  readonly threads: number;
  readonly options: ParallelOptions;
  readonly outputs: unknown[];
  /** Next range to hand out. */
  next: number;
  /** Ranges running now. */
  running: number;
  /** Ranges finished. */
  finished: number;
  doneUnits: number;
  readonly sentTo: Set<PoolWorker>;
  settle: (error: Error | null) => void;
}

interface PoolWorker {
  readonly thread: Worker;
  /** The job and range it runs, or null when idle. */
  current: { job: Job; range: number } | null;
}

export class WorkerPool implements Executor {
  readonly threads: number;
  private readonly idleTimeout: number;
  private readonly modules: string[];
  private readonly workers: PoolWorker[] = [];
  private readonly jobs: Job[] = [];
  private nextJobId = 1;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private workerFileFound: boolean | null = null;

  constructor(options: WorkerPoolOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.idleTimeout = options.idleTimeout ?? 60_000;
    this.modules = (options.modules ?? []).map((m) => (m instanceof URL ? m.href : m.startsWith('file:') ? m : pathToFileURL(m).href));
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new HybridrecError(`WorkerPool threads must be an integer >= 1, got ${this.threads}`);
    if (typeof this.idleTimeout !== 'number' || !(this.idleTimeout >= 0)) throw new HybridrecError(`WorkerPool idleTimeout must be a number of milliseconds >= 0 or Infinity, got ${String(this.idleTimeout)}`);
  }

  /** Workers alive now (started lazily, gone after the idle timeout or close()). */
  get size(): number {
    return this.workers.length;
  }

  run<Input extends object, Output>(kernel: Kernel<Input, Output>, input: Input, bounds: ArrayLike<number>, options: ParallelOptions): Promise<Output[]> {
    const { signal, stage } = options;
    throwIfAborted(signal, stage);
    if (!this.canStartWorkers()) return inlineExecutor.run(kernel, input, bounds, options);
    const nRanges = bounds.length - 1;
    if (nRanges <= 0) return Promise.resolve([]);
    return new Promise<Output[]>((resolve, reject) => {
      const onAbort = () => job.settle(new AbortedError(stage));
      const job: Job = {
        id: this.nextJobId++,
        kernel: kernel.name,
        input: shareInput(input),
        bounds,
        threads: options.threads ?? this.threads,
        options,
        outputs: new Array<unknown>(nRanges),
        next: 0,
        running: 0,
        finished: 0,
        doneUnits: 0,
        sentTo: new Set(),
        settle: (error) => {
          const at = this.jobs.indexOf(job);
          if (at < 0) return;
          this.jobs.splice(at, 1);
          signal?.removeEventListener('abort', onAbort);
          for (const w of job.sentTo) post(w, { type: 'forget', job: job.id });
          if (error) reject(error);
          else resolve(job.outputs as Output[]);
          this.dispatch();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.jobs.push(job);
      options.onProgress?.({ stage, done: 0, total: bounds[nRanges] });
      this.dispatch();
    });
  }

  /** Stops every worker now (jobs still running reject); the pool starts new ones when used again. */
  async close(): Promise<void> {
    for (const job of [...this.jobs]) job.settle(new HybridrecError('the worker pool was closed'));
    this.clearIdleTimer();
    const closing = this.workers.splice(0).map((w) => w.thread.terminate());
    await Promise.all(closing);
  }

  /** Hands free workers the next ranges, starting workers while a job may use more; lets idle workers go. */
  private dispatch(): void {
    for (;;) {
      const job = this.jobs.find((j) => j.next < j.bounds.length - 1 && j.running < j.threads);
      if (!job) break;
      const worker = this.workers.find((w) => w.current === null) ?? (this.workers.length < this.wanted() ? this.spawn() : null);
      if (!worker) break;
      const range = job.next++;
      job.running++;
      worker.current = { job, range };
      const first = !job.sentTo.has(worker);
      job.sentTo.add(worker);
      post(worker, {
        type: 'range',
        job: job.id,
        kernel: job.kernel,
        input: first ? job.input : undefined,
        range,
        start: job.bounds[range],
        end: job.bounds[range + 1],
      });
    }
    const busy = this.jobs.length > 0;
    for (const w of this.workers) {
      if (busy) w.thread.ref();
      else w.thread.unref();
    }
    if (busy) this.clearIdleTimer();
    // setTimeout fires at once past 2^31 - 1 ms, so longer waits (Infinity) set no timer at all.
    else if (this.workers.length > 0 && this.idleTimer === null && this.idleTimeout <= MAX_TIMEOUT) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (this.jobs.length === 0) for (const w of this.workers.splice(0)) void w.thread.terminate();
      }, this.idleTimeout);
      this.idleTimer.unref();
    }
  }

  /**
   * False when the worker file is missing, as when an app bundles hybridrec into one file:
   * jobs then run inline, after one process warning that says how to get the threads back.
   */
  private canStartWorkers(): boolean {
    if (this.workerFileFound === null) {
      const file = fileURLToPath(workerEntry().file);
      this.workerFileFound = existsSync(file);
      if (!this.workerFileFound) {
        process.emitWarning(`hybridrec: the worker pool's file ${file} is missing (is hybridrec bundled?), so fits run on one thread; ship dist/worker.js (or .cjs) beside the bundle, or pass threads: 1 to silence this`);
      }
    }
    return this.workerFileFound;
  }

  /** Workers the running jobs can use at once. */
  private wanted(): number {
    let n = 0;
    for (const j of this.jobs) n = Math.max(n, j.threads);
    return n;
  }

  private spawn(): PoolWorker {
    const entry = workerEntry();
    const workerData: WorkerData = { entry: entry.ts, modules: this.modules };
    const worker: PoolWorker = { thread: new Worker(entry.file, { workerData, execArgv: workerExecArgv() }), current: null };
    this.workers.push(worker);
    worker.thread.on('message', (msg: FromWorker) => this.receive(worker, msg));
    const lost = (error: Error) => {
      const at = this.workers.indexOf(worker);
      if (at < 0) return;
      this.workers.splice(at, 1);
      const current = worker.current;
      worker.current = null;
      current?.job.settle(error);
      this.dispatch();
    };
    worker.thread.on('error', (e) => lost(e instanceof Error ? e : new HybridrecError(String(e))));
    worker.thread.on('exit', (code) => lost(new HybridrecError(`a pool worker exited with code ${code} while running a range`)));
    return worker;
  }

  private receive(worker: PoolWorker, msg: FromWorker): void {
    const current = worker.current;
    worker.current = null;
    if (current && current.job.id === msg.job && this.jobs.includes(current.job)) {
      const job = current.job;
      job.running--;
      if (msg.type === 'error') {
        job.settle(deserializeError(msg.error));
        return;
      }
      job.outputs[msg.range] = msg.output;
      job.finished++;
      job.doneUnits += job.bounds[msg.range + 1] - job.bounds[msg.range];
      const total = job.bounds[job.bounds.length - 1];
      job.options.onProgress?.({ stage: job.options.stage, done: job.doneUnits, total });
      if (job.finished === job.bounds.length - 1) {
        job.settle(null);
        return;
      }
    }
    this.dispatch();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** The longest delay setTimeout honours (a signed 32-bit count of milliseconds). */
const MAX_TIMEOUT = 2 ** 31 - 1;

function post(worker: PoolWorker, msg: ToWorker): void {
  worker.thread.postMessage(msg);
}

/**
 * The worker's entry file beside this module: worker.js / worker.cjs in the built package
 * (same format as the caller; tsup shims import.meta.url in the CJS build), or, when the library runs from its TypeScript sources (vitest,
 * tsx), a bootstrap that registers tsx and then loads worker.ts (`ts`).
 */
function workerEntry(): { file: URL; ts?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { file: new URL('./worker-dev.mjs', here), ts: new URL('./worker.ts', here).href };
  return { file: new URL(here.endsWith('.cjs') ? './worker.cjs' : './worker.js', here) };
}

/**
 * The process's Node options for a worker, less --input-type (`node --input-type=module -e`),
 * which Node refuses for a worker started from a file.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--input-type') k++;
    else if (!argv[k].startsWith('--input-type=')) out.push(argv[k]);
  }
  return out;
}

let pool: WorkerPool | null = null;

/**
 * Installs a worker pool as the default executor of this process (the Node build of the main
 * entry does this at import) and returns it; later calls return the same pool.
 */
export function installWorkerPool(options?: WorkerPoolOptions): WorkerPool {
  pool ??= new WorkerPool(options);
  setDefaultExecutor(pool);
  return pool;
}
