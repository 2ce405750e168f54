/**
 * WordPiece tokenizer equal to Hugging Face's slow `BertTokenizer`
 * (`transformers/models/bert/tokenization_bert.py`): special tokens are split out first (kept whole,
 * case-sensitive, as `PreTrainedTokenizer.tokenize` does with its trie); every other span goes through
 * `BasicTokenizer` (clean text, CJK splitting, NFC, whitespace split, lower-casing + NFD accent
 * stripping, punctuation splitting) and then `WordpieceTokenizer` (greedy longest-match-first with
 * `##` continuation pieces, `[UNK]` for words over 100 characters or with no segmentation).
 *
 * Differences can come only from the Unicode tables: Node's ICU and Python's `unicodedata` may be at
 * different Unicode versions for recently assigned characters.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizationError } from '../errors.js';

/** Options of the tokenizer (the `tokenizer_config.json` fields of `BertTokenizer`). */
export interface TokenizerOptions {
  /** Lower-case the input (and strip accents unless `stripAccents === false`). Default true. */
  doLowerCase?: boolean;
  /** `null`/undefined: follow `doLowerCase` (HF default); true/false: force. */
  stripAccents?: boolean | null;
  /** Put spaces around CJK ideographs so each one is a word. Default true. */
  tokenizeChineseChars?: boolean;
  /** Extra tokens the basic tokenizer must not split (HF `never_split`). */
  neverSplit?: string[];
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** Words longer than this (in code points) become `[UNK]`. Default 100. */
  maxInputCharsPerWord?: number;
}

/** One encoded sequence (or pair). All arrays have the same length `[seq]`. */
export interface Encoding {
  /** Vocabulary ids. */
  ids: number[];
  /** The tokens (vocabulary strings, `##` continuation pieces included). */
  tokens: string[];
  /**
   * For each token, the index of the word (whitespace- and punctuation-split unit, as HF fast
   * tokenizers' `word_ids()`) it came from, counted within its own sequence; null for `[CLS]`/`[SEP]`.
   */
  wordIds: (number | null)[];
  /** Segment ids: 0 for the first sequence (and its `[CLS]`/`[SEP]`), 1 for the second. */
  tokenTypeIds: number[];
  /** The words (basic-tokenizer output) that `wordIds` index; for a pair, `[wordsA, wordsB]` concatenated. */
  words: string[];
}

/** Options of {@link WordPieceTokenizer.encode}. */
export interface EncodeOptions {
  /** Add `[CLS]` … `[SEP]`. Default true. */
  addSpecialTokens?: boolean;
  /** Truncate to at most this many tokens, special tokens included (HF `truncation=True, max_length`). */
  maxLength?: number;
}

/**
 * Ids of the special tokens. Each method says which it needs (e.g. blank-out with `'mask'` needs
 * `maskId`; perturbations keep `clsId`/`sepId`); a {@link Tokenizer} has them all.
 */
export interface SpecialIds {
  clsId?: number;
  sepId?: number;
  padId?: number;
  maskId?: number;
  unkId?: number;
}

/**
 * What flowlens needs from a tokenizer: text → ids and tokens (`[CLS] … [SEP]` added), and the
 * special ids. {@link WordPieceTokenizer} implements it; a user's own tokenizer can too.
 */
export interface Tokenizer extends Required<SpecialIds> {
  /**
   * @returns `ids` and `tokens`, both `[seq]`, with `[CLS]`/`[SEP]` around the text.
   * @throws TokenizationError when the text cannot be encoded.
   */
  encode(text: string, opts?: EncodeOptions): { ids: number[]; tokens: string[] };
}

const CATEGORY_C = /^\p{C}$/u;
const CATEGORY_ZS = /^\p{Zs}$/u;
const CATEGORY_P = /^\p{P}$/u;
const CATEGORY_MN = /^\p{Mn}$/u;
/** Python's `str.isspace()` after cleaning (control characters are gone by then). */
// eslint-disable-next-line no-control-regex -- U+001C–U+001F are whitespace for Python's str.isspace(), which BERT's tokenizer follows
const PY_SPACE = /[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u001c-\u001f\u0085]+/u;

