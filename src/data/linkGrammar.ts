/**
 * Dependency arcs for free text from a real English parser: Debian's `link-parser` (Link Grammar,
 * Sleator & Temperley 1993; packages `link-grammar` + `link-grammar-dictionaries-en`), run as a child
 * process, its links mapped to the four Universal Dependencies relations that Song et al. 2024 score
 * heads on (nsubj, obj, amod, advmod), with an on-disk cache of parses.
 *
 * Link → relation mapping (link type = upper-case major part + lower-case subscripts; the left and
 * right words of a link are in sentence order):
 *
 * | link | relation | dependent → head | e.g. |
 * |---|---|---|---|
 * | `S` (`Ss`, `Sp`, `Ss*s`, …) | nsubj | left (subject noun) → right (verb) | *film* ← *does* |
 * | `SI` (subject–verb inversion) | nsubj | right → left | *is* → *he* |
 * | `O` (`Os`, `Op`, `Ost`, …) | obj | right (object) → left (verb) | *likes* → *movie* |
 * | `A` (pre-noun adjective) | amod | left (adjective) → right (noun) | *lazy* ← *dog* |
 * | `E` (`Em`, …; adverb before a verb), `EA` (adverb before an adjective), `EE` (adverb before an adverb) | advmod | left → right | *quickly* ← *jumps* |
 * | `MVa` (verb … adverb after it) | advmod | right → left | *runs* → *fast* |
 *
 * Other links (determiners `D`, prepositions `MVp`/`J`, walls, conjunctions `AJ`/`SJ`, `AN` noun
 * compounds, `EB`, …) give no arc; an arc whose dependent or head is a conjunction (`and.j-a`) is
 * dropped. Parser words are aligned to the input's whitespace-separated words by character offsets
 * (the parser splits `'s`, `n't` the way SST-2's PTB tokenisation already does; a split word maps to
 * the input word holding its first character). The parser's first linkage is used (`-limit=1`);
 * unparseable words get null links (no arcs); a sentence with no linkage within the time limit has no arcs.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from './corpora.js';

/** The four relations of Song et al. 2024 (their `deprel_type`). */
export const RELATIONS = ['nsubj', 'obj', 'amod', 'advmod'] as const;
export type Relation = (typeof RELATIONS)[number];

/** One dependency arc between words (0-based indices into the sentence's whitespace-separated words). */
export interface Arc {
  dependent: number;
  head: number;
  relation: Relation;
}

/** A parsed sentence: its words (whitespace split) and the arcs of the four relations. */
export interface ParsedSentence {
  sentence: string;
  words: string[];
  arcs: Arc[];
}

/** One raw link of the parser: word indices (0 = LEFT-WALL) and its label. */
export interface RawLink {
  left: number;
  right: number;
  label: string;
}

/**
 * Map one link label to a relation and direction (see the module table).
 * @returns `{relation, dependentIsLeft}` or null when the link gives no arc.
 */
export function linkToRelation(label: string): { relation: Relation; dependentIsLeft: boolean } | null {
  const m = /^([A-Z]+)(.*)$/.exec(label);
  if (!m) return null;
  const [, major, sub] = m as unknown as [string, string, string];
  if (major === 'S') return { relation: 'nsubj', dependentIsLeft: true };
  if (major === 'SI') return { relation: 'nsubj', dependentIsLeft: false };
  if (major === 'O') return { relation: 'obj', dependentIsLeft: false };
  if (major === 'A') return { relation: 'amod', dependentIsLeft: true };
  if (major === 'E' || major === 'EA' || major === 'EE') return { relation: 'advmod', dependentIsLeft: true };
  if (major === 'MV' && sub.startsWith('a')) return { relation: 'advmod', dependentIsLeft: false };
  return null;
}

