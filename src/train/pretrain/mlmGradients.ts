/**
 * The masked-LM loss and its gradient on a set of masked sequences, in micro-batches: the one piece of
 * computation that the data-parallel workers run, and that the single-process path runs too (so the
 * two agree by construction up to float summation order).
 *
 * Loss: the SUM over masked positions of the cross-entropy of the original token (nats); the caller
 * divides by the total count over all workers, so that the averaged gradient equals the gradient of the
 * batch mean (Devlin et al. 2019, §3.1 and Appendix A.1: the MLM loss is the mean over masked tokens).
 * The output layer is computed only at the masked positions (`logitsAtFlat`).
 *
 * @module
 */
import { tf } from '../../backend/index.js';
import type { Bert } from '../../model/bert.js';
import type { ParamLayout } from './flatParams.js';

/** One training sequence with its masked positions. */
export interface MaskedSequence {
  /** Input ids after masking, `[seq]` (starts with `[CLS]`, ends with `[SEP]`). */
  ids: number[];
  /** Positions (0-based, within the sequence) where the loss is taken, `[k]`. */
  positions: number[];
  /** The original token id at each position, `[k]`. */
  labels: number[];
}

/** Sums returned by {@link shardGradients} and {@link shardEval}. */
export interface ShardSums {
  /** Sum of the per-token cross-entropy (nats) over all masked positions. */
  lossSum: number;
  /** Number of masked positions. */
  count: number;
  /** Masked positions whose arg-max prediction is the original token (eval only; 0 otherwise). */
  correct: number;
}

/** A padded micro-batch in the forward pass's terms. */
interface PaddedBatch {
  ids: number[][];
  attentionMask: number[][];
  /** Flat positions `b·seq + s`. */
  flat: number[];
  labels: number[];
}

/** Pad `seqs` to their longest length with `padId`; flatten positions. */
export function padSequences(seqs: readonly MaskedSequence[], padId: number): PaddedBatch {
  const len = Math.max(...seqs.map((s) => s.ids.length));
  const ids: number[][] = [];
  const attentionMask: number[][] = [];
  const flat: number[] = [];
  const labels: number[] = [];
  seqs.forEach((s, b) => {
    if (s.positions.length !== s.labels.length) throw new Error(`masked sequence ${b}: ${s.positions.length} positions but ${s.labels.length} labels`);
    const row = s.ids.slice();
    const mask = new Array<number>(len).fill(0).fill(1, 0, row.length);
    while (row.length < len) row.push(padId);
    ids.push(row);
    attentionMask.push(mask);
    for (let i = 0; i < s.positions.length; i++) {
      const p = s.positions[i] as number;
      if (!Number.isInteger(p) || p < 0 || p >= s.ids.length) throw new Error(`masked sequence ${b}: position ${p} outside 0..${s.ids.length - 1}`);
      flat.push(b * len + p);
      labels.push(s.labels[i] as number);
    }
  });
  return { ids, attentionMask, flat, labels };
}

/** Sum over rows of −log p(label). @param logits `[k, vocab]`; @param labels `[k]` int32. */
function crossEntropySum(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const [k, v] = logits.shape as [number, number];
  const logp = tf.logSoftmax(logits, -1);
  // Pick log p(label) of each row by a flat gather (no [k, vocab] one-hot matrix).
  const flat = tf.add(tf.mul(tf.range(0, k, 1, 'int32'), tf.scalar(v, 'int32')), labels);
  return tf.neg(tf.sum(tf.gather(logp.reshape([k * v]), flat))) as tf.Scalar;
}

