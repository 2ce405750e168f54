/**
 * Write the pretrained encoder as a standard Hugging Face `BertForMaskedLM` folder (config.json,
 * model.safetensors, vocab.txt, tokenizer files) plus the training record a model card needs:
 * `training.json`, `loss.csv` (every step), `evals.csv` (held-out perplexity and masked-token accuracy)
 * and `README.md` (the card, regenerated from these and from `evaluation.json`, which `flowlens eval
 * mlm` writes and which is kept across saves). The plotly page of the curves (`curves.html`, 5 MB with
 * plotly inlined) goes to the run folder, not into the committed model folder.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BertConfig } from '../../io/config.js';
import { normalizeWeightNames, saveHfFolder } from '../../io/hfFolder.js';
import { readSafetensors, writeFileAtomic } from '../../io/safetensors.js';
import { isLinearWeight, type PlainTensor } from '../../model/params.js';
import { curvesFigure } from '../../viz/curvesFigure.js';
import { htmlFigurePage } from '../../viz/html.js';
import type { TrainerRecord } from './checkpoint.js';
import type { ParamLayout } from './flatParams.js';
import { pretrainCard } from './card.js';

/** Entries of the model folder that a save keeps: the evaluation (written by `flowlens eval mlm`) and the committed trainer checkpoint. */
export const KEPT_FILES = ['evaluation.json', 'trainer'];

/**
 * Parameters in PyTorch layout (Linear weights `[out, in]`) from the flat storage layout.
 * The tied decoder weight is not written (HF re-ties it from the word embeddings on load).
 */
export function plainWeights(layout: ParamLayout, params: Float32Array): Map<string, PlainTensor> {
  const out = new Map<string, PlainTensor>();
  for (const s of layout.slots) {
    const src = params.subarray(s.offset, s.offset + s.size);
    if (isLinearWeight(s.name)) {
      const [rows, cols] = s.shape as [number, number]; // stored [in, out]
      const t = new Float32Array(s.size);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = src[i * cols + j] as number;
      out.set(s.name, { shape: [cols, rows], data: t });
    } else out.set(s.name, { shape: s.shape.slice(), data: src.slice() });
  }
  return out;
}

/**
 * The weights of a model folder's `model.safetensors` in the flat storage layout (the inverse of
 * {@link plainWeights}; `bert.`-prefixed names accepted).
 * @throws Error naming the file and tensor when one is missing or mis-shaped.
 */
export function flatFromModelFolder(dir: string, layout: ParamLayout): Float32Array {
  const file = join(dir, 'model.safetensors');
  if (!existsSync(file)) throw new Error(`${file} not found (the compact checkpoint's parameters)`);
  const weights = normalizeWeightNames(readSafetensors(file), file);
  const flat = new Float32Array(layout.total);
  for (const s of layout.slots) {
    const w = weights.get(s.name);
    if (!w) throw new Error(`${file}: tensor ${s.name} missing`);
    if (isLinearWeight(s.name)) {
      const [rows, cols] = s.shape as [number, number]; // stored [in, out]; file [out, in]
      if (w.shape.join(',') !== `${cols},${rows}`) throw new Error(`${file}: ${s.name} is [${w.shape}], expected [${cols}, ${rows}]`);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) flat[s.offset + i * cols + j] = w.data[j * rows + i] as number;
    } else {
      if (w.shape.join(',') !== s.shape.join(',')) throw new Error(`${file}: ${s.name} is [${w.shape}], expected [${s.shape}]`);
      flat.set(w.data, s.offset);
    }
  }
  return flat;
}

/** What {@link exportPretrainedModel} writes. */
export interface ExportInput {
  config: BertConfig;
  layout: ParamLayout;
  params: Float32Array;
  vocab: readonly string[];
  record: TrainerRecord;
  dtype: 'F32' | 'F16';
}

/**
 * Save the model folder `dir` (replaced as a whole, atomically; {@link KEPT_FILES} carried over).
 * @throws Error naming `dir` as `saveHfFolder`.
 */
export function exportPretrainedModel(dir: string, x: ExportInput): void {
  saveHfFolder(dir, {
    config: x.config,
    weights: plainWeights(x.layout, x.params),
    vocab: x.vocab,
    dtype: x.dtype,
    tokenizerConfig: { do_lower_case: true },
    keep: KEPT_FILES,
  });
  const r = x.record;
  writeFileAtomic(
    join(dir, 'training.json'),
    JSON.stringify(
      {
        step: r.step,
        settings: r.settings,
        workers: r.workers,
        dataKey: r.dataKey,
        dataHistory: r.dataHistory,
        evals: r.evals,
        last: r.history[r.history.length - 1] ?? null,
      },
      null,
      1,
    ) + '\n',
  );
  writeFileAtomic(
    join(dir, 'loss.csv'),
    'step,loss,lr,grad_norm,tokens,seconds\n' +
      r.history.map((h) => `${h.step},${h.loss.toFixed(5)},${h.lr.toExponential(4)},${h.gradNorm.toFixed(4)},${h.tokens},${h.seconds.toFixed(1)}`).join('\n') +
      '\n',
  );
  writeFileAtomic(
    join(dir, 'evals.csv'),
    'step,tokens,loss,perplexity,accuracy,count\n' +
      r.evals.map((e) => `${e.step},${e.tokens},${e.loss.toFixed(5)},${e.perplexity.toFixed(3)},${e.accuracy.toFixed(5)},${e.count}`).join('\n') +
      '\n',
  );
  const evalPath = join(dir, 'evaluation.json');
  const evaluation = existsSync(evalPath) ? (JSON.parse(readFileSync(evalPath, 'utf8')) as Record<string, unknown>) : null;
  writeFileAtomic(join(dir, 'README.md'), pretrainCard(r, x.config, evaluation));
}

/** Running mean of `xs` over `w` values (for a readable loss curve). */
function smooth(xs: number[], w: number): number[] {
  const out: number[] = [];
  let s = 0;
  xs.forEach((x, i) => {
    s += x;
    if (i >= w) s -= xs[i - w] as number;
    out.push(s / Math.min(i + 1, w));
  });
  return out;
}

/** The training curves page: loss per step (raw and smoothed), held-out perplexity and accuracy. */
export function pretrainCurvesHtml(r: TrainerRecord): string {
  const steps = r.history.map((h) => h.step);
  const losses = r.history.map((h) => h.loss);
  const fig1 = curvesFigure(
    [
      {
        title: 'training loss (masked-token cross-entropy, nats)',
        lines: [
          { name: 'per step', x: steps, y: losses },
          { name: 'mean of 50 steps', x: steps, y: smooth(losses, 50) },
        ],
      },
    ],
    { xTitle: 'step', yTitle: 'nats' },
  );
  const es = r.evals.map((e) => e.step);
  const fig2 = curvesFigure(
    [
      { title: 'held-out perplexity (masked tokens)', lines: [{ name: 'perplexity', x: es, y: r.evals.map((e) => e.perplexity) }] },
      { title: 'held-out masked-token accuracy', lines: [{ name: 'accuracy', x: es, y: r.evals.map((e) => e.accuracy) }] },
    ],
    { xTitle: 'step' },
  );
  return htmlFigurePage({
    title: `Masked-LM pretraining: ${r.step} steps`,
    figures: [fig1, fig2],
    notes: [`${r.history[r.history.length - 1]?.tokens ?? 0} tokens seen; ${r.workers} workers.`],
  });
}
