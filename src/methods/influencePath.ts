/**
 * Path-integrated influence of internal nodes on a quantity of interest (QoI), and the influence of a
 * restricted set of paths: the primitives of influence patterns.
 *
 * Lu, Wang, Mardziel & Datta 2021, "Influence Patterns for Explaining Information Flow in BERT"
 * (NeurIPS 2021, arXiv 2011.00740), §3 (Eq. 1–3; reference code caleblu/influence-patterns,
 * `influence_extractor.py` and the stop-gradient masks of `official/nlp/modeling/networks/transformer_encoder.py`):
 *
 * - The input word embeddings move along the straight path e(α) = e′ + α (e − e′), α ∈ [0, 1], from a
 *   baseline e′ (`[MASK]` embedding by default; zero and `[PAD]` too; `[CLS]`/`[SEP]` keep their own
 *   embedding) to the input, sampled at α_k = k/res, k = 0..res (res + 1 points, one batched forward).
 * - The influence of the QoI y through a node n (activation `[seq, …]`) is
 *   I(n) = ∫₀¹ ∂y/∂n · dn/dα dα ≈ Σ_{k<res} ½(g_k + g_{k+1}) · (n_{k+1} − n_k)
 *   (trapezoid gradient × activation change between consecutive steps: no forward-mode autodiff).
 *   Without restriction the influences of all positions of a layer sum to y(input) − y(baseline)
 *   (completeness), up to an O(1/res) quadrature error.
 * - The influence of a set of paths G is the same integral with the gradient taken on the graph where
 *   gradients are stopped outside G (the reference code's `x·m + stop_gradient(x − x·m)`). Here:
 *   {@link stopGradient} (a `tf.customGrad` whose gradient is zero, tfjs having no stop_gradient op),
 *   attached by hooks of the one instrumented forward ({@link Bert.forward}) at named nodes:
 *   `embed.hook_out` (the source position; the embedding output, after position/type embeddings and
 *   LayerNorm, as the reference), `blocks.{l}.hook_resid_post` (the positions allowed at layer l's
 *   output), `blocks.{l}.attn.hook_result` (heads allowed) and the skip connection into layer l's first
 *   LayerNorm (see {@link restrictionHooks}). The influence is then read at the source:
 *   I(G) = Σ_k ½(g^G_k + g^G_{k+1}) · (h0_{k+1} − h0_k) at the source positions (exact path-set
 *   semantics: the restricted gradient is the sum over the allowed paths).
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import type { QoI } from '../model/qoi.js';
import { nodeShape } from '../model/run.js';
import type { ForwardInput, Hook } from '../model/types.js';
import { baselineEmbeddings, interpolatePath, wordEmbeddings } from './integratedGradients.js';
import type { SpecialIds } from '../io/tokenizer.js';
import type { ExampleInput } from './result.js';
import { IndexError, OptionError } from '../errors.js';

/** Baselines of the path: `[MASK]` (default, the paper), zero vector, or `[PAD]`. */
export type InfluenceBaseline = 'mask' | 'zero' | 'pad';

/** Options shared by every influence computation. */
export interface PathOptions {
  /** Number of intervals of the path (res + 1 points). Default 50 (the paper's `--alpha 50`). */
  res?: number;
  /** Default `'mask'`. */
  baseline?: InfluenceBaseline;
  /** `[MASK]`/`[PAD]`/`[CLS]`/`[SEP]` ids (a tokenizer fits structurally). `[CLS]`/`[SEP]` keep their embedding. */
  special?: SpecialIds;
}

/** Branches allowed into one layer's output node: the skip connection and/or some heads. */
export interface BranchSet {
  skip: boolean;
  /** 0-based heads. */
  heads: number[];
}

/**
 * A set of paths from the input to the QoI, by what each layer lets through (absent = everything).
 *
 * - `source`: input positions whose embedding-output node (`embed.hook_out`) the paths start at.
 * - `positions[l]`: positions allowed at layer l's output node (`blocks.{l}.hook_resid_post`).
 * - `branches[l]`: within layer l, whether paths may use the skip connection (resid_pre → first
 *   LayerNorm) and which heads (`attn.hook_result`); the MLP and LayerNorms that follow are position-wise
 *   and always kept (a node = the whole post-LN block output, as the paper's h_l).
 */
