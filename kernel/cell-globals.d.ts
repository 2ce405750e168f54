/**
 * Global declarations seen by notebook cells run by the flowlens kernel.
 *
 * The kernel (`kernel/main.ts`) makes tslab's type checker read this file before every cell
 * (a `/// <reference path>` put in front of tslab's running declarations), and sets
 * `globalThis.flowlensComm` at start-up, so a cell can write `flowlensComm.openComm(...)`
 * without importing anything. The file is a global script (no import/export) and must stay
 * self-contained: cells are compiled with the notebook's folder as root, so it cannot import
 * our `.ts` sources.
 *
 * `kernel/comm.ts` implements these interfaces.
 */

/** JSON-compatible value carried in a comm message's `data`. */
type FlowlensJson = string | number | boolean | null | FlowlensJson[] | { [key: string]: FlowlensJson };

/** Binary payload attached to a comm message (sent as extra ZeroMQ frames). */
type FlowlensBuffer = ArrayBuffer | ArrayBufferView;

/** Header of a Jupyter message (messaging protocol 5.3). */
interface FlowlensMessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

/** A comm message received from the front end (`comm_open`, `comm_msg` or `comm_close`). */
interface FlowlensCommMessage {
  header: FlowlensMessageHeader;
  parent_header: Partial<FlowlensMessageHeader>;
  metadata: { [key: string]: unknown };
  content: { comm_id: string; data: { [key: string]: any }; target_name?: string; target_module?: string | null };
  /** Binary frames that came with the message, in order (Node Buffers). */
  buffers: Uint8Array[];
}

/** The kernel side of one comm (a channel to one front-end object). */
interface FlowlensComm {
  /** The comm id (a hex UUID), shared with the front end. */
  readonly commId: string;
  /** The target name the comm was opened with, e.g. `jupyter.widget`. */
  readonly targetName: string;
  /** True after `close()` or after the front end closed it. */
  readonly closed: boolean;
  /** Sends `comm_msg` with `data` (and binary `buffers`) to the front end; throws if closed. */
  send(data?: { [key: string]: any }, buffers?: FlowlensBuffer[], metadata?: { [key: string]: unknown }): void;
  /** Registers a callback for `comm_msg` from the front end. Returns a function that removes it. */
  onMsg(cb: (msg: FlowlensCommMessage) => void | Promise<void>): () => void;
  /** Registers a callback run once when the comm closes (from either side). */
  onClose(cb: (msg: FlowlensCommMessage | null) => void): () => void;
  /** Sends `comm_close` (unless already closed) and forgets the comm. */
  close(data?: { [key: string]: any }, buffers?: FlowlensBuffer[], metadata?: { [key: string]: unknown }): void;
}

/** A rich display bundle: MIME type to content. */
interface FlowlensDisplayBundle {
  [mimeType: string]: unknown;
}

/** Options of `flowlensComm.display`. */
interface FlowlensDisplayOptions {
  /** Per-MIME metadata (`metadata` field of `display_data`). */
  metadata?: { [key: string]: unknown };
  /** Display id, to update the output later with `update: true`. */
  displayId?: string;
  /** Send `update_display_data` for `displayId` instead of a new `display_data`. */
  update?: boolean;
}

/** The kernel-side comm API available to cells as `flowlensComm`. */
interface FlowlensCommApi {
  /** Opens a comm to the front end (`comm_open` on iopub) and returns it. */
  openComm(targetName: string, data?: { [key: string]: any }, metadata?: { [key: string]: unknown }, buffers?: FlowlensBuffer[]): FlowlensComm;
  /** Registers the handler for comms the front end opens to `targetName`; replaces an older one. */
  registerTarget(targetName: string, handler: (comm: FlowlensComm, msg: FlowlensCommMessage) => void | Promise<void>): void;
  /** Removes a target registered with `registerTarget`. */
  unregisterTarget(targetName: string): void;
  /** The open comms, by id. */
  comms(): Map<string, FlowlensComm>;
  /** Publishes `display_data` (or `update_display_data`) with the bundle to the current cell's output. */
  display(bundle: FlowlensDisplayBundle, options?: FlowlensDisplayOptions): void;
  /** Clears the cell's output (`clear_output`); with `wait`, when the next output arrives. */
  clearOutput(wait?: boolean): void;
}

/** The kernel's comm API; defined when running inside the flowlens kernel. */
declare var flowlensComm: FlowlensCommApi;
