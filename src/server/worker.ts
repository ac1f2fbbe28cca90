/**
 * A serving worker thread: loads the generation's artifact (shared memory, read-only), says
 * 'ready' (or 'load-error'), then answers tasks as they come. Scoring is synchronous (a batch
 * yields between blocks of shoppers), so a worker is busy with one request at a time; the pool
 * queues the rest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ServingModel } from './model';
import { toWire, type FromWorker, type ServingWorkerData, type ToWorker } from './protocol';

const port = parentPort!;
const data = workerData as ServingWorkerData;
const post = (message: FromWorker) => port.postMessage(message);

ServingModel.load(new Uint8Array(data.artifact), data.sha256).then(
  (model) => {
    port.on('message', async ({ id, task }: ToWorker) => {
      try {
        post({ type: 'result', id, json: await model.run(task) });
      } catch (e) {
        post({ type: 'error', id, error: toWire(e) });
      }
    });
    post({ type: 'ready', info: model.info });
  },
  (e: unknown) => post({ type: 'load-error', error: toWire(e) }),
);
