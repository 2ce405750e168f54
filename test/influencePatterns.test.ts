import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/backend/index.js';
import { Bert } from '../src/model/bert.js';
import { tokenLogitDiff } from '../src/model/qoi.js';
import { qoiValues } from '../src/model/run.js';
import { layerInfluence, pathInfluence, type BranchSet } from '../src/methods/influencePath.js';
import { influencePattern, patternKey, patternNodeNames } from '../src/methods/influencePatterns.js';
import { tinyConfig, scaledModel } from './helpers/tinyBert.js';

const special = { clsId: 2, sepId: 3, maskId: 4, padId: 0 };
const ids = [2, 6, 9, 4, 13, 3];
const maskPos = 3;
const qoi = tokenLogitDiff(maskPos, 10, 11);

/** A BERT with fixed (seeded, scaled-up) weights so that influences are far from zero. */
const toyModel = (layers: number, seed: number): Bert => scaledModel(tinyConfig({ layers }), 'mlm', seed);

test('completeness: unrestricted influences at any layer sum to QoI(input) − QoI(baseline), closer as res grows', async () => {
  await initBackend();
  const model = toyModel(3, 2);
  const direct = qoiValues(model, { ids: [ids] }, qoi)[0] as number;
  for (const baseline of ['mask', 'zero', 'pad'] as const) {
    for (const node of ['embed.hook_out', 'blocks.0.hook_resid_mid', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_pre']) {
      const coarse = layerInfluence(model, { ids }, qoi, node, { res: 4, baseline, special });
      const fine = layerInfluence(model, { ids }, qoi, node, { res: 64, baseline, special });
      const delta = fine.qoiInput - fine.qoiBaseline;
      assert.ok(Math.abs(fine.qoiInput - direct) < 1e-4, `path end = the input (${fine.qoiInput} vs ${direct})`);
      assert.ok(Math.abs(delta) > 1e-2, 'the toy QoI moves along the path');
      assert.ok(fine.completenessGap < 2e-3 * Math.abs(delta) + 1e-5, `${baseline} ${node}: gap ${fine.completenessGap} vs Δ ${delta}`);
      assert.ok(
        fine.completenessGap < coarse.completenessGap,
        `${baseline} ${node}: gap shrinks with res (${coarse.completenessGap} → ${fine.completenessGap})`,
      );
    }
  }
  // The baseline end is the input with every token but [CLS]/[SEP] replaced by [MASK].
  const m = layerInfluence(model, { ids }, qoi, 'embed.hook_out', { res: 8, special });
  const base = qoiValues(model, { ids: [ids.map((t) => (t === 2 || t === 3 ? t : 4))] }, qoi)[0] as number;
  assert.ok(Math.abs(m.qoiBaseline - base) < 1e-4);
  model.dispose();
});

test('stop-gradient path sets are additive: positions of a layer and branches of a node partition the paths', async () => {
  await initBackend();
  const model = toyModel(3, 2);
  const o = { res: 32, special };
  const src = pathInfluence(model, { ids }, qoi, { source: [1] }, o).influence;
  let sumPos = 0;
  for (let p = 0; p < ids.length; p++) sumPos += pathInfluence(model, { ids }, qoi, { source: [1], positions: [null, [p]] }, o).influence;
  assert.ok(Math.abs(sumPos - src) < 1e-4 * Math.abs(src) + 1e-6, `Σ_p I(layer 1 = p) = ${sumPos}, I(source) = ${src}`);
  const r = { source: [1], positions: [[1], [2]] };
  const node = pathInfluence(model, { ids }, qoi, r, o).influence;
  const parts = [
    { skip: true, heads: [] },
    { skip: false, heads: [0] },
    { skip: false, heads: [1] },
  ].map((b) => pathInfluence(model, { ids }, qoi, { ...r, branches: [null, b] }, o).influence);
  const s = parts.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(s - node) < 1e-4 * Math.abs(node) + 1e-6, `skip + heads ${s} vs node ${node}`);
  // Layer 1 goes from position 1 to 2: the skip connection carries nothing there.
  assert.ok(Math.abs(parts[0] as number) < 1e-7, `skip between different positions: ${parts[0]}`);
  // An unrestricted path set is integrated gradients: it sums to the QoI change.
  const all = pathInfluence(model, { ids }, qoi, {}, o);
  assert.ok(Math.abs(all.influence - (all.qoiInput - all.qoiBaseline)) < 1e-3 * Math.abs(all.qoiInput - all.qoiBaseline));
  assert.throws(() => pathInfluence(model, { ids }, qoi, { positions: [[9]] }, o), /position 9/);
  assert.throws(() => pathInfluence(model, { ids }, qoi, { branches: [{ skip: true, heads: [5] }] }, o), /unknown head 5/);
  model.dispose();
});

