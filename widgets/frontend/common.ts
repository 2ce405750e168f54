/** Shared pieces of the flowlens front-end models and views (`@jupyter-widgets/base` 6). */
import { DOMWidgetModel, type ISerializers } from '@jupyter-widgets/base';
import { WIDGET_MODULE, WIDGET_MODULE_VERSION } from '../constants.js';
import { toFloat32 } from '../float32.js';

/** The `_model_*`/`_view_*` defaults of a flowlens model/view pair. */
export function names(model: string, view: string): Record<string, string> {
  return {
    _model_name: model,
    _model_module: WIDGET_MODULE,
    _model_module_version: WIDGET_MODULE_VERSION,
    _view_name: view,
    _view_module: WIDGET_MODULE,
    _view_module_version: WIDGET_MODULE_VERSION,
  };
}

/** Serializers for float32 state keys (binary buffers in, typed arrays out and back). */
export function float32Serializers(...keys: string[]): ISerializers {
  const s: ISerializers = { ...DOMWidgetModel.serializers };
  for (const k of keys) s[k] = { deserialize: (v: unknown) => toFloat32(v ?? [], `flowlens-widgets ${k}`), serialize: (v: Float32Array) => v };
  return s;
}

/** Runs `draw`, showing its error message in `el` instead of a figure when the state is malformed. */
export function safeDraw(el: HTMLElement, what: string, draw: () => void): void {
  try {
    draw();
  } catch (e) {
    el.innerHTML = '';
    const div = document.createElement('div');
    div.className = 'flowlens-error';
    div.style.color = '#a00';
    div.textContent = `flowlens-widgets ${what}: ${(e as Error).message}`;
    el.appendChild(div);
  }
}

/** The part of plotly.js the views use. */
export interface PlotlyLike {
  react(el: HTMLElement, data: Record<string, unknown>[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<unknown>;
  purge(el: HTMLElement): void;
}

/** RequireJS module name of the plotly.js copy installed next to the extension (`widgets/build.ts`). */
export const PLOTLY_AMD = 'nbextensions/flowlens-widgets/plotly.min';

let plotly: Promise<PlotlyLike> | undefined;

/**
 * Loads plotly.js once: the copy shipped in the nbextension folder, through Notebook's RequireJS
 * (kept out of the main bundle, which stays small and free of plotly's optional CDN URLs, never
 * used here); or a global `Plotly` when the page already has one.
 * @throws (rejects) when neither is available.
 */
export function loadPlotly(): Promise<PlotlyLike> {
  plotly ??= new Promise<PlotlyLike>((resolve, reject) => {
    const w = globalThis as unknown as { Plotly?: PlotlyLike; require?: (deps: string[], ok: (m: PlotlyLike) => void, err: (e: Error) => void) => void };
    if (w.Plotly) return resolve(w.Plotly);
    if (typeof w.require !== 'function') return reject(new Error('plotly.js is not available (no RequireJS and no global Plotly)'));
    // plotly.js 3 is not an AMD module: the script sets window.Plotly, and RequireJS gives undefined.
    w.require(
      [PLOTLY_AMD],
      (m) => {
        const P = m ?? (globalThis as unknown as { Plotly?: PlotlyLike }).Plotly;
        if (P && typeof P.react === 'function') resolve(P);
        else reject(new Error(`${PLOTLY_AMD} loaded but defined no Plotly`));
      },
      (e) => reject(new Error(`cannot load ${PLOTLY_AMD}: ${e.message}`)),
    );
  });
  plotly.catch(() => (plotly = undefined));
  return plotly;
}

/** Height of a plotly figure whose layout gives none (px). */
export const DEFAULT_PLOT_HEIGHT = 450;

/**
 * Draws a plotly figure into `el` (loading plotly first); shows load errors in `el`.
 *
 * The container gets the figure's size in CSS (full width, the layout's height) and the layout none:
 * with `responsive: true` plotly resizes to its container on every window resize, and a container
 * without a size of its own measured 0 × 0 there, so the figure vanished (issue 15).
 */
export function plotInto(el: HTMLElement, what: string, fig: { traces: Record<string, unknown>[]; layout?: Record<string, unknown> }): void {
  const { height, width, ...layout } = fig.layout ?? {};
  void width;
  el.style.width = '100%';
  el.style.height = `${typeof height === 'number' && height > 0 ? height : DEFAULT_PLOT_HEIGHT}px`;
  loadPlotly().then(
    (P) => P.react(el, fig.traces, { ...layout, autosize: true }, { displaylogo: false, responsive: true }),
    (e: Error) => {
      el.textContent = `flowlens-widgets ${what}: ${e.message}`;
    },
  );
}

/** Frees a plotly figure (if plotly was loaded). */
export function purgePlot(el: HTMLElement): void {
  loadPlotly().then(
    (P) => P.purge(el),
    () => undefined,
  );
}
