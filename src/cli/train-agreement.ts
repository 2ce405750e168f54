/**
 * `flowlens train agreement [--seed N] [--out DIR] [--steps N] …`: reproduces the embedded agreement model
 * (`models/flowlens-agreement`) from a seed, with a progress bar, then evaluates it on Marvin & Linzen
 * (see `src/train/agreement.ts`). The defaults are the embedded model's settings
 * ({@link AGREEMENT_DEFAULTS}).
 *
 * `src/cli/main.ts` registers it with {@link registerTrainAgreement} on its `train` command.
 *
 * @module
 */
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { intAtLeast as int } from './args.js';
import cliProgress from 'cli-progress';
import { projectRoot } from '../model/load.js';
import { AGREEMENT_DEFAULTS, trainAgreementModel } from '../train/agreement.js';

const real =
  (what: string, ok: (x: number) => boolean, range: string) =>
  (v: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || !ok(x)) throw new InvalidArgumentError(`${what} must be a number ${range}, got "${v}"`);
    return x;
  };

/**
 * Adds the `agreement` sub-command to a `train` command:
 * `flowlens train agreement [--seed 1] [--out DIR] [--steps N] [--batch N] [--layers N] [--hidden N]
 * [--heads N] [--lr X] [--dropout P] [--template-share S] [--auxiliary-steps N] [--eval-items N] [--no-progress]`.
 */
export function registerTrainAgreement(train: Command): Command {
  const D = AGREEMENT_DEFAULTS;
  return train
    .command('agreement')
    .description('train the embedded agreement masked LM (templates + natural text) from a seed, then evaluate it on Marvin & Linzen')
    .option('--seed <n>', 'random seed', int('--seed', 0), D.seed)
    .option('--out <dir>', 'output folder (default models/flowlens-agreement)')
    .option('--steps <n>', 'training steps', int('--steps', 1), D.steps)
    .option('--batch <n>', 'sentences per batch', int('--batch', 1), D.batchSize)
    .option('--layers <n>', 'encoder layers', int('--layers', 1), D.layers)
    .option('--hidden <n>', 'hidden size', int('--hidden', 8), D.hidden)
    .option('--heads <n>', 'attention heads', int('--heads', 1), D.heads)
    .option(
      '--lr <x>',
      'peak learning rate',
      real('--lr', (x) => x > 0, '> 0'),
      D.lr,
    )
    .option(
      '--dropout <p>',
      'dropout probability',
      real('--dropout', (x) => x >= 0 && x < 1, 'in [0, 1)'),
      D.dropout,
    )
    .option(
      '--template-share <s>',
      'share of template sentences per batch',
      real('--template-share', (x) => x >= 0 && x <= 1, 'in [0, 1]'),
      D.templateShare,
    )
    .option('--auxiliary-steps <n>', 'steps of the first phase (closed-class targets only)', int('--auxiliary-steps', 0), D.auxiliaryPhaseSteps)
    .option('--eval-items <n>', 'Marvin & Linzen items per construction in the final evaluation (default all)', int('--eval-items', 1))
    .option('--no-progress', 'no progress bar')
    .action(async (o: Record<string, unknown>) => {
      const out = (o.out as string | undefined) ?? join(projectRoot(), 'models', 'flowlens-agreement');
      let bar: cliProgress.SingleBar | null = null;
      let last = { step: 0, payload: { loss: '-', acc: '-' } };
      if (o.progress !== false) {
        bar = new cliProgress.SingleBar(
          {
            format: 'agreement [{bar}] {value}/{total} steps | loss {loss} | held-out attractor acc {acc} | eta {eta_formatted}',
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(o.steps as number, 0, { loss: '-', acc: '-' });
      }
      try {
        const { report, trainMinutes } = await trainAgreementModel({
          out,
          seed: o.seed as number,
          steps: o.steps as number,
          batchSize: o.batch as number,
          layers: o.layers as number,
          hidden: o.hidden as number,
          heads: o.heads as number,
          lr: o.lr as number,
          dropout: o.dropout as number,
          templateShare: o.templateShare as number,
          auxiliaryPhaseSteps: o.auxiliarySteps as number,
          evalPerConstruction: o.evalItems as number | undefined,
          log: (line) => {
            // Print above the bar: stop it, print, restart it where it was.
            bar?.stop();
            console.log(line);
            bar?.start(o.steps as number, last.step, last.payload);
          },
          onProgress: (step, _total, loss, acc) => {
            last = { step, payload: { loss: loss.toFixed(3), acc: acc === null ? '-' : `${(acc * 100).toFixed(1)}%` } };
            bar?.update(step, last.payload);
          },
        });
        bar?.stop();
        bar = null;
        console.log(
          `saved ${out}: Marvin & Linzen accuracy ${(report.overall.accuracy * 100).toFixed(1)}% over ${report.overall.n} items (${trainMinutes.toFixed(1)} min of training)`,
        );
      } finally {
        bar?.stop();
      }
    });
}
