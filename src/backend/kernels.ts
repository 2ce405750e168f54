/**
 * Kernels that tfjs's wasm backend lacks, registered from JavaScript.
 *
 * - `UnsortedSegmentSum`: needed by the gradient of `gather` (the embedding lookup). Without it,
 *   `tf.grad` through `tf.gather` throws "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'".
 * - `Identity` and same-dtype `Cast` share the input's memory (reference count) instead of copying it,
 *   as tfjs's cpu backend does. tfjs clones every tensor a gradient saves through `Identity`, and the
 *   gradient of that clone is a `Cast`: on wasm each was a full copy (~800 copies in one BERT-base
 *   backward pass, ~12 % of its time). tfjs tensors are immutable, so sharing is safe.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

interface WasmLikeBackend {
  incRef(dataId: unknown): void;
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
  for (const name of ['Identity', 'Cast']) {
    const orig = tf.getKernel(name, 'wasm');
    if (!orig) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: (args) => {
        const { x } = args.inputs as { x: tf.TensorInfo };
        const dtype = name === 'Cast' ? (args.attrs as { dtype: tf.DataType }).dtype : x.dtype;
        if (x.dtype === 'string' || dtype !== x.dtype) return orig.kernelFunc(args);
        (args.backend as unknown as WasmLikeBackend).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
  }
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
