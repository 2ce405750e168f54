/**
 * Reproduction of Jiang, Tang, Xin & Lin 2020, "Inserting Information Bottlenecks for Attribution in
 * Transformers" (EMNLP Findings, arXiv 2012.13838; reference code `bazingagin/IBA`): degradation
 * tests of IBA against integrated gradients, LIME and random, and the IBA layer table.
 *
 * Protocol (paper §4; reference `main.py`, `Evaluation.py`, `Degradation.py`):
 * - Models: the project's embedded classifiers (`embedded:sst2` for SST-2 and the UCI IMDB sentences,
 *   `embedded:trec` for TREC); the paper fine-tunes BERT-base on IMDB, MNLI, AG News and RTE.
 * - Examples: a seeded random sample of the test set (without replacement; the reference samples 1000).
 * - Attributions, all for the **true class** (as the reference's IBA; its IG explains class 0 and its
 *   LIME class 1 whatever the label, which we do not copy): IBA with the paper's defaults (β = 1e-5,
 *   10 Adam steps, lr 1, 10 noise samples) at layer ⌊0.75·L⌋ − 1 (the reference's 8 of 12; layer 0 of
 *   our 2-layer models), μ/σ per hidden unit from held-out examples (the theory) or the example itself
 *   (`statistics: 'single-example'`, the reference code); IG on the word embeddings, `[PAD]` baseline,
 *   50 steps, p(true class), Σ over hidden; LIME with 100 samples; uniform random scores.
 * - Degradation: tokens deleted (or replaced by `[MASK]`) most-important-first and
 *   least-important-first at 10 fractions `linspace(0, 1, 10)` of the removable tokens, `[CLS]`/`[SEP]`
 *   never removed; mean true-class probability and accuracy; each curve summarised by its area.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { writeResultsFolder } from './resultsFolder.js';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { Bert } from '../model/bert.js';
import { classProb } from '../model/qoi.js';
import type { Tokenizer } from '../io/tokenizer.js';
import type { LabeledText } from '../data/corpora.js';
import { Rng } from '../data/random.js';
import { ibaLayers, defaultIbaLayer, ibaNode, type IbaLayerMap } from '../methods/iba.js';
import '../methods/builtins.js';
import { estimateFeatureStats, type FeatureStats } from '../methods/featureStats.js';
import type { ExampleInput } from '../methods/result.js';
import type { DegradationCurve } from './degradation.js';
import { evaluateDegradation } from './evaluate.js';
import { removalFractions, type PerturbationMode } from '../methods/perturbation.js';
import { htmlFigurePage, type FigureSpec } from '../viz/html.js';
import { curvesFigure } from '../viz/curvesFigure.js';

/** The methods compared, in table order. */
export const JIANG2020_METHODS = ['iba', 'integrated_gradients', 'lime', 'random'] as const;

