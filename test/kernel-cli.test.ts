/** `flowlens kernel install` on the project's command line. */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildProgram } from '../src/cli/main.js';

describe('flowlens kernel install', () => {
  it('writes the kernelspec under --prefix, and rejects unknown options', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-kcli-'));
    const log = console.log;
    console.log = () => {};
    try {
      await buildProgram().exitOverride().parseAsync(['node', 'flowlens', 'kernel', 'install', '--prefix', tmp, '--name', 'fl-test', '--display-name', 'FL test', '--no-widgets']);
      const spec = JSON.parse(readFileSync(path.join(tmp, 'share', 'jupyter', 'kernels', 'fl-test', 'kernel.json'), 'utf8'));
      assert.equal(spec.display_name, 'FL test');
      assert.equal(spec.language, 'typescript');
      assert.ok(spec.argv.includes('{connection_file}'));
      assert.ok(!existsSync(path.join(tmp, 'share', 'jupyter', 'nbextensions')), '--no-widgets: no nbextension');
      const p = buildProgram().exitOverride();
      p.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride().configureOutput({ writeErr: () => {} })));
      await assert.rejects(p.parseAsync(['node', 'flowlens', 'kernel', 'install', '--bogus']), /unknown option '--bogus'/);
    } finally {
      console.log = log;
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
