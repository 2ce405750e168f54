/**
 * Reproduction of Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers" (ACL 2020,
 * arXiv 2005.00928), Tables 1 and 2: how well do raw attention, attention rollout and attention flow
 * rank the input tokens the way blank-out (ablation) and input gradients do, layer by layer?
 *
 * Protocol (paper §2–4; reference code samiraabnar/attention_flow, `run_bert_sv.py`, the masked-LM
 * variant of the experiment):
 * - Task: subject–verb agreement. The paper's model reads the sentence up to the verb and classifies
 *   the verb's number from the final `[CLS]` embedding. Ours is a masked LM: the verb is replaced by
 *   `[MASK]` and the whole sentence (left and right context) is read, as the reference BERT script and
 *   Goldberg (2019) do. Items: Marvin & Linzen (2018) agreement pairs (simple, across a prepositional
 *   phrase, subject/object relative clauses).
 * - QoI: p(correct verb) − p(wrong verb) at the `[MASK]` (reference code; `qoi: 'logit'` for the logit
 *   difference). An item is correct when the QoI is > 0.
 * - Output position whose attention row is read: the paper reads the `[CLS]` row (its classifier reads
 *   `[CLS]`); for a masked LM the prediction is made at `[MASK]`, so the default is the `[MASK]` row,
 *   as the reference BERT script (`output_index = verb_position`). `outputPosition: 'cls'` reads `[CLS]`.
 * - Attention importance at layer l (heads averaged, paper §3): raw attention row; attention rollout
 *   row (residual-augmented `0.5·A + 0.5·I`, Eq. 1); attention flow (max flow from each input token
 *   to the output node after layer l).
 * - References: blank-out (each position, one at a time, replaced by `[MASK]`, |ΔQoI|) and input
 *   gradients (|Σ_d ∂QoI/∂e_d| at the word embeddings); gradient × input is a third reference.
 * - Statistic: Spearman's ρ over the tokens of one example (all positions, `[CLS]`/`[SEP]` included,
 *   as the reference code), NaN (constant scores) counted as 0; mean ± population std over examples.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { writeResultsFolder } from './resultsFolder.js';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import type { Bert, Trace } from '../model/bert.js';
import { tokenLogitDiff, tokenProbDiff, type QoI } from '../model/qoi.js';
import type { Tokenizer } from '../io/tokenizer.js';
import { attentionStack, layerMatrix, type AttentionStack } from '../methods/attentionTypes.js';
import { attentionRollout } from '../methods/rollout.js';
import { attentionFlow, attentionFlowAllLayers } from '../methods/attentionFlow.js';
import { blankOut, type Replacement } from '../methods/blankOut.js';
import { inputGradients, type HiddenReduce } from '../methods/inputGradient.js';
import { spearman } from './correlation.js';
import { htmlFigurePage } from '../viz/html.js';
import { attentionMapsFigure, importanceFigure, spearmanBarFigure } from '../viz/attentionFigure.js';

/** One masked agreement item (the shape of `MLItem` from `src/data/marvinLinzen.ts`). */
export interface AgreementItem {
  construction: string;
  condition: string;
  prefixWords: string[];
  suffixWords: string[];
  /** The grammatical word at the mask, and the ungrammatical one. */
  good: string;
  bad: string;
}

/** The attention-based methods compared (rows of the paper's tables). */
export const ATTENTION_METHODS = ['raw', 'rollout', 'flow'] as const;
export type AttentionMethod = (typeof ATTENTION_METHODS)[number];
/** The importance references (the paper's blank-out and input gradients; plus gradient × input). */
export const REFERENCES = ['blankout', 'input_gradient', 'grad_x_input'] as const;
export type Reference = (typeof REFERENCES)[number];

