/**
 * Jupyter comms on the kernel side (messaging spec 5.3, "Custom Messages"): the `comm_open`,
 * `comm_msg`, `comm_close` messages both ways, `comm_info_request` on shell, comm targets, and
 * rich display output. Transport-free: the manager publishes through an {@link IopubPublisher},
 * so it runs the same inside the kernel (`kernel/server.ts`) and in unit tests.
 *
 * Inside the kernel the manager is reachable from any module copy through
 * {@link getCommManager} (a `Symbol.for` slot on `globalThis`), and cells see it as the global
 * `flowlensComm` (types in `kernel/cell-globals.d.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { JupyterMessage } from './wire.js';
import { toBuffer } from './wire.js';

/** JSON object payload of a comm message. */
export type CommData = { [key: string]: any };

/** A comm message as delivered to callbacks. */
export type CommMessage = FlowlensCommMessage;

/** Binary payload accepted by `send`/`openComm`. */
export type BufferLike = ArrayBuffer | ArrayBufferView;

/** Where the manager sends iopub messages; the kernel stamps header and parent header. */
export interface IopubPublisher {
  /**
   * Publishes one iopub message.
   * @param msgType e.g. `comm_open`, `comm_msg`, `comm_close`, `display_data`.
   * @param content the message content (JSON).
   * @param metadata the message metadata (JSON).
   * @param buffers binary frames appended to the message.
   */
  publish(msgType: string, content: unknown, metadata: Record<string, unknown>, buffers: Buffer[]): void;
}

/** Handler of comms the front end opens to a registered target. */
export type TargetHandler = (comm: Comm, msg: CommMessage) => void | Promise<void>;

/** Reports an exception thrown by a user callback without killing the kernel. */
function report(where: string, e: unknown): void {
  console.error(`flowlens kernel: error in ${where}:`, e);
}

/** Kernel side of one comm. Create with {@link CommManager.openComm}. */
export class Comm implements FlowlensComm {
  private readonly msgCallbacks = new Set<(msg: CommMessage) => void | Promise<void>>();
  private readonly closeCallbacks = new Set<(msg: CommMessage | null) => void>();
  private isClosed = false;

  /** @internal use {@link CommManager.openComm}. */
  constructor(
    private readonly manager: CommManager,
    readonly commId: string,
    readonly targetName: string,
  ) {}

  /** True once closed from either side. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Sends `comm_msg` `{comm_id, data}` on iopub.
   * @param data JSON object.
   * @param buffers binary frames (typed arrays, ArrayBuffers).
   * @param metadata message metadata.
   * @throws Error if the comm is closed.
   */
  send(data: CommData = {}, buffers: BufferLike[] = [], metadata: Record<string, unknown> = {}): void {
    if (this.isClosed) throw new Error(`comm ${this.commId} (${this.targetName}) is closed; cannot send`);
    this.manager.publisher.publish('comm_msg', { comm_id: this.commId, data }, metadata, buffers.map(toBuffer));
  }

  /**
   * Adds a `comm_msg` callback.
   * @returns a function removing the callback.
   */
  onMsg(cb: (msg: CommMessage) => void | Promise<void>): () => void {
    this.msgCallbacks.add(cb);
    return () => this.msgCallbacks.delete(cb);
  }

  /**
   * Adds a close callback; it gets the front end's `comm_close` message, or `null` when closed
   * from the kernel.
   * @returns a function removing the callback.
   */
  onClose(cb: (msg: CommMessage | null) => void): () => void {
    this.closeCallbacks.add(cb);
    return () => this.closeCallbacks.delete(cb);
  }

  /**
   * Sends `comm_close` and forgets the comm; a no-op when already closed.
   * @param data JSON object sent with the close.
   * @param buffers binary frames.
   * @param metadata message metadata.
   */
  close(data: CommData = {}, buffers: BufferLike[] = [], metadata: Record<string, unknown> = {}): void {
    if (this.isClosed) return;
    this.manager.publisher.publish('comm_close', { comm_id: this.commId, data }, metadata, buffers.map(toBuffer));
    this.closedBy(null);
  }

