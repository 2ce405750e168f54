/**
 * Starts the flowlens kernel: tslab's TypeScript converter (with source maps,
 * `kernel/converter.ts`), our cell executor (`kernel/executor.ts`) and Jupyter server
 * (`kernel/server.ts`), the process-wide {@link CommManager} as `globalThis.flowlensComm`, and
 * the cell converter putting the text of `kernel/cell-globals.d.ts` in front of tslab's running
 * declarations, so cells type-check against `flowlensComm` ({@link withCellGlobals}).
 * The kernel always uses the project's own tslab (1.0.22).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommManager, setCommManager } from './comm.js';
import { loadConverterModule, tslabDir, type Converter } from './converter.js';
import { Executor } from './executor.js';
import { KernelPublisher, KernelServer, kernelLog, rawStderr, type ConnectionInfo, type KernelInfo } from './server.js';
import { recoverTfjsEngine } from './tfjsRecover.js';
import { ensureControlTarget } from '../widgets/protocol.js';
import '../widgets/display.js'; // registers the widgets' formatters (TokenAttribution, arquero tables) for bundleOf
import { installFlowlensResolution } from './resolve.js';

const require = createRequire(import.meta.url);

type TslabConverter = Converter;

/**
 * Absolute path of `kernel/cell-globals.d.ts` (the cells' global declarations), looked up next to
 * this module (run from sources) and in `../../kernel/` (run from `dist/kernel/`).
 * @throws Error when neither exists.
 */
export function cellGlobalsPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, 'cell-globals.d.ts'), path.join(here, '..', '..', 'kernel', 'cell-globals.d.ts')]) {
    if (existsSync(p)) return p;
  }
  throw new Error(`flowlens kernel: cell-globals.d.ts not found next to ${here} or in ../../kernel`);
}

/** Text whose presence in tslab's running declarations shows the cell globals are in. */
const GLOBALS_MARK = 'declare var flowlensComm:';

/**
 * Wraps a tslab converter so every conversion sees the cells' global declarations.
 *
 * tslab keeps the declarations of earlier cells as a string (`prevDecl`, a global script) and
 * carries every statement forward that a later cell does not redeclare. The wrapper puts the text
 * of `cell-globals.d.ts` in front of that string whenever it is missing (first cell, or after a
 * cell redeclared `flowlensComm`); a `/// <reference path>` would not do, since tslab's watch
 * program does not load files referenced from its declaration file.
 * @param conv a converter from tslab's `createConverter`.
 * @param declText the text of `cell-globals.d.ts`; must contain `declare var flowlensComm:`.
 * @throws Error when `declText` lacks that declaration.
 */
export function withCellGlobals<C extends TslabConverter>(conv: C, declText: string): C {
  if (!declText.includes(GLOBALS_MARK)) throw new Error(`withCellGlobals: declarations lack "${GLOBALS_MARK}"`);
  const withGlobals = (prev: string): string => (prev.includes(GLOBALS_MARK) ? prev : declText + '\n' + prev);
  return {
    ...conv,
    convert: (prev: string, src: string) => conv.convert(withGlobals(prev), src),
    inspect: (prev: string, src: string, pos: number) => conv.inspect(withGlobals(prev), src, pos),
    complete: (prev: string, src: string, pos: number) => conv.complete(withGlobals(prev), src, pos),
  };
}

/** Options of {@link startKernel}. */
export interface StartOptions {
  /** Path of the Jupyter connection file (`{connection_file}` in kernel.json). */
  configPath: string;
}

/** The running kernel's parts, for tests and embedding. */
export interface RunningKernel {
  manager: CommManager;
  publisher: KernelPublisher;
  executor: Executor;
  server: KernelServer;
}

/** The flowlens package version (its package.json, two folders up from `dist/kernel/` or one from `kernel/`). */
export function flowlensVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, '..', 'package.json'), path.join(here, '..', '..', 'package.json')]) {
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'flowlens' && pkg.version) return pkg.version;
    }
  }
  return 'unknown';
}

/** The static part of `kernel_info_reply`: language TypeScript at the version of tslab's compiler. */
export function kernelInfo(typescriptVersion: string): KernelInfo {
  const tslabVersion = (require(path.join(tslabDir(), 'package.json')) as { version: string }).version;
  const version = flowlensVersion();
  return {
    implementation: 'flowlens',
    implementation_version: version,
    language_info: {
      name: 'typescript',
      version: typescriptVersion,
      mimetype: 'text/typescript',
      file_extension: '.ts',
      pygments_lexer: 'typescript',
      // As tslab: CodeMirror's TypeScript mode in Notebook 6 and JupyterLab.
      codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
    },
    banner: `flowlens ${version}: TypeScript ${typescriptVersion} (tslab ${tslabVersion}) on Node.js ${process.version}`,
    help_links: [],
  };
}

