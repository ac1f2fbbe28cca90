/**
 * One queue of scoring tasks for every worker of a generation, in shared memory: the HTTP
 * thread appends a task's JSON text, and whichever worker is free takes the oldest one itself.
 *
 * Why not a postMessage per task to the least busy worker: the choice was made when the task
 * arrived, so a worker that the OS deschedules (the HTTP thread, the other worker and any
 * client share the cores) or that collects garbage held every request queued behind it,
 * while the other worker ran dry; and handing tasks out from the HTTP thread one at a time
 * made the workers wait for that thread's event loop (the serve-queue branch in
 * docs/serving.md: lower p99, fewer requests/s). Here a free worker never waits for the HTTP
 * thread, and a stalled one holds only the task it is running. Per-stage times and the side
 * by side runs: docs/serving.md, "Stop 24".
 *
 * Layout: a byte ring of records [length, id, UTF-8 text, padding to 4 bytes]; a record that
 * would cross the end is preceded by a wrap marker (length -1) and starts at 0. One producer
 * (the HTTP thread) publishes a record by moving the tail; consumers take records under a
 * lock word (held for one record's copy, and naming its holder), so two workers never take the
 * same task.
 */
import { HybridrecError } from '../errors';

/** The shared memory of a queue: what a worker needs to take tasks from it. */
export interface TaskQueueMemory {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
}

// Int32 indices of the control words; then one word per worker: the id of the task it runs (0: none).
const HEAD = 0;
const TAIL = 1;
/** Bytes of the ring in use (records and wrap gaps not yet taken). */
const USED = 2;
const LOCK = 3;
/** Bumped on every append; idle workers sleep on it. */
const SIGNAL = 4;
const RUNNING = 8;
const WRAP = -1;
const RECORD_HEADER = 8;

const recordBytes = (length: number) => RECORD_HEADER + ((length + 3) & ~3);

/** A task that cannot fit even an empty ring (only a ModelPool used directly with a huge task can ask it). */
export class TaskTooLargeError extends HybridrecError {
  constructor(bytes: number, capacity: number) {
    super(`a scoring task of ${bytes} bytes of JSON does not fit the pool's task queue of ${capacity} bytes (PoolOptions.queueBytes)`);
  }
}

class SharedQueue {
  /** The control words. */
  protected readonly words: Int32Array;
  /** The ring, as bytes (the texts) and as Int32 words (the records' length and id). */
  protected readonly bytes: Buffer;
  protected readonly ring: Int32Array;
  protected readonly capacity: number;

  constructor(readonly memory: TaskQueueMemory) {
    this.words = new Int32Array(memory.control);
    this.bytes = Buffer.from(memory.ring);
    this.ring = new Int32Array(memory.ring);
    this.capacity = memory.ring.byteLength;
  }

  /** The id of the task worker `index` is running (0: none). */
  running(index: number): number {
    return Atomics.load(this.words, RUNNING + index);
  }
}

/** The HTTP thread's side: appends tasks. */
export class TaskQueue extends SharedQueue {
  static create(capacity: number, workers: number): TaskQueue {
    if (capacity % 4 !== 0 || capacity < 1024) throw new HybridrecError(`a task queue holds a multiple of 4 bytes, at least 1024 (${capacity} asked)`);
    return new TaskQueue({ control: new SharedArrayBuffer(4 * (RUNNING + workers)), ring: new SharedArrayBuffer(capacity) });
  }

  /** The text's UTF-8 length; throws TaskTooLargeError when it could not fit even an empty ring. */
  assertFits(text: string): number {
    const length = Buffer.byteLength(text);
    // One byte always stays free, so head === tail means empty, never full.
    if (recordBytes(length) >= this.capacity) throw new TaskTooLargeError(length, this.capacity);
    return length;
  }

  /**
   * Appends task `id` (its JSON text) and wakes a sleeping worker; false when the ring has no
   * room now (the caller keeps the task and tries again as workers take tasks).
   */
  push(id: number, text: string): boolean {
    const length = this.assertFits(text);
    const size = recordBytes(length);
    let tail = Atomics.load(this.words, TAIL);
    const room = this.capacity - tail;
    const gap = size > room ? room : 0;
    if (Atomics.load(this.words, USED) + gap + size >= this.capacity) return false;
    if (gap > 0) {
      this.ring[tail >> 2] = WRAP;
      tail = 0;
    }
    this.ring[tail >> 2] = length;
    this.ring[(tail >> 2) + 1] = id;
    this.bytes.write(text, tail + RECORD_HEADER, length, 'utf8');
    Atomics.add(this.words, USED, gap + size);
    // Publishing the tail makes the record (written above) visible to the consumers' Atomics.load.
    Atomics.store(this.words, TAIL, (tail + size) % this.capacity);
    Atomics.add(this.words, SIGNAL, 1);
    Atomics.notify(this.words, SIGNAL, 1);
    return true;
  }

  /**
   * After worker `index` exited: frees the queue's lock if that worker died holding it
   * (terminated or out of memory within take()), so the other workers can take tasks again.
   */
  releaseLockOf(index: number): void {
    if (Atomics.compareExchange(this.words, LOCK, index + 1, 0) === index + 1) Atomics.notify(this.words, LOCK);
  }
}

/** A worker's side: takes the oldest task, or sleeps until there is one. */
export class TaskTaker extends SharedQueue {
  constructor(
    memory: TaskQueueMemory,
    private readonly index: number,
  ) {
    super(memory);
  }

  /** The oldest task (marked as this worker's running one), or null when the queue is empty. */
  take(): { id: number; text: string } | null {
    const w = this.words;
    // The lock word holds its owner (index + 1), so the HTTP thread can free it if that worker dies holding it.
    const owner = this.index + 1;
    for (let held = Atomics.compareExchange(w, LOCK, 0, owner); held !== 0; held = Atomics.compareExchange(w, LOCK, 0, owner)) Atomics.wait(w, LOCK, held);
    try {
      let head = Atomics.load(w, HEAD);
      if (head === Atomics.load(w, TAIL)) return null;
      let freed = 0;
      if (this.ring[head >> 2] === WRAP) {
        freed = this.capacity - head;
        head = 0;
      }
      const length = this.ring[head >> 2];
      const id = this.ring[(head >> 2) + 1];
      const text = this.bytes.toString('utf8', head + RECORD_HEADER, head + RECORD_HEADER + length);
      const size = recordBytes(length);
      Atomics.store(w, RUNNING + this.index, id);
      Atomics.store(w, HEAD, (head + size) % this.capacity);
      Atomics.sub(w, USED, freed + size);
      return { id, text };
    } finally {
      Atomics.store(w, LOCK, 0);
      Atomics.notify(w, LOCK, 1);
    }
  }

  /** This worker answered its task. */
  finished(): void {
    Atomics.store(this.words, RUNNING + this.index, 0);
  }

  /** Blocks this thread until a task is appended (returns at once if one already waits). */
  sleep(): void {
    const seen = Atomics.load(this.words, SIGNAL);
    if (Atomics.load(this.words, HEAD) !== Atomics.load(this.words, TAIL)) return;
    Atomics.wait(this.words, SIGNAL, seen);
  }
}
