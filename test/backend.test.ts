import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { matmul, linear } from '../src/backend/ops.js';

test('wasm backend starts and the gather gradient works (UnsortedSegmentSum kernel)', async () => {
  const name = await initBackend();
  assert.equal(tf.getBackend(), name);
  const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const g = tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d([2, 0, 2], 'int32')).mul(tf.tensor2d([[1, 1], [2, 2], [3, 3]])).sum())(table);
  assert.deepEqual(Array.from(g.dataSync()), [2, 2, 0, 0, 4, 4]);
  tf.dispose([table, g]);
});

test('matmul custom gradient equals the analytic gradient', async () => {
  await initBackend();
  const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
  const b = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 2);
  const w = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 3);
  const f = (x: tf.Tensor, y: tf.Tensor) => matmul(x, y).mul(w).sum();
  const ref = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D).mul(w).sum();
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
