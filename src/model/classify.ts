/**
 * Sentence classification with a loaded `BertForSequenceClassification` checkpoint
 * (`loadModel('embedded:sst2')`, `loadModel('embedded:trec')` or any HF folder with a classifier head).
 *
 * Texts are tokenised (`[CLS] … [SEP]`, truncated to the position table), grouped into batches, padded
 * with `[PAD]` and given an attention mask (1 token, 0 padding), so a padded row gives the same logits as
 * the text run alone (HF's additive mask: padded keys get a -1e9 score, i.e. probability 0).
 *
 * @module
 */
import { tf } from '../backend/index.js';
import { fitBatchSize } from '../backend/memory.js';
import { OptionError } from '../errors.js';
import type { Bert } from './bert.js';
import type { LoadedModel } from './load.js';
import type { ForwardOptions } from './types.js';

/**
 * Index of the largest value (the first on ties), e.g. the predicted class of a logits row.
 * @param xs `[n]`, n ≥ 1.
 * @returns an index in `0..n-1`; 0 for an empty array.
 */
export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if ((xs[i] as number) > (xs[best] as number)) best = i;
  return best;
}

/** One row of token ids (optionally with token types) for {@link padBatch} and {@link classifyRows}. */
export interface IdRow {
  ids: readonly number[];
  tokenTypeIds?: readonly number[];
}

/**
 * Right-pads rows of token ids to a common length.
 *
 * @param rows `[batch]` rows, each `[len_i]` ids (or an {@link IdRow} with token types).
 * @param padId the `[PAD]` id (default 0).
 * @returns `ids` `[batch][maxLen]`, the attention mask `[batch][maxLen]` (1 token, 0 padding) and,
 *   when any row has token types, `tokenTypeIds` `[batch][maxLen]` (0 on padding).
 * @throws Error when `rows` is empty or a row is empty.
 */
export function padBatch(rows: readonly (readonly number[] | IdRow)[], padId = 0): { ids: number[][]; attentionMask: number[][]; tokenTypeIds?: number[][] } {
  if (rows.length === 0) throw new Error('padBatch: no rows');
  const rs: IdRow[] = rows.map((r) => (Array.isArray(r) ? { ids: r as readonly number[] } : (r as IdRow)));
  if (rs.some((r) => r.ids.length === 0)) throw new Error('padBatch: empty row (every sequence needs at least [CLS])');
  const len = Math.max(...rs.map((r) => r.ids.length));
  const pad = (a: readonly number[], v: number): number[] => [...a, ...new Array<number>(len - a.length).fill(v)];
  const ids = rs.map((r) => pad(r.ids, padId));
  const attentionMask = rs.map((r) => Array.from({ length: len }, (_, j) => (j < r.ids.length ? 1 : 0)));
  if (!rs.some((r) => r.tokenTypeIds)) return { ids, attentionMask };
  const tokenTypeIds = rs.map((r) => pad(r.tokenTypeIds ?? new Array<number>(r.ids.length).fill(0), 0));
  return { ids, attentionMask, tokenTypeIds };
}

/** Options of {@link classifyRows}. */
export interface ClassifyRowsOptions {
  /** Rows per forward pass (default 32). */
  batchSize?: number;
  /** The `[PAD]` id (default 0). */
  padId?: number;
  /** Passed to every forward pass (e.g. a `headMask`); `record` is always `'none'`. */
  forward?: ForwardOptions;
}

/**
 * Logits and softmax probabilities of a sequence classifier for rows of any lengths, `batchSize`
 * rows a forward pass (right-padded, attention mask 0 on padding, so a padded row gives the logits
 * of the row run alone), in eval mode (no dropout). The one pad-and-classify of flowlens.
 *
 * @param rows `[n]` rows of ids (each at least one token).
 * @returns `logits` and `probs`, each `[n][labels]`, rows in input order.
 * @throws Error when the model has no classifier head or a row is empty; OptionError for a bad batch size.
 */
export function classifyRows(
  model: Bert,
  rows: readonly (readonly number[] | IdRow)[],
  opts: ClassifyRowsOptions = {},
): { logits: number[][]; probs: number[][] } {
  if (model.head !== 'classifier')
    throw new Error(`classification needs a sequence classifier (BertForSequenceClassification), the model has the "${model.head}" head`);
  const bs = opts.batchSize ?? 32;
  if (!Number.isInteger(bs) || bs < 1) throw new OptionError(`batchSize must be a positive integer, got ${bs}`);
  const logits: number[][] = [];
  const probs: number[][] = [];
  // Rows per pass: as asked, split further to fit the memory budget (MemoryBudgetError when one row does not fit).
  const rowLength = (r: readonly number[] | IdRow) => ('ids' in r ? r.ids.length : r.length);
  const step = rows.length ? fitBatchSize(model.config, model.head, Math.max(...rows.map(rowLength)), bs, false, 'classification') : bs;
  for (let s = 0; s < rows.length; s += step) {
    const batch = padBatch(rows.slice(s, s + step), opts.padId ?? 0);
    const tr = model.forward(batch, { ...opts.forward, record: 'none' });
    const p = tf.softmax(tr.logits, -1);
    logits.push(...(tr.logits.arraySync() as number[][]));
    probs.push(...(p.arraySync() as number[][]));
    p.dispose();
    tr.dispose();
  }
  return { logits, probs };
}

/** The prediction for one text. */
export interface Prediction {
  /** Name of the most probable class (`id2label`). */
  label: string;
  /** Its class id. */
  labelId: number;
  /** Softmax probabilities, `[numLabels]`, in class-id order. */
  probs: number[];
  /** Raw logits, `[numLabels]`. */
  logits: number[];
}

/** Options of {@link predict}. */
export interface PredictOptions {
  /** Texts per forward pass (default 32). */
  batchSize?: number;
  /** Truncate to this many tokens, `[CLS]`/`[SEP]` included (default: the model's position table). */
  maxLength?: number;
}

/**
 * Classify `texts` with a loaded classifier.
 *
 * @param loaded a model loaded with the classifier head (`loadModel`).
 * @param texts raw sentences (lower-casing and WordPiece as the model's tokenizer).
 * @returns one {@link Prediction} per text, in input order.
 * @throws Error when the model has no classifier head, `texts` is not an array of strings, or
 *   `batchSize`/`maxLength` is not a positive integer.
 */
export function predict(loaded: LoadedModel, texts: readonly string[], opts: PredictOptions = {}): Prediction[] {
  const { model, tokenizer } = loaded;
  if (model.head !== 'classifier') {
    throw new Error(`predict needs a sequence-classification model (BertForSequenceClassification), but ${loaded.source} has the "${model.head}" head`);
  }
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new Error('predict: texts must be an array of strings');
  const batchSize = opts.batchSize ?? 32;
  const maxLength = opts.maxLength ?? model.config.maxPositionEmbeddings;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`predict: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`predict: maxLength must be an integer ≥ 2, got ${maxLength}`);
  const numLabels = model.config.numLabels;
  const names = loaded.labels ?? Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
  const rows = texts.map((t) => tokenizer.encode(t, { maxLength }).ids);
  const { logits, probs } = classifyRows(model, rows, { batchSize, padId: tokenizer.padId });
  return logits.map((lg, i) => {
    const best = argmax(lg);
    return { label: names[best] ?? `LABEL_${best}`, labelId: best, probs: probs[i] as number[], logits: lg };
  });
}
