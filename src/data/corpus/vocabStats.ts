/**
 * How well a WordPiece vocabulary fits a tokenised corpus: tokens per word, [UNK] share, the share of
 * words split into pieces, and how many vocabulary entries ever occur. Used to decide between the
 * bert-base-uncased vocabulary and one trained on the corpus (issue 12, part 2).
 *
 * @module
 */
import type { TokenizedCorpus } from './ids.js';

/** Vocabulary-fit figures of one tokenised corpus. */
export interface VocabStats {
  /** WordPiece tokens (no [CLS]/[SEP]). */
  tokens: number;
  /** Whitespace-separated words of the same sentences. */
  words: number;
  tokensPerWord: number;
  /** Words of the basic tokenizer (whitespace and punctuation split): tokens that do not start with `##`. */
  basicWords: number;
  /** Share of basic words that became two or more pieces. */
  splitWordShare: number;
  unk: number;
  unkShare: number;
  vocabSize: number;
  /** Entries that are not `[unusedN]` or special tokens. */
  realEntries: number;
  /** Entries occurring at least once / 10 times / 100 times. */
  used: number;
  used10: number;
  used100: number;
  /** used / vocabSize; (used entries that are not [unusedN] or special) / realEntries. */
  usedShare: number;
  usedShareOfReal: number;
}

/**
 * Computes {@link VocabStats}.
 *
 * @param t the tokenised corpus. @param vocab the vocabulary (index = id). @param words whitespace words
 * of the same text. @param unkId id of `[UNK]`.
 */
export function vocabStats(t: TokenizedCorpus, vocab: readonly string[], words: number, unkId: number): VocabStats {
  const counts = new Float64Array(vocab.length);
  const isCont = new Uint8Array(vocab.length);
  vocab.forEach((v, i) => {
    if (v.startsWith('##')) isCont[i] = 1;
  });
  let cont = 0;
  let splitWords = 0;
  for (let s = 0; s + 1 < t.offsets.length; s++) {
    let prevCont = true;
    for (let i = t.offsets[s] as number; i < (t.offsets[s + 1] as number); i++) {
      const id = t.ids[i] as number;
      counts[id]++;
      if (isCont[id]) {
        cont++;
        if (!prevCont) splitWords++;
        prevCont = true;
      } else prevCont = false;
    }
  }
  const tokens = t.ids.length;
  const basicWords = tokens - cont;
  const special = (v: string) => /^\[(unused\d+|PAD|UNK|CLS|SEP|MASK)\]$/.test(v);
  let used = 0;
  let usedReal = 0;
  let used10 = 0;
  let used100 = 0;
  counts.forEach((c, id) => {
    if (c >= 1) {
      used++;
      if (!special(vocab[id] as string)) usedReal++;
    }
    if (c >= 10) used10++;
    if (c >= 100) used100++;
  });
  const realEntries = vocab.filter((v) => !special(v)).length;
  const unk = counts[unkId] ?? 0;
  return {
    tokens,
    words,
    tokensPerWord: tokens / Math.max(1, words),
    basicWords,
    splitWordShare: splitWords / Math.max(1, basicWords),
    unk,
    unkShare: unk / Math.max(1, tokens),
    vocabSize: vocab.length,
    realEntries,
    used,
    used10,
    used100,
    usedShare: used / vocab.length,
    usedShareOfReal: usedReal / Math.max(1, realEntries),
  };
}

/** The figures as the lines of the data card. */
export function vocabSummaryLines(v: VocabStats, seconds: number, cpuSeconds?: number): string[] {
  const f = (n: number) => n.toLocaleString('en-US');
  return [
    `train.txt: ${f(v.tokens)} WordPiece tokens for ${f(v.words)} whitespace words: **${v.tokensPerWord.toFixed(3)} tokens per word**; ${(100 * v.splitWordShare).toFixed(2)} % of the ${f(v.basicWords)} basic-tokenizer words (punctuation split off) become two or more pieces.`,
    `[UNK]: ${f(v.unk)} tokens, **${(100 * v.unkShare).toFixed(4)} %** of all tokens.`,
    `Vocabulary entries that occur: **${f(v.used)} of ${f(v.vocabSize)} (${(100 * v.usedShare).toFixed(1)} %)**; of the ${f(v.realEntries)} entries that are not [unusedN] or special tokens, ${(100 * v.usedShareOfReal).toFixed(1)} %; ${f(v.used10)} occur ≥ 10 times, ${f(v.used100)} ≥ 100 times.`,
    `Tokenising train + held-out with the project tokenizer (src/io/tokenizer.ts) took ${seconds.toFixed(0)} s${cpuSeconds === undefined ? '' : ` (${cpuSeconds.toFixed(0)} s of CPU)`}; the ids are cached (see Files).`,
  ];
}
