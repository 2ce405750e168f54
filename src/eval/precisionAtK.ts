/**
 * Precision@k of token attributions for extractive question answering (Song et al. 2024 §4.1, SQuAD;
 * reference LinxinS97/Mask-LRP `utils/metrices.py` `cal_count`, `perfect_count`,
 * `evaluate_explanability.py` `calc_qa_metrics`): how many answer-span tokens are among the k tokens
 * with the highest attribution (k = 20 in the paper), relative to the most that could be:
 *
 *     precision@k = Σ_x |top_k(x) ∩ answer(x)| / Σ_x min(k, |answer(x)|)
 *
 * (the reference divides the mean count by the mean span length `end − start + 1`, which equals this
 * whenever spans are at most k long; the `min` keeps long spans from capping the score below 1).
 * Waits for an extractive-QA checkpoint; implemented and tested on synthetic data.
 *
 * @module
 */
import { OptionError } from '../errors.js';

/** One QA example: attribution scores and the answer span (inclusive token positions). */
export interface QaAttribution {
  /** `[seq]` scores. */
  scores: readonly number[];
  start: number;
  end: number;
}

/** Precision@k over examples. */
export interface PrecisionAtK {
  k: number;
  precision: number;
  /** `[examples]` answer tokens found in the top k. */
  hits: number[];
  /** `[examples]` the most that could be found, min(k, span length). */
  best: number[];
}

/**
 * Answer tokens among the top-k scores of one example (ties broken by position, lower first).
 * @throws RangeError when the span is outside the sequence or reversed, or k is not a positive integer.
 */
export function answerHitsAtK(x: QaAttribution, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new OptionError(`precision@k: k must be a positive integer, got ${k}`);
  const n = x.scores.length;
  if (!Number.isInteger(x.start) || !Number.isInteger(x.end) || x.start < 0 || x.end >= n || x.start > x.end) {
    throw new OptionError(`precision@k: answer span [${x.start}, ${x.end}] is not inside 0..${n - 1}`);
  }
  const top = x.scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, k);
  return top.filter((t) => t.i >= x.start && t.i <= x.end).length;
}

/**
 * Precision@k over a set of QA examples (see the module comment).
 * @returns precision in [0, 1] (NaN for no examples) with the per-example counts.
 * @throws RangeError as {@link answerHitsAtK}.
 */
export function precisionAtK(examples: readonly QaAttribution[], k = 20): PrecisionAtK {
  const hits = examples.map((x) => answerHitsAtK(x, k));
  const best = examples.map((x) => Math.min(k, x.end - x.start + 1));
  const sb = best.reduce((a, b) => a + b, 0);
  return { k, precision: sb ? hits.reduce((a, b) => a + b, 0) / sb : NaN, hits, best };
}