/** Options of {@link runJiang2020Dataset}. */
export interface Jiang2020Options {
  /** Test examples per dataset (default 500). */
  limit?: number;
  /** Seed of the sampling, LIME, IBA noise and random scores (default 0). */
  seed?: number;
  /** Number of fractions from 0 to 1 (default 10, the reference's `degrad_step`). */
  fractions?: number;
  /** `'delete'` (default, the reference) or `'mask'` (its `--replace`). */
  mode?: Extract<PerturbationMode, 'delete' | 'mask'>;
  /** IBA layer (default ⌊0.75·L⌋ − 1). */
  layer?: number;
  beta?: number;
  ibaSteps?: number;
  lr?: number;
  /** IBA statistics: `'dataset'` (default: μ, σ from `statsTexts`) or `'single-example'` (reference code). */
  statistics?: 'dataset' | 'single-example' | 'reference';
  /** Held-out texts for μ, σ (default up to 1000 of them are used). */
  statsLimit?: number;
  igSteps?: number;
  limeSamples?: number;
  /** Examples whose IBA is computed at every layer for the layer table (default 20). */
  layerExamples?: number;
  /** Progress after each example of this dataset. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of one dataset. */
export interface Jiang2020DatasetResult {
  dataset: string;
  model: string;
  n: number;
  /** Accuracy of the model on the sampled examples (before removal). */
  accuracy: number;
  curves: DegradationCurve[];
  /** IBA at every layer for the first `layerExamples` examples. */
  layerMaps: (IbaLayerMap & { index: number; label: number })[];
  msPerExample: Record<string, number>;
  /** Mean and max IG completeness gap |Σ IG − (F(x) − F(x′))|, in probability units. */
  igGap: { mean: number; max: number };
  /** Mean weighted R² of the LIME surrogates. */
  limeR2: number;
  ibaLayer: number;
  perExample: { index: number; text: string; label: number; tokens: string[]; scores: Record<string, number[]> }[];
  options: Required<Omit<Jiang2020Options, 'onProgress' | 'layer'>> & { layer: number };
}

/** Seeded sample of `k` items without replacement (order of the sample). */
export function sampleWithoutReplacement<T>(items: readonly T[], k: number, seed: number): { item: T; index: number }[] {
  const idx = Array.from({ length: items.length }, (_, i) => i);
  const rng = new Rng(seed);
  const n = Math.min(k, items.length);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(items.length - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, n).map((i) => ({ item: items[i] as T, index: i }));
}

/**
 * Runs the degradation test and the IBA layer table on one dataset.
 *
 * @param model a sequence classifier; @param tokenizer its tokenizer.
 * @param test labelled test texts; @param statsTexts held-out texts for the IBA statistics.
 * @returns a {@link Jiang2020DatasetResult}.
 * @throws Error for a non-classifier model, no usable test texts, or what the methods throw.
 */
export function runJiang2020Dataset(
  dataset: string,
  modelName: string,
  model: Bert,
  tokenizer: Tokenizer,
  test: readonly LabeledText[],
  statsTexts: readonly LabeledText[],
  opts: Jiang2020Options = {},
): Jiang2020DatasetResult {
  if (model.head !== 'classifier') throw new Error(`jiang2020: ${modelName} is not a sequence classifier`);
  const o = {
    limit: opts.limit ?? 500,
    seed: opts.seed ?? 0,
    fractions: opts.fractions ?? 10,
    mode: opts.mode ?? 'delete',
    layer: opts.layer ?? defaultIbaLayer(model.layers),
    beta: opts.beta ?? 1e-5,
    ibaSteps: opts.ibaSteps ?? 10,
    lr: opts.lr ?? 1,
    statistics: opts.statistics ?? 'dataset',
    statsLimit: opts.statsLimit ?? 1000,
    igSteps: opts.igSteps ?? 50,
    limeSamples: opts.limeSamples ?? 100,
    layerExamples: opts.layerExamples ?? 20,
  } as const;
  const node = ibaNode(model, o.layer);
  const maxLength = model.config.maxPositionEmbeddings;
  const encode = (t: LabeledText): ExampleInput => {
    const e = tokenizer.encode(t.text, { maxLength });
    return { ids: Array.from(e.ids), tokens: Array.from(e.tokens) };
  };
  const usable = test.filter((t) => tokenizer.encode(t.text, { maxLength }).ids.length > 2);
  if (usable.length === 0) throw new Error(`jiang2020: no usable test texts for ${dataset}`);
  const sample = sampleWithoutReplacement(usable, o.limit, o.seed);
  const examples = sample.map(({ item }) => ({ example: encode(item), label: item.label }));
  const numLabels = model.config.numLabels;
  for (const e of examples)
    if (e.label < 0 || e.label >= numLabels) throw new Error(`jiang2020: ${dataset} label ${e.label} is outside the model's classes 0..${numLabels - 1}`);
  // IBA statistics over held-out examples (embedding output and every layer, for the layer table too).
  const layerNodes = ['embed.hook_out', ...Array.from({ length: model.layers }, (_, l) => `blocks.${l}.hook_resid_post`)];
  let stats: Map<string, FeatureStats> | 'single-example' | 'reference' = o.statistics === 'reference' ? 'reference' : 'single-example';
  if (o.statistics === 'dataset') {
    const held = sampleWithoutReplacement(statsTexts, o.statsLimit, o.seed + 1)
      .map(({ item }) => encode(item))
      .filter((e) => e.ids.length > 0);
    if (held.length === 0) throw new Error(`jiang2020: no held-out texts for the IBA statistics of ${dataset}`);
    stats = estimateFeatureStats(model, held, layerNodes);
  }
  const seedOf = (i: number) => o.seed * 100003 + i;
  const res = evaluateDegradation(
    { model, tokenizer },
    examples.map((e) => ({ input: e.example, label: e.label })),
    [
      {
        method: 'iba',
        options: (i) => ({ stats, ...(stats === 'reference' ? { layer: o.layer } : { node }), beta: o.beta, steps: o.ibaSteps, lr: o.lr, seed: seedOf(i) }),
      },
      { method: 'integrated_gradients', target: classProb, options: { steps: o.igSteps, baseline: 'pad' } },
      { method: 'lime', options: (i) => ({ samples: o.limeSamples, seed: seedOf(i) }) },
      { method: 'random', options: (i) => ({ seed: seedOf(i) }) },
    ],
    { fractions: removalFractions(o.fractions), mode: o.mode, onProgress: opts.onProgress },
  );
  const gaps = res.sanity.integrated_gradients as number[];
  const r2 = res.sanity.lime as number[];
  const accuracy = res.curves.find((c) => c.direction === 'most')?.acc[0] ?? NaN;
  const layerMaps = examples.slice(0, o.layerExamples).map(({ example, label }, i) => ({
    ...ibaLayers(model, example, {
      stats: stats === 'reference' ? 'single-example' : stats,
      target: label,
      beta: o.beta,
      steps: o.ibaSteps,
      lr: o.lr,
      seed: o.seed * 100003 + i,
    }),
    index: sample[i].index,
    label,
  }));
  const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
  return {
    dataset,
    model: modelName,
    n: examples.length,
    accuracy,
    curves: res.curves,
    layerMaps,
    msPerExample: res.msPerExample,
    igGap: { mean: mean(gaps), max: Math.max(...gaps) },
    limeR2: mean(r2),
    ibaLayer: o.layer,
    perExample: res.perExample.map((p, k) => ({
      index: sample[k].index,
      text: sample[k].item.text,
      label: p.label,
      tokens: examples[k].example.tokens as string[],
      scores: p.scores,
    })),
    options: o,
  };
}

/** Metadata for the summary. */
export interface Jiang2020RunInfo {
  seconds: number;
  warnings?: string[];
}

/** Curves as a long table: dataset, method, direction, fraction, prob, acc, n. */
export function curvesTable(results: readonly Jiang2020DatasetResult[]): aq.ColumnTable {
  const rows = results.flatMap((r) =>
    r.curves.flatMap((c) =>
      c.fractions.map((f, i) => ({
        dataset: r.dataset,
        model: r.model,
        method: c.method,
        direction: c.direction,
        fraction: +f.toFixed(6),
        prob: c.prob[i],
        acc: c.acc[i],
        n: c.n,
      })),
    ),
  );
  return aq.from(rows);
}

/** Areas per dataset, method and direction. */
export function areasTable(results: readonly Jiang2020DatasetResult[]): aq.ColumnTable {
  return aq.from(
    results.flatMap((r) =>
      r.curves.map((c) => ({
        dataset: r.dataset,
        model: r.model,
        method: c.method,
        direction: c.direction,
        prob_area: c.probArea,
        acc_area: c.accArea,
        n: c.n,
      })),
    ),
  );
}

/** The IBA layer table: one row per dataset × example × layer × token. */
export function ibaLayerTable(results: readonly Jiang2020DatasetResult[]): aq.ColumnTable {
  const rows: Record<string, unknown>[] = [];
  for (const r of results) {
    for (const m of r.layerMaps) {
      m.layers.forEach((layer, li) =>
        m.tokens.forEach((token, pos) =>
          rows.push({
            dataset: r.dataset,
            example: m.index,
            label: m.label,
            layer,
            node: m.nodes[li],
            position: pos,
            token,
            score: m.scores[li][pos],
            capacity_nats: m.capacity[li][pos],
          }),
        ),
      );
    }
  }
  return aq.from(rows);
}

const f3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));