test('influence pattern: skip + heads = node total; per-layer values agree with the exact stop-gradient influence', async () => {
  await initBackend();
  const model = toyModel(3, 2);
  const gaps: number[] = [];
  for (const res of [8, 64]) {
    const p = influencePattern(model, { ids }, qoi, { res, special, source: 1 });
    let gap = 0;
    for (const s of p.steps) {
      const split = s.skipInfluence + s.headInfluences.reduce((a, b) => a + b, 0);
      gap = Math.max(gap, Math.abs(split - s.nodeInfluence) / (Math.abs(p.totals.sourceInfluence) + 1e-9));
    }
    gaps.push(gap);
    if (res === 64) {
      assert.ok(gap < 5e-3, `skip + heads vs node total: relative gap ${gap}`);
      assert.equal(p.positions.length, 3);
      assert.equal(p.positions[2], maskPos, 'the pattern ends at the QoI position');
      assert.equal(p.steps[0]?.fromPosition, 1);
      for (const s of p.steps) if (s.kind === 'skip') assert.equal(s.position, s.fromPosition, 'a skip step stays at its position');
      // Embedding level, independently: candidate influences at layer l (forward differences) vs stop-gradient runs.
      const scale = Math.abs(p.totals.sourceInfluence);
      for (let l = 0; l < 2; l++) {
        const upstream = p.positions.slice(0, l).map((q) => [q]);
        for (let q = 0; q < ids.length; q++) {
          const exact = pathInfluence(model, { ids }, qoi, { source: [1], positions: [...upstream, [q]] }, { res, special }).influence;
          const got = p.steps[l]?.candidates[q] as number;
          assert.ok(Math.abs(got - exact) < 2e-2 * scale + 1e-6, `layer ${l} position ${q}: ${got} vs exact ${exact}`);
        }
      }
      // The chosen branch's value vs the exact influence of the pattern up to that layer.
      const branches: BranchSet[] = p.steps.map((s) => (s.kind === 'skip' ? { skip: true, heads: [] } : { skip: false, heads: [s.head as number] }));
      for (let l = 0; l < 3; l++) {
        const exact = pathInfluence(
          model,
          { ids },
          qoi,
          { source: [1], positions: p.positions.map((q) => [q]), branches: branches.slice(0, l + 1) },
          { res, special },
        ).influence;
        assert.ok(Math.abs((p.steps[l]?.influence as number) - exact) < 2e-2 * scale + 1e-6, `layer ${l} branch: ${p.steps[l]?.influence} vs ${exact}`);
      }
      assert.ok(Math.abs(p.totals.patternInfluence - (p.steps[2]?.influence as number)) < 2e-2 * scale + 1e-6);
      assert.ok(p.totals.completenessGap < 1e-3 * Math.abs(p.totals.qoiInput - p.totals.qoiBaseline) + 1e-6);
    }
  }
  assert.ok((gaps[1] as number) < (gaps[0] as number), `gap shrinks with res: ${gaps}`);
  model.dispose();
});

