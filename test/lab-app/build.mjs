#!/usr/bin/env node
/**
 * Builds (or finds in the cache) the JupyterLab application of flowlens' Lab browser test.
 *
 *   node test/lab-app/build.mjs [4] [3]      (default: 4)
 *   node test/lab-app/build.mjs --install-only 4   (npm ci when needed, no app build: for the
 *                                                  labextension build, which uses lab4's builder)
 *
 * For each JupyterLab major version N it installs `test/lab-app/labN/` from its own committed
 * package-lock.json (`npm ci`, only when node_modules does not match the lock) and builds the core
 * application with webpack (`webpack.config.cjs`) into `.cache/lab-app/labN-<key>/` (static/,
 * schemas/, themes/, app.json), where <key> hashes the lock, package.json and the build files, so
 * a second run finds the build and returns at once. Prints one line per version:
 * `labN <folder> (cached|built in S s)`; with `--json`, a JSON object {N: folder} as the last line.
 * Exit status 1 (with the reason) when npm or webpack fails.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const cacheRoot = path.join(root, '.cache', 'lab-app');
const BUILD_FILES = ['webpack.config.cjs', 'bootstrap.js', 'index.template.js', 'publicpath.js', 'build.mjs'];

function sha(...chunks) {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

function run(cmd, args, cwd, env = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with status ${r.status}${r.error ? `: ${r.error.message}` : ''}`);
}

/** Installs labN/node_modules from its lock when missing or stale (a stamp holds the lock's hash). */
export function ensureInstalled(major) {
  const appDir = path.join(here, `lab${major}`);
  const lock = path.join(appDir, 'package-lock.json');
  if (!existsSync(lock)) throw new Error(`no ${lock}`);
  const want = sha(readFileSync(lock));
  const stamp = path.join(appDir, 'node_modules', '.flowlens-lock.sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return appDir;
  const t0 = Date.now();
  run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], appDir);
  writeFileSync(stamp, want);
  console.log(`lab${major}: npm ci in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return appDir;
}

/** The cache folder of labN's build (it exists when built). */
export function appBuildDir(major) {
  const appDir = path.join(here, `lab${major}`);
  const key = sha(
    readFileSync(path.join(appDir, 'package-lock.json')),
    readFileSync(path.join(appDir, 'package.json')),
    ...BUILD_FILES.map((f) => readFileSync(path.join(here, f))),
  ).slice(0, 16);
  return path.join(cacheRoot, `lab${major}-${key}`);
}

/** Builds labN when its cache folder is missing; returns the folder and whether it was built now. */
export function ensureApp(major) {
  const out = appBuildDir(major);
  if (existsSync(path.join(out, 'app.json'))) return { dir: out, seconds: 0 };
  const appDir = ensureInstalled(major);
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const t0 = Date.now();
  run(process.execPath, [path.join(appDir, 'node_modules', 'webpack-cli', 'bin', 'cli.js'), '--config', path.join(here, 'webpack.config.cjs')], appDir, {
    ...process.env,
    FLOWLENS_LAB_OUT: tmp,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-old-space-size=4096'].filter(Boolean).join(' '),
  });
  const seconds = (Date.now() - t0) / 1000;
  const pkg = JSON.parse(readFileSync(path.join(appDir, 'node_modules', '@jupyterlab', 'application', 'package.json'), 'utf8'));
  writeFileSync(
    path.join(tmp, 'app.json'),
    JSON.stringify({ name: `JupyterLab ${pkg.version} (flowlens test build)`, version: pkg.version, major, buildSeconds: seconds }, null, 2) + '\n',
  );
  rmSync(path.join(tmp, 'build'), { recursive: true, force: true });
  // Older builds of this major version are stale.
  if (existsSync(cacheRoot))
    for (const d of readdirSync(cacheRoot))
      if (d.startsWith(`lab${major}-`) && path.join(cacheRoot, d) !== tmp) rmSync(path.join(cacheRoot, d), { recursive: true, force: true });
  renameSync(tmp, out);
  return { dir: out, seconds };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const installOnly = args.includes('--install-only');
  const majors = args.filter((a) => !a.startsWith('--'));
  const result = {};
  try {
    for (const m of majors.length ? majors : ['4']) {
      if (!/^[34]$/.test(m)) throw new Error(`unknown JupyterLab major version ${m} (3 or 4)`);
      if (installOnly) {
        ensureInstalled(m);
        continue;
      }
      const { dir, seconds } = ensureApp(m);
      result[m] = dir;
      console.log(`lab${m} ${path.relative(root, dir)} (${seconds ? `built in ${seconds.toFixed(0)} s` : 'cached'})`);
    }
  } catch (e) {
    console.error(`test/lab-app/build.mjs: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
  if (json) console.log(JSON.stringify(result));
}
