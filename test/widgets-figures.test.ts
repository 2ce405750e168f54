/**
 * The attention-maps, head-mask, influence-pattern, IBA and degradation widgets (kernel side and
 * their static renderings), on a comm manager with a fake iopub: shapes are validated with clear
 * errors, front-end changes reach the kernel and linked recomputations go back, and the drawn
 * values are checked against hand-computed ones.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CommManager, type IopubPublisher } from '../kernel/comm.js';
import { newHeader, type JupyterMessage } from '../kernel/wire.js';
import { attentionStack } from '../src/methods/attentionTypes.js';
import { AttentionMaps } from '../widgets/attentionMaps.js';
import { DegradationCurves } from '../widgets/curves.js';
import { aopc } from '../widgets/curvesHtml.js';
import { HeadMaskGrid } from '../widgets/headMask.js';
import { IbaLayerPlot } from '../widgets/iba.js';
import { InfluencePattern } from '../widgets/influence.js';
import { TokenSaliency } from '../widgets/saliency.js';
import { renderHeadMaskHtml } from '../widgets/headMaskHtml.js';
import { blues, diverging, heatmapSvg, lineChartSvg, niceTicks, tickLabel } from '../widgets/svg.js';

type Sent = { type: string; content: any; metadata: Record<string, unknown>; buffers: Buffer[] };

function setup(): { m: CommManager; sent: Sent[] } {
  const sent: Sent[] = [];
  const pub: IopubPublisher = { publish: (type, content, metadata, buffers) => sent.push({ type, content, metadata, buffers }) };
  return { m: new CommManager(pub), sent };
}

function fe(commId: string, data: Record<string, unknown>, buffers: Buffer[] = []): JupyterMessage {
  return { identities: [], header: newHeader('comm_msg', 'fe'), parent_header: {}, metadata: {}, content: { comm_id: commId, data }, buffers };
}

/** Reads little-endian float32 values from bytes with DataView (independent of typed-array views). */
function f32(b: Buffer): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 4 }, (_, i) => dv.getFloat32(4 * i, true));
}

const close = (a: number[], b: number[], tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol, `entry ${i}: ${v} vs ${b[i]}`));
};

function silenced<T>(f: () => Promise<T>): Promise<T> {
  const err = console.error;
  console.error = () => {};
  return f().finally(() => (console.error = err));
}

const noNetwork = (html: string): void =>
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)|src=/, 'static rendering needs no script or network');

