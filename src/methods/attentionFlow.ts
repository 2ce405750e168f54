/**
 * Attention flow (Abnar & Zuidema 2020, §3, "Attention Flow").
 *
 * The attention graph is a layered DAG with (layers + 1) × seq nodes: node (0, j) is input token j,
 * node (l, i) the output of transformer layer l (1-based here; the API uses 0-based transformer
 * layers, so API layer l is node layer l + 1). The edge (l−1, j) → (l, i) has capacity
 * Â_l[i, j], the residual-augmented, row-normalised, head-averaged attention of layer l
 * (`Â = 0.5·A + 0.5·I`, see {@link augmentedAttention}). The flow value of output node (l, i) and
 * input token j is the maximum flow from (0, j) to (l, i).
 *
 * The reference code (samiraabnar/attention_flow, `compute_flows`) builds the same graph with edges
 * pointing down (output → input) and runs networkx Edmonds–Karp from the output node to each input
 * node; reversing every edge and swapping source and sink leaves every max-flow value unchanged.
 * It then divides each output node's row by its sum (`flow_values[u] /= flow_values[u].sum()`);
 * here that is `normalize: true`, off by default (raw max-flow values).
 *
 * Computation: `LayeredFlow` of `maxflow.ts` (Dinic on the implicit dense graph; for output layer l only node
 * layers ≤ l + 1 exist; the trivial cuts certify most solves early), in the calling thread or, for large
 * problems, also in `worker_threads` workers (option `workers`). Exact up to the tolerance.
 *
 * @module
 */
import { checkLayer, checkPosition, type AttentionStack } from './attentionTypes.js';
import { availableParallelism } from 'node:os';
import { OptionError } from '../errors.js';
import { CTRL_WORDS, STAT_WORDS, jobSolver, planFlowTasks, runFlowTasks, type FlowJob } from './flowJobs.js';
import { flowWorkersStarted, runFlowJobParallel } from './flowPool.js';
import type { LayeredFlowStats } from './maxflow.js';
import { augmentedAttention, type AugmentOptions } from './rollout.js';

export { closeFlowWorkers } from './flowPool.js';

/**
 * Below this estimated cost (units of `taskCost` in `flowJobs.ts`: max flows × edges; about 1.5e6
 * per ms of one core) a call stays in the calling thread when no worker is running yet (starting one
 * costs tens of ms, ~1 s from tsx): about 60 ms of solving (12 layers × 64 tokens, all rows, is
 * ~1.3e9; × 32 tokens ~8e7).
 */
const PARALLEL_COLD_COST = 1e8;
/**
 * With workers already running: parallel from this cost on (about 13 ms of solving; 12 × 32 all rows
 * is ~8e7 and took 58 ms with 2 threads against 120 ms with one on the loaded 2-core machine; 12 × 16
 * all rows, ~5e6, was slower with 2 threads there, so it stays below).
 */
const PARALLEL_WARM_COST = 2e7;

/** Options of {@link attentionFlow}. */
export interface AttentionFlowOptions extends AugmentOptions {
  /**
   * The 0-based transformer layer(s) whose outputs are the flow sinks: one index, a list, or
   * `'all'`. Default: the last layer.
   */
  outputLayer?: number | number[] | 'all';
  /** The output positions (sinks) computed, e.g. `[0]` for [CLS]; default all positions. */
  outputPositions?: number[];
  /**
   * Divide each output row by its sum, as the reference code does; default `false` (the paper's
   * max-flow values).
   */
  normalize?: boolean;
  /** Residual capacities ≤ tol count as saturated; default 1e-12. */
  tol?: number;
  /**
   * Threads that solve max flows: the calling thread plus `workers − 1` `worker_threads` workers
   * (started on first use, kept for later calls, never keeping the process alive; see
   * {@link closeFlowWorkers}). Default `os.availableParallelism()`; `1` = all in the calling thread.
   * Small problems stay in the calling thread whatever the value. The values do not depend on it.
   */
  workers?: number;
}

/** Result of {@link attentionFlow}. */
export interface AttentionFlowResult {
  seq: number;
  /** The 0-based transformer layers computed, ascending. */
  layers: number[];
  /** The output positions, in the order of the rows. */
  outputPositions: number[];
  /**
   * Per computed layer: `[outputPositions.length, seq]` row-major; entry `[r, j]` = max flow from
   * input token j to output position `outputPositions[r]` after that layer.
   */
  flow: Record<number, Float32Array>;
  /** Solver counters summed over the tasks (solves, solves certified early by a known cut, BFS phases, cuts stored, closed forms). */
  stats: LayeredFlowStats;
}

function resolveLayers(stack: AttentionStack, spec: AttentionFlowOptions['outputLayer']): number[] {
  if (spec === undefined) return [stack.layers - 1];
  if (spec === 'all') return Array.from({ length: stack.layers }, (_, l) => l);
  const list = typeof spec === 'number' ? [spec] : spec;
  if (!Array.isArray(list)) throw new Error(`attentionFlow: outputLayer must be a layer index, a list of them or 'all', got ${String(spec)}`);
  for (const l of list) checkLayer(stack, l, 'attentionFlow outputLayer');
  return [...new Set(list)].sort((a, b) => a - b);
}

