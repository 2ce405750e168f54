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
import { classLogit, classProb, tokenLogitDiff, tokenProbDiff, type QoI } from '../model/qoi.js';
import type { Tokenizer } from '../io/tokenizer.js';
import type { MLItem } from '../data/marvinLinzen.js';
import { attentionStack, layerMatrix, type AttentionStack } from '../methods/attentionTypes.js';
import { attentionRollout } from '../methods/rollout.js';
import { attentionFlow, attentionFlowAllLayers } from '../methods/attentionFlow.js';
import { blankOut, type Replacement } from '../methods/blankOut.js';
import { inputGradients, type HiddenReduce } from '../methods/inputGradient.js';
import { spearman } from './correlation.js';
import { htmlFigurePage } from '../viz/html.js';
import { attentionMapsFigure, importanceFigure, spearmanBarFigure } from '../viz/attentionFigure.js';
import { abnar2020Summary } from './abnar2020Summary.js';

export { abnar2020Summary };

/** One masked agreement item: the fields of a Marvin & Linzen item ({@link MLItem}) that the masked-LM setup reads. */
export type AgreementItem = Pick<MLItem, 'construction' | 'condition' | 'prefixWords' | 'suffixWords' | 'good' | 'bad'>;

/**
 * One number-prediction item for a sequence classifier (the paper's own setup): the words before the
 * verb and the verb's number class (see `src/data/numberAgreement.ts`).
 */
export interface NumberItem {
  /** Group whose accuracy is reported (e.g. `natural, 1 attractor`). */
  construction: string;
  condition: string;
  /** The words before the verb. */
  words: string[];
  /** The correct class (0 singular, 1 plural). */
  label: number;
  /** Class names in class order (default `['singular', 'plural']`). */
  labelNames?: string[];
}

/**
 * One example as the experiment runs it, whatever the setup: the input, the attention row read, the QoI
 * and how correctness is judged. Built by {@link prepareMaskedItems} (masked LM) or
 * {@link prepareNumberItems} (classifier).
 */
export interface PreparedExample {
  construction: string;
  condition: string;
  ids: number[];
  tokens: string[];
  /** The `[MASK]` position (masked LM), or null (classifier). */
  maskPosition: number | null;
  /** Whose attention row is read (the output position). */
  outputPosition: number;
  /** The QoI explained by blank-out and the input gradients. */
  qoi: QoI;
  /** MLM: the positions whose logits the forward computes. */
  logitsAt?: number[];
  /** Names of the correct and the wrong answer (verb forms or classes). */
  good: string;
  bad: string;
  /** Correct from the intact input's logits (`[labels]` or the `[MASK]` row) and QoI value. */
  isCorrect: (logits: Float32Array | Int32Array | Uint8Array, qoi: number) => boolean;
}

/** The attention-based methods compared (rows of the paper's tables). */
export const ATTENTION_METHODS = ['raw', 'rollout', 'flow'] as const;
export type AttentionMethod = (typeof ATTENTION_METHODS)[number];
/** The importance references (the paper's blank-out and input gradients; plus gradient × input). */
export const REFERENCES = ['blankout', 'input_gradient', 'grad_x_input'] as const;
export type Reference = (typeof REFERENCES)[number];

/** Options of {@link runAbnar2020}. */
export interface Abnar2020Options {
  /**
   * Whose attention row is read: masked LM `'mask'` (default, its prediction position) or `'cls'`;
   * a classifier always reads `'cls'` (the paper).
   */
  outputPosition?: 'mask' | 'cls';
  /**
   * QoI, default `'prob'`. Masked LM: p(good) − p(bad) at the `[MASK]` (the reference code), `'logit'`
   * z(good) − z(bad). Classifier: the probability of the correct class (the paper: "the predicted
   * probability of the correct class"), `'logit'` its logit.
   */
  qoi?: 'prob' | 'logit';
  /** Blank-out replacement (default: masked LM `'mask'`, as the reference code; classifier `'unk'`, as the paper). */
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
  /** The `[MASK]` position (masked LM) or null (classifier). */
  maskPosition: number | null;
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
  skipped: { item: AgreementItem | NumberItem; reason: string }[];
  figure: FigureExample | null;
  layers: number;
  /** `'mlm'`: masked LM read at `[MASK]`; `'classifier'`: the paper's setup, a classifier read at `[CLS]`. */
  setup: 'mlm' | 'classifier';
  options: Required<Omit<Abnar2020Options, 'onProgress' | 'flowLayers'>> & { flowLayers: number[] };
  seconds: number;
}

