/**
 * One instrumented forward pass that records every named node, together with the gradients of a QoI
 * at the nodes the relevance/gradient methods need (all attention patterns and all layer inputs), from
 * ONE backward pass. Every method of the Mask-LRP reproduction (Mask-LRP, GAE, AttCAT, LRP, Grad-CAM,
 * rollout) reads this object, so an explanation costs one forward, one backward and (for the LRP
 * methods) one relevance pass.
 *
 * @module
 */
import { tf } from '../../backend/index.js';
import type { Bert, Trace } from '../../model/bert.js';
import { classLogit, type QoI } from '../../model/qoi.js';
import { nodeShape } from '../../model/run.js';
import type { Hook } from '../../model/types.js';
import { exampleTokens, type ExampleInput } from '../result.js';
import { IndexError } from '../../errors.js';
import { argmax } from '../../model/classify.js';

/** The recorded forward pass of one example and the QoI's gradients. Call {@link ExplainTrace.dispose}. */
export interface ExplainTrace {
  /** All named nodes of the forward pass (batch 1; see `NODE_NAMES`). */
  trace: Trace;
  /** `[layers]` ∂QoI/∂`blocks.{l}.attn.hook_pattern`, each `[1, heads, seq, seq]`. */
  patternGrads: tf.Tensor[];
  /** `[layers]` ∂QoI/∂`blocks.{l}.hook_resid_pre`, each `[1, seq, hidden]`. */
  residGrads: tf.Tensor[];
  /** The class explained (the QoI is its logit). */
  target: number;
  /** Softmax probabilities of the classes, `[labels]`. */
  probs: number[];
  tokens: string[];
  /** `[seq]` token type ids of the example (all 0 when it had none). */
  tokenTypeIds: number[];
  qoi: QoI;
  dispose(): void;
}

/** Options of {@link explainTrace}. */
export interface ExplainTraceOptions {
  /** Class whose logit is explained; default the predicted class (argmax of the logits). */
  target?: number;
}

/**
 * Run the classifier once on one example, record every node, and take ∂(class logit)/∂node at every
 * layer's attention pattern and layer input in one backward pass (additive zero perturbations attached
 * by hooks, as `gradientAt` in `src/model/run.ts`, for several nodes at once).
 *
 * @param example one sequence (`ids` `[seq]`, optional `tokens`, `tokenTypeIds`); no padding.
 * @returns the trace and gradients (caller disposes with `dispose()`).
 * @throws Error when the model has no classifier head, the example is empty or padded
 *   (an `attentionMask` with zeros), or the target class is outside the labels.
 */
export function explainTrace(model: Bert, example: ExampleInput, opts: ExplainTraceOptions = {}): ExplainTrace {
  if (model.head !== 'classifier') {
    throw new Error(`the LRP/gradient explanations explain a sequence classifier's class logit, but this model has the "${model.head}" head`);
  }
  if (!example.ids || example.ids.length === 0) throw new Error('empty example: no tokens to explain');
  if (example.attentionMask?.some((m) => m === 0)) {
    throw new Error('explainTrace explains one unpadded sequence: remove the padding (attentionMask has zeros)');
  }
  const tokens = exampleTokens(example);
  const L = model.layers;
  const input = { ids: [example.ids], ...(example.tokenTypeIds ? { tokenTypeIds: [example.tokenTypeIds] } : {}) };
  // The target: predicted class unless given (needs the logits first when not given).
  let target = opts.target;
  const labels = model.config.numLabels;
  if (target !== undefined && (!Number.isInteger(target) || target < 0 || target >= labels)) {
    throw new IndexError(`target class ${target} is outside 0..${labels - 1}`);
  }
  const patNames = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const resNames = Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_pre`);
  const names = [...patNames, ...resNames];
  const deltas = names.map((n) => tf.zeros(nodeShape(model, input, n)));
  let trace: Trace | null = null;
  let logitsKept: tf.Tensor | null = null;
  const f = (...ds: tf.Tensor[]): tf.Scalar => {
    const hooks: Record<string, Hook> = {};
    names.forEach((n, i) => {
      hooks[n] = (x) => tf.add(x, ds[i] as tf.Tensor);
    });
    trace = model.forward(input, { record: 'all', perHeadResults: true, hooks });
    logitsKept = tf.keep(trace.logits.clone());
    const t = target ?? argmax(trace.logits.dataSync());
    target = t;
    return classLogit(t)(trace.logits).sum() as tf.Scalar;
  };
  let grads: tf.Tensor[];
  try {
    grads = tf.tidy(() => tf.grads(f)(deltas));
  } finally {
    for (const d of deltas) d.dispose();
  }
  const probsT = tf.softmax(logitsKept as unknown as tf.Tensor, -1);
  const probs = Array.from(probsT.dataSync());
  probsT.dispose();
  (logitsKept as unknown as tf.Tensor).dispose();
  const tr = trace as unknown as Trace;
  const qoi = classLogit(target as number);
  return {
    trace: tr,
    patternGrads: grads.slice(0, L),
    residGrads: grads.slice(L),
    target: target as number,
    probs,
    tokens,
    tokenTypeIds: example.tokenTypeIds ? example.tokenTypeIds.slice() : new Array<number>(example.ids.length).fill(0),
    qoi,
    dispose() {
      tr.dispose();
      for (const g of grads) g.dispose();
    },
  };
}

/**
 * Attention probabilities of a batch-1 trace, `[layers, heads, seq, seq]` (row = query), from the
 * recorded `blocks.{l}.attn.hook_pattern` nodes ({@link Trace.attentionArray}).
 * @throws Error when the trace has more than one example or the patterns were not recorded.
 */
export function attentionOfTrace(trace: Trace): Float32Array {
  if (trace.batch !== 1) throw new Error(`attentionOfTrace reads a single example, the trace has ${trace.batch}`);
  return trace.attentionArray(0);
}

/**
 * Runs `fn` on the {@link explainTrace} of one example and disposes the trace afterwards (also when
 * `fn` throws): the one-example form of every trace-based method (GAE, AttCAT, Grad-CAM, LRP, Mask-LRP).
 *
 * @returns what `fn` returns.
 * @throws Error as {@link explainTrace}, and what `fn` throws.
 */
export function withExplainTrace<T>(model: Bert, example: ExampleInput, opts: ExplainTraceOptions, fn: (et: ExplainTrace) => T): T {
  const et = explainTrace(model, example, opts);
  try {
    return fn(et);
  } finally {
    et.dispose();
  }
}
