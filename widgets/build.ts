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
 * Command line: `node dist/widgets/build.js [outDir]` (default `dist/nbextension/flowlens-widgets`);
 * `node dist/widgets/build.js --lab` builds the prebuilt JupyterLab extension ({@link buildLabextension}).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Source package of the prebuilt JupyterLab extension (`package.json` with the `jupyterlab` key). */
export function labSourceDir(): string {
  return path.join(repoRoot(), 'widgets', 'lab');
}

/** The committed prebuilt extension (`package.json`, `static/remoteEntry.*.js`, `install.json`). */
export function labextensionDir(): string {
  return path.join(labSourceDir(), 'labextension');
}

/** The JupyterLab application whose `@jupyterlab/builder` and core package list build the extension. */
export function labBuilderApp(): string {
  return path.join(repoRoot(), 'test', 'lab-app', 'lab4');
}

/** Build record written next to the prebuilt extension: what it was built from. */
export interface LabBuildInfo {
  /** sha256 of the bundled plugin module (`lib/index.js`) and the source `package.json`. */
  sourceSha256: string;
  /** `@jupyterlab/builder` version used. */
  builder: string;
}

/**
 * Bundles `widgets/lab/plugin.ts` (with the front-end classes) into one ES module, with
 * `@jupyter-widgets/base` left as an import (a shared module JupyterLab provides).
 * @returns the module's text (what `lib/index.js` holds).
 * @throws Error when esbuild (a devDependency) is missing or the bundle fails.
 */
export async function bundleLabPlugin(): Promise<string> {
  const esbuild = await import('esbuild').catch((e: Error) => {
    throw new Error(`bundleLabPlugin: esbuild is not installed (npm install --include=dev): ${e.message}`);
  });
  const r = await esbuild.build({
    entryPoints: [path.join(labSourceDir(), 'plugin.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2019',
    legalComments: 'none',
    external: ['@jupyter-widgets/base'],
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'error',
  });
  return r.outputFiles[0].text;
}

/** sha256 over the bundled plugin module and the source package.json (see {@link LabBuildInfo}). */
export function labSourceHash(bundle: string): string {
  return createHash('sha256')
    .update(bundle)
    .update(readFileSync(path.join(labSourceDir(), 'package.json')))
    .digest('hex');
}

/**
 * Builds the prebuilt (federated) JupyterLab extension, as extension authors do: the plugin bundle
 * goes to `widgets/lab/lib/index.js`, then `@jupyterlab/builder`'s `build-labextension` (from the
 * JupyterLab 4 app in `test/lab-app/lab4`, `--core-path` that app) writes `widgets/lab/labextension/`
 * (`package.json` with `jupyterlab._build`, `static/remoteEntry.<hash>.js` and chunks,
 * third-party licenses); then `install.json` and `build.json` ({@link LabBuildInfo}) are added.
 * plotly.js is not part of it (see `widgets/lab/plugin.ts`).
 * @returns the output folder.
 * @throws Error when the builder is not installed (`npm ci --prefix test/lab-app/lab4`) or fails.
 */
export async function buildLabextension(): Promise<string> {
  const app = labBuilderApp();
  const cli = path.join(app, 'node_modules', '@jupyterlab', 'builder', 'lib', 'build-labextension.js');
  if (!existsSync(cli))
    throw new Error(`buildLabextension: @jupyterlab/builder is not installed; run: npm ci --prefix ${path.relative(process.cwd(), app) || '.'}`);
  const bundle = await bundleLabPlugin();
  mkdirSync(path.join(labSourceDir(), 'lib'), { recursive: true });
  writeFileSync(path.join(labSourceDir(), 'lib', 'index.js'), bundle);
  const r = spawnSync(process.execPath, [cli, '--core-path', app, labSourceDir()], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`buildLabextension: build-labextension failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  const out = labextensionDir();
  const builder = JSON.parse(readFileSync(path.join(app, 'node_modules', '@jupyterlab', 'builder', 'package.json'), 'utf8')).version as string;
  const info: LabBuildInfo = { sourceSha256: labSourceHash(bundle), builder };
  writeFileSync(path.join(out, 'build.json'), JSON.stringify(info, null, 2) + '\n');
  writeFileSync(
    path.join(out, 'install.json'),
    JSON.stringify(
      {
        packageManager: 'npm',
        packageName: 'flowlens',
        uninstallInstructions: 'Remove the flowlens-widgets folder from share/jupyter/labextensions (where `flowlens kernel install` put it)',
      },
      null,
      2,
    ) + '\n',
  );
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--lab') {
    buildLabextension().then(
      (f) => console.log(`Built the prebuilt JupyterLab extension in ${f}`),
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
