/**
 * Entry point of one attention-flow worker (a `worker_threads` Worker started by `flowPool.ts`; not
 * meant to be imported). For every job it receives on its port it builds a {@link LayeredFlow} on the
 * job's shared weights and claims tasks with {@link runFlowTasks} next to the calling thread, then
 * counts the job in its state word 1 (the caller waits for that on a worker's first job only). An error is posted back on the port and flagged in the
 * job's control words, so that the caller, blocked in `Atomics.wait`, wakes and throws it.
 *
 * @module
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { CTRL_ERROR, CTRL_NEXT, CTRL_SIGNAL, jobSolver, runFlowTasks, type FlowJob } from './flowJobs.js';

/** What the pool passes to a worker at start. */
export interface FlowWorkerData {
  /** This worker's end of its channel to the pool. */
  port: MessagePort;
  /** Index of the worker in the pool (for messages). */
  index: number;
  /**
   * `[2]` int32 (SharedArrayBuffer): word 0 is set to 1 when the worker's module fails to load; word 1
   * counts the jobs the worker is done with.
   */
  state: SharedArrayBuffer;
}

/** A worker's report on its port: an error while solving a job. */
export interface FlowWorkerReport {
  error: string;
}

const { port, state } = workerData as FlowWorkerData;
const jobsDone = new Int32Array(state);
port.on('message', (job: FlowJob) => {
  const ctrl = new Int32Array(job.control);
  try {
    // A job whose tasks are all taken already (a small one, finished by the caller) needs no solver.
    if (Atomics.load(ctrl, CTRL_NEXT) < job.tasks.length) runFlowTasks(job, jobSolver(job));
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) } satisfies FlowWorkerReport);
    Atomics.store(ctrl, CTRL_ERROR, 1);
  } finally {
    Atomics.add(jobsDone, 1, 1);
    Atomics.add(ctrl, CTRL_SIGNAL, 1);
    Atomics.notify(ctrl, CTRL_SIGNAL);
  }
});
