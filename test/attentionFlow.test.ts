import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attentionStack, type AttentionStack } from '../src/methods/attentionTypes.js';
import { FlowNetwork, LayeredFlow } from '../src/methods/maxflow.js';
import { attentionFlow, attentionFlowAllLayers, closeFlowWorkers, flowTokenImportance } from '../src/methods/attentionFlow.js';
import { CTRL_WORDS, STAT_WORDS, planFlowTasks, runFlowTasks, type FlowJob } from '../src/methods/flowJobs.js';
import { flowWorkersStarted, runFlowJobParallel } from '../src/methods/flowPool.js';
import { augmentedAttention } from '../src/methods/rollout.js';
import { mulberry } from './helpers/rng.js';

// ---------------------------------------------------------------------------------------------
// Independent references, written without the library's code.

/** Minimum s–t cut by enumerating every node set S with s ∈ S, t ∉ S (n ≤ ~12). */
function bruteMinCut(n: number, cap: number[][], s: number, t: number): number {
  const others = Array.from({ length: n }, (_, i) => i).filter((i) => i !== s && i !== t);
  let best = Infinity;
  for (let mask = 0; mask < 1 << others.length; mask++) {
    const inS = new Array<boolean>(n).fill(false);
    inS[s] = true;
    others.forEach((v, b) => {
      if (mask & (1 << b)) inS[v] = true;
    });
    let c = 0;
    for (let u = 0; u < n; u++) for (let v = 0; v < n; v++) if (inS[u] && !inS[v]) c += cap[u][v];
    best = Math.min(best, c);
  }
  return best;
}

/** Edmonds–Karp on a dense capacity matrix: BFS shortest augmenting paths, augment by the bottleneck. */
function edmondsKarp(capIn: number[][], s: number, t: number): number {
  const n = capIn.length;
  const r = capIn.map((row) => row.slice());
  let flow = 0;
  for (;;) {
    const prev = new Array<number>(n).fill(-1);
    prev[s] = s;
    const q = [s];
    for (let h = 0; h < q.length && prev[t] < 0; h++) {
      const u = q[h];
      for (let v = 0; v < n; v++) {
        if (prev[v] < 0 && r[u][v] > 1e-13) {
          prev[v] = u;
          q.push(v);
        }
      }
    }
    if (prev[t] < 0) return flow;
    let b = Infinity;
    for (let v = t; v !== s; v = prev[v]) b = Math.min(b, r[prev[v]][v]);
    for (let v = t; v !== s; v = prev[v]) {
      r[prev[v]][v] -= b;
      r[v][prev[v]] += b;
    }
    flow += b;
  }
}

/** Â_l = 0.5·mean_h A + 0.5·I, rows re-normalised, recomputed here from the raw data. */
function augmented(data: ArrayLike<number>, L: number, H: number, S: number): number[][][] {
  const out: number[][][] = [];
  for (let l = 0; l < L; l++) {
    const m: number[][] = [];
    for (let i = 0; i < S; i++) {
      const row: number[] = [];
      for (let j = 0; j < S; j++) {
        let a = 0;
        for (let h = 0; h < H; h++) a += data[((l * H + h) * S + i) * S + j];
        row.push(0.5 * (a / H) + (i === j ? 0.5 : 0));
      }
      const s = row.reduce((p, q) => p + q, 0);
      m.push(row.map((v) => v / s));
    }
    out.push(m);
  }
  return out;
}

/** The attention graph of the paper as a dense capacity matrix over nodes layer·S + pos. */
function attentionGraph(aug: number[][][], S: number, upTo: number): number[][] {
  const n = (upTo + 1) * S;
  const cap = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let l = 1; l <= upTo; l++) for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) cap[(l - 1) * S + j][l * S + i] = aug[l - 1][i][j];
  return cap;
}

