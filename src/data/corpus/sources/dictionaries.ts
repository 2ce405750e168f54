/**
 * Dictionaries in dictd format (Debian `dict-*` packages), one document per entry: GCIDE (Webster's
 * Revised Unabridged 1913 with its literary quotations, plus later additions), FOLDOC, the Jargon File
 * and Bierce's Devil's Dictionary. Each has its own markup cleaner; all drop the headword line,
 * pronunciations, etymologies, cross-reference lists and source stamps, and keep definitions, usage
 * notes and quotations as paragraphs.
 *
 * @module
 */
import { readDictd, type DictdEntry } from '../dictd.js';
import type { CorpusSource, RawDocument } from '../types.js';
import { aptPath, makeSource, type SourceRoots } from './common.js';

/** Removes balanced `[...]` groups (nested allowed); an unbalanced `[` removes nothing. */
export function removeBracketed(s: string, open = '[', close = ']'): string {
  let out = '';
  let depth = 0;
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === open) {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === close && depth > 0) {
      depth--;
      if (depth === 0) start = -1;
    } else if (depth === 0) out += ch;
  }
  // An unclosed group: keep its text rather than swallow the rest of the entry.
  if (depth > 0 && start >= 0) out += s.slice(start);
  return out;
}

const UMLAUT: Record<string, string> = { a: 'ä', e: 'ë', i: 'ï', o: 'ö', u: 'ü', y: 'ÿ', A: 'Ä', E: 'Ë', I: 'Ï', O: 'Ö', U: 'Ü' };
const ACUTE: Record<string, string> = { a: 'á', e: 'é', i: 'í', o: 'ó', u: 'ú', y: 'ý', A: 'Á', E: 'É', I: 'Í', O: 'Ó', U: 'Ú' };
const GRAVE: Record<string, string> = { a: 'à', e: 'è', i: 'ì', o: 'ò', u: 'ù', A: 'À', E: 'È' };
const CIRC: Record<string, string> = { a: 'â', e: 'ê', i: 'î', o: 'ô', u: 'û' };

/**
 * GCIDE's ASCII letter codes inside words (`Conifer[ae]`, `caf['e]`, `bolv[aum]rk`, `[oe]`) as the
 * letters they stand for (æ, é, ä, œ; other marks are dropped: `[=a]` → a). Codes standing alone
 * (pronunciations) are left for the bracket removal.
 */
export function gcideLetters(s: string): string {
  return s.replace(
    /(?<=\p{L})\[([=.'`"~^,]?)([a-zA-Z]{1,2})(um|[=.'`"~^,])?\]|\[([=.'`"~^,]?)([a-zA-Z]{1,2})(um|[=.'`"~^,])?\](?=\p{L})/gu,
    (_m, p1?: string, l1?: string, s1?: string, p2?: string, l2?: string, s2?: string) => {
      const pre = p1 ?? p2 ?? '';
      const letters = (l1 ?? l2 ?? '') as string;
      const suf = s1 ?? s2 ?? '';
      if (letters === 'ae') return 'æ';
      if (letters === 'oe') return 'œ';
      if (letters === 'AE') return 'Æ';
      if (letters.length === 1) {
        if (suf === 'um' || pre === '"') return UMLAUT[letters] ?? letters;
        if (pre === "'") return ACUTE[letters] ?? letters;
        if (pre === '`') return GRAVE[letters] ?? letters;
        if (pre === '^') return CIRC[letters] ?? letters;
      }
      return letters;
    },
  );
}

/** Joins the lines of each blank-line-separated block; drops blocks that are empty. */
function blocks(text: string): string[][] {
  return text
    .split(/\n[ \t]*\n/)
    .map((b) => b.split('\n'))
    .filter((b) => b.some((l) => l.trim() !== ''));
}

