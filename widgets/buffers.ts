/**
 * Binary values in widget state (Jupyter widget message protocol 2.x, "Binary buffers"): before a
 * state goes out, every binary leaf (ArrayBuffer, typed array, DataView) is taken out of it and
 * sent as a comm buffer, and `buffer_paths[i]` says where buffer `i` was (a list of object keys and
 * array indices from the state's root). Same rules as ipywidgets' `_remove_buffers` /
 * `_put_buffers`: a binary object property is deleted, a binary array element becomes `null`.
 *
 * Used on both sides: by the kernel (`widgets/protocol.ts`) and by the front end's widget manager.
 */

/** A path into a state object: keys and array indices. */
export type BufferPath = (string | number)[];

/** True for ArrayBuffer and ArrayBufferView (typed arrays, DataView, Node Buffer). */
export function isBinary(v: unknown): v is ArrayBuffer | ArrayBufferView {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/**
 * Splits binary leaves out of a state.
 * @param state a JSON-like object whose leaves may be binary.
 * @returns a copy of `state` without binary leaves, their paths, and the binary values (same
 *   order as the paths; the values themselves are not copied).
 * @throws Error on a cycle in `state`.
 */
export function removeBuffers(state: Record<string, unknown>): {
  state: Record<string, unknown>;
  buffer_paths: BufferPath[];
  buffers: (ArrayBuffer | ArrayBufferView)[];
} {
  const buffer_paths: BufferPath[] = [];
  const buffers: (ArrayBuffer | ArrayBufferView)[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, p: BufferPath): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) throw new Error(`removeBuffers: cycle in widget state at ${JSON.stringify(p)}`);
    seen.add(v);
    try {
      if (Array.isArray(v)) {
        return v.map((x, i) => {
          if (isBinary(x)) {
            buffer_paths.push([...p, i]);
            buffers.push(x);
            return null;
          }
          return walk(x, [...p, i]);
        });
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (isBinary(x)) {
          buffer_paths.push([...p, k]);
          buffers.push(x);
        } else if (x !== undefined) {
          out[k] = walk(x, [...p, k]);
        }
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return { state: walk(state, []) as Record<string, unknown>, buffer_paths, buffers };
}

/**
 * Puts received buffers back into a state, in place.
 * @param state the state object of a message (modified).
 * @param bufferPaths `buffer_paths` of the message.
 * @param buffers the message's buffers, same order.
 * @throws Error when the counts differ, or a path runs through a missing or non-object node.
 */
export function putBuffers(state: Record<string, unknown>, bufferPaths: BufferPath[], buffers: (ArrayBuffer | ArrayBufferView)[]): void {
  if (bufferPaths.length !== buffers.length) {
    throw new Error(`putBuffers: ${bufferPaths.length} buffer_paths but ${buffers.length} buffers`);
  }
  bufferPaths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0) throw new Error(`putBuffers: buffer_paths[${i}] must be a non-empty list`);
    let node: any = state;
    for (const key of path.slice(0, -1)) {
      node = node?.[key];
      if (node === null || typeof node !== 'object') throw new Error(`putBuffers: buffer_paths[${i}] ${JSON.stringify(path)} does not lead to an object`);
    }
    node[path[path.length - 1]] = buffers[i];
  });
}
