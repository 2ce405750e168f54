import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, makeBertConfig, parseBertConfig, toHfConfigJson, type BertConfig } from '../src/io/config.js';
import { canonicalWeightName, expectedBertShapes, loadHfFolder, saveHfFolder, validateWeights, type PlainTensor } from '../src/io/hfFolder.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { mulberry } from './helpers/rng.js';

/** bert-base-uncased's config.json as published on the hub. */
const BERT_BASE_UNCASED = {
  architectures: ['BertForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  gradient_checkpointing: false,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  transformers_version: '4.6.0.dev0',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
};

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', '##s', 'on', 'mat', '.'];

function tinyConfig(over: Record<string, unknown> = {}): BertConfig {
  return parseBertConfig(
    {
      architectures: ['BertForMaskedLM'],
      vocab_size: VOCAB.length,
      hidden_size: 8,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 12,
      max_position_embeddings: 16,
      ...over,
    },
    'tiny/config.json',
  );
}

/**
 * Weights of a tiny BERT, listed by hand from the HF module structure (not from expectedBertShapes),
 * with `bert.` prefixes as BertForMaskedLM saves them.
 */
function tinyWeights(c: BertConfig, head: 'mlm' | 'classifier' | 'none', seed = 3): Map<string, PlainTensor> {
  const rng = mulberry(seed);
  const H = c.hiddenSize;
  const m = new Map<string, PlainTensor>();
  const pre = head === 'none' ? '' : 'bert.';
  const add = (name: string, shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    m.set(name, { shape, data: Float32Array.from({ length: n }, () => rng() - 0.5) });
  };
  add(`${pre}embeddings.word_embeddings.weight`, [c.vocabSize, H]);
  add(`${pre}embeddings.position_embeddings.weight`, [c.maxPositionEmbeddings, H]);
  add(`${pre}embeddings.token_type_embeddings.weight`, [c.typeVocabSize, H]);
  add(`${pre}embeddings.LayerNorm.weight`, [H]);
  add(`${pre}embeddings.LayerNorm.bias`, [H]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `${pre}encoder.layer.${l}`;
    for (const q of ['query', 'key', 'value']) {
      add(`${p}.attention.self.${q}.weight`, [H, H]);
      add(`${p}.attention.self.${q}.bias`, [H]);
    }
    add(`${p}.attention.output.dense.weight`, [H, H]);
    add(`${p}.attention.output.dense.bias`, [H]);
    add(`${p}.attention.output.LayerNorm.weight`, [H]);
    add(`${p}.attention.output.LayerNorm.bias`, [H]);
    add(`${p}.intermediate.dense.weight`, [c.intermediateSize, H]);
    add(`${p}.intermediate.dense.bias`, [c.intermediateSize]);
    add(`${p}.output.dense.weight`, [H, c.intermediateSize]);
    add(`${p}.output.dense.bias`, [H]);
    add(`${p}.output.LayerNorm.weight`, [H]);
    add(`${p}.output.LayerNorm.bias`, [H]);
  }
  if (head === 'mlm') {
    add('cls.predictions.transform.dense.weight', [H, H]);
    add('cls.predictions.transform.dense.bias', [H]);
    add('cls.predictions.transform.LayerNorm.weight', [H]);
    add('cls.predictions.transform.LayerNorm.bias', [H]);
    add('cls.predictions.bias', [c.vocabSize]);
  } else {
    add(`${pre}pooler.dense.weight`, [H, H]);
    add(`${pre}pooler.dense.bias`, [H]);
    if (head === 'classifier') {
      add('classifier.weight', [c.numLabels, H]);
      add('classifier.bias', [c.numLabels]);
    }
  }
  return m;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'flowlens-hf-'));
}

test('config defaults are transformers.BertConfig defaults', () => {
  const c = parseBertConfig({}, 'x/config.json');
  assert.equal(c.vocabSize, 30522);
  assert.equal(c.hiddenSize, 768);
  assert.equal(c.numHiddenLayers, 12);
  assert.equal(c.numAttentionHeads, 12);
  assert.equal(c.intermediateSize, 3072);
  assert.equal(c.hiddenAct, 'gelu');
  assert.equal(c.maxPositionEmbeddings, 512);
  assert.equal(c.typeVocabSize, 2);
  assert.equal(c.layerNormEps, 1e-12);
  assert.equal(c.padTokenId, 0);
  assert.equal(c.numLabels, 2);
  assert.deepEqual(c.id2label, { 0: 'LABEL_0', 1: 'LABEL_1' });
  assert.deepEqual(c.label2id, { LABEL_0: 0, LABEL_1: 1 });
  assert.deepEqual(c.architectures, []);
  assert.equal(c.modelType, 'bert');
});

