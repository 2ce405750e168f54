/**
 * `import … from 'flowlens'` in a kernel cell, from any folder: a notebook copied out of the
 * repository (no `node_modules/flowlens` above it) still finds the flowlens this kernel belongs to.
 *
 * - Run time: tslab runs cells as CommonJS through `require`; `Module._resolveFilename` is wrapped
 *   so that `flowlens` and `flowlens/<subpath>` resolve through this package's own `exports` (a
 *   package can always import itself by name).
 * - Type checking: tslab's TypeScript (Node10 resolution: `node_modules` folders, `types`,
 *   `typesVersions`) reads files through `ts.sys`; its file functions are wrapped so that a path
 *   `<any folder>/node_modules/flowlens/<rest>` that does not exist reads `<package root>/<rest>`.
 *   A real `node_modules/flowlens` (an installed copy) is left alone.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The flowlens package root (its `package.json`), from sources (`kernel/`) or the build (`dist/kernel/`). */
export function flowlensRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`flowlens kernel: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const MARK = `${path.sep}node_modules${path.sep}flowlens`;

/**
 * Where a path under some `node_modules/flowlens` really is: unchanged when it exists or is not
 * such a path, else the same file under `root`.
 */
export function forwardFlowlensPath(p: string, root: string, exists: (p: string) => boolean): string {
  const i = p.lastIndexOf(MARK);
  if (i < 0) return p;
  const rest = p.slice(i + MARK.length);
  if (rest !== '' && !rest.startsWith(path.sep)) return p; // e.g. node_modules/flowlens-other
  if (exists(p)) return p;
  return path.join(root, rest);
}

interface TsSys {
  readFile(p: string, encoding?: string): string | undefined;
  fileExists(p: string): boolean;
  directoryExists(p: string): boolean;
  realpath?(p: string): string;
  readDirectory(p: string, ...rest: unknown[]): string[];
}

let installed = false;

/**
 * Makes `flowlens` resolvable from kernel cells in any folder (see the module comment).
 * @param ts the TypeScript module tslab compiles with (`@tslab/typescript-for-tslab`).
 * @param root the flowlens package root (default {@link flowlensRoot}).
 */
export function installFlowlensResolution(ts: { sys: TsSys }, root: string = flowlensRoot()): void {
  if (installed) return;
  installed = true;
  const sys = ts.sys;
  const { readFile, fileExists, directoryExists, readDirectory, realpath } = sys;
  const fwd = (p: string, isDir = false): string =>
    forwardFlowlensPath(p, root, (q) => (isDir ? directoryExists.call(sys, q) : fileExists.call(sys, q) || directoryExists.call(sys, q)));
  sys.readFile = (p, encoding) => readFile.call(sys, fwd(p), encoding);
  sys.fileExists = (p) => fileExists.call(sys, fwd(p));
  sys.directoryExists = (p) => directoryExists.call(sys, fwd(p, true));
  sys.readDirectory = (p, ...rest) => readDirectory.call(sys, fwd(p, true), ...rest);
  if (realpath) sys.realpath = (p) => realpath.call(sys, fwd(p));

  const self = createRequire(path.join(root, 'package.json'));
  const M = Module as unknown as { _resolveFilename: (request: string, parent: unknown, ...rest: unknown[]) => string };
  const resolve = M._resolveFilename;
  M._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]): string {
    try {
      return resolve.call(this, request, parent, ...rest);
    } catch (e) {
      if (request === 'flowlens' || request.startsWith('flowlens/')) return self.resolve(request);
      throw e;
    }
  };
}
