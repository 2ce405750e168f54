/**
 * Throughput of the masked-LM pretraining trainer (`flowlens train mlm`) on one and on all cores, in one
 * run: training tokens per second with 1 and N data-parallel gradient workers on the default model
 * (6 layers × 256 × 8 heads × 1024, seq 128, bert-base-uncased vocabulary), the N-worker speed-up, and
 * the share of the machine's matrix-multiply peak (measured in the same run: the native GEMM on a
 * `[2048, 256] × [256, 1024]` product, one thread, × cores) that training reaches.
 *
 * Run alone on a quiet machine: `npm run bench -- --only pretrain` (from `dist/`: the gradient workers load
 * compiled modules, so `npx tsx bench/pretrain.bench.ts` cannot start them).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { initBackend, nativeStatus, setNativeThreads, tf } from '../src/backend/index.js';
import { BertParams } from '../src/model/params.js';
import { makeBertConfig, type BertConfig } from '../src/io/config.js';
import { paramLayout, readParams } from '../src/train/pretrain/flatParams.js';
import type { MaskedSequence } from '../src/train/pretrain/mlmGradients.js';
import { PRETRAIN_DEFAULTS } from '../src/train/pretrain/trainer.js';
import { splitEven, WorkerPool } from '../src/train/pretrain/workerPool.js';
import { projectRoot } from '../src/paths.js';

/** One row of the benchmark. */
export interface PretrainBenchRow {
  workers: number;
  tokensPerSecond: number;
  /** Model FLOP/s (forward + backward matrix products, counted analytically) in GFLOP/s. */
  gflops: number;
  /** `gflops` over (one-thread GEMM peak × workers). */
  shareOfPeak: number;
}

/** Forward+backward matrix-product FLOPs of one training sequence of `s` tokens with `k` masked. */
export function trainingFlops(c: BertConfig, s: number, k: number): number {
  const D = c.hiddenSize;
  const I = c.intermediateSize;
  const perLayer = 2 * s * (4 * D * D + 2 * D * I) + 2 * 2 * s * s * D;
  const head = 2 * k * (D * D + D * c.vocabSize);
  return 3 * (c.numHiddenLayers * perLayer + head);
}

function gemmPeak(): number {
  setNativeThreads(1);
  const a = tf.randomNormal([2048, 256]);
  const b = tf.randomNormal([256, 1024]);
  tf.matMul(a, b).dispose();
  const n = 10;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tf.matMul(a, b).dispose();
  const s = (performance.now() - t0) / 1000 / n;
  a.dispose();
  b.dispose();
  return (2 * 2048 * 256 * 1024) / s / 1e9;
}

/** Batch size of the committed pretraining run, or {@link PRETRAIN_DEFAULTS}' when there is none. */
function committedBatchSize(): number {
  const f = join(projectRoot(), 'models', 'flowlens-bert', 'training.json');
  if (!existsSync(f)) return PRETRAIN_DEFAULTS.batchSize;
  const b = (JSON.parse(readFileSync(f, 'utf8')) as { settings?: { batchSize?: number } }).settings?.batchSize;
  return Number.isInteger(b) && (b as number) > 0 ? (b as number) : PRETRAIN_DEFAULTS.batchSize;
}