/**
 * Attention flow values (Abnar & Zuidema 2020, §3, "Attention Flow": max flow in the attention graph
 * from every input token to the chosen output nodes).
 *
 * Work: one max flow per (computed layer, output position, input token), on graphs of up to
 * `(outputLayer + 2) × seq` nodes. The pairs are split into tasks (a layer, a block of output rows;
 * see `flowJobs.ts`) that the calling thread and, for large problems, `workers − 1` worker threads
 * claim; each task starts from the same solver state, so the result is identical for any `workers`.
 *
 * @returns per computed layer a `[outputPositions.length, seq]` float32 matrix (computed in float64).
 * @throws Error naming an unknown output layer, output position or head index, or a residual
 *   weight outside [0, 1]; OptionError on a `workers` that is not a positive integer;
 *   FlowlensError when a worker thread fails (the message names the worker and its error).
 */
export function attentionFlow(stack: AttentionStack, opts: AttentionFlowOptions = {}): AttentionFlowResult {
  const { seq } = stack;
  const layers = resolveLayers(stack, opts.outputLayer);
  const positions = opts.outputPositions ?? Array.from({ length: seq }, (_, i) => i);
  if (!Array.isArray(positions) || positions.length === 0) throw new Error('attentionFlow: outputPositions must be a non-empty list of positions');
  for (const p of positions) checkPosition(stack, p, 'attentionFlow outputPositions');
  const workers = opts.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new OptionError(`attentionFlow: workers must be a positive integer, got ${String(opts.workers)}`);
  const top = layers[layers.length - 1];
  const ss = seq * seq;
  const weights = new SharedArrayBuffer((top + 1) * ss * 8);
  const w = new Float64Array(weights);
  for (let l = 0; l <= top; l++) w.set(augmentedAttention(stack, l, opts), l * ss);
  const nOut = positions.length;
  const sinkLayers = layers.map((l) => l + 1);
  const tasks = planFlowTasks(sinkLayers, nOut, seq);
  const job: FlowJob = {
    seq,
    tol: opts.tol,
    edgeLayers: top + 1,
    weights,
    sinkLayers,
    positions,
    tasks,
    out: new SharedArrayBuffer(layers.length * nOut * seq * 8),
    stats: new SharedArrayBuffer(tasks.length * STAT_WORDS * 8),
    control: new SharedArrayBuffer(CTRL_WORDS * 4),
  };
  const solver = jobSolver(job); // validates the weights and tol in the calling thread
  const helpers = Math.min(workers, tasks.length) - 1;
  const cost = tasks.reduce((a, t) => a + t.cost, 0);
  if (helpers > 0 && (cost >= PARALLEL_COLD_COST || (cost >= PARALLEL_WARM_COST && flowWorkersStarted() >= helpers))) runFlowJobParallel(job, solver, helpers);
  else runFlowTasks(job, solver);
  const vals = new Float64Array(job.out);
  const flow: Record<number, Float32Array> = {};
  layers.forEach((l, li) => {
    const out = new Float32Array(nOut * seq);
    for (let r = 0; r < nOut; r++) {
      const o = (li * nOut + r) * seq;
      let sum = 0;
      for (let j = 0; j < seq; j++) sum += vals[o + j];
      const scale = opts.normalize && sum > 0 ? 1 / sum : 1;
      for (let j = 0; j < seq; j++) out[r * seq + j] = vals[o + j] * scale;
    }
    flow[l] = out;
  });
  const st = new Float64Array(job.stats);
  const stats: LayeredFlowStats = { solves: 0, certifiedEarly: 0, bfsPhases: 0, cutsStored: 0, closedForm: 0 };
  for (let k = 0; k < tasks.length; k++) {
    const o = k * STAT_WORDS;
    stats.solves += st[o];
    stats.certifiedEarly += st[o + 1];
    stats.bfsPhases += st[o + 2];
    stats.cutsStored += st[o + 3];
    stats.closedForm += st[o + 4];
  }
  return { seq, layers, outputPositions: positions, flow, stats };
}

/**
 * Attention flow of every layer and every output position, in the shape of
 * {@link attentionRollout}'s result so the two can be compared directly.
 *
 * @returns `[layers, seq, seq]` float32: `[l, i, j]` = max flow from input token j to output
 *   position i after 0-based layer l.
 * @throws as {@link attentionFlow}.
 */
export function attentionFlowAllLayers(stack: AttentionStack, opts: Omit<AttentionFlowOptions, 'outputLayer' | 'outputPositions'> = {}): Float32Array {
  const res = attentionFlow(stack, { ...opts, outputLayer: 'all' });
  const ss = stack.seq * stack.seq;
  const out = new Float32Array(stack.layers * ss);
  for (const l of res.layers) out.set(res.flow[l], l * ss);
  return out;
}

/** Options of {@link flowTokenImportance}. */
export interface FlowImportanceOptions extends Omit<AttentionFlowOptions, 'outputLayer' | 'outputPositions'> {
  /** 0-based layer; default the last. */
  layer?: number;
  /** Output position (0 = [CLS], or the [MASK] position); default 0. */
  position?: number;
}

/**
 * Token importance from attention flow: the flow from every input token to one output position at
 * one layer (paper Fig. 2–4, "attention flow" maps of the [CLS]/[MASK] token).
 *
 * @returns `[seq]` max-flow values (or normalised to sum 1 with `normalize`).
 * @throws Error naming an unknown layer, position or head.
 */
export function flowTokenImportance(stack: AttentionStack, opts: FlowImportanceOptions = {}): Float32Array {
  const layer = opts.layer ?? stack.layers - 1;
  const position = opts.position ?? 0;
  const res = attentionFlow(stack, { ...opts, outputLayer: layer, outputPositions: [position] });
  return res.flow[layer];
}