/** Options of {@link runAbnar2020}. */
export interface Abnar2020Options {
  /** Whose attention row is read: `'mask'` (default, the masked LM's prediction position) or `'cls'` (the paper's classifier). */
  outputPosition?: 'mask' | 'cls';
  /** QoI: `'prob'` p(good) − p(bad) (default, the reference code) or `'logit'` z(good) − z(bad). */
  qoi?: 'prob' | 'logit';
  /** Blank-out replacement (default `'mask'`, as the reference code). */
  replacement?: Exclude<Replacement, 'delete'>;
  /** Input-gradient reduction over the hidden dimension (default `'abs-sum'`, the reference code). */
  gradientReduce?: HiddenReduce;
  /** Gradient node (default `'embed.hook_word'`). */
  gradientNode?: 'embed.hook_word' | 'embed.hook_out';
  /** Positions entering the correlations: `'all'` (default, reference code) or `'words'` (no `[CLS]`, `[SEP]`, `[MASK]`). */
  positions?: 'all' | 'words';
  /** 0-based layers for attention flow (the costliest method); default all. */
  flowLayers?: number[] | 'all';
  /** Blank-out sequences per forward pass (default 32). */
  batchSize?: number;
  /** Called after each example. */
  onProgress?: (p: { done: number; total: number; construction: string }) => void;
}

/** Everything computed for one example (one line of `per_example.jsonl`). */
export interface ExampleRecord {
  index: number;
  construction: string;
  condition: string;
  tokens: string[];
  maskPosition: number;
  outputPosition: number;
  good: string;
  bad: string;
  /** QoI on the intact input. */
  qoi: number;
  correct: boolean;
  blankout: number[];
  input_gradient: number[];
  grad_x_input: number[];
  /** Per 0-based layer, `[seq]`: importance of each input token at the output position. */
  raw: number[][];
  rollout: number[][];
  /** Per computed layer (others are empty arrays). */
  flow: number[][];
  /** Spearman ρ keyed `method.L<1-based layer>.reference` (and `input_gradient.blankout`, `grad_x_input.blankout`); null = NaN. */
  spearman: Record<string, number | null>;
}

/** Attention maps of one example for the figure (plain arrays). */
export interface FigureExample {
  tokens: string[];
  outputPosition: number;
  /** `[layers][seq][seq]`, row = from (query), column = to (key). */
  raw: number[][][];
  rollout: number[][][];
  flow: number[][][];
  blankout: number[];
  input_gradient: number[];
  construction: string;
  correct: boolean;
}

/** Result of {@link runAbnar2020}. */
export interface Abnar2020Result {
  /** Rows `(method, layer, reference)` with `mean, std, n, nan, paper_mean, paper_std` (see {@link aggregate}). */
  table: ColumnTable;
  perExample: ExampleRecord[];
  accuracy: { overall: number; n: number; byConstruction: Record<string, { accuracy: number; n: number }> };
  /** Items whose candidates or words could not be encoded as required. */
  skipped: { item: AgreementItem; reason: string }[];
  figure: FigureExample | null;
  layers: number;
  options: Required<Omit<Abnar2020Options, 'onProgress' | 'flowLayers'>> & { flowLayers: number[] };
  seconds: number;
}

/**
 * The paper's Table 1 (vs blank-out) and Table 2 (vs input gradients): Spearman ρ mean and std for
 * layers L1..L6 of their 6-layer verb-number classifier, 2000 test samples.
 */
export const PAPER_TABLES: Record<'blankout' | 'input_gradient', Record<AttentionMethod, [number, number][]>> = {
  blankout: {
    raw: [[0.69, 0.27], [0.1, 0.43], [-0.11, 0.49], [-0.09, 0.52], [0.2, 0.45], [0.29, 0.39]],
    rollout: [[0.32, 0.26], [0.38, 0.27], [0.51, 0.26], [0.62, 0.26], [0.7, 0.25], [0.71, 0.24]],
    flow: [[0.32, 0.26], [0.44, 0.29], [0.7, 0.25], [0.7, 0.22], [0.71, 0.22], [0.7, 0.22]],
  },
  input_gradient: {
    raw: [[0.53, 0.33], [0.16, 0.38], [-0.06, 0.42], [0.0, 0.47], [0.24, 0.4], [0.46, 0.35]],
    rollout: [[0.22, 0.31], [0.27, 0.32], [0.39, 0.32], [0.47, 0.32], [0.53, 0.32], [0.54, 0.31]],
    flow: [[0.22, 0.31], [0.31, 0.34], [0.54, 0.32], [0.61, 0.28], [0.6, 0.28], [0.61, 0.28]],
  },
};

