/**
 * Hugging Face hub downloads into the standard hub cache (shared with Python's `huggingface_hub`):
 *
 * ```
 * ${HF_HUB_CACHE | HF_HOME/hub | ~/.cache/huggingface/hub}/models--{org}--{name}/
 *   blobs/<etag>                      file contents (etag: sha256 for LFS files, git sha1 otherwise)
 *   snapshots/<commit>/<file>         symlink → ../../blobs/<etag>
 *   refs/<revision>                   the commit hash a branch/tag resolved to
 *   .no_exist/<commit>/<file>         marks optional files the repo does not have
 * ```
 *
 * Files come from `${endpoint}/${repoId}/resolve/${revision}/${file}` (endpoint `HF_ENDPOINT`,
 * default https://huggingface.co) with Node's built-in fetch; the commit comes from the
 * `x-repo-commit` header, the blob name from `x-linked-etag` or `etag`. A cached snapshot holding
 * every required file is used without any network access.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, copyFileSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { writeFileAtomic } from './safetensors.js';
import { HubError } from '../errors.js';

/** Options of {@link resolveHubFolder}. Every field is optional. */
export interface HubOptions {
  /** Branch, tag or commit hash. Default `main`. */
  revision?: string;
  /** Hub cache folder. Default: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** No network; only the cache. Default: `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) is 1/true/yes/on. */
  offline?: boolean;
  /** Hub URL. Default: `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /**
   * Files to fetch. Default {@link DEFAULT_HUB_FILES}. Files in {@link OPTIONAL_HUB_FILES} may be
   * absent from the repo; `model.safetensors` falls back to `model.safetensors.index.json` + shards.
   */
  files?: string[];
  /** Access token for private/gated repos. Default: `HF_TOKEN`, else `HF_HOME/token`. */
  token?: string;
  /** Environment variables to read instead of `process.env` (for tests). */
  env?: Record<string, string | undefined>;
  /** Called as bytes arrive: file name, bytes so far, total (or undefined). */
  onProgress?: (file: string, bytes: number, total: number | undefined) => void;
  /**
   * Milliseconds to wait for the server's answer (connection and response headers) to each request.
   * Default: `HF_HUB_ETAG_TIMEOUT` seconds, else 10 s (huggingface_hub's default).
   */
  timeoutMs?: number;
  /**
   * Milliseconds a download may go without receiving a byte before it is abandoned.
   * Default: `HF_HUB_DOWNLOAD_TIMEOUT` seconds, else 10 s (huggingface_hub's default).
   */
  idleTimeoutMs?: number;
  /** Further attempts after a timeout, a network error, HTTP 429 or 5xx (default 3). */
  retries?: number;
  /** Wait before the first retry, doubled for each later one (default 1000 ms: 1, 2, 4 s). */
  retryDelayMs?: number;
}

/** What a BERT folder needs. */
export const DEFAULT_HUB_FILES = ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json'];
/** Files that may be missing from a repo (a 404 is recorded, not an error). */
export const OPTIONAL_HUB_FILES = new Set(['tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json', 'added_tokens.json']);

const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);
const COMMIT_RE = /^[0-9a-f]{40}$/;

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/**
 * The hub cache folder: `HF_HUB_CACHE` (or legacy `HUGGINGFACE_HUB_CACHE`), else `HF_HOME/hub`,
 * else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (as `huggingface_hub`).
 */
export function hubCacheDir(env: Record<string, string | undefined> = process.env): string {
  const direct = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (direct) return expandHome(direct);
  if (env.HF_HOME) return join(expandHome(env.HF_HOME), 'hub');
  const xdg = env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(xdg, 'huggingface', 'hub');
}

/** Is offline mode on in `env` (`HF_HUB_OFFLINE` or `TRANSFORMERS_OFFLINE` = 1/true/yes/on)? */
export function hubOfflineFromEnv(env: Record<string, string | undefined> = process.env): boolean {
  return [env.HF_HUB_OFFLINE, env.TRANSFORMERS_OFFLINE].some((v) => v !== undefined && TRUE_VALUES.has(v.trim().toUpperCase()));
}

/**
 * The cache folder name of a model repo: `bert-base-uncased` → `models--bert-base-uncased`,
 * `org/name` → `models--org--name`.
 * @throws Error naming the id when it is not `name` or `org/name` of letters, digits, `-`, `_`, `.`.
 */
