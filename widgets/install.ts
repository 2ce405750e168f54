/**
 * The widgets' part of `flowlens kernel install`: builds the flowlens-widgets nbextension into the
 * Jupyter data dir the kernelspec went to and enables it (the user's config dir, or `<prefix>/etc/jupyter`).
 *
 * @module
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InstalledKernel } from '../kernel/install.js';
import { repoRoot } from './build.js';
import { enableNbextension, installNbextension, jupyterConfigDir } from './nbextension.js';
import { installLabextension } from './labextension.js';

/**
 * An installed package has no front-end sources (and no esbuild): it ships the bundle built at pack
 * time (`dist/nbextension/flowlens-widgets/extension.js`), copied here with plotly.js from its dependency.
 * @returns the bundle's path, or null when this is a checkout with sources (then the bundle is built).
 */
function copyPrebuilt(target: string): string | null {
  const root = repoRoot();
  const prebuilt = path.join(root, 'dist', 'nbextension', 'flowlens-widgets', 'extension.js');
  if (existsSync(path.join(root, 'widgets', 'frontend', 'extension.ts')) || !existsSync(prebuilt)) return null;
  mkdirSync(target, { recursive: true });
  copyFileSync(prebuilt, path.join(target, 'extension.js'));
  copyFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), path.join(target, 'plotly.min.js'));
  return path.join(target, 'extension.js');
}

/**
 * Installs and enables the classic Notebook's nbextension next to an installed kernelspec, and copies the
 * prebuilt JupyterLab extension into `<data dir>/labextensions/flowlens-widgets/` (the `after` step of `runInstall`).
 * @returns the config dir the nbextension was enabled in.
 * @throws Error when the bundle cannot be built or the config not written.
 */
export async function installWidgetsFor({ dir, opts }: InstalledKernel): Promise<string> {
  const dataDir = path.dirname(path.dirname(dir)); // <data dir>/kernels/<name>
  const env = opts.env ?? process.env;
  const configDir = opts.prefix ? path.join(path.resolve(opts.prefix), 'etc', 'jupyter') : jupyterConfigDir(env);
  const copied = copyPrebuilt(path.join(dataDir, 'nbextensions', 'flowlens-widgets'));
  const { bundle, config } = copied ? { bundle: copied, config: enableNbextension(configDir) } : await installNbextension(dataDir, configDir);
  console.log(`Installed the flowlens-widgets nbextension in ${path.dirname(bundle)} and enabled it in ${config}`);
  console.log(`Installed the flowlens-widgets JupyterLab extension (prebuilt) in ${installLabextension(dataDir)}`);
  return configDir;
}
