/**
 * Bundles the front-end widget manager (`widgets/frontend/extension.ts`, with
 * @jupyter-widgets/base and base-manager) into one AMD module for the classic Notebook:
 * `<outDir>/extension.js`, loaded by Notebook as `nbextensions/flowlens-widgets/extension`.
 *
 * The bundle is an esbuild IIFE wrapped in `define([...Notebook modules], ...)`. Inside it the
 * free name `define` is replaced by `undefined`, so that bundled UMD libraries (backbone, jquery,
 * lodash) take their CommonJS path instead of calling Notebook's RequireJS `define` anonymously.
 *
 * plotly.js (`plotly.js-dist-min`) is copied next to it as `plotly.min.js`, an AMD module the
 * plotly views load on first use.
 *
 * Command line: `node dist/widgets/build.js [outDir]` (default `dist/nbextension/flowlens-widgets`).
 */
import { copyFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, from sources (`widgets/`) or from the build (`dist/widgets/`). */
export function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');
}

/** Default output folder of the nbextension. */
export function defaultNbextensionDir(): string {
  return path.join(repoRoot(), 'dist', 'nbextension', 'flowlens-widgets');
}

/** Notebook 6 RequireJS modules the extension receives, in order. */
export const NOTEBOOK_AMD_DEPS = ['base/js/namespace', 'notebook/js/outputarea', 'services/kernels/comm'];

/**
 * Builds the nbextension bundle.
 * @param outDir output folder (created); the bundle is `extension.js` in it.
 * @param opts `minify` (default true).
 * @returns the bundle's path.
 * @throws Error when esbuild (a devDependency) is missing or the bundle fails to build.
 */
export async function buildNbextension(outDir: string = defaultNbextensionDir(), opts: { minify?: boolean } = {}): Promise<string> {
  const entry = path.join(repoRoot(), 'widgets', 'frontend', 'extension.ts');
  if (!existsSync(entry)) throw new Error(`buildNbextension: entry ${entry} not found`);
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new Error(`buildNbextension: esbuild is not installed (npm install --include=dev): ${(e as Error).message}`);
  }
  const outfile = path.join(outDir, 'extension.js');
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName: 'flowlensWidgetsBundle',
    platform: 'browser',
    target: 'es2019',
    minify: opts.minify ?? true,
    legalComments: 'none',
    define: { define: 'undefined', 'process.env.NODE_ENV': '"production"' },
    banner: { js: `define(${JSON.stringify(NOTEBOOK_AMD_DEPS)}, function (Jupyter, outputarea, comm) {` },
    footer: {
      js: 'var ext = flowlensWidgetsBundle.createExtension(Jupyter, outputarea, comm);\nif (typeof window !== "undefined") window.flowlensWidgets = ext;\nreturn ext;\n});',
    },
    outfile,
    logLevel: 'error',
  });
  // plotly.js for the plotly views, loaded on demand through RequireJS (widgets/frontend/common.ts).
  copyFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), path.join(outDir, 'plotly.min.js'));
  return outfile;
}

/**
 * Builds the JupyterLab plugin (`widgets/lab/plugin.ts`) as an ES module `<outDir>/index.js`, with
 * the packages JupyterLab provides (`@jupyter-widgets/base`, `@lumino/*`, `@jupyterlab/*`) external
 * and plotly.js in a lazily imported chunk. Not a prebuilt module-federation extension (that needs
 * `@jupyterlab/builder`); not tested here (no JupyterLab).
 * @returns the module's path.
 * @throws Error when esbuild is missing or the build fails.
 */
export async function buildLabPlugin(outDir: string = path.join(repoRoot(), 'dist', 'labextension', 'flowlens-widgets')): Promise<string> {
  const esbuild = await import('esbuild').catch((e: Error) => {
    throw new Error(`buildLabPlugin: esbuild is not installed (npm install --include=dev): ${e.message}`);
  });
  await esbuild.build({
    entryPoints: { index: path.join(repoRoot(), 'widgets', 'lab', 'plugin.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2019',
    minify: true,
    legalComments: 'none',
    external: ['@jupyter-widgets/base', '@lumino/*', '@jupyterlab/*'],
    define: { 'process.env.NODE_ENV': '"production"' },
    outdir: outDir,
    logLevel: 'error',
  });
  return path.join(outDir, 'index.js');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--lab') {
    buildLabPlugin(process.argv[3]).then(
      (f) => console.log(`Built ${f} (JupyterLab plugin module; not a prebuilt extension, not tested)`),
      (e) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
      },
    );
  } else
    buildNbextension(process.argv[2]).then(
      (f) => console.log(`Built ${f}`),
      (e) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
      },
    );
}
