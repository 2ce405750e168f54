import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { loadModel } from '../src/model/load.js';
import { bertBaseUncasedVocab } from '../src/io/bertVocab.js';
import { makeBertConfig } from '../src/io/config.js';
import { WordPieceTokenizer } from '../src/io/tokenizer.js';
import { mulberry32 } from '../src/data/random.js';
import { AdamW } from '../src/train/pretrain/adamw.js';
import { paramLayout, readParams } from '../src/train/pretrain/flatParams.js';
import { BatchOrder, maskedBatch, maskedEvalSet, maskSequence, type MaskingOptions } from '../src/train/pretrain/masking.js';
import { shardEval, shardGradients, type MaskedSequence } from '../src/train/pretrain/mlmGradients.js';
import { packDocuments, sequence } from '../src/train/pretrain/packedCorpus.js';
import { readCorpusFile } from '../src/data/corpus/writer.js';
import { learningRate, pretrainMlm, type PretrainSettings } from '../src/train/pretrain/trainer.js';
import { LocalGradients, WorkerPool, splitEven } from '../src/train/pretrain/workerPool.js';

const VOCAB = bertBaseUncasedVocab();
const tok = WordPieceTokenizer.fromVocab(VOCAB, { doLowerCase: true });
const MASKING: MaskingOptions = { maskProb: 0.15, maskId: tok.maskId, specialIds: [tok.clsId, tok.sepId, tok.padId], randomFrom: 999, vocabSize: VOCAB.length };

/** A small English-like corpus with learnable regularities (agreement, fixed phrases). */
function syntheticDocs(n: number, seed: number): string[][] {
  const r = mulberry32(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)] as T;
  const sg = ['dog', 'cat', 'teacher', 'farmer', 'child'];
  const pl = ['dogs', 'cats', 'teachers', 'farmers', 'children'];
  const docs: string[][] = [];
  for (let d = 0; d < n; d++) {
    const doc: string[] = [];
    for (let s = 0, k = 1 + Math.floor(r() * 4); s < k; s++) {
      const plural = r() < 0.5;
      doc.push(`the ${pick(plural ? pl : sg)} ${plural ? 'are' : 'is'} ${pick(['happy', 'tired', 'here', 'late'])} today .`);
    }
    docs.push(doc);
  }
  return docs;
}

function writeCorpus(dir: string, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const fmt = (docs: string[][]) => docs.map((d) => d.join('\n')).join('\n\n') + '\n';
  writeFileSync(join(dir, 'train.txt'), fmt(syntheticDocs(300, seed)));
  writeFileSync(join(dir, 'heldout.txt'), fmt(syntheticDocs(20, seed + 1)));
}

const TINY: PretrainSettings = {
  layers: 2,
  hidden: 32,
  heads: 2,
  intermediate: 64,
  maxLen: 32,
  batchSize: 8,
  steps: 40,
  warmup: 4,
  lr: 1e-2,
  weightDecay: 0.01,
  clip: 1,
  beta2: 0.98,
  maskProb: 0.15,
  shortSeqProb: 0.1,
  dropout: 0,
  seed: 5,
};
const tinyDims = makeBertConfig({
  vocabSize: VOCAB.length,
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 64,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 32,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
});

test('packing: [CLS] … [SEP] sequences within maxLen that keep every sentence token in order', () => {
  const docs = syntheticDocs(50, 1);
  const c = packDocuments(docs, tok, { maxLen: 24, seed: 3 });
  const all: number[] = [];
  for (let i = 0; i < c.size; i++) {
    const s = sequence(c, i);
    assert.ok(s.length <= 24 && s.length >= 3, `sequence ${i} has length ${s.length}`);
    assert.equal(s[0], tok.clsId);
    assert.equal(s[s.length - 1], tok.sepId);
    all.push(...s.slice(1, -1).filter((t) => t !== tok.sepId));
  }
  const expected = docs.flat().flatMap((x) => tok.encode(x, { addSpecialTokens: false }).ids);
  assert.deepEqual(all, expected);
  assert.deepEqual(packDocuments(docs, tok, { maxLen: 24, seed: 3 }).tokens, c.tokens, 'deterministic for a seed');
});

