/**
 * Figures of Abnar & Zuidema 2020 (arXiv 2005.00928) from plain arrays: attention maps (raw,
 * rollout, flow) of one example across layers (their Fig. 1), the importance of each input token at
 * the output position, layer by layer (their Fig. 2–3), and the Spearman table as bars (Tables 1–2).
 *
 * Views only: they take numbers and token strings and return {@link FigureSpec}s for
 * {@link writeHtmlFigure}; they know nothing about models.
 *
 * @module
 */
import { columnDomains, SEQUENTIAL_BLUES, type FigureSpec } from './html.js';

/** Attention maps of one example: each `[layers][seq][seq]`, row = from (query/output), column = to (input). */
export interface AttentionMaps {
  tokens: string[];
  raw: number[][][];
  rollout: number[][][];
  flow: number[][][];
}

const METHOD_TITLES: Record<string, string> = { raw: 'raw attention', rollout: 'attention rollout', flow: 'attention flow' };
const METHODS = ['raw', 'rollout', 'flow'] as const;

function checkMaps(m: AttentionMaps): number {
  const L = m.raw.length;
  const s = m.tokens.length;
  for (const k of METHODS) {
    if (m[k].length !== L) throw new Error(`attention figure: ${k} has ${m[k].length} layers, raw has ${L}`);
    for (const [l, mat] of m[k].entries()) {
      if (mat.length !== s || mat.some((r) => r.length !== s)) throw new Error(`attention figure: ${k} layer ${l} is not [${s}][${s}] (tokens)`);
    }
  }
  return L;
}

const tickAxis = (tokens: string[]) => ({ tickmode: 'array', tickvals: tokens.map((_, i) => i), ticktext: tokens, tickangle: -45 });

/**
 * Raw attention, rollout and flow maps side by side, one layer at a time, with a layer slider
 * (paper Fig. 1). Heads are already averaged in the input.
 *
 * @param maps `[layers][seq][seq]` each; rows = output positions (y, top to bottom), columns = input tokens (x).
 * @param opts.initialLayer 0-based layer shown first (default the last).
 * @throws Error when the arrays do not match the token count or each other's layer count.
 */
export function attentionMapsFigure(maps: AttentionMaps, opts: { initialLayer?: number; title?: string } = {}): FigureSpec {
  const L = checkMaps(maps);
  const show = opts.initialLayer ?? L - 1;
  const dom = columnDomains(3, 0.08);
  const traces: Record<string, unknown>[] = [];
  for (let l = 0; l < L; l++) {
    METHODS.forEach((m, k) => {
      traces.push({
        type: 'heatmap',
        z: maps[m][l],
        x: maps.tokens.map((_, i) => i),
        y: maps.tokens.map((_, i) => i),
        xaxis: k ? `x${k + 1}` : 'x',
        yaxis: k ? `y${k + 1}` : 'y',
        colorscale: SEQUENTIAL_BLUES,
        showscale: false,
        visible: l === show,
        name: `${METHOD_TITLES[m]} L${l + 1}`,
        hovertemplate: `${METHOD_TITLES[m]} L${l + 1}<br>from %{y}<br>to %{x}<br>%{z:.3f}<extra></extra>`,
      });
    });
  }
  const layout: Record<string, unknown> = {
    height: 460,
    margin: { t: 60, b: 110, l: 90 },
    annotations: METHODS.map((m, k) => ({ text: METHOD_TITLES[m], x: (dom[k][0] + dom[k][1]) / 2, y: 1.08, xref: 'paper', yref: 'paper', showarrow: false })),
    sliders: [
      {
        active: show,
        currentvalue: { prefix: 'layer ' },
        pad: { t: 70 },
        steps: Array.from({ length: L }, (_, l) => ({
          label: `L${l + 1}`,
          method: 'restyle',
          args: ['visible', traces.map((_, i) => Math.floor(i / 3) === l)],
        })),
      },
    ],
  };
  METHODS.forEach((_, k) => {
    const sx = k ? String(k + 1) : '';
    layout[`xaxis${sx}`] = { domain: dom[k], anchor: `y${sx}`, ...tickAxis(maps.tokens) };
    layout[`yaxis${sx}`] = { anchor: `x${sx}`, autorange: 'reversed', ...tickAxis(maps.tokens), tickangle: 0 };
  });
  return {
    title: opts.title ?? 'Attention maps across layers (heads averaged)',
    traces,
    layout,
    caption:
      'Row = output position (attends from), column = input token (attended to). Rollout and flow add the residual connection (0.5·A + 0.5·I) and trace attention back to the input tokens; flow values are max-flow values. Drag the slider to change the layer.',
  };
}

