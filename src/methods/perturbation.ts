/**
 * The perturbation primitive of faithfulness tests: remove (or replace) input tokens in order of
 * attribution, never touching `[CLS]`/`[SEP]`, and read the classifier's class probabilities, batched.
 *
 * Used by the degradation test of Jiang et al. 2020 ("Inserting Information Bottlenecks for
 * Attribution in Transformers", EMNLP Findings, arXiv 2012.13838, §4.2; reference code
 * `bazingagin/IBA`, `Degradation.py`), by LIME's perturbation sampling ({@link ../methods/lime.js}),
 * and by AOPC / log-odds style tests (DeYoung et al. 2020; Chen et al. 2020) that replace tokens with
 * `[PAD]` or `[MASK]`.
 *
 * Modes: `'delete'` removes the token (the sequence gets shorter; the reference code's default);
 * `'mask'`, `'pad'`, `'unk'` or `{id}` put that token id in its place (the reference's `--replace`
 * uses `[MASK]`). Rows of different lengths are right-padded with `[PAD]` and given an attention mask
 * (0 on padding), which leaves a BERT classifier's logits unchanged (padded keys get probability 0).
 *
 * @module
 */
import { classifyRows } from '../model/classify.js';
import type { Bert } from '../model/bert.js';
import type { ForwardOptions } from '../model/types.js';
import type { SpecialIds } from '../io/tokenizer.js';
import type { ExampleInput } from './result.js';
import { IndexError, OptionError } from '../errors.js';

/** How a removed token is treated: deleted, or replaced by `[MASK]`/`[PAD]`/`[UNK]` or an explicit id. */
export type PerturbationMode = 'delete' | 'mask' | 'pad' | 'unk' | { id: number; name?: string };

/** One perturbed input row (plain arrays). */
export interface PerturbedRow {
  ids: number[];
  tokenTypeIds?: number[];
}

/** Options shared by the functions of this module. */
export interface PerturbationOptions {
  /** Default `'delete'` (the reference degradation test). */
  mode?: PerturbationMode;
  /** Ids of `[CLS]`/`[SEP]` (never removed) and of the replacement tokens (pass the tokenizer). */
  specialIds?: SpecialIds;
  /** Positions never removed (default: every position holding the `[CLS]` or `[SEP]` id). */
  keep?: number[];
  /** Rows per forward pass (default 32). */
  batchSize?: number;
  /** Passed to every forward pass. */
  forward?: ForwardOptions;
}

/** Class probabilities after removing a growing share of the tokens (see {@link probabilitiesAfterRemoval}). */
export interface RemovalCurve {
  /** `[k]` requested fractions of the removable tokens, in [0, 1]. */
  fractions: number[];
  /** `[k]` number of tokens removed at each fraction: round(fraction · removable). */
  removed: number[];
  /** Number of removable tokens (all positions but the kept ones). */
  removable: number;
  /** `[k][labels]` softmax class probabilities. */
  probs: number[][];
  /** Removal order actually used (positions, first removed first), `[removable]`. */
  order: number[];
}

/** The replacement id of a mode, or null for `'delete'`. @throws Error when a named mode lacks its id. */
export function replacementIdOf(mode: PerturbationMode, ids: SpecialIds = {}): number | null {
  if (mode === 'delete') return null;
  if (typeof mode === 'object') {
    if (!Number.isInteger(mode.id) || mode.id < 0) throw new Error(`perturbation: replacement id ${mode.id} is not a token id`);
    return mode.id;
  }
  const key = ({ mask: 'maskId', pad: 'padId', unk: 'unkId' } as const)[mode];
  if (!key) throw new Error(`perturbation: unknown mode "${String(mode)}" (use 'delete', 'mask', 'pad', 'unk' or {id})`);
  const id = ids[key];
  if (id === undefined || !Number.isInteger(id) || id < 0) throw new Error(`perturbation: mode '${mode}' needs specialIds.${key} (pass the tokenizer)`);
  return id;
}

/** A short name of a mode for tables (`delete`, `[MASK]`, `id 7`). */
export function modeName(mode: PerturbationMode): string {
  if (typeof mode === 'object') return mode.name ?? `id ${mode.id}`;
  return mode === 'delete' ? 'delete' : `[${mode.toUpperCase()}]`;
}

/**
 * Positions never removed: `opts.keep`, or every position holding the `[CLS]`/`[SEP]` id.
 * @throws RangeError for a kept position outside the sequence.
 */
export function keptPositions(ids: readonly number[], opts: Pick<PerturbationOptions, 'keep' | 'specialIds'> = {}): number[] {
  if (opts.keep) {
    for (const p of opts.keep)
      if (!Number.isInteger(p) || p < 0 || p >= ids.length) throw new IndexError(`perturbation: kept position ${p} is outside 0..${ids.length - 1}`);
    return [...new Set(opts.keep)].sort((a, b) => a - b);
  }
  const s = opts.specialIds ?? {};
  return ids.map((t, i) => (t === s.clsId || t === s.sepId ? i : -1)).filter((i) => i >= 0);
}

/**
 * Removal order from attribution scores: positions sorted by score, highest first
 * (`mostImportantFirst`, default) or lowest first; ties keep position order; kept positions excluded.
 *
 * @param scores `[seq]`; @param keep positions excluded from the order.
 * @returns `[seq − |keep|]` positions.
 * @throws Error when a score is NaN.
 */
export function removalOrder(scores: readonly number[], keep: readonly number[] = [], mostImportantFirst = true): number[] {
  const k = new Set(keep);
  const bad = scores.findIndex((v) => Number.isNaN(v));
  if (bad >= 0) throw new Error(`removalOrder: score of position ${bad} is NaN`);
  const pos = scores.map((_, i) => i).filter((i) => !k.has(i));
  return pos.sort((a, b) => (mostImportantFirst ? scores[b] - scores[a] : scores[a] - scores[b]) || a - b);
}

