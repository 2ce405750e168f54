/**
 * HTML to plain paragraphs for the corpus builder, on the `htmlparser2` streaming parser (the parser
 * under cheerio and html-to-text; those were 4× slower here for the same result).
 *
 * Each block element (`p`, `li`, `dd`, `dt`, `div`, headings, `blockquote`, `td`, …) closes a paragraph;
 * `pre`, `script`, `style`, `head`, `nav`, `footer` and elements with a class or id named
 * in {@link HtmlOptions.skipClasses} are skipped whole; inline elements (`a`, `em`, `code`, `span`) keep
 * their text. Entities are decoded. Tables are kept (DocBook renders notes and warnings as tables): each
 * cell is its own paragraph, and the prose filter keeps only cells that are sentences.
 *
 * @module
 */
import { Parser } from 'htmlparser2';
import { normaliseText } from './text.js';

const BLOCK = new Set([
  'p',
  'li',
  'dd',
  'dt',
  'div',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'td',
  'th',
  'tr',
  'br',
  'section',
  'article',
  'title',
  'ul',
  'ol',
  'dl',
  'figcaption',
  'caption',
  'hr',
  'main',
  'header',
  'footer',
]);
const SKIP = new Set([
  'pre',
  'script',
  'style',
  'head',
  'nav',
  'footer',
  'svg',
  'math',
  'select',
  'button',
  'form',
  'textarea',
  'noscript',
  'iframe',
  'object',
]);

/** Skipped elements that are blocks (they end the paragraph around them). */
const BLOCK_SKIP = new Set([
  'pre',
  'script',
  'style',
  'head',
  'nav',
  'footer',
  'svg',
  'math',
  'select',
  'form',
  'textarea',
  'noscript',
  'iframe',
  'object',
  'aside',
  'header',
  'figure',
  'table',
]);

/** Options of {@link htmlParagraphs}. */
export interface HtmlOptions {
  /** Elements whose `class` or `id` contains one of these words are skipped whole (e.g. `navigation`, `footer`). */
  skipClasses?: string[];
  /** Extra element names to skip whole. */
  skipTags?: string[];
  /** Extra element names that end a paragraph (for XML dialects). */
  blockTags?: string[];
}

/**
 * The text paragraphs of an HTML (or XML) document.
 *
 * @param html the document. @param opts see {@link HtmlOptions}.
 * @returns normalised, non-empty paragraphs in document order.
 */
export function htmlParagraphs(html: string, opts: HtmlOptions = {}): string[] {
  const skipTags = new Set([...SKIP, ...(opts.skipTags ?? [])]);
  const skipClasses = opts.skipClasses ?? [];
  const block = opts.blockTags ? new Set([...BLOCK, ...opts.blockTags]) : BLOCK;
  const out: string[] = [];
  let cur = '';
  /** Depth of skipped elements we are inside (by tag name stack). */
  const stack: boolean[] = [];
  const blockStack: boolean[] = [];
  let skipping = 0;
  const flush = () => {
    const t = normaliseText(cur);
    if (t !== '') out.push(t);
    cur = '';
  };
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const cls = `${attrs.class ?? ''} ${attrs.id ?? ''}`;
        const skip = skipTags.has(name) || (skipClasses.length > 0 && skipClasses.some((c) => cls.includes(c)));
        stack.push(skip);
        // A skipped block (pre, nav, a div of a skipped class) ends the paragraph; a skipped inline
        // element (an OSIS note, a Sphinx header link) is cut out of it.
        const isBlock = block.has(name) || BLOCK_SKIP.has(name);
        blockStack.push(isBlock);
        if (isBlock) flush();
        if (skip) skipping++;
      },
      onclosetag() {
        if (stack.pop()) skipping--;
        if (blockStack.pop()) flush();
      },
      ontext(text) {
        if (skipping === 0) cur += text;
      },
    },
    { decodeEntities: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  flush();
  return out;
}
