/**
 * The flowlens kernel's Jupyter server (messaging protocol 5.3), in place of tslab's `ZmqServer`:
 * ZeroMQ sockets from the connection file, the wire codec of `kernel/wire.ts` (binary buffers
 * kept), and these rules, which tslab did not follow:
 *
 * - shell requests are handled one at a time, in arrival order, each as `status: busy`, its
 *   messages, its reply, `status: idle`; the next request starts only after those are handed to
 *   ZeroMQ ({@link SendQueue.drain}), so a reply never waits behind the next cell's computation and
 *   the busy/idle indicator is right during Run All;
 * - every socket has one send in flight at a time ({@link SendQueue}); zeromq.js 6 throws "Socket
 *   is busy writing" on a second concurrent send, which used to drop messages (a widget's update
 *   from a comm callback, under load);
 * - `execute_request`: `execute_input`, stream output, `execute_result` with the MIME bundle of the
 *   last expression (display protocol, `src/display.ts`), `error` with ename/evalue/traceback (the
 *   same in `execute_reply`); after an error with `stop_on_error`, requests already queued are
 *   answered `aborted`, as ipykernel does; `code?` puts the inspection of `code` in a pager payload;
 * - `kernel_info_request` (with `status`), `complete_request`, `inspect_request`,
 *   `is_complete_request` (complete/incomplete/invalid), `history_request` (tail, range, search; in
 *   memory, this kernel process only), `comm_open`/`comm_msg`/`comm_close`/`comm_info_request`
 *   (`kernel/comm.ts`), and on the control socket also `shutdown_request` and `interrupt_request`.
 *
 * Messages published while a request is handled, including later ones from its timers and
 * promises, carry that request as parent header (AsyncLocalStorage in {@link KernelPublisher}).
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { runInterruptible } from './awaitCells.js';
import { CommManager, type IopubPublisher } from './comm.js';
import { tslabDir } from './converter.js';
import { bundleOf } from './display.js';
import type { Executor } from './executor.js';
import { recoverTfjsEngine } from './tfjsRecover.js';
import { History, type HistoryRequest } from './history.js';
import { decodeMessage, encodeMessage, newHeader, PROTOCOL_VERSION, type JupyterMessage, type MessageHeader } from './wire.js';

const require = createRequire(import.meta.url);

/** The parts of a zeromq.js 6 socket used here. */
export interface ZmqSocket {
  send(frames: Buffer[]): Promise<void>;
  bind(address: string): Promise<void>;
  close(): void;
  /** The next message (only while no other receive is pending). */
  receive(): Promise<Buffer[]>;
  /** True when a message is waiting to be received. */
  readonly readable: boolean;
  [Symbol.asyncIterator](): AsyncIterator<Buffer[]>;
}

/** Jupyter connection file contents. */
export interface ConnectionInfo {
  transport: string;
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme?: string;
}

/**
 * Writes to the process's real stderr (the terminal, or Jupyter's log when it captures it), not
 * to the current cell: `kernel/start.ts` sends `process.stderr` to the cells.
 */
export const rawStderr: (text: string) => void = (
  (write: (s: string) => boolean) => (text: string) =>
    void write(text)
)(process.stderr.write.bind(process.stderr));

/**
 * Appends a line to the file named by `FLOWLENS_KERNEL_LOG` (no-op when unset). The kernel's stderr
 * goes to the cells, and Notebook does not show it in its log; this is the way to debug the kernel.
 */
export function kernelLog(...parts: unknown[]): void {
  const file = process.env.FLOWLENS_KERNEL_LOG;
  if (!file) return;
  try {
    appendFileSync(file, `${new Date().toISOString()} ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`);
  } catch {
    /* logging must never break the kernel */
  }
}

/**
 * Sends on one socket in order, never two sends in flight (zeromq.js 6 throws EBUSY on a send
 * while an earlier one is still being written). A message goes out at once when nothing is
 * waiting, even while a cell computes synchronously (zeromq sends up to 512 messages per event-loop
 * turn without waiting), so a long cell's output appears while it runs; otherwise it waits for the
 * ones before it.
 */
