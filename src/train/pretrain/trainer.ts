/**
 * Masked-LM pretraining of a BERT encoder on natural English (Devlin et al. 2019, §3.1; RoBERTa's
 * FULL-SENTENCES packing without next-sentence prediction, Liu et al. 2019), data-parallel on every core
 * (see {@link WorkerPool}), resumable exactly from a checkpoint.
 *
 * One step: the batch of the step (a pure function of seed and step, see `masking.ts`) is split over
 * the workers; each returns the gradient of its summed loss; the sum is divided by the number of masked
 * positions (so it is the gradient of the batch-mean loss), clipped by global norm, and AdamW updates the
 * flat parameters in this thread, which the workers read through shared memory on their next request.
 *
 * The recipe departs from BERT's where a small compute budget calls for it (Geiping & Goldstein 2023,
 * "Cramming: Training a Language Model on a Single GPU in One Day"): no dropout during pretraining (the
 * model underfits; dropout only slows learning), sequences of 128 tokens only, and a linear decay to 0
 * over the planned number of steps. The saved config still declares dropout 0.1 for fine-tuning.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../backend/index.js';
import { bertBaseUncasedVocab, BERT_BASE_FIRST_WORD_ID } from '../../io/bertVocab.js';
import { makeBertConfig, type BertConfig } from '../../io/config.js';
import { WordPieceTokenizer } from '../../io/tokenizer.js';
import { BertParams } from '../../model/params.js';
import { AdamW } from './adamw.js';
import { loadCheckpoint, saveCheckpoint, type EvalRecord, type StepRecord, type TrainerRecord } from './checkpoint.js';
import { paramLayout, readParams } from './flatParams.js';
import { BatchOrder, maskedBatch, maskedEvalSet, type MaskingOptions } from './masking.js';
import type { MaskedSequence } from './mlmGradients.js';
import { loadPackedCorpus, type PackedCorpus } from './packedCorpus.js';
import { exportPretrainedModel, flatFromModelFolder, pretrainCurvesHtml } from './export.js';
import { writeFileAtomic } from '../../io/safetensors.js';
import { gradientEngine, splitEven, type GradientEngine } from './workerPool.js';

/** The settings that define a run (stored in the checkpoint; a resumed run must use the same). */
export interface PretrainSettings {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  /** Position table size = longest training sequence. */
  maxLen: number;
  /** Sequences per step. */
  batchSize: number;
  /** Planned number of steps (the learning-rate schedule's length). */
  steps: number;
  /** Linear warm-up steps. */
  warmup: number;
  /** Peak learning rate. */
  lr: number;
  weightDecay: number;
  /** Global-norm gradient clip. */
  clip: number;
  beta2: number;
  maskProb: number;
  shortSeqProb: number;
  dropout: number;
  seed: number;
}

/** The defaults of `flowlens train mlm` (see the model card for why). */
export const PRETRAIN_DEFAULTS: PretrainSettings = {
  layers: 6,
  hidden: 256,
  heads: 8,
  intermediate: 1024,
  maxLen: 128,
  batchSize: 128,
  steps: 12000,
  warmup: 600,
  lr: 1e-3,
  weightDecay: 0.01,
  clip: 0.5,
  beta2: 0.98,
  maskProb: 0.15,
  shortSeqProb: 0.1,
  dropout: 0,
  seed: 1,
};

