/**
 * tslab 1.0.22's cell converter (`tslab/dist/converter.js`), loaded so that it also emits source
 * maps, which the kernel needs to point an error at the cell's own line and column.
 *
 * tslab compiles a cell in two steps, and neither keeps a map: the TypeScript watch program emits an
 * ES module (compiler options fixed inside `createConverter`), then `esModuleToCommonJSModule`
 * transpiles that to CommonJS. The module's text is loaded here with two edits, each checked to
 * apply exactly once (a different tslab version fails loudly at start-up instead of losing maps):
 *
 * 1. `inlineSourceMap: true` next to `declaration: true` in the watch program's options: the ES
 *    output ends with a `//# sourceMappingURL=data:...` comment (TS cell → ES module);
 * 2. `esModuleToCommonJSModule` also asks `transpileModule` for its map and appends it as a
 *    `//# flowlensCjsMap=<base64>` comment (ES module → CommonJS).
 *
 * `kernel/sourceMap.ts` reads both comments and composes the maps. Nothing else changes: the
 * module is compiled under tslab's own file name, so its `require`s resolve as before.
 */
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** A position in tslab's diagnostics (0-based line and character, relative to the cell). */
export interface DiagnosticPos {
  offset: number;
  line: number;
  character: number;
}

/** One TypeScript diagnostic for a cell, as tslab reports it. */
export interface Diagnostic {
  start: DiagnosticPos;
  end: DiagnosticPos;
  messageText: string;
  /** ts.DiagnosticCategory: 0 warning, 1 error, 2 suggestion, 3 message. */
  category: number;
  /** The TypeScript diagnostic code, e.g. 2322. */
  code: number;
  /** Set when the diagnostic is in another file than the cell. */
  fileName?: string;
}

/** What tslab's `convert` returns. */
export interface ConvertResult {
  output?: string;
  declOutput?: string;
  diagnostics: Diagnostic[];
  lastExpressionVar?: string;
  hasToplevelAwait?: boolean;
  sideOutputs?: { path: string; data: string }[];
}

/** tslab's converter object. */
export interface Converter {
  convert(prevDecl: string, src: string): ConvertResult;
  inspect(prevDecl: string, src: string, position: number): unknown;
  complete(prevDecl: string, src: string, position: number): { start: number; end: number; candidates: string[] };
  addModule(name: string, content: string, meta?: unknown): Diagnostic[];
  close(): void;
}

/** The parts of tslab's converter module the kernel uses. */
export interface ConverterModule {
  createConverter(options?: { isJS?: boolean; isBrowser?: boolean }): Converter;
  isCompleteCode(content: string): { completed: boolean; indent?: string };
}

/** Folder of the installed tslab package. */
export function tslabDir(): string {
  return path.dirname(require.resolve('tslab/package.json'));
}

/** The text edits applied to converter.js; each `find` must occur exactly once. */
export const CONVERTER_PATCHES: readonly { find: string; replace: string }[] = [
  { find: 'declaration: true,', replace: 'declaration: true, inlineSourceMap: true,' },
  {
    find: 'fileName: "custom.js",\n        compilerOptions: {',
    replace: 'fileName: "custom.js",\n        compilerOptions: { sourceMap: true,',
  },
  {
    find: '}).outputText;\n    return out;',
    replace: '});\n    return out.outputText + "\\n//# flowlensCjsMap=" + Buffer.from(out.sourceMapText || "").toString("base64") + "\\n";',
  },
];

/**
 * Applies {@link CONVERTER_PATCHES} to the text of converter.js.
 * @throws Error naming the edit whose anchor is missing or not unique (another tslab version).
 */
export function patchConverterSource(src: string): string {
  let out = src;
  for (const p of CONVERTER_PATCHES) {
    const n = out.split(p.find).length - 1;
    if (n !== 1) throw new Error(`flowlens kernel: tslab converter.js has ${n} copies of ${JSON.stringify(p.find)} (expected 1); tslab is not 1.0.22`);
    out = out.replace(p.find, p.replace);
  }
  return out;
}

let loaded: ConverterModule | undefined;

/**
 * tslab's converter module with source maps (loaded once per process).
 * @throws Error when tslab's converter.js does not have the expected text.
 */
export function loadConverterModule(): ConverterModule {
  if (loaded) return loaded;
  const file = path.join(tslabDir(), 'dist', 'converter.js');
  const src = patchConverterSource(readFileSync(file, 'utf8'));
  const mod = new Module(file) as Module & { _compile(code: string, filename: string): void };
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  mod._compile(src, file);
  loaded = mod.exports as ConverterModule;
  return loaded;
}
