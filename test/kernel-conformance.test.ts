/**
 * The kernel against jupyter_kernel_test, the conformance suite for Jupyter kernels (Debian
 * python3-jupyter-kernel-test, in kernel/apt-packages.txt): `kernel/testing/test_conformance.py`
 * subclasses its `KernelTests` with samples for every feature the suite checks (kernel info,
 * stdout, stderr, completion, inspection, is_complete, pager, errors, execute_result,
 * display_data, history, clear_output). The kernelspec is installed into a temporary
 * JUPYTER_PATH; this test passes only when every test of the suite ran and passed (a skipped one
 * fails it).
 *
 * Skipped, with a message, only when no python3 imports jupyter_kernel_test
 * (FLOWLENS_JUPYTER_PYTHON chooses one).
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempJupyter } from './helpers/jupyterEnv.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');

/** The suite's tests (jupyter_kernel_test 0.4.5), each of which must run and pass. */
const SUITE = [
  'test_clear_output',
  'test_completion',
  'test_display_data',
  'test_error',
  'test_execute_result',
  'test_execute_stderr',
  'test_execute_stdout',
  'test_history',
  'test_inspect',
  'test_is_complete',
  'test_kernel_info',
  'test_pager',
];

function findPython(): string | undefined {
  for (const py of [process.env.FLOWLENS_JUPYTER_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', 'import jupyter_kernel_test'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

const python = findPython();

describe(
  'jupyter_kernel_test conformance suite',
  { skip: python ? false : 'no python3 with jupyter_kernel_test: apt-get install python3-jupyter-kernel-test (kernel/apt-packages.txt)', timeout: 600_000 },
  () => {
    it('passes every test of the suite, none skipped', async () => {
      const { env, remove } = tempJupyter('flowlens-conformance-');
      try {
        const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
          const p = spawn(python!, [path.join(root, 'kernel', 'testing', 'test_conformance.py'), '-v'], { cwd: root, env });
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.stderr.on('data', (d) => (out += d));
          p.on('close', (c) => resolve({ code: c, out }));
        });
        assert.equal(code, 0, `the suite failed:\n${out}`);
        for (const t of SUITE) assert.match(out, new RegExp(`^${t} \\(.*\\) \\.\\.\\. ok$`, 'm'), `${t} ran and passed:\n${out}`);
        assert.match(out, new RegExp(`^Ran ${SUITE.length} tests`, 'm'));
        assert.doesNotMatch(out, /skipped/i, `nothing skipped:\n${out}`);
        assert.match(out, /^OK$/m);
      } finally {
        remove();
      }
    });
  },
);
