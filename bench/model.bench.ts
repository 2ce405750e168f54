/**
 * Forward and backward time of a BERT-base-sized random model (12 layers, 768 hidden, 12 heads,
 * vocabulary 30,522) on the active backend, at sequence lengths 32 and 128; backward/forward ratio;
 * peak tensor memory (tf.profile). Backward = the input gradient of a QoI (what attribution methods
 * run): `gradientAt(model, input, 'embed.hook_word', qoi)`.
 */
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { BertParams } from '../src/model/params.js';
import { makeBertConfig } from '../src/io/config.js';
import { gradientAt } from '../src/model/run.js';
import { classLogit } from '../src/model/qoi.js';

export interface ModelBenchRow { seq: number; forwardMs: number; backwardMs: number; ratio: number; peakMB: number }

async function timeIt(f: () => void, reps: number): Promise<number> {
  f(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

/** Run the benchmark; `quick` uses a 4-layer model (for smoke tests). */
export async function benchModel(quick = false): Promise<ModelBenchRow[]> {
  await initBackend();
  const cfg = makeBertConfig({ vocabSize: 30522, hiddenSize: 768, numHiddenLayers: quick ? 2 : 12, numAttentionHeads: 12, intermediateSize: 3072, hiddenAct: 'gelu', maxPositionEmbeddings: 512, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: 2 });
  const model = new Bert(cfg, 'classifier', BertParams.random(cfg, 'classifier', 1));
  const rows: ModelBenchRow[] = [];
  for (const seq of [32, 128]) {
    const ids = [[101, ...Array.from({ length: seq - 2 }, (_, i) => 1000 + i), 102]];
    const fwd = () => { const tr = model.forward({ ids }, { record: 'none' }); tr.logits.dataSync(); tr.dispose(); };
    const bwd = () => { const g = gradientAt(model, { ids }, 'embed.hook_word', classLogit(1)); g.grad.dataSync(); g.grad.dispose(); g.value.dispose(); };
    const reps = seq === 128 ? 3 : 5;
    const forwardMs = await timeIt(fwd, reps);
    const backwardMs = await timeIt(bwd, reps);
    const prof = await tf.profile(() => { const g = gradientAt(model, { ids }, 'embed.hook_word', classLogit(1)); g.value.dispose(); return g.grad; });
    rows.push({ seq, forwardMs, backwardMs, ratio: backwardMs / forwardMs, peakMB: prof.peakBytes / 2 ** 20 });
    (prof.result as tf.Tensor).dispose();
  }
  model.dispose();
  return rows;
}
