import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { gradientAt } from '../src/model/run.js';
import { classLogit } from '../src/model/qoi.js';
import { makeBertConfig } from '../src/io/config.js';
import { explainTrace } from '../src/methods/lrp/explainTrace.js';
import { relevancePass } from '../src/methods/lrp/relevance.js';
import { maskLrp, maskLrpFromTrace } from '../src/methods/maskLrp.js';
import { gae } from '../src/methods/gae.js';
import { attcat } from '../src/methods/attcat.js';
import { attentionGradcam, gradcam } from '../src/methods/gradcam.js';
import { mulberry } from './helpers/rng.js';

await initBackend();

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
function toyModel(seed = 7): Bert {
  const p = BertParams.random(cfg, 'classifier', seed);
  const plain = p.toPlain();
  p.dispose();
  const rnd = mulberry(seed);
  for (const [, t] of plain) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] * 20 + (rnd() - 0.5) * 0.05;
  return new Bert(cfg, 'classifier', BertParams.fromPlain(plain, cfg, 'classifier'));
}
const ids = [2, 9, 4, 17, 12, 3];
const S = ids.length;
const H = 4;

/** Plain-loop matrix helpers for the independent assembly. */
const eye = (): number[][] => Array.from({ length: S }, (_, i) => Array.from({ length: S }, (_, j) => (i === j ? 1 : 0)));
const mul = (a: number[][], b: number[][]) => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const headMean = (f: (h: number, i: number, j: number) => number) =>
  Array.from({ length: S }, (_, i) =>
    Array.from({ length: S }, (_, j) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += f(h, i, j);
      return s / H;
    }),
  );

test('Mask-LRP with an all-ones mask is the unmasked transformer attribution; the rollout matches a hand assembly', () => {
  const model = toyModel();
  const ones = [
    [1, 1, 1, 1],
    [1, 1, 1, 1],
  ];
  const a = maskLrp(model, { ids });
  const b = maskLrp(model, { ids }, { headMask: ones });
  assert.deepEqual(b.scores, a.scores);
  // Independent assembly from the relevance pass and gradientAt's ∇A: Â_l = (mean_h max(0, g⊙R) + I)/rowsum, J = Â_1 Â_0.
  const et = explainTrace(model, { ids });
  const mask = [
    [1, 0, 1, 1],
    [0, 1, 1, 0],
  ];
  const rel = relevancePass(model, et, { headMask: mask, maskedHeadMaps: 'zero' });
  const mats = [0, 1].map((l) => {
    const g = gradientAt(model, { ids: [ids] }, `blocks.${l}.attn.hook_pattern`, classLogit(et.target));
    const gd = g.grad.dataSync();
    g.grad.dispose();
    g.value.dispose();
    const m = headMean((h, i, j) => Math.max(0, gd[(h * S + i) * S + j] * rel.attention[((l * H + h) * S + i) * S + j]));
    const aug = m.map((r, i) => r.map((v, j) => v + (i === j ? 1 : 0)));
    return aug.map((r) => {
      const s = r.reduce((x, y) => x + y, 0);
      return r.map((v) => v / s);
    });
  });
  const joint = mul(mats[1], mats[0]);
  const mine = maskLrpFromTrace(model, et, { headMask: mask, maskedHeadMaps: 'zero' });
  const want = joint[0].slice();
  want[0] = 0;
  mine.scores.forEach((v, j) => assert.ok(Math.abs(v - want[j]) < 1e-6 * (1 + Math.abs(want[j])), `token ${j}: ${v} vs ${want[j]}`));
  assert.equal(mine.method, 'mask_lrp');
  // Masked heads contribute nothing to the 'zero' maps: changing only their relevance does not matter,
  // so masking more heads of a layer never adds map mass there.
  const ss = S * S;
  for (const [l, h] of [
    [0, 1],
    [1, 0],
    [1, 3],
  ])
    assert.ok(rel.attention.subarray((l * H + h) * ss, (l * H + h + 1) * ss).every((v) => v === 0));
  et.dispose();
  model.dispose();
});

