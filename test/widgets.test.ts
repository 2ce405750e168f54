/** Widget protocol 2.1 (kernel side) and the token saliency widget, on a comm manager with a fake iopub. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CommManager, type IopubPublisher } from '../kernel/comm.js';
import { newHeader, type JupyterMessage } from '../kernel/wire.js';
import { putBuffers, removeBuffers } from '../widgets/buffers.js';
import { WIDGET_VIEW_MIME } from '../widgets/protocol.js';
import { TokenSaliency } from '../widgets/saliency.js';
import { renderSaliencyHtml, saliencyColor } from '../widgets/saliencyHtml.js';

type Sent = { type: string; content: any; metadata: Record<string, unknown>; buffers: Buffer[] };

function setup(): { m: CommManager; sent: Sent[] } {
  const sent: Sent[] = [];
  const pub: IopubPublisher = { publish: (type, content, metadata, buffers) => sent.push({ type, content, metadata, buffers }) };
  return { m: new CommManager(pub), sent };
}

function fromFrontEnd(type: string, content: Record<string, unknown>, buffers: Buffer[] = []): JupyterMessage {
  return { identities: [], header: newHeader(type, 'fe'), parent_header: {}, metadata: {}, content, buffers };
}

/** Little-endian float32 bytes written one by one with DataView (independent of typed-array views). */
function f32le(xs: number[]): number[] {
  const dv = new DataView(new ArrayBuffer(4 * xs.length));
  xs.forEach((x, i) => dv.setFloat32(4 * i, x, true));
  return [...new Uint8Array(dv.buffer)];
}

