/**
 * Influence-pattern widget (Lu et al. 2021): the pattern through layers × token positions, each
 * step marked skip or head, hover shows the influence, and clicking a node asks the kernel for its
 * head breakdown (a `custom` message `{event: 'node_click', layer, position}`; the kernel answers
 * by setting `breakdown`).
 *
 * ```ts
 * const w = new InfluencePattern({ tokens, layers: 6, source: 2, steps });
 * w.onNodeClick((layer, position) => ({ layer, position, heads: perHeadInfluence(layer - 1, position) }));
 * w.display();
 * ```
 *
 * @module
 */
import {
  checkBreakdown,
  packInfluencePattern,
  renderInfluenceHtml,
  type HeadBreakdown,
  type InfluencePatternData,
  type PackedInfluencePattern,
} from './influenceHtml.js';
import { Widget, type WidgetOptions } from './protocol.js';

export type { HeadBreakdown, InfluencePatternData, PatternStep } from './influenceHtml.js';

/** State of an {@link InfluencePattern} widget (all JSON). */
export interface InfluencePatternState extends Record<string, unknown>, PackedInfluencePattern {}

/** The influence-pattern graph widget. */
export class InfluencePattern extends Widget<InfluencePatternState> {
  private handler: ((layer: number, position: number) => HeadBreakdown | Promise<HeadBreakdown>) | null = null;

  /**
   * @param data tokens, layer count, source position and one step per layer (see {@link InfluencePatternData}).
   * @throws Error naming the step on a malformed pattern (e.g. a skip step that moves).
   */
  constructor(data: InfluencePatternData, opts: WidgetOptions = {}) {
    super({ model: 'InfluencePatternModel', view: 'InfluencePatternView' }, { ...packInfluencePattern(data) }, opts);
    this.onCustom((content) => {
      if (content.event !== 'node_click') return;
      void this.clickNode(Number(content.layer), Number(content.position));
    });
  }

  /**
   * Sets the function answering node clicks: `(layer, position)` with `layer` the node row
   * (1..layers, the output of 0-based layer `layer − 1`) → that node's head breakdown. May be async.
   */
  onNodeClick(handler: (layer: number, position: number) => HeadBreakdown | Promise<HeadBreakdown>): void {
    this.handler = handler;
  }

  /**
   * Selects a node as a click in the view does, and asks the handler for its breakdown; errors
   * (no handler, a bad node, a failing or malformed answer) go to the widget's status line.
   */
  async clickNode(layer: number, position: number): Promise<void> {
    const seq = this.state.tokens.length;
    if (!Number.isInteger(layer) || layer < 0 || layer > this.state.layers || !Number.isInteger(position) || position < 0 || position >= seq) {
      this.set({ status: `no node (${layer}, ${position}) in the graph` });
      return;
    }
    this.set({ selected: { layer, position } });
    if (layer === 0) {
      this.set({ breakdown: null, status: 'embedding nodes have no heads' });
      return;
    }
    if (!this.handler) {
      this.set({ status: 'no head breakdown: call onNodeClick(handler) in the kernel' });
      return;
    }
    try {
      const b = checkBreakdown(await this.handler(layer, position), this.state.layers, seq);
      this.set({ breakdown: b, status: '' });
    } catch (e) {
      console.error('InfluencePattern: head breakdown failed:', e);
      this.set({ status: `error: ${(e as Error).message}` });
    }
  }

  renderStatic(): string {
    return renderInfluenceHtml(this.state);
  }

  override renderText(): string {
    return `InfluencePattern(${this.state.layers} layers, from ${this.state.tokens[this.state.source]})`;
  }
}
