/**
 * `flowlens reproduce jiang2020`: Jiang et al. 2020 (IBA) degradation tests on the embedded classifiers
 * (see `src/eval/jiang2020.ts`), registered in the `reproductions` map of `src/cli/main.ts`.
 *
 * @module
 */
import { Option } from 'commander';
import { nonNegativeInt, positiveInt, positiveNumber as positiveNum, seed } from '../args.js';
import cliProgress from 'cli-progress';
import { initBackend } from '../../backend/index.js';
import { loadSentimentFixture, loadSst2, loadTrec, type LabeledText } from '../../data/corpora.js';
import { runJiang2020Dataset, sampleWithoutReplacement, writeJiang2020Outputs, type Jiang2020DatasetResult } from '../../eval/jiang2020.js';
import type { Reproduction } from './index.js';

/** The datasets of the reproduction: test texts, held-out texts for the IBA statistics, default model. */
export const JIANG2020_DATASETS: Record<string, { model: string; load: (seed: number, limit: number) => { test: LabeledText[]; held: LabeledText[] } }> = {
  sst2: { model: 'embedded:sst2', load: () => ({ test: loadSst2('test'), held: loadSst2('train') }) },
  trec: { model: 'embedded:trec', load: () => ({ test: loadTrec('test'), held: loadTrec('train') }) },
  imdb: {
    model: 'embedded:sst2',
    // 1000 sentences: the test sample is drawn here; the others give the statistics.
    load: (seed, limit) => {
      const all = loadSentimentFixture('imdb');
      const picked = new Set(sampleWithoutReplacement(all, limit, seed).map((s) => s.index));
      return { test: all.filter((_, i) => picked.has(i)), held: all.filter((_, i) => !picked.has(i)) };
    },
  },
};

/** `flowlens reproduce jiang2020`. */
export const jiang2020: Reproduction = {
  description:
    'Jiang et al. 2020 (Inserting Information Bottlenecks for Attribution in Transformers): degradation tests of IBA, integrated gradients, LIME and random on the embedded classifiers',
  options: (cmd) =>
    cmd
      .option('--datasets <list>', 'comma-separated: sst2, trec, imdb', 'sst2,trec,imdb')
      .option('--limit <n>', 'test examples per dataset', positiveInt('--limit'), 500)
      .option('--out <dir>', 'output folder (written atomically)', 'results/jiang2020')
      .option('--seed <s>', 'seed of the sampling, LIME, IBA noise and random scores', seed(), 0)
      .option('--sst2-model <name>', 'classifier for sst2 and imdb', 'embedded:sst2')
      .option('--trec-model <name>', 'classifier for trec', 'embedded:trec')
      .addOption(new Option('--mode <mode>', 'removed tokens are deleted (the reference) or replaced by [MASK]').choices(['delete', 'mask']).default('delete'))
      .addOption(
        new Option(
          '--statistics <kind>',
          'IBA prior: per-unit μ, σ over held-out data (theory), from the example itself at the bottleneck, or as the reference code (the example at the layer input)',
        )
          .choices(['dataset', 'single-example', 'reference'])
          .default('dataset'),
      )
      .option('--layer <l>', 'IBA layer, 0-based (default ⌊0.75·L⌋ − 1)', nonNegativeInt('--layer'))
      .option('--beta <b>', 'IBA β', positiveNum('--beta'), 1e-5)
      .option('--iba-steps <n>', 'IBA Adam steps', positiveInt('--iba-steps'), 10)
      .option('--lr <x>', 'IBA learning rate', positiveNum('--lr'), 1)
      .option('--ig-steps <n>', 'integrated-gradients steps', positiveInt('--ig-steps'), 50)
      .option('--lime-samples <n>', 'LIME samples', positiveInt('--lime-samples'), 100)
      .option('--fractions <n>', 'number of removal fractions from 0 to 1', positiveInt('--fractions'), 10)
      .option('--layer-examples <n>', 'examples per dataset in the IBA layer table', positiveInt('--layer-examples'), 20)
      .option('--no-progress', 'no progress bar'),
  async run(opts) {
    const t0 = Date.now();
    await initBackend();
    const names = String(opts.datasets)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of names) if (!JIANG2020_DATASETS[n]) throw new Error(`unknown dataset "${n}" (use ${Object.keys(JIANG2020_DATASETS).join(', ')})`);
    if (names.length === 0) throw new Error('no datasets given');
    const limit = opts.limit as number;
    const seed = opts.seed as number;
    if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${String(opts.seed)}`);
    const { loadModel } = await import('../../model/load.js');
    const modelFor = (n: string) => (n === 'trec' ? String(opts.trecModel) : String(opts.sst2Model));
    const totalOf = (n: string) => Math.min(limit, JIANG2020_DATASETS[n].load(seed, limit).test.length);
    let bar: cliProgress.SingleBar | null = null;
    const total = names.reduce((a, n) => a + totalOf(n), 0);
    if (opts.progress !== false) {
      bar = new cliProgress.SingleBar(
        { format: 'jiang2020 [{bar}] {value}/{total} examples | {dataset} | eta {eta}s', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { dataset: '' });
    }
    const results: Jiang2020DatasetResult[] = [];
    let done = 0;
    try {
      for (const n of names) {
        const { test, held } = JIANG2020_DATASETS[n].load(seed, limit);
        const loaded = await loadModel(modelFor(n));
        try {
          const before = done;
          results.push(
            runJiang2020Dataset(n, modelFor(n), loaded.model, loaded.tokenizer, test, held, {
              limit,
              seed,
              mode: opts.mode as 'delete' | 'mask',
              statistics: opts.statistics as 'dataset' | 'single-example' | 'reference',
              layer: opts.layer as number | undefined,
              beta: opts.beta as number,
              ibaSteps: opts.ibaSteps as number,
              lr: opts.lr as number,
              igSteps: opts.igSteps as number,
              limeSamples: opts.limeSamples as number,
              fractions: opts.fractions as number,
              layerExamples: opts.layerExamples as number,
              onProgress: (d) => {
                done = before + d;
                bar?.update(done, { dataset: n });
              },
            }),
          );
        } finally {
          loaded.model.dispose();
        }
      }
    } finally {
      bar?.stop();
    }
    const seconds = (Date.now() - t0) / 1000;
    const files = writeJiang2020Outputs(String(opts.out), results, { seconds });
    console.log(`jiang2020: ${results.map((r) => `${r.dataset} ${r.n}`).join(', ')} examples, ${seconds.toFixed(1)} s`);
    for (const r of results) {
      const a = (m: string) => r.curves.find((c) => c.method === m && c.direction === 'most')?.probArea.toFixed(3) ?? '–';
      console.log(
        `  ${r.dataset.padEnd(5)} most-important-first prob area: iba ${a('iba')} ig ${a('integrated_gradients')} lime ${a('lime')} random ${a('random')}`,
      );
    }
    console.log(`wrote ${files.join(', ')}`);
  },
};
