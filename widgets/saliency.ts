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
  /** With a method picker: the method names, the one shown, and every method's scores `[methods·seq]`. */
  methodNames?: string[];
  method?: string;
  methodScores?: Float32Array;
}

/** Input of {@link TokenSaliency}: one score list, or several methods' scores and a picker. */
export interface TokenSaliencyInit {
  tokens: string[];
  /** `[seq]`; omit when `methods` is given. */
  scores?: ArrayLike<number>;
  /** Method name → `[seq]` scores (e.g. each `TokenAttribution.scores`); the view shows a picker. */
  methods?: Record<string, ArrayLike<number>>;
  /** The method shown first (default the first). */
  method?: string;
  title?: string;
}

/** Validates a method table. @returns names and the packed `[methods·seq]` scores. */
function packMethods(tokens: string[], methods: Record<string, ArrayLike<number>>): { names: string[]; packed: Float32Array } {
  const names = Object.keys(methods);
  if (names.length === 0) throw new Error('TokenSaliency: methods must name at least one method');
  const packed = new Float32Array(names.length * tokens.length);
  names.forEach((n, k) => {
    const sc = methods[n];
    if (!sc || sc.length !== tokens.length) throw new Error(`TokenSaliency: method "${n}" has ${sc ? sc.length : 'no'} scores for ${tokens.length} tokens`);
    renderSaliencyHtml({ tokens, scores: sc });
    packed.set(Float32Array.from(sc), k * tokens.length);
  });
  return { names, packed };
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
  constructor(init: TokenSaliencyInit, opts: WidgetOptions = {}) {
    let extra: Partial<TokenSaliencyState> = {};
    let scores: Float32Array;
    if (init.methods) {
      const { names, packed } = packMethods(init.tokens, init.methods);
      const method = init.method ?? names[0];
      const k = names.indexOf(method);
      if (k < 0) throw new Error(`TokenSaliency: unknown method "${method}" (methods: ${names.join(', ')})`);
      scores = packed.slice(k * init.tokens.length, (k + 1) * init.tokens.length);
      extra = { methodNames: names, method, methodScores: packed };
    } else {
      if (!init.scores) throw new Error('TokenSaliency: give scores, or methods with one score list per method');
      scores = Float32Array.from(init.scores);
    }
    renderSaliencyHtml({ tokens: init.tokens, scores }); // validates before the comm opens
    super(
      { model: 'TokenSaliencyModel', view: 'TokenSaliencyView' },
      { tokens: [...init.tokens], scores, title: init.title ?? '', selected: null, ...extra },
      opts,
    );
    this.onChange((keys) => {
      if (keys.includes('method') && this.state.method && this.state.methodNames?.length) this.showMethod(this.state.method);
    });
  }

  /**
   * The widget for `TokenAttribution` results (`src/methods/result.ts`) of one example: one method
   * shows its scores, several get a picker (named by each result's `method`).
   * @throws Error when there is no result, or the results' tokens differ.
   */
  static fromAttributions(
    results: { method: string; tokens: string[]; scores: ArrayLike<number> }[],
    opts: { title?: string; method?: string } = {},
    wopts: WidgetOptions = {},
  ): TokenSaliency {
    if (!results.length) throw new Error('TokenSaliency.fromAttributions: no results');
    const tokens = results[0].tokens;
    for (const r of results) {
      if (r.tokens.length !== tokens.length || r.tokens.some((t, i) => t !== tokens[i]))
        throw new Error(`TokenSaliency.fromAttributions: "${r.method}" explains other tokens than "${results[0].method}"`);
    }
    if (results.length === 1) return new TokenSaliency({ tokens, scores: results[0].scores, title: opts.title ?? results[0].method }, wopts);
    const methods: Record<string, ArrayLike<number>> = {};
    for (const r of results) methods[r.method] = r.scores;
    return new TokenSaliency({ tokens, methods, method: opts.method, title: opts.title }, wopts);
  }

  /** The method names of the picker (empty without one). */
  get methods(): string[] {
    return [...(this.state.methodNames ?? [])];
  }

  /**
   * Shows one method's scores (what the view's picker does).
   * @throws Error for a method the widget does not have.
   */
  showMethod(method: string): void {
    const names = this.state.methodNames ?? [];
    const k = names.indexOf(method);
    if (k < 0) throw new Error(`TokenSaliency: unknown method "${method}" (methods: ${names.join(', ') || 'none'})`);
    const n = this.state.tokens.length;
    const row = this.state.methodScores!.slice(k * n, (k + 1) * n);
    this.set(this.state.method === method ? { scores: row } : { method, scores: row });
  }

  /**
   * Replaces tokens and scores together.
   * @throws Error as the constructor.
   */
  update(tokens: string[], scores: ArrayLike<number>, title?: string): void {
    const s = Float32Array.from(scores);
    renderSaliencyHtml({ tokens, scores: s });
    const patch: Partial<TokenSaliencyState> = title === undefined ? { tokens: [...tokens], scores: s } : { tokens: [...tokens], scores: s, title };
    if (this.state.methodNames?.length) Object.assign(patch, { methodNames: [], method: '', methodScores: new Float32Array(0) }); // plain scores now: no picker
    this.set(patch);
  }

  protected override deserialize(key: keyof TokenSaliencyState, value: unknown): unknown {
    if (key === 'scores' || key === 'methodScores') return toFloat32(value);
    if (key === 'method' && !(this.state.methodNames ?? []).includes(value as string)) {
      throw new Error(`TokenSaliency: unknown method ${JSON.stringify(value)} (methods: ${(this.state.methodNames ?? []).join(', ') || 'none'})`);
    }
    if (key === 'selected' && value !== null && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) < this.state.tokens.length)) {
      throw new Error(`TokenSaliency: selected must be null or a token index, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** The figure as static HTML (same markup as the live view). */
  renderStatic(): string {
    const s = this.state;
    const title = s.methodNames?.length ? `${s.title ? s.title + ' · ' : ''}${s.method}` : s.title;
    return renderSaliencyHtml({ tokens: s.tokens, scores: s.scores, title: title || undefined, selected: s.selected });
  }

  override renderText(): string {
    return `TokenSaliency(${this.state.tokens.length} tokens${this.state.title ? `: ${this.state.title}` : ''})`;
  }
}
