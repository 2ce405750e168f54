/**
 * Plain-array helpers shared by the relevance/gradient attention methods (Chefer et al. 2021a/b,
 * Mask-LRP): head averaging of gradient-weighted maps, rollout with the identity, the GAE update.
 *
 * Layout: one layer's maps `[heads, seq, seq]` row-major (row = query, column = key).
 *
 * @module
 */
import { augmentMatrix, matmulSq, rolloutMatrices } from '../rollout.js';

/**
 * `mean_h max(0, g_h ⊙ m_h)`: the gradient-weighted, positive part of each head's map, averaged over
 * heads (Chefer 2021a Eq. 13, `cam = (grad * cam).clamp(min=0).mean(dim=0)`).
 *
 * @param grad `[heads, seq, seq]`; @param map `[heads, seq, seq]` (attention or its relevance).
 * @returns `[seq, seq]` float64.
 * @throws Error when the lengths differ from `heads·seq·seq`.
 */
export function positiveGradWeightedMean(grad: ArrayLike<number>, map: ArrayLike<number>, heads: number, seq: number): Float64Array {
  const ss = seq * seq;
  if (grad.length !== heads * ss || map.length !== heads * ss) {
    throw new Error(`positiveGradWeightedMean: expected ${heads}·${seq}·${seq} = ${heads * ss} entries, got ${grad.length} and ${map.length}`);
  }
  const out = new Float64Array(ss);
  for (let h = 0; h < heads; h++) {
    const o = h * ss;
    for (let i = 0; i < ss; i++) {
      const v = grad[o + i] * map[o + i];
      if (v > 0) out[i] += v;
    }
  }
  for (let i = 0; i < ss; i++) out[i] /= heads;
  return out;
}

/**
 * Rollout with the identity (Chefer's `compute_rollout_attention`, after Abnar & Zuidema 2020):
 * each layer's matrix `Â_l = (M_l + I) / rowsum` ({@link augmentMatrix} with residual 0.5), then
 * {@link rolloutMatrices} from `startLayer`.
 *
 * @param mats `[layers]` of `[seq, seq]` (not modified); @param startLayer first layer used (default 0).
 * @returns the last layer's joint matrix `[seq, seq]` float64; rows sum to 1.
 * @throws Error when `mats` is empty; IndexError when `startLayer` is outside it.
 */
export function rolloutIdentity(mats: Float64Array[], seq: number, startLayer = 0): Float64Array {
  const joint = rolloutMatrices(
    mats.map((m) => augmentMatrix(Float64Array.from(m), seq, 0.5)),
    seq,
    startLayer,
  );
  return joint[joint.length - 1] as Float64Array;
}

/**
 * The GAE relevance update for self-attention (Chefer, Gur & Wolf 2021b, "Generic
 * Attention-model Explainability", Eqs. 6–7): `R = I`, then per layer `R ← R + Ā_l · R` with
 * `Ā_l = mean_h max(0, ∇A_h ⊙ A_h)`.
 *
 * @param mats `[layers]` of `[seq, seq]` (the `Ā_l`). @returns `R` `[seq, seq]` float64.
 */
export function gaeAccumulate(mats: Float64Array[], seq: number): Float64Array {
  let r = new Float64Array(seq * seq);
  for (let i = 0; i < seq; i++) r[i * seq + i] = 1;
  for (const a of mats) {
    const add = matmulSq(a, r, seq);
    const next = new Float64Array(seq * seq);
    for (let i = 0; i < next.length; i++) next[i] = r[i] + add[i];
    r = next;
  }
  return r;
}

/** Row `row` of a `[seq, seq]` matrix, as plain numbers. */
export function rowOf(m: ArrayLike<number>, seq: number, row = 0): number[] {
  return Array.from({ length: seq }, (_, j) => Number(m[row * seq + j]));
}
