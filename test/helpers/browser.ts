/** Shared pieces of the browser tests (`test/browser.test.ts`, Notebook 6; `test/lab.test.ts`, JupyterLab). */
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
