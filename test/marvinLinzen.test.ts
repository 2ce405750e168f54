import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  defaultMarvinLinzenDir,
  evaluateAgreement,
  evaluateAgreementBatched,
  listConstructions,
  loadMarvinLinzen,
  loadTerminals,
  marvinLinzenSentences,
  marvinLinzenWords,
  pairToItem,
  type MLItem,
} from '../src/data/marvinLinzen.js';

// Counts read off the files with an independent tool (python3 + gzip, `wc -l`), not by this code.
const EXPECTED_COUNTS: Record<string, number> = {
  obj_rel_across_anim: 11200,
  obj_rel_across_inanim: 11200,
  obj_rel_within_anim: 11200,
  obj_rel_within_inanim: 11200,
  prep_anim: 16800,
  prep_inanim: 5600,
  reflexives_across: 22400,
  sent_comp: 1680,
  simple_agrmt: 140,
  simple_reflexives: 280,
  subj_rel: 11200,
  vp_coord: 840,
};

test('the shared folder is found and lists the twelve constructions', () => {
  const dir = defaultMarvinLinzenDir();
  assert.ok(existsSync(dir), dir);
  assert.deepEqual(listConstructions(dir), Object.keys(EXPECTED_COUNTS).sort());
});

test('loading the real files: every pair differs in exactly one word; counts per construction', async () => {
  const set = await loadMarvinLinzen();
  const total = Object.values(EXPECTED_COUNTS).reduce((a, b) => a + b, 0);
  assert.equal(set.pairsRead, total);
  assert.equal(set.skipped.total, 0);
  assert.equal(set.items.length, total);
  const counts: Record<string, number> = {};
  for (const it of set.items) counts[it.construction] = (counts[it.construction] ?? 0) + 1;
  assert.deepEqual(counts, EXPECTED_COUNTS);
  // Every item reassembles into its sentences with single-word candidates.
  for (const it of set.items.slice(0, 2000)) {
    assert.ok(!/\s/.test(it.good) && !/\s/.test(it.bad));
    assert.notEqual(it.good, it.bad);
  }
});

test('pair alignment on known examples', () => {
  const a = pairToItem({
    construction: 'obj_rel_across_anim',
    condition: 'plur_MS_MV_sing_ES_EV',
    grammatical: 'the authors that the security guard likes laugh',
    ungrammatical: 'the authors that the security guard likes laughs',
  });
  assert.deepEqual(a, {
    construction: 'obj_rel_across_anim',
    condition: 'plur_MS_MV_sing_ES_EV',
    prefixWords: ['the', 'authors', 'that', 'the', 'security', 'guard', 'likes'],
    suffixWords: [],
    good: 'laugh',
    bad: 'laughs',
    kind: 'verb',
  });
  const b = pairToItem({
    construction: 'obj_rel_within_inanim',
    condition: 'plur_ES_EV_plur_IS_IV',
    grammatical: 'the movies that the security guards like are good',
    ungrammatical: 'the movies that the security guards likes are good',
  });
  assert.ok(!('skip' in b));
  assert.deepEqual([b.prefixWords, b.good, b.bad, b.suffixWords], [['the', 'movies', 'that', 'the', 'security', 'guards'], 'like', 'likes', ['are', 'good']]);
  const c = pairToItem({
    construction: 'simple_reflexives',
    condition: 'plur_MS_ANPHR',
    grammatical: 'the authors hurt themselves',
    ungrammatical: 'the authors hurt himself',
  });
  assert.ok(!('skip' in c));
  assert.deepEqual([c.prefixWords, c.good, c.bad, c.kind], [['the', 'authors', 'hurt'], 'themselves', 'himself', 'reflexive']);
  assert.deepEqual(pairToItem({ construction: 'x', condition: 'y', grammatical: 'the cats are here', ungrammatical: 'the cat is here' }), {
    skip: 'multi-word-difference',
  });
  assert.deepEqual(pairToItem({ construction: 'x', condition: 'y', grammatical: 'the cat is', ungrammatical: 'the cat is here' }), { skip: 'length-mismatch' });
  assert.deepEqual(
    pairToItem({ construction: 'x', condition: 'y', grammatical: 'the dog laughs', ungrammatical: 'the dog laugh' }, (w) => w !== 'laugh'),
    { skip: 'not-single-token' },
  );
});

