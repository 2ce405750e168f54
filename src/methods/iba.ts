/**
 * Information bottleneck attribution (IBA) for transformers.
 *
 * Jiang, Tang, Xin & Lin 2020, "Inserting Information Bottlenecks for Attribution in Transformers"
 * (EMNLP Findings, arXiv 2012.13838), after Schulz et al. 2020 ("Restricting the Flow", ICLR). A
 * bottleneck replaces the hidden states R `[seq, hidden]` at one layer by a noisy version
 *
 *     Z = λ ⊙ R + (1 − λ) ⊙ ε,   ε ~ N(μ, σ²),   λ = sigmoid(α)  (one α per token and hidden unit),
 *
 * and α (initialised to 5, λ ≈ 0.993) is trained for a few Adam steps to minimise
 *
 *     L = CE(target class | Z) + β · mean_{i,d} KL( P(Z_{i,d} | R) ‖ N(μ_d, σ_d²) ).
 *
 * In units of σ (r = (R − μ)/σ, z = (Z − μ)/σ) P(z | r) = N(λr, (1 − λ)²) and the prior is N(0, 1), so
 *
 *     KL = ½ [ (1 − λ)² + (λ r)² − 1 − log (1 − λ)² ]     (nats; 0 exactly when λ = 0),
 *
 * (Schulz et al. Eq. 4, as the reference `_calc_capacity(λr, log (1 − λ)²)`). The attribution of token
 * i is Σ_d KL_{i,d} after training (the information, in nats, the bottleneck lets through at that
 * token), min–max scaled to [0, 1] as the reference `bert_heatmap`.
 *
 * Defaults are the paper's: Adam (β₁ 0.9, β₂ 0.999, ε 1e-8, PyTorch's), lr 1, 10 steps, β = 1e-5,
 * 10 noise samples per step (one batch), the true or predicted class as target.
 *
 * **μ and σ.** The theory (Schulz et al. §3.1) takes the prior N(μ, σ²) from the distribution of R over
 * data: pass {@link FeatureStats} estimated over many examples ({@link estimateFeatureStats}). The
 * reference code (`bazingagin/IBA`, `methods.initialize_reader`) instead feeds its estimator the one
 * example being explained, so μ = R (per token and unit) and σ = sqrt(1e-5) ≈ 0.003: then r = 0, the
 * noise is tiny and the KL term no longer depends on R. That behaviour is `stats: 'single-example'`.
 * The reference code also reads those statistics at the *input* of layer l (`hidden_states[l]`) while
 * the bottleneck sits at its output, so its r = (output − input of layer l)/σ is not 0: that exact
 * behaviour is `stats: 'reference'` (μ = the example's hidden state entering layer l, σ = √1e-5).
 *
 * **Where.** Layer l puts the bottleneck on `blocks.{l}.hook_resid_post`, the output of encoder layer l
 * (where the reference inserts it, after `encoder.layer[l]`; its default l = 8 of 12). Any other
 * `[batch, seq, hidden]` node can be named with `node` (e.g. `embed.hook_out`). All runs go through the
 * instrumented forward, the bottleneck being a hook.
 *
 * Differences from the reference: the final KL is computed with the trained α (the reference reports
 * the KL of the last forward pass, before the last Adam update); its statistics are read at the input
 * of layer l but the bottleneck sits at its output — here both are at the same node, except with
 * `stats: 'reference'`.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import { argmax } from '../model/classify.js';
import type { ForwardOptions } from '../model/types.js';
import { splitModel, toExample, type ModelWithTokenizer } from './explainer.js';
import { estimateFeatureStats, STD_EPS, type FeatureStats } from './featureStats.js';
import { exampleTokens, tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { IndexError, OptionError } from '../errors.js';

/** Options of {@link iba}. */
export interface IbaOptions {
  /** Encoder layer whose output gets the bottleneck (default ⌊0.75·L⌋ − 1, the reference's 8 of 12; 0 for 2 layers). */
  layer?: number;
  /** Any `[batch, seq, hidden]` node instead of `layer` (e.g. `embed.hook_out`). */
  node?: string;
  /**
   * Prior statistics: per-unit μ, σ over a data set (theory; a {@link FeatureStats} or a map node →
   * stats), or `'single-example'` (the reference code: μ = R, σ = sqrt(1e-5)). Required.
   */
  stats: FeatureStats | Map<string, FeatureStats> | 'single-example' | 'reference';
  /** Weight of the information term (default 1e-5). */
  beta?: number;
  /** Adam steps (default 10). */
  steps?: number;
  /** Adam learning rate (default 1). */
  lr?: number;
  /** Noise samples per step, one batch (default 10). */
  samples?: number;
  /** Initial α (default 5). */
  initAlpha?: number;
  /** Class explained (default: the model's predicted class). */
  target?: number;
  /** Seed of the noise (default 0). */
  seed?: number;
  /** Passed to every forward pass. */
  forward?: ForwardOptions;
}