/**
 * Importance of each input token at one output position, every layer, for raw attention, rollout
 * and flow (paper Fig. 2–3), plus blank-out and input-gradient bars for the same example.
 *
 * @param maps as {@link attentionMapsFigure}; @param outputPosition the row read (e.g. the `[MASK]`).
 * @param references `[seq]` scores to show as bars (e.g. `{blankout, input_gradient}`), each scaled to max 1.
 * @throws Error when the arrays do not match the token count.
 */
export function importanceFigure(
  maps: AttentionMaps,
  outputPosition: number,
  references: Record<string, number[]> = {},
  opts: { title?: string } = {},
): FigureSpec {
  const L = checkMaps(maps);
  if (!Number.isInteger(outputPosition) || outputPosition < 0 || outputPosition >= maps.tokens.length) {
    throw new Error(`importance figure: output position ${outputPosition} is outside 0..${maps.tokens.length - 1}`);
  }
  const n = 4;
  const dom = columnDomains(n, 0.05);
  const x = maps.tokens.map((_, i) => i);
  const traces: Record<string, unknown>[] = METHODS.map((m, k) => ({
    type: 'heatmap',
    z: maps[m].map((layer) => layer[outputPosition]),
    x,
    y: Array.from({ length: L }, (_, l) => `L${l + 1}`),
    xaxis: k ? `x${k + 1}` : 'x',
    yaxis: k ? `y${k + 1}` : 'y',
    colorscale: SEQUENTIAL_BLUES,
    showscale: false,
    name: METHOD_TITLES[m],
    hovertemplate: `${METHOD_TITLES[m]} %{y}<br>%{x}<br>%{z:.3f}<extra></extra>`,
  }));
  for (const [name, scores] of Object.entries(references)) {
    if (scores.length !== maps.tokens.length) throw new Error(`importance figure: ${name} has ${scores.length} scores for ${maps.tokens.length} tokens`);
    const max = Math.max(...scores.map(Math.abs)) || 1;
    traces.push({ type: 'bar', x, y: scores.map((v) => v / max), name, xaxis: `x${n}`, yaxis: `y${n}` });
  }
  const layout: Record<string, unknown> = {
    height: 380,
    margin: { t: 60, b: 110 },
    barmode: 'group',
    legend: { orientation: 'h', y: -0.45 },
    annotations: [...METHODS.map((m) => METHOD_TITLES[m]), 'references (scaled to max 1)'].map((text, k) => ({
      text,
      x: (dom[k][0] + dom[k][1]) / 2,
      y: 1.1,
      xref: 'paper',
      yref: 'paper',
      showarrow: false,
    })),
  };
  for (let k = 0; k < n; k++) {
    const sx = k ? String(k + 1) : '';
    layout[`xaxis${sx}`] = { domain: dom[k], anchor: `y${sx}`, ...tickAxis(maps.tokens) };
    layout[`yaxis${sx}`] = { anchor: `x${sx}`, ...(k < 3 ? { autorange: 'reversed' } : {}) };
  }
  return {
    title: opts.title ?? `Importance of each input token for the output at position ${outputPosition} ("${maps.tokens[outputPosition]}"), by layer`,
    traces,
    layout,
    caption:
      'Each heatmap row is one layer: the attention row of the output position (raw), or the rollout/flow from every input token to it. Right: blank-out and input-gradient importance of the same tokens.',
  };
}

