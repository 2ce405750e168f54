/**
 * Outputs of the Lu et al. 2021 reproduction: `patterns.jsonl`, `task_stats.csv`, `ablation.csv`,
 * `summary.md` (ours beside the paper's findings) and `figure.html` (self-contained plotly), written
 * atomically into `results/lu2021/`.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { writeResultsFolder } from './resultsFolder.js';
import { join } from 'node:path';
import { htmlFigurePage } from '../viz/html.js';
import { ablationFigure, patternPathFigure, skipShareFigure } from '../viz/patternFigure.js';
import { ablationTable, consistencyVsAccuracy, LU2021_TASKS, PAPER_FINDINGS, taskStats, type Lu2021Record } from './lu2021.js';

/** Where the results came from (for the summary). */
export interface Lu2021RunInfo {
  agreementModel?: string;
  sentimentModel?: string;
  res: number;
  baseline: string;
  limit?: number;
  seconds: number;
  warnings?: string[];
}

const f = (v: unknown, d = 2): string => (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '–' : Number(v).toFixed(d));
const pct = (v: unknown): string => (v === null || v === undefined || !Number.isFinite(Number(v)) ? '–' : `${(100 * Number(v)).toFixed(0)} %`);
const signedPct = (v: unknown): string =>
  v === null || v === undefined || !Number.isFinite(Number(v)) ? '–' : `${Number(v) >= 0 ? '+' : ''}${(100 * Number(v)).toFixed(0)} %`;

/**
 * `summary.md`: the findings in words and tables, ours beside the paper's.
 * @returns Markdown text.
 */