/** What {@link iba} returns beyond the scores (in `meta`). */
export interface IbaMeta {
  node: string;
  layer: number | null;
  target: number;
  beta: number;
  steps: number;
  lr: number;
  samples: number;
  stats: 'dataset' | 'single-example' | 'reference';
  /** `[seq]` Σ_d KL per token, nats (before scaling). */
  capacity: number[];
  /** Loss per step: cross-entropy and mean KL. */
  ce: number[];
  kl: number[];
}

/** The default bottleneck layer for a model with `layers` layers: ⌊0.75·L⌋ − 1 (8 for 12, 0 for 2). */
export function defaultIbaLayer(layers: number): number {
  return Math.max(0, Math.floor(0.75 * layers) - 1);
}

/** The node of layer `l`'s bottleneck: `blocks.{l}.hook_resid_post`. @throws RangeError for an unknown layer. */
export function ibaNode(model: Bert, layer: number): string {
  model.checkLayerHead(layer);
  return `blocks.${layer}.hook_resid_post`;
}

/**
 * KL divergence per unit between the bottleneck's P(Z | R) and the prior N(μ, σ²), in nats:
 * ½[(1 − λ)² + (λr)² − 1 − log (1 − λ)²] with r = (R − μ)/σ (Schulz et al. 2020, Eq. 4).
 *
 * @param lambda λ ∈ [0, 1) (any shape); @param rNorm r, broadcastable to `lambda`.
 * @returns same shape as `lambda`; 0 where λ = 0. The log variance is clamped to [−10, 10] as the
 *   reference (`_sample_t`/`_calc_capacity`), so λ → 1 gives a finite value.
 */
export function bottleneckKl(lambda: tf.Tensor, rNorm: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const mu = tf.mul(lambda, rNorm);
    const logVar = tf.clipByValue(tf.mul(2, tf.log(tf.sub(1, lambda))), -10, 10);
    return tf.mul(-0.5, tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar)));
  });
}

function resolveStats(
  stats: IbaOptions['stats'],
  node: string,
  D: number,
): { kind: 'dataset' | 'single-example' | 'reference'; mean?: Float32Array; std?: Float32Array } {
  if (stats === 'single-example' || stats === 'reference') return { kind: stats };
  if (!stats)
    throw new Error(
      "iba: options.stats is required: per-unit statistics from estimateFeatureStats(model, examples, [node]) (the theory), or 'single-example' (the reference code)",
    );
  const s = stats instanceof Map ? stats.get(node) : stats;
  if (!s) throw new Error(`iba: no statistics for node ${node} (have: ${[...(stats as Map<string, FeatureStats>).keys()].join(', ')})`);
  if (!(stats instanceof Map) && s.node !== node) throw new Error(`iba: statistics are for node ${s.node}, the bottleneck is at ${node}`);
  if (s.mean.length !== D || s.std.length !== D) throw new Error(`iba: statistics must be [${D}] per unit, got mean [${s.mean.length}], std [${s.std.length}]`);
  return { kind: 'dataset', mean: s.mean, std: s.std };
}

