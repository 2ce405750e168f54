/**
 * The optional native GEMM (native/, src/backend/native.ts) against tfjs's own wasm kernels: every
 * transpose and broadcast case of BatchMatMul and _FusedMatMul, a small BERT's forward + backward
 * (input and weight gradients), 1 vs 2 threads (bit-identical), and inside a worker_threads Worker.
 * Skipped, with the reason, where the addon was not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { initBackend, nativeStatus, setNativeThreads, tf } from '../src/backend/index.js';
import { disableNativeMatMul, enableNativeMatMul, parseThreads } from '../src/backend/native.js';
import { Bert } from '../src/model/bert.js';
import { makeBertConfig } from '../src/io/config.js';
import { BertParams } from '../src/model/params.js';

await initBackend();
const skip = nativeStatus().active ? false : `native addon inactive: ${nativeStatus().reason}`;

/** Run `f` with tfjs's wasm kernels and with the native ones; return both results as arrays. */
function both(f: () => tf.Tensor | tf.Tensor[]): { wasm: Float32Array[]; native: Float32Array[] } {
  const grab = (): Float32Array[] => {
    const r = tf.tidy(f);
    const list = Array.isArray(r) ? r : [r];
    const out = list.map((t) => t.dataSync() as Float32Array);
    tf.dispose(list);
    return out;
  };
  disableNativeMatMul();
  const wasm = grab();
  enableNativeMatMul();
  const native = grab();
  return { wasm, native };
}

/** Largest |a−b| / (1 + |b|) over all entries. */
function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

test('native matMul equals the wasm kernel for every transpose and batch-broadcast case', { skip }, () => {
  let seed = 1;
  const cases: [number[], number[]][] = [
    [
      [1, 1],
      [1, 1],
    ],
    [
      [7, 3],
      [3, 5],
    ],
    [
      [33, 300],
      [300, 70],
    ],
    [
      [100, 513],
      [513, 9],
    ],
    [
      [130, 40],
      [40, 770],
    ],
    [
      [2, 3, 17, 64],
      [2, 3, 64, 130],
    ],
    [
      [4, 17, 64],
      [1, 64, 40],
    ],
    [
      [1, 17, 64],
      [4, 64, 40],
    ],
    [
      [5, 0, 8],
      [5, 8, 6],
    ],
    [
      [3, 4, 0],
      [3, 0, 6],
    ],
  ];
  for (const [sa, sb] of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const shapeA = ta ? [...sa.slice(0, -2), sa[sa.length - 1], sa[sa.length - 2]] : sa;
        const shapeB = tb ? [...sb.slice(0, -2), sb[sb.length - 1], sb[sb.length - 2]] : sb;
        const a = tf.randomNormal(shapeA, 0, 1, 'float32', seed++);
        const b = tf.randomNormal(shapeB, 0, 1, 'float32', seed++);
        const r = both(() => tf.matMul(a, b, ta, tb));
        assert.ok(relErr(r.native[0], r.wasm[0]) < 1e-4, `[${shapeA}]${ta ? 'ᵀ' : ''} · [${shapeB}]${tb ? 'ᵀ' : ''}`);
        tf.dispose([a, b]);
      }
    }
  }
});

test('native fused matMul (bias, relu) equals matMul + bias + activation on wasm; unsupported fusions fall back', { skip }, () => {
  // Reference: the unfused ops on tfjs's wasm kernels (its own _FusedMatMul adds the bias wrongly
  // when the batch is larger than 1: off by up to ~3 here, measured with tfjs-backend-wasm 4.22).
  const a = tf.randomNormal([2, 19, 48], 0, 1, 'float32', 11);
  const b = tf.randomNormal([2, 48, 70], 0, 1, 'float32', 12);
  const bias = tf.randomNormal([70], 0, 1, 'float32', 13);
  const act = { linear: (x: tf.Tensor) => x, relu: tf.relu, elu: tf.elu };
  for (const activation of ['linear', 'relu', 'elu'] as const) {
    for (const tb of [false, true]) {
      const bb = tb ? b.transpose([0, 2, 1]) : b;
      disableNativeMatMul();
      const ref = tf.tidy(() => act[activation](tf.add(tf.matMul(a, bb, false, tb), bias)).dataSync() as Float32Array);
      enableNativeMatMul();
      const got = tf.tidy(() => tf.fused.matMul({ a, b: bb, transposeB: tb, bias, activation }).dataSync() as Float32Array);
      if (activation !== 'elu') assert.ok(relErr(got, ref) < 1e-4, `${activation} transposeB=${tb}`);
      else assert.equal(got.length, ref.length); // elu: tfjs's own (batch-1-correct) kernel runs
      if (tb) bb.dispose();
    }
  }
  const r = both(() => tf.fused.matMul({ a: a.slice([0, 0, 0], [1, 19, 48]), b: b.slice([0, 0, 0], [1, 48, 70]), bias, activation: 'relu' }));
  assert.ok(relErr(r.native[0], r.wasm[0]) < 1e-4, 'batch 1: native equals the wasm fused kernel');
  tf.dispose([a, b, bias]);
});

