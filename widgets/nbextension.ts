/**
 * Installs the flowlens-widgets nbextension for the classic Notebook without Python: builds the
 * bundle into `<data dir>/nbextensions/flowlens-widgets/extension.js` and enables it in
 * `<config dir>/nbconfig/notebook.json` (`load_extensions["flowlens-widgets/extension"] = true`),
 * which is what `jupyter nbextension install/enable --user` would write.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildNbextension } from './build.js';

/** Require path of the extension, as Notebook's `load_extensions` names it. */
export const NBEXTENSION_REQUIRE = 'flowlens-widgets/extension';

/**
 * The user's Jupyter config directory (`jupyter --config-dir`): `$JUPYTER_CONFIG_DIR` or `~/.jupyter`.
 * @param env environment (default `process.env`).
 * @param home home directory.
 */
export function jupyterConfigDir(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  return env.JUPYTER_CONFIG_DIR || path.join(home, '.jupyter');
}

/**
 * Adds `load_extensions[NBEXTENSION_REQUIRE] = true` to `<configDir>/nbconfig/notebook.json`,
 * keeping the file's other settings.
 * @returns the config file's path.
 * @throws Error when the existing file is not a JSON object.
 */
export function enableNbextension(configDir: string): string {
  const file = path.join(configDir, 'nbconfig', 'notebook.json');
  let cfg: Record<string, unknown> = {};
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (text) {
      const parsed = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`enableNbextension: ${file} is not a JSON object`);
      cfg = parsed;
    }
  }
  const load = (cfg.load_extensions && typeof cfg.load_extensions === 'object' ? cfg.load_extensions : {}) as Record<string, boolean>;
  cfg.load_extensions = { ...load, [NBEXTENSION_REQUIRE]: true };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
  return file;
}

/**
 * Builds and installs the nbextension, then enables it.
 * @param dataDir Jupyter data dir (the bundle goes to `nbextensions/flowlens-widgets/`).
 * @param configDir Jupyter config dir (for `nbconfig/notebook.json`).
 * @returns the bundle and config file paths.
 * @throws Error as {@link buildNbextension} and {@link enableNbextension}.
 */
export async function installNbextension(dataDir: string, configDir: string): Promise<{ bundle: string; config: string }> {
  const bundle = await buildNbextension(path.join(dataDir, 'nbextensions', 'flowlens-widgets'));
  return { bundle, config: enableNbextension(configDir) };
}
