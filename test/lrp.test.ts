import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { gradientAt } from '../src/model/run.js';
import { classLogit } from '../src/model/qoi.js';
import { makeBertConfig, type BertConfig } from '../src/io/config.js';
import { lrpAdd, lrpLinear, lrpMatmul, safeDivide, type LinearWeights } from '../src/methods/lrp/rules.js';
import { explainTrace } from '../src/methods/lrp/explainTrace.js';
import { relevancePass } from '../src/methods/lrp/relevance.js';
import { gaeAccumulate, positiveGradWeightedMean, rolloutIdentity } from '../src/methods/lrp/maps.js';
import { mulberry } from './helpers/rng.js';

await initBackend();

function lw(w: number[][]): LinearWeights {
  const t = tf.tensor2d(w);
  return { w: t, wT: t.transpose() };
}
const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
const randMat = (rnd: () => number, r: number, c: number, lo = -1, hi = 1) =>
  Array.from({ length: r }, () => Array.from({ length: c }, () => lo + (hi - lo) * rnd()));

test('α1β0 linear rule: hand-computed 2×2 case and exact conservation on random inputs', () => {
  // x = [1, -2], W = [[1, -1], [2, 3]] ([in, out]); z⁺_0 = 1·1 + (-2)·0 = 1 (x⁻ meets W⁻ = 0), z⁺_1 = 1·0 + (-2)(0)… :
  // x⁺ = [1, 0], x⁻ = [0, -2]; W⁺ = [[1,0],[2,3]], W⁻ = [[0,-1],[0,0]]
  // z_0 = x⁺W⁺_{:,0} + x⁻W⁻_{:,0} = 1; z_1 = 0 + 0 = 0  → output 1 takes no relevance.
  // R = [0.5, 0.7] → R_in = x⁺ ⊙ (W⁺ S) + x⁻ ⊙ (W⁻ S), S = [0.5, 0] → R_in = [0.5, 0].
  const r = lrpLinear(
    tf.tensor2d([[1, -2]]),
    tf.tensor2d([[0.5, 0.7]]),
    lw([
      [1, -1],
      [2, 3],
    ]),
  );
  assert.deepEqual(
    arr(r).map((v) => +v.toFixed(6)),
    [0.5, 0],
  );
  const rnd = mulberry(4);
  const xs = randMat(rnd, 5, 7);
  const Rs = randMat(rnd, 5, 3, 0, 1);
  const Ws = randMat(rnd, 7, 3);
  const rin = lrpLinear(tf.tensor2d(xs), tf.tensor2d(Rs), lw(Ws));
  // Conserved over the outputs with a positive contribution z⁺_j > 0 (computed here in plain JS):
  // an output fed only by inhibitory products (x>0 with w<0, x<0 with w>0) takes no relevance under α1β0.
  let expected = 0;
  let dropped = 0;
  xs.forEach((row, n) =>
    Rs[n].forEach((rv, j) => {
      const zp = row.reduce((acc, xv, i) => acc + (xv * Ws[i][j] > 0 ? xv * Ws[i][j] : 0), 0);
      if (zp > 0) expected += rv;
      else dropped++;
    }),
  );
  assert.ok(dropped >= 1, 'this seed has an output with only inhibitory contributions');
  assert.ok(Math.abs(sum(arr(rin)) - expected) < 1e-5, `Σ R_in ${sum(arr(rin))} vs Σ R over z⁺ > 0 ${expected}`);
  assert.ok(
    arr(rin).every((v) => v >= -1e-7),
    'α1β0 of non-negative relevance is non-negative',
  );
});

