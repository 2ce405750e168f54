/**
 * A packed pretraining corpus: the token ids of the corpus sentences (the cache `flowlens data corpus`
 * writes beside `train.txt` / `heldout.txt`, see `src/data/corpus/ids.ts`) packed into sequences of at
 * most `maxLen` tokens, `[CLS] sentences… [SEP]`.
 *
 * Packing follows RoBERTa's FULL-SENTENCES (Liu et al. 2019, §4.2): consecutive whole sentences fill a
 * sequence and may cross a document boundary, marked by an extra `[SEP]`; with BERT's
 * `short_seq_prob` (Devlin et al. 2019, `create_pretraining_data.py`: 10 %) a sequence gets a random
 * shorter target length, so that short inputs are seen too; a sentence longer than the target is cut
 * into pieces. No next-sentence prediction (RoBERTa found it unhelpful), so one segment.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import {
  readTokenizedCorpus,
  tokenizeCorpusFile,
  tokenizeDocuments,
  writeTokenizedCorpus,
  type IdTokenizer,
  type TokenizedCorpus,
} from '../../data/corpus/ids.js';
import { hashSeed, mulberry32 } from '../../data/random.js';

/** Packed sequences: sequence `i` is `tokens[offsets[i] .. offsets[i+1])`, `[CLS]` and `[SEP]` included. */
export interface PackedCorpus {
  tokens: Uint16Array;
  /** `[sequences + 1]`. */
  offsets: Uint32Array;
  /** Number of sequences. */
  size: number;
  /** Sentences with at least one token that went into the sequences. */
  sentences: number;
}

/** Packing settings. */
export interface PackOptions {
  /** Maximum tokens per sequence, `[CLS]`/`[SEP]` included (≤ the model's position table). */
  maxLen: number;
  /** Probability of a random shorter target length (BERT: 0.1). */
  shortSeqProb?: number;
  /** Seed of the short-length draws. */
  seed?: number;
}

/** The special ids packing needs (a `WordPieceTokenizer` fits structurally). */
export interface PackIds {
  clsId: number;
  sepId: number;
}

/** Sequence `i` of `c` as a plain array of ids. */
export function sequence(c: PackedCorpus, i: number): number[] {
  return Array.from(c.tokens.subarray(c.offsets[i] as number, c.offsets[i + 1] as number));
}

/**
 * Pack tokenized sentences.
 *
 * @param t sentence ids grouped in documents (see {@link TokenizedCorpus}).
 * @throws Error when `maxLen` < 8.
 */
export function packTokenized(t: TokenizedCorpus, ids: PackIds, opts: PackOptions): PackedCorpus {
  const { maxLen } = opts;
  if (!Number.isInteger(maxLen) || maxLen < 8) throw new Error(`maxLen must be an integer ≥ 8, got ${maxLen}`);
  const rnd = mulberry32(hashSeed(`pack:${opts.seed ?? 1}`));
  const shortProb = opts.shortSeqProb ?? 0.1;
  const { clsId: cls, sepId: sep } = ids;
  const room = maxLen - 2;
  const tokens = new Uint16Array(t.ids.length + 3 * (t.offsets.length + 1));
  let n = 0;
  const offsets: number[] = [0];
  let sentences = 0;
  let chunk: number[] = [];
  const drawTarget = () => (rnd() < shortProb ? 2 + Math.floor(rnd() * (room - 1)) : room);
  let target = drawTarget();
  const emit = () => {
    while (chunk.length && chunk[chunk.length - 1] === sep) chunk.pop(); // no trailing document separator
    if (chunk.length === 0) return;
    tokens[n++] = cls;
    tokens.set(chunk, n);
    n += chunk.length;
    tokens[n++] = sep;
    offsets.push(n);
    chunk = [];
    target = drawTarget();
  };
  const docCount = t.docs.length - 1;
  for (let d = 0; d < docCount; d++) {
    for (let si = t.docs[d] as number; si < (t.docs[d + 1] as number); si++) {
      let s = Array.from(t.ids.subarray(t.offsets[si] as number, t.offsets[si + 1] as number));
      if (s.length === 0) continue; // nothing left after cleaning
      sentences++;
      if (chunk.length + s.length > target && chunk.length > 0) emit();
      while (s.length > target) {
        chunk = s.slice(0, target);
        s = s.slice(target);
        emit();
      }
      chunk.push(...s);
    }
    if (chunk.length > 0 && chunk.length < target - 1)
      chunk.push(sep); // document boundary inside a sequence
    else if (chunk.length >= target - 1) emit();
  }
  emit();
  return { tokens: tokens.slice(0, n), offsets: Uint32Array.from(offsets), size: offsets.length - 1, sentences };
}

/**
 * Tokenize and pack documents held in memory (lists of sentences).
 * @throws Error as {@link packTokenized}, or when the vocabulary exceeds 65,536 ids.
 */
export function packDocuments(docs: readonly (readonly string[])[], tokenizer: IdTokenizer & PackIds, opts: PackOptions): PackedCorpus {
  return packTokenized(tokenizeDocuments(docs, tokenizer), tokenizer, opts);
}

/**
 * The packed corpus of a corpus text file (`…/train.txt`): from its token-id cache (`train.ids.u16`,
 * `train.offsets.u32`, `train.docs.u32`, written by `flowlens data corpus`) when the cache is newer than
 * the text, else tokenized now (and the cache written).
 *
 * @param onProgress called while tokenizing (sentences done, total).
 * @throws Error naming the file when the text is missing or the cache is inconsistent.
 */
export function loadPackedCorpus(
  textPath: string,
  tokenizer: IdTokenizer & PackIds,
  opts: PackOptions,
  onProgress?: (done: number, total: number) => void,
): PackedCorpus {
  if (!existsSync(textPath)) throw new Error(`corpus file not found: ${textPath} (build the corpus with: flowlens data corpus)`);
  const base = textPath.replace(/\.txt$/, '');
  const cache = `${base}.ids.u16`;
  let t: TokenizedCorpus;
  if (existsSync(cache) && statSync(cache).mtimeMs >= statSync(textPath).mtimeMs) t = readTokenizedCorpus(base);
  else {
    t = tokenizeCorpusFile(textPath, tokenizer, onProgress);
    writeTokenizedCorpus(base, t);
  }
  const max = t.ids.reduce((m, x) => (x > m ? x : m), 0);
  if (max >= tokenizer.vocabSize)
    throw new Error(`${cache}: token id ${max} is outside the vocabulary (${tokenizer.vocabSize}); delete the cache to tokenize again`);
  return packTokenized(t, tokenizer, opts);
}
