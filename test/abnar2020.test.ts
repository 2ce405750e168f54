import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { qoiValues } from '../src/model/run.js';
import { tokenProbDiff } from '../src/model/qoi.js';
import { makeBertConfig } from '../src/io/config.js';
import { runAbnar2020, buildMaskedInput, paperValue, type AgreementItem } from '../src/eval/abnar2020.js';
import type { Tokenizer } from '../src/io/tokenizer.js';
import { spearman, summarizeCorrelations } from '../src/eval/correlation.js';

const WORDS = ['the', 'author', 'authors', 'laughs', 'laugh', 'is', 'are', 'near', 'guard', 'guards', 'that', 'likes', 'like', 'swims', 'swim'];
const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const VOCAB = [...SPECIAL, ...WORDS];

/** A whole-word tokenizer over a fixed vocabulary (adds [CLS]/[SEP] like BERT's encode). */
const toyTokenizer: Tokenizer = {
  encode(text: string) {
    const words = text.split(' ').filter(Boolean);
    const ids = [2, ...words.map((w) => (VOCAB.includes(w) ? VOCAB.indexOf(w) : 1)), 3];
    return { ids, tokens: ids.map((i) => VOCAB[i]) };
  },
  maskId: 4,
  clsId: 2,
  sepId: 3,
  unkId: 1,
  padId: 0,
};

const cfg = makeBertConfig({
  vocabSize: VOCAB.length,
  hiddenSize: 16,
  numHiddenLayers: 3,
  numAttentionHeads: 2,
  intermediateSize: 24,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
});

function tinyModel(seed: number): Bert {
  const p = BertParams.random(cfg, 'mlm', seed);
  const plain = p.toPlain();
  p.dispose();
  for (const [, t] of plain) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] * 5 + 0.02 * Math.sin(i * 1.7 + seed);
  return new Bert(cfg, 'mlm', BertParams.fromPlain(plain, cfg, 'mlm'));
}

const items: AgreementItem[] = [
  { construction: 'simple', condition: 'sing', prefixWords: ['the', 'author'], suffixWords: [], good: 'laughs', bad: 'laugh' },
  { construction: 'simple', condition: 'plur', prefixWords: ['the', 'authors'], suffixWords: [], good: 'laugh', bad: 'laughs' },
  { construction: 'pp', condition: 'sing', prefixWords: ['the', 'author', 'near', 'the', 'guards'], suffixWords: [], good: 'swims', bad: 'swim' },
  { construction: 'rc', condition: 'plur', prefixWords: ['the', 'authors', 'that', 'the', 'guard', 'likes'], suffixWords: [], good: 'are', bad: 'is' },
  { construction: 'rc', condition: 'sing', prefixWords: ['the', 'author'], suffixWords: ['the', 'guards'], good: 'likes', bad: 'like' },
  { construction: 'simple', condition: 'sing', prefixWords: ['the', 'author'], suffixWords: [], good: 'sleeps', bad: 'sleep' },
];

