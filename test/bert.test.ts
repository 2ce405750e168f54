import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { gradientAt, qoiValues } from '../src/model/run.js';
import { classLogit, tokenLogitDiff } from '../src/model/qoi.js';
import { makeBertConfig } from '../src/io/config.js';
import { refForward, type W } from './helpers/refBert.js';

const cfg = makeBertConfig({
  vocabSize: 23,
  hiddenSize: 8,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 12,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 10,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  numLabels: 3,
});

/** Random plain weights with non-trivial LayerNorm and biases (so every parameter matters). */
function randomPlain(head: 'mlm' | 'classifier', seed: number): W {
  const p = BertParams.random(cfg, head, seed);
  const plain = p.toPlain();
  p.dispose();
  let s = seed + 7;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  for (const [, t] of plain) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] * 25 + rnd() * 0.3 + (t.shape.length === 1 ? 0.1 : 0);
  return plain;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('forward equals an independent float64 reference (MLM head, token types, attention mask, head mask)', async () => {
  await initBackend();
  const w = randomPlain('mlm', 1);
  const model = new Bert(cfg, 'mlm', BertParams.fromPlain(w, cfg, 'mlm'));
  const ids = [
    [2, 5, 7, 11, 3, 0],
    [2, 9, 4, 3, 0, 0],
  ];
  const types = [
    [0, 0, 0, 1, 1, 1],
    [0, 0, 1, 1, 1, 1],
  ];
  const mask = [
    [1, 1, 1, 1, 1, 0],
    [1, 1, 1, 1, 0, 0],
  ];
  const headMask = [
    [1, 0.5],
    [0, 1],
  ];
  const tr = model.forward({ ids, tokenTypeIds: types, attentionMask: mask }, { headMask, record: 'all' });
  for (let b = 0; b < 2; b++) {
    const ref = refForward(cfg, w, ids[b], { types: types[b], mask: mask[b], headMask, head: 'mlm' });
    const logits = tr.logits.slice([b, 0, 0], [1, -1, -1]).dataSync();
    const refLogits = (ref.logits as number[][]).flat();
    const scale = Math.max(...refLogits.map(Math.abs));
    assert.ok(maxAbsDiff(logits, refLogits) / scale < 1e-5, `logits differ from reference by ${maxAbsDiff(logits, refLogits)} (scale ${scale})`);
    const probs = tr.node('blocks.1.attn.hook_pattern').slice([b, 0, 0, 0], [1, -1, -1, -1]).dataSync();
    assert.ok(maxAbsDiff(probs, ref.probs[1].flat(2)) < 1e-4);
    const h1 = tr.node('blocks.0.hook_resid_post').slice([b, 0, 0], [1, -1, -1]).dataSync();
    assert.ok(maxAbsDiff(h1, ref.hidden[1].flat()) < 1e-3);
  }
  // Masked keys get zero attention.
  const pat = tr.node('blocks.0.attn.hook_pattern').arraySync() as number[][][][];
  assert.ok(Math.abs(pat[1][0][2][4]) < 1e-9 && Math.abs(pat[1][0][2][5]) < 1e-9);
  // Attention of layer 1, head 0 is removed by the head mask.
  assert.ok(pat.length === 2 && (tr.node('blocks.1.attn.hook_pattern').arraySync() as number[][][][])[0][0].flat().every((v) => v === 0));
  tr.dispose();
  model.dispose();
});

test('classifier head and per-head results: heads plus bias sum to the attention output', async () => {
  await initBackend();
  const w = randomPlain('classifier', 2);
  const model = new Bert(cfg, 'classifier', BertParams.fromPlain(w, cfg, 'classifier'));
  const ids = [2, 6, 8, 13, 3];
  const ref = refForward(cfg, w, ids, { head: 'classifier' });
  const tr = model.forward({ ids: [ids] }, { record: ['blocks.*.attn.hook_result', 'blocks.*.hook_attn_out'] });
  assert.ok(maxAbsDiff(tr.logits.dataSync(), ref.logits as number[]) < 1e-4 * Math.max(1, ...(ref.logits as number[]).map(Math.abs)));
  const res = tr.node('blocks.0.attn.hook_result'); // [1, s, h, d]
  const summed = tf.tidy(() => res.sum(2).add(model.params.get('encoder.layer.0.attention.output.dense.bias')));
  assert.ok(maxAbsDiff(summed.dataSync(), tr.node('blocks.0.hook_attn_out').dataSync()) < 1e-5);
  summed.dispose();
  tr.dispose();
  model.dispose();
});

