/**
 * `flowlens train abnar-classifier [--seed 1] [--out DIR] …`: reproduces the embedded verb-number
 * classifier of Abnar & Zuidema (2020)'s setup (`models/flowlens-abnar`, `embedded:abnar`) from a seed,
 * with a progress bar and the final evaluation by number of attractors (see
 * `src/train/abnarClassifier.ts`).
 *
 * `src/cli/train.ts` registers it with {@link registerTrainAbnar} on its `train` command.
 *
 * @module
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { intAtLeast as int, positiveNumber, probabilityBelowOne } from './args.js';
import { projectRoot } from '../model/load.js';
import { trainAbnarClassifier, type AbnarClassifierOptions, type AbnarClassifierReport } from '../train/abnarClassifier.js';

/** The parsed options of `flowlens train abnar-classifier`. */
export type TrainAbnarCommandOptions = Omit<AbnarClassifierOptions, 'out' | 'onProgress' | 'log'> & { out?: string; progress?: boolean };

/**
 * Train, evaluate and save the classifier; prints the log and the final accuracies.
 * @returns the measured report (also `<out>/training.json`, `<out>/README.md`).
 * @throws Error as `trainAbnarClassifier`.
 */
export async function trainAbnarCommand(opts: TrainAbnarCommandOptions): Promise<AbnarClassifierReport> {
  const out = opts.out ?? join(projectRoot(), 'models', 'flowlens-abnar');
  let bar: cliProgress.SingleBar | null = null;
  const log = (line: string): void => {
    bar?.stop();
    bar = null;
    console.log(line);
  };
  const { progress, out: _out, ...rest } = opts;
  const report = await trainAbnarClassifier({
    ...rest,
    out,
    log,
    onProgress: (step, total, loss) => {
      if (progress === false) return;
      if (!process.stderr.isTTY) {
        // No bar without a terminal: a line every 5 % of the steps.
        if (step % Math.max(1, Math.round(total / 20)) === 0) console.error(`abnar-classifier step ${step}/${total}, loss ${loss.toFixed(3)}`);
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: 'abnar-classifier [{bar}] {value}/{total} steps | loss {loss} | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, step - 1, { loss: '-' });
      }
      bar.update(step, { loss: loss.toFixed(3) });
    },
  });
  (bar as cliProgress.SingleBar | null)?.stop();
  console.log(`saved ${out}`);
  console.log(
    `test accuracy ${(report.test.overall.accuracy * 100).toFixed(2)}% of ${report.test.overall.n} held-out Brown examples (${report.minutes.toFixed(1)} min)`,
  );
  return report;
}

/**
 * Adds `abnar-classifier` to a `train` command: `flowlens train abnar-classifier [--seed 1] [--out DIR]
 * [--epochs N] [--hidden N] [--layers N] [--heads N] [--lr X] [--dropout P] [--templated N] [--unk-dropout P]
 * [--max-vocab N] [--min-count N] [--no-progress]`.
 */
export function registerTrainAbnar(train: Command): Command {
  return train
    .command('abnar-classifier')
    .description(
      "train the verb-number classifier of Abnar & Zuidema (2020)'s setup (6 layers, 8 heads, reads [CLS]) on Brown + templated sentences cut before the verb, then evaluate it by number of attractors",
    )
    .option('--seed <n>', 'random seed', int('--seed', 0), 1)
    .option('--out <dir>', 'output folder (default models/flowlens-abnar)')
    .option('--epochs <n>', 'maximum epochs (default 1)', int('--epochs', 1))
    .option('--hidden <n>', 'hidden size (default 64)', int('--hidden', 8))
    .option('--layers <n>', 'encoder layers (default 6)', int('--layers', 1))
    .option('--heads <n>', 'attention heads (default 8)', int('--heads', 1))
    .option('--lr <x>', 'peak learning rate (default 5e-4)', positiveNumber('--lr'))
    .option('--dropout <p>', 'dropout probability (default 0.1)', probabilityBelowOne('--dropout'))
    .option('--templated <n>', 'templated training examples (default 5000)', int('--templated', 0))
    .option('--unk-dropout <p>', 'probability of replacing a training token by [UNK] (default 0.05)', probabilityBelowOne('--unk-dropout'))
    .option('--max-vocab <n>', 'maximum vocabulary size (default 8000)', int('--max-vocab', 200))
    .option('--min-count <n>', 'minimum training-text count of a word with its own entry (default 2)', int('--min-count', 1))
    .option('--no-progress', 'no progress bar')
    .action(async (o: TrainAbnarCommandOptions) => {
      await trainAbnarCommand(o);
    });
}