/**
 * The paper's value beside one of our rows: same layer when the model has 6 layers; otherwise our
 * first layer ↔ their L1 and our last ↔ their L6.
 *
 * @param layer 1-based layer; @param layers our model's layer count.
 * @returns `{mean, std, paperLayer}` or null when the paper has no such cell.
 */
export function paperValue(method: string, reference: string, layer: number, layers: number): { mean: number; std: number; paperLayer: number } | null {
  const t = (PAPER_TABLES as Record<string, Record<string, [number, number][]>>)[reference]?.[method];
  if (!t) return null;
  const pl = layers === 6 ? layer : layer === 1 ? 1 : layer === layers ? 6 : null;
  if (pl === null) return null;
  const [mean, std] = t[pl - 1];
  return { mean, std, paperLayer: pl };
}

function stripSpecial(tok: Tokenizer, enc: { ids: number[]; tokens: string[] }): { ids: number[]; tokens: string[] } {
  let { ids, tokens } = enc;
  if (ids[0] === tok.clsId) {
    ids = ids.slice(1);
    tokens = tokens.slice(1);
  }
  if (ids[ids.length - 1] === tok.sepId) {
    ids = ids.slice(0, -1);
    tokens = tokens.slice(0, -1);
  }
  return { ids, tokens };
}

/**
 * The id of a word that must be one wordpiece (a verb candidate), or null.
 */
export function singleTokenId(tok: Tokenizer, word: string): number | null {
  const { ids } = stripSpecial(tok, tok.encode(word));
  if (ids.length !== 1 || (tok.unkId !== undefined && ids[0] === tok.unkId)) return null;
  return ids[0];
}

/**
 * `[CLS] prefix [MASK] suffix [SEP]` as ids and tokens.
 * @returns the sequence and the `[MASK]` position.
 */
export function buildMaskedInput(tok: Tokenizer, item: AgreementItem): { ids: number[]; tokens: string[]; maskPosition: number } {
  const pre = item.prefixWords.length ? stripSpecial(tok, tok.encode(item.prefixWords.join(' '))) : { ids: [], tokens: [] };
  const suf = item.suffixWords.length ? stripSpecial(tok, tok.encode(item.suffixWords.join(' '))) : { ids: [], tokens: [] };
  const ids = [tok.clsId, ...pre.ids, tok.maskId, ...suf.ids, tok.sepId];
  const tokens = ['[CLS]', ...pre.tokens, '[MASK]', ...suf.tokens, '[SEP]'];
  return { ids, tokens, maskPosition: pre.ids.length + 1 };
}

/** Attention of a batch-1 trace as an {@link AttentionStack}. */
function stackOf(trace: Trace): AttentionStack {
  return attentionStack(trace.attentionArray(0), trace.layers, trace.heads, trace.seq);
}

function row(m: Float32Array, r: number, seq: number, offset = 0): number[] {
  return Array.from(m.subarray(offset + r * seq, offset + (r + 1) * seq));
}

function toMatrices(flat: Float32Array, layers: number, seq: number): number[][][] {
  return Array.from({ length: layers }, (_, l) => Array.from({ length: seq }, (_, i) => row(flat, i, seq, l * seq * seq)));
}

/** Key of a correlation in {@link ExampleRecord.spearman}. */
export function corrKey(method: string, layer: number | null, reference: string): string {
  return layer === null ? `${method}.${reference}` : `${method}.L${layer}.${reference}`;
}

/**
 * Runs the experiment on a masked LM.
 *
 * Per item: one forward (attention of every layer), one backward (input gradients), one batched
 * blank-out; raw attention, rollout and flow rows at the output position for every layer; Spearman ρ
 * of each (method, layer) against each reference. Then {@link aggregate}.
 *
 * @param model a BERT with the `mlm` head. @param tokenizer see {@link Tokenizer}.
 * @param items agreement items; items whose `good`/`bad` are not single wordpieces are skipped
 *   (listed in `skipped`).
 * @throws Error when the model has no MLM head, no item is usable, or an item is longer than the
 *   position table.
 */
