/**
 * The model a server scores with, on every core: a generation of worker threads that each hold
 * the same loaded artifact (its bytes in one SharedArrayBuffer, so the typed-array sections are
 * shared, not copied per thread), or the HTTP thread itself with `workers: 0`.
 *
 * Why worker threads rather than node:cluster: the HTTP thread never scores, so /health,
 * /ready and /metrics answer while every worker is busy with k=1000&explain requests; one
 * process has one prom-client registry and one listening socket to close on SIGTERM; and a hot
 * swap has one coordinator: the new generation loads the file fully in every thread, and only
 * when all of them are ready does the pool switch to it (one assignment). Requests already sent
 * to the old generation finish there; it is then terminated. A file that fails to load leaves
 * the old generation serving and rejects the swap with the load's ArtifactError.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HybridrecError } from '../errors';
import { ServingModel, sha256Hex, type ModelInfo, type Task } from './model';
import { ServedError, type FromWorker, type ServingWorkerData, type ToWorker } from './protocol';

export interface PoolOptions {
  /** Worker threads that score (0: score on the calling thread). Default: every core. */
  workers: number;
  /** Requests one worker may hold (running + waiting) before the pool answers OverloadedError. */
  maxQueue: number;
}

/** Every worker already holds maxQueue requests: the server answers 503 with Retry-After. */
export class OverloadedError extends HybridrecError {
  constructor(queued: number) {
    super(`the server is at capacity (${queued} requests waiting); retry shortly`);
  }
}

interface Generation {
  readonly info: ModelInfo;
  /** Requests sent and not yet answered. */
  readonly pending: number;
  run(task: Task): Promise<string>;
  /** Resolves once every pending request has been answered, then frees the model. */
  retire(): Promise<void>;
}

/**
 * How many different k of GET /popular one model keeps answers for. Clients ask a few fixed k
 * (a page's 10, a carousel's 20); the bound keeps a client walking k=1..1000 from holding
 * 1,000 answers (a k=1000 answer is about 250 KB).
 */
const POPULAR_ANSWERS = 32;

export class ModelPool {
  private current: Generation;
  /**
   * The current model's GET /popular answers by k: the cold start depends on nothing but the
   * model and k, so it is scored once per model, not per request (and never crosses to a
   * worker again). Replaced in the same step as `current`, so an answer is always the served model's.
   */
  private popularAnswers = new Map<number, Promise<string>>();
  private number = 1;
  private swapping: Promise<unknown> = Promise.resolve();
  private readonly retiring = new Set<Promise<void>>();

  private constructor(
    first: Generation,
    private readonly options: PoolOptions,
  ) {
    this.current = first;
  }

  static async open(bytes: Uint8Array, options: Partial<PoolOptions> = {}): Promise<ModelPool> {
    const o: PoolOptions = { workers: options.workers ?? availableParallelism(), maxQueue: options.maxQueue ?? 256 };
    return new ModelPool(await startGeneration(bytes, o), o);
  }

  /** The model served now. */
  get info(): ModelInfo {
    return this.current.info;
  }

  /** How many models this pool has served (1 before any swap). */
  get generation(): number {
    return this.number;
  }

  get workers(): number {
    return this.options.workers;
  }

  /** Requests sent to the current model and not yet answered. */
  get pending(): number {
    return this.current.pending;
  }

  run(task: Task): Promise<string> {
    return this.current.run(task);
  }

  /** What a shopper with no history gets (the answer of GET /popular), from the current model's cache. */
  popular(k: number): Promise<string> {
    const cached = this.popularAnswers.get(k);
    if (cached !== undefined) return cached;
    const answers = this.popularAnswers;
    const answer = this.current.run({ op: 'popular', options: { k } });
    // A failure (an overloaded pool) is not an answer: the next request scores again.
    answer.catch(() => answers.get(k) === answer && answers.delete(k));
    if (answers.size >= POPULAR_ANSWERS) answers.delete(answers.keys().next().value!);
    answers.set(k, answer);
    return answer;
  }

  /**
   * Loads `bytes` fully (in every worker), then serves it; swaps run one at a time. Rejects,
   * leaving the current model serving, when the artifact does not load.
   */
  swap(bytes: Uint8Array): Promise<ModelInfo> {
    const next = this.swapping.then(async () => {
      const generation = await startGeneration(bytes, this.options);
      const old = this.current;
      this.current = generation;
      this.popularAnswers = new Map();
      this.number++;
      const retired = old.retire().finally(() => this.retiring.delete(retired));
      this.retiring.add(retired);
      return generation.info;
    });
    this.swapping = next.catch(() => undefined);
    return next;
  }

  /** Waits for every request sent so far to be answered, then stops the workers. */
  async close(): Promise<void> {
    await this.swapping;
    await Promise.all([this.current.retire(), ...this.retiring]);
  }
}

