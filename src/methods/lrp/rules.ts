/**
 * Layer-wise relevance propagation (LRP) rules for the layers of a transformer, as tfjs tensor ops
 * (no gradients: each rule is applied explicitly, layer by layer, over values recorded in one
 * instrumented forward pass).
 *
 * Source: Chefer, Gur & Wolf 2021, "Transformer Interpretability Beyond Attention Visualization"
 * (CVPR 2021), §3.1, Eqs. 1–5, and their reference code (hila-chefer/Transformer-Explainability,
 * `modules/layers_ours.py`), which Mask-LRP (Song et al. 2024, LinxinS97/Mask-LRP) reuses:
 *
 * | layer | rule | conserves Σ R? |
 * |---|---|---|
 * | Linear `y = xW (+b)` | LRP-αβ with α = 1, β = 0 (Eq. 4; bias ignored): `R_i = Σ_j (x⁺_i W⁺_ij + x⁻_i W⁻_ij) R_j / z⁺_j` with `z⁺_j = Σ_i x⁺_i W⁺_ij + x⁻_i W⁻_ij`; or LRP-ε (`R_i = x_i Σ_j W_ij R_j / (z_j + ε·sign z_j)`, ε = 0: LRP-0) | yes, exactly, wherever `z_j ≠ 0` (α1β0: every output with a positive contribution) |
 * | LayerNorm, GELU, tanh, softmax, dropout | identity (`RelProp.relprop` returns R unchanged) | yes (trivially) |
 * | residual `a + b` (`Add`) | `R_a = a·R/(a+b)`, `R_b = b·R/(a+b)`, then each rescaled so that `Σ R_a : Σ R_b = |Σ R_a| : |Σ R_b|` and `Σ R_a + Σ R_b = Σ R` (Eq. 5's normalisation) | yes, exactly |
 * | two-operand matmul `A·B` (scores `QKᵀ`, context `P·V`) | z-rule on both operands, `R_A = A ⊙ ((R/Z)·Bᵀ)`, `R_B = B ⊙ (Aᵀ·(R/Z))`, each halved (Eq. 5, the `/2` of `BertSelfAttention.relprop`) | no: each operand's sum is ≈ Σ R only when the products have one sign; the sum of the two halves is therefore ≈ Σ R, not exact |
 * | copy (`Clone`: one tensor feeding several branches) | sum of the branches' relevances | yes, exactly |
 *
 * Division is Chefer's `safe_divide`: `a / (b + 1e-9)`, and 0 where `b = 0`.
 *
 * @module
 */
import { tf } from '../../backend/index.js';
import { nativeMatMulActive } from '../../backend/native.js';
import type { BertParams } from '../../model/params.js';

/** Stabiliser of {@link safeDivide} (Chefer's `safe_divide`). */
export const SAFE_EPS = 1e-9;

/**
 * `a / b` elementwise with Chefer's stabiliser: `a / (b + 1e-9)`, and exactly 0 where `b = 0`
 * (broadcasting as `tf.div`).
 */
export function safeDivide(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let den = tf.add(b, SAFE_EPS);
    den = tf.where(tf.equal(den, 0), tf.fill(den.shape, SAFE_EPS), den);
    return tf.mul(tf.div(a, den), tf.cast(tf.notEqual(b, 0), 'float32'));
  });
}

/**
 * {@link safeDivide} for a denominator known to be `≥ 0` (the α1β0 rule's `z⁺`): the same values in
 * four kernels instead of eight (`b + 1e-9` is then never 0, and `sign(b)` is the `b ≠ 0` mask).
 */
function safeDivideNonNegative(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.div(a, tf.add(b, SAFE_EPS)), tf.sign(b)));
}

/** {@link safeDivide} of two numbers. */
function safeDivideScalar(a: number, b: number): number {
  if (b === 0) return 0;
  const den = Math.fround(b + SAFE_EPS);
  return a / (den === 0 ? SAFE_EPS : den);
}

/** Which rule a linear layer uses. */
export type LinearRule = { kind: 'alphabeta' } | { kind: 'epsilon'; epsilon: number };

/** The default linear rule of Chefer et al. and Mask-LRP: LRP-α1β0. */
export const ALPHA1_BETA0: LinearRule = { kind: 'alphabeta' };

/**
 * Weights of a linear layer as the rules need them: `w` `[in, out]`, its transpose `wT` `[out, in]`
 * and, optionally, its positive part `wp` = W⁺ `[in, out]` (computed per call when absent).
 */
