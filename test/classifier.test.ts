import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { makeBertConfig } from '../src/io/config.js';
import { WordPieceTokenizer } from '../src/io/tokenizer.js';
import { saveHfFolder } from '../src/io/hfFolder.js';
import { loadModel } from '../src/model/load.js';
import { predict } from '../src/model/classify.js';
import { padBatch } from '../src/model/classify.js';
import { classifierAccuracy, classifierLogits, trainClassifier, unseenWordSampler, type EncodedSet } from '../src/train/classifier.js';
import { Rng } from '../src/data/random.js';

const FILLER = ['the', 'a', 'film', 'story', 'was', 'is', 'very', 'quite', 'and', 'it', 'plot', 'actor'];
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...FILLER, 'good', 'bad'];

/** Synthetic task: each sentence holds exactly one of "good"/"bad" at a random position; label 1 = good. */
function synthetic(n: number, seed: number): { texts: string[]; labels: number[] } {
  const rng = new Rng(seed);
  const texts: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + rng.int(6);
    const words = Array.from({ length: len }, () => rng.pick(FILLER));
    const y = rng.int(2);
    words.splice(rng.int(len + 1), 0, y ? 'good' : 'bad');
    texts.push(words.join(' '));
    labels.push(y);
  }
  return { texts, labels };
}

const dims = makeBertConfig({
  vocabSize: VOCAB.length,
  hiddenSize: 16,
  numHiddenLayers: 1,
  numAttentionHeads: 2,
  intermediateSize: 32,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  numLabels: 2,
});

function encode(tok: WordPieceTokenizer, d: { texts: string[]; labels: number[] }): EncodedSet {
  return { ids: d.texts.map((t) => tok.encode(t).ids), labels: d.labels };
}

test('padBatch pads with the pad id and masks the padding', () => {
  const { ids, attentionMask } = padBatch(
    [
      [2, 7, 3],
      [2, 3],
    ],
    0,
  );
  assert.deepEqual(ids, [
    [2, 7, 3],
    [2, 3, 0],
  ]);
  assert.deepEqual(attentionMask, [
    [1, 1, 1],
    [1, 1, 0],
  ]);
  assert.throws(() => padBatch([]), /no rows/);
});

test('training on a tiny synthetic task learns it (chance before, ≥ 95% held out after), seeded and leak-free', async () => {
  await initBackend();
  const tok = WordPieceTokenizer.fromVocab(VOCAB);
  const train = encode(tok, synthetic(400, 1));
  const dev = encode(tok, synthetic(200, 2));
  const heldOut = encode(tok, synthetic(300, 3));
  // independent check of the synthetic labels: the keyword's id is in the row
  heldOut.ids.forEach((r, i) => assert.equal(r.includes(tok.idOf('good')), heldOut.labels[i] === 1));
  const model = new Bert(dims, 'classifier', BertParams.random(dims, 'classifier', 3));
  const before = classifierAccuracy(model, heldOut);
  assert.ok(before < 0.7, `untrained accuracy ${before} should be near chance`);
  model.params.clearCache(); // cached weight transposes of the evaluation above
  const tensorsBefore = tf.memory().numTensors;
  const t0 = Date.now();
  const res = await trainClassifier(model, train, { epochs: 8, batchSize: 16, lr: 3e-3, seed: 5, dev, patience: 3 });
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(tf.memory().numTensors, tensorsBefore, 'training leaks no tensors');
  const after = classifierAccuracy(model, heldOut);
  assert.ok(after >= 0.95, `held-out accuracy after training ${after} (before ${before}); history ${JSON.stringify(res.history)}`);
  assert.ok(seconds < 60, `training took ${seconds} s`);
  // early stopping keeps the best dev epoch's weights
  assert.equal(classifierAccuracy(model, dev), res.bestDevAccuracy);
  assert.equal(Math.max(...res.history.map((h) => h.devAccuracy as number)), res.bestDevAccuracy);
  // same seed → same run
  const model2 = new Bert(dims, 'classifier', BertParams.random(dims, 'classifier', 3));
  const res2 = await trainClassifier(model2, train, { epochs: 2, batchSize: 16, lr: 3e-3, seed: 5 });
  const model3 = new Bert(dims, 'classifier', BertParams.random(dims, 'classifier', 3));
  const res3 = await trainClassifier(model3, train, { epochs: 2, batchSize: 16, lr: 3e-3, seed: 5 });
  assert.deepEqual(res2.history, res3.history);
  model.dispose();
  model2.dispose();
  model3.dispose();
});

