/** Messages from the serving workers (worker.ts) to their pool (pool.ts); tasks go the other way through the shared queue (queue.ts). */
import type { ModelInfo } from './model';
import type { TaskQueueMemory } from './queue';

/** workerData of a serving worker: the artifact, shared read-only by every worker of a generation, and the generation's task queue. */
export interface ServingWorkerData {
  artifact: SharedArrayBuffer;
  sha256: string;
  queue: TaskQueueMemory;
  /** This worker's place in the generation (its running-task word in the queue); a replacement takes the place of the worker it replaces. */
  index: number;
  /** Set while running from TypeScript sources: the module worker-dev.mjs imports after registering tsx. */
  entry?: string;
}

export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'load-error'; error: WireError }
  | { type: 'result'; id: number; json: string }
  | { type: 'error'; id: number; error: WireError };

/** A library error as it crosses the thread boundary: its class name, message and coordinates. */
export interface WireError {
  name: string;
  message: string;
  /** The request field it is about (UnknownIdError.field, OptionError.option, ArtifactError.field). */
  field?: string;
  /** ArtifactError.section. */
  section?: string;
}

/** The error a task or a load failed with, rebuilt on the pool's side of the boundary. */
export class ServedError extends Error {
  readonly field?: string;
  readonly section?: string;
  constructor(wire: WireError) {
    super(wire.message);
    this.name = wire.name;
    this.field = wire.field;
    this.section = wire.section;
  }
}

export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & { field?: unknown; option?: unknown; section?: unknown };
  const field = typeof x.field === 'string' ? x.field : typeof x.option === 'string' ? x.option : undefined;
  return { name: e.name, message: e.message, field, section: typeof x.section === 'string' ? x.section : undefined };
}
