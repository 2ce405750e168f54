/**
 * Kernel side of the Jupyter widget message protocol, version 2.1 (ipywidgets'
 * `packages/schema/messages.md`), over the comms of `kernel/comm.ts`:
 *
 * - creation: `comm_open` to target `jupyter.widget`, data `{state, buffer_paths}`, metadata
 *   `{version: "2.1.0"}`; the state holds `_model_module`/`_model_module_version`/`_model_name`
 *   and `_view_*` naming the front-end classes (module `flowlens-widgets`);
 * - state sync both ways: `{method: "update", state, buffer_paths}` with binary leaves as buffers;
 * - `{method: "request_state"}` from the front end is answered with a full `update`;
 * - `{method: "custom", content}` both ways (with buffers);
 * - display: `application/vnd.jupyter.widget-view+json` `{model_id, version_major: 2,
 *   version_minor: 1}`, here always together with a static `text/html` rendering of the same
 *   figure (no network) and `text/plain`, so saved notebooks show it without a kernel;
 * - the `jupyter.widget.control` target: `{method: "request_states"}` is answered with
 *   `{method: "update_states", states, buffer_paths}` for every live widget, which lets a
 *   reloaded page rebuild its views.
 *
 * The kernel does not send `echo_update` (optional in 2.1; only needed with several front ends).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { getCommManager, type Comm, type CommManager, type CommMessage } from '../kernel/comm.js';
import { MIME_BUNDLE, type MimeBundle } from '../src/display.js';
import { putBuffers, removeBuffers, type BufferPath } from './buffers.js';
import { WIDGET_MODULE, WIDGET_MODULE_VERSION, WIDGET_VIEW_MIME } from './constants.js';

/** Widget protocol version (comm_open metadata `version`). */
export const WIDGET_PROTOCOL_VERSION = '2.1.0';
/** Comm target of widget models. */
export const WIDGET_TARGET = 'jupyter.widget';
/** Comm target of the widget control channel (protocol 2.1). */
export const CONTROL_TARGET = 'jupyter.widget.control';
export { WIDGET_MODULE, WIDGET_MODULE_VERSION, WIDGET_VIEW_MIME };

/** The model and view names every widget state carries. */
export interface WidgetBaseState {
  _model_module: string;
  _model_module_version: string;
  _model_name: string;
  _view_module: string;
  _view_module_version: string;
  _view_name: string;
  _view_count: number | null;
}

/** A display bundle of a widget. */
export interface WidgetBundle {
  [WIDGET_VIEW_MIME]: { model_id: string; version_major: number; version_minor: number };
  'text/html': string;
  'text/plain': string;
}

/** Options of {@link Widget}'s constructor. */
export interface WidgetOptions {
  /** Comm manager to use (default: the kernel's, {@link getCommManager}). */
  manager?: CommManager;
}

/** Live widgets of the process, by model id (answered to `request_states`). */
const LIVE = Symbol.for('flowlens.widgets.live');
function liveWidgets(): Map<string, Widget<Record<string, unknown>>> {
  const g = globalThis as Record<symbol, unknown>;
  return (g[LIVE] ??= new Map()) as Map<string, Widget<Record<string, unknown>>>;
}
const CONTROL_REGISTERED = new WeakSet<CommManager>();

/** HTML-escapes text for the static renderings. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A widget model living in the kernel, mirrored by a front-end model of `_model_name` in
 * `flowlens-widgets`. Subclasses give the model/view names, the initial state, and
 * {@link Widget.renderStatic}.
 *
 * @typeParam S the widget's own state (without the `_model_*`/`_view_*` keys); binary leaves
 *   (typed arrays) travel as buffers.
 */
export abstract class Widget<S extends Record<string, unknown>> {
  /** The comm carrying this widget; its id is the model id. */
  readonly comm: Comm;
  /** The comm manager the widget lives on. */
  readonly manager: CommManager;
  /** `_model_name` of the front-end model class. */
  readonly modelName: string;
  /** `_view_name` of the front-end view class. */
  readonly viewName: string;
  private current: S;
  private readonly changeCallbacks = new Set<(changed: (keyof S)[], state: Readonly<S>) => void>();
  private readonly customCallbacks = new Set<(content: Record<string, unknown>, buffers: Uint8Array[]) => void>();

