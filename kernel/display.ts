/**
 * The MIME bundle the kernel sends for a value (a cell's last expression): the display protocol of
 * `src/display.ts` (the value's `Symbol.for('flowlens.mimeBundle')` method, else a registered
 * formatter: `widgets/display.ts` registers `TokenAttribution` and arquero tables; the kernel process
 * loads it in `kernel/start.ts`, since the kernel's library layer never imports widgets), always with a
 * `text/plain` part; any other value is `text/plain` only (Node's `util.inspect`, as `console.log`
 * prints it).
 */
import { inspect } from 'node:util';
import { mimeBundleOf, type MimeBundle } from '../src/display.js';

/**
 * The `data` and `metadata` of an `execute_result`/`display_data` for `value`. A display method or
 * formatter that throws does not fail the cell: the value is shown as text, with the error.
 */
export function bundleOf(value: unknown): { data: MimeBundle; metadata: Record<string, unknown> } {
  let data: MimeBundle | undefined;
  let failure = '';
  try {
    data = mimeBundleOf(value);
  } catch (e) {
    failure = `\n(display failed: ${(e as Error)?.message ?? e})`;
  }
  if (!data) return { data: { 'text/plain': inspect(value) + failure }, metadata: {} };
  if (typeof data['text/plain'] !== 'string') data = { ...data, 'text/plain': inspect(value) };
  return { data, metadata: {} };
}
