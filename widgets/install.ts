/**
 * The widgets' part of `flowlens kernel install`: builds the flowlens-widgets nbextension into the
 * Jupyter data dir the kernelspec went to and enables it (the user's config dir, or `<prefix>/etc/jupyter`).
 *
 * @module
 */
import path from 'node:path';
import type { InstalledKernel } from '../kernel/install.js';
import { installNbextension, jupyterConfigDir } from './nbextension.js';

/**
 * Installs and enables the nbextension next to an installed kernelspec (the `after` step of `runInstall`).
 * @throws Error when the bundle cannot be built or the config not written.
 */
export async function installWidgetsFor({ dir, opts }: InstalledKernel): Promise<void> {
  const dataDir = path.dirname(path.dirname(dir)); // <data dir>/kernels/<name>
  const env = opts.env ?? process.env;
  const configDir = opts.prefix ? path.join(path.resolve(opts.prefix), 'etc', 'jupyter') : jupyterConfigDir(env);
  const { bundle, config } = await installNbextension(dataDir, configDir);
  console.log(`Installed the flowlens-widgets nbextension in ${path.dirname(bundle)} and enabled it in ${config}`);
}
