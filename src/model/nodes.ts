/**
 * Node names from short names, as TransformerLens's `utils.get_act_name`: `nodeName('pattern', 3)` →
 * `blocks.3.attn.hook_pattern`, `nodeName('resid_post', 0)` → `blocks.0.hook_resid_post`,
 * `nodeName('word')` → `embed.hook_word`. The full list of nodes and shapes is {@link NODE_NAMES}.
 *
 * @module
 */
import { IndexError, OptionError } from '../errors.js';
import { NODE_NAMES } from './types.js';

/** Short name → node-name template (`{l}` = layer). Aliases follow TransformerLens where it has one. */
const SHORT: Record<string, string> = {
  word: 'embed.hook_word',
  embed: 'embed.hook_word',
  embed_out: 'embed.hook_out',
  resid_pre: 'blocks.{l}.hook_resid_pre',
  q: 'blocks.{l}.attn.hook_q',
  k: 'blocks.{l}.attn.hook_k',
  v: 'blocks.{l}.attn.hook_v',
  scores: 'blocks.{l}.attn.hook_scores',
  attn_scores: 'blocks.{l}.attn.hook_scores',
  pattern: 'blocks.{l}.attn.hook_pattern',
  attn: 'blocks.{l}.attn.hook_pattern',
  z: 'blocks.{l}.attn.hook_z',
  result: 'blocks.{l}.attn.hook_result',
  attn_out: 'blocks.{l}.hook_attn_out',
  resid_mid: 'blocks.{l}.hook_resid_mid',
  pre: 'blocks.{l}.mlp.hook_pre',
  mlp_pre: 'blocks.{l}.mlp.hook_pre',
  post: 'blocks.{l}.mlp.hook_post',
  mlp_post: 'blocks.{l}.mlp.hook_post',
  mlp_out: 'blocks.{l}.hook_mlp_out',
  resid_post: 'blocks.{l}.hook_resid_post',
  pooler: 'pooler.hook_out',
  logits: 'head.hook_logits',
};

/** The short names {@link nodeName} accepts. */
export const SHORT_NODE_NAMES: readonly string[] = Object.keys(SHORT);

/**
 * The full name of a node from a short name and a layer (TransformerLens `get_act_name`).
 *
 * @param name a short name (`'pattern'`, `'resid_post'`, `'result'`, `'mlp_out'`, `'word'`, …; see
 *   {@link SHORT_NODE_NAMES}) or a full node name (returned as is, with `{l}` filled in).
 * @param layer 0-based layer, required for `blocks.*` nodes.
 * @param layers the model's number of layers, to check `layer` (optional; pass `model.layers`).
 * @returns e.g. `blocks.3.attn.hook_pattern`.
 * @throws OptionError for an unknown name or a missing layer; IndexError for a layer outside `0..layers-1`.
 */
export function nodeName(name: string, layer?: number, layers?: number): string {
  const template = SHORT[name] ?? ((NODE_NAMES as readonly string[]).includes(name) ? name : undefined);
  if (!template) {
    if (/^blocks\.\d+\./.test(name) || (NODE_NAMES as readonly string[]).includes(name)) return name;
    throw new OptionError(`unknown node "${name}" (short names: ${SHORT_NODE_NAMES.join(', ')}; full names: NODE_NAMES)`);
  }
  if (!template.includes('{l}')) return template;
  if (layer === undefined) throw new OptionError(`node "${name}" is in a layer: give the layer (nodeName('${name}', 0))`);
  if (!Number.isInteger(layer) || layer < 0 || (layers !== undefined && layer >= layers)) {
    throw new IndexError(`layer ${layer} is outside 0..${layers === undefined ? '∞' : layers - 1} (node "${name}")`);
  }
  return template.replace('{l}', String(layer));
}
