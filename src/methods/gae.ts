/**
 * Generic attention-model explainability, GAE (Chefer, Gur & Wolf 2021b, "Generic Attention-model
 * Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers", ICCV 2021, §3, Eqs. 5–7;
 * reference hila-chefer/Transformer-MM-Explainability, `avg_heads` + `apply_self_attention_rules`):
 *
 *     Ā_l = mean_h max(0, ∇A_h ⊙ A_h),   R ← I,   R ← R + Ā_l · R   (layers 0 … L−1)
 *
 * read at the `[CLS]` row, its own entry set to 0. (Mask-LRP's code names its LRP rollout `GAE`; here
 * GAE is the 2021b rule on attention × gradient, no LRP.)
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import { tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { attentionOfTrace, withExplainTrace, type ExplainTrace, type ExplainTraceOptions } from './lrp/explainTrace.js';
import { gaeAccumulate, positiveGradWeightedMean, rowOf } from './lrp/maps.js';

/**
 * GAE from a recorded trace (needs its attention patterns and their gradients).
 * @returns `[seq]` importance for the explained class; `[CLS]` set to 0.
 */
export function gaeFromTrace(et: ExplainTrace): TokenAttribution {
  const { layers, heads, seq } = et.trace;
  const att = attentionOfTrace(et.trace);
  const per = heads * seq * seq;
  const mats: Float64Array[] = [];
  for (let l = 0; l < layers; l++) {
    mats.push(positiveGradWeightedMean(et.patternGrads[l].dataSync(), att.subarray(l * per, (l + 1) * per), heads, seq));
  }
  const scores = rowOf(gaeAccumulate(mats, seq), seq, 0);
  scores[0] = 0;
  return tokenAttribution('gae', et.tokens, scores, et.qoi.describe, { meta: { target: et.target } });
}

/**
 * GAE of one example (Chefer 2021b).
 * @throws Error as {@link explainTrace} (no classifier head, empty or padded input, bad target).
 */
export function gae(model: Bert, example: ExampleInput, opts: ExplainTraceOptions = {}): TokenAttribution {
  return withExplainTrace(model, example, opts, gaeFromTrace);
}
