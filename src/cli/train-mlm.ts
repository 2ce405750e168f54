/**
 * `flowlens train mlm [--resume] …`: pretrains (or continues pretraining) the project's own BERT
 * masked LM, `models/flowlens-bert` (`embedded:bert`), on the corpus that `flowlens data corpus` builds,
 * on every core, with a progress bar (loss, tokens/s, ETA); the loss curve goes to `loss.csv` and
 * `curves.html` in the model folder. See `src/train/pretrain/trainer.ts`.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { intAtLeast as int, nonNegativeInt, positiveNumber, probabilityBelowOne } from './args.js';
import { projectRoot } from '../model/load.js';
import { PRETRAIN_DEFAULTS, pretrainMlm, type PretrainSettings } from '../train/pretrain/trainer.js';

/** Parsed options of `flowlens train mlm`. */
export interface TrainMlmOptions extends Partial<PretrainSettings> {
  corpus?: string;
  out?: string;
  runDir?: string;
  workers?: number;
  microBatch?: number;
  resume?: boolean;
  newData?: boolean;
  minutes?: number;
  stopAt?: number;
  evalEvery?: number;
  evalSequences?: number;
  saveEvery?: number;
  progress?: boolean;
}

/**
 * The run's settings: the options given, else (when resuming) those of the first checkpoint found in
 * `checkpointDirs` (`trainer.json`), else {@link PRETRAIN_DEFAULTS}. So `--resume` alone continues a
 * run with the settings it was started with; an option given explicitly still wins (and the trainer
 * refuses one that changes the run's identity, e.g. the batch size).
 * @param o parsed options. @param checkpointDirs folders that may hold `trainer.json`, in order.
 * @throws Error when a `trainer.json` found cannot be read as JSON.
 */
export function pretrainSettingsFor(o: Partial<PretrainSettings>, checkpointDirs: readonly string[]): PretrainSettings {
  const file = checkpointDirs.map((d) => join(d, 'trainer.json')).find((f) => existsSync(f));
  let saved: Partial<PretrainSettings> = {};
  if (file) {
    try {
      saved = (JSON.parse(readFileSync(file, 'utf8')) as { settings?: Partial<PretrainSettings> }).settings ?? {};
    } catch (e) {
      throw new Error(`cannot read the checkpoint's settings from ${file}: ${(e as Error).message}`);
    }
  }
  const settings: PretrainSettings = { ...PRETRAIN_DEFAULTS };
  for (const k of Object.keys(PRETRAIN_DEFAULTS) as (keyof PretrainSettings)[]) {
    const v = o[k] ?? saved[k];
    if (typeof v === 'number') settings[k] = v;
  }
  return settings;
}

/**
 * Run the pretraining with the command-line options.
 * @throws Error as {@link pretrainMlm}.
 */