  /** @internal delivers a front-end `comm_msg` to the callbacks, in registration order. */
  async deliver(msg: CommMessage): Promise<void> {
    for (const cb of [...this.msgCallbacks]) {
      try {
        await cb(msg);
      } catch (e) {
        report(`comm ${this.commId} message callback`, e);
      }
    }
  }

  /** @internal marks closed, runs close callbacks once, unregisters. */
  closedBy(msg: CommMessage | null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.manager.forget(this.commId);
    for (const cb of [...this.closeCallbacks]) {
      try {
        cb(msg);
      } catch (e) {
        report(`comm ${this.commId} close callback`, e);
      }
    }
    this.msgCallbacks.clear();
    this.closeCallbacks.clear();
  }
}

/** Content of a `comm_info_reply`. */
export interface CommInfoReply {
  status: 'ok';
  comms: Record<string, { target_name: string }>;
}

/** All comms and targets of one kernel. */
export class CommManager implements FlowlensCommApi {
  private readonly open = new Map<string, Comm>();
  private readonly targets = new Map<string, TargetHandler>();

  /** @param publisher where comm and display messages go. */
  constructor(readonly publisher: IopubPublisher) {}

  /**
   * Opens a comm from the kernel: publishes `comm_open` `{comm_id, target_name, data}`.
   * @param targetName the front-end target, e.g. `jupyter.widget`.
   * @param data JSON object (for widgets: `{state, buffer_paths}`).
   * @param metadata message metadata (for widgets: `{version: "2.1.0"}`).
   * @param buffers binary frames.
   * @param commId a given id (default: a new hex UUID).
   * @throws Error if `targetName` is empty or `commId` is already open.
   */
  openComm(
    targetName: string,
    data: CommData = {},
    metadata: Record<string, unknown> = {},
    buffers: BufferLike[] = [],
    commId: string = randomUUID().replace(/-/g, ''),
  ): Comm {
    if (!targetName) throw new Error('openComm: targetName must be a non-empty string');
    if (this.open.has(commId)) throw new Error(`openComm: comm id ${commId} is already open`);
    const comm = new Comm(this, commId, targetName);
    this.open.set(commId, comm);
    this.publisher.publish('comm_open', { comm_id: commId, target_name: targetName, data }, metadata, buffers.map(toBuffer));
    return comm;
  }

  /**
   * Registers the handler for front-end `comm_open` to `targetName` (replaces an older one).
   * @throws Error if `targetName` is empty.
   */
  registerTarget(targetName: string, handler: TargetHandler): void {
    if (!targetName) throw new Error('registerTarget: targetName must be a non-empty string');
    this.targets.set(targetName, handler);
  }

  /** Removes the handler of `targetName` (no-op if none). */
  unregisterTarget(targetName: string): void {
    this.targets.delete(targetName);
  }

  /** A copy of the open comms, by comm id. */
  comms(): Map<string, Comm> {
    return new Map(this.open);
  }

  /** The open comm with this id, if any. */
  get(commId: string): Comm | undefined {
    return this.open.get(commId);
  }

  /**
   * Publishes rich output for the current cell.
   * @param bundle MIME type to content, e.g. `{'text/html': '<b>x</b>', 'text/plain': 'x'}`.
   * @param options metadata, display id, update flag.
   * @throws Error if `bundle` has no MIME type, or `update` is set without `displayId`.
   */
  display(bundle: FlowlensDisplayBundle, options: FlowlensDisplayOptions = {}): void {
    if (!bundle || Object.keys(bundle).length === 0) throw new Error('display: bundle must have at least one MIME type');
    if (options.update && !options.displayId) throw new Error('display: update needs a displayId');
    const transient = options.displayId ? { display_id: options.displayId } : {};
    this.publisher.publish(options.update ? 'update_display_data' : 'display_data', { data: bundle, metadata: options.metadata ?? {}, transient }, {}, []);
  }