export function repoFolderName(repoId: string): string {
  checkRepoId(repoId);
  return `models--${repoId.split('/').join('--')}`;
}

function checkRepoId(repoId: string): void {
  const parts = repoId.split('/');
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-z0-9][\w.-]*$/.test(p) || p.includes('..') || p.includes('--'))) {
    throw new HubError(`invalid hub repo id "${repoId}" (expected "name" or "org/name")`);
  }
}

function checkFileName(file: string): void {
  if (!file || file.startsWith('/') || file.split('/').some((p) => p === '' || p === '.' || p === '..') || file.includes('\\')) {
    throw new HubError(`invalid file name "${file}" in hub request`);
  }
}

interface Ctx {
  timeoutMs: number;
  idleTimeoutMs: number;
  retries: number;
  retryDelayMs: number;
  repoId: string;
  revision: string;
  repoDir: string;
  cacheDir: string;
  endpoint: string;
  token?: string;
  offline: boolean;
  onProgress?: HubOptions['onProgress'];
}

/** The commit a revision resolves to in the cache (the revision itself when it is a commit hash). */
function cachedCommit(ctx: Ctx): string | null {
  if (COMMIT_RE.test(ctx.revision)) return ctx.revision;
  const ref = join(ctx.repoDir, 'refs', ctx.revision);
  // a snapshot named by the revision itself (from a server that sends no x-repo-commit)
  if (!existsSync(ref)) return existsSync(join(ctx.repoDir, 'snapshots', ctx.revision)) ? ctx.revision : null;
  const c = readFileSync(ref, 'utf8').trim();
  return c || null;
}

/** Files of `files` missing from a snapshot (model.safetensors may be a complete sharded set). */
function missingFromSnapshot(snap: string, files: string[], noExist: string): string[] {
  const missing: string[] = [];
  for (const f of files) {
    if (existsSync(join(snap, f))) continue;
    if (f === 'model.safetensors' && shardedComplete(snap)) continue;
    if (OPTIONAL_HUB_FILES.has(f) && existsSync(join(noExist, f))) continue;
    missing.push(f);
  }
  return missing;
}

function shardedComplete(snap: string): boolean {
  const index = join(snap, 'model.safetensors.index.json');
  if (!existsSync(index)) return false;
  try {
    const shards = shardNames(JSON.parse(readFileSync(index, 'utf8')), index);
    return shards.every((s) => existsSync(join(snap, s)));
  } catch {
    return false;
  }
}

function shardNames(json: unknown, source: string): string[] {
  const map = (json as { weight_map?: unknown })?.weight_map;
  if (!map || typeof map !== 'object') throw new HubError(`${source}: missing "weight_map"`);
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const n of names) {
    if (typeof n !== 'string') throw new HubError(`${source}: "weight_map" values must be file names`);
    checkFileName(n);
  }
  return names as string[];
}

/**
 * Find a cached snapshot of a repo holding every required file (no network; optional files such as
 * tokenizer_config.json may be absent).
 *
 * @returns the snapshot folder, or null when the revision is not cached or files are missing.
 * @throws Error for an invalid repo id.
 */
export function findCachedSnapshot(repoId: string, opts: Pick<HubOptions, 'revision' | 'cacheDir' | 'files' | 'env'> = {}): string | null {
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? hubCacheDir(env);
  const revision = opts.revision ?? 'main';
  const repoDir = join(cacheDir, repoFolderName(repoId));
  const ctx = { repoId, revision, repoDir, cacheDir, endpoint: '', offline: true } as Ctx;
  const commit = cachedCommit(ctx);
  if (!commit) return null;
  const snap = join(repoDir, 'snapshots', commit);
  const files = opts.files ?? DEFAULT_HUB_FILES;
  const missing = missingFromSnapshot(snap, files, join(repoDir, '.no_exist', commit));
  return missing.every((f) => OPTIONAL_HUB_FILES.has(f)) && existsSync(snap) ? snap : null;
}

