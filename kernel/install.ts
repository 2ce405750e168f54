/**
 * Jupyter kernelspec writer for the flowlens kernel, with no Python involved: it writes
 * `<data dir>/kernels/flowlens/kernel.json` itself, where `<data dir>` follows jupyter_core's
 * rules (`jupyter --data-dir`), or `<prefix>/share/jupyter` for `--prefix` / `--sys-prefix`.
 *
 * Command line (after `npm run build`): `node dist/kernel/install.js [--user | --prefix DIR |
 * --sys-prefix] [--name NAME] [--display-name TEXT] [--no-widgets]`, or `npm run kernel:install`;
 * it also installs the widgets nbextension (see {@link runInstall}).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Contents of kernel.json (Jupyter kernelspec). */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'signal' | 'message';
  env?: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** Default kernel name (folder under `kernels/`). */
export const KERNEL_NAME = 'flowlens';
/** Default display name in Jupyter's kernel menu. */
export const DISPLAY_NAME = 'flowlens (TypeScript)';

/**
 * Node flags the kernel needs: `--experimental-require-module` lets tslab's CommonJS cells
 * `import` the project's ES modules (e.g. `../dist/widgets/...`); the flag's warning is silenced.
 */
export const KERNEL_NODE_FLAGS = ['--experimental-require-module', '--disable-warning=ExperimentalWarning'];

/**
 * The kernel's entry script: `dist/kernel/main.js` next to this module when it runs from `dist/`,
 * `kernel/main.ts` when it runs from sources (then started through tsx).
 */
export function kernelEntry(): { script: string; fromSources: boolean } {
  const here = fileURLToPath(import.meta.url);
  const fromSources = here.endsWith('.ts');
  return { script: path.join(path.dirname(here), fromSources ? 'main.ts' : 'main.js'), fromSources };
}

/** Options of {@link kernelSpec}. */
export interface KernelSpecOptions {
  /** Node executable (default: the one running now, `process.execPath`). */
  node?: string;
  /** Kernel entry script (default: {@link kernelEntry}). */
  script?: string;
  /** Start the entry through tsx (`--import <tsx loader URL>`); default: when the entry ends in `.ts`. */
  tsx?: boolean;
  /** Display name (default {@link DISPLAY_NAME}). */
  displayName?: string;
  /** Extra environment for the kernel process (`env` of kernel.json). */
  kernelEnv?: Record<string, string>;
}

/**
 * Builds kernel.json for the flowlens kernel: `[node, flags..., entry, --config-path, {connection_file}]`.
 * @throws Error when `script` is not an absolute path (Jupyter starts kernels in the notebook's folder).
 */
export function kernelSpec(opts: KernelSpecOptions = {}): KernelSpec {
  const script = opts.script ?? kernelEntry().script;
  if (!path.isAbsolute(script)) throw new Error(`kernelSpec: script must be an absolute path, got ${script}`);
  const tsx = opts.tsx ?? script.endsWith('.ts');
  const argv = [
    opts.node ?? process.execPath,
    ...KERNEL_NODE_FLAGS,
    ...(tsx ? ['--import', import.meta.resolve('tsx')] : []),
    script,
    '--config-path',
    '{connection_file}',
  ];
  const spec: KernelSpec = {
    argv,
    display_name: opts.displayName ?? DISPLAY_NAME,
    language: 'typescript',
    interrupt_mode: 'signal',
    metadata: { flowlens: { entry: script } },
  };
  if (opts.kernelEnv) spec.env = opts.kernelEnv;
  return spec;
}

/**
 * The user's Jupyter data directory, as `jupyter --data-dir` computes it (jupyter_core.paths):
 * `$JUPYTER_DATA_DIR`, else on Linux `$XDG_DATA_HOME/jupyter` or `~/.local/share/jupyter`,
 * on macOS `~/Library/Jupyter`, on Windows `%APPDATA%\jupyter`.
 * @param env environment (default `process.env`).
 * @param platform `process.platform` value.
 * @param home home directory.
 */
export function jupyterDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  if (platform === 'darwin') return path.join(home, 'Library', 'Jupyter');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'jupyter');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'jupyter');
}

