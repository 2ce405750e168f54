/**
 * End-to-end test of the flowlens kernel over the real Jupyter protocol: the kernelspec is
 * written by kernel/install.ts into a temporary JUPYTER_PATH, and jupyter_client (Debian's
 * python3-jupyter-client, driven by kernel/testing/jupyter_driver.py) starts the kernel with it
 * and exchanges execute, comm and display messages with it over ZeroMQ.
 *
 * Skipped, with a message, only when no python3 with jupyter_client is found
 * (set FLOWLENS_JUPYTER_PYTHON to choose one).
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempJupyter } from './helpers/jupyterEnv.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root: `test/..` from sources, `dist/test/../..` from the build. */
const root = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');
const driverScript = path.join(root, 'kernel', 'testing', 'jupyter_driver.py');
/** The built widget module a cell imports (cells compile to CommonJS; dist/ is ESM, loaded via require(esm)). */
const distSaliency = path.join(root, 'dist', 'widgets', 'saliency.js');

/** A python3 that imports jupyter_client, or undefined. */
function findPython(): string | undefined {
  const candidates = [process.env.FLOWLENS_JUPYTER_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import jupyter_client'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** One message as the driver reports it. */
interface Msg {
  msg_type: string;
  msg_id: string;
  parent_msg_id: string | null;
  parent_msg_type: string | null;
  metadata: Record<string, unknown>;
  content: any;
  buffers: string[];
}
interface Answer {
  ok: boolean;
  error?: string;
  trace?: string;
  msg_id?: string;
  reply?: Msg;
  iopub?: Msg[];
}

/** Line-protocol client of jupyter_driver.py. */
class Driver {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting: ((a: Answer) => void)[] = [];
  stderr = '';

  constructor(python: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn(python, ['-u', driverScript], { env, cwd: env.TEST_CWD });
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.waiting.shift()?.(JSON.parse(line)));
    this.proc.stderr.on('data', (d) => (this.stderr += d));
  }

  /** Sends a command and waits for its answer; fails the test on a driver error. */
  async cmd(c: Record<string, unknown>): Promise<Answer> {
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`driver: no answer to ${JSON.stringify(c).slice(0, 200)}\n${this.stderr}`)), 120_000);
      this.waiting.push((a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    this.proc.stdin.write(JSON.stringify(c) + '\n');
    const a = await answer;
    assert.ok(a.ok, `driver command ${String(c.op)} failed: ${a.error}\n${a.trace}\nstderr: ${this.stderr}`);
    return a;
  }

  /** Executes a cell; asserts it succeeded; returns the answer and the cell's stdout. */
  async exec(code: string): Promise<Answer & { stdout: string }> {
    const a = await this.cmd({ op: 'execute', code });
    const stderr = streamText(a.iopub!, 'stderr');
    assert.equal(
      a.reply!.content.status,
      'ok',
      `cell failed:\n${code}\nstderr: ${stderr}\n${a.reply!.content.ename}: ${a.reply!.content.evalue}\n${(a.reply!.content.traceback ?? []).join('\n')}`,
    );
    return { ...a, stdout: streamText(a.iopub!, 'stdout') };
  }

  async close(): Promise<void> {
    this.proc.stdin.end();
    await new Promise((r) => this.proc.once('exit', r));
  }
}

function streamText(msgs: Msg[], name: string): string {
  return msgs
    .filter((m) => m.msg_type === 'stream' && m.content.name === name)
    .map((m) => m.content.text as string)
    .join('');
}

function only(msgs: Msg[], type: string): Msg[] {
  return msgs.filter((m) => m.msg_type === type);
}

