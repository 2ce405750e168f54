/**
 * Widget manager for the classic Jupyter Notebook 6.4 front end, on @jupyter-widgets/base-manager
 * (ipywidgets 8's manager base). Notebook 6's bundled ipywidgets front end is too old for
 * @jupyter-widgets/base 6, so flowlens ships this one in its nbextension.
 *
 * It adapts Notebook 6's comm objects (`services/kernels/comm`, which already have the
 * `IClassicComm` shape: open/send/close/on_msg/on_close) and knows two modules:
 * `@jupyter-widgets/base` (core models such as LayoutModel) and `flowlens-widgets`.
 */
import * as base from '@jupyter-widgets/base';
import { ManagerBase } from '@jupyter-widgets/base-manager';
import { WIDGET_MODULE } from '../constants.js';
import { FLOWLENS_CLASSES } from './classes.js';

export { FLOWLENS_CLASSES };

/** The parts of Notebook 6's `Kernel` object used here. */
export interface NotebookKernel {
  comm_manager: {
    register_target(name: string, fn: (comm: base.IClassicComm, msg: any) => unknown): void;
    register_comm(comm: unknown): string;
    new_comm(target: string, data?: unknown, callbacks?: unknown, metadata?: unknown, commId?: string, buffers?: unknown): base.IClassicComm;
  };
  comm_info(target: string, callback: (reply: { content: { comms: Record<string, { target_name: string }> } }) => void): void;
}

/** Notebook 6's `services/kernels/comm` module. */
export interface NotebookCommModule {
  Comm: new (targetName: string, commId?: string) => base.IClassicComm;
}

/** Widget manager bound to one kernel connection. */
export class ClassicWidgetManager extends ManagerBase {
  /**
   * Registers the `jupyter.widget` comm target on the kernel.
   * @param kernel `Jupyter.notebook.kernel`.
   * @param commModule Notebook's `services/kernels/comm` module.
   */
  constructor(
    readonly kernel: NotebookKernel,
    private readonly commModule: NotebookCommModule,
  ) {
    super();
    kernel.comm_manager.register_target('jupyter.widget', (comm, msg) =>
      this.handle_comm_open(comm, msg).catch((e) => console.error('flowlens-widgets: cannot create widget model', e)),
    );
  }

  /** Fetches all widget states from the kernel (control comm), e.g. after a page reload. */
  restoreFromKernel(): Promise<void> {
    return this._loadFromKernel();
  }

  protected async loadClass(className: string, moduleName: string, moduleVersion: string): Promise<typeof base.WidgetModel | typeof base.WidgetView> {
    if (moduleName === WIDGET_MODULE) {
      const c = FLOWLENS_CLASSES[className];
      if (c) return c;
    } else if (moduleName === '@jupyter-widgets/base') {
      const c = (base as unknown as Record<string, unknown>)[className];
      if (typeof c === 'function') return c as typeof base.WidgetModel;
    }
    throw new Error(`flowlens-widgets: no class ${className} in module ${moduleName}@${moduleVersion}`);
  }

  protected async _create_comm(
    targetName: string,
    modelId?: string,
    data?: unknown,
    metadata?: unknown,
    buffers?: ArrayBuffer[] | ArrayBufferView[],
  ): Promise<base.IClassicComm> {
    if (data !== undefined || metadata !== undefined) {
      return this.kernel.comm_manager.new_comm(targetName, data ?? {}, {}, metadata ?? {}, modelId, buffers);
    }
    // A comm the kernel already has open: register it locally without sending comm_open.
    const comm = new this.commModule.Comm(targetName, modelId);
    this.kernel.comm_manager.register_comm(comm);
    return comm;
  }

  protected _get_comm_info(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.kernel.comm_info('jupyter.widget', (reply) => resolve(reply.content.comms)));
  }
}
