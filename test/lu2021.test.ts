import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { makeBertConfig } from '../src/io/config.js';
import { WordPieceTokenizer } from '../src/io/tokenizer.js';
import {
  ablationTable,
  agreementExample,
  conditionLabel,
  consistency,
  consistencyVsAccuracy,
  entropyBits,
  LU2021_TASKS,
  runLu2021,
  taskStats,
  type Lu2021Record,
} from '../src/eval/lu2021.js';
import { writeLu2021Outputs } from '../src/eval/lu2021Report.js';
import { lu2021Examples } from '../src/eval/lu2021.js';

test('condition labels, entropy and consistency by hand', () => {
  assert.equal(conditionLabel('plur_MS_MV_sing_ES_EV'), 'PS');
  assert.equal(conditionLabel('sing_MS_MV'), 'S');
  assert.equal(conditionLabel('sing_MS_ANPHR_plur_ES_EV'), 'SP');
  assert.equal(entropyBits([1, 1]), 1);
  assert.equal(entropyBits([4]), 0);
  assert.ok(Math.abs(entropyBits([2, 1, 1]) - 1.5) < 1e-12);
  assert.deepEqual(consistency(['a', 'b', 'a', 'c']), { top: 'a', topShare: 0.5, distinct: 3, entropy: 1.5 });
});

const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'author', 'authors', 'laughs', 'laugh', 'next', 'to', 'guard', 'guards', 'old'];

test('agreement example: [CLS] prefix [MASK] suffix [SEP], source = the main subject, QoI at the mask', () => {
  const tok = WordPieceTokenizer.fromVocab(vocab);
  const task = LU2021_TASKS.find((t) => t.name === 'sva-pp')!;
  const e = agreementExample(tok, task, {
    condition: 'sing_MS_MV_plur_ES',
    prefixWords: ['the', 'author', 'next', 'to', 'the', 'guards'],
    suffixWords: ['old'],
    good: 'laughs',
    bad: 'laugh',
  });
  assert.ok(!('skip' in e));
  if ('skip' in e) return;
  assert.deepEqual(e.tokens, ['[CLS]', 'the', 'author', 'next', 'to', 'the', 'guards', '[MASK]', 'old', '[SEP]']);
  assert.equal(e.source, 2);
  assert.equal(e.output, 7);
  assert.equal(e.condition, 'SP');
  assert.deepEqual(e.qoi.positions, [7]);
  const bad = agreementExample(tok, task, { condition: 'x', prefixWords: ['the', 'author'], suffixWords: [], good: 'laughing', bad: 'laugh' });
  assert.ok('skip' in bad && /not one wordpiece/.test(bad.skip));
});

/** A synthetic record: only what the statistics read. */
function rec(task: string, condition: string, key: string, correct: boolean, shares: Record<string, [number, number]>): Lu2021Record {
  const kinds = key.split('→');
  const steps = kinds.map((k, layer) => ({
    layer,
    position: 0,
    fromPosition: 0,
    kind: (k === 'skip' ? 'skip' : 'head') as 'skip' | 'head',
    ...(k === 'skip' ? {} : { head: Number(k.slice(1)) }),
    influence: 0,
    nodeInfluence: 0,
    skipInfluence: 0,
    headInfluences: [],
  }));
  const comparison = Object.fromEntries(
    Object.entries(shares).map(([m, [share, keep]]) => [m, { positions: [], influence: share, share, keepShare: keep, removeShare: 0 }]),
  );
  return {
    index: 0,
    task,
    condition,
    text: '',
    tokens: [],
    source: 0,
    output: 0,
    qoi: correct ? 1 : -1,
    correct,
    sign: 1,
    key,
    pattern: { layers: kinds.length, steps, totals: { patternShare: 0.5 } } as unknown as Lu2021Record['pattern'],
    comparison: comparison as unknown as Lu2021Record['comparison'],
    seconds: 0,
  };
}

