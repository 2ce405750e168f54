/**
 * Self-contained HTML figures: plotly.js (from the npm package `plotly.js-dist-min`) is inlined into
 * the file, so a figure opens offline and never loads a script from the network.
 *
 * A figure is plain data, `{title, traces, layout}` in plotly's JSON schema; views (e.g.
 * {@link ./attentionFigure.js}) build these from plain arrays and know nothing about models.
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** One plotly figure: traces and layout as plotly JSON (see plotly.js `Plotly.newPlot`). */
export interface FigureSpec {
  title?: string;
  traces: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  /** Plotly config (default `{responsive: true, displaylogo: false}`). */
  config?: Record<string, unknown>;
  /** A paragraph shown under the figure (plain text). */
  caption?: string;
}

/** A page of several figures. */
export interface FigurePage {
  title: string;
  figures: FigureSpec[];
  /** Paragraphs shown under the title (plain text). */
  notes?: string[];
}

/**
 * Sequential colour scale for non-negative magnitudes (attention, relevance, importance): white at the
 * minimum, dark blue at the maximum (ColorBrewer Blues). Plotly's own named `'Blues'` runs the other
 * way (dark = low), which reads backwards in attention maps.
 */
export const SEQUENTIAL_BLUES: [number, string][] = [
  [0, '#f7fbff'],
  [0.25, '#c6dbef'],
  [0.5, '#6baed6'],
  [0.75, '#2171b5'],
  [1, '#08306b'],
];

let plotlyCache: string | null = null;

/**
 * The plotly.js bundle's source, ready to inline in a `<script>` element.
 * @throws Error when the package `plotly.js-dist-min` is not installed.
 */
export function plotlySource(): string {
  if (plotlyCache) return plotlyCache;
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve('plotly.js-dist-min');
  } catch {
    throw new Error('plotly.js-dist-min is not installed (npm install plotly.js-dist-min); it is inlined into HTML figures');
  }
  // A literal "</script" would end the inline script early.
  plotlyCache = readFileSync(path, 'utf8').replace(/<\/script/gi, '<\\/script');
  return plotlyCache;
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * The HTML text of a page of figures, plotly inlined.
 *
 * @param page a {@link FigurePage}, or one {@link FigureSpec} (its title becomes the page title).
 * @returns a complete HTML document (≈ 4.9 MB, mostly plotly).
 */
export function htmlFigurePage(page: FigurePage | FigureSpec): string {
  const p: FigurePage = 'figures' in page ? page : { title: page.title ?? 'flowlens figure', figures: [page] };
  const blocks = p.figures
    .map(
      (f, i) =>
        `<section>${f.title ? `<h2>${escapeHtml(f.title)}</h2>` : ''}<div id="fig${i}" class="fig"></div>${f.caption ? `<p class="caption">${escapeHtml(f.caption)}</p>` : ''}</section>`,
    )
    .join('\n');
  const data = p.figures.map((f) => ({ traces: f.traces, layout: f.layout ?? {}, config: { responsive: true, displaylogo: false, ...f.config } }));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1300px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
.caption, .note { color: #555; font-size: 0.9em; max-width: 70em; }
.fig { width: 100%; }
</style>
<script>${plotlySource()}</script>
</head>
<body>
<h1>${escapeHtml(p.title)}</h1>
${(p.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
${blocks}
<script>
const FIGURES = ${scriptJson(data)};
FIGURES.forEach((f, i) => Plotly.newPlot('fig' + i, f.traces, f.layout, f.config));
</script>
</body>
</html>
`;
}

/**
 * Writes a self-contained HTML figure (or page of figures), atomically (temp file, then rename).
 *
 * @param path output file; its folder is created.
 * @param figure one figure `{title, traces, layout}` or a page `{title, figures, notes}`.
 * @throws Error when plotly.js-dist-min is missing or the file cannot be written.
 */
export function writeHtmlFigure(path: string, figure: FigureSpec | FigurePage): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, htmlFigurePage(figure));
  renameSync(tmp, path);
}

/**
 * Axis domains for `n` subplots side by side (plotly `xaxis`, `xaxis2`, … layout keys).
 * @param gap fraction of the width between plots.
 * @returns `[[x0, x1], …]`, `n` domains in [0, 1].
 */
export function columnDomains(n: number, gap = 0.06): [number, number][] {
  const w = (1 - gap * (n - 1)) / n;
  return Array.from({ length: n }, (_, i) => [i * (w + gap), i * (w + gap) + w] as [number, number]);
}