/**
 * The paper's Table 1 (vs blank-out) and Table 2 (vs input gradients): Spearman ρ mean and std for
 * layers L1..L6 of their 6-layer verb-number classifier, 2000 test samples.
 */
export const PAPER_TABLES: Record<'blankout' | 'input_gradient', Record<AttentionMethod, [number, number][]>> = {
  blankout: {
    raw: [
      [0.69, 0.27],
      [0.1, 0.43],
      [-0.11, 0.49],
      [-0.09, 0.52],
      [0.2, 0.45],
      [0.29, 0.39],
    ],
    rollout: [
      [0.32, 0.26],
      [0.38, 0.27],
      [0.51, 0.26],
      [0.62, 0.26],
      [0.7, 0.25],
      [0.71, 0.24],
    ],
    flow: [
      [0.32, 0.26],
      [0.44, 0.29],
      [0.7, 0.25],
      [0.7, 0.22],
      [0.71, 0.22],
      [0.7, 0.22],
    ],
  },
  input_gradient: {
    raw: [
      [0.53, 0.33],
      [0.16, 0.38],
      [-0.06, 0.42],
      [0.0, 0.47],
      [0.24, 0.4],
      [0.46, 0.35],
    ],
    rollout: [
      [0.22, 0.31],
      [0.27, 0.32],
      [0.39, 0.32],
      [0.47, 0.32],
      [0.53, 0.32],
      [0.54, 0.31],
    ],
    flow: [
      [0.22, 0.31],
      [0.31, 0.34],
      [0.54, 0.32],
      [0.61, 0.28],
      [0.6, 0.28],
      [0.61, 0.28],
    ],
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
 * Masked-LM examples: `[CLS] prefix [MASK] suffix [SEP]`, QoI at the `[MASK]` (p or logit of the
 * correct verb minus the wrong one), correct when the QoI is > 0.
 *
 * @param outputPosition `'mask'` reads the `[MASK]` row, `'cls'` the `[CLS]` row.
 * @returns the usable examples and the items skipped (a verb form that is not one wordpiece).
 */
export function prepareMaskedItems(
  tokenizer: Tokenizer,
  items: readonly AgreementItem[],
  opts: { qoi: 'prob' | 'logit'; outputPosition: 'mask' | 'cls' },
): { examples: PreparedExample[]; skipped: { item: AgreementItem; reason: string }[] } {
  const skipped: { item: AgreementItem; reason: string }[] = [];
  const examples: PreparedExample[] = [];
  for (const item of items) {
    const good = singleTokenId(tokenizer, item.good);
    const bad = singleTokenId(tokenizer, item.bad);
    if (good === null || bad === null) {
      skipped.push({ item, reason: `"${good === null ? item.good : item.bad}" is not one wordpiece` });
      continue;
    }
    const { ids, tokens, maskPosition } = buildMaskedInput(tokenizer, item);
    examples.push({
      construction: item.construction,
      condition: item.condition,
      ids,
      tokens,
      maskPosition,
      outputPosition: opts.outputPosition === 'cls' ? 0 : maskPosition,
      qoi:
        opts.qoi === 'prob'
          ? tokenProbDiff(maskPosition, good, bad, { good: item.good, bad: item.bad })
          : tokenLogitDiff(maskPosition, good, bad, { good: item.good, bad: item.bad }),
      logitsAt: [maskPosition],
      good: item.good,
      bad: item.bad,
      isCorrect: (_logits, q) => q > 0,
    });
  }
  return { examples, skipped };
}

/**
 * Classifier examples (the paper's setup): `[CLS] words [SEP]`, the `[CLS]` row read, QoI = the
 * probability (or logit) of the correct class, correct when the correct class has the largest logit.
 *
 * @param numLabels the classifier's class count (labels must lie in `0..numLabels-1`).
 * @returns the usable examples and the items skipped (empty words, or longer than `maxLength`).
 */
export function prepareNumberItems(
  tokenizer: Tokenizer,
  items: readonly NumberItem[],
  opts: { qoi: 'prob' | 'logit'; numLabels: number; maxLength?: number },
): { examples: PreparedExample[]; skipped: { item: NumberItem; reason: string }[] } {
  const skipped: { item: NumberItem; reason: string }[] = [];
  const examples: PreparedExample[] = [];
  for (const item of items) {
    if (!Number.isInteger(item.label) || item.label < 0 || item.label >= opts.numLabels)
      throw new Error(`abnar2020: label ${item.label} is outside 0..${opts.numLabels - 1}`);
    const enc = item.words.length ? stripSpecial(tokenizer, tokenizer.encode(item.words.join(' '))) : { ids: [], tokens: [] };
    if (enc.ids.length === 0) {
      skipped.push({ item, reason: 'no words before the verb' });
      continue;
    }
    const ids = [tokenizer.clsId, ...enc.ids, tokenizer.sepId];
    if (opts.maxLength !== undefined && ids.length > opts.maxLength) {
      skipped.push({ item, reason: `${ids.length} tokens > ${opts.maxLength} positions` });
      continue;
    }
    const names = item.labelNames ?? ['singular', 'plural'];
    const label = item.label;
    examples.push({
      construction: item.construction,
      condition: item.condition,
      ids,
      tokens: ['[CLS]', ...enc.tokens, '[SEP]'],
      maskPosition: null,
      outputPosition: 0,
      qoi: opts.qoi === 'prob' ? classProb(label) : classLogit(label),
      good: names[label] ?? String(label),
      bad: names.length === 2 ? (names[1 - label] ?? '') : 'other',
      isCorrect: (logits) => {
        let best = 0;
        for (let k = 1; k < logits.length; k++) if ((logits[k] as number) > (logits[best] as number)) best = k;
        return best === label;
      },
    });
  }
  return { examples, skipped };
}

/**
 * Runs the experiment: on a masked LM with {@link AgreementItem}s (read at the `[MASK]` by default), or on
 * a sequence classifier with {@link NumberItem}s (the paper's setup: read at `[CLS]`, QoI the correct
 * class). One code path for both: items are first turned into {@link PreparedExample}s.
 *
 * Per example: one forward (attention of every layer), one backward (input gradients), one batched
 * blank-out; raw attention, rollout and flow rows at the output position for every layer; Spearman ρ
 * of each (method, layer) against each reference. Then {@link aggregate}.
 *
 * @param model a BERT with the `mlm` or the `classifier` head. @param tokenizer see {@link Tokenizer}.
 * @param items agreement items (masked LM) or number items (classifier); unusable items are skipped
 *   (listed in `skipped`).
 * @throws Error when the head and the items do not match, the classifier is asked for the `[MASK]` row,
 *   no item is usable, or an item is longer than the position table.
 */
export function runAbnar2020(
  model: Bert,
  tokenizer: Tokenizer,
  items: readonly AgreementItem[] | readonly NumberItem[],
  opts: Abnar2020Options = {},
): Abnar2020Result {
  const setup = model.head === 'mlm' ? 'mlm' : model.head === 'classifier' ? 'classifier' : null;
  if (!setup) throw new Error(`abnar2020: the model must be a masked LM or a sequence classifier, got head '${model.head}'`);
  const t0 = Date.now();
  const L = model.layers;
  if (setup === 'classifier' && opts.outputPosition === 'mask')
    throw new Error("abnar2020: a classifier has no [MASK]; its output is read at [CLS] (outputPosition 'cls')");
  const o = {
    outputPosition: opts.outputPosition ?? (setup === 'mlm' ? 'mask' : 'cls'),
    qoi: opts.qoi ?? 'prob',
    replacement: opts.replacement ?? (setup === 'mlm' ? 'mask' : 'unk'),
    gradientReduce: opts.gradientReduce ?? 'abs-sum',
    gradientNode: opts.gradientNode ?? 'embed.hook_word',
    positions: opts.positions ?? 'all',
    batchSize: opts.batchSize ?? 32,
    flowLayers:
      opts.flowLayers === undefined || opts.flowLayers === 'all' ? Array.from({ length: L }, (_, l) => l) : [...opts.flowLayers].sort((a, b) => a - b),
  } as const;
  for (const l of o.flowLayers) model.checkLayerHead(l);
  const isNumber = (x: AgreementItem | NumberItem): x is NumberItem => Array.isArray((x as NumberItem).words);
  if (items.some((x) => isNumber(x) !== (setup === 'classifier'))) {
    throw new Error(
      `abnar2020: a ${setup === 'mlm' ? 'masked LM takes agreement items (prefixWords, good, bad)' : 'classifier takes number items (words, label)'}`,
    );
  }
  const { examples, skipped } =
    setup === 'mlm'
      ? prepareMaskedItems(tokenizer, items as readonly AgreementItem[], { qoi: o.qoi, outputPosition: o.outputPosition })
      : prepareNumberItems(tokenizer, items as readonly NumberItem[], {
          qoi: o.qoi,
          numLabels: model.config.numLabels ?? 2,
          maxLength: model.config.maxPositionEmbeddings,
        });
  if (examples.length === 0) throw new Error(`abnar2020: none of the ${items.length} items is usable (${skipped[0]?.reason ?? 'no items'})`);
  const perExample: ExampleRecord[] = [];
  let figure: FigureExample | null = null;
  const specialIds = { maskId: tokenizer.maskId, unkId: tokenizer.unkId, padId: tokenizer.padId };
  for (const [index, ex] of examples.entries()) {
    const { ids, tokens, maskPosition, qoi } = ex;
    const seq = ids.length;
    const outPos = ex.outputPosition;
    const trace = model.forward({ ids: [ids] }, { record: ['blocks.*.attn.hook_pattern'], ...(ex.logitsAt ? { logitsAt: ex.logitsAt } : {}) });
    let stack: AttentionStack;
    let logits: Float32Array | Int32Array | Uint8Array;
    try {
      stack = stackOf(trace);
      logits = trace.logits.dataSync();
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
      construction: ex.construction,
      condition: ex.condition,
      tokens,
      maskPosition,
      outputPosition: outPos,
      good: ex.good,
      bad: ex.bad,
      qoi: q,
      correct: ex.isCorrect(logits, q),
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
        construction: ex.construction,
        correct: rec.correct,
      };
    }
    opts.onProgress?.({ done: index + 1, total: examples.length, construction: ex.construction });
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
    setup,
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
  const rows = (
    aq
      .from(long)
      .groupby('method', 'layer', 'reference')
      .rollup({ mean: aq.op.mean('rho'), std: aq.op.stdevp('rho'), n: aq.op.count(), nan: aq.op.sum('isnan') })
      .objects() as { method: string; layer: number | null; reference: string; mean: number; std: number; n: number; nan: number }[]
  )
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
  /** The command line that made the run (printed in the summary). */
  command?: string;
}

/** One row of {@link Abnar2020Result.table}. */
export type TableRow = {
  method: string;
  layer: number | null;
  reference: string;
  mean: number;
  std: number;
  n: number;
  nan: number;
  paper_layer: string | null;
  paper_mean: number | null;
  paper_std: number | null;
};

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
    const figures = [spearmanBarFigure(res.table.objects() as TableRow[])];
    if (res.figure) {
      const f = res.figure;
      const ex = `example: "${f.tokens.join(' ')}" (${f.construction}, ${f.correct ? 'correct' : 'wrong'})`;
      figures.unshift(
        attentionMapsFigure(f, { title: `Attention maps across layers — ${ex}` }),
        importanceFigure(f, f.outputPosition, { 'blank-out': f.blankout, 'input gradient': f.input_gradient }),
      );
    }
    writeFileSync(
      join(tmp, 'figure.html'),
      htmlFigurePage({
        title: `Abnar & Zuidema 2020 reproduction — ${info.model}`,
        notes: [
          `${res.perExample.length} examples, accuracy ${(100 * res.accuracy.overall).toFixed(1)} %, ${res.setup === 'classifier' ? 'verb-number classifier' : 'masked LM'}, output position ${res.options.outputPosition === 'mask' ? '[MASK]' : '[CLS]'}.`,
          ...(info.warnings ?? []),
        ],
        figures,
      }),
    );
  });
}
