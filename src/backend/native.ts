/**
 * Optional native matrix multiply for the wasm backend: a multi-threaded AVX-512/AVX2 FMA GEMM
 * (`native/src/sgemm.cc`, an N-API addon built by node-gyp at install) that replaces the wasm kernels
 * `BatchMatMul` and `_FusedMatMul`. It reads its operands from the wasm heap and writes the product
 * into a wasm tensor, so the rest of tfjs sees an ordinary wasm backend.
 *
 * Matrix products dominate every method and training; wasm SIMD runs them on one core at ~28 GFLOP/s.
 * When the addon did not build or cannot load (no compiler at install, another CPU architecture,
 * `FLOWLENS_NATIVE=0`), flowlens keeps tfjs's own wasm kernels, with no error.
 *
 * Threads: `FLOWLENS_THREADS` (or `initBackend(name, {threads})`); default all cores on the main
 * thread and 1 inside a `worker_threads` Worker (data-parallel workers should not oversubscribe the
 * cores). Each Node environment (main thread, every Worker) has its own pool and count.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';

/** The addon's functions (see `native/src/addon.cc`). */
interface NativeAddon {
  gemm(
    heap: ArrayBuffer,
    aOff: number,
    bOff: number,
    cOff: number,
    biasOff: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    strideA: number,
    strideB: number,
    activation: number,
  ): void;
  setThreads(n: number): void;
  threads(): number;
  kernel(): string;
}

/** What {@link nativeStatus} reports. */
export interface NativeStatus {
  /** Whether the wasm matmul kernels are replaced by the native GEMM. */
  active: boolean;
  /** Micro-kernel in use: `avx512`, `avx2` or `generic`; null when inactive. */
  kernel: string | null;
  /** Threads per matrix product (this process or Worker). */
  threads: number;
  /** Why the native path is off (null when active). */
  reason: string | null;
}

interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

let addon: NativeAddon | null = null;
/** tfjs's own wasm kernels, kept to fall back to and to restore. */
const originals = new Map<string, tf.KernelConfig>();
let status: NativeStatus = { active: false, kernel: null, threads: 1, reason: 'not initialised' };

/** The addon file next to the package (`native/build/Release/flowlens_native.node`), from src/ or dist/src/. */
function addonPath(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'native', 'build', 'Release', 'flowlens_native.node');
    if (existsSync(p)) return p;
    if (existsSync(join(dir, 'package.json'))) return null;
    dir = dirname(dir);
  }
  return null;
}

/**
 * Parse a thread count (`FLOWLENS_THREADS` or the `threads` option).
 * @throws RangeError naming the value when it is not an integer in 1..64.
 */
export function parseThreads(v: number | string | undefined): number {
  if (v === undefined || v === '') return isMainThread ? Math.max(1, Math.min(64, availableParallelism())) : 1;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new RangeError(`thread count must be an integer in 1..64, got "${v}" (FLOWLENS_THREADS or initBackend's threads option)`);
  return n;
}

/** Set the threads per native matrix product in this process or Worker (no effect when inactive). */
export function setNativeThreads(n: number): void {
  const t = parseThreads(n);
  status = { ...status, threads: t };
  addon?.setThreads(t);
}

/**
 * Whether matrix products run natively: then `transposeA`/`transposeB` cost nothing extra (the
 * packing absorbs them), unlike on tfjs's wasm kernels (~10× slower with the flags set).
 */
export function nativeMatMulActive(): boolean {
  return status.active;
}

/** Whether the native GEMM is active, its micro-kernel and thread count. */
export function nativeStatus(): NativeStatus {
  return { ...status };
}

/** Time spent in native matrix products since {@link startNativeTiming} (for benchmarks). */
export interface NativeTiming {
  calls: number;
  ms: number;
  flops: number;
}
let timing: NativeTiming | null = null;

/** Start counting native matrix products (calls, wall ms, floating-point operations); returns the live counter. */
export function startNativeTiming(): NativeTiming {
  timing = { calls: 0, ms: 0, flops: 0 };
  return timing;
}

