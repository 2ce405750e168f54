/**
 * `flowlens data <what>`: builds data sets from installed packages. Sub-command `corpus`: the
 * natural-English pretraining corpus (`src/data/corpus/build.ts`).
 *
 * @module
 */
import { InvalidArgumentError, type Command } from 'commander';
import { integer } from './args.js';
import { buildCorpus } from '../data/corpus/build.js';
import { sourceNames } from '../data/corpus/sources/index.js';
import { tokenizeCorpusFolder } from '../data/corpus/tokenizeStep.js';

const fraction = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`--heldout must be a number in [0, 1), got "${v}"`);
  return n;
};

/** Registers `flowlens data corpus` on `program`. */
export function registerData(program: Command): void {
  const data = program.command('data').description('build data sets from installed packages');
  data
    .command('corpus')
    .description('build the natural-English pretraining corpus (train.txt, heldout.txt, sources.json, CARD.md, token-id cache)')
    .option('--out <dir>', 'output folder (written atomically)', '.cache/corpus')
    .option('--sources <list>', `comma-separated sources (default: all): ${sourceNames().join(', ')}`)
    .option('--heldout <fraction>', 'share of documents held out for perplexity', fraction, 0.01)
    .option('--seed <s>', 'seed of the held-out split', integer('--seed'), 1)
    .option('--no-tokenize', 'skip the bert-base-uncased token-id cache and vocabulary measurements')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { out: string; sources?: string; heldout: number; seed: number; tokenize: boolean; progress: boolean }) => {
      const command = ['flowlens data corpus', ...process.argv.slice(4)].join(' ');
      const res = await buildCorpus({
        out: opts.out,
        sources: opts.sources
          ? opts.sources
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined,
        heldout: opts.heldout,
        seed: opts.seed,
        progress: opts.progress,
        log: (l) => console.log(l),
        command,
        afterWrite: opts.tokenize ? (tmp) => tokenizeCorpusFolder(tmp, opts.progress) : undefined,
      });
      const w = res.sources.reduce((a, s) => a + s.words, 0);
      const f = (n: number) => n.toLocaleString('en-US');
      for (const s of res.sources)
        console.log(`  ${s.name.padEnd(14)} ${f(s.words).padStart(12)} words ${f(s.sentences).padStart(10)} sentences ${f(s.documents).padStart(9)} docs`);
      console.log(`corpus: ${f(w)} words from ${res.sources.length} sources in ${res.seconds.toFixed(0)} s → ${res.out}`);
      const v = res.vocabulary?.summary as string[] | undefined;
      if (v) for (const l of v) console.log(`  ${l.replace(/\*\*/g, '')}`);
    });
}