export class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly sock: Pick<ZmqSocket, 'send'>,
    private readonly name: string,
  ) {}

  /** Queues `frames`; a failed send is logged (`kernelLog` and the real stderr), never thrown. */
  send(frames: Buffer[]): void {
    if (this.waiting === 0) {
      try {
        const p = this.sock.send(frames);
        const prev = this.tail;
        this.tail = Promise.all([prev, p.catch((e) => this.failed(e))]).then(() => undefined);
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EBUSY') return this.failed(e);
      }
    }
    this.waiting++;
    this.tail = this.tail
      .then(() => this.sendWhenFree(frames))
      .catch((e) => this.failed(e))
      .finally(() => {
        this.waiting--;
      });
  }

  private async sendWhenFree(frames: Buffer[]): Promise<void> {
    for (;;) {
      try {
        return await this.sock.send(frames);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EBUSY') throw e;
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  private failed(e: unknown): void {
    kernelLog(`send on ${this.name} failed:`, String(e));
    rawStderr(`flowlens kernel: send on ${this.name} failed: ${e}\n`);
  }

  /** Resolves when every queued message has been handed to ZeroMQ. */
  drain(): Promise<void> {
    return this.tail;
  }
}

/** Publishes iopub messages with the right parent header, and replies on shell/control. */
export class KernelPublisher implements IopubPublisher {
  /** Header of the request being handled in the current async context. */
  readonly parentScope = new AsyncLocalStorage<MessageHeader>();
  /** Header of the last `execute_request`/`comm_open`/`comm_msg`: parent of messages sent outside any request's context. */
  lastParent: MessageHeader | undefined;
  /** The kernel's session id (header.session of the messages it originates). */
  readonly session = randomUUID().replace(/-/g, '');
  private key = '';
  private iopub: SendQueue | undefined;

  /** Sets the iopub queue and the signing key. */
  attach(iopub: SendQueue, key: string): void {
    this.iopub = iopub;
    this.key = key;
  }

  /** Resolves when every iopub message published so far has been handed to ZeroMQ. */
  drain(): Promise<void> {
    return this.iopub?.drain() ?? Promise.resolve();
  }

  /** True once {@link KernelPublisher.attach} was called. */
  get attached(): boolean {
    return this.iopub !== undefined;
  }

  /** The current parent header: the async context's request, else the last request. */
  currentParent(): MessageHeader | undefined {
    return this.parentScope.getStore() ?? this.lastParent;
  }

  /**
   * Publishes on iopub.
   * @throws Error when the kernel has no iopub socket yet.
   */
  publish(msgType: string, content: unknown, metadata: Record<string, unknown>, buffers: Buffer[]): void {
    if (!this.iopub) throw new Error(`flowlens kernel: cannot publish ${msgType}: the kernel is not connected yet`);
    const parent = this.currentParent();
    const msg: JupyterMessage<unknown> = {
      identities: [],
      header: newHeader(msgType, parent?.session ?? this.session, parent?.username ?? 'kernel'),
      parent_header: parent ?? {},
      metadata,
      content,
      buffers,
    };
    this.iopub.send(encodeMessage(msg, this.key));
  }

  /** Sends a reply to `request` on a shell or control queue. */
  reply(queue: SendQueue, request: JupyterMessage, msgType: string, content: unknown, metadata: Record<string, unknown> = {}): void {
    const msg: JupyterMessage<unknown> = {
      identities: request.identities,
      header: newHeader(msgType, request.header.session, request.header.username),
      parent_header: request.header,
      metadata,
      content,
      buffers: [],
    };
    queue.send(encodeMessage(msg, this.key));
  }

  /** Publishes a `status` message for `request`. */
  status(request: JupyterMessage, state: 'busy' | 'idle'): void {
    this.parentScope.run(request.header, () => this.publish('status', { execution_state: state }, {}, []));
  }
}

/** Static parts of the `kernel_info_reply`. */
export interface KernelInfo {
  implementation: string;
  implementation_version: string;
  language_info: Record<string, unknown>;
  banner: string;
  help_links: { text: string; url: string }[];
}

/** Content of an `execute_request`. */
interface ExecuteRequest {
  code: string;
  silent?: boolean;
  store_history?: boolean;
  stop_on_error?: boolean;
}

/** A code-point offset (Jupyter's `cursor_pos`) as a UTF-16 index into `s`. */
export function codePointToIndex(s: string, cp: number): number {
  let i = 0;
  for (let n = 0; n < cp && i < s.length; n++) i += (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}

/** A UTF-16 index into `s` as a code-point offset. */
export function indexToCodePoint(s: string, index: number): number {
  return [...s.slice(0, index)].length;
}

/** `name?` / `obj.member?` at the end of a cell: show the inspection in the pager. */
const PAGER = /^\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\?\s*$/;

/** Message types that are answered on shell with a `_reply` by the comm layer or this server. */
const COMM_TYPES = new Set(['comm_open', 'comm_msg', 'comm_close', 'comm_info_request']);

/** The kernel's Jupyter server. */
export class KernelServer {
  /** Execution counter (`In[n]`). */
  executionCount = 0;
  private unstored = 0;
  /** True while the requests in {@link queuedAtError} are answered: their execute requests are aborted. */
  private aborting = false;
  /**
   * The shell requests that had arrived when a cell failed with `stop_on_error` (Run All's next cells),
   * taken off the socket before the error reply is sent, so a request a client sends after seeing the
   * error is never among them (ipykernel aborts the queue the same way).
   */
  private queuedAtError: Buffer[][] = [];
  private shellSocket?: ZmqSocket;
  private readonly history = new History();
  private sockets: Record<'shell' | 'control' | 'iopub' | 'stdin' | 'hb', ZmqSocket> | undefined;
  private queues: Record<'shell' | 'control' | 'stdin', SendQueue> | undefined;
  private closed = false;

  /**
   * @param conn the connection file's contents.
   * @param executor runs cells.
   * @param manager the comm manager.
   * @param publisher publishes on iopub (attached here).
   * @param info static kernel_info content.
   * @param isComplete tslab's `isCompleteCode` plus an invalid-syntax check.
   * @param printQuickInfo tslab's formatter of TypeScript quick info.
   */
  constructor(
    private readonly conn: ConnectionInfo,
    private readonly executor: Executor,
    private readonly manager: CommManager,
    private readonly publisher: KernelPublisher,
    private readonly info: KernelInfo,
    private readonly isComplete: (code: string) => { status: 'complete' | 'incomplete' | 'invalid'; indent?: string },
    private readonly printQuickInfo: (info: unknown) => string,
  ) {}

  /**
   * Binds the five sockets and starts serving.
   * @throws Error when a port cannot be bound or the signature scheme is not hmac-sha256.
   */
  async start(): Promise<void> {
    const scheme = this.conn.signature_scheme ?? 'hmac-sha256';
    if (scheme !== 'hmac-sha256') throw new Error(`flowlens kernel: signature scheme ${scheme} is not supported (only hmac-sha256)`);
    const zmq = require(require.resolve('zeromq', { paths: [tslabDir()] })) as Record<string, new () => ZmqSocket>;
    const s = { shell: new zmq.Router(), control: new zmq.Router(), stdin: new zmq.Router(), iopub: new zmq.Publisher(), hb: new zmq.Reply() };
    this.sockets = s;
    this.queues = { shell: new SendQueue(s.shell, 'shell'), control: new SendQueue(s.control, 'control'), stdin: new SendQueue(s.stdin, 'stdin') };
    this.publisher.attach(new SendQueue(s.iopub, 'iopub'), this.conn.key);
    const addr = (port: number) => `${this.conn.transport}://${this.conn.ip}:${port}`;
    await Promise.all([
      s.shell.bind(addr(this.conn.shell_port)),
      s.control.bind(addr(this.conn.control_port)),
      s.stdin.bind(addr(this.conn.stdin_port)),
      s.iopub.bind(addr(this.conn.iopub_port)),
      s.hb.bind(addr(this.conn.hb_port)),
    ]);
    void this.serve('shell', s.shell);
    void this.serve('control', s.control);
    void this.heartbeat(s.hb);
    kernelLog('kernel started', this.conn);
  }

  /** Closes the sockets and the converters. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.executor.close();
    for (const sock of Object.values(this.sockets ?? {})) sock.close();
  }

  private async heartbeat(hb: ZmqSocket): Promise<void> {
    try {
      for await (const frames of hb) await hb.send(frames);
    } catch (e) {
      if (!this.closed) kernelLog('heartbeat stopped:', String(e));
    }
  }

  private async serve(channel: 'shell' | 'control', sock: ZmqSocket): Promise<void> {
    if (channel === 'shell') this.shellSocket = sock;
    try {
      for await (const frames of sock) {
        await this.handle(channel, frames);
        if (channel === 'shell' && this.queuedAtError.length > 0) {
          // Answer the requests taken off the socket when a cell failed: each `aborted` (or run, if it
          // asked for stop_on_error false).
          this.aborting = true;
          for (const queued of this.queuedAtError.splice(0)) await this.handle(channel, queued);
          this.aborting = false;
        }
        // Hand this request's messages to ZeroMQ before the next one can block the event loop.
        await Promise.all([this.queues![channel].drain(), this.publisher.drain()]);
      }
    } catch (e) {
      if (!this.closed) {
        kernelLog(`${channel} loop stopped:`, String(e));
        rawStderr(`flowlens kernel: ${channel} loop stopped: ${e}\n`);
      }
    }
  }

  /** Decodes and dispatches one message; errors are logged and the request still gets `idle`. */
  async handle(channel: 'shell' | 'control', frames: Buffer[]): Promise<void> {
    let msg: JupyterMessage;
    try {
      msg = decodeMessage(frames, this.conn.key);
    } catch (e) {
      kernelLog(`bad message on ${channel}:`, String(e));
      rawStderr(`flowlens kernel: dropped a message on ${channel}: ${(e as Error).message}\n`);
      return;
    }
    const type = msg.header.msg_type;
    kernelLog(`${channel} <`, type, msg.header.msg_id);
    if (type === 'execute_request' || type === 'comm_open' || type === 'comm_msg') this.publisher.lastParent = msg.header;
    const queue = this.queues![channel];
    if (COMM_TYPES.has(type)) return handleCommRequest(this.manager, this.publisher, queue, msg);
    this.publisher.status(msg, 'busy');
    try {
      await this.publisher.parentScope.run(msg.header, () => this.dispatch(queue, msg));
    } catch (e) {
      kernelLog(`error handling ${type}:`, String((e as Error)?.stack ?? e));
      rawStderr(`flowlens kernel: error handling ${type}: ${(e as Error)?.stack ?? e}\n`);
    } finally {
      this.publisher.status(msg, 'idle');
      kernelLog(`${channel} >`, type, 'done');
    }
  }

  private async dispatch(queue: SendQueue, msg: JupyterMessage): Promise<void> {
    const reply = (type: string, content: unknown, metadata: Record<string, unknown> = {}) => this.publisher.reply(queue, msg, type, content, metadata);
    const c = msg.content as Record<string, any>;
    switch (msg.header.msg_type) {
      case 'kernel_info_request':
        return reply('kernel_info_reply', { status: 'ok', protocol_version: PROTOCOL_VERSION, ...this.info });
      case 'execute_request':
        return this.execute(reply, c as ExecuteRequest);
      case 'complete_request': {
        const code = String(c.code ?? '');
        const pos = codePointToIndex(code, Number(c.cursor_pos ?? code.length));
        const r = this.executor.complete(code, pos);
        return reply('complete_reply', {
          status: 'ok',
          matches: r.candidates,
          cursor_start: indexToCodePoint(code, r.start),
          cursor_end: indexToCodePoint(code, r.end),
          metadata: {},
        });
      }
      case 'inspect_request': {
        const code = String(c.code ?? '');
        const text = this.inspectText(code, codePointToIndex(code, Number(c.cursor_pos ?? code.length)));
        return reply('inspect_reply', { status: 'ok', found: text !== undefined, data: text !== undefined ? { 'text/plain': text } : {}, metadata: {} });
      }
      case 'is_complete_request':
        return reply('is_complete_reply', this.isComplete(String(c.code ?? '')));
      case 'history_request':
        return reply('history_reply', { status: 'ok', history: this.history.query(c as HistoryRequest) });
      case 'interrupt_request':
        this.executor.interrupt();
        return reply('interrupt_reply', { status: 'ok' });
      case 'shutdown_request': {
        reply('shutdown_reply', { status: 'ok', restart: !!c.restart });
        setTimeout(() => this.shutdown(), 0);
        return;
      }
      default:
        kernelLog('unknown message type', msg.header.msg_type);
        rawStderr(`flowlens kernel: unknown message type ${msg.header.msg_type}\n`);
    }
  }

  private async shutdown(): Promise<void> {
    await Promise.all([this.queues!.shell.drain(), this.queues!.control.drain(), this.publisher.drain()]);
    this.close();
    process.exit(0);
  }

  private inspectText(code: string, pos: number): string | undefined {
    const info = this.executor.inspect(code, pos);
    return info ? this.printQuickInfo(info) : undefined;
  }

  /** Takes every request waiting on the shell socket into {@link queuedAtError} (before an error reply). */
  private async takeQueuedRequests(): Promise<void> {
    const sock = this.shellSocket;
    if (!sock) return;
    while (sock.readable) this.queuedAtError.push(await sock.receive());
  }

  private async execute(reply: (type: string, content: unknown, metadata?: Record<string, unknown>) => void, req: ExecuteRequest): Promise<void> {
    const code = String(req.code ?? '');
    const silent = !!req.silent;
    const stopOnError = req.stop_on_error !== false;
    if (stopOnError && this.aborting) {
      return reply('execute_reply', { status: 'aborted', execution_count: this.executionCount }, { status: 'aborted' });
    }
    const store = !silent && req.store_history !== false;
    if (store) this.executionCount++;
    const count = this.executionCount;
    if (!silent) this.publisher.publish('execute_input', { code, execution_count: count }, {}, []);
    const cellName = store ? `In[${count}]` : `In[~${++this.unstored}]`;

    const payload: Record<string, unknown>[] = [];
    const pager = PAGER.exec(code);
    let result;
    if (pager) {
      const text = this.inspectText(pager[1], pager[1].length);
      if (text !== undefined) payload.push({ source: 'page', data: { 'text/plain': text }, start: 0 });
      result =
        text !== undefined
          ? { status: 'ok' as const, hasValue: false }
          : {
              status: 'error' as const,
              ename: 'NotFound',
              evalue: `nothing known about ${pager[1]}`,
              traceback: [`NotFound: nothing known about ${pager[1]}`],
            };
    } else {
      result = await this.executor.execute(code, cellName);
    }
    let output: string | null = null;
    if (result.status === 'ok') {
      if (result.hasValue && !silent) {
        const { data, metadata } = bundleOf(result.value);
        output = typeof data['text/plain'] === 'string' ? data['text/plain'] : null;
        this.publisher.publish('execute_result', { execution_count: count, data, metadata }, {}, []);
      }
      reply('execute_reply', { status: 'ok', execution_count: count, payload, user_expressions: {} }, { status: 'ok' });
    } else {
      const { ename, evalue, traceback } = result;
      if (stopOnError && !this.aborting) await this.takeQueuedRequests();
      if (!silent) this.publisher.publish('error', { ename, evalue, traceback }, {}, []);
      reply('execute_reply', { status: 'error', execution_count: count, ename, evalue, traceback }, { status: 'error' });
    }
    if (store) this.history.add(count, code, output);
  }
}

/**
 * Handles one comm request (`comm_open`, `comm_msg`, `comm_close`, `comm_info_request`).
 * Publishes `busy`, dispatches to the manager, replies for `comm_info_request`, publishes `idle`.
 */
export async function handleCommRequest(manager: CommManager, publisher: KernelPublisher, queue: SendQueue, msg: JupyterMessage): Promise<void> {
  publisher.status(msg, 'busy');
  try {
    await publisher.parentScope.run(msg.header, async () => {
      switch (msg.header.msg_type) {
        // A comm handler may compute for long (a widget's recomputation): interruptible as a cell.
        case 'comm_open':
          await runInterruptible(() => manager.handleCommOpen(msg));
          break;
        case 'comm_msg':
          await runInterruptible(() => manager.handleCommMsg(msg));
          break;
        case 'comm_close':
          manager.handleCommClose(msg);
          break;
        case 'comm_info_request': {
          const target = (msg.content as { target_name?: string }).target_name;
          publisher.reply(queue, msg, 'comm_info_reply', manager.commInfo(target || undefined));
          break;
        }
      }
    });
  } catch (e) {
    if ((e as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
      const repaired = recoverTfjsEngine();
      publisher.parentScope.run(msg.header, () =>
        console.error(`flowlens kernel: the ${msg.header.msg_type} handler was interrupted${repaired ? ` (${repaired})` : ''}`),
      );
    } else {
      kernelLog(`error handling ${msg.header.msg_type}:`, String(e));
      console.error(`flowlens kernel: error handling ${msg.header.msg_type}:`, e);
    }
  } finally {
    publisher.status(msg, 'idle');
  }
}

/** Absolute path of tslab's dist module `name` (for start.ts). */
export function tslabModule(name: string): string {
  return path.join(tslabDir(), 'dist', name);
}
