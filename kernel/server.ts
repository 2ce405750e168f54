/**
 * Comm support added around tslab's Jupyter server.
 *
 * tslab 1.0.22 (`tslab/dist/jupyter.js`) has a `ZmqServer` whose `handleShellMessage(sock, ...frames)`
 * is called for every message on the shell and control ROUTER sockets. It knows no comms: it answers
 * `comm_info_request` with an empty list (and the wrong reply type) and drops `comm_open`,
 * `comm_msg`, `comm_close` as unknown. {@link installCommSupport} replaces that one prototype method
 * with a wrapper that
 *
 * 1. decodes the frames with our codec (`kernel/wire.ts`, which keeps binary buffers),
 * 2. handles the four comm message types itself: `busy` status, the {@link CommManager} call,
 *    a `comm_info_reply` on the same socket for `comm_info_request`, then `idle`, all with the
 *    request as parent header,
 * 3. passes every other message to tslab's original method unchanged, inside an
 *    `AsyncLocalStorage` scope holding the request's header, so that comm and display messages
 *    published while a cell runs (including from its timers and promises) carry that cell's
 *    `execute_request` as parent header, and messages sent from comm callbacks carry the
 *    `comm_msg` that triggered them.
 *
 * Nothing else in tslab changes; the wrapper reads the server's `connInfo.key` and `iopub` socket,
 * which tslab sets in `init()` before any message arrives.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { CommManager, type IopubPublisher } from './comm.js';
import { decodeMessage, encodeMessage, newHeader, type JupyterMessage, type MessageHeader } from './wire.js';

/** The parts of a zeromq v6 socket we use. */
export interface SendSocket {
  send(frames: Buffer[]): Promise<void> | void;
}

/** The parts of tslab's `ZmqServer` instance the wrapper reads. */
export interface TslabZmqServer {
  connInfo: { key: string; signature_scheme?: string };
  iopub: SendSocket;
  handleShellMessage(sock: SendSocket, ...frames: Buffer[]): Promise<void>;
}

/** Message types handled by the comm layer instead of tslab. */
export const COMM_MSG_TYPES: ReadonlySet<string> = new Set(['comm_open', 'comm_msg', 'comm_close', 'comm_info_request']);

const PATCHED = Symbol.for('flowlens.kernel.patchedHandleShellMessage');

/** Publishes iopub messages for the comm manager with the right parent header. */
export class KernelPublisher implements IopubPublisher {
  /** Header of the request being handled in the current async context. */
  readonly parentScope = new AsyncLocalStorage<MessageHeader>();
  /** Header of the last `execute_request`/`comm_open`/`comm_msg`: parent of messages sent outside any request's context. */
  lastParent: MessageHeader | undefined;
  /** The kernel's session id (header.session of the messages it originates). */
  readonly session = randomUUID().replace(/-/g, '');
  private server: TslabZmqServer | undefined;

  /** Sets the server whose iopub socket and key are used (done on its first message). */
  attach(server: TslabZmqServer): void {
    this.server = server;
  }

  /** The current parent header: the async context's request, else the last request. */
  currentParent(): MessageHeader | undefined {
    return this.parentScope.getStore() ?? this.lastParent;
  }

  /**
   * Publishes on iopub.
   * @throws Error when the kernel server has not received a message yet (no socket attached).
   */
  publish(msgType: string, content: unknown, metadata: Record<string, unknown>, buffers: Buffer[]): void {
    const server = this.server;
    if (!server) throw new Error(`flowlens kernel: cannot publish ${msgType}: the kernel is not connected yet`);
    const parent = this.currentParent();
    const msg: JupyterMessage<unknown> = {
      identities: [],
      header: newHeader(msgType, parent?.session ?? this.session, parent?.username ?? 'kernel'),
      parent_header: parent ?? {},
      metadata,
      content,
      buffers,
    };
    sendFrames(server.iopub, encodeMessage(msg, server.connInfo.key));
  }

