import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { classProbabilities, keptPositions, perturbRow, probabilitiesAfterRemoval, removalFractions, removalOrder } from '../src/methods/perturbation.js';
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

test('curve area (trapezoid) and the accumulator means, by hand', async () => {
  const { curveArea, DegradationAccumulator } = await import('../src/eval/degradation.js');
  assert.equal(curveArea([0, 0.5, 1], [1, 1, 0]), 0.75);
  assert.throws(() => curveArea([0], [1]), /≥ 2 points/);
  const acc = new DegradationAccumulator([0, 1]);
  acc.add({ method: 'm', direction: 'most', prob: [1, 0.2], correct: [true, false] });
  acc.add({ method: 'm', direction: 'most', prob: [0.8, 0.4], correct: [true, true] });
  const [c] = acc.curves();
  assert.deepEqual(
    c.prob.map((v) => +v.toFixed(12)),
    [0.9, 0.3],
  );
  assert.deepEqual(c.acc, [1, 0.5]);
  assert.ok(Math.abs(c.probArea - 0.6) < 1e-12);
  assert.equal(c.n, 2);
  assert.throws(() => acc.add({ method: 'm', direction: 'most', prob: [1], correct: [true] }), /1 points, expected 2/);
});

test('degradation test on a one-token model: IG, LIME and IBA rank the token first, their curves drop at the first step; random does not', async () => {
  await initBackend();
  const { degradationTest } = await import('../src/eval/degradation.js');
  const { integratedGradients } = await import('../src/methods/integratedGradients.js');
  const { lime } = await import('../src/methods/lime.js');
  const { iba } = await import('../src/methods/iba.js');
  const { estimateFeatureStats } = await import('../src/methods/featureStats.js');
  const { randomAttribution } = await import('../src/methods/random.js');
  const { classProb } = await import('../src/model/qoi.js');
  const model = oneTokenModel();
  const words = [5, 6, 8, 9, 10, 11];
  const examples = Array.from({ length: 6 }, (_, k) => {
    const ids = [2, ...words.slice(0, 4 + (k % 3))]; // 5–7 removable tokens: the first fraction (1/9) removes one
    ids.splice(1 + (k % ids.length), 0, X_ID);
    return { example: { ids: [...ids, 3] }, label: 1 };
  });
  const stats = estimateFeatureStats(
    model,
    examples.map((e) => e.example),
    ['embed.hook_out'],
  );
  const res = degradationTest(
    model,
    examples,
    {
      ig: (ex, label) => integratedGradients(model, ex, classProb(label), { specialIds: TOY_IDS, steps: 20 }).scores,
      lime: (ex, label) => lime(model, ex, { specialIds: TOY_IDS, target: label }).scores,
      iba: (ex, label) => iba(model, ex, { stats, node: 'embed.hook_out', target: label }).scores,
      random: (ex, _label, i) => randomAttribution(ex.ids.map(String), i).scores,
    },
    { specialIds: TOY_IDS, fractions: removalFractions(10) },
  );
  for (const m of ['ig', 'lime', 'iba']) {
    const c = res.curves.find((x) => x.method === m && x.direction === 'most')!;
    assert.ok(c.prob[0] > 0.9 && c.acc[0] === 1, `${m}: intact`);
    assert.ok(
      c.prob.slice(1).every((p) => p < 0.1),
      `${m}: most-important-first drops at the first step: ${c.prob.map((v) => v.toFixed(2))}`,
    );
    const least = res.curves.find((x) => x.method === m && x.direction === 'least')!;
    assert.ok(least.probArea > 0.7, `${m}: least-important-first stays high (area ${least.probArea})`);
  }
  const rnd = res.curves.find((x) => x.method === 'random' && x.direction === 'most')!;
  const ig = res.curves.find((x) => x.method === 'ig' && x.direction === 'most')!;
  assert.ok(rnd.probArea > ig.probArea + 0.1, `random area ${rnd.probArea} vs IG ${ig.probArea}`);
  assert.equal(res.perExample.length, 6);
  assert.ok(res.msPerExample.iba > 0);
  model.dispose();
});
