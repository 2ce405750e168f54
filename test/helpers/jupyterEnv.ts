/** A temporary Jupyter setup for tests that start the kernel through Jupyter. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installKernelSpec } from '../../kernel/install.js';

/**
 * Installs the flowlens kernelspec into a fresh temporary data dir.
 * @param prefix name prefix of the temporary folder.
 * @returns the folder, the kernelspec folder, an environment whose JUPYTER_* variables point into
 *   it (the rest of `process.env` kept), and a function removing it all.
 */
export function tempJupyter(prefix: string): { tmp: string; kernelDir: string; env: NodeJS.ProcessEnv; remove(): void } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  const data = path.join(tmp, 'data');
  const { dir } = installKernelSpec({ env: { JUPYTER_DATA_DIR: data } });
  const env = {
    ...process.env,
    JUPYTER_PATH: data,
    JUPYTER_DATA_DIR: data,
    JUPYTER_RUNTIME_DIR: path.join(tmp, 'runtime'),
    JUPYTER_CONFIG_DIR: path.join(tmp, 'config'),
  };
  return { tmp, kernelDir: dir, env, remove: () => rmSync(tmp, { recursive: true, force: true }) };
}
