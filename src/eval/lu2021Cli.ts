/**
 * `flowlens reproduce lu2021`: influence patterns (Lu et al. 2021) on the embedded agreement model
 * (SVA, RA) and the embedded SST-2 classifier (SA), with a progress bar; writes `results/lu2021/`.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { positiveInt } from '../cli/args.js';
import { initBackend } from '../backend/index.js';
import { loadSst2 } from '../data/corpora.js';
import { defaultMarvinLinzenDir, loadMarvinLinzen } from '../data/marvinLinzen.js';
import type { Bert } from '../model/bert.js';
import type { BaselineSpecialIds } from '../methods/integratedGradients.js';
import type { InfluenceBaseline } from '../methods/influencePath.js';
import { agreementExample, LU2021_TASKS, runLu2021, sentimentExample, type Lu2021Example, type Lu2021Tokenizer } from './lu2021.js';
import { writeLu2021Outputs } from './lu2021Report.js';


/** Special ids of a tokenizer object (a `WordPieceTokenizer`). */
function specialIds(tok: Record<string, unknown>): BaselineSpecialIds & { maskId: number } {
  const id = (k: string) => (typeof tok[k] === 'number' && (tok[k] as number) >= 0 ? (tok[k] as number) : undefined);
  const maskId = id('maskId');
  if (maskId === undefined) throw new Error('lu2021: the tokenizer has no [MASK] id');
  return { clsId: id('clsId'), sepId: id('sepId'), maskId, padId: id('padId') };
}

/**
 * The examples of the chosen tasks.
 * @param limit examples per task (SVA/RA round robin over the conditions; SA the first short test sentences).
 * @throws Error naming an unknown task or a task without usable examples.
 */
export async function lu2021Examples(
  tasks: string[],
  limit: number,
  agreement: { tokenizer: Lu2021Tokenizer & { maskId: number } } | null,
  sentiment: { tokenizer: Lu2021Tokenizer } | null,
  opts: { seed?: number; dataDir?: string; maxTokens?: number } = {},
): Promise<{ agreement: Lu2021Example[]; sentiment: Lu2021Example[]; skipped: number }> {
  const out = { agreement: [] as Lu2021Example[], sentiment: [] as Lu2021Example[], skipped: 0 };
  for (const name of tasks) {
    const task = LU2021_TASKS.find((t) => t.name === name);
    if (!task) throw new Error(`lu2021: unknown task "${name}" (known: ${LU2021_TASKS.map((t) => t.name).join(', ')})`);
    if (task.kind === 'sa') {
      if (!sentiment) continue;
      const max = opts.maxTokens ?? 17;
      for (const ex of loadSst2('test')) {
        if (out.sentiment.length >= limit) break;
        const e = sentimentExample(sentiment.tokenizer, ex.text, ex.label);
        if (e.ids.length <= max && e.ids.length >= 4) out.sentiment.push(e);
      }
      continue;
    }
    if (!agreement) continue;
    const set = await loadMarvinLinzen(opts.dataDir ?? defaultMarvinLinzenDir(), { constructions: [task.construction as string], maxPerConstruction: limit * 3, seed: opts.seed ?? 0 });
    // The loader keeps file order (grouped by condition): take usable items round robin over conditions.
    const byCond = new Map<string, Lu2021Example[]>();
    for (const item of set.items) {
      const e = agreementExample(agreement.tokenizer, task, item);
      if ('skip' in e) out.skipped++;
      else {
        if (!byCond.has(e.condition)) byCond.set(e.condition, []);
        (byCond.get(e.condition) as Lu2021Example[]).push(e);
      }
    }
    const lists = [...byCond.values()];
    let n = 0;
    for (let k = 0; n < limit && lists.some((l) => k < l.length); k++) {
      for (const l of lists) {
        if (k < l.length && n < limit) {
          out.agreement.push(l[k] as Lu2021Example);
          n++;
        }
      }
    }
    if (n === 0) throw new Error(`lu2021: no usable items for task ${name}`);
  }
  return out;
}

