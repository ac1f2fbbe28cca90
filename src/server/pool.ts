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
import { ServedError, type FromWorker, type ServingWorkerData } from './protocol';
import { TaskQueue } from './queue';

export interface PoolOptions {
  /** Worker threads that score (0: score on the calling thread). Default: every core. */
  workers: number;
  /** Requests per worker the pool may hold (running + waiting) before it answers OverloadedError: at most maxQueue x workers in all. */
  maxQueue: number;
  /**
   * Bytes of the shared ring that carries tasks (their JSON) to the workers. A task that does
   * not fit now waits on the HTTP thread; one larger than the ring is refused
   * (TaskTooLargeError). Default 16 MiB; the server asks for at least 4 x its bodyLimit.
   */
  queueBytes: number;
}

/** The pool already holds maxQueue requests per worker: the server answers 503 with Retry-After. */
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

/** Default PoolOptions.queueBytes: room for thousands of typical tasks (a user id task is about 100 bytes, a 200-item history about 4 KB). */
export const QUEUE_BYTES = 16 << 20;

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
    const o: PoolOptions = { workers: options.workers ?? availableParallelism(), maxQueue: options.maxQueue ?? 256, queueBytes: options.queueBytes ?? QUEUE_BYTES };
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

interface Waiting {
  resolve: (json: string) => void;
  reject: (e: Error) => void;
}

class ThreadGeneration implements Generation {
  /** Workers by their place in the generation (a dead one's place waits for its replacement). */
  private threads: Array<Worker | null> = [];
  private readonly waiting = new Map<number, Waiting>();
  /** Tasks accepted while the shared ring was full, oldest first: appended as workers take tasks. */
  private readonly overflow: Array<{ id: number; text: string }> = [];
  private nextId = 1;
  private retired = false;
  private drained: (() => void) | null = null;

  private constructor(
    readonly info: ModelInfo,
    private readonly data: Omit<ServingWorkerData, 'index'>,
    private readonly queue: TaskQueue,
    private readonly options: PoolOptions,
  ) {}

  /** Starts `workers` threads on the artifact and one task queue; resolves when every thread has loaded the artifact. */
  static async start(base: { artifact: SharedArrayBuffer; sha256: string }, options: PoolOptions): Promise<ThreadGeneration> {
    const queue = TaskQueue.create(options.queueBytes, options.workers);
    const data = { ...base, queue: queue.memory };
    const started = await Promise.allSettled(Array.from({ length: options.workers }, (_, index) => spawn({ ...data, index })));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    const ready = started.filter((s): s is PromiseFulfilledResult<{ thread: Worker; info: ModelInfo }> => s.status === 'fulfilled');
    if (failed) {
      await Promise.all(ready.map((s) => s.value.thread.terminate()));
      throw failed.reason;
    }
    const generation = new ThreadGeneration(ready[0].value.info, data, queue, options);
    ready.forEach(({ value }, index) => generation.adopt(value.thread, index));
    return generation;
  }

  get pending(): number {
    return this.waiting.size;
  }

  run(task: Task): Promise<string> {
    if (this.waiting.size >= this.options.maxQueue * this.options.workers) return Promise.reject(new OverloadedError(this.waiting.size));
    const id = this.nextId++;
    const text = JSON.stringify(task);
    return new Promise<string>((resolve, reject) => {
      // Behind tasks already waiting for room, a task waits too (the queue stays in arrival order).
      const queued = this.overflow.length === 0 ? this.queue.push(id, text) : (this.queue.assertFits(text), false);
      if (!queued) this.overflow.push({ id, text });
      this.waiting.set(id, { resolve, reject });
    });
  }

  retire(): Promise<void> {
    this.retired = true;
    const stop = () => Promise.all(this.threads.map((t) => t?.terminate())).then(() => undefined);
    if (this.pending === 0) return stop();
    return new Promise<void>((done) => {
      this.drained = () => void stop().then(done);
    });
  }

  private settle(id: number, outcome: { json: string } | { error: Error }): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    if ('json' in outcome) w.resolve(outcome.json);
    else w.reject(outcome.error);
    while (this.overflow.length > 0 && this.queue.push(this.overflow[0].id, this.overflow[0].text)) this.overflow.shift();
    if (this.retired && this.drained && this.pending === 0) this.drained();
  }

  private adopt(thread: Worker, index: number): void {
    this.threads[index] = thread;
    thread.on('message', (m: FromWorker) => {
      if (m.type === 'result') this.settle(m.id, { json: m.json });
      else if (m.type === 'error') this.settle(m.id, { error: new ServedError(m.error) });
    });
    // A worker that dies (out of memory, a bug) fails the request it was running and is
    // replaced in its place; the requests still queued wait for the other workers or the replacement.
    thread.once('exit', (code) => {
      this.threads[index] = null;
      this.queue.releaseLockOf(index);
      const running = this.queue.running(index);
      const died = () => new HybridrecError(`a serving worker exited with code ${code}`);
      if (running !== 0) this.settle(running, { error: died() });
      if (this.retired) {
        // No replacement comes for a retired generation: with its last worker gone, nothing answers what is left.
        if (this.threads.every((t) => t === null)) for (const id of [...this.waiting.keys()]) this.settle(id, { error: died() });
        return;
      }
      spawn({ ...this.data, index }).then(
        ({ thread: fresh }) => (this.retired ? void fresh.terminate() : this.adopt(fresh, index)),
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