/** Last JSON line printed by a cell. */
function lastJson(stdout: string): any {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const b64 = (bytes: number[]): string => Buffer.from(bytes).toString('base64');

const python = findPython();

describe(
  'flowlens kernel over the Jupyter protocol',
  { skip: python ? false : 'no python3 with jupyter_client: apt-get install python3-jupyter-client (kernel/apt-packages.txt)', timeout: 300_000 },
  () => {
    let tmp = '';
    let drv: Driver;

    before(async () => {
      const j = tempJupyter('flowlens-kernel-');
      tmp = j.tmp;
      assert.equal(j.kernelDir, path.join(tmp, 'data', 'kernels', 'flowlens'));
      drv = new Driver(python!, { ...j.env, TEST_CWD: tmp });
      await drv.cmd({ op: 'start', kernel_name: 'flowlens', cwd: tmp, timeout: 90 });
    });

    after(async () => {
      if (drv) {
        await drv.cmd({ op: 'shutdown' }).catch(() => undefined);
        await drv.close();
      }
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    let commId = '';

    it('runs a TypeScript cell (tslab underneath)', async () => {
      const r = await drv.exec('const three: number = 1 + 2;\nconsole.log(JSON.stringify({ three }));');
      assert.deepEqual(lastJson(r.stdout), { three: 3 });
    });

    it('publishes comm_open with data, metadata and binary buffers, parented to the cell', async () => {
      const r = await drv.exec(
        [
          "const comm = flowlensComm.openComm('flowlens.test', { a: 1, s: 'é' }, { version: '2.1.0' }, [new Uint8Array([1, 2, 3]), new Float32Array([0.5])]);",
          'const got: any[] = [];',
          'comm.onMsg((m) => {',
          '  got.push({ data: m.content.data, buffers: m.buffers.map((b) => Array.from(b)) });',
          '  comm.send({ echo: m.content.data, n: got.length }, [new Uint8Array(m.buffers[0]).reverse()]);',
          '});',
          'console.log(JSON.stringify({ id: comm.commId }));',
        ].join('\n'),
      );
      const opens = only(r.iopub!, 'comm_open');
      assert.equal(opens.length, 1);
      const open = opens[0];
      commId = lastJson(r.stdout).id;
      assert.match(commId, /^[0-9a-f]{32}$/);
      assert.deepEqual(open.content, { comm_id: commId, target_name: 'flowlens.test', data: { a: 1, s: 'é' } });
      assert.deepEqual(open.metadata, { version: '2.1.0' });
      assert.equal(open.parent_msg_id, r.msg_id);
      assert.equal(open.parent_msg_type, 'execute_request');
      // 0.5 as little-endian float32 is 00 00 00 3f.
      assert.deepEqual(open.buffers, [b64([1, 2, 3]), b64([0, 0, 0, 0x3f])]);
    });

    it('delivers comm_msg (with buffers) to the cell handler, which replies on iopub', async () => {
      const a = await drv.cmd({ op: 'send', msg_type: 'comm_msg', content: { comm_id: commId, data: { x: 41 } }, buffers: [b64([7, 8, 9])] });
      const states = only(a.iopub!, 'status').map((m) => [m.content.execution_state, m.parent_msg_id]);
      assert.deepEqual(states, [
        ['busy', a.msg_id],
        ['idle', a.msg_id],
      ]);
      const msgs = only(a.iopub!, 'comm_msg');
      assert.equal(msgs.length, 1);
      assert.deepEqual(msgs[0].content, { comm_id: commId, data: { echo: { x: 41 }, n: 1 } });
      assert.deepEqual(msgs[0].buffers, [b64([9, 8, 7])]);
      assert.equal(msgs[0].parent_msg_id, a.msg_id, 'a reply sent from a comm callback is parented to the comm_msg');
      const r = await drv.exec('console.log(JSON.stringify(got));');
      assert.deepEqual(lastJson(r.stdout), [{ data: { x: 41 }, buffers: [[7, 8, 9]] }]);
    });

    it('answers comm_info_request with the open comms, filtered by target', async () => {
      const all = await drv.cmd({ op: 'send', msg_type: 'comm_info_request', content: {} });
      assert.equal(all.reply!.msg_type, 'comm_info_reply');
      assert.deepEqual(all.reply!.content, { status: 'ok', comms: { [commId]: { target_name: 'flowlens.test' } } });
      const other = await drv.cmd({ op: 'send', msg_type: 'comm_info_request', content: { target_name: 'jupyter.widget' } });
      assert.deepEqual(other.reply!.content, { status: 'ok', comms: {} });
    });

    it('opens comms from the front end to a registered target, and closes unknown targets', async () => {
      await drv.exec(
        [
          'const closed: any[] = [];',
          "flowlensComm.registerTarget('fe.target', (c, msg) => {",
          '  c.send({ opened: msg.content.data, bytes: msg.buffers.map((b) => b.length) });',
          '  c.onClose((m) => closed.push(m ? m.content.data : null));',
          '});',
        ].join('\n'),
      );
      const open = await drv.cmd({
        op: 'send',
        msg_type: 'comm_open',
        content: { comm_id: 'fe1', target_name: 'fe.target', data: { hello: 'kernel' } },
        buffers: [b64([1, 2])],
      });
      const sent = only(open.iopub!, 'comm_msg');
      assert.deepEqual(
        sent.map((m) => m.content),
        [{ comm_id: 'fe1', data: { opened: { hello: 'kernel' }, bytes: [2] } }],
      );
      const info = await drv.cmd({ op: 'send', msg_type: 'comm_info_request', content: { target_name: 'fe.target' } });
      assert.deepEqual(info.reply!.content.comms, { fe1: { target_name: 'fe.target' } });

      const unknown = await drv.cmd({ op: 'send', msg_type: 'comm_open', content: { comm_id: 'fe2', target_name: 'no.such.target', data: {} } });
      assert.deepEqual(
        only(unknown.iopub!, 'comm_close').map((m) => m.content.comm_id),
        ['fe2'],
      );
    });

    it('handles comm_close from the front end', async () => {
      await drv.cmd({ op: 'send', msg_type: 'comm_close', content: { comm_id: 'fe1', data: { reason: 'bye' } } });
      const r = await drv.exec(
        'console.log(JSON.stringify({ closed: closed, open: [...flowlensComm.comms().keys()] })); // (tslab does not rewrite shorthand properties)',
      );
      assert.deepEqual(lastJson(r.stdout), { closed: [{ reason: 'bye' }], open: [commId] });
    });

    it('closes a comm from the kernel: comm_close on iopub, gone from comm_info', async () => {
      const r = await drv.exec('comm.close({ done: true });\nconsole.log(JSON.stringify({ closed: comm.closed }));');
      assert.deepEqual(
        only(r.iopub!, 'comm_close').map((m) => m.content),
        [{ comm_id: commId, data: { done: true } }],
      );
      assert.deepEqual(lastJson(r.stdout), { closed: true });
      const info = await drv.cmd({ op: 'send', msg_type: 'comm_info_request', content: {} });
      assert.deepEqual(info.reply!.content.comms, {});
    });

    it('publishes display_data with the widget view and a static HTML rendering', async () => {
      const r = await drv.exec(
        [
          'flowlensComm.display({',
          "  'application/vnd.jupyter.widget-view+json': { model_id: 'm1', version_major: 2, version_minor: 1 },",
          "  'text/html': '<b>static</b>',",
          "  'text/plain': 'Widget m1',",
          "}, { displayId: 'd1' });",
        ].join('\n'),
      );
      const shown = only(r.iopub!, 'display_data');
      assert.equal(shown.length, 1);
      assert.deepEqual(shown[0].content, {
        data: {
          'application/vnd.jupyter.widget-view+json': { model_id: 'm1', version_major: 2, version_minor: 1 },
          'text/html': '<b>static</b>',
          'text/plain': 'Widget m1',
        },
        metadata: {},
        transient: { display_id: 'd1' },
      });
      assert.equal(shown[0].parent_msg_id, r.msg_id);
    });

    it('parents messages sent later from a cell (timers) to that cell', async () => {
      const r = await drv.exec(["const late = flowlensComm.openComm('flowlens.late');", 'setTimeout(() => late.send({ late: true }), 300);'].join('\n'));
      await drv.exec('const other = 1;'); // another request in between
      const d = await drv.cmd({ op: 'drain', timeout: 1.5 });
      const lateMsgs = only(d.iopub!, 'comm_msg');
      assert.equal(lateMsgs.length, 1);
      assert.deepEqual(lateMsgs[0].content.data, { late: true });
      assert.equal(lateMsgs[0].parent_msg_id, r.msg_id);
    });

    it(
      'runs a widget from a cell: jupyter.widget comm, view + static HTML display, front-end updates',
      { skip: existsSync(distSaliency) ? false : 'dist/widgets not built (npm run build)' },
      async () => {
        const r = await drv.exec(
          [
            `import { TokenSaliency } from ${JSON.stringify(distSaliency)};`,
            "const sal = new TokenSaliency({ tokens: ['good', 'bad'], scores: [1, -1], title: 'demo' });",
            'sal.display();',
            'console.log(JSON.stringify({ id: sal.modelId }));',
          ].join('\n'),
        );
        const id = lastJson(r.stdout).id;
        const open = only(r.iopub!, 'comm_open').find((m) => m.content.target_name === 'jupyter.widget');
        assert.ok(open, 'comm_open to jupyter.widget');
        assert.equal(open.content.comm_id, id);
        assert.deepEqual(open.metadata, { version: '2.1.0' });
        assert.equal(open.content.data.state._model_name, 'TokenSaliencyModel');
        assert.equal(open.content.data.state._model_module, 'flowlens-widgets');
        assert.deepEqual(open.content.data.buffer_paths, [['scores']]);
        // float32 little-endian 1 and -1.
        assert.deepEqual(open.buffers, [b64([0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf])]);
        const shown = only(r.iopub!, 'display_data');
        assert.equal(shown.length, 1);
        assert.deepEqual(shown[0].content.data['application/vnd.jupyter.widget-view+json'], { model_id: id, version_major: 2, version_minor: 1 });
        assert.match(shown[0].content.data['text/html'], /rgba\(220,38,38,1\)[^>]*>good<.*rgba\(37,99,235,1\)[^>]*>bad</s);

        await drv.cmd({ op: 'send', msg_type: 'comm_msg', content: { comm_id: id, data: { method: 'update', state: { selected: 1 }, buffer_paths: [] } } });
        const s = await drv.exec('console.log(JSON.stringify({ selected: sal.state.selected }));');
        assert.deepEqual(lastJson(s.stdout), { selected: 1 });

        const req = await drv.cmd({ op: 'send', msg_type: 'comm_msg', content: { comm_id: id, data: { method: 'request_state' } } });
        const full = only(req.iopub!, 'comm_msg')[0];
        assert.equal(full.content.data.method, 'update');
        assert.equal(full.content.data.state.selected, 1);
        assert.equal(full.content.data.state.title, 'demo');
      },
    );

    it('reports a thrown error as an error message whose traceback points at the cell line and column (source-mapped)', async () => {
      // `as any` is erased in the JavaScript, so the JS column differs from the cell's column.
      const code = [
        'interface Pt { x: number }',
        'const pts: Pt[] = [{ x: 1 }];',
        'function fail(p: Pt): number {',
        '  return p.x + (undefined as any).boom;',
        '}',
        'fail(pts[0]);',
      ].join('\n');
      const a = await drv.cmd({ op: 'execute', code });
      const reply = a.reply!.content;
      assert.equal(reply.status, 'error');
      assert.equal(reply.ename, 'TypeError');
      assert.equal(reply.evalue, "Cannot read properties of undefined (reading 'boom')");
      const errors = only(a.iopub!, 'error');
      assert.equal(errors.length, 1, 'one error message on iopub');
      assert.deepEqual(errors[0].content, { ename: reply.ename, evalue: reply.evalue, traceback: reply.traceback });
      assert.equal(streamText(a.iopub!, 'stderr'), '', 'the error is not also printed on stderr');
      const n = reply.execution_count;
      const tb = (reply.traceback as string[]).join('\n');
      // Line 4, column of `boom` in the TypeScript (V8 points a property read at the property name).
      const col = '  return p.x + (undefined as any).boom;'.indexOf('boom') + 1;
      assert.match(tb, new RegExp(`at fail \\(In\\[${n}\\]:4:${col}\\)`), tb);
      assert.match(tb, new RegExp(`at In\\[${n}\\]:6:1`), tb);
      assert.match(tb, /return p\.x \+ \(undefined as any\)\.boom;\n {4} {34}\^/, 'the failing line with a caret under `boom`');
      assert.doesNotMatch(tb, /executor|server\.js|node:vm/, 'no kernel frames');
      // The same after a top-level await (the cell runs as a generator, kernel/awaitCells.ts).
      const b = await drv.cmd({
        op: 'execute',
        code: "await new Promise((r) => setTimeout(r, 1));\nconst q: number = 2;\nfunction later(): never { throw new Error('after await ' + q); }\nlater();",
      });
      const tb2 = (b.reply!.content.traceback as string[]).join('\n');
      assert.equal(b.reply!.content.evalue, 'after await 2');
      const n2 = b.reply!.content.execution_count;
      assert.match(tb2, new RegExp(`at later \\(In\\[${n2}\\]:3:33\\)\\n {4}at In\\[${n2}\\]:4:1`), tb2);
      assert.doesNotMatch(tb2, /flowlens-kernel-step|awaitCells/, 'no kernel frames');
    });

    it('reports a type error with its TypeScript code and position, and runs nothing', async () => {
      const a = await drv.cmd({ op: 'execute', code: "console.log('should not run');\nconst n: number = 'seven';" });
      const reply = a.reply!.content;
      assert.equal(reply.status, 'error');
      assert.equal(reply.ename, 'TSError');
      assert.match(reply.evalue, /^TS2322: Type 'string' is not assignable to type 'number'\. \(line 2, column 7\)$/);
      assert.match((reply.traceback as string[]).join('\n'), /In\[\d+\]:2:7 - error TS2322/);
      assert.equal(only(a.iopub!, 'error').length, 1);
      assert.equal(streamText(a.iopub!, 'stdout'), '');
    });

    it("sends the last expression's value as execute_result: plain text, or the display protocol's MIME bundle", async () => {
      const r = await drv.exec('const o = { a: 1, b: [2, 3] };\no');
      const res = only(r.iopub!, 'execute_result');
      assert.equal(res.length, 1);
      assert.deepEqual(res[0].content.data, { 'text/plain': '{ a: 1, b: [ 2, 3 ] }' });
      assert.equal(res[0].content.execution_count, r.reply!.content.execution_count);
      assert.equal(r.stdout, '', 'the value is not printed on stdout');
      const custom = await drv.exec("({ [Symbol.for('flowlens.mimeBundle')]: () => ({ 'text/html': '<b>mine</b>', 'text/plain': 'mine' }) })");
      assert.deepEqual(only(custom.iopub!, 'execute_result')[0].content.data, { 'text/html': '<b>mine</b>', 'text/plain': 'mine' });
      const none = await drv.exec('const u = undefined;\nu');
      assert.equal(only(none.iopub!, 'execute_result').length, 0, 'undefined shows nothing');
    });

    it('Run All: replies in order, each as soon as its cell ends, busy/idle around each; after an error the queued cells are aborted', async () => {
      const codes = ['1', 'const t0 = Date.now();\nwhile (Date.now() - t0 < 2000) {}\n2', '3'];
      const b = await drv.cmd({ op: 'batch', codes, timeout: 60 });
      const ids = (b as unknown as { msg_ids: string[] }).msg_ids;
      const ev = (b as unknown as { events: unknown }).events as unknown as (Msg & { channel: string; t: number })[];
      const replies = ev.filter((e) => e.channel === 'shell');
      assert.deepEqual(
        replies.map((e) => e.parent_msg_id),
        ids,
        'replies in request order',
      );
      assert.deepEqual(
        replies.map((e) => e.content.status),
        ['ok', 'ok', 'ok'],
      );
      const statuses = ev
        .filter((e) => e.channel === 'iopub' && e.msg_type === 'status')
        .map((e) => `${e.content.execution_state}:${ids.indexOf(e.parent_msg_id!)}`);
      assert.deepEqual(statuses, ['busy:0', 'idle:0', 'busy:1', 'idle:1', 'busy:2', 'idle:2']);
      const t = (pred: (e: (typeof ev)[number]) => boolean) => ev.find(pred)!.t;
      const reply0 = t((e) => e.channel === 'shell' && e.parent_msg_id === ids[0]);
      const idle1 = t((e) => e.msg_type === 'status' && e.parent_msg_id === ids[1] && e.content.execution_state === 'idle');
      assert.ok(reply0 < idle1 - 1.5, `the first reply (${reply0.toFixed(2)} s) does not wait for the 2 s cell after it (idle at ${idle1.toFixed(2)} s)`);
      const results = ev.filter((e) => e.msg_type === 'execute_result').map((e) => [ids.indexOf(e.parent_msg_id!), e.content.data['text/plain']]);
      assert.deepEqual(results, [
        [0, '1'],
        [1, '2'],
        [2, '3'],
      ]);

      const withError = await drv.cmd({ op: 'batch', codes: ['1', "throw new Error('stop')", 'console.log("must not run")'], timeout: 60 });
      const st = ((withError as unknown as { events: unknown }).events as (Msg & { channel: string })[])
        .filter((e) => e.channel === 'shell')
        .map((e) => e.content.status);
      assert.deepEqual(st, ['ok', 'error', 'aborted']);
      assert.ok(!((withError as unknown as { events: unknown }).events as Msg[]).some((e) => e.msg_type === 'stream'), 'the aborted cell did not run');
    });

    it(
      'interrupt stops a long integrated-gradients run; the next cell runs and gets the right answer',
      { skip: existsSync(path.join(root, 'dist', 'src', 'methods', 'integratedGradients.js')) ? false : 'dist not built' },
      async () => {
        const dist = (p: string) => JSON.stringify(path.join(root, 'dist', 'src', p));
        await drv.exec(
          [
            `import { initBackend, tf } from ${dist('backend/index.js')};`,
            `import { loadModel } from ${dist('model/load.js')};`,
            `import { tokenLogitDiff } from ${dist('model/qoi.js')};`,
            `import { integratedGradients } from ${dist('methods/integratedGradients.js')};`,
            'await initBackend();',
            "const loaded = await loadModel('embedded:agreement');",
            "const enc = loaded.tokenizer.encode('the authors that the guard likes [MASK] the book .');",
            'const ids: number[] = Array.from(enc.ids);',
            'const input = { ids: ids, tokens: Array.from(enc.tokens) };',
            "const igQoi = tokenLogitDiff(ids.indexOf(loaded.tokenizer.maskId), loaded.tokenizer.idOf('are'), loaded.tokenizer.idOf('is'));",
          ].join('\n'),
        );
        // A plain cell, and one whose computation comes after a top-level await (a later step of the cell).
        for (const before of ['', 'await new Promise((r) => setTimeout(r, 10));\n']) {
          const a = await drv.cmd({
            op: 'interrupt',
            code: `${before}console.log('started');\nintegratedGradients(loaded.model, input, igQoi, { steps: 200000, specialIds: loaded.tokenizer });\nconsole.log('finished');`,
            wait_for: 'started',
            timeout: 120,
          });
          assert.equal(a.reply!.content.status, 'error');
          assert.equal(a.reply!.content.ename, 'InterruptError');
          assert.ok(
            (a as unknown as { interrupted_after: number }).interrupted_after < 20,
            `the interrupt ended the cell within 20 s (${before ? 'after an await' : 'plain'})`,
          );
          assert.doesNotMatch(streamText(a.iopub!, 'stdout'), /finished/);
        }
        // A comm handler computing for long (as a widget's recomputation does) is interruptible too.
        await drv
          .exec(
            [
              "const longComm = flowlensComm.openComm('flowlens.long');",
              "longComm.onMsg(() => { console.log('handler started'); integratedGradients(loaded.model, input, igQoi, { steps: 200000, specialIds: loaded.tokenizer }); console.log('handler finished'); });",
              'console.log(JSON.stringify({ id: longComm.commId }));',
            ].join('\n'),
          )
          .then(async (opened) => {
            const c = await drv.cmd({
              op: 'interrupt',
              send: { msg_type: 'comm_msg', content: { comm_id: lastJson(opened.stdout).id, data: {} } },
              wait_for: 'handler started',
              timeout: 120,
            });
            assert.ok((c as unknown as { interrupted_after: number }).interrupted_after < 20, 'the interrupt ended the comm handler within 20 s');
            assert.match(streamText(c.iopub!, 'stderr'), /the comm_msg handler was interrupted/);
            assert.doesNotMatch(streamText(c.iopub!, 'stdout'), /handler finished/);
          });
        const r = await drv.exec(
          [
            'const ig = integratedGradients(loaded.model, input, igQoi, { steps: 32, specialIds: loaded.tokenizer });',
            'console.log(JSON.stringify({ gap: ig.sanity!.value, fInput: ig.meta!.fInput, scopes: (tf.engine() as any).state.scopeStack.length }));',
          ].join('\n'),
        );
        const got = lastJson(r.stdout);
        assert.equal(got.scopes, 0, 'no tfjs scope left open by the interrupted run');
        assert.ok(Math.abs(got.gap) < 0.05 * Math.max(1, Math.abs(got.fInput)), `completeness gap ${got.gap} is small`);
      },
    );

    it('starts clean after a restart', async () => {
      await drv.cmd({ op: 'restart', timeout: 90 });
      const r = await drv.exec(
        "const n = flowlensComm.comms().size;\nconst c2 = flowlensComm.openComm('after.restart');\nconsole.log(JSON.stringify({ n, id: c2.commId.length }));",
      );
      assert.deepEqual(lastJson(r.stdout), { n: 0, id: 32 });
      assert.equal(only(r.iopub!, 'comm_open').length, 1);
    });
  },
);
