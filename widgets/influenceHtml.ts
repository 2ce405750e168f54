/**
 * Influence-pattern graph (Lu et al. 2021, "Influence Patterns for Explaining Information Flow in
 * BERT", NeurIPS): the residual stream as a grid of nodes, (layers + 1) node rows × token
 * positions, with one pattern drawn through it: at each layer the pattern goes through the skip
 * (residual) connection, staying at its position, or through one attention head, which may move it
 * to another position. Plain data in, markup out; the live view makes the nodes clickable and shows
 * the kernel's head breakdown of a node.
 *
 * @module
 */
import { esc, fmt } from './svg.js';

/**
 * One step of a pattern through transformer layer `layer` (0-based): from node (layer, p_prev) to
 * node (layer + 1, `position`), where node row 0 is the embedding output and node row `layers` the
 * last layer's output; p_prev is the previous step's `position` (the pattern's `source` for layer 0).
 * A `'skip'` step keeps the position; a `'head'` step names the head (0-based). `influence` is the
 * step's influence (any sign; the method's unit).
 */
export interface PatternStep {
  layer: number;
  position: number;
  kind: 'skip' | 'head';
  head?: number;
  influence: number;
}

/** Input of the influence-pattern widget. */
export interface InfluencePatternData {
  tokens: string[];
  layers: number;
  /** Input position where the pattern starts (node (0, source)). */
  source: number;
  /** One step per layer, layers 0..layers-1 in order. */
  steps: PatternStep[];
  /** The pattern's total influence, if the method gives one. */
  influence?: number;
  /** What was explained (the QoI's description). */
  qoi?: string;
  title?: string;
}

/** Influence of each head of one layer on one node: the kernel's answer to a node click. */
export interface HeadBreakdown {
  /** Node row (1..layers): the output of 0-based layer `layer - 1`. */
  layer: number;
  position: number;
  heads: { head: number; influence: number }[];
  /** Influence through the skip connection, if known. */
  skip?: number;
}

/** The validated state of the widget. */
export interface PackedInfluencePattern {
  tokens: string[];
  layers: number;
  source: number;
  steps: PatternStep[];
  influence: number | null;
  qoi: string;
  title: string;
  /** Node last clicked `{layer, position}` (node row, position), or null. */
  selected: { layer: number; position: number } | null;
  breakdown: HeadBreakdown | null;
  status: string;
}

const intIn = (v: unknown, lo: number, hi: number): boolean => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/**
 * Validates a pattern.
 * @returns the packed state (copies).
 * @throws Error naming the step when the steps are not one per layer in order, a position is
 *   outside the sequence, a skip step changes position, a head step lacks a valid head index, or an
 *   influence is not finite.
 */
export function packInfluencePattern(d: InfluencePatternData): PackedInfluencePattern {
  if (!d || !Array.isArray(d.tokens) || d.tokens.length === 0) throw new Error('InfluencePattern: tokens must be a non-empty array of strings');
  const seq = d.tokens.length;
  if (!Number.isInteger(d.layers) || d.layers < 1) throw new Error(`InfluencePattern: layers must be a positive integer, got ${String(d.layers)}`);
  if (!intIn(d.source, 0, seq - 1)) throw new Error(`InfluencePattern: source ${String(d.source)} is not a token position 0..${seq - 1}`);
  if (!Array.isArray(d.steps) || d.steps.length !== d.layers)
    throw new Error(`InfluencePattern: expected one step per layer (${d.layers}), got ${Array.isArray(d.steps) ? d.steps.length : typeof d.steps}`);
  let prev = d.source;
  const steps = d.steps.map((s, i) => {
    if (!s || s.layer !== i) throw new Error(`InfluencePattern: step ${i} has layer ${s ? String(s.layer) : 'none'}, expected ${i} (steps in layer order)`);
    if (!intIn(s.position, 0, seq - 1)) throw new Error(`InfluencePattern: step ${i} position ${String(s.position)} is not a token position 0..${seq - 1}`);
    if (s.kind !== 'skip' && s.kind !== 'head') throw new Error(`InfluencePattern: step ${i} kind ${JSON.stringify(s.kind)} is not 'skip' or 'head'`);
    if (s.kind === 'skip' && s.position !== prev)
      throw new Error(`InfluencePattern: step ${i} is a skip step but moves from position ${prev} to ${s.position} (only heads move between positions)`);
    if (s.kind === 'head' && !(Number.isInteger(s.head) && (s.head as number) >= 0))
      throw new Error(`InfluencePattern: step ${i} is a head step without a valid head index (got ${String(s.head)})`);
    if (typeof s.influence !== 'number' || !Number.isFinite(s.influence))
      throw new Error(`InfluencePattern: step ${i} influence ${String(s.influence)} is not a finite number`);
    prev = s.position;
    const out: PatternStep = { layer: i, position: s.position, kind: s.kind, influence: s.influence };
    if (s.kind === 'head') out.head = s.head;
    return out;
  });
  if (d.influence !== undefined && !Number.isFinite(d.influence)) throw new Error(`InfluencePattern: influence ${d.influence} is not finite`);
  return {
    tokens: [...d.tokens],
    layers: d.layers,
    source: d.source,
    steps,
    influence: d.influence ?? null,
    qoi: d.qoi ?? '',
    title: d.title ?? '',
    selected: null,
    breakdown: null,
    status: '',
  };
}

