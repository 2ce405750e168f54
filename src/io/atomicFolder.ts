/**
 * The one atomic folder writer of flowlens (model folders, results folders): everything is written
 * into a hidden temporary sibling `.<name>.tmp-<pid>-<random>`, which then replaces the folder as a
 * whole. A writer killed half-way leaves its temporary folder behind; the next write to the same
 * folder removes such leftovers of processes that no longer run (and puts back a folder that was
 * moved aside, `.<name>.old-<pid>-<random>`, when the kill came between the two renames).
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Whether a process id belongs to a running process. */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what killed writers left beside `target`: `.<name>.tmp-<pid>-*` folders of processes that
 * no longer run; a `.<name>.old-<pid>-*` folder of such a process is put back as `target` when
 * `target` is missing (the kill came between moving the old folder aside and moving the new one in),
 * else removed.
 *
 * @returns the paths removed or restored.
 */
export function cleanStaleTemps(target: string): string[] {
  const parent = dirname(target);
  if (!existsSync(parent)) return [];
  const base = basename(target);
  const done: string[] = [];
  const re = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)-`);
  for (const e of readdirSync(parent)) {
    const m = re.exec(e);
    if (!m || alive(Number(m[2]))) continue;
    const p = join(parent, e);
    if (m[1] === 'old' && !existsSync(target)) renameSync(p, target);
    else rmSync(p, { recursive: true, force: true });
    done.push(p);
  }
  return done;
}

/**
 * Writes a folder atomically: `write(tmp)` fills a fresh hidden temporary folder beside `dir`; when
 * it returns, the temporary folder replaces `dir` (an existing `dir` is moved aside, then removed).
 * When `write` throws, the temporary folder is removed and `dir` is left as it was. Leftovers of
 * killed earlier writers are cleaned up first ({@link cleanStaleTemps}).
 *
 * @param dir the folder (created with its parents; relative paths resolve against the cwd).
 * @param opts.keep names of entries of an existing `dir` carried over into the new folder (unless `write`
 *   made an entry of the same name), e.g. a checkpoint or an evaluation written by another command.
 * @returns the absolute path of `dir`.
 * @throws whatever `write` throws, or a file-system error naming the path.
 */
export function writeFolderAtomic(dir: string, write: (tmp: string) => void, opts: { keep?: string[] } = {}): string {
  const target = resolve(dir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  cleanStaleTemps(target);
  const tag = `${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const tmp = join(parent, `.${basename(target)}.tmp-${tag}`);
  mkdirSync(tmp);
  try {
    write(tmp);
    if (existsSync(target)) {
      // Entries to keep move from the old folder into the new one (and back if the swap fails).
      const kept = (opts.keep ?? []).filter((k) => existsSync(join(target, k)) && !existsSync(join(tmp, k)));
      for (const k of kept) renameSync(join(target, k), join(tmp, k));
      const old = join(parent, `.${basename(target)}.old-${tag}`);
      try {
        renameSync(target, old);
      } catch (e) {
        for (const k of kept) renameSync(join(tmp, k), join(target, k));
        throw e;
      }
      try {
        renameSync(tmp, target);
      } catch (e) {
        renameSync(old, target);
        for (const k of kept) renameSync(join(tmp, k), join(target, k));
        throw e;
      }
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return target;
}
