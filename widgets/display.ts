/**
 * Display formatters (`src/display.ts` protocol) for values that cannot carry the
 * `MIME_BUNDLE` method themselves; the flowlens kernel loads this module at start-up:
 *
 * - a `TokenAttribution` (plain data: `{method, tokens, scores, qoi, …}`) shows as a saliency view
 *   (the static rendering of the `TokenSaliency` widget: tokens coloured by score) with the method,
 *   the QoI and the sanity figure as caption;
 * - an arquero table shows as an HTML table (`table.toHTML`, at most {@link TABLE_ROWS} rows, with a
 *   line saying how many rows are left out) and as aligned text.
 *
 * Widgets implement the protocol themselves (`widgets/protocol.ts`).
 *
 * @module
 */
import { registerFormatter, type MimeBundle } from '../src/display.js';
import type { TokenAttribution } from '../src/methods/result.js';
import { renderSaliencyHtml } from './saliencyHtml.js';

/** Rows of an arquero table shown in a notebook output. */
export const TABLE_ROWS = 50;
/** Rows of an arquero table in its `text/plain` form. */
export const TABLE_TEXT_ROWS = 20;

/** True for values shaped like a `TokenAttribution` (`src/methods/result.ts`). */
export function isTokenAttribution(v: unknown): v is TokenAttribution {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Partial<TokenAttribution>;
  return (
    typeof a.method === 'string' &&
    typeof a.qoi === 'string' &&
    Array.isArray(a.tokens) &&
    Array.isArray(a.scores) &&
    a.tokens.length === a.scores.length &&
    a.tokens.every((t) => typeof t === 'string') &&
    a.scores.every((s) => typeof s === 'number' && Number.isFinite(s))
  );
}

/** The saliency view of a `TokenAttribution`. */
export function tokenAttributionBundle(a: TokenAttribution): MimeBundle {
  const layer = a.layer !== undefined ? `, layer ${a.layer + 1}` : '';
  const sanity = a.sanity ? `; ${a.sanity.name} ${Number(a.sanity.value.toPrecision(4))}` : '';
  const title = `${a.method}: ${a.qoi}${layer}${sanity}`;
  const text = `TokenAttribution ${title}\n` + a.tokens.map((t, i) => `${t} ${Number(a.scores[i].toPrecision(4))}`).join('  ');
  return { 'text/html': renderSaliencyHtml({ tokens: a.tokens, scores: a.scores, title }), 'text/plain': text };
}

/** The parts of an arquero table used here. */
interface ArqueroTable {
  numRows(): number;
  numCols(): number;
  columnNames(): string[];
  toHTML(options?: { limit?: number }): string;
  objects(options?: { limit?: number }): Record<string, unknown>[];
}

/** True for arquero tables (checked by their methods, so any copy of arquero counts). */
export function isArqueroTable(v: unknown): v is ArqueroTable {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  return ['numRows', 'numCols', 'columnNames', 'toHTML', 'objects'].every((m) => typeof t[m] === 'function');
}

/** Text of one cell of a text table. */
function cellText(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

/** The HTML table and aligned text of an arquero table. */
export function arqueroBundle(t: ArqueroTable): MimeBundle {
  const rows = t.numRows();
  const cols = t.columnNames();
  const more = (shown: number) => (rows > shown ? `… ${rows - shown} more rows (${rows} in all)` : '');
  const htmlMore = more(TABLE_ROWS);
  const html =
    `<div class="flowlens-table">` + t.toHTML({ limit: TABLE_ROWS }) + (htmlMore ? `<div style="font-size:11px;color:#555">${htmlMore}</div>` : '') + `</div>`;
  const objs = t.objects({ limit: TABLE_TEXT_ROWS });
  const grid = [cols, ...objs.map((o) => cols.map((c) => cellText(o[c])))];
  const widths = cols.map((_, j) => Math.max(...grid.map((r) => r[j].length)));
  const lines = grid.map((r) => r.map((c, j) => c.padStart(widths[j])).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const textMore = more(TABLE_TEXT_ROWS);
  const text = `Table (${rows} rows × ${t.numCols()} columns)\n${lines.join('\n')}${textMore ? '\n' + textMore : ''}`;
  return { 'text/html': html, 'text/plain': text };
}

/** Registers the formatters above (idempotent: same names replace). */
export function registerFlowlensFormatters(): void {
  registerFormatter({ name: 'flowlens.TokenAttribution', test: isTokenAttribution, format: (v) => tokenAttributionBundle(v as TokenAttribution) });
  registerFormatter({ name: 'arquero.table', test: isArqueroTable, format: (v) => arqueroBundle(v as ArqueroTable) });
}

registerFlowlensFormatters();
