import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMarvinLinzen, marvinLinzenWords } from '../src/data/marvinLinzen.js';
import { loadSst2, loadMr, loadTrec } from '../src/data/corpora.js';
import { mulberry32 } from '../src/data/random.js';
import { TemplateGenerator } from '../src/data/templates.js';
import { basicWords, buildAgreementVocab, buildVocab, readVocabTxt, SPECIAL_TOKENS, wordpiece, writeVocabTxt } from '../src/data/vocab.js';

// An independent greedy longest-match-first WordPiece (BERT's algorithm), written out again here.
function greedy(word: string, vocab: Set<string>): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < word.length) {
    let j = word.length;
    while (j > i && !vocab.has((i ? '##' : '') + word.slice(i, j))) j--;
    if (j === i) return null;
    out.push((i ? '##' : '') + word.slice(i, j));
    i = j;
  }
  return out;
}

test('basicWords on hand-tokenised examples', () => {
  assert.deepEqual(basicWords("Don't stop, Café!"), ['don', "'", 't', 'stop', ',', 'cafe', '!']);
  assert.deepEqual(basicWords('  the  AUTHORS\tlaugh\n'), ['the', 'authors', 'laugh']);
  assert.deepEqual(basicWords("wo n't re-imagining 1930s naïve"), ['wo', 'n', "'", 't', 're', '-', 'imagining', '1930s', 'naive']);
  assert.deepEqual(basicWords('a\u0000b \u4e2d\u6587'), ['ab', '\u4e2d', '\u6587']);
});

test('buildVocab on a tiny corpus: layout, frequency order, minCount, required, maxSize', () => {
  const texts = ['the cat sat .', 'the cat ran', 'the dog ran', 'The Dog!', 'the zebra'];
  // counts (by hand): the 5, cat 2, dog 2, ran 2, sat 1, zebra 1, "." 1, "!" 1
  const v = buildVocab(texts, { minCount: 2, required: ['moose'], suffixes: [] });
  assert.deepEqual(v.tokens.slice(0, 5), [...SPECIAL_TOKENS]);
  // 26 letters + 10 digits + 32 ASCII punctuation + 36 ## forms
  const nChars = 26 + 10 + 32 + 36;
  assert.deepEqual(v.tokens.slice(5 + nChars), ['moose', 'the', 'cat', 'dog', 'ran']);
  assert.equal(v.tokens.length, 5 + nChars + 5);
  assert.equal(v.distinctWords, 8);
  // whole-token occurrences: the 5 + cat 2 + dog 2 + ran 2 + "." + "!" = 13 of 15
  assert.equal(v.wordCoverage, 13 / 15);
  const small = buildVocab(texts, { minCount: 1, maxSize: 5 + nChars + 2, suffixes: [] });
  assert.deepEqual(small.tokens.slice(-2), ['the', 'cat']);
  assert.throws(() => buildVocab(texts, { required: ['two words'] }), /required word "two words"/);
  assert.throws(() => buildVocab(texts, { required: ['Upper'] }), /required word "Upper"/);
  assert.throws(() => buildVocab(texts, { maxSize: 50 }), /> maxSize 50/);
});

test('vocab.txt round trip; one token a line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vocab-'));
  const tokens = buildVocab(['a b c', 'a b'], { minCount: 1 }).tokens;
  const p = join(dir, 'vocab.txt');
  writeVocabTxt(p, tokens);
  const text = readFileSync(p, 'utf8');
  assert.equal(text.split('\n').length - 1, tokens.length);
  assert.equal(text.split('\n')[4], '[MASK]');
  assert.deepEqual(readVocabTxt(p), tokens);
  assert.throws(() => writeVocabTxt(p, ['a', 'a']), /appears twice/);
  assert.throws(() => writeVocabTxt(p, ['a b']), /whitespace/);
  assert.throws(() => readVocabTxt(join(dir, 'none.txt')), /not found/);
});

let agreement: ReturnType<typeof buildAgreementVocab> | undefined;
function agreementVocab(): ReturnType<typeof buildAgreementVocab> {
  agreement ??= buildAgreementVocab({ templateSentences: 20000 });
  return agreement;
}