/** Random attention: per head a peaked pattern (first/last/previous token) or heavy-tailed noise. */
function randomStack(L: number, H: number, S: number, seed: number): AttentionStack {
  const rng = mulberry(seed);
  const d = new Float32Array(L * H * S * S);
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const kind = Math.floor(rng() * 4);
      const peak = kind === 3 ? 0 : 0.3 + 0.7 * rng();
      for (let i = 0; i < S; i++) {
        const off = ((l * H + h) * S + i) * S;
        let s = 0;
        for (let c = 0; c < S; c++) {
          const g = (-Math.log(1 - rng())) ** 3;
          d[off + c] = g;
          s += g;
        }
        for (let c = 0; c < S; c++) d[off + c] *= (1 - peak) / s;
        const tgt = kind === 0 ? 0 : kind === 1 ? S - 1 : Math.max(0, i - 1);
        d[off + tgt] += peak;
      }
    }
  }
  return attentionStack(d, L, H, S);
}

// ---------------------------------------------------------------------------------------------
// (a) max-flow = min-cut on tiny random graphs.

test('FlowNetwork max flow equals the brute-force minimum cut on random graphs (≤ 10 nodes)', () => {
  const rng = mulberry(7);
  for (let trial = 0; trial < 300; trial++) {
    const n = 2 + Math.floor(rng() * 9);
    const cap = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const g = new FlowNetwork(n);
    const edges: [number, number, number][] = [];
    const m = Math.floor(rng() * n * n);
    for (let e = 0; e < m; e++) {
      const u = Math.floor(rng() * n);
      const v = Math.floor(rng() * n);
      const c = rng() < 0.15 ? 0 : rng() < 0.3 ? Math.floor(rng() * 4) : rng() * 3; // zeros, integers, floats
      edges.push([u, v, c]);
      g.addEdge(u, v, c);
      if (u !== v) cap[u][v] += c; // parallel edges add up; self-loops never cross a cut
    }
    const s = Math.floor(rng() * n);
    let t = Math.floor(rng() * n);
    if (t === s) t = (s + 1) % n;
    const res = g.maxFlow(s, t);
    const cut = bruteMinCut(n, cap, s, t);
    assert.ok(Math.abs(res.value - cut) < 1e-9, `trial ${trial}: flow ${res.value} vs min cut ${cut}`);
    // The flow is feasible: 0 ≤ f ≤ c, conserved at every node but s and t, net outflow of s = value.
    const net = new Float64Array(n);
    edges.forEach(([u, v, c], e) => {
      assert.ok(res.flow[e] >= -1e-12 && res.flow[e] <= c + 1e-12, `edge ${e} flow ${res.flow[e]} outside [0, ${c}]`);
      net[u] -= res.flow[e];
      net[v] += res.flow[e];
    });
    for (let v = 0; v < n; v++) if (v !== s && v !== t) assert.ok(Math.abs(net[v]) < 1e-9, `conservation at ${v}`);
    assert.ok(Math.abs(-net[s] - res.value) < 1e-9);
    // The returned source side is a cut of that capacity.
    assert.equal(res.sourceSide[s], 1);
    assert.equal(res.sourceSide[t], 0);
    let c = 0;
    for (let u = 0; u < n; u++) for (let v = 0; v < n; v++) if (res.sourceSide[u] && !res.sourceSide[v]) c += cap[u][v];
    assert.ok(Math.abs(c - res.value) < 1e-9, `cut of sourceSide ${c} vs ${res.value}`);
  }
});

