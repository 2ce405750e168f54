/**
 * Influence patterns (Lu, Wang, Mardziel & Datta 2021, "Influence Patterns for Explaining Information
 * Flow in BERT", NeurIPS 2021, arXiv 2011.00740): the path from one input token to the QoI that carries
 * the most influence, found by guided pattern refinement (GPR, paper §3.2, Appendix B.1; reference code
 * caleblu/influence-patterns, `InfluenceExtractor.get_greedy_influence`).
 *
 * 1. Embedding level. The pattern starts at the source token's embedding-output node and ends at the
 *    QoI position of the last layer. Layer by layer (l = 0 .. L−2) it keeps, among the positions of
 *    layer l's output node h_l, the one carrying the most influence given the nodes already chosen
 *    upstream (downstream: every path). Sign rule (reference code): when the total influence at the
 *    first layer is negative, the QoI's sign is flipped for the choices (the pattern then explains
 *    the evidence *against* the QoI), `sign = −1` in the result.
 * 2. Head level. With the embedding-level nodes fixed, layer by layer (l = 0 .. L−1) the influence into
 *    h_l[p_l] is split into the skip connection (resid_pre[p_l] → first LayerNorm) and each head's
 *    output at query p_l (`attn.hook_result`); the larger (after the sign) is kept, giving patterns such
 *    as skip → head 3 → skip → …. The split is exact at the first residual sum u = resid_pre + attn_out
 *    (linear: skip + Σ heads = node total there) and agrees with the influence at h_l (after the MLP
 *    and both LayerNorms) up to the O(1/res) quadrature error.
 *
 * Speed: each layer's choice needs the influence of every position of that layer. Gradients of every
 * position (and every layer) come from one backward pass over the res + 1 path points (no restriction
 * downstream at the embedding level; the pattern's positions at the head level); the restricted
 * activation change of every position comes from one forward pass of res rows in which every node
 * outside the chosen upstream nodes is patched to its value at the previous path point, so that only
 * the chosen paths change between consecutive points (a forward difference along the restricted graph,
 * which replaces the reference code's forward-mode `ForwardAccumulator`). The reported influence of the
 * final pattern is then recomputed exactly with stop-gradient hooks ({@link pathInfluence}).
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import type { QoI } from '../model/qoi.js';
import type { Hook } from '../model/types.js';
import {
  examplePath,
  indicator,
  pathInfluence,
  restrictionHooks,
  runPath,
  trapezoidInfluence,
  type BranchSet,
  type ExamplePath,
  type PathOptions,
  type PathRestriction,
} from './influencePath.js';
import { exampleTokens, type ExampleInput } from './result.js';
import { IndexError } from '../errors.js';

/** One layer of a pattern: the node h_layer[position] and the branch the pattern takes into it. */
export interface PatternStep {
  /** 0-based transformer layer. */
  layer: number;
  /** Position of the node at this layer's output (the query position of the chosen head). */
  position: number;
  /** Position of the pattern's node feeding this layer (the source token for layer 0). */
  fromPosition: number;
  /** `skip`: the residual connection (needs position === fromPosition); `head`: an attention head. */
  kind: 'skip' | 'head';
  /** 0-based head when `kind` is `head`. */
  head?: number;
  /** Influence through the chosen branch, given the pattern upstream (QoI units, QoI's own sign). */
  influence: number;
  /** Influence through the node h_layer[position] given the embedding-level pattern upstream. */
  nodeInfluence: number;
  /** The split of the node's influence: skip connection and each head `[heads]` (sum = node total at the residual sum). */
  skipInfluence: number;
  headInfluences: number[];
  /** Embedding level: influence of every position of this layer's output `[seq]` given the nodes chosen upstream. */
  candidates: number[];
}

/**
 * An influence pattern as plain data (JSON-ready; what the influence-pattern graph widget draws):
 * input token → one node per layer (skip or head) → the QoI position.
 */