/**
 * Validates a head breakdown against the graph.
 * @throws Error when the node is outside the graph or an entry is malformed.
 */
export function checkBreakdown(b: HeadBreakdown, layers: number, seq: number): HeadBreakdown {
  if (!b || !intIn(b.layer, 1, layers) || !intIn(b.position, 0, seq - 1))
    throw new Error(`InfluencePattern: breakdown node (${b?.layer}, ${b?.position}) is not a node row 1..${layers} and position 0..${seq - 1}`);
  if (!Array.isArray(b.heads)) throw new Error('InfluencePattern: breakdown.heads must be an array of {head, influence}');
  b.heads.forEach((h, i) => {
    if (!h || !Number.isInteger(h.head) || !Number.isFinite(h.influence))
      throw new Error(`InfluencePattern: breakdown.heads[${i}] must be {head: integer, influence: finite number}`);
  });
  if (b.skip !== undefined && !Number.isFinite(b.skip)) throw new Error('InfluencePattern: breakdown.skip must be a finite number');
  return {
    layer: b.layer,
    position: b.position,
    heads: b.heads.map((h) => ({ head: h.head, influence: h.influence })),
    ...(b.skip !== undefined ? { skip: b.skip } : {}),
  };
}

function breakdownSvg(b: HeadBreakdown, tokens: string[]): string {
  const rows = [...b.heads.map((h) => ({ label: `h${h.head}`, v: h.influence })), ...(b.skip !== undefined ? [{ label: 'skip', v: b.skip }] : [])];
  const max = Math.max(1e-30, ...rows.map((r) => Math.abs(r.v)));
  const W = 320;
  const mid = 160;
  const rowH = 16;
  const H = 22 + rows.length * rowH;
  const p = [`<svg xmlns="http://www.w3.org/2000/svg" class="flowlens-breakdown" width="${W}" height="${H}" style="font-family:sans-serif;font-size:11px">`];
  p.push(`<text x="0" y="12" font-weight="600">heads of layer ${b.layer} into ${esc(tokens[b.position])} (${b.position})</text>`);
  rows.forEach((r, i) => {
    const y = 20 + i * rowH;
    const w = (Math.abs(r.v) / max) * 110;
    const x = r.v >= 0 ? mid : mid - w;
    p.push(`<text x="${mid - 116}" y="${y + 11}" text-anchor="end">${esc(r.label)}</text>`);
    p.push(
      `<rect x="${x}" y="${y + 2}" width="${w}" height="${rowH - 4}" fill="${r.v >= 0 ? '#dc2626' : '#2563eb'}"><title>${esc(`${r.label}: ${fmt(r.v)}`)}</title></rect>`,
    );
    p.push(`<text x="${mid + 114}" y="${y + 11}">${fmt(r.v)}</text>`);
  });
  p.push(`<line x1="${mid}" x2="${mid}" y1="18" y2="${H}" stroke="#999"/></svg>`);
  return p.join('');
}

/**
 * The graph as HTML: an SVG with node rows from the embeddings (bottom) to the last layer (top),
 * token labels below and above, the pattern's edges (dashed grey = skip, solid orange with the head
 * label = head; width ∝ |influence|), every node clickable (`data-layer`, `data-position`), and the
 * head breakdown of the selected node when the kernel has sent one.
 * @returns a `<div class="flowlens-widget flowlens-influence">`.
 */
