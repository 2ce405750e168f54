/**
 * The degradation test of attribution methods (Jiang et al. 2020, "Inserting Information Bottlenecks
 * for Attribution in Transformers", arXiv 2012.13838, §4.2; after Ancona et al. 2018 and Schulz et al.
 * 2020; reference `bazingagin/IBA`, `Degradation.py` and `Evaluation.py`).
 *
 * For each example and method, tokens are removed in order of attribution, most important first
 * (`'most'`, MoRF) or least important first (`'least'`, LeRF), at a list of fractions from 0 to 1
 * (`[CLS]`/`[SEP]` never removed; deletion by default, `[MASK]` replacement as an option). At each
 * fraction the classifier's probability of the true class and whether its prediction is still the true
 * class are recorded; the curves are their means over examples. A good attribution makes the
 * most-important-first curve fall fast (small area) and the least-important-first curve stay high.
 * Each curve is summarised by its area under the curve (trapezoid rule over the fractions).
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import { argmax } from '../model/classify.js';
import type { ExampleInput } from '../methods/result.js';
import { probabilitiesAfterRemoval, removalFractions, type PerturbationOptions } from '../methods/perturbation.js';

/** Removal direction: most important first (MoRF) or least important first (LeRF). */
export type RemovalDirection = 'most' | 'least';

/** One degradation curve: plain data for tables, figures and widgets. */
export interface DegradationCurve {
  method: string;
  direction: RemovalDirection;
  /** `[k]` fractions of the removable tokens. */
  fractions: number[];
  /** `[k]` mean probability of the true class. */
  prob: number[];
  /** `[k]` share of examples still predicted as the true class. */
  acc: number[];
  /** Area under `prob` over `fractions` (trapezoid). */
  probArea: number;
  /** Area under `acc`. */
  accArea: number;
  /** Number of examples averaged. */
  n: number;
}

/** One example's curves for one method and direction. */
export interface ExampleCurve {
  method: string;
  direction: RemovalDirection;
  prob: number[];
  correct: boolean[];
}

/**
 * Area under a curve by the trapezoid rule.
 * @param x `[k]` increasing; @param y `[k]`.
 * @throws Error for mismatched lengths or fewer than 2 points.
 */
export function curveArea(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 2) throw new Error(`curveArea: need ≥ 2 points and equal lengths, got ${x.length} and ${y.length}`);
  let a = 0;
  for (let i = 1; i < x.length; i++) a += 0.5 * (x[i] - x[i - 1]) * (y[i] + y[i - 1]);
  return a;
}

/**
 * The true-class probability and correctness of one example after removal at each fraction, in one
 * direction (the inner loop of the reference `DegradationTest.eval`).
 *
 * @param scores `[seq]` attribution scores of the example.
 * @param label the true class.
 * @returns `prob` `[k]` and `correct` `[k]` (argmax = label).
 * @throws what {@link probabilitiesAfterRemoval} throws.
 */
export function degradeExample(
  model: Bert,
  example: ExampleInput,
  label: number,
  scores: readonly number[],
  direction: RemovalDirection,
  fractions: readonly number[] = removalFractions(10),
  opts: PerturbationOptions = {},
): { prob: number[]; correct: boolean[] } {
  const c = probabilitiesAfterRemoval(model, example, { scores, leastImportantFirst: direction === 'least' }, fractions, opts);
  return {
    prob: c.probs.map((p) => p[label] as number),
    correct: c.probs.map((p) => argmax(p) === label),
  };
}

/**
 * Accumulates per-example curves into mean curves per (method, direction).
 */
export class DegradationAccumulator {
  readonly fractions: number[];
  private sums = new Map<string, { method: string; direction: RemovalDirection; prob: number[]; acc: number[]; n: number }>();

  /** @param fractions `[k]` the fractions every added curve is sampled at. */
  constructor(fractions: readonly number[]) {
    this.fractions = fractions.slice();
  }