export interface PathRestriction {
  source?: number[] | null;
  positions?: (number[] | null | undefined)[];
  branches?: (BranchSet | null | undefined)[];
}

/** Identity whose gradient is zero (tfjs has no stop_gradient op). */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tfjs's customGrad typing (GradFunc over a variadic Tensor list) does not fit a one-tensor function; cast to the real signature
})) as any) as unknown as (x: tf.Tensor) => tf.Tensor;

/** `x·m + stop_gradient(x)·(1 − m)`: same value, gradient only where m = 1. */
export function maskGradient(x: tf.Tensor, m: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(x, m), tf.mul(stopGradient(x), tf.sub(1, m)));
}

/** A 0/1 indicator `[1, seq, 1]` (or `[1, 1, n, 1]` with `axis: 2`) of the allowed indices. */
export function indicator(n: number, allowed: readonly number[], shape: number[]): tf.Tensor {
  const v = new Float32Array(n);
  for (const i of allowed) v[i] = 1;
  return tf.tensor(v, shape);
}

/** Hooks on the same node applied in order. */
export function composeHooks(...maps: Record<string, Hook>[]): Record<string, Hook> {
  const out: Record<string, Hook> = {};
  for (const m of maps) {
    for (const [name, h] of Object.entries(m)) {
      const prev = out[name];
      out[name] = prev ? (x, n) => h(prev(x, n), n) : h;
    }
  }
  return out;
}

/**
 * Check a restriction against a model and a sequence length.
 * @throws RangeError naming the unknown layer, position or head.
 */
export function checkRestriction(model: Bert, seq: number, r: PathRestriction): void {
  const pos = (p: number, what: string) => {
    if (!Number.isInteger(p) || p < 0 || p >= seq) throw new IndexError(`${what}: position ${p} is outside 0..${seq - 1}`);
  };
  for (const p of r.source ?? []) pos(p, 'source');
  if ((r.positions?.length ?? 0) > model.layers) throw new OptionError(`positions given for ${r.positions?.length} layers, the model has ${model.layers}`);
  if ((r.branches?.length ?? 0) > model.layers) throw new OptionError(`branches given for ${r.branches?.length} layers, the model has ${model.layers}`);
  r.positions?.forEach((ps, l) => ps?.forEach((p) => pos(p, `layer ${l}`)));
  r.branches?.forEach((b, l) => b?.heads.forEach((h) => model.checkLayerHead(l, h)));
}

/**
 * Stop-gradient hooks that restrict the gradient to the paths of `r` (values are unchanged).
 *
 * The skip connection of layer l is cut inside the first residual sum LN(resid_pre + attn_out): the hook
 * on `hook_attn_out` returns attn_out + stop_gradient(resid_pre) − resid_pre, so the sum keeps its value
 * while its gradient no longer reaches resid_pre through the skip (it still does through Q, K, V).
 *
 * @param seq sequence length. @returns hooks by node name (compose with others via {@link composeHooks}).
 */
export function restrictionHooks(model: Bert, seq: number, r: PathRestriction): Record<string, Hook> {
  checkRestriction(model, seq, r);
  const H = model.heads;
  const hooks: Record<string, Hook> = {};
  if (r.source) {
    const src = r.source;
    hooks['embed.hook_out'] = (x) => maskGradient(x, indicator(seq, src, [1, seq, 1]));
  }
  r.positions?.forEach((ps, l) => {
    if (ps) hooks[`blocks.${l}.hook_resid_post`] = (x) => maskGradient(x, indicator(seq, ps, [1, seq, 1]));
  });
  r.branches?.forEach((b, l) => {
    if (!b) return;
    hooks[`blocks.${l}.attn.hook_result`] = (x) => maskGradient(x, indicator(H, b.heads, [1, 1, H, 1]));
    if (!b.skip) {
      let pre: tf.Tensor | null = null;
      hooks[`blocks.${l}.hook_resid_pre`] = (x) => {
        pre = x;
        return x;
      };
      hooks[`blocks.${l}.hook_attn_out`] = (x) => {
        if (!pre) throw new Error(`restrictionHooks: layer ${l} resid_pre was not seen before attn_out`);
        return tf.sub(tf.add(x, stopGradient(pre)), pre);
      };
    }
  });
  return hooks;
}

