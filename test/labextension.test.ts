/** The committed prebuilt JupyterLab extension (`widgets/lab/labextension/`) and its Python-free install. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bundleLabPlugin, labextensionDir, labSourceDir, labSourceHash, type LabBuildInfo } from '../widgets/build.js';
import { WIDGET_MODULE_VERSION } from '../widgets/constants.js';
import { checkLabextension, installLabextension, LABEXTENSION_NAME } from '../widgets/labextension.js';

const dir = labextensionDir();
const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  jupyterlab: { extension: boolean; sharedPackages: Record<string, { bundled: boolean; singleton: boolean }>; _build: { load: string; extension: string } };
};

/** Files under `d`, relative to `d`. */
function filesUnder(d: string): string[] {
  return readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(d, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
}

describe('prebuilt JupyterLab extension', () => {
  it('is a federated extension as @jupyterlab/builder writes it: package.json with jupyterlab._build, remoteEntry, install.json', () => {
    assert.equal(pkg.name, LABEXTENSION_NAME);
    assert.equal(pkg.version, WIDGET_MODULE_VERSION, 'the extension version is the widget module version the kernel asks for');
    assert.equal(pkg.jupyterlab._build.extension, './extension');
    assert.match(pkg.jupyterlab._build.load, /^static\/remoteEntry\.[0-9a-f]{20}\.js$/);
    assert.equal(checkLabextension(dir), pkg.jupyterlab._build.load);
    const install = JSON.parse(readFileSync(path.join(dir, 'install.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(install).sort(), ['packageManager', 'packageName', 'uninstallInstructions']);
    // @jupyter-widgets/base is the one JupyterLab's widget manager provides: shared, a singleton, not bundled.
    assert.deepEqual(pkg.jupyterlab.sharedPackages['@jupyter-widgets/base'], { bundled: false, singleton: true });
    const entry = readFileSync(path.join(dir, pkg.jupyterlab._build.load), 'utf8');
    assert.match(
      entry,
      /"default","@jupyter-widgets\/base",!1,\[1,6,0,0\]/,
      'the remoteEntry consumes @jupyter-widgets/base ^6 from the shared scope (singleton, not eager)',
    );
    // Nothing of @jupyter-widgets/base (or backbone/jquery/lodash under it) or plotly is in the build: it stays small.
    const files = filesUnder(dir);
    const js = files
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    assert.doesNotMatch(js, /Backbone\.VERSION|jQuery\.fn|plotly\.js v\d/, 'no bundled backbone/jquery/plotly');
    assert.doesNotMatch(js, /\b(unpkg\.com|cdn\.jsdelivr)/);
    const bytes = files.reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
    assert.ok(bytes < 100_000, `the committed build is small (${bytes} bytes)`);
    assert.ok(!files.some((f) => f.endsWith('plotly.min.js')), 'plotly.js is copied at install time, not committed');
  });

  it('was built from the current sources (else run npm run labextension:build)', async () => {
    const info = JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8')) as LabBuildInfo;
    const src = JSON.parse(readFileSync(path.join(labSourceDir(), 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    assert.equal(src.version, pkg.version);
    assert.deepEqual(src.dependencies, pkg.dependencies);
    assert.equal(labSourceHash(await bundleLabPlugin()), info.sourceSha256, 'widgets/lab/labextension is stale: run npm run labextension:build and commit it');
  });

  it('installs into <data dir>/labextensions/flowlens-widgets with plotly.js beside it, replacing an older install', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-labext-'));
    try {
      const old = path.join(tmp, 'labextensions', LABEXTENSION_NAME, 'static');
      mkdirSync(old, { recursive: true });
      writeFileSync(path.join(old, 'remoteEntry.0000.js'), 'stale');
      const dest = installLabextension(tmp);
      assert.equal(dest, path.join(tmp, 'labextensions', LABEXTENSION_NAME));
      assert.deepEqual(filesUnder(dest).sort(), [...filesUnder(dir), path.join('static', 'plotly.min.js')].sort());
      assert.match(readFileSync(path.join(dest, 'static', 'plotly.min.js'), 'utf8').slice(0, 2000), /plotly/i);
      assert.equal(readFileSync(path.join(dest, 'package.json'), 'utf8'), readFileSync(path.join(dir, 'package.json'), 'utf8'));
      assert.deepEqual(readdirSync(path.join(tmp, 'labextensions')), [LABEXTENSION_NAME], 'no temporary folder left');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('refuses a folder that is not the built extension, naming what is missing', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-labext-bad-'));
    try {
      assert.throws(() => checkLabextension(tmp), /no prebuilt extension at .*npm run labextension:build/);
      writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: LABEXTENSION_NAME, jupyterlab: {} }));
      assert.throws(() => installLabextension(path.join(tmp, 'data'), tmp), /not the built flowlens-widgets extension \(no jupyterlab\._build\.load\)/);
      writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: LABEXTENSION_NAME, jupyterlab: { _build: { load: 'static/remoteEntry.x.js' } } }));
      assert.throws(() => checkLabextension(tmp), /remoteEntry\.x\.js \(jupyterlab\._build\.load\) is missing/);
      assert.throws(() => readdirSync(path.join(tmp, 'data')), /ENOENT/, 'nothing written');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