/**
 * The fractions of the degradation test: `n` equally spaced points from 0 to 1 inclusive
 * (`numpy.linspace(0, 1, n)`, as the reference code's `degrad_step`).
 * @throws RangeError when `n < 2`.
 */
export function removalFractions(n = 10): number[] {
  if (!Number.isInteger(n) || n < 2) throw new OptionError(`removal fractions: need an integer n ≥ 2, got ${n}`);
  return Array.from({ length: n }, (_, i) => i / (n - 1));
}

/**
 * The example with the tokens at `remove` deleted or replaced.
 *
 * @param remove positions to remove (any order; duplicates ignored).
 * @returns the perturbed row (ids and, when the example has them, token type ids).
 * @throws RangeError for a position outside the sequence; Error for a mode lacking its id.
 */
export function perturbRow(example: ExampleInput, remove: Iterable<number>, mode: PerturbationMode = 'delete', specialIds: SpecialIds = {}): PerturbedRow {
  const n = example.ids.length;
  const r = new Set<number>();
  for (const p of remove) {
    if (!Number.isInteger(p) || p < 0 || p >= n) throw new IndexError(`perturbation: position ${p} is outside 0..${n - 1}`);
    r.add(p);
  }
  const rep = replacementIdOf(mode, specialIds);
  if (rep === null) {
    const ids = example.ids.filter((_, i) => !r.has(i));
    return example.tokenTypeIds ? { ids, tokenTypeIds: example.tokenTypeIds.filter((_, i) => !r.has(i)) } : { ids };
  }
  const ids = example.ids.map((t, i) => (r.has(i) ? rep : t));
  return example.tokenTypeIds ? { ids, tokenTypeIds: example.tokenTypeIds.slice() } : { ids };
}

/**
 * Softmax class probabilities of a sequence classifier for rows of any lengths, `batchSize` rows a
 * forward pass (right-padded with `padId`, attention mask 0 on padding).
 *
 * @param rows `[n]` rows, each at least one token.
 * @returns `[n][labels]`.
 * @throws Error when the model has no classifier head, or a row is empty.
 */
export function classProbabilities(
  model: Bert,
  rows: readonly PerturbedRow[],
  opts: { batchSize?: number; padId?: number; forward?: ForwardOptions } = {},
): number[][] {
  if (rows.some((r) => r.ids.length === 0)) throw new Error('classProbabilities: a perturbed row has no tokens left');
  return classifyRows(model, rows, opts).probs;
}

/**
 * Class probabilities after removing 0 … all removable tokens in order of attribution (the
 * degradation test's inner loop; Jiang et al. 2020 §4.2, reference `Degradation.py`).
 *
 * At fraction f, the first round(f · m) positions of the removal order are deleted/replaced, where m is
 * the number of removable tokens (every position but `[CLS]`/`[SEP]` or `opts.keep`). The reference
 * code counts round(f · seq) with `[CLS]`/`[SEP]` included in seq and then skips them, so its fraction
 * 1 removes the same tokens but its intermediate fractions remove slightly more.
 *
 * @param ranking `{scores}` `[seq]` attribution scores (removal most-important-first unless
 *   `leastImportantFirst`), or `{order}` an explicit removal order of positions (kept positions in it
 *   are skipped).
 * @param fractions `[k]` in [0, 1] (e.g. {@link removalFractions}).
 * @returns a {@link RemovalCurve}; all rows of one example go through the model in batches.
 * @throws Error for scores of the wrong length, a fraction outside [0, 1], a mode lacking its id,
 *   or a non-classifier model.
 */
export function probabilitiesAfterRemoval(
  model: Bert,
  example: ExampleInput,
  ranking: { scores: readonly number[]; leastImportantFirst?: boolean } | { order: readonly number[] },
  fractions: readonly number[],
  opts: PerturbationOptions = {},
): RemovalCurve {
  const n = example.ids.length;
  if (n === 0) throw new Error('perturbation: empty example');
  const keep = keptPositions(example.ids, opts);
  let order: number[];
  if ('scores' in ranking) {
    if (ranking.scores.length !== n) throw new Error(`perturbation: ${ranking.scores.length} scores for ${n} tokens`);
    order = removalOrder(ranking.scores, keep, !ranking.leastImportantFirst);
  } else {
    const k = new Set(keep);
    for (const p of ranking.order) if (!Number.isInteger(p) || p < 0 || p >= n) throw new IndexError(`perturbation: position ${p} is outside 0..${n - 1}`);
    order = [...new Set(ranking.order)].filter((p) => !k.has(p));
    const rest = Array.from({ length: n }, (_, i) => i).filter((i) => !k.has(i) && !order.includes(i));
    order.push(...rest);
  }
  for (const f of fractions) if (!(f >= 0 && f <= 1)) throw new OptionError(`perturbation: fraction ${f} is outside [0, 1]`);
  const mode = opts.mode ?? 'delete';
  const m = order.length;
  const removed = fractions.map((f) => Math.round(f * m));
  const rows = removed.map((c) => perturbRow(example, order.slice(0, c), mode, opts.specialIds ?? {}));
  if (rows.some((r) => r.ids.length === 0)) throw new Error('perturbation: removing every token leaves an empty input (keep [CLS]/[SEP] or pass keep)');
  const probs = classProbabilities(model, rows, { batchSize: opts.batchSize, padId: opts.specialIds?.padId, forward: opts.forward });
  return { fractions: fractions.slice(), removed, removable: m, probs, order };
}
