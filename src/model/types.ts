/**
 * Types shared by the model, the instrumented forward pass and every attribution method.
 *
 * @module
 */
import type { tf } from '../backend/index.js';

/** Which task head the model carries. */
export type HeadKind = 'mlm' | 'classifier' | 'none';

/**
 * Input to the instrumented forward pass: a batch of token ids, or input embeddings instead.
 *
 * Shapes: `ids` `[batch][seq]`; `tokenTypeIds`, `attentionMask` the same; `inputsEmbeds`
 * `[batch, seq, hidden]` (replaces the word-embedding lookup, as HF's `inputs_embeds`; position and
 * token-type embeddings are still added).
 */
export interface ForwardInput {
  ids?: number[][] | tf.Tensor2D;
  inputsEmbeds?: tf.Tensor;
  tokenTypeIds?: number[][];
  /** 1 = attend, 0 = padding. Default: all ones. */
  attentionMask?: number[][];
}

/**
 * An intervention attached to a named node: receives the node's activation and returns the tensor
 * that replaces it downstream (return the input unchanged to only observe). It runs inside the
 * differentiable computation, so gradients flow through it.
 */
export type Hook = (activation: tf.Tensor, name: string) => tf.Tensor;

/** Options of one instrumented forward pass. */
export interface ForwardOptions {
  /**
   * Which named nodes to keep in the trace: `'all'`, a list of names or glob-like patterns
   * (`blocks.*.attn.hook_pattern`), or a predicate. Default: attention patterns and residual stream.
   */
  record?: 'all' | 'none' | string[] | ((name: string) => boolean);
  /** Interventions by node name (exact names; see {@link NODE_NAMES}). */
  hooks?: Record<string, Hook>;
  /**
   * Head mask `[layers][heads]` (or `[layers, heads]` tensor): multiplies each head's attention
   * probabilities, as Hugging Face's `head_mask` (0 removes the head, 1 keeps it; any scale allowed).
   */
  headMask?: number[][] | tf.Tensor2D;
  /** Compute each head's output after the output projection (`blocks.{l}.attn.hook_result`). */
  perHeadResults?: boolean;
  /** MLM head only: compute logits only at these positions (`[k]`), giving `[batch, k, vocab]`. */
  logitsAt?: number[];
  /**
   * MLM head only, for training: compute logits only at these flat positions of the batch
   * (`index = b·seq + s`), giving `[k, vocab]`. Overrides `logitsAt`.
   */
  logitsAtFlat?: tf.Tensor1D;
  /**
   * Training: weights receive gradients (slower backward). Default false: weights are constants and
   * gradients flow only to activations and interventions, through cached weight transposes.
   */
  trainWeights?: boolean;
  /** Dropout probability (training only); 0 or absent at analysis time. */
  dropout?: number;
}

/**
 * Names of the instrumented nodes, following TransformerLens's scheme adapted to BERT's post-LN block.
 * Shapes use `b` batch, `s` positions, `h` heads, `d` hidden, `dh` head size, `f` intermediate size.
 *
 * | name | shape | what |
 * |---|---|---|
 * | `embed.hook_word` | `[b, s, d]` | word embeddings (or `inputsEmbeds`) |
 * | `embed.hook_out` | `[b, s, d]` | LayerNorm(word + position + token type) = hidden_states[0] |
 * | `blocks.{l}.hook_resid_pre` | `[b, s, d]` | input of layer l = the skip (residual) stream |
 * | `blocks.{l}.attn.hook_q`/`hook_k`/`hook_v` | `[b, h, s, dh]` | projected queries, keys, values |
 * | `blocks.{l}.attn.hook_scores` | `[b, h, s, s]` | scaled, masked attention scores |
 * | `blocks.{l}.attn.hook_pattern` | `[b, h, s(query), s(key)]` | attention probabilities (after head mask) |
 * | `blocks.{l}.attn.hook_z` | `[b, h, s, dh]` | attention-weighted values per head |
 * | `blocks.{l}.attn.hook_result` | `[b, s, h, d]` | each head's output after the output projection (no bias) |
 * | `blocks.{l}.hook_attn_out` | `[b, s, d]` | attention output (sum of heads + bias) |
 * | `blocks.{l}.hook_resid_mid` | `[b, s, d]` | LayerNorm(resid_pre + attn_out) |
 * | `blocks.{l}.mlp.hook_pre` | `[b, s, f]` | intermediate pre-activation |
 * | `blocks.{l}.mlp.hook_post` | `[b, s, f]` | after GELU |
 * | `blocks.{l}.hook_mlp_out` | `[b, s, d]` | MLP output |
 * | `blocks.{l}.hook_resid_post` | `[b, s, d]` | LayerNorm(resid_mid + mlp_out) = hidden_states[l+1] |
 * | `pooler.hook_out` | `[b, d]` | tanh(dense(h[:, 0])) |
 * | `head.hook_logits` | `[b, s or k, vocab]` or `[b, labels]` | output logits |
 */
export const NODE_NAMES = [
  'embed.hook_word',
  'embed.hook_out',
  'blocks.{l}.hook_resid_pre',
  'blocks.{l}.attn.hook_q',
  'blocks.{l}.attn.hook_k',
  'blocks.{l}.attn.hook_v',
  'blocks.{l}.attn.hook_scores',
  'blocks.{l}.attn.hook_pattern',
  'blocks.{l}.attn.hook_z',
  'blocks.{l}.attn.hook_result',
  'blocks.{l}.hook_attn_out',
  'blocks.{l}.hook_resid_mid',
  'blocks.{l}.mlp.hook_pre',
  'blocks.{l}.mlp.hook_post',
  'blocks.{l}.hook_mlp_out',
  'blocks.{l}.hook_resid_post',
  'pooler.hook_out',
  'head.hook_logits',
] as const;
