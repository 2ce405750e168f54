import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBertConfig } from '../src/io/config.js';
import { expectedBertShapes, loadHfFolder, saveHfFolder, type PlainTensor } from '../src/io/hfFolder.js';
import { findCachedSnapshot, hubCacheDir, repoFolderName, resolveHubFolder } from '../src/io/hub.js';
import { HubError } from '../src/errors.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';

const COMMIT = 'a'.repeat(39) + '1';
const COMMIT_V1 = 'b'.repeat(39) + '2';
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '.'];

let root: string;
let server: Server;
let endpoint: string;
/** Requests the server received (paths). */
const requests: string[] = [];
/** repo id → folder served. */
const repos = new Map<string, string>();
/** Paths answered once with HTTP 503 (retry test). */
const failOnce = new Set<string>();
/** Serve wrong bytes for model.safetensors of this repo (checksum test). */
let corrupt = '';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'flowlens-hub-'));
  const config = parseBertConfig({
    architectures: ['BertForMaskedLM'],
    vocab_size: VOCAB.length,
    hidden_size: 4,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 8,
    max_position_embeddings: 8,
  });
  const weights = new Map<string, PlainTensor>();
  let k = 0;
  for (const [name, shape] of expectedBertShapes(config, { head: 'mlm' })) {
    const n = shape.reduce((a, b) => a * b, 1);
    weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (k++ % 17) / 17 - 0.5) });
  }
  const src = join(root, 'src', 'tiny');
  saveHfFolder(src, { config, weights, vocab: VOCAB, tokenizerConfig: { do_lower_case: true } });
  repos.set('org/tiny', src);
  repos.set('org/tiny2', src);
  repos.set('org/tiny3', src);
  repos.set('single', src);
  const noTok = join(root, 'src', 'notok');
  cpSync(src, noTok, { recursive: true });
  rmSync(join(noTok, 'tokenizer_config.json'));
  repos.set('org/no-tokcfg', noTok);
  const noVocab = join(root, 'src', 'novocab');
  cpSync(src, noVocab, { recursive: true });
  rmSync(join(noVocab, 'vocab.txt'));
  repos.set('org/no-vocab', noVocab);
  repos.set('org/corrupt', src);
  // a sharded checkpoint: model.safetensors.index.json + two shards, no model.safetensors
  const sharded = join(root, 'src', 'sharded');
  cpSync(src, sharded, { recursive: true });
  rmSync(join(sharded, 'model.safetensors'));
  const all = readSafetensors(join(src, 'model.safetensors'));
  const names = [...all.keys()];
  const weightMap: Record<string, string> = {};
  [names.slice(0, 10), names.slice(10)].forEach((ns, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(sharded, file), new Map(ns.map((n) => [n, all.get(n) as PlainTensor])), { metadata: { format: 'pt' } });
    for (const n of ns) weightMap[n] = file;
  });
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  repos.set('org/sharded', sharded);

  // A minimal hub: /{repo}/resolve/{rev}/{file}. model.safetensors behaves as an LFS file (302 to a
  // CDN path with x-linked-etag = sha256); other files are served directly with a git-sha1 etag.
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    if (failOnce.delete(url)) {
      res.writeHead(503);
      res.end('busy');
      return;
    }
    const cdn = /^\/cdn\/([^/]+(?:\/[^/]+)?)\/(.+)$/.exec(url);
    if (cdn) {
      const body = readFileSync(join(repos.get(cdn[1] as string) as string, cdn[2] as string));
      res.writeHead(200, { 'content-length': body.length, etag: '"cdn-etag"' });
      res.end(cdn[1] === corrupt ? Buffer.from(body.map((x) => x ^ 1)) : body);
      return;
    }
    const renamed = /^\/old-name\/resolve\/(.+)$/.exec(url);
    if (renamed) {
      res.writeHead(307, { location: `/org/tiny/resolve/${renamed[1]}` });
      res.end();
      return;
    }
    const m = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const repo = m && repos.get(m[1] as string);
    if (!m || !repo) {
      res.writeHead(401, { 'x-error-code': 'RepositoryNotFound' });
      res.end('Repository not found');
      return;
    }
    const [, id, rev, file] = m as unknown as [string, string, string, string];
    const commit = rev === 'v1' || rev === COMMIT_V1 ? COMMIT_V1 : rev === 'main' || rev === COMMIT ? COMMIT : null;
    if (!commit) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound' });
      res.end();
      return;
    }
    const path = join(repo, file);
    if (!existsSync(path)) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': commit });
      res.end('Entry not found');
      return;
    }
    const body = readFileSync(path);
    if (file.endsWith('.safetensors')) {
      res.writeHead(302, {
        location: `/cdn/${id}/${file}`,
        'x-repo-commit': commit,
        'x-linked-etag': `"${sha256(body)}"`,
        'x-linked-size': String(body.length),
        etag: '"pointer"',
      });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length, 'x-repo-commit': commit, etag: `W/"${gitSha1(body)}"` });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