/** Measure 1 and N workers (N = cores), at the committed run's batch size. @param quick fewer steps, batch 32. */
export async function benchPretrain(
  quick = false,
): Promise<{ rows: PretrainBenchRow[]; speedup: number; peakGflopsPerCore: number; kernel: string | null; batch: number; steps: number; rounds: number }> {
  await initBackend();
  const d = PRETRAIN_DEFAULTS;
  const dims: BertConfig = makeBertConfig({
    vocabSize: 30522,
    hiddenSize: d.hidden,
    numHiddenLayers: d.layers,
    numAttentionHeads: d.heads,
    intermediateSize: d.intermediate,
    hiddenAct: 'gelu',
    maxPositionEmbeddings: d.maxLen,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
  });
  const peak = gemmPeak();
  const init = BertParams.random(dims, 'mlm', 1);
  const layout = paramLayout(init);
  const flat = new Float32Array(layout.total);
  readParams(init, layout, flat);
  init.dispose();
  let r = 7;
  const rnd = () => (r = (r * 16807) % 2147483647) / 2147483647;
  // The batch of the committed run (models/flowlens-bert/training.json), else the trainer's default:
  // the per-step costs (parameter upload, gradient read-back) weigh as they do in training.
  const batch = quick ? 32 : committedBatchSize();
  const seqs: MaskedSequence[] = Array.from({ length: batch }, () => {
    const ids = [101];
    const positions: number[] = [];
    const labels: number[] = [];
    for (let i = 1; i < d.maxLen - 1; i++) {
      const t = 1000 + Math.floor(rnd() * 29000);
      if (rnd() < 0.15) {
        positions.push(i);
        labels.push(t);
        ids.push(103);
      } else ids.push(t);
    }
    ids.push(102);
    return { ids, positions, labels };
  });
  const tokens = seqs.reduce((a, s) => a + s.ids.length, 0);
  const flops = seqs.reduce((a, s) => a + trainingFlops(dims, s.ids.length, s.positions.length), 0);
  const steps = quick ? 2 : 4;
  const rounds = quick ? 1 : 3;
  const cores = availableParallelism();
  const counts = [...new Set([1, cores])];
  // Both pools stay up; the worker counts alternate, `rounds` times, and each figure is the fastest
  // round, so both see the same machine load (a shared machine's load moves within a minute).
  const pools = [] as WorkerPool[];
  const best = counts.map(() => Infinity);
  try {
    for (const workers of counts) {
      const pool = await WorkerPool.start(dims, workers, { microBatch: 16, padId: 0 });
      pools.push(pool);
      pool.setParams(flat);
      await pool.gradients(splitEven(seqs, workers)); // warm-up (first pass allocates and packs)
    }
    for (let round = 0; round < rounds; round++) {
      for (let c = 0; c < counts.length; c++) {
        const workers = counts[c] as number;
        const pool = pools[c] as WorkerPool;
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) await pool.gradients(splitEven(seqs, workers));
        best[c] = Math.min(best[c] as number, (performance.now() - t0) / 1000 / steps);
      }
    }
  } finally {
    for (const pool of pools) await pool.close();
  }
  const rows: PretrainBenchRow[] = counts.map((workers, c) => {
    const s = best[c] as number;
    const gflops = flops / s / 1e9;
    return { workers, tokensPerSecond: tokens / s, gflops, shareOfPeak: gflops / (peak * workers) };
  });
  const speedup = rows.length > 1 ? (rows[1] as PretrainBenchRow).tokensPerSecond / (rows[0] as PretrainBenchRow).tokensPerSecond : 1;
  return { rows, speedup, peakGflopsPerCore: peak, kernel: nativeStatus().kernel, batch, steps, rounds };
}

/** Print the table. */
export function printPretrainBench(b: Awaited<ReturnType<typeof benchPretrain>>): void {
  console.table(
    b.rows.map((x) => ({
      workers: x.workers,
      'tokens/s': x.tokensPerSecond.toFixed(0),
      'GFLOP/s': x.gflops.toFixed(1),
      'share of GEMM peak': `${(100 * x.shareOfPeak).toFixed(0)} %`,
    })),
  );
  console.log(
    `speed-up with ${b.rows[b.rows.length - 1]?.workers} workers: ${b.speedup.toFixed(2)}× (GEMM peak ${b.peakGflopsPerCore.toFixed(1)} GFLOP/s per core, kernel ${b.kernel ?? 'wasm'}; batch ${b.batch} × 128 tokens, ${b.steps} timed steps, fastest of ${b.rounds} alternating rounds)`,
  );
}

if (process.argv[1]?.endsWith('pretrain.bench.ts') || process.argv[1]?.endsWith('pretrain.bench.js')) {
  printPretrainBench(await benchPretrain(process.argv.includes('--quick')));
}
