import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arcsFromLinks, cleanParserWord, linkToRelation, parsePostscript, parseSentences } from '../src/data/linkGrammar.js';

// link-parser 5.x output for "the quick brown fox quickly jumps over the lazy dog ." (-postscript -graphics=0).
const PS = `[(LEFT-WALL)(the)(quick.a)(brown.a)(fox.n)(quickly)(jumps.v)(over)(the)(lazy.a)
(dog.n)(.)]
[[0 11 0 (Xp)][0 6 0 (WV)][0 4 0 (Wd)][4 6 0 (Ss*s)][1 4 -2130901744 (Ds**x)][2 4 1 (A)][3 4 1 (A)]
[5 6 1 (Em)][6 7 2 (MVp)][7 10 2 (Js)][8 10 3 (Ds**x)][9 10 4 (A)]]`;

test('link labels map to the four relations with the documented directions', () => {
  assert.deepEqual(linkToRelation('Ss*s'), { relation: 'nsubj', dependentIsLeft: true });
  assert.deepEqual(linkToRelation('SIs'), { relation: 'nsubj', dependentIsLeft: false });
  assert.deepEqual(linkToRelation('Ost'), { relation: 'obj', dependentIsLeft: false });
  assert.deepEqual(linkToRelation('A'), { relation: 'amod', dependentIsLeft: true });
  assert.deepEqual(linkToRelation('Em'), { relation: 'advmod', dependentIsLeft: true });
  assert.deepEqual(linkToRelation('EA'), { relation: 'advmod', dependentIsLeft: true });
  assert.deepEqual(linkToRelation('MVa'), { relation: 'advmod', dependentIsLeft: false });
  for (const none of ['MVp', 'Ds**x', 'AN', 'Wd', 'Xp', 'Js', 'AJla', 'EBb', 'SJlp']) assert.equal(linkToRelation(none), null, none);
  assert.equal(cleanParserWord('dog.n'), 'dog');
  assert.equal(cleanParserWord('[unflinchingly]'), 'unflinchingly');
  assert.equal(cleanParserWord("'s.v"), "'s");
  assert.equal(cleanParserWord('.'), '.');
});

test('postscript output → arcs between the input words (hand-read from the parse)', () => {
  const { words, links } = parsePostscript(PS);
  assert.equal(words.length, 12);
  assert.equal(links.length, 12);
  const p = arcsFromLinks('the quick brown fox quickly jumps over the lazy dog .', words, links);
  const got = p.arcs.map((a) => `${p.words[a.dependent]} -${a.relation}-> ${p.words[a.head]}`).sort();
  assert.deepEqual(got, ['brown -amod-> fox', 'fox -nsubj-> jumps', 'lazy -amod-> dog', 'quick -amod-> fox', 'quickly -advmod-> jumps'].sort());
  assert.throws(() => parsePostscript('nothing here'), /no word list/);
});

test('the real link-parser parses, and parses are cached on disk', { skip: !existsSync('/usr/bin/link-parser') && 'link-parser not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-'));
  try {
    const cacheFile = join(dir, 'c.jsonl');
    const s = ['he likes the movie very much', "the film does n't work ."];
    const p = parseSentences(s, { cacheFile });
    const rel = (k: number) => p[k].arcs.map((a) => `${p[k].words[a.dependent]} -${a.relation}-> ${p[k].words[a.head]}`);
    assert.ok(rel(0).includes('he -nsubj-> likes'), rel(0).join('; '));
    assert.ok(rel(0).includes('movie -obj-> likes'), rel(0).join('; '));
    assert.ok(rel(1).includes('film -nsubj-> does'), rel(1).join('; '));
    assert.equal(readFileSync(cacheFile, 'utf8').trim().split('\n').length, 2);
    // From the cache: a binary that does not exist is never called.
    const again = parseSentences(s, { cacheFile, binary: '/nonexistent/link-parser' });
    assert.deepEqual(again, p);
    assert.throws(() => parseSentences(['a new sentence'], { cacheFile, binary: '/nonexistent/link-parser' }), /cannot run the link-grammar parser/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
