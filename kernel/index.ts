/**
 * `flowlens/kernel`: the flowlens Jupyter kernel (tslab with widget comms): install its kernelspec
 * (and the widgets' nbextension), start it, and the comm manager widgets talk through.
 *
 * ```ts
 * import { runInstall } from 'flowlens/kernel';
 * await runInstall(['--user']); // the kernelspec; `npx flowlens kernel install` adds the widgets' nbextension
 * ```
 *
 * @module
 */
export { installKernelSpec, parseInstallArgs, runInstall, type InstallOptions, type InstalledKernel } from './install.js';
export { CommManager, getCommManager, type Comm, type CommMessage } from './comm.js';
