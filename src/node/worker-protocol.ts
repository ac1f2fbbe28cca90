/**
 * The messages between the worker pool (src/node/pool.ts) and its workers (src/node/worker.ts),
 * and how errors and typed arrays cross between them.
 */
import * as errors from '../errors';

/** What a worker starts with: the TypeScript entry to load (sources only) and the extra kernel modules. */
export interface WorkerData {
  entry?: string;
  modules: string[];
}

/** Pool -> worker: run one range of a job (the job's input comes with the first range a worker gets). */
export interface RangeMessage {
  type: 'range';
  job: number;
  kernel: string;
  input?: object;
  range: number;
  start: number;
  end: number;
}

/** Pool -> worker: the job is over, drop its input. */
export interface ForgetMessage {
  type: 'forget';
  job: number;
}

export type ToWorker = RangeMessage | ForgetMessage;

export type FromWorker =
  | { type: 'output'; job: number; range: number; output: unknown }
  | { type: 'error'; job: number; range: number; error: SerializedError };

/** An error as data: its class name, message, stack and own fields (file, line, option...). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(e)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  }
  return { name: e.name, message: e.message, stack: e.stack, fields };
}

type ErrorClass = new (...args: never[]) => Error;

const ERROR_CLASSES: ReadonlyMap<string, ErrorClass> = new Map(
  ([...Object.values(errors), EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError] as unknown[])
    .filter((v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof Error)
    .map((c) => [c.name, c]),
);

/**
 * The error again, as an instance of its own class (hybridrec's typed errors and the built-in
 * ones; anything else becomes an Error of that name), with its fields and the worker's stack.
 */
export function deserializeError(s: SerializedError): Error {
  const cls = ERROR_CLASSES.get(s.name) ?? Error;
  const e = Object.create(cls.prototype) as Error;
  Object.defineProperty(e, 'message', { value: s.message, writable: true, configurable: true });
  Object.defineProperty(e, 'stack', { value: s.stack, writable: true, configurable: true });
  Object.assign(e, s.fields);
  if (e.name !== s.name) Object.defineProperty(e, 'name', { value: s.name, writable: true, configurable: true });
  return e;
}

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of a job input whose typed arrays live in SharedArrayBuffers (arrays already shared are
 * kept), so posting it to a worker copies no array data. Plain objects and arrays are walked.
 */
export function shareInput<T>(value: T): T {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const a = value as unknown as TypedArray;
    if (a.buffer instanceof SharedArrayBuffer) return value;
    const ctor = a.constructor as new (buffer: SharedArrayBuffer) => TypedArray;
    const shared = new ctor(new SharedArrayBuffer(a.byteLength));
    (shared as Uint8Array).set(a as Uint8Array);
    return shared as unknown as T;
  }
  if (Array.isArray(value)) return value.map((v) => shareInput(v)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = shareInput(v);
    return out as T;
  }
  return value;
}

/** The (non-shared) buffers of the typed arrays in an output, to transfer rather than copy. */
export function transferables(value: unknown, into: Set<ArrayBuffer> = new Set()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) into.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const v of value) transferables(v, into);
  } else if (isPlainObject(value)) {
    for (const v of Object.values(value)) transferables(v, into);
  }
  return [...into];
}
