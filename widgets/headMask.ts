/**
 * Head-mask grid widget: layers × heads coloured by a score (e.g. Mask-LRP head statistics);
 * clicking a head in the live view toggles it in the 0/1 mask (`mask` synced to the kernel), and
 * a linked computation in the kernel (e.g. the QoI's attribution under that `headMask`) updates a
 * {@link TokenSaliency} view.
 *
 * ```ts
 * const grid = new HeadMaskGrid({ scores: headScores, title: 'head relevance' });
 * grid.linkSaliency(saliency, (mask) => inputGradient(model, x, qoi, { headMask: mask }).scores);
 * grid.display(); saliency.display();
 * ```
 *
 * @module
 */
import { checkMask, packHeadMask, renderHeadMaskHtml, type HeadMaskData, type PackedHeadMask } from './headMaskHtml.js';
import { toFloat32 } from './float32.js';
import { Widget, type WidgetOptions } from './protocol.js';
import type { TokenSaliency } from './saliency.js';

export type { HeadMaskData } from './headMaskHtml.js';

/** State of a {@link HeadMaskGrid}; `scores` `[layers·heads]` travels as float32 bytes. */
export interface HeadMaskState extends Record<string, unknown>, PackedHeadMask {}

/** The head-mask grid widget. */
export class HeadMaskGrid extends Widget<HeadMaskState> {
  /**
   * @param data `scores` `[layers][heads]`, optional `mask` of the same shape (default all 1).
   * @throws Error on a wrong shape or a mask value other than 0/1.
   */
  constructor(data: HeadMaskData, opts: WidgetOptions = {}) {
    super({ model: 'HeadMaskModel', view: 'HeadMaskView' }, { ...packHeadMask(data) }, opts);
  }

  /** The current mask `[layers][heads]` (a copy), ready for `model.forward(..., { headMask })`. */
  get mask(): number[][] {
    return this.state.mask.map((r) => r.slice());
  }

  /**
   * Sets the mask from the kernel.
   * @throws Error on a wrong shape or a value other than 0/1.
   */
  setMask(mask: ArrayLike<ArrayLike<number>>): void {
    this.set({ mask: checkMask(mask, this.state.layers, this.state.heads) });
  }

  /**
   * Calls `cb` with the new mask whenever it changes (a click in the front end or {@link setMask}).
   * @returns a function removing the callback.
   */
  onMaskChange(cb: (mask: number[][]) => void): () => void {
    return this.onChange((keys) => {
      if (keys.includes('mask')) cb(this.mask);
    });
  }

  /**
   * Links a token-saliency view: on every mask change, `compute(mask)` gives the new scores
   * (`[seq]`, same tokens) or `{tokens, scores}`, and the saliency view is updated. An error in
   * `compute` is shown in the grid's status line (and logged); the saliency keeps its scores.
   * `compute` may be async. Runs once now when `now` is true.
   * @returns a function removing the link.
   */
  linkSaliency(
    saliency: TokenSaliency,
    compute: (
      mask: number[][],
    ) => ArrayLike<number> | { tokens: string[]; scores: ArrayLike<number> } | Promise<ArrayLike<number> | { tokens: string[]; scores: ArrayLike<number> }>,
    opts: { now?: boolean; title?: (mask: number[][]) => string } = {},
  ): () => void {
    let run = 0;
    const go = async (mask: number[][]): Promise<void> => {
      const mine = ++run;
      const masked = mask.flat().filter((v) => v === 0).length;
      this.set({ status: `recomputing with ${masked} masked head(s)…` });
      try {
        const r = await compute(mask);
        if (mine !== run) return; // a newer click superseded this one
        const title = opts.title?.(mask);
        if (r && typeof r === 'object' && 'tokens' in r && 'scores' in r) saliency.update(r.tokens, r.scores, title);
        else saliency.update(saliency.state.tokens, r as ArrayLike<number>, title);
        this.set({ status: '' });
      } catch (e) {
        console.error('HeadMaskGrid: linked computation failed:', e);
        if (mine === run) this.set({ status: `error: ${(e as Error).message}` });
      }
    };
    if (opts.now) void go(this.mask);
    return this.onMaskChange((m) => void go(m));
  }

  protected override deserialize(key: keyof HeadMaskState, value: unknown): unknown {
    if (key === 'mask') return checkMask(value, this.state.layers, this.state.heads);
    if (key === 'scores') return toFloat32(value, 'HeadMaskGrid scores');
    return value;
  }

  renderStatic(): string {
    return renderHeadMaskHtml(this.state);
  }

  override renderText(): string {
    const masked = this.state.mask.flat().filter((v) => v === 0).length;
    return `HeadMaskGrid(${this.state.layers}×${this.state.heads}, ${masked} masked)`;
  }
}
