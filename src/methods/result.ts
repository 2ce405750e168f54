/**
 * The one result type every token-attribution method returns (Captum-like: one call per method,
 * uniform results), so metrics ({@link ../eval/correlation.js}), tables and figures take any method.
 *
 * A {@link TokenAttribution} is plain data (numbers and strings, no tensors): it can be written as
 * JSON, compared across methods, and plotted without the model.
 *
 * @module
 */
import { IndexError } from '../errors.js';

/** A method's own sanity figure, e.g. a completeness gap or the QoI value it explains. */
export interface SanityFigure {
  name: string;
  value: number;
}

/**
 * Importance of each input token for one quantity of interest (QoI) of one example.
 *
 * - `tokens` `[seq]`: the input tokens (wordpieces, including `[CLS]`/`[SEP]`/`[MASK]`).
 * - `scores` `[seq]`: one importance score per token (same order); the unit depends on the method
 *   (attention weight, |ΔQoI|, |Σ ∂QoI/∂e|, …), so compare methods by rank (Spearman), not value.
 * - `qoi`: what was explained (the QoI's `describe`).
 * - `layer`: 0-based transformer layer for layer-wise methods (raw attention, rollout, flow).
 */
export interface TokenAttribution {
  method: string;
  tokens: string[];
  /** `[seq]` */
  scores: number[];
  qoi: string;
  layer?: number;
  sanity?: SanityFigure;
  meta?: Record<string, unknown>;
}

/**
 * Build a {@link TokenAttribution}, copying `scores` into a plain array.
 *
 * @param scores `[seq]`, any array-like of numbers (e.g. a `Float32Array` row).
 * @throws Error when `scores` and `tokens` have different lengths, or a score is NaN.
 */
export function tokenAttribution(
  method: string,
  tokens: string[],
  scores: ArrayLike<number>,
  qoi: string,
  extra: Partial<Pick<TokenAttribution, 'layer' | 'sanity' | 'meta'>> = {},
): TokenAttribution {
  if (scores.length !== tokens.length) {
    throw new Error(`${method}: ${scores.length} scores for ${tokens.length} tokens (they must match)`);
  }
  const s = Array.from(scores, Number);
  const bad = s.findIndex((v) => Number.isNaN(v));
  if (bad >= 0) throw new Error(`${method}: score of token ${bad} ("${tokens[bad]}") is NaN`);
  const out: TokenAttribution = { method, tokens: tokens.slice(), scores: s, qoi };
  if (extra.layer !== undefined) out.layer = extra.layer;
  if (extra.sanity) out.sanity = extra.sanity;
  if (extra.meta) out.meta = extra.meta;
  return out;
}

/**
 * Restrict an attribution to some positions (e.g. drop `[CLS]`/`[SEP]` before correlating).
 *
 * @param keep positions to keep, in order (0-based, `< seq`).
 * @returns a new attribution with `tokens`/`scores` of length `keep.length`; `meta.positions` records `keep`.
 * @throws RangeError naming a position outside `0..seq-1`.
 */
export function selectPositions(a: TokenAttribution, keep: number[]): TokenAttribution {
  for (const p of keep) {
    if (!Number.isInteger(p) || p < 0 || p >= a.scores.length) {
      throw new IndexError(`selectPositions: position ${p} is outside 0..${a.scores.length - 1} (${a.method})`);
    }
  }
  return { ...a, tokens: keep.map((p) => a.tokens[p]), scores: keep.map((p) => a.scores[p]), meta: { ...a.meta, positions: keep } };
}

/**
 * Scores divided by their sum of absolute values (L1-normalised), for display side by side.
 * @returns `[seq]`; all zeros stay zeros.
 */
export function normalizeScores(scores: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < scores.length; i++) s += Math.abs(scores[i]);
  return Array.from(scores, (v) => (s > 0 ? v / s : 0));
}

/**
 * The `k` most important tokens by score (descending), for summaries.
 * @returns `[{token, position, score}]` of length `min(k, seq)`.
 */
export function topTokens(a: TokenAttribution, k = 3): { token: string; position: number; score: number }[] {
  return a.scores
    .map((score, position) => ({ token: a.tokens[position], position, score }))
    .sort((x, y) => y.score - x.score)
    .slice(0, k);
}

/**
 * One example as the model-based methods take it (a single sequence, not a batch).
 *
 * Shapes: `ids` `[seq]` token ids; `tokens` `[seq]` their strings (default: the ids as strings);
 * `tokenTypeIds`, `attentionMask` `[seq]` (HF semantics; default all 0 / all 1).
 */
export interface ExampleInput {
  ids: number[];
  tokens?: string[];
  tokenTypeIds?: number[];
  attentionMask?: number[];
}

/**
 * Tokens of an example (its `tokens`, or the ids as strings).
 * @throws Error when `tokens` is given with a length other than `ids.length`.
 */
export function exampleTokens(x: ExampleInput): string[] {
  if (x.tokens && x.tokens.length !== x.ids.length) {
    throw new Error(`example has ${x.tokens.length} tokens but ${x.ids.length} ids (they must match)`);
  }
  return x.tokens ? x.tokens.slice() : x.ids.map(String);
}
