/**
 * `flowlens reproduce song2024`: Mask-LRP (Song et al. 2024) against eight baselines on SST-2 with the
 * embedded SST-2 classifier (or any BERT classifier folder), with progress bars; writes
 * `results/song2024/` (see `src/eval/song2024Writer.ts`).
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { positiveInt, nonNegativeInt as nonNegInt, openUnitInterval as unitInterval, seed } from '../args.js';
import { initBackend } from '../../backend/index.js';
import { loadSst2 } from '../../data/corpora.js';
import { defaultParseCache } from '../../data/linkGrammar.js';
import { runSong2024 } from '../../eval/song2024.js';
import { writeSong2024Outputs } from '../../eval/song2024Writer.js';
import type { Reproduction } from './index.js';

/** The reproduction entry of `src/cli/main.ts`'s `reproductions` map (same shape as its `Reproduction`). */
export const song2024: Reproduction = {
  description:
    'Song et al. 2024 (Better Explain Transformers by Illuminating Important Information): Mask-LRP vs 8 baselines, AOPC/LOdds on SST-2, head statistics, masks, ablations',
  options: (cmd: Command): Command =>
    cmd
      .option('--model <name>', 'a BERT sequence classifier: embedded:sst2 or an HF folder', 'embedded:sst2')
      .option('--out <dir>', 'output folder (written atomically)', 'results/song2024')
      .option('--limit <n>', 'SST-2 test sentences explained (0 = all 1,821)', nonNegInt('--limit'), 600)
      .option('--stats-sentences <n>', 'SST-2 dev sentences parsed for the head statistics', positiveInt('--stats-sentences'), 300)
      .option('--min-tokens <n>', "the paper's length filter for the second report ([CLS]/[SEP] included)", positiveInt('--min-tokens'), 20)
      .option('--quantile <q>', 'quantile of the model-relative thresholds (the q75 masks)', unitInterval('--quantile'), 0.75)
      .option('--seed <s>', 'seed of the random masks', seed(), 0)
      .option('--parse-cache <file>', 'link-grammar parse cache (JSON lines)', defaultParseCache())
      .option('--no-progress', 'no progress bar'),
  async run(opts: Record<string, unknown>): Promise<void> {
    const t0 = Date.now();
    await initBackend();
    const { loadModel } = await import('../../model/load.js');
    const name = String(opts.model);
    const loaded = await loadModel(name);
    try {
      const limit = opts.limit as number;
      const test = loadSst2('test');
      const examples = (limit > 0 ? test.slice(0, limit) : test).map((x) => ({ label: x.label, text: x.text }));
      const statsCorpus = loadSst2('dev')
        .slice(0, opts.statsSentences as number)
        .map((x) => x.text);
      let bar: cliProgress.SingleBar | null = null;
      let phase = '';
      let lastRender = 0;
      const res = runSong2024(loaded.model, loaded.tokenizer, {
        statsCorpus,
        examples,
        minTokens: opts.minTokens as number,
        quantile: opts.quantile as number,
        seed: opts.seed as number,
        parser: { cacheFile: String(opts.parseCache) },
        onProgress: (p, done, total) => {
          if (opts.progress === false) return;
          if (p !== phase) {
            bar?.stop();
            phase = p;
            bar = new cliProgress.SingleBar(
              {
                format: `song2024 ${p === 'stats' ? 'head statistics' : 'explanations'} [{bar}] {value}/{total} | eta {eta}s`,
                stream: process.stderr,
                noTTYOutput: true,
                notTTYSchedule: 15000,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(total, 0);
          }
          bar?.update(done);
          // The run is synchronous, so cli-progress's render timer never fires: render here, at most every 2 s (TTY) or 15 s (log file).
          const now = Date.now();
          if (now - lastRender > (process.stderr.isTTY ? 2000 : 15000)) {
            lastRender = now;
            (bar as unknown as { render?: () => void } | null)?.render?.();
          }
          if (done === total) bar?.stop();
        },
      });
      const c = loaded.model.config;
      const files = writeSong2024Outputs(String(opts.out), res, {
        model: `${name} (BERT ${c.numHiddenLayers} layers × ${c.numAttentionHeads} heads, hidden ${c.hiddenSize})`,
        command: `flowlens reproduce song2024 --model ${name} --limit ${limit} --stats-sentences ${opts.statsSentences as number} --min-tokens ${opts.minTokens as number} --quantile ${opts.quantile as number} --seed ${opts.seed as number}`,
        seconds: (Date.now() - t0) / 1000,
        data: `SST-2 test, first ${examples.length} sentences; head statistics on the first ${statsCorpus.length} SST-2 dev sentences`,
        warnings:
          c.numHiddenLayers * c.numAttentionHeads <= 16 ? [`this model has only ${c.numHiddenLayers * c.numAttentionHeads} heads: head masks are coarse.`] : [],
      });
      console.log(`song2024: wrote ${files.length} files to ${String(opts.out)}`);
      const mask = res.rows.find((r) => r.subset === 'all' && r.method === 'mask_lrp');
      if (mask) console.log(`mask_lrp: AOPC ${mask.aopc.toFixed(4)}, LOdds ${mask.lodds.toFixed(4)} (${mask.n} examples)`);
    } finally {
      loaded.model.dispose();
    }
  },
};
