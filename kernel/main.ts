#!/usr/bin/env node
/**
 * Entry point of the flowlens Jupyter kernel, run by Jupyter through kernel.json:
 * `node --experimental-require-module dist/kernel/main.js --config-path {connection_file}`.
 * (`-f` is accepted as a synonym of `--config-path`.)
 */
import { startKernel } from './start.js';

/**
 * Parses the kernel's command line.
 * @param argv arguments after the script name.
 * @returns the connection file path.
 * @throws Error for an unknown argument or a missing path.
 */
export function parseKernelArgs(argv: string[]): { configPath: string } {
  let configPath = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config-path' || a === '-f') {
      configPath = argv[++i] ?? '';
    } else if (a.startsWith('--config-path=')) {
      configPath = a.slice('--config-path='.length);
    } else {
      throw new Error(`flowlens kernel: unknown argument ${JSON.stringify(a)} (usage: main.js --config-path <connection file>)`);
    }
  }
  if (!configPath) throw new Error('flowlens kernel: missing --config-path <connection file>');
  return { configPath };
}

startKernel(parseKernelArgs(process.argv.slice(2))).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