test('task statistics, ablation table and consistency-vs-accuracy on hand-made records', () => {
  const rs = [
    rec('sva', 'SS', 'skip→h1', true, { influence: [0.6, 0.5], attention: [0.2, 0.1], layer: [0.4, 0.5] }),
    rec('sva', 'SS', 'skip→h1', true, { influence: [0.8, 0.7], attention: [0.2, 0.3], layer: [0.4, 0.3] }),
    rec('sva', 'SP', 'h0→skip', false, { influence: [0.4, 0.3], attention: [0.2, 0.2], layer: [0.4, 0.4] }),
  ];
  const st = taskStats(rs).objects() as Record<string, unknown>[];
  const all = st.find((r) => r.task === 'sva' && r.condition === 'all')!;
  assert.equal(all.n, 3);
  assert.ok(Math.abs((all.accuracy as number) - 2 / 3) < 1e-12);
  assert.equal(all.skip_share, 0.5);
  assert.equal(all.skip_to_head, 1);
  assert.ok(Math.abs((all.skip_L1 as number) - 2 / 3) < 1e-12);
  assert.ok(Math.abs((all.skip_L2 as number) - 1 / 3) < 1e-12);
  assert.equal(all.top_pattern, 'skip→h1');
  assert.ok(Math.abs((all.top_share as number) - 2 / 3) < 1e-12);
  const ss = st.find((r) => r.condition === 'SS')!;
  assert.equal(ss.top_share, 1);
  assert.equal(ss.entropy_bits, 0);
  const ab = ablationTable(rs).objects() as Record<string, unknown>[];
  const att = ab.find((r) => r.task === 'all' && r.method === 'attention')!;
  assert.ok(Math.abs((att.influence_share as number) - 0.2) < 1e-12);
  assert.ok(Math.abs((att.vs_influence_share as number) - (0.6 / 0.2 - 1)) < 1e-9, 'ours 0.6 vs 0.2 → +200 %');
  assert.ok(Math.abs((att.diff_keep as number) - (0.5 - 0.2)) < 1e-9);
  const lay = ab.find((r) => r.task === 'all' && r.method === 'layer')!;
  assert.ok(Math.abs((lay.vs_influence_share as number) - 0.5) < 1e-9);
  // Three groups of 3: (all correct, one pattern), (2/3 correct, top 2/3), (none correct, three patterns).
  const g = [
    ...['a', 'a', 'a'].map((k) => rec('ra', 'SS', k, true, {})),
    ...['a', 'a', 'b'].map((k, i) => rec('ra', 'SP', k, i < 2, {})),
    ...['a', 'b', 'c'].map((k) => rec('ra', 'PP', k, false, {})),
    rec('ra', 'PS', 'a', true, {}),
  ];
  const c = consistencyVsAccuracy(taskStats(g));
  assert.equal(c.groups, 3, 'groups of fewer than 3 examples are left out');
  const pearson = (x: number[], y: number[]) => {
    const mx = x.reduce((a, b) => a + b) / x.length;
    const my = y.reduce((a, b) => a + b) / y.length;
    const sxy = x.reduce((a, v, i) => a + (v - mx) * ((y[i] as number) - my), 0);
    const sx = Math.sqrt(x.reduce((a, v) => a + (v - mx) ** 2, 0));
    const sy = Math.sqrt(y.reduce((a, v) => a + (v - my) ** 2, 0));
    return sxy / (sx * sy);
  };
  const byCond = { SS: { acc: 1, top: 1, h: 0 }, SP: { acc: 2 / 3, top: 2 / 3, h: entropyBits([2, 1]) }, PP: { acc: 0, top: 1 / 3, h: Math.log2(3) } };
  const vals = Object.values(byCond);
  assert.ok(
    Math.abs(
      (c.rTopShare as number) -
        pearson(
          vals.map((v) => v.top),
          vals.map((v) => v.acc),
        ),
    ) < 1e-9,
  );
  assert.ok(
    Math.abs(
      (c.rEntropy as number) -
        pearson(
          vals.map((v) => v.h),
          vals.map((v) => v.acc),
        ),
    ) < 1e-9,
  );
  assert.ok((c.rTopShare as number) > 0.9 && (c.rEntropy as number) < -0.9);
});