/** A parser word without its dictionary suffix and guess marks: `dog.n` → `dog`, `[word]` → `word`, `run[?].v` → `run`. */
export function cleanParserWord(w: string): string {
  let s = w;
  if (s.startsWith('[') && s.endsWith(']') && s.length > 2) s = s.slice(1, -1);
  s = s.replace(/\[[!?~&]*\]/g, '');
  const dot = s.lastIndexOf('.');
  if (dot > 0 && /^[a-z0-9-]+$/i.test(s.slice(dot + 1)) && s.slice(dot + 1) !== '' && !/^\d+$/.test(s.slice(dot + 1))) s = s.slice(0, dot);
  return s;
}

/**
 * Parse link-parser's `-postscript` output for one sentence: `[(LEFT-WALL)(w1)…][[i j d (Label)]…]`.
 * @returns the parser's words (index 0 = LEFT-WALL) and links.
 * @throws Error when the text has no word list.
 */
export function parsePostscript(text: string): { words: string[]; links: RawLink[] } {
  const start = text.indexOf('[(');
  if (start < 0) throw new Error(`link-parser output has no word list: ${text.slice(0, 80)}`);
  const linkStart = text.indexOf('[[', start);
  const wordPart = text.slice(start + 1, linkStart >= 0 ? text.lastIndexOf(']', linkStart) : text.length).replace(/\n/g, '');
  const words: string[] = [];
  // Words are "(w)" back to back; split on ")(" so that words containing parentheses survive.
  const inner = wordPart.trim().replace(/^\(/, '').replace(/\)$/, '');
  for (const w of inner.split(')(')) words.push(w);
  const links: RawLink[] = [];
  if (linkStart >= 0) {
    const re = /\[(\d+) (\d+) -?\d+ \(([^)]*)\)\]/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text.slice(linkStart)))) links.push({ left: Number(m[1]), right: Number(m[2]), label: m[3] as string });
  }
  return { words, links };
}

/**
 * Arcs of one sentence from the parser's words and links, aligned to the input's words.
 *
 * @param sentence the input (words separated by spaces).
 * @returns a {@link ParsedSentence}.
 */
export function arcsFromLinks(sentence: string, parserWords: string[], links: RawLink[]): ParsedSentence {
  const words = sentence.trim().split(/\s+/).filter(Boolean);
  // Character offset of each input word (spaces removed).
  const starts: number[] = [];
  let off = 0;
  for (const w of words) {
    starts.push(off);
    off += w.length;
  }
  const wordAt = (c: number): number => {
    let k = 0;
    while (k + 1 < starts.length && (starts[k + 1] as number) <= c) k++;
    return k;
  };
  const map = new Map<number, number>();
  let c = 0;
  parserWords.forEach((pw, i) => {
    if (pw === 'LEFT-WALL' || pw === 'RIGHT-WALL') return;
    const w = cleanParserWord(pw);
    if (c < off) map.set(i, wordAt(c));
    c += w.length;
  });
  const isConj = (i: number) => /\.j(-|$)/.test(parserWords[i] ?? '');
  const arcs: Arc[] = [];
  const seen = new Set<string>();
  for (const l of links) {
    const r = linkToRelation(l.label);
    if (!r) continue;
    const [dp, hp] = r.dependentIsLeft ? [l.left, l.right] : [l.right, l.left];
    if (isConj(dp) || isConj(hp)) continue;
    const d = map.get(dp);
    const h = map.get(hp);
    if (d === undefined || h === undefined || d === h) continue;
    const key = `${d} ${h} ${r.relation}`;
    if (seen.has(key)) continue;
    seen.add(key);
    arcs.push({ dependent: d, head: h, relation: r.relation });
  }
  return { sentence, words, arcs };
}

/** Options of {@link parseSentences}. */
export interface LinkGrammarOptions {
  /** The parser binary (default `/usr/bin/link-parser`, else `link-parser` on the PATH). */
  binary?: string;
  /** Cache file (JSON lines); default `<project>/.cache/link-grammar/parses.jsonl`. `null` disables the cache. */
  cacheFile?: string | null;
  /** Seconds the parser may spend on one sentence (default 5). */
  timeoutPerSentence?: number;
  /** Sentences per parser process (default 200). */
  chunk?: number;
}