test('runAbnar2020 on a tiny random MLM: table shape, independent recomputation, accuracy, paper columns', async () => {
  await initBackend();
  const model = tinyModel(1);
  const progress: number[] = [];
  const res = runAbnar2020(model, toyTokenizer, items, { onProgress: (p) => progress.push(p.done) });
  assert.equal(res.skipped.length, 1, 'sleeps/sleep are not in the vocabulary');
  assert.equal(res.perExample.length, 5);
  assert.deepEqual(progress, [1, 2, 3, 4, 5]);
  const rows = res.table.objects() as Record<string, unknown>[];
  // 3 methods × 3 layers × 3 references + 2 reference-vs-blankout rows.
  assert.equal(rows.length, 3 * 3 * 3 + 2);
  // Input construction: [CLS] prefix [MASK] suffix [SEP].
  const ex = res.perExample[4];
  assert.deepEqual(ex.tokens, ['[CLS]', 'the', 'author', '[MASK]', 'the', 'guards', '[SEP]']);
  assert.equal(ex.maskPosition, 3);
  assert.equal(ex.outputPosition, 3);
  // QoI and accuracy recomputed independently.
  for (const [k, r] of res.perExample.entries()) {
    const it = items[k];
    const { ids, maskPosition } = buildMaskedInput(toyTokenizer, it);
    const q = qoiValues(model, { ids: [ids] }, tokenProbDiff(maskPosition, VOCAB.indexOf(it.good), VOCAB.indexOf(it.bad)))[0];
    assert.ok(Math.abs(q - r.qoi) < 1e-6);
    assert.equal(r.correct, q > 0);
  }
  assert.equal(res.accuracy.overall, res.perExample.filter((r) => r.qoi > 0).length / 5);
  // Table means = mean of per-example Spearman recomputed from the stored scores.
  for (const row of rows.filter((r) => r.layer !== null)) {
    const m = row.method as 'raw' | 'rollout' | 'flow';
    const l = (row.layer as number) - 1;
    const ref = row.reference as 'blankout' | 'input_gradient' | 'grad_x_input';
    const s = summarizeCorrelations(res.perExample.map((r) => spearman(r[m][l], r[ref])));
    assert.ok(Math.abs(s.mean - (row.mean as number)) < 1e-9, `${m} L${l + 1} ${ref}: ${row.mean} vs ${s.mean}`);
    assert.ok(Math.abs(s.std - (row.std as number)) < 1e-9);
    assert.equal(row.n, 5);
  }
  // Paper §4: the first layer of rollout and flow are the same (both are Â_1), so are their ρ.
  const get = (m: string, l: number, r: string) => rows.find((x) => x.method === m && x.layer === l && x.reference === r)!;
  assert.ok(Math.abs((get('rollout', 1, 'blankout').mean as number) - (get('flow', 1, 'blankout').mean as number)) < 1e-9);
  // 3-layer model: L1 ↔ paper L1, L3 ↔ paper L6, L2 has no paper cell.
  assert.equal(get('flow', 1, 'blankout').paper_mean, 0.32);
  assert.equal(get('raw', 3, 'input_gradient').paper_mean, 0.46);
  assert.equal(get('raw', 2, 'blankout').paper_mean, null);
  assert.equal(get('raw', 3, 'grad_x_input').paper_mean, null);
  assert.deepEqual(paperValue('rollout', 'blankout', 4, 6), { mean: 0.62, std: 0.26, paperLayer: 4 });
  assert.ok(res.figure && res.figure.raw.length === 3 && res.figure.flow[2].length === res.figure.tokens.length);
  model.dispose();
});

test('runAbnar2020 leaks no tensors; options: cls row, logit QoI, word positions only, flow at some layers', async () => {
  await initBackend();
  const model = tinyModel(2);
  runAbnar2020(model, toyTokenizer, items.slice(0, 1));
  const before = tf.memory().numTensors;
  const res = runAbnar2020(model, toyTokenizer, items, { outputPosition: 'cls', qoi: 'logit', positions: 'words', flowLayers: [0, 2] });
  assert.equal(tf.memory().numTensors, before);
  const rows = res.table.objects() as Record<string, unknown>[];
  assert.equal(rows.filter((r) => r.method === 'flow').length, 2 * 3);
  assert.ok(res.perExample.every((r) => r.outputPosition === 0 && r.flow[1].length === 0));
  assert.throws(() => runAbnar2020(model, toyTokenizer, items.slice(5)), /none of the 1 items is usable/);
  model.dispose();
});