test('parses bert-base-uncased and an SST-2 classifier config; round-trips through toHfConfigJson', () => {
  const c = parseBertConfig(BERT_BASE_UNCASED, 'config.json');
  assert.deepEqual(c.architectures, ['BertForMaskedLM']);
  assert.equal(c.hiddenSize, 768);
  assert.equal(c.hiddenDropoutProb, 0.1);
  assert.deepEqual(c.extra, { gradient_checkpointing: false, transformers_version: '4.6.0.dev0', use_cache: true });
  const back = toHfConfigJson(c);
  for (const [k, v] of Object.entries(BERT_BASE_UNCASED)) assert.deepEqual(back[k], v, k);
  assert.deepEqual(parseBertConfig(JSON.parse(JSON.stringify(back))), c);

  const sst = parseBertConfig({
    ...BERT_BASE_UNCASED,
    architectures: ['BertForSequenceClassification'],
    id2label: { '0': 'NEGATIVE', '1': 'POSITIVE' },
    label2id: { NEGATIVE: 0, POSITIVE: 1 },
  });
  assert.equal(sst.numLabels, 2);
  assert.equal(sst.id2label[1], 'POSITIVE');
  assert.equal(sst.label2id.NEGATIVE, 0);
  // transformers: id2label wins over a disagreeing num_labels
  assert.equal(parseBertConfig({ id2label: { '0': 'a' }, num_labels: 3 }).numLabels, 1);
  const three = parseBertConfig({ num_labels: 3 });
  assert.equal(three.numLabels, 3);
  assert.equal(three.id2label[2], 'LABEL_2');
  assert.deepEqual(toHfConfigJson(three).id2label, { '0': 'LABEL_0', '1': 'LABEL_1', '2': 'LABEL_2' });
  const made = makeBertConfig({ hiddenSize: 64, numAttentionHeads: 4, numLabels: 5 });
  assert.equal(made.numLabels, 5);
  assert.equal(made.label2id.LABEL_4, 4);
});

