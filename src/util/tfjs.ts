import { OptionError } from '../errors';
import { loadOptional } from './optional';

/**
 * The tfjs runtime shared by the neural strategies (NeuralCF and any later neural model).
 * tfjs is a training-only, optional dependency: it is loaded here, inside fit(), and nowhere
 * else, so scoring a loaded model needs none of it. Only the type of the module is imported
 * statically (types are erased at build time).
 */
export type Tf = typeof import('@tensorflow/tfjs');

/** Which tfjs backend trains: 'auto' takes the first that starts of wasm, webgl, cpu. */
export type TfBackend = 'auto' | 'wasm' | 'cpu' | 'webgl';

export const TF_BACKENDS: readonly TfBackend[] = ['auto', 'wasm', 'cpu', 'webgl'];

/** tfjs with a training backend selected, and how to put the caller's backend back. */
export interface TfRuntime {
  tf: Tf;
  backend: string;
  restore(): Promise<void>;
}

/**
 * 'auto' order, from benchmarks/ncf-backends.ts: wasm trains several times faster than the
 * pure-JS cpu backend; webgl (browsers only) is untested here and sits between them because
 * every batch reads its gradients back, which stalls a GPU pipeline.
 */
const AUTO_ORDER = ['wasm', 'webgl', 'cpu'] as const;

/**
 * Loads tfjs (and the wasm backend when it may be used) and switches to the requested
 * backend. tfjs's backend is global state, so the previous one is restored after training.
 * `neededBy` names the model in the error when tfjs is not installed.
 */
export async function acquireBackend(choice: TfBackend, wasmPaths: string | null, neededBy: string): Promise<TfRuntime> {
  const tf = await loadOptional<Tf>('@tensorflow/tfjs', neededBy);
  const previous = tf.getBackend() as string | undefined;
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  const failures: string[] = [];
  for (const name of candidates) {
    if (name === 'wasm') {
      try {
        const wasm = await loadOptional<typeof import('@tensorflow/tfjs-backend-wasm')>('@tensorflow/tfjs-backend-wasm', neededBy);
        if (wasmPaths !== null && tf.engine().registry.wasm === undefined) wasm.setWasmPaths(wasmPaths);
      } catch (err) {
        // An explicit 'wasm' without the package is the caller's to fix; 'auto' moves on.
        if (choice === 'wasm') throw err;
        failures.push(`wasm: ${(err as Error).message}`);
        continue;
      }
    }
    if (!(name in tf.engine().registryFactory)) {
      failures.push(`${name}: not registered in this environment`);
      continue;
    }
    const ok = await tf.setBackend(name).catch((err: Error) => {
      failures.push(`${name}: ${err.message}`);
      return false;
    });
    if (ok) {
      await tf.ready();
      return {
        tf,
        backend: name,
        restore: async () => {
          if (previous && previous !== name) await tf.setBackend(previous);
        },
      };
    }
    if (!failures.some((f) => f.startsWith(`${name}:`))) failures.push(`${name}: failed to initialise`);
  }
  throw new OptionError('backend', `no usable tfjs backend for '${choice}' (${failures.join('; ')})`);
}

/** Runs `train` with the backend acquireBackend selects, and puts the caller's backend back afterwards, whatever happens. */
export async function withBackend<T>(choice: TfBackend, wasmPaths: string | null, neededBy: string, train: (tf: Tf, backend: string) => Promise<T>): Promise<T> {
  const runtime = await acquireBackend(choice, wasmPaths, neededBy);
  try {
    return await train(runtime.tf, runtime.backend);
  } finally {
    await runtime.restore();
  }
}

/**
 * One training step's maths: `build` makes the input tensors and the loss over them; returns
 * the loss and its gradient with respect to each input, as typed arrays, with every tensor made
 * on the way disposed. The neural trainers keep their weights in typed arrays between steps.
 */
export function lossAndGradients(
  tf: Tf,
  build: () => { inputs: import('@tensorflow/tfjs').Tensor[]; loss: (...inputs: import('@tensorflow/tfjs').Tensor[]) => import('@tensorflow/tfjs').Tensor },
): { loss: number; grads: Float32Array[] } {
  const out = tf.tidy(() => {
    const { inputs, loss } = build();
    const { value, grads } = tf.valueAndGrads(loss)(inputs);
    return [value, ...grads];
  });
  const loss = out[0].dataSync()[0];
  const grads = out.slice(1).map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return { loss, grads };
}