test('the real simple_agrmt file starts with the expected pair', async () => {
  const set = await loadMarvinLinzen(undefined, { constructions: ['simple_agrmt'] });
  assert.deepEqual(set.items[0], {
    construction: 'simple_agrmt',
    condition: 'sing_MS_MV',
    prefixWords: ['the', 'author'],
    suffixWords: [],
    good: 'laughs',
    bad: 'laugh',
    kind: 'verb',
  });
});

test('skipped pairs are counted and reported (synthetic folder)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-'));
  const lines = [
    { construction: 'toy', condition: 'sing_MS_MV', grammatical: 'the cat sleeps', ungrammatical: 'the cat sleep' },
    { construction: 'toy', condition: 'sing_MS_MV', grammatical: 'the cats are here', ungrammatical: 'the cat is here' },
    { construction: 'toy', condition: 'plur_MS_MV', grammatical: 'the cats sleep', ungrammatical: 'the cats sleeps' },
  ];
  writeFileSync(join(dir, 'toy.jsonl.gz'), gzipSync(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  const set = await loadMarvinLinzen(dir);
  assert.equal(set.pairsRead, 3);
  assert.equal(set.items.length, 2);
  assert.equal(set.skipped.byReason['multi-word-difference'], 1);
  assert.equal(set.skipped.examples[0]?.pair.grammatical, 'the cats are here');
  await assert.rejects(loadMarvinLinzen(dir, { constructions: ['nope'] }), /unknown Marvin & Linzen construction "nope"/);
  await assert.rejects(loadMarvinLinzen(join(dir, 'missing')), /not found/);
});

test('FLOWLENS_SHARED points the default folder elsewhere', async () => {
  const shared = mkdtempSync(join(tmpdir(), 'shared-'));
  const dir = join(shared, 'data', 'marvin-linzen');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'toy.jsonl.gz'),
    gzipSync(JSON.stringify({ construction: 'toy', condition: 'sing_MS_MV', grammatical: 'the cat sleeps', ungrammatical: 'the cat sleep' }) + '\n'),
  );
  const before = process.env.FLOWLENS_SHARED;
  process.env.FLOWLENS_SHARED = shared;
  try {
    assert.equal(defaultMarvinLinzenDir(), dir);
    const set = await loadMarvinLinzen();
    assert.deepEqual(
      set.items.map((i) => i.good),
      ['sleeps'],
    );
  } finally {
    if (before === undefined) delete process.env.FLOWLENS_SHARED;
    else process.env.FLOWLENS_SHARED = before;
  }
});

test('maxPerConstruction samples deterministically, balanced over conditions', async () => {
  const a = await loadMarvinLinzen(undefined, { constructions: ['prep_anim', 'simple_agrmt'], maxPerConstruction: 100, seed: 3 });
  const b = await loadMarvinLinzen(undefined, { constructions: ['prep_anim', 'simple_agrmt'], maxPerConstruction: 100, seed: 3 });
  const c = await loadMarvinLinzen(undefined, { constructions: ['prep_anim', 'simple_agrmt'], maxPerConstruction: 100, seed: 4 });
  assert.deepEqual(a.items, b.items);
  assert.notDeepEqual(a.items, c.items);
  const per: Record<string, number> = {};
  for (const it of a.items) per[`${it.construction}/${it.condition}`] = (per[`${it.construction}/${it.condition}`] ?? 0) + 1;
  // prep_anim has 4 conditions → 25 each; simple_agrmt has 2 → 50 each.
  assert.deepEqual(per, {
    'prep_anim/sing_MS_MV_sing_ES': 25,
    'prep_anim/plur_MS_MV_sing_ES': 25,
    'prep_anim/sing_MS_MV_plur_ES': 25,
    'prep_anim/plur_MS_MV_plur_ES': 25,
    'simple_agrmt/sing_MS_MV': 50,
    'simple_agrmt/plur_MS_MV': 50,
  });
});

// The word's grammatical number, decided from its form alone: reflexives by lexeme; the verbs of the
// set (laugh(s), is/are, like(s), bring(s) …) are plural exactly in the base form (no final -s).
function isPluralForm(w: string): boolean {
  if (w === 'themselves') return true;
  if (w === 'himself' || w === 'herself') return false;
  return !w.endsWith('s');
}

