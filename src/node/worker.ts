/**
 * A worker of the pool (src/node/pool.ts): runs kernel ranges as the pool sends them and posts
 * each output back (its typed arrays transferred, not copied), or the kernel's error as data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HybridrecError } from '../errors';
import type { Kernel } from '../util/parallel';
import { KERNELS } from './kernels';
import { serializeError, transferables, type FromWorker, type ToWorker, type WorkerData } from './worker-protocol';

function isKernel(v: unknown): v is Kernel<object, unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Kernel<object, unknown>).name === 'string' && typeof (v as Kernel<object, unknown>).run === 'function';
}

/** The built-in kernels and those exported by the pool's extra modules. */
async function loadKernels(modules: readonly string[]): Promise<Map<string, Kernel<object, unknown>>> {
  const kernels = new Map<string, Kernel<object, unknown>>(KERNELS);
  for (const url of modules) {
    for (const value of Object.values((await import(url)) as Record<string, unknown>)) if (isKernel(value)) kernels.set(value.name, value);
  }
  return kernels;
}

async function serve(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new HybridrecError('src/node/worker.ts runs only as a worker thread of the pool');
  const kernels = await loadKernels((workerData as WorkerData).modules);
  /** Inputs of the jobs this worker has ranges of, by job id, until the pool says "forget". */
  const inputs = new Map<number, object>();
  // Messages sent while the modules loaded wait in the port's queue until this listener starts it.
  // A kernel may resolve later; the pool sends this worker its next range only after the reply.
  port.on('message', async (msg: ToWorker) => {
    if (msg.type === 'forget') {
      inputs.delete(msg.job);
      return;
    }
    if (msg.input !== undefined) inputs.set(msg.job, msg.input);
    let reply: FromWorker;
    try {
      const kernel = kernels.get(msg.kernel);
      if (kernel === undefined) {
        throw new HybridrecError(`no pool kernel "${msg.kernel}": list it in src/node/kernels.ts, or give its module in WorkerPool's modules option`);
      }
      reply = { type: 'output', job: msg.job, range: msg.range, output: await kernel.run(inputs.get(msg.job)!, msg.start, msg.end) };
    } catch (e) {
      port.postMessage({ type: 'error', job: msg.job, range: msg.range, error: serializeError(e) } satisfies FromWorker);
      return;
    }
    port.postMessage(reply, transferables(reply.output));
  });
}

void serve();
