/**
 * Kernels that tfjs's wasm backend lacks, registered from JavaScript.
 *
 * - `UnsortedSegmentSum`: needed by the gradient of `gather` (the embedding lookup). Without it,
 *   `tf.grad` through `tf.gather` throws "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'".
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

interface WasmLikeBackend {
  readSync(dataId: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

const registered = new Set<string>();

/**
 * Register the missing kernels for `backendName` once. A no-op for backends that have them.
 *
 * @param backendName active tfjs backend name.
 */
export function registerWasmFixes(backendName: string): void {
  if (backendName !== 'wasm' || registered.has(backendName)) return;
  registered.add(backendName);
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
        const numSegments = (attrs as { numSegments: number }).numSegments;
        const b = backend as unknown as WasmLikeBackend;
        const xs = b.readSync(x.dataId);
        const ids = b.readSync(segmentIds.dataId);
        const nIds = ids.length;
        const inner = nIds === 0 ? 0 : xs.length / nIds;
        const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
        const out = b.makeOutput(outShape, x.dtype);
        const o = b.typedArrayFromHeap(out);
        o.fill(0);
        for (let i = 0; i < nIds; i++) {
          const s = ids[i];
          if (s < 0 || s >= numSegments) continue; // TF semantics: out-of-range ids are dropped
          const src = i * inner;
          const dst = s * inner;
          for (let j = 0; j < inner; j++) o[dst + j] += xs[src + j];
        }
        return out;
      },
    });
  }
}
