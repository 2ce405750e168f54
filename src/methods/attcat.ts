/**
 * AttCAT, attentive class activation tokens (Qiang, Pan, Li, Hu & Lin 2022, "AttCAT: Explaining
 * Transformers via Attentive Class Activation Tokens", NeurIPS 2022, Eqs. 4–6; as Mask-LRP's
 * `Generator.AttCAT`):
 *
 *     CAT_l[i] = Σ_d (∂y_c/∂h_l[i, d]) · h_l[i, d]        (h_l = input of layer l, `blocks.l.hook_resid_pre`)
 *     AttCAT[i] = Σ_l  mean_{h, q} A_l[h, q, i] · CAT_l[i]
 *
 * (the attention weight of token i averaged over heads and queries, as the reference code's
 * `att.mean(dim=0).mean(dim=0)`).
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import { tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { attentionOfTrace, withExplainTrace, type ExplainTrace, type ExplainTraceOptions } from './lrp/explainTrace.js';

/**
 * AttCAT from a recorded trace (needs layer inputs and their gradients, and the attention patterns).
 * @returns `[seq]` importance (signed) for the explained class.
 */
export function attcatFromTrace(et: ExplainTrace): TokenAttribution {
  const { layers, heads, seq } = et.trace;
  const att = attentionOfTrace(et.trace);
  const scores = new Array<number>(seq).fill(0);
  for (let l = 0; l < layers; l++) {
    const h = et.trace.node(`blocks.${l}.hook_resid_pre`).dataSync();
    const g = et.residGrads[l].dataSync();
    const d = h.length / seq;
    const base = l * heads * seq * seq;
    for (let i = 0; i < seq; i++) {
      let cat = 0;
      for (let k = 0; k < d; k++) cat += g[i * d + k] * h[i * d + k];
      let a = 0;
      for (let hh = 0; hh < heads; hh++) for (let q = 0; q < seq; q++) a += att[base + hh * seq * seq + q * seq + i];
      scores[i] += cat * (a / (heads * seq));
    }
  }
  return tokenAttribution('attcat', et.tokens, scores, et.qoi.describe, { meta: { target: et.target } });
}

/**
 * AttCAT of one example (Qiang et al. 2022).
 * @throws Error as {@link explainTrace}.
 */
export function attcat(model: Bert, example: ExampleInput, opts: ExplainTraceOptions = {}): TokenAttribution {
  return withExplainTrace(model, example, opts, attcatFromTrace);
}
