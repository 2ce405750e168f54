/**
 * Reproduction of Song et al. 2024, "Better Explain Transformers by Illuminating Important
 * Information" (EACL Findings 2024, arXiv 2401.09972; reference LinxinS97/Mask-LRP): Mask-LRP against
 * eight baselines on SST-2 by AOPC and log-odds, with the head statistics, the chosen head mask and the
 * mask ablations.
 *
 * Protocol (paper §3–4; reference `attn_head_stats.py`, `evaluate_explanability.py`, `run_cls.sh`):
 * 1. Head statistics on a parsed corpus (SST-2 dev sentences parsed by link-grammar, see
 *    `src/data/linkGrammar.ts`): syntactic accuracy per relation and relative-offset frequencies
 *    (`src/eval/headStats.ts`).
 * 2. Head masks: syntactic (accuracy > the relation's threshold), positional (an offset's frequency >
 *    0.8), both (the paper's method), and a random mask with as many heads as "both" (seeded).
 * 3. On SST-2 test sentences, for the predicted class: Mask-LRP (both), its ablations, the unmasked
 *    transformer attribution (Chefer 2021a), and the eight baselines: GAE, AttCAT, full LRP, LRP of the
 *    last layer, raw attention of the last layer, attention rollout, attention Grad-CAM, Grad-CAM.
 * 4. AOPC and LOdds over the top 10 … 90 % of tokens replaced by `[PAD]` (`src/eval/aopc.ts`), for all
 *    sentences and for the paper's length filter (≥ 20 tokens, `[CLS]`/`[SEP]` included).
 *
 * Differences from the reference, by design: the explained class is the model's prediction (the
 * reference explains the gold label); GAE is Chefer 2021b's attention × gradient rule (the reference's
 * `GAE` function is the LRP rollout); the model is the project's own 2-layer × 4-head SST-2 classifier
 * (8 heads: the masks are coarse).
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import type { ExampleInput } from '../methods/result.js';
import { explainTrace } from '../methods/lrp/explainTrace.js';
import { relevancePass } from '../methods/lrp/relevance.js';
import { fullLrpFromTrace, lrpLastLayerFromTrace, rawAttentionLastFromTrace, rolloutFromTrace } from '../methods/lrp/lrpMethods.js';
import { maskLrpFromTrace } from '../methods/maskLrp.js';
import { gaeFromTrace } from '../methods/gae.js';
import { attcatFromTrace } from '../methods/attcat.js';
import { attentionGradcamFromTrace, gradcamFromTrace } from '../methods/gradcam.js';
import { mulberry32 } from '../data/random.js';
import type { LinkGrammarOptions } from '../data/linkGrammar.js';
import { headMask, quantileThresholds, randomMaskLike, SONG2024_SST2_THRESHOLDS, type HeadMaskThresholds, type HeadStats } from './headStats.js';
import { measureHeadStats } from './headStatsRun.js';
import { AOPC_FRACTIONS, aopcCurves, aopcSummary, type AopcCurve } from './aopc.js';
import type { SpecialIds, Tokenizer } from '../io/tokenizer.js';

/** The proposed method, the unmasked method it builds on, and the eight baselines (rows of the paper's table). */
export const SONG2024_METHODS = [
  'mask_lrp',
  'transformer_attribution',
  'gae',
  'attcat',
  'full_lrp',
  'lrp_last_layer',
  'raw_attention_last',
  'rollout',
  'attention_gradcam',
  'gradcam',
] as const;
/** The eight baselines of the paper. */
export const SONG2024_BASELINES = ['gae', 'attcat', 'full_lrp', 'lrp_last_layer', 'raw_attention_last', 'rollout', 'attention_gradcam', 'gradcam'] as const;
/**
 * Mask ablations and the model-relative mask: Mask-LRP with the syntactic heads only, the positional
 * heads only, a random mask of the same size; then the same four with the quantile thresholds
 * (`q75`: per relation the 75th percentile of this model's head accuracies, see `quantileThresholds`),
 * and two `_zero` variants (see {@link ZERO_MAP_VARIANTS}).
 */
