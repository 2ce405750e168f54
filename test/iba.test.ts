import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { bottleneckKl, defaultIbaLayer, iba, ibaLayers, type IbaMeta } from '../src/methods/iba.js';
import { estimateFeatureStats, Welford } from '../src/methods/featureStats.js';
import { oneTokenModel, X_ID } from './helpers/oneTokenModel.js';
import { mulberry } from './helpers/rng.js';
import { tinyConfig, scaledModel } from './helpers/tinyBert.js';

const cfg = tinyConfig({ numLabels: 3 });
const randomClassifier = (seed: number): Bert => scaledModel(cfg, 'classifier', seed);
const rows = [
  [2, 6, 9, 11, 13, 3],
  [2, 5, 7, 3],
  [2, 8, 8, 9, 10, 12, 14, 3],
  [2, 15, 16, 3],
];

/** KL(N(m, s²) ‖ N(0, 1)) by numerical integration of p log(p/q) on a fine grid (independent of the closed form). */
function klNumeric(m: number, s: number): number {
  const n = 200000;
  const lo = m - 12 * s;
  const hi = m + 12 * s;
  const h = (hi - lo) / n;
  let acc = 0;
  for (let k = 0; k <= n; k++) {
    const z = lo + k * h;
    const lp = -0.5 * ((z - m) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
    const lq = -0.5 * z * z - 0.5 * Math.log(2 * Math.PI);
    acc += (k === 0 || k === n ? 0.5 : 1) * Math.exp(lp) * (lp - lq) * h;
  }
  return acc;
}

test('bottleneck KL is 0 at λ = 0, grows with λ, and equals KL(N(λr, (1−λ)²) ‖ N(0, 1)) by integration', async () => {
  await initBackend();
  const lambdas = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99];
  for (const r of [0, 0.5, -2]) {
    const t = bottleneckKl(tf.tensor1d(lambdas), tf.scalar(r));
    const v = Array.from(t.dataSync());
    t.dispose();
    assert.ok(v[0] === 0, `λ = 0 gives Z = ε ~ prior, KL 0 (r = ${r})`);
    for (let i = 1; i < v.length; i++) assert.ok(v[i] > v[i - 1], `KL grows with λ: ${v[i - 1]} → ${v[i]} (r = ${r})`);
    for (const [i, lam] of lambdas.entries()) {
      if (lam === 0) continue;
      const want = klNumeric(lam * r, 1 - lam);
      assert.ok(Math.abs(v[i] - want) < 1e-4 + 1e-4 * want, `λ ${lam}, r ${r}: ${v[i]} vs ${want}`);
    }
  }
});

test('Welford and estimateFeatureStats match a two-pass mean/std over the real (unpadded) tokens', async () => {
  await initBackend();
  const rnd = mulberry(5);
  const data = Array.from({ length: 50 }, () => Array.from({ length: 3 }, () => rnd() * 10 + 1e4));
  const w = new Welford(3);
  for (const x of data) w.add(x);
  for (let d = 0; d < 3; d++) {
    const col = data.map((r) => r[d]);
    const m = col.reduce((a, b) => a + b, 0) / col.length;
    const sd = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length);
    assert.ok(Math.abs(w.mean()[d] - m) < 1e-2 && Math.abs(w.std()[d] - sd) < 1e-3 * sd, `unit ${d}`);
  }
  const model = randomClassifier(1);
  const node = 'blocks.0.hook_resid_post';
  const stats = estimateFeatureStats(
    model,
    rows.map((ids) => ({ ids })),
    [node],
    { batchSize: 3 },
  ).get(node)!;
  // Brute force: each example alone, all its tokens.
  const all: number[][] = [];
  for (const ids of rows) {
    const tr = model.forward({ ids: [ids] }, { record: [node] });
    const a = tr.node(node).arraySync() as number[][][];
    all.push(...a[0]);
    tr.dispose();
  }
  assert.equal(stats.count, all.length);
  for (let d = 0; d < cfg.hiddenSize; d++) {
    const col = all.map((r) => r[d]);
    const m = col.reduce((a, b) => a + b, 0) / col.length;
    const sd = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length);
    assert.ok(Math.abs(stats.mean[d] - m) < 1e-4 && Math.abs(stats.std[d] - sd) < 1e-4, `unit ${d}: ${stats.mean[d]} vs ${m}, ${stats.std[d]} vs ${sd}`);
  }
  assert.throws(() => estimateFeatureStats(model, [], [node]), /no examples/);
  model.dispose();
});

