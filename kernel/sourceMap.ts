/**
 * Positions in a cell's compiled JavaScript mapped back to the cell's TypeScript, for tracebacks.
 *
 * A cell goes through two compilations (see `kernel/converter.ts`): TypeScript → ES module (map
 * in a `//# sourceMappingURL=data:` comment; its source is tslab's `__tslab__.ts`, which has one
 * `export {};` line in front of the cell) and ES module → CommonJS (map in a `//# flowlensCjsMap=`
 * comment). {@link CellSourceMap} composes the two with Node's own source-map reader
 * (`node:module` `SourceMap`).
 */
import { SourceMap } from 'node:module';

const ES_MAP = /^\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/m;
const CJS_MAP = /^\/\/# flowlensCjsMap=([A-Za-z0-9+/=]*)\s*$/m;
const MAP_COMMENT = /^\/\/# (?:sourceMappingURL|flowlensCjsMap)=.*$/gm;

/** Lines of tslab's source file in front of the cell (`export {};`). */
export const CELL_PREFIX_LINES = 1;

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

function parseMap(b64: string | undefined): SourceMap | undefined {
  if (!b64) return undefined;
  try {
    return new SourceMap(JSON.parse(Buffer.from(b64, 'base64').toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Looks up a 0-based position; only entries on the same generated line count. */
function lookup(map: SourceMap, line0: number, col0: number): { line: number; column: number } | undefined {
  const e = map.findEntry(line0, col0) as { generatedLine?: number; originalLine?: number; originalColumn?: number };
  if (e.generatedLine !== line0 || e.originalLine === undefined || e.originalColumn === undefined) return undefined;
  return { line: e.originalLine, column: e.originalColumn };
}

/** The composed map of one compiled cell. */
export class CellSourceMap {
  private constructor(
    private readonly esMap: SourceMap | undefined,
    private readonly cjsMap: SourceMap | undefined,
  ) {}

  /**
   * Reads the two map comments of tslab's (patched) output and removes them.
   * @param output the CommonJS text returned by the converter.
   * @returns the code without map comments, and the map (which maps nothing when a comment is missing).
   */
  static fromOutput(output: string): { code: string; map: CellSourceMap } {
    const es = parseMap(ES_MAP.exec(output)?.[1]);
    const cjs = parseMap(CJS_MAP.exec(output)?.[1]);
    return { code: output.replace(MAP_COMMENT, ''), map: new CellSourceMap(es, cjs) };
  }

  /**
   * This map behind one more: positions in a text made from `wrapperLines` header lines plus the
   * CommonJS code (the async wrapper), rewritten by a transform with source map `outerMap` (JSON).
   * @returns a function from a 1-based position in the rewritten text to the cell position.
   */
  behind(outerMap: string, wrapperLines: number): (line: number, column: number) => Position | undefined {
    const outer = new SourceMap(JSON.parse(outerMap));
    return (line, column) => {
      const w = lookup(outer, line - 1, column - 1);
      if (!w || w.line < wrapperLines) return undefined;
      return this.originalPosition(w.line - wrapperLines + 1, w.column + 1);
    };
  }

  /**
   * The cell position of a position in the CommonJS code.
   * @param line 1-based line in the CommonJS code.
   * @param column 1-based column.
   * @returns the 1-based line and column in the cell, or undefined when the code there comes from
   *   no cell text (module prologue, helpers).
   */
  originalPosition(line: number, column: number): Position | undefined {
    if (!this.esMap || !this.cjsMap) return undefined;
    const es = lookup(this.cjsMap, line - 1, column - 1);
    if (!es) return undefined;
    const ts = lookup(this.esMap, es.line, es.column);
    if (!ts || ts.line < CELL_PREFIX_LINES) return undefined;
    return { line: ts.line - CELL_PREFIX_LINES + 1, column: ts.column + 1 };
  }
}
