/** Float32 values received in widget state (both sides): bytes of any alignment → a Float32Array copy. */

/**
 * Converts a received binary value (Node Buffer or DataView over a message frame, any byte offset),
 * a Float32Array or a number array into a Float32Array (a copy, except for a Float32Array).
 * @param what names the value in error messages.
 * @throws Error when the byte length is not a multiple of 4, or the value is not binary or numbers.
 */
export function toFloat32(v: unknown, what: string): Float32Array {
  if (v instanceof Float32Array) return v;
  if (ArrayBuffer.isView(v)) {
    if (v.byteLength % 4 !== 0) throw new Error(`${what}: buffer of ${v.byteLength} bytes is not float32 (not a multiple of 4)`);
    const copy = new Uint8Array(v.byteLength);
    copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return new Float32Array(copy.buffer);
  }
  if (v instanceof ArrayBuffer) return toFloat32(new Uint8Array(v), what);
  if (Array.isArray(v)) return Float32Array.from(v as number[]);
  throw new Error(`${what}: expected float32 bytes or numbers, got ${v === null ? 'null' : typeof v}`);
}
