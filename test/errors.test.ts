/** Errors by kind: every deliberate error is a FlowlensError subclass a caller can catch by class. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Bert,
  BertParams,
  CheckpointError,
  ConfigError,
  FlowlensError,
  IndexError,
  MemoryError,
  OptionError,
  TokenizationError,
  WordPieceTokenizer,
  attentionStack,
  checkLayer,
  initBackend,
  isOutOfMemory,
  loadModel,
  makeBertConfig,
  parseBertConfig,
  rethrowMemory,
  tf,
} from '../src/index.js';

test('each kind is its own class under FlowlensError, with its name', () => {
  for (const C of [CheckpointError, ConfigError, TokenizationError, IndexError, MemoryError, OptionError]) {
    const e = new C('x', { cause: 1 });
    assert.ok(e instanceof FlowlensError && e instanceof Error);
    assert.equal(e.name, C.name);
    assert.equal(e.cause, 1);
  }
  assert.ok(!(new ConfigError('x') instanceof CheckpointError));
});

test('the library throws them: config, checkpoint, tokenizer, index, options', async () => {
  await initBackend();
  assert.throws(() => parseBertConfig({ hidden_size: -3 }), ConfigError);
  assert.throws(() => new WordPieceTokenizer(['a', 'b']), TokenizationError);
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-err-'));
  try {
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'config.json'), JSON.stringify({ vocab_size: 10 }));
    writeFileSync(join(dir, 'm', 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n');
    writeFileSync(join(dir, 'm', 'model.safetensors'), 'not a safetensors file');
    await assert.rejects(loadModel(join(dir, 'm')), CheckpointError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const c = makeBertConfig({ vocabSize: 8, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8, maxPositionEmbeddings: 8 });
  const model = new Bert(c, 'mlm', BertParams.random(c, 'mlm', 1));
  try {
    assert.throws(
      () => model.checkLayerHead(3),
      (e: Error) => e instanceof IndexError && /unknown layer 3: this model has layers 0..0/.test(e.message),
    );
    assert.throws(() => model.forward({ ids: [[1, 2, 3, 4, 5, 6, 7, 1, 2]] }), IndexError, 'longer than the position table');
    assert.throws(() => model.forward({ ids: [[1, 99]] }), IndexError, 'id outside the vocabulary');
  } finally {
    model.dispose();
  }
  assert.throws(() => checkLayer(attentionStack(new Float32Array(4).fill(0.5), 1, 1, 2), 1), IndexError);
  assert.throws(() => makeBertConfig({ hiddenAct: 'swish' }), ConfigError);
});

test('an allocation failure of the backend becomes a MemoryError that says what to reduce', async () => {
  await initBackend();
  let raw: unknown;
  try {
    tf.zeros([2 ** 30 + 16]); // 4 GiB + 64 bytes: more than the wasm heap can hold
  } catch (e) {
    raw = e;
  }
  assert.ok(raw, 'the backend refused the allocation');
  assert.ok(isOutOfMemory(raw), String(raw));
  assert.throws(
    () => rethrowMemory(raw, 'forward pass of 4096 × 512 tokens'),
    (e: Error) => e instanceof MemoryError && /forward pass of 4096 × 512 tokens ran out of memory .*smaller batch/.test(e.message) && e.cause === raw,
  );
  const other = new TypeError('not memory');
  assert.throws(
    () => rethrowMemory(other, 'x'),
    (e: Error) => e === other,
    'other errors pass through unchanged',
  );
});