/** BERT's `_is_whitespace`: space, tab, newline, carriage return, or Unicode category Zs. */
export function isBertWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || CATEGORY_ZS.test(ch);
}

/** BERT's `_is_control` (HF): category C* except tab, newline and carriage return. */
export function isBertControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return CATEGORY_C.test(ch);
}

/** BERT's `_is_punctuation`: ASCII 33–47, 58–64, 91–96, 123–126, or Unicode category P*. */
export function isBertPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0) as number;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return CATEGORY_P.test(ch);
}

/** BERT's `_is_chinese_char`: CJK Unified Ideographs blocks (not Hiragana/Katakana/Hangul). */
export function isCjkChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function whitespaceSplit(text: string): string[] {
  return text.split(PY_SPACE).filter((t) => t.length > 0);
}

/**
 * A BERT WordPiece tokenizer, token-for-token equal to Hugging Face's `BertTokenizer`.
 *
 * Build it with {@link WordPieceTokenizer.fromFolder}, {@link WordPieceTokenizer.fromVocabFile} or
 * {@link WordPieceTokenizer.fromVocab}.
 */
export class WordPieceTokenizer implements Tokenizer {
  /** Vocabulary, index = id (as the lines of `vocab.txt`). */
  readonly vocab: readonly string[];
  readonly doLowerCase: boolean;
  readonly stripAccents: boolean | null;
  readonly tokenizeChineseChars: boolean;
  readonly maxInputCharsPerWord: number;
  readonly unkToken: string;
  readonly clsToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly maskToken: string;
  /** Special tokens (split out of the raw text and never split further), longest first. */
  readonly specialTokens: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly neverSplit: Set<string>;

  /**
   * @param vocab tokens ordered by id.
   * @param opts see {@link TokenizerOptions}.
   * @param source name used in error messages (file path).
   * @throws Error naming `source` when the vocabulary is empty or lacks the unknown, CLS or SEP token.
   */
  constructor(vocab: readonly string[], opts: TokenizerOptions = {}, source = 'vocabulary') {
    this.vocab = vocab.slice();
    this.doLowerCase = opts.doLowerCase ?? true;
    this.stripAccents = opts.stripAccents ?? null;
    this.tokenizeChineseChars = opts.tokenizeChineseChars ?? true;
    this.maxInputCharsPerWord = opts.maxInputCharsPerWord ?? 100;
    this.unkToken = opts.unkToken ?? '[UNK]';
    this.clsToken = opts.clsToken ?? '[CLS]';
    this.sepToken = opts.sepToken ?? '[SEP]';
    this.padToken = opts.padToken ?? '[PAD]';
    this.maskToken = opts.maskToken ?? '[MASK]';
    if (this.vocab.length === 0) throw new TokenizationError(`${source}: empty vocabulary`);
    this.ids = new Map();
    // HF's load_vocab builds a dict: a repeated token maps to its last line.
    this.vocab.forEach((t, i) => this.ids.set(t, i));
    for (const [what, tok] of [
      ['unknown', this.unkToken],
      ['CLS', this.clsToken],
      ['SEP', this.sepToken],
    ] as const) {
      if (!this.ids.has(tok)) throw new TokenizationError(`${source}: vocabulary has no ${what} token "${tok}"`);
    }
    const specials = [this.unkToken, this.sepToken, this.padToken, this.clsToken, this.maskToken];
    this.specialTokens = [...new Set(specials)].sort((a, b) => b.length - a.length);
    this.neverSplit = new Set([...specials, ...(opts.neverSplit ?? [])]);
  }

  /**
   * Tokenizer from a token list (index = id).
   * @throws Error when `[UNK]`, `[CLS]` or `[SEP]` is missing.
   */
  static fromVocab(tokens: readonly string[], opts: TokenizerOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(tokens, opts);
  }

