/**
 * `flowlens train classifier --data sst2|trec [--seed N] [--out DIR] …`: reproduces an embedded sentence
 * classifier (`models/flowlens-sst2`, `models/flowlens-trec`) from a seed, with a progress bar and a
 * final evaluation (see `src/train/classifier.ts`).
 *
 * `src/cli/main.ts` registers it with {@link registerTrainClassifier} on its `train` command.
 *
 * @module
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { intAtLeast as int, positiveNumber, probabilityBelowOne } from './args.js';
import cliProgress from 'cli-progress';
import { projectRoot } from '../model/load.js';
import { trainEmbeddedClassifier, type ClassifierDataName, type EmbeddedClassifierReport } from '../train/classifier.js';

/** Options of {@link trainClassifierCommand} (the parsed command-line options). */
export interface TrainClassifierCommandOptions {
  /** `sst2` or `trec`. */
  data: string;
  /** Seed (default 1, the embedded models' seed). */
  seed?: number;
  /** Output folder (default `models/flowlens-<data>` in the project). */
  out?: string;
  /** Maximum epochs (default: {@link EMBEDDED_SETTINGS}). */
  epochs?: number;
  /** MLM pre-training steps on in-domain text + Brown before fine-tuning (default 0). */
  pretrainSteps?: number;
  /** Text of the MLM pre-training: `train` or `train+brown` (default). */
  pretrainText?: string;
  layers?: number;
  hidden?: number;
  lr?: number;
  /** Dropout probability (default 0.1). */
  dropout?: number;
  /** Maximum vocabulary size (default 12,000). */
  maxVocab?: number;
  /** Minimum training-text count of a word with its own vocabulary entry (default: {@link EMBEDDED_SETTINGS}). */
  minCount?: number;
  /** Word-level subword dropout probability of the fine-tuning (default: {@link EMBEDDED_SETTINGS}). */
  unseenWordDropout?: number;
  /** A pretrained masked LM to fine-tune (e.g. `embedded:bert`). */
  encoder?: string;
  /** Show the progress bar (default true; on stderr). */
  progress?: boolean;
}

/**
 * The settings each embedded classifier was trained with (the defaults of the command, so that
 * `flowlens train classifier --data <name>` reproduces `models/flowlens-<name>`; see its model card).
 */
export const EMBEDDED_SETTINGS: Record<ClassifierDataName, { epochs: number; minCount: number; unseenWordDropout: number }> = {
  sst2: { epochs: 8, minCount: 2, unseenWordDropout: 0.15 },
  trec: { epochs: 10, minCount: 2, unseenWordDropout: 0 },
};

/**
 * The settings of the classifiers fine-tuned from the pretrained encoder (`--encoder embedded:bert`;
 * written to `models/flowlens-bert-<data>`): the bert-base vocabulary is fixed, so no vocabulary
 * options; a lower learning rate, as BERT fine-tuning (Devlin et al. 2019, §A.3) for a small model.
 */
export const FINE_TUNE_SETTINGS: Record<ClassifierDataName, { epochs: number; minCount: number; unseenWordDropout: number; lr: number }> = {
  sst2: { epochs: 4, minCount: 1, unseenWordDropout: 0, lr: 1e-4 },
  trec: { epochs: 6, minCount: 1, unseenWordDropout: 0, lr: 1e-4 },
};

/**
 * Train, evaluate and save one embedded classifier; prints the log and the final accuracies.
 *
 * @returns the measured report (also in `<out>/training.json` and `<out>/README.md`).
 * @throws Error when `data` is not `sst2` or `trec`, or as `trainEmbeddedClassifier`.
 */
