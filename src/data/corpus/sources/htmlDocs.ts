/**
 * Long-form documentation shipped as HTML by Debian packages: one document per HTML file (a chapter or
 * section), paragraphs from `../html.ts` with each site's navigation, tables of contents and code
 * listings skipped.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { htmlParagraphs, type HtmlOptions } from '../html.js';
import type { CorpusSource, RawDocument } from '../types.js';
import { aptPath, makeSource, type SourceRoots } from './common.js';

/** Files under `dir` (recursively, sorted, symbolic links not followed) whose relative path matches `include`. */
export function listFiles(dir: string, include: RegExp, exclude?: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const rel = relative(dir, p);
        if (include.test(rel) && !(exclude && exclude.test(rel))) out.push(p);
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/**
 * A page that only redirects elsewhere (`<meta http-equiv="Refresh">` in its head, e.g. Texinfo's
 * index-entry stubs); a refresh inside `<noscript>` (LibreOffice's help pages) does not count.
 */
export function isRedirectPage(html: string): boolean {
  return /<meta[^>]+http-equiv=["']?refresh/i.test(html.slice(0, 4096).replace(/<noscript>[\s\S]*?<\/noscript>/gi, ''));
}

/** The HTML files of `dir` as documents `<name>/<relative path>` (gzip-compressed `.gz` files too; redirect pages skipped). */
export function* htmlFileDocuments(name: string, dir: string, include: RegExp, exclude: RegExp | undefined, opts: HtmlOptions): Generator<RawDocument> {
  const files = listFiles(dir, include, exclude);
  if (files.length === 0) throw new Error(`${name}: no HTML files matching ${include} in ${dir}`);
  for (const f of files) {
    const raw = readFileSync(f);
    const html = (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    if (isRedirectPage(html)) continue;
    const paragraphs = htmlParagraphs(html, opts);
    if (paragraphs.length) yield { id: `${name}/${relative(dir, f)}`, paragraphs };
  }
}

/** Description of an HTML documentation source. */
export interface HtmlDocsSpec {
  name: string;
  package: string;
  /** Folder below the file-system root. */
  dir: string;
  include: RegExp;
  exclude?: RegExp;
  /** A file that must exist (relative to `dir`), to tell whether the package is installed. */
  probe: string;
  licence: string;
  cleaning: string;
  html: HtmlOptions;
}

/** A {@link CorpusSource} over a folder of HTML documentation. */
export function htmlDocsSource(roots: SourceRoots, spec: HtmlDocsSpec): CorpusSource {
  const dir = aptPath(roots, spec.dir);
  return makeSource({
    name: spec.name,
    package: spec.package,
    kind: 'apt',
    licence: spec.licence,
    cleaning: spec.cleaning,
    files: [join(dir, spec.probe)],
    documents: () => htmlFileDocuments(spec.name, dir, spec.include, spec.exclude, spec.html),
  });
}

/** Sphinx (Read the Docs theme) navigation and listings. */
const SPHINX_SKIP = [
  'wy-nav-side',
  'wy-side-scroll',
  'wy-nav-top',
  'rst-versions',
  'wy-breadcrumbs',
  'rst-footer-buttons',
  'toctree-wrapper',
  'highlight',
  'sphinxsidebar',
  'related',
  'footer',
  'headerlink',
  'contents local',
  'kernelindent',
];
/** DocBook (xsltproc) navigation and listings. */
const DOCBOOK_SKIP = [
  'navheader',
  'navfooter',
  'toc',
  'programlisting',
  'screen',
  'synopsis',
  'literallayout',
  'cmdsynopsis',
  'funcsynopsis',
  'list-of-tables',
  'list-of-examples',
  'list-of-figures',
];

/** The `linux-doc` source: the Linux kernel's documentation (Debian `linux-doc-6.1`). */
export const linuxDocSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'linux-doc',
    package: 'linux-doc-6.1',
    dir: 'usr/share/doc/linux-doc-6.1/html',
    include: /\.html$/,
    exclude: /^(_[a-z]+|translations)\/|(^|\/)(genindex|search|py-modindex)\.html$/,
    probe: 'index.html',
    licence: 'GPL-2 (Linux kernel documentation)',
    cleaning:
      'Sphinx HTML pages of the kernel documentation (translations excluded); navigation, tables of contents and code blocks removed, table cells kept only when they are sentences; one document per page',
    html: { skipClasses: SPHINX_SKIP },
  });

/** The `postgresql-doc` source: the PostgreSQL 15 manual (Debian `postgresql-doc-15`). */
export const postgresDocSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'postgresql-doc',
    package: 'postgresql-doc-15',
    dir: 'usr/share/doc/postgresql-doc-15/html',
    include: /\.html$/,
    exclude: /^(bookindex|release-.*)\.html$/,
    probe: 'index.html',
    licence: 'PostgreSQL Licence (permissive, BSD-like)',
    cleaning:
      'DocBook HTML pages of the manual (release notes and index excluded); navigation, program listings and synopses removed, table cells kept only when they are sentences; one document per page',
    html: { skipClasses: DOCBOOK_SKIP },
  });

