/**
 * A tokenized, packed pretraining corpus: the corpus text (one sentence per line, documents separated by
 * an empty line; see `flowlens data corpus`) tokenized with the model's WordPiece tokenizer and packed
 * into sequences of at most `maxLen` tokens, `[CLS] sentences… [SEP]`.
 *
 * Packing follows RoBERTa's FULL-SENTENCES (Liu et al. 2019, §4.2): consecutive whole sentences fill a
 * sequence and may cross a document boundary, marked by an extra `[SEP]`; with BERT's
 * `short_seq_prob` (Devlin et al. 2019, `create_pretraining_data.py`: 10 %) a sequence gets a random
 * shorter target length, so that short inputs are seen too; a sentence longer than the target is cut
 * into pieces. No next-sentence prediction (RoBERTa found it unhelpful), so one segment.
 *
 * Stored as `Uint16Array` token ids (vocabularies up to 65,536) with `Uint32Array` sequence offsets, and
 * cached on disk keyed by the text file, the vocabulary and the packing settings.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/safetensors.js';
import type { WordPieceTokenizer } from '../../io/tokenizer.js';
import { hashSeed, mulberry32 } from '../../data/random.js';

/** Packed sequences: sequence `i` is `tokens[offsets[i] .. offsets[i+1])`, `[CLS]` and `[SEP]` included. */
export interface PackedCorpus {
  tokens: Uint16Array;
  /** `[sequences + 1]`. */
  offsets: Uint32Array;
  /** Number of sequences. */
  size: number;
  /** Words (whitespace-separated) and sentences read from the text. */
  words: number;
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

/** Sequence `i` of `c` as a plain array of ids. */
export function sequence(c: PackedCorpus, i: number): number[] {
  return Array.from(c.tokens.subarray(c.offsets[i] as number, c.offsets[i + 1] as number));
}

/**
 * Read a corpus text file into documents of sentences.
 * @throws Error naming the file when it is missing or holds no sentence.
 */
export function readCorpusText(path: string): string[][] {
  if (!existsSync(path)) throw new Error(`corpus file not found: ${path} (build the corpus with: flowlens data corpus)`);
  const docs: string[][] = [];
  let cur: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const s = line.trim();
    if (s === '') {
      if (cur.length) docs.push(cur);
      cur = [];
    } else cur.push(s);
  }
  if (cur.length) docs.push(cur);
  if (docs.length === 0) throw new Error(`corpus file ${path} holds no sentence`);
  return docs;
}

/**
 * Tokenize and pack documents.
 *
 * @param docs documents as lists of sentences.
 * @param onProgress called with (documents done, total) every few hundred documents.
 * @throws Error when `maxLen` < 8 or exceeds 65,536 tokens of vocabulary.
 */
export function packDocuments(docs: readonly (readonly string[])[], tokenizer: WordPieceTokenizer, opts: PackOptions, onProgress?: (done: number, total: number) => void): PackedCorpus {
  const { maxLen } = opts;
  if (!Number.isInteger(maxLen) || maxLen < 8) throw new Error(`maxLen must be an integer ≥ 8, got ${maxLen}`);
  if (tokenizer.vocabSize > 65536) throw new Error(`packed corpora store ids as 16 bits; vocabulary of ${tokenizer.vocabSize} is too large`);
  const rnd = mulberry32(hashSeed(`pack:${opts.seed ?? 1}`));
  const shortProb = opts.shortSeqProb ?? 0.1;
  const cls = tokenizer.clsId;
  const sep = tokenizer.sepId;
  const room = maxLen - 2;
  const tokens: number[] = [];
  const offsets: number[] = [0];
  let words = 0;
  let sentences = 0;
  let chunk: number[] = [];
  const drawTarget = () => (rnd() < shortProb ? 2 + Math.floor(rnd() * (room - 1)) : room);
  let target = drawTarget();
  const emit = () => {
    while (chunk.length && chunk[chunk.length - 1] === sep) chunk.pop(); // no trailing document separator
    if (chunk.length === 0) return;
    tokens.push(cls, ...chunk, sep);
    offsets.push(tokens.length);
    chunk = [];
    target = drawTarget();
  };
  docs.forEach((doc, d) => {
    for (const sentence of doc) {
      let ids: number[];
      try {
        ids = tokenizer.encode(sentence, { addSpecialTokens: false }).ids;
      } catch {
        continue; // nothing left after cleaning
      }
      sentences++;
      words += sentence.split(/\s+/).filter(Boolean).length;
      if (chunk.length + ids.length > target && chunk.length > 0) emit();
      while (ids.length > target) {
        chunk = ids.slice(0, target);
        ids = ids.slice(target);
        emit();
      }
      chunk.push(...ids);
    }
    if (chunk.length > 0 && chunk.length < target - 1) chunk.push(sep); // document boundary inside a sequence
    else if (chunk.length >= target - 1) emit();
    if (onProgress && d % 500 === 0) onProgress(d, docs.length);
  });
  emit();
  onProgress?.(docs.length, docs.length);
  return { tokens: Uint16Array.from(tokens), offsets: Uint32Array.from(offsets), size: offsets.length - 1, words, sentences };
}

/** Key of a packed-corpus cache entry. */
function cacheKey(textPath: string, tokenizer: WordPieceTokenizer, opts: PackOptions): string {
  const st = statSync(textPath);
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, textPath, size: st.size, mtime: st.mtimeMs, maxLen: opts.maxLen, short: opts.shortSeqProb ?? 0.1, seed: opts.seed ?? 1, lower: tokenizer.doLowerCase }));
  h.update(tokenizer.vocab.join('\n'));
  return h.digest('hex').slice(0, 16);
}

/**
 * The packed corpus of `textPath`, from the cache folder when present, else built and cached.
 *
 * Cache file: `<cacheDir>/packed-<key>.bin`: a JSON header line `{size, tokens, words, sentences}`,
 * then the offsets (`Uint32`, little-endian) and the tokens (`Uint16`).
 */
export function loadPackedCorpus(textPath: string, tokenizer: WordPieceTokenizer, opts: PackOptions & { cacheDir: string }, onProgress?: (done: number, total: number) => void): PackedCorpus {
  const file = join(opts.cacheDir, `packed-${cacheKey(textPath, tokenizer, opts)}.bin`);
  if (existsSync(file)) {
    const buf = readFileSync(file);
    const nl = buf.indexOf(10);
    const head = JSON.parse(buf.subarray(0, nl).toString('utf8')) as { size: number; tokens: number; words: number; sentences: number };
    let at = nl + 1;
    const pad = (4 - (at % 4)) % 4;
    at += pad;
    const offsets = new Uint32Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + (head.size + 1) * 4));
    at += (head.size + 1) * 4;
    const tokens = new Uint16Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + head.tokens * 2));
    return { tokens, offsets, size: head.size, words: head.words, sentences: head.sentences };
  }
  const packed = packDocuments(readCorpusText(textPath), tokenizer, opts, onProgress);
  mkdirSync(opts.cacheDir, { recursive: true });
  const header = Buffer.from(JSON.stringify({ size: packed.size, tokens: packed.tokens.length, words: packed.words, sentences: packed.sentences }) + '\n', 'utf8');
  const pad = new Uint8Array((4 - (header.length % 4)) % 4);
  writeFileAtomic(file, [header, pad, new Uint8Array(packed.offsets.buffer), new Uint8Array(packed.tokens.buffer)]);
  return packed;
}
