/**
 * Reader and writer of the safetensors format (https://github.com/huggingface/safetensors):
 * 8-byte little-endian u64 header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`
 * (offsets relative to the byte buffer after the header), then the byte buffer.
 *
 * Every tensor comes out as a `Float32Array` (row-major, PyTorch layout). F16 and BF16 are converted
 * exactly (every F16/BF16 value is representable in F32); writing rounds to nearest, ties to even.
 *
 * @module
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.js';

if (endianness() !== 'LE') throw new CheckpointError('flowlens safetensors I/O needs a little-endian machine');

/** Dtypes this module reads (converted to float32). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
/** Dtypes this module writes. */
export type WriteDtype = 'F32' | 'F16' | 'BF16';

const DTYPE_SIZE: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Dtypes of the format that this reader does not convert (named in the error). */
const KNOWN_UNSUPPORTED = new Set(['U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);
/** The reference implementation refuses headers over 100 MB. */
const MAX_HEADER = 100_000_000;

/** One entry of a safetensors header. */
export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** `[begin, end)` byte offsets into the data buffer (after the header). */
  dataOffsets: [number, number];
}

/** A parsed header. */
export interface SafetensorsHeader {
  /** Tensors in header order. */
  tensors: Map<string, TensorInfo>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
  /** N, the JSON header length in bytes. */
  headerLength: number;
  /** Absolute file offset of the data buffer: 8 + N. */
  dataStart: number;
  /** Total size of the file (or buffer) in bytes. */
  fileSize: number;
}

/** A tensor read from a file: float32 data, row-major, `shape` as stored. */
export interface LoadedTensor {
  shape: number[];
  /** Stored dtype (the data is converted to float32). */
  dtype: string;
  data: Float32Array;
}

/** A tensor to write: float32 data, row-major, `data.length` = product of `shape`. */
export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Float16 / BFloat16 conversion

const F32_BUF = new Float32Array(1);
const U32_BUF = new Uint32Array(F32_BUF.buffer);

/** Bits of a float32 value. */
function f32Bits(x: number): number {
  F32_BUF[0] = x;
  return U32_BUF[0] as number;
}

/**
 * IEEE 754 binary16 bits of a number (rounded first to float32, then to half: nearest, ties to
 * even). Overflow gives ±Infinity, tiny values subnormals or ±0, NaN a quiet NaN (0x7E00 | payload).
 */
export function f32ToF16Bits(x: number): number {
  return f32BitsToF16Bits(f32Bits(x));
}

function f32BitsToF16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half of the smallest subnormal: ±0
    mant |= 0x800000; // implicit leading bit
    const shift = 14 - e; // 13 mantissa bits dropped + (1 − e) for the subnormal scale
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rem > half || (rem === half && m & 1)) m++; // may carry into the exponent: correct
    return sign | m;
  }
  let out = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && out & 1)) out++; // carry into exponent / to Infinity is correct
  return sign | out;
}

/** Value of IEEE 754 binary16 bits (exact). */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

let F16_TABLE: Float32Array | null = null;
function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16BitsToF32(h);
  }
  return F16_TABLE;
}

