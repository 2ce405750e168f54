/**
 * Attention patterns of one example as plain typed arrays, shared by the attention-based methods
 * (raw attention, attention rollout, attention flow; Abnar & Zuidema 2020, "Quantifying Attention
 * Flow in Transformers", arXiv 2005.00928).
 *
 * Layout: `[layers, heads, seq, seq]` row-major. Row = query position (the token that attends,
 * FROM), column = key position (the token attended TO). Each row is a softmax output and sums to 1.
 *
 * @module
 */
import { IndexError } from '../errors.js';

/** The self-attention probabilities of one example, `[layers, heads, seq, seq]` row-major. */
export interface AttentionStack {
  layers: number;
  heads: number;
  seq: number;
  /** `[layers, heads, seq, seq]`, row = query (from), column = key (to). */
  data: Float32Array;
}

/**
 * How the heads of one layer are combined into one `[seq, seq]` matrix: `'mean'` (the paper and
 * the reference code, `att_mat.sum(axis=1) / heads`), `'max'` / `'min'` (element-wise over heads,
 * as the `head_fusion` options of the common rollout implementations), or a head index.
 */
export type HeadReduce = 'mean' | 'max' | 'min' | number;

/** Options of {@link attentionStack}. */
export interface AttentionStackOptions {
  /**
   * When given, also check that every row sums to 1 within this absolute tolerance
   * (e.g. `1e-3` for float32 softmax output). Default: not checked.
   */
  rowSumTol?: number;
}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`attentionStack: ${name} must be a positive integer, got ${v}`);
}

/**
 * Wraps and validates attention probabilities.
 *
 * @param data `[layers, heads, seq, seq]` row-major (row = query/from, column = key/to); a
 *   `Float32Array` is used as is (not copied), anything else array-like is copied into one.
 * @returns an {@link AttentionStack} sharing `data`.
 * @throws Error when a dimension is not a positive integer, when `data.length` is not
 *   `layers·heads·seq·seq`, when an entry is NaN, infinite or negative (the message gives the
 *   layer/head/row/column), or (with `rowSumTol`) when a row does not sum to 1.
 */
export function attentionStack(
  data: Float32Array | ArrayLike<number>,
  layers: number,
  heads: number,
  seq: number,
  opts: AttentionStackOptions = {},
): AttentionStack {
  checkDim('layers', layers);
  checkDim('heads', heads);
  checkDim('seq', seq);
  const n = layers * heads * seq * seq;
  if (data.length !== n) {
    throw new Error(`attentionStack: data has length ${data.length}, expected layers·heads·seq·seq = ${layers}·${heads}·${seq}·${seq} = ${n}`);
  }
  const arr = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  const where = (idx: number): string => {
    const c = idx % seq;
    const r = Math.floor(idx / seq) % seq;
    const h = Math.floor(idx / (seq * seq)) % heads;
    const l = Math.floor(idx / (seq * seq * heads));
    return `layer ${l}, head ${h}, row ${r}, column ${c}`;
  };
  for (let i = 0; i < n; i++) {
    const v = arr[i];
    if (!Number.isFinite(v)) throw new Error(`attentionStack: data has a non-finite value (${v}) at ${where(i)}`);
    if (v < 0) throw new Error(`attentionStack: data has a negative value (${v}) at ${where(i)}`);
  }
  if (opts.rowSumTol !== undefined) {
    for (let r = 0; r < n; r += seq) {
      let s = 0;
      for (let c = 0; c < seq; c++) s += arr[r + c];
      if (Math.abs(s - 1) > opts.rowSumTol) throw new Error(`attentionStack: row sums to ${s}, not 1 (± ${opts.rowSumTol}), at ${where(r)}`);
    }
  }
  return { layers, heads, seq, data: arr };
}

/**
 * Throws unless `layer` is an integer in `[0, stack.layers)`.
 * @throws Error naming the bad layer index and the valid range; `what` prefixes the message.
 */