/** The straight path of one example: inputs of a batched forward, one row per α_k. */
export interface ExamplePath {
  /** `[res + 1, seq, hidden]` word embeddings e′ + α_k (e − e′). */
  embeddings: tf.Tensor3D;
  res: number;
  seq: number;
  baseline: string;
  /** Forward input for rows `[from, from + n)` of the path. */
  input(from?: number, n?: number): ForwardInput;
  dispose(): void;
}

/**
 * The interpolation path of an example (see the module comment).
 * @throws Error for an empty input, `res` not a positive integer, or a baseline lacking its special id.
 */
export function examplePath(model: Bert, example: ExampleInput, opts: PathOptions = {}): ExamplePath {
  const res = opts.res ?? 50;
  if (!Number.isInteger(res) || res < 1) throw new Error(`influence: res must be a positive integer, got ${res}`);
  const ids = example.ids;
  if (ids.length === 0) throw new Error('influence: empty input (no tokens)');
  const seq = ids.length;
  const kind = opts.baseline ?? 'mask';
  if (!['mask', 'zero', 'pad'].includes(kind)) throw new Error(`influence: unknown baseline "${String(kind)}" (use 'mask', 'zero' or 'pad')`);
  const x = wordEmbeddings(model, ids);
  const b = baselineEmbeddings(model, ids, kind, opts.special ?? {}, true);
  const alphas = Array.from({ length: res + 1 }, (_, k) => k / res);
  const embeddings = interpolatePath(x, b.embeddings, alphas) as tf.Tensor3D;
  x.dispose();
  b.embeddings.dispose();
  const slices = new Map<string, tf.Tensor>();
  return {
    embeddings,
    res,
    seq,
    baseline: b.name,
    input(from = 0, n = res + 1 - from) {
      const rows = (v?: number[]) => (v ? Array.from({ length: n }, () => v.slice()) : undefined);
      let rows3: tf.Tensor = embeddings;
      if (from !== 0 || n !== res + 1) {
        const key = `${from}:${n}`;
        if (!slices.has(key)) slices.set(key, embeddings.slice([from, 0, 0], [n, -1, -1]));
        rows3 = slices.get(key) as tf.Tensor;
      }
      return {
        inputsEmbeds: rows3,
        tokenTypeIds: rows(example.tokenTypeIds),
        attentionMask: rows(example.attentionMask),
      };
    },
    dispose() {
      embeddings.dispose();
      for (const t of slices.values()) t.dispose();
      slices.clear();
    },
  };
}

/** Thrown by a hook to end a forward pass early (caught by {@link runPath}). */
const STOP = new Error('flowlens: forward stopped after the last node needed');

/** Values and gradients captured by {@link runPath}. Dispose with {@link PathRun.dispose}. */
export interface PathRun {
  /** Node activations `[rows, …]` (after any hook). */
  values: Map<string, tf.Tensor>;
  /** ∂(Σ_rows QoI)/∂node, `[rows, …]` (downstream of the node's hooks). */
  grads: Map<string, tf.Tensor>;
  /** QoI per row. */
  qoi: number[];
  dispose(): void;
}

/**
 * One batched forward (and backward when `gradNodes` is not empty) over the rows of `input`, with
 * `hooks`, capturing the activations of `recordNodes` and the gradients at `gradNodes` (taken with
 * respect to an additive zero perturbation placed after the node's hooks). A forward-only run may stop
 * right after node `stopAfter` (the layers above it are not computed; `qoi` is then empty).
 *
 * @throws Error for an unknown node name.
 */
