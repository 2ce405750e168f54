/**
 * Running a QoI through the instrumented forward: values, and gradients at any named node.
 *
 * These are the two primitives every gradient-based method (input gradients, integrated gradients,
 * influence patterns, gradient rollout) is built on; they share {@link Bert.forward}.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from './bert.js';
import type { QoI } from './qoi.js';
import type { ForwardInput, ForwardOptions, Hook } from './types.js';

/**
 * The QoI's value for each example of a batch.
 * @returns `[batch]` numbers.
 */
export function qoiValues(model: Bert, input: ForwardInput, qoi: QoI, options: ForwardOptions = {}): number[] {
  const trace = model.forward(input, { ...options, record: 'none', logitsAt: qoi.positions });
  try {
    const v = tf.tidy(() => qoi(trace.logits));
    const out = Array.from(v.dataSync());
    v.dispose();
    return out;
  } finally {
    trace.dispose();
  }
}

/** Result of {@link gradientAt}: the node's activation and ∂(Σ_batch QoI)/∂activation, same shape. */
export interface NodeGradient {
  value: tf.Tensor;
  grad: tf.Tensor;
  /** QoI per example, `[batch]`. */
  qoi: number[];
}

/**
 * Gradient of the QoI (summed over the batch, so each example's gradient is its own) with respect to
 * a named node's activation. Implemented as the gradient with respect to an additive zero
 * perturbation attached to the node by a hook, so it works for every node of {@link NODE_NAMES},
 * together with other interventions in `options.hooks`.
 *
 * @param node node name, e.g. `embed.hook_word` (input embeddings) or `blocks.3.hook_resid_post`.
 * @returns activation and gradient (caller disposes both) and the QoI values.
 * @throws Error for an unknown node name.
 */
export function gradientAt(model: Bert, input: ForwardInput, node: string, qoi: QoI, options: ForwardOptions = {}): NodeGradient {
  let captured: tf.Tensor | null = null;
  let qv: tf.Tensor | null = null;
  const userHook = options.hooks?.[node];
  const f = (delta: tf.Tensor): tf.Scalar => {
    const hook: Hook = (x, name) => {
      const base = userHook ? userHook(x, name) : x;
      captured = tf.keep(base.clone());
      return tf.add(base, delta);
    };
    const trace = model.forward(input, { ...options, record: 'none', hooks: { ...options.hooks, [node]: hook }, logitsAt: qoi.positions });
    const v = qoi(trace.logits);
    qv = tf.keep(v.clone());
    return v.sum() as tf.Scalar;
  };
  // First a shape probe: the node's shape is needed for the zero perturbation.
  const shape = nodeShape(model, input, node, options);
  const delta = tf.zeros(shape);
  const grad = tf.tidy(() => tf.grad(f)(delta));
  delta.dispose();
  const values = Array.from((qv as unknown as tf.Tensor).dataSync());
  (qv as unknown as tf.Tensor).dispose();
  return { value: captured as unknown as tf.Tensor, grad, qoi: values };
}

/** Shape of a node's activation for this input (from the model's dimensions, without running it). */
export function nodeShape(model: Bert, input: ForwardInput, node: string, options: ForwardOptions = {}): number[] {
  const c = model.config;
  let b: number;
  let s: number;
  if (input.inputsEmbeds) [b, s] = input.inputsEmbeds.shape as [number, number];
  else if (input.ids instanceof tf.Tensor) [b, s] = input.ids.shape;
  else if (input.ids) [b, s] = [input.ids.length, input.ids[0]?.length ?? 0];
  else throw new Error('forward needs ids or inputsEmbeds');
  const d = c.hiddenSize;
  const H = c.numAttentionHeads;
  const dh = d / H;
  const short = node.replace(/^blocks\.\d+\./, '');
  switch (short) {
    case 'embed.hook_word':
    case 'embed.hook_out':
    case 'hook_resid_pre':
    case 'hook_attn_out':
    case 'hook_resid_mid':
    case 'hook_mlp_out':
    case 'hook_resid_post':
      return [b, s, d];
    case 'attn.hook_q':
    case 'attn.hook_k':
    case 'attn.hook_v':
    case 'attn.hook_z':
      return [b, H, s, dh];
    case 'attn.hook_scores':
    case 'attn.hook_pattern':
      return [b, H, s, s];
    case 'attn.hook_result':
      return [b, s, H, d];
    case 'mlp.hook_pre':
    case 'mlp.hook_post':
      return [b, s, c.intermediateSize];
    case 'pooler.hook_out':
      return [b, d];
    default:
      void options;
      throw new Error(`gradientAt: no gradient for node "${node}" (see NODE_NAMES)`);
  }
}
