/**
 * The display protocol: how an object tells a notebook front end how to show it.
 *
 * An object that has a method under the symbol {@link MIME_BUNDLE} returns a MIME bundle (MIME
 * type → content, e.g. `{'text/html': '<table>…</table>', 'text/plain': 'Table(2 × 3)'}`), as
 * IPython's `_repr_mimebundle_` does. The flowlens kernel calls it for a cell's last expression
 * (`execute_result`) and for `flowlensComm.display(value)`; everything else is shown as
 * `text/plain` (Node's `util.inspect`). The symbol is `Symbol.for('flowlens.mimeBundle')`, so every
 * copy of this module (and code that does not import flowlens at all) shares it:
 *
 * ```ts
 * class Fraction {
 *   constructor(readonly n: number, readonly d: number) {}
 *   [Symbol.for('flowlens.mimeBundle')]() {
 *     return { 'text/plain': `${this.n}/${this.d}`, 'text/html': `<sup>${this.n}</sup>⁄<sub>${this.d}</sub>` };
 *   }
 * }
 * ```
 *
 * Types one cannot add a method to (plain-data results such as `TokenAttribution`, other
 * libraries' classes such as arquero tables) get a formatter: {@link registerFormatter} with a
 * test and a bundle function, as IPython's `for_type`. The registry is process-wide.
 *
 * In flowlens: widgets show as live widget views (with a static `text/html` figure for saved
 * notebooks), `Trace` as a short summary, and, through formatters registered by
 * `widgets/display.ts` (loaded by the kernel), `TokenAttribution` as a saliency view and arquero
 * tables as HTML tables.
 *
 * @module
 */

/** MIME type → content (string, or JSON for `application/*+json` types). Should include `text/plain`. */
export type MimeBundle = Record<string, unknown>;

/** The symbol under which an object's display method lives: `Symbol.for('flowlens.mimeBundle')`. */
export const MIME_BUNDLE: unique symbol = Symbol.for('flowlens.mimeBundle') as never;

/** An object following the display protocol. */
export interface Displayable {
  /** Returns the object's MIME bundle (at least one MIME type; `text/plain` recommended). */
  [MIME_BUNDLE](): MimeBundle;
}

/** A formatter for values that cannot carry {@link MIME_BUNDLE} themselves. */
export interface Formatter {
  /** Name, for replacing a formatter and for error messages. */
  name: string;
  /** True for the values this formatter shows. */
  test(value: unknown): boolean;
  /** The value's MIME bundle. */
  format(value: unknown): MimeBundle;
}

const REGISTRY = Symbol.for('flowlens.display.formatters');

function formatters(): Formatter[] {
  const g = globalThis as Record<symbol, unknown>;
  return (g[REGISTRY] ??= []) as Formatter[];
}

/** True when `value` has a {@link MIME_BUNDLE} method. */
export function isDisplayable(value: unknown): value is Displayable {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as Record<symbol, unknown>)[MIME_BUNDLE] === 'function';
}

/**
 * Registers (or, with the same name, replaces) a formatter; later registrations are tried first.
 * @throws Error when the name is empty or `test`/`format` are not functions.
 */
export function registerFormatter(f: Formatter): void {
  if (!f || !f.name || typeof f.test !== 'function' || typeof f.format !== 'function') {
    throw new Error('registerFormatter: needs {name, test(value), format(value)}');
  }
  const list = formatters();
  const at = list.findIndex((x) => x.name === f.name);
  if (at >= 0) list.splice(at, 1);
  list.push(f);
}

/**
 * The MIME bundle of a value: its {@link MIME_BUNDLE} method, else the last registered formatter
 * whose test accepts it; undefined when neither applies (the caller then shows plain text).
 * @throws Error when the display method or formatter throws, or returns no MIME type (the
 *   message names the formatter).
 */
export function mimeBundleOf(value: unknown): MimeBundle | undefined {
  let bundle: unknown;
  let who: string;
  if (isDisplayable(value)) {
    who = 'the [Symbol.for("flowlens.mimeBundle")] method';
    bundle = value[MIME_BUNDLE]();
  } else {
    const f = [...formatters()].reverse().find((x) => x.test(value));
    if (!f) return undefined;
    who = `formatter "${f.name}"`;
    bundle = f.format(value);
  }
  if (!bundle || typeof bundle !== 'object' || Object.keys(bundle).length === 0) {
    throw new Error(`display: ${who} returned no MIME type`);
  }
  return bundle as MimeBundle;
}

/** HTML-escapes text. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A bundle for a short summary: a title and key/value rows, as `text/plain` (one line per row)
 * and a small `text/html` table. Used by `Trace`.
 */
export function summaryBundle(title: string, rows: [string, string][]): MimeBundle {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  const text = [title, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
  const html =
    `<div class="flowlens-summary" style="font-family:sans-serif;font-size:13px">` +
    `<div style="font-weight:600">${esc(title)}</div>` +
    `<table style="border-collapse:collapse">` +
    rows
      .map(([k, v]) => `<tr><td style="padding:1px 12px 1px 0;color:#555">${esc(k)}</td><td style="padding:1px 0;font-family:monospace">${esc(v)}</td></tr>`)
      .join('') +
    `</table></div>`;
  return { 'text/plain': text, 'text/html': html };
}
