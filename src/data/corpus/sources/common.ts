/**
 * Shared machinery of the corpus readers: where a source's files are, and the {@link CorpusSource}
 * built from a description, so that each reader file holds only its format and cleaning.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { debianVersion, npmPackageDir, npmVersion } from '../packages.js';
import type { CorpusSource } from '../types.js';

/** Where readers look for their inputs (tests point these at fixtures). */
export interface SourceRoots {
  /** File-system root of the Debian packages' files (default `/`). */
  root?: string;
  /** Folder of the shared data (default: `../shared/data` from the project root). */
  sharedData?: string;
  /** Folder holding npm packages by name (default: resolved from this project's `node_modules`). */
  npmRoot?: string;
}

/** A Debian package's file below the roots' file-system root. */
export function aptPath(roots: SourceRoots, path: string): string {
  return join(roots.root ?? '/', path);
}

/** An npm package's folder (under `roots.npmRoot` when given), or undefined when it is not installed. */
export function npmDir(roots: SourceRoots, name: string): string | undefined {
  if (roots.npmRoot) {
    const p = join(roots.npmRoot, name);
    return existsSync(p) ? p : undefined;
  }
  return npmPackageDir(name);
}

/** Description of a source: {@link CorpusSource} with the files it needs instead of `missing`. */
export interface SourceSpec extends Omit<CorpusSource, 'missing' | 'version'> {
  /** The files that must exist (absolute paths). */
  files: string[];
  /** Version override (default: dpkg for apt, package.json for npm, 'n/a' for shared files). */
  version?: () => string;
}

/** A {@link CorpusSource} from a {@link SourceSpec}: missing = the files that do not exist. */
export function makeSource(spec: SourceSpec): CorpusSource {
  const { files: _files, version: _version, ...rest } = spec;
  return {
    ...rest,
    missing: () => spec.files.filter((f) => !existsSync(f)).map((path) => ({ package: spec.package, kind: spec.kind, path })),
    version: spec.version ?? (() => (spec.kind === 'apt' ? debianVersion(spec.package) : spec.kind === 'npm' ? npmVersion(spec.package) : 'n/a')),
    documents: () => spec.documents(),
  };
}
