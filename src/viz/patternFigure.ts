/**
 * Influence patterns as plotly figures (Lu et al. 2021, Figure 2/3 style): the residual stream as a grid
 * of nodes, layers (rows, embedding at the bottom) × token positions (columns), and the pattern drawn
 * as a path through it, each layer's step marked skip connection (grey, vertical) or attention head
 * (coloured, labelled `h<head>`). Plain data in, {@link FigureSpec} out; no model needed.
 *
 * @module
 */
import type { FigureSpec } from './html.js';

/** The part of a pattern a figure needs (an `InfluencePattern` fits structurally). */
export interface PatternFigureData {
  tokens: string[];
  layers: number;
  source: number;
  steps: { layer: number; position: number; kind: 'skip' | 'head'; head?: number; influence: number }[];
  influence?: number;
  qoi?: string;
}

const HEAD_COLOURS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939'];

/**
 * One pattern as a path through layers × positions.
 *
 * @param p the pattern (tokens `[seq]`, one step per layer).
 * @throws Error when the steps are not one per layer.
 */
export function patternPathFigure(p: PatternFigureData, title?: string): FigureSpec {
  if (p.steps.length !== p.layers) throw new Error(`patternPathFigure: ${p.steps.length} steps for ${p.layers} layers`);
  const seq = p.tokens.length;
  const gx: number[] = [];
  const gy: number[] = [];
  for (let r = 0; r <= p.layers; r++)
    for (let i = 0; i < seq; i++) {
      gx.push(i);
      gy.push(r);
    }
  const traces: Record<string, unknown>[] = [
    { type: 'scatter', mode: 'markers', x: gx, y: gy, marker: { size: 7, color: '#ddd' }, hoverinfo: 'skip', showlegend: false },
  ];
  const maxInf = Math.max(1e-30, ...p.steps.map((s) => Math.abs(s.influence)));
  let prev = p.source;
  const seen = new Set<string>();
  for (const s of p.steps) {
    const isSkip = s.kind === 'skip';
    const name = isSkip ? 'skip connection' : `head ${s.head}`;
    const colour = isSkip ? '#555' : HEAD_COLOURS[(s.head ?? 0) % HEAD_COLOURS.length];
    traces.push({
      type: 'scatter',
      mode: 'lines+markers',
      x: [prev, s.position],
      y: [s.layer, s.layer + 1],
      line: { color: colour, width: 2 + 6 * (Math.abs(s.influence) / maxInf), dash: isSkip ? 'solid' : 'solid' },
      marker: { size: 10, color: colour },
      name,
      legendgroup: name,
      showlegend: !seen.has(name),
      hovertext: `layer ${s.layer + 1}: ${name}, ${p.tokens[prev]} (${prev}) → ${p.tokens[s.position]} (${s.position}), influence ${s.influence.toPrecision(3)}`,
      hoverinfo: 'text',
    });
    seen.add(name);
    prev = s.position;
  }
  return {
    title: title ?? `Influence pattern${p.qoi ? ` for ${p.qoi}` : ''}`,
    traces,
    layout: {
      height: 120 + 55 * p.layers,
      xaxis: { tickmode: 'array', tickvals: p.tokens.map((_, i) => i), ticktext: p.tokens, title: { text: 'token position' } },
      yaxis: {
        tickmode: 'array',
        tickvals: Array.from({ length: p.layers + 1 }, (_, r) => r),
        ticktext: ['embedding', ...Array.from({ length: p.layers }, (_, l) => `layer ${l + 1}`)],
        title: { text: 'node' },
      },
      margin: { l: 90, r: 20, t: 30, b: 70 },
    },
    caption: `Each step goes from the node at one layer's input to its output: grey = skip connection (stays at its position), coloured = an attention head (label in the legend). Line width ∝ |step influence|.${p.influence !== undefined ? ` Pattern influence ${p.influence.toPrecision(3)}.` : ''}`,
  };
}

/**
 * Share of pattern steps through the skip connection, per layer, one bar group per task.
 *
 * @param rows task stats rows with `task`, `condition` (only `all` rows are drawn) and `skip_L<l>` columns.
 */
export function skipShareFigure(rows: Record<string, unknown>[]): FigureSpec {
  const all = rows.filter((r) => r.condition === 'all');
  const layerCols = [...new Set(all.flatMap((r) => Object.keys(r).filter((k) => /^skip_L\d+$/.test(k))))].sort(
    (a, b) => Number(a.slice(6)) - Number(b.slice(6)),
  );
  const traces = all.map((r) => ({
    type: 'bar',
    name: String(r.task),
    x: layerCols.map((c) => c.slice(5)),
    y: layerCols.map((c) => (r[c] === null || r[c] === undefined ? null : Number(r[c]))),
  }));
  return {
    title: 'Share of pattern steps through the skip connection, per layer',
    traces,
    layout: { barmode: 'group', yaxis: { range: [0, 1], title: { text: 'skip share' } }, xaxis: { title: { text: 'layer' } }, height: 380 },
    caption: 'The rest of the steps go through one attention head. The paper reports about 3× more steps through skips than through heads.',
  };
}

/**
 * Pattern ablation: the mean share of the source's influence carried by each kind of pattern, and the
 * share of the QoI kept when only the pattern is kept, per task.
 *
 * @param rows ablation rows with `task`, `method`, `influence_share`, `keep_share`.
 */
export function ablationFigure(rows: Record<string, unknown>[]): FigureSpec {
  const methods = [...new Set(rows.map((r) => String(r.method)))];
  const tasks = [...new Set(rows.map((r) => String(r.task)))];
  const traces = methods.flatMap((m) => [
    {
      type: 'bar',
      name: `${m}: influence share`,
      x: tasks,
      y: tasks.map((t) => Number(rows.find((r) => r.task === t && r.method === m)?.influence_share ?? NaN)),
      legendgroup: m,
    },
  ]);
  const keep = methods.map((m) => ({
    type: 'bar',
    name: `${m}: QoI kept`,
    x: tasks,
    y: tasks.map((t) => Number(rows.find((r) => r.task === t && r.method === m)?.keep_share ?? NaN)),
    xaxis: 'x2',
    yaxis: 'y2',
    legendgroup: m,
  }));
  return {
    title: 'Pattern ablation: influence patterns vs attention-, rollout- and layer-based patterns',
    traces: [...traces, ...keep],
    layout: {
      barmode: 'group',
      grid: { rows: 2, columns: 1, pattern: 'independent' },
      yaxis: { title: { text: 'share of source influence' } },
      yaxis2: { title: { text: 'share of QoI kept (pattern only)' } },
      height: 620,
    },
    caption:
      "Top: exact influence of each pattern's paths (stop-gradient) divided by the influence of all paths from the source token. Bottom: QoI of the model when every node outside the pattern takes its baseline value, as a share of QoI(input) − QoI(baseline).",
  };
}
