/**
 * LIME for text classifiers: a weighted linear surrogate fitted on token-removal perturbations.
 *
 * Ribeiro, Singh & Guestrin 2016, "'Why Should I Trust You?': Explaining the Predictions of Any
 * Classifier" (KDD, arXiv 1602.04938), Eq. 1–2 and Algorithm 1, as its reference implementation
 * `marcotcr/lime` (`LimeTextExplainer`, `LimeBase`) with the settings the IBA paper's code uses
 * (`bazingagin/IBA`, `num_samples=100`, all features):
 *
 * - Interpretable features: the d removable tokens (every token but `[CLS]`/`[SEP]`); z ∈ {0,1}^d says
 *   which are kept. (lime_text's features are words; ours are the model's wordpieces.)
 * - Sampling: row 0 is the original (all ones); each other row removes k tokens chosen uniformly
 *   without replacement, k uniform in 1..d (`randint(1, d + 1)`).
 * - Proximity: cosine distance to the all-ones vector × 100, exponential kernel
 *   π(z) = sqrt(exp(−D(z)² / σ²)) with width σ = 25.
 * - Surrogate: ridge regression (α = 1, with intercept, as `sklearn.linear_model.Ridge`) of the target
 *   class probability on z, weighted by π; its coefficients are the token attributions. The weighted
 *   R² of the fit is the result's sanity figure (lime's `score`).
 *
 * The linear algebra is `ml-matrix`. Perturbed inputs go through the instrumented forward in batches
 * ({@link classProbabilities}).
 *
 * @module
 */