describe('svg helpers', () => {
  it('colour scales hit the ColorBrewer stops and interpolate linearly', () => {
    assert.equal(blues(0), 'rgb(247,251,255)');
    assert.equal(blues(1), 'rgb(8,48,107)');
    assert.equal(blues(0.125), 'rgb(223,235,247)'); // halfway between (247,251,255) and (198,219,239)
    assert.equal(blues(2), 'rgb(8,48,107)');
    assert.equal(diverging(0), 'rgb(255,255,255)');
    assert.equal(diverging(0.5), 'rgb(238,147,147)'); // 255 + 0.5·(220−255) etc.
    assert.equal(diverging(-1), 'rgb(37,99,235)');
  });

  it('heatmap and line chart check their input', () => {
    assert.throws(() => heatmapSvg({ z: [1, 2, 3], rows: 2, cols: 2, rowLabels: ['a', 'b'], colLabels: ['a', 'b'] }), /expected 4 numbers, got 3/);
    assert.throws(() => heatmapSvg({ z: [1, NaN, 3, 4], rows: 2, cols: 2, rowLabels: ['a', 'b'], colLabels: ['a', 'b'] }), /entry 1 is NaN/);
    const svg = heatmapSvg({ z: [0, 1, 2, 4], rows: 2, cols: 2, rowLabels: ['a', 'b'], colLabels: ['c', 'd'] });
    assert.equal(svg.match(/<rect [^>]*><title>/g)?.length, 4, 'one cell per value');
    // range [0, 4]: 0 → white, 2 → the 0.5 stop, 4 → dark blue.
    assert.match(svg, /fill="rgb\(247,251,255\)"[^>]*><title>a → c: 0</);
    assert.match(svg, /fill="rgb\(107,174,214\)"[^>]*><title>b → c: 2</);
    assert.match(svg, /fill="rgb\(8,48,107\)"[^>]*><title>b → d: 4</);
    // The colour bar: nice ticks 0, 2, 4 over the range [0, 4], dark blue at the top, white at the bottom.
    const bar = /<g class="flowlens-colorbar">(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
    assert.deepEqual(
      [...bar.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]),
      ['0', '2', '4'],
    );
    const barFills = [...bar.matchAll(/<rect [^>]*fill="(rgb[^"]*)"/g)].map((m) => m[1]);
    assert.equal(barFills.length, 32);
    assert.equal(barFills[0], blues(1 - 0.5 / 32));
    assert.equal(barFills[31], blues(0.5 / 32));
    assert.doesNotMatch(heatmapSvg({ z: [0, 1, 2, 4], rows: 2, cols: 2, rowLabels: ['a', 'b'], colLabels: ['c', 'd'], colorbar: false }), /flowlens-colorbar/);
    assert.throws(() => lineChartSvg({ series: [{ name: 's', x: [0, 1], y: [1] }] }), /expected 2 numbers, got 1/);
    assert.throws(() => lineChartSvg({ series: [] }), /no points/);
  });

  it('axis ticks are round numbers (1, 2 or 5 × 10^k) with as many decimals as the step needs', () => {
    assert.deepEqual(niceTicks(-0.0036, 0.00943).ticks, [-0.005, 0, 0.005, 0.01]);
    assert.deepEqual(niceTicks(0.1, 0.83).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(-3.2, 7.9).ticks, [-5, 0, 5, 10]);
    assert.deepEqual(niceTicks(1e-6, 4e-6).ticks, [1e-6, 2e-6, 3e-6, 4e-6]);
    assert.equal(tickLabel(0.01, 0.005), '0.010');
    assert.equal(tickLabel(-0.005, 0.005), '-0.005');
    assert.equal(tickLabel(0.8, 0.2), '0.8');
    assert.equal(tickLabel(10, 5), '10');
    assert.equal(tickLabel(2e-6, 1e-6), '2e-6');
    // The line chart that used to label its axis 0.00943 and −0.0036.
    const svg = lineChartSvg({ series: [{ name: 's', x: [0, 1, 2], y: [-0.0036, 0.002, 0.00943] }] });
    assert.deepEqual(
      [...svg.matchAll(/class="flowlens-ytick"[^>]*>([^<]*)</g)].map((m) => m[1]),
      ['-0.005', '0', '0.005', '0.010'],
    );
    assert.deepEqual(
      [...svg.matchAll(/class="flowlens-xtick"[^>]*>([^<]*)</g)].map((m) => m[1]),
      ['0', '0.5', '1.0', '1.5', '2.0'],
    );
  });
});

