/**
 * Memory budget of a BERT pass, estimated before it runs, so that batches are split to fit and a
 * single example too large fails with a named error ({@link MemoryBudgetError}) instead of the wasm
 * module aborting the process ("memory access out of bounds" / `Aborted()`: its heap is capped at
 * 4 GiB, and a failed allocation is not recoverable).
 *
 * The estimate is calibrated on the wasm heap's growth (which includes allocator fragmentation, ~1.7×
 * the tensor bytes) for integrated gradients on 768-wide models (FFN 3072, 12 heads): under a
 * gradient tape ≈ (30·hidden + 11.5·ffn)·1.6 floats per token and layer and ≈ 3·heads·seq²·1.6 floats
 * per example and layer (attention). Measured growth vs estimate: 12 layers, 1 × 512 tokens: 2970 vs
 * 3020 MB; 12 layers, 2 × 128: 1175 vs 1235 MB; 2 layers, 16 × 128: 1626 vs 1648 MB. A forward pass
 * without a tape holds about 1.5 layers of that (each layer runs in its own `tf.tidy`).
 *
 * The budget is the wasm heap (4 GiB, or `FLOWLENS_MEMORY_BUDGET_MB`) minus the bytes of the tensors
 * alive now (weights, cached transposes, the caller's tensors). Other backends have no fixed heap:
 * there only `FLOWLENS_MEMORY_BUDGET_MB`, when set, applies.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { MemoryError } from '../errors.js';
/** The model dimensions a memory estimate needs (a `BertConfig` fits structurally). */
export interface PassDims {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
}

/** The task head of the pass (as `HeadKind` in `src/model/types.ts`). */
type PassHead = 'mlm' | 'classifier' | 'none';

/** The wasm backend's heap limit (wasm32: 65,536 pages of 64 KiB). */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** Left free below the heap limit (the module's own data, stacks, allocator slack). */
const RESERVE_BYTES = 96 * 2 ** 20;
/** Fragmentation and transient tensors on top of the counted activations. */
const OVERHEAD = 1.6;

/**
 * A computation does not fit in the memory budget even with one example per pass (a
 * {@link MemoryError}). `neededBytes` and `budgetBytes` give the estimate and the budget.
 */
export class MemoryBudgetError extends MemoryError {
  readonly neededBytes: number;
  readonly budgetBytes: number;
  constructor(message: string, neededBytes: number, budgetBytes: number) {
    super(message);
    this.neededBytes = neededBytes;
    this.budgetBytes = budgetBytes;
  }
}

/** The heap cap that applies (bytes), or Infinity when there is none (non-wasm without a budget set). */
function capBytes(): number {
  const env = process.env.FLOWLENS_MEMORY_BUDGET_MB;
  if (env !== undefined && env !== '') {
    const mb = Number(env);
    if (!Number.isFinite(mb) || mb <= 0) throw new RangeError(`FLOWLENS_MEMORY_BUDGET_MB must be a positive number of MiB, got "${env}"`);
    return mb * 2 ** 20;
  }
  return tf.getBackend() === 'wasm' ? WASM_HEAP_BYTES : Infinity;
}

/**
 * Bytes available to the next computation: the heap cap minus a reserve minus the tensors alive now.
 * @throws RangeError when `FLOWLENS_MEMORY_BUDGET_MB` is set but not a positive number.
 */
export function memoryBudgetBytes(): number {
  const cap = capBytes();
  if (!Number.isFinite(cap)) return Infinity;
  return Math.max(0, cap - RESERVE_BYTES - tf.memory().numBytes);
}

/**
 * Estimated peak bytes of one forward pass of `batch` × `seq` tokens (with `grad`: under a gradient
 * tape, i.e. forward + backward), beyond the weights.
 *
 * @param config model dimensions; @param head its head (an MLM head adds `[logitTokens, vocab]` logits).
 * @param logitTokens positions with MLM logits (default all `batch × seq`; fewer with `logitsAt`).
 */
export function estimatePassBytes(config: PassDims, head: PassHead, batch: number, seq: number, grad: boolean, logitTokens = batch * seq): number {
  const { hiddenSize: D, intermediateSize: F, numAttentionHeads: H, numHiddenLayers: L, vocabSize: V } = config;
  const tokens = batch * seq;
  const perLayer = tokens * (30 * D + 11.5 * F) + batch * 3 * H * seq * seq;
  const layers = grad ? L : Math.min(L, 1.5);
  const logits = head === 'mlm' ? logitTokens * V * (grad ? 4 : 2) : 0;
  return 4 * (layers * perLayer + logits + tokens * D * 4) * OVERHEAD;
}

const MB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/**
 * The largest batch ≤ `requested` whose pass fits the budget.
 *
 * @param what the computation, for the error message (e.g. `integrated gradients`).
 * @throws MemoryBudgetError when even one example does not fit (the message gives the estimate, the
 *   budget, and what to reduce).
 */
export function fitBatchSize(config: PassDims, head: PassHead, seq: number, requested: number, grad: boolean, what: string): number {
  const budget = memoryBudgetBytes();
  const one = estimatePassBytes(config, head, 1, seq, grad);
  if (one > budget) {
    throw new MemoryBudgetError(
      `${what}: one example of ${seq} tokens needs about ${MB(one)}${grad ? ' (forward + backward)' : ''}, more than the ${MB(budget)} ` +
        `left of the memory budget (the wasm heap is at most 4 GiB, ${MB(tf.memory().numBytes)} in use by live tensors); ` +
        'use a shorter input, free other tensors/models, or set FLOWLENS_MEMORY_BUDGET_MB on a backend without the 4 GiB cap',
      one,
      budget,
    );
  }
  if (!Number.isFinite(budget)) return requested;
  let lo = 1;
  let hi = Math.max(1, requested);
  if (estimatePassBytes(config, head, hi, seq, grad) <= budget) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (estimatePassBytes(config, head, mid, seq, grad) <= budget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Throw before a pass that would not fit (called by `Bert.forward`).
 * @throws MemoryBudgetError naming the batch, the sequence length, the estimate and the budget.
 */
export function checkPassFits(config: PassDims, head: PassHead, batch: number, seq: number, grad: boolean, logitTokens = batch * seq): void {
  const need = estimatePassBytes(config, head, batch, seq, grad, logitTokens);
  const budget = memoryBudgetBytes();
  if (need <= budget) return;
  const fits = estimatePassBytes(config, head, 1, seq, grad) <= budget ? fitBatchSize(config, head, seq, batch, grad, 'forward') : 0;
  throw new MemoryBudgetError(
    `forward pass of ${batch} × ${seq} tokens${grad ? ' under a gradient' : ''} needs about ${MB(need)}, more than the ${MB(budget)} left ` +
      `of the memory budget (wasm heap at most 4 GiB; ${MB(tf.memory().numBytes)} held by live tensors): ` +
      (fits > 0 ? `split it into batches of at most ${fits}` : 'even one example does not fit; use a shorter input'),
    need,
    budget,
  );
}

/** Whether a gradient tape is recording (a forward inside `tf.grad`/`tf.variableGrads`). */
export function gradientTapeOn(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 0) > 0;
}
