/**
 * Token saliency widget: tokens coloured by attribution. Kernel side; the front-end model/view
 * (`TokenSaliencyModel`/`TokenSaliencyView` in `flowlens-widgets`) draw the same HTML as the
 * static rendering and report clicks by setting `selected`.
 *
 * In a notebook cell:
 * ```ts
 * import { TokenSaliency } from '../dist/widgets/saliency.js';
 * const w = new TokenSaliency({ tokens: ['the', 'cat', '##s'], scores: new Float32Array([0.1, 0.9, -0.2]) });
 * w.display();
 * w.onChange((keys, s) => console.log('selected', s.selected));
 * ```
 */
import { Widget, type WidgetOptions } from './protocol.js';
import { renderSaliencyHtml } from './saliencyHtml.js';

/** State of a {@link TokenSaliency}. `scores` travels as a binary buffer (float32, little-endian). */
export interface TokenSaliencyState extends Record<string, unknown> {
  tokens: string[];
  scores: Float32Array;
  title: string;
  /** Index of the token last clicked in the front end, or null. */
  selected: number | null;
}

/** Converts received bytes (Node Buffer, any alignment) into a Float32Array copy. */
function toFloat32(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  if (ArrayBuffer.isView(v)) {
    if (v.byteLength % 4 !== 0) throw new Error(`TokenSaliency: scores buffer has ${v.byteLength} bytes, not a multiple of 4`);
    const copy = new Uint8Array(v.byteLength);
    copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return new Float32Array(copy.buffer);
  }
  if (Array.isArray(v)) return Float32Array.from(v as number[]);
  throw new Error('TokenSaliency: scores must be a Float32Array, bytes, or a number array');
}

/** The token saliency widget. */
export class TokenSaliency extends Widget<TokenSaliencyState> {
  /**
   * Creates the widget (opens its comm).
   * @param init tokens and scores (same length), optional title.
   * @param opts comm manager (default: the kernel's).
   * @throws Error when tokens and scores differ in length or a score is not finite.
   */
  constructor(init: { tokens: string[]; scores: ArrayLike<number>; title?: string }, opts: WidgetOptions = {}) {
    const scores = Float32Array.from(init.scores);
    renderSaliencyHtml({ tokens: init.tokens, scores }); // validates before the comm opens
    super({ model: 'TokenSaliencyModel', view: 'TokenSaliencyView' }, { tokens: [...init.tokens], scores, title: init.title ?? '', selected: null }, opts);
  }

  /**
   * Replaces tokens and scores together.
   * @throws Error as the constructor.
   */
  update(tokens: string[], scores: ArrayLike<number>, title?: string): void {
    const s = Float32Array.from(scores);
    renderSaliencyHtml({ tokens, scores: s });
    this.set(title === undefined ? { tokens: [...tokens], scores: s } : { tokens: [...tokens], scores: s, title });
  }

  protected override deserialize(key: keyof TokenSaliencyState, value: unknown): unknown {
    if (key === 'scores') return toFloat32(value);
    if (key === 'selected' && value !== null && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) < this.state.tokens.length)) {
      throw new Error(`TokenSaliency: selected must be null or a token index, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** The figure as static HTML (same markup as the live view). */
  renderStatic(): string {
    const s = this.state;
    return renderSaliencyHtml({ tokens: s.tokens, scores: s.scores, title: s.title || undefined, selected: s.selected });
  }

  override renderText(): string {
    return `TokenSaliency(${this.state.tokens.length} tokens${this.state.title ? `: ${this.state.title}` : ''})`;
  }
}
