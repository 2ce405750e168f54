import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { classProb, classLogit } from '../src/model/qoi.js';
import { integratedGradients, integrationPoints, interpolatePath, baselineIds } from '../src/methods/integratedGradients.js';
import { refForward, type W } from './helpers/refBert.js';
import { tinyConfig, scaledWeights } from './helpers/tinyBert.js';

const cfg = tinyConfig({ numLabels: 3 });
const special = { padId: 0, clsId: 2, sepId: 3, maskId: 4 };
const ids = [2, 6, 9, 11, 13, 3];

const plainWeights = (seed: number): W => scaledWeights(cfg, 'classifier', seed);
function emb(w: W, row: number[]): number[][] {
  const e = w.get('embeddings.word_embeddings.weight')!;
  return row.map((t) => Array.from(e.data.subarray(t * cfg.hiddenSize, (t + 1) * cfg.hiddenSize)));
}
/** p(class c) in float64 through the independent reference forward. */
function refProb(w: W, e: number[][], c: number): number {
  const z = refForward(cfg, w, ids, { embeds: e, head: 'classifier' }).logits as number[];
  const m = Math.max(...z);
  const ex = z.map((v) => Math.exp(v - m));
  return ex[c] / ex.reduce((a, b) => a + b, 0);
}

test('integration points: weights sum to 1, the trapezoid rule has both ends; bad steps throw', () => {
  for (const r of ['riemann-left', 'riemann-right', 'riemann-middle', 'riemann-trapezoid'] as const) {
    const { alphas, weights } = integrationPoints(10, r);
    assert.equal(alphas.length, 10);
    assert.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
  const t = integrationPoints(5);
  assert.deepEqual(t.alphas, [0, 0.25, 0.5, 0.75, 1]);
  assert.throws(() => integrationPoints(0), /positive integer/);
  assert.throws(() => integrationPoints(1, 'riemann-trapezoid'), /steps ≥ 2/);
  assert.deepEqual(baselineIds(ids, 0, special), [2, 0, 0, 0, 0, 3]);
  assert.deepEqual(baselineIds(ids, 0, special, false), [0, 0, 0, 0, 0, 0]);
});

test('interpolatePath gives x′ + α(x − x′)', async () => {
  await initBackend();
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const b = tf.tensor2d([
    [0, 0],
    [1, 1],
  ]);
  const p = interpolatePath(x, b, [0, 0.5, 1]);
  assert.deepEqual(p.shape, [3, 2, 2]);
  assert.deepEqual(Array.from(p.dataSync()), [0, 0, 1, 1, 0.5, 1, 2, 2.5, 1, 2, 3, 4]);
  tf.dispose([x, b, p]);
});

test('IG completeness: Σ_i IG_i = F(x) − F(x′) of an independent float64 forward; the gap shrinks with steps', async () => {
  await initBackend();
  const w = plainWeights(1);
  const model = new Bert(cfg, 'classifier', BertParams.fromPlain(w, cfg, 'classifier'));
  const x = emb(w, ids);
  const xb = emb(w, baselineIds(ids, special.padId, special));
  const refLogit = (e: number[][], c: number) => (refForward(cfg, w, ids, { embeds: e, head: 'classifier' }).logits as number[])[c];
  for (const c of [0, 2]) {
    const want = refLogit(x, c) - refLogit(xb, c);
    assert.ok(Math.abs(want) > 1e-3, `test needs a non-trivial difference, got ${want}`);
    const ig = integratedGradients(model, { ids }, classLogit(c), { specialIds: special, steps: 50 });
    const sum = ig.scores.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - want) < 0.02 * Math.abs(want) + 1e-4, `class ${c}: Σ IG ${sum} vs F(x) − F(x′) ${want}`);
    assert.equal(ig.sanity?.name, 'completeness_gap');
    assert.ok(Math.abs((ig.meta?.fInput as number) - refLogit(x, c)) < 1e-4);
    assert.ok(ig.sanity!.value < 0.02 * Math.abs(want) + 1e-4);
    assert.equal(ig.scores[0], 0, '[CLS] kept in the baseline gets 0');
    assert.equal(ig.scores[5], 0, '[SEP] kept in the baseline gets 0');
    const coarse = integratedGradients(model, { ids }, classLogit(c), { specialIds: special, steps: 2 });
    assert.ok(coarse.sanity!.value > ig.sanity!.value, `gap with 2 steps ${coarse.sanity!.value} should exceed 50 steps ${ig.sanity!.value}`);
  }
  model.dispose();
});

test('IG per token matches the path integral of float64 finite differences', async () => {
  await initBackend();
  const w = plainWeights(2);
  const model = new Bert(cfg, 'classifier', BertParams.fromPlain(w, cfg, 'classifier'));
  const x = emb(w, ids);
  const xb = emb(w, baselineIds(ids, special.maskId, special));
  const n = 40;
  const ig = integratedGradients(model, { ids }, classProb(1), { specialIds: special, baseline: 'mask', steps: n, rule: 'riemann-middle', batchSize: 7 });
  for (const i of [1, 3, 4]) {
    // IG_i = ∫ ∂F/∂x_i(p(α)) · (x_i − x′_i) dα: directional derivative of token i by central differences.
    let s = 0;
    const h = 1e-4;
    for (let k = 0; k < n; k++) {
      const a = (k + 0.5) / n;
      const p = x.map((r, t) => r.map((v, d) => xb[t][d] + a * (v - xb[t][d])));
      const dir = x[i].map((v, d) => v - xb[i][d]);
      const pp = p.map((r, t) => (t === i ? r.map((v, d) => v + h * dir[d]) : r));
      const pm = p.map((r, t) => (t === i ? r.map((v, d) => v - h * dir[d]) : r));
      s += (refProb(w, pp, 1) - refProb(w, pm, 1)) / (2 * h) / n;
    }
    assert.ok(Math.abs(ig.scores[i] - s) < 1e-4 + 1e-2 * Math.abs(s), `token ${i}: IG ${ig.scores[i]} vs reference ${s}`);
  }
  model.dispose();
});

test('IG: zero and custom baselines, errors, no tensor leaks', async () => {
  await initBackend();
  const model = new Bert(cfg, 'classifier', BertParams.fromPlain(plainWeights(3), cfg, 'classifier'));
  const zero = integratedGradients(model, { ids }, classLogit(0), { specialIds: special, baseline: 'zero', steps: 8 });
  assert.equal(zero.meta?.baseline, 'zero');
  const same = integratedGradients(model, { ids }, classLogit(0), { baseline: { ids }, steps: 4 });
  assert.ok(
    same.scores.every((v) => v === 0),
    'baseline = input gives zero attribution',
  );
  assert.throws(() => integratedGradients(model, { ids }, classLogit(0), { baseline: 'pad' }), /specialIds\.padId/);
  assert.throws(() => integratedGradients(model, { ids }, classLogit(0), { baseline: { ids: [1] } }), /length 1/);
  assert.throws(() => integratedGradients(model, { ids: [] }, classLogit(0), { specialIds: special }), /empty input/);
  assert.throws(() => integratedGradients(model, { ids }, classLogit(0), { specialIds: special, steps: 0 }), /positive integer/);
  integratedGradients(model, { ids }, classProb(0), { specialIds: special, steps: 6 });
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) integratedGradients(model, { ids }, classProb(0), { specialIds: special, steps: 6, batchSize: 4 });
  assert.throws(() => integratedGradients(model, { ids }, classLogit(0), { baseline: { ids: [1] } }));
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
