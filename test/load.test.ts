import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { loadModel, saveModel } from '../src/model/load.js';
import { makeBertConfig } from '../src/io/config.js';

const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'cats', 'sleeps', 'sleep', '.', 'dog'];

test('save → load round trip gives identical logits (MLM F32; classifier labels) and detects the head', async () => {
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-load-'));
  try {
    const config = makeBertConfig({
      vocabSize: vocab.length,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 16,
      architectures: ['BertForMaskedLM'],
    });
    const model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', 4));
    saveModel(join(dir, 'mlm'), model, config, vocab);
    const loaded = await loadModel(join(dir, 'mlm'));
    assert.equal(loaded.model.head, 'mlm');
    const ids = loaded.tokenizer.encode('the cats sleep .').ids;
    assert.deepEqual(ids, [2, 5, 7, 9, 10, 3]);
    const a = model.forward({ ids: [ids] }, { record: 'none' });
    const b = loaded.model.forward({ ids: [ids] }, { record: 'none' });
    assert.deepEqual(Array.from(a.logits.dataSync()), Array.from(b.logits.dataSync()));
    a.dispose();
    b.dispose();
    loaded.model.dispose();

    const cc = makeBertConfig({
      ...config,
      numLabels: 2,
      id2label: { 0: 'negative', 1: 'positive' },
      label2id: { negative: 0, positive: 1 },
      architectures: ['BertForSequenceClassification'],
    });
    const cls = new Bert(cc, 'classifier', BertParams.random(cc, 'classifier', 5));
    saveModel(join(dir, 'cls'), cls, cc, vocab);
    const lc = await loadModel(join(dir, 'cls'));
    assert.equal(lc.model.head, 'classifier');
    assert.deepEqual(lc.labels, ['negative', 'positive']);
    lc.model.dispose();
    model.dispose();
    cls.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loading errors name the file and the problem', async () => {
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-load-'));
  try {
    await assert.rejects(loadModel(join(dir, 'nope')), /neither a folder|not found/);
    await assert.rejects(loadModel('embedded:nonexistent'), /unknown embedded model "nonexistent"/);
    const config = makeBertConfig({
      vocabSize: vocab.length,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 16,
    });
    const model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', 4));
    const m = join(dir, 'm');
    saveModel(m, model, config, vocab);
    model.dispose();
    // A config that disagrees with the weights: more layers than the file holds.
    const cfg = JSON.parse(readFileSync(join(m, 'config.json'), 'utf8'));
    writeFileSync(join(m, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
    await assert.rejects(loadModel(m), /encoder\.layer\.2\..*(missing|not found)|missing tensor "encoder\.layer\.2/);
    writeFileSync(join(m, 'config.json'), '{ not json');
    await assert.rejects(loadModel(m), /config\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