test('LRP of a purely linear (bias-free) two-layer model equals gradient × input', () => {
  const rnd = mulberry(9);
  const W1 = randMat(rnd, 6, 5);
  const W2 = randMat(rnd, 5, 3);
  const xs = randMat(rnd, 1, 6);
  const x = tf.tensor2d(xs);
  const h = tf.matMul(x, tf.tensor2d(W1));
  const y = tf.matMul(h, tf.tensor2d(W2));
  // LRP-0 started at R = y: R_in = x ⊙ ∇_x Σ_j y_j.
  const eps = { kind: 'epsilon', epsilon: 0 } as const;
  const r1 = lrpLinear(h as tf.Tensor2D, y as tf.Tensor2D, lw(W2), eps);
  const r0 = lrpLinear(x, r1, lw(W1), eps);
  const g = tf.grad((xx: tf.Tensor) => tf.matMul(tf.matMul(xx as tf.Tensor2D, tf.tensor2d(W1)), tf.tensor2d(W2)).sum())(x);
  const gxi = arr(tf.mul(g, x));
  arr(r0).forEach((v, i) => assert.ok(Math.abs(v - gxi[i]) < 1e-4 * (1 + Math.abs(gxi[i])), `token ${i}: LRP ${v} vs grad×input ${gxi[i]}`));
  // α1β0 equals it too when inputs and weights are non-negative (all contributions positive).
  const P1 = W1.map((r) => r.map(Math.abs));
  const P2 = W2.map((r) => r.map(Math.abs));
  const xp = tf.tensor2d([xs[0].map(Math.abs)]);
  const hp = tf.matMul(xp, tf.tensor2d(P1));
  const yp = tf.matMul(hp, tf.tensor2d(P2));
  const a0 = lrpLinear(xp, lrpLinear(hp as tf.Tensor2D, yp as tf.Tensor2D, lw(P2)), lw(P1));
  const gp = tf.grad((xx: tf.Tensor) => tf.matMul(tf.matMul(xx as tf.Tensor2D, tf.tensor2d(P1)), tf.tensor2d(P2)).sum())(xp);
  const gxp = arr(tf.mul(gp, xp));
  arr(a0).forEach((v, i) => assert.ok(Math.abs(v - gxp[i]) < 1e-4 * (1 + gxp[i]), `α1β0 token ${i}: ${v} vs ${gxp[i]}`));
});

test('Add rule conserves exactly; matmul rule on positive operands gives each operand exactly half', () => {
  const rnd = mulberry(2);
  const a = tf.tensor2d(randMat(rnd, 4, 3));
  const b = tf.tensor2d(randMat(rnd, 4, 3));
  const R = tf.tensor2d(randMat(rnd, 4, 3, -0.2, 1));
  const [ra, rb] = lrpAdd(a, b, R);
  assert.ok(Math.abs(sum(arr(ra)) + sum(arr(rb)) - sum(arr(R))) < 1e-5);
  // Shares follow |Σ R_a| : |Σ R_b| of the z-rule split: hand check of the ratio.
  const s = arr(safeDivide(R, tf.add(a, b)));
  const za = sum(arr(a).map((v, i) => v * s[i]));
  const zb = sum(arr(b).map((v, i) => v * s[i]));
  assert.ok(Math.abs(sum(arr(ra)) - (Math.abs(za) / (Math.abs(za) + Math.abs(zb))) * sum(arr(R))) < 1e-5);
  const A = tf.tensor3d([randMat(rnd, 3, 4, 0.1, 1)]);
  const B = tf.tensor3d([randMat(rnd, 4, 2, 0.1, 1)]);
  const RM = tf.tensor3d([randMat(rnd, 3, 2, 0, 1)]);
  const [rA, rB] = lrpMatmul(A, B, RM);
  assert.ok(Math.abs(sum(arr(rA)) - sum(arr(RM)) / 2) < 1e-5);
  assert.ok(Math.abs(sum(arr(rB)) - sum(arr(RM)) / 2) < 1e-5);
  assert.equal(arr(safeDivide(tf.tensor1d([1, 2]), tf.tensor1d([0, 4])))[0], 0);
});

