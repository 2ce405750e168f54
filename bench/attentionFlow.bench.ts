/**
 * Attention flow (Abnar & Zuidema 2020) timing: 12 layers, 12 heads, random Dirichlet-ish attention
 * rows (heavy-tailed weights, normalised), sequence lengths 8–64.
 *
 * - `last`: flow from every input token to every output position of the last layer (seq² max flows).
 * - `all`: the same for every layer (12·seq² max flows, on graphs of 1..12 layers), with one thread
 *   (`workers: 1`) and with the default (`os.availableParallelism()` threads: the calling thread and
 *   worker threads, for problems large enough). For each: the best wall time, the process CPU time of
 *   that run (all threads), and for the parallel run the largest CPU time of one thread (Linux
 *   `schedstat` of each task in `/proc/self/task`): the critical path, about the wall time on idle cores.
 * - `ek`: an independent plain Edmonds–Karp (BFS augmenting paths on edge lists, one max flow per
 *   pair, as the reference code's networkx call) for the last layer, at small seq, for a ratio.
 *
 * The worker pool is started (by a 12 × 64 last-layer warm-up) before the first row, as it is after
 * the first large call of a session.
 *
 * Run alone: `npx tsx bench/attentionFlow.bench.ts`. Figures are wall-clock on a shared machine:
 * compare ratios within one run, and the CPU columns.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { attentionStack, type AttentionStack } from '../src/methods/attentionTypes.js';
import { attentionFlow } from '../src/methods/attentionFlow.js';
import { attentionRollout, augmentedAttention } from '../src/methods/rollout.js';
import { mulberry32 } from '../src/data/random.js';

const rng = mulberry32;

/** Random attention rows: weights Exp(1)^3 (a Dirichlet-like, peaky distribution), normalised. */
export function randomAttention(layers: number, heads: number, seq: number, seed: number): AttentionStack {
  const r = rng(seed);
  const d = new Float32Array(layers * heads * seq * seq);
  for (let row = 0; row < layers * heads * seq; row++) {
    let s = 0;
    for (let c = 0; c < seq; c++) {
      const g = (-Math.log(1 - r())) ** 3;
      d[row * seq + c] = g;
      s += g;
    }
    for (let c = 0; c < seq; c++) d[row * seq + c] /= s;
  }
  return attentionStack(d, layers, heads, seq);
}

/** Plain Edmonds–Karp on the attention graph up to node layer t, one max flow per (input, output) pair. */
function edmondsKarpLastLayer(stack: AttentionStack): Float64Array {
  const { layers: L, seq: S } = stack;
  const W = Array.from({ length: L }, (_, l) => augmentedAttention(stack, l));
  const n = (L + 1) * S;
  const out = new Float64Array(S * S);
  for (let i = 0; i < S; i++) {
    for (let j = 0; j < S; j++) {
      // edge lists with reverse edges: to, cap, adjacency
      const to: number[] = [];
      const cap: number[] = [];
      const adj: number[][] = Array.from({ length: n }, () => []);
      const add = (u: number, v: number, c: number) => {
        adj[u].push(to.length);
        to.push(v);
        cap.push(c);
        adj[v].push(to.length);
        to.push(u);
        cap.push(0);
      };
      for (let l = 1; l <= L; l++) for (let x = 0; x < S; x++) for (let k = 0; k < S; k++) add((l - 1) * S + k, l * S + x, W[l - 1][x * S + k]);
      const s = j;
      const t = L * S + i;
      let flow = 0;
      const prevEdge = new Int32Array(n);
      for (;;) {
        prevEdge.fill(-1);
        const seen = new Uint8Array(n);
        seen[s] = 1;
        const q = [s];
        for (let h = 0; h < q.length && !seen[t]; h++) {
          const u = q[h];
          for (const e of adj[u]) {
            const v = to[e];
            if (!seen[v] && cap[e] > 1e-12) {
              seen[v] = 1;
              prevEdge[v] = e;
              q.push(v);
            }
          }
        }
        if (!seen[t]) break;
        let b = Infinity;
        for (let v = t; v !== s; v = to[prevEdge[v] ^ 1]) b = Math.min(b, cap[prevEdge[v]]);
        for (let v = t; v !== s; v = to[prevEdge[v] ^ 1]) {
          cap[prevEdge[v]] -= b;
          cap[prevEdge[v] ^ 1] += b;
        }
        flow += b;
      }
      out[i * S + j] = flow;
    }
  }
  return out;
}

/**
 * Peaked attention, closer to trained BERT: each head either puts 30–100% of every row on one
 * token ([CLS], [SEP] or the previous token) or is heavy-tailed noise.
 */
export function peakedAttention(layers: number, heads: number, seq: number, seed: number): AttentionStack {
  const r = rng(seed);
  const d = new Float32Array(layers * heads * seq * seq);
  for (let m = 0; m < layers * heads; m++) {
    const kind = Math.floor(r() * 4);
    const peak = kind === 3 ? 0 : 0.3 + 0.7 * r();
    for (let i = 0; i < seq; i++) {
      const off = (m * seq + i) * seq;
      let s = 0;
      for (let c = 0; c < seq; c++) {
        const g = (-Math.log(1 - r())) ** 3;
        d[off + c] = g;
        s += g;
      }
      for (let c = 0; c < seq; c++) d[off + c] *= (1 - peak) / s;
      d[off + (kind === 0 ? 0 : kind === 1 ? seq - 1 : Math.max(0, i - 1))] += peak;
    }
  }
  return attentionStack(d, layers, heads, seq);
}

/** Best (minimum) wall time of `reps` runs, in ms, and the last result. */
function time<T>(f: () => T, reps = 1): [number, T] {
  const [ms, , r] = timeCpu(f, reps);
  return [ms, r];
}