test('IBA: scores in [0, 1]; with β huge the information (KL per token) goes to zero everywhere', async () => {
  await initBackend();
  const model = randomClassifier(2);
  const nodes = ['blocks.0.hook_resid_post'];
  const stats = estimateFeatureStats(
    model,
    rows.map((ids) => ({ ids })),
    nodes,
  );
  const ex = { ids: rows[0] };
  const a = iba(model, ex, { stats, layer: 0, target: 1 });
  const meta = a.meta as unknown as IbaMeta;
  assert.equal(a.scores.length, ex.ids.length);
  assert.ok(a.scores.every((v) => v >= 0 && v <= 1) && Math.max(...a.scores) === 1 && Math.min(...a.scores) === 0);
  assert.equal(meta.kl.length, 10);
  const small = Math.min(...meta.capacity);
  assert.ok(small > 1, `β = 1e-5 keeps information: ${small} nats`);
  const huge = iba(model, ex, { stats, layer: 0, target: 1, beta: 1e6 });
  const cap = (huge.meta as unknown as IbaMeta).capacity;
  assert.ok(Math.max(...cap) < 1e-2 * small, `β huge: capacity ${Math.max(...cap)} nats, vs ${small}`);
  const longer = (iba(model, ex, { stats, layer: 0, target: 1, beta: 1e6, steps: 30 }).meta as unknown as IbaMeta).capacity;
  assert.ok(Math.max(...longer) < 0.1 * Math.max(...cap), `and keeps falling with more steps: ${Math.max(...longer)}`);
  // The reference code's statistics (μ = R, σ = √1e-5) are an option with its own name.
  const ref = iba(model, ex, { stats: 'single-example', layer: 0, target: 1 });
  assert.equal((ref.meta as unknown as IbaMeta).stats, 'single-example');
  model.dispose();
});

test('IBA on a model whose output depends on one token gives that token the most information', async () => {
  await initBackend();
  const model = oneTokenModel();
  const data = [
    [2, 5, 6, X_ID, 8, 3],
    [2, 5, 9, 8, 3],
    [2, 10, 11, 5, 3],
    [2, 6, 6, 9, 10, 3],
    [2, 8, 11, 3],
  ].map((ids) => ({ ids }));
  const stats = estimateFeatureStats(model, data, ['embed.hook_out']);
  const a = iba(model, data[0], { stats, node: 'embed.hook_out', target: 1 });
  const words = a.scores.map((v, i) => ({ v, i })).filter(({ i }) => i > 0 && i < 5);
  assert.equal(words.sort((x, y) => y.v - x.v)[0].i, 3, `scores ${a.scores}`);
  model.dispose();
});

test('IBA: layers, text input, errors and no tensor leaks', async () => {
  await initBackend();
  const model = randomClassifier(3);
  assert.equal(defaultIbaLayer(12), 8);
  assert.equal(defaultIbaLayer(2), 0);
  const L = ibaLayers(model, { ids: rows[1] }, { stats: 'single-example', steps: 3 });
  assert.deepEqual(L.layers, ['embeddings', 'layer 1', 'layer 2']);
  assert.equal(L.scores.length, 3);
  assert.ok(L.scores.every((r) => r.length === rows[1].length));
  const tok = {
    encode: (t: string) => ({ ids: [2, ...t.split(' ').map((w) => 5 + (w.length % 10)), 3], tokens: ['[CLS]', ...t.split(' '), '[SEP]'] }),
    clsId: 2,
    sepId: 3,
    padId: 0,
    maskId: 4,
    unkId: 1,
  };
  const t = iba({ model, tokenizer: tok }, 'a bc def', { stats: 'single-example', steps: 2 });
  assert.deepEqual(t.tokens, ['[CLS]', 'a', 'bc', 'def', '[SEP]']);
  assert.throws(() => iba({ model, tokenizer: tok }, '  ', { stats: 'single-example' }), /empty text/);
  assert.throws(() => iba(model, 'text', { stats: 'single-example' }), /tokenizer/);
  assert.throws(() => iba(model, { ids: rows[0] }, { stats: 'single-example', layer: 5 }), /unknown layer 5/);
  assert.throws(() => iba(model, { ids: rows[0] }, { stats: 'single-example', target: 7 }), /target class 7/);
  assert.throws(() => iba(model, { ids: rows[0] }, {} as never), /stats is required/);
  const stats = estimateFeatureStats(
    model,
    rows.map((ids) => ({ ids })),
    ['embed.hook_out'],
  );
  assert.throws(() => iba(model, { ids: rows[0] }, { stats: stats.get('embed.hook_out')!, layer: 0 }), /statistics are for node embed\.hook_out/);
  assert.throws(() => iba(model, { ids: rows[0] }, { stats, layer: 0 }), /no statistics for node blocks\.0\.hook_resid_post/);
  iba(model, { ids: rows[0] }, { stats: 'single-example', steps: 2 });
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) iba(model, { ids: rows[k] }, { stats: 'single-example', steps: 2 });
  assert.throws(() => iba(model, { ids: rows[0] }, { stats: 'single-example', target: 7 }));
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("IBA 'reference' statistics: μ from the layer's input, so the information differs from 'single-example' and varies by token", async () => {
  await initBackend();
  const model = randomClassifier(4);
  const ex = { ids: rows[2] };
  const single = (iba(model, ex, { stats: 'single-example', layer: 1, target: 0 }).meta as unknown as IbaMeta).capacity;
  const ref = (iba(model, ex, { stats: 'reference', layer: 1, target: 0 }).meta as unknown as IbaMeta).capacity;
  // With μ = R the normalised signal is 0 and every token starts from the same KL; with μ = the layer input it is not.
  assert.ok(Math.max(...ref) > 10 * Math.max(...single), `reference ${Math.max(...ref)} vs single-example ${Math.max(...single)}`);
  assert.throws(() => iba(model, ex, { stats: 'reference', node: 'embed.hook_out' }), /needs a layer/);
  assert.throws(() => ibaLayers(model, ex, { stats: 'reference' }), /no statistics for the embedding row/);
  model.dispose();
});
