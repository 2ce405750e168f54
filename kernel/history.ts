/**
 * The kernel's input history for `history_request` (messaging spec 5.3, "History"): every stored
 * execution of this kernel process, as `(session, line, input)` or, with `output`, `(session,
 * line, [input, output])` where output is the `text/plain` of the cell's `execute_result` (or
 * null). Kept in memory only: the session number is always {@link SESSION}, and a restarted kernel
 * starts an empty history (IPython keeps its history in a database across sessions).
 */

/** The session number of this kernel's history entries. */
export const SESSION = 1;

/** Fields of a `history_request` content. */
export interface HistoryRequest {
  output?: boolean;
  raw?: boolean;
  hist_access_type?: 'range' | 'tail' | 'search';
  session?: number;
  start?: number;
  stop?: number | null;
  n?: number | null;
  pattern?: string;
  unique?: boolean;
}

/** One history entry. */
export type HistoryItem = [number, number, string] | [number, number, [string, string | null]];

interface Entry {
  line: number;
  input: string;
  output: string | null;
}

/** A glob (`*`, `?`, `[...]`, as IPython's sqlite GLOB search) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        re += '[' + (body.startsWith('^') ? '^' + body.slice(1) : body).replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The history of one kernel process. */
export class History {
  private readonly entries: Entry[] = [];

  /** Records a stored execution (`line` = its execution count). */
  add(line: number, input: string, output: string | null): void {
    this.entries.push({ line, input, output });
  }

  /**
   * Answers a history request.
   * - `tail`: the last `n` entries (all when n is missing);
   * - `range`: lines `start` (inclusive) to `stop` (exclusive; to the end when null) of `session`
   *   (0 or negative, or {@link SESSION}, mean this session; any other session has no entries);
   * - `search`: entries whose input matches the glob `pattern` (whole input), the last `n` of
   *   them, each input once with `unique`.
   */
  query(req: HistoryRequest): HistoryItem[] {
    let sel: Entry[];
    const type = req.hist_access_type ?? 'tail';
    if (type === 'tail') {
      sel = req.n == null ? this.entries.slice() : this.entries.slice(Math.max(0, this.entries.length - req.n));
    } else if (type === 'range') {
      const session = req.session ?? 0;
      if (session > 0 && session !== SESSION) return [];
      const start = req.start ?? 0;
      const stop = req.stop ?? Infinity;
      sel = this.entries.filter((e) => e.line >= start && e.line < stop);
    } else if (type === 'search') {
      const re = globToRegExp(req.pattern ?? '*');
      sel = this.entries.filter((e) => re.test(e.input));
      if (req.unique) {
        const lastOf = new Map<string, Entry>();
        for (const e of sel) lastOf.set(e.input, e);
        sel = sel.filter((e) => lastOf.get(e.input) === e);
      }
      if (req.n != null) sel = sel.slice(Math.max(0, sel.length - req.n));
    } else {
      throw new Error(`history: unknown hist_access_type ${JSON.stringify(type)} (range, tail, search)`);
    }
    return sel.map((e): HistoryItem => (req.output ? [SESSION, e.line, [e.input, e.output]] : [SESSION, e.line, e.input]));
  }
}
