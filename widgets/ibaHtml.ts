/**
 * IBA layer plot (information bottleneck attribution: Schulz et al. 2020, "Restricting the Flow:
 * Information Bottlenecks for Attribution", ICLR; in transformers: Jiang et al. 2020, "Inserting
 * Information Bottlenecks for Attribution in Transformers", Findings of EMNLP): the information
 * each token lets through a bottleneck inserted after each layer, as a tokens × layers heatmap, and
 * the per-token curve of the selected layer. Plain data in: a plotly figure (live view, HTML
 * export) and a static SVG rendering of the same data.
 *
 * @module
 */
import type { FigureSpec } from '../src/viz/html.js';
import { esc, flatten2d, fmt, heatmapSvg, lineChartSvg, PLOTLY_BLUES } from './svg.js';

/** Input of the IBA widget: `scores` `[layers][seq]` (e.g. bits per token with the bottleneck after layer l). */
export interface IbaData {
  tokens: string[];
  scores: ArrayLike<ArrayLike<number>>;
  /** The β (weight of the information loss) the scores were computed with. */
  beta: number;
  /** 0-based row of `scores` selected (default the last). */
  layer?: number;
  /**
   * A name per row of `scores`, shown on the axis, in the layer picker and in titles (default
   * `L1`, `L2`, …). Pass `ibaLayers(...).layers` (`embeddings`, `layer 1`, …) with its scores, so
   * that the row of the bottleneck after encoder layer l (the API's `layer: l`) reads `layer l+1`.
   */
  layerNames?: string[];
  /** Unit of the scores (default `"bits"`). */
  unit?: string;
  title?: string;
}

/** The validated state: `scores` `[layers·seq]` row-major. */
export interface PackedIba {
  tokens: string[];
  layers: number;
  scores: Float32Array;
  beta: number;
  layer: number;
  /** `[layers]` row names. */
  layerNames: string[];
  unit: string;
  title: string;
  status: string;
}

/** Default row names: `L1`, `L2`, …. */
export function defaultLayerNames(layers: number): string[] {
  return Array.from({ length: layers }, (_, l) => `L${l + 1}`);
}

/** The row names of a packed state (older states without names get the defaults). */
export function ibaLayerNames(p: Pick<PackedIba, 'layers'> & { layerNames?: string[] }): string[] {
  return Array.isArray(p.layerNames) && p.layerNames.length === p.layers ? p.layerNames : defaultLayerNames(p.layers);
}

/**
 * Throws unless `beta` is a positive finite number.
 * @throws Error naming the value.
 */
export function checkBeta(beta: unknown): number {
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0)
    throw new Error(`IbaLayerPlot: beta must be a positive number, got ${JSON.stringify(beta)}`);
  return beta;
}

/**
 * Validates and packs {@link IbaData}.
 * @throws Error when `scores` is not `[layers][tokens.length]` of finite numbers, `beta` is not
 *   positive, or `layer` is outside `0..layers-1`.
 */
export function packIba(d: IbaData): PackedIba {
  if (!d || !Array.isArray(d.tokens) || d.tokens.length === 0) throw new Error('IbaLayerPlot: tokens must be a non-empty array of strings');
  if (!d.scores || d.scores.length === 0) throw new Error('IbaLayerPlot: scores must be a non-empty [layers][seq] array');
  const layers = d.scores.length;
  const scores = flatten2d(d.scores, layers, d.tokens.length, `IbaLayerPlot: scores [layers][seq = ${d.tokens.length} tokens]`);
  const layer = d.layer ?? layers - 1;
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers) throw new Error(`IbaLayerPlot: unknown layer ${layer} (layers 0..${layers - 1})`);
  if (d.layerNames !== undefined && (!Array.isArray(d.layerNames) || d.layerNames.length !== layers || !d.layerNames.every((n) => typeof n === 'string'))) {
    throw new Error(`IbaLayerPlot: layerNames must be ${layers} strings (one per row of scores), got ${JSON.stringify(d.layerNames)}`);
  }
  const layerNames = d.layerNames ? [...d.layerNames] : defaultLayerNames(layers);
  return { tokens: [...d.tokens], layers, scores, beta: checkBeta(d.beta), layer, layerNames, unit: d.unit ?? 'bits', title: d.title ?? '', status: '' };
}

function rowOf(p: PackedIba, l: number): Float32Array {
  const seq = p.tokens.length;
  return p.scores.subarray(l * seq, (l + 1) * seq);
}