export const SONG2024_ABLATIONS = [
  'mask_lrp_syntactic',
  'mask_lrp_positional',
  'mask_lrp_random',
  'mask_lrp_q75',
  'mask_lrp_q75_syntactic',
  'mask_lrp_q75_positional',
  'mask_lrp_q75_random',
  'mask_lrp_q75_zero',
  'mask_lrp_q75_random_zero',
] as const;

/**
 * Variants whose masked heads also lose their own attention-map relevance (`maskedHeadMaps: 'zero'`);
 * the others follow the reference code, where a layer's map keeps its unmasked relevance and the mask
 * acts only on what flows to the layers below.
 */
export const ZERO_MAP_VARIANTS: ReadonlySet<string> = new Set(['mask_lrp_q75_zero', 'mask_lrp_q75_random_zero']);
export type Song2024Method = (typeof SONG2024_METHODS)[number] | (typeof SONG2024_ABLATIONS)[number];

/** The mask each Mask-LRP variant uses (keys of {@link Song2024Result.masks}). */
export const MASK_OF: Record<string, string> = {
  mask_lrp: 'paper',
  mask_lrp_syntactic: 'paper_syntactic',
  mask_lrp_positional: 'paper_positional',
  mask_lrp_random: 'paper_random',
  mask_lrp_q75: 'q75',
  mask_lrp_q75_syntactic: 'q75_syntactic',
  mask_lrp_q75_positional: 'q75_positional',
  mask_lrp_q75_random: 'q75_random',
  mask_lrp_q75_zero: 'q75',
  mask_lrp_q75_random_zero: 'q75_random',
};

/** A labelled sentence. */
export interface LabelledSentence {
  label: number;
  text: string;
}

/** Options of {@link runSong2024}. */
export interface Song2024Options {
  /** Sentences the head statistics are computed on (e.g. SST-2 dev). */
  statsCorpus: readonly string[];
  /** Evaluation sentences (SST-2 test). */
  examples: readonly LabelledSentence[];
  /** Mask thresholds (default the paper's SST-2 values). */
  thresholds?: HeadMaskThresholds;
  /** Length filter of the second report (default 20 tokens, the paper). */
  minTokens?: number;
  /** Quantile of the model-relative thresholds (default 0.75; the `q75` masks). */
  quantile?: number;
  /** Seed of the random mask (default 0). */
  seed?: number;
  /** Parser options (cache file, binary). */
  parser?: LinkGrammarOptions;
  /** Called after each head-statistics sentence and each evaluation example. */
  onProgress?: (phase: 'stats' | 'explain', done: number, total: number) => void;
}

/** One row of the results table. */
export interface Song2024Row {
  subset: string;
  method: string;
  aopc: number;
  lodds: number;
  n: number;
}

/** One row of the per-step table. */
export interface Song2024StepRow {
  subset: string;
  method: string;
  fraction: number;
  aopc: number;
  lodds: number;
}

/** Per-example record (plain data). */
export interface Song2024Example {
  index: number;
  label: number;
  predicted: number;
  p0: number;
  length: number;
  tokens: string[];
  /** Scores of each method `[seq]`. */
  scores: Record<string, number[]>;
  /** AOPC of each method on this example (mean over the steps). */
  aopc: Record<string, number>;
}

/** The result of {@link runSong2024}. */
export interface Song2024Result {
  stats: HeadStats;
  /**
   * `[layers][heads]` 0/1 masks: `paper` (syntactic or positional, the paper's thresholds),
   * `paper_syntactic`, `paper_positional`, `paper_random` (as many heads as `paper`, seeded), and the
   * same four for the quantile thresholds (`q75`, …).
   */
  masks: Record<string, number[][]>;
  /** The paper's thresholds and the quantile thresholds. */
  thresholds: { paper: HeadMaskThresholds; q75: HeadMaskThresholds };
  rows: Song2024Row[];
  steps: Song2024StepRow[];
  examples: Song2024Example[];
  accuracy: number;
  minTokens: number;
  fractions: number[];
  /** Seconds per example of one Mask-LRP explanation (trace + relevance pass + rollout), mean. */
  secondsPerMaskLrp: number;
}

