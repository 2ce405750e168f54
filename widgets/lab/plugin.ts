/**
 * JupyterLab plugin of the flowlens widgets: registers the same `flowlens-widgets` models and views
 * (`widgets/frontend/classes.ts`) with JupyterLab's widget manager (`IJupyterWidgetRegistry` of
 * `@jupyter-widgets/jupyterlab-manager`), and makes plotly.js available to the plotly views as
 * `window.Plotly` (there is no RequireJS in JupyterLab).
 *
 * Built by `buildLabPlugin` (`widgets/build.ts`) into an ES module with the JupyterLab-provided
 * packages external. NOT a prebuilt (module-federation) extension, which needs `@jupyterlab/builder`
 * (not installed here), and not tested: JupyterLab is not packaged on these machines.
 */
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { WIDGET_MODULE, WIDGET_MODULE_VERSION } from '../constants.js';
import { FLOWLENS_CLASSES } from '../frontend/classes.js';

/** A JupyterLab plugin (the shape of `@jupyterlab/application`'s `JupyterFrontEndPlugin`). */
export interface LabPlugin {
  id: string;
  requires: unknown[];
  autoStart: boolean;
  activate(app: unknown, registry: IJupyterWidgetRegistry): void;
}

/** The plugin: registers module `flowlens-widgets` at {@link WIDGET_MODULE_VERSION}. */
export const flowlensWidgetsPlugin: LabPlugin = {
  id: 'flowlens-widgets:plugin',
  requires: [IJupyterWidgetRegistry],
  autoStart: true,
  activate(_app, registry) {
    registry.registerWidget({
      name: WIDGET_MODULE,
      version: WIDGET_MODULE_VERSION,
      exports: async () => {
        const g = globalThis as unknown as { Plotly?: unknown };
        if (!g.Plotly) {
          const m = (await import('plotly.js-dist-min' as string)) as { default?: unknown };
          g.Plotly = m.default ?? m;
        }
        return FLOWLENS_CLASSES as never;
      },
    });
  },
};

export default flowlensWidgetsPlugin;
