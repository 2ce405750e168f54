/**
 * Attention maps widget: raw attention, attention rollout and attention flow of one example
 * (Abnar & Zuidema 2020, arXiv 2005.00928, Fig. 1), one layer at a time, with a layer slider in the
 * live view. Kernel side; the front end (`AttentionMapsModel`/`AttentionMapsView`) draws
 * {@link renderAttentionMapsHtml} and sets `layer` when the slider moves.
 *
 * ```ts
 * const w = AttentionMaps.fromStack(tokens, stack);     // stack: attentionStack(trace.attentionArray(), L, H, seq)
 * w.display();
 * w.onChange((keys, s) => console.log('layer', s.layer));
 * ```
 *
 * @module
 */
import { attentionFlowAllLayers } from '../src/methods/attentionFlow.js';
import { headAverage, type AttentionStack } from '../src/methods/attentionTypes.js';
import { attentionRollout, type AugmentOptions } from '../src/methods/rollout.js';
import { checkPackedAttentionMaps, packAttentionMaps, renderAttentionMapsHtml, type AttentionMapsData, type PackedAttentionMaps } from './attentionMapsHtml.js';
import { toFloat32 } from './float32.js';
import { Widget, type WidgetOptions } from './protocol.js';

export type { AttentionMapsData } from './attentionMapsHtml.js';

/** State of an {@link AttentionMaps} widget; `values` `[names, layers, seq, seq]` travels as float32 bytes. */
export interface AttentionMapsState extends Record<string, unknown>, PackedAttentionMaps {}

/** The attention maps widget. */
export class AttentionMaps extends Widget<AttentionMapsState> {
  /**
   * Creates the widget (opens its comm).
   * @param data tokens and maps `[layers, seq, seq]` each (see {@link AttentionMapsData}).
   * @throws Error naming the map and the expected shape when a map does not fit the tokens.
   */
  constructor(data: AttentionMapsData, opts: WidgetOptions = {}) {
    const p = packAttentionMaps(data);
    super({ model: 'AttentionMapsModel', view: 'AttentionMapsView' }, { ...p }, opts);
  }

  /**
   * The widget for an attention stack: raw attention (heads averaged, `headAverage`), rollout
   * (`attentionRollout`) and, unless `flow: false`, attention flow (`attentionFlowAllLayers`).
   * @param tokens `[seq]`; @param stack `[layers, heads, seq, seq]` attention probabilities.
   * @param opts residual weight / head reduction of rollout and flow (default the paper's 0.5, mean).
   * @throws Error when `tokens.length !== stack.seq`, or as the methods.
   */
  static fromStack(
    tokens: string[],
    stack: AttentionStack,
    opts: AugmentOptions & { flow?: boolean; layer?: number; title?: string } = {},
    wopts: WidgetOptions = {},
  ): AttentionMaps {
    if (tokens.length !== stack.seq) throw new Error(`AttentionMaps.fromStack: ${tokens.length} tokens for an attention stack of seq ${stack.seq}`);
    const maps: Record<string, Float32Array> = { raw: headAverage(stack), rollout: attentionRollout(stack, opts) };
    if (opts.flow !== false) maps.flow = attentionFlowAllLayers(stack, opts);
    return new AttentionMaps({ tokens, layers: stack.layers, maps, layer: opts.layer, title: opts.title }, wopts);
  }

  /**
   * Shows another layer.
   * @throws Error on a layer outside `0..layers-1`.
   */
  setLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.state.layers)
      throw new Error(`AttentionMaps: unknown layer ${layer} (layers 0..${this.state.layers - 1})`);
    this.set({ layer });
  }

  protected override deserialize(key: keyof AttentionMapsState, value: unknown): unknown {
    if (key === 'values') return toFloat32(value, 'AttentionMaps values');
    if (key === 'layer' && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) < this.state.layers)) {
      throw new Error(`AttentionMaps: layer must be in 0..${this.state.layers - 1}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  renderStatic(): string {
    checkPackedAttentionMaps(this.state);
    return renderAttentionMapsHtml(this.state);
  }

  override renderText(): string {
    return `AttentionMaps(${this.state.names.join('/')}, ${this.state.layers} layers, ${this.state.tokens.length} tokens)`;
  }
}
