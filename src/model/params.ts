/**
 * BERT parameters as tfjs variables, converted from and to Hugging Face's PyTorch layout.
 *
 * Names are Hugging Face's, without the `bert.` prefix (`embeddings.word_embeddings.weight`,
 * `encoder.layer.3.attention.self.query.weight`, `cls.predictions.bias`, `classifier.weight`, …).
 * In memory, every `nn.Linear` weight is stored transposed, as `[in, out]` (PyTorch stores `[out, in]`),
 * so the forward pass multiplies `x · W` without a transpose; {@link BertParams.toHfWeights} converts back.
 *
 * @module
 */
import { tf } from '../backend/index.js';
import type { HeadKind } from './types.js';
import type { BertConfig } from '../io/config.js';
import { expectedBertShapes, validateWeights } from '../io/hfFolder.js';
import { CheckpointError } from '../errors.js';

/** A named tensor in plain memory, PyTorch layout. */
export interface PlainTensor {
  shape: number[];
  data: Float32Array;
}

/** Is `name` an `nn.Linear` weight (stored `[out, in]` by PyTorch)? */
export function isLinearWeight(name: string): boolean {
  return name.endsWith('.weight') && !name.includes('LayerNorm') && !name.includes('_embeddings') && name !== 'cls.predictions.decoder.weight';
}

/**
 * Every parameter a BERT with the given head needs, with its PyTorch shape.
 *
 * @param c model dimensions.
 * @param head `mlm` (BertForMaskedLM), `classifier` (BertForSequenceClassification, with pooler) or
 *   `none` (BertModel with pooler).
 * @returns map name → shape (PyTorch layout, Linear weights `[out, in]`).
 */
export function bertParamShapes(c: BertConfig, head: HeadKind): Map<string, number[]> {
  return expectedBertShapes(c, { head });
}

/** The parameters of one BERT, as tfjs variables (Linear weights `[in, out]`). */
export class BertParams {
  /** name → variable; Linear weights transposed to `[in, out]`. */
  readonly vars: Map<string, tf.Variable>;
  constructor(vars: Map<string, tf.Variable>) {
    this.vars = vars;
  }

  /**
   * The tensor for `name`.
   * @throws Error naming the parameter when it does not exist.
   */
  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new CheckpointError(`BERT parameter "${name}" does not exist in this model`);
    return v;
  }

  private readonly tCache = new Map<string, tf.Tensor>();

  /**
   * The transpose of a 2-D parameter, cached (for constant-weight gradients in analysis).
   * Invalidate with {@link BertParams.clearCache} after the weights change (training does it).
   */
  transposed(name: string): tf.Tensor {
    return this.derived(`${name}ᵀ`, () => this.get(name).transpose());
  }

  /**
   * A tensor derived from the weights, computed once and cached under `key` (kept out of any
   * enclosing `tf.tidy`). Cleared by {@link BertParams.clearCache}.
   */
  derived(key: string, make: () => tf.Tensor): tf.Tensor {
    let t = this.tCache.get(key);
    if (!t || t.isDisposed) {
      t = tf.keep(tf.tidy(make));
      this.tCache.set(key, t);
    }
    return t;
  }

  /** Drop cached transposes (their weights changed). */
  clearCache(): void {
    for (const t of this.tCache.values()) t.dispose();
    this.tCache.clear();
  }

  /** Whether `name` exists. */
  has(name: string): boolean {
    return this.vars.has(name);
  }

  /**
   * Random initialisation as in Hugging Face's `BertPreTrainedModel._init_weights`: Linear and
   * embedding weights ~ N(0, 0.02²), biases 0, LayerNorm weight 1, bias 0.
   *
   * @param c dimensions; @param head which head to create; @param seed integer seed (reproducible).
   */
  static random(c: BertConfig, head: HeadKind, seed = 0): BertParams {
    const vars = new Map<string, tf.Variable>();
    let s = seed * 1000 + 1;
    for (const [name, shape] of bertParamShapes(c, head)) {
      const t = tf.tidy(() => {
        if (name.includes('LayerNorm.weight')) return tf.ones(shape);
        if (name.endsWith('.bias')) return tf.zeros(shape);
        const w = tf.truncatedNormal(shape, 0, 0.02, 'float32', s++);
        return isLinearWeight(name) ? w.transpose() : w;
      });
      vars.set(name, tf.variable(t, true));
      t.dispose();
    }
    return new BertParams(vars);
  }

  /**
   * Build variables from plain tensors in PyTorch layout (e.g. read from `model.safetensors`).
   *
   * @param weights name → tensor, names without `bert.` prefix.
   * @param c dimensions; @param head head to build.
   * @param source file name used in error messages.
   * @throws Error naming the tensor, its shape, the expected shape and `source` when a required
   *   tensor is missing or mis-shaped.
   */
  static fromPlain(weights: Map<string, PlainTensor>, c: BertConfig, head: HeadKind, source = 'weights'): BertParams {
    validateWeights(weights, c, head, source);
    const shapes = bertParamShapes(c, head);
    const vars = new Map<string, tf.Variable>();
    for (const [name, shape] of shapes) {
      const w = weights.get(name) as PlainTensor;
      const t = tf.tidy(() => {
        const x = tf.tensor(w.data, shape, 'float32');
        return isLinearWeight(name) ? x.transpose() : x;
      });
      vars.set(name, tf.variable(t, true));
      t.dispose();
    }
    return new BertParams(vars);
  }

  /** Plain tensors in PyTorch layout (Linear weights `[out, in]`), for saving as safetensors. */
  toPlain(): Map<string, PlainTensor> {
    const out = new Map<string, PlainTensor>();
    for (const [name, v] of this.vars) {
      const t = isLinearWeight(name) ? tf.tidy(() => v.transpose()) : v;
      out.set(name, { shape: t.shape.slice(), data: t.dataSync() as Float32Array });
      if (t !== v) t.dispose();
    }
    // The MLM decoder is tied to the word embeddings; write it out explicitly as HF does.
    if (this.vars.has('cls.predictions.bias')) {
      const e = out.get('embeddings.word_embeddings.weight') as PlainTensor;
      out.set('cls.predictions.decoder.weight', { shape: e.shape.slice(), data: e.data });
    }
    return out;
  }

  /** Total number of scalar parameters. */
  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Dispose every variable. */
  dispose(): void {
    this.clearCache();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
