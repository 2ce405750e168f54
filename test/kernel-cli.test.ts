/** `flowlens kernel install` on the project's command line. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { jupyterSearchPath, searchPathHints } from '../kernel/install.js';
import { notebookArgs } from '../kernel/notebook.js';
import { buildProgram } from '../src/cli/main.js';

describe('flowlens kernel install', () => {
  it('writes the kernelspec under --prefix, and rejects unknown options', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-kcli-'));
    const log = console.log;
    console.log = () => {};
    try {
      await buildProgram()
        .exitOverride()
        .parseAsync(['node', 'flowlens', 'kernel', 'install', '--prefix', tmp, '--name', 'fl-test', '--display-name', 'FL test', '--no-widgets']);
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

  it("says what to set when it installs outside Jupyter's search path, and the lines make Jupyter look there", async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-kcli-'));
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.join(' '));
    try {
      await buildProgram().exitOverride().parseAsync(['node', 'flowlens', 'kernel', 'install', '--prefix', tmp, '--name', 'fl-hint', '--no-widgets']);
    } finally {
      console.log = log;
    }
    const data = path.join(tmp, 'share', 'jupyter');
    assert.ok(
      lines.some((l) => l.includes(`Jupyter will not find this install: ${data} is not on`)),
      lines.join('\n'),
    );
    const exportLine = lines.find((l) => l.trim().startsWith('export JUPYTER_PATH='));
    assert.equal(exportLine?.trim(), `export JUPYTER_PATH=${data}\${JUPYTER_PATH:+:$JUPYTER_PATH}`);
    // With widgets the config dir needs JUPYTER_CONFIG_PATH too; inside the search path nothing is said.
    const search = { data: ['/a'], config: ['/c'], source: 'defaults' as const };
    assert.deepEqual(searchPathHints('/a', '/c', search), []);
    const both = searchPathHints('/p/share/jupyter', '/p/etc/jupyter', search);
    assert.equal(both.length, 3);
    assert.equal(both[2].trim(), 'export JUPYTER_CONFIG_PATH=/p/etc/jupyter${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}');
    assert.match(searchPathHints("/it's here", undefined, search)[1], /JUPYTER_PATH='\/it'\\''s here'/);
    // Where Jupyter itself runs: after the printed line, `jupyter --paths` lists the folder.
    if (jupyterSearchPath().source === 'jupyter') {
      const r = spawnSync('bash', ['-c', `${exportLine!.trim()}; jupyter --paths --json`], { encoding: 'utf8' });
      assert.ok((JSON.parse(r.stdout) as { data: string[] }).data.includes(data));
      assert.deepEqual(searchPathHints(data, undefined, jupyterSearchPath({ ...process.env, JUPYTER_PATH: data })), []);
    }
    rmSync(tmp, { recursive: true, force: true });
  });
});

describe('npm run kernel:notebook', () => {
  it("passes --allow-root when run as root (Notebook refuses root otherwise), and the user's options", () => {
    assert.deepEqual(notebookArgs(['--port=9'], 0, '/nb'), {
      args: ['notebook', '--notebook-dir=/nb', '--port=9', '--allow-root'],
      notes: [notebookArgs([], 0, '/nb').notes[0]],
    });
    assert.match(notebookArgs([], 0, '/nb').notes[0], /running as root/);
    assert.deepEqual(notebookArgs([], 1000, '/nb'), { args: ['notebook', '--notebook-dir=/nb'], notes: [] });
    assert.deepEqual(notebookArgs(['--allow-root'], 0, '/nb').args, ['notebook', '--notebook-dir=/nb', '--allow-root']);
  });
});
