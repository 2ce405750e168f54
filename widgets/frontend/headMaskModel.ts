/** Front-end model and view of the head-mask grid: clicking a head toggles it in `mask` (synced to the kernel). */
import { DOMWidgetModel, DOMWidgetView, type ISerializers } from '@jupyter-widgets/base';
import { renderHeadMaskHtml, type PackedHeadMask } from '../headMaskHtml.js';
import { float32Serializers, names, safeDraw } from './common.js';

/** Model of the head-mask grid. */
export class HeadMaskModel extends DOMWidgetModel {
  override defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      ...names('HeadMaskModel', 'HeadMaskView'),
      layers: 1,
      heads: 1,
      scores: new Float32Array(1),
      mask: [[1]],
      title: '',
      scoreLabel: 'score',
      status: '',
    };
  }
  static override serializers: ISerializers = float32Serializers('scores');
}

/** View: the grid; a click on a cell flips mask[layer][head]. */
export class HeadMaskView extends DOMWidgetView {
  override render(): void {
    this.el.classList.add('flowlens-head-mask-widget');
    this.el.addEventListener('click', (ev: MouseEvent) => {
      const cell = (ev.target as Element | null)?.closest?.('[data-head]');
      if (!cell) return;
      const l = Number(cell.getAttribute('data-layer'));
      const h = Number(cell.getAttribute('data-head'));
      const mask = (this.model.get('mask') as number[][]).map((r) => r.slice());
      if (!mask[l] || mask[l][h] === undefined) return;
      mask[l][h] = mask[l][h] ? 0 : 1;
      this.model.set('mask', mask);
      this.touch();
    });
    this.listenTo(this.model, 'change', () => this.draw());
    this.draw();
  }

  draw(): void {
    safeDraw(this.el, 'HeadMaskGrid', () => {
      this.el.innerHTML = renderHeadMaskHtml(this.model.attributes as unknown as PackedHeadMask, { interactive: true });
    });
  }
}