test('evaluateAgreement with a scorer that always prefers the plural form', async () => {
  const set = await loadMarvinLinzen();
  const seen: { words: string[]; maskIndex: number }[] = [];
  const report = await evaluateAgreement(set.items, async (words, maskIndex, [good, bad]) => {
    if (seen.length < 3) seen.push({ words, maskIndex });
    return [isPluralForm(good) ? 1 : 0, isPluralForm(bad) ? 1 : 0];
  });
  assert.equal(seen[0]?.words[seen[0].maskIndex], '[MASK]');
  // Independent expectation: in every condition name the first number is that of the noun the target
  // agrees with (e.g. plur_MS_MV_sing_ES_EV: main subject plural, target = main verb), so the scorer is
  // right on every "plur_…" item and wrong on every "sing_…" item.
  for (const row of report.byCondition) {
    const expected = row.condition.startsWith('plur_') ? 1 : 0;
    assert.equal(row.accuracy, expected, `${row.construction}/${row.condition}`);
    const numbers = row.condition.split('_').filter((x) => x === 'sing' || x === 'plur');
    assert.equal(row.mismatch, new Set(numbers).size === 2, row.condition);
  }
  assert.equal(report.byCondition.filter((r) => r.mismatch).length, 9 * 2);
  // The batched variant gives the same report.
  let calls = 0;
  const batched = await evaluateAgreementBatched(
    set.items,
    async (qs) => {
      calls++;
      return qs.map((q) => [isPluralForm(q.candidates[0]) ? 1 : 0, isPluralForm(q.candidates[1]) ? 1 : 0] as [number, number]);
    },
    { batchSize: 1000 },
  );
  assert.deepEqual(batched, report);
  assert.equal(calls, Math.ceil(set.items.length / 1000));
  // Nine constructions with four conditions, three (simple_agrmt, simple_reflexives, vp_coord) with two.
  assert.equal(report.byCondition.length, 9 * 4 + 3 * 2);
  for (const row of report.byConstruction) {
    assert.equal(row.n, EXPECTED_COUNTS[row.construction]);
    // Each construction's conditions are equally frequent and half of them start with plur_.
    assert.equal(row.accuracy, 0.5, row.construction);
  }
  assert.equal(report.overall.accuracy, 0.5);
  assert.equal(report.ties, 0);
});

test('evaluateAgreement counts ties as wrong and rejects malformed scores', async () => {
  const items: MLItem[] = [
    { construction: 'c', condition: 'sing', prefixWords: ['the', 'cat'], suffixWords: [], good: 'sleeps', bad: 'sleep', kind: 'verb' },
    { construction: 'c', condition: 'plur', prefixWords: ['the', 'cats'], suffixWords: ['now'], good: 'sleep', bad: 'sleeps', kind: 'verb' },
  ];
  const r = await evaluateAgreement(items, async () => [0, 0]);
  assert.deepEqual(r.byConstruction, [{ construction: 'c', n: 2, accuracy: 0 }]);
  assert.equal(r.ties, 2);
  const got: string[] = [];
  await evaluateAgreement(items, async (w, i) => {
    got.push(`${w.join(' ')}@${i}`);
    return [1, 0];
  });
  assert.deepEqual(got, ['the cat [MASK]@2', 'the cats [MASK] now@2']);
  await assert.rejects(
    evaluateAgreement(items, async () => [NaN, 0]),
    /expected two finite numbers/,
  );
  await assert.rejects(
    evaluateAgreementBatched(items, async () => [[1, 0]], { batchSize: 2 }),
    /1 results for 2 queries/,
  );
});

test('sentence set and word list', () => {
  const s = marvinLinzenSentences();
  assert.ok(s.has('the author laughs') && s.has('the author laugh'));
  assert.ok(s.has('the mechanics said the authors laughs'));
  const words = marvinLinzenWords();
  for (const w of ['laugh', 'laughs', 'are', 'is', 'themselves', 'himself', 'herself', 'security', 'taxi', 'ever', 'authors', 'bankers'])
    assert.ok(words.includes(w), w);
  const t = loadTerminals();
  assert.deepEqual(t.AgreementTerminals.ANPHR, ['himself', 'herself']);
});
