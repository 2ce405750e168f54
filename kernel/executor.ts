/**
 * Runs notebook cells: tslab's converter (TypeScript → CommonJS, with the running declarations of
 * earlier cells) and our own execution, which, unlike tslab's `createExecutor`, returns structured
 * results instead of printing them:
 *
 * - the value of the cell's last expression (for `execute_result`);
 * - a runtime error as `{ename, evalue, traceback}`, with every stack frame in a cell mapped back
 *   to that cell's line and column (source maps, `kernel/sourceMap.ts`) and the failing line shown
 *   with a caret;
 * - TypeScript diagnostics as a `TSError` with the diagnostic codes (`TS2322: …`) and positions;
 * - an interrupt (SIGINT while a cell runs synchronously: `vm`'s `breakOnSigint`; while it awaits:
 *   {@link Executor.interrupt}) as an `InterruptError`.
 *
 * What it keeps from tslab (`tslab/dist/executor.js`): cells run in this Node context, wrapped in
 * a function of `(exports, require)`; `exports` holds every cell's top-level names (a proxy that
 * keeps imported names rewritable); `require` resolves from the notebook's folder, gives tslab's
 * own API for `require('tslab')` and loads the compiled side outputs (local `.ts` files a cell
 * imports); `//%module: name` cells define in-memory modules; `//%browser` cells are accepted and
 * not run.
 *
 * @module
 */
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { inspect } from 'node:util';
import vm from 'node:vm';
import { tslabDir, type Converter, type Diagnostic } from './converter.js';
import { driveCell, toGeneratorCell } from './awaitCells.js';
import { CellSourceMap, type Position } from './sourceMap.js';

const require = createRequire(import.meta.url);

/** A cell that ran to its end. */
export interface CellOk {
  status: 'ok';
  /** True when the cell ends with an expression whose value is not `undefined`. */
  hasValue: boolean;
  /** That value. */
  value?: unknown;
}

/** A cell that failed (compile error, exception, interrupt). */
export interface CellError {
  status: 'error';
  /** `TSError` for TypeScript diagnostics, `InterruptError` for an interrupt, else the error's name. */
  ename: string;
  evalue: string;
  /** Lines of the traceback (the front end joins them with newlines). */
  traceback: string[];
}

export type CellResult = CellOk | CellError;

/** tslab's converters, made on first use. */
export interface Converters {
  readonly node: Converter;
  readonly browser: Converter;
  close(): void;
}

/** tslab's cell metadata parser (`//%module: x`, `//%browser`, `//%jsx`). */
interface CodeMetadata {
  mode?: 'node' | 'browser';
  module?: string;
  jsx?: true;
}

/** Name of the error for an interrupted cell. */
export const INTERRUPT_ENAME = 'InterruptError';

/** Where the executor hands `(exports, require)` to the wrapped cell code. */
const CELL_SLOT = 'flowlens.kernel.cell';

/** A compiled cell kept for mapping stack frames (cells may call functions of earlier cells). */
interface CompiledCell {
  /** 1-based position in the script V8 ran → 1-based position in the cell. */
  position: (line: number, column: number) => Position | undefined;
  lines: string[];
}

/** The module of the tslab side outputs' emulated `require` (tslab's `wrapRequire`). */
function wrapRequire(req: NodeJS.Require, dirname: string, sideOutputs: Map<string, string>, sideModules: Map<string, Module>): NodeJS.Require {
  const fromSideOutputs = (id: string): unknown => {
    let filename = path.join(dirname, id);
    if (path.extname(filename) === '') filename += '.js';
    const cached = sideModules.get(filename);
    if (cached) return cached.exports;
    const code = sideOutputs.get(filename);
    if (code === undefined) return null;
    const mod = new Module(filename) as Module & { _compile(code: string, filename: string): void };
    mod.filename = filename;
    mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
    mod.require = wrapRequire(mod.require as NodeJS.Require, path.dirname(filename), sideOutputs, sideModules) as unknown as typeof mod.require;
    mod._compile(CellSourceMap.fromOutput(code).code, filename);
    sideModules.set(filename, mod);
    return mod.exports;
  };
  return new Proxy(req, {
    apply: (_t, thisArg, args: unknown[]) => {
      if (args.length !== 1) return Reflect.apply(req, thisArg, args);
      const id = args[0] as string;
      if (id === 'tslab') return require(path.join(tslabDir(), 'dist', 'public.js'));
      const side = fromSideOutputs(id);
      if (side) return side;
      return Reflect.apply(req, thisArg, args);
    },
  });
}

/** The exports object of the cells: named imports stay rewritable (tslab's `createExports`). */
function createExports(): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  return new Proxy(target, {
    defineProperty: (_t, prop, attrs) => {
      if (prop === '__esModule') return true;
      target[prop as string] = attrs.get ? attrs.get() : attrs.value;
      return true;
    },
  });
}