test('runLu2021 on a random toy model writes every output atomically', async () => {
  await initBackend();
  const tok = WordPieceTokenizer.fromVocab(vocab);
  const cfg = makeBertConfig({
    vocabSize: vocab.length,
    hiddenSize: 8,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 12,
    hiddenAct: 'gelu',
    maxPositionEmbeddings: 16,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
  });
  const model = new Bert(cfg, 'mlm', BertParams.random(cfg, 'mlm', 1));
  const task = LU2021_TASKS.find((t) => t.name === 'sva-simple')!;
  const items = [
    { condition: 'sing_MS_MV', prefixWords: ['the', 'author'], suffixWords: ['old'], good: 'laughs', bad: 'laugh' },
    { condition: 'plur_MS_MV', prefixWords: ['the', 'authors'], suffixWords: [], good: 'laugh', bad: 'laughs' },
  ];
  const examples = items.map((it) => agreementExample(tok, task, it)).filter((e): e is Exclude<typeof e, { skip: string }> => !('skip' in e));
  const special = { clsId: tok.clsId, sepId: tok.sepId, maskId: tok.maskId, padId: tok.padId };
  const seen: number[] = [];
  const { records } = runLu2021([{ model, special, examples }], { res: 4, onProgress: (p) => seen.push(p.done) });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(records.length, 2);
  for (const r of records) {
    assert.equal(r.source, 2);
    assert.equal(r.pattern.steps.length, 2);
    assert.equal(r.key.split('→').length, 2);
    for (const m of ['influence', 'attention', 'rollout', 'layer'] as const) {
      assert.equal(r.comparison[m].positions.length, 2);
      assert.equal(r.comparison[m].positions[1], r.output, `${m} ends at the QoI position`);
    }
    assert.equal(r.comparison.influence.influence, r.pattern.totals.embeddingPatternInfluence);
  }
  const dir = mkdtempSync(join(tmpdir(), 'lu2021-'));
  try {
    const out = join(dir, 'lu2021');
    const files = writeLu2021Outputs(out, records, { agreementModel: 'random', res: 4, baseline: 'mask', seconds: 1 });
    for (const f of files) assert.ok(existsSync(f), f);
    assert.equal(readFileSync(join(out, 'patterns.jsonl'), 'utf8').trim().split('\n').length, 2);
    assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /about 3×/);
    assert.match(readFileSync(join(out, 'task_stats.csv'), 'utf8').split('\n')[0] as string, /^task,condition,n,accuracy,skip_share/);
    assert.throws(() => writeLu2021Outputs(out, [], { res: 4, baseline: 'mask', seconds: 1 }), /no examples/);
    assert.deepEqual(readdirSync(dir), ['lu2021'], 'no temporary folder left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    model.dispose();
  }
});

test('lu2021Examples: Marvin & Linzen items round robin over the conditions, SST-2 short sentences', async () => {
  const tok = WordPieceTokenizer.fromVocabFile(join(process.cwd(), 'models', 'flowlens-agreement', 'vocab.txt'));
  const ex = await lu2021Examples(['sva-obj-rel'], 8, { tokenizer: tok }, null);
  assert.equal(ex.agreement.length, 8);
  const counts = new Map<string, number>();
  for (const e of ex.agreement) counts.set(e.condition, (counts.get(e.condition) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort(), ['PP', 'PS', 'SP', 'SS']);
  assert.deepEqual([...counts.values()], [2, 2, 2, 2]);
  for (const e of ex.agreement) assert.equal(e.tokens[e.source as number], e.text.split(' ')[1], 'the source is the main subject');
  await assert.rejects(() => lu2021Examples(['nope'], 1, null, null), /unknown task "nope"/);
});