test('2-layer toy model: greedy refinement picks the path that brute-force enumeration of all paths ranks first', async () => {
  await initBackend();
  const o = { res: 16, special };
  // GPR is greedy: on seeded toy models it matched the brute-force best full path on 8 of 10 seeds
  // (the other two: the best embedding-level node is not the node of the best single path); the
  // embedding-level choice of a 2-layer model has one free layer, so it must match on every seed.
  for (const seed of [1, 2, 3, 4]) {
    const model = toyModel(2, seed);
    const pat = influencePattern(model, { ids }, qoi, { ...o, source: 1 });
    const sg = pat.sign;
    let bestEmb = { v: -Infinity, p: -1 };
    let best = { v: -Infinity, key: '' };
    for (let p = 0; p < ids.length; p++) {
      const e = sg * pathInfluence(model, { ids }, qoi, { source: [1], positions: [[p], [maskPos]] }, o).influence;
      if (e > bestEmb.v) bestEmb = { v: e, p };
      const choices = (from: number, to: number): BranchSet[] => [
        ...(from === to ? [{ skip: true, heads: [] }] : []),
        { skip: false, heads: [0] },
        { skip: false, heads: [1] },
      ];
      const name = (b: BranchSet) => (b.skip ? 'skip' : `h${b.heads[0]}`);
      for (const b0 of choices(1, p)) {
        for (const b1 of choices(p, maskPos)) {
          const v = sg * pathInfluence(model, { ids }, qoi, { source: [1], positions: [[p], [maskPos]], branches: [b0, b1] }, o).influence;
          if (v > best.v) best = { v, key: `${p}:${name(b0)}→${name(b1)}` };
        }
      }
    }
    assert.equal(pat.positions[0], bestEmb.p, `seed ${seed}: embedding-level node`);
    if (seed === 1 || seed === 3) {
      assert.equal(`${pat.positions[0]}:${patternKey(pat)}`, best.key, `seed ${seed}: full pattern`);
      assert.ok(Math.abs(sg * pat.totals.patternInfluence - best.v) < 1e-6 + 1e-6 * Math.abs(best.v));
    }
    model.dispose();
  }
});

test('influence pattern: sign rule, auto source, errors and no tensor leak', async () => {
  await initBackend();
  const model = toyModel(2, 2);
  const p = influencePattern(model, { ids }, qoi, { res: 8, special });
  assert.ok(p.source !== 0 && p.source !== 5 && p.source !== maskPos, 'auto source skips [CLS], [SEP] and the output');
  const abs = p.totals.inputInfluence.map(Math.abs);
  assert.equal(abs[p.source], Math.max(...abs.filter((_, i) => i !== 0 && i !== 5 && i !== maskPos)));
  const total0 = p.steps[0]?.candidates.reduce((a, b) => a + b, 0) as number;
  assert.equal(p.sign, total0 < 0 ? -1 : 1);
  const flipped = influencePattern(model, { ids }, tokenLogitDiff(maskPos, 11, 10), { res: 8, special, source: p.source });
  assert.equal(flipped.sign, -p.sign, 'swapping the QoI flips the sign');
  assert.deepEqual(flipped.positions, p.positions, 'and the sign rule keeps the same pattern');
  assert.equal(patternKey(flipped), patternKey(p));
  const names = patternNodeNames(p);
  assert.equal(names.length, 1 + 2 * p.layers);
  assert.equal(names[0], `embed.hook_out[${p.source}]`);
  assert.equal(names[names.length - 1], `blocks.1.hook_resid_post[${maskPos}]`);
  assert.throws(() => influencePattern(model, { ids }, qoi, { source: 9, special }), /source position 9/);
  assert.throws(() => influencePattern(model, { ids: [] }, qoi, { special }), /empty/);
  assert.throws(() => influencePattern(model, { ids }, qoi, { res: 0, special }), /res must be/);
  assert.throws(() => influencePattern(model, { ids }, qoi, { baseline: 'mask' }), /maskId/);
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) influencePattern(model, { ids }, qoi, { res: 8, special, source: 1 });
  assert.equal(tf.memory().numTensors, n0, 'repeated calls leak no tensors');
  model.dispose();
});
