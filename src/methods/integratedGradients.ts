/**
 * Integrated gradients (IG) on the input (word) embeddings.
 *
 * Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks" (ICML, arXiv 1703.01365),
 * Eq. 1: for input x, baseline x′ and quantity of interest F,
 *
 *     IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂F(x′ + α(x − x′))/∂x_i dα,
 *
 * approximated by a Riemann sum over `steps` points of the straight path (Eq. 3). Completeness
 * (Prop. 1): Σ_i IG_i = F(x) − F(x′); the gap |Σ_i IG_i − (F(x) − F(x′))| is returned as the result's
 * `sanity` figure, so the user sees whether `steps` was enough (as Captum's convergence delta).
 *
 * Here x is the word-embedding matrix `[seq, hidden]` (named node `embed.hook_word`, before position
 * and token-type embeddings and LayerNorm; fed to the instrumented forward as `inputsEmbeds`), and the
 * per-token score is the signed sum over the hidden dimension, Σ_d IG_{i,d} (Captum's usual reduction,
 * as in the IBA reference code `bazingagin/IBA`, `IntegratedGradient_.py`, which also uses the `[PAD]`
 * baseline with `[CLS]`/`[SEP]` kept). The token scores therefore sum to F(x) − F(x′).
 *
 * All path points run batched through {@link Bert.forward} (`batchSize` points a pass, fewer when
 * that would not fit the memory budget: `src/backend/memory.ts`), one backward pass per batch.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import type { QoI } from '../model/qoi.js';
import type { ForwardOptions } from '../model/types.js';
import type { SpecialIds } from '../io/tokenizer.js';
import { exampleTokens, tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { fitBatchSize } from '../backend/memory.js';
import { IndexError, OptionError } from '../errors.js';

/**
 * The baseline x′: every token (except kept `[CLS]`/`[SEP]`) replaced by `[PAD]` (`'pad'`, the IBA
 * reference code) or `[MASK]` (`'mask'`); the zero vector (`'zero'`, the paper's "black image"
 * analogue); baseline token ids (`{ids}`, `[seq]`); or baseline word embeddings (`{embeddings}`,
 * `[seq][hidden]`, used as given).
 */
export type IgBaseline = 'pad' | 'mask' | 'zero' | { ids: number[] } | { embeddings: number[][] };

/** Quadrature of the path integral: α points and weights on [0, 1] (weights sum to 1). */
export type IgRule = 'riemann-left' | 'riemann-right' | 'riemann-middle' | 'riemann-trapezoid';

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions {
  /** Default `'pad'` (the IBA reference code). */
  baseline?: IgBaseline;
  /** Ids of `[PAD]`, `[MASK]`, `[CLS]`, `[SEP]` (pass the tokenizer). */
  specialIds?: SpecialIds;
  /**
   * Keep `[CLS]`/`[SEP]` positions equal to the input in the baseline (default true, as the reference
   * code), so they receive zero attribution. Applies to `'pad'`, `'mask'` and `'zero'`.
   */
  keepSpecial?: boolean;
  /** Number of path points (default 50). */
  steps?: number;
  /** Quadrature rule (default `'riemann-trapezoid'`). */
  rule?: IgRule;
  /** Path points per forward/backward pass (default: all `steps` in one pass). */
  batchSize?: number;
  /** Passed to every forward pass (e.g. a `headMask`). */
  forward?: ForwardOptions;
}

/**
 * The α points and weights of a quadrature of ∫₀¹ f(α) dα with `steps` points.
 *
 * @returns `alphas` `[steps]` in [0, 1] and `weights` `[steps]` summing to 1.
 * @throws RangeError when `steps` is not a positive integer (≥ 2 for the trapezoid rule), or the rule is unknown.
 */
export function integrationPoints(steps: number, rule: IgRule = 'riemann-trapezoid'): { alphas: number[]; weights: number[] } {
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError(`integrated gradients: steps must be a positive integer, got ${steps}`);
  const n = steps;
  switch (rule) {
    case 'riemann-left':
      return { alphas: Array.from({ length: n }, (_, k) => k / n), weights: new Array<number>(n).fill(1 / n) };
    case 'riemann-right':
      return { alphas: Array.from({ length: n }, (_, k) => (k + 1) / n), weights: new Array<number>(n).fill(1 / n) };
    case 'riemann-middle':
      return { alphas: Array.from({ length: n }, (_, k) => (k + 0.5) / n), weights: new Array<number>(n).fill(1 / n) };
    case 'riemann-trapezoid': {
      if (n < 2) throw new OptionError('integrated gradients: the trapezoid rule needs steps ≥ 2');
      const w = new Array<number>(n).fill(1 / (n - 1));
      w[0] = w[n - 1] = 0.5 / (n - 1);
      return { alphas: Array.from({ length: n }, (_, k) => k / (n - 1)), weights: w };
    }
    default:
      throw new OptionError(`integrated gradients: unknown rule "${String(rule)}" (riemann-left, riemann-right, riemann-middle, riemann-trapezoid)`);
  }
}

