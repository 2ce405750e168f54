/** Names shared by the kernel side (`widgets/protocol.ts`) and the front end (`widgets/frontend/`). */

/** Front-end module holding flowlens' model and view classes. */
export const WIDGET_MODULE = 'flowlens-widgets';
/** Version of {@link WIDGET_MODULE} (semver; the kernel asks for it, the front end provides it). */
export const WIDGET_MODULE_VERSION = '0.1.0';
/** MIME type of a widget view reference. */
export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';
/** File name of plotly.js in the installed JupyterLab extension's `static/` folder (`widgets/labextension.ts`). */
export const LAB_PLOTLY_FILE = 'plotly.min.js';
