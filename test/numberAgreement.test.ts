import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseTaggedLine,
  normalizeBrownTag,
  verbNumber,
  subjectHead,
  numberExamplesFromTagged,
  templatedNumberExamples,
  brownSplitOf,
} from '../src/data/numberAgreement.js';

const T = (s: string) => parseTaggedLine(s);
/** The one example of a sentence whose verb is `verb` (by word). */
function exampleAt(line: string, verb: string) {
  const toks = T(line);
  const xs = numberExamplesFromTagged(toks, 'test');
  const x = xs.find((e) => e.verb === verb);
  assert.ok(x, `no example for "${verb}" in: ${line} (got ${xs.map((e) => e.verb).join(', ')})`);
  return x;
}

test('tags are normalised and lines parsed', () => {
  assert.equal(normalizeBrownTag('NN-TL'), 'nn');
  assert.equal(normalizeBrownTag('nns-hl'), 'nns');
  assert.equal(normalizeBrownTag('fw-nn'), 'fw-nn');
  assert.deepEqual(T('The/at jury/nn-tl ``/`` is/bez ./.'), [
    { word: 'the', tag: 'at' },
    { word: 'jury', tag: 'nn' },
    { word: '"', tag: '``' },
    { word: 'is', tag: 'bez' },
    { word: '.', tag: '.' },
  ]);
});

test('cut position and label: singular and plural forms, attractors across a PP', () => {
  const x = exampleAt('The/at keys/nns to/in the/at cabinet/nn are/ber on/in the/at table/nn ./.', 'are');
  assert.deepEqual(x.words, ['the', 'keys', 'to', 'the', 'cabinet']);
  assert.equal(x.label, 1);
  assert.equal(x.subject, 1);
  assert.equal(x.intervening, 1);
  assert.equal(x.attractors, 1);
  const y = exampleAt('The/at author/nn of/in the/at books/nns about/in dogs/nns often/rb laughs/vbz ./.', 'laughs');
  assert.deepEqual(y.words, ['the', 'author', 'of', 'the', 'books', 'about', 'dogs', 'often']);
  assert.equal(y.label, 0);
  assert.equal(y.subject, 1);
  assert.equal(y.attractors, 2);
  // A compound noun: the head is the last noun of the run; an intervening noun of the same number is no attractor.
  const z = exampleAt('The/at county/nn jury/nn of/in the/at city/nn has/hvz met/vbn ./.', 'has');
  assert.equal(z.subject, 2);
  assert.equal(z.intervening, 1);
  assert.equal(z.attractors, 0);
});

test('which verbs give a number: pronoun subjects, there, questions and non-finite base forms are dropped', () => {
  const toks = T('They/ppss are/ber here/rb and/cc there/ex are/ber dogs/nns that/wps have/hv to/to go/vb ,/, but/cc the/at dogs/nns have/hv left/vbn ./.');
  const labels = toks.map((_, i) => verbNumber(toks, i));
  // they are (pronoun), there are, to go: no; that have: base form after a relative pronoun: no; dogs have: plural.
  assert.deepEqual(labels.map((l, i) => (l === null ? null : `${toks[i]!.word}@${i}:${l}`)).filter(Boolean), ['have@15:1']);
  // Questions: the verb comes before its subject.
  assert.deepEqual(numberExamplesFromTagged(T('Is/bez the/at dog/nn here/rb ?/.'), 't'), []);
  assert.deepEqual(numberExamplesFromTagged(T('What/wdt are/ber you/ppss doing/vbg ?/.'), 't'), []);
  // Modal + base form is not a present plural.
  assert.deepEqual(numberExamplesFromTagged(T('The/at dogs/nns will/md run/vb ./.'), 't'), []);
  // A relative pronoun subject: the label is the verb's form, the subject its antecedent.
  const r = exampleAt('The/at man/nn who/wps is/bez here/rb likes/vbz dogs/nns ./.', 'is');
  assert.equal(r.label, 0);
  assert.equal(r.subject, 1);
  assert.equal(r.attractors, 0);
  // Negated contractions keep their number.
  assert.equal(exampleAt("The/at dog/nn doesn't/doz* bark/vb ./.", "doesn't").label, 0);
});

test('subject head: embedded relative clauses, complement clauses, coordinated clauses, fronted phrases', () => {
  // Object relative clause inside the subject: its verb closes it; the head is before it.
  const a = exampleAt('The/at dogs/nns that/wps the/at man/nn likes/vbz are/ber big/jj ./.', 'are');
  assert.equal(a.subject, 1);
  assert.equal(a.attractors, 1);
  // The relative clause's own verb: its subject is "man", no attractor.
  const b = exampleAt('The/at dogs/nns that/wps the/at man/nn likes/vbz are/ber big/jj ./.', 'likes');
  assert.equal(b.subject, 4);
  assert.equal(b.attractors, 0);
  // Complement clause: the subject is after "that".
  const c = exampleAt('The/at jury/nn said/vbd that/cs the/at laws/nns are/ber old/jj ./.', 'are');
  assert.equal(c.subject, 5);
  assert.equal(c.attractors, 0);
  // Coordinated clause: "… drains …, and a tank is".
  const d = exampleAt('The/at panel/nn drains/vbz into/in the/at heads/nns and/cc a/at water/nn tank/nn is/bez full/jj ./.', 'is');
  assert.equal(d.subject, 9);
  assert.equal(d.attractors, 0);
  // But a conjunction inside a noun phrase is no clause boundary.
  const e = exampleAt('A/at glimpse/nn of/in deer/nns or/cc even/rb bears/nns is/bez rare/jj ./.', 'is');
  assert.equal(e.subject, 1);
  assert.equal(e.attractors, 2);
  // Fronted PP with a comma.
  const f = exampleAt('In/in the/at cities/nns ,/, the/at rule/nn is/bez clear/jj ./.', 'is');
  assert.equal(f.subject, 5);
  assert.equal(f.attractors, 0);
  // Parentheses are skipped (the verb after ")" is no candidate: its subject cannot be told from tags).
  assert.equal(subjectHead(T('The/at rates/nns (/( a/at tax/nn ;/. )/) are/ber high/jj ./.'), 7), 1);
  assert.deepEqual(numberExamplesFromTagged(T('The/at rates/nns (/( a/at tax/nn )/) are/ber high/jj ./.'), 't'), []);
  assert.equal(subjectHead(T('Who/wps is/bez here/rb'), 1), null);
});

test('templated examples: cut before the verb, label from the controller, no Marvin & Linzen sentence', () => {
  const xs = templatedNumberExamples(200, 3);
  assert.equal(xs.length, 200);
  assert.deepEqual(templatedNumberExamples(20, 3), xs.slice(0, 20), 'deterministic');
  for (const x of xs) {
    assert.ok(x.subject !== null && x.subject < x.words.length);
    assert.ok(x.source.startsWith('template:'));
    assert.ok(!x.source.includes('question') && !x.source.includes('existential') && !x.source.includes('reflexive'));
  }
  assert.ok(xs.some((x) => x.label === 1) && xs.some((x) => x.label === 0));
  assert.ok(xs.some((x) => x.attractors === 1));
});

test('Brown documents split 8:1:1 by document', () => {
  const counts = { train: 0, dev: 0, test: 0 };
  for (let k = 0; k < 500; k++) counts[brownSplitOf(k)]++;
  assert.deepEqual(counts, { train: 400, dev: 50, test: 50 });
});