import { Matrix, solve } from 'ml-matrix';
import type { Bert } from '../model/bert.js';
import { argmax } from '../model/classify.js';
import { Rng } from '../data/random.js';
import { classProbabilities, keptPositions, perturbRow, type PerturbationMode } from './perturbation.js';
import type { SpecialIds } from '../io/tokenizer.js';
import { exampleTokens, tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { IndexError, OptionError } from '../errors.js';

/** A weighted ridge fit: `y ≈ intercept + X · coef`. */
export interface RidgeFit {
  /** `[features]` */
  coef: number[];
  intercept: number;
  /** Weighted coefficient of determination of the fit. */
  r2: number;
}

/**
 * Weighted ridge regression with an unpenalised intercept (`sklearn.linear_model.Ridge(alpha)` with
 * `sample_weight`): minimises Σ_i w_i (y_i − b − x_i·β)² + α‖β‖², by centring X and y at their weighted
 * means and solving (X̃ᵀWX̃ + αI) β = X̃ᵀW ỹ.
 *
 * @param X `[n][p]`; @param y `[n]`; @param w `[n]` non-negative weights (not all 0); @param alpha ≥ 0.
 * @throws Error for mismatched sizes, negative weights or alpha, or all-zero weights.
 */
export function weightedRidge(X: readonly (readonly number[])[], y: readonly number[], w: readonly number[], alpha = 1): RidgeFit {
  const n = X.length;
  if (n === 0 || y.length !== n || w.length !== n) throw new Error(`weightedRidge: X has ${n} rows, y ${y.length}, w ${w.length} (they must match and be > 0)`);
  const p = X[0].length;
  if (X.some((r) => r.length !== p)) throw new Error('weightedRidge: rows of X have different lengths');
  if (w.some((v) => !(v >= 0))) throw new Error('weightedRidge: weights must be ≥ 0');
  if (!(alpha >= 0)) throw new Error(`weightedRidge: alpha must be ≥ 0, got ${alpha}`);
  const sw = w.reduce((a, b) => a + b, 0);
  if (!(sw > 0)) throw new Error('weightedRidge: all weights are 0');
  const xm = Array.from({ length: p }, (_, j) => X.reduce((a, r, i) => a + w[i] * r[j], 0) / sw);
  const ym = y.reduce((a, v, i) => a + w[i] * v, 0) / sw;
  const sq = w.map(Math.sqrt);
  const Xc = new Matrix(X.map((r, i) => r.map((v, j) => sq[i] * (v - xm[j]))));
  const yc = Matrix.columnVector(y.map((v, i) => sq[i] * (v - ym)));
  const A = Xc.transpose().mmul(Xc);
  for (let j = 0; j < p; j++) A.set(j, j, A.get(j, j) + alpha);
  const b = Xc.transpose().mmul(yc);
  const beta = solve(A, b, alpha === 0).getColumn(0);
  const intercept = ym - beta.reduce((a, v, j) => a + v * xm[j], 0);
  let ssRes = 0;
  let ssTot = 0;
  X.forEach((r, i) => {
    const pred = intercept + r.reduce((a, v, j) => a + v * beta[j], 0);
    ssRes += w[i] * (y[i] - pred) ** 2;
    ssTot += w[i] * (y[i] - ym) ** 2;
  });
  return { coef: beta, intercept, r2: ssTot > 0 ? 1 - ssRes / ssTot : 1 };
}

/**
 * LIME's perturbation masks: row 0 all ones; each other row zeroes k features chosen uniformly without
 * replacement, k uniform in 1..d (lime_text `__data_labels_distances`).
 *
 * @returns `[samples][d]` of 0/1.
 * @throws RangeError when `d < 1` or `samples < 1`.
 */
export function limeMasks(d: number, samples: number, rng: Rng): number[][] {
  if (!Number.isInteger(d) || d < 1) throw new OptionError(`LIME: need at least one removable token, got ${d}`);
  if (!Number.isInteger(samples) || samples < 1) throw new OptionError(`LIME: samples must be a positive integer, got ${samples}`);
  const out: number[][] = [new Array<number>(d).fill(1)];
  for (let s = 1; s < samples; s++) {
    const k = 1 + rng.int(d);
    const idx = Array.from({ length: d }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(d - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const row = new Array<number>(d).fill(1);
    for (let i = 0; i < k; i++) row[idx[i]] = 0;
    out.push(row);
  }
  return out;
}

/**
 * LIME's proximity weights: cosine distance of each mask to the all-ones vector × 100, exponential
 * kernel sqrt(exp(−D² / width²)) (lime_text defaults: width 25). An all-zero mask has distance 100.
 * @returns `[samples]`.
 */
export function limeKernelWeights(masks: readonly (readonly number[])[], width = 25): number[] {
  return masks.map((z) => {
    const k = z.reduce((a, b) => a + b, 0);
    const dist = k > 0 ? (1 - k / (Math.sqrt(k) * Math.sqrt(z.length))) * 100 : 100;
    return Math.sqrt(Math.exp(-(dist * dist) / (width * width)));
  });
}

/** Options of {@link limeFit} and {@link lime}. */
export interface LimeOptions {
  /** Perturbation samples, the original included (default 100). */
  samples?: number;
  /** Kernel width (default 25). */
  kernelWidth?: number;
  /** Ridge penalty (default 1). */
  alpha?: number;
  /** Seed of the sampling (default 0). */
  seed?: number;
}

/**
 * LIME on any function of a binary feature mask (Ribeiro et al. 2016, Algorithm 1).
 *
 * @param f the model on a batch of masks `[samples][d]` → `[samples]` outputs.
 * @param d number of interpretable features.
 * @returns the ridge fit (`coef` `[d]` = the attributions) and the masks used.
 * @throws what {@link limeMasks} and {@link weightedRidge} throw, or Error when `f` returns the wrong count.
 */
export function limeFit(f: (masks: number[][]) => number[], d: number, opts: LimeOptions = {}): RidgeFit & { masks: number[][]; weights: number[] } {
  const rng = new Rng(opts.seed ?? 0);
  const masks = limeMasks(d, opts.samples ?? 100, rng);
  const y = f(masks);
  if (y.length !== masks.length) throw new Error(`LIME: the model returned ${y.length} values for ${masks.length} samples`);
  const weights = limeKernelWeights(masks, opts.kernelWidth ?? 25);
  return { ...weightedRidge(masks, y, weights, opts.alpha ?? 1), masks, weights };
}

/** Options of {@link lime} on a classifier. */
export interface LimeClassifierOptions extends LimeOptions {
  /** Class explained (default: the predicted class). */
  target?: number;
  /** `[CLS]`/`[SEP]` ids (never removed) and replacement ids (pass the tokenizer). */
  specialIds?: SpecialIds;
  /** Positions never removed (default `[CLS]`/`[SEP]`). */
  keep?: number[];
  /** How a removed token is treated (default `'delete'`, as lime_text removes words). */
  mode?: PerturbationMode;
  /** Perturbed rows per forward pass (default 50). */
  batchSize?: number;
}

/**
 * LIME attribution of one example for a sequence classifier's class probability.
 *
 * @param input one sequence, `ids` `[seq]`.
 * @returns method `'lime'`, `scores` `[seq]` (ridge coefficients; kept positions 0), `sanity`
 *   `{name: 'r2', value}` (weighted R² of the surrogate), `meta` `{target, intercept, samples, kept}`.
 * @throws Error for a non-classifier model, an input without removable tokens, a target outside the
 *   classes, or a mode lacking its id.
 */
export function lime(model: Bert, input: ExampleInput, opts: LimeClassifierOptions = {}): TokenAttribution {
  const tokens = exampleTokens(input);
  const n = input.ids.length;
  const kept = keptPositions(input.ids, { keep: opts.keep, specialIds: opts.specialIds });
  const k = new Set(kept);
  const features = Array.from({ length: n }, (_, i) => i).filter((i) => !k.has(i));
  const batchSize = opts.batchSize ?? 50;
  const padId = opts.specialIds?.padId;
  const numLabels = model.config.numLabels;
  const target =
    opts.target ??
    (() => {
      const p = classProbabilities(model, [{ ids: input.ids, tokenTypeIds: input.tokenTypeIds }], { padId })[0];
      return argmax(p);
    })();
  if (!Number.isInteger(target) || target < 0 || target >= numLabels) throw new IndexError(`LIME: target class ${target} is outside 0..${numLabels - 1}`);
  const f = (masks: number[][]): number[] => {
    const rows = masks.map((z) =>
      perturbRow(
        input,
        features.filter((_, j) => z[j] === 0),
        opts.mode ?? 'delete',
        opts.specialIds ?? {},
      ),
    );
    if (rows.some((r) => r.ids.length === 0)) throw new Error('LIME: a sample removes every token (keep [CLS]/[SEP])');
    return classProbabilities(model, rows, { batchSize, padId }).map((p) => p[target]);
  };
  const fit = limeFit(f, features.length, opts);
  const scores = new Array<number>(n).fill(0);
  features.forEach((p, j) => (scores[p] = fit.coef[j]));
  return tokenAttribution('lime', tokens, scores, `p(class ${target})`, {
    sanity: { name: 'r2', value: fit.r2 },
    meta: { target, intercept: fit.intercept, samples: fit.masks.length, kept, alpha: opts.alpha ?? 1, kernelWidth: opts.kernelWidth ?? 25 },
  });
}
