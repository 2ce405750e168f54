/**
 * A small word-level vocabulary for the embedded agreement model, in BERT's `vocab.txt` format, so that
 * a Hugging Face `BertTokenizer` (do_lower_case) — and our `src/io/tokenizer.ts`, which matches it — can
 * tokenise with it:
 *
 * - ids 0–4: `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`;
 * - the single characters `a`–`z`, `0`–`9`, ASCII punctuation, and their `##` continuation forms for
 *   letters and digits (plus any other character frequent in the text), so that WordPiece's greedy
 *   longest-match-first never gives `[UNK]` for a lower-case ASCII word of ≤ 100 characters;
 * - common suffixes as `##` pieces ({@link DEFAULT_SUFFIXES}), so that rare words take fewer pieces;
 * - the required words (e.g. every Marvin & Linzen word, so that each `good`/`bad` candidate is ONE token);
 * - then the training text's words by descending frequency (ties alphabetical) down to `minCount`, up to
 *   `maxSize` entries in all.
 *
 * Words are counted after BERT's basic tokenisation (clean text, lower-case, strip accents, split on
 * whitespace and punctuation): {@link basicWords}, the basic tokenizer of `src/io/tokenizer.ts`.
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { bertBasicTokenize, isBertPunctuation } from '../io/tokenizer.js';
import { loadBrown, loadMr, loadSentimentFixture, loadSst2, loadTrec } from './corpora.js';
import { marvinLinzenWords } from './marvinLinzen.js';
import { TemplateGenerator, lexiconWords } from './templates.js';

/** The special tokens, in id order 0–4. */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/**
 * BERT basic tokenisation with lower-casing (HF `BasicTokenizer(do_lower_case=True)`), the words that
 * are counted: {@link bertBasicTokenize} of `src/io/tokenizer.ts`, the same code the tokenizer runs.
 *
 * @param text raw text. @returns the words, e.g. `Don't stop, Café!` → `don ' t stop , cafe !`.
 */
export function basicWords(text: string): string[] {
  return bertBasicTokenize(text, { doLowerCase: true });
}

/**
 * Word frequencies after {@link basicWords}.
 * @param texts raw sentences, or already-split word arrays (each element is then basic-tokenised too).
 */
