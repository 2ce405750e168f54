import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import {
  classProbabilities, keptPositions, perturbRow, probabilitiesAfterRemoval, removalFractions, removalOrder,
} from '../src/eval/perturbation.js';
import { oneTokenModel, TOY_IDS, X_ID } from './helpers/oneTokenModel.js';

const ex = { ids: [2, 5, 6, X_ID, 8, 9, 10, 3] }; // [CLS] a b X c d e [SEP]

test('removal order: by score, ties by position, kept positions excluded; fractions as numpy.linspace', () => {
  assert.deepEqual(removalOrder([9, 1, 5, 5, 7, 9], [0, 5]), [4, 2, 3, 1]);
  assert.deepEqual(removalOrder([9, 1, 5, 5, 7, 9], [0, 5], false), [1, 2, 3, 4]);
  assert.throws(() => removalOrder([1, NaN]), /NaN/);
  assert.deepEqual(keptPositions(ex.ids, { specialIds: TOY_IDS }), [0, 7]);
  assert.deepEqual(keptPositions(ex.ids, { keep: [3, 0] }), [0, 3]);
  assert.throws(() => keptPositions(ex.ids, { keep: [8] }), /outside 0\.\.7/);
  const f = removalFractions(10);
  assert.equal(f.length, 10);
  assert.equal(f[0], 0);
  assert.equal(f[9], 1);
  assert.ok(Math.abs(f[1] - 1 / 9) < 1e-15);
  assert.throws(() => removalFractions(1), /n ≥ 2/);
});

test('perturbRow deletes or replaces; the mode names its special id', () => {
  assert.deepEqual(perturbRow(ex, [3, 1]).ids, [2, 6, 8, 9, 10, 3]);
  assert.deepEqual(perturbRow(ex, [3], 'mask', TOY_IDS).ids, [2, 5, 6, 4, 8, 9, 10, 3]);
  assert.deepEqual(perturbRow(ex, [3], { id: 11 }).ids, [2, 5, 6, 11, 8, 9, 10, 3]);
  assert.deepEqual(perturbRow({ ids: [2, 5, 3], tokenTypeIds: [0, 1, 1] }, [1]).tokenTypeIds, [0, 1]);
  assert.throws(() => perturbRow(ex, [3], 'mask'), /specialIds\.maskId/);
  assert.throws(() => perturbRow(ex, [9]), /outside/);
});

test('batched class probabilities of rows of different lengths equal each row run alone', async () => {
  await initBackend();
  const model = oneTokenModel();
  const rows = [ex.ids, [2, X_ID, 3], [2, 5, 6, 3], [2, 9, 9, 9, 9, X_ID, 10, 11, 3]].map((ids) => ({ ids }));
  const together = classProbabilities(model, rows, { batchSize: 3 });
  rows.forEach((r, i) => {
    const alone = classProbabilities(model, [r])[0];
    assert.ok(Math.abs(alone[1] - together[i][1]) < 1e-5, `row ${i}: ${alone} vs ${together[i]}`);
  });
  model.dispose();
});

test('removal in order of attribution on a model that depends on one token: the curve drops at the first step', async () => {
  await initBackend();
  const model = oneTokenModel();
  const scores = [0, 0.1, 0.2, 0.9, 0.3, 0.15, 0.05, 0];
  const fr = removalFractions(10);
  for (const mode of ['delete', 'mask'] as const) {
    const most = probabilitiesAfterRemoval(model, ex, { scores }, fr, { specialIds: TOY_IDS, mode });
    assert.equal(most.removable, 6);
    assert.deepEqual(most.removed, [0, 1, 1, 2, 3, 3, 4, 5, 5, 6]);
    assert.equal(most.order[0], 3, 'X ranked first');
    assert.ok(most.probs[0][1] > 0.9, `p(class 1) before removal: ${most.probs[0][1]}`);
    for (let k = 1; k < fr.length; k++) assert.ok(most.probs[k][1] < 0.1, `${mode}: X removed at step ${k}, p ${most.probs[k][1]}`);
    const least = probabilitiesAfterRemoval(model, ex, { scores, leastImportantFirst: true }, fr, { specialIds: TOY_IDS, mode });
    for (let k = 0; k < fr.length - 1; k++) assert.ok(least.probs[k][1] > 0.9, `${mode}: X still there at step ${k}`);
    assert.ok(least.probs[fr.length - 1][1] < 0.1);
  }
  const byOrder = probabilitiesAfterRemoval(model, ex, { order: [0, 3] }, [0, 1 / 6], { specialIds: TOY_IDS });
  assert.deepEqual(byOrder.order.slice(0, 2), [3, 1], '[CLS] in an explicit order is skipped');
  assert.throws(() => probabilitiesAfterRemoval(model, ex, { scores: [1] }, fr, { specialIds: TOY_IDS }), /1 scores for 8 tokens/);
  assert.throws(() => probabilitiesAfterRemoval(model, ex, { scores }, [1.5], { specialIds: TOY_IDS }), /outside \[0, 1\]/);
  assert.throws(() => probabilitiesAfterRemoval(model, ex, { scores }, [1], { keep: [] }), /empty input/);
  probabilitiesAfterRemoval(model, ex, { scores }, fr, { specialIds: TOY_IDS });
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) probabilitiesAfterRemoval(model, ex, { scores }, fr, { specialIds: TOY_IDS, batchSize: 4 });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
