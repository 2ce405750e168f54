/**
 * WordNet 3.0 (Debian `wordnet-base`): the gloss of every synset in `data.noun`, `data.verb`,
 * `data.adj` and `data.adv` (after ` | `: a definition, then quoted example sentences), one document per
 * synset.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { CorpusSource, RawDocument } from '../types.js';
import { aptPath, makeSource, type SourceRoots } from './common.js';

const FILES = ['noun', 'verb', 'adj', 'adv'] as const;

/** Capital first letter and a final period when the text has no terminal punctuation. */
export function asSentence(s: string): string {
  let t = s
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/[;:,]+$/, '')
    .trim();
  if (t === '') return '';
  t = t.replace(/^([^\p{L}]*)(\p{Ll})/u, (_m, pre: string, c: string) => pre + c.toUpperCase());
  if (!/[.!?]["')\]]*$/.test(t)) t += '.';
  return t;
}

/**
 * One gloss → sentences: the definition (everything before the first quoted example, `;`-separated
 * senses kept together) and each `"example"`, each as a sentence ({@link asSentence}).
 */
export function wordnetGlossSentences(gloss: string): string[] {
  const q = gloss.indexOf('"');
  const definition = q < 0 ? gloss : gloss.slice(0, q);
  const out: string[] = [];
  const d = asSentence(definition);
  if (d) out.push(d);
  if (q >= 0)
    for (const m of gloss.slice(q).matchAll(/"([^"]+)"/g)) {
      const e = asSentence(m[1] as string);
      if (e) out.push(e);
    }
  return out;
}

/** The synsets of WordNet data files in `dir` as documents `wordnet/<pos>/<offset>`. */
export function* wordnetDocuments(dir: string): Generator<RawDocument> {
  for (const pos of FILES) {
    const path = `${dir}/data.${pos}`;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '' || line.startsWith('  ')) continue; // licence header lines start with two spaces
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      const sentences = wordnetGlossSentences(line.slice(bar + 3));
      if (sentences.length) yield { id: `wordnet/${pos}/${line.slice(0, 8)}`, sentences };
    }
  }
}

/** The `wordnet` source (Debian `wordnet-base`). */
export function wordnetSource(roots: SourceRoots): CorpusSource {
  const dir = aptPath(roots, 'usr/share/wordnet');
  return makeSource({
    name: 'wordnet',
    package: 'wordnet-base',
    kind: 'apt',
    licence: 'WordNet 3.0 licence (Princeton; permissive, BSD-like)',
    cleaning:
      'synset glosses of data.{noun,verb,adj,adv}: the definition and each quoted example as sentences (capitalised, final period added); one document per synset',
    prose: { requirePunctuation: true, minWords: 3 },
    files: FILES.map((p) => `${dir}/data.${p}`),
    documents: () => wordnetDocuments(dir),
  });
}
