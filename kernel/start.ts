/**
 * Starts tslab's TypeScript kernel with flowlens comm support (see `kernel/server.ts`).
 *
 * This re-does tslab 1.0.22's `startKernel` (tslab/dist/main.js) with three changes:
 * - `ZmqServer.prototype.handleShellMessage` is wrapped by {@link installCommSupport};
 * - the process-wide {@link CommManager} is created and set as `globalThis.flowlensComm`;
 * - the cell converter puts the text of `kernel/cell-globals.d.ts` in front of tslab's running
 *   declarations, so cells type-check against `flowlensComm` ({@link withCellGlobals}).
 * tslab's search for a locally installed copy of itself is skipped: this kernel always uses the
 * project's own tslab.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommManager, setCommManager } from './comm.js';
import { installCommSupport, KernelPublisher, type TslabZmqServer } from './server.js';
import { installFlowlensResolution } from './resolve.js';

const require = createRequire(import.meta.url);

/** tslab's converter (tslab/dist/converter.js), as far as the kernel uses it. */
interface TslabConverter {
  close(): void;
  convert(prevDecl: string, src: string): unknown;
  inspect(prevDecl: string, src: string, position: number): unknown;
  complete(prevDecl: string, src: string, position: number): unknown;
  addModule(...args: unknown[]): unknown;
}

/** Folder of the installed tslab package. */
function tslabDir(): string {
  return path.dirname(require.resolve('tslab/package.json'));
}

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
  server: TslabZmqServer & { close(): void };
}

/**
 * Starts the kernel: binds the sockets named in the connection file and serves until shutdown.
 * @throws Error when `configPath` is empty or missing, or tslab's internals are not as expected.
 */
export async function startKernel(opts: StartOptions): Promise<RunningKernel> {
  if (!opts.configPath) throw new Error('flowlens kernel: --config-path <connection file> is required');
  if (!existsSync(opts.configPath)) throw new Error(`flowlens kernel: connection file ${opts.configPath} does not exist`);
  const dir = tslabDir();
  installFlowlensResolution(createRequire(path.join(dir, 'package.json'))('@tslab/typescript-for-tslab'));
  const { createConverter } = require(path.join(dir, 'dist', 'converter.js'));
  const { createExecutor } = require(path.join(dir, 'dist', 'executor.js'));
  const { ZmqServer, JupyterHandlerImpl } = require(path.join(dir, 'dist', 'jupyter.js'));

  const publisher = new KernelPublisher();
  const manager = new CommManager(publisher);
  setCommManager(manager);
  installCommSupport(ZmqServer.prototype, manager, publisher);

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
  const executor = createExecutor(process.cwd(), convs, { log: console.log, error: console.error });
  // tslab compiles names declared in its running declarations to `exports.<name>` (they are
  // earlier cells' variables), so the API must also live in tslab's cell exports object.
  executor.locals.flowlensComm = manager;
  const server = new ZmqServer(new JupyterHandlerImpl(executor, false), opts.configPath);
  process.on('SIGINT', () => executor.interrupt());
  process.on('uncaughtException', (err) => console.error('UncaughtException:', err));
  process.on('unhandledRejection', (reason) => console.error('UnhandledPromiseRejection:', reason));
  await server.init();
  return { manager, publisher, server };
}
