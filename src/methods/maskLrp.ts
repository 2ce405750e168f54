/**
 * Mask-LRP (Song, Wang, Song & Zhang 2024, "Better Explain Transformers by Illuminating Important
 * Information", EACL Findings, arXiv 2401.09972, §3; reference code LinxinS97/Mask-LRP, `MGAE` with a
 * head mask) and, without a mask, the transformer attribution it builds on (Chefer, Gur & Wolf 2021a,
 * "Transformer Interpretability Beyond Attention Visualization", §3.2, Eqs. 12–13, `generate_LRP`).
 *
 * 1. One forward pass (untouched: no head mask), one backward pass for ∇A (gradient of the class logit
 *    at every attention map) and one LRP relevance pass in which the relevance entering masked heads
 *    is dropped ({@link relevancePass} with `headMask`).
 * 2. Per layer: `Ā_l = mean_h max(0, ∇A_h ⊙ R(A_h))` (gradient × relevance of the attention map).
 * 3. Rollout: `(Ā_l + I)` rows normalised, multiplied up (`J ← Â_l · J` from layer 0), the `[CLS]` row
 *    read; its own `[CLS]` entry set to 0 (the reference code's `rollout[:, 0, 0] = 0`).
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import { tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { withExplainTrace, type ExplainTrace, type ExplainTraceOptions } from './lrp/explainTrace.js';
import { relevancePass, type RelevanceOptions, type RelevanceResult } from './lrp/relevance.js';
import { positiveGradWeightedMean, rolloutIdentity, rowOf } from './lrp/maps.js';

/** Options of {@link maskLrp}. */
export interface MaskLrpOptions extends ExplainTraceOptions, RelevanceOptions {
  /** First layer of the rollout (default 0, the reference code). */
  startLayer?: number;
}

/**
 * Mask-LRP (or, without `headMask`, Chefer 2021a's transformer attribution) from a recorded trace.
 *
 * @param et {@link explainTrace} of the example (its gradients are used; it is not disposed here).
 * @param rel a relevance pass already run with the same options (optional, to share it).
 * @returns `[seq]` importance of each token for the explained class (`[CLS]` set to 0); `meta` carries
 *   the target class, the per-head relevance and the relevance sums per layer.
 * @throws Error on a head mask that is not `[layers][heads]` or a bad start layer.
 */
export function maskLrpFromTrace(model: Bert, et: ExplainTrace, opts: MaskLrpOptions = {}, rel?: RelevanceResult): TokenAttribution {
  const r = rel ?? relevancePass(model, et, opts);
  const { layers, heads, seq } = r;
  const per = heads * seq * seq;
  const mats: Float64Array[] = [];
  for (let l = 0; l < layers; l++) {
    const g = et.patternGrads[l].dataSync();
    mats.push(positiveGradWeightedMean(g, r.attention.subarray(l * per, (l + 1) * per), heads, seq));
  }
  const joint = rolloutIdentity(mats, seq, opts.startLayer ?? 0);
  const scores = rowOf(joint, seq, 0);
  scores[0] = 0;
  const masked = !!opts.headMask;
  return tokenAttribution(masked ? 'mask_lrp' : 'transformer_attribution', et.tokens, scores, et.qoi.describe, {
    sanity: { name: 'relevance at the encoder input (Σ, started at 1)', value: r.resid[0] },
    meta: { target: et.target, headMask: opts.headMask ?? null, headPassed: r.headPassed, resid: r.resid },
  });
}

/**
 * Mask-LRP of one example: trace, relevance pass with the head mask, gradient × relevance rollout.
 *
 * @param example one unpadded sequence; `opts.headMask` `[layers][heads]` (1 keep, 0 drop); without
 *   it, Chefer 2021a's transformer attribution.
 * @returns `[seq]` scores, see {@link maskLrpFromTrace}.
 * @throws Error as {@link explainTrace} and {@link relevancePass}.
 */
export function maskLrp(model: Bert, example: ExampleInput, opts: MaskLrpOptions = {}): TokenAttribution {
  return withExplainTrace(model, example, opts, (et) => maskLrpFromTrace(model, et, opts));
}
