/**
 * Decontamination of the pretraining corpus: the sentences of every evaluation set the project reports
 * on, so that the builder can drop any corpus sentence equal to one of them (after normalisation,
 * {@link sentenceKey}): SST-2 dev and test, TREC test, and both sentences of every Marvin & Linzen
 * minimal pair.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadLabeledLines } from '../corpora.js';
import { SentenceSet } from './dedup.js';
import { labeledSentenceText } from './sources/labeled.js';

/** The evaluation sentences and how many each set gave. */
export interface EvaluationSet {
  sentences: SentenceSet;
  /** Sentences read per evaluation set (before merging duplicates). */
  counts: Record<string, number>;
}

/**
 * Reads the evaluation sentences from the shared data folder.
 *
 * @param sharedData the `data` folder (holding `sst2/`, `trec/`, `marvin-linzen/`).
 * @throws Error naming the file or folder when one is missing or a line is malformed.
 */
export function loadEvaluationSet(sharedData: string): EvaluationSet {
  const sentences = new SentenceSet();
  const counts: Record<string, number> = {};
  const labeled = (name: string, rel: string, lowerCased: boolean) => {
    const rows = loadLabeledLines(join(sharedData, rel), { lowercase: false });
    for (const r of rows) sentences.add(labeledSentenceText(r.text, lowerCased));
    counts[name] = rows.length;
  };
  labeled('sst2-dev', 'sst2/dev.txt', true);
  labeled('sst2-test', 'sst2/test.txt', true);
  labeled('trec-test', 'trec/test.txt', false);
  const ml = join(sharedData, 'marvin-linzen');
  if (!existsSync(ml)) throw new Error(`decontamination: Marvin & Linzen folder not found: ${ml}`);
  let n = 0;
  for (const f of readdirSync(ml)
    .filter((f) => f.endsWith('.jsonl.gz') || f.endsWith('.jsonl'))
    .sort()) {
    const raw = readFileSync(join(ml, f));
    const text = (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let rec: { grammatical?: unknown; ungrammatical?: unknown };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        throw new Error(`decontamination: ${join(ml, f)}:${i + 1}: not JSON`);
      }
      if (typeof rec.grammatical !== 'string' || typeof rec.ungrammatical !== 'string')
        throw new Error(`decontamination: ${join(ml, f)}:${i + 1}: expected {grammatical, ungrammatical}`);
      sentences.add(rec.grammatical);
      sentences.add(rec.ungrammatical);
      n += 2;
    });
  }
  if (n === 0) throw new Error(`decontamination: no Marvin & Linzen pairs (*.jsonl.gz) in ${ml}`);
  counts['marvin-linzen'] = n;
  return { sentences, counts };
}
