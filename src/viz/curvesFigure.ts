/**
 * Line plots of curves over a removal fraction, one line per method (degradation tests of Jiang et al.
 * 2020, Fig. 4; AOPC / log-odds curves): plain data in, {@link FigureSpec}s out for
 * {@link writeHtmlFigure} / {@link htmlFigurePage}. Views only; they know nothing about models.
 *
 * @module
 */
import { columnDomains, type FigureSpec } from './html.js';

/** One line: a method's values over x. */
export interface CurveLine {
  /** Legend name (the method); lines with the same name share a colour across panels. */
  name: string;
  /** `[k]` x values (e.g. fractions of tokens removed). */
  x: number[];
  /** `[k]` y values. */
  y: number[];
  /** Shown in the legend after the name, e.g. the curve's area. */
  note?: string;
}

/** A panel (subplot) of lines. */
export interface CurvePanel {
  title: string;
  lines: CurveLine[];
}

/** Options of {@link curvesFigure}. */
export interface CurvesFigureOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** y-axis range (default automatic). */
  yRange?: [number, number];
  caption?: string;
}

/** Colours per method, stable across figures (plotly's default cycle, with fixed picks for known methods). */
const KNOWN: Record<string, string> = {
  iba: '#d62728',
  integrated_gradients: '#1f77b4',
  ig: '#1f77b4',
  lime: '#2ca02c',
  random: '#7f7f7f',
};
const CYCLE = ['#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf'];

function colours(names: string[]): Map<string, string> {
  const m = new Map<string, string>();
  let k = 0;
  for (const n of names) if (!m.has(n)) m.set(n, KNOWN[n] ?? CYCLE[k++ % CYCLE.length]);
  return m;
}

/**
 * Panels of line plots side by side, one line per method, sharing colours and one legend.
 *
 * @param panels `[p]` panels, each with `[m]` lines of `[k]` points.
 * @returns a plotly {@link FigureSpec}.
 * @throws Error for no panels, or a line whose `x` and `y` differ in length (naming the line).
 */
export function curvesFigure(panels: CurvePanel[], opts: CurvesFigureOptions = {}): FigureSpec {
  if (panels.length === 0) throw new Error('curvesFigure: no panels');
  for (const p of panels) {
    for (const l of p.lines) {
      if (l.x.length !== l.y.length) throw new Error(`curvesFigure: line "${l.name}" in "${p.title}" has ${l.x.length} x and ${l.y.length} y values`);
    }
  }
  const col = colours(panels.flatMap((p) => p.lines.map((l) => l.name)));
  const dom = columnDomains(panels.length, 0.08);
  const traces: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    height: 420,
    margin: { t: 50, b: 60, l: 60, r: 20 },
    legend: { orientation: 'h', y: -0.2 },
    annotations: panels.map((p, i) => ({
      text: p.title,
      showarrow: false,
      xref: 'paper',
      yref: 'paper',
      x: (dom[i][0] + dom[i][1]) / 2,
      y: 1.08,
      xanchor: 'center',
    })),
  };
  const shown = new Set<string>();
  panels.forEach((p, i) => {
    const ax = i === 0 ? '' : String(i + 1);
    layout[`xaxis${ax}`] = { domain: dom[i], title: { text: opts.xTitle ?? 'fraction of tokens removed' }, range: [0, 1], anchor: `y${ax}` };
    layout[`yaxis${ax}`] = { title: { text: i === 0 ? (opts.yTitle ?? '') : '' }, anchor: `x${ax}`, ...(opts.yRange ? { range: opts.yRange } : {}) };
    for (const l of p.lines) {
      traces.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: l.note ? `${l.name} (${l.note})` : l.name,
        legendgroup: l.name,
        showlegend: !shown.has(l.name),
        x: l.x,
        y: l.y,
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
        line: { color: col.get(l.name) },
        marker: { color: col.get(l.name), size: 5 },
      });
      shown.add(l.name);
    }
  });
  return { title: opts.title, traces, layout, caption: opts.caption };
}