export function countWords(texts: Iterable<string | readonly string[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of texts) {
    const ws = typeof t === 'string' ? basicWords(t) : t.flatMap((w) => basicWords(w));
    for (const w of ws) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return counts;
}

/** Options of {@link buildVocab}. */
export interface VocabOptions {
  /** Minimum frequency of a word to enter by frequency (default 2). */
  minCount?: number;
  /** Maximum number of entries, specials and characters included (default 8000). */
  maxSize?: number;
  /** Words that must be whole tokens whatever their frequency (each must be one basic-tokenizer word). */
  required?: Iterable<string>;
  /** Minimum frequency of a non-ASCII character (as a word-internal/initial character) to get its own pieces (default 5). */
  charMinCount?: number;
  /**
   * Continuation pieces added after the characters so that rare words split into fewer pieces
   * (default {@link DEFAULT_SUFFIXES}; `[]` for none). Each must start with `##`.
   */
  suffixes?: readonly string[];
}

/** Common English suffixes as `##` pieces (e.g. `walking` → `walk ##ing` when `walk` is a word). */
export const DEFAULT_SUFFIXES: readonly string[] = [
  '##s',
  '##es',
  '##ed',
  '##ing',
  '##ly',
  '##er',
  '##ers',
  '##est',
  '##ion',
  '##ions',
  '##tion',
  '##ness',
  '##ment',
  '##ful',
  '##less',
  '##able',
  '##al',
  '##ic',
  '##ity',
  '##ive',
  '##ous',
  '##ism',
  '##ist',
  '##ize',
];

/** Result of {@link buildVocab}. */
export interface VocabBuild {
  /** The vocabulary: token of id i at index i. */
  tokens: string[];
  /** Distinct words in the text. */
  distinctWords: number;
  /** Fraction of word occurrences in the text that are whole tokens of the vocabulary. */
  wordCoverage: number;
  /** Words that entered by frequency (not required, not characters). */
  frequencyWords: number;
}

/** Lower-case ASCII letters and digits (the characters that get `##` forms always). */
export const ASCII_WORD_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Builds the vocabulary (see the module comment for its layout).
 *
 * @param texts the training text: raw sentences or word arrays.
 * @param opts see {@link VocabOptions}.
 * @returns the tokens and coverage statistics.
 * @throws Error when a required word is not a single basic-tokenizer word (e.g. contains a space or
 *   punctuation, or is upper-case), or when specials + characters + required words exceed `maxSize`.
 */
export function buildVocab(texts: Iterable<string | readonly string[]>, opts: VocabOptions = {}): VocabBuild {
  const minCount = opts.minCount ?? 2;
  const maxSize = opts.maxSize ?? 8000;
  const charMinCount = opts.charMinCount ?? 5;
  if (!(Number.isInteger(maxSize) && maxSize > 0)) throw new Error(`buildVocab: maxSize must be a positive integer, got ${maxSize}`);
  if (!(minCount >= 1)) throw new Error(`buildVocab: minCount must be ≥ 1, got ${minCount}`);
  const counts = countWords(texts);
  const tokens: string[] = [...SPECIAL_TOKENS];
  const have = new Set<string>(tokens);
  const add = (t: string): void => {
    if (!have.has(t)) {
      have.add(t);
      tokens.push(t);
    }
  };
  // Characters: ASCII letters/digits (single and ##), ASCII punctuation (single: always split off).
  for (const c of ASCII_WORD_CHARS) add(c);
  for (let cp = 33; cp <= 126; cp++) {
    const c = String.fromCharCode(cp);
    if (isBertPunctuation(c)) add(c);
  }
  for (const c of ASCII_WORD_CHARS) add('##' + c);
  // Other characters frequent in the text.
  const charCounts = new Map<string, { first: number; inner: number }>();
  for (const [w, n] of counts) {
    let i = 0;
    for (const ch of w) {
      if (ch.charCodeAt(0) > 126 || ch.length > 1) {
        const e = charCounts.get(ch) ?? { first: 0, inner: 0 };
        if (i === 0) e.first += n;
        else e.inner += n;
        charCounts.set(ch, e);
      }
      i++;
    }
  }
  for (const [ch, e] of [...charCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (e.first + e.inner >= charMinCount) add(ch);
    if (e.inner >= charMinCount && !isBertPunctuation(ch)) add('##' + ch);
  }
  for (const sfx of opts.suffixes ?? DEFAULT_SUFFIXES) {
    if (!sfx.startsWith('##') || sfx.length < 3 || /\s/.test(sfx))
      throw new Error(`buildVocab: suffix ${JSON.stringify(sfx)} must be "##" followed by characters`);
    add(sfx);
  }
  // Required words.
  const required = [...new Set(opts.required ?? [])].sort();
  for (const w of required) {
    const bw = basicWords(w);
    if (bw.length !== 1 || bw[0] !== w)
      throw new Error(`buildVocab: required word "${w}" is not a single lower-case basic-tokenizer word (it gives ${JSON.stringify(bw)})`);
    add(w);
  }
  if (tokens.length > maxSize)
    throw new Error(`buildVocab: specials, characters and ${required.length} required words make ${tokens.length} entries > maxSize ${maxSize}`);
  // Words by frequency.
  const byFreq = [...counts]
    .filter(([w, n]) => n >= minCount && Array.from(w).length <= 100)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let frequencyWords = 0;
  for (const [w] of byFreq) {
    if (tokens.length >= maxSize) break;
    if (!have.has(w)) {
      add(w);
      frequencyWords++;
    }
  }
  let total = 0;
  let covered = 0;
  for (const [w, n] of counts) {
    total += n;
    if (have.has(w)) covered += n;
  }
  return { tokens, distinctWords: counts.size, wordCoverage: total ? covered / total : 1, frequencyWords };
}

/**
 * Greedy longest-match-first WordPiece of one basic-tokenizer word (BERT's `WordpieceTokenizer`): pieces
 * after the first carry `##`; `[UNK]` when some position has no match or the word is over 100 characters.
 *
 * @param word one word (from {@link basicWords}). @param vocab the token set.
 * @returns the pieces, e.g. `laughing` → `laugh ##ing` when both are in the vocabulary.
 */
export function wordpiece(word: string, vocab: ReadonlySet<string>, unk = '[UNK]', maxChars = 100): string[] {
  const chars = Array.from(word);
  if (chars.length > maxChars) return [unk];
  const out: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let cur: string | undefined;
    for (; end > start; end--) {
      const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
      if (vocab.has(sub)) {
        cur = sub;
        break;
      }
    }
    if (cur === undefined) return [unk];
    out.push(cur);
    start = end;
  }
  return out;
}

/**
 * Writes `vocab.txt`: one token a line, line i = id i, `\n` after every line (as HF `save_vocabulary`).
 * @throws Error when a token is empty, contains whitespace or a line break, or is duplicated.
 */
export function writeVocabTxt(path: string, tokens: readonly string[]): void {
  const seen = new Set<string>();
  tokens.forEach((t, i) => {
    if (t === '' || /\s/.test(t)) throw new Error(`writeVocabTxt: token ${i} ${JSON.stringify(t)} is empty or contains whitespace (${path})`);
    if (seen.has(t)) throw new Error(`writeVocabTxt: token ${JSON.stringify(t)} appears twice (ids ${tokens.indexOf(t)} and ${i}) (${path})`);
    seen.add(t);
  });
  writeFileSync(path, tokens.join('\n') + '\n', 'utf8');
}

/**
 * Reads a `vocab.txt` (line i = token of id i; trailing newline is not a token; `\r\n` accepted).
 * @throws Error naming the file when it is missing or empty.
 */
export function readVocabTxt(path: string): string[] {
  if (!existsSync(path)) throw new Error(`readVocabTxt: file not found: ${path}`);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new Error(`readVocabTxt: empty vocabulary: ${path}`);
  return lines;
}

/** Natural-text sources {@link buildAgreementVocab} can add. */
export type CorpusName = 'brown' | 'sst2' | 'mr' | 'trec' | 'sentiment';

/** Options of {@link buildAgreementVocab}. */
export interface AgreementVocabOptions extends Omit<VocabOptions, 'required'> {
  /** Seed of the template generator (default 0). */
  seed?: number;
  /** Number of template sentences counted (default 50,000). */
  templateSentences?: number;
  /** Natural corpora counted (default `['brown', 'sst2']`; SST-2 train split only). */
  corpora?: CorpusName[];
  /** Further required words. */
  required?: Iterable<string>;
}

/**
 * The embedded agreement model's vocabulary: counted over template sentences (`TemplateGenerator`) and
 * natural corpora, with every Marvin & Linzen word (terminals and sentences) and every word the
 * template lexicon can produce required as whole tokens.
 *
 * @returns as {@link buildVocab}.
 * @throws Error as {@link buildVocab}, or naming a missing data file.
 */
export function buildAgreementVocab(opts: AgreementVocabOptions = {}): VocabBuild {
  const gen = new TemplateGenerator({ seed: opts.seed ?? 0 });
  const texts: (string | string[])[] = [];
  for (let i = 0; i < (opts.templateSentences ?? 50000); i++) texts.push(gen.next().words);
  for (const c of opts.corpora ?? ['brown', 'sst2']) {
    if (c === 'brown') texts.push(...loadBrown());
    else if (c === 'sst2') texts.push(...loadSst2('train').map((x) => x.text));
    else if (c === 'mr') texts.push(...loadMr().map((x) => x.text));
    else if (c === 'trec') texts.push(...loadTrec('train').map((x) => x.text));
    else if (c === 'sentiment') for (const n of ['imdb', 'yelp', 'amazon'] as const) texts.push(...loadSentimentFixture(n).map((x) => x.text));
    else throw new Error(`buildAgreementVocab: unknown corpus "${c as string}" (brown, sst2, mr, trec, sentiment)`);
  }
  const required = new Set<string>([
    ...marvinLinzenWords(),
    ...lexiconWords(gen.lexicon).filter((w) => basicWords(w).length === 1 && basicWords(w)[0] === w),
    ...(opts.required ?? []),
  ]);
  const { seed: _s, templateSentences: _t, corpora: _c, required: _r, ...vocabOpts } = opts;
  return buildVocab(texts, { ...vocabOpts, required });
}
