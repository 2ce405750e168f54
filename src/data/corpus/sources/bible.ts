/**
 * The World English Bible (public domain; Debian `sword-text-web`), from its SWORD zText module:
 * `{ot,nt}.bzs` lists the compressed blocks (Uint32 LE offset, size, uncompressed size), `{ot,nt}.bzz`
 * holds them zlib-compressed, `{ot,nt}.bzv` gives each entry (book and chapter headings, verses) as
 * Uint32 LE block, Uint32 LE offset and Uint16 LE size inside the uncompressed block. Entries are OSIS
 * XML: notes, titles and milestones are dropped, the words kept; one document per chapter (an entry
 * holding a `<chapter … sID=…>` milestone starts the next).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { htmlParagraphs } from '../html.js';
import type { CorpusSource, RawDocument } from '../types.js';
import { aptPath, makeSource, type SourceRoots } from './common.js';

/** The entries (OSIS XML strings, '' for empty ones) of one testament of a zText module. */
export function zTextEntries(dir: string, testament: 'ot' | 'nt'): string[] {
  const bzs = readFileSync(join(dir, `${testament}.bzs`));
  const bzv = readFileSync(join(dir, `${testament}.bzv`));
  const bzz = readFileSync(join(dir, `${testament}.bzz`));
  const blocks: Buffer[] = [];
  for (let i = 0; i + 12 <= bzs.length; i += 12) {
    const off = bzs.readUInt32LE(i);
    const size = bzs.readUInt32LE(i + 4);
    if (off + size > bzz.length) throw new Error(`zText: ${join(dir, `${testament}.bzs`)} block ${i / 12} is past the end of ${testament}.bzz`);
    blocks.push(size === 0 ? Buffer.alloc(0) : inflateSync(bzz.subarray(off, off + size)));
  }
  const out: string[] = [];
  for (let i = 0; i + 10 <= bzv.length; i += 10) {
    const b = bzv.readUInt32LE(i);
    const o = bzv.readUInt32LE(i + 4);
    const s = bzv.readUInt16LE(i + 8);
    const block = blocks[b];
    out.push(s === 0 || !block ? '' : block.subarray(o, o + s).toString('utf8'));
  }
  return out;
}

const OSIS_SKIP = ['note', 'title', 'milestone', 'reference', 'rdg', 'figure'];

/** The chapters of a zText OSIS module as documents `web/<osisID>` (e.g. `web/Matt.1`). */
export function* zTextChapters(dir: string, name: string): Generator<RawDocument> {
  for (const testament of ['ot', 'nt'] as const) {
    let id = '';
    let xml: string[] = [];
    const emit = (): RawDocument | undefined => {
      const paragraphs = htmlParagraphs(xml.join(' '), { skipTags: OSIS_SKIP, blockTags: ['lg', 'l', 'q', 'p'] });
      xml = [];
      return id && paragraphs.length ? { id: `${name}/${id}`, paragraphs } : undefined;
    };
    for (const e of zTextEntries(dir, testament)) {
      const m = /<chapter\b[^>]*\bsID="([^"]+)"/.exec(e);
      if (m) {
        const d = emit();
        if (d) yield d;
        id = m[1] as string;
      }
      if (e) xml.push(e);
    }
    const d = emit();
    if (d) yield d;
  }
}

/** The `bible-web` source (Debian `sword-text-web`). */
export function bibleWebSource(roots: SourceRoots): CorpusSource {
  const dir = aptPath(roots, 'usr/share/sword/modules/texts/ztext/engWEB2015eb');
  return makeSource({
    name: 'bible-web',
    package: 'sword-text-web',
    kind: 'apt',
    licence: 'public domain (World English Bible, 2020 stable text)',
    cleaning: "SWORD zText OSIS entries; footnotes, titles, cross-references and Strong's markup removed; one document per chapter",
    files: ['ot', 'nt'].flatMap((t) => [`${dir}/${t}.bzs`, `${dir}/${t}.bzv`, `${dir}/${t}.bzz`]),
    documents: () => zTextChapters(dir, 'bible-web'),
  });
}
