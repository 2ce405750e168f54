import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionStack, headAverage, layerMatrix, reduceHeads } from '../src/methods/attentionTypes.js';
import { rawAttention, rawTokenImportance } from '../src/methods/rawAttention.js';
import { attentionRollout, augmentedAttention, rolloutTokenImportance } from '../src/methods/rollout.js';
import { mulberry } from './helpers/rng.js';

// The 2-layer, 2-head, 3-token toy of test/attentionFlow.test.ts.
// Layer 0: head 0 rows [1,0,0],[1,0,0],[0,1,0]; head 1 rows [0,1,0],[0,0,1],[0,1,0]
// Layer 1: head 0 rows [0,0,1],[1,0,0],[1,0,0]; head 1 rows [0,0,1],[0,0,1],[0,1,0]
const TOY = [
  [1, 0, 0, 1, 0, 0, 0, 1, 0],
  [0, 1, 0, 0, 0, 1, 0, 1, 0],
  [0, 0, 1, 1, 0, 0, 1, 0, 0],
  [0, 0, 1, 0, 0, 1, 0, 1, 0],
].flat();

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

function randomStack(L: number, H: number, S: number, seed: number) {
  const rng = mulberry(seed);
  const d = new Float32Array(L * H * S * S);
  for (let r = 0; r < L * H * S; r++) {
    let s = 0;
    for (let c = 0; c < S; c++) s += d[r * S + c] = rng() ** 4;
    for (let c = 0; c < S; c++) d[r * S + c] /= s;
  }
  return attentionStack(d, L, H, S);
}

test('rollout of the toy, computed by hand', () => {
  const st = attentionStack(TOY, 2, 2, 3);
  // Â_1 = .5·mean A_1 + .5·I = [[.75,.25,0],[.25,.5,.25],[0,.5,.5]]
  // Â_2 = [[.5,0,.5],[.25,.5,.25],[.25,.25,.5]]
  // rollout_0 = Â_1; rollout_1 = Â_2 · Â_1 (the new layer on the left):
  //   row 0: .5·[.75,.25,0] + .5·[0,.5,.5]                     = [.375, .375, .25]
  //   row 1: .25·[.75,.25,0] + .5·[.25,.5,.25] + .25·[0,.5,.5] = [.3125, .4375, .25]
  //   row 2: .25·[.75,.25,0] + .25·[.25,.5,.25] + .5·[0,.5,.5] = [.25, .4375, .3125]
  // (The other order, Â_1 · Â_2, gives row 0 = .75·[.5,0,.5] + .25·[.25,.5,.25] = [.4375, .125, .4375].)
  const r = attentionRollout(st);
  close(r, [0.75, 0.25, 0, 0.25, 0.5, 0.25, 0, 0.5, 0.5, 0.375, 0.375, 0.25, 0.3125, 0.4375, 0.25, 0.25, 0.4375, 0.3125], 'rollout');
  close(rolloutTokenImportance(st, { position: 1 }), [0.3125, 0.4375, 0.25], '[1] importance');
  close(rolloutTokenImportance(st, { layer: 0, position: 2 }), [0, 0.5, 0.5], 'layer 0 importance');
  // Without residual: rollout_1 = A_2 · A_1, row 0 = [0,0,1]·A_1 = A_1 row 2 = [0, 1, 0].
  close(attentionRollout(st, { residual: null }).subarray(9, 12), [0, 1, 0], 'no residual');
  // Residual weight .25: Â = .75·A + .25·I. Layer 0 row 0 = .75·[.5,.5,0] + [.25,0,0] = [.625,.375,0].
  close(attentionRollout(st, { residual: 0.25 }).subarray(0, 3), [0.625, 0.375, 0], 'residual .25');
});

test('rollout rows sum to 1, identity attention gives the identity, and it matches a plain matrix product', () => {
  const st = randomStack(5, 4, 7, 3);
  for (const headReduce of ['mean', 'max', 'min', 2] as const) {
    const r = attentionRollout(st, { headReduce });
    for (let row = 0; row < 5 * 7; row++) {
      let s = 0;
      for (let c = 0; c < 7; c++) s += r[row * 7 + c];
      assert.ok(Math.abs(s - 1) < 1e-5, `${headReduce}: row ${row} sums to ${s}`);
    }
  }
  // independent: head fusion, (A + I)/row sum, product with the new layer on the left
  const S = 7;
  let acc: number[][] | null = null;
  for (let l = 0; l < 5; l++) {
    const a = Array.from({ length: S }, (_, i) =>
      Array.from({ length: S }, (_, j) => {
        let m = -Infinity;
        for (let h = 0; h < 4; h++) m = Math.max(m, st.data[((l * 4 + h) * S + i) * S + j]);
        return m + (i === j ? 1 : 0);
      }),
    ).map((row) => row.map((v) => v / row.reduce((p, q) => p + q, 0)));
    acc = acc === null ? a : a.map((row) => Array.from({ length: S }, (_, j) => row.reduce((p, w, k) => p + w * acc![k][j], 0)));
  }
  close(attentionRollout(st, { headReduce: 'max' }).subarray(4 * S * S), acc!.flat(), 'max rollout, last layer', 1e-5);
  // identity attention
  const S2 = 5;
  const eye = new Float32Array(3 * 2 * S2 * S2);
  for (let m = 0; m < 6; m++) for (let i = 0; i < S2; i++) eye[m * S2 * S2 + i * S2 + i] = 1;
  const r = attentionRollout(attentionStack(eye, 3, 2, S2));
  for (let l = 0; l < 3; l++) for (let i = 0; i < S2; i++) for (let j = 0; j < S2; j++) assert.equal(r[(l * S2 + i) * S2 + j], i === j ? 1 : 0);
});

