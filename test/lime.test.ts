import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Rng } from '../src/data/random.js';
import { lime, limeFit, limeKernelWeights, limeMasks, weightedRidge } from '../src/methods/lime.js';
import { oneTokenModel, TOY_IDS, X_ID } from './helpers/oneTokenModel.js';
import { mulberry } from './helpers/rng.js';

test('LIME recovers the weights of a known linear model (exactly without penalty, closely with α = 1)', () => {
  const w = [0.8, -0.5, 0.05, 0.3, 0, -0.2, 0.6];
  const b = 0.1;
  const f = (masks: number[][]) => masks.map((z) => b + z.reduce((a, v, j) => a + v * w[j], 0));
  const exact = limeFit(f, w.length, { alpha: 0, seed: 3 });
  exact.coef.forEach((c, j) => assert.ok(Math.abs(c - w[j]) < 1e-9, `feature ${j}: ${c} vs ${w[j]}`));
  assert.ok(Math.abs(exact.intercept - b) < 1e-9);
  assert.ok(exact.r2 > 1 - 1e-9);
  const ridge = limeFit(f, w.length, { seed: 3 });
  ridge.coef.forEach((c, j) => assert.ok(Math.abs(c - w[j]) < 0.1 * Math.max(...w.map(Math.abs)), `α = 1, feature ${j}: ${c} vs ${w[j]}`));
  // The ranking, which is what a degradation test uses, is that of the true weights.
  const rank = (v: number[]) =>
    v
      .map((x, j) => ({ x, j }))
      .sort((p, q) => q.x - p.x)
      .map((p) => p.j);
  assert.deepEqual(rank(ridge.coef), rank(w));
});

test('weighted ridge: the gradient of Σ w (y − b − xβ)² + α‖β‖² vanishes at the solution', () => {
  const rnd = mulberry(11);
  const X: number[][] = Array.from({ length: 30 }, () => Array.from({ length: 4 }, () => (rnd() < 0.5 ? 0 : 1)));
  const y = X.map(() => rnd());
  const w = X.map(() => rnd());
  const alpha = 0.7;
  const fit = weightedRidge(X, y, w, alpha);
  const resid = X.map((r, i) => y[i] - fit.intercept - r.reduce((a, v, j) => a + v * fit.coef[j], 0));
  const gb = resid.reduce((a, e, i) => a - 2 * w[i] * e, 0);
  assert.ok(Math.abs(gb) < 1e-9, `∂/∂b ${gb}`);
  for (let j = 0; j < 4; j++) {
    const g = X.reduce((a, r, i) => a - 2 * w[i] * resid[i] * r[j], 0) + 2 * alpha * fit.coef[j];
    assert.ok(Math.abs(g) < 1e-9, `∂/∂β${j} ${g}`);
  }
  assert.throws(() => weightedRidge(X, y.slice(1), w), /must match/);
  assert.throws(
    () =>
      weightedRidge(
        X,
        y,
        w.map(() => 0),
      ),
    /all weights are 0/,
  );
});

test('LIME sampling and kernel follow lime_text', () => {
  const m = limeMasks(5, 200, new Rng(1));
  assert.deepEqual(m[0], [1, 1, 1, 1, 1]);
  const removed = m.slice(1).map((r) => r.filter((v) => v === 0).length);
  assert.ok(removed.every((k) => k >= 1 && k <= 5));
  for (let k = 1; k <= 5; k++) assert.ok(removed.includes(k), `some sample removes ${k}`);
  assert.deepEqual(limeMasks(5, 20, new Rng(1)), m.slice(0, 20), 'seeded');
  const kw = limeKernelWeights([
    [1, 1, 1, 1],
    [1, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  assert.ok(Math.abs(kw[0] - 1) < 1e-12);
  assert.ok(Math.abs(kw[1] - Math.exp(-2)) < 1e-12, 'cosine distance 50 → sqrt(exp(−50²/25²)) = e^−2');
  assert.ok(Math.abs(kw[2] - Math.exp(-8)) < 1e-12);
  assert.throws(() => limeMasks(0, 10, new Rng(1)), /removable token/);
});

test('LIME on a model that depends on one token ranks that token first; no tensor leaks', async () => {
  await initBackend();
  const model = oneTokenModel();
  const ex = { ids: [2, 5, 6, X_ID, 8, 9, 3] };
  const a = lime(model, ex, { specialIds: TOY_IDS, target: 1 });
  assert.equal(a.scores.indexOf(Math.max(...a.scores)), 3, `scores ${a.scores}`);
  assert.equal(a.scores[0], 0);
  assert.equal(a.scores[6], 0);
  assert.ok(a.scores[3] > 0.5, `X's weight ≈ the probability drop: ${a.scores[3]}`);
  assert.equal(a.sanity?.name, 'r2');
  const dflt = lime(model, ex, { specialIds: TOY_IDS });
  assert.equal(dflt.meta?.target, 1, 'the predicted class by default');
  assert.throws(() => lime(model, ex, { specialIds: TOY_IDS, target: 5 }), /target class 5/);
  lime(model, ex, { specialIds: TOY_IDS, target: 1, samples: 20 });
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) lime(model, ex, { specialIds: TOY_IDS, target: 0, samples: 20, seed: k });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('random baseline: seeded uniform scores in [0, 1)', async () => {
  const { randomAttribution } = await import('../src/methods/random.js');
  const a = randomAttribution(['a', 'b', 'c', 'd'], 7);
  assert.deepEqual(a.scores, randomAttribution(['a', 'b', 'c', 'd'], 7).scores);
  assert.notDeepEqual(a.scores, randomAttribution(['a', 'b', 'c', 'd'], 8).scores);
  assert.ok(a.scores.every((v) => v >= 0 && v < 1));
  assert.throws(() => randomAttribution(['a'], NaN), /seed/);
});
