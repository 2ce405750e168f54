/**
 * The registry of corpus sources, in build order (earlier sources win when a sentence repeats).
 * Add a source: write its reader in this folder and list it here (and its Debian package in
 * `../apt-packages.txt`).
 *
 * @module
 */
import type { CorpusSource } from '../types.js';
import { brownSource } from './brown.js';
import type { SourceRoots } from './common.js';
import { devilSource, foldocSource, gcideSource, jargonSource } from './dictionaries.js';
import { sst2TrainSource, trecTrainSource } from './labeled.js';
import { wordnetSource } from './wordnet.js';
import { bibleWebSource } from './bible.js';
import { austenSource, mobyDickSource } from './books.js';
import { fortunesSource } from './fortunes.js';
import { sotuSource } from './sotu.js';
import {
  debianFaqSource,
  debianHandbookSource,
  debianPolicySource,
  debianReferenceSource,
  developersReferenceSource,
  gimpHelpSource,
  gnuStandardsSource,
  libreofficeHelpSource,
  linuxDocSource,
  octaveDocSource,
  postgresDocSource,
  rManualsSource,
  sqliteDocSource,
} from './htmlDocs.js';

/** Every source, built with the given roots. */
export function allSources(roots: SourceRoots = {}): CorpusSource[] {
  return [
    brownSource(roots),
    austenSource(roots),
    mobyDickSource(roots),
    sotuSource(roots),
    sst2TrainSource(roots),
    trecTrainSource(roots),
    gcideSource(roots),
    wordnetSource(roots),
    foldocSource(roots),
    jargonSource(roots),
    devilSource(roots),
    bibleWebSource(roots),
    fortunesSource(roots),
    debianHandbookSource(roots),
    debianReferenceSource(roots),
    debianFaqSource(roots),
    debianPolicySource(roots),
    developersReferenceSource(roots),
    gnuStandardsSource(roots),
    postgresDocSource(roots),
    libreofficeHelpSource(roots),
    gimpHelpSource(roots),
    rManualsSource(roots),
    octaveDocSource(roots),
    sqliteDocSource(roots),
    linuxDocSource(roots),
  ];
}

/** Names of every source, in build order. */
export function sourceNames(): string[] {
  return allSources({ root: '/nonexistent', sharedData: '/nonexistent', npmRoot: '/nonexistent' }).map((s) => s.name);
}
