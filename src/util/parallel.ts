/**
 * The parallel executor as the isomorphic core sees it: long jobs run a named, pure *kernel*
 * over index ranges of shared typed arrays and collect one output per range, in range order.
 *
 * - A Kernel is a pure function `(input, start, end) => output` over plain objects of typed
 *   arrays and numbers (no class instances, no closures: they cannot cross threads). It is
 *   defined once, in the isomorphic module that owns the job, and runs unchanged on any thread.
 * - An Executor runs a kernel over ranges. The inline one (here) runs them one after another on
 *   the calling thread, yielding to the event loop between ranges so progress and abort work:
 *   that is the browser path and `threads: 1`. Node installs a worker pool
 *   (src/node/pool.ts) as the default executor; the core never imports worker_threads.
 * - Determinism: the caller cuts the ranges from the data alone (never from the thread count),
 *   each range's output depends only on the input and its range, and outputs come back in
 *   range order, so the merged result is bit-identical whatever the number of threads.
 */
import { OptionError, throwIfAborted } from '../errors';
import type { Progress } from '../strategies/types';
import { yieldToEventLoop } from './pace';

/** A pure function over typed arrays that any thread can run; `name` is how a worker finds it. */
export interface Kernel<Input, Output> {
  readonly name: string;
  /**
   * Computes the output of units [start, end) of the job from `input`, which it never writes
   * except where the job's owner made a shared buffer for results that each range writes apart
   * (ALS's rows of its own range) or under a lock (cooccurrence's top-N heaps).
   * It may resolve later (the ensemble's batch kernel loads its model once per thread); the
   * executors await it before the next range of that thread.
   */
  readonly run: (input: Input, start: number, end: number) => Output | Promise<Output>;
}

export function defineKernel<Input extends object, Output>(name: string, run: (input: Input, start: number, end: number) => Output | Promise<Output>): Kernel<Input, Output> {
  return Object.freeze({ name, run });
}

export interface ParallelOptions {
  /** Threads to use (default: every thread of the executor, all cores with the Node pool; 1 runs inline). */
  threads?: number;
  signal?: AbortSignal;
  /** Called as ranges complete: `done` units of `total` (the last range's end). */
  onProgress?: (progress: Progress) => void;
  /** Stage name in progress reports and AbortedError messages. */
  stage: string;
}

export interface Executor {
  /** Threads it runs at once by default. */
  readonly threads: number;
  /**
   * Runs `kernel` over the ranges [bounds[r], bounds[r + 1]) and resolves to their outputs in
   * range order. Rejects with the kernel's own error (same class) when one range throws, and
   * with AbortedError soon after the signal fires.
   */
  run<Input extends object, Output>(kernel: Kernel<Input, Output>, input: Input, bounds: ArrayLike<number>, options: ParallelOptions): Promise<Output[]>;
}

/** Runs ranges on the calling thread, one at a time, with an event-loop yield between them. */
export const inlineExecutor: Executor = Object.freeze({
  threads: 1,
  async run<Input extends object, Output>(kernel: Kernel<Input, Output>, input: Input, bounds: ArrayLike<number>, options: ParallelOptions): Promise<Output[]> {
    const { signal, onProgress, stage } = options;
    const nRanges = bounds.length - 1;
    const total = nRanges > 0 ? bounds[nRanges] : 0;
    throwIfAborted(signal, stage);
    onProgress?.({ stage, done: 0, total });
    const outputs: Output[] = [];
    for (let r = 0; r < nRanges; r++) {
      outputs.push(await kernel.run(input, bounds[r], bounds[r + 1]));
      onProgress?.({ stage, done: bounds[r + 1], total });
      if (r + 1 < nRanges) {
        await yieldToEventLoop();
        throwIfAborted(signal, stage);
      }
    }
    return outputs;
  },
});

let installed: Executor = inlineExecutor;

