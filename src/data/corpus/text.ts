/**
 * Plain-text helpers of the corpus builder: whitespace/Unicode normalisation, the normalised key used
 * for deduplication and decontamination, word counts, and detokenisation of PTB-style token streams
 * (Brown, SST-2, TREC) back to normally spaced English.
 *
 * @module
 */

/**
 * Normalises raw text: Unicode NFC, control and format characters (soft hyphens, zero-width spaces,
 * byte-order marks) removed, every run of whitespace (newlines included) made one space, trimmed.
 *
 * @param s any text. @returns the normalised text ('' when nothing is left).
 */
export function normaliseText(s: string): string {
  return (
    s
      .normalize('NFC')
      .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/g, '')
      // eslint-disable-next-line no-control-regex -- removing control characters is the point of this pattern
      .replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g, ' ')
      .replace(/\s+/gu, ' ')
      .trim()
  );
}

/**
 * The normalised key of a sentence, for exact-match deduplication and decontamination: NFKD, accents
 * removed, lower-cased, and every character that is not a letter or digit dropped (spaces too), so that
 * tokenisation differences do not matter: PTB-tokenised `it 's a film .` and `It's a film.` share the
 * key `itsafilm`.
 *
 * @param s a sentence. @returns the key ('' when the sentence has no letter or digit).
 */
export function sentenceKey(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Number of whitespace-separated words in `s`. */
export function countWords(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c === 32 || c === 9 || c === 10 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

const CLOSING = /^(?:[,.;:?!%)\]}]+|\.\.\.|'|n't|'s|'re|'ve|'m|'ll|'d|'S|'RE|'VE|'M|'LL|'D|N'T)$/;
const OPENING = /^[([{$#]$/;

/**
 * Joins PTB-style tokens into normally spaced text: no space before closing punctuation and clitics
 * (`,` `.` `)` `n't` `'s` …) or after opening brackets; `` `` `` / `''` (and lone `` ` ``) become `"`
 * (`'`), opening or closing by alternation; `-lrb-`/`-rrb-` (any case) become parentheses, `--` an
 * em dash, `\/` and `\*` lose their backslash.
 *
 * @param tokens the tokens in order. @returns the text ('' for no tokens).
 */
export function detokenize(tokens: readonly string[]): string {
  let out = '';
  let attach = false;
  let doubleOpen = false;
  for (let w of tokens) {
    if (w === '') continue;
    let kind: 'word' | 'open' | 'close' = 'word';
    const lw = w.toLowerCase();
    if (lw === '-lrb-' || lw === '-lsb-' || lw === '-lcb-') w = lw === '-lrb-' ? '(' : lw === '-lsb-' ? '[' : '{';
    else if (lw === '-rrb-' || lw === '-rsb-' || lw === '-rcb-') w = lw === '-rrb-' ? ')' : lw === '-rsb-' ? ']' : '}';
    else if (w === '--') w = '—';
    w = w.replace(/\\([/*])/g, '$1');
    if (w === '``') {
      w = '"';
      kind = 'open';
      doubleOpen = true;
    } else if (w === "''") {
      w = '"';
      kind = 'close';
      doubleOpen = false;
    } else if (w === '"') {
      kind = doubleOpen ? 'close' : 'open';
      doubleOpen = !doubleOpen;
    } else if (w === '`') {
      w = "'";
      kind = 'open';
    } else if (w === "'") {
      // A closing single quote, or a plural possessive (`celebrities '`): attached either way.
      kind = 'close';
    } else if (CLOSING.test(w)) kind = 'close';
    else if (OPENING.test(w)) kind = 'open';
    if (out === '') out = w;
    else if (kind === 'close' || attach) out += w;
    else out += ' ' + w;
    attach = kind === 'open';
  }
  return out;
}

/**
 * Restores sentence case on lower-cased text (SST-2): capitalises the first letter and the pronoun `i`
 * (alone or in `i'm`, `i'd` …). Other capitals cannot be restored; the tokenizer lower-cases anyway.
 */
export function sentenceCase(s: string): string {
  const t = s.replace(/(^|[^\p{L}\p{N}'])i(?=$|[^\p{L}\p{N}]|'[a-z])/gu, '$1I');
  return t.replace(/^([^\p{L}]*)(\p{Ll})/u, (_m, pre: string, c: string) => pre + c.toUpperCase());
}
