import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { defaultMarvinLinzenDir } from '../src/data/marvinLinzen.js';
import {
  TEMPLATE_KINDS,
  TemplateGenerator,
  lexiconWords,
  pastParticiple,
  pastTense,
  pluralize,
  presentParticiple,
  thirdSingular,
  type TemplateExample,
} from '../src/data/templates.js';

// The evaluation sentences, read here directly with zlib (not through the generator's own loader).
function evaluationSentences(): Set<string> {
  const dir = defaultMarvinLinzenDir();
  const out = new Set<string>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.jsonl.gz'))) {
    for (const line of gunzipSync(readFileSync(join(dir, f)))
      .toString('utf8')
      .split('\n')) {
      if (!line.trim()) continue;
      const d = JSON.parse(line) as { grammatical: string; ungrammatical: string };
      out.add(d.grammatical);
      out.add(d.ungrammatical);
    }
  }
  return out;
}

// Number of a form decided by hand-written rules, independent of the generator's morphology.
const PAIRS: [string, string][] = [
  ['is', 'are'],
  ['was', 'were'],
  ['has', 'have'],
  ['does', 'do'],
];
/** For a verb pair, which of the two is the 3rd-singular form (undefined when they are not a number pair). */
function singularOfVerbPair(a: string, b: string): string | undefined {
  for (const [sg, pl] of PAIRS) {
    if (a === sg && b === pl) return a;
    if (a === pl && b === sg) return b;
  }
  const isThird = (sg: string, base: string): boolean => sg === base + 's' || sg === base + 'es' || (base.endsWith('y') && sg === base.slice(0, -1) + 'ies');
  if (isThird(a, b)) return a;
  if (isThird(b, a)) return b;
  return undefined;
}
function nounIsPlural(w: string): boolean {
  return w === 'children' || w === 'people' || w.endsWith('men') || w.endsWith('s');
}

test('morphology on hand-checked forms', () => {
  assert.deepEqual(['author', 'taxi driver', 'city', 'box', 'church', 'day', 'man', 'gentleman', 'child', 'person'].map(pluralize), [
    'authors',
    'taxi drivers',
    'cities',
    'boxes',
    'churches',
    'days',
    'men',
    'gentlemen',
    'children',
    'people',
  ]);
  assert.deepEqual(['laugh', 'cry', 'watch', 'miss', 'have', 'go', 'play', 'fix'].map(thirdSingular), [
    'laughs',
    'cries',
    'watches',
    'misses',
    'has',
    'goes',
    'plays',
    'fixes',
  ]);
  assert.deepEqual(['laugh', 'smile', 'cry', 'stop', 'play', 'run', 'teach', 'hurt'].map(pastTense), [
    'laughed',
    'smiled',
    'cried',
    'stopped',
    'played',
    'ran',
    'taught',
    'hurt',
  ]);
  assert.deepEqual(['see', 'write', 'help'].map(pastParticiple), ['seen', 'written', 'helped']);
  assert.deepEqual(['run', 'smile', 'see', 'lie', 'swim', 'agree', 'talk'].map(presentParticiple), [
    'running',
    'smiling',
    'seeing',
    'lying',
    'swimming',
    'agreeing',
    'talking',
  ]);
});

test('determinism by seed', () => {
  const a = new TemplateGenerator({ seed: 7 }).generate(2000);
  const b = new TemplateGenerator({ seed: 7 }).generate(2000);
  const c = new TemplateGenerator({ seed: 8 }).generate(2000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map((e) => e.words.join(' ')),
    c.map((e) => e.words.join(' ')),
  );
});