/** CPU time (ms) of every thread of this process, by thread id (Linux schedstat, ns); empty elsewhere. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
  } catch {
    // not Linux
  }
  return out;
}

/**
 * Best wall time of `reps` runs (ms), with that run's process CPU time (ms, all threads) and the
 * largest CPU time of a single thread in it (ms; NaN when unavailable), and the last result.
 */
function timeCpu<T>(f: () => T, reps = 1): [number, { cpu: number; thread: number }, T] {
  let best = Infinity;
  let cpu = { cpu: NaN, thread: NaN };
  let r: T | undefined;
  for (let k = 0; k < reps; k++) {
    const th0 = threadCpu();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    r = f();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const th1 = threadCpu();
    if (ms < best) {
      best = ms;
      let thread = th1.size ? 0 : NaN;
      for (const [tid, v] of th1) thread = Math.max(thread, v - (th0.get(tid) ?? 0));
      cpu = { cpu: (c.user + c.system) / 1000, thread };
    }
  }
  return [best, cpu, r as T];
}

/**
 * Runs the benchmark and prints a table.
 * @returns flat timings in milliseconds (`flowLast_seq64`, `flowAll1_seq64` (one thread) with
 *   `flowAll1Cpu_seq64`, `flowAll_seq64` (default threads) with `flowAllCpu_seq64` and
 *   `flowAllThreadCpu_seq64` (busiest thread), `rollout_seq64`, `ekLast_seq8`, `ekOverFlow_seq8`,
 *   `ekOverFlowAll1_seq8`, …, and `…_peaked_seq64` for peaked attention) and the max
 *   |flow − Edmonds–Karp| difference (float32 output).
 * @throws Error when the parallel and the one-thread results differ.
 */
export async function benchAttentionFlow(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rows: Record<string, string>[] = [];
  const cases: [string, number, (l: number, h: number, s: number, seed: number) => AttentionStack][] = [
    ['dirichlet', 8, randomAttention],
    ['dirichlet', 16, randomAttention],
    ['dirichlet', 32, randomAttention],
    ['dirichlet', 64, randomAttention],
    ['peaked', 64, peakedAttention],
  ];
  const threads = availableParallelism();
  attentionFlow(randomAttention(12, 12, 64, 999)); // large enough to start the worker pool
  for (const [kind, seq, gen] of cases) {
    const st = gen(12, 12, seq, seq);
    const key = kind === 'dirichlet' ? `seq${seq}` : `${kind}_seq${seq}`;
    attentionFlow(gen(12, 12, seq, 1000 + seq)); // warm-up (JIT)
    const [rollMs] = time(() => attentionRollout(st), 5);
    const [lastMs, last] = time(() => attentionFlow(st), 3);
    const reps = seq >= 64 ? 2 : 3;
    const [all1Ms, all1Cpu, all1] = timeCpu(() => attentionFlow(st, { outputLayer: 'all', workers: 1 }), reps);
    const [allMs, allCpu, all] = timeCpu(() => attentionFlow(st, { outputLayer: 'all' }), reps);
    let same = true;
    for (const l of all.layers) same &&= all.flow[l].every((v, p) => v === all1.flow[l][p]);
    if (!same) throw new Error(`attention flow: workers ${threads} and 1 differ at seq ${seq}`);
    out[`rollout_${key}`] = rollMs;
    out[`flowLast_${key}`] = lastMs;
    out[`flowAll1_${key}`] = all1Ms;
    out[`flowAll1Cpu_${key}`] = all1Cpu.cpu;
    out[`flowAll_${key}`] = allMs;
    out[`flowAllCpu_${key}`] = allCpu.cpu;
    out[`flowAllThreadCpu_${key}`] = allCpu.thread;
    const st2 = all.stats;
    const row: Record<string, string> = {
      attention: kind,
      seq: String(seq),
      'rollout ms': rollMs.toFixed(2),
      'flow last layer ms': lastMs.toFixed(1),
      'all layers, 1 thread: ms': all1Ms.toFixed(1),
      'CPU ms': all1Cpu.cpu.toFixed(0),
      [`all layers, ${threads} threads: ms`]: allMs.toFixed(1),
      'CPU ms (all threads)': allCpu.cpu.toFixed(0),
      'CPU ms (busiest thread)': allCpu.thread.toFixed(0),
      'µs / max flow (last)': ((1000 * lastMs) / (seq * seq)).toFixed(1),
      'no BFS needed (all)': `${((100 * (st2.certifiedEarly + st2.closedForm)) / st2.solves).toFixed(0)}%`,
      'BFS / solve (all)': (st2.bfsPhases / st2.solves).toFixed(2),
    };
    if (seq <= 16) {
      const [ekMs, ek] = time(() => edmondsKarpLastLayer(st));
      let diff = 0;
      const f = last.flow[11];
      for (let p = 0; p < seq * seq; p++) diff = Math.max(diff, Math.abs(ek[p] - f[p]));
      out[`ekLast_${key}`] = ekMs;
      out[`ekOverFlow_${key}`] = ekMs / lastMs;
      out[`maxAbsDiff_${key}`] = diff;
      row['Edmonds–Karp last ms'] = ekMs.toFixed(0);
      row['EK / flow'] = (ekMs / lastMs).toFixed(0);
      row['EK / all, 1 thread'] = (ekMs / all1Ms).toFixed(1);
      out[`ekOverFlowAll1_${key}`] = ekMs / all1Ms;
      row['max |Δ|'] = diff.toExponential(1);
    }
    rows.push(row);
  }
  console.table(rows);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchAttentionFlow().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