/** The `debian-handbook` source: The Debian Administrator's Handbook (Debian `debian-handbook`). */
export const debianHandbookSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'debian-handbook',
    package: 'debian-handbook',
    dir: 'usr/share/doc/debian-handbook/html/en-US',
    include: /\.html$/,
    exclude: /^(index|ix01)\.html$/,
    probe: 'index.html',
    licence: 'CC-BY-SA-3.0 or GPL-2+ (Raphaël Hertzog, Roland Mas)',
    cleaning:
      'DocBook HTML pages of the English edition; navigation and listings removed, table cells kept only when they are sentences; one document per page',
    html: { skipClasses: [...DOCBOOK_SKIP, 'docnav', 'breadcrumbs'] },
  });

/** The `debian-reference` source: Debian Reference (Debian `debian-reference-en`). */
export const debianReferenceSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'debian-reference',
    package: 'debian-reference-en',
    dir: 'usr/share/debian-reference',
    include: /\.en\.html$/,
    exclude: /^index\.en\.html$/,
    probe: 'index.en.html',
    licence: 'MIT/Expat or GPL-2+ (Osamu Aoki)',
    cleaning: 'DocBook HTML chapters; navigation, listings and screens removed, table cells kept only when they are sentences; one document per chapter',
    html: { skipClasses: DOCBOOK_SKIP },
  });

/** The `gnu-standards` source: GNU Coding Standards and Information for Maintainers of GNU Software. */
export const gnuStandardsSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'gnu-standards',
    package: 'gnu-standards',
    dir: 'usr/share/doc/gnu-standards',
    include: /^(standards|maintain)\.html$/,
    probe: 'standards.html',
    licence: 'GFDL-1.3+ without invariant sections (Free Software Foundation)',
    cleaning: 'Texinfo HTML; navigation and examples (pre) removed; one document per manual',
    html: { skipClasses: ['header', 'contents', 'shortcontents', 'nav-panel', 'example'] },
  });

/** The `libreoffice-help` source: LibreOffice's English help pages (Debian `libreoffice-help-en-us`). */
export const libreofficeHelpSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'libreoffice-help',
    package: 'libreoffice-help-en-us',
    dir: 'usr/share/libreoffice/help/en-US',
    include: /^text\/.*\.html$/,
    probe: 'noscript.html',
    licence: 'MPL-2.0 (LibreOffice help)',
    cleaning: 'help pages; navigation and code examples removed, table cells kept only when they are sentences; one document per page',
    html: {
      skipClasses: [
        'TopLeftHeader',
        'rightside',
        'leftside',
        'contents-treeview',
        'dropdowns',
        'modules',
        'noteicon',
        'relatedtopics',
        'howtoget',
        'example',
        'bascode',
        'pycode',
        'bug',
      ],
      skipTags: ['header', 'aside', 'footer'],
    },
  });

/** The `gimp-help` source: the GIMP 2.10 user manual (Debian `gimp-help-en`). */
export const gimpHelpSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'gimp-help',
    package: 'gimp-help-en',
    dir: 'usr/share/gimp/2.0/help/en',
    include: /\.html$/,
    exclude: /^(index|ix01|gimp-help-index)\.html$/,
    probe: 'index.html',
    licence: 'GFDL-1.2+ without invariant sections (GIMP Documentation Team)',
    cleaning: 'DocBook HTML pages; navigation and listings removed, table cells kept only when they are sentences; one document per page',
    html: { skipClasses: DOCBOOK_SKIP },
  });

