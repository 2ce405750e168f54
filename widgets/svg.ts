/**
 * Small SVG drawing helpers shared by the widgets' static renderings and their live views: a
 * heatmap, a line chart, colour scales, number formatting and shape checks. Everything returns
 * markup strings with inline attributes only (no scripts, no CSS classes needed, no network), so
 * one function draws the same figure in a saved notebook (nbconvert, GitHub) and in the browser.
 *
 * @module
 */

/** HTML/XML-escapes text. */
export function esc(s: string): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A number with 3 significant digits (`0.0123`, `12.3`, `1.23e+5`), for labels and tooltips. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/**
 * "Nice" axis ticks: multiples of 1, 2 or 5 × 10^k covering [lo, hi], about `target` of them.
 * @returns the ticks (ascending), their step, and the covered range [first, last tick].
 */
export function niceTicks(lo: number, hi: number, target = 5): { ticks: number[]; step: number; lo: number; hi: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`niceTicks: range [${lo}, ${hi}] is not finite`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) / 2;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { ticks, step, lo: ticks[0], hi: ticks[ticks.length - 1] };
}

/** A tick value with as many decimals as its step needs (`0.005` step → `0.015`), exponent form below 1e-4. */
export function tickLabel(v: number, step: number): string {
  if (v === 0 || Math.abs(v) < step * 1e-6) return '0';
  if (step < 1e-4 || Math.abs(v) >= 1e6) return v.toExponential(Math.max(0, Math.floor(Math.log10(Math.abs(v)) + 1e-9) - Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** ColorBrewer Blues stops (white → dark blue), as `src/viz/html.ts`'s SEQUENTIAL_BLUES. */
const BLUES: [number, [number, number, number]][] = [
  [0, [247, 251, 255]],
  [0.25, [198, 219, 239]],
  [0.5, [107, 174, 214]],
  [0.75, [33, 113, 181]],
  [1, [8, 48, 107]],
];

/** The same Blues scale as a plotly `colorscale` (white = low, dark blue = high). */
export const PLOTLY_BLUES: [number, string][] = BLUES.map(([t, c]) => [t, `rgb(${c[0]},${c[1]},${c[2]})`]);

/**
 * Sequential colour for a magnitude.
 * @param t position in [0, 1] (clamped): 0 = white, 1 = dark blue.
 * @returns CSS `rgb(r,g,b)` interpolated linearly between the Blues stops.
 */
export function blues(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  for (let i = 1; i < BLUES.length; i++) {
    const [t1, c1] = BLUES[i];
    const [t0, c0] = BLUES[i - 1];
    if (x <= t1) {
      const f = (x - t0) / (t1 - t0);
      const c = c0.map((v, k) => Math.round(v + f * (c1[k] - v)));
      return `rgb(${c[0]},${c[1]},${c[2]})`;
    }
  }
  return 'rgb(8,48,107)';
}

/**
 * Diverging colour for a signed score: red (220,38,38) for t ≥ 0, blue (37,99,235) below, white
 * at 0, as the token-saliency widget.
 * @param t signed position in [-1, 1] (clamped).
 * @returns CSS `rgb(r,g,b)`: white blended towards red/blue by |t|.
 */
export function diverging(t: number): string {
  const x = Math.min(1, Math.max(-1, Number.isFinite(t) ? t : 0));
  const target = x >= 0 ? [220, 38, 38] : [37, 99, 235];
  const a = Math.abs(x);
  const c = target.map((v) => Math.round(255 + a * (v - 255)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** A line colour per series index (Plotly's default cycle, so live and static views agree). */
export const SERIES_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * Throws unless `v` is an array-like of `n` finite numbers.
 * @param what names the value in the message, e.g. `"AttentionMaps: rollout"`.
 * @throws Error naming `what`, the expected and actual length, or the first non-finite entry.
 */
export function checkFinite(v: ArrayLike<number> | null | undefined, n: number, what: string): void {
  if (!v || typeof (v as ArrayLike<number>).length !== 'number') throw new Error(`${what}: expected ${n} numbers, got ${v === null ? 'null' : typeof v}`);
  if (v.length !== n) throw new Error(`${what}: expected ${n} numbers, got ${v.length}`);
  for (let i = 0; i < n; i++) {
    if (typeof v[i] !== 'number' || !Number.isFinite(v[i])) throw new Error(`${what}: entry ${i} is ${String(v[i])}, not a finite number`);
  }
}

/**
 * Flattens a `[rows][cols]` nested array into a row-major Float32Array, checking the shape.
 * @throws Error naming `what` when it is not an array of `rows` arrays of `cols` finite numbers.
 */
export function flatten2d(m: ArrayLike<ArrayLike<number>>, rows: number, cols: number, what: string): Float32Array {
  if (!m || m.length !== rows) throw new Error(`${what}: expected ${rows} rows, got ${m ? m.length : String(m)}`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = m[r];
    if (!row || row.length !== cols) throw new Error(`${what}: row ${r} has ${row ? row.length : 'no'} entries, expected ${cols}`);
    checkFinite(row, cols, `${what} row ${r}`);
    for (let c = 0; c < cols; c++) out[r * cols + c] = row[c];
  }
  return out;
}

/** Input of {@link heatmapSvg}. */
export interface HeatmapSpec {
  /** `[rows, cols]` row-major values. */
  z: ArrayLike<number>;
  rows: number;
  cols: number;
  rowLabels: string[];
  colLabels: string[];
  /** Caption above the map. */
  title?: string;
  /** `'blues'` (magnitudes, default) or `'diverging'` (signed). */
  scale?: 'blues' | 'diverging';
  /** Colour range: default [min(z, 0), max(z)] for blues, ±max|z| for diverging. */
  range?: [number, number];
  /** Cell size in px (default 18). */
  cell?: number;
  /** Tooltip of a cell (SVG `<title>`), default `"row → col: value"`. */
  tooltip?: (r: number, c: number, v: number) => string;
  /** Extra attributes per cell, e.g. `data-layer="2"`, for click handling in live views. */
  cellAttrs?: (r: number, c: number) => string;
  /** Cells drawn crossed out (e.g. masked heads). */
  crossed?: (r: number, c: number) => boolean;
  /** Axis captions. */
  rowAxis?: string;
  colAxis?: string;
  /** Colour scale drawn right of the map (default on), with this caption. */
  colorbar?: boolean | { label?: string };
}

/** Steps of the colour bar (stacked rectangles: no gradient ids, which would clash between figures). */
const COLORBAR_STEPS = 32;

/**
 * A heatmap as an SVG element: one `<rect>` per cell with a tooltip, row labels on the left, column
 * labels rotated below.
 * @returns `<svg ...>` markup.
 * @throws Error when `z` is not `rows·cols` finite numbers or the label counts differ.
 */
export function heatmapSvg(spec: HeatmapSpec): string {
  const { rows, cols } = spec;
  checkFinite(spec.z, rows * cols, `heatmap${spec.title ? ` "${spec.title}"` : ''}`);
  if (spec.rowLabels.length !== rows) throw new Error(`heatmap: ${spec.rowLabels.length} row labels for ${rows} rows`);
  if (spec.colLabels.length !== cols) throw new Error(`heatmap: ${spec.colLabels.length} column labels for ${cols} columns`);
  const cell = spec.cell ?? 18;
  const z = spec.z;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < rows * cols; i++) {
    lo = Math.min(lo, z[i]);
    hi = Math.max(hi, z[i]);
  }
  const div = spec.scale === 'diverging';
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  const [r0, r1] = spec.range ?? (div ? [-maxAbs, maxAbs] : [Math.min(lo, 0), hi > Math.min(lo, 0) ? hi : Math.min(lo, 0) + 1]);
  const color = (v: number): string => (div ? diverging(v / Math.max(Math.abs(r0), Math.abs(r1), 1e-30)) : blues((v - r0) / (r1 - r0 || 1)));
  const labelW = Math.min(110, 8 + 7 * Math.max(1, ...spec.rowLabels.map((s) => s.length)));
  const labelH = Math.min(100, 10 + 6 * Math.max(1, ...spec.colLabels.map((s) => s.length)));
  const top = spec.title ? 22 : 6;
  const left = labelW + (spec.rowAxis ? 16 : 0);
  const bar = spec.colorbar === false ? null : { label: typeof spec.colorbar === 'object' ? (spec.colorbar.label ?? '') : '' };
  const barTicks = bar ? niceTicks(r0, r1, 3).ticks.filter((t) => t >= r0 - 1e-12 * Math.abs(r1 - r0) && t <= r1 + 1e-12 * Math.abs(r1 - r0)) : [];
  const barH = Math.max(rows * cell, 80);
  const barLabelW = bar ? 14 + 7 * Math.max(2, ...barTicks.map((t) => tickLabel(t, niceTicks(r0, r1, 3).step).length)) : 0;
  const width = left + cols * cell + 10 + (bar ? 24 + barLabelW + (bar.label ? 16 : 0) : 0);
  const height = Math.max(top + rows * cell + labelH + (spec.colAxis ? 16 : 0), bar ? top + barH + 8 : 0);
  const tip = spec.tooltip ?? ((r: number, c: number, v: number) => `${spec.rowLabels[r]} → ${spec.colLabels[c]}: ${fmt(v)}`);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" style="font-family:sans-serif;font-size:11px">`,
  );
  if (spec.title) parts.push(`<text x="${left}" y="14" font-weight="600" font-size="12">${esc(spec.title)}</text>`);
  for (let r = 0; r < rows; r++) {
    parts.push(`<text x="${left - 4}" y="${top + r * cell + cell * 0.7}" text-anchor="end">${esc(spec.rowLabels[r])}</text>`);
    for (let c = 0; c < cols; c++) {
      const v = z[r * cols + c];
      const x = left + c * cell;
      const y = top + r * cell;
      const extra = spec.cellAttrs ? ' ' + spec.cellAttrs(r, c) : '';
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${color(v)}" stroke="#fff" stroke-width="0.5"${extra}><title>${esc(tip(r, c, v))}</title></rect>`,
      );
      if (spec.crossed?.(r, c)) {
        parts.push(
          `<path d="M${x + 2} ${y + 2}L${x + cell - 2} ${y + cell - 2}M${x + cell - 2} ${y + 2}L${x + 2} ${y + cell - 2}" stroke="#111" stroke-width="1.5" pointer-events="none"/>`,
        );
      }
    }
  }
  const by = top + rows * cell + 4;
  for (let c = 0; c < cols; c++) {
    const x = left + c * cell + cell / 2;
    parts.push(`<text transform="translate(${x},${by}) rotate(-60)" text-anchor="end" dominant-baseline="middle">${esc(spec.colLabels[c])}</text>`);
  }
  if (spec.rowAxis)
    parts.push(`<text transform="translate(10,${top + (rows * cell) / 2}) rotate(-90)" text-anchor="middle" fill="#555">${esc(spec.rowAxis)}</text>`);
  if (spec.colAxis) parts.push(`<text x="${left + (cols * cell) / 2}" y="${height - 3}" text-anchor="middle" fill="#555">${esc(spec.colAxis)}</text>`);
  if (bar) {
    const bx = left + cols * cell + 16;
    const step = niceTicks(r0, r1, 3).step;
    const h = barH / COLORBAR_STEPS;
    const at = (v: number): number => top + barH - ((v - r0) / (r1 - r0 || 1)) * barH;
    parts.push(`<g class="flowlens-colorbar">`);
    for (let k = 0; k < COLORBAR_STEPS; k++) {
      const v = r1 - ((k + 0.5) / COLORBAR_STEPS) * (r1 - r0);
      parts.push(`<rect x="${bx}" y="${(top + k * h).toFixed(2)}" width="12" height="${(h + 0.5).toFixed(2)}" fill="${color(v)}"/>`);
    }
    parts.push(`<rect x="${bx}" y="${top}" width="12" height="${barH}" fill="none" stroke="#999" stroke-width="0.5"/>`);
    for (const t of barTicks) {
      const y = at(t);
      parts.push(
        `<line x1="${bx + 12}" x2="${bx + 16}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#555"/><text x="${bx + 18}" y="${(y + 4).toFixed(1)}">${tickLabel(t, step)}</text>`,
      );
    }
    if (bar.label)
      parts.push(`<text transform="translate(${bx + 24 + barLabelW},${top + barH / 2}) rotate(-90)" text-anchor="middle" fill="#555">${esc(bar.label)}</text>`);
    parts.push(`</g>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** One line of {@link lineChartSvg}. */
export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
}

/** Input of {@link lineChartSvg}. */
export interface LineChartSpec {
  series: LineSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Tick labels for integer x values (e.g. tokens); default numeric ticks. */
  xTickLabels?: string[];
  width?: number;
  height?: number;
}

/**
 * A line chart (markers and lines, one colour per series, legend on the right) as SVG.
 * @returns `<svg ...>` markup.
 * @throws Error when a series' x and y differ in length or hold non-finite numbers, or there is
 *   no point at all.
 */
export function lineChartSvg(spec: LineChartSpec): string {
  // The legend is as wide as its longest name (≈ 6.6 px a character at 11 px), the plot keeps its width.
  const legendW = Math.min(360, 34 + 6.6 * Math.max(4, ...spec.series.map((s) => s.name.length)));
  const W = (spec.width ?? 560) + Math.max(0, legendW - 150);
  const H = spec.height ?? 300;
  const ticksX = spec.xTickLabels;
  const m = { l: 62, r: legendW + 10, t: spec.title ? 26 : 10, b: ticksX ? 70 : 40 };
  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  spec.series.forEach((s, k) => {
    checkFinite(s.x, s.x.length, `line chart series ${k} ("${s.name}") x`);
    checkFinite(s.y, s.x.length, `line chart series ${k} ("${s.name}") y`);
    for (let i = 0; i < s.x.length; i++) {
      xmin = Math.min(xmin, s.x[i]);
      xmax = Math.max(xmax, s.x[i]);
      ymin = Math.min(ymin, s.y[i]);
      ymax = Math.max(ymax, s.y[i]);
    }
  });
  if (!Number.isFinite(xmin)) throw new Error('line chart: no points to draw');
  if (xmax === xmin) xmax = xmin + 1;
  const yt = niceTicks(ymin, ymax, 5);
  ymin = yt.lo;
  ymax = yt.hi;
  const xt = ticksX ? undefined : niceTicks(xmin, xmax, 5);
  if (xt) {
    xmin = xt.lo;
    xmax = xt.hi;
  }
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const X = (v: number): number => m.l + ((v - xmin) / (xmax - xmin)) * pw;
  const Y = (v: number): number => m.t + ph - ((v - ymin) / (ymax - ymin)) * ph;
  const p: string[] = [];
  p.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" style="font-family:sans-serif;font-size:11px">`);
  if (spec.title) p.push(`<text x="${m.l}" y="16" font-weight="600" font-size="12">${esc(spec.title)}</text>`);
  p.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ccc"/>`);
  for (const v of yt.ticks) {
    const y = Y(v).toFixed(1);
    p.push(
      `<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/><text class="flowlens-ytick" x="${m.l - 4}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${tickLabel(v, yt.step)}</text>`,
    );
  }
  if (ticksX) {
    ticksX.forEach((t, i) => {
      if (i < xmin || i > xmax) return;
      p.push(`<text transform="translate(${X(i)},${m.t + ph + 6}) rotate(-60)" text-anchor="end" dominant-baseline="middle">${esc(t)}</text>`);
    });
  } else {
    for (const v of xt!.ticks)
      p.push(`<text class="flowlens-xtick" x="${X(v).toFixed(1)}" y="${m.t + ph + 14}" text-anchor="middle">${tickLabel(v, xt!.step)}</text>`);
  }
  if (spec.xLabel) p.push(`<text x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle" fill="#555">${esc(spec.xLabel)}</text>`);
  if (spec.yLabel) p.push(`<text transform="translate(11,${m.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#555">${esc(spec.yLabel)}</text>`);
  spec.series.forEach((s, k) => {
    const color = s.color ?? SERIES_COLORS[k % SERIES_COLORS.length];
    const pts = Array.from({ length: s.x.length }, (_, i) => `${X(s.x[i]).toFixed(1)},${Y(s.y[i]).toFixed(1)}`);
    p.push(`<polyline class="flowlens-series" data-series="${esc(s.name)}" points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (let i = 0; i < s.x.length; i++) {
      p.push(
        `<circle cx="${X(s.x[i]).toFixed(1)}" cy="${Y(s.y[i]).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name}: (${fmt(s.x[i])}, ${fmt(s.y[i])})`)}</title></circle>`,
      );
    }
    const ly = m.t + 8 + k * 16;
    p.push(
      `<line x1="${W - legendW}" x2="${W - legendW + 18}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${W - legendW + 22}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  p.push('</svg>');
  return p.join('');
}