  /** Sends a reply to `request` on `sock` (shell or control). */
  reply(sock: SendSocket, request: JupyterMessage, msgType: string, content: unknown): void {
    const key = this.server?.connInfo.key ?? '';
    const msg: JupyterMessage<unknown> = {
      identities: request.identities,
      header: newHeader(msgType, request.header.session, request.header.username),
      parent_header: request.header,
      metadata: {},
      content,
      buffers: [],
    };
    sendFrames(sock, encodeMessage(msg, key));
  }

  /** Publishes a `status` message for `request`. */
  status(request: JupyterMessage, state: 'busy' | 'idle'): void {
    this.parentScope.run(request.header, () => this.publish('status', { execution_state: state }, {}, []));
  }
}

/** Sends frames, reporting (not throwing) asynchronous socket errors. */
function sendFrames(sock: SendSocket, frames: Buffer[]): void {
  try {
    const p = sock.send(frames);
    if (p && typeof (p as Promise<void>).catch === 'function') {
      (p as Promise<void>).catch((e) => console.error('flowlens kernel: zmq send failed:', e));
    }
  } catch (e) {
    console.error('flowlens kernel: zmq send failed:', e);
  }
}

/**
 * Handles one comm request (`comm_open`, `comm_msg`, `comm_close`, `comm_info_request`).
 * Publishes `busy`, dispatches to the manager, replies for `comm_info_request`, publishes `idle`.
 */
export async function handleCommRequest(
  manager: CommManager,
  publisher: KernelPublisher,
  sock: SendSocket,
  msg: JupyterMessage,
): Promise<void> {
  publisher.status(msg, 'busy');
  try {
    await publisher.parentScope.run(msg.header, async () => {
      switch (msg.header.msg_type) {
        case 'comm_open':
          await manager.handleCommOpen(msg);
          break;
        case 'comm_msg':
          await manager.handleCommMsg(msg);
          break;
        case 'comm_close':
          manager.handleCommClose(msg);
          break;
        case 'comm_info_request': {
          const target = (msg.content as { target_name?: string }).target_name;
          publisher.reply(sock, msg, 'comm_info_reply', manager.commInfo(target || undefined));
          break;
        }
      }
    });
  } catch (e) {
    console.error(`flowlens kernel: error handling ${msg.header.msg_type}:`, e);
  } finally {
    publisher.status(msg, 'idle');
  }
}

/**
 * Wraps `serverPrototype.handleShellMessage` (tslab's `ZmqServer.prototype`) with comm support
 * (see the file comment). Idempotent: a second call on the same prototype does nothing.
 *
 * @param serverPrototype `ZmqServer.prototype` from `tslab/dist/jupyter.js`.
 * @param manager the comm manager receiving front-end comm messages.
 * @param publisher the publisher the manager was built with.
 * @throws Error when the prototype has no `handleShellMessage` (an incompatible tslab version).
 */
export function installCommSupport(serverPrototype: TslabZmqServer, manager: CommManager, publisher: KernelPublisher): void {
  const original = serverPrototype.handleShellMessage as TslabZmqServer['handleShellMessage'] & { [PATCHED]?: true };
  if (typeof original !== 'function') {
    throw new Error('installCommSupport: tslab ZmqServer has no handleShellMessage; tslab version is not 1.0.22-compatible');
  }
  if (original[PATCHED]) return;
  const wrapped = async function (this: TslabZmqServer, sock: SendSocket, ...frames: Buffer[]): Promise<void> {
    publisher.attach(this);
    let msg: JupyterMessage;
    try {
      msg = decodeMessage(frames, this.connInfo.key);
    } catch {
      // Let tslab report malformed messages the way it always has.
      return original.call(this, sock, ...frames);
    }
    const type = msg.header.msg_type;
    if (type === 'execute_request' || type === 'comm_open' || type === 'comm_msg') publisher.lastParent = msg.header;
    if (COMM_MSG_TYPES.has(msg.header.msg_type)) {
      return handleCommRequest(manager, publisher, sock, msg);
    }
    return publisher.parentScope.run(msg.header, () => original.call(this, sock, ...frames));
  };
  (wrapped as unknown as { [PATCHED]: true })[PATCHED] = true;
  serverPrototype.handleShellMessage = wrapped;
}