export function lu2021Summary(records: Lu2021Record[], info: Lu2021RunInfo): string {
  const stats = taskStats(records).objects() as Record<string, unknown>[];
  const abl = ablationTable(records).objects() as Record<string, unknown>[];
  const cva = consistencyVsAccuracy(taskStats(records));
  const L = [];
  L.push('# Reproduction: Lu, Wang, Mardziel & Datta 2021, "Influence Patterns for Explaining Information Flow in BERT"', '');
  L.push(
    `Models: SVA/RA \`${info.agreementModel ?? '–'}\`, SA \`${info.sentimentModel ?? '–'}\`. ${records.length} examples${info.limit ? ` (up to ${info.limit} per task)` : ''}; res ${info.res}, baseline ${info.baseline}; ${info.seconds.toFixed(0)} s (${((records.length / Math.max(info.seconds, 1e-9)) * 60).toFixed(1)} examples per minute, comparisons included).`,
    '',
  );
  for (const w of info.warnings ?? []) L.push(`> **Warning:** ${w}`, '');
  L.push('## Protocol', '');
  L.push(
    '- Influence of a set of paths: the word embeddings move from the baseline to the input along a straight path (res + 1 points, `[CLS]`/`[SEP]` kept); influence = Σ_k ½(g_k + g_{k+1})·Δh_k at a node, with gradients stopped outside the paths (paper Eq. 1–3).',
  );
  L.push(
    "- Guided pattern refinement: embedding level (one position per layer, from the source token to the QoI position; the QoI's sign flipped when the total influence is negative, as the reference code), then head level (skip connection or the best head at each layer).",
  );
  L.push(
    '- SVA/RA: QoI = logit(correct) − logit(wrong) at the `[MASK]`, source = main subject. SA: QoI = true-class logit, output `[CLS]`, source = the most influential token.',
  );
  L.push(
    "- Pattern comparison: attention pattern (at each layer the query position and head with the largest attention weight on the current position), rollout pattern (the position whose rollout draws most on the source), layer-based pattern (the position with the largest influence through it, whole graph). Measured (a) as the exact influence of the pattern's paths divided by the influence of all paths from the source, and (b) by ablation: the QoI when only the pattern's nodes are computed from the input (every other node at its baseline value), as a share of QoI(input) − QoI(baseline).",
    '',
  );
  L.push('## Tasks', '');
  L.push(
    '| task | n | accuracy | skip share | skip : head | most common pattern | its share | distinct | entropy (bits) | pattern share of source influence |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of stats.filter((x) => x.condition === 'all')) {
    L.push(
      `| ${r.task} | ${r.n} | ${pct(r.accuracy)} | ${pct(r.skip_share)} | ${f(r.skip_to_head, 1)} | \`${r.top_pattern}\` | ${pct(r.top_share)} | ${r.distinct} | ${f(r.entropy_bits)} | ${f(r.pattern_share)} |`,
    );
  }
  L.push('');
  const allSteps = records.flatMap((r) => r.pattern.steps);
  const sk = allSteps.filter((s) => s.kind === 'skip').length;
  L.push(
    `**Skip connections vs heads.** Over all ${allSteps.length} pattern steps, ${pct(sk / Math.max(1, allSteps.length))} go through the skip connection: ${f(sk / Math.max(1, allSteps.length - sk), 1)}× as many as through heads (paper: about ${PAPER_FINDINGS.skipToHeadRatio}×).`,
    '',
  );
  const layerCols = Object.keys(stats[0] ?? {}).filter((k) => /^skip_L\d+$/.test(k));
  if (layerCols.length) {
    L.push('Skip share per layer:', '');
    L.push(`| task | ${layerCols.map((c) => c.slice(5)).join(' | ')} |`, `|---|${layerCols.map(() => '---|').join('')}`);
    for (const r of stats.filter((x) => x.condition === 'all')) L.push(`| ${r.task} | ${layerCols.map((c) => pct(r[c])).join(' | ')} |`);
    L.push('');
  }
  L.push('## Consistency of patterns vs accuracy', '');
  L.push('| task | condition | n | accuracy | most common pattern | its share | entropy (bits) |', '|---|---|---|---|---|---|---|');
  for (const r of stats.filter((x) => x.condition !== 'all'))
    L.push(`| ${r.task} | ${r.condition} | ${r.n} | ${pct(r.accuracy)} | \`${r.top_pattern}\` | ${pct(r.top_share)} | ${f(r.entropy_bits)} |`);
  L.push('');
  L.push(
    cva.rTopShare === null
      ? `Too few SVA/RA groups (${cva.groups}) for a correlation.`
      : `Across the ${cva.groups} SVA/RA task × condition groups, Pearson r between accuracy and the most common pattern's share is ${f(cva.rTopShare)}, and between accuracy and the pattern entropy ${f(cva.rEntropy)} (paper: more consistent patterns go with higher accuracy, i.e. r > 0 and r < 0 respectively).`,
    '',
  );
  L.push('## Pattern ablation: influence patterns vs attention- and layer-based patterns', '');
  L.push(
    'Ratios ("x % more") compare medians, and only where the compared pattern\'s median is above 0.05; the differences (ours − theirs) compare means.',
    '',
  );
  L.push(
    "Each share is a ratio to a per-example total (the source's influence; QoI(input) − QoI(baseline)) that can be close to zero, so single examples can give large values: the medians are the robust figures.",
    '',
  );
  L.push(
    '| task | pattern | n | share of source influence: mean | median | QoI kept (pattern only): mean | median | QoI lost (pattern removed) | ours − theirs (influence) | ours − theirs (kept) | ours more (influence) | ours more (kept) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of abl)
    L.push(
      `| ${r.task} | ${r.method} | ${r.n} | ${f(r.influence_share)} | ${f(r.median_influence_share)} | ${f(r.keep_share)} | ${f(r.median_keep_share)} | ${f(r.remove_share)} | ${f(r.diff_share)} | ${f(r.diff_keep)} | ${signedPct(r.vs_influence_share)} | ${signedPct(r.vs_influence_keep)} |`,
    );
  L.push('');
  const all = (m: string) => abl.find((r) => r.task === 'all' && r.method === m);
  const at = all('attention');
  const ly = all('layer');
  const ratio = (r: unknown) => (r === null || r === undefined ? "no ratio: the other pattern's median is ≈ 0" : `medians: ${signedPct(r)}`);
  const ip = all('influence');
  const ro = all('rollout');
  L.push(
    `Over all tasks, the share of the source token's influence carried by the pattern's paths is ${f(ip?.influence_share)} (median ${f(ip?.median_influence_share)}) for influence patterns, against ${f(at?.influence_share)} (${f(at?.median_influence_share)}) for attention patterns (${ratio(at?.vs_influence_share)}), ${f(ro?.influence_share)} (${f(ro?.median_influence_share)}) for rollout patterns (${ratio(ro?.vs_influence_share)}) and ${f(ly?.influence_share)} (${f(ly?.median_influence_share)}) for layer-based patterns (${ratio(ly?.vs_influence_share)}).` +
      ` The QoI kept with only the pattern: ${f(ip?.keep_share)} (median ${f(ip?.median_keep_share)}) against ${f(at?.keep_share)} (${f(at?.median_keep_share)}), ${f(ro?.keep_share)} (${f(ro?.median_keep_share)}) and ${f(ly?.keep_share)} (${f(ly?.median_keep_share)}).` +
      ` The paper: influence patterns account for ${signedPct(PAPER_FINDINGS.moreThanAttention)} more than attention-based and ${signedPct(PAPER_FINDINGS.moreThanLayer)} more than layer-based patterns.`,
    '',
  );
  L.push('## Differences from the paper', '');
  L.push(
    "- Models: the paper uses BERT-small (L = 6, H = 512, A = 8, Google) for SVA/RA and fine-tuned BERT-base for SST-2; ours are the project's embedded models (see their model cards), trained from scratch on far less data.",
  );
  L.push(
    `- Data: Marvin & Linzen templates as the paper (its constructions: ${LU2021_TASKS.filter((t) => t.construction)
      .map((t) => t.construction)
      .join(', ')}); SA from SST-2 test sentences of ≤ 17 wordpieces (the paper: 220 short SST-2 evaluation sentences).`,
  );
  L.push(
    '- Restricted activation changes are forward differences along the restricted graph (the reference code uses forward-mode autodiff); the reported pattern influences are recomputed exactly with stop-gradient hooks.',
  );
  L.push(
    '- The paper\'s comparison numbers are quoted as the issue states them (74 % / 25 %); its exact measure of "model performance accounted for" may differ from both of ours.',
    '',
  );
  L.push(
    'Files: `patterns.jsonl` (one pattern per example, with its steps, totals and the comparison patterns), `task_stats.csv` (per task and task × condition), `ablation.csv`, `figure.html`.',
  );
  return L.join('\n') + '\n';
}

/**
 * Writes the five outputs into `dir` atomically (a temporary sibling folder then replaces `dir`).
 * @returns the paths written.
 * @throws Error when writing fails (the temporary folder is removed; a previous `dir` stays).
 */
export function writeLu2021Outputs(dir: string, records: Lu2021Record[], info: Lu2021RunInfo): string[] {
  if (records.length === 0) throw new Error('lu2021: no examples to write');
  const files = ['patterns.jsonl', 'task_stats.csv', 'ablation.csv', 'summary.md', 'figure.html'];
  return writeResultsFolder(dir, files, (tmp) => {
    writeFileSync(join(tmp, 'patterns.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const stats = taskStats(records);
    const abl = ablationTable(records);
    writeFileSync(join(tmp, 'task_stats.csv'), stats.toCSV().replace(/\n*$/, '\n'));
    writeFileSync(join(tmp, 'ablation.csv'), abl.toCSV().replace(/\n*$/, '\n'));
    writeFileSync(join(tmp, 'summary.md'), lu2021Summary(records, info));
    const examples: Lu2021Record[] = [];
    for (const task of new Set(records.map((r) => r.task))) {
      const rs = records.filter((r) => r.task === task);
      const ex =
        rs.find(
          (r) =>
            r.correct &&
            r.key ===
              (stats.objects() as { task: string; condition: string; top_pattern: string }[]).find((s) => s.task === task && s.condition === 'all')
                ?.top_pattern,
        ) ?? rs[0];
      if (ex) examples.push(ex);
    }
    const figures = [
      skipShareFigure(stats.objects() as Record<string, unknown>[]),
      ablationFigure(abl.objects() as Record<string, unknown>[]),
      ...examples.map((r) => patternPathFigure(r.pattern, `${r.task} (${r.condition}, ${r.correct ? 'correct' : 'wrong'}): "${r.text}" — pattern ${r.key}`)),
    ];
    writeFileSync(
      join(tmp, 'figure.html'),
      htmlFigurePage({
        title: 'Lu et al. 2021 reproduction — influence patterns',
        notes: [`${records.length} examples; res ${info.res}, baseline ${info.baseline}.`, ...(info.warnings ?? [])],
        figures,
      }),
    );
  });
}