describe('binary buffers in widget state', () => {
  it('removes binary leaves with their paths and puts them back', () => {
    const a = new Uint8Array([1]);
    const b = new Float64Array([2]);
    const c = new ArrayBuffer(3);
    const state = { x: a, y: { z: [0, b, 'k'] }, w: 5, u: { v: c } };
    const r = removeBuffers(state);
    assert.deepEqual(r.state, { y: { z: [0, null, 'k'] }, w: 5, u: {} });
    assert.deepEqual(r.buffer_paths, [['x'], ['y', 'z', 1], ['u', 'v']]);
    assert.deepEqual(r.buffers, [a, b, c]);
    assert.equal(state.x, a, 'input state is not modified');
    putBuffers(r.state, r.buffer_paths, r.buffers);
    assert.deepEqual(r.state, state);
    assert.throws(() => putBuffers({}, [['a', 'b']], [a]), /does not lead to an object/);
    assert.throws(() => putBuffers({}, [['a']], []), /1 buffer_paths but 0 buffers/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    assert.throws(() => removeBuffers(cyc), /cycle/);
  });
});

describe('widget protocol 2.1', () => {
  it('opens a jupyter.widget comm with {state, buffer_paths}, version metadata and float32 buffers', () => {
    const { m, sent } = setup();
    const w = new TokenSaliency({ tokens: ['a', 'b', 'c'], scores: [1, -0.5, 0.25], title: 't' }, { manager: m });
    assert.equal(sent.length, 1);
    const open = sent[0];
    assert.equal(open.type, 'comm_open');
    assert.equal(open.content.target_name, 'jupyter.widget');
    assert.equal(open.content.comm_id, w.modelId);
    assert.deepEqual(open.metadata, { version: '2.1.0' });
    assert.deepEqual(open.content.data.state, {
      _model_module: 'flowlens-widgets',
      _model_module_version: '0.1.0',
      _model_name: 'TokenSaliencyModel',
      _view_module: 'flowlens-widgets',
      _view_module_version: '0.1.0',
      _view_name: 'TokenSaliencyView',
      _view_count: null,
      tokens: ['a', 'b', 'c'],
      title: 't',
      selected: null,
    });
    assert.deepEqual(open.content.data.buffer_paths, [['scores']]);
    assert.deepEqual([...open.buffers[0]], f32le([1, -0.5, 0.25]));
    // JSON-serializable as it goes on the wire.
    assert.doesNotThrow(() => JSON.stringify(open.content));
  });

  it('sends update messages for changed keys only, with buffers', () => {
    const { m, sent } = setup();
    const w = new TokenSaliency({ tokens: ['a'], scores: [1] }, { manager: m });
    const changes: string[][] = [];
    w.onChange((keys) => changes.push(keys.map(String)));
    w.set({ title: 'new' });
    assert.deepEqual(sent[1].content.data, { method: 'update', state: { title: 'new' }, buffer_paths: [] });
    w.update(['x', 'y'], [3, 4]);
    assert.deepEqual(sent[2].content.data, { method: 'update', state: { tokens: ['x', 'y'] }, buffer_paths: [['scores']] });
    assert.deepEqual([...sent[2].buffers[0]], f32le([3, 4]));
    assert.deepEqual(changes, [['title'], ['tokens', 'scores']]);
    assert.throws(() => w.update(['x'], [1, 2]), /1 tokens but 2 scores/);
  });

  it('applies updates from the front end (binary too) without echoing them', async () => {
    const { m, sent } = setup();
    const w = new TokenSaliency({ tokens: ['a', 'b'], scores: [1, 2] }, { manager: m });
    const seen: unknown[] = [];
    w.onChange((keys, s) => seen.push([keys, s.selected]));
    // Bytes at an odd offset inside a larger buffer, as a ZeroMQ frame may be.
    const backing = Buffer.alloc(9);
    Buffer.from(f32le([5, 6])).copy(backing, 1);
    await m.handleCommMsg(
      fromFrontEnd('comm_msg', { comm_id: w.modelId, data: { method: 'update', state: { selected: 1 }, buffer_paths: [['scores']] } }, [backing.subarray(1)]),
    );
    assert.equal(w.state.selected, 1);
    assert.deepEqual([...w.state.scores], [5, 6]);
    assert.deepEqual(seen, [[['selected', 'scores'], 1]]);
    assert.equal(sent.length, 1, 'no message back to the front end');
    // An invalid value is rejected (reported) and the state is kept.
    const err = console.error;
    console.error = () => {};
    try {
      await m.handleCommMsg(fromFrontEnd('comm_msg', { comm_id: w.modelId, data: { method: 'update', state: { selected: 7 }, buffer_paths: [] } }));
    } finally {
      console.error = err;
    }
    assert.equal(w.state.selected, 1);
  });

  it('answers request_state with the full state, and passes custom messages both ways', async () => {
    const { m, sent } = setup();
    const w = new TokenSaliency({ tokens: ['a'], scores: [0.5] }, { manager: m });
    await m.handleCommMsg(fromFrontEnd('comm_msg', { comm_id: w.modelId, data: { method: 'request_state' } }));
    const full = sent[1].content.data;
    assert.equal(full.method, 'update');
    assert.deepEqual(full.state, sent[0].content.data.state);
    assert.deepEqual(full.buffer_paths, [['scores']]);
    assert.deepEqual([...sent[1].buffers[0]], f32le([0.5]));

    const got: unknown[] = [];
    w.onCustom((content, buffers) => got.push([content, buffers.map((b) => [...b])]));
    await m.handleCommMsg(fromFrontEnd('comm_msg', { comm_id: w.modelId, data: { method: 'custom', content: { click: 0 } } }, [Buffer.from([9])]));
    assert.deepEqual(got, [[{ click: 0 }, [[9]]]]);
    w.sendCustom({ hello: 1 }, [new Uint8Array([4])]);
    assert.deepEqual(sent[2].content.data, { method: 'custom', content: { hello: 1 } });
    assert.deepEqual([...sent[2].buffers[0]], [4]);
  });

  it('answers request_states on jupyter.widget.control with every live widget', async () => {
    const { m, sent } = setup();
    const w1 = new TokenSaliency({ tokens: ['a'], scores: [1] }, { manager: m });
    const w2 = new TokenSaliency({ tokens: ['b', 'c'], scores: [2, 3] }, { manager: m });
    const w3 = new TokenSaliency({ tokens: ['d'], scores: [4] }, { manager: m });
    w3.close();
    await m.handleCommOpen(fromFrontEnd('comm_open', { comm_id: 'ctl', target_name: 'jupyter.widget.control', data: {} }));
    await m.handleCommMsg(fromFrontEnd('comm_msg', { comm_id: 'ctl', data: { method: 'request_states' } }));
    const reply = sent.at(-1)!;
    assert.equal(reply.content.comm_id, 'ctl');
    const data = reply.content.data;
    assert.equal(data.method, 'update_states');
    assert.deepEqual(Object.keys(data.states).sort(), [w1.modelId, w2.modelId].sort());
    assert.equal(data.states[w2.modelId].model_name, 'TokenSaliencyModel');
    assert.equal(data.states[w2.modelId].model_module, 'flowlens-widgets');
    assert.deepEqual(data.states[w2.modelId].state.tokens, ['b', 'c']);
    // Put the buffers back and check each model gets its own scores.
    putBuffers(data.states, data.buffer_paths, reply.buffers);
    assert.deepEqual([...data.states[w1.modelId].state.scores], f32le([1]));
    assert.deepEqual([...data.states[w2.modelId].state.scores], f32le([2, 3]));
  });

  it('displays the widget view together with a static HTML rendering', () => {
    const { m, sent } = setup();
    const w = new TokenSaliency({ tokens: ['good', '##ness', '<b>'], scores: [2, -1, 0] }, { manager: m });
    w.display();
    const bundle = w.bundle();
    const shown = sent.at(-1)!;
    assert.equal(shown.type, 'display_data');
    assert.deepEqual(shown.content.data, bundle);
    assert.deepEqual(bundle[WIDGET_VIEW_MIME], { model_id: w.modelId, version_major: 2, version_minor: 1 });
    const html = bundle['text/html'];
    // Hand-computed: max |score| = 2, so alphas 1, 0.5, 0.
    assert.match(html, /background:rgba\(220,38,38,1\);[^>]*>good</);
    assert.match(html, /background:rgba\(37,99,235,0\.5\);margin-left:0;[^>]*>ness</);
    assert.match(html, /background:rgba\(220,38,38,0\);[^>]*>&lt;b&gt;</);
    assert.doesNotMatch(html, /<script|https?:|src=/, 'static rendering needs no script or network');
    assert.equal(bundle['text/plain'], 'TokenSaliency(3 tokens)');
  });
});

describe('saliency HTML', () => {
  it('colours by sign and relative magnitude, validates input', () => {
    assert.equal(saliencyColor(0.3, 0.6), 'rgba(220,38,38,0.5)');
    assert.equal(saliencyColor(-0.6, 0.6), 'rgba(37,99,235,1)');
    assert.equal(saliencyColor(-1, 3), 'rgba(37,99,235,0.333)');
    assert.throws(() => renderSaliencyHtml({ tokens: ['a'], scores: [NaN] }), /scores\[0\] is NaN/);
    assert.throws(() => renderSaliencyHtml({ tokens: ['a', 'b'], scores: [1] }), /2 tokens but 1 scores/);
    const zero = renderSaliencyHtml({ tokens: ['a'], scores: [0], title: 'x & y', selected: 0 });
    assert.match(zero, /x &amp; y/);
    assert.match(zero, /outline:2px solid/);
  });
});