const cfg = makeBertConfig({
  vocabSize: 30,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  intermediateSize: 24,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  numLabels: 2,
});
function toyModel(c: BertConfig = cfg, seed = 3): Bert {
  const p = BertParams.random(c, 'classifier', seed);
  const plain = p.toPlain();
  p.dispose();
  const rnd = mulberry(seed + 11);
  for (const [, t] of plain) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] * 20 + (rnd() - 0.5) * 0.05;
  return new Bert(c, 'classifier', BertParams.fromPlain(plain, c, 'classifier'));
}
const ids = [2, 7, 11, 5, 19, 3];

test('relevance pass on a BERT: Σ R conserved layer by layer through the conserving rules; attention matmuls within tolerance', () => {
  const model = toyModel();
  const et = explainTrace(model, { ids });
  const r = relevancePass(model, et);
  assert.ok(Math.abs(r.resid[cfg.numHiddenLayers] - 1) < 1e-4, `classifier + pooler conserve: ${r.resid[cfg.numHiddenLayers]}`);
  for (const [l, c] of r.checkpoints.entries()) {
    assert.ok(Math.abs(c.mid - c.post) < 1e-4, `layer ${l}: MLP block (Add + 2 linear + Clone) conserves: ${c.post} → ${c.mid}`);
    assert.ok(Math.abs(c.attnOut + c.skip - c.mid) < 1e-5, `layer ${l}: residual Add conserves`);
    assert.ok(Math.abs(c.ctx - c.attnOut) < 1e-4, `layer ${l}: output projection conserves`);
    assert.ok(Math.abs(c.pre - (c.skip + c.qkv)) < 1e-5, `layer ${l}: Clone sums branches`);
    // Two-operand matmuls are not conserving in general: Σ R(P) + Σ R(V) ≈ Σ R(ctx) within 50%.
    assert.ok(Math.abs(c.pv - c.ctx) <= 0.5 * Math.abs(c.ctx) + 1e-6, `layer ${l}: P·V split ${c.pv} vs ${c.ctx}`);
  }
  assert.ok(Math.abs(sum(r.tokens) - r.resid[0]) < 1e-4);
  // Embeddings' Add conserves exactly: word + (position + type) shares sum to the encoder input's relevance.
  assert.ok(Math.abs(sum(r.wordEmbedding) + sum(r.positionTypeEmbedding) - r.resid[0]) < 1e-5);
  et.dispose();
  model.dispose();
});

test('explainTrace gradients match gradientAt at every attention pattern and layer input', () => {
  const model = toyModel();
  const et = explainTrace(model, { ids });
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    for (const [node, mine] of [
      [`blocks.${l}.attn.hook_pattern`, et.patternGrads[l]],
      [`blocks.${l}.hook_resid_pre`, et.residGrads[l]],
    ] as const) {
      const ref = gradientAt(model, { ids: [ids] }, node, classLogit(et.target));
      const a = arr(ref.grad);
      const b = arr(mine);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-4 * (1 + Math.abs(v)), `${node}[${i}]: ${b[i]} vs ${v}`));
      ref.grad.dispose();
      ref.value.dispose();
    }
  }
  et.dispose();
  model.dispose();
});

