import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accumulateHeadStats,
  emptyHeadStats,
  finishHeadStats,
  headMask,
  quantileThresholds,
  randomMaskLike,
  templateArcs,
  tokenWordIndex,
  SONG2024_SST2_THRESHOLDS,
} from '../src/eval/headStats.js';
import type { Arc } from '../src/data/linkGrammar.js';
import { mulberry32 } from '../src/data/random.js';

/** One-hot attention rows: row i attends to target[i]. Layout [layers=1, heads, seq, seq]. */
function oneHot(targets: number[][], seq: number): Float32Array {
  const a = new Float32Array(targets.length * seq * seq);
  targets.forEach((t, h) =>
    t.forEach((j, i) => {
      a[h * seq * seq + i * seq + j] = 1;
    }),
  );
  return a;
}

test('head statistics on handmade attention maps and arcs give the hand-computed shares', () => {
  // Tokens: [CLS] the dog barks loud ##ly [SEP] ; words: the(0) dog(1) barks(2) loudly(3)
  const tokens = ['[CLS]', 'the', 'dog', 'barks', 'loud', '##ly', '[SEP]'];
  const wordOf = tokenWordIndex(tokens, ['the', 'dog', 'barks', 'loudly']);
  assert.deepEqual(wordOf, [-1, 0, 1, 2, 3, 3, -1]);
  const arcs: Arc[] = [
    { dependent: 1, head: 2, relation: 'nsubj' }, // dog → barks
    { dependent: 3, head: 2, relation: 'advmod' }, // loudly → barks
    { dependent: 0, head: 1, relation: 'amod' }, // (pretend) the → dog
  ];
  const seq = 7;
  // head 0: every token attends to the previous one (offset −1; [CLS] to itself);
  // head 1: dog→barks, loud→barks (hits nsubj and advmod), the→[SEP] (miss amod); others to [CLS].
  const h0 = [0, 0, 1, 2, 3, 4, 5];
  const h1 = [0, 6, 3, 0, 3, 0, 0];
  const acc = emptyHeadStats(1, 2);
  accumulateHeadStats(acc, oneHot([h0, h1], seq), seq, wordOf, arcs);
  // A second sentence for head 1 with a miss on nsubj: tokens [CLS] cats sleep [SEP], arc cats → sleep.
  const w2 = tokenWordIndex(['[CLS]', 'cats', 'sleep', '[SEP]'], ['cats', 'sleep']);
  accumulateHeadStats(
    acc,
    oneHot(
      [
        [0, 0, 1, 2],
        [0, 3, 0, 0],
      ],
      4,
    ),
    4,
    w2,
    [{ dependent: 0, head: 1, relation: 'nsubj' }],
  );
  const st = finishHeadStats(acc);
  // head 0: dog's row points to "the" (miss), loud's row to barks (hit!): advmod 1/1; nsubj 0/2; amod: the → [CLS] miss.
  assert.deepEqual(st.accuracy.nsubj, [[0, 0.5]]);
  assert.deepEqual(st.accuracy.advmod, [[1, 1]]);
  assert.deepEqual(st.accuracy.amod, [[0, 0]]);
  assert.deepEqual(st.arcCounts, { nsubj: 2, obj: 0, amod: 1, advmod: 1 });
  // Offsets of head 0: sentence 1: 0 once ([CLS]), −1 six times; sentence 2: 0 once, −1 three times → −1: 9/11.
  const iM1 = st.offsets.indexOf(-1);
  assert.equal(st.offsetFrequency[0][0][iM1], 9 / 11);
  assert.equal(st.topOffset[0][0], -1);
  assert.equal(st.queries, 11);
  // Masks: head 0 is positional (9/11 = 0.818 > 0.8); head 1 is syntactic (advmod 1 > 0.72; nsubj 0.5 > 0.46).
  assert.deepEqual(headMask(st, SONG2024_SST2_THRESHOLDS, 'positional'), [[1, 0]]);
  assert.deepEqual(headMask(st, SONG2024_SST2_THRESHOLDS, 'syntactic'), [[1, 1]]);
  assert.deepEqual(headMask(st, { syntactic: { nsubj: 0.9, obj: 0.9, amod: 0.9, advmod: 1 }, positional: 0.9 }, 'both'), [[0, 0]]);
  assert.throws(() => headMask(st, { syntactic: { nsubj: 0.5 } as never, positional: 0.8 }), /no syntactic threshold for obj/);
  assert.throws(() => accumulateHeadStats(acc, new Float32Array(3), 2, [0, 1], []), /attention has 3 entries/);
  // Quantile thresholds: the median of the two heads' accuracies (0 and 0.5 → 0.25 for nsubj).
  const qt = quantileThresholds(st, 0.5);
  assert.equal(qt.syntactic.nsubj, 0.25);
  assert.equal(qt.syntactic.advmod, 1);
  assert.equal(qt.positional, 0.8);
  assert.throws(() => quantileThresholds(st, 1), /q must be in/);
});

test('random mask keeps as many heads as the given mask; template arcs are nsubj controller → verb', () => {
  const like = [
    [1, 0, 0],
    [1, 1, 0],
  ];
  const m = randomMaskLike(like, mulberry32(3));
  assert.equal(
    m.flat().reduce((a, b) => a + b, 0),
    3,
  );
  assert.equal(m.length, 2);
  const arcs = templateArcs({
    words: ['the', 'dogs', 'near', 'the', 'car', 'bark'],
    template: 'pp',
    targets: [{ index: 5, good: 'bark', bad: 'barks', kind: 'verb', controller: 1, plural: true, attractor: true }],
  });
  assert.deepEqual(arcs, [{ dependent: 1, head: 5, relation: 'nsubj' }]);
});
