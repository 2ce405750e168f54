/**
 * The prose filter of the corpus builder: keeps sentences of running English text and rejects code,
 * table rows, word lists, headings, URLs and other debris that survives markup removal.
 *
 * @module
 */
import { countWords } from './text.js';

/** Options of {@link proseRejection}. */
export interface ProseOptions {
  /**
   * Require a sentence shape: a capital letter, digit, quote or bracket first, and `.`, `!` or `?` last
   * (closing quotes and brackets may follow). Default true. Sentences that come already split by their
   * source (Brown, SST-2, TREC) are checked without it.
   */
  requirePunctuation?: boolean;
  /** Fewest words (default 3; 1 when `requirePunctuation` is false). */
  minWords?: number;
  /** Most words (default 150). */
  maxWords?: number;
}

/** Characters that are rare in prose and frequent in code, markup and tables. */
const CODE_CHARS = /[{}<>=\\|^~@`_]/g;
/** Sentence start: a capital, a digit, or an opening quote/bracket/inverted mark (then anything). */
const START = /^[\p{Lu}\p{N}"'“‘([¿¡]/u;
/** Sentence end: terminal punctuation, then closing quotes/brackets. */
const END = /[.!?…]["'”’)\]]*$/u;

/**
 * Why a sentence is not prose, or null when it is.
 *
 * Rules (each measured on the sentence as written): word count within [minWords, maxWords]; no word
 * over 30 characters (URLs, paths, identifiers); at least one lower-case letter; letters ≥ 60 % of
 * the non-space characters; at most 2 code characters (`{ } < > = \ | ^ ~ @ \` _`); upper-case letters
 * ≤ 50 % of the letters (headings, acronym lists); no `http`/`www.`; with `requirePunctuation`, the
 * sentence shape described in {@link ProseOptions}.
 *
 * @param s one sentence (normalised: single spaces, trimmed).
 * @returns a short reason (`short`, `long`, `long-word`, `no-lower`, `symbols`, `code`, `upper`,
 *   `url`, `garbled` (a `?` inside a word or U+FFFD: a character the source could not encode), `shape`), or null.
 */
export function proseRejection(s: string, opts: ProseOptions = {}): string | null {
  const requirePunctuation = opts.requirePunctuation ?? true;
  const minWords = opts.minWords ?? (requirePunctuation ? 3 : 1);
  const maxWords = opts.maxWords ?? 150;
  const words = countWords(s);
  if (words < minWords) return 'short';
  if (words > maxWords) return 'long';
  if (s.split(' ').some((w) => w.length > 30)) return 'long-word';
  if (/https?:|www\.|ftp:\/\//i.test(s)) return 'url';
  if (/\p{L}\?\p{L}|\ufffd/u.test(s)) return 'garbled';
  let letters = 0;
  let upper = 0;
  let lower = 0;
  let nonSpace = 0;
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c === 32) continue;
    nonSpace++;
    if (c >= 97 && c <= 122) {
      letters++;
      lower++;
    } else if (c >= 65 && c <= 90) {
      letters++;
      upper++;
    } else if (c > 127 && /\p{L}/u.test(ch)) {
      letters++;
      if (/\p{Lu}/u.test(ch)) upper++;
      else if (/\p{Ll}/u.test(ch)) lower++;
    }
  }
  if (lower === 0) return 'no-lower';
  if (letters < 0.6 * nonSpace) return 'symbols';
  if ((s.match(CODE_CHARS)?.length ?? 0) > 2) return 'code';
  if (upper > 0.5 * letters) return 'upper';
  if (requirePunctuation && !(START.test(s) && END.test(s))) return 'shape';
  return null;
}

/** True when {@link proseRejection} finds nothing wrong. */
export function isProse(s: string, opts: ProseOptions = {}): boolean {
  return proseRejection(s, opts) === null;
}