test('invalid configs throw errors naming config.json and the field', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ hidden_size: 100, num_attention_heads: 12 }, /dir\/config\.json.*"hidden_size" 100 is not divisible by "num_attention_heads" 12/],
    [{ hidden_act: 'swish' }, /dir\/config\.json.*"hidden_act" "swish"/],
    [{ num_hidden_layers: 0 }, /dir\/config\.json.*"num_hidden_layers" must be a positive integer/],
    [{ vocab_size: 10.5 }, /"vocab_size"/],
    [{ intermediate_size: '3072' }, /"intermediate_size"/],
    [{ layer_norm_eps: -1 }, /"layer_norm_eps"/],
    [{ model_type: 'roberta' }, /"model_type"/],
    [{ position_embedding_type: 'relative_key' }, /"position_embedding_type"/],
    [{ id2label: { '0': 'a', '2': 'b' } }, /"id2label"/],
    [{ hidden_dropout_prob: 2 }, /"hidden_dropout_prob"/],
  ];
  for (const [json, re] of bad) assert.throws(() => parseBertConfig(json, 'dir/config.json'), re, JSON.stringify(json));
  assert.throws(() => parseBertConfig([], 'dir/config.json'), /dir\/config\.json/);
  const dir = tmp();
  try {
    assert.throws(() => loadConfig(dir), new RegExp(`config.json not found: ${dir}/config\\.json`));
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": 768,');
    assert.throws(() => loadConfig(dir), new RegExp(`${dir}/config\\.json: not valid JSON`));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ hidden_act: 'tanh' }));
    assert.throws(() => loadConfig(dir), new RegExp(`${dir}/config\\.json.*hidden_act`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('expected shapes of bert-base: parameter counts of BertModel and BertForMaskedLM', () => {
  const c = parseBertConfig(BERT_BASE_UNCASED);
  const count = (m: Map<string, number[]>) => [...m.values()].reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  const base = expectedBertShapes(c, { head: 'none' });
  assert.equal(base.size, 5 + 16 * 12 + 2);
  assert.equal(count(base), 109_482_240); // BertModel.from_pretrained('bert-base-uncased').num_parameters()
  assert.equal(count(expectedBertShapes(c, { head: 'mlm' })), 109_514_298); // BertForMaskedLM (decoder tied)
  assert.equal(count(expectedBertShapes(c, { head: 'classifier' })), 109_482_240 + 768 * 2 + 2);
  assert.deepEqual(base.get('encoder.layer.11.intermediate.dense.weight'), [3072, 768]);
  assert.deepEqual(base.get('encoder.layer.0.output.dense.weight'), [768, 3072]);
  assert.equal(expectedBertShapes(c, { head: 'mlm' }).has('pooler.dense.weight'), false);
});

test('name normalisation', () => {
  assert.equal(canonicalWeightName('bert.encoder.layer.3.attention.self.query.weight'), 'encoder.layer.3.attention.self.query.weight');
  assert.equal(canonicalWeightName('bert.embeddings.LayerNorm.gamma'), 'embeddings.LayerNorm.weight');
  assert.equal(canonicalWeightName('cls.predictions.transform.LayerNorm.beta'), 'cls.predictions.transform.LayerNorm.bias');
  assert.equal(canonicalWeightName('classifier.weight'), 'classifier.weight');
  assert.equal(canonicalWeightName('bert.pooler.dense.bias'), 'pooler.dense.bias');
  assert.equal(canonicalWeightName('bert.embeddings.position_ids'), null);
});

test('validateWeights names the tensor, its shape, the expected shape and the file', () => {
  const c = tinyConfig();
  const w = new Map([...tinyWeights(c, 'mlm')].map(([k, v]) => [canonicalWeightName(k) as string, v]));
  validateWeights(w, c, 'mlm', 'tiny/model.safetensors');
  const missing = new Map(w);
  missing.delete('encoder.layer.1.attention.self.key.bias');
  assert.throws(
    () => validateWeights(missing, c, 'mlm', 'tiny/model.safetensors'),
    /tiny\/model\.safetensors: missing tensor "encoder\.layer\.1\.attention\.self\.key\.bias" \(expected shape \[8\]/,
  );
  const wrong = new Map(w);
  wrong.set('encoder.layer.0.intermediate.dense.weight', { shape: [8, 12], data: new Float32Array(96) });
  assert.throws(
    () => validateWeights(wrong, c, 'mlm', 'tiny/model.safetensors'),
    /tiny\/model\.safetensors: tensor "encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[8, 12\], expected \[12, 8\]/,
  );
  const dec = new Map(w);
  dec.set('cls.predictions.decoder.weight', { shape: [c.vocabSize, 4], data: new Float32Array(c.vocabSize * 4) });
  assert.throws(() => validateWeights(dec, c, 'mlm', 'f'), /cls\.predictions\.decoder\.weight/);
  // a BertForMaskedLM checkpoint is not a classifier
  assert.throws(() => validateWeights(w, c, 'classifier', 'f'), /missing tensor "pooler\.dense\.weight"/);
});

test('saveHfFolder → loadHfFolder round trip (mlm with bert. prefix, classifier, F16)', () => {
  const root = tmp();
  try {
    const c = tinyConfig();
    const w = tinyWeights(c, 'mlm');
    const dir = join(root, 'model');
    saveHfFolder(dir, { config: c, weights: w, vocab: VOCAB, tokenizerConfig: { do_lower_case: true } });
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
    assert.deepEqual(readdirSync(root), ['model']); // no temp folders left
    // the file has HF BertForMaskedLM names
    const raw = readSafetensors(join(dir, 'model.safetensors'));
    assert.ok(raw.has('bert.encoder.layer.1.output.dense.weight'));
    assert.ok(raw.has('cls.predictions.bias'));
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).hidden_size, 8);
    assert.equal(readFileSync(join(dir, 'vocab.txt'), 'utf8'), VOCAB.join('\n') + '\n');
    const loaded = loadHfFolder(dir, { head: 'mlm' });
    assert.deepEqual(loaded.config, c);
    assert.equal(loaded.weights.size, w.size);
    for (const [k, v] of w) {
      const got = loaded.weights.get(k.replace(/^bert\./, ''));
      assert.ok(got, k);
      assert.deepEqual(got.shape, v.shape);
      assert.deepEqual(got.data, v.data);
    }
    assert.deepEqual(loaded.tokenizer.encode('The cats sat.').tokens, ['[CLS]', 'the', 'cat', '##s', 'sat', '.', '[SEP]']);
    assert.deepEqual(loaded.tokenizer.encode('The cats sat.').ids, [2, 5, 6, 8, 7, 11, 3]);

    // replacing an existing model folder; classifier head, F16
    const cc = tinyConfig({ architectures: ['BertForSequenceClassification'], id2label: { 0: 'neg', 1: 'neu', 2: 'pos' } });
    const wc = tinyWeights(cc, 'classifier', 9);
    saveHfFolder(dir, { config: cc, weights: wc, vocab: VOCAB, dtype: 'F16' });
    assert.deepEqual(readdirSync(root), ['model']);
    const lc = loadHfFolder(dir, { head: 'classifier' });
    assert.equal(lc.config.numLabels, 3);
    assert.equal(lc.config.id2label[2], 'pos');
    assert.ok(!lc.weights.has('cls.predictions.bias'));
    const cw = lc.weights.get('classifier.weight') as PlainTensor;
    assert.deepEqual(cw.shape, [3, 8]);
    (wc.get('classifier.weight') as PlainTensor).data.forEach((x, i) => assert.ok(Math.abs((cw.data[i] as number) - x) <= 2 ** -12));

    // BertModel (no head) is saved without prefix
    const dn = join(root, 'base');
    saveHfFolder(dn, { config: c, weights: tinyWeights(c, 'none'), vocab: VOCAB });
    assert.ok(readSafetensors(join(dn, 'model.safetensors')).has('encoder.layer.0.output.dense.bias'));
    loadHfFolder(dn, { head: 'none' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('saveHfFolder writes nothing on bad input and never replaces a foreign folder', () => {
  const root = tmp();
  try {
    const c = tinyConfig();
    const w = tinyWeights(c, 'mlm');
    w.delete('bert.encoder.layer.0.output.dense.bias');
    const dir = join(root, 'm');
    assert.throws(() => saveHfFolder(dir, { config: c, weights: w, vocab: VOCAB }), /missing tensor "encoder\.layer\.0\.output\.dense\.bias"/);
    assert.throws(() => saveHfFolder(dir, { config: c, weights: tinyWeights(c, 'mlm'), vocab: ['[PAD]', 'a'] }), /\[UNK\]/);
    assert.deepEqual(readdirSync(root), []);
    const foreign = join(root, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'keep me');
    assert.throws(() => saveHfFolder(foreign, { config: c, weights: tinyWeights(c, 'mlm'), vocab: VOCAB }), /not empty.*refusing/);
    assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'keep me');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('old TF names, position_ids buffer, sharded checkpoints, decoder.bias', () => {
  const root = tmp();
  try {
    const c = tinyConfig();
    const w = tinyWeights(c, 'mlm');
    const renamed = new Map<string, PlainTensor>();
    for (const [k, v] of w)
      renamed.set(
        k
          .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
          .replace(/LayerNorm\.bias$/, 'LayerNorm.beta')
          .replace(/^cls\.predictions\.bias$/, 'cls.predictions.decoder.bias'),
        v,
      );
    renamed.set('bert.embeddings.position_ids', { shape: [1, 16], data: Float32Array.from({ length: 16 }, (_, i) => i) });
    // shard into two files + index
    const dir = join(root, 'sharded');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfigJson(c)));
    writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n'));
    const names = [...renamed.keys()];
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((ns, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, file), new Map(ns.map((n) => [n, renamed.get(n) as PlainTensor])), { metadata: { format: 'pt' } });
      for (const n of ns) weightMap[n] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const loaded = loadHfFolder(dir, { head: 'mlm' });
    assert.equal(loaded.weightFiles.length, 2);
    assert.ok(!loaded.weights.has('embeddings.position_ids'));
    assert.deepEqual(loaded.weights.get('embeddings.LayerNorm.weight')?.data, w.get('bert.embeddings.LayerNorm.weight')?.data);
    assert.deepEqual(loaded.weights.get('cls.predictions.bias')?.data, w.get('cls.predictions.bias')?.data);
    // a missing shard is named
    rmSync(join(dir, 'model-00002-of-00002.safetensors'));
    assert.throws(() => loadHfFolder(dir), /model-00002-of-00002\.safetensors/);
    rmSync(join(dir, 'model.safetensors.index.json'));
    assert.throws(() => loadHfFolder(dir), /no weights in .*sharded/);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
    assert.throws(() => loadHfFolder(dir), /pytorch_model\.bin but no model\.safetensors/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('loadHfFolder errors name the missing file', () => {
  const root = tmp();
  try {
    const dir = join(root, 'm');
    assert.throws(() => loadHfFolder(dir), new RegExp(`model folder not found: ${dir}`));
    const c = tinyConfig();
    saveHfFolder(dir, { config: c, weights: tinyWeights(c, 'mlm'), vocab: VOCAB });
    rmSync(join(dir, 'vocab.txt'));
    assert.throws(() => loadHfFolder(dir), new RegExp(`${dir}/vocab\\.txt`));
    rmSync(join(dir, 'config.json'));
    assert.throws(() => loadHfFolder(dir), new RegExp(`${dir}/config\\.json`));
    assert.equal(existsSync(join(dir, 'model.safetensors')), true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
