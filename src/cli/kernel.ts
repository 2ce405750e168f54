/**
 * `flowlens kernel install`: the Jupyter kernelspec and the widgets nbextension, from the project's
 * command line (same as `npm run kernel:install`): `runInstall` of `kernel/install.ts` with the
 * widgets' nbextension step of `widgets/install.ts`.
 */
import type { Command } from 'commander';
import { runInstall } from '../../kernel/install.js';
import { installWidgetsFor } from '../../widgets/install.js';

/**
 * Registers `kernel install [--user | --prefix DIR | --sys-prefix] [--name N] [--display-name T] [--no-widgets]`.
 * @param program the commander program of `src/cli/main.ts`.
 */
export function registerKernel(program: Command): void {
  const kernel = program.command('kernel').description('the flowlens Jupyter kernel (tslab with widget comms)');
  kernel
    .command('install')
    .description('write the flowlens kernelspec into the Jupyter data dir and install + enable the flowlens-widgets nbextension (no Python needed)')
    .option('--user', 'the user data dir (default; follows JUPYTER_DATA_DIR)')
    .option('--prefix <dir>', 'install under <dir>/share/jupyter (config under <dir>/etc/jupyter)')
    .option('--sys-prefix', 'install into the active virtualenv/conda env')
    .option('--name <name>', 'kernel name', 'flowlens')
    .option('--display-name <text>', 'name shown in Jupyter')
    .option('--no-widgets', 'only the kernelspec, no nbextension')
    .action(async (o: { prefix?: string; sysPrefix?: boolean; name?: string; displayName?: string; widgets?: boolean }) => {
      const argv: string[] = [];
      if (o.prefix) argv.push('--prefix', o.prefix);
      if (o.sysPrefix) argv.push('--sys-prefix');
      if (o.name) argv.push('--name', o.name);
      if (o.displayName) argv.push('--display-name', o.displayName);
      if (o.widgets === false) argv.push('--no-widgets');
      await runInstall(argv, installWidgetsFor);
    });
}
