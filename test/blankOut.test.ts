import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { qoiValues } from '../src/model/run.js';
import { tokenLogitDiff, tokenProbDiff } from '../src/model/qoi.js';
import { blankOut } from '../src/methods/blankOut.js';
import { tinyConfig, scaledModel } from './helpers/tinyBert.js';

const cfg = tinyConfig();

/** A tiny MLM with fixed, large-ish weights (so every token matters) and nonzero biases. */
const tinyModel = (seed: number): Bert => scaledModel(cfg, 'mlm', seed, seed + 11);

const MASK = 4;
const ids = [1, 6, 9, 13, MASK, 7, 2];
const qpos = 4;

test('blank-out equals |QoI(x) − QoI(x with token i masked)|, each computed independently', async () => {
  await initBackend();
  const model = tinyModel(1);
  const qoi = tokenProbDiff(qpos, 10, 11);
  const res = blankOut(model, { ids }, qoi, { specialIds: { maskId: MASK }, batchSize: 3 });
  const base = qoiValues(model, { ids: [ids] }, qoi)[0];
  assert.equal(res.method, 'blankout');
  assert.equal(res.scores.length, ids.length);
  assert.ok(Math.abs(res.sanity!.value - base) < 1e-7);
  let nonzero = 0;
  for (let i = 0; i < ids.length; i++) {
    const v = ids.slice();
    v[i] = MASK;
    const expected = Math.abs(base - qoiValues(model, { ids: [v] }, qoi)[0]);
    assert.ok(Math.abs(res.scores[i] - expected) < 1e-6 + 1e-4 * expected, `position ${i}: ${res.scores[i]} vs ${expected}`);
    if (expected > 1e-4) nonzero++;
  }
  assert.equal(res.scores[qpos], 0, 'the [MASK] itself is unchanged by masking');
  assert.ok(nonzero >= 4, `the tiny model should depend on most tokens (${nonzero} nonzero)`);
  // Signed variant, other replacement, logit QoI.
  const q2 = tokenLogitDiff(qpos, 3, 8);
  const signed = blankOut(model, { ids }, q2, { replacement: 'unk', specialIds: { unkId: 5 }, signed: true });
  const b2 = qoiValues(model, { ids: [ids] }, q2)[0];
  for (const i of [0, 2, 6]) {
    const v = ids.slice();
    v[i] = 5;
    const expected = qoiValues(model, { ids: [v] }, q2)[0] - b2;
    assert.ok(Math.abs(signed.scores[i] - expected) < 1e-4 * (1 + Math.abs(expected)), `signed ${i}: ${signed.scores[i]} vs ${expected}`);
  }
  model.dispose();
});

test('blank-out of a token the QoI cannot see is 0 (padded key; all heads masked)', async () => {
  await initBackend();
  const model = tinyModel(2);
  const qoi = tokenLogitDiff(qpos, 10, 11);
  // Position 6 is padding: no query attends to it, so replacing it changes nothing.
  const attentionMask = [1, 1, 1, 1, 1, 1, 0];
  const padded = blankOut(model, { ids, attentionMask }, qoi, { replacement: { id: 0 } });
  assert.equal(padded.scores[6], 0);
  assert.ok(padded.scores[3] > 1e-3, 'an attended token matters');
  // With every head masked, each position only sees itself: only the QoI's own position matters.
  const headMask = [
    [0, 0],
    [0, 0],
  ];
  const isolated = blankOut(model, { ids: ids.map((t, i) => (i === qpos ? 8 : t)) }, qoi, { specialIds: { maskId: MASK }, forward: { headMask } });
  isolated.scores.forEach((s, i) => (i === qpos ? assert.ok(s > 1e-4) : assert.equal(s, 0, `position ${i}`)));
  model.dispose();
});

test('delete mode shifts the QoI position and matches independent calls; errors name the problem', async () => {
  await initBackend();
  const model = tinyModel(3);
  const qoi = tokenLogitDiff(qpos, 10, 11);
  const res = blankOut(model, { ids }, qoi, { replacement: 'delete', retarget: ([p]) => tokenLogitDiff(p, 10, 11) });
  const base = qoiValues(model, { ids: [ids] }, qoi)[0];
  for (const i of [0, 3, 5, 6]) {
    const v = ids.filter((_, k) => k !== i);
    const expected = Math.abs(base - qoiValues(model, { ids: [v] }, tokenLogitDiff(i < qpos ? qpos - 1 : qpos, 10, 11))[0]);
    assert.ok(Math.abs(res.scores[i] - expected) < 1e-4 * (1 + expected), `delete ${i}: ${res.scores[i]} vs ${expected}`);
  }
  assert.equal(res.scores[qpos], 0);
  assert.throws(() => blankOut(model, { ids }, qoi, { replacement: 'delete' }), /retarget/);
  assert.throws(() => blankOut(model, { ids }, qoi, { replacement: 'pad' }), /specialIds\.padId/);
  assert.throws(() => blankOut(model, { ids }, qoi, { specialIds: { maskId: MASK }, positions: [9] }), /outside 0\.\.6/);
  model.dispose();
});

test('blank-out leaks no tensors over repeated calls', async () => {
  await initBackend();
  const model = tinyModel(4);
  const qoi = tokenProbDiff(qpos, 10, 11);
  blankOut(model, { ids }, qoi, { specialIds: { maskId: MASK } });
  const before = tf.memory().numTensors;
  for (let k = 0; k < 4; k++) blankOut(model, { ids }, qoi, { specialIds: { maskId: MASK }, batchSize: 2 });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