export async function trainClassifierCommand(opts: TrainClassifierCommandOptions): Promise<EmbeddedClassifierReport> {
  const data = opts.data as ClassifierDataName;
  if (data !== 'sst2' && data !== 'trec') throw new Error(`--data must be sst2 or trec, got "${opts.data}"`);
  const out = opts.out ?? join(projectRoot(), 'models', opts.encoder ? `flowlens-bert-${data}` : `flowlens-${data}`);
  const settings = opts.encoder ? FINE_TUNE_SETTINGS[data] : { ...EMBEDDED_SETTINGS[data], lr: undefined };
  const showBar = opts.progress ?? true;
  let bar: cliProgress.SingleBar | null = null;
  let phase = '';
  const log = (line: string): void => {
    if (bar) bar.stop();
    bar = null;
    console.log(line);
  };
  const report = await trainEmbeddedClassifier({
    data,
    out,
    seed: opts.seed ?? 1,
    epochs: opts.epochs ?? settings.epochs,
    pretrainSteps: opts.pretrainSteps,
    pretrainText: opts.pretrainText as 'train' | 'train+brown' | undefined,
    layers: opts.layers,
    hidden: opts.hidden,
    lr: opts.lr ?? settings.lr,
    dropout: opts.dropout,
    maxVocab: opts.maxVocab,
    minCount: opts.minCount ?? settings.minCount,
    unseenWordDropout: opts.unseenWordDropout ?? settings.unseenWordDropout,
    encoder: opts.encoder,
    log,
    onProgress: (ph, step, total, loss) => {
      if (!showBar) return;
      if (!bar || ph !== phase) {
        bar?.stop();
        phase = ph;
        bar = new cliProgress.SingleBar(
          { format: `${data} ${ph} [{bar}] {value}/{total} steps | loss {loss} | eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { loss: '-' });
      }
      bar.update(step, { loss: loss.toFixed(3) });
    },
  });
  (bar as cliProgress.SingleBar | null)?.stop();
  console.log(`saved ${out}`);
  console.log(
    `dev accuracy ${(report.devAccuracy * 100).toFixed(2)}%, test accuracy ${(report.testAccuracy * 100).toFixed(2)}%` +
      (report.outOfDomain
        ? `; out of domain ${Object.entries(report.outOfDomain)
            .map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`)
            .join(', ')}`
        : '') +
      ` (${report.minutes.toFixed(1)} min)`,
  );
  return report;
}

/**
 * Adds the `classifier` sub-command to a `train` command:
 * `flowlens train classifier --data sst2|trec [--seed 1] [--out DIR] [--epochs N] [--pretrain-steps N] [--pretrain-text train|train+brown] [--min-count N] [--unseen-word-dropout P]
 * [--layers N] [--hidden N] [--lr X] [--no-progress]`.
 */
export function registerTrainClassifier(train: Command): Command {
  return train
    .command('classifier')
    .description('train an embedded sentence classifier (SST-2 sentiment or TREC question type) from a seed, then evaluate it')
    .requiredOption('--data <name>', 'sst2 or trec')
    .option('--seed <n>', 'random seed', int('--seed', 0), 1)
    .option('--out <dir>', 'output folder (default models/flowlens-<data>)')
    .option('--epochs <n>', 'maximum epochs (default sst2 8, trec 10)', int('--epochs', 1))
    .option('--pretrain-steps <n>', 'masked-LM pre-training steps first (default 0: none)', int('--pretrain-steps', 0), 0)
    .addOption(
      new Option('--pretrain-text <text>', 'text of the pre-training: the training sentences, or those plus the Brown corpus').choices([
        'train',
        'train+brown',
      ]),
    )
    .option('--layers <n>', 'encoder layers (default 2)', int('--layers', 1))
    .option('--hidden <n>', 'hidden size (default 128)', int('--hidden', 8))
    .option('--lr <x>', 'peak learning rate (default 5e-4)', positiveNumber('--lr'))
    .option('--dropout <p>', 'dropout probability (default 0.1)', probabilityBelowOne('--dropout'))
    .option('--max-vocab <n>', 'maximum vocabulary size (default 12000)', int('--max-vocab', 16))
    .option('--min-count <n>', 'minimum training-text count of a word with its own vocabulary entry (default 2)', int('--min-count', 1))
    .option(
      '--unseen-word-dropout <p>',
      'probability of showing a known word as its unseen pieces in fine-tuning (default sst2 0.15, trec 0)',
      probabilityBelowOne('--unseen-word-dropout'),
    )
    .option('--encoder <model>', 'fine-tune a pretrained masked LM (e.g. embedded:bert) instead of training a small encoder from scratch')
    .option('--no-progress', 'no progress bar')
    .action(async (o: TrainClassifierCommandOptions) => {
      await trainClassifierCommand(o);
    });
}