/**
 * `summary.md`: the areas per dataset beside the paper's claim, in words.
 * @returns Markdown text.
 */
export function jiang2020Summary(results: readonly Jiang2020DatasetResult[], info: Jiang2020RunInfo): string {
  const L: string[] = [];
  const o = results[0]?.options;
  L.push('# Reproduction: Jiang et al. 2020, "Inserting Information Bottlenecks for Attribution in Transformers"', '');
  L.push(
    `Datasets: ${results.map((r) => `${r.dataset} (${r.n} test examples, \`${r.model}\`, accuracy ${(100 * r.accuracy).toFixed(1)} %)`).join('; ')}. Time ${info.seconds.toFixed(0)} s.`,
    '',
  );
  for (const w of info.warnings ?? []) L.push(`> **Warning:** ${w}`, '');
  L.push(
    "**The paper's claim** (abstract, §4.2, Fig. 4): in the degradation test, removing the tokens IBA ranks most important first makes the true-class probability fall faster than with integrated gradients or LIME, on all four of its datasets (IMDB, MNLI, AG News, RTE; BERT-base, bottleneck after layer 9). A faster fall = a smaller area under the most-important-first curve.",
    '',
  );
  L.push('## Area under the degradation curves (true-class probability; smaller is better for most-important-first, larger for least-important-first)', '');
  L.push('| dataset | method | most-first prob area | least-first prob area | most-first acc area | least-first acc area |', '|---|---|---|---|---|---|');
  for (const r of results) {
    for (const m of JIANG2020_METHODS) {
      const most = r.curves.find((c) => c.method === m && c.direction === 'most');
      const least = r.curves.find((c) => c.method === m && c.direction === 'least');
      L.push(`| ${r.dataset} | ${m} | ${f3(most?.probArea)} | ${f3(least?.probArea)} | ${f3(most?.accArea)} | ${f3(least?.accArea)} |`);
    }
  }
  L.push('', '## The claim, dataset by dataset', '');
  let holds = 0;
  for (const r of results) {
    const area = (m: string) => r.curves.find((c) => c.method === m && c.direction === 'most')?.probArea ?? NaN;
    const a = { iba: area('iba'), ig: area('integrated_gradients'), lime: area('lime'), random: area('random') };
    const ok = a.iba < a.ig && a.iba < a.lime;
    if (ok) holds++;
    const best = Object.entries(a).sort((x, y) => x[1] - y[1])[0];
    L.push(
      `- **${r.dataset}**: IBA ${f3(a.iba)}, IG ${f3(a.ig)}, LIME ${f3(a.lime)}, random ${f3(a.random)} — ` +
        (ok ? 'IBA falls fastest of the three: the claim holds.' : `the claim does **not** hold here (fastest: ${best[0]}).`) +
        (a.iba >= a.random ? ' IBA is no better than random here.' : ''),
    );
  }
  L.push('', `Overall: IBA beats both IG and LIME on ${holds} of ${results.length} datasets (the paper: 4 of 4).`, '');
  L.push('## Sanity figures', '');
  for (const r of results) {
    L.push(
      `- ${r.dataset}: IG completeness gap |Σ IG − (F(x) − F(x′))| mean ${r.igGap.mean.toExponential(2)}, max ${r.igGap.max.toExponential(2)} (probability units, ${o?.igSteps} steps); LIME weighted R² mean ${f3(r.limeR2)}; time per example: ${Object.entries(
        r.msPerExample,
      )
        .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
        .join(', ')}.`,
    );
  }
  L.push('', '## Protocol and differences from the paper', '');
  L.push(
    `- IBA: bottleneck on \`blocks.${results[0]?.ibaLayer}.hook_resid_post\` (output of encoder layer ${results[0]?.ibaLayer}; the paper/reference use layer 8 of 12, i.e. ⌊0.75·L⌋ − 1), β = ${o?.beta}, ${o?.ibaSteps} Adam steps, lr ${o?.lr}, 10 noise samples, target = true class. Statistics: ${o?.statistics === 'dataset' ? `μ, σ per hidden unit over up to ${o?.statsLimit} held-out examples (the theory; the reference code instead uses the explained example itself, μ = R and σ = √1e-5 — \`--statistics single-example\`)` : o?.statistics === 'reference' ? "as the reference code: μ = the example's hidden state entering the layer, σ = √1e-5 (the layer table uses single-example statistics)" : 'from the single example itself at the bottleneck (μ = R, σ = √1e-5); the theory would use data statistics'}.`,
  );
  L.push(
    `- IG: word embeddings, [PAD] baseline with [CLS]/[SEP] kept, ${o?.igSteps} steps, p(true class), Σ over hidden units (the reference explains class 0 whatever the label, with 10 steps). LIME: ${o?.limeSamples} samples, token removal, cosine kernel width 25, ridge α = 1, true class (the reference explains class 1, over words). Random: uniform scores.`,
  );
  L.push(
    `- Degradation: ${o?.mode === 'mask' ? 'tokens replaced by [MASK]' : 'tokens deleted'}, ${o?.fractions} fractions linspace(0, 1) of the removable tokens ([CLS]/[SEP] never removed; the reference counts fractions of the whole sequence, specials included, so its intermediate points remove slightly more tokens). Areas by the trapezoid rule.`,
  );
  L.push(
    "- Models and data: the project's 2-layer, 128-wide classifiers trained from scratch (accuracy on the examples used is given above; the model cards give the full test accuracy), not fine-tuned BERT-base; SST-2 test, TREC test and the 1000 UCI IMDB sentences (`sentiment` fixtures, classified by the SST-2 model; μ, σ from the IMDB sentences not sampled) instead of IMDB reviews, MNLI, AG News and RTE.",
  );
  L.push(
    '',
    "Files: `degradation.csv` (curves), `areas.csv`, `iba_layers.csv` (IBA per token at every layer for the first examples of each dataset), `per_example.jsonl` (tokens and every method's scores), `figure.html` (offline).",
  );
  return L.join('\n') + '\n';
}

/** Figures: degradation curves per dataset (probability and accuracy, both directions) and one IBA layer map per dataset. */
export function jiang2020Figures(results: readonly Jiang2020DatasetResult[]): FigureSpec[] {
  const figs: FigureSpec[] = [];
  for (const r of results) {
    for (const metric of ['prob', 'acc'] as const) {
      const panel = (dir: 'most' | 'least') => ({
        title: dir === 'most' ? 'most important removed first' : 'least important removed first',
        lines: JIANG2020_METHODS.flatMap((m) =>
          r.curves.filter((c) => c.method === m && c.direction === dir).map((c) => ({ name: m, x: c.fractions, y: c[metric] })),
        ),
      });
      const areas = JIANG2020_METHODS.map(
        (m) => `${m} ${f3(r.curves.find((c) => c.method === m && c.direction === 'most')?.[metric === 'prob' ? 'probArea' : 'accArea'])}`,
      ).join(', ');
      figs.push(
        curvesFigure([panel('most'), panel('least')], {
          title: `${r.dataset}: ${metric === 'prob' ? 'true-class probability' : 'accuracy'} after removing tokens (${r.n} examples, ${r.model})`,
          yTitle: metric === 'prob' ? 'p(true class)' : 'accuracy',
          yRange: [0, 1],
          caption: `Area under the most-important-first curve: ${areas}.`,
        }),
      );
    }
    const m = r.layerMaps[0];
    if (m) {
      figs.push({
        title: `${r.dataset}: IBA at every layer — "${m.tokens.join(' ')}" (true class ${m.label})`,
        traces: [
          {
            type: 'heatmap',
            z: m.scores,
            x: m.tokens.map((_, i) => i),
            y: m.layers,
            colorscale: [
              [0, '#f7fbff'],
              [1, '#08306b'],
            ],
            zmin: 0,
            zmax: 1,
          },
        ],
        layout: {
          height: 220 + 50 * m.layers.length,
          margin: { l: 90, b: 110 },
          xaxis: { tickmode: 'array', tickvals: m.tokens.map((_, i) => i), ticktext: m.tokens, tickangle: -45 },
        },
        caption:
          'Information per token (Σ over hidden units of KL(P(Z|R) ‖ N(μ, σ²)), min–max scaled per layer) for a bottleneck at the embedding output and after each layer.',
      });
    }
  }
  return figs;
}

/**
 * Writes `degradation.csv`, `areas.csv`, `iba_layers.csv`, `per_example.jsonl`, `summary.md` and
 * `figure.html` into `dir` atomically (a temporary sibling folder replaces `dir`).
 *
 * @returns the written paths.
 * @throws Error when writing fails (the temporary folder is removed).
 */
export function writeJiang2020Outputs(dir: string, results: readonly Jiang2020DatasetResult[], info: Jiang2020RunInfo): string[] {
  if (results.length === 0) throw new Error('jiang2020: no results to write');
  const files = ['degradation.csv', 'areas.csv', 'iba_layers.csv', 'per_example.jsonl', 'summary.md', 'figure.html'];
  return writeResultsFolder(dir, files, (tmp) => {
    const csv = (t: aq.ColumnTable) => t.toCSV().replace(/\n*$/, '\n');
    writeFileSync(join(tmp, 'degradation.csv'), csv(curvesTable(results)));
    writeFileSync(join(tmp, 'areas.csv'), csv(areasTable(results)));
    writeFileSync(join(tmp, 'iba_layers.csv'), csv(ibaLayerTable(results)));
    writeFileSync(
      join(tmp, 'per_example.jsonl'),
      results.flatMap((r) => r.perExample.map((p) => JSON.stringify({ dataset: r.dataset, ...p }))).join('\n') + '\n',
    );
    writeFileSync(join(tmp, 'summary.md'), jiang2020Summary(results, info));
    writeFileSync(
      join(tmp, 'figure.html'),
      htmlFigurePage({
        title: 'Jiang et al. 2020 reproduction — degradation tests of IBA, IG, LIME, random',
        notes: [results.map((r) => `${r.dataset}: ${r.n} examples on ${r.model}`).join('; '), ...(info.warnings ?? [])],
        figures: jiang2020Figures(results),
      }),
    );
  });
}