function microBatches<T>(xs: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`micro-batch size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Gradient of the summed MLM loss over `seqs` with respect to every parameter, written into `gradsOut`
 * in the flat layout (overwritten, not accumulated). Micro-batches of `microBatch` sequences bound the
 * memory; their gradients are summed in order.
 *
 * @param model an MLM-head {@link Bert} whose variables are listed by `layout`.
 * @param gradsOut `[layout.total]`.
 * @param opts.dropout dropout probability (default 0: the pretraining recipe has none, see the trainer).
 * @returns the summed loss and the number of masked positions.
 * @throws Error on a sequence without masked positions or malformed positions.
 */
export function shardGradients(
  model: Bert,
  layout: ParamLayout,
  seqs: readonly MaskedSequence[],
  gradsOut: Float32Array,
  opts: { microBatch: number; padId: number; dropout?: number },
): ShardSums {
  if (model.head !== 'mlm') throw new Error(`masked-LM gradients need a model with the MLM head, got "${model.head}"`);
  const vars = layout.slots.map((s) => model.params.vars.get(s.name) as tf.Variable);
  if (seqs.length === 0) {
    gradsOut.fill(0);
    return { lossSum: 0, count: 0, correct: 0 };
  }
  let acc: tf.Tensor[] | null = null;
  let lossSum = 0;
  let count = 0;
  for (const mb of microBatches(seqs, opts.microBatch)) {
    const b = padSequences(mb, opts.padId);
    if (b.flat.length === 0) continue;
    count += b.flat.length;
    const prev: tf.Tensor[] | null = acc;
    const { loss, next } = tf.tidy((): { loss: tf.Scalar; next: tf.Tensor[] } => {
      const ids = tf.tensor2d(b.ids, undefined, 'int32');
      const pos = tf.tensor1d(b.flat, 'int32');
      const lab = tf.tensor1d(b.labels, 'int32');
      const { value, grads } = tf.variableGrads(() => {
        const tr = model.forward(
          { ids, attentionMask: b.attentionMask },
          { record: 'none', logitsAtFlat: pos, dropout: opts.dropout ?? 0, trainWeights: true },
        );
        return crossEntropySum(tr.logits, lab);
      }, vars);
      const gs = vars.map((v) => grads[v.name] as tf.Tensor);
      const summed = prev ? gs.map((g, i) => tf.add(prev[i] as tf.Tensor, g)) : gs;
      return { loss: value, next: summed };
    });
    if (prev) tf.dispose(prev);
    acc = next;
    lossSum += (loss.dataSync() as Float32Array)[0] as number;
    loss.dispose();
  }
  model.params.clearCache();
  if (!acc) {
    gradsOut.fill(0);
    return { lossSum: 0, count: 0, correct: 0 };
  }
  layout.slots.forEach((s, i) => gradsOut.set((acc as tf.Tensor[])[i]!.dataSync() as Float32Array, s.offset));
  tf.dispose(acc);
  return { lossSum, count, correct: 0 };
}

/**
 * Summed MLM loss and arg-max accuracy over `seqs` (no gradients, no dropout).
 *
 * @returns sums over all masked positions; perplexity is `exp(lossSum / count)`.
 */
export function shardEval(model: Bert, seqs: readonly MaskedSequence[], opts: { microBatch: number; padId: number }): ShardSums {
  let lossSum = 0;
  let count = 0;
  let correct = 0;
  for (const mb of microBatches(seqs, opts.microBatch)) {
    const b = padSequences(mb, opts.padId);
    if (b.flat.length === 0) continue;
    const [l, c] = tf.tidy(() => {
      const tr = model.forward({ ids: b.ids, attentionMask: b.attentionMask }, { record: 'none', logitsAtFlat: tf.tensor1d(b.flat, 'int32') });
      const lab = tf.tensor1d(b.labels, 'int32');
      const loss = crossEntropySum(tr.logits, lab);
      const hit = tf.sum(tf.cast(tf.equal(tf.argMax(tr.logits, -1), lab), 'int32'));
      return [loss, hit];
    });
    lossSum += (l!.dataSync() as Float32Array)[0] as number;
    correct += (c!.dataSync() as Int32Array)[0] as number;
    count += b.flat.length;
    tf.dispose([l!, c!]);
  }
  return { lossSum, count, correct };
}