/**
 * Make a hub model available locally and return its snapshot folder (which {@link loadHfFolder}
 * reads): uses the cache when it already holds every required file of the revision (no network),
 * otherwise downloads the missing files into the cache (blobs written as `.incomplete` then renamed;
 * SHA-256 checked when the etag is one).
 *
 * @param repoId `name` or `org/name`.
 * @returns absolute path `…/models--{org}--{name}/snapshots/{commit}`.
 * @throws Error naming the repo and cache folder in offline mode when files are not cached; naming
 *   the repo, file, URL and HTTP status when a required file is missing (404), access is denied
 *   (401/403: private or gated, set HF_TOKEN) or the server fails; naming the URL when the hub cannot
 *   be reached; naming the file on a size or checksum mismatch.
 */
export async function resolveHubFolder(repoId: string, opts: HubOptions = {}): Promise<string> {
  checkRepoId(repoId);
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? hubCacheDir(env);
  const revision = opts.revision ?? 'main';
  if (!revision || revision.split('/').some((p) => p === '' || p === '.' || p === '..')) throw new HubError(`invalid revision "${revision}"`);
  const files = opts.files ?? DEFAULT_HUB_FILES;
  if (files.length === 0) throw new HubError('resolveHubFolder: empty files list');
  files.forEach(checkFileName);
  let token = opts.token ?? env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (token === undefined) {
    const tokenFile = join(env.HF_HOME ? expandHome(env.HF_HOME) : join(homedir(), '.cache', 'huggingface'), 'token');
    if (existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim() || undefined;
  }
  const ctx: Ctx = {
    repoId,
    revision,
    cacheDir,
    repoDir: join(cacheDir, repoFolderName(repoId)),
    endpoint: (opts.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''),
    token,
    offline: opts.offline ?? hubOfflineFromEnv(env),
    onProgress: opts.onProgress,
    timeoutMs: opts.timeoutMs ?? secondsFromEnv(env.HF_HUB_ETAG_TIMEOUT, 10) * 1000,
    idleTimeoutMs: opts.idleTimeoutMs ?? secondsFromEnv(env.HF_HUB_DOWNLOAD_TIMEOUT, 10) * 1000,
    retries: opts.retries ?? 3,
    retryDelayMs: opts.retryDelayMs ?? 1000,
  };
  for (const [k, v] of [
    ['timeoutMs', ctx.timeoutMs],
    ['idleTimeoutMs', ctx.idleTimeoutMs],
    ['retryDelayMs', ctx.retryDelayMs],
  ] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new HubError(`${k} must be a positive number of milliseconds, got ${v}`);
  }
  if (!Number.isInteger(ctx.retries) || ctx.retries < 0) throw new HubError(`retries must be a non-negative integer, got ${ctx.retries}`);

  // 1. the cache (offline, an optional file of unknown status is not needed)
  const commit = cachedCommit(ctx);
  let missing = files;
  if (commit) {
    const snap = join(ctx.repoDir, 'snapshots', commit);
    missing = missingFromSnapshot(snap, files, join(ctx.repoDir, '.no_exist', commit));
    if (missing.length === 0) return snap;
    if (ctx.offline && missing.every((f) => OPTIONAL_HUB_FILES.has(f))) return snap;
  }
  if (ctx.offline) {
    const what = commit
      ? `files ${missing.filter((f) => !OPTIONAL_HUB_FILES.has(f)).join(', ')} of ${repoId} (revision ${revision}, commit ${commit}) are`
      : `${repoId} (revision ${revision}) is`;
    throw new HubError(
      `${what} not in the Hugging Face cache at ${cacheDir}, and offline mode is on (HF_HUB_OFFLINE=1): download it once with network access, or unset HF_HUB_OFFLINE`,
    );
  }

  // 2. download: the first response tells the commit the revision points to now; files already in
  // that commit's snapshot are skipped, the others fetched pinned to that commit.
  let snapCommit: string | null = COMMIT_RE.test(revision) ? revision : null;
  const snapDir = () => join(ctx.repoDir, 'snapshots', snapCommit as string);
  const have = (f: string) => snapCommit !== null && existsSync(join(snapDir(), f));
  for (const file of files) {
    if (have(file) || (file === 'model.safetensors' && snapCommit !== null && shardedComplete(snapDir()))) continue;
    const got = await downloadFile(ctx, file, snapCommit ?? revision, OPTIONAL_HUB_FILES.has(file) || file === 'model.safetensors');
    snapCommit ??= got.commit ?? revision;
    if (got.status === 'missing' && file === 'model.safetensors') {
      const idx = have('model.safetensors.index.json') ? { status: 'ok' } : await downloadFile(ctx, 'model.safetensors.index.json', snapCommit, true);
      if (idx.status === 'missing') {
        throw new HubError(
          `${repoId} (revision ${revision}) has neither model.safetensors nor model.safetensors.index.json at ${ctx.endpoint}: only safetensors checkpoints are supported`,
        );
      }
      const indexPath = join(snapDir(), 'model.safetensors.index.json');
      for (const shard of shardNames(JSON.parse(readFileSync(indexPath, 'utf8')), indexPath)) {
        if (!have(shard)) await downloadFile(ctx, shard, snapCommit, false);
      }
    }
    // a missing optional file is recorded in .no_exist by downloadFile
  }
  const finalCommit = snapCommit ?? revision;
  if (finalCommit !== revision) writeRef(ctx, finalCommit);
  return snapDir();
}

function writeRef(ctx: Ctx, commit: string): void {
  const ref = join(ctx.repoDir, 'refs', ctx.revision);
  mkdirSync(dirname(ref), { recursive: true });
  writeFileAtomic(ref, commit);
}

function normalizeEtag(e: string | null): string | null {
  if (!e) return null;
  const s = e
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  return /^[\w.-]+$/.test(s) ? s : null;
}

/** A positive number of seconds from an environment variable, else `fallback`. */
function secondsFromEnv(v: string | undefined, fallback: number): number {
  const n = v === undefined ? NaN : Number(v);
  return n > 0 ? n : fallback;
}

/** A failure worth another attempt: no answer in time, a network error, HTTP 429 or 5xx, a broken body. */
class Transient extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * GET one file into the cache, with `ctx.retries` further attempts after a transient failure (waits
 * `retryDelayMs`, doubled each time).
 * @throws HubError naming the URL, what went wrong, and the attempts made.
 */
async function downloadFile(ctx: Ctx, file: string, revision: string, optional: boolean): Promise<{ status: 'ok' | 'missing'; commit: string | null }> {
  const waits: number[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadOnce(ctx, file, revision, optional);
    } catch (e) {
      if (!(e instanceof Transient)) throw e;
      if (attempt >= ctx.retries) {
        const waited = waits.length ? `, after waiting ${waits.map((w) => `${w / 1000} s`).join(' + ')} between them` : '';
        throw new HubError(
          `${ctx.repoId}: ${e.message} (${attempt + 1} attempt${attempt ? 's' : ''}${waited}); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the cache only`,
          { cause: e },
        );
      }
      const wait = ctx.retryDelayMs * 2 ** attempt;
      waits.push(wait);
      await sleep(wait);
    }
  }
}

