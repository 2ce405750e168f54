/** Front-end model and view of the IBA layer plot: plotly heatmap + curve, a β field and a layer picker (set `beta`/`layer`; the kernel recomputes). */
import { DOMWidgetModel, DOMWidgetView, type ISerializers } from '@jupyter-widgets/base';
import { ibaFigure, ibaLayerNames, renderIbaHtml, type PackedIba } from '../ibaHtml.js';
import { float32Serializers, names, plotInto, purgePlot, safeDraw } from './common.js';

/** Model of the IBA layer plot. */
export class IbaModel extends DOMWidgetModel {
  override defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      ...names('IbaModel', 'IbaView'),
      tokens: [],
      layers: 1,
      scores: new Float32Array(0),
      beta: 1e-5,
      layer: 0,
      layerNames: ['L1'],
      unit: 'bits',
      title: '',
      status: '',
    };
  }
  static override serializers: ISerializers = float32Serializers('scores');
}

/** View: controls, then the plotly figure; the status line shows recomputation and errors. */
export class IbaView extends DOMWidgetView {
  private plot!: HTMLDivElement;
  private beta!: HTMLInputElement;
  private layer!: HTMLSelectElement;
  private status!: HTMLDivElement;

  override render(): void {
    this.el.classList.add('flowlens-iba-widget');
    const bar = document.createElement('div');
    bar.style.cssText = 'font-family:sans-serif;font-size:12px';
    this.beta = document.createElement('input');
    this.beta.type = 'number';
    this.beta.step = 'any';
    this.beta.className = 'flowlens-beta';
    this.beta.style.width = '8em';
    this.layer = document.createElement('select');
    this.layer.className = 'flowlens-layer';
    bar.append('β ', this.beta, '  layer ', this.layer);
    this.plot = document.createElement('div');
    this.plot.className = 'flowlens-plotly';
    this.status = document.createElement('div');
    this.status.style.cssText = 'font-family:sans-serif;font-size:12px;color:#a00';
    this.el.append(bar, this.plot, this.status);
    this.beta.addEventListener('change', () => {
      const b = Number(this.beta.value);
      if (!(b > 0)) {
        this.status.textContent = 'β must be a positive number';
        return;
      }
      this.model.set('beta', b);
      this.touch();
    });
    this.layer.addEventListener('change', () => {
      this.model.set('layer', Number(this.layer.value));
      this.touch();
    });
    this.listenTo(this.model, 'change', () => this.draw());
    this.displayed.then(() => this.draw());
    this.draw();
  }

  draw(): void {
    const s = this.model.attributes as unknown as PackedIba;
    if (document.activeElement !== this.beta) this.beta.value = String(s.beta);
    const names = ibaLayerNames(s);
    if (this.layer.options.length !== s.layers || [...this.layer.options].some((o, l) => o.text !== names[l])) {
      this.layer.innerHTML = '';
      names.forEach((n, l) => this.layer.add(new Option(n, String(l))));
    }
    this.layer.value = String(s.layer);
    this.status.textContent = s.status ?? '';
    safeDraw(this.plot, 'IbaLayerPlot', () => {
      renderIbaHtml(s); // validates the shapes; the figure itself is plotly's
      const f = ibaFigure(s);
      plotInto(this.plot, 'IbaLayerPlot', f);
    });
  }

  override remove(): void {
    purgePlot(this.plot);
    super.remove();
  }
}