export interface LinearWeights {
  w: tf.Tensor2D;
  wT: tf.Tensor2D;
  wp?: tf.Tensor2D;
}

/**
 * The weights of a linear layer of a model, their cached transpose (the one the gradients use) and
 * their cached positive part W⁺. Only W⁺ is cached besides the transpose (one more copy of every
 * weight, ~340 MB at BERT-base size): the rule derives the W⁻ terms from W (see {@link lrpLinear});
 * caching W⁻, W⁺ᵀ and W⁻ᵀ too would overflow wasm's 4 GiB heap at BERT-base size.
 * @param prefix e.g. `encoder.layer.0.attention.self.query` (weight stored `[in, out]`).
 * @throws Error naming the parameter when it does not exist.
 */
export function linearWeights(params: BertParams, prefix: string): LinearWeights {
  const name = prefix + '.weight';
  return {
    w: params.get(name) as unknown as tf.Tensor2D,
    wT: params.transposed(name) as tf.Tensor2D,
    wp: params.derived(`${name}⁺`, () => tf.relu(params.get(name))) as tf.Tensor2D,
  };
}

/**
 * Relevance through a linear layer `y = x·W (+ b)` (the bias takes no relevance).
 *
 * - α1β0 (default, Chefer 2021 Eq. 4 with α = 1, β = 0): `R_in = x⁺ ⊙ (S·W⁺ᵀ) + x⁻ ⊙ (S·W⁻ᵀ)` with
 *   `S = R / (x⁺W⁺ + x⁻W⁻)`.
 * - ε (Bach et al. 2015): `R_in = x ⊙ (S·Wᵀ)`, `S = R / (xW + ε·sign(xW))`; ε = 0 is LRP-0, which on
 *   a bias-free linear map started at `R = y` gives exactly gradient × input.
 *
 * @param x `[n, in]` the layer's input; @param r `[n, out]` relevance of its output.
 * @returns `[n, in]`; Σ conserved wherever the denominator is non-zero.
 * @throws Error when the shapes do not fit the weights.
 */
export function lrpLinear(x: tf.Tensor2D, r: tf.Tensor2D, lw: LinearWeights, rule: LinearRule = ALPHA1_BETA0): tf.Tensor2D {
  const [inDim, outDim] = lw.w.shape;
  if (x.shape[1] !== inDim || r.shape[1] !== outDim || x.shape[0] !== r.shape[0]) {
    throw new Error(`lrpLinear: input [${x.shape}] and relevance [${r.shape}] do not fit a [${inDim}, ${outDim}] weight`);
  }
  return tf.tidy(() => {
    if (rule.kind === 'epsilon') {
      const z = tf.matMul(x, lw.w);
      const s = safeDivide(r, tf.add(z, tf.mul(tf.sign(z), rule.epsilon)));
      return tf.mul(x, tf.matMul(s, lw.wT)) as tf.Tensor2D;
    }
    // With W⁻ = W − W⁺ and x⁺ − x⁻ = |x|: z = x⁺W⁺ + x⁻W⁻ = |x|·W⁺ + x⁻·W, and
    // x⁺ ⊙ (S·W⁺ᵀ) + x⁻ ⊙ (S·W⁻ᵀ) = |x| ⊙ (S·W⁺ᵀ) + x⁻ ⊙ (S·Wᵀ): the same four matrix products, but
    // no elementwise pass over the weight when W⁺ is cached (one otherwise) instead of four.
    const nx = tf.minimum(x, 0);
    const ax = tf.abs(x);
    const wp = lw.wp ?? tf.relu(lw.w);
    const z = tf.add(tf.matMul(ax, wp), tf.matMul(nx, lw.w));
    const s = safeDivideNonNegative(r, z);
    // S·W⁺ᵀ: the native GEMM reads W⁺ transposed (transposeB, ~2× a plain product here, measured; a
    // cached W⁺ᵀ would be another copy of every weight); tfjs's wasm kernel with transposeB is ~10× slower.
    const sWpT = nativeMatMulActive() ? tf.matMul(s, wp, false, true) : tf.matMul(s, tf.relu(lw.wT));
    return tf.add(tf.mul(ax, sWpT), tf.mul(nx, tf.matMul(s, lw.wT))) as tf.Tensor2D;
  });
}

