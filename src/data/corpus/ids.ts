/**
 * Pre-tokenised corpus: the token ids of every sentence of a corpus file, and their binary cache.
 *
 * Cache format, for `NAME.txt` (`train`, `heldout`), all little-endian, no header:
 * - `NAME.ids.u16`: the WordPiece ids of all sentences concatenated (Uint16; no `[CLS]`/`[SEP]`);
 * - `NAME.offsets.u32`: Uint32 × (sentences + 1): sentence i is ids[offsets[i] .. offsets[i+1]);
 * - `NAME.docs.u32`: Uint32 × (documents + 1): document d is sentences docs[d] .. docs[d+1]−1.
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { WordPieceTokenizer } from '../../io/tokenizer.js';
import { readCorpusFile } from './writer.js';

/** A tokenised corpus file. */
export interface TokenizedCorpus {
  /** All ids, sentences concatenated. */
  ids: Uint16Array;
  /** `[sentences + 1]` start offsets into {@link ids}. */
  offsets: Uint32Array;
  /** `[documents + 1]` index of each document's first sentence. */
  docs: Uint32Array;
}

/** Anything with `tokenize(text)` and `idOf(token)` (the project's {@link WordPieceTokenizer}). */
export type IdTokenizer = Pick<WordPieceTokenizer, 'tokenize' | 'idOf' | 'vocabSize'>;

/**
 * Tokenises a corpus file (`train.txt` or `heldout.txt`) sentence by sentence.
 *
 * @param path the corpus file. @param tokenizer ids must be < 65,536.
 * @param onProgress called every 10,000 sentences with (sentences done, total).
 * @throws Error naming the file when it is malformed or the vocabulary exceeds Uint16.
 */
export function tokenizeCorpusFile(path: string, tokenizer: IdTokenizer, onProgress?: (done: number, total: number) => void): TokenizedCorpus {
  return tokenizeDocuments(readCorpusFile(path), tokenizer, onProgress);
}

/**
 * Tokenises documents (lists of sentences) sentence by sentence, as {@link tokenizeCorpusFile} does a
 * file; a sentence with nothing left after cleaning has no ids.
 *
 * @throws Error when the vocabulary exceeds Uint16.
 */
export function tokenizeDocuments(
  docs: readonly (readonly string[])[],
  tokenizer: IdTokenizer,
  onProgress?: (done: number, total: number) => void,
): TokenizedCorpus {
  if (tokenizer.vocabSize > 65536) throw new Error(`tokenizeCorpusFile: vocabulary of ${tokenizer.vocabSize} does not fit Uint16 ids`);
  const nSent = docs.reduce((a, d) => a + d.length, 0);
  const offsets = new Uint32Array(nSent + 1);
  const docStarts = new Uint32Array(docs.length + 1);
  let ids = new Uint16Array(Math.max(1024, nSent * 32));
  let n = 0;
  let si = 0;
  docs.forEach((d, di) => {
    docStarts[di] = si;
    for (const s of d) {
      offsets[si] = n;
      let toks: string[];
      try {
        toks = tokenizer.tokenize(s);
      } catch {
        toks = [];
      }
      if (n + toks.length > ids.length) {
        const bigger = new Uint16Array(Math.max(ids.length * 2, n + toks.length));
        bigger.set(ids);
        ids = bigger;
      }
      for (const t of toks) ids[n++] = tokenizer.idOf(t);
      si++;
      if (onProgress && si % 10000 === 0) onProgress(si, nSent);
    }
  });
  offsets[nSent] = n;
  docStarts[docs.length] = nSent;
  return { ids: ids.slice(0, n), offsets, docs: docStarts };
}

const bytesOf = (a: Uint16Array | Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Writes the cache files `<base>.ids.u16`, `<base>.offsets.u32`, `<base>.docs.u32`.
 * @param base path without extension, e.g. `.cache/corpus/train`.
 */
export function writeTokenizedCorpus(base: string, t: TokenizedCorpus): void {
  writeFileSync(`${base}.ids.u16`, bytesOf(t.ids));
  writeFileSync(`${base}.offsets.u32`, bytesOf(t.offsets));
  writeFileSync(`${base}.docs.u32`, bytesOf(t.docs));
}

function readTyped<T extends Uint16Array | Uint32Array>(path: string, Ctor: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  if (!existsSync(path)) throw new Error(`token cache file not found: ${path} (run flowlens data corpus)`);
  const b = readFileSync(path);
  if (b.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) throw new Error(`${path}: size ${b.byteLength} is not a multiple of ${Ctor.BYTES_PER_ELEMENT}`);
  const copy = new ArrayBuffer(b.byteLength);
  new Uint8Array(copy).set(b);
  return new Ctor(copy, 0, b.byteLength / Ctor.BYTES_PER_ELEMENT);
}

/**
 * Reads the cache written by {@link writeTokenizedCorpus}.
 * @throws Error naming a missing or inconsistent file (offsets not ending at the id count, documents
 *   not ending at the sentence count).
 */
export function readTokenizedCorpus(base: string): TokenizedCorpus {
  const ids = readTyped(`${base}.ids.u16`, Uint16Array);
  const offsets = readTyped(`${base}.offsets.u32`, Uint32Array);
  const docs = readTyped(`${base}.docs.u32`, Uint32Array);
  if (offsets.length === 0 || offsets[offsets.length - 1] !== ids.length) throw new Error(`${base}.offsets.u32 does not end at the id count ${ids.length}`);
  if (docs.length === 0 || docs[docs.length - 1] !== offsets.length - 1)
    throw new Error(`${base}.docs.u32 does not end at the sentence count ${offsets.length - 1}`);
  return { ids, offsets, docs };
}
