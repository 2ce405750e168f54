/**
 * Public-domain novels shipped as R data packages in Debian: Jane Austen's six novels
 * (`r-cran-janeaustenr`, one line of text per element) and Melville's Moby Dick (`r-cran-tokenizers`,
 * the Project Gutenberg e-text as one string), read from their lazy-load databases (`../rdata.ts`)
 * without R. One document per chapter; paragraphs are blank-line separated, Gutenberg's `_italics_`
 * marks and `--` dashes become plain text and em dashes; text before the first chapter heading (title
 * pages, transcriber's notes) and after the Gutenberg end marker (the licence) is left out.
 *
 * @module
 */
import { readLazyLoadDb } from '../rdata.js';
import type { CorpusSource, RawDocument } from '../types.js';
import { aptPath, makeSource, type SourceRoots } from './common.js';

/** A chapter heading line (`Chapter 1`, `CHAPTER XII`, `CHAPTER 3. The Spouter-Inn.`). */
export const CHAPTER_HEADING = /^\s*chapter\s+(?:\d+|[ivxlc]+)\b\.?/i;

/** One paragraph's lines as text: joined, `_italics_` unmarked, `--` as an em dash. */
function paragraphText(lines: string[]): string {
  return lines
    .join(' ')
    .replace(/(^|[^\p{L}\p{N}])_([^_]+)_(?=$|[^\p{L}\p{N}])/gu, '$1$2')
    .replace(/\s*--\s*/g, '—')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Splits a book's lines into chapters of paragraphs.
 *
 * @param lines the text, one line per element. @param idPrefix ids become `<idPrefix>/<n>` (n = 1, 2, …
 *   in order, so repeated chapter numbers across volumes stay distinct).
 * @returns one document per chapter heading; the heading line itself is not part of the text.
 */
export function bookChapters(lines: readonly string[], idPrefix: string): RawDocument[] {
  const chapters: string[][][] = [];
  let para: string[] = [];
  const endPara = () => {
    const cur = chapters[chapters.length - 1];
    if (cur && para.length) cur.push(para);
    para = [];
  };
  for (const raw of lines) {
    const line = raw.replace(/^\ufeff/, '');
    if (/^\s*(\*\*\* ?END OF|End of (the )?Project Gutenberg)/i.test(line)) break;
    if (CHAPTER_HEADING.test(line)) {
      endPara();
      chapters.push([]);
    } else if (line.trim() === '') endPara();
    else para.push(line.trim());
  }
  endPara();
  return chapters
    .map((c, i) => ({ id: `${idPrefix}/${i + 1}`, paragraphs: c.map(paragraphText).filter((p) => p !== '') }))
    .filter((d) => d.paragraphs.length > 0);
}

const AUSTEN = ['prideprejudice', 'sensesensibility', 'mansfieldpark', 'emma', 'northangerabbey', 'persuasion'];

/** The `austen` source (Debian `r-cran-janeaustenr`). */
export function austenSource(roots: SourceRoots): CorpusSource {
  const base = aptPath(roots, 'usr/lib/R/site-library/janeaustenr/data/Rdata');
  return makeSource({
    name: 'austen',
    package: 'r-cran-janeaustenr',
    kind: 'apt',
    licence: 'novels public domain (Project Gutenberg texts); R package MIT (Julia Silge)',
    cleaning: 'six novels from the R lazy-load database (read without R); title pages dropped, _italics_ unmarked, -- → —; one document per chapter',
    files: [`${base}.rdx`, `${base}.rdb`],
    *documents() {
      const db = readLazyLoadDb(base);
      for (const book of AUSTEN) {
        const v = db.get(book);
        if (!Array.isArray(v)) throw new Error(`${base}.rdb: ${book} is not a character vector`);
        yield* bookChapters(
          v.map((x) => (typeof x === 'string' ? x : '')),
          `austen/${book}`,
        );
      }
    },
  });
}

/** The `moby-dick` source (Debian `r-cran-tokenizers`, its `mobydick` data set). */
export function mobyDickSource(roots: SourceRoots): CorpusSource {
  const base = aptPath(roots, 'usr/lib/R/site-library/tokenizers/data/Rdata');
  return makeSource({
    name: 'moby-dick',
    package: 'r-cran-tokenizers',
    kind: 'apt',
    licence: 'public domain (Project Gutenberg e-text #2701); R package MIT',
    cleaning:
      'the mobydick string of the R lazy-load database (read without R); Gutenberg header, etymology/extracts front matter and licence dropped; one document per chapter',
    files: [`${base}.rdx`, `${base}.rdb`],
    *documents() {
      const v = readLazyLoadDb(base).get('mobydick');
      if (!Array.isArray(v) || typeof v[0] !== 'string') throw new Error(`${base}.rdb: mobydick is not a string`);
      yield* bookChapters((v[0] as string).split(/\r?\n/), 'moby-dick');
    },
  });
}
