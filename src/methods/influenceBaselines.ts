/**
 * The patterns influence patterns are compared with, and the pattern ablation that compares them
 * (Lu et al. 2021, "Influence Patterns for Explaining Information Flow in BERT", §5: attention-based
 * patterns follow the highest attention (or rollout) weights, layer-based patterns take the
 * highest-attribution node of each layer). Every pattern here is an embedding-level one: one node
 * position per layer, from the source token to the QoI position.
 *
 * Ablation (reference code: `InfluenceExtractor.get_model_compression`, which keeps the pattern's nodes
 * and replaces every other node by another run's value): {@link patternAblation} runs the input with
 * every node outside the pattern — every other position of the embedding output and of every layer's
 * output — replaced by its value on the baseline input (`keep`), or with the pattern's own nodes
 * (except the last, the QoI position, whose removal would remove everything) replaced by their baseline
 * values (`remove`), and reports the QoI.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';
import type { QoI } from '../model/qoi.js';
import type { Hook } from '../model/types.js';
import type { AttentionStack } from './attentionTypes.js';
import { attentionRollout } from './rollout.js';
import { examplePath, indicator, runPath, type PathOptions } from './influencePath.js';
import type { ExampleInput } from './result.js';
import { IndexError, OptionError } from '../errors.js';

/** An embedding-level pattern: node positions `[layers]` (the last = the QoI position) and the heads followed. */
export interface PositionPattern {
  method: 'influence' | 'attention' | 'rollout' | 'layer';
  source: number;
  /** `[layers]` */
  positions: number[];
  /** `[layers]` heads followed (attention patterns only). */
  heads?: number[];
}

function checkEnds(layers: number, seq: number, source: number, output: number): void {
  for (const [what, p] of [
    ['source', source],
    ['output', output],
  ] as const) {
    if (!Number.isInteger(p) || p < 0 || p >= seq) throw new IndexError(`baseline pattern: ${what} position ${p} is outside 0..${seq - 1}`);
  }
  if (layers < 1) throw new Error('baseline pattern: the attention stack has no layers');
}

/**
 * Attention pattern: from the current position p (the source at first), layer l goes to the query
 * position q and head h with the largest attention weight A_l^h[q, p] (information flows from key p
 * to query q); the last layer goes to the QoI position (its head: the largest A^h[output, p]).
 *
 * @param stack attention `[layers, heads, seq(query), seq(key)]`.
 */
export function attentionPattern(stack: AttentionStack, source: number, output: number): PositionPattern {
  const { layers: L, heads: H, seq } = stack;
  checkEnds(L, seq, source, output);
  const positions: number[] = [];
  const heads: number[] = [];
  let p = source;
  for (let l = 0; l < L; l++) {
    let best = { v: -Infinity, q: -1, h: -1 };
    for (let h = 0; h < H; h++) {
      const off = (l * H + h) * seq * seq;
      for (let q = 0; q < seq; q++) {
        if (l === L - 1 && q !== output) continue;
        const v = stack.data[off + q * seq + p] as number;
        if (v > best.v) best = { v, q, h };
      }
    }
    positions.push(best.q);
    heads.push(best.h);
    p = best.q;
  }
  return { method: 'attention', source, positions, heads };
}

/**
 * Rollout pattern: at layer l the position q whose attention rollout (Abnar & Zuidema 2020, Eq. 1,
 * heads averaged, 0.5·A + 0.5·I) draws most on the source token, R_l[q, source]; the last layer is the
 * QoI position.
 */
export function rolloutPattern(stack: AttentionStack, source: number, output: number): PositionPattern {
  const { layers: L, seq } = stack;
  checkEnds(L, seq, source, output);
  const r = attentionRollout(stack);
  const positions: number[] = [];
  for (let l = 0; l < L - 1; l++) {
    let best = 0;
    for (let q = 1; q < seq; q++) if ((r[l * seq * seq + q * seq + source] as number) > (r[l * seq * seq + best * seq + source] as number)) best = q;
    positions.push(best);
  }
  positions.push(output);
  return { method: 'rollout', source, positions };
}

