/**
 * The flowlens-widgets nbextension for the classic Notebook 6.4 (bundled by `widgets/build.ts`
 * into an AMD module `nbextensions/flowlens-widgets/extension.js`).
 *
 * - keeps one {@link ClassicWidgetManager} per kernel object (Notebook keeps the same `Kernel` across
 *   restarts and reconnects); on `kernel_restarting.Kernel` / `kernel_dead.Kernel` it forgets the
 *   old kernel's models, and on every `kernel_ready.Kernel` it asks the kernel for the widget states
 *   it does not know yet (`jupyter.widget.control`). Making a new manager on every `kernel_ready`,
 *   as before, gave a widget opened right after Restart & Run All two models, the view on one and
 *   the registered comm on the other, so the kernel's updates never reached the view;
 * - renders `application/vnd.jupyter.widget-view+json` outputs with live views; when the model is
 *   not (or not yet) known, e.g. a saved notebook opened without its kernel, the output shows the
 *   bundle's static `text/html` instead, and is upgraded to a live view if the model shows up.
 */
import { Widget as LuminoWidget } from '@lumino/widgets';
import { WIDGET_VIEW_MIME } from '../constants.js';
import { ClassicWidgetManager, type NotebookCommModule, type NotebookKernel } from './manager.js';

/** The parts of Notebook's `base/js/namespace` used here. */
export interface JupyterNamespace {
  notebook?: { kernel?: NotebookKernel | null; events: { on(event: string, cb: () => void): void } };
}

/** Notebook events after which the kernel's widgets are gone. */
export const KERNEL_GONE_EVENTS = ['kernel_restarting.Kernel', 'kernel_dead.Kernel'];

/** The parts of Notebook's `notebook/js/outputarea` module used here. */
export interface OutputAreaModule {
  OutputArea: {
    prototype: {
      register_mime_type(mime: string, append: (this: any, json: any, md: any, element: any) => any, opts: { safe: boolean; index: number }): void;
      append_mime_type(this: any, json: Record<string, unknown>, ...rest: unknown[]): unknown;
    };
  };
}

/** Outputs shown statically while their model was unknown: upgraded when it arrives. */
interface Pending {
  node: HTMLElement;
  modelId: string;
}

/** The extension's state, exposed for debugging as `window.flowlensWidgets`. */
export interface FlowlensExtension {
  manager(): ClassicWidgetManager | undefined;
  load_ipython_extension(): void;
}

/**
 * Builds the extension from Notebook's modules (passed by the AMD wrapper).
 * @param Jupyter `base/js/namespace`.
 * @param outputarea `notebook/js/outputarea`.
 * @param commModule `services/kernels/comm`.
 */
export function createExtension(Jupyter: JupyterNamespace, outputarea: OutputAreaModule, commModule: NotebookCommModule): FlowlensExtension {
  let manager: ClassicWidgetManager | undefined;
  let pending: Pending[] = [];
  /** The whole bundle of the output being appended (the mime renderer only gets its own part). */
  let currentBundle: Record<string, unknown> | undefined;

  const showLive = async (node: HTMLElement, modelId: string): Promise<void> => {
    const m = manager!;
    const model = await m.get_model(modelId);
    const view = await m.create_view(model);
    node.innerHTML = '';
    LuminoWidget.attach((view as any).luminoWidget, node);
  };

  const render = (node: HTMLElement, data: { model_id?: string }, staticHtml: unknown): void => {
    const modelId = data.model_id ?? '';
    const fallback = (): void => {
      node.innerHTML = typeof staticHtml === 'string' ? staticHtml : '<i>Widget model not available (restart the kernel and run the cell).</i>';
    };
    if (manager && modelId && manager.has_model(modelId)) {
      showLive(node, modelId).catch((e) => {
        console.error('flowlens-widgets: cannot render view', e);
        fallback();
      });
    } else {
      fallback();
      if (modelId) pending.push({ node, modelId });
    }
  };

  const upgradePending = (): void => {
    const still: Pending[] = [];
    for (const p of pending) {
      if (!p.node.isConnected) continue;
      if (manager?.has_model(p.modelId)) showLive(p.node, p.modelId).catch((e) => console.error('flowlens-widgets:', e));
      else still.push(p);
    }
    pending = still;
  };

  const managers = new WeakMap<NotebookKernel, ClassicWidgetManager>();

  const connect = (): void => {
    const kernel = Jupyter.notebook?.kernel;
    if (!kernel) return;
    let m = managers.get(kernel);
    if (!m) {
      m = new ClassicWidgetManager(kernel, commModule);
      managers.set(kernel, m);
    }
    manager = m;
    m.restoreFromKernel()
      .then(upgradePending)
      .catch((e) => console.warn('flowlens-widgets: could not restore widgets from the kernel', e));
  };

  const load_ipython_extension = (): void => {
    const proto = outputarea.OutputArea.prototype;
    const original = proto.append_mime_type;
    proto.append_mime_type = function (this: unknown, json: Record<string, unknown>, ...rest: unknown[]) {
      currentBundle = json;
      try {
        return original.call(this, json, ...rest);
      } finally {
        currentBundle = undefined;
      }
    };
    proto.register_mime_type(
      WIDGET_VIEW_MIME,
      function (this: any, json: { model_id?: string }, md: unknown, element: any) {
        const toinsert = this.create_output_subarea(md, 'output_flowlens_widget', WIDGET_VIEW_MIME);
        this.keyboard_manager?.register_events(toinsert);
        render(toinsert[0], json, currentBundle?.['text/html']);
        element.append(toinsert);
        return toinsert;
      },
      { safe: true, index: 0 },
    );
    Jupyter.notebook?.events.on('kernel_ready.Kernel', connect);
    for (const ev of KERNEL_GONE_EVENTS) {
      Jupyter.notebook?.events.on(ev, () => {
        manager?.clear_state().catch((e: unknown) => console.warn("flowlens-widgets: could not clear the old kernel's widgets", e));
      });
    }
    if (Jupyter.notebook?.kernel) connect();
  };

  return { manager: () => manager, load_ipython_extension };
}
