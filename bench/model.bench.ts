/**
 * flowlens against PyTorch on a BERT-base-sized random classifier (12 layers, 768 hidden, 12 heads,
 * vocabulary 30,522), the same weights read by both from the same `model.safetensors`
 * (`bench/out/bert-base-random/`, written on first use): forward, backward (the input gradient of a
 * class logit: `gradientAt(model, input, 'embed.hook_word', classLogit(1))`, what attribution methods
 * run) and integrated gradients (50 steps, `[PAD]` baseline, `igBatch` path points a pass) at sequence
 * lengths 32 and 128, with the ratios PyTorch time / flowlens time (> 1: flowlens is faster).
 *
 * The PyTorch side (`bench/torch_bert.py`) needs python3 with torch (Debian: `python3-torch`, and
 * `libopenblas0-pthread` for a fast BLAS); without it the column is skipped with a message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, nativeStatus, tf } from '../src/backend/index.js';
import { makeBertConfig } from '../src/io/config.js';
import { Bert } from '../src/model/bert.js';
import { loadModel, saveModel } from '../src/model/load.js';
import { BertParams } from '../src/model/params.js';
import { gradientAt } from '../src/model/run.js';
import { classLogit } from '../src/model/qoi.js';
import { integratedGradients } from '../src/methods/integratedGradients.js';

/** One sequence length: flowlens and (when available) PyTorch times in ms. */
export interface ModelBenchRow {
  seq: number;
  forwardMs: number;
  backwardMs: number;
  /** backward / forward (flowlens). */
  ratio: number;
  igMs: number;
  igBatch: number;
  peakMB: number;
  torch: { forwardMs: number; backwardMs: number; igMs: number; igBatch: number } | null;
  /** Largest |logit difference| between flowlens and PyTorch on this input (same weights). */
  logitsMaxDiff: number | null;
}

/** The whole comparison: rows, the backends used, and why PyTorch is missing (if it is). */
export interface ModelBench {
  layers: number;
  threads: number;
  native: string;
  torch: { version: string; threads: number; blas: string } | null;
  torchSkipped: string | null;
  rows: ModelBenchRow[];
}

const here = dirname(fileURLToPath(import.meta.url));
const root = existsSync(join(here, '..', 'package.json')) ? join(here, '..') : join(here, '..', '..');