async function startGeneration(bytes: Uint8Array, options: PoolOptions): Promise<Generation> {
  if (!(bytes instanceof Uint8Array)) throw new HybridrecError('a model artifact must be a Uint8Array');
  const sha256 = sha256Hex(bytes);
  if (options.workers === 0) return new InlineGeneration(await ServingModel.load(bytes, sha256));
  const artifact = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(artifact).set(bytes);
  return ThreadGeneration.start({ artifact, sha256 }, options);
}

/** Scoring on the calling thread (tests, tiny models, hosts that run their own processes). */
class InlineGeneration implements Generation {
  pending = 0;
  constructor(private readonly model: ServingModel) {}

  get info(): ModelInfo {
    return this.model.info;
  }

  async run(task: Task): Promise<string> {
    return this.model.run(task);
  }

  async retire(): Promise<void> {}
}

interface Slot {
  thread: Worker;
  waiting: Map<number, { resolve: (json: string) => void; reject: (e: Error) => void }>;
}

class ThreadGeneration implements Generation {
  private slots: Slot[] = [];
  private nextId = 1;
  private retired = false;
  private drained: (() => void) | null = null;

  private constructor(
    readonly info: ModelInfo,
    private readonly data: ServingWorkerData,
    private readonly maxQueue: number,
  ) {}

  /** Starts `workers` threads on the artifact; resolves when every one has loaded it. */
  static async start(data: ServingWorkerData, options: PoolOptions): Promise<ThreadGeneration> {
    const started = await Promise.allSettled(Array.from({ length: options.workers }, () => spawn(data)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const ready = started.filter((s): s is PromiseFulfilledResult<{ thread: Worker; info: ModelInfo }> => s.status === 'fulfilled');
    if (failed) {
      await Promise.all(ready.map((s) => s.value.thread.terminate()));
      throw failed.reason;
    }
    const generation = new ThreadGeneration(ready[0].value.info, data, options.maxQueue);
    for (const { value } of ready) generation.adopt(value.thread);
    return generation;
  }

  get pending(): number {
    let n = 0;
    for (const s of this.slots) n += s.waiting.size;
    return n;
  }

  run(task: Task): Promise<string> {
    let best: Slot | null = null;
    for (const s of this.slots) if (best === null || s.waiting.size < best.waiting.size) best = s;
    if (best === null || best.waiting.size >= this.maxQueue) return Promise.reject(new OverloadedError(this.pending));
    const slot = best;
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      slot.thread.postMessage({ id, task } satisfies ToWorker);
    });
  }

  retire(): Promise<void> {
    this.retired = true;
    const stop = () => Promise.all(this.slots.map((s) => s.thread.terminate())).then(() => undefined);
    if (this.pending === 0) return stop();
    return new Promise<void>((done) => {
      this.drained = () => void stop().then(done);
    });
  }

  private adopt(thread: Worker): void {
    const slot: Slot = { thread, waiting: new Map() };
    this.slots.push(slot);
    thread.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const w = slot.waiting.get(m.id);
      if (!w) return;
      slot.waiting.delete(m.id);
      if (m.type === 'result') w.resolve(m.json);
      else w.reject(new ServedError(m.error));
      if (this.retired && this.drained && this.pending === 0) this.drained();
    });
    // A worker that dies (out of memory, a bug) fails its requests and is replaced.
    thread.once('exit', (code) => {
      this.slots = this.slots.filter((s) => s !== slot);
      for (const w of slot.waiting.values()) w.reject(new HybridrecError(`a serving worker exited with code ${code}`));
      slot.waiting.clear();
      if (this.retired) {
        if (this.drained && this.pending === 0) this.drained();
        return;
      }
      spawn(this.data).then(
        ({ thread: fresh }) => (this.retired ? void fresh.terminate() : this.adopt(fresh)),
        () => undefined,
      );
    });
    thread.on('error', () => undefined);
  }
}

/** One worker on the artifact, resolved once it has loaded the model. */
function spawn(data: ServingWorkerData): Promise<{ thread: Worker; info: ModelInfo }> {
  const { file, entry } = workerEntry();
  const thread = new Worker(file, { workerData: { ...data, entry } satisfies ServingWorkerData });
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ready') {
        cleanup();
        resolve({ thread, info: m.info });
      } else if (m.type === 'load-error') {
        cleanup();
        void thread.terminate();
        reject(new ServedError(m.error));
      }
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new HybridrecError(`a serving worker exited with code ${code} while loading the model`));
    };
    const cleanup = () => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
    };
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
  });
}

/**
 * The worker's file beside this module: dist/server-worker.js (or .cjs) in the built package
 * (tsup shims import.meta.url in the CJS build), or worker.ts through worker-dev.mjs when the
 * library runs from its TypeScript sources (vitest, tsx), through the kernel pool's dev entry
 * (src/node/worker-dev.mjs registers tsx, then imports workerData.entry).
 */
function workerEntry(): { file: URL; entry?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { file: new URL('../node/worker-dev.mjs', here), entry: new URL('./worker.ts', here).href };
  return { file: new URL(here.endsWith('.cjs') ? './server-worker.cjs' : './server-worker.js', here) };
}