/** Text of a thrown value for `evalue`. */
function describe(e: unknown): { ename: string; evalue: string } {
  if (e instanceof Error) return { ename: e.name || 'Error', evalue: e.message };
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return { ename: String((e as { name?: unknown }).name ?? 'Error'), evalue: (e as { message: string }).message };
  }
  return { ename: 'Error', evalue: `Uncaught ${inspect(e)}` };
}

/** A caret line under `column` (1-based) of `line`, with the line itself; tabs kept. */
function caret(line: string, column: number): string[] {
  const pad = line.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, ' ');
  return [`    ${line}`, `    ${pad}^`];
}

const FRAME = /^(\s*at (?:.*? \()?)(.*):(\d+):(\d+)(\)?)$/;

/** Runs cells; one per kernel. */
export class Executor {
  /** Top-level names of the cells (tslab's `exports`). */
  readonly locals: Record<string, unknown> = createExports();
  private prevDecl = '';
  private readonly cells = new Map<string, CompiledCell>();
  private readonly sideOutputs = new Map<string, string>();
  private readonly sideModules = new Map<string, Module>();
  private readonly cellRequire: NodeJS.Require;
  private readonly getMetadata: (src: string) => CodeMetadata;
  private rejectInterrupt: (e: Error) => void = () => undefined;

  /**
   * @param rootDir folder the cells' `require` resolves from (the notebook's folder).
   * @param convs tslab's converters.
   * @param afterInterrupt called after a cell was interrupted (e.g. to repair library state).
   */
  constructor(
    rootDir: string,
    private readonly convs: Converters,
    private readonly afterInterrupt: () => void = () => undefined,
  ) {
    this.cellRequire = wrapRequire(Module.createRequire(path.join(rootDir, 'src.js')), rootDir, this.sideOutputs, this.sideModules);
    this.getMetadata = require(path.join(tslabDir(), 'dist', 'metadata.js')).getCodeMetadata;
    (globalThis as Record<symbol, unknown>)[Symbol.for(CELL_SLOT)] = { exports: this.locals, require: this.cellRequire };
  }

  /**
   * Compiles and runs one cell.
   * @param src the cell's TypeScript.
   * @param cellName the name stack frames and diagnostics show for the cell, e.g. `In[3]`; unique per cell run.
   * @returns the result; never throws for the cell's own errors.
   */
  async execute(src: string, cellName: string): Promise<CellResult> {
    const meta = this.getMetadata(src);
    if (meta.module) {
      const conv = meta.mode === 'browser' ? this.convs.browser : this.convs.node;
      const diags = conv.addModule(meta.module, src, meta);
      return diags.length ? this.diagnosticsError(diags, src, `module ${meta.module}`) : { status: 'ok', hasValue: false };
    }
    if (meta.mode === 'browser') return { status: 'ok', hasValue: false };

    const converted = this.convs.node.convert(this.prevDecl, src);
    for (const out of converted.sideOutputs ?? []) {
      this.sideModules.delete(out.path);
      this.sideOutputs.set(out.path, out.data);
    }
    if (converted.diagnostics.length > 0) return this.diagnosticsError(converted.diagnostics, src, cellName);
    if (!converted.output) {
      this.prevDecl = converted.declOutput ?? '';
      return { status: 'ok', hasValue: false };
    }
    const { code, map } = CellSourceMap.fromOutput(converted.output);
    const lines = src.split('\n');
    const slot = `globalThis[Symbol.for(${JSON.stringify(CELL_SLOT)})]`;
    // The header is on its own line, so line n of the stack is line n − 1 of `code`.
    const header = `(${converted.hasToplevelAwait ? 'async ' : ''}function (exports, require) {\n`;
    const fn = `${header}${code}\n})`;
    // A cell with top-level await runs as a generator, one interruptible vm call per step (kernel/awaitCells.ts).
    const gen = converted.hasToplevelAwait ? toGeneratorCell(fn) : undefined;
    this.cells.set(cellName, { position: gen ? map.behind(gen.map, 1) : (l, c) => map.originalPosition(l - 1, c), lines });
    try {
      if (gen) {
        const make = new vm.Script(gen.code, { filename: cellName }).runInThisContext() as (e: unknown, r: unknown) => Generator<unknown, unknown, unknown>;
        const interrupted = new Promise<never>((_, reject) => (this.rejectInterrupt = reject));
        interrupted.catch(() => undefined); // raced at every step; never an unhandled rejection
        try {
          await driveCell(make(this.locals, this.cellRequire), interrupted);
        } finally {
          this.rejectInterrupt = () => undefined;
        }
      } else {
        const ret = new vm.Script(`${fn}(${slot}.exports, ${slot}.require)`, { filename: cellName }).runInThisContext({ breakOnSigint: true });
        if (converted.hasToplevelAwait) {
          const interrupted = new Promise<never>((_, reject) => (this.rejectInterrupt = reject));
          try {
            await Promise.race([ret, interrupted]);
          } finally {
            this.rejectInterrupt = () => undefined;
          }
        }
      }
    } catch (e) {
      // Declarations of a failing cell stay known, as a Python kernel keeps the names it assigned.
      this.prevDecl = converted.declOutput ?? this.prevDecl;
      if (converted.lastExpressionVar) delete this.locals[converted.lastExpressionVar];
      return this.runtimeError(e);
    }
    this.prevDecl = converted.declOutput ?? '';
    if (!converted.lastExpressionVar) return { status: 'ok', hasValue: false };
    const value = this.locals[converted.lastExpressionVar];
    delete this.locals[converted.lastExpressionVar];
    return value === undefined ? { status: 'ok', hasValue: false } : { status: 'ok', hasValue: true, value };
  }