/** How to run (not part of the run's identity). */
export interface PretrainRun {
  /** Folder with `train.txt` and `heldout.txt` (see `flowlens data corpus`). */
  corpusDir: string;
  /** Working checkpoint folder (F32, exact resume). */
  runDir: string;
  /** Hugging Face model folder written at each save (the pretrained encoder). */
  out: string;
  /** Gradient workers (cores); 0 = in this thread. */
  workers: number;
  /** Sequences per forward/backward pass inside a worker. */
  microBatch: number;
  /** Continue from the checkpoint in `runDir` (or `resumeFrom`). */
  resume: boolean;
  /**
   * A second checkpoint folder, written in compact form (F16 parameters, BF16 moments) at each save and
   * resumed from when `runDir` has none: the copy committed with the model (`<out>/trainer`).
   */
  compactDir?: string;
  /**
   * Continue from a checkpoint trained on other data (e.g. a corpus rebuilt with more sources): continued
   * pretraining. Without it a data change is refused, since the batch order would silently differ.
   */
  newData?: boolean;
  /** Stop after this step (default: settings.steps). */
  stopAt?: number;
  /** Stop after this many minutes of this session (checkpoint saved). */
  minutes?: number;
  /**
   * Stop when this signal is aborted (the CLI aborts it on Ctrl-C / SIGTERM): the step under way
   * finishes, then the run evaluates, saves its checkpoint and returns (`stoppedBecause: 'interrupted'`).
   */
  signal?: AbortSignal;
  evalEvery: number;
  evalSequences: number;
  saveEvery: number;
  /** Stored dtype of the exported model (default F16). */
  exportDtype?: 'F32' | 'F16';
  onStep?: (rec: StepRecord, info: { epoch: number; tokensPerSecond: number; workerMs: number[] }) => void;
  onEval?: (rec: EvalRecord) => void;
  log?: (line: string) => void;
}

/** What {@link pretrainMlm} returns. */
export interface PretrainResult {
  record: TrainerRecord;
  stoppedBecause: 'steps' | 'time' | 'stopAt' | 'interrupted';
}

/** Learning rate at `step` (1-based): linear warm-up, then linear decay to 0 at `steps`. */
export function learningRate(s: Pick<PretrainSettings, 'lr' | 'warmup' | 'steps'>, step: number): number {
  if (step <= s.warmup) return (s.lr * step) / Math.max(1, s.warmup);
  return s.lr * Math.max(0, (s.steps - step) / Math.max(1, s.steps - s.warmup));
}

/** The BERT config of a pretraining run (bert-base-uncased vocabulary). */
export function pretrainConfig(s: PretrainSettings, vocabSize: number): BertConfig {
  return makeBertConfig({
    vocabSize,
    hiddenSize: s.hidden,
    numHiddenLayers: s.layers,
    numAttentionHeads: s.heads,
    intermediateSize: s.intermediate,
    maxPositionEmbeddings: s.maxLen,
    architectures: ['BertForMaskedLM'],
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
  });
}

const IDENTITY_KEYS: (keyof PretrainSettings)[] = ['layers', 'hidden', 'heads', 'intermediate', 'maxLen', 'batchSize', 'seed', 'maskProb', 'shortSeqProb'];

function checkSameRun(saved: Record<string, unknown>, s: PretrainSettings, where: string): void {
  for (const k of IDENTITY_KEYS) {
    if (saved[k] !== s[k]) throw new Error(`cannot resume from ${where}: it was trained with ${k} = ${String(saved[k])}, this run asks for ${String(s[k])}`);
  }
}