test('masking: 15 % of the non-special tokens, 80/10/10 replacement, labels are the originals, pure function of (seed, step)', () => {
  const ids = [tok.clsId, ...Array.from({ length: 100 }, (_, i) => 2000 + i), tok.sepId];
  const r = mulberry32(9);
  let masked = 0;
  let random = 0;
  let kept = 0;
  for (let rep = 0; rep < 400; rep++) {
    const m = maskSequence(ids, r, MASKING);
    assert.equal(m.positions.length, 15);
    assert.ok(!m.positions.includes(0) && !m.positions.includes(101), 'never [CLS]/[SEP]');
    m.positions.forEach((p, i) => {
      assert.equal(m.labels[i], ids[p]);
      if (m.ids[p] === tok.maskId) masked++;
      else if (m.ids[p] === ids[p]) kept++;
      else random++;
    });
  }
  const n = masked + random + kept;
  assert.ok(Math.abs(masked / n - 0.8) < 0.02 && Math.abs(random / n - 0.1) < 0.02 && Math.abs(kept / n - 0.1) < 0.02, `${masked} ${random} ${kept}`);
  const c = packDocuments(syntheticDocs(40, 2), tok, { maxLen: 24 });
  const order = new BatchOrder(c.size, 4, 1);
  assert.deepEqual(maskedBatch(c, order, 7, 1, MASKING), maskedBatch(c, new BatchOrder(c.size, 4, 1), 7, 1, MASKING));
  // Each epoch visits every sequence once.
  const seen = new Set<number>();
  const perEpoch = Math.ceil(c.size / 4);
  for (let s = 1; s <= Math.floor(c.size / 4); s++) for (const i of order.indices(s)) seen.add(i);
  assert.equal(seen.size, Math.floor(c.size / 4) * 4);
  assert.ok(perEpoch >= 1);
});

test('learning rate: linear warm-up to the peak, linear decay to 0', () => {
  const s = { lr: 1e-3, warmup: 10, steps: 110 };
  assert.equal(learningRate(s, 5), 5e-4);
  assert.equal(learningRate(s, 10), 1e-3);
  assert.ok(Math.abs(learningRate(s, 60) - 5e-4) < 1e-12);
  assert.equal(learningRate(s, 110), 0);
});

test('AdamW: two hand-computed steps with decoupled weight decay; lazy rows leave absent rows and moments untouched', () => {
  const layout = {
    slots: [
      { name: 'a.weight', shape: [2], offset: 0, size: 2 },
      { name: 'a.bias', shape: [1], offset: 2, size: 1 },
      { name: 'embeddings.word_embeddings.weight', shape: [3, 2], offset: 3, size: 6 },
    ],
    total: 9,
  };
  const opt = new AdamW(layout, 'embeddings.word_embeddings.weight', { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
  const p = new Float32Array([1, -2, 0.5, 1, 1, 2, 2, 3, 3]);
  const g = new Float32Array([0.2, -0.4, 1, 9, 9, 0.5, 0.5, 9, 9]);
  const ref = [1, -2, 0.5];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  for (let t = 1; t <= 2; t++) {
    opt.step(p, g, 0.5, 0.01, [1]);
    for (let i = 0; i < 3; i++) {
      const gi = g[i]! * 0.5;
      m[i] = 0.9 * m[i]! + 0.1 * gi;
      v[i] = 0.99 * v[i]! + 0.01 * gi * gi;
      const wd = i === 2 ? 0 : 0.1; // no decay on the bias
      ref[i] = ref[i]! - 0.01 * (m[i]! / (1 - 0.9 ** t) / (Math.sqrt(v[i]! / (1 - 0.99 ** t)) + 1e-8) + wd * ref[i]!);
    }
  }
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i]! - ref[i]!) < 1e-6, `param ${i}: ${p[i]} vs ${ref[i]}`);
  assert.deepEqual([p[3], p[4], p[7], p[8]], [1, 1, 3, 3], 'rows 0 and 2 absent: unchanged');
  assert.deepEqual([opt.m[3], opt.v[8]], [0, 0]);
  assert.notEqual(p[5], 2, 'row 1 present: updated');
});

