#!/usr/bin/env node
// Build flowlens's optional native GEMM addon (native/build/Release/flowlens_native.node).
// Run by `npm install`/`npm ci` (the package's install script) and by `npm run build:native`.
// It never fails the install: without a C++ compiler or Node headers flowlens runs on tfjs's wasm
// kernels (one core), and this script says so. FLOWLENS_NATIVE=0 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, 'build', 'Release', 'flowlens_native.node');
const note = (msg) => console.log(`flowlens native addon: ${msg}`);

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

function headersDir() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((p) => p && existsSync(join(p, 'node_api.h'))) ?? null;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function build() {
  if (process.env.FLOWLENS_NATIVE === '0') return note('skipped (FLOWLENS_NATIVE=0)');
  const headers = headersDir();
  const gyp = nodeGyp();
  let log = '';
  if (gyp) {
    const args = [gyp, 'rebuild'];
    if (headers) args.push(`--nodedir=${dirname(dirname(headers))}`);
    const r = run(process.execPath, args);
    if (r.ok && existsSync(target)) return note(`built with node-gyp (${target})`);
    log += `node-gyp: ${r.out.split('\n').slice(-8).join('\n')}\n`;
  }
  // Fallback: compile directly (the addon is two C++ files and needs only node_api.h).
  const cxx = process.env.CXX || 'g++';
  if (headers) {
    rmSync(join(here, 'build'), { recursive: true, force: true });
    mkdirSync(dirname(target), { recursive: true });
    const r = run(cxx, [
      '-O3',
      '-std=c++17',
      '-fPIC',
      '-shared',
      '-pthread',
      '-fno-math-errno',
      '-DNAPI_VERSION=8',
      `-I${headers}`,
      'src/addon.cc',
      'src/sgemm.cc',
      '-o',
      target,
    ]);
    if (r.ok && existsSync(target)) return note(`built with ${cxx} (${target})`);
    log += `${cxx}: ${r.out.split('\n').slice(-8).join('\n')}\n`;
  } else {
    log += 'no Node headers (node_api.h) found\n';
  }
  note("not built; flowlens will use tfjs's wasm matrix kernels (one core). Details:\n" + log);
}

try {
  build();
} catch (e) {
  note(`not built (${e instanceof Error ? e.message : e}); flowlens will use tfjs's wasm matrix kernels`);
}