/** The `r-manuals` source: R's manuals (Debian `r-doc-html`). */
export const rManualsSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'r-manuals',
    package: 'r-doc-html',
    dir: 'usr/share/R/doc/manual',
    include: /^R-[a-zA-Z]+\.html$/,
    probe: 'R-intro.html',
    licence: 'R Core Team manuals: verbatim and modified copies permitted (their permission notice); package GPL-2+',
    cleaning:
      'Texinfo HTML manuals (R-intro, R-lang, R-data, R-admin, R-exts, R-ints, R-FAQ); examples (pre), navigation and tables of contents removed; one document per manual',
    html: { skipClasses: ['header', 'contents', 'shortcontents', 'nav-panel', 'example', 'smallexample', 'display'] },
  });

/** The `octave-doc` source: the GNU Octave manual (Debian `octave-doc`). */
export const octaveDocSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'octave-doc',
    package: 'octave-doc',
    dir: 'usr/share/doc/octave/octave.html',
    include: /\.html$/,
    exclude: /^(index|Concept-Index|Function-Index|Operator-Index|Graphics-Properties-Index)\.html$/,
    probe: 'index.html',
    licence: 'GPL-3+ (The Octave Project Developers)',
    cleaning: 'Texinfo HTML pages; examples, navigation and indexes removed; one document per page',
    html: { skipClasses: ['header', 'nav-panel', 'contents', 'example', 'menu', 'index-entry-id'] },
  });

/** The `debian-policy` source: the Debian Policy Manual (Debian `debian-policy`). */
export const debianPolicySource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'debian-policy',
    package: 'debian-policy',
    dir: 'usr/share/doc/debian-policy/policy.html',
    include: /^[^.]+\.html$/,
    exclude: /^(index|genindex|search)\.html$/,
    probe: 'index.html',
    licence: 'GPL-2+ (Debian Policy Manual authors)',
    cleaning: 'Sphinx HTML chapters (one language copy); navigation, literal blocks and tables of contents removed; one document per chapter',
    html: { skipClasses: SPHINX_SKIP },
  });

/** The `developers-reference` source: the Debian Developer's Reference (Debian `developers-reference`). */
export const developersReferenceSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'developers-reference',
    package: 'developers-reference',
    dir: 'usr/share/developers-reference',
    include: /^[a-z-]+\.html$/,
    exclude: /^(index|genindex|search|developers-reference)\.html$/,
    probe: 'index.html',
    licence: "GPL-2 (Debian Developer's Reference authors)",
    cleaning: 'Sphinx HTML chapters (the one-page copy excluded); navigation and literal blocks removed; one document per chapter',
    html: { skipClasses: SPHINX_SKIP },
  });

/** The `debian-faq` source: The Debian GNU/Linux FAQ (Debian `debian-faq`). */
export const debianFaqSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'debian-faq',
    package: 'debian-faq',
    dir: 'usr/share/doc/debian/FAQ',
    include: /\.html$/,
    exclude: /^index\.html$/,
    probe: 'index.html',
    licence: 'GPL-2+ (Debian FAQ authors)',
    cleaning: 'DocBook HTML chapters; navigation and listings removed, table cells kept only when they are sentences; one document per chapter',
    html: { skipClasses: DOCBOOK_SKIP },
  });

/** The `sqlite-doc` source: SQLite's documentation (Debian `sqlite3-doc`). */
export const sqliteDocSource = (roots: SourceRoots): CorpusSource =>
  htmlDocsSource(roots, {
    name: 'sqlite-doc',
    package: 'sqlite3-doc',
    dir: 'usr/share/doc/sqlite3',
    include: /\.html$/,
    exclude: /^(releaselog|session|syntax)\/|^(changes|chronology|docs|sitemap|keyword_index|toc|index|news|copyright-release)\.html$/,
    probe: 'lang.html',
    licence: 'public domain (SQLite documentation)',
    cleaning:
      'HTML pages (release log and index pages excluded); navigation and code blocks removed, table cells kept only when they are sentences; one document per page',
    html: { skipClasses: ['nosearch', 'menu', 'toc', 'codeblock', 'fancy_toc', 'sitemap', 'search'] },
  });