test('gradient at the input embeddings matches central finite differences of the float64 reference', async () => {
  await initBackend();
  const w = randomPlain('mlm', 3);
  const model = new Bert(cfg, 'mlm', BertParams.fromPlain(w, cfg, 'mlm'));
  const ids = [2, 5, 4, 9, 3];
  const qoi = tokenLogitDiff(2, 7, 8);
  const g = gradientAt(model, { ids: [ids] }, 'embed.hook_word', qoi);
  const grad = g.grad.arraySync() as number[][][];
  const emb = g.value.arraySync() as number[][][];
  const f = (e: number[][]) => {
    const o = refForward(cfg, w, ids, { embeds: e, head: 'mlm' }).logits as number[][];
    return o[2][7] - o[2][8];
  };
  const f0 = f(emb[0]);
  assert.ok(Math.abs(f0 - g.qoi[0]) < 2e-3, `qoi ${g.qoi[0]} vs reference ${f0}`);
  const h = 1e-4;
  let worst = 0;
  for (const [s, d] of [
    [0, 0],
    [1, 3],
    [2, 5],
    [3, 7],
    [4, 1],
    [2, 2],
  ]) {
    const ep = emb[0].map((r) => r.slice());
    ep[s][d] += h;
    const em = emb[0].map((r) => r.slice());
    em[s][d] -= h;
    const fd = (f(ep) - f(em)) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - grad[0][s][d]) / (Math.abs(fd) + 1e-2));
  }
  assert.ok(worst < 5e-3, `relative gradient error ${worst}`);
  g.value.dispose();
  g.grad.dispose();
  model.dispose();
});

test('gradient at an internal node (per-head result) matches finite differences through a hook', async () => {
  await initBackend();
  const w = randomPlain('classifier', 4);
  const model = new Bert(cfg, 'classifier', BertParams.fromPlain(w, cfg, 'classifier'));
  const input = { ids: [[2, 6, 8, 13, 3]] };
  const node = 'blocks.0.attn.hook_result';
  const qoi = classLogit(1);
  const g = gradientAt(model, input, node, qoi);
  const grad = g.grad.arraySync() as number[][][][];
  const h = 1e-2;
  for (const [s, hd, d] of [
    [0, 0, 0],
    [2, 1, 3],
    [4, 1, 7],
  ]) {
    const bump = (eps: number) =>
      qoiValues(model, input, qoi, {
        hooks: {
          [node]: (x) =>
            x.add(
              tf
                .oneHot([[s * 2 * 8 + hd * 8 + d]], 2 * 5 * 8)
                .reshape(x.shape)
                .mul(eps),
            ),
        },
      })[0];
    const fd = (bump(h) - bump(-h)) / (2 * h);
    assert.ok(Math.abs(fd - grad[0][s][hd][d]) < 2e-3 + 2e-2 * Math.abs(fd), `fd ${fd} vs grad ${grad[0][s][hd][d]}`);
  }
  g.value.dispose();
  g.grad.dispose();
  model.dispose();
});

test('bad input gets errors that name the problem; no tensors leak across repeated calls', async () => {
  await initBackend();
  const model = new Bert(cfg, 'mlm', BertParams.random(cfg, 'mlm', 5));
  assert.throws(() => model.forward({ ids: [[]] }), /empty input/);
  assert.throws(() => model.forward({ ids: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]] }), /longer than the position table \(10/);
  assert.throws(() => model.forward({ ids: [[1, 99]] }), /outside the vocabulary/);
  assert.throws(() => model.forward({ ids: [[1, 2]] }, { headMask: [[1, 1]] }), /headMask must be \[2, 2\]/);
  assert.throws(() => model.forward({ ids: [[1, 2]] }, { hooks: { 'blocks.5.hook_resid_post': (x) => x } }), /unknown node/);
  assert.throws(() => model.checkLayerHead(2), /unknown layer 2/);
  assert.throws(() => model.checkLayerHead(1, 2), /unknown head 2/);
  const round = () => {
    model.forward({ ids: [[2, 5, 6, 3]] }, { record: 'all' }).dispose();
    const g = gradientAt(model, { ids: [[2, 5, 6, 3]] }, 'blocks.1.hook_resid_mid', tokenLogitDiff(1, 4, 5));
    g.grad.dispose();
    g.value.dispose();
    qoiValues(model, { ids: [[2, 5, 6, 3]] }, tokenLogitDiff(1, 4, 5));
  };
  round(); // first call fills the cache of weight transposes
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    const tr = model.forward(
      {
        ids: [
          [2, 5, 6, 3],
          [2, 7, 8, 3],
        ],
      },
      { record: 'all' },
    );
    const att = tr.attentionArray(1); // [layers, heads, seq, seq] of batch element 1
    assert.equal(att.length, 2 * 2 * 4 * 4);
    for (let row = 0; row < att.length / 4; row++) {
      assert.ok(Math.abs(att[4 * row] + att[4 * row + 1] + att[4 * row + 2] + att[4 * row + 3] - 1) < 1e-5, 'attention rows sum to 1');
    }
    tr.dispose();
    const g = gradientAt(model, { ids: [[2, 5, 6, 3]] }, 'blocks.1.hook_resid_mid', tokenLogitDiff(1, 4, 5));
    g.grad.dispose();
    g.value.dispose();
    qoiValues(model, { ids: [[2, 5, 6, 3]] }, tokenLogitDiff(1, 4, 5));
  }
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
