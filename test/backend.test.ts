import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { geluErf, layerNorm, matmul, linear } from '../src/backend/ops.js';

test('wasm backend starts and the gather gradient works (UnsortedSegmentSum kernel)', async () => {
  const name = await initBackend();
  assert.equal(tf.getBackend(), name);
  const table = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const g = tf.grad((t: tf.Tensor) =>
    tf
      .gather(t, tf.tensor1d([2, 0, 2], 'int32'))
      .mul(
        tf.tensor2d([
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      )
      .sum(),
  )(table);
  assert.deepEqual(Array.from(g.dataSync()), [2, 2, 0, 0, 4, 4]);
  tf.dispose([table, g]);
});

test('matmul custom gradient equals the analytic gradient', async () => {
  await initBackend();
  const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
  const b = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 2);
  const w = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 3);
  const f = (x: tf.Tensor, y: tf.Tensor) => matmul(x, y).mul(w).sum();
  const ref = (x: tf.Tensor, y: tf.Tensor) =>
    tf
      .matMul(x as tf.Tensor3D, y as tf.Tensor3D)
      .mul(w)
      .sum();
  const [ga, gb] = tf.grads(f)([a, b]);
  const [ra, rb] = tf.grads(ref)([a, b]);
  const close = (p: tf.Tensor, q: tf.Tensor) => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0];
  assert.ok(close(ga, ra) < 1e-5);
  assert.ok(close(gb, rb) < 1e-5);
  const x = tf.randomNormal([2, 3, 4]);
  const lw = tf.randomNormal([4, 6]);
  assert.deepEqual(linear(x, lw).shape, [2, 3, 6]);
  assert.throws(() => linear(x, tf.zeros([5, 2])), /4 features/);
});

test('layerNorm and geluErf: values and hand-written gradients equal tfjs autodiff of the composed ops', async () => {
  await initBackend();
  const x = tf.randomNormal([2, 5, 16], 0, 2, 'float32', 31);
  const g = tf.randomNormal([16], 1, 0.5, 'float32', 32);
  const b = tf.randomNormal([16], 0, 0.5, 'float32', 33);
  const w = tf.randomNormal([2, 5, 16], 0, 1, 'float32', 34);
  const eps = 1e-12;
  const ref = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
    const xc = tf.sub(xx, tf.mean(xx, -1, true));
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps))), gg), bb);
  };
  const maxDiff = (p: tf.Tensor, q: tf.Tensor) => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0];
  assert.ok(maxDiff(layerNorm(x, g, b, eps), ref(x, g, b)) < 1e-5);
  const mine = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => layerNorm(xx, gg, bb, eps).mul(w).sum())([x, g, b]);
  const auto = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => ref(xx, gg, bb).mul(w).sum())([x, g, b]);
  ['x', 'γ', 'β'].forEach((n, i) => assert.ok(maxDiff(mine[i], auto[i]) < 1e-4, `d/d${n}: ${maxDiff(mine[i], auto[i])}`));
  const dxOnly = tf.grad((xx: tf.Tensor) => layerNorm(xx, g, b, eps).mul(w).sum())(x);
  assert.ok(maxDiff(dxOnly, auto[0]) < 1e-4);
  const gelu = (xx: tf.Tensor) => tf.mul(tf.mul(xx, 0.5), tf.add(1, tf.erf(tf.mul(xx, Math.SQRT1_2))));
  assert.ok(maxDiff(geluErf(x), gelu(x)) < 1e-6);
  const dg = tf.grad((xx: tf.Tensor) => geluErf(xx).mul(w).sum())(x);
  const dgRef = tf.grad((xx: tf.Tensor) => gelu(xx).mul(w).sum())(x);
  assert.ok(maxDiff(dg, dgRef) < 1e-5, `gelu gradient ${maxDiff(dg, dgRef)}`);
  // Finite differences on one coordinate, independent of autodiff.
  const h = 1e-2;
  const e = tf
    .oneHot([7], 16)
    .reshape([1, 1, 16])
    .pad([
      [0, 1],
      [2, 2],
      [0, 0],
    ]);
  const f = (xx: tf.Tensor) => layerNorm(xx, g, b, eps).mul(w).sum().dataSync()[0];
  const fd = (f(tf.add(x, tf.mul(e, h))) - f(tf.sub(x, tf.mul(e, h)))) / (2 * h);
  const an = tf.sum(tf.mul(dxOnly, e)).dataSync()[0];
  assert.ok(Math.abs(fd - an) < 2e-2 * (1 + Math.abs(an)), `finite difference ${fd} vs ${an}`);
  tf.dispose([x, g, b, w, ...mine, ...auto, dxOnly, dg, dgRef, e]);
});
