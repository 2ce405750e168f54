/** Front-end model and view of the degradation / AOPC curves: one plotly line per method. */
import { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';
import { curvesFigure, packCurves, type DegradationData } from '../curvesHtml.js';
import { names, plotInto, purgePlot, safeDraw } from './common.js';

/** Model of the degradation curves. */
export class DegradationCurvesModel extends DOMWidgetModel {
  override defaults(): Backbone.ObjectHash {
    return { ...super.defaults(), ...names('DegradationCurvesModel', 'DegradationCurvesView'), curves: [], title: '', xLabel: '', yLabel: '' };
  }
}

/** View: the plotly figure. */
export class DegradationCurvesView extends DOMWidgetView {
  private plot!: HTMLDivElement;

  override render(): void {
    this.el.classList.add('flowlens-curves-widget');
    this.plot = document.createElement('div');
    this.plot.className = 'flowlens-plotly';
    this.el.append(this.plot);
    this.listenTo(this.model, 'change', () => this.draw());
    this.displayed.then(() => this.draw());
    this.draw();
  }

  draw(): void {
    safeDraw(this.plot, 'DegradationCurves', () => {
      const a = this.model.attributes as unknown as DegradationData & { title: string; xLabel: string; yLabel: string };
      const p = packCurves({ curves: a.curves, title: a.title || undefined, xLabel: a.xLabel || undefined, yLabel: a.yLabel || undefined });
      const f = curvesFigure(p);
      plotInto(this.plot, 'DegradationCurves', f);
    });
  }

  override remove(): void {
    purgePlot(this.plot);
    super.remove();
  }
}
