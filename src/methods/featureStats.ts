/**
 * Per-hidden-unit mean and standard deviation of a named node's activations over a set of examples,
 * estimated in one streaming pass (Welford 1962), for the information bottleneck's prior N(μ, σ²)
 * (Schulz et al. 2020, "Restricting the Flow: Information Bottlenecks for Attribution", ICLR, §3.1;
 * Jiang et al. 2020, arXiv 2012.13838, §3).
 *
 * Every real token (attention mask 1) of every example counts as one observation of each hidden unit;
 * padding is skipped. The standard deviation is the population one, floored as the reference code
 * (`bazingagin/IBA`, `Estimator.std`): σ = sqrt(max(M₂, 1e-5) / max(n, 1)), so dead units do not give σ = 0.
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import type { ExampleInput } from './result.js';
import { fitBatchSize } from '../backend/memory.js';
import { OptionError } from '../errors.js';

/** μ and σ of each hidden unit of one node, `[hidden]` each. */
export interface FeatureStats {
  node: string;
  mean: Float32Array;
  std: Float32Array;
  /** Number of observations (tokens) per unit. */
  count: number;
}

/** Floor of the sum of squared deviations in σ (the reference code's `eps`). */
export const STD_EPS = 1e-5;

/**
 * Welford's streaming mean and variance for a vector of `dim` units.
 * Numerically stable: one update per observation, no stored data.
 */
export class Welford {
  readonly dim: number;
  count = 0;
  private m: Float64Array;
  private m2: Float64Array;

  /** @throws RangeError when `dim` is not a positive integer. */
  constructor(dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new OptionError(`Welford: dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.m = new Float64Array(dim);
    this.m2 = new Float64Array(dim);
  }

  /**
   * Add one observation `x` `[dim]` (or `x.subarray(offset, offset + dim)`).
   * @throws RangeError when `x` is too short.
   */
  add(x: ArrayLike<number>, offset = 0): void {
    if (x.length < offset + this.dim) throw new OptionError(`Welford: observation has ${x.length - offset} values, expected ${this.dim}`);
    this.count++;
    const n = this.count;
    for (let d = 0; d < this.dim; d++) {
      const v = x[offset + d];
      const delta = v - this.m[d];
      this.m[d] += delta / n;
      this.m2[d] += delta * (v - this.m[d]);
    }
  }

  /** Mean `[dim]`. */
  mean(): Float32Array {
    return Float32Array.from(this.m);
  }

  /** Population standard deviation `[dim]`: sqrt(max(M₂, eps) / max(n, 1)). */
  std(eps = STD_EPS): Float32Array {
    const n = Math.max(this.count, 1);
    return Float32Array.from(this.m2, (s) => Math.sqrt(Math.max(s, eps) / n));
  }
}

/** Options of {@link estimateFeatureStats}. */
export interface FeatureStatsOptions {
  /** Examples per forward pass (default 32). */
  batchSize?: number;
  /** Called after each batch with the number of examples done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * μ and σ per hidden unit of each named node, over all real tokens of `examples`, in one streaming
 * pass per batch.
 *
 * @param nodes node names whose activations are `[batch, seq, hidden]` (e.g.
 *   `blocks.0.hook_resid_post`, `embed.hook_out`).
 * @returns node name → {@link FeatureStats} (`mean`, `std` `[hidden]`).
 * @throws Error for no examples, an empty example, or a node that is not `[batch, seq, hidden]`.
 */
export function estimateFeatureStats(
  model: Bert,
  examples: readonly ExampleInput[],
  nodes: readonly string[],
  opts: FeatureStatsOptions = {},
): Map<string, FeatureStats> {
  if (examples.length === 0) throw new Error('estimateFeatureStats: no examples');
  if (nodes.length === 0) throw new Error('estimateFeatureStats: no nodes');
  const D = model.config.hiddenSize;
  const bs = fitBatchSize(model.config, model.head, Math.max(1, ...examples.map((e) => e.ids.length)), opts.batchSize ?? 32, false, 'feature statistics');
  const acc = new Map(nodes.map((n) => [n, new Welford(D)] as const));
  for (let s = 0; s < examples.length; s += bs) {
    const chunk = examples.slice(s, s + bs);
    if (chunk.some((e) => e.ids.length === 0)) throw new Error('estimateFeatureStats: an example has no tokens');
    const len = Math.max(...chunk.map((e) => e.ids.length));
    const ids = chunk.map((e) => [...e.ids, ...new Array<number>(len - e.ids.length).fill(0)]);
    const mask = chunk.map((e) => Array.from({ length: len }, (_, j) => (j < e.ids.length ? (e.attentionMask?.[j] ?? 1) : 0)));
    const tt = chunk.some((e) => e.tokenTypeIds)
      ? chunk.map((e) => [...(e.tokenTypeIds ?? new Array<number>(e.ids.length).fill(0)), ...new Array<number>(len - e.ids.length).fill(0)])
      : undefined;
    const tr = model.forward({ ids, attentionMask: mask, tokenTypeIds: tt }, { record: nodes.slice() });
    try {
      for (const n of nodes) {
        const t = tr.node(n);
        if (t.rank !== 3 || t.shape[2] !== D) throw new Error(`estimateFeatureStats: node ${n} is [${t.shape}], not [batch, seq, ${D}]`);
        const data = t.dataSync();
        const w = acc.get(n) as Welford;
        for (let b = 0; b < chunk.length; b++) for (let j = 0; j < len; j++) if (mask[b][j]) w.add(data, (b * len + j) * D);
      }
    } finally {
      tr.dispose();
    }
    opts.onProgress?.(Math.min(examples.length, s + bs), examples.length);
  }
  return new Map([...acc].map(([n, w]) => [n, { node: n, mean: w.mean(), std: w.std(), count: w.count }]));
}