export interface InfluencePattern {
  method: 'influence_pattern';
  /** `[seq]` input tokens. */
  tokens: string[];
  /** What is explained (the QoI's `describe`). */
  qoi: string;
  /** Input position the pattern starts at. */
  source: number;
  /** QoI position (the last layer's node). */
  output: number;
  layers: number;
  heads: number;
  /** Influence of the whole pattern (= `totals.patternInfluence`; the widget's field). */
  influence: number;
  /** −1 when the QoI's sign was flipped for the choices (negative total influence), else 1. */
  sign: 1 | -1;
  /** `[layers]` positions of the pattern's nodes (the last is `output`). */
  positions: number[];
  /** `[layers]` one step per layer. */
  steps: PatternStep[];
  totals: {
    qoiInput: number;
    qoiBaseline: number;
    /** Influence of all paths from the source token (its integrated gradient at the embedding output). */
    sourceInfluence: number;
    /** Influence of the embedding-level pattern (all branches between its nodes), exact (stop-gradient). */
    embeddingPatternInfluence: number;
    /** Influence of the head-level pattern (one branch a layer), exact (stop-gradient). */
    patternInfluence: number;
    /** patternInfluence / sourceInfluence. */
    patternShare: number;
    /** `[seq]` influence of every input position (integrated gradients at the embedding output). */
    inputInfluence: number[];
    /** |Σ inputInfluence − (qoiInput − qoiBaseline)|. */
    completenessGap: number;
  };
  options: { res: number; baseline: string };
  seconds: number;
}

/** Options of {@link influencePattern}. */
export interface InfluencePatternOptions extends PathOptions {
  /**
   * Input position the pattern starts at; `'auto'` (default): the position with the largest |influence|
   * (integrated gradients at the embedding output), `[CLS]`/`[SEP]` excluded.
   */
  source?: number | 'auto';
  /** QoI position: default the QoI's own position (MLM) or 0 (`[CLS]`, classifiers). */
  output?: number;
}

const postName = (l: number) => `blocks.${l}.hook_resid_post`;
const preName = (l: number) => `blocks.${l}.hook_resid_pre`;
const resultName = (l: number) => `blocks.${l}.attn.hook_result`;
const attnOutName = (l: number) => `blocks.${l}.hook_attn_out`;

/** Rows `[0, n)` of a tensor along its first axis. */
const head = (t: tf.Tensor, n: number): tf.Tensor => t.slice(0, n);

/**
 * Patch hooks for the restricted forward difference: in a forward over path rows 1..res, every node
 * outside the chosen upstream paths takes its value at the previous path point (`base` rows 0..res−1),
 * so only the chosen paths change between consecutive points.
 *
 * @param base activations of the unrestricted run at points 0..res−1, by node name.
 * @param upTo layers `< upTo` are patched by `r.positions` / `r.branches`; the source always.
 */
function patchHooks(model: Bert, seq: number, base: Map<string, tf.Tensor>, r: PathRestriction, upTo: number): Record<string, Hook> {
  const hooks: Record<string, Hook> = {};
  const H = model.heads;
  const mix = (x: tf.Tensor, b: tf.Tensor, m: tf.Tensor) => tf.add(tf.mul(x, m), tf.mul(b, tf.sub(1, m)));
  if (r.source) {
    const src = r.source;
    hooks['embed.hook_out'] = (x) => mix(x, base.get('embed.hook_out') as tf.Tensor, indicator(seq, src, [1, seq, 1]));
  }
  for (let l = 0; l < upTo; l++) {
    const ps = r.positions?.[l];
    if (ps) hooks[postName(l)] = (x) => mix(x, base.get(postName(l)) as tf.Tensor, indicator(seq, ps, [1, seq, 1]));
    const b = r.branches?.[l];
    if (b) {
      hooks[resultName(l)] = (x) => mix(x, base.get(resultName(l)) as tf.Tensor, indicator(H, b.heads, [1, 1, H, 1]));
      if (!b.skip) {
        let pre: tf.Tensor | null = null;
        hooks[preName(l)] = (x) => {
          pre = x;
          return x;
        };
        // u = attn_out + resid_pre: replace the skip's current value by its previous-point value.
        hooks[attnOutName(l)] = (x) => tf.add(x, tf.sub(base.get(preName(l)) as tf.Tensor, pre as unknown as tf.Tensor));
      }
    }
  }
  return hooks;
}

/** Restricted activation changes at layer `l` from one patched forward (rows = path points 1..res). */
function restrictedChanges(
  model: Bert,
  path: ExamplePath,
  qoi: QoI,
  base: Map<string, tf.Tensor>,
  r: PathRestriction,
  l: number,
  nodes: string[],
): Map<string, tf.Tensor> {
  const hooks = patchHooks(model, path.seq, base, r, l);
  const run = runPath(model, path.input(1, path.res), qoi, hooks, nodes, [], postName(l));
  const out = new Map<string, tf.Tensor>();
  for (const n of nodes)
    out.set(
      n,
      tf.tidy(() => tf.sub(run.values.get(n) as tf.Tensor, base.get(n) as tf.Tensor)),
    );
  run.dispose();
  return out;
}

const argmaxSigned = (v: readonly number[], sign: number, allowed?: (i: number) => boolean): number => {
  let best = -1;
  for (let i = 0; i < v.length; i++) {
    if (allowed && !allowed(i)) continue;
    if (best < 0 || sign * (v[i] as number) > sign * (v[best] as number)) best = i;
  }
  return best;
};

