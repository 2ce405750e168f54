/**
 * Backend selection and the fixes for tfjs-wasm's gaps, in one place.
 *
 * Default backend: `wasm` (`@tensorflow/tfjs-backend-wasm`, installs from the npm registry alone;
 * SIMD, single-threaded in Node). `tensorflow` (`@tensorflow/tfjs-node`) is an optional peer
 * dependency, used only when installed and asked for. `cpu` is tfjs's pure-JS backend (slow; for checks).
 *
 * Pick with the environment variable `FLOWLENS_BACKEND` = `wasm` | `tensorflow` | `cpu`.
 *
 * On `wasm`, matrix products run in the optional native addon (multi-threaded AVX-512/AVX2 GEMM, see
 * `./native.ts`) when it was built at install; otherwise in tfjs's wasm kernels. `FLOWLENS_NATIVE=0`
 * turns the addon off; `FLOWLENS_THREADS` (or the `threads` option) sets its threads per process/Worker.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmFixes } from './kernels.js';
import { enableNativeMatMul, nativeStatus, parseThreads, setNativeThreads } from './native.js';

export { tf, nativeStatus, setNativeThreads };
export type { NativeStatus } from './native.js';

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /**
   * Threads per native matrix product in this process or Worker (1..64). Default `FLOWLENS_THREADS`,
   * else all cores on the main thread and 1 in a `worker_threads` Worker. Applies to the native addon
   * only (tfjs's wasm kernels use one thread in Node).
   */
  threads?: number;
}

/** Names of the backends flowlens knows how to start. */
export type BackendName = 'wasm' | 'tensorflow' | 'cpu';

let ready: Promise<BackendName> | null = null;

/**
 * Start the tfjs backend once (idempotent) and register flowlens's kernel fixes.
 *
 * @param name backend to use; default `process.env.FLOWLENS_BACKEND` or `wasm`.
 * @param options see {@link BackendOptions}; `threads` also applies when the backend is already up.
 * @returns the backend that is active.
 * @throws Error naming the backend when it is unknown or cannot be loaded (e.g. `tensorflow`
 *   without `@tensorflow/tfjs-node` installed); RangeError for a thread count outside 1..64.
 */
export function initBackend(name?: BackendName, options: BackendOptions = {}): Promise<BackendName> {
  const threads = options.threads === undefined ? undefined : parseThreads(options.threads);
  if (ready) {
    if (threads !== undefined) setNativeThreads(threads);
    return ready;
  }
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
    if (wanted === 'wasm') {
      try {
        enableNativeMatMul(threads);
      } catch (e) {
        ready = null;
        throw e;
      }
    }
    return wanted as BackendName;
  })();
  return ready;
}
