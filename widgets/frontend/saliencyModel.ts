/**
 * Front-end model and view of the token saliency widget (module `flowlens-widgets`), on
 * @jupyter-widgets/base 6. The view draws the same HTML as the kernel's static rendering
 * (`widgets/saliencyHtml.ts`) and sets `selected` when a token is clicked (synced to the kernel).
 */
import { DOMWidgetModel, DOMWidgetView, type ISerializers } from '@jupyter-widgets/base';
import { renderSaliencyHtml } from '../saliencyHtml.js';
import { WIDGET_MODULE, WIDGET_MODULE_VERSION } from '../constants.js';

/**
 * Turns a received binary value (DataView over a message buffer) into a Float32Array copy.
 * @throws Error when the byte length is not a multiple of 4.
 */
export function deserializeFloat32(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  if (ArrayBuffer.isView(v)) {
    if (v.byteLength % 4 !== 0) throw new Error(`flowlens-widgets: scores buffer of ${v.byteLength} bytes is not float32`);
    return new Float32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  }
  if (Array.isArray(v)) return Float32Array.from(v as number[]);
  return new Float32Array(0);
}

/** Model of the token saliency widget. */
export class TokenSaliencyModel extends DOMWidgetModel {
  override defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      _model_name: 'TokenSaliencyModel',
      _model_module: WIDGET_MODULE,
      _model_module_version: WIDGET_MODULE_VERSION,
      _view_name: 'TokenSaliencyView',
      _view_module: WIDGET_MODULE,
      _view_module_version: WIDGET_MODULE_VERSION,
      tokens: [],
      scores: new Float32Array(0),
      title: '',
      selected: null,
      methodNames: [],
      method: '',
      methodScores: new Float32Array(0),
    };
  }

  static override serializers: ISerializers = {
    ...DOMWidgetModel.serializers,
    scores: { deserialize: (v: unknown) => deserializeFloat32(v), serialize: (v: Float32Array) => v },
    methodScores: { deserialize: (v: unknown) => deserializeFloat32(v), serialize: (v: Float32Array) => v },
  };
}

/** View of the token saliency widget: an optional method picker above the coloured tokens. */
export class TokenSaliencyView extends DOMWidgetView {
  private picker!: HTMLSelectElement;
  private figure!: HTMLDivElement;

  override render(): void {
    this.el.classList.add('flowlens-saliency-widget');
    this.picker = document.createElement('select');
    this.picker.className = 'flowlens-method-picker';
    this.picker.addEventListener('change', () => {
      this.model.set('method', this.picker.value);
      this.touch();
    });
    this.figure = document.createElement('div');
    this.el.append(this.picker, this.figure);
    this.draw();
    this.listenTo(this.model, 'change', () => this.draw());
    this.figure.addEventListener('click', (ev: MouseEvent) => {
      const span = (ev.target as HTMLElement | null)?.closest?.('[data-index]');
      if (!span) return;
      this.model.set('selected', Number(span.getAttribute('data-index')));
      this.touch();
    });
  }

  /** Redraws from the model state; shows the error text on bad state. */
  draw(): void {
    const names: string[] = this.model.get('methodNames') ?? [];
    const method: string = this.model.get('method') ?? '';
    this.picker.style.display = names.length ? '' : 'none';
    if ([...this.picker.options].map((o) => o.value).join('\u0000') !== names.join('\u0000')) {
      this.picker.innerHTML = '';
      for (const n of names) this.picker.add(new Option(n, n));
    }
    if (names.length) this.picker.value = method;
    try {
      const tokens: string[] = this.model.get('tokens') ?? [];
      let scores: Float32Array = this.model.get('scores') ?? new Float32Array(0);
      const k = names.indexOf(method);
      const all: Float32Array = this.model.get('methodScores') ?? new Float32Array(0);
      // The picked method's row at once (the kernel then sends the same scores).
      if (k >= 0 && all.length === names.length * tokens.length) scores = all.slice(k * tokens.length, (k + 1) * tokens.length);
      const title = this.model.get('title') || '';
      this.figure.innerHTML = renderSaliencyHtml({
        tokens,
        scores,
        title: (names.length ? `${title ? title + ' · ' : ''}${method}` : title) || undefined,
        selected: this.model.get('selected'),
      });
    } catch (e) {
      this.figure.textContent = `flowlens-widgets: ${(e as Error).message}`;
    }
  }
}
