/**
 * Jupyter wire protocol (messaging spec 5.3, "The Wire Protocol"): a message is the ZeroMQ
 * frames `[identities..., "<IDS|MSG>", hmac, header, parent_header, metadata, content, buffers...]`,
 * where `hmac` is the hex HMAC-SHA256 (with the connection file's key) of the four JSON frames
 * in order, and `buffers` are raw binary frames (used by comms and widgets).
 *
 * tslab's own codec (`ZmqMessage` in tslab/dist/jupyter.js) is private and JSON-encodes extra
 * frames, so binary buffers cannot go through it; this module is the codec used by the comm layer.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** Frame separating ZeroMQ routing identities from the message. */
export const DELIMITER = Buffer.from('<IDS|MSG>');

/** Jupyter messaging protocol version written into headers. */
export const PROTOCOL_VERSION = '5.3';

/** Header of a Jupyter message. */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  [key: string]: unknown;
}

/** A decoded Jupyter message. */
export interface JupyterMessage<C = Record<string, unknown>> {
  /** ZeroMQ routing identities (ROUTER sockets); empty for iopub. */
  identities: Buffer[];
  header: MessageHeader;
  /** Header of the request this message answers, or `{}`. */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  /** Binary frames after the content frame. */
  buffers: Buffer[];
}

/**
 * Signs the JSON frames of a message.
 *
 * @param key the `key` of the connection file; empty means "no signing" (returns `''`).
 * @param frames header, parent_header, metadata and content frames, in that order.
 * @returns the lowercase hex HMAC-SHA256 of the frames.
 */
export function sign(key: string, frames: (Buffer | string)[]): string {
  if (key === '') return '';
  const h = createHmac('sha256', key);
  for (const f of frames) h.update(f);
  return h.digest('hex');
}

/**
 * Decodes raw ZeroMQ frames into a message and checks its signature.
 *
 * @param frames the frames as received from a ROUTER (or SUB) socket.
 * @param key the connection key; when empty the signature is not checked.
 * @throws Error when the `<IDS|MSG>` delimiter or one of the four JSON frames is missing,
 *   when a JSON frame does not parse, or when the HMAC does not match.
 */
export function decodeMessage(frames: Buffer[], key: string): JupyterMessage {
  const at = frames.findIndex((f) => f.equals(DELIMITER));
  if (at < 0) throw new Error('wire: message has no <IDS|MSG> delimiter frame');
  if (frames.length < at + 6) {
    throw new Error(`wire: message has ${frames.length - at - 1} frames after the delimiter, need at least 5`);
  }
  const signature = frames[at + 1].toString('ascii');
  const json = frames.slice(at + 2, at + 6);
  if (key !== '') {
    const want = Buffer.from(sign(key, json), 'ascii');
    const got = Buffer.from(signature, 'ascii');
    if (want.length !== got.length || !timingSafeEqual(want, got)) {
      throw new Error('wire: message signature (HMAC) does not match the connection key');
    }
  }
  const parse = (b: Buffer, what: string): any => {
    try {
      return JSON.parse(b.toString('utf8'));
    } catch (e) {
      throw new Error(`wire: ${what} frame is not JSON (${(e as Error).message})`);
    }
  };
  return {
    identities: frames.slice(0, at),
    header: parse(json[0], 'header'),
    parent_header: parse(json[1], 'parent_header'),
    metadata: parse(json[2], 'metadata'),
    content: parse(json[3], 'content'),
    buffers: frames.slice(at + 6),
  };
}

/**
 * Encodes a message into signed ZeroMQ frames.
 *
 * @param msg the message; `buffers` are appended as raw frames, `identities` prefixed.
 * @param key the connection key used for the HMAC (empty: empty signature).
 * @returns the frames to hand to `socket.send`.
 */
export function encodeMessage(msg: JupyterMessage<unknown>, key: string): Buffer[] {
  const json = [msg.header, msg.parent_header, msg.metadata, msg.content].map((o) => Buffer.from(JSON.stringify(o), 'utf8'));
  return [...msg.identities, DELIMITER, Buffer.from(sign(key, json), 'ascii'), ...json, ...msg.buffers];
}

/**
 * Makes a fresh header.
 *
 * @param msgType the `msg_type`, e.g. `comm_msg`.
 * @param session the sender's session id.
 * @param username the user name (Jupyter puts the client's user name; any string is valid).
 */
export function newHeader(msgType: string, session: string, username = 'kernel'): MessageHeader {
  return {
    msg_id: randomUUID().replace(/-/g, ''),
    msg_type: msgType,
    session,
    username,
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
}

/**
 * Converts a buffer-like value into a Node `Buffer` sharing its memory where possible.
 *
 * @param b an ArrayBuffer or any ArrayBufferView (typed array, DataView, Buffer).
 * @throws Error when `b` is neither.
 */
export function toBuffer(b: ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(b)) return b;
  if (ArrayBuffer.isView(b)) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return Buffer.from(b);
  throw new Error(`wire: buffer must be an ArrayBuffer or ArrayBufferView, got ${Object.prototype.toString.call(b)}`);
}