export function runAbnar2020(model: Bert, tokenizer: Tokenizer, items: AgreementItem[], opts: Abnar2020Options = {}): Abnar2020Result {
  if (model.head !== 'mlm') throw new Error(`abnar2020: the model must be a masked LM (head 'mlm'), got '${model.head}'`);
  const t0 = Date.now();
  const L = model.layers;
  const o = {
    outputPosition: opts.outputPosition ?? 'mask',
    qoi: opts.qoi ?? 'prob',
    replacement: opts.replacement ?? 'mask',
    gradientReduce: opts.gradientReduce ?? 'abs-sum',
    gradientNode: opts.gradientNode ?? 'embed.hook_word',
    positions: opts.positions ?? 'all',
    batchSize: opts.batchSize ?? 32,
    flowLayers: opts.flowLayers === undefined || opts.flowLayers === 'all' ? Array.from({ length: L }, (_, l) => l) : [...opts.flowLayers].sort((a, b) => a - b),
  } as const;
  for (const l of o.flowLayers) model.checkLayerHead(l);
  const skipped: { item: AgreementItem; reason: string }[] = [];
  const usable: { item: AgreementItem; good: number; bad: number }[] = [];
  for (const item of items) {
    const good = singleTokenId(tokenizer, item.good);
    const bad = singleTokenId(tokenizer, item.bad);
    if (good === null || bad === null) skipped.push({ item, reason: `"${good === null ? item.good : item.bad}" is not one wordpiece` });
    else usable.push({ item, good, bad });
  }
  if (usable.length === 0) throw new Error(`abnar2020: none of the ${items.length} items is usable (${skipped[0]?.reason ?? 'no items'})`);
  const perExample: ExampleRecord[] = [];
  let figure: FigureExample | null = null;
  const specialIds = { maskId: tokenizer.maskId, unkId: tokenizer.unkId, padId: tokenizer.padId };
  for (const [index, { item, good, bad }] of usable.entries()) {
    const { ids, tokens, maskPosition } = buildMaskedInput(tokenizer, item);
    const seq = ids.length;
    const outPos = o.outputPosition === 'cls' ? 0 : maskPosition;
    const words = { good: item.good, bad: item.bad };
    const qoi: QoI = o.qoi === 'prob' ? tokenProbDiff(maskPosition, good, bad, words) : tokenLogitDiff(maskPosition, good, bad, words);
    const trace = model.forward({ ids: [ids] }, { record: ['blocks.*.attn.hook_pattern'], logitsAt: [maskPosition] });
    let stack: AttentionStack;
    try {
      stack = stackOf(trace);
    } finally {
      trace.dispose();
    }
    const raw = Array.from({ length: L }, (_, l) => row(layerMatrix(stack, l, 'mean'), outPos, seq));
    const rolloutFlat = attentionRollout(stack);
    const rollout = Array.from({ length: L }, (_, l) => row(rolloutFlat, outPos, seq, l * seq * seq));
    const fl = attentionFlow(stack, { outputLayer: o.flowLayers, outputPositions: [outPos] });
    const flow = Array.from({ length: L }, (_, l) => (fl.flow[l] ? Array.from(fl.flow[l]) : []));
    const bo = blankOut(model, { ids, tokens }, qoi, { replacement: o.replacement, specialIds, batchSize: o.batchSize });
    const grads = inputGradients(model, { ids, tokens }, qoi, { reduce: o.gradientReduce, node: o.gradientNode });
    const refs: Record<Reference, number[]> = { blankout: bo.scores, input_gradient: grads.gradient.scores, grad_x_input: grads.gradientXInput.scores };
    const keep = o.positions === 'all' ? tokens.map((_, i) => i) : tokens.map((_, i) => i).filter((i) => i !== 0 && i !== seq - 1 && i !== maskPosition);
    const pick = (v: number[]) => keep.map((i) => v[i]);
    const sp: Record<string, number | null> = {};
    const rho = (a: number[], b: number[]): number | null => {
      const r = keep.length >= 2 ? spearman(pick(a), pick(b)) : NaN;
      return Number.isNaN(r) ? null : r;
    };
    for (const ref of REFERENCES) {
      for (let l = 0; l < L; l++) {
        sp[corrKey('raw', l + 1, ref)] = rho(raw[l], refs[ref]);
        sp[corrKey('rollout', l + 1, ref)] = rho(rollout[l], refs[ref]);
        if (flow[l].length) sp[corrKey('flow', l + 1, ref)] = rho(flow[l], refs[ref]);
      }
    }
    sp[corrKey('input_gradient', null, 'blankout')] = rho(refs.input_gradient, refs.blankout);
    sp[corrKey('grad_x_input', null, 'blankout')] = rho(refs.grad_x_input, refs.blankout);
    const q = bo.sanity?.value ?? NaN;
    const rec: ExampleRecord = {
      index,
      construction: item.construction,
      condition: item.condition,
      tokens,
      maskPosition,
      outputPosition: outPos,
      good: item.good,
      bad: item.bad,
      qoi: q,
      correct: q > 0,
      ...refs,
      raw,
      rollout,
      flow,
      spearman: sp,
    };
    perExample.push(rec);
    if (!figure || (!figure.correct && rec.correct)) {
      figure = {
        tokens,
        outputPosition: outPos,
        raw: Array.from({ length: L }, (_, l) => toMatrices(layerMatrix(stack, l, 'mean'), 1, seq)[0]),
        rollout: toMatrices(rolloutFlat, L, seq),
        flow: toMatrices(attentionFlowAllLayers(stack), L, seq),
        blankout: refs.blankout,
        input_gradient: refs.input_gradient,
        construction: item.construction,
        correct: rec.correct,
      };
    }
    opts.onProgress?.({ done: index + 1, total: usable.length, construction: item.construction });
  }
  const byConstruction: Record<string, { accuracy: number; n: number }> = {};
  for (const r of perExample) {
    const c = (byConstruction[r.construction] ??= { accuracy: 0, n: 0 });
    c.accuracy += r.correct ? 1 : 0;
    c.n++;
  }
  for (const c of Object.values(byConstruction)) c.accuracy /= c.n;
  const nCorrect = perExample.filter((r) => r.correct).length;
  return {
    table: aggregate(perExample, L),
    perExample,
    accuracy: { overall: nCorrect / perExample.length, n: perExample.length, byConstruction },
    skipped,
    figure,
    layers: L,
    options: o as Abnar2020Result['options'],
    seconds: (Date.now() - t0) / 1000,
  };
}

