/**
 * One flat `Float32Array` for all of a model's parameters, in a fixed layout, so that parameters,
 * gradients and optimizer moments can be shared between worker threads (`SharedArrayBuffer`), summed,
 * updated in plain JavaScript and checkpointed without going through tfjs.
 *
 * The layout follows {@link BertParams.vars} (insertion order, which {@link BertParams.random} and
 * {@link BertParams.fromPlain} make the canonical order of `bertParamShapes`), in the variables' own
 * storage layout (Linear weights `[in, out]`).
 *
 * @module
 */
import { tf } from '../../backend/index.js';
import type { BertParams } from '../../model/params.js';

/** Where one parameter tensor lives in the flat array. */
export interface ParamSlot {
  /** Canonical HF name, e.g. `encoder.layer.0.attention.self.query.weight`. */
  name: string;
  /** Storage shape (Linear weights `[in, out]`). */
  shape: number[];
  /** First index in the flat array. */
  offset: number;
  /** Number of values (product of `shape`). */
  size: number;
}

/** The layout of all parameters in one flat array. */
export interface ParamLayout {
  slots: ParamSlot[];
  /** Total number of values. */
  total: number;
}

/** The layout of `params` (in variable order). */
export function paramLayout(params: BertParams): ParamLayout {
  const slots: ParamSlot[] = [];
  let offset = 0;
  for (const [name, v] of params.vars) {
    slots.push({ name, shape: v.shape.slice(), offset, size: v.size });
    offset += v.size;
  }
  return { slots, total: offset };
}

/**
 * Check that `layout` describes `params` exactly (names, order, shapes).
 * @throws Error naming the first mismatching tensor.
 */
export function checkLayout(params: BertParams, layout: ParamLayout): void {
  const names = [...params.vars.keys()];
  if (names.length !== layout.slots.length) throw new Error(`parameter layout has ${layout.slots.length} tensors, the model ${names.length}`);
  layout.slots.forEach((s, i) => {
    const v = params.vars.get(s.name);
    if (names[i] !== s.name || !v) throw new Error(`parameter layout: tensor ${i} is "${s.name}", the model's is "${names[i]}"`);
    if (v.shape.join(',') !== s.shape.join(',')) throw new Error(`parameter layout: "${s.name}" is [${s.shape}] but the model's is [${v.shape}]`);
  });
}

/**
 * Copy every parameter of `params` into `out` at its slot.
 * @param out `[layout.total]`.
 */
export function readParams(params: BertParams, layout: ParamLayout, out: Float32Array): void {
  for (const s of layout.slots) {
    const v = params.vars.get(s.name) as tf.Variable;
    out.set(v.dataSync() as Float32Array, s.offset);
  }
}

/**
 * Assign every parameter of `params` from `flat` (the tfjs variables get copies; `flat` may be a view
 * of a `SharedArrayBuffer`). Clears the parameters' derived-value cache.
 * @param flat `[layout.total]`.
 */
export function writeParams(params: BertParams, layout: ParamLayout, flat: Float32Array): void {
  for (const s of layout.slots) {
    const v = params.vars.get(s.name) as tf.Variable;
    tf.tidy(() => v.assign(tf.tensor(flat.slice(s.offset, s.offset + s.size), s.shape, 'float32')));
  }
  params.clearCache();
}