/**
 * Run the reproduction (see the module comment).
 *
 * @param model a BERT sequence classifier; @param tokenizer its tokenizer.
 * @returns tables, masks, head statistics and per-example records (plain data).
 * @throws Error when the model is not a classifier, a corpus is empty, or the parser cannot run.
 */
export function runSong2024(model: Bert, tokenizer: Tokenizer, opts: Song2024Options): Song2024Result {
  if (model.head !== 'classifier') throw new Error(`song2024 needs a sequence classifier (e.g. embedded:sst2), the model has the "${model.head}" head`);
  if (opts.statsCorpus.length === 0) throw new Error('song2024: the head-statistics corpus is empty');
  if (opts.examples.length === 0) throw new Error('song2024: no evaluation examples');
  const maxLength = model.config.maxPositionEmbeddings;
  const thresholds = opts.thresholds ?? SONG2024_SST2_THRESHOLDS;
  const minTokens = opts.minTokens ?? 20;
  // 1. Head statistics.
  const stats = measureHeadStats(model, tokenizer, opts.statsCorpus, { parser: opts.parser, onProgress: (d, t) => opts.onProgress?.('stats', d, t) });
  const qThresholds = quantileThresholds(stats, opts.quantile ?? 0.75);
  const rnd = mulberry32(opts.seed ?? 0);
  const masks: Record<string, number[][]> = {};
  for (const [key, th] of [
    ['paper', thresholds],
    ['q75', qThresholds],
  ] as const) {
    masks[key] = headMask(stats, th, 'both');
    masks[`${key}_syntactic`] = headMask(stats, th, 'syntactic');
    masks[`${key}_positional`] = headMask(stats, th, 'positional');
    masks[`${key}_random`] = randomMaskLike(masks[key] as number[][], rnd);
  }
  // 2–3. Explanations and perturbation curves.
  const specialIds: SpecialIds = { clsId: tokenizer.clsId, sepId: tokenizer.sepId, padId: tokenizer.padId };
  const names: Song2024Method[] = [...SONG2024_METHODS, ...SONG2024_ABLATIONS];
  const curves = new Map<string, AopcCurve[]>(names.map((n) => [n, []]));
  const examples: Song2024Example[] = [];
  let correct = 0;
  let maskLrpSeconds = 0;
  opts.examples.forEach((x, index) => {
    const enc = tokenizer.encode(x.text, { maxLength });
    const ex: ExampleInput = { ids: enc.ids, tokens: enc.tokens };
    const t0 = performance.now();
    const et = explainTrace(model, ex);
    try {
      const ml = maskLrpFromTrace(model, et, { headMask: masks.paper });
      maskLrpSeconds += (performance.now() - t0) / 1000;
      const rel = relevancePass(model, et);
      const scores: Record<string, number[]> = {
        mask_lrp: ml.scores,
        transformer_attribution: maskLrpFromTrace(model, et, {}, rel).scores,
        gae: gaeFromTrace(et).scores,
        attcat: attcatFromTrace(et).scores,
        full_lrp: fullLrpFromTrace(model, et, {}, rel).scores,
        lrp_last_layer: lrpLastLayerFromTrace(model, et, {}, rel).scores,
        raw_attention_last: rawAttentionLastFromTrace(et).scores,
        rollout: rolloutFromTrace(et).scores,
        attention_gradcam: attentionGradcamFromTrace(et).scores,
        gradcam: gradcamFromTrace(et).scores,
      };
      for (const a of SONG2024_ABLATIONS) {
        scores[a] = maskLrpFromTrace(model, et, {
          headMask: masks[MASK_OF[a] as string],
          maskedHeadMaps: ZERO_MAP_VARIANTS.has(a) ? 'zero' : 'reference',
        }).scores;
      }
      const cs = aopcCurves(
        model,
        ex,
        names.map((n) => scores[n] as number[]),
        et.target,
        { specialIds },
      );
      const per: Record<string, number> = {};
      names.forEach((n, k) => {
        const c = cs[k] as AopcCurve;
        (curves.get(n) as AopcCurve[]).push(c);
        per[n] = c.probs.reduce((a, p) => a + (c.p0 - p), 0) / c.probs.length;
      });
      if (et.target === x.label) correct++;
      examples.push({
        index,
        label: x.label,
        predicted: et.target,
        p0: (cs[0] as AopcCurve).p0,
        length: enc.ids.length,
        tokens: enc.tokens,
        scores,
        aopc: per,
      });
    } finally {
      et.dispose();
    }
    opts.onProgress?.('explain', index + 1, opts.examples.length);
  });
  // 4. Tables.
  const rows: Song2024Row[] = [];
  const steps: Song2024StepRow[] = [];
  const subsets: [string, number][] = [
    ['all', 0],
    [`tokens>=${minTokens}`, minTokens],
  ];
  for (const [subset, min] of subsets) {
    for (const n of names) {
      const s = aopcSummary(curves.get(n) as AopcCurve[], { minTokens: min });
      rows.push({ subset, method: n, aopc: s.aopcMean, lodds: s.loddsMean, n: s.n });
      AOPC_FRACTIONS.forEach((f, k) => steps.push({ subset, method: n, fraction: f, aopc: s.aopc[k] ?? NaN, lodds: s.lodds[k] ?? NaN }));
    }
  }
  return {
    stats,
    masks,
    thresholds: { paper: thresholds, q75: qThresholds },
    rows,
    steps,
    examples,
    accuracy: correct / opts.examples.length,
    minTokens,
    fractions: [...AOPC_FRACTIONS],
    secondsPerMaskLrp: maskLrpSeconds / opts.examples.length,
  };
}