test('GAE, AttCAT and the Grad-CAMs equal their definitions assembled from gradientAt and a plain forward', () => {
  const model = toyModel(11);
  const tr = model.forward({ ids: [ids] }, { record: ['blocks.*.attn.hook_pattern', 'blocks.*.hook_resid_pre'] });
  const att = tr.attentionArray();
  const logits = Array.from(tr.logits.dataSync());
  const target = logits[1] > logits[0] ? 1 : 0;
  const resid = [0, 1].map((l) => Array.from(tr.node(`blocks.${l}.hook_resid_pre`).dataSync()));
  tr.dispose();
  const grad = (node: string) => {
    const g = gradientAt(model, { ids: [ids] }, node, classLogit(target));
    const d = Array.from(g.grad.dataSync());
    g.grad.dispose();
    g.value.dispose();
    return d;
  };
  const gA = [0, 1].map((l) => grad(`blocks.${l}.attn.hook_pattern`));
  const A = (l: number, h: number, i: number, j: number) => att[((l * H + h) * S + i) * S + j];
  // GAE: R = I; R += Ā_l R.
  let R = eye();
  for (let l = 0; l < 2; l++) {
    const m = headMean((h, i, j) => Math.max(0, gA[l][(h * S + i) * S + j] * A(l, h, i, j)));
    const add = mul(m, R);
    R = R.map((r, i) => r.map((v, j) => v + add[i][j]));
  }
  const g = gae(model, { ids });
  R[0].forEach((v, j) => j > 0 && assert.ok(Math.abs(g.scores[j] - v) < 1e-6, `gae ${j}`));
  assert.equal(g.scores[0], 0);
  // AttCAT: Σ_l (Σ_d ∇h ⊙ h)[i] · mean_{h,q} A_l[h, q, i].
  const d = cfg.hiddenSize;
  const want = new Array(S).fill(0);
  for (let l = 0; l < 2; l++) {
    const gr = grad(`blocks.${l}.hook_resid_pre`);
    for (let i = 0; i < S; i++) {
      let cat = 0;
      for (let k = 0; k < d; k++) cat += gr[i * d + k] * resid[l][i * d + k];
      let a = 0;
      for (let h = 0; h < H; h++) for (let q = 0; q < S; q++) a += A(l, h, q, i);
      want[i] += (cat * a) / (H * S);
    }
  }
  attcat(model, { ids }).scores.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5 * (1 + Math.abs(want[i])), `attcat ${i}: ${v} vs ${want[i]}`));
  // Grad-CAM: max(0, mean_{h,q} ∇A_last[h, q, k]).
  const gc = gradcam(model, { ids });
  for (let k = 1; k < S; k++) {
    let s = 0;
    for (let h = 0; h < H; h++) for (let q = 0; q < S; q++) s += gA[1][(h * S + q) * S + k];
    assert.ok(Math.abs(gc.scores[k] - Math.max(0, s / (H * S))) < 1e-7, `gradcam ${k}`);
  }
  // Attention Grad-CAM: min–max normalised max(0, mean_h α_h A_h), [CLS] row; values in [0, 1].
  const ag = attentionGradcam(model, { ids });
  assert.ok(ag.scores.every((v) => v >= 0 && v <= 1));
  model.dispose();
});

test('the explanation methods leak no tensors on repeated calls', () => {
  const model = toyModel(3);
  const all = () => [
    maskLrp(
      model,
      { ids },
      {
        headMask: [
          [1, 0, 1, 0],
          [0, 1, 0, 1],
        ],
      },
    ),
    gae(model, { ids }),
    attcat(model, { ids }),
    gradcam(model, { ids }),
    attentionGradcam(model, { ids }),
  ];
  all();
  const before = tf.memory().numTensors;
  all();
  all();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
