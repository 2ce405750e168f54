import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { makeBertConfig } from '../src/io/config.js';
import { trainMlm, type MlmBatch } from '../src/train/mlm.js';
import { mulberry } from './helpers/rng.js';

// A synthetic agreement task: "[CLS] n x x x [MASK] [SEP]" where the masked token must be the
// "verb" that agrees with the noun n (ids 5..9 are singular nouns → verb 20, 10..14 plural → verb 21).
// Solving it needs attention from the mask to position 1 across distractors; chance is 50%.
const cfg = makeBertConfig({
  vocabSize: 24,
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 64,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
});

function batch(rand: () => number, n: number): MlmBatch {
  const ids: number[][] = [];
  const positions: number[] = [];
  const labels: number[] = [];
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
  const accuracy = () =>
    tf.tidy(() => {
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
  const c = makeBertConfig({ ...cfg, numLabels: 2 });
  const model = new Bert(c, 'classifier', BertParams.random(c, 'classifier', 1));
  await assert.rejects(
    trainMlm(model, () => batch(mulberry(1), 2), { steps: 1 }),
    /MLM head/,
  );
  model.dispose();
});

// Lazy embedding updates: with the decoder tied to the word embeddings, plain Adam moves the row of every
// token absent from the batch (its softmax gradient is tiny but of constant sign, and Adam divides by its
// scale), so all rare rows drift together; the first embedded agreement model ended with a common vector
// larger than the spread of its rows and never learned agreement.
const big = makeBertConfig({ ...cfg, vocabSize: 60 });
const embedding = (m: Bert) => m.params.get('embeddings.word_embeddings.weight').arraySync() as number[][];

test('lazy embedding updates leave the rows of tokens absent from every batch untouched; plain Adam moves them all', async () => {
  await initBackend();
  for (const lazy of [true, false]) {
    const model = new Bert(big, 'mlm', BertParams.random(big, 'mlm', 5));
    const before = embedding(model);
    const rand = mulberry(3);
    await trainMlm(model, () => batch(rand, 8), { steps: 20, lr: 1e-3, dropout: 0, lazyEmbeddings: lazy });
    const after = embedding(model);
    const moved = (i: number) => after[i]!.some((x, j) => x !== before[i]![j]);
    // Tokens 0, 2..14, 20, 21 occur (padding-free batches: [CLS]=2, nouns 5..14, [MASK]=4, [SEP]=3, labels 20/21).
    const used = new Set([2, 3, 4, 20, 21, ...Array.from({ length: 10 }, (_, k) => 5 + k)]);
    const absent = Array.from({ length: big.vocabSize }, (_, i) => i).filter((i) => !used.has(i));
    if (lazy) {
      assert.ok(
        absent.every((i) => !moved(i)),
        'an absent row changed under lazy updates',
      );
      assert.ok(
        [...used].every((i) => moved(i)),
        'a row of a token in the batches did not change',
      );
    } else {
      assert.ok(
        absent.every((i) => moved(i)),
        'plain Adam should move every row (tied decoder)',
      );
    }
    model.dispose();
  }
});

test('trainMlm without lazy updates is Adam (Kingma & Ba 2015): same weights as tf.train.adam with the same schedule', async () => {
  await initBackend();
  const steps = 6;
  const lrPeak = 2e-3;
  const a = new Bert(cfg, 'mlm', BertParams.random(cfg, 'mlm', 8));
  const b = new Bert(cfg, 'mlm', BertParams.random(cfg, 'mlm', 8));
  const batches = Array.from({ length: steps }, (_, i) => batch(mulberry(100 + i), 4));
  await trainMlm(a, (s) => batches[s - 1]!, { steps, lr: lrPeak, warmup: 2, clip: 1e9, dropout: 0, lazyEmbeddings: false });
  // Reference: tfjs's own Adam, linear warm-up over 2 steps then linear decay (floor 2% of the peak).
  const opt = tf.train.adam(lrPeak, 0.9, 0.999, 1e-6);
  const vars = [...b.params.vars.values()];
  for (let s = 1; s <= steps; s++) {
    (opt as unknown as { learningRate: number }).learningRate = s <= 2 ? (lrPeak * s) / 2 : lrPeak * Math.max(0.02, (steps - s) / (steps - 2));
    const bt = batches[s - 1]!;
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const tr = b.forward(
          { ids: bt.ids, attentionMask: bt.attentionMask },
          { record: 'none', logitsAtFlat: tf.tensor1d(bt.positions, 'int32'), trainWeights: true },
        );
        const logp = tf.logSoftmax(tr.logits, -1);
        return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(bt.labels, 'int32'), cfg.vocabSize)), -1))) as tf.Scalar;
      }, vars);
      opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
    });
    b.params.clearCache();
  }
  opt.dispose();
  let maxDiff = 0;
  for (const [name, v] of a.params.vars) {
    const x = v.dataSync();
    const y = b.params.get(name).dataSync();
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs((x[i] as number) - (y[i] as number)));
  }
  assert.ok(maxDiff < 1e-5, `weights differ from tf.train.adam by ${maxDiff}`);
  a.dispose();
  b.dispose();
});
