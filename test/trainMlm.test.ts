import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { trainMlm, type MlmBatch } from '../src/train/mlm.js';
import { mulberry } from './helpers/rng.js';

// A synthetic agreement task: "[CLS] n x x x [MASK] [SEP]" where the masked token must be the
// "verb" that agrees with the noun n (ids 5..9 are singular nouns → verb 20, 10..14 plural → verb 21).
// Solving it needs attention from the mask to position 1 across distractors; chance is 50%.
const cfg = { vocabSize: 24, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, hiddenAct: 'gelu', maxPositionEmbeddings: 16, typeVocabSize: 2, layerNormEps: 1e-12 };

function batch(rand: () => number, n: number): MlmBatch {
  const ids: number[][] = []; const positions: number[] = []; const labels: number[] = [];
  const S = 7;
  for (let b = 0; b < n; b++) {
    const noun = 5 + Math.floor(rand() * 10);
    const distract = [0, 1, 2].map(() => 5 + Math.floor(rand() * 10));
    ids.push([2, noun, ...distract, 4, 3]);
    positions.push(b * S + 5);
    labels.push(noun < 10 ? 20 : 21);
  }
  return { ids, attentionMask: ids.map((r) => r.map(() => 1)), positions, labels };
}

test('MLM training learns a synthetic agreement task (accuracy from chance to > 95%) without leaking tensors', async () => {
  await initBackend();
  const model = new Bert(cfg, 'mlm', BertParams.random(cfg, 'mlm', 3));
  const rand = mulberry(11);
  const evalB = batch(mulberry(99), 200);
  const accuracy = () => tf.tidy(() => {
    const tr = model.forward({ ids: evalB.ids }, { record: 'none', logitsAtFlat: tf.tensor1d(evalB.positions, 'int32') });
    const pred = tr.logits.slice([0, 20], [-1, 2]).argMax(-1).dataSync();
    return Array.from(pred).filter((p, i) => p + 20 === evalB.labels[i]).length / pred.length;
  });
  const before = accuracy();
  model.params.clearCache(); // cached weight transposes from the evaluation above
  const n0 = tf.memory().numTensors;
  const losses = await trainMlm(model, () => batch(rand, 32), { steps: 150, lr: 3e-3, dropout: 0 });
  assert.equal(tf.memory().numTensors, n0, 'tensors leaked during training');
  const after = accuracy();
  assert.ok(before < 0.75, `untrained accuracy ${before} should be near chance`);
  assert.ok(after > 0.95, `trained accuracy ${after}`);
  assert.ok(losses[losses.length - 1] < losses[0] / 3, 'loss should fall');
  model.dispose();
});

test('trainMlm rejects a model without the MLM head', async () => {
  await initBackend();
  const c = { ...cfg, numLabels: 2 };
  const model = new Bert(c, 'classifier', BertParams.random(c, 'classifier', 1));
  await assert.rejects(trainMlm(model, () => batch(mulberry(1), 2), { steps: 1 }), /MLM head/);
  model.dispose();
});