/** Default cache file of parses. */
export function defaultParseCache(): string {
  return join(projectRoot(), '.cache', 'link-grammar', 'parses.jsonl');
}

function cacheKey(sentence: string): string {
  return createHash('sha1')
    .update('lg1\n' + sentence)
    .digest('hex');
}

/**
 * Parse sentences with link-parser (cached on disk by sentence), as dependency arcs of the four relations.
 *
 * @param sentences one sentence each (newlines are replaced by spaces).
 * @returns one {@link ParsedSentence} per input, in order.
 * @throws Error naming the binary when link-parser cannot be run (not installed: `apt-get install
 *   link-grammar link-grammar-dictionaries-en`), or when its output does not have one parse per sentence.
 */
export function parseSentences(sentences: readonly string[], opts: LinkGrammarOptions = {}): ParsedSentence[] {
  const binary = opts.binary ?? (existsSync('/usr/bin/link-parser') ? '/usr/bin/link-parser' : 'link-parser');
  const cacheFile = opts.cacheFile === undefined ? defaultParseCache() : opts.cacheFile;
  const clean = sentences.map((s) => s.replace(/[\r\n]+/g, ' ').trim());
  const cache = new Map<string, ParsedSentence>();
  if (cacheFile && existsSync(cacheFile)) {
    for (const line of readFileSync(cacheFile, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { key: string; parse: ParsedSentence };
        cache.set(e.key, e.parse);
      } catch {
        // A torn last line (interrupted write) is ignored; it is re-parsed.
      }
    }
  }
  const todo = [...new Set(clean.filter((s) => s && !cache.has(cacheKey(s))))];
  const chunk = opts.chunk ?? 200;
  for (let i = 0; i < todo.length; i += chunk) {
    const part = todo.slice(i, i + chunk);
    const parsed = runParser(binary, part, opts.timeoutPerSentence ?? 5);
    const lines: string[] = [];
    parsed.forEach((p, k) => {
      const key = cacheKey(part[k] as string);
      cache.set(key, p);
      lines.push(JSON.stringify({ key, parse: p }));
    });
    if (cacheFile) {
      mkdirSync(dirname(cacheFile), { recursive: true });
      appendFileSync(cacheFile, lines.join('\n') + '\n');
    }
  }
  return clean.map((s) => (s ? (cache.get(cacheKey(s)) as ParsedSentence) : { sentence: s, words: [], arcs: [] }));
}

function runParser(binary: string, sentences: string[], timeoutPerSentence: number): ParsedSentence[] {
  const args = ['en', '-postscript', '-graphics=0', '-verbosity=0', '-limit=1', `-timeout=${timeoutPerSentence}`, '-echo'];
  const res = spawnSync(binary, args, {
    input: sentences.join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: (timeoutPerSentence + 2) * 1000 * sentences.length + 10000,
  });
  if (res.error) {
    throw new Error(`cannot run the link-grammar parser "${binary}" (${res.error.message}); install Debian's link-grammar and link-grammar-dictionaries-en`);
  }
  // Output: per sentence the echoed sentence, then (when a linkage was found in time) the word list,
  // the links and a "[n]" line. Blocks are cut at the echoes, in order.
  const out = res.stdout.split('\n');
  const blocks: string[] = [];
  let k = 0;
  let cur: string[] | null = null;
  for (const line of out) {
    if (k < sentences.length && line.trim() === sentences[k]) {
      if (cur) blocks.push(cur.join('\n'));
      cur = [];
      k++;
    } else if (cur) cur.push(line);
  }
  if (cur) blocks.push(cur.join('\n'));
  if (blocks.length !== sentences.length) {
    throw new Error(`link-parser echoed ${blocks.length} of ${sentences.length} sentences (stderr: ${res.stderr.slice(0, 200)})`);
  }
  return blocks.map((b, i) => {
    if (!b.includes('[(')) return arcsFromLinks(sentences[i] as string, [], []); // no linkage within the time limit
    const { words, links } = parsePostscript(b);
    return arcsFromLinks(sentences[i] as string, words, links);
  });
}