/** Fastest of `reps` runs (after a warm-up unless `warm`), in ms: the least disturbed by other load. */
function timeIt(f: () => void, reps: number, warm = true): number {
  if (warm) f();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** A vocabulary for the random checkpoint: the special tokens and placeholders up to 30,522. */
function vocab(n: number): string[] {
  const v = ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  while (v.length < n) v.push(`tok${v.length}`);
  return v;
}

/** Write (once) and return the folder of the random BERT-base-sized classifier with `layers` layers. */
export function benchCheckpoint(layers: number): string {
  const dir = join(root, 'bench', 'out', `bert-base-random-${layers}l`);
  if (existsSync(join(dir, 'model.safetensors')) && existsSync(join(dir, 'config.json'))) return dir;
  const config = makeBertConfig({
    vocabSize: 30522,
    hiddenSize: 768,
    numHiddenLayers: layers,
    numAttentionHeads: 12,
    intermediateSize: 3072,
    hiddenAct: 'gelu',
    maxPositionEmbeddings: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    numLabels: 2,
  });
  const model = new Bert(config, 'classifier', BertParams.random(config, 'classifier', 1));
  saveModel(dir, model, config, vocab(30522));
  model.dispose();
  return dir;
}

/** Find a python3 that imports torch; null (with the reason) when none does. */
function findTorch(): { python: string } | { reason: string } {
  for (const python of [process.env.FLOWLENS_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return { python };
  }
  return { reason: 'no python3 with torch and numpy found (Debian: apt-get install python3-torch libopenblas0-pthread); PyTorch column skipped' };
}

function runTorch(
  python: string,
  dir: string,
  seqs: number[],
  batches: number[],
  reps: number,
  threads: number,
): { json: TorchOut | null; error: string | null } {
  const r = spawnSync(
    python,
    [
      join(root, 'bench', 'torch_bert.py'),
      dir,
      '--seqs',
      seqs.join(','),
      '--ig-batch',
      batches.join(','),
      '--reps',
      String(reps),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) return { json: null, error: `PyTorch benchmark failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ')}` };
  return { json: JSON.parse(r.stdout.trim().split('\n').pop() as string) as TorchOut, error: null };
}

interface TorchOut {
  torch: string;
  threads: number;
  blas: string;
  rows: { seq: number; forwardMs: number; backwardMs: number; igMs: number; igBatch: number; logits: number[] }[];
}

/**
 * Run the comparison. flowlens and PyTorch alternate per sequence length (`rounds` times each; every
 * figure is the fastest run; `--rounds n` on the command line), so both see the same machine load. `quick`: a 2-layer model, one round
 * (a smoke test of the bench itself; its ratios are indicative only).
 */
export async function benchModel(quick = false, roundsWanted?: number): Promise<ModelBench> {
  await initBackend();
  const layers = quick ? 2 : 12;
  const seqs = [32, 128];
  const igBatch = 10;
  const reps = quick ? 1 : 3;
  const rounds = roundsWanted ?? (quick ? 1 : 2);
  const dir = benchCheckpoint(layers);
  const { model } = await loadModel(dir);
  const threads = nativeStatus().active ? nativeStatus().threads : 1;
  const found = findTorch();
  let torch: ModelBench['torch'] = null;
  let torchSkipped: string | null = 'python' in found ? null : found.reason;
  const rows: ModelBenchRow[] = [];
  for (const seq of seqs) {
    const ids = [101, ...Array.from({ length: seq - 2 }, (_, j) => 1000 + j), 102];
    const fwd = () => {
      const tr = model.forward({ ids: [ids] }, { record: 'none' });
      tr.logits.dataSync();
      tr.dispose();
    };
    const bwd = () => {
      const g = gradientAt(model, { ids: [ids] }, 'embed.hook_word', classLogit(1));
      g.grad.dataSync();
      g.grad.dispose();
      g.value.dispose();
    };
    const ig = () => {
      integratedGradients(model, { ids }, classLogit(1), { steps: 50, batchSize: igBatch, specialIds: { padId: 0, clsId: 101, sepId: 102 } });
    };
    const row: ModelBenchRow = {
      seq,
      forwardMs: Infinity,
      backwardMs: Infinity,
      ratio: 0,
      igMs: Infinity,
      igBatch,
      peakMB: 0,
      torch: null,
      logitsMaxDiff: null,
    };
    for (let r = 0; r < rounds; r++) {
      row.forwardMs = Math.min(row.forwardMs, timeIt(fwd, reps));
      row.backwardMs = Math.min(row.backwardMs, timeIt(bwd, reps));
      row.igMs = Math.min(row.igMs, timeIt(ig, 1, r === 0));
      if ('python' in found && !torchSkipped) {
        const { json, error } = runTorch(found.python, dir, [seq], [igBatch], reps, availableParallelism());
        if (!json) {
          torchSkipped = error;
          continue;
        }
        torch = { version: json.torch, threads: json.threads, blas: json.blas };
        const t = json.rows[0];
        row.torch = row.torch
          ? {
              forwardMs: Math.min(row.torch.forwardMs, t.forwardMs),
              backwardMs: Math.min(row.torch.backwardMs, t.backwardMs),
              igMs: Math.min(row.torch.igMs, t.igMs),
              igBatch,
            }
          : { forwardMs: t.forwardMs, backwardMs: t.backwardMs, igMs: t.igMs, igBatch };
        const tr = model.forward({ ids: [ids] }, { record: 'none' });
        const ours = Array.from(tr.logits.dataSync());
        tr.dispose();
        row.logitsMaxDiff = Math.max(...t.logits.map((v, j) => Math.abs(v - ours[j])));
      }
    }
    row.ratio = row.backwardMs / row.forwardMs;
    const prof = await tf.profile(() => {
      const g = gradientAt(model, { ids: [ids] }, 'embed.hook_word', classLogit(1));
      g.value.dispose();
      return g.grad;
    });
    (prof.result as tf.Tensor).dispose();
    row.peakMB = prof.peakBytes / 2 ** 20;
    rows.push(row);
  }
  model.dispose();
  const native = nativeStatus();
  return {
    layers,
    threads,
    native: native.active ? `native ${native.kernel}, ${native.threads} threads` : `wasm (${native.reason})`,
    torch,
    torchSkipped,
    rows,
  };
}

/** The one table: flowlens and PyTorch side by side, ratios = PyTorch ms / flowlens ms (> 1: flowlens faster). */
export function printModelBench(b: ModelBench): void {
  const f = (x: number) => x.toFixed(0);
  const ratio = (t: number | undefined, ours: number) => (t === undefined ? '—' : (t / ours).toFixed(2));
  const table: Record<string, string>[] = [];
  for (const r of b.rows) {
    for (const [what, ours, theirs] of [
      ['forward', r.forwardMs, r.torch?.forwardMs],
      ['backward (input gradient)', r.backwardMs, r.torch?.backwardMs],
      [`integrated gradients, 50 steps (batch ${r.igBatch})`, r.igMs, r.torch?.igMs],
    ] as [string, number, number | undefined][]) {
      table.push({
        seq: String(r.seq),
        measurement: what,
        'flowlens ms': f(ours),
        'PyTorch ms': theirs === undefined ? '—' : f(theirs),
        'PyTorch / flowlens': ratio(theirs, ours),
      });
    }
    table.push({
      seq: String(r.seq),
      measurement: 'flowlens backward / forward',
      'flowlens ms': r.ratio.toFixed(2),
      'PyTorch ms': r.torch ? (r.torch.backwardMs / r.torch.forwardMs).toFixed(2) : '—',
      'PyTorch / flowlens': '',
    });
  }
  console.log(
    `BERT-base-sized random classifier, ${b.layers} layers × 768 hidden × 12 heads; flowlens: ${b.native}; ` +
      (b.torch ? `PyTorch ${b.torch.version}, ${b.torch.threads} threads, BLAS ${b.torch.blas}` : `PyTorch: skipped (${b.torchSkipped})`),
  );
  console.table(table);
  console.log(
    `times: fastest of ${b.rows.length ? 'several' : 0} runs, flowlens and PyTorch alternating per sequence length; load average now ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${availableParallelism()} cores`,
  );
  const diffs = b.rows.map((r) => r.logitsMaxDiff).filter((d): d is number => d !== null);
  if (diffs.length) console.log(`same weights, same logits: largest |flowlens − PyTorch| logit difference ${Math.max(...diffs).toExponential(1)}`);
}
