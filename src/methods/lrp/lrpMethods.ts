/**
 * The LRP baselines of Chefer et al. 2021a / Mask-LRP (reference `generate_full_lrp`,
 * `generate_LRP_last_layer`) and the attention baselines they are compared with
 * (`generate_attn_last_layer`, `generate_rollout`), all from one recorded trace.
 *
 * - full LRP: relevance of each token at the encoder input, summed over the hidden dimension.
 * - LRP of the last layer: `mean_h max(0, R(A_h))` of the last layer, `[CLS]` row.
 * - raw attention of the last layer: `mean_h A_h`, `[CLS]` row.
 * - attention rollout: `(mean_h A_l + I)` rows normalised, multiplied up, `[CLS]` row
 *   (= Abnar & Zuidema's `0.5·A + 0.5·I`).
 *
 * Each sets the `[CLS]` token's own score to 0, as the reference code.
 *
 * @module
 */
import type { Bert } from '../../model/bert.js';
import { tokenAttribution, type TokenAttribution } from '../result.js';
import { attentionOfTrace, withExplainTrace, type ExplainTrace, type ExplainTraceOptions } from './explainTrace.js';
import type { ExampleInput } from '../result.js';
import { relevancePass, type RelevanceOptions, type RelevanceResult } from './relevance.js';
import { rolloutIdentity, rowOf } from './maps.js';

/**
 * Full LRP (Bach et al. 2015 with Chefer's transformer rules): token relevance at the encoder input.
 * @param rel a relevance pass of `et` without a head mask (optional, to share it).
 * @returns `[seq]`, `[CLS]` 0; `sanity` = Σ relevance at the input (1 if every rule conserved).
 */
export function fullLrpFromTrace(model: Bert, et: ExplainTrace, opts: RelevanceOptions = {}, rel?: RelevanceResult): TokenAttribution {
  const r = rel ?? relevancePass(model, et, opts);
  const scores = r.tokens.slice();
  scores[0] = 0;
  return tokenAttribution('full_lrp', et.tokens, scores, et.qoi.describe, {
    sanity: { name: 'Σ relevance at the encoder input', value: r.resid[0] },
    meta: { target: et.target },
  });
}

/**
 * LRP of the last layer's attention map: `mean_h max(0, R(A_h))`, `[CLS]` row.
 * @returns `[seq]`, `[CLS]` 0.
 */
export function lrpLastLayerFromTrace(model: Bert, et: ExplainTrace, opts: RelevanceOptions = {}, rel?: RelevanceResult): TokenAttribution {
  const r = rel ?? relevancePass(model, et, opts);
  const { layers, heads, seq } = r;
  const ss = seq * seq;
  const base = (layers - 1) * heads * ss;
  const scores = new Array<number>(seq).fill(0);
  for (let h = 0; h < heads; h++) for (let k = 0; k < seq; k++) scores[k] += Math.max(0, r.attention[base + h * ss + k]) / heads;
  scores[0] = 0;
  return tokenAttribution('lrp_last_layer', et.tokens, scores, et.qoi.describe, { layer: layers - 1, meta: { target: et.target } });
}

/** Head-averaged attention of every layer, `[layers]` of `[seq, seq]`. */
function meanHeads(et: ExplainTrace): Float64Array[] {
  const { layers, heads, seq } = et.trace;
  const att = attentionOfTrace(et.trace);
  const ss = seq * seq;
  const out: Float64Array[] = [];
  for (let l = 0; l < layers; l++) {
    const m = new Float64Array(ss);
    for (let h = 0; h < heads; h++) for (let i = 0; i < ss; i++) m[i] += att[(l * heads + h) * ss + i] / heads;
    out.push(m);
  }
  return out;
}

/**
 * Raw attention of the last layer, heads averaged, `[CLS]` row (`[CLS]` set to 0).
 * @returns `[seq]`.
 */
export function rawAttentionLastFromTrace(et: ExplainTrace): TokenAttribution {
  const mats = meanHeads(et);
  const scores = rowOf(mats[mats.length - 1], et.trace.seq, 0);
  scores[0] = 0;
  return tokenAttribution('raw_attention_last', et.tokens, scores, et.qoi.describe, { layer: mats.length - 1, meta: { target: et.target } });
}

/**
 * Attention rollout (Abnar & Zuidema 2020; Chefer's `compute_rollout_attention`), `[CLS]` row of the last layer.
 * @returns `[seq]`, `[CLS]` set to 0.
 */
export function rolloutFromTrace(et: ExplainTrace): TokenAttribution {
  const mats = meanHeads(et);
  const scores = rowOf(rolloutIdentity(mats, et.trace.seq, 0), et.trace.seq, 0);
  scores[0] = 0;
  return tokenAttribution('rollout', et.tokens, scores, et.qoi.describe, { layer: mats.length - 1, meta: { target: et.target } });
}

/**
 * Full LRP of one example ({@link fullLrpFromTrace} on its own trace).
 * @throws Error as {@link explainTrace} and {@link relevancePass}.
 */
export function fullLrp(model: Bert, example: ExampleInput, opts: ExplainTraceOptions & RelevanceOptions = {}): TokenAttribution {
  return withExplainTrace(model, example, opts, (et) => fullLrpFromTrace(model, et, opts));
}

/**
 * LRP of the last layer's attention map for one example ({@link lrpLastLayerFromTrace}).
 * @throws Error as {@link explainTrace} and {@link relevancePass}.
 */
export function lrpLastLayer(model: Bert, example: ExampleInput, opts: ExplainTraceOptions & RelevanceOptions = {}): TokenAttribution {
  return withExplainTrace(model, example, opts, (et) => lrpLastLayerFromTrace(model, et, opts));
}
