/** nodeName: TransformerLens-style short names → the model's node names (as `get_act_name`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bert, BertParams, IndexError, NODE_NAMES, OptionError, SHORT_NODE_NAMES, initBackend, makeBertConfig, nodeName } from '../src/index.js';

test('short names give the documented node names, and every one is a node the forward pass records', async () => {
  assert.equal(nodeName('pattern', 3), 'blocks.3.attn.hook_pattern');
  assert.equal(nodeName('resid_post', 0), 'blocks.0.hook_resid_post');
  assert.equal(nodeName('result', 1), 'blocks.1.attn.hook_result');
  assert.equal(nodeName('mlp_out', 2), 'blocks.2.hook_mlp_out');
  assert.equal(nodeName('word'), 'embed.hook_word');
  assert.equal(nodeName('logits'), 'head.hook_logits');
  assert.equal(nodeName('blocks.{l}.hook_resid_mid', 4), 'blocks.4.hook_resid_mid');
  // Every template of NODE_NAMES is reachable by some short name.
  const made = new Set(SHORT_NODE_NAMES.map((s) => nodeName(s, 0)));
  for (const n of NODE_NAMES) assert.ok(made.has(n.replace('{l}', '0')), `${n} has a short name`);
  await initBackend();
  const c = makeBertConfig({ vocabSize: 8, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 8, maxPositionEmbeddings: 8 });
  const model = new Bert(c, 'mlm', BertParams.random(c, 'mlm', 1));
  try {
    const names = SHORT_NODE_NAMES.filter((s) => s !== 'pooler').map((s) => nodeName(s, 1, model.layers));
    const tr = model.forward({ ids: [[2, 5, 3]] }, { record: names, perHeadResults: true });
    for (const n of names) assert.ok(tr.node(n), `${n} recorded`);
    tr.dispose();
  } finally {
    model.dispose();
  }
});

test('errors: unknown name, missing layer, layer out of range', () => {
  assert.throws(
    () => nodeName('attn_weights', 0),
    (e: Error) => e instanceof OptionError && /unknown node "attn_weights".*pattern/.test(e.message),
  );
  assert.throws(
    () => nodeName('pattern'),
    (e: Error) => e instanceof OptionError && /give the layer/.test(e.message),
  );
  assert.throws(
    () => nodeName('pattern', 4, 4),
    (e: Error) => e instanceof IndexError && /layer 4 is outside 0..3/.test(e.message),
  );
});