/**
 * Makes `executor` the default for every job of this process (the Node build of hybridrec
 * installs its worker pool at import). `null` restores the inline executor.
 */
export function setDefaultExecutor(executor: Executor | null): void {
  installed = executor ?? inlineExecutor;
}

export function defaultExecutor(): Executor {
  return installed;
}

/**
 * Runs a kernel on the default executor with `options.threads` threads (1: inline on the
 * calling thread). The outputs do not depend on the thread count.
 */
export function runKernel<Input extends object, Output>(
  kernel: Kernel<Input, Output>,
  input: Input,
  bounds: ArrayLike<number>,
  options: ParallelOptions,
): Promise<Output[]> {
  const threads = resolveThreads(options.threads);
  const executor = threads === 1 || bounds.length <= 2 ? inlineExecutor : installed;
  return executor.run(kernel, input, bounds, { ...options, threads });
}

/**
 * The thread count a job runs with: `threads` when given (an integer >= 1, else an
 * OptionError), otherwise every thread of the default executor (1 without a worker pool).
 */
export function resolveThreads(threads: unknown): number {
  if (threads === undefined) return installed.threads;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1) {
    throw new OptionError('threads', `must be an integer >= 1, got ${String(threads)}`);
  }
  return threads;
}

/**
 * Range bounds over units [0, n) cut where the cumulative cost passes each multiple of
 * `budget` (every range holds at least one unit), from the data alone so the cut never
 * depends on the thread count. `cost(u)` is the work of unit u.
 *
 * With `taper` above 1, the last `taper` budgets of work are cut finer: each range there
 * takes a taper-th of the work left, down to budget / taper, so that the threads, which take
 * ranges as they come free, run out of work within a small range of each other instead of
 * one idling while another finishes a whole budget.
 */
export function rangesByCost(n: number, budget: number, cost: (unit: number) => number, taper = 1): Int32Array {
  const costs = new Float64Array(n);
  let left = 0;
  for (let u = 0; u < n; u++) left += costs[u] = cost(u);
  const bounds = [0];
  let acc = 0;
  for (let u = 0; u < n; u++) {
    acc += costs[u];
    if (acc >= Math.min(budget, Math.max(left / taper, budget / taper)) && u + 1 < n) {
      bounds.push(u + 1);
      left -= acc;
      acc = 0;
    }
  }
  if (n > 0) bounds.push(n);
  return Int32Array.from(bounds);
}

/** Bounds cutting [0, n) into `parts` ranges of near-equal size (for exact integer sums, whose result is the same for any cut). */
export function evenRanges(n: number, parts: number): Int32Array {
  const k = Math.min(parts, n);
  const bounds = new Int32Array(k + 1);
  for (let r = 1; r <= k; r++) bounds[r] = Math.floor((n * r) / k);
  return bounds;
}


/**
 * A copy of `array` in a SharedArrayBuffer where the platform has one (Node; browsers only when
 * cross-origin isolated), else a plain copy: an input that many jobs of one fit read (a
 * matrix, the factors being refined, a model's artifact) is then handed to the workers without a
 * copy per job. An array already in a SharedArrayBuffer is returned as it is.
 */
export function sharedCopy<T extends Uint8Array | Int32Array | Float32Array>(array: T): T {
  if (typeof SharedArrayBuffer === 'function' && array.buffer instanceof SharedArrayBuffer) return array;
  const ctor = array.constructor as new (buffer: ArrayBuffer | SharedArrayBuffer) => T;
  const out = new ctor(sharedBuffer(array.byteLength));
  (out as Uint8Array).set(array as Uint8Array);
  return out;
}

export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(sharedBuffer(length * 4));
}

export function sharedInt32(length: number): Int32Array {
  return new Int32Array(sharedBuffer(length * 4));
}

export function sharedUint16(length: number): Uint16Array {
  return new Uint16Array(sharedBuffer(length * 2));
}

function sharedBuffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}