/** The heatmap (tokens × layers) and the selected layer's curve as a plotly figure. */
export function ibaFigure(p: PackedIba): FigureSpec {
  const x = p.tokens.map((t, i) => `${i} ${t}`);
  const z = Array.from({ length: p.layers }, (_, l) => Array.from(rowOf(p, l)));
  const title = `${p.title ? p.title + ': ' : ''}information per token (${p.unit}), β = ${fmt(p.beta)}`;
  const names = ibaLayerNames(p);
  const sel = names[p.layer];
  return {
    title,
    traces: [
      {
        type: 'heatmap',
        z,
        x,
        y: names,
        colorscale: PLOTLY_BLUES,
        xaxis: 'x',
        yaxis: 'y',
        colorbar: { title: { text: p.unit }, len: 0.45, y: 0.78 },
        hovertemplate: `%{y} %{x}: %{z:.3g} ${p.unit}<extra></extra>`,
      },
      {
        type: 'scatter',
        mode: 'lines+markers',
        x,
        y: Array.from(rowOf(p, p.layer)),
        name: sel,
        xaxis: 'x2',
        yaxis: 'y2',
        hovertemplate: `${sel} %{x}: %{y:.3g} ${p.unit}<extra></extra>`,
      },
    ],
    layout: {
      title: { text: title },
      height: 520,
      showlegend: false,
      margin: { t: 50, b: 90 },
      grid: { rows: 2, columns: 1, pattern: 'independent' },
      xaxis: { domain: [0, 1], anchor: 'y', tickangle: -45 },
      yaxis: { domain: [0.56, 1], anchor: 'x', autorange: 'reversed', automargin: true, title: { text: 'layer' } },
      xaxis2: { domain: [0, 1], anchor: 'y2', tickangle: -45 },
      yaxis2: { domain: [0, 0.42], anchor: 'x2', automargin: true, title: { text: `${sel} (${p.unit})` } },
      shapes: [{ type: 'rect', xref: 'paper', yref: 'y', x0: 0, x1: 1, y0: p.layer - 0.5, y1: p.layer + 0.5, line: { color: '#ea580c', width: 2 } }],
    },
  };
}

/**
 * Static HTML: SVG heatmap (rows = layers, columns = tokens; the selected layer marked ▶) and the
 * selected layer's per-token curve.
 * @returns a `<div class="flowlens-widget flowlens-iba">`.
 * @throws Error when `scores` does not match `layers × tokens`.
 */
export function renderIbaHtml(p: PackedIba): string {
  const seq = p.tokens.length;
  if (p.scores.length !== p.layers * seq) throw new Error(`IbaLayerPlot: scores has ${p.scores.length} numbers, expected layers·seq = ${p.layers}·${seq}`);
  if (!Number.isInteger(p.layer) || p.layer < 0 || p.layer >= p.layers) throw new Error(`IbaLayerPlot: unknown layer ${p.layer}`);
  const labels = p.tokens.map((t, i) => `${i} ${t}`);
  const names = ibaLayerNames(p);
  const heat = heatmapSvg({
    z: p.scores,
    rows: p.layers,
    cols: seq,
    rowLabels: names.map((n, l) => `${l === p.layer ? '▶ ' : ''}${n}`),
    colLabels: labels,
    title: `information per token (${p.unit}), β = ${fmt(p.beta)}`,
    cell: 22,
    rowAxis: 'layer',
    tooltip: (l, i, v) => `${names[l]}, ${p.tokens[i]} (${i}): ${fmt(v)} ${p.unit}`,
    colorbar: { label: p.unit },
  });
  const curve = lineChartSvg({
    series: [{ name: names[p.layer], x: p.tokens.map((_, i) => i), y: Array.from(rowOf(p, p.layer)) }],
    xTickLabels: labels,
    yLabel: p.unit,
    title: `per-token information, ${names[p.layer]}`,
    width: Math.max(420, 60 + 30 * seq + 160),
  });
  return (
    `<div class="flowlens-widget flowlens-iba" data-layer="${p.layer}" style="font-family:sans-serif">` +
    (p.title ? `<div style="font-weight:600;margin-bottom:4px">${esc(p.title)}</div>` : '') +
    `<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start"><div>${heat}</div><div>${curve}</div></div>` +
    (p.status ? `<div class="flowlens-status" style="font-size:12px;color:#a00">${esc(p.status)}</div>` : '') +
    `</div>`
  );
}