/** One row of the Spearman table (the columns of `table.csv`). */
export interface SpearmanRow {
  method: string;
  /** 1-based layer; null for reference-vs-reference rows (not plotted). */
  layer: number | null;
  reference: string;
  mean: number;
  std: number;
  paper_mean?: number | null;
  paper_std?: number | null;
  paper_layer?: string | null;
}

/**
 * Bars of mean Spearman ρ (± std) per layer and method, one panel per reference, with the paper's
 * Tables 1–2 values as diamonds where they exist.
 *
 * @param rows table rows (see {@link SpearmanRow}); rows with `layer` null are left out.
 * @throws Error when no row has a layer.
 */
export function spearmanBarFigure(rows: SpearmanRow[], opts: { title?: string } = {}): FigureSpec {
  const byLayer = rows.filter((r) => r.layer !== null);
  if (byLayer.length === 0) throw new Error('spearman figure: no rows with a layer');
  const refs = [...new Set(byLayer.map((r) => r.reference))];
  const methods = [...new Set(byLayer.map((r) => r.method))];
  const dom = columnDomains(refs.length, 0.06);
  const colors: Record<string, string> = { raw: '#8c8c8c', rollout: '#1f77b4', flow: '#d62728' };
  const traces: Record<string, unknown>[] = [];
  refs.forEach((ref, k) => {
    const sx = k ? String(k + 1) : '';
    for (const m of methods) {
      const rs = byLayer.filter((r) => r.reference === ref && r.method === m).sort((a, b) => (a.layer as number) - (b.layer as number));
      if (!rs.length) continue;
      traces.push({
        type: 'bar',
        name: METHOD_TITLES[m] ?? m,
        legendgroup: m,
        showlegend: k === 0,
        marker: { color: colors[m] },
        x: rs.map((r) => `L${r.layer}`),
        y: rs.map((r) => r.mean),
        error_y: { type: 'data', array: rs.map((r) => r.std), visible: true, thickness: 1 },
        xaxis: `x${sx}`,
        yaxis: `y${sx}`,
        hovertemplate: `${m} vs ${ref} %{x}: %{y:.2f}<extra></extra>`,
      });
      const paper = rs.filter((r) => r.paper_mean !== null && r.paper_mean !== undefined);
      if (paper.length) {
        traces.push({
          type: 'scatter',
          mode: 'markers',
          name: `${METHOD_TITLES[m] ?? m} (paper)`,
          legendgroup: m,
          showlegend: k === 0,
          marker: { symbol: 'diamond-open', size: 11, color: colors[m], line: { width: 2 } },
          x: paper.map((r) => `L${r.layer}`),
          y: paper.map((r) => r.paper_mean),
          xaxis: `x${sx}`,
          yaxis: `y${sx}`,
          hovertemplate: `paper ${m} vs ${ref} (%{text}): %{y:.2f}<extra></extra>`,
          text: paper.map((r) => r.paper_layer ?? ''),
        });
      }
    }
  });
  const layout: Record<string, unknown> = {
    height: 430,
    barmode: 'group',
    margin: { t: 60 },
    legend: { orientation: 'h', y: -0.15 },
    annotations: refs.map((ref, k) => ({ text: `vs ${ref}`, x: (dom[k][0] + dom[k][1]) / 2, y: 1.1, xref: 'paper', yref: 'paper', showarrow: false })),
  };
  refs.forEach((_, k) => {
    const sx = k ? String(k + 1) : '';
    layout[`xaxis${sx}`] = { domain: dom[k], anchor: `y${sx}` };
    layout[`yaxis${sx}`] = { anchor: `x${sx}`, range: [-1, 1], title: k === 0 ? { text: 'Spearman ρ (mean ± std)' } : undefined };
  });
  return {
    title: opts.title ?? 'Spearman correlation of attention-based importance with blank-out and input gradients',
    traces,
    layout,
    caption:
      'Bars: this reproduction (mean ± std over examples). Diamonds: Abnar & Zuidema 2020, Tables 1-2 (6-layer verb-number classifier, [CLS] row, 2000 samples); for a model with another depth only L1 and the last layer are matched to their L1 and L6.',
  };
}