/** Every token id occurring in the batch as input or label (the rows lazy AdamW updates). */
function presentRows(seqs: readonly MaskedSequence[]): number[] {
  const set = new Set<number>();
  for (const s of seqs) {
    for (const t of s.ids) set.add(t);
    for (const t of s.labels) set.add(t);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * Pretrain (or continue pretraining) a BERT masked LM.
 *
 * @returns the trainer record at the stop and why it stopped.
 * @throws Error naming the problem for a missing corpus, settings that differ from the checkpoint's, a
 *   worker failure, or a non-finite loss (the last good checkpoint stays).
 */
export async function pretrainMlm(settings: PretrainSettings, run: PretrainRun): Promise<PretrainResult> {
  const log = run.log ?? (() => {});
  await initBackend();
  const vocab = bertBaseUncasedVocab();
  const tokenizer = WordPieceTokenizer.fromVocab(vocab, { doLowerCase: true });
  const pack = { maxLen: settings.maxLen, shortSeqProb: settings.shortSeqProb, seed: settings.seed };
  for (const f of ['train.txt', 'heldout.txt']) {
    if (!existsSync(join(run.corpusDir, f)))
      throw new Error(`${join(run.corpusDir, f)} not found: build the corpus first (flowlens data corpus --out ${run.corpusDir})`);
  }
  const t0 = performance.now();
  let shown = -1;
  const train: PackedCorpus = loadPackedCorpus(join(run.corpusDir, 'train.txt'), tokenizer, pack, (d, n) => {
    const tenth = Math.floor((10 * d) / n);
    if (tenth !== shown) log(`tokenizing the training text: ${(shown = tenth) * 10} % of ${n} sentences`);
  });
  const heldout: PackedCorpus = loadPackedCorpus(join(run.corpusDir, 'heldout.txt'), tokenizer, pack);
  log(
    `corpus: ${train.size} training sequences (${train.tokens.length} tokens, ${train.sentences} sentences), ${heldout.size} held-out sequences; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const dataKey = `${train.size}:${train.tokens.length}:${heldout.size}:${heldout.tokens.length}`;

  const config = pretrainConfig(settings, vocab.length);
  const dims: BertConfig = config;
  const masking: MaskingOptions = {
    maskProb: settings.maskProb,
    maskId: tokenizer.maskId,
    specialIds: [tokenizer.clsId, tokenizer.sepId, tokenizer.padId],
    randomFrom: BERT_BASE_FIRST_WORD_ID,
    vocabSize: vocab.length,
  };
  const engine: GradientEngine = await gradientEngine(dims, run.workers, { microBatch: run.microBatch, padId: tokenizer.padId, dropout: settings.dropout });
  try {
    const layout = engine.layout;
    let params: Float32Array;
    let adam: AdamW;
    let history: StepRecord[] = [];
    let evals: EvalRecord[] = [];
    let start = 0;
    let dataHistory: { step: number; dataKey: string }[] = [{ step: 0, dataKey }];
    const from = run.resume ? [run.runDir, run.compactDir].find((d) => d && existsSync(join(d, 'trainer.json'))) : undefined;
    if (run.resume && !from) log(`no checkpoint in ${run.runDir}${run.compactDir ? ` or ${run.compactDir}` : ''}: starting from scratch`);
    const ck = from
      ? loadCheckpoint(
          from,
          layout,
          (rec) => {
            checkSameRun(rec.settings, settings, from);
            if (rec.dataKey !== dataKey) {
              if (!run.newData)
                throw new Error(
                  `cannot resume from ${from}: its training data (${rec.dataKey}) differs from ${run.corpusDir} (${dataKey}); rebuild the same corpus, or continue on the new data with --new-data`,
                );
              log(`continuing on new data: ${rec.dataKey} → ${dataKey}`);
            }
          },
          (layout) => flatFromModelFolder(run.out, layout),
        )
      : null;
    if (ck) {
      if (ck.record.workers !== run.workers)
        log(
          `note: the checkpoint was trained with ${ck.record.workers} workers, this run uses ${run.workers} (results equal up to float rounding, not bit for bit)`,
        );
      params = ck.params;
      adam = new AdamW(layout, 'embeddings.word_embeddings.weight', { beta2: settings.beta2, weightDecay: settings.weightDecay }, ck.adam);
      history = ck.record.history;
      evals = ck.record.evals;
      start = ck.record.step;
      dataHistory = ck.record.dataHistory ?? [{ step: 0, dataKey: ck.record.dataKey }];
      if (ck.record.dataKey !== dataKey) dataHistory = [...dataHistory, { step: start, dataKey }];
      log(`resumed from ${from} at step ${start}`);
    } else {
      const init = BertParams.random(dims, 'mlm', settings.seed);
      params = new Float32Array(layout.total);
      readParams(init, paramLayout(init), params);
      init.dispose();
      adam = new AdamW(layout, 'embeddings.word_embeddings.weight', { beta2: settings.beta2, weightDecay: settings.weightDecay });
    }
    engine.setParams(params);
    const order = new BatchOrder(train.size, settings.batchSize, settings.seed);
    const evalSet = maskedEvalSet(heldout, run.evalSequences, settings.seed, masking);
    const stopAt = Math.min(run.stopAt ?? settings.steps, settings.steps);
    const last = history[history.length - 1];
    let tokens = last?.tokens ?? 0;
    let seconds = last?.seconds ?? 0;
    const session0 = performance.now();
    const record = (step: number): TrainerRecord => ({
      format: 'flowlens-mlm-trainer/1',
      step,
      stateFile: '',
      settings: { ...settings },
      dataKey,
      history,
      evals,
      workers: run.workers,
      dataHistory,
    });
    const evaluate = async (step: number) => {
      const sums = await engine.evaluate(evalSet);
      const loss = sums.lossSum / Math.max(1, sums.count);
      const rec: EvalRecord = { step, tokens, loss, perplexity: Math.exp(loss), accuracy: sums.correct / Math.max(1, sums.count), count: sums.count };
      evals = [...evals.filter((e) => e.step !== step), rec];
      run.onEval?.(rec);
    };
    const save = (step: number) => {
      const rec = record(step);
      saveCheckpoint(run.runDir, layout, { record: rec, params, adam: adam.state() });
      exportPretrainedModel(run.out, { config, layout, params, vocab, record: { ...rec, settings: { ...settings } }, dtype: run.exportDtype ?? 'F16' });
      if (run.compactDir) saveCheckpoint(run.compactDir, layout, { record: rec, params, adam: adam.state() }, 'compact');
      writeFileAtomic(join(run.runDir, 'curves.html'), pretrainCurvesHtml(rec));
    };
    if (start === 0 && evals.length === 0) await evaluate(0);
    let stoppedBecause: PretrainResult['stoppedBecause'] = stopAt === settings.steps ? 'steps' : 'stopAt';
    for (let step = start + 1; step <= stopAt; step++) {
      const ts = performance.now();
      const seqs = maskedBatch(train, order, step, settings.seed, masking);
      const sums = await engine.gradients(splitEven(seqs, engine.shards));
      const count = sums.reduce((a, s) => a + s.count, 0);
      const loss = sums.reduce((a, s) => a + s.lossSum, 0) / count;
      if (!Number.isFinite(loss))
        throw new Error(`training diverged at step ${step} (loss ${loss}); the last checkpoint in ${run.runDir} is intact: resume with a lower --lr`);
      const rows = presentRows(seqs);
      const gradNorm = adam.gradNorm(engine.grad, 1 / count, rows);
      const factor = Math.min(1, settings.clip / (gradNorm + 1e-6));
      const lr = learningRate(settings, step);
      adam.step(params, engine.grad, factor / count, lr, rows);
      engine.setParams(params);
      const stepTokens = seqs.reduce((a, s) => a + s.ids.length, 0);
      tokens += stepTokens;
      const dt = (performance.now() - ts) / 1000;
      seconds += dt;
      const rec: StepRecord = { step, loss, lr, gradNorm, tokens, seconds };
      history.push(rec);
      run.onStep?.(rec, { epoch: order.epochsAt(step), tokensPerSecond: stepTokens / dt, workerMs: engine.lastMs });
      const interrupted = run.signal?.aborted === true;
      const outOfTime = interrupted || (run.minutes !== undefined && (performance.now() - session0) / 60000 >= run.minutes);
      if (step % run.evalEvery === 0 || step === stopAt || outOfTime) await evaluate(step);
      if (step % run.saveEvery === 0 || step === stopAt || outOfTime) save(step);
      if (outOfTime && step < stopAt) {
        stoppedBecause = interrupted ? 'interrupted' : 'time';
        log(interrupted ? `interrupted at step ${step}; checkpoint saved` : `time budget of ${run.minutes} min reached at step ${step}; checkpoint saved`);
        return { record: record(step), stoppedBecause };
      }
    }
    if (start >= stopAt) log(`nothing to do: the checkpoint is at step ${start}, the run stops at ${stopAt}`);
    return { record: record(Math.max(start, stopAt)), stoppedBecause };
  } finally {
    await engine.close();
  }
}
