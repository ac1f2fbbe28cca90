/**
 * A serving worker thread: loads the generation's artifact (shared memory, read-only), says
 * 'ready' (or 'load-error'), then takes tasks from the generation's shared queue (queue.ts)
 * one at a time, whenever it is free, and posts each answer back. Scoring is synchronous (a
 * batch yields between blocks of shoppers), so a worker runs one task at a time; with nothing
 * queued it sleeps on the queue (Atomics.wait), which worker.terminate() interrupts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ServingModel, type Task } from './model';
import { toWire, type FromWorker, type ServingWorkerData } from './protocol';
import { TaskTaker } from './queue';

const port = parentPort!;
const data = workerData as ServingWorkerData;
const post = (message: FromWorker) => port.postMessage(message);

async function serveTasks(model: ServingModel, queue: TaskTaker): Promise<never> {
  for (;;) {
    const next = queue.take();
    if (next === null) {
      queue.sleep();
      continue;
    }
    try {
      post({ type: 'result', id: next.id, json: await model.run(JSON.parse(next.text) as Task) });
    } catch (e) {
      post({ type: 'error', id: next.id, error: toWire(e) });
    }
    queue.finished();
  }
}

ServingModel.load(new Uint8Array(data.artifact), data.sha256).then(
  (model) => {
    post({ type: 'ready', info: model.info });
    void serveTasks(model, new TaskTaker(data.queue, data.index));
  },
  (e: unknown) => post({ type: 'load-error', error: toWire(e) }),
);
