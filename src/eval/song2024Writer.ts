/**
 * Outputs of the Song et al. 2024 reproduction (`flowlens reproduce song2024`), written atomically to
 * one folder (a temporary sibling renamed into place):
 *
 * | file | what |
 * |---|---|
 * | `aopc_lodds.csv` | subset, method, AOPC, LOdds (means over the 9 steps), examples |
 * | `aopc_lodds_steps.csv` | subset, method, fraction (0.1 … 0.9), AOPC_k, LOdds_k |
 * | `ablations.csv` | Mask-LRP with each mask: mask, heads kept, AOPC, LOdds |
 * | `head_accuracy.csv` | layer, head, relation, syntactic accuracy, arcs |
 * | `head_offsets.csv` | layer, head, offset, frequency of the most-attended key at that offset |
 * | `head_stats.json` | the head statistics as plain data (`[layers][heads]` per relation, offsets) |
 * | `head_mask.json` | every mask `[layers][heads]` (1 keep) and both threshold sets |
 * | `per_example.jsonl` | per example: tokens, label, prediction, p(y), every method's scores and AOPC |
 * | `figure.html` | AOPC/LOdds curves per method, head-statistics heatmaps, the masks (plotly inlined) |
 * | `summary.md` | the paper's claim beside ours, per baseline |
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { writeResultsFolder } from './resultsFolder.js';
import { join } from 'node:path';
import * as aq from 'arquero';
import { htmlFigurePage, SEQUENTIAL_BLUES, type FigureSpec } from '../viz/html.js';
import { compareWithMaskLrp, MASK_OF, SONG2024_BASELINES, ZERO_MAP_VARIANTS, type Song2024Result } from './song2024.js';

/** What the summary says about the run. */
export interface Song2024RunInfo {
  model: string;
  command: string;
  seconds: number;
  /** Evaluation split and number of examples asked for. */
  data: string;
  warnings?: string[];
}

const fmt = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const heads = (m: number[][]) => m.flat().filter((v) => v !== 0).length;

/** Head-accuracy rows (layer, head, relation, accuracy, arcs). */
function accuracyRows(res: Song2024Result): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const st = res.stats;
  for (let l = 0; l < st.layers; l++) {
    for (let h = 0; h < st.heads; h++) {
      for (const r of st.relations) out.push({ layer: l, head: h, relation: r, accuracy: st.accuracy[r][l]?.[h] ?? 0, arcs: st.arcCounts[r] });
    }
  }
  return out;
}

function offsetRows(res: Song2024Result): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const st = res.stats;
  for (let l = 0; l < st.layers; l++) {
    for (let h = 0; h < st.heads; h++) {
      st.offsets.forEach((o, k) => {
        const f = st.offsetFrequency[l]?.[h]?.[k] ?? 0;
        if (f > 0) out.push({ layer: l, head: h, offset: o, frequency: f });
      });
    }
  }
  return out;
}

function ablationRows(res: Song2024Result): Record<string, unknown>[] {
  return res.rows
    .filter((r) => r.method in MASK_OF)
    .map((r) => {
      const mask = MASK_OF[r.method] as string;
      return {
        subset: r.subset,
        method: r.method,
        mask,
        masked_maps: ZERO_MAP_VARIANTS.has(r.method) ? 'zero' : 'reference',
        heads_kept: heads(res.masks[mask] as number[][]),
        aopc: r.aopc,
        lodds: r.lodds,
        n: r.n,
      };
    });
}

