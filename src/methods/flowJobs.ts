/**
 * The unit of work of {@link attentionFlow}, shared by the calling thread and the attention-flow
 * workers (`flowWorker.ts`): a *job* is every (sink layer, output row, input token) max flow of one
 * call, split into *tasks* (one sink layer and a block of output rows). Every thread that takes part
 * builds its own {@link LayeredFlow} on the job's shared weights and claims tasks from a shared
 * counter (largest first) until none is left, writing the values straight into the job's shared
 * output. No module here starts a worker.
 *
 * Determinism: a task starts from the trivial cuts of its sink layer ({@link LayeredFlow.resetCuts})
 * and solves its pairs in a fixed order, so its values depend only on the task, never on which thread
 * ran it or what that thread solved before: the result is the same with any number of workers.
 *
 * @module
 */
import { LayeredFlow } from './maxflow.js';

/** One task: the max flows from every input token to the output rows `rowStart..rowEnd−1` of one layer. */
export interface FlowTask {
  /** Index into {@link FlowJob.sinkLayers}. */
  layerIndex: number;
  rowStart: number;
  rowEnd: number;
  /** Estimated cost (arbitrary units, ∝ max flows × edges of their graph). */
  cost: number;
}

/** Control words of a job (`Int32Array` over {@link FlowJob.control}). */
export const CTRL_NEXT = 0;
/** Tasks finished (all threads). */
export const CTRL_DONE = 1;
/** Set to 1 by a thread whose task threw. */
export const CTRL_ERROR = 2;
/** Incremented after every source solved (a heartbeat for the caller's wait). */
export const CTRL_PROGRESS = 3;
/** Incremented (and notified) on every task done and every worker done: what the caller waits on. */
export const CTRL_SIGNAL = 4;
/** Length of the control array. */
export const CTRL_WORDS = 5;
/** Counters per task in {@link FlowJob.stats}: solves, certifiedEarly, bfsPhases, cutsStored, closedForm. */
export const STAT_WORDS = 5;

/** Everything a thread needs to take part in a job; structured-clonable (buffers are shared). */
export interface FlowJob {
  seq: number;
  tol: number | undefined;
  /** Edge layers in `weights` (the graph's depth L). */
  edgeLayers: number;
  /** `[edgeLayers, seq, seq]` float64 (SharedArrayBuffer): the capacities, as {@link LayeredFlow}'s weights. */
  weights: SharedArrayBuffer;
  /** The sink node layers t (1..edgeLayers), in output order. */
  sinkLayers: number[];
  /** The sink positions (output rows). */
  positions: number[];
  /** Tasks, largest first. */
  tasks: FlowTask[];
  /** `[sinkLayers.length, positions.length, seq]` float64 (SharedArrayBuffer): the max-flow values. */
  out: SharedArrayBuffer;
  /** `[tasks.length, STAT_WORDS]` float64 (SharedArrayBuffer): each task's solver counters. */
  stats: SharedArrayBuffer;
  /** `[CTRL_WORDS]` int32 (SharedArrayBuffer). */
  control: SharedArrayBuffer;
}

/** Estimated serial cost of the max flows from `seq` sources to `rows` sinks of node layer `t`. */
export function taskCost(t: number, rows: number, seq: number): number {
  return rows * seq * (t <= 2 ? seq : t * seq * seq);
}

/**
 * Splits the work into tasks: one per sink layer; when there are fewer than `minTasks` layers with
 * real solves (t ≥ 3) and `seq ≥ splitSeq`, the rows of each such layer are split into equal blocks
 * so that there are about `minTasks` of them. The split depends only on the problem (never on the
 * number of workers), which keeps the result independent of it.
 * @returns tasks sorted by decreasing cost (ties by layer, then row).
 */
export function planFlowTasks(sinkLayers: number[], nOut: number, seq: number, minTasks = 8, splitSeq = 32): FlowTask[] {
  const deep = sinkLayers.filter((t) => t >= 3).length;
  const blocks = deep > 0 && deep < minTasks && seq >= splitSeq ? Math.min(nOut, Math.ceil(minTasks / deep)) : 1;
  const tasks: FlowTask[] = [];
  sinkLayers.forEach((t, layerIndex) => {
    const b = t >= 3 ? blocks : 1;
    for (let q = 0; q < b; q++) {
      const rowStart = Math.floor((q * nOut) / b);
      const rowEnd = Math.floor(((q + 1) * nOut) / b);
      if (rowEnd > rowStart) tasks.push({ layerIndex, rowStart, rowEnd, cost: taskCost(t, rowEnd - rowStart, seq) });
    }
  });
  return tasks.sort((a, b) => b.cost - a.cost || a.layerIndex - b.layerIndex || a.rowStart - b.rowStart);
}

/**
 * The solver of a job for one thread, on the job's shared weights (validates them).
 *
 * It keeps no minimum cuts between solves (`maxCuts: 0`), only the trivial ones: on the bench's
 * attention stacks (12 × 16..64 tokens, Dirichlet-like and peaked) the stored cuts never changed a
 * value (bit-identical results) and cost ≈ 10% of the CPU time (same-process A/B, 0.90–0.91×).
 */
export function jobSolver(job: FlowJob): LayeredFlow {
  const ss = job.seq * job.seq;
  const w = new Float64Array(job.weights);
  const mats = Array.from({ length: job.edgeLayers }, (_, l) => w.subarray(l * ss, (l + 1) * ss));
  return new LayeredFlow(mats, job.seq, { tol: job.tol, maxCuts: 0 });
}

/**
 * Claims and solves tasks of `job` until none is left (or another thread reported an error).
 * @param solver from {@link jobSolver} on the same job.
 * @returns the number of tasks this thread solved.
 * @throws whatever the solver throws (the caller reports it).
 */
export function runFlowTasks(job: FlowJob, solver: LayeredFlow): number {
  const { seq, positions, tasks } = job;
  const ctrl = new Int32Array(job.control);
  const out = new Float64Array(job.out);
  const stats = new Float64Array(job.stats);
  const nOut = positions.length;
  let solved = 0;
  for (;;) {
    if (Atomics.load(ctrl, CTRL_ERROR) !== 0) return solved;
    const k = Atomics.add(ctrl, CTRL_NEXT, 1);
    if (k >= tasks.length) return solved;
    const task = tasks[k];
    const t = job.sinkLayers[task.layerIndex];
    const rows = positions.slice(task.rowStart, task.rowEnd);
    const col = new Float64Array(rows.length);
    const before = { ...solver.stats };
    solver.resetCuts(t);
    const base = task.layerIndex * nOut * seq;
    for (let j = 0; j < seq; j++) {
      solver.maxFlowsFromSource(j, t, rows, col);
      for (let r = 0; r < rows.length; r++) out[base + (task.rowStart + r) * seq + j] = col[r];
      Atomics.add(ctrl, CTRL_PROGRESS, 1);
    }
    const s = solver.stats;
    const o = k * STAT_WORDS;
    stats[o] = s.solves - before.solves;
    stats[o + 1] = s.certifiedEarly - before.certifiedEarly;
    stats[o + 2] = s.bfsPhases - before.bfsPhases;
    stats[o + 3] = s.cutsStored - before.cutsStored;
    stats[o + 4] = s.closedForm - before.closedForm;
    solved++;
    Atomics.add(ctrl, CTRL_DONE, 1);
    Atomics.add(ctrl, CTRL_SIGNAL, 1);
    Atomics.notify(ctrl, CTRL_SIGNAL);
  }
}