  /**
   * Clears the current cell's output (`clear_output` on iopub).
   * @param wait when true, the front end clears only when the next output arrives (no flicker in loops).
   */
  clearOutput(wait = false): void {
    this.publisher.publish('clear_output', { wait }, {}, []);
  }

  /** @internal called by {@link Comm.closedBy}. */
  forget(commId: string): void {
    this.open.delete(commId);
  }

  /**
   * Handles a front-end `comm_open`: runs the target's handler with the new comm; with no such
   * target, answers `comm_close` (as ipykernel does).
   */
  async handleCommOpen(msg: JupyterMessage): Promise<void> {
    const m = asCommMessage(msg);
    const { comm_id: commId, target_name: targetName } = m.content;
    if (!commId || !targetName) {
      report('comm_open', new Error('comm_open without comm_id or target_name'));
      return;
    }
    const handler = this.targets.get(targetName);
    if (!handler) {
      console.error(`flowlens kernel: no comm target "${targetName}" registered; closing comm ${commId}`);
      this.publisher.publish('comm_close', { comm_id: commId, data: {} }, {}, []);
      return;
    }
    if (this.open.has(commId)) {
      report('comm_open', new Error(`comm id ${commId} is already open`));
      return;
    }
    const comm = new Comm(this, commId, targetName);
    this.open.set(commId, comm);
    try {
      await handler(comm, m);
    } catch (e) {
      report(`comm target "${targetName}" handler`, e);
    }
  }

  /** Handles a front-end `comm_msg`: hands it to the comm's callbacks (unknown ids are reported). */
  async handleCommMsg(msg: JupyterMessage): Promise<void> {
    const m = asCommMessage(msg);
    const comm = this.open.get(m.content.comm_id);
    if (!comm) {
      console.error(`flowlens kernel: comm_msg for unknown comm ${m.content.comm_id}`);
      return;
    }
    await comm.deliver(m);
  }

  /** Handles a front-end `comm_close`: runs close callbacks and forgets the comm. */
  handleCommClose(msg: JupyterMessage): void {
    const m = asCommMessage(msg);
    this.open.get(m.content.comm_id)?.closedBy(m);
  }

  /**
   * Content of the `comm_info_reply`.
   * @param targetName only comms of this target when given (as in the spec).
   */
  commInfo(targetName?: string): CommInfoReply {
    const comms: Record<string, { target_name: string }> = {};
    for (const [id, c] of this.open) {
      if (!targetName || c.targetName === targetName) comms[id] = { target_name: c.targetName };
    }
    return { status: 'ok', comms };
  }
}

/** Narrows a decoded message to the comm message shape given to callbacks. */
function asCommMessage(msg: JupyterMessage): CommMessage {
  const content = (msg.content ?? {}) as CommMessage['content'];
  return {
    header: msg.header,
    parent_header: msg.parent_header,
    metadata: msg.metadata,
    content: { ...content, data: content.data ?? {} },
    buffers: msg.buffers,
  };
}

const SLOT = Symbol.for('flowlens.kernel.commManager');

/**
 * Makes `manager` the process-wide comm manager and sets `globalThis.flowlensComm` to it.
 * Called once by the kernel at start-up; tests may call it with a manager on a fake publisher.
 */
export function setCommManager(manager: CommManager | undefined): void {
  const g = globalThis as Record<symbol | string, unknown>;
  g[SLOT] = manager;
  if (manager) g.flowlensComm = manager;
  else delete g.flowlensComm;
}

/**
 * The process-wide comm manager (shared by every copy of this module in the process).
 * @throws Error when not running inside the flowlens kernel (no manager set).
 */
export function getCommManager(): CommManager {
  const m = (globalThis as Record<symbol, unknown>)[SLOT] as CommManager | undefined;
  if (!m) throw new Error('flowlens comm: not running inside the flowlens kernel (no comm manager; start notebooks with the "flowlens" kernel)');
  return m;
}

/** True when a comm manager is set (i.e. inside the flowlens kernel). */
export function hasCommManager(): boolean {
  return (globalThis as Record<symbol, unknown>)[SLOT] !== undefined;
}