/** The summary (markdown): claim vs ours, per baseline, for both subsets. */
export function song2024Summary(res: Song2024Result, info: Song2024RunInfo): string {
  const L = res.stats.layers;
  const H = res.stats.heads;
  const lines: string[] = [];
  lines.push('# Song et al. 2024 (Mask-LRP) reproduction', '');
  lines.push(
    `Model: ${info.model}. Data: ${info.data}; ${res.examples.length} examples explained (model accuracy on them ${(100 * res.accuracy).toFixed(1)} %).`,
  );
  lines.push(
    `Head statistics on ${res.stats.sentences} parsed sentences (link-grammar), arcs: ${Object.entries(res.stats.arcCounts)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ')}.`,
  );
  lines.push(
    `Command: \`${info.command}\` (${info.seconds.toFixed(0)} s). One Mask-LRP explanation (forward + backward + relevance pass + rollout): ${(1000 * res.secondsPerMaskLrp).toFixed(1)} ms.`,
    '',
  );
  lines.push("## The paper's claim", '');
  lines.push(
    'Mask-LRP (relevance through syntactic and positional heads only, then gradient × relevance rollout) beats the unmasked method and eight baselines (GAE, AttCAT, full LRP, LRP of the last layer, raw attention of the last layer, rollout, attention Grad-CAM, Grad-CAM) on AOPC (higher is better) and LOdds (lower is better), by 3 % to 33 % (abstract; BERT-base fine-tuned on SST-2, `textattack/bert-base-uncased-SST-2`, 12 × 12 heads, sentences of ≥ 20 tokens).',
    '',
  );
  lines.push('## Masks', '');
  const th = res.thresholds.paper;
  const tq = res.thresholds.q75;
  lines.push(
    `- paper thresholds (nsubj ${th.syntactic.nsubj}, obj ${th.syntactic.obj}, amod ${th.syntactic.amod}, advmod ${th.syntactic.advmod}; positional ${th.positional}): keeps ${heads(res.masks.paper as number[][])} of ${L * H} heads (syntactic ${heads(res.masks.paper_syntactic as number[][])}, positional ${heads(res.masks.paper_positional as number[][])}).`,
  );
  lines.push(
    `- quantile thresholds q75 (this model's 75th percentile per relation: nsubj ${fmt(tq.syntactic.nsubj, 3)}, obj ${fmt(tq.syntactic.obj, 3)}, amod ${fmt(tq.syntactic.amod, 3)}, advmod ${fmt(tq.syntactic.advmod, 3)}; positional ${tq.positional}): keeps ${heads(res.masks.q75 as number[][])} heads.`,
  );
  const best = (r: string) => Math.max(...res.stats.accuracy[r as 'nsubj'].flat());
  lines.push(
    `- best head accuracy per relation: ${res.stats.relations.map((r) => `${r} ${fmt(best(r), 3)}`).join(', ')}; highest single-offset frequency ${fmt(Math.max(...res.stats.topOffsetFrequency.flat()), 3)}.`,
  );
  if (heads(res.masks.paper as number[][]) === 0) {
    lines.push(
      "- With the paper's thresholds no head of this model qualifies: the mask drops the relevance of every head, so `mask_lrp` keeps only each layer's own attention relevance and the skip paths (see `head_mask.json`). The `q75` rows show the method with a mask this model can fill.",
    );
  }
  lines.push('');
  for (const subset of [...new Set(res.rows.map((r) => r.subset))]) {
    const rows = res.rows.filter((r) => r.subset === subset);
    lines.push(`## Results: ${subset} (${rows[0]?.n ?? 0} examples)`, '');
    lines.push('| method | AOPC ↑ | LOdds ↓ |', '|---|---|---|');
    for (const r of rows) lines.push(`| ${r.method} | ${fmt(r.aopc)} | ${fmt(r.lodds)} |`);
    lines.push('');
    for (const ours of ['mask_lrp', 'mask_lrp_q75', 'mask_lrp_q75_zero']) {
      const cmp = compareWithMaskLrp(rows, ours);
      const vs = cmp.filter((c) => c.method === 'transformer_attribution' || (SONG2024_BASELINES as readonly string[]).includes(c.method));
      const winsA = vs.filter((c) => c.maskLrpBetterAopc).length;
      const winsL = vs.filter((c) => c.maskLrpBetterLodds).length;
      lines.push(
        `**${ours}** vs the unmasked method and the 8 baselines: better AOPC than ${winsA} of ${vs.length}, better LOdds than ${winsL} of ${vs.length}.`,
        '',
      );
      lines.push('| vs | AOPC gain | LOdds gain | claim holds? |', '|---|---|---|---|');
      for (const c of vs) {
        const holds = c.maskLrpBetterAopc && c.maskLrpBetterLodds ? 'yes' : c.maskLrpBetterAopc || c.maskLrpBetterLodds ? 'partly' : 'no';
        lines.push(`| ${c.method} | ${(100 * c.aopcGain).toFixed(1)} % | ${(100 * c.loddsGain).toFixed(1)} % | ${holds} |`);
      }
      lines.push('');
    }
  }
  lines.push('## Notes', '');
  lines.push(
    "- `mask_lrp*` variants without `_zero` follow the reference code: a layer's own attention-map relevance is computed before the mask, which acts only on the relevance sent to the layers below; with 2 layers this changes only layer 0's map, whose gradient × relevance is small next to layer 1's, so these variants rank tokens almost like the unmasked method. `_zero` variants also zero the masked heads' own maps.",
  );
  lines.push('- Gains are relative: AOPC (ours − theirs)/|theirs|; LOdds (theirs − ours)/|theirs|; positive = Mask-LRP better.');
  lines.push(
    "- Explained class: the model's prediction (the reference code explains the gold label). Tokens replaced by `[PAD]`, `[CLS]`/`[SEP]` kept, round(f·m) of the m other tokens at f = 0.1 … 0.9.",
  );
  lines.push(`- Random masks keep as many heads as the mask they ablate (seeded); with an empty mask they are empty too.`);
  lines.push(
    "- GAE is Chefer et al. 2021b (attention × gradient, R ← R + Ā·R); the reference repository's function named `GAE` computes the LRP rollout (our `transformer_attribution`).",
  );
  for (const w of info.warnings ?? []) lines.push(`- ${w}`);
  lines.push('');
  return lines.join('\n');
}