/** Leading sense numbers and letters (`1.`, `2.`, `(a)`) and parenthesised field labels (`(Bot.)`). */
const SENSE_START = /^\s*(?:(?:\d+\.|\([a-z]\)|\([A-Z][\w.&, ]{0,30}\.?\))\s*)+/;
/** Part-of-speech abbreviations left at the start of a definition after the headword is removed. */
const POS_START = /^\s*(?:(?:n|a|v|adv|prep|conj|interj|pron|pl|t|i|imp|p|pr|vb|superl|compar|sing|obs|adj|vt|vi)\.(?:\s*[,;&]\s*|\s+|$))+/;

/**
 * GCIDE entry → paragraphs. Letter codes restored ({@link gcideLetters}); bracketed groups
 * (etymologies, `[Obs.]`, `[1913 Webster]`) and `\pro*nun"ci*a`tion\` removed; the headword line
 * dropped; `{cross references}` unbraced; sense numbers and `(Bot.)`-style labels removed; `Syn:` lists
 * dropped; `Note:`/`Usage:` labels removed; quotation attributions (`--Shak.`, right-aligned
 * `--Macaulay.`) removed. Quotations stay, each its own paragraph.
 */
export function gcideParagraphs(text: string): string[] {
  let t = gcideLetters(text);
  t = removeBracketed(t);
  t = t.replace(/\\[^\\\n]*\\/g, '');
  const lines = t.split('\n');
  lines.shift(); // the headword line
  const out: string[] = [];
  for (const block of blocks(lines.join('\n'))) {
    const kept: string[] = [];
    for (const line of block) {
      if (/^\s*--\s?[A-Z]/.test(line)) continue; // right-aligned attribution
      kept.push(line.replace(/\s--(?=[A-Z])[^]*$/, '').replace(/^--(?=[A-Z])[^]*$/, ''));
    }
    let p = kept.join(' ').replace(/[{}]/g, '').replace(/\s+/g, ' ').trim();
    if (/^(Syn|Ant)\s*:/.test(p)) continue;
    p = p.replace(/^(Note|Usage)\s*:\s*/, '');
    p = p.replace(SENSE_START, '').replace(POS_START, '').replace(SENSE_START, '').trim();
    if (p !== '') out.push(p);
  }
  return out;
}

/**
 * FOLDOC entry → paragraphs: headword line dropped; `<field>` labels, `[references]`, `(YYYY-MM-DD)`
 * stamps, `{(URL)}` links and sense numbers removed; `{cross references}` unbraced.
 */
export function foldocParagraphs(text: string): string[] {
  const lines = text.split('\n');
  lines.shift();
  const out: string[] = [];
  for (const block of blocks(lines.join('\n'))) {
    let p = block.join(' ').replace(/\s+/g, ' ').trim();
    p = removeBracketed(p);
    p = p.replace(/\{\([^)]*\)\}/g, '').replace(/[{}]/g, '');
    p = p.replace(/\(\d{4}-\d{2}-\d{2}\)/g, '');
    p = p
      .replace(SENSE_START, '')
      .replace(/^(?:<[^>]{1,40}>\s*,?\s*)+/, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (p !== '') out.push(p);
  }
  return out;
}

/**
 * Jargon File entry → paragraphs: headword and part-of-speech lines dropped; `{cross references}`
 * unbraced; `[origin]` notes, sense numbers and part-of-speech abbreviations (`vi.`, `n.`) removed.
 */
export function jargonParagraphs(text: string): string[] {
  const lines = text.split('\n');
  lines.shift();
  const out: string[] = [];
  for (const block of blocks(lines.join('\n'))) {
    let p = block.join(' ').replace(/\s+/g, ' ').trim();
    if (/^(?:[a-z]+\.\s*,?\s*)+$/.test(p)) continue; // the part-of-speech line
    p = removeBracketed(p).replace(/[{}]/g, '');
    p = p.replace(SENSE_START, '').replace(POS_START, '').replace(SENSE_START, '').replace(/\s+/g, ' ').trim();
    if (p !== '') out.push(p);
  }
  return out;
}

/**
 * Devil's Dictionary entry → paragraphs: the `WORD, n.` head removed; verse (lines indented 4+
 * spaces) and right-aligned attributions dropped; `{cross references}` and `[from …]` notes removed.
 */