/**
 * Aggregates per-example correlations into the paper's table shape, with arquero.
 *
 * Rows: every `(method, layer, reference)` with method ∈ raw/rollout/flow, 1-based layer, reference ∈
 * blankout/input_gradient/grad_x_input, plus `(input_gradient, –, blankout)` and
 * `(grad_x_input, –, blankout)` (layer null) as a yardstick of how much the references agree.
 * Columns: `method, layer, reference, mean, std` (population std, NaN ρ counted as 0, as the
 * reference code), `n, nan` (how many ρ were NaN), `paper_layer, paper_mean, paper_std` (see
 * {@link paperValue}; null where the paper has no cell).
 *
 * @param records per-example results (only their `spearman` maps are read).
 * @param layers the model's layer count (for the paper columns).
 */
export function aggregate(records: Pick<ExampleRecord, 'index' | 'spearman'>[], layers: number): ColumnTable {
  const long: { method: string; layer: number | null; reference: string; rho: number; isnan: number }[] = [];
  for (const r of records) {
    for (const [key, v] of Object.entries(r.spearman)) {
      const parts = key.split('.');
      const layer = parts.length === 3 ? Number(parts[1].slice(1)) : null;
      long.push({ method: parts[0], layer, reference: parts[parts.length - 1], rho: v ?? 0, isnan: v === null ? 1 : 0 });
    }
  }
  const order = (m: string) => ['raw', 'rollout', 'flow', 'input_gradient', 'grad_x_input'].indexOf(m);
  const refOrder = (m: string) => (REFERENCES as readonly string[]).indexOf(m);
  const rows = (aq
    .from(long)
    .groupby('method', 'layer', 'reference')
    .rollup({ mean: aq.op.mean('rho'), std: aq.op.stdevp('rho'), n: aq.op.count(), nan: aq.op.sum('isnan') })
    .objects() as { method: string; layer: number | null; reference: string; mean: number; std: number; n: number; nan: number }[])
    .sort((a, b) => refOrder(a.reference) - refOrder(b.reference) || order(a.method) - order(b.method) || (a.layer ?? 0) - (b.layer ?? 0))
    .map((r) => {
      const p = r.layer === null ? null : paperValue(r.method, r.reference, r.layer, layers);
      // stdevp of a single value is 0; arquero gives NaN for n < 2 in some versions.
      return { ...r, std: r.n < 2 ? 0 : r.std, paper_layer: p ? `L${p.paperLayer}` : null, paper_mean: p?.mean ?? null, paper_std: p?.std ?? null };
    });
  return aq.from(rows);
}

