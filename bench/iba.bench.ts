/**
 * Time per example of IBA (Jiang et al. 2020 defaults: 10 Adam steps, 10 noise samples), integrated
 * gradients (50 steps, one batch) and LIME (100 samples) on the embedded SST-2 classifier
 * (`embedded:sst2`, 2 layers × 128), over SST-2 test sentences. Goal (issue 5): IBA for one sentence
 * well under a second. Run alone: `npx tsx bench/iba.bench.ts [--n 20]`.
 */
import { initBackend } from '../src/backend/index.js';
import { loadModel } from '../src/model/load.js';
import { classProb } from '../src/model/qoi.js';
import { loadSst2 } from '../src/data/corpora.js';
import { iba } from '../src/methods/iba.js';
import { estimateFeatureStats } from '../src/methods/featureStats.js';
import { integratedGradients } from '../src/methods/integratedGradients.js';
import { lime } from '../src/methods/lime.js';

export interface IbaBenchRow {
  method: string;
  meanMs: number;
  medianMs: number;
  maxMs: number;
  n: number;
  meanTokens: number;
}

/** Runs the benchmark on `n` test sentences (after one warm-up call per method). */
export async function benchIba(n = 20): Promise<IbaBenchRow[]> {
  await initBackend();
  const { model, tokenizer } = await loadModel('embedded:sst2');
  const enc = (t: string) => {
    const e = tokenizer.encode(t, { maxLength: model.config.maxPositionEmbeddings });
    return { ids: e.ids, tokens: e.tokens };
  };
  const test = loadSst2('test')
    .slice(0, n)
    .map((x) => ({ ex: enc(x.text), label: x.label }));
  const node = 'blocks.0.hook_resid_post';
  const stats = estimateFeatureStats(
    model,
    loadSst2('train')
      .slice(0, 500)
      .map((x) => enc(x.text)),
    [node],
  );
  const methods: Record<string, (ex: { ids: number[] }, label: number) => unknown> = {
    iba: (ex, label) => iba(model, ex, { stats, layer: 0, target: label }),
    integrated_gradients: (ex, label) => integratedGradients(model, ex, classProb(label), { specialIds: tokenizer, steps: 50 }),
    lime: (ex, label) => lime(model, ex, { specialIds: tokenizer, target: label, samples: 100 }),
  };
  const rows: IbaBenchRow[] = [];
  for (const [name, f] of Object.entries(methods)) {
    f(test[0].ex, test[0].label);
    const ms = test.map(({ ex, label }) => {
      const t0 = performance.now();
      f(ex, label);
      return performance.now() - t0;
    });
    const sorted = ms.slice().sort((a, b) => a - b);
    rows.push({
      method: name,
      n: ms.length,
      meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
      medianMs: sorted[Math.floor(sorted.length / 2)] as number,
      maxMs: sorted[sorted.length - 1] as number,
      meanTokens: test.reduce((a, t) => a + t.ex.ids.length, 0) / test.length,
    });
  }
  model.dispose();
  return rows;
}

const invokedDirectly = process.argv[1]?.endsWith('iba.bench.ts') || process.argv[1]?.endsWith('iba.bench.js');
if (invokedDirectly) {
  const k = process.argv.indexOf('--n');
  const rows = await benchIba(k > 0 ? Number(process.argv[k + 1]) : 20);
  console.table(
    rows.map((r) => ({
      method: r.method,
      'mean ms': r.meanMs.toFixed(0),
      'median ms': r.medianMs.toFixed(0),
      'max ms': r.maxMs.toFixed(0),
      n: r.n,
      'mean tokens': r.meanTokens.toFixed(1),
    })),
  );
}
