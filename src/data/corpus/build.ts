/**
 * `flowlens data corpus`: builds the natural-English pretraining corpus from the installed packages.
 *
 * For every selected source that is installed: read its documents, sentence-split paragraphs
 * (`split.ts`), normalise, keep prose (`prose.ts`), drop sentences of the evaluation sets
 * (`decontam.ts`), drop sentences seen before anywhere in the corpus and documents that are mostly
 * such repeats (`dedup.ts`), send whole documents to the held-out file by a hash of their id and the
 * seed (`heldout.ts`), and write the corpus format (`writer.ts`) with `sources.json` and `CARD.md`
 * (`card.ts`), atomically.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { writeCard, type CorpusSummary } from './card.js';
import { SentenceSet } from './dedup.js';
import { loadEvaluationSet } from './decontam.js';
import { isHeldout } from './heldout.js';
import { missingMessage, readAptPackages } from './packages.js';
import { proseRejection, type ProseOptions } from './prose.js';
import { allSources } from './sources/index.js';
import { sharedDataDir } from './sources/labeled.js';
import type { SourceRoots } from './sources/common.js';
import { splitSentences } from './split.js';
import { countWords, normaliseText } from './text.js';
import type { CorpusSource, MissingInput, RawDocument, SourceStats } from './types.js';
import { CorpusFileWriter } from './writer.js';
import { openFolderAtomic } from '../../io/atomicFolder.js';

/** Options of {@link buildCorpus}. */
export interface BuildOptions {
  /** Output folder (default `.cache/corpus`). */
  out?: string;
  /** Source names to use (default: all). */
  sources?: string[];
  /** Share of documents held out (default 0.01). */
  heldout?: number;
  /** Seed of the held-out split (default 1). */
  seed?: number;
  /** Where the readers look (tests: fixtures). */
  roots?: SourceRoots;
  /** Show a progress bar on stderr (default false). */
  progress?: boolean;
  /** Informational lines (missing packages, summary); default: none. */
  log?: (line: string) => void;
  /** The command line recorded in `sources.json` and the card. */
  command?: string;
  /**
   * Runs after the corpus files are written and before the folder is renamed into place (e.g. the
   * tokenizer statistics and id cache); its result is stored in `sources.json` as `vocabulary`.
   */
  afterWrite?: (tmpDir: string) => Promise<Record<string, unknown>> | Record<string, unknown>;
}

/** What {@link buildCorpus} did. */
export interface BuildResult extends CorpusSummary {
  /** The output folder. */
  out: string;
}

/** A document's fate after filtering. */
interface Filtered {
  kept: string[];
  notProse: number;
  contaminated: number;
  duplicates: number;
  droppedAsDuplicate: boolean;
}

/**
 * Filters one document's sentences (prose, contamination, duplicates) and records the kept ones in `seen`.
 * A document with two or more candidate sentences of which more than half were seen before is dropped
 * whole (a near-duplicate document).
 */
export function filterDocument(doc: RawDocument, prose: ProseOptions, evaluation: SentenceSet, seen: SentenceSet): Filtered {
  const raw = doc.sentences ? doc.sentences.map(normaliseText).filter((s) => s !== '') : (doc.paragraphs ?? []).flatMap(splitSentences);
  const r: Filtered = { kept: [], notProse: 0, contaminated: 0, duplicates: 0, droppedAsDuplicate: false };
  const candidates: string[] = [];
  for (const s of raw) {
    if (proseRejection(s, prose) !== null) r.notProse++;
    else if (evaluation.has(s)) r.contaminated++;
    else candidates.push(s);
  }
  const local = new SentenceSet();
  const fresh: string[] = [];
  for (const s of candidates) {
    if (seen.has(s) || !local.add(s)) r.duplicates++;
    else fresh.push(s);
  }
  if (candidates.length >= 2 && fresh.length * 2 < candidates.length) {
    r.droppedAsDuplicate = true;
    r.duplicates = candidates.length;
    return r;
  }
  for (const s of fresh) seen.add(s);
  r.kept = fresh;
  return r;
}

function emptyStats(src: CorpusSource): SourceStats {
  return {
    name: src.name,
    package: src.package,
    version: src.version(),
    licence: src.licence,
    documents: 0,
    sentences: 0,
    words: 0,
    bytes: 0,
    dropped_dup: 0,
    dropped_dup_documents: 0,
    dropped_contaminated: 0,
    dropped_not_prose: 0,
    heldout_documents: 0,
    heldout_sentences: 0,
    heldout_words: 0,
    cleaning: src.cleaning,
  };
}

/**
 * Builds the corpus.
 *
 * @returns per-source figures, totals, missing inputs and the build time.
 * @throws Error listing unknown source names; Error with the install command when no selected source
 *   is installed; Error naming the file when an evaluation set or an input is malformed. Nothing is left
 *   in the output folder on failure.
 */