test('cache folder from options/env as huggingface_hub', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/x/hub-cache', HF_HOME: '/y' }), '/x/hub-cache');
  assert.equal(hubCacheDir({ HF_HOME: '/y' }), '/y/hub');
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/z' }), '/z/huggingface/hub');
  assert.match(hubCacheDir({}), /\.cache\/huggingface\/hub$/);
  assert.equal(repoFolderName('org/name'), 'models--org--name');
  assert.equal(repoFolderName('bert-base-uncased'), 'models--bert-base-uncased');
  assert.throws(() => repoFolderName('../etc'), /invalid hub repo id/);
  assert.throws(() => repoFolderName('a/b/c'), /invalid hub repo id/);
});

test('first call downloads into the HF cache layout; second call uses the cache only', async () => {
  const cache = join(root, 'cache1');
  const env = { HF_HUB_CACHE: cache, HF_ENDPOINT: endpoint };
  requests.length = 0;
  const snap = await resolveHubFolder('org/tiny', { env });
  const repoDir = join(cache, 'models--org--tiny');
  assert.equal(snap, join(repoDir, 'snapshots', COMMIT));
  assert.ok(requests.length >= 4, `requests: ${requests}`);
  assert.ok(requests.every((r) => r.startsWith(`/org/tiny/resolve/`) || r.startsWith('/cdn/')));
  // after the first response, files are fetched pinned to the commit
  assert.ok(requests.some((r) => r.includes(`/resolve/${COMMIT}/`)));
  assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), COMMIT);
  const src = repos.get('org/tiny') as string;
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json']) {
    const p = join(snap, f);
    assert.ok(lstatSync(p).isSymbolicLink(), f);
    const body = readFileSync(join(src, f));
    const blob = f === 'model.safetensors' ? sha256(body) : gitSha1(body);
    assert.equal(readlinkSync(p), `../../blobs/${blob}`, f);
    assert.deepEqual(readFileSync(p), body, f);
  }
  assert.ok(!readdirSync(join(repoDir, 'blobs')).some((b) => b.includes('incomplete')));
  // the snapshot is a loadable model folder equal to the source
  const a = loadHfFolder(snap);
  const b = loadHfFolder(src);
  assert.deepEqual(a.config, b.config);
  assert.deepEqual([...a.weights.keys()].sort(), [...b.weights.keys()].sort());
  for (const [k, v] of b.weights) assert.deepEqual(a.weights.get(k)?.data, v.data, k);
  assert.deepEqual(a.tokenizer.encode('Hello world.').ids, [2, 5, 6, 7, 3]);

  requests.length = 0;
  assert.equal(await resolveHubFolder('org/tiny', { env }), snap);
  assert.equal(requests.length, 0, String(requests));
  assert.equal(findCachedSnapshot('org/tiny', { env }), snap);
});

