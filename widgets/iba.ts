/**
 * IBA layer plot widget: tokens × layers heatmap of the information per token and the selected
 * layer's curve (plotly in the live view, SVG in the static rendering). The live view has a β field
 * and a layer picker; changing either sets `beta`/`layer`, and the kernel recomputes through the
 * function given to {@link IbaLayerPlot.onRecompute}.
 *
 * ```ts
 * const w = new IbaLayerPlot({ tokens, scores: ibaAllLayers(beta), beta });
 * w.onRecompute(({ beta, layer }) => ibaAllLayers(beta));   // [layers][seq], may be async
 * w.display();
 * ```
 *
 * @module
 */
import { writeHtmlFigure } from '../src/viz/html.js';
import { toFloat32 } from './float32.js';
import { checkBeta, ibaFigure, ibaLayerNames, packIba, renderIbaHtml, type IbaData, type PackedIba } from './ibaHtml.js';
import { Widget, type WidgetOptions } from './protocol.js';
import { flatten2d } from './svg.js';

export type { IbaData } from './ibaHtml.js';

/** State of an {@link IbaLayerPlot}; `scores` `[layers·seq]` travels as float32 bytes. */
export interface IbaState extends Record<string, unknown>, PackedIba {}

/** What a recomputation gets: the β and the 0-based row of `scores` (layer) now selected. */
export interface IbaParams {
  beta: number;
  layer: number;
}

/** The IBA layer plot widget. */
export class IbaLayerPlot extends Widget<IbaState> {
  private recompute: ((p: IbaParams) => ArrayLike<ArrayLike<number>> | Promise<ArrayLike<ArrayLike<number>>>) | null = null;
  private run = 0;

  /**
   * @param data tokens, `scores` `[layers][seq]`, `beta` (see {@link IbaData}).
   * @throws Error on a wrong shape, a non-positive β or an unknown layer.
   */
  constructor(data: IbaData, opts: WidgetOptions = {}) {
    super({ model: 'IbaModel', view: 'IbaView' }, { ...packIba(data) }, opts);
    this.onChange((keys) => {
      if (keys.includes('beta') || keys.includes('layer')) void this.refresh();
    });
  }

  /**
   * Sets the function that recomputes the scores `[layers][seq]` for a β and layer (called when the
   * front end changes β, or the layer; may be async). Errors go to the status line.
   */
  onRecompute(fn: (p: IbaParams) => ArrayLike<ArrayLike<number>> | Promise<ArrayLike<ArrayLike<number>>>): void {
    this.recompute = fn;
  }

  /**
   * Changes β and/or the layer from the kernel, which recomputes as a change in the view does.
   * @throws Error on a non-positive β or an unknown layer.
   */
  select(p: Partial<IbaParams>): void {
    const patch: Partial<IbaState> = {};
    if (p.beta !== undefined) patch.beta = checkBeta(p.beta);
    if (p.layer !== undefined) patch.layer = this.checkLayer(p.layer);
    this.set(patch);
  }

  /** Waits for the recomputation started by the last change (for scripts and tests). */
  pending: Promise<void> = Promise.resolve();

  private refresh(): Promise<void> {
    if (!this.recompute) return Promise.resolve();
    const mine = ++this.run;
    const { beta, layer } = this.state;
    this.set({ status: `recomputing (β = ${beta}, ${ibaLayerNames(this.state)[layer]})…` });
    this.pending = (async () => {
      try {
        const s = await this.recompute!({ beta, layer });
        if (mine !== this.run) return;
        const flat = flatten2d(
          s,
          this.state.layers,
          this.state.tokens.length,
          `IbaLayerPlot: recomputed scores [layers = ${this.state.layers}][seq = ${this.state.tokens.length}]`,
        );
        this.set({ scores: flat, status: '' });
      } catch (e) {
        console.error('IbaLayerPlot: recomputation failed:', e);
        if (mine === this.run) this.set({ status: `error: ${(e as Error).message}` });
      }
    })();
    return this.pending;
  }

  private checkLayer(v: unknown): number {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= this.state.layers) {
      throw new Error(`IbaLayerPlot: layer must be a row 0..${this.state.layers - 1} (${ibaLayerNames(this.state).join(', ')}), got ${JSON.stringify(v)}`);
    }
    return v as number;
  }

  protected override deserialize(key: keyof IbaState, value: unknown): unknown {
    if (key === 'beta') return checkBeta(value);
    if (key === 'layer') return this.checkLayer(value);
    if (key === 'scores') return toFloat32(value, 'IbaLayerPlot scores');
    return value;
  }

  /** Writes the same figure as a self-contained HTML file (plotly inlined, no network). */
  override exportHtml(path: string): void {
    writeHtmlFigure(path, ibaFigure(this.state));
  }

  renderStatic(): string {
    return renderIbaHtml(this.state);
  }

  override renderText(): string {
    return `IbaLayerPlot(${this.state.layers} layers, ${ibaLayerNames(this.state)[this.state.layer]} selected, β = ${this.state.beta})`;
  }
}