export function renderInfluenceHtml(p: PackedInfluencePattern): string {
  const seq = p.tokens.length;
  const L = p.layers;
  const dx = Math.max(46, Math.min(80, 560 / seq));
  const dy = 48;
  const left = 70;
  const top = 40;
  const W = left + dx * (seq - 1) + 60;
  const H = top + dy * L + 60;
  const X = (pos: number): number => left + pos * dx;
  const Y = (row: number): number => top + (L - row) * dy;
  const on = new Map<string, number>();
  on.set(`0:${p.source}`, 0);
  const maxInf = Math.max(1e-30, ...p.steps.map((s) => Math.abs(s.influence)));
  const s: string[] = [];
  s.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="flowlens-influence-graph" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" style="font-family:sans-serif;font-size:11px">`,
  );
  for (let r = 0; r <= L; r++) s.push(`<text x="${left - 18}" y="${Y(r) + 4}" text-anchor="end" fill="#555">${r === 0 ? 'embed' : `L${r}`}</text>`);
  p.tokens.forEach((t, i) => {
    s.push(`<text x="${X(i)}" y="${Y(0) + 26}" text-anchor="middle">${esc(t)}</text>`);
    s.push(`<text x="${X(i)}" y="${Y(L) - 16}" text-anchor="middle" fill="#777">${esc(t)}</text>`);
  });
  let prev = p.source;
  const labels: string[] = [];
  p.steps.forEach((st) => {
    const x1 = X(prev);
    const y1 = Y(st.layer);
    const x2 = X(st.position);
    const y2 = Y(st.layer + 1);
    const w = 1.5 + 4.5 * (Math.abs(st.influence) / maxInf);
    const label = st.kind === 'skip' ? 'skip' : `h${st.head}`;
    const tip = `layer ${st.layer + 1}: ${st.kind === 'skip' ? 'skip connection' : `head ${st.head}`}, ${esc(p.tokens[prev])} (${prev}) → ${esc(p.tokens[st.position])} (${st.position}), influence ${fmt(st.influence)}`;
    const style = st.kind === 'skip' ? `stroke="#6b7280" stroke-dasharray="5 4"` : `stroke="#ea580c"`;
    s.push(
      `<line class="flowlens-step" data-kind="${st.kind}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" ${style} stroke-width="${w.toFixed(2)}"><title>${tip}</title></line>`,
    );
    // The label sits beside its edge (offset along the edge's normal, to the right) on a white halo,
    // and is drawn after the nodes, so neither the edge nor a node covers it.
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    let nx = -(y2 - y1) / len;
    let ny = (x2 - x1) / len;
    if (nx < 0 || (nx === 0 && ny > 0)) [nx, ny] = [-nx, -ny];
    const lx = (x1 + x2) / 2 + nx * 9;
    const ly = (y1 + y2) / 2 + ny * 9 + 4;
    labels.push(
      `<text class="flowlens-step-label" x="${lx.toFixed(1)}" y="${ly.toFixed(1)}" text-anchor="${nx > 0.3 ? 'start' : 'middle'}" fill="${st.kind === 'skip' ? '#6b7280' : '#ea580c'}" font-weight="600" stroke="#fff" stroke-width="3" paint-order="stroke">${label}</text>`,
    );
    on.set(`${st.layer + 1}:${st.position}`, st.influence);
    prev = st.position;
  });
  for (let r = 0; r <= L; r++) {
    for (let i = 0; i < seq; i++) {
      const key = `${r}:${i}`;
      const onPath = on.has(key);
      const sel = p.selected && p.selected.layer === r && p.selected.position === i;
      const tip = `${r === 0 ? 'embedding' : `layer ${r} output`}, ${p.tokens[i]} (${i})${onPath ? (r === 0 ? ': pattern source' : `: on the pattern, step influence ${fmt(on.get(key)!)}`) : ''}${r > 0 ? ' (click for the head breakdown)' : ''}`;
      s.push(
        `<circle class="flowlens-node" data-layer="${r}" data-position="${i}" cx="${X(i)}" cy="${Y(r)}" r="${onPath ? 7 : 5}" fill="${onPath ? '#111' : '#d1d5db'}" stroke="${sel ? '#2563eb' : '#fff'}" stroke-width="${sel ? 3 : 1}" style="cursor:pointer"><title>${esc(tip)}</title></circle>`,
      );
    }
  }
  s.push(...labels, '</svg>');
  const head =
    (p.title ? `<div style="font-weight:600;margin-bottom:4px">${esc(p.title)}</div>` : '') +
    `<div style="font-size:12px;color:#555">pattern from ${esc(p.tokens[p.source])} (${p.source})${p.qoi ? ` for ${esc(p.qoi)}` : ''}${p.influence !== null ? `, influence ${fmt(p.influence)}` : ''}; dashed = skip connection, orange = attention head</div>`;
  const bd = p.breakdown ? `<div class="flowlens-breakdown-panel">${breakdownSvg(p.breakdown, p.tokens)}</div>` : '';
  const status = p.status ? `<div class="flowlens-status" style="font-size:12px;color:#a00">${esc(p.status)}</div>` : '';
  return `<div class="flowlens-widget flowlens-influence" style="font-family:sans-serif">${head}<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">${s.join('')}${bd}</div>${status}</div>`;
}
