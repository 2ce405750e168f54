/**
 * `flowlens reproduce lu2021`: influence patterns (Lu et al. 2021) on the embedded agreement model
 * (SVA, RA) and the embedded SST-2 classifier (SA), with a progress bar; writes `results/lu2021/`.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { positiveInt, seed } from '../args.js';
import { initBackend } from '../../backend/index.js';
import type { Bert } from '../../model/bert.js';
import { loadModel } from '../../model/load.js';
import type { InfluenceBaseline } from '../../methods/influencePath.js';
import { LU2021_TASKS, lu2021Examples, runLu2021 } from '../../eval/lu2021.js';
import { writeLu2021Outputs } from '../../eval/lu2021Report.js';
import type { Reproduction } from './index.js';

/** The reproduction as registered in {@link reproductions}. */
export const lu2021: Reproduction = {
  description:
    'Lu et al. 2021 (Influence Patterns for Explaining Information Flow in BERT): influence patterns on SVA, RA (embedded agreement model) and SST-2 (embedded classifier)',
  options: (cmd: Command): Command =>
    cmd
      .option('--model <name>', 'masked LM for SVA/RA (an HF folder or embedded:agreement)', 'embedded:agreement')
      .option('--sentiment-model <name>', 'classifier for SA (an HF folder or embedded:sst2)', 'embedded:sst2')
      .option('--out <dir>', 'output folder (written atomically)', 'results/lu2021')
      .option('--limit <n>', 'examples per task', positiveInt('--limit'), 40)
      .option('--tasks <list>', 'comma-separated tasks', LU2021_TASKS.map((t) => t.name).join(','))
      .option('--res <n>', 'path resolution (intervals)', positiveInt('--res'), 50)
      .addOption(new Option('--baseline <kind>', 'baseline of the path').choices(['mask', 'zero', 'pad']).default('mask'))
      .option('--seed <s>', 'seed of the item sampling', seed(), 0)
      .option('--no-compare', 'skip the attention/rollout/layer-based comparison patterns')
      .option('--no-progress', 'no progress bar'),
  async run(opts: Record<string, unknown>): Promise<void> {
    const t0 = Date.now();
    await initBackend();
    const tasks = String(opts.tasks)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const limit = opts.limit as number;
    const needAgr = tasks.some((t) => t !== 'sa');
    const needSa = tasks.includes('sa');
    const agr = needAgr ? await loadModel(String(opts.model)) : null;
    const sa = needSa ? await loadModel(String(opts.sentimentModel)) : null;
    const models: Bert[] = [agr?.model, sa?.model].filter((m): m is Bert => !!m);
    try {
      if (agr && agr.model.head !== 'mlm') throw new Error(`lu2021: ${String(opts.model)} is not a masked LM`);
      if (sa && sa.model.head !== 'classifier') throw new Error(`lu2021: ${String(opts.sentimentModel)} is not a sequence classifier`);
      if (agr && agr.tokenizer.maskId < 0) throw new Error(`lu2021: the vocabulary of ${String(opts.model)} has no [MASK] token`);
      const ex = await lu2021Examples(tasks, limit, agr, sa, { seed: opts.seed as number });
      const jobs = [
        ...(agr ? [{ model: agr.model, special: agr.tokenizer, examples: ex.agreement }] : []),
        ...(sa ? [{ model: sa.model, special: sa.tokenizer, examples: ex.sentiment }] : []),
      ];
      let bar: cliProgress.SingleBar | null = null;
      const total = jobs.reduce((a, j) => a + j.examples.length, 0);
      if (opts.progress !== false) {
        bar = new cliProgress.SingleBar(
          { format: 'lu2021 [{bar}] {value}/{total} examples | {task} | eta {eta}s', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { task: '' });
      }
      let out;
      try {
        out = runLu2021(jobs, {
          res: opts.res as number,
          baseline: opts.baseline as InfluenceBaseline,
          compare: opts.compare !== false,
          onProgress: (p) => {
            bar?.update(p.done, { task: p.task });
            // The run is synchronous: a non-TTY bar never gets its timer, so log a line every 10 examples.
            if (bar && !process.stderr.isTTY && p.done % 10 === 0)
              process.stderr.write(`lu2021: ${p.done}/${p.total} examples (${p.task}), ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
          },
        });
      } finally {
        bar?.stop();
      }
      const seconds = (Date.now() - t0) / 1000;
      const files = writeLu2021Outputs(String(opts.out), out.records, {
        agreementModel: agr ? String(opts.model) : undefined,
        sentimentModel: sa ? String(opts.sentimentModel) : undefined,
        res: opts.res as number,
        baseline: String(opts.baseline),
        limit,
        seconds: out.seconds,
        warnings: ex.skipped ? [`${ex.skipped} items skipped (a candidate word is not one wordpiece, or no "the <subject>" start).`] : [],
      });
      const steps = out.records.flatMap((r) => r.pattern.steps);
      const skips = steps.filter((s) => s.kind === 'skip').length;
      console.log(
        `lu2021: ${out.records.length} examples in ${seconds.toFixed(0)} s (${((out.records.length / out.seconds) * 60).toFixed(1)} per minute); ${((100 * skips) / Math.max(1, steps.length)).toFixed(0)} % of pattern steps through skip connections`,
      );
      console.log(`wrote ${files.join(', ')}`);
    } finally {
      for (const m of models) m.dispose();
    }
  },
};