test('wordPieces asUnseen gives the pieces of a word missing from the vocabulary; the unseen-word sampler matches encode at p = 0', () => {
  const vocab = [
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    'a',
    'h',
    'm',
    'n',
    's',
    '##a',
    '##h',
    '##m',
    '##n',
    '##s',
    'sham',
    '##an',
    'shaman',
    'is',
    'what',
    '?',
  ];
  const tok = WordPieceTokenizer.fromVocab(vocab);
  assert.deepEqual(tok.wordPieces('shaman'), ['shaman']);
  assert.deepEqual(tok.wordPieces('shaman', { asUnseen: true }), ['sham', '##an']);
  // the same as tokenising with a vocabulary that lacks the word: an independent check
  const without = WordPieceTokenizer.fromVocab(vocab.filter((t) => t !== 'shaman'));
  assert.deepEqual(without.tokenize('shaman'), ['sham', '##an']);
  const withoutSham = WordPieceTokenizer.fromVocab(vocab.filter((t) => t !== 'sham'));
  assert.deepEqual(tok.wordPieces('sham', { asUnseen: true }), withoutSham.tokenize('sham'));
  assert.deepEqual(withoutSham.tokenize('sham'), ['s', '##h', '##a', '##m']);
  assert.deepEqual(tok.wordPieces('a', { asUnseen: true }), ['a'], 'a one-character word has no other form');
  const texts = ['what is a shaman ?', 'shaman shaman shaman'];
  const exact = unseenWordSampler(tok, texts, 0, 64);
  const rng = new Rng(1);
  texts.forEach((t, i) => assert.deepEqual(exact(i, rng), tok.encode(t, { maxLength: 64 }).ids));
  assert.deepEqual(unseenWordSampler(tok, texts, 0, 4)(1, rng), tok.encode(texts[1]!, { maxLength: 4 }).ids, 'truncation as encode');
  // p = 0.5: about half of the 3 × 400 "shaman"s come out as sham ##an, never anything else
  const half = unseenWordSampler(tok, texts, 0.5, 64);
  let unseen = 0;
  for (let k = 0; k < 400; k++) {
    const ids = half(1, rng);
    const body = ids
      .slice(1, -1)
      .map((x) => tok.tokenOf(x))
      .join(' ');
    assert.match(body, /^((shaman|sham ##an) ?){3}$/);
    unseen += (body.match(/sham ##an/g) ?? []).length;
  }
  assert.ok(unseen > 520 && unseen < 680, `${unseen} of 1200 words shown as unseen at p = 0.5`);
  assert.throws(() => unseenWordSampler(tok, texts, 1, 64), /\[0, 1\)/);
});

test('trainClassifier rejects a model without the classifier head and out-of-range labels', async () => {
  await initBackend();
  const mlm = new Bert(dims, 'mlm', BertParams.random(dims, 'mlm', 1));
  await assert.rejects(trainClassifier(mlm, { ids: [[2, 3]], labels: [0] }), /classifier head/);
  mlm.dispose();
  const m = new Bert(dims, 'classifier', BertParams.random(dims, 'classifier', 1));
  await assert.rejects(trainClassifier(m, { ids: [[2, 3]], labels: [2] }), /label 2 is outside 0\.\.1/);
  m.dispose();
});

test('save → load round trip gives identical logits; predict: padding changes nothing, probs = softmax(logits)', async () => {
  await initBackend();
  const tok = WordPieceTokenizer.fromVocab(VOCAB);
  const model = new Bert(dims, 'classifier', BertParams.random(dims, 'classifier', 11));
  await trainClassifier(model, encode(tok, synthetic(200, 4)), { epochs: 2, batchSize: 16, lr: 3e-3, seed: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-cls-'));
  try {
    const config = makeBertConfig({
      ...dims,
      numLabels: 2,
      id2label: { 0: 'negative', 1: 'positive' },
      label2id: { negative: 0, positive: 1 },
      architectures: ['BertForSequenceClassification'],
    });
    saveHfFolder(dir, { config, weights: model.params.toPlain(), vocab: VOCAB, tokenizerConfig: { do_lower_case: true }, dtype: 'F32' });
    const loaded = await loadModel(dir);
    assert.equal(loaded.model.head, 'classifier');
    assert.deepEqual(loaded.labels, ['negative', 'positive']);
    const texts = ['the film was good', 'bad', 'it is quite a very bad plot and the actor is bad', 'Good story !', 'a good good film and a very good actor'];
    const rows = texts.map((t) => tok.encode(t).ids);
    const original = rows.map((r) => classifierLogits(model, [r])[0] as number[]);
    const reloaded = rows.map((r) => classifierLogits(loaded.model, [r])[0] as number[]);
    assert.deepEqual(reloaded, original, 'F32 round trip is exact');

    const batched = predict(loaded, texts, { batchSize: 8 });
    const single = texts.map((t) => predict(loaded, [t])[0]!);
    assert.equal(batched.length, texts.length);
    batched.forEach((p, i) => {
      const s = single[i]!;
      p.logits.forEach((v, k) => assert.ok(Math.abs(v - (s.logits[k] as number)) < 1e-5, `text ${i} class ${k}: batched ${v} vs alone ${s.logits[k]}`));
      assert.equal(p.label, s.label);
      // the unpadded logits computed without predict()
      p.logits.forEach((v, k) => assert.ok(Math.abs(v - (original[i]![k] as number)) < 1e-5));
      // softmax by hand
      const m = Math.max(...p.logits);
      const e = p.logits.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      p.probs.forEach((q, k) => assert.ok(Math.abs(q - (e[k] as number) / z) < 1e-6));
      assert.equal(p.label, p.logits[1]! > p.logits[0]! ? 'positive' : 'negative');
    });
    // batch sizes that split the input differently agree
    const by2 = predict(loaded, texts, { batchSize: 2 });
    by2.forEach((p, i) => p.logits.forEach((v, k) => assert.ok(Math.abs(v - (batched[i]!.logits[k] as number)) < 1e-5)));
    assert.throws(() => predict(loaded, texts, { batchSize: 0 }), /batchSize/);
    loaded.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    model.dispose();
  }
});

test('predict refuses a model without the classifier head', async () => {
  await initBackend();
  const tok = WordPieceTokenizer.fromVocab(VOCAB);
  const model = new Bert(dims, 'mlm', BertParams.random(dims, 'mlm', 1));
  const config = makeBertConfig({ ...dims });
  assert.throws(() => predict({ model, tokenizer: tok, config, source: 'test' }, ['good']), /classifier head|sequence-classification/);
  model.dispose();
});

test('embedded:sst2 and embedded:trec load as BertForSequenceClassification folders (≤ 30 MB) and classify held-out text', async () => {
  const { statSync } = await import('node:fs');
  const { loadSst2, loadTrec } = await import('../src/data/corpora.js');
  const sst = await loadModel('embedded:sst2');
  assert.deepEqual(sst.labels, ['negative', 'positive']);
  assert.ok(statSync(join(sst.source, 'model.safetensors')).size <= 30e6);
  const [p] = predict(sst, ['a gorgeous film']);
  assert.equal(p!.label, 'positive');
  const dev = loadSst2('dev').slice(0, 200);
  const preds = predict(
    sst,
    dev.map((x) => x.text),
  );
  const acc = preds.filter((q, i) => q.labelId === dev[i]!.label).length / dev.length;
  assert.ok(acc >= 0.7, `SST-2 dev accuracy of the embedded model on 200 sentences: ${acc}`);
  sst.model.dispose();
  const trec = await loadModel('embedded:trec');
  assert.equal(trec.labels?.length, 6);
  assert.ok(statSync(join(trec.source, 'model.safetensors')).size <= 30e6);
  const testQ = loadTrec('test').slice(0, 200);
  const tp = predict(
    trec,
    testQ.map((x) => x.text),
  );
  const tacc = tp.filter((q, i) => q.labelId === testQ[i]!.label).length / testQ.length;
  assert.ok(tacc >= 0.6, `TREC test accuracy of the embedded model on 200 questions: ${tacc}`);
  trec.model.dispose();
});
