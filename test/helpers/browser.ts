/** Shared pieces of the browser tests (`test/browser.test.ts`, Notebook 6; `test/lab.test.ts`, JupyterLab). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** True when `playwright-core` (the browser driver, a dev dependency) can be imported. */
export async function havePlaywright(): Promise<boolean> {
  try {
    await import('playwright-core');
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a Jupyter server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A Jupyter server (Notebook 6 or JupyterLab) that a browser test started on 127.0.0.1 with a token;
 * its output is kept for error messages.
 */
export class JupyterServer {
  private output = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly base: string,
    readonly token: string,
  ) {
    proc.stdout!.on('data', (d) => (this.output += d));
    proc.stderr!.on('data', (d) => (this.output += d));
  }

  /**
   * Spawns `command args` and waits (60 s at most) until `<base>/api/status` answers.
   * @param what the server's name in the error message.
   * @throws Error with the server's output when it exits or does not answer in time.
   */
  static async start(
    what: string,
    command: string,
    args: string[],
    opts: { env: NodeJS.ProcessEnv; cwd: string; base: string; token: string },
  ): Promise<JupyterServer> {
    const s = new JupyterServer(spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] }), opts.base, opts.token);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const r = await fetch(`${opts.base}/api/status?token=${opts.token}`);
        if (r.ok) return s;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline || s.proc.exitCode !== null) {
        if (s.proc.exitCode === null) s.proc.kill('SIGTERM');
        throw new Error(`${what} did not start:\n${s.output}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Everything the server printed so far. */
  get log(): string {
    return this.output;
  }

  /** Shuts down the server's kernels (REST API), then the server; waits for it to exit. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    try {
      const ks = (await (await fetch(`${this.base}/api/kernels?token=${this.token}`)).json()) as { id: string }[];
      for (const k of ks) await fetch(`${this.base}/api/kernels/${k.id}?token=${this.token}`, { method: 'DELETE' });
    } catch {
      /* server already gone */
    }
    this.proc.kill('SIGTERM');
    await new Promise((r) => (this.proc.exitCode !== null ? r(null) : this.proc.once('exit', r)));
  }
}
