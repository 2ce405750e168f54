/**
 * The one method contract: every registered method through `explain`, the registry's checks, and a
 * user's new variant registered in one call and run through every evaluation and widget, as a
 * notebook cell would (all imports from the package's front door).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blankOut,
  classifyRows,
  classLogit,
  classProb,
  evaluateAopc,
  evaluateBlankOutCorrelation,
  evaluateDegradation,
  explain,
  getExplainer,
  listMethods,
  loadModel,
  OptionError,
  FlowlensError,
  IndexError,
  register,
  tf,
  tokenAttribution,
  unregister,
  type LoadedModel,
} from '../src/index.js';
import { DegradationCurves, TokenSaliency } from '../widgets/index.js';
import { CommManager } from '../kernel/comm.js';

const TEXTS = ['a gripping , funny and moving film', 'dull , flat and far too long', 'the actors are fine but the story goes nowhere'];
let loaded: LoadedModel;

test.before(async () => {
  loaded = await loadModel('embedded:sst2');
});
test.after(() => loaded.model.dispose());

test('every built-in method runs in the one contract: text in, one finite score per token, its registry name, a source paper', () => {
  const names = listMethods().map((m) => m.name);
  for (const n of [
    'raw_attention',
    'attention_rollout',
    'attention_flow',
    'blank_out',
    'input_gradient',
    'gradient_x_input',
    'integrated_gradients',
    'lime',
    'iba',
    'gae',
    'attcat',
    'gradcam',
    'attention_gradcam',
    'full_lrp',
    'lrp_last_layer',
    'transformer_attribution',
    'mask_lrp',
    'random',
  ]) {
    assert.ok(names.includes(n), `${n} is registered`);
  }
  const seq = loaded.tokenizer.encode(TEXTS[0] as string).ids.length;
  const run = (info: { name: string }) =>
    explain(loaded, TEXTS[0] as string, {
      method: info.name,
      target: 1,
      ...(info.name === 'mask_lrp'
        ? {
            headMask: [
              [1, 0, 1, 1],
              [1, 1, 0, 1],
            ],
          }
        : {}),
    });
  for (const info of listMethods()) run(info); // warm-up: the first passes cache weight transposes
  const before = tf.memory().numTensors;
  for (const info of listMethods()) {
    assert.ok(info.paper.length > 10, `${info.name} names its paper`);
    assert.ok(info.needs === 'gradients' || info.needs === 'forward');
    const a = run(info);
    assert.equal(a.method, info.name);
    assert.equal(a.scores.length, seq, info.name);
    assert.deepEqual(a.tokens, loaded.tokenizer.encode(TEXTS[0] as string).tokens);
    assert.ok(a.scores.every(Number.isFinite), `${info.name}: finite scores`);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
});

test('inputs and targets: text = ids = example; a class index = classLogit; the default target is the predicted class', () => {
  const enc = loaded.tokenizer.encode(TEXTS[1] as string);
  const ig = getExplainer('integrated_gradients');
  const fromText = ig(loaded, TEXTS[1] as string, 0, { steps: 8 });
  const fromIds = ig(loaded, enc.ids, classLogit(0), { steps: 8 });
  const fromExample = ig(loaded, { ids: enc.ids, tokens: enc.tokens }, 0, { steps: 8 });
  assert.deepEqual(fromIds.scores, fromText.scores);
  assert.deepEqual(fromExample.scores, fromText.scores);
  const predicted = classifyRows(loaded.model, [enc.ids]).logits[0] as number[];
  const cls = predicted[1]! > predicted[0]! ? 1 : 0;
  assert.deepEqual(
    explain(loaded, TEXTS[1] as string, { method: 'input_gradient' }).scores,
    explain(loaded, TEXTS[1] as string, { method: 'input_gradient', target: cls }).scores,
  );
  // Attention methods read the [CLS] row for a class: raw attention at the last layer = that row of the pattern.
  const tr = loaded.model.forward({ ids: [enc.ids] }, { record: ['blocks.*.attn.hook_pattern'] });
  const att = tr.attentionArray();
  tr.dispose();
  const L = loaded.model.layers;
  const H = loaded.model.heads;
  const s = enc.ids.length;
  const row = Array.from({ length: s }, (_, j) => {
    let v = 0;
    for (let h = 0; h < H; h++) v += att[(((L - 1) * H + h) * s + 0) * s + j] as number;
    return v / H;
  });
  const raw = explain(loaded, enc.ids, { method: 'raw_attention' }).scores;
  raw.forEach((v, j) => assert.ok(Math.abs(v - (row[j] as number)) < 1e-6));
});

test('errors name the problem and are FlowlensErrors by kind', () => {
  assert.throws(
    () => explain(loaded, 'x', { method: 'no_such_method' }),
    (e: Error) => e instanceof OptionError && /unknown method "no_such_method".*integrated_gradients/.test(e.message),
  );
  assert.throws(
    () => explain(loaded, 'good', { method: 'lime', target: 5 }),
    (e: Error) => e instanceof IndexError && /target class 5 is outside 0..1/.test(e.message),
  );
  assert.throws(
    () => explain(loaded.model, 'text without tokenizer', { method: 'random' }),
    (e: Error) => e instanceof FlowlensError && /needs a tokenizer/.test(e.message),
  );
  assert.throws(() => register({ name: 'Bad Name', needs: 'forward', paper: 'x', attribute: () => tokenAttribution('x', [], [], '') }), /snake_case/);
  assert.throws(
    () => register({ name: 'integrated_gradients', needs: 'forward', paper: 'x', attribute: () => tokenAttribution('x', [], [], '') }),
    /already registered/,
  );
  assert.throws(() => register({ name: 'no_paper', needs: 'forward', paper: '', attribute: () => tokenAttribution('x', [], [], '') }), /paper/);
  assert.throws(() => register({ name: 'no_needs', needs: 'both' as never, paper: 'x', attribute: () => tokenAttribution('x', [], [], '') }), /needs must be/);
});

test("a user's variant, registered in one call, goes through every evaluation and widget like a built-in", () => {
  // The variant as a notebook cell writes it: leave-one-out on the class probability, by deletion.
  const deletion = register({
    name: 'deletion_prob',
    needs: 'forward',
    paper: 'a test variant: probability drop when each token is deleted',
    attribute: (model, example, qoi, o) => {
      const cls = qoi.cls ?? 0;
      const rows = [example.ids, ...example.ids.map((_, i) => example.ids.filter((__, j) => j !== i))];
      const p = classifyRows(model, rows, { padId: o.specialIds.padId }).probs.map((r) => r[cls] as number);
      return tokenAttribution(
        'deletion_prob',
        example.tokens ?? example.ids.map(String),
        p.slice(1).map((v) => (p[0] as number) - v),
        qoi.describe,
      );
    },
  });
  // And two variants whose correlation with blank-out is known exactly: blank-out itself and its negation.
  register({ name: 'same_as_blank_out', needs: 'forward', paper: 'test', attribute: (m, e, q, o) => blankOut(m, e, q, { specialIds: o.specialIds }) });
  register({
    name: 'minus_blank_out',
    needs: 'forward',
    paper: 'test',
    attribute: (m, e, q, o) => {
      const a = blankOut(m, e, q, { specialIds: o.specialIds });
      return { ...a, scores: a.scores.map((v) => -v) };
    },
  });
  try {
    assert.equal(deletion.info.name, 'deletion_prob');
    assert.equal(deletion.info.needs, 'forward');

    // Blank-out correlation: ρ = 1 and −1 exactly for every input (the same QoI reaches every method).
    const corr = evaluateBlankOutCorrelation(loaded, TEXTS, ['same_as_blank_out', 'minus_blank_out', 'deletion_prob']);
    assert.equal(corr[0]?.method, 'same_as_blank_out');
    assert.ok(Math.abs((corr[0]?.mean as number) - 1) < 1e-9 && (corr[0]?.std as number) < 1e-9);
    assert.ok(Math.abs((corr[1]?.mean as number) + 1) < 1e-9);
    assert.equal(corr[2]?.n, TEXTS.length);
    assert.ok(Number.isFinite(corr[2]?.mean));

    // AOPC: checked by hand for the variant at one step (replace the top half by [PAD], keep [CLS]/[SEP]).
    const aopc = evaluateAopc(loaded, TEXTS, ['deletion_prob', 'random'], { fractions: [0.5] });
    assert.deepEqual(
      aopc.rows.map((r) => r.method),
      ['deletion_prob', 'random'],
    );
    let byHand = 0;
    for (const t of TEXTS) {
      const ids = loaded.tokenizer.encode(t).ids;
      const p0 = classifyRows(loaded.model, [ids]).probs[0] as number[];
      const cls = (p0[1] as number) > (p0[0] as number) ? 1 : 0;
      const scores = deletion(loaded, t, cls).scores;
      const inner = ids
        .map((_, i) => i)
        .filter((i) => i > 0 && i < ids.length - 1)
        .sort((a, b) => (scores[b] as number) - (scores[a] as number));
      const drop = new Set(inner.slice(0, Math.round(0.5 * inner.length)));
      const pert = ids.map((id, i) => (drop.has(i) ? loaded.tokenizer.padId : id));
      byHand += ((p0[cls] as number) - (classifyRows(loaded.model, [pert]).probs[0] as number[])[cls]!) / TEXTS.length;
    }
    assert.ok(Math.abs((aopc.rows[0]?.aopc as number) - byHand) < 1e-6, `AOPC ${aopc.rows[0]?.aopc} vs by hand ${byHand}`);

    // Degradation: the variant next to a built-in with options and its own target (classProb).
    const deg = evaluateDegradation(
      loaded,
      TEXTS.map((t, i) => ({ input: t, label: i === 0 ? 1 : 0 })),
      ['deletion_prob', { method: 'integrated_gradients', target: classProb, options: { steps: 8 } }],
      { fractions: [0, 0.5, 1] },
    );
    assert.deepEqual([...new Set(deg.curves.map((c) => c.method))], ['deletion_prob', 'integrated_gradients']);
    assert.equal(deg.sanity.integrated_gradients?.length, TEXTS.length);
    assert.ok(deg.sanity.integrated_gradients?.every(Number.isFinite), 'IG completeness gaps reach the result');
    for (const c of deg.curves) assert.equal(c.n, TEXTS.length);

    // Widgets: the variant shown next to the built-ins, and its curves.
    const m = new CommManager({ publish: () => undefined });
    const shown = ['deletion_prob', 'integrated_gradients', 'attention_rollout'].map((n) => explain(loaded, TEXTS[0] as string, { method: n, target: 1 }));
    const sal = new TokenSaliency({ tokens: shown[0]!.tokens, methods: Object.fromEntries(shown.map((a) => [a.method, a.scores])) }, { manager: m });
    assert.deepEqual(sal.state.methodNames, ['deletion_prob', 'integrated_gradients', 'attention_rollout']);
    assert.match(sal.renderStatic(), /deletion_prob/);
    const curves = new DegradationCurves({ curves: deg.curves }, { manager: m });
    assert.match(curves.renderStatic(), /deletion_prob/);
  } finally {
    for (const n of ['deletion_prob', 'same_as_blank_out', 'minus_blank_out']) unregister(n);
  }
});
