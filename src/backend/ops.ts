/**
 * Differentiable primitives with gradients that run fast on tfjs-wasm.
 *
 * tfjs's own gradient of `matMul` calls `matMul` with `transposeA`/`transposeB` set, which runs ~10×
 * slower on wasm than an explicit `tf.transpose` followed by a plain `matMul` (measured: see
 * `../shared/NOTES-tfjs.md`). {@link matmul} wraps matMul in a `tf.customGrad` whose gradient transposes
 * explicitly, so a backward pass costs about 2–3× a forward pass. When the native GEMM is active
 * (`./native.ts`), the transposes go to the GEMM as flags instead (free there).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { nativeMatMulActive } from './native.js';

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
      if (nativeMatMulActive()) return [tf.matMul(dy, sb, false, true), tf.matMul(sa, dy, true, false)];
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
  const y = b ? affine(x.reshape([-1, inDim]), w, b) : matmul(x.reshape([-1, inDim]), w);
  return y.reshape([...lead, w.shape[1] as number]);
}

/** Column sums of a 2-D tensor, `[n, m]` → `[m]`, as a product with a row of ones (a GEMV: fast on every backend; wasm's reduction over axis 0 transposes first). */
function columnSums(t: tf.Tensor): tf.Tensor {
  return tf.matMul(tf.ones([1, t.shape[0] as number]), t as tf.Tensor2D).reshape([t.shape[1] as number]);
}

// x [n, in] · w [in, out] + b [out], with all three gradients; the bias gradient as a GEMV instead
// of the broadcast-add gradient's axis-0 reduction (which took ~20 % of a training step on wasm).

const affine = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const native = nativeMatMulActive();
      const dx = native ? tf.matMul(dy as tf.Tensor2D, sw, false, true) : tf.matMul(dy as tf.Tensor2D, swapLast(sw) as tf.Tensor2D);
      const dw = native ? tf.matMul(sx, dy as tf.Tensor2D, true, false) : tf.matMul(swapLast(sx) as tf.Tensor2D, dy as tf.Tensor2D);
      return [dx, dw, columnSums(dy)];
    },
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing allows no third tensor input; cast to the real signature below
}) as any) as unknown as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Layer normalisation over the last axis (Ba et al. 2016; `torch.nn.LayerNorm`):
 * `y = γ · (x − μ) / √(σ² + ε) + β` with μ, σ² the mean and (biased) variance of each row.
 *
 * Same forward computation as the plain tfjs ops; the gradient is written out (reductions over the last
 * axis only, γ/β gradients as GEMVs), which is several times faster on wasm than tfjs's autodiff of the
 * broadcast ops:
 * `dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / √(σ² + ε)` with `dx̂ = dy · γ`.
 *
 * @param x `[..., d]`; @param gamma `[d]`; @param beta `[d]`; @param eps ε.
 * @returns `[..., d]`.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1] as number;
  const lead = x.shape.slice(0, -1);

  const f = tf.customGrad(((x2: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = tf.mean(x2, -1, true);
    const xc = tf.sub(x2, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, srstd, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dxhat = tf.mul(dy, sg);
        const m1 = tf.mean(dxhat, -1, true);
        const m2 = tf.mean(tf.mul(dxhat, sxhat), -1, true);
        const dx = tf.mul(tf.sub(tf.sub(dxhat, m1), tf.mul(sxhat, m2)), srstd);
        return [dx, columnSums(tf.mul(dy, sxhat)), columnSums(dy)];
      },
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing allows no third tensor input; cast to the real signature below
  }) as any) as unknown as (x2: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  return f(x.reshape([-1, d]), gamma, beta).reshape([...lead, d]);
}

/** A tensor, or a function making it (e.g. a cached transpose, built only when needed). */
export type LazyTensor = tf.Tensor | (() => tf.Tensor);

const force = (t: LazyTensor): tf.Tensor => (typeof t === 'function' ? t() : t);

