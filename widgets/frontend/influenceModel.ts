/** Front-end model and view of the influence-pattern graph: a node click sends `{event: 'node_click', layer, position}` to the kernel. */
import { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';
import { renderInfluenceHtml, type PackedInfluencePattern } from '../influenceHtml.js';
import { names, safeDraw } from './common.js';

/** Model of the influence-pattern graph. */
export class InfluencePatternModel extends DOMWidgetModel {
  override defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      ...names('InfluencePatternModel', 'InfluencePatternView'),
      tokens: [],
      layers: 1,
      source: 0,
      steps: [],
      influence: null,
      qoi: '',
      title: '',
      selected: null,
      breakdown: null,
      status: '',
    };
  }
}

/** View: the graph; clicking a node asks the kernel for its head breakdown. */
export class InfluencePatternView extends DOMWidgetView {
  override render(): void {
    this.el.classList.add('flowlens-influence-widget');
    this.el.addEventListener('click', (ev: MouseEvent) => {
      const node = (ev.target as Element | null)?.closest?.('[data-position]');
      if (!node) return;
      this.send({ event: 'node_click', layer: Number(node.getAttribute('data-layer')), position: Number(node.getAttribute('data-position')) });
    });
    this.listenTo(this.model, 'change', () => this.draw());
    this.draw();
  }

  draw(): void {
    safeDraw(this.el, 'InfluencePattern', () => {
      this.el.innerHTML = renderInfluenceHtml(this.model.attributes as unknown as PackedInfluencePattern);
    });
  }
}