/** What the summary says about where the results came from. */
export interface RunInfo {
  model: string;
  /** e.g. `BERT 4 layers × 4 heads, hidden 128`. */
  modelDescription?: string;
  seed?: number;
  limit?: number;
  constructions?: string[];
  /** Extra lines (e.g. "random model: results are meaningless"). */
  warnings?: string[];
}

const fmt = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const pm = (m: number | null | undefined, s: number | null | undefined): string => (m === null || m === undefined ? '–' : `${fmt(m)} ± ${fmt(s)}`);

type Row = { method: string; layer: number | null; reference: string; mean: number; std: number; n: number; nan: number; paper_layer: string | null; paper_mean: number | null; paper_std: number | null };

/**
 * `summary.md`: the table in words, beside the paper's Tables 1–2.
 *
 * @returns Markdown text.
 */
export function abnar2020Summary(res: Abnar2020Result, info: RunInfo): string {
  const rows = res.table.objects() as Row[];
  const L = res.layers;
  const get = (m: string, l: number | null, r: string) => rows.find((x) => x.method === m && x.layer === l && x.reference === r);
  const o = res.options;
  const lines: string[] = [];
  lines.push('# Reproduction: Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"', '');
  lines.push(`Model: \`${info.model}\`${info.modelDescription ? ` (${info.modelDescription})` : ''}. Examples: ${res.perExample.length} Marvin & Linzen agreement items` +
    `${info.constructions ? ` (${info.constructions.join(', ')})` : ''}${res.skipped.length ? `; ${res.skipped.length} skipped (a verb form is not one wordpiece)` : ''}.` +
    `${info.seed !== undefined ? ` Seed ${info.seed}.` : ''} Time ${res.seconds.toFixed(1)} s.`, '');
  for (const w of info.warnings ?? []) lines.push(`> **Warning:** ${w}`, '');
  lines.push(`**Agreement accuracy** (p(correct verb) > p(wrong verb) at the [MASK]): ${(100 * res.accuracy.overall).toFixed(1)} % of ${res.accuracy.n}` +
    ` (the paper's classifier: 96 % on Linzen et al.'s test set).`, '');
  lines.push('| construction | accuracy | n |', '|---|---|---|');
  for (const [c, a] of Object.entries(res.accuracy.byConstruction)) lines.push(`| ${c} | ${(100 * a.accuracy).toFixed(1)} % | ${a.n} |`);
  lines.push('');
  lines.push('## Protocol', '');
  lines.push(`- Output position whose attention is read: **${o.outputPosition === 'mask' ? '[MASK]' : '[CLS]'}** row. The paper reads the [CLS] row (their model classifies from [CLS]); a masked LM predicts at the [MASK], as in the reference code's BERT script (\`--output-position cls\` reads [CLS]).`);
  lines.push(`- QoI: ${o.qoi === 'prob' ? 'p(correct verb) − p(wrong verb)' : 'logit(correct) − logit(wrong)'} at the [MASK].`);
  lines.push(`- Blank-out: each position replaced by ${o.replacement === 'mask' ? '[MASK]' : JSON.stringify(o.replacement)} one at a time, score |ΔQoI|. Input gradient: ${o.gradientReduce === 'abs-sum' ? '|Σ_d ∂QoI/∂e_d|' : o.gradientReduce} at \`${o.gradientNode}\` (the reference code reduces by |Σ_d|; its DistilBERT gradient is at the embedding output, \`--gradient-node embed.hook_out\` here); gradient × input likewise.`);
  lines.push(`- Attention: heads averaged; rollout and flow on 0.5·A + 0.5·I. Spearman ρ over ${o.positions === 'all' ? 'all positions ([CLS], [SEP], [MASK] included, as the reference code)' : 'the word positions (no [CLS], [SEP], [MASK])'}; constant scores (ρ undefined) count as 0; mean ± population std over examples.`);
  lines.push('');
  lines.push('## Spearman ρ, ours beside the paper', '');
  lines.push(`Paper = Table 1 (vs blank-out) and Table 2 (vs input gradients), their 6-layer model${L === 6 ? '' : `; our L1 is set beside their L1 and our L${L} beside their L6`}.`, '');
  lines.push('| method | layer | vs blank-out | paper T1 | vs input gradient | paper T2 | vs grad × input |', '|---|---|---|---|---|---|---|');
  for (const m of ATTENTION_METHODS) {
    for (let l = 1; l <= L; l++) {
      const b = get(m, l, 'blankout');
      const g = get(m, l, 'input_gradient');
      const x = get(m, l, 'grad_x_input');
      if (!b && !g) continue;
      lines.push(`| ${m} | L${l} | ${pm(b?.mean, b?.std)} | ${pm(b?.paper_mean, b?.paper_std)}${b?.paper_layer && b.paper_layer !== `L${l}` ? ` (${b.paper_layer})` : ''} | ${pm(g?.mean, g?.std)} | ${pm(g?.paper_mean, g?.paper_std)} | ${pm(x?.mean, x?.std)} |`);
    }
  }
  const gb = get('input_gradient', null, 'blankout');
  const xb = get('grad_x_input', null, 'blankout');
  lines.push('');
  lines.push(`The two references agree with each other to ρ = ${pm(gb?.mean, gb?.std)} (input gradient vs blank-out) and ${pm(xb?.mean, xb?.std)} (gradient × input vs blank-out): an attention method cannot be expected to correlate much better than that.`, '');
  lines.push('## In words', '');
  for (const ref of ['blankout', 'input_gradient'] as const) {
    const name = ref === 'blankout' ? 'blank-out' : 'input gradients';
    const best = (l: number) =>
      ATTENTION_METHODS.map((m) => ({ m, r: get(m, l, ref) })).filter((x) => x.r).sort((a, b) => (b.r as Row).mean - (a.r as Row).mean)[0];
    const b1 = best(1);
    const bL = best(L);
    const raw1 = get('raw', 1, ref);
    const rawL = get('raw', L, ref);
    const rolL = get('rollout', L, ref);
    const flL = get('flow', L, ref);
    const s: string[] = [];
    s.push(`**vs ${name}:** at L1 the best is ${b1?.m} (ρ = ${fmt(b1?.r?.mean)}); at L${L}, ${bL?.m} (ρ = ${fmt(bL?.r?.mean)}).`);
    if (raw1 && rawL) {
      s.push(`Raw attention goes from ${fmt(raw1.mean)} at L1 to ${fmt(rawL.mean)} at L${L}` +
        (rawL.mean < raw1.mean - 0.05 ? ', falling with depth as in the paper (their raw: ' : ', not falling with depth as it does in the paper (their raw: ') +
        `${fmt(raw1.paper_mean)} → ${fmt(rawL.paper_mean)}).`);
    }
    if (rolL && flL && rawL) {
      const both = rolL.mean > rawL.mean && flL.mean > rawL.mean;
      s.push(`At L${L}, rollout (${fmt(rolL.mean)}) and flow (${fmt(flL.mean)}) ${both ? 'both beat' : 'do not both beat'} raw attention (${fmt(rawL.mean)})` +
        ` — the paper's main claim${both ? ' holds here' : ' does not hold here'} (paper: rollout ${fmt(rolL.paper_mean)}, flow ${fmt(flL.paper_mean)}, raw ${fmt(rawL.paper_mean)}).`);
      s.push(`Flow ${flL.mean >= rolL.mean ? '≥' : '<'} rollout at L${L} (paper: flow ${ref === 'blankout' ? '≈' : '>'} rollout at L6).`);
    }
    lines.push(s.join(' '), '');
  }
  if (o.positions === 'all') {
    // Robustness: the [MASK] itself has blank-out 0 by construction (masking a mask changes nothing) but
    // large rollout/flow (the residual), and [CLS]/[SEP] are no words: recompute without those positions.
    const layersShown = [...new Set([1, L])];
    const wordsRho = (m: AttentionMethod, l: number, ref: Reference): number => {
      const v = res.perExample
        .filter((r) => r[m][l - 1]?.length)
        .map((r) => {
          const keep = r.tokens.map((_, i) => i).filter((i) => i !== 0 && i !== r.tokens.length - 1 && i !== r.maskPosition);
          const x = spearman(keep.map((i) => r[m][l - 1][i]), keep.map((i) => r[ref][i]));
          return Number.isNaN(x) ? 0 : x;
        });
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
    };
    lines.push('## Robustness: word positions only', '');
    lines.push('The default follows the reference code and correlates over all positions. The [MASK] position has blank-out 0 by construction (masking the mask changes nothing) while rollout and flow give it much weight (the residual path), and [CLS]/[SEP] are not words. Mean ρ without [CLS], [SEP] and [MASK]:', '');
    lines.push('| method | ' + layersShown.map((l) => `L${l} vs blank-out | L${l} vs input gradient`).join(' | ') + ' |');
    lines.push('|---|' + layersShown.map(() => '---|---|').join(''));
    for (const m of ATTENTION_METHODS) {
      lines.push(`| ${m} | ` + layersShown.map((l) => `${fmt(wordsRho(m, l, 'blankout'))} | ${fmt(wordsRho(m, l, 'input_gradient'))}`).join(' | ') + ' |');
    }
    lines.push('');
  }
  lines.push('## Differences from the paper', '');
  lines.push('- Model: the paper trains a 6-layer, 8-head, 128-wide GPT-2-block encoder as a verb-number classifier on Linzen et al. (2016) sentences cut at the verb; ours is a BERT masked LM that sees the whole sentence with the verb masked.');
  lines.push('- Data: templated Marvin & Linzen (2018) pairs instead of 2000 natural-corpus test sentences; fewer examples, so the means have standard errors of about std/√n.');
  lines.push('- The reference script accumulates the per-layer correlation lists without resetting them between layers (its printed L>1 numbers are running means over layers); we compute each layer separately.');
  lines.push('');
  lines.push('Files: `table.csv` (one row per method × layer × reference), `per_example.jsonl` (all scores and correlations per example), `figure.html` (attention maps of one example and the bar chart; opens offline).');
  return lines.join('\n') + '\n';
}