export async function trainMlmCommand(o: TrainMlmOptions): Promise<void> {
  const root = projectRoot();
  const out = o.out ?? join(root, 'models', 'flowlens-bert');
  const runDir = o.runDir ?? join(root, '.cache', 'pretrain', 'flowlens-bert');
  const settings = pretrainSettingsFor(o, o.resume ? [runDir, join(out, 'trainer')] : []);
  const showBar = (o.progress ?? true) && process.stderr.isTTY;
  let bar: cliProgress.SingleBar | null = null;
  const log = (line: string) => {
    if (bar) process.stderr.write('\n');
    console.log(line);
  };
  let smooth = NaN;
  let lastLine = 0;
  // Ctrl-C (or SIGTERM) once: finish the step under way, save the checkpoint, stop. Twice: quit at once.
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    log(`${sig}: stopping after this step and saving the checkpoint (again to quit without saving)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const result = await pretrainMlm(settings, {
    corpusDir: o.corpus ?? join(root, '.cache', 'corpus'),
    runDir,
    out,
    compactDir: join(out, 'trainer'),
    workers: o.workers ?? availableParallelism(),
    microBatch: o.microBatch ?? 16,
    resume: o.resume ?? false,
    newData: o.newData ?? false,
    stopAt: o.stopAt,
    minutes: o.minutes,
    signal: stop.signal,
    evalEvery: o.evalEvery ?? 250,
    evalSequences: o.evalSequences ?? 256,
    saveEvery: o.saveEvery ?? 250,
    log,
    onStep: (rec, info) => {
      smooth = Number.isNaN(smooth) ? rec.loss : 0.98 * smooth + 0.02 * rec.loss;
      const tps = Math.round(info.tokensPerSecond);
      if (showBar) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              format: 'mlm [{bar}] {value}/{total} steps | loss {loss} | {tps} tok/s | epoch {epoch} | eta {eta_formatted}',
              stream: process.stderr,
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(settings.steps, rec.step - 1, { loss: '-', tps: '-', epoch: '-' });
        }
        bar.update(rec.step, { loss: smooth.toFixed(3), tps, epoch: info.epoch.toFixed(2) });
      } else if (rec.step % 10 === 0 || Date.now() - lastLine > 60000) {
        lastLine = Date.now();
        console.log(
          `step ${rec.step}/${settings.steps} loss ${rec.loss.toFixed(3)} (mean ${smooth.toFixed(3)}) lr ${rec.lr.toExponential(2)} |g| ${rec.gradNorm.toFixed(2)} ${tps} tok/s (workers ${info.workerMs.map((m) => (m / 1000).toFixed(1)).join('/')} s) epoch ${info.epoch.toFixed(3)} tokens ${(rec.tokens / 1e6).toFixed(2)}M`,
        );
      }
    },
    onEval: (e) =>
      log(
        `eval step ${e.step}: held-out loss ${e.loss.toFixed(3)}, perplexity ${e.perplexity.toFixed(1)}, masked-token accuracy ${(100 * e.accuracy).toFixed(1)}% (${e.count} tokens)`,
      ),
  }).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  (bar as cliProgress.SingleBar | null)?.stop();
  console.log(`stopped at step ${result.record.step} (${result.stoppedBecause}); model in ${out}; resume with: npx flowlens train mlm --resume`);
}

/** Adds `mlm` to a `train` command. */
export function registerTrainMlm(train: Command): Command {
  const d = PRETRAIN_DEFAULTS;
  return train
    .command('mlm')
    .description('pretrain the flowlens BERT masked LM (models/flowlens-bert) on the corpus of `flowlens data corpus`, on every core; --resume continues')
    .option('--corpus <dir>', 'corpus folder with train.txt and heldout.txt (default .cache/corpus)')
    .option('--out <dir>', 'model folder (default models/flowlens-bert)')
    .option('--run-dir <dir>', 'exact (F32) checkpoint folder (default .cache/pretrain/flowlens-bert)')
    .option('--resume', 'continue from the checkpoint in --run-dir, else from <out>/trainer, with its settings (options given here override them)')
    .option('--new-data', "with --resume: continue on a corpus that differs from the checkpoint's (continued pretraining)")
    .option('--workers <n>', 'gradient workers, one per core (default: all cores; 0 = in the main thread)', nonNegativeInt('--workers'))
    .option('--micro-batch <n>', 'sequences per forward/backward pass in a worker (default 16)', int('--micro-batch', 1))
    .option('--minutes <x>', 'stop after this many minutes, checkpoint saved', positiveNumber('--minutes'))
    .option('--stop-at <n>', 'stop after this step (the schedule still spans --steps)', int('--stop-at', 1))
    .option('--steps <n>', `planned steps: the learning-rate schedule's length (default ${d.steps})`, int('--steps', 1))
    .option('--batch-size <n>', `sequences per step (default ${d.batchSize})`, int('--batch-size', 1))
    .option('--lr <x>', `peak learning rate (default ${d.lr})`, positiveNumber('--lr'))
    .option('--warmup <n>', `warm-up steps (default ${d.warmup})`, nonNegativeInt('--warmup'))
    .option('--weight-decay <x>', `AdamW weight decay (default ${d.weightDecay})`, probabilityBelowOne('--weight-decay'))
    .option('--clip <x>', `global gradient-norm clip (default ${d.clip})`, positiveNumber('--clip'))
    .option('--beta2 <x>', `Adam β₂ (default ${d.beta2})`, probabilityBelowOne('--beta2'))
    .option('--layers <n>', `encoder layers (default ${d.layers})`, int('--layers', 1))
    .option('--hidden <n>', `hidden size (default ${d.hidden})`, int('--hidden', 8))
    .option('--heads <n>', `attention heads (default ${d.heads})`, int('--heads', 1))
    .option('--intermediate <n>', `feed-forward size (default ${d.intermediate})`, int('--intermediate', 8))
    .option('--max-len <n>', `positions = longest sequence (default ${d.maxLen})`, int('--max-len', 8))
    .option('--mask-prob <p>', `share of tokens selected for the MLM loss (default ${d.maskProb})`, probabilityBelowOne('--mask-prob'))
    .option('--dropout <p>', `dropout while pretraining (default ${d.dropout})`, probabilityBelowOne('--dropout'))
    .option('--seed <n>', `seed (default ${d.seed})`, nonNegativeInt('--seed'))
    .option('--eval-every <n>', 'held-out evaluation every n steps (default 250)', int('--eval-every', 1))
    .option('--eval-sequences <n>', 'held-out sequences evaluated (default 256)', int('--eval-sequences', 1))
    .option('--save-every <n>', 'checkpoint every n steps (default 250)', int('--save-every', 1))
    .option('--no-progress', 'log lines instead of a progress bar')
    .action(async (o: TrainMlmOptions) => {
      await trainMlmCommand(o);
    });
}
