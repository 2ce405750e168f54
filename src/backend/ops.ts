/**
 * Differentiable primitives with gradients that run fast on tfjs-wasm.
 *
 * tfjs's own gradient of `matMul` calls `matMul` with `transposeA`/`transposeB` set, which runs ~10×
 * slower on wasm than an explicit `tf.transpose` followed by a plain `matMul` (measured: see
 * `../shared/NOTES-tfjs.md`). {@link matmul} wraps matMul in a `tf.customGrad` whose gradient transposes
 * explicitly, so a backward pass costs about 2–3× a forward pass.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

function swapLast(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm);
}

const mm = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  const value = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      // dA = dy · Bᵀ, dB = Aᵀ · dy, with explicit transposes (fast path on wasm).
      const da = tf.matMul(dy as tf.Tensor2D, swapLast(sb) as tf.Tensor2D);
      const db = tf.matMul(swapLast(sa) as tf.Tensor2D, dy as tf.Tensor2D);
      return [da, db];
    },
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing accepts only single-tensor functions; this one takes (a, b, save)
}) as any) as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Matrix product `a · b` with a wasm-fast gradient.
 *
 * Shapes: `a` `[..., m, k]`, `b` `[..., k, n]` with equal batch dimensions (rank 2–4), result
 * `[..., m, n]`. For a 3-D activation times a 2-D weight, use {@link linear} (it reshapes to 2-D: the
 * gradient of a broadcast matmul has a shape bug in tfjs).
 *
 * @throws Error when the inner dimensions or batch dimensions differ.
 */
export function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank !== b.rank) throw new Error(`matmul: rank mismatch ${a.shape} vs ${b.shape}`);
  if (a.shape[a.rank - 1] !== b.shape[b.rank - 2]) {
    throw new Error(`matmul: inner dimensions differ: [${a.shape}] · [${b.shape}]`);
  }
  return mm(a, b);
}

/**
 * Affine map `x · W + b` over the last axis (a `torch.nn.Linear` with its weight stored as `[in, out]`).
 *
 * @param x `[..., in]`
 * @param w `[in, out]` (already transposed from PyTorch's `[out, in]`)
 * @param b `[out]` or undefined
 * @returns `[..., out]`
 */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1] as number;
  if (inDim !== w.shape[0]) throw new Error(`linear: input has ${inDim} features, weight expects ${w.shape[0]}`);
  const lead = x.shape.slice(0, -1);
  const y = matmul(x.reshape([-1, inDim]), w);
  const y2 = b ? tf.add(y, b) : y;
  return y2.reshape([...lead, w.shape[1] as number]);
}

/**
 * Affine map `x · W + b` where `W` and `b` are constants (analysis, not training): the gradient flows
 * to `x` only, as `dy · Wᵀ` with a cached transpose `wT`, so the backward pass neither transposes the
 * weight nor computes a weight gradient. Shapes as {@link linear}; `wT` is `[out, in]`.
 */
export function linearConst(x: tf.Tensor, w: tf.Tensor, wT: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1] as number;
  if (inDim !== w.shape[0]) throw new Error(`linear: input has ${inDim} features, weight expects ${w.shape[0]}`);
  const lead = x.shape.slice(0, -1);
  const out = w.shape[1] as number;
  const f = tf.customGrad(((x2: tf.Tensor) => {
    const y = tf.matMul(x2 as tf.Tensor2D, w as tf.Tensor2D);
    return {
      value: b ? tf.add(y, b) : y,
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wT as tf.Tensor2D),
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing does not accept a closure over the cached transpose; cast to the real signature below
  }) as any) as unknown as (x2: tf.Tensor) => tf.Tensor;
  return f(x.reshape([-1, inDim])).reshape([...lead, out]);
}

/**
 * Batched product `a · b` where `b` is a constant: gradient to `a` only, `dy · bT` with the cached
 * transpose `bT` (`[..., n, k]`). Shapes: `a` `[..., m, k]`, `b` `[..., k, n]`.
 */
export function matmulConstB(a: tf.Tensor, b: tf.Tensor, bT: tf.Tensor): tf.Tensor {
  if (a.shape[a.rank - 1] !== b.shape[b.rank - 2]) throw new Error(`matmul: inner dimensions differ: [${a.shape}] · [${b.shape}]`);
  const f = tf.customGrad(((a2: tf.Tensor) => ({
    value: tf.matMul(a2 as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor3D, bT as tf.Tensor3D),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing does not accept a closure over the cached transpose; cast to the real signature below
  })) as any) as unknown as (a2: tf.Tensor) => tf.Tensor;
  return f(a);
}