/**
 * GET one file into the cache. Returns its commit and whether it exists. A 404 on an optional file
 * is recorded in `.no_exist/<commit>/<file>`.
 */
async function downloadOnce(ctx: Ctx, file: string, revision: string, optional: boolean): Promise<{ status: 'ok' | 'missing'; commit: string | null }> {
  const encodedFile = file.split('/').map(encodeURIComponent).join('/');
  let url = `${ctx.endpoint}/${ctx.repoId}/resolve/${encodeURIComponent(revision)}/${encodedFile}`;
  const firstUrl = url;
  const endpointOrigin = new URL(ctx.endpoint).origin;
  let commit: string | null = null;
  let etag: string | null = null;
  let resp: Response | undefined;
  // One controller per attempt: the answer timer, then the idle timer of the body, abort it.
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = '';
  const arm = (ms: number, what: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = what;
      abort.abort();
    }, ms);
  };
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'flowlens (node)', 'accept-encoding': 'identity' };
    if (ctx.token && new URL(url).origin === endpointOrigin) headers.authorization = `Bearer ${ctx.token}`;
    arm(ctx.timeoutMs, `no answer within ${ctx.timeoutMs / 1000} s`);
    try {
      resp = await fetch(url, { redirect: 'manual', headers, signal: abort.signal });
    } catch (e) {
      clearTimeout(timer);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new Transient(
        timedOut
          ? `GET ${url}: ${timedOut}`
          : `cannot reach the Hugging Face hub: GET ${url} failed (${cause?.code ?? cause?.message ?? (e as Error).message})`,
      );
    }
    // The hub's own answer carries x-repo-commit; relative redirects before it (renamed repos) and
    // CDN responses after it do not, and their etags are not blob names.
    const rc = resp.headers.get('x-repo-commit');
    if (rc && commit === null) {
      commit = rc.trim();
      etag = normalizeEtag(resp.headers.get('x-linked-etag')) ?? normalizeEtag(resp.headers.get('etag'));
    }
    if (resp.status >= 300 && resp.status < 400 && resp.headers.get('location')) {
      await resp.body?.cancel();
      url = new URL(resp.headers.get('location') as string, url).toString();
      continue;
    }
    break;
  }
  clearTimeout(timer);
  if (!resp) throw new HubError(`GET ${firstUrl}: no response`);
  if (resp.status === 429 || resp.status >= 500) {
    await resp.body?.cancel().catch(() => undefined);
    throw new Transient(`GET ${firstUrl}: HTTP ${resp.status}`);
  }
  if (resp.status === 404 && optional) {
    await resp.body?.cancel();
    const c = commit ?? revision;
    const marker = join(ctx.repoDir, '.no_exist', c, file);
    mkdirSync(dirname(marker), { recursive: true });
    writeFileAtomic(marker, '');
    return { status: 'missing', commit };
  }
  if (!resp.ok) {
    await resp.body?.cancel();
    const code = resp.headers.get('x-error-code');
    let why = `HTTP ${resp.status}`;
    if (resp.status === 404)
      why +=
        code === 'RevisionNotFound' ? ` (revision "${revision}" not found)` : code === 'RepositoryNotFound' ? ' (repository not found)' : ' (file not found)';
    if (resp.status === 401 || resp.status === 403) why += ' (repository not found, private or gated: set HF_TOKEN to a token with access)';
    if (resp.status >= 300 && resp.status < 400) why += ' (too many redirects)';
    throw new HubError(`${ctx.repoId}: cannot download required file ${file} from ${firstUrl}: ${why}`);
  }
  if (!resp.body) throw new HubError(`${ctx.repoId}: empty response body for ${file} from ${firstUrl}`);
  const c = commit ?? revision;
  const blobs = join(ctx.repoDir, 'blobs');
  mkdirSync(blobs, { recursive: true });
  const lenHeader = resp.headers.get('content-length');
  const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : undefined;

  let blobPath = etag ? join(blobs, etag) : null;
  if (blobPath && existsSync(blobPath)) {
    await resp.body.cancel();
  } else {
    const incomplete = join(blobs, `${etag ?? 'download'}.${process.pid}.${Math.random().toString(36).slice(2)}.incomplete`);
    const hash = createHash('sha256');
    let bytes = 0;
    const onProgress = ctx.onProgress;
    arm(ctx.idleTimeoutMs, `the download stalled (no data for ${ctx.idleTimeoutMs / 1000} s)`);
    const idle = ctx.idleTimeoutMs;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        arm(idle, `the download stalled (no data for ${idle / 1000} s)`);
        hash.update(chunk);
        bytes += chunk.length;
        onProgress?.(file, bytes, total);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(resp.body as import('node:stream/web').ReadableStream), meter, createWriteStream(incomplete));
      if (total !== undefined && bytes !== total) throw new HubError(`received ${bytes} of ${total} bytes`);
      const sha = hash.digest('hex');
      if (etag && /^[0-9a-f]{64}$/.test(etag) && sha !== etag) throw new HubError(`SHA-256 checksum mismatch (expected ${etag}, got ${sha})`);
      blobPath ??= join(blobs, sha);
      renameSync(incomplete, blobPath);
    } catch (e) {
      rmSync(incomplete, { force: true });
      throw new Transient(`download of ${file} from ${firstUrl} failed: ${timedOut || (e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  linkIntoSnapshot(join(ctx.repoDir, 'snapshots', c, file), blobPath);
  return { status: 'ok', commit };
}

/** snapshots/<commit>/<file> → relative symlink to the blob (a copy where symlinks are not allowed). */
function linkIntoSnapshot(dest: string, blob: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  const target = relative(dirname(dest), blob);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (lstatExists(dest)) rmSync(dest, { force: true });
      symlinkSync(target, dest);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EACCES') {
        copyFileSync(blob, dest);
        return;
      }
      throw e;
    }
  }
  if (!existsSync(dest) || statSync(dest).size !== statSync(blob).size) throw new HubError(`cannot link ${dest} to ${blob}`);
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