/** Where to install: the user's data dir (default), a prefix, or the active Python environment. */
export interface InstallTarget {
  /** Install under `<prefix>/share/jupyter/kernels`. */
  prefix?: string;
  /** Install under the active virtualenv/conda env (`$VIRTUAL_ENV` or `$CONDA_PREFIX`). */
  sysPrefix?: boolean;
  /** Environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The `kernels/` folder for an install target.
 * @throws Error for `sysPrefix` with neither `VIRTUAL_ENV` nor `CONDA_PREFIX` set (there is no
 *   Python to ask for `sys.prefix`), or for both `prefix` and `sysPrefix`.
 */
export function kernelsDir(target: InstallTarget = {}): string {
  const env = target.env ?? process.env;
  if (target.prefix && target.sysPrefix) throw new Error('kernel install: give either --prefix or --sys-prefix, not both');
  if (target.prefix) return path.join(path.resolve(target.prefix), 'share', 'jupyter', 'kernels');
  if (target.sysPrefix) {
    const p = env.VIRTUAL_ENV || env.CONDA_PREFIX;
    if (!p) throw new Error('kernel install: --sys-prefix needs an active virtualenv or conda env (VIRTUAL_ENV/CONDA_PREFIX); use --prefix DIR instead');
    return path.join(p, 'share', 'jupyter', 'kernels');
  }
  return path.join(jupyterDataDir(env), 'kernels');
}

/** Options of {@link installKernelSpec}. */
export interface InstallOptions extends InstallTarget, KernelSpecOptions {
  /** Kernel name (folder), default {@link KERNEL_NAME}; letters, digits, `.`, `_`, `-`. */
  name?: string;
  /** Skip the widgets nbextension (command line `--no-widgets`); used by {@link runInstall}. */
  noWidgets?: boolean;
}

/**
 * Writes `<kernels dir>/<name>/kernel.json` (replacing an older one).
 * @returns the kernelspec folder and the spec written.
 * @throws Error for an invalid kernel name, or as {@link kernelsDir} and {@link kernelSpec}.
 */
export function installKernelSpec(opts: InstallOptions = {}): { dir: string; spec: KernelSpec } {
  const name = opts.name ?? KERNEL_NAME;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`kernel install: invalid kernel name ${JSON.stringify(name)} (letters, digits, . _ - only)`);
  const dir = path.join(kernelsDir(opts), name);
  const spec = kernelSpec(opts);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(spec, null, 2) + '\n');
  return { dir, spec };
}

/**
 * Parses the install command line (`--user`, `--prefix DIR`, `--sys-prefix`, `--name N`,
 * `--display-name TEXT`).
 * @throws Error for an unknown option or a missing value.
 */