  /** Ends a cell that is awaiting (top-level `await`) with an {@link INTERRUPT_ENAME}. */
  interrupt(): void {
    const e = new Error('the cell was interrupted while awaiting');
    (e as { code?: string }).code = 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
    this.rejectInterrupt(e);
  }

  /** Quick info at `position` of `src` (TypeScript's hover text), or undefined. */
  inspect(src: string, position: number): unknown {
    const conv = this.getMetadata(src).mode === 'browser' ? this.convs.browser : this.convs.node;
    return conv.inspect(this.prevDecl, src, position);
  }

  /** Completions at `position` of `src`. */
  complete(src: string, position: number): { start: number; end: number; candidates: string[] } {
    const conv = this.getMetadata(src).mode === 'browser' ? this.convs.browser : this.convs.node;
    return conv.complete(this.prevDecl, src, position);
  }

  /** Releases the converters (their file watchers). */
  close(): void {
    this.convs.close();
  }

  private diagnosticsError(diags: Diagnostic[], src: string, where: string): CellError {
    const lines = src.split('\n');
    const traceback: string[] = [];
    const kind = (d: Diagnostic) => (d.category === 0 ? 'warning' : d.category === 1 ? 'error' : 'message');
    for (const d of diags) {
      const file = d.fileName ?? where;
      traceback.push(`${file}:${d.start.line + 1}:${d.start.character + 1} - ${kind(d)} TS${d.code}: ${d.messageText}`);
      if (!d.fileName && lines[d.start.line] !== undefined) traceback.push(...caret(lines[d.start.line], d.start.character + 1));
    }
    const first = diags.find((d) => d.category === 1) ?? diags[0];
    const at = first.fileName ? `${first.fileName} ` : '';
    return {
      status: 'error',
      ename: 'TSError',
      evalue: `TS${first.code}: ${first.messageText} (${at}line ${first.start.line + 1}, column ${first.start.character + 1})`,
      traceback,
    };
  }

  private runtimeError(e: unknown): CellError {
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
      try {
        this.afterInterrupt();
      } catch (err) {
        console.error('flowlens kernel: repairing state after an interrupt failed:', err);
      }
      return {
        status: 'error',
        ename: INTERRUPT_ENAME,
        evalue: 'the cell was interrupted (Kernel → Interrupt, or SIGINT)',
        traceback: [`${INTERRUPT_ENAME}: the cell was interrupted`],
      };
    }
    const { ename, evalue } = describe(e);
    const stack = e instanceof Error && typeof e.stack === 'string' ? e.stack.split('\n') : [];
    const frames = stack.filter((l) => /^\s*at /.test(l));
    const mapped: string[] = [];
    let lastCell = -1;
    let context: string[] = [];
    for (const f of frames) {
      const m = FRAME.exec(f);
      const cell = m ? this.cells.get(m[2]) : undefined;
      if (!m || !cell) {
        mapped.push(f);
        continue;
      }
      const pos = cell.position(Number(m[3]), Number(m[4]));
      if (!pos) {
        lastCell = mapped.length - 1; // the wrapper around the cell's code, not the cell's text
        continue;
      }
      mapped.push(`${m[1]}${m[2]}:${pos.line}:${pos.column}${m[5]}`);
      lastCell = mapped.length - 1;
      if (context.length === 0 && cell.lines[pos.line - 1] !== undefined) {
        context = ['', `${m[2]}, line ${pos.line}, column ${pos.column}:`, ...caret(cell.lines[pos.line - 1], pos.column)];
      }
    }
    // Frames below the outermost cell frame are the kernel's own (vm, executor, server).
    const shown = lastCell >= 0 ? mapped.slice(0, lastCell + 1) : mapped;
    return { status: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`, ...shown, ...context] };
  }
}