describe('AttentionMaps widget', () => {
  // 2 layers, 1 head, 2 tokens. Layer 0: [[1,0],[.5,.5]], layer 1: [[.5,.5],[0,1]].
  const stack = attentionStack([1, 0, 0.5, 0.5, 0.5, 0.5, 0, 1], 2, 1, 2);

  it('sends raw, rollout and flow [layers, seq, seq] as one float32 buffer; rollout by hand', () => {
    const { m, sent } = setup();
    const w = AttentionMaps.fromStack(['a', 'b'], stack, {}, { manager: m });
    const open = sent[0];
    assert.equal(open.content.data.state._model_name, 'AttentionMapsModel');
    assert.deepEqual(open.content.data.state.names, ['raw', 'rollout', 'flow']);
    assert.equal(open.content.data.state.layer, 1, 'last layer first');
    assert.deepEqual(open.content.data.buffer_paths, [['values']]);
    const v = f32(open.buffers[0]);
    assert.equal(v.length, 3 * 2 * 4);
    close(v.slice(0, 8), [1, 0, 0.5, 0.5, 0.5, 0.5, 0, 1]); // raw = the single head
    // Â0 = .5A0 + .5I = [[1,0],[.25,.75]], Â1 = [[.75,.25],[0,1]]; rollout1 = Â1·Â0.
    close(v.slice(8, 16), [1, 0, 0.25, 0.75, 0.8125, 0.1875, 0.25, 0.75]);
    // Flow after layer 0 is the single edge capacity: the augmented attention itself.
    close(v.slice(16, 20), [1, 0, 0.25, 0.75]);
    const html = w.renderStatic();
    assert.match(html, /class="flowlens-widget flowlens-attention-maps"/);
    assert.match(html, /rollout L2: a \(0\) → a \(0\) = 0\.813/);
    assert.match(html, /layer 2 of 2/);
    noNetwork(html);
  });

  it('follows the slider (layer from the front end), rejects unknown layers and bad shapes', async () => {
    const { m } = setup();
    const w = AttentionMaps.fromStack(['a', 'b'], stack, { flow: false }, { manager: m });
    assert.deepEqual(w.state.names, ['raw', 'rollout']);
    await m.handleCommMsg(fe(w.modelId, { method: 'update', state: { layer: 0 }, buffer_paths: [] }));
    assert.equal(w.state.layer, 0);
    assert.match(w.renderStatic(), /layer 1 of 2/);
    await silenced(() => m.handleCommMsg(fe(w.modelId, { method: 'update', state: { layer: 5 }, buffer_paths: [] })));
    assert.equal(w.state.layer, 0);
    assert.throws(() => w.setLayer(2), /unknown layer 2 \(layers 0\.\.1\)/);
    assert.throws(
      () => new AttentionMaps({ tokens: ['a', 'b', 'c'], layers: 2, maps: { raw: new Float32Array(8) } }, { manager: m }),
      /map "raw" has 8 values, expected \[layers, seq, seq\] = \[2, 3, 3\] = 18/,
    );
    assert.throws(() => AttentionMaps.fromStack(['a'], stack, {}, { manager: m }), /1 tokens for an attention stack of seq 2/);
  });
});

