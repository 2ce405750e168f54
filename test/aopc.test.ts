import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { AOPC_FRACTIONS, aopcCurves, aopcSummary, type AopcCurve } from '../src/eval/aopc.js';
import { answerHitsAtK, precisionAtK } from '../src/eval/precisionAtK.js';
import { tinyConfig } from './helpers/tinyBert.js';

await initBackend();

test('AOPC and LOdds of handmade curves equal the hand-computed means; the length filter drops short examples', () => {
  const c1: AopcCurve = { p0: 0.8, probs: [0.4, 0.2], replaced: [1, 2], length: 25 };
  const c2: AopcCurve = { p0: 0.5, probs: [0.5, 0.25], replaced: [1, 2], length: 10 };
  const s = aopcSummary([c1, c2]);
  assert.deepEqual(
    s.aopc.map((v) => +v.toFixed(12)),
    [0.2, 0.425],
  );
  assert.ok(Math.abs(s.aopcMean - 0.3125) < 1e-12);
  const l1 = (Math.log(0.5) + 0) / 2;
  const l2 = (Math.log(0.25) + Math.log(0.5)) / 2;
  assert.ok(Math.abs(s.lodds[0] - l1) < 1e-12 && Math.abs(s.lodds[1] - l2) < 1e-12);
  const f = aopcSummary([c1, c2], { minTokens: 20 });
  assert.equal(f.n, 1);
  assert.ok(Math.abs(f.aopcMean - 0.5) < 1e-12);
  assert.ok(Number.isNaN(aopcSummary([c2], { minTokens: 20 }).aopcMean));
  assert.throws(() => aopcSummary([{ ...c1, probs: [0, 0.1] }]), /not positive/);
});

test('aopcCurves replaces the top-ranked tokens with [PAD], keeps [CLS]/[SEP], and reads the model as a direct forward does', () => {
  const cfg = tinyConfig({ layers: 1, intermediate: 8, maxPositions: 16, numLabels: 2 });
  const model = new Bert(cfg, 'classifier', BertParams.random(cfg, 'classifier', 2));
  const ids = [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 3]; // [CLS]=2 … [SEP]=3, 9 replaceable
  const specialIds = { clsId: 2, sepId: 3, padId: 0 };
  const scores = [100, 1, 9, 2, 8, 3, 7, 4, 6, 5, 100]; // CLS/SEP highest but kept
  const [c] = aopcCurves(model, { ids }, [scores], 1, { specialIds });
  assert.deepEqual(
    c.replaced,
    AOPC_FRACTIONS.map((f) => Math.round(f * 9)),
  );
  const order = [2, 4, 6, 8, 9, 7, 5, 3, 1];
  const direct = (row: number[]) => {
    const tr = model.forward({ ids: [row] }, { record: 'none' });
    const p = tf.softmax(tr.logits, -1);
    const v = p.dataSync()[1];
    p.dispose();
    tr.dispose();
    return v;
  };
  assert.ok(Math.abs(c.p0 - direct(ids)) < 1e-6);
  c.replaced.forEach((n, k) => {
    const row = ids.slice();
    for (const p of order.slice(0, n)) row[p] = 0;
    assert.ok(Math.abs(c.probs[k] - direct(row)) < 1e-5, `step ${k}`);
  });
  assert.throws(() => aopcCurves(model, { ids }, [[1, 2]], 1, { specialIds }), /2 scores for 11 tokens/);
  assert.throws(() => aopcCurves(model, { ids }, [scores], 1, { specialIds: { clsId: 2, sepId: 3 } }), /padId is missing/);
  model.dispose();
});

test('precision@k on synthetic QA attributions', () => {
  // Answer tokens 3..5; top-3 scores at 4, 5, 0 → 2 hits.
  const x = { scores: [5, 0, 0, 1, 9, 8, 0], start: 3, end: 5 };
  assert.equal(answerHitsAtK(x, 3), 2);
  assert.equal(answerHitsAtK(x, 4), 3);
  const y = { scores: [0, 0, 1, 0], start: 2, end: 2 };
  const p = precisionAtK([x, y], 3);
  assert.deepEqual(p.hits, [2, 1]);
  assert.deepEqual(p.best, [3, 1]);
  assert.equal(p.precision, 3 / 4);
  // A span longer than k can still reach precision 1.
  assert.equal(precisionAtK([{ scores: [1, 2, 3, 4], start: 0, end: 3 }], 2).precision, 1);
  assert.throws(() => answerHitsAtK({ scores: [1], start: 0, end: 2 }, 1), /not inside/);
  assert.throws(() => answerHitsAtK(x, 0), /positive integer/);
});