test('LayeredFlow equals the brute-force minimum cut on tiny layered graphs', () => {
  const rng = mulberry(11);
  for (let trial = 0; trial < 40; trial++) {
    const S = 2 + Math.floor(rng() * 2); // 2..3 positions
    const L = 2 + Math.floor(rng() * 2); // 2..3 layers: ≤ 4·3 = 12 nodes
    const weights = Array.from({ length: L }, () => Array.from({ length: S * S }, () => (rng() < 0.2 ? 0 : rng())));
    const lf = new LayeredFlow(weights, S);
    const aug = weights.map((w) => Array.from({ length: S }, (_, i) => w.slice(i * S, (i + 1) * S)));
    for (let t = 1; t <= L; t++) {
      const cap = attentionGraph(aug, S, t);
      for (let j = 0; j < S; j++) {
        for (let i = 0; i < S; i++) {
          const want = bruteMinCut(cap.length, cap, j, t * S + i);
          const got = lf.maxFlow(j, t, i);
          assert.ok(Math.abs(got - want) < 1e-9, `trial ${trial}, layer ${t}, ${j} → ${i}: ${got} vs min cut ${want}`);
        }
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// (b) hand-computed toy: 2 layers, 2 heads, 3 tokens.

// Layer 0: head 0 rows [1,0,0],[1,0,0],[0,1,0]; head 1 rows [0,1,0],[0,0,1],[0,1,0]
//   mean A_1 = [[.5,.5,0],[.5,0,.5],[0,1,0]]
//   Â_1 = .5·A_1 + .5·I = [[.75,.25,0],[.25,.5,.25],[0,.5,.5]]   (rows already sum to 1)
// Layer 1: head 0 rows [0,0,1],[1,0,0],[1,0,0]; head 1 rows [0,0,1],[0,0,1],[0,1,0]
//   mean A_2 = [[0,0,1],[.5,0,.5],[.5,.5,0]]
//   Â_2 = [[.5,0,.5],[.25,.5,.25],[.25,.25,.5]]
export const TOY = [
  [1, 0, 0, 1, 0, 0, 0, 1, 0],
  [0, 1, 0, 0, 0, 1, 0, 1, 0],
  [0, 0, 1, 1, 0, 0, 1, 0, 0],
  [0, 0, 1, 0, 0, 1, 0, 1, 0],
].flat();

test('attention flow of the hand-computed 2-layer, 2-head, 3-token toy', () => {
  const st = attentionStack(TOY, 2, 2, 3);
  const res = attentionFlow(st, { outputLayer: 'all' });
  assert.deepEqual(res.layers, [0, 1]);
  // Layer 0 (node layer 1): the graph is a single edge (0, j) → (1, i): flow = Â_1[i, j].
  const want0 = [0.75, 0.25, 0, 0.25, 0.5, 0.25, 0, 0.5, 0.5];
  // Layer 1: one middle layer, so the paths j → (1, k) → i are edge-disjoint and
  //   flow(j → i) = Σ_k min(Â_1[k, j], Â_2[i, k]).
  //   Columns of Â_1: c0 = [.75,.25,0], c1 = [.25,.5,.5], c2 = [0,.25,.5]
  //   i=0 (Â_2 row [.5,0,.5]):  j=0: .5+0+0 = .5;   j=1: .25+0+.5 = .75;  j=2: 0+0+.5 = .5
  //   i=1 (row [.25,.5,.25]):   j=0: .25+.25+0 = .5; j=1: .25+.5+.25 = 1;   j=2: 0+.25+.25 = .5
  //   i=2 (row [.25,.25,.5]):   j=0: .25+.25+0 = .5; j=1: .25+.25+.5 = 1;   j=2: 0+.25+.5 = .75
  const want1 = [0.5, 0.75, 0.5, 0.5, 1, 0.5, 0.5, 1, 0.75];
  const close = (a: ArrayLike<number>, b: number[], what: string) =>
    b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-6, `${what}[${i}]: ${a[i]} vs ${v}`));
  close(res.flow[0], want0, 'layer 0');
  close(res.flow[1], want1, 'layer 1');
  // Reference-code normalisation: row i=0 sums to 1.75 → [.5, .75, .5] / 1.75.
  const norm = attentionFlow(st, { normalize: true, outputPositions: [0] });
  close(norm.flow[1], [0.5 / 1.75, 0.75 / 1.75, 0.5 / 1.75], 'normalised row 0');
  close(flowTokenImportance(st, { position: 2 }), [0.5, 1, 0.75], 'token importance of position 2');
  close(attentionFlowAllLayers(st), [...want0, ...want1], 'all layers');
  // No residual: capacities are the plain head means; flow(j → i) = Σ_k min(A_1[k, j], A_2[i, k]).
  //   A_1 columns: c0 = [.5,.5,0], c1 = [.5,0,1], c2 = [0,.5,0]; A_2 row 0 = [0,0,1]:
  //   j=0: 0+0+0 = 0; j=1: 0+0+1 = 1; j=2: 0+0+0 = 0
  close(attentionFlow(st, { residual: 0, outputPositions: [0] }).flow[1], [0, 1, 0], 'no residual, row 0');
});

// A 3-layer toy where the min cut is in the middle (not at the source or the sink).
test('attention flow is limited by a bottleneck in the middle layer (hand-computed)', () => {
  // 2 positions, 3 layers, capacities given directly (W_l[i, k] for (l−1, k) → (l, i)):
  //   W_1 = [[1, 0], [1, 0]]   (both layer-1 nodes draw only on token 0)
  //   W_2 = [[.2, .1], [0, 0]] (node (2,0) gets .2 from (1,0) and .1 from (1,1); (2,1) gets nothing)
  //   W_3 = [[1, 0], [1, 1]]
  // flow(0 → (3, 0)): paths 0→(1,0)→(2,0)→(3,0) (.2) and 0→(1,1)→(2,0)→(3,0) (.1) → .3.
  //   Cuts: the source alone has capacity 1 + 1 = 2, the sink alone 1 + 0 = 1, but the edges from
  //   layer 1 into layer 2 have capacity .2 + .1 + 0 + 0 = .3: that middle cut is the minimum.
  // flow(1 → anything) = 0 (token 1 has no out-edges with capacity).
  const lf = new LayeredFlow(
    [
      [1, 0, 1, 0],
      [0.2, 0.1, 0, 0],
      [1, 0, 1, 1],
    ],
    2,
  );
  assert.ok(Math.abs(lf.maxFlow(0, 3, 0) - 0.3) < 1e-12);
  assert.ok(Math.abs(lf.maxFlow(0, 3, 1) - 0.3) < 1e-12);
  assert.equal(lf.maxFlow(1, 3, 0), 0);
  assert.ok(Math.abs(lf.maxFlow(0, 2, 0) - 0.3) < 1e-12);
  assert.equal(lf.maxFlow(0, 2, 1), 0);
  // the stored middle cut now certifies the repeated question, with no BFS
  const before = lf.stats.bfsPhases;
  assert.ok(Math.abs(lf.maxFlow(0, 3, 0) - 0.3) < 1e-12);
  assert.equal(lf.stats.bfsPhases, before);
});

// ---------------------------------------------------------------------------------------------
// (c) against an independent Edmonds–Karp on random attention stacks.

test('attention flow equals an independent Edmonds–Karp on random 4-layer × 6-token stacks', () => {
  let nonTrivial = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const L = 4;
    const H = 3;
    const S = 6;
    const st = randomStack(L, H, S, seed);
    const aug = augmented(st.data, L, H, S);
    const res = attentionFlow(st, { outputLayer: 'all' });
    nonTrivial += res.stats.bfsPhases;
    for (let l = 0; l < L; l++) {
      const cap = attentionGraph(aug, S, l + 1);
      for (let i = 0; i < S; i++) {
        for (let j = 0; j < S; j++) {
          const want = edmondsKarp(cap, j, (l + 1) * S + i);
          const got = res.flow[l][i * S + j];
          assert.ok(Math.abs(got - want) < 1e-6, `seed ${seed}, layer ${l}, out ${i}, in ${j}: ${got} vs ${want}`);
        }
      }
    }
  }
  // the random stacks must exercise the general Dinic path too, not only the cut certificates
  assert.ok(nonTrivial > 0, 'no solve needed a BFS phase');
});

test('LayeredFlow with and without stored cuts agrees with Edmonds–Karp on arbitrary capacities', () => {
  const rng = mulberry(5);
  const S = 5;
  const L = 4;
  const weights = Array.from({ length: L }, () => Array.from({ length: S * S }, () => (rng() < 0.4 ? 0 : rng() ** 2)));
  const aug = weights.map((w) => Array.from({ length: S }, (_, i) => w.slice(i * S, (i + 1) * S)));
  const a = new LayeredFlow(weights, S);
  const b = new LayeredFlow(weights, S, { maxCuts: 0 });
  for (let t = 1; t <= L; t++) {
    const cap = attentionGraph(aug, S, t);
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const want = edmondsKarp(cap, j, t * S + i);
        assert.ok(Math.abs(a.maxFlow(j, t, i) - want) < 1e-9);
        assert.ok(Math.abs(b.maxFlow(j, t, i) - want) < 1e-9);
        assert.ok(a.upperBound(j, t, i) >= want - 1e-9, 'a stored cut is below the max flow');
      }
    }
  }
});

