/**
 * Head-mask grid figure: layers × heads, each cell coloured by a per-head score (e.g. Mask-LRP head
 * relevance, Voita et al. 2019 / Chefer et al.), masked heads (mask 0) crossed out. Plain data in,
 * markup out; the live view makes the cells clickable (`data-layer`/`data-head`).
 *
 * @module
 */
import { esc, flatten2d, fmt, heatmapSvg } from './svg.js';

/**
 * Input of the head-mask grid: `scores` `[layers][heads]`, `mask` `[layers][heads]` of 0/1
 * (1 = head kept, 0 = head masked; the shape of `model.forward`'s `headMask`), default all 1.
 */
export interface HeadMaskData {
  scores: ArrayLike<ArrayLike<number>>;
  mask?: ArrayLike<ArrayLike<number>>;
  title?: string;
  /** What the colour means, e.g. `"head relevance (Mask-LRP)"`. */
  scoreLabel?: string;
}

/** The validated form the widget keeps: `scores` `[layers·heads]` row-major. */
export interface PackedHeadMask {
  layers: number;
  heads: number;
  scores: Float32Array;
  /** `[layers][heads]`, 1 = kept, 0 = masked; the front end sets it on a click. */
  mask: number[][];
  title: string;
  scoreLabel: string;
  /** A line shown under the grid (e.g. "recomputing…" or an error). */
  status: string;
}

/**
 * Validates a mask `[layers][heads]` of 0/1.
 * @returns a copy as plain arrays.
 * @throws Error naming the row/column of a wrong shape or a value other than 0 and 1.
 */
export function checkMask(mask: unknown, layers: number, heads: number, what = 'HeadMaskGrid: mask'): number[][] {
  if (!Array.isArray(mask) && !(mask && typeof (mask as ArrayLike<unknown>).length === 'number'))
    throw new Error(`${what} must be [layers][heads] = [${layers}][${heads}] of 0/1`);
  const m = mask as ArrayLike<ArrayLike<unknown>>;
  if (m.length !== layers) throw new Error(`${what} has ${m.length} rows, expected ${layers} (layers)`);
  const out: number[][] = [];
  for (let l = 0; l < layers; l++) {
    const row = m[l];
    if (!row || row.length !== heads) throw new Error(`${what} row ${l} has ${row ? row.length : 'no'} entries, expected ${heads} (heads)`);
    const r: number[] = [];
    for (let h = 0; h < heads; h++) {
      const v = row[h];
      if (v !== 0 && v !== 1) throw new Error(`${what}[${l}][${h}] is ${JSON.stringify(v)}, expected 0 or 1`);
      r.push(v);
    }
    out.push(r);
  }
  return out;
}

/**
 * Validates and packs {@link HeadMaskData}.
 * @throws Error when `scores` is not a non-empty `[layers][heads]` array of finite numbers, or
 *   `mask` does not have the same shape with 0/1 entries.
 */
export function packHeadMask(d: HeadMaskData): PackedHeadMask {
  const s = d?.scores;
  if (!s || s.length === 0 || !s[0] || s[0].length === 0) throw new Error('HeadMaskGrid: scores must be a non-empty [layers][heads] array');
  const layers = s.length;
  const heads = s[0].length;
  const scores = flatten2d(s, layers, heads, 'HeadMaskGrid: scores [layers][heads]');
  const mask = d.mask === undefined ? Array.from({ length: layers }, () => Array<number>(heads).fill(1)) : checkMask(d.mask, layers, heads);
  return { layers, heads, scores, mask, title: d.title ?? '', scoreLabel: d.scoreLabel ?? 'score', status: '' };
}

/**
 * The grid as HTML: an SVG heatmap (rows = layers L1…, columns = heads h0…), masked heads crossed,
 * a colour scale, and a summary line ("k of n heads masked"); with `interactive` (the live view)
 * the cells show a pointer and the line says that a click toggles a head (the static rendering,
 * which nothing can click, does not).
 * @returns a `<div class="flowlens-widget flowlens-head-mask">`.
 * @throws Error when `scores`/`mask` do not match `layers × heads`.
 */
export function renderHeadMaskHtml(p: PackedHeadMask, opts: { interactive?: boolean } = {}): string {
  if (p.scores.length !== p.layers * p.heads)
    throw new Error(`HeadMaskGrid: scores has ${p.scores.length} numbers, expected layers·heads = ${p.layers}·${p.heads}`);
  const mask = checkMask(p.mask, p.layers, p.heads);
  let neg = false;
  for (const v of p.scores) if (v < 0) neg = true;
  const masked = mask.flat().filter((v) => v === 0).length;
  const svg = heatmapSvg({
    z: p.scores,
    rows: p.layers,
    cols: p.heads,
    rowLabels: Array.from({ length: p.layers }, (_, l) => `L${l + 1}`),
    colLabels: Array.from({ length: p.heads }, (_, h) => `h${h}`),
    scale: neg ? 'diverging' : 'blues',
    cell: 26,
    rowAxis: 'layer',
    colAxis: 'head',
    tooltip: (l, h, v) => `layer ${l + 1}, head ${h}: ${p.scoreLabel} ${fmt(v)}${mask[l][h] === 0 ? ' (masked)' : ''}`,
    cellAttrs: (l, h) => `data-layer="${l}" data-head="${h}" data-masked="${mask[l][h] === 0 ? 1 : 0}"${opts.interactive ? ' style="cursor:pointer"' : ''}`,
    colorbar: { label: p.scoreLabel },
    crossed: (l, h) => mask[l][h] === 0,
  });
  return (
    `<div class="flowlens-widget flowlens-head-mask" style="font-family:sans-serif">` +
    (p.title ? `<div style="font-weight:600;margin-bottom:4px">${esc(p.title)}</div>` : '') +
    svg +
    `<div style="font-size:12px;color:#555">colour: ${esc(p.scoreLabel)}; ✕ = masked head; <span class="flowlens-masked-count">${masked}</span> of ${p.layers * p.heads} heads masked${opts.interactive ? ' (click a head to toggle it)' : ''}</div>` +
    (p.status ? `<div class="flowlens-status" style="font-size:12px;color:#a00">${esc(p.status)}</div>` : '') +
    `</div>`
  );
}
