/**
 * `flowlens eval mlm [--model embedded:bert]`: zero-shot evaluation of a pretrained masked LM
 * (Marvin & Linzen per construction; song2024 head statistics as a layer × head grid), written to
 * `<model folder>/evaluation.json` (shown in the model card at the next save of the model) and printed.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { intAtLeast } from './args.js';
import { loadSst2 } from '../data/corpora.js';
import { readCorpusFile } from '../data/corpus/writer.js';
import { loadModel } from '../model/load.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { evaluatePretrained } from '../eval/pretrainedEval.js';
import { mdTable, pretrainCard } from '../train/pretrain/card.js';
import type { TrainerRecord } from '../train/pretrain/checkpoint.js';

/** Sentences of 5–40 words for the head statistics. */
function headCorpus(name: string, n: number): string[] {
  const ok = (s: string) => {
    const w = s.split(/\s+/).length;
    return w >= 5 && w <= 40;
  };
  if (name === 'sst2-dev')
    return loadSst2('dev')
      .map((x) => x.text)
      .filter(ok)
      .slice(0, n);
  if (name.startsWith('heldout:'))
    return readCorpusFile(join(name.slice('heldout:'.length), 'heldout.txt'))
      .flat()
      .filter(ok)
      .slice(0, n);
  throw new InvalidArgumentError(`--head-corpus must be sst2-dev or heldout:<corpus folder>, got "${name}"`);
}

/** Registers `flowlens eval mlm` on `program`. */
export function registerEval(program: Command): void {
  const ev = program.command('eval').description('evaluate a model without task training');
  ev.command('mlm')
    .description('zero-shot Marvin & Linzen accuracy and song2024 head statistics of a masked LM; writes evaluation.json into the model folder')
    .option('--model <name>', 'embedded:bert, a folder or a hub id', 'embedded:bert')
    .option('--per-construction <n>', 'Marvin & Linzen pairs per construction', intAtLeast('--per-construction', 1), 500)
    .option('--head-sentences <n>', 'sentences for the head statistics', intAtLeast('--head-sentences', 1), 300)
    .option('--head-corpus <name>', "sst2-dev, or heldout:<corpus folder> (the pretraining corpus's held-out part)", 'sst2-dev')
    .action(async (o: { model: string; perConstruction: number; headSentences: number; headCorpus: string }) => {
      const loaded = await loadModel(o.model);
      let last = '';
      const result = await evaluatePretrained(loaded, {
        perConstruction: o.perConstruction,
        headSentences: headCorpus(o.headCorpus, o.headSentences),
        headCorpusName: o.headCorpus,
        onProgress: (phase, d, t) => {
          const line = `${phase} ${Math.floor((10 * d) / t) * 10} %`;
          if (line !== last) process.stderr.write((last = line) + '\n');
        },
      });
      const command = `npx flowlens eval mlm --model ${o.model} --per-construction ${o.perConstruction} --head-sentences ${o.headSentences} --head-corpus ${o.headCorpus}`;
      const trainingPath = join(loaded.source, 'training.json');
      const step = existsSync(trainingPath) ? (JSON.parse(readFileSync(trainingPath, 'utf8')) as { step?: number }).step : undefined;
      const out = { ...result, step, marvinLinzen: { ...result.marvinLinzen, command }, headStats: { ...result.headStats, command } };
      writeFileAtomic(join(loaded.source, 'evaluation.json'), JSON.stringify(out, null, 1) + '\n');
      console.log(
        mdTable(
          ['construction', 'accuracy', 'pairs'],
          result.marvinLinzen.rows.map((r) => [r.construction, `${(100 * r.accuracy).toFixed(1)} %`, r.n]),
        ),
      );
      console.log(`overall ${(100 * result.marvinLinzen.overall).toFixed(1)} %\n`);
      console.log(
        `heads (song2024 thresholds): ${result.headStats.positional} positional, ${result.headStats.syntactic} syntactic, ${result.headStats.either} either, of ${result.headStats.total}`,
      );
      console.log(result.headStats.grid);
      // Refresh the card of a flowlens-pretrained folder with the new evaluation.
      const recPath = join(loaded.source, 'trainer', 'trainer.json');
      if (existsSync(recPath)) {
        const rec = JSON.parse(readFileSync(recPath, 'utf8')) as TrainerRecord;
        writeFileAtomic(join(loaded.source, 'README.md'), pretrainCard(rec, loaded.config, out as unknown as Record<string, unknown>));
      }
      console.log(`wrote ${join(loaded.source, 'evaluation.json')}`);
    });
}
