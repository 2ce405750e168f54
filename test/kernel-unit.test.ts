/** Unit tests of the kernel's wire codec, comm manager and kernelspec writer (no Jupyter needed). */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CommManager, type IopubPublisher } from '../kernel/comm.js';
import { installKernelSpec, jupyterDataDir, kernelSpec, kernelsDir, parseInstallArgs } from '../kernel/install.js';
import { decodeMessage, DELIMITER, encodeMessage, newHeader, sign, type JupyterMessage } from '../kernel/wire.js';

describe('wire codec', () => {
  it('signs the concatenated JSON frames with HMAC-SHA256 (RFC 4231 test case 2)', () => {
    // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
    assert.equal(sign('Jefe', ['what do ya want ', 'for nothing?']), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    assert.equal(sign('', ['x']), '');
  });

  it('round-trips identities, JSON frames and binary buffers, and checks the signature', () => {
    const msg: JupyterMessage<unknown> = {
      identities: [Buffer.from('client-1')],
      header: newHeader('comm_msg', 'sess'),
      parent_header: {},
      metadata: { version: '2.1.0' },
      content: { comm_id: 'c', data: { t: 'é' } },
      buffers: [Buffer.from([0, 255, 1])],
    };
    const frames = encodeMessage(msg, 'k3y');
    assert.equal(frames[0].toString(), 'client-1');
    assert.ok(frames[1].equals(DELIMITER));
    assert.deepEqual(JSON.parse(frames[6].toString()), { comm_id: 'c', data: { t: 'é' } });
    const back = decodeMessage(frames, 'k3y');
    assert.deepEqual(back.content, msg.content);
    assert.deepEqual(back.metadata, msg.metadata);
    assert.deepEqual([...back.buffers[0]], [0, 255, 1]);
    assert.deepEqual(back.identities.map(String), ['client-1']);

    const tampered = [...frames];
    tampered[6] = Buffer.from(JSON.stringify({ comm_id: 'c', data: { t: 'x' } }));
    assert.throws(() => decodeMessage(tampered, 'k3y'), /signature/);
    assert.throws(() => decodeMessage(frames, 'other'), /signature/);
    assert.throws(
      () =>
        decodeMessage(
          frames.filter((f) => !f.equals(DELIMITER)),
          'k3y',
        ),
      /delimiter/,
    );
    assert.throws(() => decodeMessage(frames.slice(0, 4), 'k3y'), /at least 5/);
    const badMeta = [...frames];
    badMeta[5] = Buffer.from('{oops');
    assert.throws(() => decodeMessage(badMeta, ''), /metadata frame is not JSON/);
  });
});

type Sent = { type: string; content: any; metadata: Record<string, unknown>; buffers: Buffer[] };

function fakeManager(): { m: CommManager; sent: Sent[] } {
  const sent: Sent[] = [];
  const pub: IopubPublisher = { publish: (type, content, metadata, buffers) => sent.push({ type, content, metadata, buffers }) };
  return { m: new CommManager(pub), sent };
}

function incoming(type: string, content: Record<string, unknown>, buffers: Buffer[] = []): JupyterMessage {
  return { identities: [], header: newHeader(type, 'fe'), parent_header: {}, metadata: {}, content, buffers };
}

describe('CommManager', () => {
  it('opens, messages, and closes a kernel-side comm', async () => {
    const { m, sent } = fakeManager();
    const c = m.openComm('t', { a: 1 }, { version: '2.1.0' }, [new Float64Array([1])]);
    assert.equal(sent[0].type, 'comm_open');
    assert.deepEqual(sent[0].content, { comm_id: c.commId, target_name: 't', data: { a: 1 } });
    assert.deepEqual([...sent[0].buffers[0]], [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]); // 1.0 little-endian float64
    const seen: unknown[] = [];
    c.onMsg((msg) => {
      seen.push(msg.content.data);
    });
    await m.handleCommMsg(incoming('comm_msg', { comm_id: c.commId, data: { x: 2 } }));
    assert.deepEqual(seen, [{ x: 2 }]);
    assert.deepEqual(m.commInfo(), { status: 'ok', comms: { [c.commId]: { target_name: 't' } } });
    assert.deepEqual(m.commInfo('other'), { status: 'ok', comms: {} });
    let closedWith: unknown = 'not called';
    c.onClose((msg) => (closedWith = msg));
    c.close({ bye: 1 });
    assert.equal(closedWith, null);
    assert.deepEqual(sent.at(-1)!.content, { comm_id: c.commId, data: { bye: 1 } });
    assert.equal(m.comms().size, 0);
    assert.throws(() => c.send({}), /closed/);
    c.close(); // no second comm_close
    assert.equal(sent.filter((s) => s.type === 'comm_close').length, 1);
  });

  it('routes front-end comm_open to targets and closes unknown ones', async () => {
    const { m, sent } = fakeManager();
    const opened: string[] = [];
    m.registerTarget('t', (comm, msg) => {
      opened.push(`${comm.commId}:${JSON.stringify(msg.content.data)}`);
    });
    await m.handleCommOpen(incoming('comm_open', { comm_id: 'a', target_name: 't', data: { k: 1 } }));
    assert.deepEqual(opened, ['a:{"k":1}']);
    assert.ok(m.get('a'));
    await m.handleCommOpen(incoming('comm_open', { comm_id: 'b', target_name: 'nope', data: {} }));
    assert.deepEqual(
      sent.map((s) => [s.type, s.content.comm_id]),
      [['comm_close', 'b']],
    );
    m.handleCommClose(incoming('comm_close', { comm_id: 'a', data: {} }));
    assert.equal(m.get('a'), undefined);
  });

  it('keeps going when a callback throws', async () => {
    const { m } = fakeManager();
    const c = m.openComm('t');
    const calls: number[] = [];
    c.onMsg(() => {
      throw new Error('boom (expected in this test)');
    });
    c.onMsg(() => {
      calls.push(1);
    });
    const err = console.error;
    console.error = () => {};
    try {
      await m.handleCommMsg(incoming('comm_msg', { comm_id: c.commId, data: {} }));
    } finally {
      console.error = err;
    }
    assert.deepEqual(calls, [1]);
  });

  it('publishes display bundles and validates them', () => {
    const { m, sent } = fakeManager();
    m.display({ 'text/html': '<i>x</i>' }, { displayId: 'd', metadata: { 'text/html': { isolated: true } } });
    assert.deepEqual(sent[0], {
      type: 'display_data',
      content: { data: { 'text/html': '<i>x</i>' }, metadata: { 'text/html': { isolated: true } }, transient: { display_id: 'd' } },
      metadata: {},
      buffers: [],
    });
    m.display({ 'text/plain': 'y' }, { displayId: 'd', update: true });
    assert.equal(sent[1].type, 'update_display_data');
    assert.throws(() => m.display({}), /at least one MIME/);
    assert.throws(() => m.display({ 'text/plain': 'y' }, { update: true }), /displayId/);
  });
});

describe('kernelspec writer', () => {
  it('finds the data dir like jupyter --data-dir', () => {
    assert.equal(jupyterDataDir({ JUPYTER_DATA_DIR: '/j' }, 'linux', '/h'), '/j');
    assert.equal(jupyterDataDir({}, 'linux', '/h'), '/h/.local/share/jupyter');
    assert.equal(jupyterDataDir({ XDG_DATA_HOME: '/x' }, 'linux', '/h'), '/x/jupyter');
    assert.equal(jupyterDataDir({}, 'darwin', '/h'), '/h/Library/Jupyter');
    assert.equal(kernelsDir({ prefix: '/p' }), '/p/share/jupyter/kernels');
    assert.equal(kernelsDir({ sysPrefix: true, env: { VIRTUAL_ENV: '/v' } }), '/v/share/jupyter/kernels');
    assert.throws(() => kernelsDir({ sysPrefix: true, env: {} }), /VIRTUAL_ENV/);
  });

  it('writes kernel.json running our entry with node', () => {
    const spec = kernelSpec({ node: '/usr/bin/node', script: '/repo/dist/kernel/main.js' });
    assert.deepEqual(spec.argv, [
      '/usr/bin/node',
      '--experimental-require-module',
      '--disable-warning=ExperimentalWarning',
      '/repo/dist/kernel/main.js',
      '--config-path',
      '{connection_file}',
    ]);
    assert.equal(spec.display_name, 'flowlens (TypeScript)');
    assert.equal(spec.language, 'typescript');
    assert.throws(() => kernelSpec({ script: 'relative/main.js' }), /absolute/);

    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-spec-'));
    try {
      const { dir } = installKernelSpec({ prefix: tmp, name: 'fl-test' });
      assert.equal(dir, path.join(tmp, 'share', 'jupyter', 'kernels', 'fl-test'));
      const written = JSON.parse(readFileSync(path.join(dir, 'kernel.json'), 'utf8'));
      assert.equal(written.argv.at(-1), '{connection_file}');
      assert.match(written.argv.at(-3), /main\.(js|ts)$/);
      assert.throws(() => installKernelSpec({ prefix: tmp, name: '../evil' }), /invalid kernel name/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('parses install options', () => {
    assert.deepEqual(parseInstallArgs(['--user', '--prefix', '/p', '--name=x']), { prefix: '/p', name: 'x' });
    assert.deepEqual(parseInstallArgs(['--sys-prefix', '--display-name', 'A B']), { sysPrefix: true, displayName: 'A B' });
    assert.throws(() => parseInstallArgs(['--prefix']), /needs a value/);
    assert.throws(() => parseInstallArgs(['--bogus']), /unknown option --bogus/);
  });
});