export function checkLayer(stack: AttentionStack, layer: number, what = 'layer'): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= stack.layers) {
    throw new IndexError(`${what}: unknown layer index ${layer} (the stack has layers 0..${stack.layers - 1})`);
  }
}

/**
 * Throws unless `head` is an integer in `[0, stack.heads)`.
 * @throws Error naming the bad head index and the valid range; `what` prefixes the message.
 */
export function checkHead(stack: AttentionStack, head: number, what = 'head'): void {
  if (!Number.isInteger(head) || head < 0 || head >= stack.heads) {
    throw new IndexError(`${what}: unknown head index ${head} (the stack has heads 0..${stack.heads - 1})`);
  }
}

/**
 * Throws unless `pos` is an integer in `[0, stack.seq)`.
 * @throws Error naming the bad position and the valid range; `what` prefixes the message.
 */
export function checkPosition(stack: AttentionStack, pos: number, what = 'position'): void {
  if (!Number.isInteger(pos) || pos < 0 || pos >= stack.seq) {
    throw new IndexError(`${what}: unknown token position ${pos} (the sequence has positions 0..${stack.seq - 1})`);
  }
}

/**
 * One layer's heads combined into a single matrix, in float64 (for the methods' internals).
 *
 * @param layer 0-based transformer layer.
 * @param reduce see {@link HeadReduce}; default `'mean'`.
 * @returns `[seq, seq]` row-major (row = from, column = to).
 * @throws Error on an unknown layer or head index, or an unknown `reduce` value.
 */
export function reduceHeads(stack: AttentionStack, layer: number, reduce: HeadReduce = 'mean'): Float64Array {
  checkLayer(stack, layer, 'reduceHeads');
  const { heads, seq, data } = stack;
  const ss = seq * seq;
  const base = layer * heads * ss;
  const out = new Float64Array(ss);
  if (typeof reduce === 'number') {
    checkHead(stack, reduce, 'reduceHeads');
    const off = base + reduce * ss;
    for (let i = 0; i < ss; i++) out[i] = data[off + i];
    return out;
  }
  if (reduce === 'mean') {
    for (let h = 0; h < heads; h++) {
      const off = base + h * ss;
      for (let i = 0; i < ss; i++) out[i] += data[off + i];
    }
    for (let i = 0; i < ss; i++) out[i] /= heads;
  } else if (reduce === 'max' || reduce === 'min') {
    const isMax = reduce === 'max';
    for (let i = 0; i < ss; i++) out[i] = data[base + i];
    for (let h = 1; h < heads; h++) {
      const off = base + h * ss;
      for (let i = 0; i < ss; i++) {
        const v = data[off + i];
        if (isMax ? v > out[i] : v < out[i]) out[i] = v;
      }
    }
  } else {
    throw new IndexError(`reduceHeads: unknown head reduction ${String(reduce)} (use 'mean', 'max', 'min' or a head index)`);
  }
  return out;
}

/**
 * Attention of one layer: one head, or the heads combined.
 *
 * @param layer 0-based transformer layer.
 * @param head a head index, or a {@link HeadReduce} (default `'mean'`, the paper's raw attention).
 * @returns `[seq, seq]` row-major float32 (row = from, column = to).
 * @throws Error on an unknown layer or head index.
 */
export function layerMatrix(stack: AttentionStack, layer: number, head: HeadReduce = 'mean'): Float32Array {
  return Float32Array.from(reduceHeads(stack, layer, head));
}

/**
 * The mean over heads of every layer (the attention graph's weights before the residual; §2 of the
 * paper averages heads: "we average the attention weights of all heads").
 *
 * @returns `[layers, seq, seq]` row-major float32 (accumulated in float64).
 */
export function headAverage(stack: AttentionStack): Float32Array {
  const { layers, seq } = stack;
  const ss = seq * seq;
  const out = new Float32Array(layers * ss);
  for (let l = 0; l < layers; l++) out.set(reduceHeads(stack, l, 'mean'), l * ss);
  return out;
}