/**
 * IBA attribution of one example (Jiang et al. 2020, §3; Schulz et al. 2020, Eq. 2–4).
 *
 * @param m a model (with its tokenizer when `input` is text: what `loadModel` returns).
 * @param input raw text (tokenised with `[CLS]`/`[SEP]`) or one sequence `ids` `[seq]`.
 * @returns method `'iba'`, `scores` `[seq]` in [0, 1] (min–max scaled Σ_d KL), `layer`, `sanity`
 *   `{name: 'target_prob', value: p(target) through the bottleneck at the last step, mean over noise samples}`,
 *   `meta` an {@link IbaMeta} (raw capacity in nats, losses per step).
 * @throws Error for empty text/input, missing or mismatched statistics, an unknown layer, a model
 *   without a classifier head, a target outside the classes, or non-positive steps/samples.
 */
export function iba(m: Bert | ModelWithTokenizer, input: string | ExampleInput, opts: IbaOptions): TokenAttribution {
  const { model, tokenizer } = splitModel(m);
  const ex = toExample(model, input, tokenizer);
  if (ex.ids.length === 0) throw new Error('iba: empty input (no token ids)');
  if (model.head !== 'classifier') throw new Error(`iba needs a sequence classifier (cross-entropy on a class), the model has the "${model.head}" head`);
  const tokens = exampleTokens(ex);
  const seq = ex.ids.length;
  const D = model.config.hiddenSize;
  const layer = opts.node ? null : (opts.layer ?? defaultIbaLayer(model.layers));
  const node = opts.node ?? ibaNode(model, layer as number);
  const beta = opts.beta ?? 1e-5;
  const steps = opts.steps ?? 10;
  const lr = opts.lr ?? 1;
  const B = opts.samples ?? 10;
  const seed = opts.seed ?? 0;
  for (const [k, v] of [
    ['steps', steps],
    ['samples', B],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new OptionError(`iba: ${k} must be a positive integer, got ${v}`);
  if (!(beta >= 0) || !(lr > 0)) throw new OptionError(`iba: beta must be ≥ 0 and lr > 0 (got beta ${beta}, lr ${lr})`);
  const st = resolveStats(opts.stats, node, D);
  const fwd = opts.forward ?? {};
  const numLabels = model.config.numLabels;
  const one = { ids: [ex.ids], tokenTypeIds: ex.tokenTypeIds && [ex.tokenTypeIds], attentionMask: ex.attentionMask && [ex.attentionMask] };
  // The clean run: the node's activation R and the predicted class.
  // 'reference': μ is the example's hidden state at the layer's *input* (the reference code feeds its
  // estimator hidden_states[l] but inserts the bottleneck after encoder.layer[l]).
  if (st.kind === 'reference' && layer === null)
    throw new Error("iba: stats 'reference' needs a layer (the bottleneck after encoder layer l, μ from its input)");
  const inputNode = layer === null ? node : layer === 0 ? 'embed.hook_out' : `blocks.${layer - 1}.hook_resid_post`;
  const clean = model.forward(one, { ...fwd, record: st.kind === 'reference' ? [node, inputNode] : [node] });
  let R: tf.Tensor2D;
  let Rin: tf.Tensor2D | null = null;
  let target: number;
  try {
    const r = clean.node(node);
    if (st.kind === 'reference') Rin = tf.tidy(() => clean.node(inputNode).reshape([seq, D]) as tf.Tensor2D);
    if (r.rank !== 3 || r.shape[2] !== D) throw new Error(`iba: node ${node} is [${r.shape}], not [batch, seq, ${D}]`);
    R = tf.tidy(() => r.reshape([seq, D]) as tf.Tensor2D);
    const logits = clean.logits.dataSync();
    target = opts.target ?? argmax(logits);
  } finally {
    clean.dispose();
  }
  if (!Number.isInteger(target) || target < 0 || target >= numLabels) {
    R.dispose();
    Rin?.dispose();
    throw new IndexError(`iba: target class ${target} is outside 0..${numLabels - 1}`);
  }
  const rep = <T>(a: T[][] | undefined): T[][] | undefined => (a ? Array.from({ length: B }, () => a[0]) : undefined);
  const batch = { ids: Array.from({ length: B }, () => ex.ids), tokenTypeIds: rep(one.tokenTypeIds), attentionMask: rep(one.attentionMask) };
  // μ, σ as [seq or 1, D] tensors, and r = (R − μ)/σ.
  const [mu, sigma, rNorm] = tf.tidy(() => {
    const m0 = st.kind === 'single-example' ? R.clone() : st.kind === 'reference' ? (Rin as tf.Tensor2D).clone() : tf.tensor2d(st.mean as Float32Array, [1, D]);
    const s0 = st.kind === 'dataset' ? tf.tensor2d(st.std as Float32Array, [1, D]) : tf.fill([1, D], Math.sqrt(STD_EPS));
    return [m0, s0, tf.div(tf.sub(R, m0), s0)];
  });
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(new Array<number>(B).fill(target), 'int32'), numLabels));
  let alpha = tf.fill([seq, D], opts.initAlpha ?? 5) as tf.Tensor;
  let m1 = tf.zerosLike(alpha);
  let m2 = tf.zerosLike(alpha);
  const ce: number[] = [];
  const kl: number[] = [];
  /** Loss of one step with noise `eps` (unit normal, `[B, seq, D]`); also returns CE, KL and p(target). */
  const lossOf = (a: tf.Tensor, eps: tf.Tensor) => {
    const lambda = tf.sigmoid(a);
    const z = tf.add(tf.mul(tf.add(tf.mul(lambda, rNorm), tf.mul(tf.sub(1, lambda), eps)), sigma), mu); // [B, seq, D]
    const tr = model.forward(batch, { ...fwd, record: 'none', hooks: { ...fwd.hooks, [node]: () => z } });
    const logp = tf.logSoftmax(tr.logits, -1);
    const c = tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), -1)));
    const k = tf.mean(bottleneckKl(lambda, rNorm));
    const p = tf.mean(tf.exp(tf.sum(tf.mul(logp, onehot), -1)));
    return { loss: tf.add(c, tf.mul(beta, k)) as tf.Scalar, c, k, p };
  };
  let prob = NaN;
  let lastProb = NaN;
  try {
    const b1 = 0.9;
    const b2 = 0.999;
    for (let t = 1; t <= steps; t++) {
      const out = tf.tidy(() => {
        const eps = tf.randomNormal([B, seq, D], 0, 1, 'float32', seed * 1000 + t);
        let parts: { c: tf.Tensor; k: tf.Tensor; p: tf.Tensor } | null = null;
        const g = tf.grad((a: tf.Tensor) => {
          const r = lossOf(a, eps);
          parts = { c: tf.keep(r.c.clone()), k: tf.keep(r.k.clone()), p: tf.keep(r.p.clone()) };
          return r.loss;
        })(alpha);
        // Adam (Kingma & Ba 2015; PyTorch's defaults), bias-corrected.
        const nm1 = tf.add(tf.mul(b1, m1), tf.mul(1 - b1, g));
        const nm2 = tf.add(tf.mul(b2, m2), tf.mul(1 - b2, tf.square(g)));
        const mhat = tf.div(nm1, 1 - b1 ** t);
        const vhat = tf.div(nm2, 1 - b2 ** t);
        const na = tf.sub(alpha, tf.div(tf.mul(lr, mhat), tf.add(tf.sqrt(vhat), 1e-8)));
        const p = parts as unknown as { c: tf.Tensor; k: tf.Tensor; p: tf.Tensor };
        return { na, nm1, nm2, c: p.c, k: p.k, p: p.p };
      });
      ce.push(out.c.dataSync()[0] as number);
      kl.push(out.k.dataSync()[0] as number);
      lastProb = out.p.dataSync()[0] as number;
      tf.dispose([alpha, m1, m2, out.c, out.k, out.p]);
      alpha = out.na;
      m1 = out.nm1;
      m2 = out.nm2;
    }
    // Attribution with the trained α: Σ_d KL per token.
    const capT = tf.tidy(() => tf.sum(bottleneckKl(tf.sigmoid(alpha), rNorm), -1));
    const capacity = Array.from(capT.dataSync() as Float32Array);
    capT.dispose();
    prob = lastProb;
    const lo = Math.min(...capacity);
    const shifted = capacity.map((v) => v - lo);
    const hi = Math.max(...shifted);
    const scores = shifted.map((v) => (hi > 0 ? v / hi : 0));
    const meta: IbaMeta = { node, layer, target, beta, steps, lr, samples: B, stats: st.kind, capacity, ce, kl };
    return tokenAttribution('iba', tokens, scores, `p(class ${target})`, {
      ...(layer !== null ? { layer } : {}),
      sanity: { name: 'target_prob', value: prob },
      meta: meta as unknown as Record<string, unknown>,
    });
  } finally {
    tf.dispose([R, mu, sigma, rNorm, onehot, alpha, m1, m2]);
    Rin?.dispose();
  }
}