  /**
   * Add one example's curve.
   * @throws Error when the curve has a length other than the fractions.
   */
  add(c: ExampleCurve): void {
    const k = this.fractions.length;
    if (c.prob.length !== k || c.correct.length !== k) throw new Error(`degradation: curve of ${c.prob.length} points, expected ${k}`);
    const key = `${c.method}\u0000${c.direction}`;
    let s = this.sums.get(key);
    if (!s) {
      s = { method: c.method, direction: c.direction, prob: new Array<number>(k).fill(0), acc: new Array<number>(k).fill(0), n: 0 };
      this.sums.set(key, s);
    }
    for (let i = 0; i < k; i++) {
      s.prob[i] += c.prob[i];
      s.acc[i] += c.correct[i] ? 1 : 0;
    }
    s.n++;
  }

  /** The mean curves, in the order first added, with their areas. */
  curves(): DegradationCurve[] {
    return [...this.sums.values()].map((s) => {
      const prob = s.prob.map((v) => v / s.n);
      const acc = s.acc.map((v) => v / s.n);
      return {
        method: s.method,
        direction: s.direction,
        fractions: this.fractions.slice(),
        prob,
        acc,
        probArea: curveArea(this.fractions, prob),
        accArea: curveArea(this.fractions, acc),
        n: s.n,
      };
    });
  }
}

/** An attribution method as the degradation test calls it: one example → `[seq]` scores. */
export type ScoreFn = (example: ExampleInput, label: number, index: number) => number[];

/** Options of {@link degradationTest}. */
export interface DegradationTestOptions extends PerturbationOptions {
  /** Fractions (default {@link removalFractions}(10), as the reference `degrad_step = 10`). */
  fractions?: number[];
  /** Directions to run (default both). */
  directions?: RemovalDirection[];
  /** Called after each example. */
  onProgress?: (done: number, total: number) => void;
  /** Called with each method's time per example, milliseconds. */
  onTiming?: (method: string, ms: number) => void;
}

/** Result of {@link degradationTest}. */
export interface DegradationResult {
  curves: DegradationCurve[];
  /** Per example: label, the probability of the label before removal, and each method's scores and curves. */
  perExample: { index: number; label: number; scores: Record<string, number[]>; curves: ExampleCurve[] }[];
  /** Mean milliseconds per example of each method's attribution. */
  msPerExample: Record<string, number>;
}

/**
 * The degradation test of several attribution methods on a set of labelled examples.
 *
 * @param examples `[n]` examples with their true class.
 * @param methods name → {@link ScoreFn}.
 * @returns mean curves per method and direction, per-example records and timings.
 * @throws Error for no examples or methods, or what the methods and {@link probabilitiesAfterRemoval} throw.
 */
export function degradationTest(
  model: Bert,
  examples: readonly { example: ExampleInput; label: number }[],
  methods: Record<string, ScoreFn>,
  opts: DegradationTestOptions = {},
): DegradationResult {
  if (examples.length === 0) throw new Error('degradation test: no examples');
  const names = Object.keys(methods);
  if (names.length === 0) throw new Error('degradation test: no methods');
  const fractions = opts.fractions ?? removalFractions(10);
  const directions = opts.directions ?? (['most', 'least'] as RemovalDirection[]);
  const acc = new DegradationAccumulator(fractions);
  const ms: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const perExample: DegradationResult['perExample'] = [];
  examples.forEach(({ example, label }, index) => {
    const rec: DegradationResult['perExample'][number] = { index, label, scores: {}, curves: [] };
    for (const name of names) {
      const t0 = performance.now();
      const scores = (methods[name] as ScoreFn)(example, label, index);
      const dt = performance.now() - t0;
      ms[name] += dt;
      opts.onTiming?.(name, dt);
      rec.scores[name] = scores;
      for (const direction of directions) {
        const { prob, correct } = degradeExample(model, example, label, scores, direction, fractions, opts);
        const c = { method: name, direction, prob, correct };
        acc.add(c);
        rec.curves.push(c);
      }
    }
    perExample.push(rec);
    opts.onProgress?.(index + 1, examples.length);
  });
  for (const n of names) ms[n] /= examples.length;
  return { curves: acc.curves(), perExample, msPerExample: ms };
}