/**
 * `is_complete` status of a cell: tslab's check (`incomplete` with an indent when the parser
 * expects more at the end), and `invalid` when the text has a syntax error elsewhere.
 */
export function isCompleteStatus(
  code: string,
  tslabIsComplete: (code: string) => { completed: boolean; indent?: string },
  ts: {
    createSourceFile(name: string, text: string, target: number, setParents?: boolean, kind?: number): unknown;
    ScriptTarget: { Latest: number };
    ScriptKind: { TS: number };
  },
): { status: 'complete' | 'incomplete' | 'invalid'; indent?: string } {
  const r = tslabIsComplete(code);
  if (!r.completed) return { status: 'incomplete', indent: r.indent ?? '' };
  const sf = ts.createSourceFile('cell.ts', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS) as { parseDiagnostics?: { code: number }[] };
  const diags = sf.parseDiagnostics ?? [];
  if (diags.length === 0) return { status: 'complete' };
  // TS1160 "Unterminated template literal": a template string may go on over more lines.
  return diags.some((d) => d.code === 1160) ? { status: 'incomplete', indent: '' } : { status: 'invalid' };
}

/** Sends `process.stdout`/`process.stderr` writes to iopub `stream` messages (to the current cell). */
function captureStreams(publisher: KernelPublisher): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error | null) => void), cb?: (e?: Error | null) => void): boolean => {
      const done = typeof encoding === 'function' ? encoding : cb;
      if (!publisher.attached) return original(chunk as string, encoding as BufferEncoding, cb);
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      try {
        publisher.publish('stream', { name, text }, {}, []);
      } catch (e) {
        rawStderr(`flowlens kernel: cannot publish ${name}: ${e}\n`);
      }
      done?.();
      return true;
    }) as typeof stream.write;
  }
}

/**
 * Starts the kernel: binds the sockets named in the connection file and serves until shutdown.
 * @throws Error when `configPath` is empty or missing, or tslab's internals are not as expected.
 */
export async function startKernel(opts: StartOptions): Promise<RunningKernel> {
  if (!opts.configPath) throw new Error('flowlens kernel: --config-path <connection file> is required');
  if (!existsSync(opts.configPath)) throw new Error(`flowlens kernel: connection file ${opts.configPath} does not exist`);
  const conn = JSON.parse(readFileSync(opts.configPath, 'utf8')) as ConnectionInfo;
  const { createConverter, isCompleteCode } = loadConverterModule();
  const ts = require(require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDir()] }));
  installFlowlensResolution(ts); // cells resolve 'flowlens' from any folder
  const { printQuickInfo } = require(path.join(tslabDir(), 'dist', 'inspect.js')) as { printQuickInfo(info: unknown): string };

  const publisher = new KernelPublisher();
  const manager = new CommManager(publisher);
  setCommManager(manager);
  // Answer `request_states` from the first front-end connection on, even before any widget exists
  // (otherwise the front end's control comm is closed and it falls back to slower requests).
  ensureControlTarget(manager);

  const declText = readFileSync(cellGlobalsPath(), 'utf8');
  let node: TslabConverter | undefined;
  let browser: TslabConverter | undefined;
  const convs = {
    get node(): TslabConverter {
      return (node ??= withCellGlobals(createConverter({ isJS: false, isBrowser: false }), declText));
    },
    get browser(): TslabConverter {
      return (browser ??= withCellGlobals(createConverter({ isJS: false, isBrowser: true }), declText));
    },
    close(): void {
      node?.close();
      browser?.close();
    },
  };
  void convs.node; // warm the Node converter, as tslab does
  const executor = new Executor(process.cwd(), convs, () => {
    const what = recoverTfjsEngine();
    if (what) kernelLog('after interrupt:', what);
  });
  // tslab compiles names declared in its running declarations to `exports.<name>` (they are
  // earlier cells' variables), so the API must also live in the cells' exports object.
  executor.locals.flowlensComm = manager;
  // tslab's own display API (`import * as tslab from 'tslab'; tslab.display.html(...)`).
  (require(path.join(tslabDir(), 'dist', 'jupyter.js')) as { lastWriteDisplayData: unknown }).lastWriteDisplayData = (data: unknown, update: boolean) =>
    publisher.publish(update ? 'update_display_data' : 'display_data', data, {}, []);

  const server = new KernelServer(
    conn,
    executor,
    manager,
    publisher,
    kernelInfo(ts.version),
    (code) => isCompleteStatus(code, isCompleteCode, ts),
    printQuickInfo,
  );
  captureStreams(publisher);
  process.on('SIGINT', () => executor.interrupt());
  process.on('uncaughtException', (err) => console.error('Uncaught exception:', err));
  process.on('unhandledRejection', (reason) => console.error('Unhandled promise rejection:', reason));
  await server.start();
  return { manager, publisher, executor, server };
}
