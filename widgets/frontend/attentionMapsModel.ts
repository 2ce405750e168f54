/** Front-end model and view of the attention maps widget: the maps of one layer and a layer slider (sets `layer`). */
import { DOMWidgetModel, DOMWidgetView, type ISerializers } from '@jupyter-widgets/base';
import { renderAttentionMapsHtml, type PackedAttentionMaps } from '../attentionMapsHtml.js';
import { float32Serializers, names, safeDraw } from './common.js';

/** Model of the attention maps widget. */
export class AttentionMapsModel extends DOMWidgetModel {
  override defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      ...names('AttentionMapsModel', 'AttentionMapsView'),
      tokens: [],
      layers: 1,
      names: [],
      values: new Float32Array(0),
      layer: 0,
      title: '',
    };
  }
  static override serializers: ISerializers = float32Serializers('values');
}

/** View: a slider over layers above the heatmaps. */
export class AttentionMapsView extends DOMWidgetView {
  private figure!: HTMLDivElement;
  private slider!: HTMLInputElement;
  private label!: HTMLSpanElement;

  override render(): void {
    this.el.classList.add('flowlens-attention-maps-widget');
    const bar = document.createElement('div');
    bar.style.cssText = 'font-family:sans-serif;font-size:12px;margin-bottom:4px';
    this.slider = document.createElement('input');
    this.slider.type = 'range';
    this.slider.className = 'flowlens-layer-slider';
    this.slider.min = '0';
    this.label = document.createElement('span');
    bar.append('layer ', this.slider, ' ', this.label);
    this.figure = document.createElement('div');
    this.el.append(bar, this.figure);
    this.slider.addEventListener('input', () => {
      this.model.set('layer', Number(this.slider.value));
      this.touch();
    });
    this.listenTo(this.model, 'change', () => this.draw());
    this.draw();
  }

  draw(): void {
    const s = this.model.attributes as unknown as PackedAttentionMaps;
    this.slider.max = String(Math.max(0, s.layers - 1));
    this.slider.value = String(s.layer);
    this.label.textContent = `L${s.layer + 1} of ${s.layers}`;
    safeDraw(this.figure, 'AttentionMaps', () => {
      this.figure.innerHTML = renderAttentionMapsHtml(s);
    });
  }
}
