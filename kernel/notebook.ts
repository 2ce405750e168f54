#!/usr/bin/env node
/**
 * `npm run kernel:notebook [-- notebook options]`: starts the classic Notebook on `notebooks/`
 * (`jupyter notebook --notebook-dir=<repo>/notebooks`). Run as root (containers, CI machines), Notebook
 * refuses to start unless given `--allow-root`; this adds it then, and says so. Options after `--`
 * go to `jupyter notebook` (e.g. `--port 8899 --no-browser`); `FLOWLENS_JUPYTER` names the
 * `jupyter` executable.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `jupyter` arguments for the notebook server.
 * @param extra options given by the user (passed on).
 * @param uid the user id (`process.getuid()`; undefined on Windows).
 * @param notebooksDir the folder to serve.
 * @returns the arguments and the notes to print.
 */
export function notebookArgs(extra: string[], uid: number | undefined, notebooksDir: string): { args: string[]; notes: string[] } {
  const args = ['notebook', `--notebook-dir=${notebooksDir}`, ...extra];
  const notes: string[] = [];
  if (uid === 0 && !extra.includes('--allow-root')) {
    args.push('--allow-root');
    notes.push('kernel:notebook: running as root, so --allow-root is passed to jupyter notebook (Notebook refuses root without it).');
  }
  return { args, notes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // kernel/ from sources, dist/kernel/ from the build: the repository root is one or two levels up.
  const root = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');
  const { args, notes } = notebookArgs(process.argv.slice(2), process.getuid?.(), path.join(root, 'notebooks'));
  for (const n of notes) console.error(n);
  const jupyter = process.env.FLOWLENS_JUPYTER || 'jupyter';
  const child = spawn(jupyter, args, { stdio: 'inherit' });
  child.on('error', (e) => {
    console.error(`kernel:notebook: cannot run ${jupyter} (${e.message}); install the classic Notebook: apt-get install jupyter-notebook`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
}
