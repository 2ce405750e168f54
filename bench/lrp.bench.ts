/**
 * Mask-LRP against GAE and full LRP (Song et al. 2024 / Chefer et al. 2021a/b): milliseconds per
 * explanation of one sentence, split into the recorded forward + backward (`explainTrace`, shared by all
 * three) and the relevance pass (Mask-LRP and full LRP only), on a random BERT-base-sized classifier
 * (12 × 768, 12 heads) and on the embedded SST-2 size (2 × 128, 4 heads). Mask-LRP = one forward, one
 * backward and one relevance pass; GAE needs no relevance pass.
 *
 * Run alone: `npx tsx bench/lrp.bench.ts [--quick]`.
 */
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { makeBertConfig, type BertConfig } from '../src/io/config.js';
import { explainTrace } from '../src/methods/lrp/explainTrace.js';
import { relevancePass } from '../src/methods/lrp/relevance.js';
import { maskLrpFromTrace } from '../src/methods/maskLrp.js';
import { gaeFromTrace } from '../src/methods/gae.js';
import { fullLrpFromTrace } from '../src/methods/lrp/lrpMethods.js';

export interface LrpBenchRow {
  model: string;
  seq: number;
  traceMs: number;
  relevanceMs: number;
  maskLrpMs: number;
  gaeMs: number;
  fullLrpMs: number;
  tensorsLeaked: number;
}

function time(f: () => void, reps: number): number {
  f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

/** Run the benchmark; `quick`: BERT-base at seq 32 only, 1 repetition. */
export async function benchLrp(quick = false): Promise<LrpBenchRow[]> {
  await initBackend();
  const sizes: [string, BertConfig, number[]][] = [
    [
      'sst2-size 2×128',
      makeBertConfig({
        vocabSize: 12000,
        hiddenSize: 128,
        numHiddenLayers: 2,
        numAttentionHeads: 4,
        intermediateSize: 512,
        hiddenAct: 'gelu',
        maxPositionEmbeddings: 64,
        typeVocabSize: 2,
        layerNormEps: 1e-12,
        numLabels: 2,
      }),
      [32, 64],
    ],
    [
      'bert-base 12×768',
      makeBertConfig({
        vocabSize: 30522,
        hiddenSize: 768,
        numHiddenLayers: 12,
        numAttentionHeads: 12,
        intermediateSize: 3072,
        hiddenAct: 'gelu',
        maxPositionEmbeddings: 512,
        typeVocabSize: 2,
        layerNormEps: 1e-12,
        numLabels: 2,
      }),
      quick ? [32] : [32, 64],
    ],
  ];
  const rows: LrpBenchRow[] = [];
  for (const [name, cfg, seqs] of sizes) {
    const model = new Bert(cfg, 'classifier', BertParams.random(cfg, 'classifier', 1));
    const mask = Array.from({ length: cfg.numHiddenLayers }, (_, l) => Array.from({ length: cfg.numAttentionHeads }, (_, h) => ((l + h) % 2 ? 1 : 0)));
    for (const seq of seqs) {
      const ex = { ids: [101 % cfg.vocabSize, ...Array.from({ length: seq - 2 }, (_, i) => 1000 + i), 102 % cfg.vocabSize] };
      const reps = quick || name.startsWith('bert') ? 1 : 5;
      const et = explainTrace(model, ex);
      relevancePass(model, et); // warm-up: caches the weight transposes the relevance pass reads
      const before = tf.memory().numTensors;
      const traceMs = time(() => explainTrace(model, ex).dispose(), reps);
      const relevanceMs = time(() => relevancePass(model, et, { headMask: mask }), reps);
      const maskLrpMs = time(() => {
        const e = explainTrace(model, ex);
        maskLrpFromTrace(model, e, { headMask: mask });
        e.dispose();
      }, reps);
      const gaeMs = time(() => {
        const e = explainTrace(model, ex);
        gaeFromTrace(e);
        e.dispose();
      }, reps);
      const fullLrpMs = time(() => {
        const e = explainTrace(model, ex);
        fullLrpFromTrace(model, e);
        e.dispose();
      }, reps);
      const tensorsLeaked = tf.memory().numTensors - before;
      et.dispose();
      rows.push({ model: name, seq, traceMs, relevanceMs, maskLrpMs, gaeMs, fullLrpMs, tensorsLeaked });
    }
    model.dispose();
  }
  return rows;
}

/** Print the rows as a table. */
export function printLrpBench(rows: LrpBenchRow[]): void {
  console.table(
    rows.map((r) => ({
      model: r.model,
      seq: r.seq,
      'trace (fwd+bwd) ms': r.traceMs.toFixed(0),
      'relevance pass ms': r.relevanceMs.toFixed(0),
      'Mask-LRP ms': r.maskLrpMs.toFixed(0),
      'GAE ms': r.gaeMs.toFixed(0),
      'Mask-LRP / GAE': (r.maskLrpMs / r.gaeMs).toFixed(2),
      'full LRP ms': r.fullLrpMs.toFixed(0),
      'tensors leaked': r.tensorsLeaked,
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printLrpBench(await benchLrp(process.argv.includes('--quick')));
}
