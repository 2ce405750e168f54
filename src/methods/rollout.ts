/**
 * Attention rollout (Abnar & Zuidema 2020, §3, "Attention Rollout").
 *
 * Per layer l the heads are combined (`mean` in the paper), the residual connection is added as an
 * identity, `Â_l = 0.5·A_l + 0.5·I` (the paper: "A = 0.5 W_att + 0.5 I"), rows re-normalised, and
 * the layers multiplied up:
 *
 *     Ã(l_i) = Â(l_i) · Ã(l_{i-1})   if i > j,   Ã(l_j) = Â(l_j)        (paper, Eq. 1 with j = 0)
 *
 * Multiplication order: the NEW layer's matrix is on the LEFT. This is the reference code
 * (samiraabnar/attention_flow, `compute_joint_attention`):
 * `joint_attentions[i] = aug_att_mat[i].dot(joint_attentions[i-1])`. With rows = "from" this is the
 * natural composition: rollout_l[i, j] = Σ_k Â_l[i, k] · rollout_{l-1}[k, j], i.e. output position i
 * of layer l draws on intermediate position k with weight Â_l[i, k], which in turn draws on input
 * token j with weight rollout_{l-1}[k, j]. Each row of rollout_l therefore stays a probability
 * distribution over input tokens.
 *
 * @module
 */
import { checkLayer, checkPosition, reduceHeads, type AttentionStack, type HeadReduce } from './attentionTypes.js';
import { IndexError, OptionError } from '../errors.js';

/** How one layer's attention graph weights are built (shared by rollout and attention flow). */
export interface AugmentOptions {
  /**
   * Weight of the residual (identity) connection: `Â = (1 − r)·A + r·I`, then rows re-normalised.
   * Default 0.5 (the paper). `0` or `null` = no residual (rows still re-normalised, which is a
   * no-op for `'mean'` or a single head).
   */
  residual?: number | null;
  /** How heads are combined: `'mean'` (default, the paper), `'max'`, `'min'` or a head index. */
  headReduce?: HeadReduce;
}

/**
 * Adds the residual connection to one `[seq, seq]` matrix and re-normalises its rows, in place:
 * `Â = ((1 − r)·M + r·I) / rowsum`. With `r = 0.5` this is `(M + I) / rowsum`, the form of the
 * reference code and of Chefer's `compute_rollout_attention`.
 *
 * @param m `[seq, seq]` row-major, overwritten; @param residual `r` in [0, 1].
 * @returns `m`; every row with a positive sum sums to 1.
 * @throws OptionError for a residual weight outside [0, 1].
 */
export function augmentMatrix(m: Float64Array, seq: number, residual = 0.5): Float64Array {
  if (!(residual >= 0 && residual <= 1)) throw new OptionError(`rollout: residual weight must be in [0, 1], got ${residual}`);
  for (let i = 0; i < seq; i++) {
    const row = i * seq;
    let s = 0;
    for (let j = 0; j < seq; j++) {
      const v = (1 - residual) * m[row + j] + (i === j ? residual : 0);
      m[row + j] = v;
      s += v;
    }
    if (s > 0) for (let j = 0; j < seq; j++) m[row + j] /= s;
  }
  return m;
}

/**
 * The residual-augmented, row-normalised attention of one layer: the attention graph's edge weights
 * (paper §3: "A = 0.5 W_att + 0.5 I"; for `'max'`/`'min'` rows do not sum to 1 before normalisation,
 * so `(1−r)A + rI` is divided by its row sum, as `(A + I) / rowsum` in the reference code).
 *
 * @param layer 0-based transformer layer.
 * @returns `[seq, seq]` row-major float64; every row with a positive sum sums to 1.
 * @throws Error on an unknown layer/head index or a residual weight outside [0, 1].
 */
