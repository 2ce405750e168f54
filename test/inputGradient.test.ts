import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { tokenLogitDiff, tokenProbDiff } from '../src/model/qoi.js';
import { inputGradients, inputGradient } from '../src/methods/inputGradient.js';
import { refForward, type W } from './helpers/refBert.js';
import { tinyConfig, scaledWeights } from './helpers/tinyBert.js';

const cfg = tinyConfig();

const plainWeights = (seed: number): W => scaledWeights(cfg, 'mlm', seed);

const ids = [1, 6, 9, 4, 13, 2];
const pos = 3;

/** Word embeddings of `ids` from the plain weights, float64 rows. */
function wordEmb(w: W): number[][] {
  const e = w.get('embeddings.word_embeddings.weight')!;
  return ids.map((t) => Array.from(e.data.subarray(t * cfg.hiddenSize, (t + 1) * cfg.hiddenSize)));
}

/** The QoI in float64 through the independent reference: logit(10) − logit(11) or the probability difference. */
function refQoi(w: W, emb: number[][], prob: boolean): number {
  const z = (refForward(cfg, w, ids, { embeds: emb, head: 'mlm' }).logits as number[][])[pos];
  if (!prob) return z[10] - z[11];
  const m = Math.max(...z);
  const ex = z.map((v) => Math.exp(v - m));
  const s = ex.reduce((a, b) => a + b, 0);
  return (ex[10] - ex[11]) / s;
}

/** Central difference of the reference QoI along a direction applied to token i's embedding. */
function fdAlong(w: W, i: number, dir: number[], prob: boolean, h = 1e-4): number {
  const e0 = wordEmb(w);
  const ep = e0.map((r, k) => (k === i ? r.map((v, d) => v + h * dir[d]) : r.slice()));
  const em = e0.map((r, k) => (k === i ? r.map((v, d) => v - h * dir[d]) : r.slice()));
  return (refQoi(w, ep, prob) - refQoi(w, em, prob)) / (2 * h);
}

test('input gradient |Σ_d ∂QoI/∂e_id| and gradient × input match finite differences of a float64 reference', async () => {
  await initBackend();
  const w = plainWeights(1);
  const model = new Bert(cfg, 'mlm', BertParams.fromPlain(w, cfg, 'mlm'));
  for (const prob of [false, true]) {
    const qoi = prob ? tokenProbDiff(pos, 10, 11) : tokenLogitDiff(pos, 10, 11);
    const signed = inputGradients(model, { ids }, qoi, { reduce: 'sum' });
    const dflt = inputGradients(model, { ids }, qoi);
    const e0 = wordEmb(w);
    for (let i = 0; i < ids.length; i++) {
      // Σ_d g_id = derivative along the all-ones direction; Σ_d g_id e_id = derivative along e_i.
      const fdSum = fdAlong(w, i, new Array(cfg.hiddenSize).fill(1), prob);
      const fdGxI = fdAlong(w, i, e0[i], prob);
      const tol = (v: number) => 1e-3 * (prob ? 0.05 : 1) + 2e-3 * Math.abs(v);
      assert.ok(Math.abs(signed.gradient.scores[i] - fdSum) < tol(fdSum), `${prob ? 'p' : 'z'} token ${i}: Σg ${signed.gradient.scores[i]} vs fd ${fdSum}`);
      assert.ok(Math.abs(signed.gradientXInput.scores[i] - fdGxI) < tol(fdGxI), `token ${i}: Σg·e ${signed.gradientXInput.scores[i]} vs fd ${fdGxI}`);
      assert.ok(Math.abs(dflt.gradient.scores[i] - Math.abs(fdSum)) < tol(fdSum), 'default is |Σ_d g|');
      assert.ok(Math.abs(dflt.gradientXInput.scores[i] - Math.abs(fdGxI)) < tol(fdGxI));
    }
  }
  model.dispose();
});

test('L2 and L1 reductions match per-dimension finite differences; embed.hook_out is another node', async () => {
  await initBackend();
  const w = plainWeights(2);
  const model = new Bert(cfg, 'mlm', BertParams.fromPlain(w, cfg, 'mlm'));
  const qoi = tokenLogitDiff(pos, 10, 11);
  const l2 = inputGradient(model, { ids }, qoi, { reduce: 'l2' });
  const l1 = inputGradient(model, { ids }, qoi, { reduce: 'l1' });
  for (const i of [0, 2, 4]) {
    const g = Array.from({ length: cfg.hiddenSize }, (_, d) =>
      fdAlong(
        w,
        i,
        Array.from({ length: cfg.hiddenSize }, (_, k) => (k === d ? 1 : 0)),
        false,
      ),
    );
    const n2 = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    const n1 = g.reduce((s, v) => s + Math.abs(v), 0);
    assert.ok(Math.abs(l2.scores[i] - n2) < 1e-3 + 2e-3 * n2, `l2 ${l2.scores[i]} vs ${n2}`);
    assert.ok(Math.abs(l1.scores[i] - n1) < 1e-3 + 2e-3 * n1, `l1 ${l1.scores[i]} vs ${n1}`);
  }
  const out = inputGradient(model, { ids }, qoi, { node: 'embed.hook_out' });
  assert.equal(out.meta?.node, 'embed.hook_out');
  assert.ok(out.scores.some((v, i) => Math.abs(v - l2.scores[i]) > 1e-6));
  assert.throws(() => inputGradient(model, { ids }, qoi, { reduce: 'max' as never }), /unknown reduce/);
  assert.throws(() => inputGradient(model, { ids, tokens: ['a'] }, qoi), /1 tokens but 6 ids/);
  model.dispose();
});

test('input gradients leak no tensors over repeated calls', async () => {
  await initBackend();
  const model = new Bert(cfg, 'mlm', BertParams.fromPlain(plainWeights(3), cfg, 'mlm'));
  const qoi = tokenProbDiff(pos, 10, 11);
  inputGradients(model, { ids }, qoi);
  const before = tf.memory().numTensors;
  for (let k = 0; k < 4; k++) inputGradients(model, { ids }, qoi, { reduce: 'l2' });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
