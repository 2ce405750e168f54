import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { makeBertConfig } from '../src/io/config.js';
import { WordPieceTokenizer } from '../src/io/tokenizer.js';
import { runSong2024, compareWithMaskLrp, SONG2024_METHODS, SONG2024_ABLATIONS } from '../src/eval/song2024.js';
import { writeSong2024Outputs } from '../src/eval/song2024Writer.js';
import { headMask, SONG2024_SST2_THRESHOLDS } from '../src/eval/headStats.js';

await initBackend();

const words = 'the film is good bad a movie very dull and funny plot i like it was not'.split(' ');
const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words, '.'];
const cfg = makeBertConfig({
  vocabSize: vocab.length,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 16,
  hiddenAct: 'gelu',
  maxPositionEmbeddings: 32,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  numLabels: 2,
});

test(
  'song2024 end to end on a tiny classifier: tables, masks, AOPC against a direct recomputation, files',
  { skip: !existsSync('/usr/bin/link-parser') && 'link-parser not installed' },
  () => {
    const model = new Bert(cfg, 'classifier', BertParams.random(cfg, 'classifier', 4));
    const tok = WordPieceTokenizer.fromVocab(vocab);
    const dir = mkdtempSync(join(tmpdir(), 'song-'));
    try {
      const examples = [
        { label: 1, text: 'i like the film very very much and the plot is funny and good and not dull .' },
        { label: 0, text: 'the movie was dull .' },
        { label: 0, text: 'a bad film .' },
      ];
      const res = runSong2024(model, tok, {
        statsCorpus: ['the film is good .', 'i like the movie .'],
        examples,
        minTokens: 10,
        parser: { cacheFile: join(dir, 'p.jsonl') },
      });
      const names = [...SONG2024_METHODS, ...SONG2024_ABLATIONS];
      assert.equal(res.rows.length, 2 * names.length);
      assert.equal(res.steps.length, 2 * names.length * 9);
      assert.deepEqual(
        res.rows.filter((r) => r.subset === 'all').map((r) => r.n),
        names.map(() => 3),
      );
      assert.deepEqual([...new Set(res.rows.filter((r) => r.subset === 'tokens>=10').map((r) => r.n))], [1]);
      assert.deepEqual(res.masks.paper, headMask(res.stats, SONG2024_SST2_THRESHOLDS, 'both'));
      assert.equal(res.masks.paper_random.flat().filter((v) => v).length, res.masks.paper.flat().filter((v) => v).length);
      // AOPC of one method on one example, recomputed with direct forwards.
      const ex = res.examples[0];
      const ids = tok.encode(examples[0].text).ids;
      const scores = ex.scores.gae;
      const order = scores
        .map((s, i) => i)
        .filter((i) => i > 0 && i < ids.length - 1)
        .sort((a, b) => scores[b] - scores[a] || a - b);
      const p = (row: number[]) => {
        const tr = model.forward({ ids: [row] }, { record: 'none' });
        const q = tf.softmax(tr.logits, -1);
        const v = q.dataSync()[ex.predicted];
        q.dispose();
        tr.dispose();
        return v;
      };
      const p0 = p(ids);
      let drop = 0;
      for (const f of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
        const row = ids.slice();
        for (const i of order.slice(0, Math.round(f * order.length))) row[i] = 0;
        drop += (p0 - p(row)) / 9;
      }
      assert.ok(Math.abs(ex.aopc.gae - drop) < 1e-5, `${ex.aopc.gae} vs ${drop}`);
      // Mean over examples of the per-example AOPC = the table's AOPC.
      const mean = res.examples.reduce((a, e) => a + e.aopc.gae, 0) / 3;
      assert.ok(Math.abs((res.rows.find((r) => r.subset === 'all' && r.method === 'gae')?.aopc ?? NaN) - mean) < 1e-9);
      const cmp = compareWithMaskLrp(res.rows);
      assert.ok(cmp.length > 0 && cmp.every((c) => c.maskLrpBetterAopc === c.aopcGain > 0));
      const out = join(dir, 'out');
      const files = writeSong2024Outputs(out, res, { model: 'tiny', command: 'test', seconds: 1, data: 'handmade' });
      for (const f of files) assert.ok(existsSync(f), f);
      const summary = readFileSync(join(out, 'summary.md'), 'utf8');
      assert.match(summary, /3 % to 33 %/);
      assert.match(summary, /\| mask_lrp \|/);
      assert.match(readFileSync(join(out, 'aopc_lodds.csv'), 'utf8'), /^subset,method,aopc,lodds,n\n/);
      assert.throws(() => runSong2024(model, tok, { statsCorpus: [], examples }), /head-statistics corpus is empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  },
);
