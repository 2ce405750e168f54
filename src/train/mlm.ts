/**
 * Masked-language-model training of a {@link Bert} (Devlin et al. 2019, §3.1, "Task #1: Masked LM"),
 * on one core with tfjs-wasm.
 *
 * The loss is the cross-entropy of the original token at the selected positions only; the output layer
 * is computed only there (`logitsAtFlat`), which keeps the large-vocabulary cost down (see
 * `../shared/NOTES-tfjs.md`). Adam with linear warm-up and linear decay; gradient clipping by global norm;
 * lazy (row-sparse) updates of the word-embedding table (see {@link TrainOptions.lazyEmbeddings}).
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
  /**
   * Lazy (row-sparse) Adam updates of the word-embedding table (default true): a row, with its Adam
   * moments, changes only in steps where its token occurs in the batch (as input or label), as in
   * TensorFlow's `LazyAdam` / PyTorch's `SparseAdam`. With the decoder tied to the embeddings, the
   * softmax gives every absent token a tiny gradient of the same sign in every step; plain Adam divides
   * it by its own tiny scale and moves all rare rows by ≈ lr per step in one common direction, until
   * that common vector dominates every input embedding (measured on the first agreement model: mean row
   * norm 0.70 vs 0.48 spread around it) and nouns become indistinguishable — the model then cannot learn
   * agreement at all. See Gao et al. (2019), "Representation degeneration problem in training natural
   * language generation models".
   */
  lazyEmbeddings?: boolean;
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
  const vars = [...model.params.vars.entries()];
  const lazy = opts.lazyEmbeddings ?? true;
  const embName = 'embeddings.word_embeddings.weight';
  const vocab = model.config.vocabSize;
  const adam = new LazyAdam(vars, 0.9, 0.999, 1e-6);
  const losses: number[] = [];
  for (let step = 1; step <= opts.steps; step++) {
    const lr = step <= warmup ? (lrPeak * step) / warmup : lrPeak * Math.max(0.02, (opts.steps - step) / (opts.steps - warmup));
    const b = nextBatch(step);
    if (b.positions.length !== b.labels.length || b.positions.length === 0) {
      throw new Error(`training batch ${step}: ${b.positions.length} positions but ${b.labels.length} labels`);
    }
    const loss = tf.tidy(() => {
      const ids = tf.tensor2d(b.ids, undefined, 'int32');
      const pos = tf.tensor1d(b.positions, 'int32');
      const lab = tf.tensor1d(b.labels, 'int32');
      const { value, grads } = tf.variableGrads(
        () => {
          const tr = model.forward({ ids, attentionMask: b.attentionMask }, { record: 'none', logitsAtFlat: pos, dropout, trainWeights: true });
          return crossEntropy(tr.logits, lab);
        },
        vars.map(([, v]) => v),
      );
      const gs = vars.map(([, v]) => grads[v.name] as tf.Tensor);
      let rowMask: tf.Tensor | null = null;
      if (lazy) {
        const present = new Float32Array(vocab);
        for (const row of b.ids) for (const t of row) present[t] = 1;
        for (const t of b.labels) present[t] = 1;
        rowMask = tf.tensor2d(present, [vocab, 1]);
      }
      const norm = tf.sqrt(tf.addN(gs.map((g, i) => tf.sum(tf.square(rowMask && vars[i]![0] === embName ? tf.mul(g, rowMask) : g)))));
      const factor = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      adam.step(
        gs.map((g) => tf.mul(g, factor)),
        lr,
        (i) => (rowMask && vars[i]![0] === embName ? rowMask : null),
      );
      return value;
    });
    model.params.clearCache();
    const l = (await loss.data())[0] as number;
    loss.dispose();
    losses.push(l);
    if (!Number.isFinite(l)) {
      adam.dispose();
      throw new Error(`training diverged at step ${step} (loss ${l}); lower the learning rate`);
    }
    await opts.onStep?.(step, l);
  }
  adam.dispose();
  model.params.clearCache();
  return losses;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1, with bias correction) over a fixed list of variables, where a
 * variable may be updated row-wise only: with a row mask `[rows, 1]` of 0/1, the masked-out rows keep
 * their value and both moments (TensorFlow's `LazyAdam`). Bias correction uses the global step.
 */
class LazyAdam {
  private t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  constructor(
    private readonly vars: [string, tf.Variable][],
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly eps: number,
  ) {
    // Inside tidy: tf.variable copies its initial tensor, which would otherwise leak.
    this.m = vars.map(([, x]) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
    this.v = vars.map(([, x]) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  }

  /** One update with gradients `grads[i]` of `vars[i]` at learning rate `lr`; `mask(i)` a row mask or null. */
  step(grads: tf.Tensor[], lr: number, mask: (i: number) => tf.Tensor | null): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      grads.forEach((g, i) => {
        const x = this.vars[i]![1];
        const m = this.m[i]!;
        const v = this.v[i]!;
        const rows = mask(i);
        let mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        let vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        let upd = tf.mul(tf.div(tf.div(mNew, c1), tf.add(tf.sqrt(tf.div(vNew, c2)), this.eps)), lr);
        if (rows) {
          mNew = tf.add(m, tf.mul(tf.sub(mNew, m), rows));
          vNew = tf.add(v, tf.mul(tf.sub(vNew, v), rows));
          upd = tf.mul(upd, rows);
        }
        m.assign(mNew);
        v.assign(vNew);
        x.assign(tf.sub(x, upd));
      });
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
