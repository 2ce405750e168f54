/**
 * Memory budget (src/backend/memory.ts): batches are split to fit, a single example too large is a
 * MemoryBudgetError (a MemoryError, a FlowlensError) thrown before anything runs, never a wasm abort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { estimatePassBytes, fitBatchSize, MemoryBudgetError } from '../src/backend/memory.js';
import { FlowlensError, MemoryError } from '../src/errors.js';
import { classProbabilities } from '../src/methods/perturbation.js';
import { makeBertConfig } from '../src/io/config.js';
import { integratedGradients } from '../src/methods/integratedGradients.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { classLogit } from '../src/model/qoi.js';

await initBackend();

const small = makeBertConfig({
  vocabSize: 120,
  hiddenSize: 64,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  intermediateSize: 128,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 64,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  numLabels: 2,
});
const ids = [1, 5, 9, 17, 33, 7, 8, 2];
const special = { padId: 0, clsId: 1, sepId: 2 };

/** Run `f` with FLOWLENS_MEMORY_BUDGET_MB set so that about `examples` passes (gradient passes unless `grad` is false) of `seq` tokens fit. */
function withBudget<T>(examples: number, seq: number, f: () => T, grad = true): T {
  const one = estimatePassBytes(small, 'classifier', 1, seq, grad);
  const mb = (96 * 2 ** 20 + tf.memory().numBytes + examples * one) / 2 ** 20;
  const before = process.env.FLOWLENS_MEMORY_BUDGET_MB;
  process.env.FLOWLENS_MEMORY_BUDGET_MB = String(mb);
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.FLOWLENS_MEMORY_BUDGET_MB;
    else process.env.FLOWLENS_MEMORY_BUDGET_MB = before;
  }
}

test('integrated gradients with an absurd batch size is split to fit the budget and gives the unsplit result', () => {
  const model = new Bert(small, 'classifier', BertParams.random(small, 'classifier', 5));
  const ref = integratedGradients(model, { ids }, classLogit(1), { steps: 20, batchSize: 20, specialIds: special });
  const n0 = tf.memory().numTensors;
  const { got, fit } = withBudget(3.5, ids.length, () => ({
    fit: fitBatchSize(small, 'classifier', ids.length, 1e6, true, 'test'),
    got: integratedGradients(model, { ids }, classLogit(1), { steps: 20, batchSize: 1e6, specialIds: special }),
  }));
  assert.ok(fit >= 1 && fit <= 4, `budget of ~3.5 examples fits ${fit}`);
  assert.equal(tf.memory().numTensors, n0, 'no tensors leak');
  got.scores.forEach((s, i) => assert.ok(Math.abs(s - ref.scores[i]) < 1e-5, `token ${i}: ${s} vs ${ref.scores[i]}`));
  model.dispose();
});

test('one example over the budget is a MemoryBudgetError before running, from a method and from forward', () => {
  const model = new Bert(small, 'classifier', BertParams.random(small, 'classifier', 6));
  const n0 = tf.memory().numTensors;
  withBudget(0.5, ids.length, () => {
    assert.throws(
      () => integratedGradients(model, { ids }, classLogit(1), { steps: 10, specialIds: special }),
      (e: unknown) => {
        assert.ok(e instanceof MemoryBudgetError && e instanceof MemoryError && e instanceof FlowlensError);
        assert.match((e as Error).message, /integrated gradients: one example of 8 tokens needs about/);
        assert.ok((e as MemoryBudgetError).neededBytes > (e as MemoryBudgetError).budgetBytes);
        return true;
      },
    );
    // A forward under a tape is checked by Bert.forward itself.
    const x0 = tf.zeros([1, 8, 64]);
    assert.throws(() => tf.grad((x: tf.Tensor) => model.forward({ inputsEmbeds: x }, { record: 'none' }).logits.sum())(x0), MemoryBudgetError);
    x0.dispose();
  });
  assert.equal(tf.memory().numTensors, n0, 'no tensors leak');
  // Forward-only batches are split too (classProbabilities asks for 10,000 rows a pass).
  const rows = Array.from({ length: 40 }, (_, i) => ({ ids: [1, 3 + (i % 50), 2] }));
  const all = classProbabilities(model, rows, { batchSize: 40 });
  const split = withBudget(4.5, 3, () => classProbabilities(model, rows, { batchSize: 10000 }), false);
  assert.equal(
    withBudget(4.5, 3, () => fitBatchSize(small, 'classifier', 3, 10000, false, 'test'), false),
    4,
  );
  split.forEach((p, i) => p.forEach((v, j) => assert.ok(Math.abs(v - all[i][j]) < 1e-6)));
  model.dispose();
});

test('real wasm heap: BERT-base-wide model, IG at seq 128 with batchSize 1e6 runs; a 200 × 512 forward is a clean error', () => {
  const cfg = makeBertConfig({ ...small, vocabSize: 30522, hiddenSize: 768, numAttentionHeads: 12, intermediateSize: 3072, maxPositionEmbeddings: 512 });
  const model = new Bert(cfg, 'classifier', BertParams.random(cfg, 'classifier', 7));
  const long = [101, ...Array.from({ length: 126 }, (_, i) => 1000 + i), 102];
  const fit = fitBatchSize(cfg, 'classifier', 128, 1e6, true, 'test');
  assert.ok(fit > 1 && fit < 1e6, `splits to ${fit} points a pass`);
  const r = integratedGradients(model, { ids: long }, classLogit(1), { steps: 50, batchSize: 1e6, specialIds: { padId: 0, clsId: 101, sepId: 102 } });
  assert.equal(r.scores.length, 128);
  assert.ok(r.scores.every(Number.isFinite));
  const big = Array.from({ length: 200 }, () => Array.from({ length: 512 }, (_, i) => 1000 + i));
  const n0 = tf.memory().numTensors;
  assert.throws(() => model.forward({ ids: big }, { record: 'none' }), /forward pass of 200 × 512 tokens needs about .* split it into batches of at most \d+/);
  assert.equal(tf.memory().numTensors, n0);
  model.dispose();
});