/** bfloat16 bits of a number (float32 rounded to nearest, ties to even; NaN stays a quiet NaN). */
export function f32ToBf16Bits(x: number): number {
  const b = f32Bits(x);
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Value of bfloat16 bits (exact). */
export function bf16BitsToF32(h: number): number {
  U32_BUF[0] = (h & 0xffff) << 16;
  return F32_BUF[0] as number;
}

// ---------------------------------------------------------------------------------------------
// Reading

function readHeaderBytes(source: string | Uint8Array, name: string): { n: number; json: Uint8Array; fileSize: number; name: string } {
  if (typeof source === 'string') {
    if (!existsSync(source)) throw new CheckpointError(`safetensors file not found: ${source}`);
    const fd = openSync(source, 'r');
    try {
      const fileSize = fstatSync(fd).size;
      const n = parseLength(fd, fileSize, name);
      const json = new Uint8Array(n);
      if (readSync(fd, json, 0, n, 8) !== n) throw new CheckpointError(`${name}: truncated header`);
      return { n, json, fileSize, name };
    } finally {
      closeSync(fd);
    }
  }
  const fileSize = source.byteLength;
  const n = parseLength(source, fileSize, name);
  return { n, json: source.subarray(8, 8 + n), fileSize, name };
}

function parseLength(src: number | Uint8Array, fileSize: number, name: string): number {
  if (fileSize < 8) throw new CheckpointError(`${name}: not a safetensors file (${fileSize} bytes, shorter than the 8-byte header length)`);
  const lenBytes = new Uint8Array(8);
  if (typeof src === 'number') readSync(src, lenBytes, 0, 8, 0);
  else lenBytes.set(src.subarray(0, 8));
  const big = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (big > BigInt(fileSize - 8)) {
    throw new CheckpointError(`${name}: header length ${big} is beyond the file size (${fileSize} bytes): not a safetensors file or truncated`);
  }
  const n = Number(big);
  if (n > MAX_HEADER) throw new CheckpointError(`${name}: header length ${n} exceeds the 100 MB limit`);
  if (n < 2) throw new CheckpointError(`${name}: header length ${n} is too short for a JSON object`);
  return n;
}

function parseHeaderJson(json: Uint8Array, n: number, fileSize: number, name: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw new CheckpointError(`${name}: header is not valid UTF-8`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${name}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new CheckpointError(`${name}: header is not a JSON object`);
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [key, v] of Object.entries(obj as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CheckpointError(`${name}: "__metadata__" must be an object of strings`);
      for (const [mk, mv] of Object.entries(v)) {
        if (typeof mv !== 'string') throw new CheckpointError(`${name}: "__metadata__"."${mk}" must be a string, got ${JSON.stringify(mv)}`);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const where = `${name}: tensor "${key}"`;
    if (typeof v !== 'object' || v === null) throw new CheckpointError(`${where}: header entry is not an object`);
    const { dtype, shape, data_offsets: off } = v as Record<string, unknown>;
    if (typeof dtype !== 'string') throw new CheckpointError(`${where}: missing dtype`);
    if (!(dtype in DTYPE_SIZE)) {
      const why = KNOWN_UNSUPPORTED.has(dtype) ? 'unsupported' : 'unknown';
      throw new CheckpointError(`${where}: ${why} dtype "${dtype}" (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new CheckpointError(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(off) || off.length !== 2 || off.some((d) => !Number.isSafeInteger(d) || d < 0) || off[0] > off[1]) {
      throw new CheckpointError(`${where}: data_offsets ${JSON.stringify(off)} is not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = off as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const bytes = numel * DTYPE_SIZE[dtype as SafetensorsDtype];
    if (end - begin !== bytes) {
      throw new CheckpointError(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape}] × ${dtype} needs ${bytes}`);
    }
    if (end > dataSize) {
      throw new CheckpointError(`${where}: data_offsets [${begin}, ${end}] out of bounds: the data buffer has ${dataSize} bytes (file truncated?)`);
    }
    tensors.set(key, { dtype: dtype as SafetensorsDtype, shape: (shape as number[]).slice(), dataOffsets: [begin, end] });
  }
  // overlap check
  const sorted = [...tensors.entries()].filter(([, t]) => t.dataOffsets[1] > t.dataOffsets[0]).sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    const [pn, p] = sorted[i - 1] as [string, TensorInfo];
    const [cn, c] = sorted[i] as [string, TensorInfo];
    if (c.dataOffsets[0] < p.dataOffsets[1]) {
      throw new CheckpointError(`${name}: tensors "${pn}" [${p.dataOffsets}] and "${cn}" [${c.dataOffsets}] have overlapping data_offsets`);
    }
  }
  return { tensors, metadata, headerLength: n, dataStart, fileSize };
}

/**
 * Read and validate only the header of a safetensors file (reads 8 + N bytes of a path).
 *
 * @param source file path or the whole file's bytes.
 * @param name label for error messages (default: the path, or "safetensors buffer").
 * @returns tensors (dtype, shape, data offsets), metadata, header length, data start, file size.
 * @throws Error naming the file when it is missing, shorter than 8 bytes, the header length goes
 *   beyond the file, the header is not JSON, a dtype is unknown, or data_offsets are out of bounds,
 *   overlapping or do not match shape × dtype size (a truncated file shows as out of bounds).
 */
export function readSafetensorsHeader(source: string | Uint8Array, name?: string): SafetensorsHeader {
  const label = name ?? (typeof source === 'string' ? source : 'safetensors buffer');
  const { n, json, fileSize } = readHeaderBytes(source, label);
  return parseHeaderJson(json, n, fileSize, label);
}

/**
 * Read a safetensors file: every tensor (or those in `opts.names`) converted to float32.
 *
 * @param source file path or the file's bytes.
 * @param opts.names only these tensors (Error naming a requested tensor that is absent).
 * @param opts.name label for error messages (default: the path, or "safetensors buffer").
 * @returns name → {shape, dtype (as stored), data: Float32Array row-major}, in header order.
 * @throws Error naming the file for every malformation listed at {@link readSafetensorsHeader}.
 */
export function readSafetensors(source: string | Uint8Array, opts: { names?: Iterable<string>; name?: string } = {}): Map<string, LoadedTensor> {
  const name = opts.name ?? (typeof source === 'string' ? source : 'safetensors buffer');
  const header = readSafetensorsHeader(source, name);
  const wanted = opts.names ? new Set(opts.names) : null;
  if (wanted) for (const w of wanted) if (!header.tensors.has(w)) throw new CheckpointError(`${name}: no tensor "${w}"`);
  const out = new Map<string, LoadedTensor>();
  // a path is read tensor by tensor into fresh (aligned) buffers: peak memory ≈ the tensors only
  const fd = typeof source === 'string' ? openSync(source, 'r') : null;
  try {
    for (const [key, info] of header.tensors) {
      if (wanted && !wanted.has(key)) continue;
      const len = info.dataOffsets[1] - info.dataOffsets[0];
      let raw: ArrayBuffer;
      if (fd !== null) {
        raw = new ArrayBuffer(len);
        const view = new Uint8Array(raw);
        let got = 0;
        while (got < len) {
          const n = readSync(fd, view, got, len - got, header.dataStart + info.dataOffsets[0] + got);
          if (n === 0) throw new CheckpointError(`${name}: tensor "${key}": unexpected end of file (truncated)`);
          got += n;
        }
      } else {
        const bytes = source as Uint8Array;
        const start = bytes.byteOffset + header.dataStart + info.dataOffsets[0];
        raw = bytes.buffer.slice(start, start + len) as ArrayBuffer;
      }
      out.set(key, { shape: info.shape.slice(), dtype: info.dtype, data: toFloat32(raw, info.dtype) });
    }
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return out;
}

function toFloat32(raw: ArrayBuffer, dtype: SafetensorsDtype): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(raw);
    case 'F64':
      return Float32Array.from(new Float64Array(raw));
    case 'F16': {
      const h = new Uint16Array(raw);
      const t = f16Table();
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = t[h[i] as number] as number;
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(raw);
      const out = new Float32Array(h.length);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < h.length; i++) u[i] = (h[i] as number) << 16;
      return out;
    }
    case 'I64': {
      const v = new BigInt64Array(raw);
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
      return out;
    }
    case 'I32':
      return Float32Array.from(new Int32Array(raw));
    case 'I16':
      return Float32Array.from(new Int16Array(raw));
    case 'I8':
      return Float32Array.from(new Int8Array(raw));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(raw));
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

function encodeData(data: Float32Array, dtype: WriteDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint16Array(data.length);
  const u = new Uint32Array(data.buffer, data.byteOffset, data.length);
  if (dtype === 'F16') {
    for (let i = 0; i < data.length; i++) out[i] = f32BitsToF16Bits(u[i] as number);
  } else {
    for (let i = 0; i < data.length; i++) {
      const b = u[i] as number;
      out[i] = (b & 0x7f800000) === 0x7f800000 && b & 0x7fffff ? ((b >>> 16) | 0x40) & 0xffff : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
  return new Uint8Array(out.buffer);
}

/**
 * Serialise tensors to safetensors bytes. Tensors are laid out in name order; the header is padded
 * with spaces to a multiple of 8 bytes (as the reference implementation).
 *
 * @param tensors name → {shape, data: Float32Array row-major}; a Map or a plain object.
 * @param opts.dtype stored dtype (F32 exact; F16/BF16 rounded to nearest even). Default F32.
 * @param opts.metadata `__metadata__` string map (e.g. `{format: 'pt'}`).
 * @throws Error naming the tensor when `data.length` differs from the product of `shape`, a shape
 *   entry is not a non-negative integer, or a name is empty or `__metadata__`.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  opts: { dtype?: WriteDtype; metadata?: Record<string, string> } = {},
): Uint8Array[] {
  const dtype = opts.dtype ?? 'F32';
  if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new CheckpointError(`writeSafetensors: dtype must be F32, F16 or BF16, got "${dtype}"`);
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (opts.metadata) {
    for (const [k, v] of Object.entries(opts.metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(`writeSafetensors: metadata "${k}" must be a string`);
    }
    header.__metadata__ = opts.metadata;
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of entries) {
    if (!name || name === '__metadata__') throw new CheckpointError(`writeSafetensors: invalid tensor name "${name}"`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new CheckpointError(`writeSafetensors: tensor "${name}" has invalid shape ${JSON.stringify(t.shape)}`);
    }
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`writeSafetensors: tensor "${name}" data must be a Float32Array`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel) throw new CheckpointError(`writeSafetensors: tensor "${name}" has ${t.data.length} values for shape [${t.shape}] (${numel})`);
    const bytes = encodeData(t.data, dtype);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  let jsonBytes = new TextEncoder().encode(json);
  const pad = (8 - (jsonBytes.byteLength % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    jsonBytes = new TextEncoder().encode(json);
  }
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  return [len, jsonBytes, ...chunks];
}

/**
 * Write tensors as a safetensors file, atomically: into a temporary file in the same folder,
 * fsync'ed, then renamed over `path` (a reader never sees a half-written file).
 *
 * @param path destination file.
 * @param tensors name → {shape, data: Float32Array}; PyTorch layout is the caller's business.
 * @param opts.dtype `F32` (default, exact), `F16` or `BF16` (round to nearest, ties to even).
 * @param opts.metadata `__metadata__` (HF transformers expects `{format: 'pt'}`).
 * @throws Error naming the tensor on a shape/data mismatch (nothing written), or the path on I/O errors.
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  opts: { dtype?: WriteDtype; metadata?: Record<string, string> } = {},
): void {
  const chunks = serializeSafetensors(tensors, opts);
  writeFileAtomic(path, chunks);
}

/**
 * Write bytes to `path` atomically (temp file in the same folder + fsync + rename).
 * @throws Error naming `path` when the folder does not exist or writing fails (temp file removed).
 */
export function writeFileAtomic(path: string, chunks: Uint8Array[] | Uint8Array | string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new CheckpointError(`cannot write ${path}: folder ${dir} does not exist`);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const list = typeof chunks === 'string' ? [Buffer.from(chunks, 'utf8')] : chunks instanceof Uint8Array ? [chunks] : chunks;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    for (const c of list) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new CheckpointError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
