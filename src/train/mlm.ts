/**
 * Masked-language-model training of a {@link Bert} (Devlin et al. 2019, §3.1, "Task #1: Masked LM"),
 * on one core with tfjs-wasm.
 *
 * The loss is the cross-entropy of the original token at the selected positions only; the output layer
 * is computed only there (`logitsAtFlat`), which keeps the large-vocabulary cost down (see
 * `../shared/NOTES-tfjs.md`). Adam with linear warm-up and linear decay; gradient clipping by global norm.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { Bert } from '../model/bert.js';

/** One training batch, already padded to a common length. */
export interface MlmBatch {
  /** Input ids with the masking already applied, `[batch][seq]`. */
  ids: number[][];
  /** 1 = token, 0 = padding, `[batch][seq]`. */
  attentionMask: number[][];
  /** Flat positions (`b·seq + s`) where the loss is taken, `[k]`. */
  positions: number[];
  /** The original token id at each of those positions, `[k]`. */
  labels: number[];
}

/** Options of {@link trainMlm}. */
export interface TrainOptions {
  steps: number;
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Warm-up steps (default 5% of steps). */
  warmup?: number;
  /** Global-norm gradient clip (default 1). */
  clip?: number;
  /** Dropout probability during training (default 0.1). */
  dropout?: number;
  /** Called after each step with the step index (1-based) and the loss. */
  onStep?: (step: number, loss: number) => void | Promise<void>;
}

/**
 * Cross-entropy of `labels` under `logits`.
 * @param logits `[k, vocab]`; @param labels `[k]` int32. @returns scalar mean loss (nats).
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const logp = tf.logSoftmax(logits, -1);
  const onehot = tf.oneHot(labels, logits.shape[1] as number);
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), -1))) as tf.Scalar;
}

/**
 * Train `model` (MLM head) for `opts.steps` steps on batches from `nextBatch`.
 *
 * @returns the loss of every step.
 * @throws Error when the model has no MLM head or a batch is malformed.
 */
export async function trainMlm(model: Bert, nextBatch: (step: number) => MlmBatch, opts: TrainOptions): Promise<number[]> {
  if (model.head !== 'mlm') throw new Error(`trainMlm needs a model with the MLM head, got "${model.head}"`);
  const lrPeak = opts.lr ?? 1e-3;
  const warmup = opts.warmup ?? Math.max(1, Math.round(opts.steps * 0.05));
  const clip = opts.clip ?? 1;
  const dropout = opts.dropout ?? 0.1;
  const optimizer = tf.train.adam(lrPeak, 0.9, 0.999, 1e-6);
  const vars = [...model.params.vars.values()];
  const losses: number[] = [];
  for (let step = 1; step <= opts.steps; step++) {
    const lr = step <= warmup ? (lrPeak * step) / warmup : lrPeak * Math.max(0.02, (opts.steps - step) / (opts.steps - warmup));
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    const b = nextBatch(step);
    if (b.positions.length !== b.labels.length || b.positions.length === 0) {
      throw new Error(`training batch ${step}: ${b.positions.length} positions but ${b.labels.length} labels`);
    }
    const loss = tf.tidy(() => {
      const ids = tf.tensor2d(b.ids, undefined, 'int32');
      const pos = tf.tensor1d(b.positions, 'int32');
      const lab = tf.tensor1d(b.labels, 'int32');
      const { value, grads } = tf.variableGrads(() => {
        const tr = model.forward({ ids, attentionMask: b.attentionMask }, { record: 'none', logitsAtFlat: pos, dropout, trainWeights: true });
        return crossEntropy(tr.logits, lab);
      }, vars);
      const names = Object.keys(grads);
      const gs = names.map((n) => grads[n]);
      const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
      const factor = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      const clipped: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => (clipped[n] = tf.mul(gs[i], factor)));
      optimizer.applyGradients(clipped as Parameters<typeof optimizer.applyGradients>[0]);
      return value;
    });
    model.params.clearCache();
    const l = (await loss.data())[0];
    loss.dispose();
    losses.push(l);
    if (!Number.isFinite(l)) throw new Error(`training diverged at step ${step} (loss ${l}); lower the learning rate`);
    await opts.onStep?.(step, l);
  }
  optimizer.dispose();
  model.params.clearCache();
  return losses;
}
