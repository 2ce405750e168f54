/**
 * AdamW (Loshchilov & Hutter 2019, Algorithm 2: Adam with decoupled weight decay; Kingma & Ba 2015,
 * Algorithm 1, with bias correction) over one flat parameter array, in plain JavaScript: deterministic,
 * cheap next to the forward/backward pass (≈ 10 floating-point operations per parameter), and its state is
 * two flat arrays that a checkpoint stores as they are.
 *
 * Lazy rows: for the word-embedding table, only rows whose token occurs in the batch (as input or as a
 * label) are updated, moments included (TensorFlow's `LazyAdam`). With the decoder tied to the
 * embeddings, every absent token gets a tiny same-sign gradient from the softmax in every step, which
 * Adam's normalisation turns into full-size steps in one common direction (see `src/train/mlm.ts`).
 *
 * @module
 */
import type { ParamLayout, ParamSlot } from './flatParams.js';

/** Hyper-parameters of {@link AdamW}. */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay λ (the update subtracts lr·λ·θ); default 0.01 as BERT. */
  weightDecay?: number;
}

/** BERT's rule: no weight decay on biases and LayerNorm parameters. */
export function decays(name: string): boolean {
  return !(name.endsWith('.bias') || name.includes('LayerNorm'));
}

/** Optimizer state, as stored in a checkpoint. */
export interface AdamWState {
  /** Number of updates done (bias correction uses it). */
  t: number;
  m: Float32Array;
  v: Float32Array;
}

/** AdamW over a flat parameter array with an optional lazily-updated row table. */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  t = 0;
  readonly m: Float32Array;
  readonly v: Float32Array;

  /**
   * @param layout the flat layout of the parameters.
   * @param lazyRowsOf name of the tensor updated row-wise (its first dimension = rows), or null.
   * @param opts hyper-parameters; @param state a saved state to continue from.
   * @throws Error when `state`'s arrays do not match the layout's size.
   */
  constructor(
    readonly layout: ParamLayout,
    readonly lazyRowsOf: string | null,
    opts: AdamWOptions = {},
    state?: AdamWState,
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-6;
    this.weightDecay = opts.weightDecay ?? 0.01;
    if (state) {
      if (state.m.length !== layout.total || state.v.length !== layout.total) {
        throw new Error(`optimizer state has ${state.m.length}/${state.v.length} values, the model ${layout.total}`);
      }
      this.t = state.t;
      this.m = state.m;
      this.v = state.v;
    } else {
      this.m = new Float32Array(layout.total);
      this.v = new Float32Array(layout.total);
    }
  }

  /**
   * Global L2 norm of `grad · scale` over the entries that will be updated (lazy rows: present rows only).
   * @param grad `[layout.total]`; @param rows present rows of the lazy table (ignored when none).
   */
  gradNorm(grad: Float32Array, scale: number, rows: Iterable<number> | null): number {
    let ss = 0;
    for (const s of this.layout.slots) {
      if (rows && s.name === this.lazyRowsOf) {
        const width = s.size / (s.shape[0] as number);
        for (const r of rows) {
          const o = s.offset + r * width;
          for (let j = 0; j < width; j++) {
            const g = (grad[o + j] as number) * scale;
            ss += g * g;
          }
        }
      } else {
        for (let i = s.offset, e = s.offset + s.size; i < e; i++) {
          const g = (grad[i] as number) * scale;
          ss += g * g;
        }
      }
    }
    return Math.sqrt(ss);
  }

  /**
   * One update of `params` in place with gradient `grad · scale` at learning rate `lr`.
   *
   * @param params `[layout.total]`, updated in place.
   * @param grad `[layout.total]` (not modified).
   * @param scale factor applied to `grad` (e.g. 1/count × clipping factor).
   * @param rows rows of the lazy table to update (every row when null).
   */
  step(params: Float32Array, grad: Float32Array, scale: number, lr: number, rows: Iterable<number> | null): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (const s of this.layout.slots) {
      const wd = decays(s.name) ? this.weightDecay : 0;
      if (rows && s.name === this.lazyRowsOf) {
        const width = s.size / (s.shape[0] as number);
        for (const r of rows) this.range(params, grad, scale, lr, wd, c1, c2, s.offset + r * width, s.offset + (r + 1) * width);
      } else {
        this.range(params, grad, scale, lr, wd, c1, c2, s.offset, s.offset + s.size);
      }
    }
  }

  private range(p: Float32Array, g: Float32Array, scale: number, lr: number, wd: number, c1: number, c2: number, from: number, to: number): void {
    const { beta1: b1, beta2: b2, eps, m, v } = this;
    for (let i = from; i < to; i++) {
      const gi = (g[i] as number) * scale;
      const mi = b1 * (m[i] as number) + (1 - b1) * gi;
      const vi = b2 * (v[i] as number) + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      const pi = p[i] as number;
      p[i] = pi - lr * (mi / c1 / (Math.sqrt(vi / c2) + eps) + wd * pi);
    }
  }

  /** The state to checkpoint (the arrays themselves, not copies). */
  state(): AdamWState {
    return { t: this.t, m: this.m, v: this.v };
  }
}

/** The slot of `name` in `layout`. @throws Error when absent. */
export function slotOf(layout: ParamLayout, name: string): ParamSlot {
  const s = layout.slots.find((x) => x.name === name);
  if (!s) throw new Error(`no parameter "${name}" in the layout`);
  return s;
}
