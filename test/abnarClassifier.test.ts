import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyByAttractors, unkDropoutSampler } from '../src/train/abnarClassifier.js';
import { lengthBucketed } from '../src/train/classifier.js';
import { Rng } from '../src/data/random.js';
import type { NumberExample } from '../src/data/numberAgreement.js';

const ex = (label: 0 | 1, attractors: number): NumberExample => ({
  words: ['x'],
  label,
  verb: 'v',
  verbTag: 'vbz',
  subject: 0,
  intervening: attractors,
  attractors,
  source: 'ca01',
});

test('accuracy by number of attractors (hand-computed), majority baseline', () => {
  const xs = [ex(0, 0), ex(0, 0), ex(1, 0), ex(1, 1), ex(0, 1), ex(0, 5), ex(1, 4)];
  const r = accuracyByAttractors(xs, [0, 1, 1, 1, 1, 0, 0]);
  assert.deepEqual(r.overall, { accuracy: 4 / 7, n: 7 });
  assert.deepEqual(r.byAttractors, { '0': { accuracy: 2 / 3, n: 3 }, '1': { accuracy: 1 / 2, n: 2 }, '4+': { accuracy: 1 / 2, n: 2 } });
  assert.equal(r.majorityBaseline, 4 / 7);
  assert.throws(() => accuracyByAttractors(xs, [0]), /7 examples, 1 predictions/);
});

test('[UNK] token dropout never touches [CLS]/[SEP], rate close to p, p = 0 is the identity', () => {
  const rows = Array.from({ length: 200 }, () => [2, 10, 11, 12, 13, 14, 15, 16, 17, 3]);
  const s = unkDropoutSampler(rows, 1, 0.2);
  const rng = new Rng(3);
  let unk = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = s(i, rng);
    assert.equal(r[0], 2);
    assert.equal(r[r.length - 1], 3);
    assert.equal(r.length, 10);
    unk += r.filter((x) => x === 1).length;
  }
  const rate = unk / (200 * 8);
  assert.ok(rate > 0.16 && rate < 0.24, `rate ${rate}`);
  assert.deepEqual(unkDropoutSampler(rows, 1, 0)(5, rng), rows[5]);
  assert.throws(() => unkDropoutSampler(rows, 1, 1), /\[0, 1\)/);
});

test('length-bucketed batches: a permutation, full batches, lengths close within a batch', () => {
  const n = 1000;
  const len = (i: number) => (i * 37) % 61;
  const rng = new Rng(1);
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const b = lengthBucketed(order, len, 8, rng);
  assert.deepEqual(
    [...b].sort((x, y) => x - y),
    Array.from({ length: n }, (_, i) => i),
  );
  let spread = 0;
  for (let k = 0; k < n; k += 8) {
    const ls = b.slice(k, k + 8).map(len);
    spread += Math.max(...ls) - Math.min(...ls);
  }
  assert.ok(spread / (n / 8) < 5, `mean spread ${spread / (n / 8)} (random batches: ~45)`);
});

test('flowlens train abnar-classifier refuses bad options before any training', async () => {
  const { main } = await import('../src/cli/main.js');
  for (const [args, re] of [
    [['--epochs', '0'], /--epochs/],
    [['--unk-dropout', '1'], /--unk-dropout/],
    [['--hidden', 'x'], /--hidden/],
    [['--hidden', '100', '--heads', '8', '--out', '/nonexistent/never'], /hidden size 100 is not a multiple of the 8 heads/],
    [['--bogus'], /unknown option/],
  ] as const) {
    const errs: string[] = [];
    const err = console.error;
    const write = process.stderr.write.bind(process.stderr);
    console.error = (...a: unknown[]) => errs.push(a.join(' '));
    (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => (errs.push(String(s)), true);
    const exit = process.exit;
    (process as unknown as { exit: (c?: number) => never }).exit = ((c?: number) => {
      throw new Error(`exit ${c}`);
    }) as never;
    try {
      await main(['node', 'flowlens', 'train', 'abnar-classifier', ...args, '--no-progress']).catch((e: Error) => errs.push(e.message));
    } finally {
      console.error = err;
      (process.stderr as unknown as { write: typeof write }).write = write;
      process.exit = exit;
    }
    assert.match(errs.join('\n'), re, `${args.join(' ')}: ${errs.join(' | ')}`);
    process.exitCode = 0;
  }
});

test('trainAbnarClassifier end to end on a small subset: saves a loadable classifier, training.json and a card with accuracy by attractors', async () => {
  const { mkdtempSync, readFileSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { trainAbnarClassifier } = await import('../src/train/abnarClassifier.js');
  const { loadModel } = await import('../src/model/load.js');
  const { tf } = await import('../src/backend/index.js');
  const out = join(mkdtempSync(join(tmpdir(), 'flowlens-abnar-train-')), 'model');
  try {
    const lines: string[] = [];
    const r = await trainAbnarClassifier({
      out,
      limitTrain: 96,
      templated: 40,
      hidden: 16,
      layers: 1,
      heads: 2,
      epochs: 1,
      seed: 3,
      log: (l) => lines.push(l),
    });
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'training.json', 'README.md']) assert.ok(existsSync(join(out, f)), f);
    const saved = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8'));
    assert.equal(saved.test.overall.n, r.data.test);
    assert.ok(r.data.test > 1000 && r.data.documents.test === 50, 'all held-out Brown test examples are evaluated');
    const byAtt = Object.values(r.test.byAttractors).reduce((a, g) => a + g.n, 0);
    assert.equal(byAtt, r.test.overall.n);
    assert.ok(r.test.majorityBaseline > 0.5 && r.test.majorityBaseline < 0.8);
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(card, /\| attractors \| accuracy \| n \|/);
    assert.match(card, /flowlens train abnar-classifier --seed 3/);
    const before = tf.memory().numTensors;
    const loaded = await loadModel(out);
    assert.equal(loaded.model.head, 'classifier');
    assert.deepEqual(loaded.labels, ['singular', 'plural']);
    loaded.model.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
});
