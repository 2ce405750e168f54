/**
 * Degradation / AOPC curves widget: one line per method (plotly in the live view, SVG in the
 * static rendering). Takes the evaluation's plain `{method, fractions, values}` curves.
 *
 * ```ts
 * new DegradationCurves({ curves: [{ method: 'rollout', fractions: [0, 0.1, 0.2], values: [2.1, 1.3, 0.4] }] }).display();
 * ```
 *
 * @module
 */
import { writeHtmlFigure } from '../src/viz/html.js';
import { curvesFigure, packCurves, renderCurvesHtml, type DegradationCurve, type DegradationData } from './curvesHtml.js';
import { Widget, type WidgetOptions } from './protocol.js';

export type { DegradationCurve, DegradationCurveInput, DegradationData } from './curvesHtml.js';

/** State of a {@link DegradationCurves} widget (JSON). */
export interface DegradationState extends Record<string, unknown> {
  curves: DegradationCurve[];
  title: string;
  xLabel: string;
  yLabel: string;
}

/** The degradation-curves widget. */
export class DegradationCurves extends Widget<DegradationState> {
  /**
   * @param data curves (see {@link DegradationData}); AOPC is computed for curves starting at 0.
   * @throws Error naming the method of a malformed curve.
   */
  constructor(data: DegradationData, opts: WidgetOptions = {}) {
    super({ model: 'DegradationCurvesModel', view: 'DegradationCurvesView' }, { ...packCurves(data) }, opts);
  }

  /**
   * Replaces the curves.
   * @throws Error as the constructor.
   */
  update(data: DegradationData): void {
    this.set({ ...packCurves(data) });
  }

  /** Writes the same figure as a self-contained HTML file (plotly inlined, no network). */
  override exportHtml(path: string): void {
    writeHtmlFigure(path, curvesFigure(this.state));
  }

  renderStatic(): string {
    return renderCurvesHtml(this.state);
  }

  override renderText(): string {
    return `DegradationCurves(${this.state.curves.map((c) => c.method).join(', ')})`;
  }
}