/** The reproduction as registered in `src/cli/main.ts`. */
export const lu2021 = {
  description: 'Lu et al. 2021 (Influence Patterns for Explaining Information Flow in BERT): influence patterns on SVA, RA (embedded agreement model) and SST-2 (embedded classifier)',
  options: (cmd: Command): Command =>
    cmd
      .option('--model <name>', 'masked LM for SVA/RA (an HF folder or embedded:agreement)', 'embedded:agreement')
      .option('--sentiment-model <name>', 'classifier for SA (an HF folder or embedded:sst2)', 'embedded:sst2')
      .option('--out <dir>', 'output folder (written atomically)', 'results/lu2021')
      .option('--limit <n>', 'examples per task', positiveInt('--limit'), 40)
      .option('--tasks <list>', 'comma-separated tasks', LU2021_TASKS.map((t) => t.name).join(','))
      .option('--res <n>', 'path resolution (intervals)', positiveInt('--res'), 50)
      .addOption(new Option('--baseline <kind>', 'baseline of the path').choices(['mask', 'zero', 'pad']).default('mask'))
      .option('--seed <s>', 'seed of the item sampling', (v: string) => Number(v), 0)
      .option('--no-compare', 'skip the attention/rollout/layer-based comparison patterns')
      .option('--no-progress', 'no progress bar'),
  async run(opts: Record<string, unknown>): Promise<void> {
    const t0 = Date.now();
    await initBackend();
    const { loadModel } = await import('../model/load.js');
    const tasks = String(opts.tasks).split(',').map((s) => s.trim()).filter(Boolean);
    const limit = opts.limit as number;
    const needAgr = tasks.some((t) => t !== 'sa');
    const needSa = tasks.includes('sa');
    const agr = needAgr ? await loadModel(String(opts.model)) : null;
    const sa = needSa ? await loadModel(String(opts.sentimentModel)) : null;
    const models: Bert[] = [agr?.model, sa?.model].filter((m): m is Bert => !!m);
    try {
      if (agr && agr.model.head !== 'mlm') throw new Error(`lu2021: ${String(opts.model)} is not a masked LM`);
      if (sa && sa.model.head !== 'classifier') throw new Error(`lu2021: ${String(opts.sentimentModel)} is not a sequence classifier`);
      const agrTok = agr ? (agr.tokenizer as unknown as Lu2021Tokenizer & Record<string, unknown>) : null;
      const saTok = sa ? (sa.tokenizer as unknown as Lu2021Tokenizer & Record<string, unknown>) : null;
      const agrSpecial = agrTok ? specialIds(agrTok) : null;
      const saSpecial = saTok ? specialIds(saTok) : null;
      const ex = await lu2021Examples(
        tasks,
        limit,
        agrTok && agrSpecial ? { tokenizer: agrTok as Lu2021Tokenizer & { maskId: number } } : null,
        saTok ? { tokenizer: saTok } : null,
        { seed: opts.seed as number },
      );
      const jobs = [
        ...(agr && agrSpecial ? [{ model: agr.model, special: agrSpecial, examples: ex.agreement }] : []),
        ...(sa && saSpecial ? [{ model: sa.model, special: saSpecial, examples: ex.sentiment }] : []),
      ];
      let bar: cliProgress.SingleBar | null = null;
      const total = jobs.reduce((a, j) => a + j.examples.length, 0);
      if (opts.progress !== false) {
        bar = new cliProgress.SingleBar({ format: 'lu2021 [{bar}] {value}/{total} examples | {task} | eta {eta}s', stream: process.stderr}, cliProgress.Presets.shades_classic);
        bar.start(total, 0, { task: '' });
      }
      let out;
      try {
        out = runLu2021(jobs, { res: opts.res as number, baseline: opts.baseline as InfluenceBaseline, compare: opts.compare !== false, onProgress: (p) => {
          bar?.update(p.done, { task: p.task });
          // The run is synchronous: a non-TTY bar never gets its timer, so log a line every 10 examples.
          if (bar && !process.stderr.isTTY && p.done % 10 === 0) process.stderr.write(`lu2021: ${p.done}/${p.total} examples (${p.task}), ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        } });
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
      console.log(`lu2021: ${out.records.length} examples in ${seconds.toFixed(0)} s (${(out.records.length / out.seconds * 60).toFixed(1)} per minute); ${(100 * skips / Math.max(1, steps.length)).toFixed(0)} % of pattern steps through skip connections`);
      console.log(`wrote ${files.join(', ')}`);
    } finally {
      for (const m of models) m.dispose();
    }
  },
};
