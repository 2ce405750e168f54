/**
 * Evaluation of a pretrained masked LM with no task training: zero-shot targeted syntactic evaluation
 * (Marvin & Linzen 2018, scored as Goldberg 2019) per construction, and the song2024 head statistics
 * (positional and syntactic heads) as a layer × head grid. The result is `evaluation.json`, which the
 * pretrained model's card shows.
 *
 * @module
 */
import type { LoadedModel } from '../model/load.js';
import type { LinkGrammarOptions } from '../data/linkGrammar.js';
import { marvinLinzenAccuracy } from './agreement.js';
import { SONG2024_SST2_THRESHOLDS } from './headStats.js';
import { headRoleGrid, headRoles, measureHeadStats } from './headStatsRun.js';

/** What {@link evaluatePretrained} measures. */
export interface PretrainedEvaluation {
  model: string;
  /** Training step of the model when evaluated (from its `training.json`), if known. */
  step?: number;
  marvinLinzen: { rows: { construction: string; accuracy: number; n: number }[]; overall: number; command?: string };
  headStats: {
    positional: number;
    syntactic: number;
    either: number;
    total: number;
    /** The grid (see {@link headRoleGrid}). */
    grid: string;
    sentences: number;
    corpus: string;
    thresholds: typeof SONG2024_SST2_THRESHOLDS;
    /** `[layers][heads]` best syntactic accuracy over the four relations. */
    bestSyntacticAccuracy: number[][];
    /** `[layers][heads]` frequency of the most frequent offset. */
    topOffsetFrequency: number[][];
    command?: string;
  };
}

/**
 * Zero-shot agreement accuracy and head statistics of a masked LM.
 *
 * @param loaded a `BertForMaskedLM` with its tokenizer.
 * @param opts.perConstruction Marvin & Linzen pairs per construction (balanced over conditions).
 * @param opts.headSentences sentences for the head statistics; `opts.headCorpusName` names them.
 * @throws Error when the model is not a masked LM, or as `marvinLinzenAccuracy` / `measureHeadStats`.
 */
export async function evaluatePretrained(
  loaded: LoadedModel,
  opts: {
    perConstruction: number;
    headSentences: string[];
    headCorpusName: string;
    parser?: LinkGrammarOptions;
    onProgress?: (phase: string, done: number, total: number) => void;
  },
): Promise<PretrainedEvaluation> {
  const { model, tokenizer } = loaded;
  if (model.head !== 'mlm') throw new Error(`zero-shot evaluation needs a masked LM (BertForMaskedLM), the model has the "${model.head}" head`);
  const ml = await marvinLinzenAccuracy(model, tokenizer, {
    maxPerConstruction: opts.perConstruction,
    onProgress: (d, t) => opts.onProgress?.('marvin-linzen', d, t),
  });
  const stats = measureHeadStats(model, tokenizer, opts.headSentences, {
    parser: opts.parser,
    onProgress: (d, t) => opts.onProgress?.('head statistics', d, t),
  });
  const roles = headRoles(stats, SONG2024_SST2_THRESHOLDS);
  const best = Array.from({ length: stats.layers }, (_, l) =>
    Array.from({ length: stats.heads }, (_, h) => Math.max(...stats.relations.map((r) => stats.accuracy[r][l]![h]!))),
  );
  return {
    model: loaded.source,
    marvinLinzen: { rows: ml.byConstruction.map((r) => ({ construction: r.construction, accuracy: r.accuracy, n: r.n })), overall: ml.overall.accuracy },
    headStats: {
      ...roles.counts,
      grid: headRoleGrid(roles),
      sentences: stats.sentences,
      corpus: opts.headCorpusName,
      thresholds: SONG2024_SST2_THRESHOLDS,
      bestSyntacticAccuracy: best,
      topOffsetFrequency: stats.topOffsetFrequency,
    },
  };
}