/**
 * The influence pattern of one example (guided pattern refinement, Lu et al. 2021 §3.2; see the module
 * comment): embedding level, then head level.
 *
 * Shapes: `example.ids` `[seq]`; result `positions` `[layers]`, `steps` `[layers]`, each step's
 * `headInfluences` `[heads]` and `candidates` `[seq]`. Influences are in QoI units.
 *
 * Cost: 2 batched forward/backward passes over res + 1 points, 2·layers − 1 forward passes over res
 * points that stop at the layer needed, and 2 exact stop-gradient passes for the reported totals.
 *
 * @throws RangeError for a source or output position outside the sequence; Error for an empty input,
 *   a bad `res`, a baseline lacking its special id, or an input the forward pass rejects.
 */
export function influencePattern(model: Bert, example: ExampleInput, qoi: QoI, opts: InfluencePatternOptions = {}): InfluencePattern {
  const t0 = Date.now();
  if (example.ids.length === 0) throw new Error('influencePattern: empty input (no tokens)');
  const tokens = exampleTokens(example);
  const seq = example.ids.length;
  const L = model.layers;
  const H = model.heads;
  const output = opts.output ?? qoi.positions?.[0] ?? 0;
  if (!Number.isInteger(output) || output < 0 || output >= seq) throw new IndexError(`influencePattern: output position ${output} is outside 0..${seq - 1}`);
  if (opts.source !== undefined && opts.source !== 'auto' && (!Number.isInteger(opts.source) || opts.source < 0 || opts.source >= seq)) {
    throw new IndexError(`influencePattern: source position ${opts.source} is outside 0..${seq - 1}`);
  }
  const path = examplePath(model, example, opts);
  const res = path.res;
  const allNodes = ['embed.hook_out'];
  for (let l = 0; l < L; l++) allNodes.push(preName(l), resultName(l), attnOutName(l), postName(l));
  const gradNodes = ['embed.hook_out'];
  for (let l = 0; l < L; l++) gradNodes.push(attnOutName(l), postName(l));
  const baseShift = new Map<string, tf.Tensor>();
  let gradsFree: Map<string, tf.Tensor> | null = null;
  let gradsPattern: Map<string, tf.Tensor> | null = null;
  try {
    // 1. Unrestricted run: activations at every point, gradients at every layer.
    const run0 = runPath(model, path.input(), qoi, {}, allNodes, gradNodes);
    const qoiInput = run0.qoi[res] as number;
    const qoiBaseline = run0.qoi[0] as number;
    for (const [n, v] of run0.values) baseShift.set(n, head(v, res));
    const inputInfluence = tf.tidy(() => {
      const v = run0.values.get('embed.hook_out') as tf.Tensor;
      return tf.sub(v.slice(1, res), head(v, res));
    });
    const inputInf = Array.from(trapezoidInfluence(inputInfluence, run0.grads.get('embed.hook_out') as tf.Tensor));
    inputInfluence.dispose();
    gradsFree = new Map([...run0.grads].filter(([n]) => n !== 'embed.hook_out'));
    run0.grads.get('embed.hook_out')?.dispose();
    for (const t of run0.values.values()) t.dispose();
    const special = new Set([opts.special?.clsId, opts.special?.sepId].filter((x) => x !== undefined));
    let source: number;
    if (opts.source === undefined || opts.source === 'auto') {
      source = argmaxSigned(inputInf.map(Math.abs), 1, (i) => !special.has(example.ids[i] as number) && i !== output);
      if (source < 0) source = argmaxSigned(inputInf.map(Math.abs), 1);
    } else source = opts.source;

    // 2. Embedding level.
    const positions: (number[] | null)[] = Array.from({ length: L }, () => null);
    positions[L - 1] = [output];
    const candidates: number[][] = [];
    let sign: 1 | -1 = 1;
    for (let l = 0; l < L; l++) {
      const d = restrictedChanges(model, path, qoi, baseShift, { source: [source], positions }, l, [postName(l)]);
      const inf = Array.from(trapezoidInfluence(d.get(postName(l)) as tf.Tensor, gradsFree.get(postName(l)) as tf.Tensor));
      for (const t of d.values()) t.dispose();
      candidates.push(inf);
      if (l === 0) sign = inf.reduce((a, b) => a + b, 0) < 0 ? -1 : 1;
      if (l < L - 1) positions[l] = [argmaxSigned(inf, sign)];
    }
    const pos = positions.map((p) => (p as number[])[0] as number);

    // 3. Head level: gradients with the pattern's positions (all branches) downstream.
    const rPos: PathRestriction = { source: [source], positions: pos.map((p) => [p]) };
    const gp = runPath(
      model,
      path.input(),
      qoi,
      restrictionHooks(model, seq, rPos),
      [],
      gradNodes.filter((n) => n !== 'embed.hook_out'),
    );
    gradsPattern = gp.grads;
    const branches: BranchSet[] = [];
    const steps: PatternStep[] = [];
    for (let l = 0; l < L; l++) {
      const q = pos[l] as number;
      const r: PathRestriction = { source: [source], positions: rPos.positions, branches };
      const nodes = [preName(l), resultName(l), postName(l)];
      const d = restrictedChanges(model, path, qoi, baseShift, r, l, nodes);
      const gU = gradsPattern.get(attnOutName(l)) as tf.Tensor;
      const gPost = gradsPattern.get(postName(l)) as tf.Tensor;
      const skipAll = trapezoidInfluence(d.get(preName(l)) as tf.Tensor, gU);
      const headsAll = gU.expandDims(2); // [rows, seq, 1, d] against the heads' [rows, seq, H, d]
      const headAll = trapezoidInfluence(d.get(resultName(l)) as tf.Tensor, headsAll, 2);
      headsAll.dispose();
      const postAll = trapezoidInfluence(d.get(postName(l)) as tf.Tensor, gPost);
      for (const t of d.values()) t.dispose();
      const skipInfluence = skipAll[q] as number;
      const headInfluences = Array.from(headAll.subarray(q * H, (q + 1) * H));
      const bestHead = argmaxSigned(headInfluences, sign);
      const from = l === 0 ? source : (pos[l - 1] as number);
      // The skip connection is position-wise: a step that moves must go through a head.
      const useHead = q !== from || sign * (headInfluences[bestHead] as number) > sign * skipInfluence;
      branches.push(useHead ? { skip: false, heads: [bestHead] } : { skip: true, heads: [] });
      const step: PatternStep = {
        layer: l,
        position: q,
        fromPosition: from,
        kind: useHead ? 'head' : 'skip',
        influence: useHead ? (headInfluences[bestHead] as number) : skipInfluence,
        nodeInfluence: postAll[q] as number,
        skipInfluence,
        headInfluences,
        candidates: candidates[l] as number[],
      };
      if (useHead) step.head = bestHead;
      steps.push(step);
    }
    // 4. Exact totals with stop-gradient hooks.
    const emb = pathInfluence(model, example, qoi, rPos, opts);
    const full = pathInfluence(model, example, qoi, { ...rPos, branches }, opts);
    const sumIn = inputInf.reduce((a, b) => a + b, 0);
    return {
      method: 'influence_pattern',
      tokens,
      qoi: qoi.describe,
      source,
      output,
      layers: L,
      heads: H,
      influence: full.influence,
      sign,
      positions: pos,
      steps,
      totals: {
        qoiInput,
        qoiBaseline,
        sourceInfluence: inputInf[source] as number,
        embeddingPatternInfluence: emb.influence,
        patternInfluence: full.influence,
        patternShare: inputInf[source] !== 0 ? full.influence / (inputInf[source] as number) : 0,
        inputInfluence: inputInf,
        completenessGap: Math.abs(sumIn - (qoiInput - qoiBaseline)),
      },
      options: { res, baseline: path.baseline },
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    for (const t of baseShift.values()) t.dispose();
    for (const t of gradsFree?.values() ?? []) t.dispose();
    for (const t of gradsPattern?.values() ?? []) t.dispose();
    path.dispose();
  }
}

/**
 * The branch key of a pattern (`skip`/`h<head>` per layer joined by `→`, e.g. `skip→h2→skip`), the unit
 * in which patterns are compared across instances (paper §4.2).
 */
export function patternKey(p: Pick<InfluencePattern, 'steps'>): string {
  return p.steps.map((s) => (s.kind === 'skip' ? 'skip' : `h${s.head}`)).join('→');
}

/** Node names of a pattern (TransformerLens style), from the source to the QoI. */
export function patternNodeNames(p: Pick<InfluencePattern, 'source' | 'steps'>): string[] {
  const out = [`embed.hook_out[${p.source}]`];
  for (const s of p.steps) {
    out.push(s.kind === 'skip' ? `blocks.${s.layer}.hook_resid_pre[${s.fromPosition}]` : `blocks.${s.layer}.attn.hook_result[${s.position}, head ${s.head}]`);
    out.push(`blocks.${s.layer}.hook_resid_post[${s.position}]`);
  }
  return out;
}
