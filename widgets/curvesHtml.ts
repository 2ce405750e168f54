/**
 * Degradation / AOPC curves (Samek et al. 2017, "Evaluating the visualization of what a deep
 * neural network has learned", IEEE TNNLS; DeYoung et al. 2020 for comprehensiveness): the model's
 * output as the most important tokens of each method are removed, one line per method. Plain data
 * in: a plotly figure (live view, HTML export) and a static SVG (saved notebooks) of the same lines.
 *
 * @module
 */
import type { FigureSpec } from '../src/viz/html.js';
import { esc, fmt, lineChartSvg, SERIES_COLORS } from './svg.js';

/** One method's curve: `values[i]` = the output after removing `fractions[i]` of the tokens. */
export interface DegradationCurve {
  method: string;
  /** `[points]` fractions of tokens removed, ascending, in [0, 1]. */
  fractions: number[];
  /** `[points]` the QoI (or probability) at each fraction. */
  values: number[];
  /** The method's AOPC, when the evaluation computed it; else computed by {@link aopc}. */
  aopc?: number;
}

/**
 * A curve as the widget accepts it: {@link DegradationCurve}, or `src/eval/degradation.ts`'s curve
 * (`prob` instead of `values`, and a removal `direction`, shown as MoRF / LeRF in the name).
 */
export type DegradationCurveInput = Omit<DegradationCurve, 'values'> & { values?: number[]; prob?: number[]; direction?: 'most' | 'least' };

/** Input of the degradation-curves widget. */
export interface DegradationData {
  curves: DegradationCurveInput[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

/**
 * Area over the perturbation curve (Samek et al. 2017, Eq. 12, for one example or a mean curve):
 * AOPC = 1/(K+1) · Σ_{k=0..K} (f(x⁽⁰⁾) − f(x⁽ᵏ⁾)), with `values[k]` = f(x⁽ᵏ⁾) and `values[0]` the
 * unperturbed output (`fractions[0]` must be 0).
 * @returns the AOPC, in the unit of `values`.
 * @throws Error when the curve is empty or does not start at fraction 0.
 */
export function aopc(curve: Pick<DegradationCurve, 'fractions' | 'values'>): number {
  if (curve.values.length === 0) throw new Error('aopc: empty curve');
  if (curve.fractions[0] !== 0) throw new Error(`aopc: the curve must start at fraction 0 (the unperturbed input), got ${curve.fractions[0]}`);
  const f0 = curve.values[0];
  let s = 0;
  for (const v of curve.values) s += f0 - v;
  return s / curve.values.length;
}

/**
 * Validates curves.
 * @returns copies, with `aopc` filled in where it can be computed (curves starting at fraction 0).
 * @throws Error naming the method when fractions and values differ in length, are empty, are not
 *   finite, or fractions are not ascending within [0, 1]; or when there is no curve.
 */
export function packCurves(d: DegradationData): { curves: DegradationCurve[]; title: string; xLabel: string; yLabel: string } {
  if (!d || !Array.isArray(d.curves) || d.curves.length === 0) throw new Error('DegradationCurves: give at least one curve {method, fractions, values}');
  const curves = d.curves.map((input, k) => {
    const base = input && typeof input.method === 'string' ? input.method : `curve ${k}`;
    const name = input?.direction ? `${base} · ${input.direction === 'most' ? 'MoRF' : 'LeRF'}` : base;
    const c = { ...input, values: input?.values ?? input?.prob } as DegradationCurve;
    if (!input || !Array.isArray(c.fractions) || !Array.isArray(c.values))
      throw new Error(`DegradationCurves: ${name}: fractions and values (or prob) must be arrays`);
    if (c.fractions.length === 0 || c.fractions.length !== c.values.length)
      throw new Error(`DegradationCurves: ${name}: ${c.fractions.length} fractions but ${c.values.length} values (non-empty, same length)`);
    c.fractions.forEach((f, i) => {
      if (!Number.isFinite(f) || f < 0 || f > 1) throw new Error(`DegradationCurves: ${name}: fractions[${i}] = ${f} is not in [0, 1]`);
      if (i > 0 && f < c.fractions[i - 1])
        throw new Error(`DegradationCurves: ${name}: fractions must be ascending (fractions[${i}] = ${f} < ${c.fractions[i - 1]})`);
    });
    c.values.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new Error(`DegradationCurves: ${name}: values[${i}] = ${v} is not finite`);
    });
    if (c.aopc !== undefined && !Number.isFinite(c.aopc)) throw new Error(`DegradationCurves: ${name}: aopc ${c.aopc} is not finite`);
    const out: DegradationCurve = { method: name, fractions: [...c.fractions], values: [...c.values] };
    const a = c.aopc ?? (c.fractions[0] === 0 ? aopc(c) : undefined);
    if (a !== undefined) out.aopc = a;
    return out;
  });
  return { curves, title: d.title ?? 'Degradation curves', xLabel: d.xLabel ?? 'fraction of tokens removed (most important first)', yLabel: d.yLabel ?? 'QoI' };
}

const legendName = (c: DegradationCurve): string => (c.aopc !== undefined ? `${c.method} (AOPC ${fmt(c.aopc)})` : c.method);

/**
 * The curves as a plotly figure (one `scatter` line per method, legend with AOPC), for the live view
 * and `writeHtmlFigure`.
 */
export function curvesFigure(p: ReturnType<typeof packCurves>): FigureSpec {
  return {
    title: p.title,
    traces: p.curves.map((c, k) => ({
      type: 'scatter',
      mode: 'lines+markers',
      name: legendName(c),
      x: c.fractions,
      y: c.values,
      line: { color: SERIES_COLORS[k % SERIES_COLORS.length] },
      hovertemplate: `${c.method}<br>removed %{x:.2f}<br>%{y:.4g}<extra></extra>`,
    })),
    layout: {
      title: { text: p.title },
      height: 360,
      margin: { t: 50 },
      xaxis: { title: { text: p.xLabel }, range: [0, 1] },
      yaxis: { title: { text: p.yLabel } },
    },
  };
}

/**
 * The curves as static HTML (SVG lines, same colours and legend as the live plotly view).
 * @returns a `<div class="flowlens-widget flowlens-curves">`.
 */
export function renderCurvesHtml(p: ReturnType<typeof packCurves>): string {
  const svg = lineChartSvg({
    series: p.curves.map((c) => ({ name: legendName(c), x: c.fractions, y: c.values })),
    title: p.title,
    xLabel: p.xLabel,
    yLabel: p.yLabel,
    width: 640,
  });
  return `<div class="flowlens-widget flowlens-curves" style="font-family:sans-serif">${svg}<div style="font-size:12px;color:#555">${esc('AOPC = mean over the points of (output at 0 − output at k); higher = the method found tokens whose removal hurts more.')}</div></div>`;
}
