/**
 * Head statistics of Song et al. 2024 ("Better Explain Transformers by Illuminating Important
 * Information", arXiv 2401.09972, §3.1; reference LinxinS97/Mask-LRP `attn_head_stats.py`,
 * `utils/preprocess.py` `generate_head_mask`), after Voita et al. 2019's syntactic and positional heads:
 *
 * - syntactic accuracy of head (l, h) for relation r ∈ {nsubj, obj, amod, advmod}: over every arc
 *   `dependent → head` of relation r in the corpus, the share whose dependent's (first word-piece)
 *   attention row has its maximum on a word piece of the head word (whole-word match);
 * - relative-offset frequency of head (l, h): over every query position i of every sentence, how often
 *   the most-attended key is at `j = i + offset` (all positions, `[CLS]`/`[SEP]` included, as the
 *   reference's `argmax(head, axis=1) − arange`);
 * - the head mask (1 keep): a head is kept if its accuracy for some relation exceeds that relation's
 *   threshold, or one offset's frequency exceeds the positional threshold. Defaults: the paper's SST-2
 *   run (`run_cls.sh`: `--synt-thres 0.46,0.43,0.76,0.72`, `--pos-thres 0.8`).
 *
 * Everything here is plain data: accuracies `[layers][heads]` per relation, offset frequencies
 * `[layers][heads][offset]`, masks `[layers][heads]` of 0/1 (for the head-mask grid widget).
 *
 * @module
 */
import { RELATIONS, type Arc, type Relation } from '../data/linkGrammar.js';
import type { TemplateExample } from '../data/templates.js';
import { OptionError } from '../errors.js';

/** Running counts of {@link accumulateHeadStats}. */
export interface HeadStatsAccumulator {
  layers: number;
  heads: number;
  /** `[relation][layer][head]` arcs whose dependent attends most to its head word. */
  hits: Record<Relation, number[][]>;
  /** `[relation]` arcs seen (the same for every head). */
  arcs: Record<Relation, number>;
  /** Per head, offset → count of query positions whose most-attended key is at that offset. */
  offsetCounts: Map<number, number>[][];
  /** Query positions counted (the same for every head). */
  queries: number;
  sentences: number;
}

/** Final head statistics (plain arrays). */
export interface HeadStats {
  layers: number;
  heads: number;
  relations: Relation[];
  /** `[relation]` → `[layers][heads]` share of arcs hit (NaN-free: 0 when no arc of the relation was seen). */
  accuracy: Record<Relation, number[][]>;
  /** `[relation]` number of arcs the accuracy is over. */
  arcCounts: Record<Relation, number>;
  /** The offsets of {@link HeadStats.offsetFrequency}'s last axis, ascending (e.g. −3 … 3). */
  offsets: number[];
  /** `[layers][heads][offset index]` share of query positions whose most-attended key is at that offset. */
  offsetFrequency: number[][][];
  /** `[layers][heads]` the most frequent offset of each head, and its frequency. */
  topOffset: number[][];
  topOffsetFrequency: number[][];
  queries: number;
  sentences: number;
}

/** A new, empty accumulator for a model with `layers × heads` heads. */
export function emptyHeadStats(layers: number, heads: number): HeadStatsAccumulator {
  const grid = () => Array.from({ length: layers }, () => new Array<number>(heads).fill(0));
  return {
    layers,
    heads,
    hits: Object.fromEntries(RELATIONS.map((r) => [r, grid()])) as Record<Relation, number[][]>,
    arcs: Object.fromEntries(RELATIONS.map((r) => [r, 0])) as Record<Relation, number>,
    offsetCounts: Array.from({ length: layers }, () => Array.from({ length: heads }, () => new Map<number, number>())),
    queries: 0,
    sentences: 0,
  };
}

/**
 * Add one sentence's attention maps to the counts.
 *
 * @param attention `[layers, heads, seq, seq]` row-major (row = query), as `Trace.attentionArray()`.
 * @param wordOf `[seq]` the word index of each token (−1 for `[CLS]`, `[SEP]`, padding).
 * @param arcs dependency arcs between word indices (see `src/data/linkGrammar.ts`).
 * @throws Error when `attention` or `wordOf` does not fit the accumulator and `seq`.
 */