/**
 * Baseline token ids: `ids` with every position replaced by `replacementId`, except `[CLS]`/`[SEP]`
 * when `keepSpecial`.
 *
 * @param ids `[seq]`. @returns `[seq]`.
 */
export function baselineIds(ids: readonly number[], replacementId: number, special: SpecialIds = {}, keepSpecial = true): number[] {
  return ids.map((t) => (keepSpecial && (t === special.clsId || t === special.sepId) ? t : replacementId));
}

/**
 * The word embeddings `[seq, hidden]` of a token-id row (a lookup in the model's word-embedding table,
 * no gradient).
 * @throws Error for an id outside the vocabulary.
 */
export function wordEmbeddings(model: Bert, ids: readonly number[]): tf.Tensor2D {
  const V = model.config.vocabSize;
  for (const t of ids) if (!Number.isInteger(t) || t < 0 || t >= V) throw new IndexError(`token id ${t} is outside the vocabulary (size ${V})`);
  return tf.tidy(() => tf.gather(model.params.get('embeddings.word_embeddings.weight'), tf.tensor1d(Array.from(ids), 'int32')) as tf.Tensor2D);
}

/**
 * The baseline word embeddings x′ `[seq, hidden]` for an input (see {@link IgBaseline}).
 *
 * @param ids the input's ids `[seq]`.
 * @returns a tensor the caller disposes, and a short name of the baseline for tables.
 * @throws Error when a named baseline lacks its id in `special`, or custom ids/embeddings have the wrong shape.
 */
export function baselineEmbeddings(
  model: Bert,
  ids: readonly number[],
  baseline: IgBaseline = 'pad',
  special: SpecialIds = {},
  keepSpecial = true,
): { embeddings: tf.Tensor2D; name: string } {
  const seq = ids.length;
  const D = model.config.hiddenSize;
  if (baseline === 'pad' || baseline === 'mask') {
    const id = baseline === 'pad' ? special.padId : special.maskId;
    if (id === undefined || !Number.isInteger(id) || id < 0) {
      throw new Error(`integrated gradients: baseline '${baseline}' needs specialIds.${baseline}Id (pass the tokenizer as specialIds)`);
    }
    return { embeddings: wordEmbeddings(model, baselineIds(ids, id, special, keepSpecial)), name: baseline === 'pad' ? '[PAD]' : '[MASK]' };
  }
  if (baseline === 'zero') {
    const e = wordEmbeddings(model, ids);
    const keep = ids.map((t) => (keepSpecial && (t === special.clsId || t === special.sepId) ? 1 : 0));
    const out = tf.tidy(() => tf.mul(e, tf.tensor2d(keep, [seq, 1])) as tf.Tensor2D);
    e.dispose();
    return { embeddings: out, name: 'zero' };
  }
  if (typeof baseline === 'object' && 'ids' in baseline) {
    if (baseline.ids.length !== seq) throw new Error(`integrated gradients: baseline ids have length ${baseline.ids.length}, the input ${seq}`);
    return { embeddings: wordEmbeddings(model, baseline.ids), name: 'custom ids' };
  }
  if (typeof baseline === 'object' && 'embeddings' in baseline) {
    const e = baseline.embeddings;
    if (e.length !== seq || e.some((r) => r.length !== D)) throw new Error(`integrated gradients: baseline embeddings must be [${seq}][${D}] (seq × hidden)`);
    return { embeddings: tf.tensor2d(e, [seq, D]), name: 'custom embeddings' };
  }
  throw new Error(`integrated gradients: unknown baseline ${JSON.stringify(baseline)} (use 'pad', 'mask', 'zero', {ids} or {embeddings})`);
}

/**
 * Points on the straight path from the baseline to the input: x′ + α_k (x − x′).
 *
 * @param x input `[...shape]`; @param xBaseline baseline, same shape; @param alphas `[k]`.
 * @returns `[k, ...shape]` (the caller disposes it).
 * @throws Error when the shapes differ.
 */
export function interpolatePath(x: tf.Tensor, xBaseline: tf.Tensor, alphas: readonly number[]): tf.Tensor {
  if (x.shape.join() !== xBaseline.shape.join()) throw new Error(`interpolatePath: input [${x.shape}] and baseline [${xBaseline.shape}] differ`);
  return tf.tidy(() => {
    const a = tf.tensor1d(Array.from(alphas)).reshape([alphas.length, ...x.shape.map(() => 1)]);
    return tf.add(xBaseline.expandDims(0), tf.mul(a, tf.sub(x, xBaseline).expandDims(0)));
  });
}