export function runPath(
  model: Bert,
  input: ForwardInput,
  qoi: QoI,
  hooks: Record<string, Hook>,
  recordNodes: string[],
  gradNodes: string[] = [],
  stopAfter?: string,
): PathRun {
  if (stopAfter !== undefined && (gradNodes.length || !recordNodes.includes(stopAfter))) {
    throw new Error(`runPath: stopAfter needs a forward-only run that records "${stopAfter}"`);
  }
  const values = new Map<string, tf.Tensor>();
  let qv: tf.Tensor | null = null;
  const nodes = [...new Set([...recordNodes, ...gradNodes])];
  const build = (deltas: tf.Tensor[]): tf.Scalar => {
    const hk: Record<string, Hook> = { ...hooks };
    for (const n of nodes) {
      const prev = hooks[n];
      const gi = gradNodes.indexOf(n);
      const rec = recordNodes.includes(n);
      hk[n] = (x, name) => {
        let y = prev ? prev(x, name) : x;
        if (gi >= 0) y = tf.add(y, deltas[gi] as tf.Tensor);
        if (rec) {
          values.get(n)?.dispose();
          values.set(n, tf.keep(y.clone()));
        }
        if (n === stopAfter) throw STOP;
        return y;
      };
    }
    const trace = model.forward(input, { record: 'none', hooks: hk, logitsAt: qoi.positions });
    const v = qoi(trace.logits);
    qv = tf.keep(v.clone());
    return v.sum() as tf.Scalar;
  };
  let grads: tf.Tensor[] = [];
  if (gradNodes.length) {
    const deltas = gradNodes.map((n) => tf.zeros(nodeShape(model, input, n)));
    try {
      grads = tf.tidy(() => tf.grads((...d: tf.Tensor[]) => build(d))(deltas));
    } finally {
      deltas.forEach((d) => d.dispose());
    }
  } else {
    try {
      tf.tidy(() => {
        build([]);
      });
    } catch (e) {
      if (e !== STOP) throw e;
    }
  }
  const qt = qv as tf.Tensor | null;
  const q = qt ? Array.from(qt.dataSync()) : [];
  qt?.dispose();
  const gm = new Map<string, tf.Tensor>(gradNodes.map((n, i) => [n, grads[i] as tf.Tensor]));
  return {
    values,
    grads: gm,
    qoi: q,
    dispose() {
      for (const t of values.values()) t.dispose();
      for (const t of gm.values()) t.dispose();
      values.clear();
      gm.clear();
    },
  };
}

/**
 * Σ over steps of ½(g_k + g_{k+1}) · Δ_k, summed over every axis after the position axis.
 *
 * @param delta `[res, seq, …]` activation changes Δ_k; @param grad `[res + 1, seq, …]` gradients g_k.
 * @param keepAxes how many axes after the step axis to keep (1: `[seq]`; 2: e.g. `[seq, heads]`).
 * @returns a flat `Float32Array` of the kept shape.
 */
export function trapezoidInfluence(delta: tf.Tensor, grad: tf.Tensor, keepAxes = 1): Float32Array {
  const res = delta.shape[0] as number;
  const out = tf.tidy(() => {
    const rest = grad.shape.slice(1);
    const g0 = grad.slice(0, res);
    const g1 = grad.slice(1, res);
    const gm = tf.mul(tf.add(g0, g1), 0.5);
    let p = tf.mul(gm, delta).sum(0);
    for (let a = rest.length - 1; a >= keepAxes; a--) p = p.sum(a);
    return p;
  });
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return v.slice();
}

/** Activation changes between consecutive path points, `[res, …]` from `[res + 1, …]`. */
export function consecutiveChanges(v: tf.Tensor): tf.Tensor {
  const n = v.shape[0] as number;
  return tf.tidy(() => tf.sub(v.slice(1, n - 1), v.slice(0, n - 1)));
}

/** Result of {@link layerInfluence}. */
export interface LayerInfluence {
  /** `[seq]`: influence through each position of the node (QoI units). */
  perPosition: number[];
  /** Σ perPosition. */
  total: number;
  qoiInput: number;
  qoiBaseline: number;
  /** |total − (qoiInput − qoiBaseline)|: the completeness gap (→ 0 as res grows). */
  completenessGap: number;
}