test('CLI end to end: flowlens reproduce abnar2020 writes table.csv, per_example.jsonl, summary.md, figure.html atomically', async () => {
  const { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const aq = await import('arquero');
  const { main } = await import('../src/cli/main.js');
  const root = mkdtempSync(join(tmpdir(), 'flowlens-abnar-'));
  const out = join(root, 'results', 'abnar2020');
  try {
    const logs: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => logs.push(a.join(' '));
    try {
      await main([
        'node',
        'flowlens',
        'reproduce',
        'abnar2020',
        '--setup',
        'mlm',
        '--model',
        'random:tiny',
        '--limit',
        '9',
        '--seed',
        '1',
        '--out',
        out,
        '--no-progress',
      ]);
    } finally {
      console.log = log;
    }
    assert.equal(process.exitCode ?? 0, 0, logs.join('\n'));
    for (const f of ['table.csv', 'per_example.jsonl', 'summary.md', 'figure.html']) assert.ok(existsSync(join(out, f)), `${f} written`);
    const table = aq.fromCSV(readFileSync(join(out, 'table.csv'), 'utf8'));
    const rows = table.objects() as Record<string, unknown>[];
    const L = 3; // random:tiny
    for (const m of ['raw', 'rollout', 'flow']) {
      for (const r of ['blankout', 'input_gradient', 'grad_x_input']) {
        const layers = rows
          .filter((x) => x.method === m && x.reference === r)
          .map((x) => x.layer)
          .sort();
        assert.deepEqual(layers, [1, 2, 3].slice(0, L), `${m} vs ${r}`);
      }
    }
    assert.equal(rows.length, 3 * L * 3 + 2);
    assert.ok(rows.every((x) => typeof x.mean === 'number' && (x.mean as number) >= -1 && (x.mean as number) <= 1));
    const lines = readFileSync(join(out, 'per_example.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 9);
    assert.ok(lines.every((r) => r.tokens[0] === '[CLS]' && r.tokens[r.maskPosition] === '[MASK]' && r.blankout.length === r.tokens.length));
    const html = readFileSync(join(out, 'figure.html'), 'utf8');
    assert.ok(html.includes('plotly.js') && html.includes('Plotly.newPlot'), 'plotly is inlined');
    assert.ok(!/<script[^>]*\ssrc\s*=\s*["']?\s*(https?:)?\/\//i.test(html), 'no network script');
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    assert.match(summary, /0\.69 ± 0\.27/, 'paper Table 1 raw L1 beside ours');
    assert.match(summary, /untrained random model/);
    // A failing run (missing data folder) leaves the previous results untouched and no temp folder.
    const before = readFileSync(join(out, 'table.csv'), 'utf8');
    const err = console.error;
    const errs: string[] = [];
    console.error = (...a: unknown[]) => errs.push(a.join(' '));
    try {
      await main([
        'node',
        'flowlens',
        'reproduce',
        'abnar2020',
        '--setup',
        'mlm',
        '--model',
        'random:tiny',
        '--limit',
        '4',
        '--out',
        out,
        '--data',
        join(root, 'nope'),
        '--no-progress',
      ]);
    } finally {
      console.error = err;
      process.exitCode = 0;
    }
    assert.match(errs.join('\n'), /nope/);
    assert.equal(readFileSync(join(out, 'table.csv'), 'utf8'), before);
    assert.deepEqual(readdirSync(join(root, 'results')), ['abnar2020']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('CLI end to end on a tiny random BERT saved as a Hugging Face folder (--model <dir>)', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const aq = await import('arquero');
  const { saveHfFolder } = await import('../src/io/hfFolder.js');
  const { makeBertConfig } = await import('../src/io/config.js');
  const { readMarvinLinzenPairs, defaultMarvinLinzenDir } = await import('../src/data/marvinLinzen.js');
  const { main } = await import('../src/cli/main.js');
  await initBackend();
  const constructions = ['simple_agrmt', 'prep_anim'];
  const words = new Set<string>();
  for (const p of readMarvinLinzenPairs(defaultMarvinLinzenDir(), constructions))
    for (const w of `${p.grammatical} ${p.ungrammatical}`.split(' ')) words.add(w);
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...[...words].sort()];
  const config = makeBertConfig({
    vocabSize: vocab.length,
    hiddenSize: 16,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 32,
    maxPositionEmbeddings: 32,
    architectures: ['BertForMaskedLM'],
  });
  const params = BertParams.random(config, 'mlm', 3);
  const root = mkdtempSync(join(tmpdir(), 'flowlens-hf-'));
  try {
    const modelDir = join(root, 'model');
    saveHfFolder(modelDir, { config, weights: params.toPlain(), vocab, tokenizerConfig: { do_lower_case: true } });
    params.dispose();
    const out = join(root, 'out');
    const log = console.log;
    const logs: string[] = [];
    console.log = (...a: unknown[]) => logs.push(a.join(' '));
    try {
      await main([
        'node',
        'flowlens',
        'reproduce',
        'abnar2020',
        '--setup',
        'mlm',
        '--model',
        modelDir,
        '--constructions',
        constructions.join(','),
        '--limit',
        '6',
        '--out',
        out,
        '--no-progress',
      ]);
    } finally {
      console.log = log;
    }
    assert.equal(process.exitCode ?? 0, 0, logs.join('\n'));
    assert.match(logs.join('\n'), /6 examples/);
    const rows = aq.fromCSV(readFileSync(join(out, 'table.csv'), 'utf8')).objects() as Record<string, unknown>[];
    assert.equal(rows.length, 3 * 2 * 3 + 2, '3 methods × 2 layers × 3 references + 2');
    const lines = readFileSync(join(out, 'per_example.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual([...new Set(lines.map((r) => r.construction))].sort(), [...constructions].sort());
    assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /BERT 2 layers × 2 heads, hidden 16/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The paper's setup: a sequence classifier read at [CLS].

const numberItems = [
  { construction: 'natural, 0 attractors', condition: 'a', words: ['the', 'author'], label: 0 },
  { construction: 'natural, 1 attractor', condition: 'b', words: ['the', 'authors', 'near', 'the', 'guard'], label: 1 },
  { construction: 'natural, 1 attractor', condition: 'c', words: ['the', 'author', 'that', 'the', 'guards', 'like'], label: 0 },
  { construction: 'natural, 0 attractors', condition: 'd', words: [], label: 1 },
];

function tinyClassifier(seed: number): Bert {
  const c = { ...cfg, numLabels: 2 };
  const p = BertParams.random(c, 'classifier', seed);
  const plain = p.toPlain();
  p.dispose();
  for (const [, t] of plain) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] * 5 + 0.02 * Math.sin(i * 1.3 + seed);
  return new Bert(c, 'classifier', BertParams.fromPlain(plain, c, 'classifier'));
}

test('runAbnar2020 on a classifier: [CLS] row, QoI = p(correct class) recomputed, correctness from the logits, no leaks', async () => {
  const { classProb, classLogit } = await import('../src/model/qoi.js');
  const { attentionRollout } = await import('../src/methods/rollout.js');
  const { attentionStack } = await import('../src/methods/attentionTypes.js');
  await initBackend();
  const model = tinyClassifier(4);
  runAbnar2020(model, toyTokenizer, numberItems.slice(0, 1));
  const before = tf.memory().numTensors;
  const res = runAbnar2020(model, toyTokenizer, numberItems);
  assert.equal(tf.memory().numTensors, before, 'no tensor leak');
  assert.equal(res.setup, 'classifier');
  assert.equal(res.options.outputPosition, 'cls');
  assert.equal(res.options.replacement, 'unk', 'the paper blanks out with UNK');
  assert.equal(res.skipped.length, 1, 'the item with no words is skipped');
  assert.equal(res.perExample.length, 3);
  const rows = res.table.objects() as Record<string, unknown>[];
  assert.equal(rows.length, 3 * 3 * 3 + 2);
  for (const [k, r] of res.perExample.entries()) {
    const it = numberItems[k]!;
    assert.deepEqual(r.tokens, ['[CLS]', ...it.words, '[SEP]']);
    assert.equal(r.outputPosition, 0);
    assert.equal(r.maskPosition, null);
    const ids = [2, ...it.words.map((w) => VOCAB.indexOf(w)), 3];
    const p = qoiValues(model, { ids: [ids] }, classProb(it.label))[0]!;
    assert.ok(Math.abs(p - r.qoi) < 1e-6, `QoI ${r.qoi} vs p(correct class) ${p}`);
    const z0 = qoiValues(model, { ids: [ids] }, classLogit(0))[0]!;
    const z1 = qoiValues(model, { ids: [ids] }, classLogit(1))[0]!;
    assert.equal(r.correct, (z1 > z0 ? 1 : 0) === it.label);
    assert.equal(r.correct, p > 0.5);
    assert.equal(r.good, it.label ? 'plural' : 'singular');
    // Raw attention and rollout are the [CLS] rows (recomputed from a fresh trace).
    const tr = model.forward({ ids: [ids] }, { record: ['blocks.*.attn.hook_pattern'] });
    const stack = attentionStack(tr.attentionArray(0), tr.layers, tr.heads, tr.seq);
    tr.dispose();
    const roll = attentionRollout(stack);
    const seq = ids.length;
    for (let l = 0; l < 3; l++) {
      for (let j = 0; j < seq; j++) assert.ok(Math.abs(roll[l * seq * seq + j]! - r.rollout[l]![j]!) < 1e-6);
      // Flow into [CLS] after layer 1 = rollout row at layer 1 (both are Â_1).
    }
    for (let j = 0; j < seq; j++) assert.ok(Math.abs(r.flow[0]![j]! - r.rollout[0]![j]!) < 1e-5);
  }
  assert.equal(res.accuracy.overall, res.perExample.filter((r) => r.correct).length / 3);
  assert.deepEqual(Object.keys(res.accuracy.byConstruction).sort(), ['natural, 0 attractors', 'natural, 1 attractor']);
  // Logit QoI.
  const lg = runAbnar2020(model, toyTokenizer, numberItems.slice(0, 2), { qoi: 'logit' });
  assert.ok(Math.abs(lg.perExample[0]!.qoi - qoiValues(model, { ids: [[2, 5, 6, 3]] }, classLogit(0))[0]!) < 1e-5);
  // Wrong combinations fail clearly.
  assert.throws(() => runAbnar2020(model, toyTokenizer, numberItems, { outputPosition: 'mask' }), /has no \[MASK\]/);
  assert.throws(() => runAbnar2020(model, toyTokenizer, items), /classifier takes number items/);
  assert.throws(() => runAbnar2020(model, toyTokenizer, [{ ...numberItems[0]!, label: 2 }]), /label 2 is outside 0\.\.1/);
  const mlm = tinyModel(1);
  assert.throws(() => runAbnar2020(mlm, toyTokenizer, numberItems), /masked LM takes agreement items/);
  mlm.dispose();
  model.dispose();
});

test('npm start default path: flowlens reproduce abnar2020 on embedded:abnar writes the six-layer tables beside the paper', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const aq = await import('arquero');
  const { main } = await import('../src/cli/main.js');
  const root = mkdtempSync(join(tmpdir(), 'flowlens-abnar-cls-'));
  try {
    const logs: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => logs.push(a.join(' '));
    try {
      await main(['node', 'flowlens', 'reproduce', 'abnar2020', '--limit', '4', '--seed', '2', '--out', root, '--no-progress']);
    } finally {
      console.log = log;
    }
    assert.equal(process.exitCode ?? 0, 0, logs.join('\n'));
    assert.match(logs.join('\n'), /abnar2020 \(classifier\): 4 examples/);
    const rows = aq.fromCSV(readFileSync(join(root, 'table.csv'), 'utf8')).objects() as Record<string, unknown>[];
    assert.equal(rows.length, 3 * 6 * 3 + 2, '3 methods × 6 layers × 3 references + 2');
    for (const m of ['raw', 'rollout', 'flow']) {
      for (const r of ['blankout', 'input_gradient']) {
        const cells = rows.filter((x) => x.method === m && x.reference === r).sort((a, b) => (a.layer as number) - (b.layer as number));
        assert.deepEqual(
          cells.map((x) => x.layer),
          [1, 2, 3, 4, 5, 6],
        );
        assert.deepEqual(
          cells.map((x) => x.paper_layer),
          ['L1', 'L2', 'L3', 'L4', 'L5', 'L6'],
          "every layer beside the paper's",
        );
        assert.ok(cells.every((x) => x.n === 4));
      }
    }
    const lines = readFileSync(join(root, 'per_example.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.ok(lines.every((r) => r.tokens[0] === '[CLS]' && r.outputPosition === 0 && r.maskPosition === null && r.construction.startsWith('natural, ')));
    const summary = readFileSync(join(root, 'summary.md'), 'utf8');
    assert.match(summary, /the paper's: a verb-number classifier read at \[CLS\]/);
    assert.match(summary, /\| flow \| L6 \| .* \| 0\.70 ± 0\.22 \|/);
    assert.match(summary, /Rollout vs raw attention, against blank-out:\*\* rollout beats raw attention at \d of 6 layers/);
    assert.match(summary, /Flow vs raw attention, against input gradients:/);
    // The masked-LM model with the classifier setup is refused with a pointer to --setup mlm.
    const err = console.error;
    const errs: string[] = [];
    console.error = (...a: unknown[]) => errs.push(a.join(' '));
    try {
      await main(['node', 'flowlens', 'reproduce', 'abnar2020', '--model', 'embedded:agreement', '--limit', '2', '--out', join(root, 'x'), '--no-progress']);
    } finally {
      console.error = err;
      process.exitCode = 0;
    }
    assert.match(errs.join('\n'), /masked LM: use --setup mlm/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('summary helpers: tie fraction and paired differences (hand-computed)', async () => {
  const { tieFraction, pairedDifference } = await import('../src/eval/abnar2020Summary.js');
  assert.equal(tieFraction([1, 2, 3]), 0);
  assert.equal(tieFraction([1, 1, 3, 3, 5]), 4 / 5);
  assert.equal(tieFraction([0.5, 0.5 + 1e-9, 0.2]), 2 / 3, 'equal to 1e-6 of the largest score');
  const rec = (raw: number | null, roll: number) => ({ spearman: { 'raw.L1.blankout': raw, 'rollout.L1.blankout': roll } }) as never;
  const p = pairedDifference([rec(0.1, 0.5), rec(0.2, 0.4), rec(null, 0.3)], 'rollout', 1, 'blankout')!;
  // differences 0.4, 0.2, 0.3 (undefined ρ counts 0): mean 0.3, sample sd 0.1, se 0.1/√3.
  assert.ok(Math.abs(p.mean - 0.3) < 1e-12 && Math.abs(p.se - 0.1 / Math.sqrt(3)) < 1e-12 && p.n === 3);
  assert.equal(pairedDifference([rec(0.1, 0.5)], 'rollout', 1, 'blankout'), null);
});