export async function buildCorpus(opts: BuildOptions = {}): Promise<BuildResult> {
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const roots = opts.roots ?? {};
  const seed = opts.seed ?? 1;
  const fraction = opts.heldout ?? 0.01;
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`--heldout must be in [0, 1), got ${fraction}`);
  const log = opts.log ?? (() => {});
  const every = allSources(roots);
  let selected = every;
  if (opts.sources && opts.sources.length) {
    const unknown = opts.sources.filter((n) => !every.some((s) => s.name === n));
    if (unknown.length) throw new Error(`unknown corpus source(s): ${unknown.join(', ')} (known: ${every.map((s) => s.name).join(', ')})`);
    selected = every.filter((s) => opts.sources?.includes(s.name));
  }
  const missing: { source: string; input: MissingInput }[] = [];
  const present: CorpusSource[] = [];
  for (const s of selected) {
    const m = s.missing();
    if (m.length) for (const input of m) missing.push({ source: s.name, input });
    else present.push(s);
  }
  const message = missingMessage(missing);
  if (present.length === 0) throw new Error(`no corpus source is installed:\n${message}`);
  if (message) log(`building without ${[...new Set(missing.map((m) => m.source))].join(', ')}:\n${message}`);

  const evaluation = loadEvaluationSet(sharedDataDir(roots));
  const seen = new SentenceSet();
  const folder = openFolderAtomic(opts.out ?? '.cache/corpus');
  const file = (name: string) => join(folder.tmp, name);
  const stats: SourceStats[] = [];
  let bar: cliProgress.SingleBar | null = null;
  try {
    const train = new CorpusFileWriter(file('train.txt'));
    const held = new CorpusFileWriter(file('heldout.txt'));
    if (opts.progress) {
      bar = new cliProgress.SingleBar(
        { format: 'corpus [{bar}] {value}/{total} sources | {source} | {docs} docs | {words} words | {duration}s', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(present.length, 0, { source: '', docs: 0, words: 0 });
    }
    let totalWords = 0;
    for (const src of present) {
      const st = emptyStats(src);
      const prose = src.prose ?? {};
      for (const doc of src.documents()) {
        const usePunct = prose.requirePunctuation ?? doc.sentences === undefined;
        const f = filterDocument(doc, { ...prose, requirePunctuation: usePunct }, evaluation.sentences, seen);
        st.dropped_not_prose += f.notProse;
        st.dropped_contaminated += f.contaminated;
        st.dropped_dup += f.duplicates;
        if (f.droppedAsDuplicate) st.dropped_dup_documents++;
        if (f.kept.length === 0) continue;
        const words = f.kept.reduce((a, s) => a + countWords(s), 0);
        const bytes = f.kept.reduce((a, s) => a + Buffer.byteLength(s, 'utf8') + 1, 0);
        st.documents++;
        st.sentences += f.kept.length;
        st.words += words;
        st.bytes += bytes;
        if (isHeldout(doc.id, seed, fraction)) {
          held.writeDocument(f.kept);
          st.heldout_documents++;
          st.heldout_sentences += f.kept.length;
          st.heldout_words += words;
        } else train.writeDocument(f.kept);
        totalWords += words;
        if (bar && st.documents % 2000 === 0) bar.update({ source: src.name, docs: st.documents, words: totalWords });
      }
      stats.push(st);
      bar?.increment(1, { source: src.name, docs: st.documents, words: totalWords });
    }
    train.close();
    held.close();
    bar?.stop();
    bar = null;
    const summary: CorpusSummary = {
      command: opts.command ?? 'flowlens data corpus',
      seed,
      heldoutFraction: fraction,
      sources: stats,
      missing: missing.map((m) => ({ source: m.source, ...m.input })),
      evaluation: evaluation.counts,
      seconds: 0,
      vocabulary: undefined,
      aptPackages: aptPackagesOrEmpty(),
    };
    if (opts.afterWrite) summary.vocabulary = await opts.afterWrite(folder.tmp);
    summary.seconds = (Date.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    summary.cpuSeconds = (cpu.user + cpu.system) / 1e6;
    writeFileSync(file('sources.json'), JSON.stringify(sourcesJson(summary), null, 2) + '\n');
    writeFileSync(file('CARD.md'), writeCard(summary));
    return { ...summary, out: folder.commit() };
  } catch (e) {
    bar?.stop();
    folder.abort();
    throw e;
  }
}

/** The Debian package list, or [] when the file is not there (an installed copy without `src/`). */
function aptPackagesOrEmpty(): string[] {
  try {
    return readAptPackages();
  } catch {
    return [];
  }
}

/** The `sources.json` object: per-source figures, totals, and how the corpus was built. */
export function sourcesJson(s: CorpusSummary): Record<string, unknown> {
  return {
    format: 'flowlens-corpus-1: train.txt / heldout.txt, UTF-8, one sentence per line, documents separated by one empty line',
    command: s.command,
    seed: s.seed,
    heldout_fraction: s.heldoutFraction,
    build_seconds: Math.round(s.seconds * 10) / 10,
    build_cpu_seconds: s.cpuSeconds === undefined ? null : Math.round(s.cpuSeconds * 10) / 10,
    sources: s.sources,
    totals: totals(s.sources),
    missing: s.missing,
    decontamination_sets: s.evaluation,
    vocabulary: s.vocabulary ?? null,
  };
}

/** Sums of the numeric per-source figures. */
export function totals(stats: SourceStats[]): Record<string, number> {
  const keys = [
    'documents',
    'sentences',
    'words',
    'bytes',
    'dropped_dup',
    'dropped_dup_documents',
    'dropped_contaminated',
    'dropped_not_prose',
    'heldout_documents',
    'heldout_sentences',
    'heldout_words',
  ] as const;
  const t: Record<string, number> = {};
  for (const k of keys) t[k] = stats.reduce((a, s) => a + s[k], 0);
  return t;
}