test('a small BERT: forward and backward (input and weight gradients) match with and without the native path', { skip }, () => {
  const cfg = makeBertConfig({
    vocabSize: 120,
    hiddenSize: 64,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    intermediateSize: 128,
    hiddenAct: 'gelu',
    maxPositionEmbeddings: 64,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    numLabels: 3,
  });
  const model = new Bert(cfg, 'classifier', BertParams.random(cfg, 'classifier', 3));
  const ids = [
    [1, 5, 9, 17, 33, 2, 0],
    [1, 7, 7, 100, 4, 2, 0],
  ];
  const attentionMask = [
    [1, 1, 1, 1, 1, 1, 0],
    [1, 1, 1, 1, 1, 1, 1],
  ];
  const emb = tf.tidy(() =>
    tf.gather(model.params.get('embeddings.word_embeddings.weight'), tf.tensor2d(ids, undefined, 'int32').reshape([-1])).reshape([2, 7, 64]),
  );
  // Word embeddings get no gradient (the input is given as embeddings).
  const named = [...model.params.vars].filter(([n]) => !n.includes('word_embeddings'));
  const vars = named.map(([, v]) => v);
  const r = both(() => {
    const loss = (e: tf.Tensor) => model.forward({ inputsEmbeds: e, attentionMask }, { record: 'none', trainWeights: true }).logits.square().sum() as tf.Scalar;
    const logits = model.forward({ inputsEmbeds: emb, attentionMask }, { record: 'none' }).logits;
    const gIn = tf.grad(loss)(emb);
    const { grads } = tf.variableGrads(() => loss(emb), vars);
    const missing = named.filter(([, v]) => !grads[v.name]).map(([n]) => n);
    assert.deepEqual(missing, [], 'every weight gets a gradient');
    return [logits, gIn, ...vars.map((v) => grads[v.name])];
  });
  assert.equal(r.native.length, 2 + vars.length);
  r.native.forEach((x, i) => {
    const e = relErr(x, r.wasm[i]);
    assert.ok(e < 1e-4, `${i === 0 ? 'logits' : i === 1 ? 'input gradient' : 'gradient of ' + named[i - 2][0]}: ${e}`);
  });
  assert.ok(
    r.native[1].some((v) => v !== 0),
    'the input gradient is not all zero',
  );
  emb.dispose();
  model.dispose();
});

test('native results do not depend on the thread count (bit-identical)', { skip }, () => {
  const a = tf.randomNormal([3, 130, 300], 0, 1, 'float32', 21);
  const b = tf.randomNormal([300, 700], 0, 1, 'float32', 22);
  const run = (t: number) => {
    setNativeThreads(t);
    const shapes: [tf.Tensor, tf.Tensor][] = [
      [a.reshape([390, 300]), b],
      [a, b.expandDims(0)],
      [a.slice([0, 0, 0], [1, 130, 300]).reshape([130, 300]), b.slice([0, 0], [300, 5])],
    ];
    return shapes.map(([x, y]) => tf.tidy(() => tf.matMul(x, y).dataSync() as Float32Array));
  };
  const before = nativeStatus().threads;
  const one = run(1);
  const two = run(2);
  setNativeThreads(before);
  one.forEach((x, i) => assert.deepEqual(two[i], x));
  tf.dispose([a, b]);
  assert.throws(() => parseThreads('0'), /1\.\.64/);
  assert.throws(() => parseThreads(2.5), /1\.\.64/);
});

test('the native path runs inside a worker_threads Worker, with its own thread count', { skip }, async () => {
  const url = new URL('../src/backend/index.js', import.meta.url).href;
  const src = `
    import { parentPort } from 'node:worker_threads';
    const { initBackend, nativeStatus, tf } = await import(${JSON.stringify(url)});
    await initBackend('wasm', { threads: 1 });
    const a = tf.tensor2d(Array.from({ length: 64 * 40 }, (_, i) => Math.sin(i)), [64, 40]);
    const b = tf.tensor2d(Array.from({ length: 40 * 50 }, (_, i) => Math.cos(i)), [40, 50]);
    parentPort.postMessage({ status: nativeStatus(), c: Array.from(tf.matMul(a, b).dataSync()) });`;
  const msg = await new Promise<{ status: { active: boolean; threads: number }; c: number[] }>((resolve, reject) => {
    const w = new Worker(src, { eval: true });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
  assert.equal(msg.status.active, true);
  assert.equal(msg.status.threads, 1);
  const a = tf.tensor2d(
    Array.from({ length: 64 * 40 }, (_, i) => Math.sin(i)),
    [64, 40],
  );
  const b = tf.tensor2d(
    Array.from({ length: 40 * 50 }, (_, i) => Math.cos(i)),
    [40, 50],
  );
  disableNativeMatMul();
  const ref = tf.matMul(a, b);
  enableNativeMatMul();
  assert.ok(relErr(Float32Array.from(msg.c), ref.dataSync() as Float32Array) < 1e-4);
  tf.dispose([a, b, ref]);
});