  /**
   * Tokenizer from a `vocab.txt` (one token per line, line number = id; HF `load_vocab`).
   * @throws Error naming `path` when the file is missing or lacks `[UNK]`/`[CLS]`/`[SEP]`.
   */
  static fromVocabFile(path: string, opts: TokenizerOptions = {}): WordPieceTokenizer {
    if (!existsSync(path)) throw new TokenizationError(`vocabulary file not found: ${path}`);
    return new WordPieceTokenizer(parseVocabTxt(readFileSync(path, 'utf8')), opts, path);
  }

  /**
   * Tokenizer from a Hugging Face model folder: `vocab.txt` and, when present,
   * `tokenizer_config.json` (`do_lower_case` default true, `strip_accents`, `tokenize_chinese_chars`,
   * `never_split`, special token strings).
   * @throws Error naming the file when `vocab.txt` is missing or `tokenizer_config.json` is not JSON.
   */
  static fromFolder(dir: string): WordPieceTokenizer {
    return WordPieceTokenizer.fromVocabFile(join(dir, 'vocab.txt'), readTokenizerConfig(dir));
  }

  /** Number of tokens in the vocabulary. */
  get vocabSize(): number {
    return this.vocab.length;
  }
  /** Id of `[CLS]` (101 in bert-base vocabularies). */
  get clsId(): number {
    return this.ids.get(this.clsToken) as number;
  }
  /** Id of `[SEP]` (102 in bert-base vocabularies). */
  get sepId(): number {
    return this.ids.get(this.sepToken) as number;
  }
  /** Id of `[UNK]` (100 in bert-base vocabularies). */
  get unkId(): number {
    return this.ids.get(this.unkToken) as number;
  }
  /** Id of `[PAD]` (0 in BERT vocabularies when it is missing, as HF's default `pad_token_id`). */
  get padId(): number {
    return this.ids.get(this.padToken) ?? 0;
  }
  /** Id of `[MASK]`; -1 when the vocabulary has none. */
  get maskId(): number {
    return this.ids.get(this.maskToken) ?? -1;
  }

  /** Id of a token, or the `[UNK]` id when it is not in the vocabulary. */
  idOf(token: string): number {
    return this.ids.get(token) ?? this.unkId;
  }

  /** Does the vocabulary contain `token`? */
  has(token: string): boolean {
    return this.ids.has(token);
  }

