/**
 * Grad-CAM baselines for transformers, as in Chefer et al. 2021a's and Mask-LRP's comparisons
 * (Selvaraju et al. 2017, "Grad-CAM", Eq. 1–2, applied to the last layer's attention maps; reference
 * Mask-LRP `generate_attn_gradcam` and `generate_gradcam`):
 *
 * - attention Grad-CAM: per head the weight `α_h = mean_{q,k} ∂y_c/∂A_h[q, k]`; map
 *   `max(0, mean_h α_h A_h)`, min–max normalised, the `[CLS]` row read, `[CLS]` set to 0.
 * - Grad-CAM (the gradient map alone): `max(0, mean_{h,q} ∂y_c/∂A_h[q, k])` per key k, `[CLS]` set to 0.
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import { tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { attentionOfTrace, withExplainTrace, type ExplainTrace, type ExplainTraceOptions } from './lrp/explainTrace.js';

/**
 * Attention Grad-CAM of the last layer from a recorded trace.
 * @returns `[seq]` in [0, 1] (min–max normalised map, `[CLS]` row), `[CLS]` entry 0.
 */
export function attentionGradcamFromTrace(et: ExplainTrace): TokenAttribution {
  const { layers, heads, seq } = et.trace;
  const l = layers - 1;
  const ss = seq * seq;
  const att = attentionOfTrace(et.trace).subarray(l * heads * ss, (l + 1) * heads * ss);
  const g = et.patternGrads[l].dataSync();
  const map = new Float64Array(ss);
  for (let h = 0; h < heads; h++) {
    let alpha = 0;
    for (let i = 0; i < ss; i++) alpha += g[h * ss + i];
    alpha /= ss;
    for (let i = 0; i < ss; i++) map[i] += (alpha * att[h * ss + i]) / heads;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < ss; i++) {
    map[i] = Math.max(0, map[i]);
    lo = Math.min(lo, map[i]);
    hi = Math.max(hi, map[i]);
  }
  const scores = Array.from({ length: seq }, (_, j) => (hi > lo ? (map[j] - lo) / (hi - lo) : 0));
  scores[0] = 0;
  return tokenAttribution('attention_gradcam', et.tokens, scores, et.qoi.describe, { layer: l, meta: { target: et.target } });
}

/**
 * Grad-CAM (last layer's attention gradient, averaged over heads and queries, positive part).
 * @returns `[seq]`, `[CLS]` entry 0.
 */
export function gradcamFromTrace(et: ExplainTrace): TokenAttribution {
  const { layers, heads, seq } = et.trace;
  const l = layers - 1;
  const g = et.patternGrads[l].dataSync();
  const scores = new Array<number>(seq).fill(0);
  for (let h = 0; h < heads; h++) for (let q = 0; q < seq; q++) for (let k = 0; k < seq; k++) scores[k] += g[h * seq * seq + q * seq + k];
  for (let k = 0; k < seq; k++) scores[k] = Math.max(0, scores[k] / (heads * seq));
  scores[0] = 0;
  return tokenAttribution('gradcam', et.tokens, scores, et.qoi.describe, { layer: l, meta: { target: et.target } });
}

/**
 * Attention Grad-CAM of one example. @throws Error as {@link explainTrace}.
 */
export function attentionGradcam(model: Bert, example: ExampleInput, opts: ExplainTraceOptions = {}): TokenAttribution {
  return withExplainTrace(model, example, opts, attentionGradcamFromTrace);
}

/**
 * Grad-CAM of one example. @throws Error as {@link explainTrace}.
 */
export function gradcam(model: Bert, example: ExampleInput, opts: ExplainTraceOptions = {}): TokenAttribution {
  return withExplainTrace(model, example, opts, gradcamFromTrace);
}