  /**
   * Opens the widget's comm (`comm_open` with the full state).
   * @param names `_model_name` and `_view_name` of the front-end classes.
   * @param initial initial state.
   * @param opts comm manager.
   * @throws Error when not inside the flowlens kernel and no manager is given.
   */
  constructor(names: { model: string; view: string }, initial: S, opts: WidgetOptions = {}) {
    this.manager = opts.manager ?? getCommManager();
    this.modelName = names.model;
    this.viewName = names.view;
    ensureControlTarget(this.manager);
    this.current = { ...initial };
    const { state, buffer_paths, buffers } = removeBuffers(this.fullState());
    this.comm = this.manager.openComm(WIDGET_TARGET, { state, buffer_paths }, { version: WIDGET_PROTOCOL_VERSION }, buffers);
    const live = liveWidgets();
    live.set(this.comm.commId, this as unknown as Widget<Record<string, unknown>>);
    this.comm.onMsg((msg) => this.handle(msg));
    this.comm.onClose(() => live.delete(this.comm.commId));
  }

  /** The model id (= comm id). */
  get modelId(): string {
    return this.comm.commId;
  }

  /** The current state (read-only view; change it with {@link Widget.set}). */
  get state(): Readonly<S> {
    return this.current;
  }

  /** The base names (`_model_*`, `_view_*`) and the state, as sent in `comm_open`. */
  fullState(): Record<string, unknown> {
    const base: WidgetBaseState = {
      _model_module: WIDGET_MODULE,
      _model_module_version: WIDGET_MODULE_VERSION,
      _model_name: this.modelName,
      _view_module: WIDGET_MODULE,
      _view_module_version: WIDGET_MODULE_VERSION,
      _view_name: this.viewName,
      _view_count: null,
    };
    return { ...base, ...this.current };
  }

  /**
   * Static HTML rendering of the widget's current state: self-contained (inline styles, no
   * scripts, no network), shown where no widget manager runs (nbconvert, GitHub).
   */
  abstract renderStatic(): string;

