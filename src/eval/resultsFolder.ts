/**
 * The one atomic writer of a reproduction's results folder (`results/<paper>/`), shared by every
 * `flowlens reproduce …`: nothing is written half-way (on {@link writeFolderAtomic}, which also
 * cleans up what a killed earlier run left).
 *
 * @module
 */
import { join } from 'node:path';
import { writeFolderAtomic } from '../io/atomicFolder.js';

/**
 * Write a results folder atomically. `write(tmp)` fills a fresh temporary folder beside `dir`; when it
 * returns, the temporary folder replaces `dir` as a whole (an existing `dir` is moved aside first and
 * removed after). When `write` throws, the temporary folder is removed, `dir` is left as it was, and the
 * error is rethrown.
 *
 * @param dir the results folder (created with its parents; relative paths resolve against the cwd).
 * @param names the files `write` creates, for the returned paths.
 * @returns the absolute paths of `names` inside `dir`.
 * @throws whatever `write` throws, or a file-system error naming the path.
 */
export function writeResultsFolder(dir: string, names: readonly string[], write: (tmp: string) => void): string[] {
  const target = writeFolderAtomic(dir, write);
  return names.map((f) => join(target, f));
}