test('raw attention, head reductions and head average', () => {
  const st = attentionStack(TOY, 2, 2, 3);
  close(rawAttention(st, 0), [0.5, 0.5, 0, 0.5, 0, 0.5, 0, 1, 0], 'mean layer 0');
  close(rawAttention(st, 1, 1), [0, 0, 1, 0, 0, 1, 0, 1, 0], 'layer 1 head 1');
  close(rawAttention(st, 0, 'max'), [1, 1, 0, 1, 0, 1, 0, 1, 0], 'max layer 0');
  close(rawAttention(st, 0, 'min'), [0, 0, 0, 0, 0, 0, 0, 1, 0], 'min layer 0');
  close(layerMatrix(st, 1), [0, 0, 1, 0.5, 0, 0.5, 0.5, 0.5, 0], 'layerMatrix');
  close(headAverage(st), [0.5, 0.5, 0, 0.5, 0, 0.5, 0, 1, 0, 0, 0, 1, 0.5, 0, 0.5, 0.5, 0.5, 0], 'headAverage');
  close(reduceHeads(st, 1, 0), [0, 0, 1, 1, 0, 0, 1, 0, 0], 'reduceHeads head 0');
  close(rawTokenImportance(st), [0, 0, 1], '[CLS] row, last layer');
  close(rawTokenImportance(st, { layer: 0, position: 1, head: 0 }), [1, 0, 0], 'layer 0 head 0 row 1');
  // augmented: max fusion rows sum to 2 → (A + I)/(2 + 1)... row 0 of layer 0: max = [1,1,0] → [2,1,0]/3
  close(augmentedAttention(st, 0, { headReduce: 'max' }).subarray(0, 3), [2 / 3, 1 / 3, 0], 'augmented max');
});

test('errors: bad shapes, bad values, unknown layer/head/position', () => {
  assert.throws(() => attentionStack(new Float32Array(17), 2, 2, 3), /length 17, expected .* = 36/);
  assert.throws(() => attentionStack(TOY, 0, 2, 3), /layers must be a positive integer/);
  assert.throws(() => attentionStack(TOY, 2, 2.5, 3), /heads must be a positive integer/);
  const nan = TOY.slice();
  nan[13] = NaN;
  assert.throws(() => attentionStack(nan, 2, 2, 3), /non-finite value \(NaN\) at layer 0, head 1, row 1, column 1/);
  const neg = TOY.slice();
  neg[35] = -0.5;
  assert.throws(() => attentionStack(neg, 2, 2, 3), /negative value \(-0.5\) at layer 1, head 1, row 2, column 2/);
  const bad = TOY.slice();
  bad[0] = 0.5;
  assert.doesNotThrow(() => attentionStack(bad, 2, 2, 3));
  assert.throws(() => attentionStack(bad, 2, 2, 3, { rowSumTol: 1e-3 }), /sums to 0.5.*layer 0, head 0, row 0/);
  const st = attentionStack(TOY, 2, 2, 3);
  assert.throws(() => rawAttention(st, 2), /unknown layer index 2 \(the stack has layers 0..1\)/);
  assert.throws(() => rawAttention(st, 0, 2), /unknown head index 2 \(the stack has heads 0..1\)/);
  assert.throws(() => rawAttention(st, 0, 'median' as never), /unknown head reduction median/);
  assert.throws(() => rawTokenImportance(st, { position: 3 }), /unknown token position 3/);
  assert.throws(() => attentionRollout(st, { headReduce: -1 }), /unknown head index -1/);
  assert.throws(() => attentionRollout(st, { residual: -0.5 }), /residual weight must be in \[0, 1\]/);
  assert.throws(() => rolloutTokenImportance(st, { layer: 5 }), /unknown layer index 5/);
  assert.throws(() => rolloutTokenImportance(st, { position: 9 }), /unknown token position 9/);
});
