/**
 * The package as a user gets it: `npm pack`, install the tarball into an empty project (offline: the
 * dependencies come from npm's cache through a lockfile made from this repository's), then import
 * `flowlens` from plain Node (ESM) and from TypeScript, load `embedded:sst2` and run attention rollout
 * and integrated gradients. The results must equal the ones computed from this checkout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classLogit, explain, integratedGradients, loadModel } from '../src/index.js';
import { projectRoot } from '../src/paths.js';

const root = projectRoot();
const TEXT = 'a gripping , funny and moving film';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });
}

/** A lockfile for a project whose one dependency is the tarball: this repository's production entries. */
function lockfileFor(tarball: string): { pkg: unknown; lock: unknown } {
  const repoLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const me = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const packages: Record<string, unknown> = { '': { name: 'flowlens-user', dependencies: { flowlens: `file:${tarball}` } } };
  for (const [k, v] of Object.entries(repoLock.packages)) if (k !== '' && !v.dev && !v.devOptional && !v.link) packages[k] = v;
  packages['node_modules/flowlens'] = {
    version: me.version,
    resolved: `file:${tarball}`,
    license: me.license,
    dependencies: me.dependencies,
    peerDependencies: me.peerDependencies,
    peerDependenciesMeta: me.peerDependenciesMeta,
    bin: me.bin,
    engines: me.engines,
  };
  return {
    pkg: { name: 'flowlens-user', private: true, type: 'module', dependencies: { flowlens: `file:${tarball}` } },
    lock: { name: 'flowlens-user', lockfileVersion: 3, requires: true, packages },
  };
}

