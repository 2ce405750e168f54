/**
 * Where flowlens's own files are: the package root (it holds `package.json` and the embedded models'
 * `models/` folder), from a checkout (`src/` under tsx, `dist/src/` after the build) and from an
 * installed package (`node_modules/flowlens/dist/src/`) alike.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest folder at or above `start` that holds a `package.json`.
 * @returns an absolute path, or undefined at the file-system root.
 */
export function walkUpToPackageJson(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * The flowlens package root: the nearest folder holding a `package.json` above this module (the
 * checkout, or `node_modules/flowlens` when installed). The embedded models are `models/` there.
 *
 * @returns an absolute path.
 * @throws Error when no `package.json` is found above the module (a broken install).
 */
export function projectRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = walkUpToPackageJson(here);
  if (!root) throw new Error(`flowlens: no package.json above ${here} (a broken install?)`);
  return root;
}
