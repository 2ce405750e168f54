/**
 * Head statistics of a model on a corpus (Song et al. 2024, §3.1; after Voita et al. 2019): parse the
 * sentences with link-grammar, run the model on each, and accumulate every head's syntactic accuracy
 * and relative-offset frequencies (`./headStats.ts`). Also the layer × head grid that shows which heads
 * the song2024 criteria call positional or syntactic.
 *
 * @module
 */
import { parseSentences, RELATIONS, type LinkGrammarOptions, type Relation } from '../data/linkGrammar.js';
import type { Bert } from '../model/bert.js';
import {
  accumulateHeadStats,
  emptyHeadStats,
  finishHeadStats,
  tokenWordIndex,
  SONG2024_SST2_THRESHOLDS,
  type HeadMaskThresholds,
  type HeadStats,
} from './headStats.js';

/** A tokenizer as head statistics need it. */
export interface HeadStatsTokenizer {
  encode(text: string, opts?: { maxLength?: number }): { ids: number[]; tokens: string[] };
}

/**
 * Head statistics of `model` on `sentences`.
 *
 * @param sentences plain sentences (parsed here, parses cached by `parseSentences`).
 * @param opts.onProgress called with (done, total) after each sentence.
 * @returns the statistics (`[layers][heads]` accuracies per relation, offset frequencies).
 * @throws Error when `sentences` is empty or link-grammar cannot run (as `parseSentences`).
 */
export function measureHeadStats(
  model: Bert,
  tokenizer: HeadStatsTokenizer,
  sentences: readonly string[],
  opts: { parser?: LinkGrammarOptions; onProgress?: (done: number, total: number) => void } = {},
): HeadStats {
  if (sentences.length === 0) throw new Error('head statistics: the corpus is empty');
  const maxLength = model.config.maxPositionEmbeddings;
  const parses = parseSentences(sentences, opts.parser);
  const acc = emptyHeadStats(model.layers, model.heads);
  parses.forEach((p, i) => {
    const enc = tokenizer.encode(p.sentence, { maxLength });
    const tr = model.forward({ ids: [enc.ids] }, { record: ['blocks.*.attn.hook_pattern'] });
    const att = tr.attentionArray();
    tr.dispose();
    accumulateHeadStats(acc, att, enc.ids.length, tokenWordIndex(enc.tokens, p.words), p.arcs);
    opts.onProgress?.(i + 1, parses.length);
  });
  return finishHeadStats(acc);
}

/** What the song2024 criteria say of each head. */
export interface HeadRoles {
  /** `[layers][heads]` the offset whose frequency is above the positional threshold, or null. */
  positional: (number | null)[][];
  /** `[layers][heads]` the relations whose accuracy is above their threshold. */
  syntactic: Relation[][][];
  counts: { positional: number; syntactic: number; either: number; total: number };
}

/** Classify every head by `thresholds` (default: the paper's SST-2 thresholds). */
export function headRoles(stats: HeadStats, thresholds: HeadMaskThresholds = SONG2024_SST2_THRESHOLDS): HeadRoles {
  let pos = 0;
  let syn = 0;
  let either = 0;
  const positional: (number | null)[][] = [];
  const syntactic: Relation[][][] = [];
  for (let l = 0; l < stats.layers; l++) {
    positional.push([]);
    syntactic.push([]);
    for (let h = 0; h < stats.heads; h++) {
      const fr = stats.offsetFrequency[l]![h]!;
      let off: number | null = null;
      fr.forEach((f, k) => {
        if (f > thresholds.positional) off = stats.offsets[k] as number;
      });
      const rels = RELATIONS.filter((r) => stats.arcCounts[r] > 0 && stats.accuracy[r][l]![h]! > thresholds.syntactic[r]);
      positional[l]!.push(off);
      syntactic[l]!.push(rels);
      if (off !== null) pos++;
      if (rels.length) syn++;
      if (off !== null || rels.length) either++;
    }
  }
  return { positional, syntactic, counts: { positional: pos, syntactic: syn, either, total: stats.layers * stats.heads } };
}

/**
 * The layer × head grid as text: `P-1` a positional head attending one token to the left, `nsubj` a
 * syntactic head for that relation (first one listed), `P+1/amod` both, `.` neither.
 */
export function headRoleGrid(roles: HeadRoles): string {
  const cells = roles.positional.map((row, l) =>
    row.map((off, h) => {
      const parts: string[] = [];
      if (off !== null) parts.push(`P${off > 0 ? '+' : ''}${off}`);
      const rels = roles.syntactic[l]![h]!;
      if (rels.length) parts.push(rels.join('+'));
      return parts.length ? parts.join('/') : '.';
    }),
  );
  const w = Math.max(4, ...cells.flat().map((c) => c.length));
  const H = cells[0]?.length ?? 0;
  const head = '     ' + Array.from({ length: H }, (_, h) => `h${h}`.padEnd(w)).join(' ');
  return [head, ...cells.map((row, l) => `L${l + 1}`.padEnd(5) + row.map((c) => c.padEnd(w)).join(' '))].join('\n');
}