/**
 * Writes `table.csv`, `per_example.jsonl`, `summary.md` and `figure.html` into `dir` atomically: all
 * four are written to a temporary sibling folder that then replaces `dir`, so an error leaves no
 * half-written results (a previous `dir` stays as it was until the swap).
 *
 * @throws Error when writing fails (the temporary folder is removed).
 */
export function writeAbnar2020Outputs(dir: string, res: Abnar2020Result, info: RunInfo): string[] {
  return writeResultsFolder(dir, ['table.csv', 'per_example.jsonl', 'summary.md', 'figure.html'], (tmp) => {
    writeFileSync(join(tmp, 'table.csv'), res.table.toCSV().replace(/\n*$/, '\n'));
    writeFileSync(join(tmp, 'per_example.jsonl'), res.perExample.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(tmp, 'summary.md'), abnar2020Summary(res, info));
    const figures = [spearmanBarFigure(res.table.objects() as Row[])];
    if (res.figure) {
      const f = res.figure;
      const ex = `example: "${f.tokens.join(' ')}" (${f.construction}, ${f.correct ? 'correct' : 'wrong'})`;
      figures.unshift(
        attentionMapsFigure(f, { title: `Attention maps across layers — ${ex}` }),
        importanceFigure(f, f.outputPosition, { 'blank-out': f.blankout, 'input gradient': f.input_gradient }),
      );
    }
    writeFileSync(join(tmp, 'figure.html'), htmlFigurePage({
      title: `Abnar & Zuidema 2020 reproduction — ${info.model}`,
      notes: [`${res.perExample.length} examples, accuracy ${(100 * res.accuracy.overall).toFixed(1)} %, output position ${res.options.outputPosition === 'mask' ? '[MASK]' : '[CLS]'}.`, ...(info.warnings ?? [])],
      figures,
    }));
  });
}