/**
 * Integrated gradients of a QoI with respect to the word embeddings (Sundararajan et al. 2017, Eq. 1
 * and 3), one score per token.
 *
 * @param input one sequence, `ids` `[seq]` (optional `tokenTypeIds`, `attentionMask` `[seq]`).
 * @param qoi the quantity explained, e.g. `classProb(target)`.
 * @returns method `'integrated_gradients'`, `scores` `[seq]` = Σ_d IG_{i,d} (signed; they sum to
 *   F(x) − F(x′) up to the quadrature error), `sanity` `{name: 'completeness_gap', value:
 *   |Σ_i scores_i − (F(x) − F(x′))|}`, `meta` `{baseline, steps, rule, fInput, fBaseline, sum}`.
 * @throws Error for an empty input, a baseline lacking its special id, bad `steps`/`rule`/`batchSize`,
 *   or what the forward pass throws (ids outside the vocabulary, too long a sequence).
 */
export function integratedGradients(model: Bert, input: ExampleInput, qoi: QoI, opts: IntegratedGradientsOptions = {}): TokenAttribution {
  const tokens = exampleTokens(input);
  const seq = input.ids.length;
  if (seq === 0) throw new Error('integrated gradients: empty input (no tokens)');
  const steps = opts.steps ?? 50;
  const rule = opts.rule ?? 'riemann-trapezoid';
  const { alphas, weights } = integrationPoints(steps, rule);
  const requested = opts.batchSize ?? steps;
  if (!Number.isInteger(requested) || requested < 1) throw new OptionError(`integrated gradients: batchSize must be a positive integer, got ${requested}`);
  // Path points per pass: as requested, split further to fit the memory budget (MemoryBudgetError
  // when one point does not fit).
  const batchSize = fitBatchSize(model.config, model.head, seq, Math.min(requested, steps), true, 'integrated gradients');
  const fwd = opts.forward ?? {};
  const keepSpecial = opts.keepSpecial ?? true;
  const x = wordEmbeddings(model, input.ids);
  let base: { embeddings: tf.Tensor2D; name: string };
  try {
    base = baselineEmbeddings(model, input.ids, opts.baseline ?? 'pad', opts.specialIds, keepSpecial);
  } catch (e) {
    x.dispose();
    throw e;
  }
  const xb = base.embeddings;
  const rows = <T>(a: T[] | undefined, n: number): T[][] | undefined => (a ? Array.from({ length: n }, () => a) : undefined);
  const F = (emb: tf.Tensor): tf.Tensor1D => {
    const n = emb.shape[0] as number;
    const tr = model.forward(
      { inputsEmbeds: emb, tokenTypeIds: rows(input.tokenTypeIds, n), attentionMask: rows(input.attentionMask, n) },
      { ...fwd, record: 'none', logitsAt: qoi.positions },
    );
    const v = qoi(tr.logits);
    return v;
  };
  try {
    // Weighted gradient sum over the path: Σ_k w_k ∂F/∂x(x′ + α_k (x − x′)), [seq, hidden].
    let acc = tf.zerosLike(x) as tf.Tensor;
    for (let s = 0; s < steps; s += batchSize) {
      const e = Math.min(steps, s + batchSize);
      const next = tf.tidy(() => {
        const pts = interpolatePath(x, xb, alphas.slice(s, e));
        const g = tf.grad((p: tf.Tensor) => F(p).sum())(pts); // [k, seq, hidden]
        const w = tf.tensor1d(weights.slice(s, e)).reshape([e - s, 1, 1]);
        return tf.add(acc, tf.sum(tf.mul(g, w), 0));
      });
      acc.dispose();
      acc = next;
    }
    const [scoresT, endsT] = tf.tidy(() => {
      const ig = tf.mul(tf.sub(x, xb), acc); // [seq, hidden]
      const ends = F(tf.stack([x, xb]));
      return [tf.sum(ig, -1), ends];
    });
    acc.dispose();
    const scores = Array.from(scoresT.dataSync() as Float32Array);
    const [fInput, fBaseline] = Array.from(endsT.dataSync() as Float32Array) as [number, number];
    scoresT.dispose();
    endsT.dispose();
    const sum = scores.reduce((a, b) => a + b, 0);
    const gap = Math.abs(sum - (fInput - fBaseline));
    return tokenAttribution('integrated_gradients', tokens, scores, qoi.describe, {
      sanity: { name: 'completeness_gap', value: gap },
      meta: { baseline: base.name, steps, rule, fInput, fBaseline, sum, keepSpecial },
    });
  } finally {
    x.dispose();
    xb.dispose();
  }
}