test('MLM gradient matches central finite differences (float64-free check on a tiny model)', async () => {
  await initBackend();
  const dims = makeBertConfig({ ...tinyDims, vocabSize: 40, hiddenSize: 8, intermediateSize: 16, maxPositionEmbeddings: 8, numAttentionHeads: 2 });
  const model = new Bert(dims, 'mlm', BertParams.random(dims, 'mlm', 4));
  const layout = paramLayout(model.params);
  const seqs: MaskedSequence[] = [
    { ids: [2, 7, 4, 9, 3], positions: [2], labels: [11] },
    { ids: [2, 5, 6, 4, 8, 3], positions: [3, 4], labels: [12, 8] },
  ];
  const grad = new Float32Array(layout.total);
  shardGradients(model, layout, seqs, grad, { microBatch: 1, padId: 0 });
  const flat = new Float32Array(layout.total);
  readParams(model.params, layout, flat);
  const lossAt = (x: Float32Array) => {
    const local = new LocalGradients(dims, { microBatch: 8, padId: 0 });
    local.setParams(x);
    return local.evaluate(seqs).then(async (s) => {
      await local.close();
      return s.lossSum;
    });
  };
  const r = mulberry32(3);
  for (let k = 0; k < 6; k++) {
    const slot = layout.slots[Math.floor(r() * layout.slots.length)]!;
    const i = slot.offset + Math.floor(r() * slot.size);
    const h = 1e-2;
    const up = flat.slice();
    up[i] = up[i]! + h;
    const dn = flat.slice();
    dn[i] = dn[i]! - h;
    const fd = ((await lossAt(up)) - (await lossAt(dn))) / (2 * h);
    assert.ok(Math.abs(fd - grad[i]!) < 2e-3 + 0.02 * Math.abs(fd), `${slot.name}[${i - slot.offset}]: autodiff ${grad[i]} vs finite difference ${fd}`);
  }
  model.dispose();
});

test('two gradient workers sum to the single-process gradient of the same batch (1e-5), without leaking tensors', async () => {
  await initBackend();
  const c = packDocuments(syntheticDocs(60, 4), tok, { maxLen: 32 });
  const seqs = maskedBatch(c, new BatchOrder(c.size, 10, 2), 1, 2, MASKING);
  const init = BertParams.random(tinyDims, 'mlm', 8);
  const layout = paramLayout(init);
  const flat = new Float32Array(layout.total);
  readParams(init, layout, flat);
  init.dispose();
  const local = new LocalGradients(tinyDims, { microBatch: 10, padId: 0 });
  local.setParams(flat);
  const n0 = tf.memory().numTensors;
  const [one] = await local.gradients([seqs]);
  await local.gradients([seqs]);
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaked by gradient steps');
  const pool = await WorkerPool.start(tinyDims, 2, { microBatch: 3, padId: 0 });
  try {
    pool.setParams(flat);
    const sums = await pool.gradients(splitEven(seqs, 2));
    assert.equal(sums[0]!.count + sums[1]!.count, one!.count);
    assert.ok(Math.abs(sums[0]!.lossSum + sums[1]!.lossSum - one!.lossSum) < 1e-4 * Math.abs(one!.lossSum));
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < layout.total; i++) {
      const a = pool.grad[i]! / one!.count;
      const b = local.grad[i]! / one!.count;
      maxDiff = Math.max(maxDiff, Math.abs(a - b));
      maxAbs = Math.max(maxAbs, Math.abs(b));
    }
    assert.ok(maxAbs > 1e-3, 'a non-trivial gradient');
    assert.ok(maxDiff < 1e-5, `averaged worker gradient differs by ${maxDiff}`);
  } finally {
    await pool.close();
    await local.close();
  }
});