test('the agreement vocabulary: size, every M&L word whole, no [UNK] for lower-case ASCII words', () => {
  const v = agreementVocab();
  assert.equal(v.tokens.length, 8000);
  assert.equal(new Set(v.tokens).size, v.tokens.length);
  assert.deepEqual(v.tokens.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  const set = new Set(v.tokens);
  for (const w of marvinLinzenWords()) assert.ok(set.has(w), w);
  assert.ok(v.wordCoverage > 0.9, `coverage ${v.wordCoverage}`);
  const rand = mulberry32(5);
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 3000; i++) {
    const len = 1 + Math.floor(rand() * 20);
    let w = '';
    for (let k = 0; k < len; k++) w += letters[Math.floor(rand() * (i % 2 ? 26 : 36))];
    const pieces = greedy(w, set);
    assert.ok(pieces, w);
    assert.equal(pieces.map((p) => p.replace(/^##/, '')).join(''), w);
    assert.deepEqual(wordpiece(w, set), pieces);
  }
  assert.deepEqual(wordpiece('x'.repeat(101), set), ['[UNK]']);
});

// src/io/tokenizer.ts is written by another engineer; when it is there, check against it.
const tokenizerPath = fileURLToPath(new URL('../src/io/tokenizer.' + (import.meta.url.endsWith('.ts') ? 'ts' : 'js'), import.meta.url));
test(
  'with the project WordPiece tokenizer: every M&L candidate is one token; word splitting agrees',
  { skip: !existsSync(tokenizerPath) && 'src/io/tokenizer not present' },
  async () => {
    const mod = (await import(tokenizerPath)) as {
      WordPieceTokenizer: { fromVocabFile(p: string): { tokenize(t: string): string[]; words(t: string): string[] } };
    };
    const dir = mkdtempSync(join(tmpdir(), 'vocab-'));
    writeVocabTxt(join(dir, 'vocab.txt'), agreementVocab().tokens);
    const tok = mod.WordPieceTokenizer.fromVocabFile(join(dir, 'vocab.txt'));
    const { items } = await loadMarvinLinzen();
    const candidates = new Set<string>();
    for (const it of items) {
      candidates.add(it.good);
      candidates.add(it.bad);
    }
    // The candidate words, listed by hand from the files' pairs (python3 over the .jsonl.gz).
    assert.deepEqual([...candidates].sort(), [
      'admire',
      'admires',
      'are',
      'bring',
      'brings',
      'hate',
      'hates',
      'herself',
      'himself',
      'interest',
      'interests',
      'is',
      'laugh',
      'laughs',
      'like',
      'likes',
      'love',
      'loves',
      'smile',
      'smiles',
      'swim',
      'swims',
      'themselves',
    ]);
    for (const c of candidates) assert.deepEqual(tok.tokenize(c), [c]);
    // A whole masked item tokenises word for word, [MASK] kept.
    const it = items[items.length - 1]!;
    const words = [...it.prefixWords, '[MASK]', ...it.suffixWords];
    assert.deepEqual(tok.tokenize(words.join(' ')), words);
    // Template sentences tokenise word for word (so a target's token index is its word index + 1 after [CLS]).
    const gen = new TemplateGenerator({ seed: 9 });
    for (let i = 0; i < 3000; i++) {
      const ex = gen.next();
      assert.deepEqual(tok.tokenize(ex.words.join(' ')), ex.words);
    }
    // Our counting (basicWords) splits natural text exactly as the tokenizer's basic step.
    const sample = [...loadSst2('dev'), ...loadMr().slice(0, 3000), ...loadTrec('test')].map((x) => x.text);
    sample.push("Don't stop, Café! naïve 1930s — “quoted” \u4e2d\u6587");
    for (const s of sample) assert.deepEqual(basicWords(s), tok.words(s), s);
  },
);

// The natural-text loaders that feed the vocabulary (src/data/corpora.ts); counts from `wc -l` and the
// shared README, not from this code.
test('corpora: SST-2, MR, TREC, Brown and sentiment fixtures load with their documented sizes', async () => {
  const { loadBrown, loadLabeledLines, loadSentimentFixture, untagBrownLine } = await import('../src/data/corpora.js');
  assert.deepEqual([loadSst2('train').length, loadSst2('dev').length, loadSst2('test').length], [6920, 872, 1821]);
  const mr = loadMr();
  assert.equal(mr.length, 10662);
  assert.deepEqual([...new Set(mr.map((x) => x.label))].sort(), [0, 1]);
  // MR is Windows-1252: byte 0x85 is an ellipsis, not a line break.
  assert.ok(mr.some((x) => x.text.includes('\u2026the maudlin way')));
  const trec = loadTrec('train');
  assert.equal(trec.length, 5452);
  assert.equal(loadTrec('test').length, 500);
  assert.deepEqual([...new Set(trec.map((x) => x.label))].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(trec[1]?.text, 'what films featured the character popeye doyle ?');
  assert.equal(loadTrec('train', { lowercase: false })[1]?.text, 'What films featured the character Popeye Doyle ?');
  assert.equal(untagBrownLine("\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' 1/2/cd ./."), 'the jury said " no evidence " 1/2 .');
  const brown = loadBrown({ categories: ['a'], maxSentences: 5 });
  assert.equal(brown.length, 5);
  assert.ok(brown[0]?.startsWith('the fulton county grand jury said friday'));
  assert.ok(!/\/[a-z$-]+( |$)/.test(brown.join(' ')), 'a POS tag survived');
  for (const n of ['imdb', 'yelp', 'amazon'] as const) {
    const d = loadSentimentFixture(n);
    assert.equal(d.length, 1000, n);
    assert.equal(d.filter((x) => x.label === 1).length, 500, n);
  }
  assert.throws(() => loadLabeledLines('/nonexistent/dir/train.txt'), /file not found: \/nonexistent\/dir\/train\.txt/);
});
