/**
 * Reader of the dictd database format (RFC 2229 servers; Debian's `dict-*` packages): `NAME.index`
 * holds one line per headword, `headword TAB offset TAB length` with offset and length in dictd's
 * base-64 (`A-Za-z0-9+/`, most significant digit first), pointing into the UTF-8 bytes of `NAME.dict`
 * (stored gzip-compressed as `NAME.dict.dz`, which is a valid gzip stream).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Decodes one dictd base-64 number.
 * @throws Error on a character outside the alphabet.
 */
export function dictdNumber(s: string): number {
  let n = 0;
  for (const ch of s) {
    const d = B64.indexOf(ch);
    if (d < 0) throw new Error(`dictd: bad base-64 digit "${ch}" in "${s}"`);
    n = n * 64 + d;
  }
  return n;
}

/** One dictd entry: its first headword in the index and its text. */
export interface DictdEntry {
  headword: string;
  /** The entry's text (the headword line included), as stored. */
  text: string;
}

/**
 * The entries of a dictd database in file order, one per distinct (offset, length) span (several
 * headwords may share an entry; the first listed names it). Entries named `00-database-*` (or `00databaseinfo`, `00-gcide-*`, …)
 * (the database's own description) are left out.
 *
 * @param base path without extension, e.g. `/usr/share/dictd/gcide`; `base.index` and `base.dict.dz`
 *   (or an uncompressed `base.dict`) are read.
 * @throws Error naming the file when one is missing, a line is malformed, or a span is outside the data.
 */
export function readDictd(base: string): DictdEntry[] {
  const indexPath = `${base}.index`;
  if (!existsSync(indexPath)) throw new Error(`dictd: index not found: ${indexPath}`);
  const dz = `${base}.dict.dz`;
  const plain = `${base}.dict`;
  const dataPath = existsSync(dz) ? dz : plain;
  if (!existsSync(dataPath)) throw new Error(`dictd: data not found: ${dz} (nor ${plain})`);
  const raw = readFileSync(dataPath);
  const data = dataPath.endsWith('.dz') ? gunzipSync(raw) : raw;
  const spans = new Map<number, { headword: string; length: number }>();
  const lines = readFileSync(indexPath, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const f = line.split('\t');
    if (f.length < 3) throw new Error(`dictd: ${indexPath}:${i + 1}: expected "headword<TAB>offset<TAB>length"`);
    const [headword, off, len] = f as [string, string, string];
    const offset = dictdNumber(off);
    const length = dictdNumber(len);
    if (offset + length > data.length)
      throw new Error(`dictd: ${indexPath}:${i + 1}: span ${offset}+${length} is past the end of ${dataPath} (${data.length} bytes)`);
    if (!spans.has(offset)) spans.set(offset, { headword, length });
  });
  const out: DictdEntry[] = [];
  for (const offset of [...spans.keys()].sort((a, b) => a - b)) {
    const { headword, length } = spans.get(offset) as { headword: string; length: number };
    if (/^00-?(database|gcide|web1913)/i.test(headword)) continue;
    out.push({ headword, text: data.subarray(offset, offset + length).toString('utf8') });
  }
  return out;
}