test('offline mode works from the cache and fails clearly for an uncached repo', async () => {
  const cache = join(root, 'cache2');
  await resolveHubFolder('org/tiny', { cacheDir: cache, endpoint });
  requests.length = 0;
  const snap = await resolveHubFolder('org/tiny', { env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1', HF_ENDPOINT: endpoint } });
  assert.equal(snap, join(cache, 'models--org--tiny', 'snapshots', COMMIT));
  await assert.rejects(
    resolveHubFolder('org/tiny2', { env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1', HF_ENDPOINT: endpoint } }),
    (e: Error) => e.message.includes('org/tiny2') && e.message.includes(cache) && /offline/.test(e.message),
  );
  await assert.rejects(resolveHubFolder('org/tiny2', { cacheDir: cache, endpoint, offline: true, env: {} }), /org\/tiny2.*not in the Hugging Face cache/);
  // a snapshot without the optional tokenizer_config.json is still usable offline, not without vocab.txt
  rmSync(join(snap, 'tokenizer_config.json'));
  assert.equal(await resolveHubFolder('org/tiny', { cacheDir: cache, offline: true, env: {} }), snap);
  rmSync(join(snap, 'vocab.txt'));
  await assert.rejects(
    resolveHubFolder('org/tiny', { cacheDir: cache, offline: true, env: {} }),
    /files vocab\.txt of org\/tiny.*not in the Hugging Face cache/,
  );
  assert.equal(requests.length, 0, String(requests));
  // online, only what is missing is downloaded again (config.json is asked for the commit)
  await resolveHubFolder('org/tiny', { cacheDir: cache, endpoint, env: {} });
  assert.ok(requests.some((r) => r.endsWith('/vocab.txt')));
  assert.ok(!requests.some((r) => r.includes('model.safetensors')));
  assert.ok(existsSync(join(snap, 'vocab.txt')));
});

test('a missing optional file (tokenizer_config.json) is tolerated and remembered', async () => {
  const cache = join(root, 'cache3');
  requests.length = 0;
  const snap = await resolveHubFolder('org/no-tokcfg', { cacheDir: cache, endpoint, env: {} });
  assert.ok(!existsSync(join(snap, 'tokenizer_config.json')));
  assert.ok(existsSync(join(cache, 'models--org--no-tokcfg', '.no_exist', COMMIT, 'tokenizer_config.json')));
  assert.equal(loadHfFolder(snap).tokenizer.doLowerCase, true);
  requests.length = 0;
  await resolveHubFolder('org/no-tokcfg', { cacheDir: cache, endpoint, env: {} });
  assert.equal(requests.length, 0, String(requests));
});

test('404 on a required file, unknown repo or revision: clear errors', async () => {
  const cache = join(root, 'cache4');
  await assert.rejects(
    resolveHubFolder('org/no-vocab', { cacheDir: cache, endpoint, env: {} }),
    /org\/no-vocab.*required file vocab\.txt.*\/org\/no-vocab\/resolve\/[0-9a-f]+\/vocab\.txt: HTTP 404 \(file not found\)/,
  );
  await assert.rejects(resolveHubFolder('org/nope', { cacheDir: cache, endpoint, env: {} }), /org\/nope.*HTTP 401.*private or gated/);
  await assert.rejects(resolveHubFolder('org/tiny', { cacheDir: cache, endpoint, env: {}, revision: 'v9' }), /revision "v9" not found/);
});

test('HF_HOME is honoured; revisions get their own ref and snapshot; HF_ENDPOINT from env', async () => {
  const home = join(root, 'hfhome');
  const snap = await resolveHubFolder('single', { env: { HF_HOME: home, HF_ENDPOINT: endpoint } });
  assert.equal(snap, join(home, 'hub', 'models--single', 'snapshots', COMMIT));
  const v1 = await resolveHubFolder('single', { env: { HF_HOME: home, HF_ENDPOINT: endpoint }, revision: 'v1' });
  assert.equal(v1, join(home, 'hub', 'models--single', 'snapshots', COMMIT_V1));
  assert.equal(readFileSync(join(home, 'hub', 'models--single', 'refs', 'v1'), 'utf8'), COMMIT_V1);
  // same content → blobs shared between snapshots
  assert.equal(readdirSync(join(home, 'hub', 'models--single', 'blobs')).length, 4);
  // a commit hash revision is found in the cache offline
  assert.equal(await resolveHubFolder('single', { env: { HF_HOME: home, HF_HUB_OFFLINE: 'true' }, revision: COMMIT_V1 }), v1);
});

test('a renamed repo (relative redirect) and a server without commit headers', async () => {
  const cache = join(root, 'cache7');
  const snap = await resolveHubFolder('old-name', { cacheDir: cache, endpoint, env: {} });
  assert.equal(snap, join(cache, 'models--old-name', 'snapshots', COMMIT));
  const body = readFileSync(join(repos.get('org/tiny') as string, 'model.safetensors'));
  assert.equal(readlinkSync(join(snap, 'model.safetensors')), `../../blobs/${sha256(body)}`);
  assert.equal(readlinkSync(join(snap, 'vocab.txt')), `../../blobs/${gitSha1(readFileSync(join(repos.get('org/tiny') as string, 'vocab.txt')))}`);
  // a plain static server: no x-repo-commit, no etag → snapshot named by the revision, blobs by sha256
  const files = repos.get('org/tiny') as string;
  const plain = createServer((req, res) => {
    const m = /^\/org\/plain\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const p = m ? join(files, m[1] as string) : '';
    if (!m || !existsSync(p)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.end(readFileSync(p));
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  try {
    const s2 = await resolveHubFolder('org/plain', { cacheDir: cache, endpoint: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, env: {} });
    assert.equal(s2, join(cache, 'models--org--plain', 'snapshots', 'main'));
    assert.equal(readlinkSync(join(s2, 'model.safetensors')), `../../blobs/${sha256(body)}`);
    assert.ok(existsSync(join(s2, 'config.json')));
    // found again without the server
    assert.equal(await resolveHubFolder('org/plain', { cacheDir: cache, offline: true, env: {} }), s2);
  } finally {
    await new Promise<void>((r) => plain.close(() => r()));
  }
});

test('a sharded checkpoint is fetched through model.safetensors.index.json', async () => {
  const cache = join(root, 'cache8');
  const snap = await resolveHubFolder('org/sharded', { cacheDir: cache, endpoint, env: {} });
  for (const f of ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'])
    assert.ok(existsSync(join(snap, f)), f);
  const a = loadHfFolder(snap);
  const b = loadHfFolder(repos.get('org/tiny') as string);
  assert.equal(a.weightFiles.length, 2);
  for (const [k, v] of b.weights) assert.deepEqual(a.weights.get(k)?.data, v.data, k);
  requests.length = 0;
  assert.equal(await resolveHubFolder('org/sharded', { cacheDir: cache, endpoint, env: {} }), snap);
  assert.equal(requests.length, 0);
});

test('a corrupted transfer is detected by the SHA-256 etag and leaves no blob', async () => {
  const cache = join(root, 'cache5');
  corrupt = 'org/corrupt';
  try {
    await assert.rejects(
      resolveHubFolder('org/corrupt', { cacheDir: cache, endpoint, env: {}, retries: 1, retryDelayMs: 10 }),
      /model\.safetensors.*checksum mismatch.*2 attempts/,
    );
    const blobs = readdirSync(join(cache, 'models--org--corrupt', 'blobs'));
    assert.ok(!blobs.some((b) => b.includes('incomplete')));
    assert.ok(!blobs.includes(sha256(readFileSync(join(repos.get('org/corrupt') as string, 'model.safetensors')))));
    assert.equal(findCachedSnapshot('org/corrupt', { cacheDir: cache }), null);
  } finally {
    corrupt = '';
  }
  // a later good download completes the snapshot
  const snap = await resolveHubFolder('org/corrupt', { cacheDir: cache, endpoint, env: {} });
  assert.ok(existsSync(join(snap, 'model.safetensors')));
});

test('an unreachable hub gives an error naming the URL', async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
  const port = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  await assert.rejects(
    resolveHubFolder('org/tiny3', { cacheDir: join(root, 'cache6'), endpoint: `http://127.0.0.1:${port}`, env: {}, retryDelayMs: 10 }),
    new RegExp(`cannot reach the Hugging Face hub.*http://127\\.0\\.0\\.1:${port}/org/tiny3/resolve/main/config\\.json`),
  );
});

test('a server that accepts the connection and never answers: timeout, retries with backoff, a clear error', async () => {
  let connections = 0;
  const silent = createNetServer((socket) => {
    connections++;
    socket.on('error', () => undefined); // accepts, reads, never answers
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (silent.address() as AddressInfo).port;
  const t0 = Date.now();
  try {
    await assert.rejects(
      resolveHubFolder('org/silent', {
        cacheDir: join(root, 'cache7'),
        endpoint: `http://127.0.0.1:${port}`,
        env: {},
        timeoutMs: 300,
        retries: 2,
        retryDelayMs: 50,
      }),
      (e: Error) =>
        e instanceof HubError &&
        new RegExp(
          `org/silent: GET http://127\\.0\\.0\\.1:${port}/org/silent/resolve/main/config\\.json: no answer within 0\\.3 s \\(3 attempts, after waiting 0\\.05 s \\+ 0\\.1 s between them\\).*HF_HUB_OFFLINE`,
        ).test(e.message),
    );
  } finally {
    silent.close();
  }
  const ms = Date.now() - t0;
  assert.equal(connections, 3, 'one try and two retries');
  assert.ok(ms >= 3 * 300 + 150 && ms < 10_000, `took ${ms} ms`);
  // The timeout comes from HF_HUB_ETAG_TIMEOUT when not given.
  const silent2 = createNetServer(() => undefined);
  await new Promise<void>((r) => silent2.listen(0, '127.0.0.1', () => r()));
  try {
    await assert.rejects(
      resolveHubFolder('org/silent', {
        cacheDir: join(root, 'cache7'),
        env: { HF_ENDPOINT: `http://127.0.0.1:${(silent2.address() as AddressInfo).port}`, HF_HUB_ETAG_TIMEOUT: '0.2' },
        retries: 0,
      }),
      /no answer within 0\.2 s \(1 attempt\)/,
    );
  } finally {
    silent2.close();
  }
});

test('a download that stalls half-way is abandoned after the idle timeout and leaves no partial blob', async () => {
  const cache = join(root, 'cache8');
  const stall = createServer((req, res) => {
    if ((req.url ?? '').endsWith('config.json')) {
      res.writeHead(200, { 'content-length': 1000, 'x-repo-commit': COMMIT });
      res.write('{"vocab_size": 8,'); // then nothing more
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => stall.listen(0, '127.0.0.1', () => r()));
  try {
    await assert.rejects(
      resolveHubFolder('org/stall', {
        cacheDir: cache,
        endpoint: `http://127.0.0.1:${(stall.address() as AddressInfo).port}`,
        env: {},
        idleTimeoutMs: 300,
        retries: 1,
        retryDelayMs: 10,
      }),
      /org\/stall: download of config\.json .* failed: the download stalled \(no data for 0\.3 s\) \(2 attempts/,
    );
  } finally {
    stall.closeAllConnections();
    stall.close();
  }
  const blobs = join(cache, 'models--org--stall', 'blobs');
  assert.deepEqual(existsSync(blobs) ? readdirSync(blobs) : [], [], 'no .incomplete file left');
});

test('HTTP 503 is retried and the download then succeeds', async () => {
  const cache = join(root, 'cache9');
  failOnce.add('/org/tiny/resolve/main/config.json');
  const before = requests.length;
  const snap = await resolveHubFolder('org/tiny', { cacheDir: cache, endpoint, env: {}, retryDelayMs: 10 });
  assert.ok(existsSync(join(snap, 'config.json')));
  assert.equal(requests.slice(before).filter((r) => r === '/org/tiny/resolve/main/config.json').length, 2);
});