/** Stop counting (see {@link startNativeTiming}). */
export function stopNativeTiming(): void {
  timing = null;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * C = op(A)·op(B) (+ bias, relu) natively, with tfjs's BatchMatMul semantics: A `[...batchA, m, k]`
 * (or `[..., k, m]` with transposeA), B likewise; batch dims equal or one side of batch size 1.
 * Returns null where the case is not covered (the caller then runs the wasm kernel).
 */
function nativeMatMul(args: Args, bias: tf.TensorInfo | undefined, activation: number): tf.TensorInfo | null {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (!addon || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return null; // let tfjs raise its own error
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return null;
  }
  const batch = sizeOf(outer);
  if (!(batchA === batchB || batchA === 1 || batchB === 1) || batch !== Math.max(batchA, batchB)) return null;
  if (bias && (bias.dtype !== 'float32' || sizeOf(bias.shape) !== n || bias.shape.length !== 1)) return null;
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  const off = (t: tf.TensorInfo): number => backend.dataIdMap.get(t.dataId)?.memoryOffset ?? -1;
  const aOff = off(a);
  const bOff = off(b);
  const cOff = off(out);
  const biasOff = bias ? off(bias) : -1;
  if (aOff < 0 || bOff < 0 || cOff < 0 || (bias && biasOff < 0)) return null;
  // The heap buffer is read after makeOutput: allocating may have grown (replaced) it.
  const t0 = timing ? performance.now() : 0;
  addon.gemm(
    backend.wasm.HEAPU8.buffer as ArrayBuffer,
    aOff,
    bOff,
    cOff,
    biasOff,
    batch,
    m,
    n,
    k,
    transposeA ? 1 : 0,
    transposeB ? 1 : 0,
    batchA === 1 ? 0 : m * k,
    batchB === 1 ? 0 : k * n,
    activation,
  );
  if (timing) {
    timing.calls++;
    timing.ms += performance.now() - t0;
    timing.flops += 2 * batch * m * n * k;
  }
  return out;
}

/**
 * Load the addon and replace the wasm matmul kernels, once per process or Worker. Never throws for a
 * missing or unloadable addon: {@link nativeStatus} then says why the native path is off.
 *
 * @param threads threads per matrix product (default `FLOWLENS_THREADS`, else see the module doc).
 * @throws RangeError when `threads` (or `FLOWLENS_THREADS`) is not an integer in 1..64.
 */
export function enableNativeMatMul(threads?: number): NativeStatus {
  const t = parseThreads(threads ?? process.env.FLOWLENS_THREADS);
  if (process.env.FLOWLENS_NATIVE === '0') {
    status = { active: false, kernel: null, threads: 1, reason: 'FLOWLENS_NATIVE=0' };
    return nativeStatus();
  }
  if (!addon) {
    const path = addonPath();
    if (!path) {
      status = { active: false, kernel: null, threads: 1, reason: 'the native addon was not built (npm run build:native)' };
      return nativeStatus();
    }
    try {
      addon = createRequire(import.meta.url)(path) as NativeAddon;
    } catch (e) {
      status = { active: false, kernel: null, threads: 1, reason: `the native addon did not load: ${(e as Error).message.split('\n')[0]}` };
      return nativeStatus();
    }
  }
  addon.setThreads(t);
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const orig = tf.getKernel(name, 'wasm');
    if (!orig || (orig as { flowlensNative?: boolean }).flowlensNative) continue;
    originals.set(name, orig);
    const fused = name === '_FusedMatMul';
    const kernelFunc: KernelFunc = (args) => {
      let r: tf.TensorInfo | null = null;
      if (!fused) r = nativeMatMul(args, undefined, 0);
      else {
        const { bias, preluActivationWeights } = args.inputs as { bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
        const act = (args.attrs as { activation?: string }).activation ?? 'linear';
        if (!preluActivationWeights && (act === 'linear' || act === 'relu')) r = nativeMatMul(args, bias ?? undefined, act === 'relu' ? 1 : 0);
      }
      return r ?? (orig.kernelFunc(args) as tf.TensorInfo);
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc, flowlensNative: true } as tf.KernelConfig);
  }
  status = { active: true, kernel: addon.kernel(), threads: t, reason: null };
  return nativeStatus();
}

/**
 * Put tfjs's own wasm matmul kernels back (for comparisons and tests); {@link enableNativeMatMul}
 * replaces them again.
 */
export function disableNativeMatMul(): void {
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const cur = tf.getKernel(name, 'wasm') as (tf.KernelConfig & { flowlensNative?: boolean }) | undefined;
    if (!cur?.flowlensNative) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(originals.get(name) as tf.KernelConfig);
  }
  status = { ...status, active: false, reason: 'disabled (disableNativeMatMul)' };
}