function figures(res: Song2024Result): FigureSpec[] {
  const out: FigureSpec[] = [];
  for (const subset of [...new Set(res.steps.map((s) => s.subset))]) {
    for (const metric of ['aopc', 'lodds'] as const) {
      const methods = [...new Set(res.steps.map((s) => s.method))].filter(
        (m) => !m.endsWith('_syntactic') && !m.endsWith('_positional') && !m.includes('_random'),
      );
      out.push({
        title: `${metric === 'aopc' ? 'AOPC (higher = more faithful)' : 'LOdds (lower = more faithful)'} per step — ${subset}`,
        traces: methods.map((m) => {
          const s = res.steps.filter((x) => x.subset === subset && x.method === m);
          return {
            type: 'scatter',
            mode: 'lines+markers',
            name: m,
            x: s.map((x) => x.fraction * 100),
            y: s.map((x) => x[metric]),
            line: { width: m.startsWith('mask_lrp') ? 4 : 1.5 },
          };
        }),
        layout: {
          xaxis: { title: '% of tokens replaced by [PAD]' },
          yaxis: { title: metric === 'aopc' ? 'p(y|x) − p(y|x̃)' : 'log p(y|x̃)/p(y|x)' },
          height: 420,
        },
      });
    }
  }
  const st = res.stats;
  const ylab = Array.from({ length: st.layers }, (_, l) => `layer ${l}`);
  const xlab = Array.from({ length: st.heads }, (_, h) => `head ${h}`);
  for (const r of st.relations) {
    out.push({
      title: `Syntactic accuracy of each head: ${r} (${st.arcCounts[r]} arcs)`,
      traces: [{ type: 'heatmap', z: st.accuracy[r], x: xlab, y: ylab, colorscale: SEQUENTIAL_BLUES, zmin: 0, zmax: 1 }],
      layout: { height: 120 + 40 * st.layers },
    });
  }
  out.push({
    title: "Frequency of each head's most common offset (positional heads: > 0.8)",
    traces: [
      {
        type: 'heatmap',
        z: st.topOffsetFrequency,
        x: xlab,
        y: ylab,
        text: st.topOffset.map((r) => r.map((o) => `offset ${o}`)),
        colorscale: SEQUENTIAL_BLUES,
        zmin: 0,
        zmax: 1,
      },
    ],
    layout: { height: 120 + 40 * st.layers },
  });
  for (const key of ['paper', 'q75']) {
    out.push({
      title: `Head mask "${key}" (dark = kept: relevance passes)`,
      traces: [{ type: 'heatmap', z: res.masks[key], x: xlab, y: ylab, colorscale: SEQUENTIAL_BLUES, zmin: 0, zmax: 1, showscale: false }],
      layout: { height: 120 + 40 * st.layers },
    });
  }
  return out;
}

/**
 * Write every output of the reproduction into `dir` atomically.
 * @returns the paths written.
 * @throws Error from the file system (nothing half-written is left at `dir`).
 */
export function writeSong2024Outputs(dir: string, res: Song2024Result, info: Song2024RunInfo): string[] {
  const csv = (rows: Record<string, unknown>[]) => aq.from(rows).toCSV().replace(/\n*$/, '\n');
  const files: [string, string][] = [
    ['aopc_lodds.csv', csv(res.rows as unknown as Record<string, unknown>[])],
    ['aopc_lodds_steps.csv', csv(res.steps as unknown as Record<string, unknown>[])],
    ['ablations.csv', csv(ablationRows(res))],
    ['head_accuracy.csv', csv(accuracyRows(res))],
    ['head_offsets.csv', csv(offsetRows(res))],
    ['head_stats.json', JSON.stringify(res.stats) + '\n'],
    ['head_mask.json', JSON.stringify({ masks: res.masks, thresholds: res.thresholds, maskOfMethod: MASK_OF }, null, 1) + '\n'],
    ['per_example.jsonl', res.examples.map((e) => JSON.stringify(e)).join('\n') + '\n'],
    ['summary.md', song2024Summary(res, info)],
    [
      'figure.html',
      htmlFigurePage({
        title: `Song et al. 2024 (Mask-LRP) reproduction — ${info.model}`,
        notes: [`${res.examples.length} examples; ${info.data}.`, ...(info.warnings ?? [])],
        figures: figures(res),
      }),
    ],
  ];
  return writeResultsFolder(
    dir,
    files.map(([f]) => f),
    (tmp) => {
      for (const [name, text] of files) writeFileSync(join(tmp, name), text);
    },
  );
}