export function devilParagraphs(text: string): string[] {
  const out: string[] = [];
  let first = true;
  for (const block of blocks(text)) {
    const prose = block.filter((l) => !/^\s{4,}\S/.test(l));
    if (prose.length === 0) continue;
    let p = prose.join(' ').replace(/\s+/g, ' ').trim();
    if (first) {
      p = p.replace(/^[^,]*?,\s*(?:[a-z]+\.\s*)+/, '');
      first = false;
    }
    p = removeBracketed(p).replace(/[{}]/g, '').replace(/\s+/g, ' ').trim();
    if (p !== '') out.push(p);
  }
  return out;
}

/** The documents of a dictd database: one per entry, `<name>/<headword>#<n>` ids; paragraphs without a letter are dropped. */
export function* dictdDocuments(name: string, base: string, clean: (text: string) => string[]): Generator<RawDocument> {
  const seen = new Map<string, number>();
  for (const e of readDictd(base) as DictdEntry[]) {
    const n = (seen.get(e.headword) ?? 0) + 1;
    seen.set(e.headword, n);
    const paragraphs = clean(e.text).filter((p) => /\p{L}/u.test(p));
    if (paragraphs.length) yield { id: `${name}/${e.headword}#${n}`, paragraphs };
  }
}

interface DictSpec {
  name: string;
  package: string;
  /** Path of the database without extension, below the file-system root. */
  base: string;
  licence: string;
  cleaning: string;
  clean: (text: string) => string[];
}

function dictdSource(roots: SourceRoots, spec: DictSpec): CorpusSource {
  const base = aptPath(roots, spec.base);
  return makeSource({
    name: spec.name,
    package: spec.package,
    kind: 'apt',
    licence: spec.licence,
    cleaning: spec.cleaning,
    files: [`${base}.index`, `${base}.dict.dz`],
    documents: () => dictdDocuments(spec.name, base, spec.clean),
  });
}

/** The `gcide` source (Debian `dict-gcide`). */
export const gcideSource = (roots: SourceRoots): CorpusSource =>
  dictdSource(roots, {
    name: 'gcide',
    package: 'dict-gcide',
    base: 'usr/share/dictd/gcide',
    licence: "GPL-2+ (GCIDE; from Webster's Revised Unabridged Dictionary 1913, public domain, and WordNet)",
    cleaning:
      "dictd entries; headword line, pronunciations, etymologies, [1913 Webster] stamps, Syn: lists and quotation attributions removed; letter codes ([ae], ['e]) restored; one document per entry",
    clean: gcideParagraphs,
  });

/** The `foldoc` source (Debian `dict-foldoc`). */
export const foldocSource = (roots: SourceRoots): CorpusSource =>
  dictdSource(roots, {
    name: 'foldoc',
    package: 'dict-foldoc',
    base: 'usr/share/dictd/foldoc',
    licence: 'GFDL-1.1+ (Free On-line Dictionary of Computing, Denis Howe)',
    cleaning: 'dictd entries; headword line, <field> labels, [references], date stamps and URLs removed; one document per entry',
    clean: foldocParagraphs,
  });

/** The `jargon` source (Debian `dict-jargon`). */
export const jargonSource = (roots: SourceRoots): CorpusSource =>
  dictdSource(roots, {
    name: 'jargon',
    package: 'dict-jargon',
    base: 'usr/share/dictd/jargon',
    licence: 'public domain (The Jargon File 4.4.7, Eric S. Raymond)',
    cleaning: 'dictd entries; headword and part-of-speech lines, [origin] notes and sense numbers removed; one document per entry',
    clean: jargonParagraphs,
  });

/** The `devil` source (Debian `dict-devil`). */
export const devilSource = (roots: SourceRoots): CorpusSource =>
  dictdSource(roots, {
    name: 'devil',
    package: 'dict-devil',
    base: 'usr/share/dictd/devil',
    licence: "public domain (Ambrose Bierce, The Devil's Dictionary, 1911)",
    cleaning: 'dictd entries; WORD, pos. head, verse and attributions removed; one document per entry',
    clean: devilParagraphs,
  });
