/**
 * Reader of R's lazy-load databases (`data/Rdata.rdx` + `data/Rdata.rdb` of an installed R package, as
 * written by `tools:::makeLazyLoadDB`), enough to read the character vectors that text packages ship
 * (janeaustenr's novels, tokenizers' Moby Dick) without R.
 *
 * `Rdata.rdx` is a gzip-compressed R serialisation of `list(variables = list(name = c(offset, length)),
 * references, compressed)`. Each variable is, at `offset` in `Rdata.rdb`, a 4-byte big-endian
 * uncompressed length followed by a zlib stream (`compressed = TRUE`; types 2/3 = bzip2/xz add a type
 * byte and are not supported here) holding the serialised object. Serialisation format: R Internals,
 * "Serialization Formats" (XDR, version 2 or 3).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync, inflateSync } from 'node:zlib';

/** An R value as read here: null, a string vector (NA → null), numbers, a list, or a symbol name. */
export type RValue = null | (string | null)[] | number[] | RList | { symbol: string };
/** A generic vector or pairlist, with its names when it has them. */
export interface RList {
  items: RValue[];
  names?: (string | null)[];
}

const NILVALUE = 254;
const REFSXP = 255;
const SPECIAL_CONSTANTS = new Set([241, 242, 243, 244, 246, 247, 248, 249, 250, 251, 252, 253]);

/**
 * Unserialises one R object in XDR format (`X\n` header).
 * @throws Error on another format or an unsupported type, naming the type code.
 */
export function unserializeR(buf: Buffer, what = 'R data'): RValue {
  let pos = 0;
  const int = () => {
    const v = buf.readInt32BE(pos);
    pos += 4;
    return v;
  };
  const fmt = buf.subarray(0, 2).toString('latin1');
  if (fmt !== 'X\n') throw new Error(`${what}: not an XDR R serialisation (starts with ${JSON.stringify(fmt)})`);
  pos = 2;
  const version = int();
  int(); // writer version
  int(); // minimal reader version
  if (version === 3) {
    const nelen = int(); // native encoding name
    pos += nelen;
  } else if (version !== 2) throw new Error(`${what}: serialisation version ${version} is not supported`);
  const refs: RValue[] = [];
  const length = () => {
    const n = int();
    if (n !== -1) return n;
    const hi = int();
    const lo = int();
    return hi * 2 ** 32 + (lo >>> 0);
  };
  const charsxp = (): string | null => {
    const flags = int();
    if ((flags & 0xff) !== 9) throw new Error(`${what}: expected CHARSXP, got type ${flags & 0xff}`);
    const n = int();
    if (n === -1) return null;
    const levels = flags >> 12;
    const s = buf.subarray(pos, pos + n).toString(levels & 4 ? 'latin1' : 'utf8');
    pos += n;
    return s;
  };
  const withNames = (v: RValue, attrs: RValue): RValue => {
    if (attrs && typeof attrs === 'object' && 'items' in attrs && attrs.names) {
      const i = attrs.names.indexOf('names');
      const names = i >= 0 ? attrs.items[i] : undefined;
      if (Array.isArray(names) && v && typeof v === 'object' && 'items' in v) v.names = names as (string | null)[];
    }
    return v;
  };
  const item = (): RValue => {
    const flags = int();
    const type = flags & 0xff;
    const hasAttr = (flags & (1 << 9)) !== 0;
    const hasTag = (flags & (1 << 10)) !== 0;
    if (type === NILVALUE || SPECIAL_CONSTANTS.has(type)) return null;
    if (type === REFSXP) {
      const idx = flags >> 8 === 0 ? int() : flags >> 8;
      return refs[idx - 1] ?? null;
    }
    switch (type) {
      case 1: {
        // SYMSXP: its name follows as a CHARSXP
        const name = charsxp();
        const sym = { symbol: name ?? '' };
        refs.push(sym);
        return sym;
      }
      case 2: {
        // LISTSXP (pairlist): attributes, tag, car, then cdr, iteratively
        const list: RList = { items: [], names: [] };
        let f = flags;
        for (;;) {
          if ((f & (1 << 9)) !== 0) item();
          let tag: string | null = null;
          if ((f & (1 << 10)) !== 0) {
            const t = item();
            tag = t && typeof t === 'object' && 'symbol' in t ? t.symbol : null;
          }
          list.items.push(item());
          list.names?.push(tag);
          f = int();
          if ((f & 0xff) !== 2) {
            if ((f & 0xff) !== NILVALUE) throw new Error(`${what}: pairlist ends with type ${f & 0xff}`);
            break;
          }
        }
        return list;
      }
      case 9: {
        pos -= 4;
        return [charsxp()];
      }
      case 10:
      case 13: {
        const n = length();
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push(int());
        return hasAttr ? withNames(out, item()) : out;
      }
      case 14: {
        const n = length();
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          out.push(buf.readDoubleBE(pos));
          pos += 8;
        }
        return hasAttr ? withNames(out, item()) : out;
      }
      case 16: {
        const n = length();
        const out: (string | null)[] = [];
        for (let i = 0; i < n; i++) out.push(charsxp());
        if (hasAttr) item();
        return out;
      }
      case 19:
      case 20: {
        const n = length();
        const list: RList = { items: [] };
        for (let i = 0; i < n; i++) list.items.push(item());
        return hasAttr ? withNames(list, item()) : list;
      }
      default:
        throw new Error(`${what}: R type ${type} is not supported${hasTag ? ' (tagged)' : ''}`);
    }
  };
  return item();
}

/**
 * The variables of an R lazy-load database, read on demand.
 *
 * @param base path without extension, e.g. `/usr/lib/R/site-library/janeaustenr/data/Rdata`.
 * @returns the variable names and a reader of one variable.
 * @throws Error naming the file when one is missing, the index is not the expected list, or a variable
 *   is compressed other than with zlib.
 */
export function readLazyLoadDb(base: string): { names: string[]; get(name: string): RValue } {
  const rdx = `${base}.rdx`;
  const rdb = `${base}.rdb`;
  for (const p of [rdx, rdb]) if (!existsSync(p)) throw new Error(`R lazy-load database: file not found: ${p}`);
  const index = unserializeR(gunzipSync(readFileSync(rdx)), rdx);
  if (!index || typeof index !== 'object' || !('items' in index) || !index.names) throw new Error(`${rdx}: not a named list`);
  const vars = index.items[index.names.indexOf('variables')];
  if (!vars || typeof vars !== 'object' || !('items' in vars) || !vars.names) throw new Error(`${rdx}: no "variables" list`);
  const compressed = index.items[index.names.indexOf('compressed')];
  if (Array.isArray(compressed) && compressed[0] !== 1 && compressed[0] !== 0)
    throw new Error(`${rdx}: compression type ${String(compressed[0])} is not supported (only zlib)`);
  const data = readFileSync(rdb);
  const names = vars.names.map((n) => n ?? '');
  return {
    names,
    get(name: string): RValue {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`${rdb}: no variable "${name}" (has ${names.join(', ')})`);
      const span = vars.items[i] as number[];
      const [off, len] = span as [number, number];
      const chunk = data.subarray(off, off + len);
      return unserializeR(inflateSync(chunk.subarray(4)), `${rdb}:${name}`);
    },
  };
}