/**
 * Layer-based pattern: at each layer the node with the highest attribution, sign·influence through
 * h_l[q] over the whole graph (see `allLayerInfluences`); the last layer is the QoI position.
 *
 * @param layerInfluences `[layers][seq]`. @param sign the influence pattern's sign (−1 when the QoI was flipped).
 */
export function layerPattern(layerInfluences: number[][], source: number, output: number, sign = 1): PositionPattern {
  const L = layerInfluences.length;
  const seq = layerInfluences[0]?.length ?? 0;
  checkEnds(L, seq, source, output);
  const positions = layerInfluences.map((row, l) => {
    if (l === L - 1) return output;
    let best = 0;
    for (let q = 1; q < row.length; q++) if (sign * (row[q] as number) > sign * (row[best] as number)) best = q;
    return best;
  });
  return { method: 'layer', source, positions };
}

/** Result of {@link patternAblation}. */
export interface AblationResult {
  qoiInput: number;
  qoiBaseline: number;
  /** QoI with only the pattern kept (every other node at its baseline value). */
  qoiKeep: number;
  /** QoI with the pattern's nodes (all but the last, the QoI position itself) at their baseline values. */
  qoiRemove: number;
  /** (qoiKeep − qoiBaseline) / (qoiInput − qoiBaseline): the share of the QoI change the pattern alone carries. */
  keepShare: number;
  /** (qoiInput − qoiRemove) / (qoiInput − qoiBaseline): the share lost when the pattern is removed. */
  removeShare: number;
}

/**
 * Pattern ablation (see the module comment): two forwards at the input and one at the baseline.
 *
 * Nodes: `embed.hook_out` (the source position) and `blocks.{l}.hook_resid_post` (the pattern's
 * position at layer l). In `keep`, every other position of those nodes takes its baseline-run value,
 * so the QoI depends on the input only through the pattern's chain of nodes (each computed from the
 * previous pattern node and baseline context).
 *
 * @throws RangeError for positions outside the sequence or a pattern of the wrong length.
 */
export function patternAblation(
  model: Bert,
  example: ExampleInput,
  qoi: QoI,
  pattern: Pick<PositionPattern, 'source' | 'positions'>,
  opts: PathOptions = {},
): AblationResult {
  const L = model.layers;
  const seq = example.ids.length;
  if (pattern.positions.length !== L) throw new OptionError(`patternAblation: ${pattern.positions.length} positions for ${L} layers`);
  for (const p of [pattern.source, ...pattern.positions]) {
    if (!Number.isInteger(p) || p < 0 || p >= seq) throw new IndexError(`patternAblation: position ${p} is outside 0..${seq - 1}`);
  }
  const nodes = ['embed.hook_out', ...Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_post`)];
  const at = [pattern.source, ...pattern.positions];
  const path = examplePath(model, example, { ...opts, res: 1 });
  try {
    const base = runPath(model, path.input(0, 1), qoi, {}, nodes);
    try {
      const patched = (keep: boolean): number => {
        const hooks: Record<string, Hook> = {};
        nodes.forEach((n, i) => {
          // Removing the last node (the QoI position itself) would remove everything: keep it.
          if (!keep && i === nodes.length - 1) return;
          hooks[n] = (x) => {
            const m = indicator(seq, [at[i] as number], [1, seq, 1]);
            const mm = keep ? m : tf.sub(1, m);
            return tf.add(tf.mul(x, mm), tf.mul(base.values.get(n) as tf.Tensor, tf.sub(1, mm)));
          };
        });
        const r = runPath(model, path.input(1, 1), qoi, hooks, []);
        r.dispose();
        return r.qoi[0] as number;
      };
      const full = runPath(model, path.input(1, 1), qoi, {}, []);
      full.dispose();
      const qoiInput = full.qoi[0] as number;
      const qoiBaseline = base.qoi[0] as number;
      const qoiKeep = patched(true);
      const qoiRemove = patched(false);
      const d = qoiInput - qoiBaseline;
      return {
        qoiInput,
        qoiBaseline,
        qoiKeep,
        qoiRemove,
        keepShare: d !== 0 ? (qoiKeep - qoiBaseline) / d : 0,
        removeShare: d !== 0 ? (qoiInput - qoiRemove) / d : 0,
      };
    } finally {
      base.dispose();
    }
  } finally {
    path.dispose();
  }
}
