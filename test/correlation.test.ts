import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spearman, summarizeCorrelations } from '../src/eval/correlation.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

test('spearman: hand-computed values without ties (1 − 6Σd²/(n(n²−1)))', () => {
  close(spearman([1, 2, 3, 4], [1, 3, 2, 4]), 0.8); // Σd² = 2 → 1 − 12/60
  close(spearman([10, 20, 30, 40, 50], [5, 4, 3, 2, 1]), -1);
  close(spearman([0.1, 0.5, 0.2], [1, 100, 10]), 1); // monotone, not linear
});

test('spearman: ties get averaged ranks (as scipy.stats.spearmanr)', () => {
  // y ranks = [1, 2, 3.5, 5, 3.5]; Pearson with [1..5] = 8 / sqrt(10 · 9.5).
  close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / Math.sqrt(95));
  // Order of the pairs does not matter.
  close(spearman([5, 3, 1, 4, 2], [7, 7, 5, 8, 6]), 8 / Math.sqrt(95));
});

test('spearman: constant input is NaN; bad input throws', () => {
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
  assert.throws(() => spearman([1, 2], [1, 2, 3]), /different lengths/);
  assert.throws(() => spearman([1], [1]), /at least 2/);
  assert.throws(() => spearman([1, NaN], [1, 2]), /NaN/);
});

test('summarizeCorrelations: NaN counts as 0 (reference code), population std', () => {
  const s = summarizeCorrelations([1, NaN, 0.5]);
  close(s.mean, 0.5);
  close(s.std, Math.sqrt(0.5 / 3));
  assert.equal(s.n, 3);
  assert.equal(s.nan, 1);
  const d = summarizeCorrelations([1, NaN, 0.5], null);
  close(d.mean, 0.75);
  close(d.std, 0.25);
  assert.equal(d.n, 2);
});