/** The comparison of Mask-LRP with one other method on one subset. */
export interface Song2024Comparison {
  subset: string;
  method: string;
  aopc: number;
  lodds: number;
  /** Mask-LRP's AOPC relative to this method's: (ours − theirs) / |theirs| (positive = Mask-LRP better). */
  aopcGain: number;
  /** Mask-LRP's LOdds relative gain: (theirs − ours) / |theirs| (positive = Mask-LRP better; lower LOdds is better). */
  loddsGain: number;
  maskLrpBetterAopc: boolean;
  maskLrpBetterLodds: boolean;
}

/**
 * Mask-LRP (`oursMethod`, default `mask_lrp`) against the unmasked method and the baselines, per subset (the paper's claim: better on both
 * metrics than the unmasked method and all baselines, by 3 % to 33 %).
 */
export function compareWithMaskLrp(rows: readonly Song2024Row[], oursMethod = 'mask_lrp'): Song2024Comparison[] {
  const out: Song2024Comparison[] = [];
  for (const subset of [...new Set(rows.map((r) => r.subset))]) {
    const ours = rows.find((r) => r.subset === subset && r.method === oursMethod);
    if (!ours) continue;
    for (const r of rows.filter((x) => x.subset === subset && x.method !== oursMethod && !x.method.startsWith('mask_lrp'))) {
      out.push({
        subset,
        method: r.method,
        aopc: r.aopc,
        lodds: r.lodds,
        aopcGain: (ours.aopc - r.aopc) / Math.abs(r.aopc),
        loddsGain: (r.lodds - ours.lodds) / Math.abs(r.lodds),
        maskLrpBetterAopc: ours.aopc > r.aopc,
        maskLrpBetterLodds: ours.lodds < r.lodds,
      });
    }
  }
  return out;
}
