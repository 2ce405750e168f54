import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { runJiang2020Dataset, sampleWithoutReplacement, writeJiang2020Outputs, jiang2020Summary } from '../src/eval/jiang2020.js';
import { oneTokenModel, TOY_IDS, X_ID } from './helpers/oneTokenModel.js';

/** A whole-word tokenizer for the toy vocabulary: 'x' is the token the model depends on. */
const WORDS: Record<string, number> = { a: 5, b: 6, x: X_ID, c: 8, d: 9, e: 10, f: 11 };
const tokenizer = {
  ...TOY_IDS,
  encode(text: string, opts: { maxLength?: number } = {}) {
    const w = text
      .split(' ')
      .filter(Boolean)
      .slice(0, (opts.maxLength ?? 99) - 2);
    return { ids: [TOY_IDS.clsId, ...w.map((t) => WORDS[t] ?? TOY_IDS.unkId), TOY_IDS.sepId], tokens: ['[CLS]', ...w, '[SEP]'] };
  },
};
const texts = ['a b x c d', 'x a b c d e', 'a b c d e f', 'b c x d e', 'c d e f a', 'a x b c d e f', 'f e d c b', 'd x e f a b'];
const test_ = texts.map((text) => ({ text, label: text.includes('x') ? 1 : 0 }));

test('sampling without replacement is seeded and distinct', () => {
  const s = sampleWithoutReplacement([...Array(50).keys()], 20, 3);
  assert.equal(new Set(s.map((x) => x.index)).size, 20);
  assert.deepEqual(s, sampleWithoutReplacement([...Array(50).keys()], 20, 3));
  assert.equal(sampleWithoutReplacement([1, 2], 5, 0).length, 2);
});

test('jiang2020 on a one-token model: IBA, IG and LIME beat random; outputs written atomically', async () => {
  await initBackend();
  const model = oneTokenModel();
  const r = runJiang2020Dataset('toy', 'toy-model', model, tokenizer, test_, test_, {
    limit: 6,
    layerExamples: 2,
    igSteps: 10,
    limeSamples: 30,
    statistics: 'dataset',
    layer: 0,
  });
  assert.equal(r.n, 6);
  assert.equal(r.curves.length, 8, '4 methods × 2 directions');
  const area = (m: string) => r.curves.find((c) => c.method === m && c.direction === 'most')!.probArea;
  // Examples without x (label 0) keep their class whatever is removed, so compare relative to random.
  for (const m of ['integrated_gradients', 'lime']) assert.ok(area(m) < area('random'), `${m} ${area(m)} vs random ${area('random')}`);
  assert.equal(r.layerMaps.length, 2);
  assert.deepEqual(r.layerMaps[0].layers, ['embeddings', 'layer 1']);
  assert.ok(r.igGap.max < 0.05, `IG completeness gap ${r.igGap.max}`);
  const dir = mkdtempSync(join(tmpdir(), 'jiang2020-'));
  const out = join(dir, 'res');
  const files = writeJiang2020Outputs(out, [r], { seconds: 1 });
  assert.deepEqual(readdirSync(out).sort(), ['areas.csv', 'degradation.csv', 'figure.html', 'iba_layers.csv', 'per_example.jsonl', 'summary.md']);
  assert.equal(files.length, 6);
  const deg = readFileSync(join(out, 'degradation.csv'), 'utf8').trim().split('\n');
  assert.equal(deg[0], 'dataset,model,method,direction,fraction,prob,acc,n');
  assert.equal(deg.length, 1 + 8 * 10, 'methods × directions × 10 fractions');
  const layers = readFileSync(join(out, 'iba_layers.csv'), 'utf8').trim().split('\n');
  assert.equal(layers.length, 1 + r.layerMaps.reduce((a, m) => a + 2 * m.tokens.length, 0));
  const html = readFileSync(join(out, 'figure.html'), 'utf8');
  assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts');
  const summary = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(summary, /paper's claim/);
  assert.match(summary, /\| toy \| iba \|/);
  assert.equal(readFileSync(join(out, 'per_example.jsonl'), 'utf8').trim().split('\n').length, 6);
  // A failed write leaves the previous results as they were and no temporary folder.
  writeFileSync(join(dir, 'blocker'), 'x');
  assert.throws(() => writeJiang2020Outputs(join(dir, 'blocker', 'res'), [r], { seconds: 1 }));
  assert.throws(() => writeJiang2020Outputs(out, [], { seconds: 1 }), /no results/);
  assert.ok(existsSync(join(out, 'summary.md')));
  assert.deepEqual(readdirSync(dir).sort(), ['blocker', 'res']);
  rmSync(dir, { recursive: true, force: true });
  assert.match(jiang2020Summary([r], { seconds: 1 }), /of 1 datasets/);
  model.dispose();
});

test('jiang2020: errors name the problem', async () => {
  await initBackend();
  const model = oneTokenModel();
  assert.throws(() => runJiang2020Dataset('toy', 'm', model, tokenizer, [{ text: '', label: 0 }], test_), /no usable test texts/);
  assert.throws(() => runJiang2020Dataset('toy', 'm', model, tokenizer, [{ text: 'a b', label: 4 }], test_), /label 4 is outside/);
  const { main } = await import('../src/cli/main.js');
  const err = console.error;
  let msg = '';
  console.error = (m: string) => (msg += m);
  try {
    await main(['node', 'flowlens', 'reproduce', 'jiang2020', '--datasets', 'bogus', '--no-progress']);
  } finally {
    console.error = err;
  }
  assert.match(msg, /unknown dataset "bogus"/);
  assert.equal(process.exitCode, 1);
  process.exitCode = 0;
  model.dispose();
});