test('npm pack → install into an empty project → flowlens from Node ESM and TypeScript', { timeout: 600_000 }, async (t) => {
  // What the user's results must equal: the same calls on this checkout.
  const loaded = await loadModel('embedded:sst2');
  const enc = loaded.tokenizer.encode(TEXT);
  /**
   * The installed copy runs with `--ignore-scripts`, so without the native GEMM addon (wasm kernels),
   * while this process may use it: the same computation in another summation order, equal to ~1e-7.
   */
  const assertClose = (got: number[], want: number[], what: string): void => {
    assert.equal(got.length, want.length, `${what}: length`);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${g} vs ${want[i]}`));
  };
  const wantRollout = explain(loaded, TEXT, { method: 'attention_rollout' }).scores;
  const wantIg = integratedGradients(loaded.model, enc, classLogit(1), { steps: 32, specialIds: loaded.tokenizer }).scores;
  loaded.model.dispose();

  const labBuild = (
    JSON.parse(readFileSync(join(root, 'widgets', 'lab', 'labextension', 'package.json'), 'utf8')) as { jupyterlab: { _build: { load: string } } }
  ).jupyterlab._build.load;
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-pack-'));
  try {
    run(process.execPath, [join(root, 'dist', 'widgets', 'build.js')], root); // the nbextension bundle the package ships
    const packed = JSON.parse(run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root)) as {
      filename: string;
      size: number;
      unpackedSize: number;
      files: { path: string }[];
    }[];
    const info = packed[0] as (typeof packed)[number];
    const tarball = join(dir, info.filename);
    t.diagnostic(
      `tarball ${info.filename}: ${(info.size / 1e6).toFixed(2)} MB packed, ${(info.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${info.files.length} files`,
    );
    assert.equal(statSync(tarball).size, info.size);

    // What a user needs, and nothing else.
    const files = info.files.map((f) => f.path);
    for (const need of [
      'package.json',
      'README.md',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/main.js',
      'dist/widgets/index.js',
      'dist/widgets/index.d.ts',
      'dist/kernel/index.js',
      'dist/kernel/main.js',
      'kernel/cell-globals.d.ts',
      'dist/nbextension/flowlens-widgets/extension.js',
      'models/flowlens-sst2/model.safetensors',
      'models/flowlens-agreement/vocab.txt',
      'models/flowlens-trec/config.json',
      'widgets/lab/labextension/package.json',
      'widgets/lab/labextension/install.json',
      `widgets/lab/labextension/${labBuild}`,
    ]) {
      assert.ok(files.includes(need), `the tarball holds ${need}`);
    }
    const unwanted = files.filter(
      (f) =>
        /\.map$/.test(f) ||
        /^(src|test|bench|notebooks|docs|node_modules|\.ci)\//.test(f) ||
        /^dist\/(test|bench)\//.test(f) ||
        /^dist\/widgets\/(frontend|lab)\//.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) ||
        /plotly\.min\.js$/.test(f) ||
        /^models\/[^/]+\/trainer\//.test(f),
    );
    assert.deepEqual(unwanted, [], 'no sources, tests, benchmarks, notebooks, source maps or bundled copies of dependencies');

    // An empty project, installed offline from npm's cache.
    const proj = join(dir, 'user');
    run('mkdir', ['-p', proj], dir);
    const { pkg, lock } = lockfileFor(tarball);
    writeFileSync(join(proj, 'package.json'), JSON.stringify(pkg, null, 2));
    writeFileSync(join(proj, 'package-lock.json'), JSON.stringify(lock, null, 2));
    run(npm, ['ci', '--offline', '--ignore-scripts'], proj);
    assert.deepEqual(readdirSync(join(proj, 'node_modules', 'flowlens')).sort(), ['README.md', 'dist', 'kernel', 'models', 'package.json', 'widgets']);

    // `flowlens kernel install` of the installed package: the kernelspec, the classic nbextension and
    // the prebuilt JupyterLab extension (with plotly.js beside it), as a pip-installed extension is placed.
    const prefix = join(dir, 'env');
    run(join(proj, 'node_modules', '.bin', 'flowlens'), ['kernel', 'install', '--prefix', prefix], proj);
    for (const f of [
      'kernels/flowlens/kernel.json',
      'nbextensions/flowlens-widgets/extension.js',
      `labextensions/flowlens-widgets/${labBuild}`,
      'labextensions/flowlens-widgets/static/plotly.min.js',
    ])
      assert.ok(existsSync(join(prefix, 'share', 'jupyter', f)), `kernel install from the package wrote share/jupyter/${f}`);

    // The command line of the installed package.
    const help = run(join(proj, 'node_modules', '.bin', 'flowlens'), ['reproduce', '--help'], proj);
    for (const r of ['abnar2020', 'jiang2020', 'lu2021', 'song2024']) assert.match(help, new RegExp(r));

    // Plain Node, ESM.
    writeFileSync(
      join(proj, 'esm.mjs'),
      `
import { loadModel, explain, listMethods, nodeName, FlowlensError } from 'flowlens';
import { TokenSaliency } from 'flowlens/widgets';
import { runInstall } from 'flowlens/kernel';
const loaded = await loadModel('embedded:sst2');
const rollout = explain(loaded, ${JSON.stringify(TEXT)}, { method: 'attention_rollout' });
const ig = explain(loaded, ${JSON.stringify(TEXT)}, { method: 'integrated_gradients', target: 1, steps: 32 });
let deep = 'exported';
try { await import('flowlens/dist/src/model/load.js'); } catch (e) { deep = e.code; }
console.log(JSON.stringify({ methods: listMethods().length, node: nodeName('pattern', 1), rollout: rollout.scores, ig: ig.scores, gap: ig.sanity.value,
  widgets: typeof TokenSaliency, kernel: typeof runInstall, errors: typeof FlowlensError, deep }));
loaded.model.dispose();
`,
    );
    const esm = JSON.parse(run(process.execPath, ['esm.mjs'], proj).trim().split('\n').pop() as string);
    assert.equal(esm.methods, 18);
    assert.equal(esm.node, 'blocks.1.attn.hook_pattern');
    assert.deepEqual([esm.widgets, esm.kernel, esm.errors], ['function', 'function', 'function']);
    assert.equal(esm.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the front door and its subpaths are exported');
    assertClose(esm.rollout, wantRollout, 'rollout (ESM)');
    assertClose(esm.ig, wantIg, 'integrated gradients (ESM)');
    assert.ok(Math.abs(esm.gap) < 0.05, `IG completeness gap ${esm.gap}`);

    // TypeScript: the types resolve (a wrong call is a type error), the compiled program runs.
    writeFileSync(
      join(proj, 'main.ts'),
      `
import { loadModel, explain, classLogit, integratedGradients, type TokenAttribution, type LoadedModel } from 'flowlens';
import { TokenSaliency, type TokenSaliencyInit } from 'flowlens/widgets';
import type { InstallOptions } from 'flowlens/kernel';
const loaded: LoadedModel = await loadModel('embedded:sst2');
const enc = loaded.tokenizer.encode(${JSON.stringify(TEXT)});
const ig: TokenAttribution = integratedGradients(loaded.model, { ids: enc.ids, tokens: enc.tokens }, classLogit(1), { steps: 32, specialIds: loaded.tokenizer });
const rollout = explain(loaded, enc.ids, { method: 'attention_rollout' });
const typeCheckOnly = (): unknown =>
  // @ts-expect-error: a number is not an input (fails to compile if the types were missing or any)
  explain(loaded, 42, { method: 'attention_rollout' });
void typeCheckOnly;
const init: TokenSaliencyInit = { tokens: enc.tokens, scores: ig.scores };
const opts: InstallOptions = { name: 'x' };
console.log(JSON.stringify({ ig: ig.scores, rollout: rollout.scores, n: init.tokens.length, widget: typeof TokenSaliency, opts: opts.name }));
loaded.model.dispose();
`,
    );
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, outDir: 'out', types: [] },
        files: ['main.ts'],
      }),
    );
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], proj);
    const ts = JSON.parse(
      run(process.execPath, [join('out', 'main.js')], proj)
        .trim()
        .split('\n')
        .pop() as string,
    );
    assertClose(ts.ig, wantIg, 'integrated gradients (TypeScript)');
    assertClose(ts.rollout, wantRollout, 'rollout (TypeScript)');
    assert.equal(ts.widget, 'function');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