/**
 * Unrestricted influence of the QoI through every position of a node (Lu et al. 2021, Eq. 2 with the
 * whole graph): Σ_k ½(g_k + g_{k+1})·(n_{k+1} − n_k), summed over the node's feature axes.
 *
 * @param node any node with a position axis second, e.g. `embed.hook_out`, `blocks.2.hook_resid_post`,
 *   `blocks.2.attn.hook_result` (summed over heads).
 * @throws Error for an unknown node, an empty input, a bad `res` or baseline.
 */
export function layerInfluence(model: Bert, example: ExampleInput, qoi: QoI, node: string, opts: PathOptions = {}): LayerInfluence {
  const path = examplePath(model, example, opts);
  try {
    const run = runPath(model, path.input(), qoi, {}, [node], [node]);
    try {
      const d = consecutiveChanges(run.values.get(node) as tf.Tensor);
      const per = trapezoidInfluence(d, run.grads.get(node) as tf.Tensor);
      d.dispose();
      const perPosition = Array.from(per);
      const total = perPosition.reduce((a, b) => a + b, 0);
      const qoiInput = run.qoi[path.res] as number;
      const qoiBaseline = run.qoi[0] as number;
      return { perPosition, total, qoiInput, qoiBaseline, completenessGap: Math.abs(total - (qoiInput - qoiBaseline)) };
    } finally {
      run.dispose();
    }
  } finally {
    path.dispose();
  }
}

/** Result of {@link pathInfluence}. */
export interface PathInfluence {
  /** Influence of the restricted set of paths (QoI units), Σ over its source positions. */
  influence: number;
  /** `[seq]`: the same per source position (0 outside the source). */
  perSource: number[];
  qoiInput: number;
  qoiBaseline: number;
}

/**
 * Influence of a set of paths (Lu et al. 2021, Eq. 3): the path integral with gradients stopped
 * outside the paths, read at the source node `embed.hook_out` (one batched forward + backward).
 *
 * @param r the paths (see {@link PathRestriction}); no restriction = integrated gradients at the
 *   embedding output, whose sum over positions is y(input) − y(baseline).
 * @throws RangeError for a layer, position or head outside the model/sequence; Error as {@link examplePath}.
 */
export function pathInfluence(model: Bert, example: ExampleInput, qoi: QoI, r: PathRestriction = {}, opts: PathOptions = {}): PathInfluence {
  const seq = example.ids.length;
  const hooks = restrictionHooks(model, seq, r);
  const path = examplePath(model, example, opts);
  try {
    const node = 'embed.hook_out';
    const run = runPath(model, path.input(), qoi, hooks, [node], [node]);
    try {
      const d = consecutiveChanges(run.values.get(node) as tf.Tensor);
      const per = Array.from(trapezoidInfluence(d, run.grads.get(node) as tf.Tensor));
      d.dispose();
      const src = r.source ?? per.map((_, i) => i);
      const perSource = per.map((v, i) => (src.includes(i) ? v : 0));
      return { influence: perSource.reduce((a, b) => a + b, 0), perSource, qoiInput: run.qoi[path.res] as number, qoiBaseline: run.qoi[0] as number };
    } finally {
      run.dispose();
    }
  } finally {
    path.dispose();
  }
}

/**
 * Unrestricted influence through every position of every layer's output node
 * (`blocks.{l}.hook_resid_post`), from one batched forward + backward: the "layer-based" attribution
 * of each node (Lu et al. 2021 §5, the layer-based baseline: the highest-attribution node per layer).
 *
 * @returns `[layers][seq]` influences (each row sums to y(input) − y(baseline) up to the quadrature error).
 * @throws Error as {@link examplePath}.
 */
export function allLayerInfluences(model: Bert, example: ExampleInput, qoi: QoI, opts: PathOptions = {}): number[][] {
  const nodes = Array.from({ length: model.layers }, (_, l) => `blocks.${l}.hook_resid_post`);
  const path = examplePath(model, example, opts);
  try {
    const run = runPath(model, path.input(), qoi, {}, nodes, nodes);
    try {
      return nodes.map((n) => {
        const d = consecutiveChanges(run.values.get(n) as tf.Tensor);
        const v = Array.from(trapezoidInfluence(d, run.grads.get(n) as tf.Tensor));
        d.dispose();
        return v;
      });
    } finally {
      run.dispose();
    }
  } finally {
    path.dispose();
  }
}