  /**
   * Writes the static rendering as a self-contained HTML page (inline SVG, no script, no network),
   * atomically (temp file, then rename). Plotly-based widgets override this with their plotly
   * figure (plotly.js inlined, see `src/viz/html.ts`).
   * @throws Error when the file cannot be written.
   */
  exportHtml(path: string): void {
    const page = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(this.renderText())}</title>\n</head>\n<body style="font-family:sans-serif;margin:1.5em">\n${this.renderStatic()}\n</body>\n</html>\n`;
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, page);
    renameSync(tmp, path);
  }

  /** Plain-text stand-in for the widget. */
  renderText(): string {
    return `${this.modelName}(${this.modelId})`;
  }

  /**
   * Changes state and sends `{method: "update"}` with the changed keys to the front end.
   * @param patch keys to change; typed arrays go as buffers.
   * @throws Error if the widget was closed.
   */
  set(patch: Partial<S>): void {
    const keys = Object.keys(patch) as (keyof S)[];
    if (keys.length === 0) return;
    this.current = { ...this.current, ...patch };
    const { state, buffer_paths, buffers } = removeBuffers(patch as Record<string, unknown>);
    this.comm.send({ method: 'update', state, buffer_paths }, buffers);
    this.emitChange(keys);
  }

  /**
   * Registers a callback for state changes (from {@link Widget.set} or from the front end).
   * @returns a function removing it.
   */
  onChange(cb: (changed: (keyof S)[], state: Readonly<S>) => void): () => void {
    this.changeCallbacks.add(cb);
    return () => this.changeCallbacks.delete(cb);
  }

  /**
   * Sends `{method: "custom", content}` to the front-end model.
   * @throws Error if the widget was closed.
   */
  sendCustom(content: Record<string, unknown>, buffers: (ArrayBuffer | ArrayBufferView)[] = []): void {
    this.comm.send({ method: 'custom', content }, buffers);
  }

  /**
   * Registers a callback for `custom` messages from the front end.
   * @returns a function removing it.
   */
  onCustom(cb: (content: Record<string, unknown>, buffers: Uint8Array[]) => void): () => void {
    this.customCallbacks.add(cb);
    return () => this.customCallbacks.delete(cb);
  }

  /**
   * Converts a value received from the front end for `key` before it enters the state; the
   * default keeps it (binary values arrive as Node Buffers). Override to turn bytes into a typed
   * array, or to validate.
   */
  protected deserialize(key: keyof S, value: unknown): unknown {
    void key;
    return value;
  }

  /** The display bundle: the widget view reference, the static HTML and plain text. */
  bundle(): WidgetBundle {
    return {
      [WIDGET_VIEW_MIME]: { model_id: this.modelId, version_major: 2, version_minor: 1 },
      'text/html': this.renderStatic(),
      'text/plain': this.renderText(),
    };
  }

  /** Display protocol (`src/display.ts`): a widget as a cell's last expression shows as its view. */
  [MIME_BUNDLE](): MimeBundle {
    return this.bundle() as unknown as MimeBundle;
  }

  /**
   * Shows the widget in the current cell's output (`display_data` with {@link Widget.bundle}).
   * Returns nothing, so that tslab does not also print a value when this ends a cell.
   */
  display(): void {
    this.manager.display(this.bundle() as unknown as FlowlensDisplayBundle);
  }

  /** Closes the comm; the front end destroys the model and its views. */
  close(): void {
    this.comm.close();
  }

  private emitChange(keys: (keyof S)[]): void {
    for (const cb of [...this.changeCallbacks]) cb(keys, this.current);
  }

  private handle(msg: CommMessage): void {
    const data = msg.content.data as { method?: string; state?: Record<string, unknown>; buffer_paths?: BufferPath[]; content?: Record<string, unknown> };
    switch (data.method) {
      case 'update': {
        const state = { ...(data.state ?? {}) };
        putBuffers(state, data.buffer_paths ?? [], msg.buffers);
        const keys = Object.keys(state).filter((k) => !k.startsWith('_model_') && !k.startsWith('_view_')) as (keyof S)[];
        if (keys.length === 0) return;
        const next = { ...this.current };
        for (const k of keys) next[k] = this.deserialize(k, state[k as string]) as S[keyof S];
        this.current = next;
        this.emitChange(keys);
        return;
      }
      case 'request_state': {
        const { state, buffer_paths, buffers } = removeBuffers(this.fullState());
        this.comm.send({ method: 'update', state, buffer_paths }, buffers);
        return;
      }
      case 'custom':
        for (const cb of [...this.customCallbacks]) cb(data.content ?? {}, msg.buffers);
        return;
      default:
        console.error(`flowlens widgets: unknown method ${JSON.stringify(data.method)} for widget ${this.modelId}`);
    }
  }
}

/**
 * Registers the `jupyter.widget.control` target on `manager` (once): a front end that opens it and
 * sends `{method: "request_states"}` gets `{method: "update_states", states: {id: {model_name,
 * model_module, model_module_version, state}}, buffer_paths}` where the paths start at `states`
 * (`[id, "state", key, ...]`), with the buffers in the order of the paths.
 */
export function ensureControlTarget(manager: CommManager): void {
  if (CONTROL_REGISTERED.has(manager)) return;
  CONTROL_REGISTERED.add(manager);
  manager.registerTarget(CONTROL_TARGET, (comm) => {
    comm.onMsg((msg) => {
      if ((msg.content.data as { method?: string }).method !== 'request_states') return;
      const all: Record<string, unknown> = {};
      for (const [id, w] of liveWidgets()) {
        if (w.comm.closed || w.manager !== manager) continue;
        all[id] = { model_name: w.modelName, model_module: WIDGET_MODULE, model_module_version: WIDGET_MODULE_VERSION, state: w.fullState() };
      }
      // As ipywidgets does: buffer paths run from the root of `states`, i.e. [id, 'state', ...].
      const { state: states, buffer_paths, buffers } = removeBuffers(all);
      comm.send({ method: 'update_states', states, buffer_paths }, buffers);
    });
  });
}