test('Mask-LRP head mask: a masked head passes exactly zero relevance; the forward pass is untouched', () => {
  const model = toyModel();
  const et = explainTrace(model, { ids });
  const mask = [
    [1, 1, 1, 1],
    [1, 0, 1, 1],
  ];
  const full = relevancePass(model, et, { perHeadInput: true });
  const m = relevancePass(model, et, { headMask: mask, perHeadInput: true });
  const mz = relevancePass(model, et, { headMask: mask, maskedHeadMaps: 'zero' });
  assert.ok(Math.abs(m.headIn[1][1]) > 1e-4, 'the head receives relevance before the mask');
  assert.equal(m.headPassed[1][1], 0);
  assert.equal(m.headToInput[1][1], 0, 'nothing reaches the layer input through the masked head');
  assert.ok(Math.abs(full.headToInput[1][1]) > 1e-5, 'unmasked, the head does pass relevance');
  const S = ids.length;
  const off = (1 * 4 + 1) * S * S;
  assert.ok(
    mz.attention.subarray(off, off + S * S).every((v) => v === 0),
    "'zero': the masked head's map is all zero",
  );
  assert.ok(
    m.attention.subarray(off, off + S * S).some((v) => v !== 0),
    "'reference': the map keeps the unmasked relevance",
  );
  // Mask all heads of the top layer: what reaches its input is exactly the skip connection's share.
  const all = relevancePass(model, et, {
    headMask: [
      [1, 1, 1, 1],
      [0, 0, 0, 0],
    ],
  });
  assert.equal(all.checkpoints[1].qkv, 0);
  assert.equal(all.checkpoints[1].pre, all.checkpoints[1].skip);
  // The trace's attention (forward) does not depend on the mask.
  const et2 = explainTrace(model, { ids });
  assert.deepEqual(Array.from(et2.trace.attentionArray()), Array.from(et.trace.attentionArray()));
  et.dispose();
  et2.dispose();
  model.dispose();
});

test('attention-map helpers: hand-computed rollout, GAE and positive grad-weighted mean', () => {
  // 2 heads, 2 tokens.
  const g = [1, -1, 2, 0, /* h1 */ 1, 1, -3, 1];
  const a = [0.5, 0.5, 0.2, 0.8, /* h1 */ 0.9, 0.1, 0.4, 0.6];
  assert.deepEqual(
    Array.from(positiveGradWeightedMean(g, a, 2, 2)).map((v) => +v.toFixed(6)),
    [0.7, 0.05, 0.2, 0.3],
  );
  // (M + I) rows normalised: M = [[1,0],[0,0]] → [[1,0],[0,1]]; M2 = [[0,1],[1,0]] → [[.5,.5],[.5,.5]].
  const j = rolloutIdentity([Float64Array.from([1, 0, 0, 0]), Float64Array.from([0, 1, 1, 0])], 2);
  assert.deepEqual(Array.from(j), [0.5, 0.5, 0.5, 0.5]);
  // GAE: R = I + A1·I = [[1,1],[0,1]] for A1 = [[0,1],[0,0]]; then + A2·R with A2 = [[0,0],[1,0]] → [[1,1],[1,2]].
  assert.deepEqual(Array.from(gaeAccumulate([Float64Array.from([0, 1, 0, 0]), Float64Array.from([0, 0, 1, 0])], 2)), [1, 1, 1, 2]);
});

test('relevance pass runs on a 12-layer BERT and leaks no tensors on repeated calls; bad masks are refused', () => {
  const c12 = makeBertConfig({ ...cfg, numHiddenLayers: 12, hiddenSize: 24, numAttentionHeads: 12, intermediateSize: 32 });
  const model = toyModel(c12, 5);
  const run = () => {
    const et = explainTrace(model, { ids });
    const r = relevancePass(model, et, { headMask: Array.from({ length: 12 }, (_, l) => Array.from({ length: 12 }, (_, h) => ((l + h) % 3 ? 1 : 0))) });
    et.dispose();
    return r;
  };
  run();
  const before = tf.memory().numTensors;
  const r = run();
  run();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.attention.length, 12 * 12 * ids.length * ids.length);
  assert.ok(r.tokens.every(Number.isFinite));
  const et = explainTrace(model, { ids });
  assert.throws(() => relevancePass(model, et, { headMask: [[1, 0]] }), /headMask must be \[12\]\[12\]/);
  et.dispose();
  assert.throws(() => explainTrace(model, { ids: [] }), /empty example/);
  assert.throws(() => explainTrace(model, { ids, attentionMask: [1, 1, 1, 1, 1, 0] }), /unpadded/);
  assert.throws(() => explainTrace(model, { ids }, { target: 5 }), /target class 5/);
  model.dispose();
});
