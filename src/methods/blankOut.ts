/**
 * Blank-out (leave-one-out occlusion): the importance of input token i is the change of the QoI when
 * token i alone is replaced (or removed).
 *
 * Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers" (arXiv 2005.00928), §2: "Blank-out
 * replaces each token in the input, one by one, with UNK and measures how much it affects the predicted
 * probability of the correct class." Their masked-LM script (samiraabnar/attention_flow,
 * `run_bert_sv.py`) replaces each position, `[CLS]`/`[SEP]` included, with the tokenizer's **mask**
 * token and scores `|QoI(x) − QoI(x with token i blanked)|`, QoI = p(correct verb) − p(wrong verb) at
 * the `[MASK]`. That is the default here: `replacement: 'mask'`, absolute difference, every position.
 *
 * All variants run batched through {@link qoiValues} (`batchSize` sequences a forward pass).
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import type { QoI } from '../model/qoi.js';
import type { ForwardOptions } from '../model/types.js';
import type { SpecialIds } from '../io/tokenizer.js';
import { qoiValues } from '../model/run.js';
import { exampleTokens, tokenAttribution, type ExampleInput, type TokenAttribution } from './result.js';
import { fitBatchSize } from '../backend/memory.js';
import { IndexError } from '../errors.js';

/**
 * What replaces the blanked token: the `[MASK]`, `[PAD]` or `[UNK]` id (from `specialIds`), an explicit
 * id, or `'delete'` (the token is removed and the sequence is one shorter).
 */
export type Replacement = 'mask' | 'pad' | 'unk' | 'delete' | { id: number; name?: string };

/** Options of {@link blankOut}. */
export interface BlankOutOptions {
  /** Default `'mask'` (the reference code). */
  replacement?: Replacement;
  /** Ids for named replacements (pass the tokenizer). */
  specialIds?: SpecialIds;
  /** Signed `QoI(blanked) − QoI(x)` instead of `|QoI(x) − QoI(blanked)|` (default false: absolute). */
  signed?: boolean;
  /**
   * Positions to blank out (default: all, `[CLS]`/`[SEP]` included as in the reference code).
   * Positions not listed get score 0 and are listed in `meta.skipped`.
   */
  positions?: number[];
  /** Sequences per forward pass (default 32). */
  batchSize?: number;
  /**
   * `'delete'` only, for QoIs tied to a position (`qoi.positions`): the same QoI at shifted positions
   * (a deletion before the position moves it left by one). Required in that case.
   */
  retarget?: (positions: number[]) => QoI;
  /** Passed to every forward pass (e.g. a `headMask` or `hooks` intervention). */
  forward?: ForwardOptions;
}

function replacementId(r: Exclude<Replacement, 'delete'>, ids: SpecialIds | undefined): { id: number; name: string } {
  if (typeof r === 'object') {
    if (!Number.isInteger(r.id) || r.id < 0) throw new Error(`blankOut: replacement id ${r.id} is not a token id`);
    return { id: r.id, name: r.name ?? `id ${r.id}` };
  }
  const key = ({ mask: 'maskId', pad: 'padId', unk: 'unkId' } as const)[r];
  if (!key) throw new Error(`blankOut: unknown replacement "${String(r)}" (use 'mask', 'pad', 'unk', 'delete' or {id})`);
  const id = ids?.[key];
  if (id === undefined || !Number.isInteger(id) || id < 0) {
    throw new Error(`blankOut: replacement '${r}' needs specialIds.${key} (pass the tokenizer as specialIds)`);
  }
  return { id, name: `[${r.toUpperCase()}]` };
}

/** Evaluate a QoI on many sequences of equal length, `batchSize` at a time. */
function batchedValues(
  model: Bert,
  rows: number[][],
  extra: { tokenTypeIds?: number[][]; attentionMask?: number[][] },
  qoi: QoI,
  batchSize: number,
  forward: ForwardOptions,
): number[] {
  const out: number[] = [];
  for (let s = 0; s < rows.length; s += batchSize) {
    const e = Math.min(rows.length, s + batchSize);
    out.push(
      ...qoiValues(
        model,
        {
          ids: rows.slice(s, e),
          tokenTypeIds: extra.tokenTypeIds?.slice(s, e),
          attentionMask: extra.attentionMask?.slice(s, e),
        },
        qoi,
        forward,
      ),
    );
  }
  return out;
}