export function accumulateHeadStats(
  acc: HeadStatsAccumulator,
  attention: ArrayLike<number>,
  seq: number,
  wordOf: readonly number[],
  arcs: readonly Arc[],
): void {
  const { layers, heads } = acc;
  const ss = seq * seq;
  if (attention.length !== layers * heads * ss)
    throw new Error(`accumulateHeadStats: attention has ${attention.length} entries, expected ${layers}·${heads}·${seq}·${seq}`);
  if (wordOf.length !== seq) throw new Error(`accumulateHeadStats: wordOf has ${wordOf.length} entries for ${seq} tokens`);
  const firstToken = new Map<number, number>();
  wordOf.forEach((w, i) => {
    if (w >= 0 && !firstToken.has(w)) firstToken.set(w, i);
  });
  const usable = arcs.filter((a) => firstToken.has(a.dependent) && firstToken.has(a.head));
  for (const a of usable) acc.arcs[a.relation]++;
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const base = (l * heads + h) * ss;
      const argmax = new Array<number>(seq);
      for (let i = 0; i < seq; i++) {
        let best = 0;
        for (let j = 1; j < seq; j++) if (attention[base + i * seq + j] > attention[base + i * seq + best]) best = j;
        argmax[i] = best;
        const m = acc.offsetCounts[l][h];
        m.set(best - i, (m.get(best - i) ?? 0) + 1);
      }
      for (const a of usable) {
        const q = firstToken.get(a.dependent) as number;
        if (wordOf[argmax[q]] === a.head) acc.hits[a.relation][l][h]++;
      }
    }
  }
  acc.queries += seq;
  acc.sentences++;
}

/** Turn counts into shares. */
export function finishHeadStats(acc: HeadStatsAccumulator): HeadStats {
  const { layers, heads } = acc;
  const accuracy = Object.fromEntries(RELATIONS.map((r) => [r, acc.hits[r].map((row) => row.map((v) => (acc.arcs[r] > 0 ? v / acc.arcs[r] : 0)))])) as Record<
    Relation,
    number[][]
  >;
  const all = new Set<number>();
  for (const row of acc.offsetCounts) for (const m of row) for (const k of m.keys()) all.add(k);
  const offsets = [...all].sort((a, b) => a - b);
  const offsetFrequency = acc.offsetCounts.map((row) => row.map((m) => offsets.map((o) => (acc.queries ? (m.get(o) ?? 0) / acc.queries : 0))));
  const topOffset: number[][] = [];
  const topOffsetFrequency: number[][] = [];
  for (let l = 0; l < layers; l++) {
    topOffset.push([]);
    topOffsetFrequency.push([]);
    for (let h = 0; h < heads; h++) {
      const f = offsetFrequency[l][h];
      let b = 0;
      for (let k = 1; k < f.length; k++) if (f[k] > f[b]) b = k;
      topOffset[l].push(offsets[b] ?? 0);
      topOffsetFrequency[l].push(f[b] ?? 0);
    }
  }
  return {
    layers,
    heads,
    relations: [...RELATIONS],
    accuracy,
    arcCounts: { ...acc.arcs },
    offsets,
    offsetFrequency,
    topOffset,
    topOffsetFrequency,
    queries: acc.queries,
    sentences: acc.sentences,
  };
}

/** Thresholds of the head mask. */
export interface HeadMaskThresholds {
  /** Per relation: keep a head whose accuracy is strictly above it. */
  syntactic: Record<Relation, number>;
  /** Keep a head one of whose offsets has a frequency strictly above it. */
  positional: number;
}

/** The paper's SST-2 thresholds (`run_cls.sh`: nsubj 0.46, obj 0.43, amod 0.76, advmod 0.72; positional 0.8). */
export const SONG2024_SST2_THRESHOLDS: HeadMaskThresholds = {
  syntactic: { nsubj: 0.46, obj: 0.43, amod: 0.76, advmod: 0.72 },
  positional: 0.8,
};

/** Which heads a mask keeps. */
export type MaskKind = 'syntactic' | 'positional' | 'both';

/**
 * The head mask of Mask-LRP (reference `generate_head_mask`, mask types `synt`, `pos`, `synt_pos`).
 *
 * @param kind `'syntactic'`, `'positional'` or `'both'` (default, the paper's method).
 * @returns `[layers][heads]` of 1 (keep) / 0 (drop).
 * @throws Error when a threshold is missing or not a number.
 */
