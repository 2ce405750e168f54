/**
 * Raw attention (Abnar & Zuidema 2020, §2–3: the baseline "raw attention" maps): the attention
 * weights of one layer, one head or averaged over heads, read as token importance.
 *
 * @module
 */
import { checkPosition, layerMatrix, type AttentionStack, type HeadReduce } from './attentionTypes.js';

/**
 * Raw attention of one layer.
 *
 * @param layer 0-based transformer layer.
 * @param head a head index, or `'mean'` (default; the paper's raw attention averages the heads),
 *   `'max'` or `'min'`.
 * @returns `[seq, seq]` row-major (row i = how much position i attends to each position j).
 * @throws Error naming an unknown layer or head index.
 */
export function rawAttention(stack: AttentionStack, layer: number, head: HeadReduce = 'mean'): Float32Array {
  return layerMatrix(stack, layer, head);
}

/** Options of {@link rawTokenImportance}. */
export interface RawImportanceOptions {
  /** 0-based transformer layer; default the last one. */
  layer?: number;
  /** The output position whose attention row is read, e.g. 0 for [CLS] or the [MASK] position; default 0. */
  position?: number;
  /** A head index or a reduction; default `'mean'`. */
  head?: HeadReduce;
}

/**
 * Token importance from raw attention: the attention row of one output position at one layer
 * (the paper's "raw attention" curves, e.g. the [CLS] or [MASK] row of the last layer, Fig. 2–4).
 *
 * @returns `[seq]`: weight of each input position; sums to 1 for `'mean'` or a single head.
 * @throws Error naming an unknown layer, head or position.
 */
export function rawTokenImportance(stack: AttentionStack, opts: RawImportanceOptions = {}): Float32Array {
  const layer = opts.layer ?? stack.layers - 1;
  const position = opts.position ?? 0;
  checkPosition(stack, position, 'rawTokenImportance');
  const m = layerMatrix(stack, layer, opts.head ?? 'mean');
  return m.slice(position * stack.seq, (position + 1) * stack.seq);
}