/** IBA at every layer of one example: plain data for the IBA layer plot (and widgets). */
export interface IbaLayerMap {
  tokens: string[];
  /** Row names, e.g. `embeddings`, `layer 1`, …; one per row of `scores`. */
  layers: string[];
  /** The node of each row. */
  nodes: string[];
  /** `[rows][seq]` scores in [0, 1] (each row min–max scaled). */
  scores: number[][];
  /** `[rows][seq]` Σ_d KL per token, nats. */
  capacity: number[][];
  target: number;
}

/**
 * IBA with the bottleneck at the embedding output (`embed.hook_out`, row `embeddings`) and at the
 * output of every encoder layer (`blocks.{l}.hook_resid_post`, row `layer l+1`), for the IBA layer plot
 * (Jiang et al. 2020, Fig. 2–3).
 *
 * @param opts as {@link iba} (without `layer`/`node`); `stats` a map with every node, or
 *   `'single-example'`; `examples` instead estimates the statistics of all nodes from those examples.
 * @returns an {@link IbaLayerMap} (`scores` `[L + 1][seq]`).
 * @throws what {@link iba} throws.
 */
export function ibaLayers(
  m: Bert | ModelWithTokenizer,
  input: string | ExampleInput,
  opts: Omit<IbaOptions, 'layer' | 'node' | 'stats'> & { stats?: IbaOptions['stats']; examples?: ExampleInput[] },
): IbaLayerMap {
  const { model, tokenizer } = splitModel(m);
  const ex = toExample(model, input, tokenizer);
  if (opts.stats === 'reference')
    throw new Error("ibaLayers: stats 'reference' has no statistics for the embedding row; use 'single-example' or data statistics");
  const nodes = ['embed.hook_out', ...Array.from({ length: model.layers }, (_, l) => `blocks.${l}.hook_resid_post`)];
  const stats = opts.stats ?? (opts.examples ? estimateFeatureStats(model, opts.examples, nodes) : undefined);
  if (!stats) throw new Error("ibaLayers: pass stats (a map node → statistics, or 'single-example') or examples to estimate them from");
  let target = opts.target;
  const rows = nodes.map((node) => {
    const a = iba(model, ex, { ...opts, stats, node, target });
    target = (a.meta as unknown as IbaMeta).target;
    return a;
  });
  return {
    tokens: rows[0].tokens,
    layers: ['embeddings', ...Array.from({ length: model.layers }, (_, l) => `layer ${l + 1}`)],
    nodes,
    scores: rows.map((r) => r.scores),
    capacity: rows.map((r) => (r.meta as unknown as IbaMeta).capacity),
    target: target as number,
  };
}