test('warm-started flows from one source to many sinks (any order, repeats) equal Edmonds–Karp', () => {
  const rng = mulberry(21);
  for (const [S, L, zero] of [
    [5, 4, 0.4],
    [6, 5, 0],
    [4, 6, 0.2],
  ] as const) {
    const weights = Array.from({ length: L }, () => Array.from({ length: S * S }, () => (rng() < zero ? 0 : rng() ** 3)));
    const aug = weights.map((w) => Array.from({ length: S }, (_, i) => w.slice(i * S, (i + 1) * S)));
    const lf = new LayeredFlow(weights, S);
    for (let t = 1; t <= L; t++) {
      const cap = attentionGraph(aug, S, t);
      const want = Array.from({ length: S }, (_, j) => Array.from({ length: S }, (_, i) => edmondsKarp(cap, j, t * S + i)));
      for (let j = 0; j < S; j++) {
        const sinks = [...Array.from({ length: S }, (_, i) => (i * 3 + j) % S), j, j, 0];
        const got = lf.maxFlowsFromSource(j, t, sinks);
        sinks.forEach((i, r) => assert.ok(Math.abs(got[r] - want[j][i]) < 1e-9, `S ${S}, layer ${t}, ${j} → ${i}: ${got[r]} vs ${want[j][i]}`));
      }
    }
  }
});

