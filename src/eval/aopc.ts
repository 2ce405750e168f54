/**
 * AOPC and log-odds faithfulness metrics of Song et al. 2024 (§4.1; reference LinxinS97/Mask-LRP
 * `utils/metrices.py` `cal_aopc`, `cal_logodds`, `replace_words`), after DeYoung et al. 2020 / Chen
 * et al. 2020: the top 10 %, 20 %, …, 90 % of the tokens (by attribution) are replaced with `[PAD]`
 * (`[CLS]`/`[SEP]` kept), and the explained class's probability is read:
 *
 *     AOPC_k  = mean_x ( p(y | x) − p(y | x̃_k) )               (higher = more faithful)
 *     LOdds_k = mean_x log( p(y | x̃_k) / p(y | x) )           (lower = more faithful)
 *     AOPC = mean_k AOPC_k,   LOdds = mean_k LOdds_k          (k = 1 … 9)
 *
 * Token counts: round(f · m) of the m replaceable tokens (all but `[CLS]`/`[SEP]`), through
 * `src/eval/perturbation.ts`; the reference counts round(f · seq) with `[CLS]`/`[SEP]` in seq and then
 * skips them, so it removes up to one token more at some steps. The paper's length filter (sentences of
 * fewer than 20 tokens are skipped, `total_len < 20`) is {@link AopcFilter.minTokens}.
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import type { ExampleInput } from '../methods/result.js';
import { classProbabilities, keptPositions, perturbRow, removalOrder } from '../methods/perturbation.js';
import type { SpecialIds } from '../io/tokenizer.js';

/** The 9 perturbation steps of the paper: 10 % … 90 %. */
export const AOPC_FRACTIONS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Probabilities of the explained class for one example and one ranking. */
export interface AopcCurve {
  /** p(y | x), unperturbed. */
  p0: number;
  /** `[steps]` p(y | x̃_k). */
  probs: number[];
  /** `[steps]` tokens replaced at each step. */
  replaced: number[];
  /** Tokens of the example, `[CLS]`/`[SEP]` included (for the length filter). */
  length: number;
}

/** Options of {@link aopcCurves}. */
export interface AopcOptions {
  /** Ids of `[CLS]`/`[SEP]` (kept) and `[PAD]` (the replacement); pass the tokenizer. */
  specialIds: SpecialIds;
  /** Steps (default {@link AOPC_FRACTIONS}). */
  fractions?: readonly number[];
  /** Rows per forward pass (default 64). */
  batchSize?: number;
}

/**
 * Perturbation curves of one example for several rankings at once (all rows in one batched run).
 *
 * @param scores `[rankings][seq]` attribution scores (replaced highest first).
 * @param target class whose probability is read (the explained class).
 * @returns one {@link AopcCurve} per ranking.
 * @throws Error when a score row does not have `seq` entries, `[PAD]`'s id is missing, or the model is not a classifier.
 */
export function aopcCurves(model: Bert, example: ExampleInput, scores: readonly (readonly number[])[], target: number, opts: AopcOptions): AopcCurve[] {
  const fr = opts.fractions ?? AOPC_FRACTIONS;
  const n = example.ids.length;
  if (opts.specialIds.padId === undefined) throw new Error('AOPC replaces tokens with [PAD]: specialIds.padId is missing');
  const keep = keptPositions(example.ids, { specialIds: opts.specialIds });
  const rows = [perturbRow(example, [], 'pad', opts.specialIds)];
  const replaced: number[][] = [];
  for (const s of scores) {
    if (s.length !== n) throw new Error(`AOPC: ${s.length} scores for ${n} tokens`);
    const order = removalOrder(s, keep, true);
    const counts = fr.map((f) => Math.round(f * order.length));
    replaced.push(counts);
    for (const c of counts) rows.push(perturbRow(example, order.slice(0, c), 'pad', opts.specialIds));
  }
  const probs = classProbabilities(model, rows, { batchSize: opts.batchSize ?? 64, padId: opts.specialIds.padId });
  const p0 = (probs[0] as number[])[target] as number;
  return scores.map((_, r) => ({
    p0,
    probs: fr.map((_, k) => (probs[1 + r * fr.length + k] as number[])[target] as number),
    replaced: replaced[r] as number[],
    length: n,
  }));
}

/** Which examples count. */
export interface AopcFilter {
  /** Skip examples with fewer tokens than this (`[CLS]`/`[SEP]` included; the paper: 20). */
  minTokens?: number;
}

/** AOPC and LOdds per step and averaged. */
export interface AopcSummary {
  /** `[steps]` AOPC_k. */
  aopc: number[];
  /** `[steps]` LOdds_k. */
  lodds: number[];
  aopcMean: number;
  loddsMean: number;
  /** Examples used. */
  n: number;
}

/**
 * AOPC and log-odds of a set of curves (one method), per step and averaged over the steps.
 *
 * @returns per-step and mean values; NaN means when no example passes the filter.
 * @throws Error when curves have different numbers of steps, or a probability is not positive (log-odds).
 */
export function aopcSummary(curves: readonly AopcCurve[], filter: AopcFilter = {}): AopcSummary {
  const use = curves.filter((c) => c.length >= (filter.minTokens ?? 0));
  const steps = use[0]?.probs.length ?? 0;
  const aopc = new Array<number>(steps).fill(0);
  const lodds = new Array<number>(steps).fill(0);
  for (const c of use) {
    if (c.probs.length !== steps) throw new Error(`AOPC: curves have ${steps} and ${c.probs.length} steps`);
    c.probs.forEach((p, k) => {
      if (!(p > 0) || !(c.p0 > 0)) throw new Error(`log-odds: probability ${p} / ${c.p0} is not positive`);
      aopc[k] += (c.p0 - p) / use.length;
      lodds[k] += Math.log(p / c.p0) / use.length;
    });
  }
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  return { aopc, lodds, aopcMean: use.length ? mean(aopc) : NaN, loddsMean: use.length ? mean(lodds) : NaN, n: use.length };
}