export function headMask(stats: HeadStats, thresholds: HeadMaskThresholds = SONG2024_SST2_THRESHOLDS, kind: MaskKind = 'both'): number[][] {
  for (const r of RELATIONS) {
    if (typeof thresholds.syntactic[r] !== 'number' || Number.isNaN(thresholds.syntactic[r])) throw new Error(`headMask: no syntactic threshold for ${r}`);
  }
  if (typeof thresholds.positional !== 'number' || Number.isNaN(thresholds.positional)) throw new Error('headMask: positional threshold must be a number');
  return Array.from({ length: stats.layers }, (_, l) =>
    Array.from({ length: stats.heads }, (_, h) => {
      const syn = RELATIONS.some((r) => stats.arcCounts[r] > 0 && stats.accuracy[r][l][h] > thresholds.syntactic[r]);
      const pos = stats.offsetFrequency[l][h].some((f) => f > thresholds.positional);
      const keep = kind === 'syntactic' ? syn : kind === 'positional' ? pos : syn || pos;
      return keep ? 1 : 0;
    }),
  );
}

/**
 * A random mask keeping as many heads as `like` (the paper's `random_abla` ablation).
 * @param rnd uniform [0, 1) generator (seeded, e.g. `mulberry32`).
 * @returns `[layers][heads]` 0/1 with the same number of ones as `like`.
 */
export function randomMaskLike(like: number[][], rnd: () => number): number[][] {
  const L = like.length;
  const H = like[0]?.length ?? 0;
  const n = like.flat().filter((v) => v !== 0).length;
  const idx = Array.from({ length: L * H }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  const keep = new Set(idx.slice(0, n));
  return Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => (keep.has(l * H + h) ? 1 : 0)));
}

/**
 * Word index of each word-piece token, by aligning characters (`##` removed) to the words
 * (whitespace split, lower-cased as an uncased tokenizer does).
 *
 * @param tokens `[seq]` word pieces incl. `[CLS]`/`[SEP]`/`[PAD]` (→ −1); `[UNK]` takes the rest of the current word.
 * @param words the sentence's words.
 * @returns `[seq]` word indices.
 */
export function tokenWordIndex(tokens: readonly string[], words: readonly string[]): number[] {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '');
  const ends: number[] = [];
  let off = 0;
  for (const w of words) {
    off += norm(w).length;
    ends.push(off);
  }
  const wordAt = (c: number): number => {
    for (let k = 0; k < ends.length; k++) if (c < (ends[k] as number)) return k;
    return ends.length - 1;
  };
  const out: number[] = [];
  let c = 0;
  for (const t of tokens) {
    if (t === '[CLS]' || t === '[SEP]' || t === '[PAD]' || t === '[MASK]') {
      out.push(-1);
      continue;
    }
    const w = wordAt(c);
    out.push(w);
    if (t === '[UNK]') c = ends[w] as number;
    else c += (t.startsWith('##') ? t.slice(2) : t).length;
  }
  return out;
}

/**
 * Gold arcs of a templated sentence (`src/data/templates.ts`): each agreeing verb's controller is its
 * subject (`nsubj`, controller → verb). Reflexive targets give no arc (antecedence is not one of the
 * four relations); the templates carry no gold obj/amod/advmod arcs.
 */
export function templateArcs(example: TemplateExample): Arc[] {
  return example.targets.filter((t) => t.kind === 'verb').map((t) => ({ dependent: t.controller, head: t.index, relation: 'nsubj' as const }));
}

/**
 * Thresholds relative to one model's heads: per relation, the `q`-quantile of the heads' accuracies
 * (so roughly the top `1 − q` of heads are kept for each relation); the positional threshold is kept
 * at `positional` (default the paper's 0.8). For models whose heads never reach the paper's absolute
 * thresholds (a small model trained from scratch), where the paper's values give an empty mask.
 *
 * @param q quantile in (0, 1), e.g. 0.75.
 * @throws RangeError when q is outside (0, 1).
 */
export function quantileThresholds(stats: HeadStats, q: number, positional = SONG2024_SST2_THRESHOLDS.positional): HeadMaskThresholds {
  if (!(q > 0 && q < 1)) throw new OptionError(`quantileThresholds: q must be in (0, 1), got ${q}`);
  const syntactic = {} as Record<Relation, number>;
  for (const r of RELATIONS) {
    const v = stats.accuracy[r].flat().sort((a, b) => a - b);
    // Linear interpolation between order statistics (numpy's default).
    const pos = q * (v.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(v.length - 1, lo + 1);
    syntactic[r] = (v[lo] as number) + (pos - lo) * ((v[hi] as number) - (v[lo] as number));
  }
  return { syntactic, positional };
}