/**
 * Blank-out importance of every input token (paper §2; reference `run_bert_sv.py`).
 *
 * score_i = |QoI(x) − QoI(x with token i replaced)| (or signed `QoI(x_i blanked) − QoI(x)` with
 * `signed`). Positions whose replacement is the token itself (e.g. the `[MASK]` already there) score 0.
 *
 * @param input one sequence, `ids` `[seq]`.
 * @param qoi the quantity explained (e.g. `tokenProbDiff(maskPos, good, bad)`).
 * @returns method `'blankout'`, `scores` `[seq]`; `sanity` = `{name: 'qoi', value: QoI(x)}`;
 *   `meta` = `{replacement, signed, skipped}`.
 * @throws Error for a named replacement without its id in `specialIds`, a position outside the
 *   sequence, `'delete'` of a one-token input, or `'delete'` with a positioned QoI but no `retarget`.
 */
export function blankOut(model: Bert, input: ExampleInput, qoi: QoI, opts: BlankOutOptions = {}): TokenAttribution {
  const tokens = exampleTokens(input);
  const seq = input.ids.length;
  const batchSize = fitBatchSize(model.config, model.head, seq, Math.max(1, opts.batchSize ?? 32), false, 'blank-out');
  const positions = opts.positions ?? Array.from({ length: seq }, (_, i) => i);
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p >= seq) throw new IndexError(`blankOut: position ${p} is outside 0..${seq - 1}`);
  }
  const r = opts.replacement ?? 'mask';
  const fwd = opts.forward ?? {};
  const scores = new Array<number>(seq).fill(0);
  const base = qoiValues(
    model,
    { ids: [input.ids], tokenTypeIds: input.tokenTypeIds && [input.tokenTypeIds], attentionMask: input.attentionMask && [input.attentionMask] },
    qoi,
    fwd,
  )[0];
  const diff = (v: number): number => (opts.signed ? v - base : Math.abs(base - v));
  let replacementName: string;
  if (r === 'delete') {
    replacementName = 'delete';
    if (seq < 2) throw new Error('blankOut: cannot delete the only token of a one-token input');
    const qpos = qoi.positions ?? [];
    if (qpos.length && !opts.retarget) {
      throw new Error(`blankOut: 'delete' moves the QoI's positions (${qpos.join(', ')}); pass options.retarget`);
    }
    // Group deletions by how the QoI's positions shift; deleting a QoI position itself scores 0.
    const groups = new Map<string, { shifted: number[]; at: number[] }>();
    for (const p of positions) {
      if (qpos.includes(p)) continue;
      const shifted = qpos.map((q) => (p < q ? q - 1 : q));
      const key = shifted.join(',');
      if (!groups.has(key)) groups.set(key, { shifted, at: [] });
      (groups.get(key) as { at: number[] }).at.push(p);
    }
    const drop = <T>(a: T[] | undefined, p: number): T[] | undefined => (a ? a.filter((_, i) => i !== p) : undefined);
    for (const { shifted, at } of groups.values()) {
      const q = qpos.length ? (opts.retarget as (p: number[]) => QoI)(shifted) : qoi;
      const rows = at.map((p) => drop(input.ids, p) as number[]);
      const tt = input.tokenTypeIds ? at.map((p) => drop(input.tokenTypeIds, p) as number[]) : undefined;
      const am = input.attentionMask ? at.map((p) => drop(input.attentionMask, p) as number[]) : undefined;
      const vals = batchedValues(model, rows, { tokenTypeIds: tt, attentionMask: am }, q, batchSize, fwd);
      at.forEach((p, k) => (scores[p] = diff(vals[k])));
    }
  } else {
    const { id, name } = replacementId(r, opts.specialIds);
    replacementName = name;
    const todo = positions.filter((p) => input.ids[p] !== id);
    const rows = todo.map((p) => input.ids.map((t, i) => (i === p ? id : t)));
    const rep = <T>(a: T[] | undefined): T[][] | undefined => (a ? todo.map(() => a) : undefined);
    const vals = batchedValues(model, rows, { tokenTypeIds: rep(input.tokenTypeIds), attentionMask: rep(input.attentionMask) }, qoi, batchSize, fwd);
    todo.forEach((p, k) => (scores[p] = diff(vals[k])));
  }
  const skipped = Array.from({ length: seq }, (_, i) => i).filter((i) => !positions.includes(i));
  return tokenAttribution('blankout', tokens, scores, qoi.describe, {
    sanity: { name: 'qoi', value: base },
    meta: { replacement: replacementName, signed: !!opts.signed, skipped },
  });
}