export function parseInstallArgs(argv: string[]): InstallOptions {
  const opts: InstallOptions = {};
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new Error(`kernel install: ${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? (argv[i].split(/=(.*)/s, 2) as [string, string]) : [argv[i], undefined];
    const take = (): string => (inline !== undefined ? inline : value(++i, flag));
    switch (flag) {
      case '--user':
        break;
      case '--prefix':
        opts.prefix = take();
        break;
      case '--sys-prefix':
        opts.sysPrefix = true;
        break;
      case '--name':
        opts.name = take();
        break;
      case '--display-name':
        opts.displayName = take();
        break;
      case '--no-widgets':
        opts.noWidgets = true;
        break;
      default:
        throw new Error(
          `kernel install: unknown option ${argv[i]} (options: --user, --prefix DIR, --sys-prefix, --name NAME, --display-name TEXT, --no-widgets)`,
        );
    }
  }
  return opts;
}

/** What {@link runInstall} hands to its `after` step: the kernelspec folder and the parsed options. */
export interface InstalledKernel {
  dir: string;
  opts: InstallOptions;
}

/** Where Jupyter looks for data (kernelspecs, nbextensions) and for config files. */
export interface JupyterSearchPath {
  data: string[];
  config: string[];
  /** `jupyter --paths --json` when Jupyter answered, else the defaults of jupyter_core on this platform. */
  source: 'jupyter' | 'defaults';
}

/**
 * Jupyter's search path: what `jupyter --paths --json` prints when `jupyter` runs, else
 * jupyter_core's defaults without Python: `$JUPYTER_PATH`, the user data dir, `/usr/local/share/jupyter`,
 * `/usr/share/jupyter` (data); `$JUPYTER_CONFIG_PATH`, the user config dir, `/usr/local/etc/jupyter`,
 * `/etc/jupyter` (config). The Python environment's own `sys.prefix` folders are only in the first form.
 * @param env environment (default `process.env`); `FLOWLENS_JUPYTER` names the `jupyter` executable.
 */
export function jupyterSearchPath(env: NodeJS.ProcessEnv = process.env): JupyterSearchPath {
  const r = spawnSync(env.FLOWLENS_JUPYTER || 'jupyter', ['--paths', '--json'], { env, encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0) {
    try {
      const j = JSON.parse(r.stdout) as { data?: string[]; config?: string[] };
      if (Array.isArray(j.data) && Array.isArray(j.config)) return { data: j.data, config: j.config, source: 'jupyter' };
    } catch {
      /* fall through to the defaults */
    }
  }
  const split = (v: string | undefined) => (v ? v.split(path.delimiter).filter(Boolean) : []);
  const home = os.homedir();
  return {
    data: [...split(env.JUPYTER_PATH), jupyterDataDir(env), '/usr/local/share/jupyter', '/usr/share/jupyter'],
    config: [...split(env.JUPYTER_CONFIG_PATH), env.JUPYTER_CONFIG_DIR || path.join(home, '.jupyter'), '/usr/local/etc/jupyter', '/etc/jupyter'],
    source: 'defaults',
  };
}

/**
 * What to set so that Jupyter finds an install: for a data dir outside the data search path,
 * `JUPYTER_PATH`; for a config dir (the nbextension's enabling) outside the config search path,
 * `JUPYTER_CONFIG_PATH`; as shell lines that keep the variables' current values.
 * @param dataDir where the kernelspec (and nbextension) went: `<dir>` of `<dir>/kernels/<name>`.
 * @param configDir where the nbextension was enabled, or undefined without widgets.
 * @returns the lines to print; empty when Jupyter already looks there.
 */
export function searchPathHints(dataDir: string, configDir: string | undefined, search: JupyterSearchPath): string[] {
  const same = (a: string, b: string) => path.resolve(a) === path.resolve(b);
  const lines: string[] = [];
  const missing: string[] = [];
  if (!search.data.some((d) => same(d, dataDir))) {
    missing.push(path.resolve(dataDir));
    lines.push(`export JUPYTER_PATH=${shellQuote(path.resolve(dataDir))}\${JUPYTER_PATH:+:$JUPYTER_PATH}`);
  }
  if (configDir && !search.config.some((d) => same(d, configDir))) {
    missing.push(path.resolve(configDir));
    lines.push(`export JUPYTER_CONFIG_PATH=${shellQuote(path.resolve(configDir))}\${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}`);
  }
  if (lines.length === 0) return [];
  const where = search.source === 'jupyter' ? '`jupyter --paths`' : "jupyter_core's default search path";
  return [
    `Jupyter will not find this install: ${missing.join(' and ')} ${missing.length === 2 ? 'are' : 'is'} not on ${where}. Before starting Jupyter, set:`,
    ...lines.map((l) => `  ${l}`),
  ];
}

/** A path quoted for a POSIX shell when it needs quoting. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `kernel install` with command-line arguments: writes the kernelspec, then runs `after` (the
 * widgets' nbextension install of `widgets/install.ts`, given by `flowlens kernel install`) unless
 * `--no-widgets`. Prints what it wrote and, when Jupyter would not look there
 * ({@link jupyterSearchPath}), the `JUPYTER_PATH`/`JUPYTER_CONFIG_PATH` lines to set.
 * @returns the kernelspec folder.
 * @param after the widgets' install step; returns the config dir it enabled the nbextension in.
 * @throws Error as {@link parseInstallArgs}, {@link installKernelSpec} and `after`.
 */
export async function runInstall(argv: string[], after?: (k: InstalledKernel) => Promise<string | void>): Promise<string> {
  const opts = parseInstallArgs(argv);
  const { dir } = installKernelSpec(opts);
  console.log(`Installed the flowlens kernelspec in ${dir}`);
  const dataDir = path.dirname(path.dirname(dir)); // <data dir>/kernels/<name>
  const env = opts.env ?? process.env;
  let configDir: string | undefined;
  if (!opts.noWidgets && after) configDir = (await after({ dir, opts })) ?? undefined;
  for (const line of searchPathHints(dataDir, configDir, jupyterSearchPath(env))) console.log(line);
  return dir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runInstall(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
