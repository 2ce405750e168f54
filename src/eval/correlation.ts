/**
 * Rank correlation between two importance vectors, and its mean ± std over examples, as Abnar &
 * Zuidema 2020 (arXiv 2005.00928) report it (Tables 1–3: "SpearmanR correlation … mean ± std over
 * samples"; the reference code uses `scipy.stats.spearmanr`, ties averaged, NaN counted as 0, and
 * `np.std`, the population standard deviation).
 *
 * @module
 */
import { sampleRankCorrelation } from 'simple-statistics';

/**
 * Spearman's rank correlation ρ: the Pearson correlation of the ranks, tied values getting the average
 * of the ranks they span (as `scipy.stats.spearmanr`).
 *
 * @param x, y `[n]` paired scores (e.g. an attention row and blank-out scores over the tokens).
 * @returns ρ in [−1, 1]; `NaN` when either input is constant (no rank variance).
 * @throws Error when the lengths differ, fewer than 2 pairs are given, or a value is NaN.
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`spearman: inputs have different lengths (${x.length} and ${y.length})`);
  if (x.length < 2) throw new Error(`spearman: needs at least 2 pairs, got ${x.length}`);
  const a = Array.from(x, Number);
  const b = Array.from(y, Number);
  if (a.some(Number.isNaN) || b.some(Number.isNaN)) throw new Error('spearman: an input contains NaN');
  const r = sampleRankCorrelation(a, b);
  // Clamp float round-off (e.g. 1.0000000000000002).
  return Number.isNaN(r) ? NaN : Math.max(-1, Math.min(1, r));
}

/** Mean ± std of per-example correlations. */
export interface CorrelationSummary {
  mean: number;
  /** Population standard deviation (`np.std`, as the reference code). */
  std: number;
  /** Number of examples. */
  n: number;
  /** How many were NaN (a constant input) and counted as `nanAs`. */
  nan: number;
}

/**
 * Mean and population std of per-example correlations.
 *
 * @param values `[examples]` correlations, possibly NaN.
 * @param nanAs value a NaN counts as (default 0, the reference code: `if isnan: append(0)`); `null`
 *   drops NaNs instead.
 * @returns `{mean, std, n, nan}`; `mean`/`std` are NaN when nothing is left.
 */
export function summarizeCorrelations(values: ArrayLike<number>, nanAs: number | null = 0): CorrelationSummary {
  const all = Array.from(values, Number);
  const nan = all.filter(Number.isNaN).length;
  const v = nanAs === null ? all.filter((x) => !Number.isNaN(x)) : all.map((x) => (Number.isNaN(x) ? nanAs : x));
  if (v.length === 0) return { mean: NaN, std: NaN, n: 0, nan };
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
  return { mean, std, n: v.length, nan };
}
