/**
 * The corpus file format and its atomic writer.
 *
 * Format (`train.txt`, `heldout.txt`): UTF-8, one sentence per line, documents separated by exactly one
 * empty line, no other blank lines, a newline after the last sentence. Sentences hold no newline.
 *
 * The output folder is written under a temporary name beside it and renamed into place at the end, so a
 * reader never sees a half-written corpus; a failed build leaves the previous folder as it was.
 *
 * @module
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Buffered appender of documents to one corpus file. */
export class CorpusFileWriter {
  private readonly fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  private first = true;
  /** Bytes written so far (UTF-8). */
  bytes = 0;

  /** @param path the file to create (truncated if it exists). */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  /**
   * Appends one document.
   * @param sentences at least one; none may be empty or contain a newline.
   * @throws Error when the document is empty or a sentence is empty or holds a line break.
   */
  writeDocument(sentences: readonly string[]): void {
    if (sentences.length === 0) throw new Error(`${this.path}: empty document`);
    for (const s of sentences)
      if (s.trim() === '' || /[\r\n\u2028\u2029\u0085]/.test(s))
        throw new Error(`${this.path}: sentence is empty or holds a line break: ${JSON.stringify(s.slice(0, 80))}`);
    const text = (this.first ? '' : '\n') + sentences.join('\n') + '\n';
    this.first = false;
    this.buf.push(text);
    this.bufLen += text.length;
    if (this.bufLen > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const b = Buffer.from(this.buf.join(''), 'utf8');
    writeSync(this.fd, b);
    this.bytes += b.length;
    this.buf = [];
    this.bufLen = 0;
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * Parses corpus-format text into documents (arrays of sentences).
 * @throws Error when the text has two blank lines in a row, a blank first line, or a line with only spaces.
 */
export function parseCorpusText(text: string, what = 'corpus'): string[][] {
  if (text === '') return [];
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const docs: string[][] = [];
  let cur: string[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l === '') {
      if (cur.length === 0) throw new Error(`${what}:${i + 1}: blank line that does not end a document`);
      docs.push(cur);
      cur = [];
    } else {
      if (l.trim() === '') throw new Error(`${what}:${i + 1}: line of only whitespace`);
      cur.push(l);
    }
  }
  if (cur.length === 0) throw new Error(`${what}: ends with a blank line`);
  docs.push(cur);
  return docs;
}

/**
 * Reads a corpus file (`train.txt`, `heldout.txt`) as documents of sentences.
 * @throws Error naming the file when it is missing or malformed (see {@link parseCorpusText}).
 */
export function readCorpusFile(path: string): string[][] {
  if (!existsSync(path)) throw new Error(`corpus file not found: ${path}`);
  return parseCorpusText(readFileSync(path, 'utf8'), path);
}