  /**
   * Token string of an id.
   * @throws Error when `id` is not an integer in `[0, vocabSize)`.
   */
  tokenOf(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.length) {
      throw new TokenizationError(`token id ${id} out of range [0, ${this.vocab.length})`);
    }
    return this.vocab[id] as string;
  }

  /**
   * Basic tokenization: the words (whitespace/punctuation-split, lower-cased, accent-stripped)
   * before WordPiece. Special tokens in the text are kept whole.
   */
  words(text: string): string[] {
    const out: string[] = [];
    for (const seg of this.splitSpecial(text)) {
      if (seg.special) out.push(seg.text);
      // PreTrainedTokenizer.tokenize lower-cases the text outside special tokens one character at a
      // time (so a word-final Σ becomes σ, not ς) before BasicTokenizer runs.
      else for (const w of this.basicTokenize(this.doLowerCase ? lowerEachChar(seg.text) : seg.text)) out.push(w);
    }
    return out;
  }

  /**
   * WordPiece pieces of one word from {@link words} (a special token stays whole).
   *
   * With `asUnseen`, the pieces the word would get if its own whole-word entry were missing from the
   * vocabulary (greedy longest-match-first with that one entry skipped): what an unseen word looks like
   * to the model. Training uses it to show known words in their unseen form now and then (word-level
   * subword dropout, cf. BPE-dropout, Provilkov et al. 2020), so that a classifier learns what to do
   * with the piece sequences of words it never saw. A word that is not a whole-word entry gets its
   * ordinary pieces either way.
   *
   * @returns the pieces, e.g. `shaman` → `['shaman']`, as unseen `['sham', '##an']`.
   */
  wordPieces(word: string, opts: { asUnseen?: boolean } = {}): string[] {
    if (this.specialTokens.includes(word)) return [word];
    return this.wordpiece(word, opts.asUnseen === true);
  }

  /**
   * Tokenize text into WordPiece tokens (HF `BertTokenizer.tokenize`).
   * @throws Error "empty text" when nothing is left after cleaning.
   */
  tokenize(text: string): string[] {
    return this.tokenizeWords(text, 'text').tokens;
  }

  /**
   * Encode one sequence: `[CLS] tokens [SEP]` (HF `tokenizer(text, truncation=True, max_length)`).
   *
   * @returns ids, tokens, wordIds, tokenTypeIds (all zero), words; every array `[seq]`.
   * @throws Error "empty text" when nothing is left after cleaning; Error when `maxLength` is not a
   *   positive integer or leaves no room for a token.
   */
  encode(text: string, opts: EncodeOptions = {}): Encoding {
    const add = opts.addSpecialTokens ?? true;
    const a = this.tokenizeWords(text, 'text');
    let n = a.tokens.length;
    if (opts.maxLength !== undefined) {
      const room = checkMaxLength(opts.maxLength) - (add ? 2 : 0);
      if (room < 1) throw new TokenizationError(`maxLength ${opts.maxLength} leaves no room for tokens`);
      n = Math.min(n, room);
    }
    const tokens = a.tokens.slice(0, n);
    const wordIds: (number | null)[] = a.wordIds.slice(0, n);
    if (add) {
      tokens.unshift(this.clsToken);
      tokens.push(this.sepToken);
      wordIds.unshift(null);
      wordIds.push(null);
    }
    return { ids: tokens.map((t) => this.idOf(t)), tokens, wordIds, tokenTypeIds: tokens.map(() => 0), words: a.words };
  }

  /**
   * Encode a pair: `[CLS] a [SEP] b [SEP]`, token types 0 … 0 1 … 1; truncation `longest_first`
   * (HF default): remove one token at a time from the end of the longer sequence.
   *
   * @returns as {@link encode}; `wordIds` count within each sequence; `words` = words of a then b.
   * @throws Error "empty text" naming `textA`/`textB`; Error when `maxLength` < 4.
   */
  encodePair(textA: string, textB: string, opts: EncodeOptions = {}): Encoding {
    const add = opts.addSpecialTokens ?? true;
    const a = this.tokenizeWords(textA, 'textA');
    const b = this.tokenizeWords(textB, 'textB');
    let na = a.tokens.length;
    let nb = b.tokens.length;
    if (opts.maxLength !== undefined) {
      const room = checkMaxLength(opts.maxLength) - (add ? 3 : 0);
      if (room < 2) throw new TokenizationError(`maxLength ${opts.maxLength} leaves no room for a pair`);
      while (na + nb > room) {
        if (na > nb) na--;
        else nb--;
      }
    }
    const tokens: string[] = [];
    const wordIds: (number | null)[] = [];
    const types: number[] = [];
    const push = (t: string, w: number | null, s: number) => {
      tokens.push(t);
      wordIds.push(w);
      types.push(s);
    };
    if (add) push(this.clsToken, null, 0);
    for (let i = 0; i < na; i++) push(a.tokens[i] as string, a.wordIds[i] as number, 0);
    if (add) push(this.sepToken, null, 0);
    for (let i = 0; i < nb; i++) push(b.tokens[i] as string, b.wordIds[i] as number, 1);
    if (add) push(this.sepToken, null, 1);
    return { ids: tokens.map((t) => this.idOf(t)), tokens, wordIds, tokenTypeIds: types, words: [...a.words, ...b.words] };
  }

  /**
   * Ids back to text (HF `decode`): tokens joined by spaces, ` ##` removed, and HF's
   * `clean_up_tokenization` (no space before `. ? ! ,` and English contractions).
   * @throws Error for an id out of range.
   */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean; cleanUpSpaces?: boolean } = {}): string {
    const special = new Set(this.specialTokens);
    let toks = ids.map((id) => this.tokenOf(id));
    if (opts.skipSpecialTokens) toks = toks.filter((t) => !special.has(t));
    let s = toks.join(' ').replace(/ ##/g, '').trim();
    if (opts.cleanUpSpaces ?? true) {
      s = s
        .replace(/ \./g, '.')
        .replace(/ \?/g, '?')
        .replace(/ !/g, '!')
        .replace(/ ,/g, ',')
        .replace(/ ' /g, "'")
        .replace(/ n't/g, "n't")
        .replace(/ 'm/g, "'m")
        .replace(/ 's/g, "'s")
        .replace(/ 've/g, "'ve")
        .replace(/ 're/g, "'re");
    }
    return s;
  }

  /** Tokens of `text` with, for each, its word index; throws "empty text" naming `arg`. */
  private tokenizeWords(text: string, arg: string): { tokens: string[]; wordIds: number[]; words: string[] } {
    if (typeof text !== 'string') throw new TokenizationError(`${arg} must be a string, got ${typeof text}`);
    const words = this.words(text);
    if (words.length === 0) throw new TokenizationError(`empty text: ${arg} ${JSON.stringify(text.slice(0, 40))} has no tokens after cleaning`);
    const tokens: string[] = [];
    const wordIds: number[] = [];
    words.forEach((w, i) => {
      const pieces = this.wordPieces(w);
      for (const p of pieces) {
        tokens.push(p);
        wordIds.push(i);
      }
    });
    return { tokens, wordIds, words };
  }

  /** Split raw text at occurrences of special tokens (HF's added-token trie; leftmost, longest). */
  private splitSpecial(text: string): { text: string; special: boolean }[] {
    const out: { text: string; special: boolean }[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      let hit: string | undefined;
      for (const s of this.specialTokens) {
        if (s.length > 0 && text.startsWith(s, i)) {
          hit = s;
          break;
        }
      }
      if (hit !== undefined) {
        if (i > start) out.push({ text: text.slice(start, i), special: false });
        out.push({ text: hit, special: true });
        i += hit.length;
        start = i;
      } else i++;
    }
    if (start < text.length) out.push({ text: text.slice(start), special: false });
    return out;
  }

  /** HF `BasicTokenizer.tokenize` on a span without special tokens. */
  private basicTokenize(text: string): string[] {
    return bertBasicTokenize(text, {
      doLowerCase: this.doLowerCase,
      stripAccents: this.stripAccents,
      tokenizeChineseChars: this.tokenizeChineseChars,
      neverSplit: this.neverSplit,
    });
  }

  /** HF `WordpieceTokenizer.tokenize` on one word; `skipWhole`: never take the whole word as one piece. */
  private wordpiece(word: string, skipWhole = false): string[] {
    const chars = Array.from(word);
    if (chars.length > this.maxInputCharsPerWord) return [this.unkToken];
    const out: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = skipWhole && start === 0 && chars.length > 1 ? chars.length - 1 : chars.length;
      let cur: string | undefined;
      while (start < end) {
        let sub = chars.slice(start, end).join('');
        if (start > 0) sub = '##' + sub;
        if (this.ids.has(sub)) {
          cur = sub;
          break;
        }
        end--;
      }
      if (cur === undefined) return [this.unkToken];
      out.push(cur);
      start = end;
    }
    return out;
  }
}

/** Options of {@link bertBasicTokenize} (HF `BasicTokenizer`'s arguments). */
export interface BasicTokenizeOptions {
  /** Lower-case each token (and strip accents unless `stripAccents` is false). Default true. */
  doLowerCase?: boolean;
  /** Strip accents; `null` or `undefined` follows `doLowerCase` (HF's default). */
  stripAccents?: boolean | null;
  /** Space out CJK ideographs so each is a word. Default true. */
  tokenizeChineseChars?: boolean;
  /** Tokens kept whole (HF `never_split`). */
  neverSplit?: ReadonlySet<string>;
}

/**
 * BERT's basic tokenization (HF `BasicTokenizer.tokenize`): drop NUL, U+FFFD and control characters,
 * map whitespace to spaces, space out CJK ideographs, NFC, split on whitespace, lower-case and strip
 * accents (NFD, drop Mn), split off every punctuation character. The words WordPiece then splits.
 *
 * @param text raw text without special tokens.
 * @returns the words, e.g. `Don't stop, Café!` → `don ' t stop , cafe !` (lower-cased).
 */
export function bertBasicTokenize(text: string, opts: BasicTokenizeOptions = {}): string[] {
  const lower = opts.doLowerCase ?? true;
  const never = opts.neverSplit ?? new Set<string>();
  // _clean_text
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0 || cp === 0xfffd || isBertControl(ch)) continue;
    cleaned += isBertWhitespace(ch) ? ' ' : ch;
  }
  // _tokenize_chinese_chars
  if (opts.tokenizeChineseChars ?? true) {
    let spaced = '';
    for (const ch of cleaned) spaced += isCjkChar(ch.codePointAt(0) as number) ? ` ${ch} ` : ch;
    cleaned = spaced;
  }
  const out: string[] = [];
  for (let tok of whitespaceSplit(cleaned.normalize('NFC'))) {
    if (never.has(tok)) {
      out.push(tok);
      continue;
    }
    if (lower) {
      tok = lowerEachChar(tok);
      if (opts.stripAccents !== false) tok = stripAccents(tok);
    } else if (opts.stripAccents) tok = stripAccents(tok);
    // _run_split_on_punc
    let cur = '';
    for (const ch of tok) {
      if (isBertPunctuation(ch)) {
        if (cur) out.push(cur);
        out.push(ch);
        cur = '';
      } else cur += ch;
    }
    if (cur) out.push(cur);
  }
  return whitespaceSplit(out.join(' '));
}

function lowerEachChar(text: string): string {
  let out = '';
  for (const ch of text) out += ch.toLowerCase();
  return out;
}

/** NFD, then drop combining marks (category Mn): BERT's `_run_strip_accents`. */
export function stripAccents(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFD')) if (!CATEGORY_MN.test(ch)) out += ch;
  return out;
}

/**
 * Parse the text of a `vocab.txt`: one token per line, line index = id (`\r\n` accepted; the newline
 * after the last line is not a token).
 */
export function parseVocabTxt(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Read the tokenizer options of a HF folder's `tokenizer_config.json` (absent file: defaults,
 * `do_lower_case` true).
 * @throws Error naming the file when it is not valid JSON or a field has the wrong type.
 */
export function readTokenizerConfig(dir: string): TokenizerOptions {
  const path = join(dir, 'tokenizer_config.json');
  if (!existsSync(path)) return { doLowerCase: true };
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TokenizationError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new TokenizationError(`${path}: expected a JSON object`);
  const bool = (k: string): boolean | undefined => {
    const v = j[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new TokenizationError(`${path}: "${k}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const tokStr = (k: string): string | undefined => {
    const v = j[k];
    if (typeof v === 'string') return v;
    // AddedToken serialisation: {"content": "[UNK]", ...}
    if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
    return undefined;
  };
  const neverSplit = Array.isArray(j.never_split) ? j.never_split.filter((x): x is string => typeof x === 'string') : undefined;
  return {
    doLowerCase: bool('do_lower_case') ?? true,
    stripAccents: bool('strip_accents') ?? null,
    tokenizeChineseChars: bool('tokenize_chinese_chars') ?? true,
    neverSplit,
    unkToken: tokStr('unk_token'),
    clsToken: tokStr('cls_token'),
    sepToken: tokStr('sep_token'),
    padToken: tokStr('pad_token'),
    maskToken: tokStr('mask_token'),
  };
}

function checkMaxLength(n: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new TokenizationError(`maxLength must be a positive integer, got ${n}`);
  return n;
}