test('LayeredFlow equals Edmonds–Karp with tied, zero and integer capacities on deep graphs (widest-first search, Dinic phases)', () => {
  // Ties exercise the capacity order of the arcs, zeros and small integers make paths that need
  // backward arcs (later Dinic phases) and min cuts in the middle layers.
  const rng = mulberry(33);
  let phases = 0;
  for (let trial = 0; trial < 6; trial++) {
    const S = 3 + (trial % 3);
    const L = 5 + (trial % 2);
    const weights = Array.from({ length: L }, () => Array.from({ length: S * S }, () => (rng() < 0.35 ? 0 : Math.floor(rng() * 3) / 2)));
    const aug = weights.map((w) => Array.from({ length: S }, (_, i) => w.slice(i * S, (i + 1) * S)));
    const lf = new LayeredFlow(weights, S, { maxCuts: trial % 2 ? 0 : 32 });
    for (let t = 1; t <= L; t++) {
      const cap = attentionGraph(aug, S, t);
      for (let j = 0; j < S; j++) {
        const got = lf.maxFlowsFromSource(
          j,
          t,
          Array.from({ length: S }, (_, i) => S - 1 - i),
        );
        for (let i = 0; i < S; i++) {
          const want = edmondsKarp(cap, j, t * S + i);
          assert.ok(Math.abs(got[S - 1 - i] - want) < 1e-9, `trial ${trial}, layer ${t}, ${j} → ${i}: ${got[S - 1 - i]} vs ${want}`);
        }
      }
    }
    phases += lf.stats.bfsPhases;
  }
  assert.ok(phases > 0, 'no solve ran a Dinic phase');
});

test('LayeredFlow equals Edmonds–Karp when positions span several 32-bit mask words (seq 37 and 64, zeros and ties)', () => {
  // The last two hops of phase 1 use bitmasks of 32 positions per word.
  const rng = mulberry(44);
  for (const [S, L] of [
    [37, 4],
    [64, 3],
  ] as const) {
    const weights = Array.from({ length: L }, () => Array.from({ length: S * S }, () => (rng() < 0.3 ? 0 : rng() < 0.2 ? 0.25 : rng() ** 4)));
    const aug = weights.map((w) => Array.from({ length: S }, (_, i) => w.slice(i * S, (i + 1) * S)));
    const lf = new LayeredFlow(weights, S);
    for (let t = 3; t <= L; t++) {
      const cap = attentionGraph(aug, S, t);
      for (let n = 0; n < 12; n++) {
        const j = Math.floor(rng() * S);
        const sinks = [Math.floor(rng() * S), 31, 32, S - 1];
        const got = lf.maxFlowsFromSource(j, t, sinks);
        sinks.forEach((i, r) => {
          const want = edmondsKarp(cap, j, t * S + i);
          assert.ok(Math.abs(got[r] - want) < 1e-9, `S ${S}, layer ${t}, ${j} → ${i}: ${got[r]} vs ${want}`);
        });
      }
    }
  }
});