export function augmentedAttention(stack: AttentionStack, layer: number, opts: AugmentOptions = {}): Float64Array {
  const residual = opts.residual === undefined ? 0.5 : (opts.residual ?? 0);
  return augmentMatrix(reduceHeads(stack, layer, opts.headReduce ?? 'mean'), stack.seq, residual);
}

/** `a · b` for `[n, n]` row-major matrices (float64). */
export function matmulSq(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const w = a[i * n + k];
      if (w === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += w * b[k * n + j];
    }
  }
  return out;
}

/**
 * Rollout of per-layer matrices that are already residual-augmented and row-normalised (the one
 * rollout of flowlens: attention rollout, and the relevance/gradient maps of Chefer et al. and
 * Mask-LRP): `J_start = Â_start`, `J_l = Â_l · J_{l−1}` (the new layer on the left).
 *
 * @param mats `[layers]` of `[seq, seq]` row-major.
 * @param startLayer first layer used (default 0).
 * @returns `[layers − startLayer]` joint matrices `[seq, seq]`, one per layer from `startLayer`.
 * @throws Error when `mats` is empty; IndexError when `startLayer` is outside it.
 */
export function rolloutMatrices(mats: readonly Float64Array[], seq: number, startLayer = 0): Float64Array[] {
  if (mats.length === 0) throw new Error('rollout: no layers');
  if (!Number.isInteger(startLayer) || startLayer < 0 || startLayer >= mats.length) {
    throw new IndexError(`rollout: start layer ${startLayer} is outside 0..${mats.length - 1}`);
  }
  const out: Float64Array[] = [Float64Array.from(mats[startLayer] as Float64Array)];
  for (let l = startLayer + 1; l < mats.length; l++) out.push(matmulSq(mats[l] as Float64Array, out[out.length - 1] as Float64Array, seq));
  return out;
}

/** Options of {@link attentionRollout}. */
export type RolloutOptions = AugmentOptions;

/**
 * Attention rollout of every layer (paper §3, Eq. 1; reference `compute_joint_attention`).
 *
 * rollout_0 = Â_0, rollout_l = Â_l · rollout_{l−1} (0-based layers; the new layer multiplies from
 * the left, see the module comment).
 *
 * @returns `[layers, seq, seq]` row-major float32 (computed in float64): entry `[l, i, j]` = how much
 *   output position i after layer l draws on input token j; rows sum to 1.
 * @throws Error on an unknown head index or a bad residual weight.
 */
export function attentionRollout(stack: AttentionStack, opts: RolloutOptions = {}): Float32Array {
  const { layers, seq } = stack;
  const ss = seq * seq;
  const mats = Array.from({ length: layers }, (_, l) => augmentedAttention(stack, l, opts));
  const out = new Float32Array(layers * ss);
  rolloutMatrices(mats, seq).forEach((m, l) => out.set(m, l * ss));
  return out;
}

/** Options of {@link rolloutTokenImportance}. */
export interface RolloutImportanceOptions extends RolloutOptions {
  /** 0-based layer; default the last. */
  layer?: number;
  /** Output position (e.g. 0 = [CLS], or the [MASK] position); default 0. */
  position?: number;
}

/**
 * Token importance from rollout: row `position` of rollout at `layer` (paper Fig. 2–4, "attention
 * rollout" maps of the [CLS]/[MASK] token).
 *
 * @returns `[seq]`, sums to 1.
 * @throws Error naming an unknown layer, head or position.
 */
export function rolloutTokenImportance(stack: AttentionStack, opts: RolloutImportanceOptions = {}): Float32Array {
  const layer = opts.layer ?? stack.layers - 1;
  checkLayer(stack, layer, 'rolloutTokenImportance');
  const position = opts.position ?? 0;
  checkPosition(stack, position, 'rolloutTokenImportance');
  const r = attentionRollout({ ...stack, layers: layer + 1 }, opts);
  const off = layer * stack.seq * stack.seq + position * stack.seq;
  return r.slice(off, off + stack.seq);
}
