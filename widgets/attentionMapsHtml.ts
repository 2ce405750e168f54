/**
 * Attention maps figure (Abnar & Zuidema 2020, Fig. 1: raw attention, attention rollout and
 * attention flow of one example, one layer at a time) as self-contained HTML/SVG. Plain data in,
 * markup out: the kernel's static rendering and the live view (`widgets/frontend/`) both call
 * {@link renderAttentionMapsHtml}; the view adds the layer slider around it.
 *
 * @module
 */
import { checkFinite, esc, heatmapSvg } from './svg.js';

/**
 * Input of the attention maps widget: what `src/methods/` returns for one example.
 *
 * - `tokens` `[seq]`;
 * - `maps`: name → `[layers, seq, seq]` row-major (row = output position that attends FROM,
 *   column = input token attended TO), e.g. `raw: headAverage(stack)`,
 *   `rollout: attentionRollout(stack)`, `flow: attentionFlowAllLayers(stack)`;
 * - `layer`: 0-based layer shown first (default the last).
 */
export interface AttentionMapsData {
  tokens: string[];
  layers: number;
  maps: Record<string, ArrayLike<number>>;
  layer?: number;
  title?: string;
}

/** The validated, packed form the widget keeps: `values` `[names, layers, seq, seq]`. */
export interface PackedAttentionMaps {
  tokens: string[];
  layers: number;
  names: string[];
  values: Float32Array;
  /** 0-based layer shown; the front end's slider sets it. */
  layer: number;
  title: string;
}

/**
 * Validates and packs {@link AttentionMapsData}.
 * @throws Error naming the map and the expected shape `[layers, seq, seq]` when a map has the wrong
 *   length or a non-finite entry, when there are no tokens or no maps, when `layers` is not a
 *   positive integer, or when `layer` is not in `0..layers-1`.
 */
export function packAttentionMaps(d: AttentionMapsData): PackedAttentionMaps {
  if (!d || !Array.isArray(d.tokens) || d.tokens.length === 0) throw new Error('AttentionMaps: tokens must be a non-empty array of strings');
  if (!Number.isInteger(d.layers) || d.layers < 1) throw new Error(`AttentionMaps: layers must be a positive integer, got ${String(d.layers)}`);
  const names = Object.keys(d.maps ?? {});
  if (names.length === 0) throw new Error('AttentionMaps: give at least one map (e.g. { raw, rollout, flow })');
  const seq = d.tokens.length;
  const n = d.layers * seq * seq;
  const values = new Float32Array(names.length * n);
  names.forEach((name, k) => {
    const m = d.maps[name];
    if (!m || m.length !== n) {
      throw new Error(`AttentionMaps: map "${name}" has ${m ? m.length : 'no'} values, expected [layers, seq, seq] = [${d.layers}, ${seq}, ${seq}] = ${n}`);
    }
    checkFinite(m, n, `AttentionMaps: map "${name}"`);
    values.set(Float32Array.from(m), k * n);
  });
  const layer = d.layer ?? d.layers - 1;
  if (!Number.isInteger(layer) || layer < 0 || layer >= d.layers) throw new Error(`AttentionMaps: unknown layer ${layer} (layers 0..${d.layers - 1})`);
  return { tokens: [...d.tokens], layers: d.layers, names, values, layer, title: d.title ?? '' };
}

/**
 * Checks a packed state (as received by a view) without copying.
 * @throws Error when `values` is not `[names, layers, seq, seq]` or `layer` is out of range.
 */
export function checkPackedAttentionMaps(p: PackedAttentionMaps): void {
  const seq = p.tokens.length;
  const n = p.names.length * p.layers * seq * seq;
  if (p.values.length !== n) {
    throw new Error(
      `AttentionMaps: values has ${p.values.length} numbers, expected [maps, layers, seq, seq] = [${p.names.length}, ${p.layers}, ${seq}, ${seq}] = ${n}`,
    );
  }
  if (!Number.isInteger(p.layer) || p.layer < 0 || p.layer >= p.layers) throw new Error(`AttentionMaps: unknown layer ${p.layer} (layers 0..${p.layers - 1})`);
}

/**
 * The maps of one layer side by side.
 * @param p packed maps; `p.layer` is drawn.
 * @returns a `<div class="flowlens-widget flowlens-attention-maps">` with one SVG heatmap per map
 *   (rows = from, columns = to, colour = value on a white→blue scale per map, with its colour bar).
 * @throws Error as {@link checkPackedAttentionMaps}.
 */
export function renderAttentionMapsHtml(p: PackedAttentionMaps): string {
  checkPackedAttentionMaps(p);
  const seq = p.tokens.length;
  const ss = seq * seq;
  const labels = p.tokens.map((t, i) => `${i} ${t}`);
  const maps = p.names.map((name, k) => {
    const off = (k * p.layers + p.layer) * ss;
    return heatmapSvg({
      z: p.values.subarray(off, off + ss),
      rows: seq,
      cols: seq,
      rowLabels: labels,
      colLabels: labels,
      title: `${name}, layer ${p.layer + 1}`,
      rowAxis: 'from',
      colAxis: 'to',
      tooltip: (r, c, v) => `${name} L${p.layer + 1}: ${p.tokens[r]} (${r}) → ${p.tokens[c]} (${c}) = ${v.toPrecision(3)}`,
      colorbar: { label: 'weight' },
    });
  });
  return (
    `<div class="flowlens-widget flowlens-attention-maps" data-layer="${p.layer}" style="font-family:sans-serif">` +
    (p.title ? `<div style="font-weight:600;margin-bottom:4px">${esc(p.title)}</div>` : '') +
    `<div style="font-size:12px;color:#555">layer ${p.layer + 1} of ${p.layers} (heads averaged; row = attends from, column = attended to)</div>` +
    `<div style="display:flex;flex-wrap:wrap;gap:12px">${maps.map((m) => `<div>${m}</div>`).join('')}</div>` +
    `</div>`
  );
}
