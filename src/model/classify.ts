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
import type { LoadedModel } from './load.js';

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
  const out: Prediction[] = [];
  for (let i = 0; i < rows.length; i += batchSize) {
    const chunk = rows.slice(i, i + batchSize);
    const len = Math.max(...chunk.map((r) => r.length));
    const ids = chunk.map((r) => [...r, ...new Array<number>(len - r.length).fill(tokenizer.padId)]);
    const attentionMask = chunk.map((r) => Array.from({ length: len }, (_, j) => (j < r.length ? 1 : 0)));
    const tr = model.forward({ ids, attentionMask }, { record: 'none' });
    const probsT = tf.softmax(tr.logits, -1);
    const logits = tr.logits.arraySync() as number[][];
    const probs = probsT.arraySync() as number[][];
    probsT.dispose();
    tr.dispose();
    logits.forEach((lg, b) => {
      let best = 0;
      for (let k = 1; k < lg.length; k++) if ((lg[k] as number) > (lg[best] as number)) best = k;
      out.push({ label: names[best] ?? `LABEL_${best}`, labelId: best, probs: probs[b] as number[], logits: lg });
    });
  }
  return out;
}
