/** The nbextension bundle and its Python-free installation. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NOTEBOOK_AMD_DEPS } from '../widgets/build.js';
import { enableNbextension, installNbextension, jupyterConfigDir, NBEXTENSION_REQUIRE } from '../widgets/nbextension.js';

describe('flowlens-widgets nbextension', () => {
  it('builds one AMD module over Notebook modules, with no network loads', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-nbext-'));
    try {
      mkdirSync(path.join(tmp, 'cfg', 'nbconfig'), { recursive: true });
      writeFileSync(path.join(tmp, 'cfg', 'nbconfig', 'notebook.json'), JSON.stringify({ load_extensions: { 'other/ext': true }, keep: 1 }));
      const { bundle, config } = await installNbextension(path.join(tmp, 'data'), path.join(tmp, 'cfg'));
      assert.equal(bundle, path.join(tmp, 'data', 'nbextensions', 'flowlens-widgets', 'extension.js'));
      const js = readFileSync(bundle, 'utf8');
      assert.ok(js.startsWith(`define(${JSON.stringify(NOTEBOOK_AMD_DEPS)}, function (Jupyter, outputarea, comm) {`));
      assert.ok(js.trimEnd().endsWith('return ext;\n});'));
      // Exactly one RequireJS define call: the bundled UMD libraries must not call it.
      assert.equal(js.match(/\bdefine\(/g)?.length, 1);
      assert.doesNotMatch(js, /\b(unpkg\.com|cdn\.jsdelivr)/);
      // The bundle parses as a script, and calls define with the three Notebook modules.
      let deps: unknown;
      new Function('define', js.replace(/function \(Jupyter, outputarea, comm\) \{[\s\S]*$/, 'function () {});'))((d: unknown) => (deps = d));
      assert.deepEqual(deps, NOTEBOOK_AMD_DEPS);
      assert.doesNotThrow(() => new Function('define', js));
      // plotly.js ships next to the bundle as an AMD module (loaded on demand by the plotly views).
      assert.match(readFileSync(path.join(path.dirname(bundle), 'plotly.min.js'), 'utf8').slice(0, 2000), /plotly/i);
      assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')), { load_extensions: { 'other/ext': true, [NBEXTENSION_REQUIRE]: true }, keep: 1 });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('enables the extension in a fresh config dir and rejects a broken config', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-nbcfg-'));
    try {
      const file = enableNbextension(tmp);
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { load_extensions: { 'flowlens-widgets/extension': true } });
      writeFileSync(file, '[1]');
      assert.throws(() => enableNbextension(tmp), /not a JSON object/);
      assert.equal(jupyterConfigDir({ JUPYTER_CONFIG_DIR: '/c' }, '/h'), '/c');
      assert.equal(jupyterConfigDir({}, '/h'), '/h/.jupyter');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
