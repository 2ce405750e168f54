import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { tokenLogitDiff } from '../src/model/qoi.js';
import { qoiValues } from '../src/model/run.js';
import { attentionStack } from '../src/methods/attentionTypes.js';
import { attentionPattern, layerPattern, patternAblation, rolloutPattern } from '../src/methods/influenceBaselines.js';
import { allLayerInfluences, layerInfluence } from '../src/methods/influencePath.js';
import { tinyConfig } from './helpers/tinyBert.js';

const special = { clsId: 2, sepId: 3, maskId: 4, padId: 0 };

test('attention pattern follows the largest key→query weight of any head; rollout and layer patterns by hand', () => {
  // 2 layers, 2 heads, 3 positions; A[l][h][q][k].
  const A = [
    [
      [
        [0.6, 0.4, 0],
        [0.2, 0.8, 0],
        [0.1, 0.1, 0.8],
      ],
      [
        [0.5, 0.5, 0],
        [0.3, 0.3, 0.4],
        [0.9, 0.05, 0.05],
      ],
    ],
    [
      [
        [0.6, 0.2, 0.2],
        [0.1, 0.1, 0.8],
        [0.7, 0.2, 0.1],
      ],
      [
        [0.2, 0.2, 0.6],
        [0.4, 0.4, 0.2],
        [0.3, 0.3, 0.4],
      ],
    ],
  ];
  const stack = attentionStack(new Float32Array(A.flat(3)), 2, 2, 3);
  // From key 0 at layer 0: weights A[0][h][q][0]: head0 (.6, .2, .1), head1 (.5, .3, .9) → q = 2, head 1.
  // Last layer forced to output 1: A[1][h][1][2]: head0 .8, head1 .2 → head 0.
  assert.deepEqual(attentionPattern(stack, 0, 1), { method: 'attention', source: 0, positions: [2, 1], heads: [1, 0] });
  // Rollout layer 0 = 0.5·mean_h A + 0.5·I; column of source 0: q0 = .5·.55 + .5 = .775, q1 = .5·.25 = .125, q2 = .5·.5 = .25 → 0.
  assert.deepEqual(rolloutPattern(stack, 0, 1).positions, [0, 1]);
  assert.deepEqual(
    layerPattern(
      [
        [0.1, -0.5, 0.3],
        [0, 0, 0],
      ],
      0,
      2,
      1,
    ).positions,
    [2, 2],
  );
  assert.deepEqual(
    layerPattern(
      [
        [0.1, -0.5, 0.3],
        [0, 0, 0],
      ],
      0,
      2,
      -1,
    ).positions,
    [1, 2],
    'sign −1 picks the most negative',
  );
  assert.throws(() => attentionPattern(stack, 5, 1), /source position 5/);
});

test('pattern ablation: a one-token input is its own pattern; keep-only with every position equals the input', async () => {
  await initBackend();
  const cfg = tinyConfig();
  const model = new Bert(cfg, 'mlm', BertParams.random(cfg, 'mlm', 5));
  const q1 = tokenLogitDiff(0, 10, 11);
  const one = patternAblation(model, { ids: [7] }, q1, { source: 0, positions: [0, 0] }, { special });
  assert.ok(Math.abs(one.qoiKeep - one.qoiInput) < 1e-5, 'keeping the only position keeps everything');
  assert.ok(Math.abs(one.keepShare - 1) < 1e-4);
  // Removing source and layer-0 node of a one-token input leaves the baseline's context only.
  assert.ok(Math.abs(one.qoiRemove - one.qoiBaseline) < 1e-5, `${one.qoiRemove} vs ${one.qoiBaseline}`);
  const ids = [2, 6, 9, 4, 13, 3];
  const q = tokenLogitDiff(3, 10, 11);
  const r = patternAblation(model, { ids }, q, { source: 1, positions: [1, 3] }, { special });
  assert.ok(Math.abs(r.qoiInput - (qoiValues(model, { ids: [ids] }, q)[0] as number)) < 1e-5);
  assert.ok(Math.abs(r.qoiBaseline - (qoiValues(model, { ids: [ids.map((t) => (t === 2 || t === 3 ? t : 4))] }, q)[0] as number)) < 1e-5);
  assert.ok(Math.abs(r.qoiKeep - r.qoiInput) > 1e-6 && Math.abs(r.qoiKeep - r.qoiBaseline) > 1e-6, 'a one-node-per-layer pattern is neither all nor nothing');
  assert.throws(() => patternAblation(model, { ids }, q, { source: 1, positions: [1] }, { special }), /1 positions for 2 layers/);
  // allLayerInfluences = layerInfluence of each layer, from one pass.
  const all = allLayerInfluences(model, { ids }, q, { res: 16, special });
  const l1 = layerInfluence(model, { ids }, q, 'blocks.1.hook_resid_post', { res: 16, special });
  for (let i = 0; i < ids.length; i++) assert.ok(Math.abs((all[1]?.[i] as number) - (l1.perPosition[i] as number)) < 1e-6);
  const n0 = tf.memory().numTensors;
  patternAblation(model, { ids }, q, { source: 1, positions: [1, 3] }, { special });
  allLayerInfluences(model, { ids }, q, { res: 4, special });
  assert.equal(tf.memory().numTensors, n0);
  model.dispose();
});
