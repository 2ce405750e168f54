/**
 * The display protocol (`src/display.ts`), the kernel's bundles for cell results (`kernel/display.ts`,
 * `widgets/display.ts`), the in-memory history, and the ordered ZeroMQ send queue.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as aq from 'arquero';
import { bundleOf } from '../kernel/display.js';
// The kernel process loads the widgets' formatters (TokenAttribution, arquero tables) at start-up (kernel/start.ts).
import '../widgets/display.js';
import { globToRegExp, History } from '../kernel/history.js';
import { codePointToIndex, indexToCodePoint, SendQueue } from '../kernel/server.js';
import { tf } from '../src/backend/index.js';
import { MIME_BUNDLE, mimeBundleOf, registerFormatter } from '../src/display.js';
import { Trace } from '../src/model/bert.js';
import { tokenAttribution } from '../src/methods/result.js';

describe('display protocol', () => {
  it("uses an object's Symbol.for('flowlens.mimeBundle') method, then registered formatters (last first)", () => {
    const own = { [Symbol.for('flowlens.mimeBundle')]: () => ({ 'text/html': '<b>x</b>', 'text/plain': 'x' }) };
    assert.equal(MIME_BUNDLE, Symbol.for('flowlens.mimeBundle'));
    assert.deepEqual(mimeBundleOf(own), { 'text/html': '<b>x</b>', 'text/plain': 'x' });
    class Point {
      constructor(readonly x: number) {}
    }
    registerFormatter({ name: 'test.point', test: (v) => v instanceof Point, format: (v) => ({ 'text/plain': `P${(v as Point).x}` }) });
    assert.deepEqual(mimeBundleOf(new Point(3)), { 'text/plain': 'P3' });
    registerFormatter({ name: 'test.point2', test: (v) => v instanceof Point, format: () => ({ 'text/plain': 'later wins' }) });
    assert.deepEqual(mimeBundleOf(new Point(3)), { 'text/plain': 'later wins' });
    assert.equal(mimeBundleOf(42), undefined);
    assert.throws(() => mimeBundleOf({ [MIME_BUNDLE]: () => ({}) }), /returned no MIME type/);
    assert.throws(() => registerFormatter({ name: '', test: () => true, format: () => ({}) }), /needs \{name/);
  });

  it('the kernel shows plain values as text, adds text/plain, and survives a failing display method', () => {
    assert.deepEqual(bundleOf({ a: [1, 2] }).data, { 'text/plain': '{ a: [ 1, 2 ] }' });
    assert.deepEqual(bundleOf('s').data, { 'text/plain': "'s'" });
    assert.deepEqual(Object.keys(bundleOf({ [MIME_BUNDLE]: () => ({ 'text/html': '<i>h</i>' }) }).data).sort(), ['text/html', 'text/plain']);
    const broken = bundleOf({
      [MIME_BUNDLE]: () => {
        throw new Error('no luck');
      },
    });
    assert.match(String(broken.data['text/plain']), /display failed: no luck/);
  });

  it('a TokenAttribution is a saliency view: colours by score, method and QoI in the caption', () => {
    const a = tokenAttribution('blankout', ['the', 'cats'], [0.5, -0.25], 'p(are) − p(is)', { sanity: { name: 'gap', value: 0.001234567 } });
    const { data } = bundleOf(a);
    const html = String(data['text/html']);
    assert.match(html, /class="flowlens-saliency"/);
    assert.match(html, /blankout: p\(are\) − p\(is\); gap 0\.001235/);
    // max |score| = 0.5: "the" full red, "cats" blue at half opacity.
    assert.match(html, /background:rgba\(220,38,38,1\)[^>]*>the</);
    assert.match(html, /background:rgba\(37,99,235,0\.5\)[^>]*>cats</);
    assert.match(String(data['text/plain']), /^TokenAttribution blankout: .*\nthe 0\.5 {2}cats -0\.25$/);
  });

  it('an arquero table is an HTML table (50 rows at most, the rest counted) and aligned text', () => {
    const t = aq.table({ k: Array.from({ length: 60 }, (_, i) => i), name: Array.from({ length: 60 }, (_, i) => `r${i}`) });
    const { data } = bundleOf(t);
    const html = String(data['text/html']);
    assert.equal(html.match(/<tr>/g)?.length, 1 + 50, 'header row + 50 rows');
    assert.match(html, /<th[^>]*>k<\/th><th[^>]*>name<\/th>/);
    assert.match(html, /… 10 more rows \(60 in all\)/);
    const text = String(data['text/plain']).split('\n');
    assert.equal(text[0], 'Table (60 rows × 2 columns)');
    assert.equal(text[1], ' k  name');
    assert.equal(text[3], ' 0    r0');
    assert.equal(text.at(-1), '… 40 more rows (60 in all)');
  });

  it('a Trace is a short summary of its sizes and recorded nodes', () => {
    const logits = tf.zeros([1, 3, 5]);
    const pattern = tf.zeros([1, 2, 3, 3]);
    const trace = new Trace(logits, new Map([['blocks.0.attn.hook_pattern', pattern]]), 1, 3, 1, 2);
    const { data } = bundleOf(trace);
    assert.equal(
      data['text/plain'],
      'Trace: batch 1, seq 3, 1 layers × 2 heads, 1 recorded nodes\n  logits                      [1, 3, 5]\n  blocks.0.attn.hook_pattern  [1, 2, 3, 3]',
    );
    assert.match(String(data['text/html']), /<td[^>]*>blocks\.0\.attn\.hook_pattern<\/td><td[^>]*>\[1, 2, 3, 3\]<\/td>/);
    trace.dispose();
    assert.match(String(bundleOf(trace).data['text/plain']), /logits {2}disposed/);
  });
});

describe('kernel history', () => {
  it('answers tail, range and search (glob, unique, n), with outputs on request', () => {
    const h = new History();
    h.add(1, 'const a = 1;', null);
    h.add(2, '6 * 7', '42');
    h.add(3, '16 * 7', '112');
    h.add(4, '6 * 7', '42');
    assert.deepEqual(h.query({ hist_access_type: 'tail', n: 2 }), [
      [1, 3, '16 * 7'],
      [1, 4, '6 * 7'],
    ]);
    assert.deepEqual(h.query({ hist_access_type: 'range', session: 0, start: 2, stop: 3, output: true }), [[1, 2, ['6 * 7', '42']]]);
    assert.deepEqual(h.query({ hist_access_type: 'range', session: 7, start: 1 }), [], 'no other sessions');
    assert.deepEqual(
      h.query({ hist_access_type: 'search', pattern: '6 ?*' }).map((e) => e[1]),
      [2, 4],
    );
    assert.deepEqual(
      h.query({ hist_access_type: 'search', pattern: '6 ?*', unique: true }).map((e) => e[1]),
      [4],
    );
    assert.deepEqual(
      h.query({ hist_access_type: 'search', pattern: '*7', n: 2 }).map((e) => e[1]),
      [3, 4],
    );
    assert.ok(globToRegExp('[ab]?').test('a1') && !globToRegExp('[ab]?').test('c1'));
    assert.throws(() => h.query({ hist_access_type: 'bogus' as 'tail' }), /unknown hist_access_type/);
  });

  it('converts Jupyter cursor positions (code points) to string indices and back', () => {
    const s = 'a😀b';
    assert.equal(codePointToIndex(s, 2), 3);
    assert.equal(indexToCodePoint(s, 3), 2);
    assert.equal(codePointToIndex('abc', 2), 2);
  });
});

describe('SendQueue', () => {
  it('keeps order and never has two sends in flight, as zeromq.js requires (EBUSY otherwise)', async () => {
    const got: string[] = [];
    let busy = false;
    const sock = {
      send(frames: Buffer[]): Promise<void> {
        if (busy) throw Object.assign(new Error('Socket is busy writing'), { code: 'EBUSY' });
        // Every other send completes later (a delayed write), as zeromq does past 512 sync sends.
        if (got.length % 2 === 1) {
          busy = true;
          return new Promise((r) =>
            setTimeout(() => {
              got.push(frames[0].toString());
              busy = false;
              r();
            }, 5),
          );
        }
        got.push(frames[0].toString());
        return Promise.resolve();
      },
    };
    const q = new SendQueue(sock, 'test');
    for (let i = 0; i < 20; i++) q.send([Buffer.from(String(i))]);
    await q.drain();
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
  });
});