test('attention flow equals the edge-list Dinic (FlowNetwork) on 8-layer × 12-token stacks', () => {
  const L = 8;
  const S = 12;
  const st = randomStack(L, 4, S, 99);
  const aug = augmented(st.data, L, 4, S);
  const res = attentionFlow(st, { outputLayer: [2, 5, 7] });
  for (const l of [2, 5, 7]) {
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const g = new FlowNetwork((l + 2) * S);
        for (let m = 1; m <= l + 1; m++) for (let x = 0; x < S; x++) for (let k = 0; k < S; k++) g.addEdge((m - 1) * S + k, m * S + x, aug[m - 1][x][k]);
        const want = g.maxFlow(j, (l + 1) * S + i).value;
        assert.ok(Math.abs(res.flow[l][i * S + j] - want) < 1e-6, `layer ${l}, ${j} → ${i}: ${res.flow[l][i * S + j]} vs ${want}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// (d) worker threads: the same values as one thread, and equal to an independent max flow.

after(() => closeFlowWorkers());

/** A job over the augmented attention of `st` (all layers up to the deepest sink), as attentionFlow builds it. */
function makeJob(st: AttentionStack, sinkLayers: number[], positions: number[], tol?: number): FlowJob {
  const S = st.seq;
  const top = Math.max(...sinkLayers);
  const weights = new SharedArrayBuffer(top * S * S * 8);
  for (let l = 0; l < top; l++) new Float64Array(weights).set(augmentedAttention(st, l), l * S * S);
  const tasks = planFlowTasks(sinkLayers, positions.length, S);
  return {
    seq: S,
    tol,
    edgeLayers: top,
    weights,
    sinkLayers,
    positions,
    tasks,
    out: new SharedArrayBuffer(sinkLayers.length * positions.length * S * 8),
    stats: new SharedArrayBuffer(tasks.length * STAT_WORDS * 8),
    control: new SharedArrayBuffer(CTRL_WORDS * 4),
  };
}

/** The calling thread's solver for `job`, as `jobSolver` builds it but with the default tol. */
function solverOf(job: FlowJob): LayeredFlow {
  const S = job.seq;
  const w = new Float64Array(job.weights);
  return new LayeredFlow(
    Array.from({ length: job.edgeLayers }, (_, l) => w.subarray(l * S * S, (l + 1) * S * S)),
    S,
    { maxCuts: 0 },
  );
}

test('task plan: every (layer, row) once; rows of few deep layers split into blocks, independent of the worker count', () => {
  const a = planFlowTasks([1, 2, 3, 12], 64, 64);
  assert.equal(a.length, 2 + 2 * 4);
  for (const li of [0, 1, 2, 3]) {
    const rows = a.filter((t) => t.layerIndex === li).flatMap((t) => Array.from({ length: t.rowEnd - t.rowStart }, (_, r) => t.rowStart + r));
    assert.deepEqual(
      rows.sort((x, y) => x - y),
      Array.from({ length: 64 }, (_, r) => r),
    );
  }
  for (let k = 1; k < a.length; k++) assert.ok(a[k - 1].cost >= a[k].cost, 'tasks are not sorted by cost');
  assert.equal(planFlowTasks([12], 64, 16).length, 1, 'a small problem is one task');
  assert.equal(planFlowTasks([12], 3, 64).length, 3, 'no more blocks than rows');
  assert.equal(planFlowTasks([3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 64, 64).length, 10);
});

test('worker threads give the same float64 max flows as one thread, equal to an independent Edmonds–Karp', () => {
  const L = 12;
  const S = 32;
  const st = randomStack(L, 2, S, 5);
  const aug = augmented(st.data, L, 2, S);
  for (const [sinkLayers, positions] of [
    [Array.from({ length: L }, (_, l) => l + 1), Array.from({ length: S }, (_, i) => i)],
    [[L], [5, 0, 5, 31, 30, 2, 7, 9, 11]], // one layer, rows split into blocks, a repeated row
  ]) {
    const serial = makeJob(st, sinkLayers, positions);
    runFlowTasks(serial, solverOf(serial));
    const par = makeJob(st, sinkLayers, positions);
    runFlowJobParallel(par, solverOf(par), 1);
    assert.ok(flowWorkersStarted() >= 1);
    const a = new Float64Array(serial.out);
    const b = new Float64Array(par.out);
    for (let p = 0; p < a.length; p++) assert.ok(Math.abs(a[p] - b[p]) <= 1e-12, `entry ${p}: serial ${a[p]} vs workers ${b[p]}`);
    assert.deepEqual(new Float64Array(serial.stats), new Float64Array(par.stats), 'per-task solver counters differ');
    const rng = mulberry(S + sinkLayers.length);
    for (let k = 0; k < 6; k++) {
      const li = Math.floor(rng() * sinkLayers.length);
      const r = Math.floor(rng() * positions.length);
      const j = Math.floor(rng() * S);
      const t = sinkLayers[li];
      const want = edmondsKarp(attentionGraph(aug, S, t), j, t * S + positions[r]);
      const got = b[(li * positions.length + r) * S + j];
      assert.ok(Math.abs(got - want) < 1e-9, `layer ${t}, ${j} → ${positions[r]}: ${got} vs Edmonds–Karp ${want}`);
    }
  }
});

test('attentionFlow with workers: 2 equals workers: 1 exactly (all layers; two layers split into row blocks)', () => {
  // With a worker running, calls above PARALLEL_WARM_COST (2e7: 12 × 32 all layers is ~8e7, layers
  // 11–12 ~2.4e7) use it; the others stay in the calling thread.
  const warm = makeJob(randomStack(4, 1, 4, 1), [3, 4], [0, 1]);
  runFlowJobParallel(warm, solverOf(warm), 1, false);
  const st = randomStack(12, 3, 32, 8);
  for (const opts of [
    { outputLayer: 'all' as const },
    { outputLayer: [10, 11], normalize: true },
    { outputLayer: 11, outputPositions: [3, 1, 4, 1, 5, 9, 2, 6, 31] },
  ]) {
    const one = attentionFlow(st, { ...opts, workers: 1 });
    const two = attentionFlow(st, { ...opts, workers: 2 });
    assert.deepEqual(two.layers, one.layers);
    for (const l of one.layers) assert.deepEqual(two.flow[l], one.flow[l], `layer ${l} differs`);
    assert.deepEqual(two.stats, one.stats);
  }
  assert.ok(flowWorkersStarted() >= 1, 'the parallel path did not run');
});

test('a worker that throws surfaces as an Error in the caller; the pool keeps working', () => {
  const st = randomStack(6, 2, 8, 3);
  const job = makeJob(st, [4, 5, 6], [0, 1, 2], -1); // the workers' solver rejects tol −1
  assert.throws(
    () => runFlowJobParallel(job, solverOf(job), 1, false), // every task left to the worker
    /attentionFlow: a worker failed: worker 0: Error: maxflow: tol must be a finite number ≥ 0, got -1/,
  );
  const ok = makeJob(st, [4, 5, 6], [0, 1, 2]);
  runFlowJobParallel(ok, solverOf(ok), 1);
  const ref = makeJob(st, [4, 5, 6], [0, 1, 2]);
  runFlowTasks(ref, solverOf(ref));
  assert.deepEqual(new Float64Array(ok.out), new Float64Array(ref.out));
});

test('the workers never keep the process alive, from the compiled module and from the TypeScript sources (tsx)', () => {
  const compiled = import.meta.url.endsWith('.js');
  // dist/test/x.test.js → dist/src/methods/*.js; test/x.test.ts (or dist/test/x.test.js) → src/methods/*.ts
  const methods = (ext: string) => new URL(`${ext === 'ts' && compiled ? '../../' : '../'}src/methods/`, import.meta.url);
  const script = (ext: string) => `
    import { attentionFlow } from ${JSON.stringify(new URL(`attentionFlow.${ext}`, methods(ext)).href)};
    import { flowWorkersStarted } from ${JSON.stringify(new URL(`flowPool.${ext}`, methods(ext)).href)};
    const S = 64, d = new Float32Array(12 * S * S);
    for (let p = 0; p < d.length; p++) d[p] = 1 + ((p * 7919) % 13);
    for (let r = 0; r < 12 * S; r++) { let s = 0; for (let c = 0; c < S; c++) s += d[r * S + c]; for (let c = 0; c < S; c++) d[r * S + c] /= s; }
    const st = { layers: 12, heads: 1, seq: S, data: d };
    const a = attentionFlow(st, { outputLayer: 11, workers: 2 });
    const b = attentionFlow(st, { outputLayer: 11, workers: 1 });
    const same = a.layers.every((l) => a.flow[l].every((v, p) => v === b.flow[l][p]));
    console.log('started', flowWorkersStarted(), 'same', same);
  `;
  const dir = mkdtempSync(join(tmpdir(), 'flowlens-flow-'));
  try {
    const runners: string[][] = [];
    if (compiled) runners.push(['--input-type=module', '-e', script('js')]);
    // From the sources, as `npx tsx bench/…` runs it (tsx registers itself in the main thread only;
    // the pool registers it in the worker).
    const file = join(dir, 'child.mts');
    writeFileSync(file, script('ts'));
    runners.push([createRequire(import.meta.url).resolve('tsx/cli'), file]);
    for (const args of runners) {
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `${args[0]}: child exited with ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
      assert.match(r.stdout, /started 1 same true/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// (e) errors

test('attention flow and max flow reject bad input with named errors', () => {
  const st = attentionStack(TOY, 2, 2, 3);
  assert.throws(() => attentionFlow(st, { outputLayer: 2 }), /unknown layer index 2/);
  assert.throws(() => attentionFlow(st, { outputLayer: [-1] }), /unknown layer index -1/);
  assert.throws(() => attentionFlow(st, { outputPositions: [3] }), /unknown token position 3/);
  assert.throws(() => attentionFlow(st, { outputPositions: [] }), /non-empty/);
  assert.throws(() => attentionFlow(st, { headReduce: 2 }), /unknown head index 2/);
  assert.throws(() => attentionFlow(st, { residual: 1.5 }), /residual weight/);
  assert.throws(() => attentionFlow(st, { workers: 0 }), /workers must be a positive integer, got 0/);
  assert.throws(() => attentionFlow(st, { workers: 1.5 }), /workers must be a positive integer/);
  assert.throws(() => new FlowNetwork(0), /positive integer/);
  const g = new FlowNetwork(3);
  assert.throws(() => g.addEdge(0, 3, 1), /outside 0..2/);
  assert.throws(() => g.addEdge(0, 1, -1), /capacity/);
  assert.throws(() => g.addEdge(0, 1, NaN), /capacity/);
  assert.throws(() => g.maxFlow(1, 1), /same node/);
  assert.throws(() => new LayeredFlow([[1, 0, 0]], 2), /length 3, expected seq² = 4/);
  assert.throws(() => new LayeredFlow([[1, 0, -1, 0]], 2), /negative/);
  assert.throws(() => new LayeredFlow([], 2), /at least one/);
  const lf = new LayeredFlow([[1, 0, 0, 1]], 2);
  assert.throws(() => lf.maxFlow(0, 2, 0), /sink layer 2 is outside 1..1/);
  assert.throws(() => lf.maxFlow(2, 1, 0), /source position 2/);
  assert.throws(() => lf.maxFlow(0, 1, -1), /sink position -1/);
  assert.throws(() => lf.maxFlowsFromSource(0, 1, [0, 5]), /sink position 5/);
  assert.throws(() => lf.maxFlowsFromSource(0, 1, [0, 1], new Float64Array(3)), /out has length 3, expected 2/);
});
