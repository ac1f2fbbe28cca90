import { throwIfAborted } from '../errors';

/** Resolves on the next macrotask, so timers (and an AbortSignal fired by one) get to run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * Paces a long synchronous loop so it can be aborted mid-run: `if (pace.due()) await
 * pace.pause()` inside the loop yields to the event loop about every `sliceMs` of work, then
 * throws AbortedError when the signal has fired. Results never depend on the pacing.
 */
export class Pace {
  private last = now();

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly what: string,
    private readonly sliceMs = 25,
  ) {
    throwIfAborted(signal, what);
  }

  /** True when the current slice of work is used up (cheap: one clock read). */
  due(): boolean {
    return now() - this.last >= this.sliceMs;
  }

  /** Yields to the event loop, then checks the signal. */
  async pause(): Promise<void> {
    await yieldToEventLoop();
    throwIfAborted(this.signal, this.what);
    this.last = now();
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
