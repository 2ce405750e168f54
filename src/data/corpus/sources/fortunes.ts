/**
 * The fortune cookie files of Debian `fortunes` (quotations, jokes, aphorisms; strfile text: records
 * separated by lines holding `%`). One document per record; attribution lines (`-- Mark Twain`)
 * dropped; the ASCII-art files (`art`, `ascii-art`) left out.
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CorpusSource, RawDocument } from '../types.js';
import { aptPath, makeSource, type SourceRoots } from './common.js';

const SKIP = new Set(['art', 'ascii-art']);

/** One fortune record → one paragraph: attribution lines removed, lines joined. */
export function fortuneParagraph(record: string): string {
  return record
    .split('\n')
    .filter((l) => !/^\s*--\s*\S/.test(l) && !/^\s*-- *$/.test(l))
    .map((l) => l.trim())
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The records of the fortune files in `dir` (files without an extension, sorted) as documents `fortunes/<file>/<n>`. */
export function* fortuneDocuments(dir: string): Generator<RawDocument> {
  const files = readdirSync(dir)
    .filter((f) => !f.includes('.') && !SKIP.has(f))
    .sort();
  if (files.length === 0) throw new Error(`fortunes: no fortune files in ${dir}`);
  for (const f of files) {
    const records = readFileSync(join(dir, f), 'utf8').split(/\n%\n|^%\n|\n%$/);
    let n = 0;
    for (const r of records) {
      n++;
      const p = fortuneParagraph(r);
      if (p) yield { id: `fortunes/${f}/${n}`, paragraphs: [p] };
    }
  }
}

/** The `fortunes` source (Debian `fortunes`). */
export function fortunesSource(roots: SourceRoots): CorpusSource {
  const dir = aptPath(roots, 'usr/share/games/fortunes');
  return makeSource({
    name: 'fortunes',
    package: 'fortunes',
    kind: 'apt',
    licence: 'BSD (fortune-mod collection; quotations of many authors)',
    cleaning: 'strfile records; attribution lines and the ASCII-art files dropped; one document per record',
    files: [join(dir, 'fortunes')],
    documents: () => fortuneDocuments(dir),
  });
}