test('pretraining on a tiny corpus lowers the held-out loss, resumes bit-exactly, and the saved folder loads as a BertForMaskedLM', async () => {
  const root = mkdtempSync(join(tmpdir(), 'flowlens-pretrain-'));
  try {
    writeCorpus(join(root, 'corpus'), 1);
    const base = {
      corpusDir: join(root, 'corpus'),
      workers: 2,
      microBatch: 4,
      resume: false,
      evalEvery: 20,
      evalSequences: 16,
      saveEvery: 10,
      exportDtype: 'F32' as const,
    };
    const straight = await pretrainMlm(TINY, { ...base, runDir: join(root, 'a'), out: join(root, 'a-model') });
    const ev = straight.record.evals;
    assert.equal(ev[0]!.step, 0);
    assert.ok(ev[ev.length - 1]!.loss < ev[0]!.loss - 2, `held-out loss ${ev[0]!.loss} → ${ev[ev.length - 1]!.loss}`);
    // Same run, interrupted at step 10 and resumed.
    await pretrainMlm(TINY, { ...base, runDir: join(root, 'b'), out: join(root, 'b-model'), stopAt: 10 });
    const resumed = await pretrainMlm(TINY, { ...base, runDir: join(root, 'b'), out: join(root, 'b-model'), resume: true });
    assert.equal(resumed.record.step, 40);
    assert.deepEqual(
      resumed.record.history.map((h) => h.loss),
      straight.record.history.map((h) => h.loss),
    );
    assert.ok(readFileSync(join(root, 'a', 'state-40.safetensors')).equals(readFileSync(join(root, 'b', 'state-40.safetensors'))), 'bit-identical state');
    // The compact committed copy (moments in BF16, parameters = the model folder's F16 weights) resumes too.
    const c = { ...base, runDir: join(root, 'c'), out: join(root, 'c-model'), compactDir: join(root, 'c-model', 'trainer'), exportDtype: 'F16' as const };
    await pretrainMlm(TINY, { ...c, stopAt: 20 });
    rmSync(join(root, 'c'), { recursive: true });
    const fromCompact = await pretrainMlm(TINY, { ...c, resume: true });
    assert.equal(fromCompact.record.step, 40);
    assert.deepEqual(
      fromCompact.record.history.slice(0, 20).map((h) => h.loss),
      straight.record.history.slice(0, 20).map((h) => h.loss),
    );
    const lastC = fromCompact.record.evals[fromCompact.record.evals.length - 1]!.loss;
    assert.ok(
      Math.abs(lastC - ev[ev.length - 1]!.loss) < 0.3,
      `resumed from the compact copy: held-out loss ${lastC} vs ${ev[ev.length - 1]!.loss} uninterrupted`,
    );
    // An interrupted run (the CLI's Ctrl-C) finishes the step under way, saves it and stops there.
    const stop = new AbortController();
    const cut = await pretrainMlm(TINY, {
      ...base,
      runDir: join(root, 'd'),
      out: join(root, 'd-model'),
      signal: stop.signal,
      onStep: (rec) => {
        if (rec.step === 7) stop.abort();
      },
    });
    assert.equal(cut.stoppedBecause, 'interrupted');
    assert.equal(cut.record.step, 7);
    assert.ok(existsSync(join(root, 'd', 'state-7.safetensors')), 'checkpoint of the interrupted step saved');
    assert.deepEqual(
      cut.record.history.map((h) => h.loss),
      straight.record.history.slice(0, 7).map((h) => h.loss),
    );
    // A resume with other settings is refused, naming the setting.
    await assert.rejects(pretrainMlm({ ...TINY, hidden: 64 }, { ...base, runDir: join(root, 'b'), out: join(root, 'c-model'), resume: true }), /hidden = 32/);
    const loaded = await loadModel(join(root, 'a-model'));
    assert.equal(loaded.model.head, 'mlm');
    // The exported folder computes exactly the trainer's last held-out loss on the same masked set.
    const heldout = packDocuments(readCorpusFile(join(root, 'corpus', 'heldout.txt')), tok, {
      maxLen: TINY.maxLen,
      shortSeqProb: TINY.shortSeqProb,
      seed: TINY.seed,
    });
    const evalSet = maskedEvalSet(heldout, 16, TINY.seed, MASKING);
    const sums = shardEval(loaded.model, evalSet, { microBatch: 4, padId: 0 });
    assert.ok(
      Math.abs(sums.lossSum / sums.count - ev[ev.length - 1]!.loss) < 1e-4,
      `loaded ${sums.lossSum / sums.count} vs trainer ${ev[ev.length - 1]!.loss}`,
    );
    loaded.model.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