/**
 * Affine map `x · W + b` where `W` and `b` are constants (analysis, not training): the gradient flows
 * to `x` only, as `dy · Wᵀ`, so the backward pass computes no weight gradient. Shapes as
 * {@link linear}; `wT` is `[out, in]`. Either of `w`, `wT` may be lazy: with the native GEMM the
 * missing one is never built (a transpose flag instead); on wasm it is built (and cached by the caller).
 */
export function linearConst(x: tf.Tensor, w: LazyTensor, wT: LazyTensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.rank - 1] as number;
  const native = nativeMatMulActive();
  const wIn = typeof w !== 'function' ? (w.shape[0] as number) : typeof wT !== 'function' ? (wT.shape[1] as number) : (force(w).shape[0] as number);
  if (inDim !== wIn) throw new Error(`linear: input has ${inDim} features, weight expects ${wIn}`);
  const lead = x.shape.slice(0, -1);
  const f = tf.customGrad(((x2: tf.Tensor) => {
    const y =
      native && typeof w === 'function' && typeof wT !== 'function'
        ? tf.matMul(x2 as tf.Tensor2D, wT as tf.Tensor2D, false, true)
        : tf.matMul(x2 as tf.Tensor2D, force(w) as tf.Tensor2D);
    return {
      value: b ? tf.add(y, b) : y,
      gradFunc: (dy: tf.Tensor) =>
        native && typeof wT === 'function' && typeof w !== 'function'
          ? tf.matMul(dy as tf.Tensor2D, w as tf.Tensor2D, false, true)
          : tf.matMul(dy as tf.Tensor2D, force(wT) as tf.Tensor2D),
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing does not accept a closure over the cached transpose; cast to the real signature below
  }) as any) as unknown as (x2: tf.Tensor) => tf.Tensor;
  const y = f(x.reshape([-1, inDim]));
  return y.reshape([...lead, y.shape[1] as number]);
}

/**
 * Batched product `a · b` where `b` is a constant: gradient to `a` only, `dy · bᵀ` with the transpose
 * `bT` (`[..., n, k]`; lazy: not built when the native GEMM takes a transpose flag instead).
 * Shapes: `a` `[..., m, k]`, `b` `[..., k, n]`.
 */
export function matmulConstB(a: tf.Tensor, b: tf.Tensor, bT: LazyTensor): tf.Tensor {
  if (a.shape[a.rank - 1] !== b.shape[b.rank - 2]) throw new Error(`matmul: inner dimensions differ: [${a.shape}] · [${b.shape}]`);
  const f = tf.customGrad(((a2: tf.Tensor) => ({
    value: tf.matMul(a2 as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor) =>
      nativeMatMulActive() && typeof bT === 'function'
        ? tf.matMul(dy as tf.Tensor3D, b as tf.Tensor3D, false, true)
        : tf.matMul(dy as tf.Tensor3D, force(bT) as tf.Tensor3D),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing does not accept a closure over the cached transpose; cast to the real signature below
  })) as any) as unknown as (a2: tf.Tensor) => tf.Tensor;
  return f(a);
}

/**
 * GELU with the exact (erf) form, `x · Φ(x)`, Φ(x) = ½(1 + erf(x/√2)) (Hendrycks & Gimpel 2016; HF
 * `gelu`), with a hand-written gradient dy·(Φ(x) + x·φ(x)), φ(x) = exp(−x²/2)/√(2π), saving x and Φ(x).
 *
 * @param x any shape; @returns the same shape.
 */
export function geluErf(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((xx: tf.Tensor, save: tf.GradSaveFunc) => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(xx, Math.SQRT1_2)), 1), 0.5);
    save([xx, cdf]);
    return {
      value: tf.mul(xx, cdf),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, c] = saved;
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return [tf.mul(dy, tf.add(c, tf.mul(xs, pdf)))];
      },
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing accepts only single-tensor functions; cast to the real signature below
  }) as any) as unknown as (xx: tf.Tensor) => tf.Tensor;
  return f(x);
}