describe('HeadMaskGrid widget', () => {
  it('a click (mask update from the front end) recomputes the linked saliency', async () => {
    const { m, sent } = setup();
    const grid = new HeadMaskGrid(
      {
        scores: [
          [0.5, -1],
          [2, 0],
        ],
        title: 'heads',
      },
      { manager: m },
    );
    const sal = new TokenSaliency({ tokens: ['x', 'y'], scores: [1, 1] }, { manager: m });
    const masks: number[][][] = [];
    // A toy "recomputation": token 0 gets the number of kept heads, token 1 minus the masked ones.
    grid.linkSaliency(sal, (mask) => {
      masks.push(mask);
      const kept = mask.flat().filter((v) => v === 1).length;
      return [kept, kept - 4];
    });
    const before = sent.length;
    await m.handleCommMsg(
      fe(grid.modelId, {
        method: 'update',
        state: {
          mask: [
            [1, 0],
            [1, 1],
          ],
        },
        buffer_paths: [],
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(masks, [
      [
        [1, 0],
        [1, 1],
      ],
    ]);
    assert.deepEqual(grid.mask, [
      [1, 0],
      [1, 1],
    ]);
    const salUpdate = sent.slice(before).find((s) => s.content.comm_id === sal.modelId);
    assert.ok(salUpdate, 'the saliency view was updated');
    assert.deepEqual(f32(salUpdate.buffers[0]), [3, -1]);
    const html = grid.renderStatic();
    assert.match(html, /class="flowlens-masked-count">1</);
    assert.match(html, /data-layer="0" data-head="1" data-masked="1"/);
    assert.match(html, /layer 1, head 1: score -1 \(masked\)/);
    // Signed scores → diverging scale, max |score| = 2: 0.5 → t = 0.25.
    assert.match(html, new RegExp(`fill="${diverging(0.25).replace(/[()]/g, '\\$&')}"[^>]*data-layer="0" data-head="0"`));
    noNetwork(html);
    // The static figure (nothing to click) does not invite clicks; the live view does; both have a colour scale.
    assert.doesNotMatch(html, /click a head|cursor:pointer/);
    const live = renderHeadMaskHtml(grid.state, { interactive: true });
    assert.match(live, /\(click a head to toggle it\)/);
    assert.match(live, /cursor:pointer/);
    assert.match(html, /<g class="flowlens-colorbar">.*>score</s);
  });

  it('rejects masks of the wrong shape or with values other than 0/1; shows compute errors', async () => {
    const { m } = setup();
    assert.throws(() => new HeadMaskGrid({ scores: [[1, 2], [3]] }, { manager: m }), /row 1 has 1 entries, expected 2/);
    assert.throws(() => new HeadMaskGrid({ scores: [[1, 2]], mask: [[1, 2]] }, { manager: m }), /mask\[0\]\[1\] is 2, expected 0 or 1/);
    const grid = new HeadMaskGrid({ scores: [[1, 2]] }, { manager: m });
    assert.throws(() => grid.setMask([[1]]), /row 0 has 1 entries, expected 2 \(heads\)/);
    await silenced(() =>
      m.handleCommMsg(
        fe(grid.modelId, {
          method: 'update',
          state: {
            mask: [
              [1, 1],
              [1, 1],
            ],
          },
          buffer_paths: [],
        }),
      ),
    );
    assert.deepEqual(grid.mask, [[1, 1]]);
    const sal = new TokenSaliency({ tokens: ['x'], scores: [1] }, { manager: m });
    grid.linkSaliency(sal, () => {
      throw new Error('model exploded');
    });
    await silenced(async () => {
      grid.setMask([[0, 1]]);
      await new Promise((r) => setImmediate(r));
    });
    assert.equal(grid.state.status, 'error: model exploded');
    assert.match(grid.renderStatic(), /error: model exploded/);
  });
});

describe('InfluencePattern widget', () => {
  const tokens = ['[CLS]', 'dogs', 'bark', '[SEP]'];
  const steps = [
    { layer: 0, position: 1, kind: 'skip' as const, influence: 0.5 },
    { layer: 1, position: 2, kind: 'head' as const, head: 3, influence: -0.25 },
    { layer: 2, position: 2, kind: 'skip' as const, influence: 1 },
  ];

  it('draws skip and head steps, answers node clicks with the head breakdown', async () => {
    const { m, sent } = setup();
    const w = new InfluencePattern({ tokens, layers: 3, source: 1, steps, qoi: 'logit' }, { manager: m });
    const html = w.renderStatic();
    assert.equal(html.match(/class="flowlens-step" data-kind="skip"/g)?.length, 2);
    assert.equal(html.match(/class="flowlens-step" data-kind="head"/g)?.length, 1);
    assert.match(html, /layer 2: head 3, dogs \(1\) → bark \(2\), influence -0\.25/);
    assert.equal(html.match(/class="flowlens-node"/g)?.length, 4 * 4);
    // Widths ∝ |influence| / max: 1.5 + 4.5·0.5 = 3.75 for the first step.
    assert.match(html, /data-kind="skip" x1="[\d.]+" y1="[\d.]+" x2="[\d.]+" y2="[\d.]+" stroke="#6b7280" stroke-dasharray="5 4" stroke-width="3.75"/);
    noNetwork(html);
    // Each edge label sits beside its edge (≥ 8 px from the line), after the nodes (drawn on top).
    const lines = [...html.matchAll(/class="flowlens-step" data-kind="\w+" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/g)].map((m) =>
      m.slice(1).map(Number),
    );
    const labels = [...html.matchAll(/class="flowlens-step-label" x="([\d.]+)" y="([\d.]+)"[^>]*>(\w+)</g)].map((m) => ({
      x: Number(m[1]),
      y: Number(m[2]) - 4,
      text: m[3],
    }));
    assert.deepEqual(
      labels.map((l) => l.text),
      ['skip', 'h3', 'skip'],
    );
    labels.forEach((l, i) => {
      const [x1, y1, x2, y2] = lines[i];
      const dist = Math.abs((y2 - y1) * l.x - (x2 - x1) * l.y + x2 * y1 - y2 * x1) / Math.hypot(x2 - x1, y2 - y1);
      assert.ok(dist >= 8, `label ${l.text} is ${dist.toFixed(1)} px from its edge`);
    });
    assert.ok(html.lastIndexOf('flowlens-step-label') > html.lastIndexOf('class="flowlens-node"'), 'labels drawn after the nodes');
    const asked: number[][] = [];
    w.onNodeClick((layer, position) => {
      asked.push([layer, position]);
      return {
        layer,
        position,
        heads: [
          { head: 0, influence: 0.2 },
          { head: 3, influence: -0.7 },
        ],
        skip: 0.1,
      };
    });
    const before = sent.length;
    await m.handleCommMsg(fe(w.modelId, { method: 'custom', content: { event: 'node_click', layer: 2, position: 2 } }));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(asked, [[2, 2]]);
    assert.deepEqual(w.state.selected, { layer: 2, position: 2 });
    assert.deepEqual(w.state.breakdown?.heads, [
      { head: 0, influence: 0.2 },
      { head: 3, influence: -0.7 },
    ]);
    const updates = sent.slice(before).map((s) => s.content.data.state);
    assert.ok(updates.some((s) => s.breakdown && s.breakdown.layer === 2));
    assert.match(w.renderStatic(), /heads of layer 2 into bark \(2\)/);
  });

  it('rejects malformed patterns with a message naming the step', () => {
    const { m } = setup();
    const bad =
      (s: unknown[], source = 1) =>
      () =>
        new InfluencePattern({ tokens, layers: 3, source, steps: s as typeof steps }, { manager: m });
    assert.throws(bad([steps[0], { ...steps[1], kind: 'skip' }, steps[2]]), /step 1 is a skip step but moves from position 1 to 2/);
    assert.throws(bad([steps[0], steps[1]]), /one step per layer \(3\), got 2/);
    assert.throws(bad([steps[0], { ...steps[1], head: undefined }, steps[2]]), /step 1 is a head step without a valid head index/);
    assert.throws(bad([steps[0], { ...steps[1], position: 9 }, steps[2]]), /step 1 position 9 is not a token position 0\.\.3/);
    assert.throws(bad(steps, 7), /source 7/);
  });
});

describe('DegradationCurves widget', () => {
  it('AOPC by hand, one line per method, validated curves', () => {
    assert.equal(aopc({ fractions: [0, 0.5, 1], values: [1, 0.5, 0] }), 0.5); // (0 + .5 + 1) / 3
    assert.throws(() => aopc({ fractions: [0.1], values: [1] }), /start at fraction 0/);
    const { m } = setup();
    const w = new DegradationCurves(
      {
        curves: [
          { method: 'rollout', fractions: [0, 0.5, 1], values: [1, 0.5, 0] },
          { method: 'random', fractions: [0, 1], values: [1, 0.8], aopc: 0.123 },
        ],
      },
      { manager: m },
    );
    assert.equal(w.state.curves[0].aopc, 0.5);
    const html = w.renderStatic();
    assert.equal(html.match(/<polyline class="flowlens-series"/g)?.length, 2);
    assert.match(html, /rollout \(AOPC 0\.5\)/);
    assert.match(html, /random \(AOPC 0\.123\)/);
    noNetwork(html);
    assert.throws(
      () => new DegradationCurves({ curves: [{ method: 'ig', fractions: [0, 0.5], values: [1] }] }, { manager: m }),
      /ig: 2 fractions but 1 values/,
    );
    assert.throws(
      () => new DegradationCurves({ curves: [{ method: 'ig', fractions: [0.5, 0], values: [1, 2] }] }, { manager: m }),
      /ig: fractions must be ascending/,
    );
  });
});

describe('IbaLayerPlot widget', () => {
  it('β or layer from the front end recomputes in the kernel; errors go to the status line', async () => {
    const { m, sent } = setup();
    const w = new IbaLayerPlot(
      {
        tokens: ['a', 'b', 'c'],
        scores: [
          [1, 2, 3],
          [0, 1, 0],
        ],
        beta: 1e-5,
      },
      { manager: m },
    );
    assert.equal(w.state.layer, 1);
    const calls: unknown[] = [];
    w.onRecompute(({ beta, layer }) => {
      calls.push({ beta, layer });
      return [
        [beta * 1e5, 0, 0],
        [layer, 1, 2],
      ];
    });
    const before = sent.length;
    await m.handleCommMsg(fe(w.modelId, { method: 'update', state: { beta: 2e-5 }, buffer_paths: [] }));
    await w.pending;
    assert.deepEqual(calls, [{ beta: 2e-5, layer: 1 }]);
    close([...w.state.scores], [2, 0, 0, 1, 1, 2], 1e-6);
    const upd = sent.slice(before).find((s) => s.content.data.buffer_paths?.length);
    assert.ok(upd);
    close(f32(upd.buffers[0]), [2, 0, 0, 1, 1, 2], 1e-6);
    await m.handleCommMsg(fe(w.modelId, { method: 'update', state: { layer: 0 }, buffer_paths: [] }));
    await w.pending;
    assert.deepEqual(calls.at(-1), { beta: 2e-5, layer: 0 });
    const html = w.renderStatic();
    assert.match(html, /class="flowlens-widget flowlens-iba" data-layer="0"/);
    assert.match(html, /L1, a \(0\): 2 bits/);
    assert.match(html, /β = 2\.00e-5/);
    noNetwork(html);
    // Row names as ibaLayers gives them: the API's layer 0 (bottleneck after encoder layer 0) is row 1, "layer 1".
    const named = new IbaLayerPlot(
      {
        tokens: ['a', 'b', 'c'],
        scores: [
          [1, 2, 3],
          [0, 1, 0],
        ],
        layerNames: ['embeddings', 'layer 1'],
        layer: 1,
        beta: 1e-5,
      },
      { manager: m },
    );
    assert.match(named.renderStatic(), />▶ layer 1</);
    assert.match(named.renderStatic(), /per-token information, layer 1/);
    assert.deepEqual(named.state.layerNames, ['embeddings', 'layer 1']);
    assert.throws(() => new IbaLayerPlot({ tokens: ['a'], scores: [[1], [2]], layerNames: ['x'], beta: 1e-5 }, { manager: m }), /layerNames must be 2 strings/);
    await silenced(() => m.handleCommMsg(fe(w.modelId, { method: 'update', state: { beta: -1 }, buffer_paths: [] })));
    assert.equal(w.state.beta, 2e-5);
    w.onRecompute(() => [[1, 2]]);
    await silenced(async () => {
      w.select({ layer: 1 });
      await w.pending;
    });
    assert.match(w.state.status, /error: .*recomputed scores \[layers = 2\]\[seq = 3\]: expected 2 rows, got 1/);
    assert.throws(() => new IbaLayerPlot({ tokens: ['a'], scores: [[1, 2]], beta: 1 }, { manager: m }), /row 0 has 2 entries, expected 1/);
    assert.throws(() => new IbaLayerPlot({ tokens: ['a'], scores: [[1]], beta: 0 }, { manager: m }), /beta must be a positive number/);
  });
});

describe('TokenSaliency method picker', () => {
  it('holds every method, and the picked method (from the front end) becomes the shown scores', async () => {
    const { m, sent } = setup();
    const w = new TokenSaliency({ tokens: ['a', 'b'], methods: { blankout: [1, 0], rollout: [0.25, 0.75] }, title: 't' }, { manager: m });
    assert.deepEqual(sent[0].content.data.state.methodNames, ['blankout', 'rollout']);
    assert.deepEqual(sent[0].content.data.buffer_paths, [['scores'], ['methodScores']]);
    assert.deepEqual(f32(sent[0].buffers[1]), [1, 0, 0.25, 0.75]);
    assert.match(w.renderStatic(), /t · blankout/);
    await m.handleCommMsg(fe(w.modelId, { method: 'update', state: { method: 'rollout' }, buffer_paths: [] }));
    assert.deepEqual([...w.state.scores], [0.25, 0.75]);
    assert.deepEqual(f32(sent.at(-1)!.buffers[0]), [0.25, 0.75], 'the kernel sends the picked scores');
    // max 0.75: alphas 0.333 and 1.
    assert.match(w.renderStatic(), /rgba\(220,38,38,0\.333\)[^>]*>a<.*rgba\(220,38,38,1\)[^>]*>b</s);
    await silenced(() => m.handleCommMsg(fe(w.modelId, { method: 'update', state: { method: 'nope' }, buffer_paths: [] })));
    assert.equal(w.state.method, 'rollout');
    assert.throws(() => w.showMethod('nope'), /unknown method "nope" \(methods: blankout, rollout\)/);
    assert.throws(() => new TokenSaliency({ tokens: ['a'], methods: { x: [1, 2] } }, { manager: m }), /method "x" has 2 scores for 1 tokens/);
    w.update(['a', 'b'], [3, 4]);
    assert.deepEqual(w.methods, [], 'plain scores after update(): no picker');
  });
});

describe('HTML export', () => {
  it('writes self-contained pages: static SVG for the SVG widgets, plotly inlined for the plotly ones', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-export-'));
    try {
      const { m } = setup();
      const grid = new HeadMaskGrid({ scores: [[1, 2]] }, { manager: m });
      grid.exportHtml(path.join(tmp, 'grid.html'));
      const g = readFileSync(path.join(tmp, 'grid.html'), 'utf8');
      assert.match(g, /^<!DOCTYPE html>/);
      assert.match(g, /class="flowlens-widget flowlens-head-mask"/);
      noNetwork(g);
      const curves = new DegradationCurves({ curves: [{ method: 'rollout', fractions: [0, 1], values: [1, 0] }] }, { manager: m });
      curves.exportHtml(path.join(tmp, 'curves.html'));
      const c = readFileSync(path.join(tmp, 'curves.html'), 'utf8');
      assert.match(c, /Plotly\.newPlot/);
      assert.match(c, /"name":"rollout \(AOPC 0\.5\)"/);
      assert.doesNotMatch(c, /<script[^>]+src=/, 'plotly is inlined, not loaded');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('flowlens figure (CLI)', () => {
  it('writes a widget figure from a JSON data file; bad data writes nothing and names the problem', async () => {
    const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { writeFigure } = await import('../widgets/cli.js');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowlens-figcli-'));
    try {
      writeFileSync(path.join(tmp, 's.json'), JSON.stringify({ tokens: ['good', 'bad'], scores: [1, -1] }));
      writeFigure('saliency', path.join(tmp, 's.json'), path.join(tmp, 's.html'));
      assert.match(readFileSync(path.join(tmp, 's.html'), 'utf8'), /rgba\(220,38,38,1\)[^>]*>good</);
      writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify({ scores: [[1, 2], [3]] }));
      assert.throws(() => writeFigure('head-mask', path.join(tmp, 'bad.json'), path.join(tmp, 'bad.html')), /row 1 has 1 entries, expected 2/);
      assert.ok(!existsSync(path.join(tmp, 'bad.html')));
      assert.throws(() => writeFigure('pie', path.join(tmp, 's.json'), path.join(tmp, 'p.html')), /unknown kind "pie"/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('DegradationCurves takes src/eval/degradation curves as they are', () => {
  it('prob instead of values, the direction in the name', () => {
    const { m } = setup();
    const w = new DegradationCurves({ curves: [{ method: 'ig', direction: 'most', fractions: [0, 0.5, 1], prob: [0.9, 0.3, 0.0] }] }, { manager: m });
    assert.equal(w.state.curves[0].method, 'ig · MoRF');
    assert.deepEqual(w.state.curves[0].values, [0.9, 0.3, 0]);
    assert.ok(Math.abs(w.state.curves[0].aopc! - (0 + 0.6 + 0.9) / 3) < 1e-12);
  });
});

describe('TokenSaliency.fromAttributions', () => {
  it('one picker entry per TokenAttribution; tokens must agree', () => {
    const { m } = setup();
    const w = TokenSaliency.fromAttributions(
      [
        { method: 'blankout', tokens: ['a', 'b'], scores: [1, 0] },
        { method: 'rollout', tokens: ['a', 'b'], scores: [0.5, 0.5] },
      ],
      { method: 'rollout' },
      { manager: m },
    );
    assert.deepEqual(w.methods, ['blankout', 'rollout']);
    assert.deepEqual([...w.state.scores], [0.5, 0.5]);
    assert.throws(
      () =>
        TokenSaliency.fromAttributions(
          [
            { method: 'x', tokens: ['a'], scores: [1] },
            { method: 'y', tokens: ['b'], scores: [1] },
          ],
          {},
          { manager: m },
        ),
      /"y" explains other tokens than "x"/,
    );
  });
});
