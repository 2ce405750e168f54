/**
 * Backend selection and the fixes for tfjs-wasm's gaps, in one place.
 *
 * Default backend: `wasm` (`@tensorflow/tfjs-backend-wasm`, installs from the npm registry alone;
 * SIMD, single-threaded in Node). `tensorflow` (`@tensorflow/tfjs-node`) is an optional peer
 * dependency, used only when installed and asked for. `cpu` is tfjs's pure-JS backend (slow; for checks).
 *
 * Pick with the environment variable `FLOWLENS_BACKEND` = `wasm` | `tensorflow` | `cpu`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmFixes } from './kernels.js';

export { tf };

/** Names of the backends flowlens knows how to start. */
export type BackendName = 'wasm' | 'tensorflow' | 'cpu';

let ready: Promise<BackendName> | null = null;

/**
 * Start the tfjs backend once (idempotent) and register flowlens's kernel fixes.
 *
 * @param name backend to use; default `process.env.FLOWLENS_BACKEND` or `wasm`.
 * @returns the backend that is active.
 * @throws Error naming the backend when it is unknown or cannot be loaded (e.g. `tensorflow`
 *   without `@tensorflow/tfjs-node` installed).
 */
export function initBackend(name?: BackendName): Promise<BackendName> {
  if (ready) return ready;
  const wanted = (name ?? (process.env.FLOWLENS_BACKEND as BackendName | undefined) ?? 'wasm') as string;
  ready = (async (): Promise<BackendName> => {
    if (wanted === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    } else if (wanted === 'tensorflow') {
      try {
        // Optional peer dependency: the module name is built at run time so tsc does not need it.
        const mod = '@tensorflow/tfjs-node';
        await import(mod);
      } catch (e) {
        ready = null;
        throw new Error(
          `FLOWLENS_BACKEND=tensorflow needs the optional package @tensorflow/tfjs-node, which is not installed ` +
            `(${(e as Error).message.split('\n')[0]}). Install it, or use FLOWLENS_BACKEND=wasm.`,
        );
      }
    } else if (wanted !== 'cpu') {
      ready = null;
      throw new Error(`Unknown backend "${wanted}" (FLOWLENS_BACKEND): use wasm, tensorflow or cpu.`);
    }
    const ok = await tf.setBackend(wanted);
    if (!ok) {
      ready = null;
      throw new Error(`tfjs backend "${wanted}" failed to initialise.`);
    }
    await tf.ready();
    registerWasmFixes(wanted);
    return wanted as BackendName;
  })();
  return ready;
}
