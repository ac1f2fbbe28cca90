import { OptionError } from '../../errors';
import type { NcfBackend } from './options';

export type Tf = typeof import('@tensorflow/tfjs');

/** tfjs with a training backend selected, and how to put the caller's backend back. */
export interface TfRuntime {
  tf: Tf;
  backend: string;
  restore(): Promise<void>;
}

/**
 * 'auto' order, from benchmarks/ncf-backends.ts: wasm trains this model several times faster
 * than the pure-JS cpu backend; webgl (browsers only) is untested here and sits between them
 * because every batch reads its gradients back, which stalls a GPU pipeline.
 */
const AUTO_ORDER = ['wasm', 'webgl', 'cpu'] as const;

/**
 * Loads tfjs (and the wasm backend when it may be used) and switches to the requested
 * backend. tfjs's backend is global state, so the previous one is restored after training.
 */
export async function acquireBackend(choice: NcfBackend, wasmPaths: string | null): Promise<TfRuntime> {
  const tf: Tf = await import('@tensorflow/tfjs');
  const previous = tf.getBackend() as string | undefined;
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  const failures: string[] = [];
  for (const name of candidates) {
    if (name === 'wasm') {
      try {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        if (wasmPaths !== null && tf.engine().registry.wasm === undefined) wasm.setWasmPaths(wasmPaths);
      } catch (err) {
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
