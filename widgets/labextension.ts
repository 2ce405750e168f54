/**
 * Installs the prebuilt JupyterLab extension `flowlens-widgets` without Python and without a build:
 * copies the committed build (`widgets/lab/labextension/`: `package.json` with `jupyterlab._build`,
 * `static/remoteEntry.*.js`, `install.json`) into `<data dir>/labextensions/flowlens-widgets/`, where
 * JupyterLab 3 and 4 find prebuilt extensions (as `pip install` of an extension places them), and
 * copies plotly.js (`plotly.js-dist-min`, a dependency) into its `static/` folder for the plotly views.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { labextensionDir } from './build.js';
import { LAB_PLOTLY_FILE } from './constants.js';

/** Name of the prebuilt extension (its folder under `labextensions/`). */
export const LABEXTENSION_NAME = 'flowlens-widgets';

/**
 * The committed prebuilt extension's `package.json`, checked.
 * @param dir the prebuilt extension's folder (default: the committed one).
 * @returns its `jupyterlab._build.load` path (the remoteEntry script, relative to `dir`).
 * @throws Error when the folder, its package.json, `_build.load` or the file it names is missing.
 */
export function checkLabextension(dir: string = labextensionDir()): string {
  const pkgFile = path.join(dir, 'package.json');
  if (!existsSync(pkgFile)) throw new Error(`flowlens labextension: no prebuilt extension at ${dir} (build it with npm run labextension:build)`);
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name?: string; jupyterlab?: { _build?: { load?: string } } };
  const load = pkg.jupyterlab?._build?.load;
  if (pkg.name !== LABEXTENSION_NAME || !load)
    throw new Error(`flowlens labextension: ${pkgFile} is not the built ${LABEXTENSION_NAME} extension (no jupyterlab._build.load)`);
  if (!existsSync(path.join(dir, load))) throw new Error(`flowlens labextension: ${path.join(dir, load)} (jupyterlab._build.load) is missing`);
  return load;
}

/**
 * Copies the prebuilt extension into `<dataDir>/labextensions/flowlens-widgets/`, replacing an
 * older install (written next to it first, then renamed, so a failed copy leaves the old one).
 * @param dataDir a Jupyter data dir (`<prefix>/share/jupyter`, `jupyter --data-dir`).
 * @param source the prebuilt extension (default: the committed one).
 * @returns the installed folder.
 * @throws Error as {@link checkLabextension}, or when plotly.js-dist-min is not installed.
 */
export function installLabextension(dataDir: string, source: string = labextensionDir()): string {
  checkLabextension(source);
  const plotly = createRequire(import.meta.url).resolve('plotly.js-dist-min');
  const dest = path.join(dataDir, 'labextensions', LABEXTENSION_NAME);
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(path.dirname(dest), { recursive: true });
  try {
    cpSync(source, tmp, { recursive: true });
    copyFileSync(plotly, path.join(tmp, 'static', LAB_PLOTLY_FILE));
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dest;
}
