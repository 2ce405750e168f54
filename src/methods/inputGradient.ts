/**
 * Input gradients (saliency) and gradient × input per token, on the input embeddings.
 *
 * Abnar & Zuidema 2020 (arXiv 2005.00928) §2 and Table 2 compare attention with "input gradients".
 * Their masked-LM script (samiraabnar/attention_flow, `run_bert_sv.py`) computes, for the QoI
 * p(correct verb) − p(wrong verb) at the `[MASK]`, the gradient g `[seq, hidden]` with respect to the
 * input embeddings and scores token i by the **absolute value of the sum over the hidden dimension**,
 * `|Σ_d g[i, d]|` ("grads"), and gradient × input by `|Σ_d g[i, d] · e[i, d]|` ("inputgrads").
 * Those are the defaults here (`reduce: 'abs-sum'`); `'l2'` (‖g_i‖₂, the common saliency norm),
 * `'l1'` and signed `'sum'` are options.
 *
 * The gradient is taken at the named node `embed.hook_word` (word embeddings, before position and
 * token-type embeddings and LayerNorm) by default. Note: the reference script passes DistilBERT's whole
 * embedding output as `inputs_embeds`, i.e. after position embeddings and LayerNorm — that is
 * `node: 'embed.hook_out'` here.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import type { QoI } from '../model/qoi.js';
import { gradientAt } from '../model/run.js';
import type { ForwardOptions } from '../model/types.js';
import { exampleTokens, tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';

/**
 * How the hidden dimension of a per-token vector v `[hidden]` is reduced to one score:
 * `'abs-sum'` |Σ_d v_d| (the reference code), `'sum'` Σ_d v_d (signed), `'l2'` ‖v‖₂, `'l1'` Σ_d |v_d|.
 */
export type HiddenReduce = 'abs-sum' | 'sum' | 'l2' | 'l1';

/** Options of {@link inputGradient} and {@link gradientTimesInput}. */
export interface InputGradientOptions {
  /** Default `'abs-sum'` (the reference code). */
  reduce?: HiddenReduce;
  /** Node whose activation is "the input": `'embed.hook_word'` (default) or `'embed.hook_out'`. */
  node?: 'embed.hook_word' | 'embed.hook_out';
  /** Passed to the forward pass (e.g. a `headMask` or other `hooks`). */
  forward?: ForwardOptions;
}

/** Both gradient attributions of one backward pass. */
export interface InputGradients {
  /** method `'input_gradient'`: reduce(∂QoI/∂e_i). */
  gradient: TokenAttribution;
  /** method `'grad_x_input'`: reduce(∂QoI/∂e_i ⊙ e_i). */
  gradientXInput: TokenAttribution;
}

const REDUCERS: Record<HiddenReduce, (x: tf.Tensor) => tf.Tensor> = {
  'abs-sum': (x) => tf.abs(tf.sum(x, -1)),
  sum: (x) => tf.sum(x, -1),
  l2: (x) => tf.sqrt(tf.sum(tf.square(x), -1)),
  l1: (x) => tf.sum(tf.abs(x), -1),
};

/**
 * Gradient and gradient × input of the QoI at the input embeddings, from one backward pass.
 *
 * With g = ∂QoI/∂e `[seq, hidden]` at `opts.node` and e the node's activation:
 * gradient_i = reduce(g_i), gradient×input_i = reduce(g_i ⊙ e_i) (`reduce` default |Σ_d ·|).
 * Summing the signed `'sum'` gradient × input over tokens gives the first-order (Taylor) estimate
 * of QoI(e) − QoI(0); it is not a completeness guarantee.
 *
 * @param input one sequence, `ids` `[seq]`.
 * @returns both attributions, `scores` `[seq]`, `sanity` `{name: 'qoi', value}`.
 * @throws Error for an unknown `reduce` or node, or what {@link gradientAt} throws (ids outside the
 *   vocabulary, a sequence longer than the position table).
 */
export function inputGradients(model: Bert, input: ExampleInput, qoi: QoI, opts: InputGradientOptions = {}): InputGradients {
  const reduce = opts.reduce ?? 'abs-sum';
  const f = REDUCERS[reduce];
  if (!f) throw new Error(`inputGradient: unknown reduce "${String(reduce)}" (use 'abs-sum', 'sum', 'l2' or 'l1')`);
  const node = opts.node ?? 'embed.hook_word';
  if (node !== 'embed.hook_word' && node !== 'embed.hook_out') {
    throw new Error(`inputGradient: node must be 'embed.hook_word' or 'embed.hook_out', got "${String(node)}"`);
  }
  const tokens = exampleTokens(input);
  const g = gradientAt(
    model,
    { ids: [input.ids], tokenTypeIds: input.tokenTypeIds && [input.tokenTypeIds], attentionMask: input.attentionMask && [input.attentionMask] },
    node,
    qoi,
    opts.forward,
  );
  try {
    const [gs, gxs] = tf.tidy(() => [f(g.grad).reshape([-1]), f(tf.mul(g.grad, g.value)).reshape([-1])]);
    const gradScores = gs.dataSync().slice();
    const gxScores = gxs.dataSync().slice();
    gs.dispose();
    gxs.dispose();
    const sanity = { name: 'qoi', value: g.qoi[0] };
    const meta = { node, reduce };
    return {
      gradient: tokenAttribution('input_gradient', tokens, gradScores, qoi.describe, { sanity, meta }),
      gradientXInput: tokenAttribution('grad_x_input', tokens, gxScores, qoi.describe, { sanity, meta }),
    };
  } finally {
    g.grad.dispose();
    g.value.dispose();
  }
}

/**
 * Input gradient per token: reduce_d(∂QoI/∂e[i, d]) (paper Table 2's "input gradients"; default
 * |Σ_d ·| as the reference code). See {@link inputGradients} for shapes and errors.
 */
export function inputGradient(model: Bert, input: ExampleInput, qoi: QoI, opts: InputGradientOptions = {}): TokenAttribution {
  return inputGradients(model, input, qoi, opts).gradient;
}

/**
 * Gradient × input per token: reduce_d(∂QoI/∂e[i, d] · e[i, d]) (the reference code's "inputgrads").
 * See {@link inputGradients} for shapes and errors.
 */
export function gradientTimesInput(model: Bert, input: ExampleInput, qoi: QoI, opts: InputGradientOptions = {}): TokenAttribution {
  return inputGradients(model, input, qoi, opts).gradientXInput;
}