test('every target: the word at its index, good/bad differ in number, good agrees with its controller', () => {
  const g = new TemplateGenerator({ seed: 11 });
  const xs = g.generate(20000);
  let nTargets = 0;
  let nAttractor = 0;
  let nRefl = 0;
  let noTarget = 0;
  const seenTemplates = new Set<string>();
  for (const ex of xs) {
    seenTemplates.add(ex.template);
    for (const t of ex.targets) {
      nTargets++;
      const ctx = `${ex.template}: "${ex.words.join(' ')}" @${t.index}`;
      assert.equal(ex.words[t.index], t.good, ctx);
      assert.notEqual(t.good, t.bad, ctx);
      let goodIsPlural: boolean;
      if (t.kind === 'reflexive') {
        nRefl++;
        const pair = [t.good, t.bad].sort().join('/');
        assert.ok(pair === 'himself/themselves' || pair === 'herself/themselves', ctx);
        goodIsPlural = t.good === 'themselves';
      } else {
        const sg = singularOfVerbPair(t.good, t.bad);
        assert.ok(sg !== undefined, `not a number pair: ${t.good}/${t.bad} in ${ctx}`);
        goodIsPlural = sg !== t.good;
      }
      const controller = ex.words[t.controller] as string;
      assert.equal(goodIsPlural, nounIsPlural(controller), `${ctx}: controller "${controller}"`);
      assert.equal(t.plural, goodIsPlural, ctx);
      if (ex.template !== 'question' && ex.template !== 'existential') assert.ok(t.controller < t.index, ctx);
      if (t.attractor) {
        nAttractor++;
        // Some noun strictly between controller and target has the other number (checked by form).
        const lo = Math.min(t.controller, t.index);
        const hi = Math.max(t.controller, t.index);
        const between = ex.words.slice(lo + 1, hi);
        assert.ok(
          between.some(
            (w) =>
              nounIsPlural(w) !== goodIsPlural &&
              g.lexicon.animate.concat(g.lexicon.inanimate).some((n) => (goodIsPlural ? n.sg : n.pl).split(' ').pop() === w),
          ),
          ctx,
        );
      }
    }
    if (ex.template === 'plain') assert.equal(ex.targets.length, 0, ex.words.join(' '));
    else if (ex.targets.length === 0) noTarget++;
  }
  // Non-plain templates put their main verb in the past now and then (no target), rarely.
  assert.ok(noTarget / xs.length < 0.05, `examples without target ${noTarget}`);
  assert.deepEqual([...seenTemplates].sort(), [...TEMPLATE_KINDS].sort());
  assert.ok(nTargets > 20000);
  assert.ok(nAttractor / nTargets > 0.1, `attractor share ${nAttractor / nTargets}`);
  assert.ok(nRefl / nTargets > 0.05, `reflexive share ${nRefl / nTargets}`);
});

test('no generated sentence equals any Marvin & Linzen sentence (grammatical or not); the filter is needed', () => {
  const ml = evaluationSentences();
  assert.ok(ml.size > 170000);
  const g = new TemplateGenerator({ seed: 3 });
  const examples: TemplateExample[] = g.generate(60000);
  // A biased generator (only "the", no period, simple templates) to make collisions likely.
  const biased = { seed: 5, weights: { simple: 1, reflexive: 1, vp_coord: 1 }, theProb: 1, periodProb: 0 };
  examples.push(...new TemplateGenerator(biased).generate(30000));
  for (const ex of examples) {
    const s = ex.words.join(' ');
    assert.ok(!ml.has(s) && !ml.has(s.replace(/ [.?]$/, '')), s);
  }
  // Without the exclusion, the same biased generator does produce evaluation sentences.
  const unfiltered = new TemplateGenerator({ ...biased, excludeMarvinLinzen: false }).generate(30000);
  assert.ok(unfiltered.some((ex) => ml.has(ex.words.join(' '))));
});

test('extra exclusions, weights and errors', () => {
  const first = new TemplateGenerator({ seed: 1, weights: { existential: 1 } }).generate(50);
  assert.ok(first.every((e) => e.template === 'existential'));
  const banned = new Set(first.map((e) => e.words.join(' ')));
  const again = new TemplateGenerator({ seed: 1, weights: { existential: 1 }, exclude: banned }).generate(50);
  assert.ok(again.every((e) => !banned.has(e.words.join(' '))));
  assert.throws(() => new TemplateGenerator({ seed: 1, weights: { simple: 0 } }), /all template weights are 0/);
  assert.throws(() => new TemplateGenerator({ seed: 1, weights: { nope: 1 } as never }), /unknown template "nope"/);
  assert.throws(() => new TemplateGenerator({} as never), /seed/);
});

test('every generated word is in lexiconWords; the lexicon holds the M&L nouns and some of our own', () => {
  const g = new TemplateGenerator({ seed: 4 });
  const lw = new Set(lexiconWords(g.lexicon));
  for (const ex of g.generate(20000)) for (const w of ex.words) assert.ok(lw.has(w), w);
  for (const w of ['author', 'authors', 'guard', 'security', 'taxi', 'movies', 'laughs', 'laugh', 'themselves', 'congratulated', 'doctor', 'doctors', 'queen'])
    assert.ok(lw.has(w), w);
  const own = new TemplateGenerator({ seed: 4, useTerminals: false, excludeMarvinLinzen: false });
  assert.ok(!own.lexicon.animate.some((n) => n.sg === 'surgeon'));
  assert.ok(g.lexicon.animate.some((n) => n.sg === 'surgeon'));
});
