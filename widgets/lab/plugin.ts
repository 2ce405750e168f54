/**
 * JupyterLab plugin of the flowlens widgets: registers the same `flowlens-widgets` models and views
 * (`widgets/frontend/classes.ts`) with JupyterLab's widget manager (`IJupyterWidgetRegistry` of
 * `@jupyter-widgets/jupyterlab-manager`), and makes plotly.js available to the plotly views as
 * `window.Plotly` (there is no RequireJS in JupyterLab).
 *
 * Built into the prebuilt (federated) labextension `widgets/lab/labextension/` by
 * `buildLabextension` (`widgets/build.ts`, with `@jupyterlab/builder`); `@jupyter-widgets/base` is a
 * shared module the extension does not bundle (JupyterLab's widget manager provides it).
 * plotly.js is not in the build either: `flowlens kernel install` copies `plotly.min.js` from the
 * `plotly.js-dist-min` dependency into the installed extension's `static/` folder, and the plugin
 * loads it from there (the extension's own URL) when the first flowlens widget is created.
 */
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { LAB_PLOTLY_FILE, WIDGET_MODULE, WIDGET_MODULE_VERSION } from '../constants.js';
import { FLOWLENS_CLASSES } from '../frontend/classes.js';

/** A JupyterLab plugin (the shape of `@jupyterlab/application`'s `JupyterFrontEndPlugin`). */
export interface LabPlugin {
  id: string;
  requires: unknown[];
  autoStart: boolean;
  activate(app: unknown, registry: IJupyterWidgetRegistry): void;
}

/** Webpack's public path of this extension (`.../lab/extensions/flowlens-widgets/static/`), set by webpack. */
declare const __webpack_public_path__: string | undefined;

/**
 * The URL of the extension's `static/` folder: webpack's public path when built by
 * `@jupyterlab/builder` (`output.publicPath: 'auto'`, found from the remoteEntry script's URL).
 * @throws Error outside a webpack build (no public path).
 */
export function staticUrl(): string {
  const p = typeof __webpack_public_path__ === 'string' ? __webpack_public_path__ : '';
  if (!p) throw new Error('flowlens-widgets: no webpack public path (the plugin runs only from the built labextension)');
  return p.endsWith('/') ? p : `${p}/`;
}

let plotlyLoad: Promise<void> | undefined;

/**
 * Loads `<static>/plotly.min.js` with a script tag once, unless the page already has `window.Plotly`.
 * A global AMD `define` (RequireJS on the page) is hidden while the script runs, so that plotly's
 * UMD wrapper sets `window.Plotly` instead of defining an anonymous module.
 * @throws (rejects) when the script fails to load or sets no `window.Plotly`.
 */
export function loadLabPlotly(): Promise<void> {
  const g = globalThis as unknown as { Plotly?: unknown; define?: unknown };
  if (g.Plotly) return Promise.resolve();
  plotlyLoad ??= new Promise<void>((resolve, reject) => {
    const url = staticUrl() + LAB_PLOTLY_FILE;
    const define = g.define;
    g.define = undefined;
    const s = document.createElement('script');
    s.src = url;
    s.async = true;
    s.onload = () => {
      g.define = define;
      if (g.Plotly) resolve();
      else reject(new Error(`flowlens-widgets: ${url} loaded but set no window.Plotly`));
    };
    s.onerror = () => {
      g.define = define;
      reject(new Error(`flowlens-widgets: cannot load ${url} (reinstall with \`flowlens kernel install\`, which copies plotly.js there)`));
    };
    document.head.appendChild(s);
  });
  plotlyLoad.catch(() => (plotlyLoad = undefined));
  return plotlyLoad;
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
        // A plotly load failure must not stop the non-plotly views: the plotly views report it in place.
        await loadLabPlotly().catch((e: Error) => console.error(e.message));
        return FLOWLENS_CLASSES as never;
      },
    });
  },
};

export default flowlensWidgetsPlugin;