/**
 * Relevance through a residual addition `y = a + b` (Chefer's `Add.relprop`): z-rule split, then the
 * two parts rescaled so that their sums are in the ratio `|Σ R_a| : |Σ R_b|` and add up to `Σ R`.
 *
 * @param a, @param b the two summands (same shape); @param r relevance of `a + b` (same shape).
 * @returns `[R_a, R_b]`, each the shape of `a`; `Σ R_a + Σ R_b = Σ R` exactly (when either sum is non-zero).
 * @throws Error on different shapes.
 */
export function lrpAdd(a: tf.Tensor, b: tf.Tensor, r: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (!sameShape(a, b) || !sameShape(a, r)) throw new Error(`lrpAdd: shapes differ: [${a.shape}] + [${b.shape}], relevance [${r.shape}]`);
  const [ra, rb, sums] = tf.tidy(() => {
    const s = safeDivide(r, tf.add(a, b));
    const ra = tf.mul(a, s);
    const rb = tf.mul(b, s);
    return [ra, rb, tf.stack([tf.sum(ra), tf.sum(rb), tf.sum(r)])];
  });
  // The rescaling factors are scalars: computed here, not as a dozen one-element kernels.
  const [sa, sb, total] = sums.dataSync();
  sums.dispose();
  const norm = Math.fround(Math.abs(sa) + Math.abs(sb));
  const fa = safeDivideScalar(Math.abs(sa), norm) * total;
  const fb = safeDivideScalar(Math.abs(sb), norm) * total;
  const out: [tf.Tensor, tf.Tensor] = [tf.mul(ra, safeDivideScalar(fa, sa)), tf.mul(rb, safeDivideScalar(fb, sb))];
  ra.dispose();
  rb.dispose();
  return out;
}

/**
 * Relevance through a batched two-operand matrix product `Z = A·B` (Chefer's `MatMul.relprop` + the
 * halving of `BertSelfAttention.relprop`): `R_A = ½ A ⊙ ((R/Z)·Bᵀ)`, `R_B = ½ B ⊙ (Aᵀ·(R/Z))`.
 *
 * @param a `[h, m, k]`; @param b `[h, k, n]`; @param r `[h, m, n]`.
 * @param halve divide both by 2 (default true, the reference code).
 * @returns `[R_A [h, m, k], R_B [h, k, n]]`. Not conserving in general (see the module table).
 * @throws Error when the shapes do not multiply.
 */
export function lrpMatmul(a: tf.Tensor3D, b: tf.Tensor3D, r: tf.Tensor3D, halve = true): [tf.Tensor3D, tf.Tensor3D] {
  checkMatmul(a, b, r);
  return tf.tidy(() => {
    const s = safeDivide(r, tf.matMul(a, b)) as tf.Tensor3D;
    const f = halve ? 0.5 : 1;
    const rb = tf.mul(tf.mul(b, tf.matMul(tf.transpose(a, [0, 2, 1]), s)), f) as tf.Tensor3D;
    return [firstOperandRelevance(a, b, s, f), rb];
  });
}

/**
 * The first operand's part of {@link lrpMatmul} alone, `R_A = ½ A ⊙ ((R/Z)·Bᵀ)` (one product fewer),
 * for when `R_B` is not needed (Mask-LRP's reference attention maps).
 * @returns `[h, m, k]`. @throws Error as {@link lrpMatmul}.
 */
export function lrpMatmulFirst(a: tf.Tensor3D, b: tf.Tensor3D, r: tf.Tensor3D, halve = true): tf.Tensor3D {
  checkMatmul(a, b, r);
  return tf.tidy(() => firstOperandRelevance(a, b, safeDivide(r, tf.matMul(a, b)) as tf.Tensor3D, halve ? 0.5 : 1));
}

/** `R_A = f · A ⊙ (S·Bᵀ)` with `S = R / (A·B)` already taken. */
function firstOperandRelevance(a: tf.Tensor3D, b: tf.Tensor3D, s: tf.Tensor3D, f: number): tf.Tensor3D {
  return tf.mul(tf.mul(a, tf.matMul(s, tf.transpose(b, [0, 2, 1]))), f) as tf.Tensor3D;
}

function checkMatmul(a: tf.Tensor3D, b: tf.Tensor3D, r: tf.Tensor3D): void {
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1] || r.shape[0] !== a.shape[0] || r.shape[1] !== a.shape[1] || r.shape[2] !== b.shape[2]) {
    throw new Error(`lrpMatmul: [${a.shape}] · [${b.shape}] does not give the relevance's shape [${r.shape}]`);
  }
}

function sameShape(a: tf.Tensor, b: tf.Tensor): boolean {
  return a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
}
