/**
 * A lazily started pool of attention-flow workers (`worker_threads`) that {@link attentionFlow} uses
 * for large problems, without making it asynchronous: the calling thread posts a {@link FlowJob}
 * (shared buffers) to the workers, solves tasks itself, then blocks in `Atomics.wait` until every
 * task is finished. Errors come back through each worker's `MessagePort`, read synchronously with
 * `receiveMessageOnPort`.
 *
 * The workers are `unref`'d (they never keep the process alive) and persist between calls;
 * {@link closeFlowWorkers} terminates them. From the compiled package the worker is
 * `flowWorker.js` next to this file; from the TypeScript sources (tsx) it is `flowWorker.ts`, loaded
 * after registering tsx's loader inside the worker (tsx registers itself in the main thread only on
 * Node 20).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { FlowlensError } from '../errors.js';
import { CTRL_DONE, CTRL_ERROR, CTRL_NEXT, CTRL_PROGRESS, CTRL_SIGNAL, runFlowTasks, type FlowJob } from './flowJobs.js';
import type { LayeredFlow } from './maxflow.js';
import type { FlowWorkerData, FlowWorkerReport } from './flowWorker.js';

/** A wait with no task finished and no source solved by any thread for this long is an error. */
const STALL_MS = 120_000;

interface PoolWorker {
  worker: Worker;
  /** The pool's end of the worker's channel. */
  port: MessagePort;
  /** `[2]` int32: word 0 = 1 when the worker's module failed to load; word 1 = jobs it is done with. */
  state: Int32Array;
}

let pool: PoolWorker[] = [];

/**
 * Runs in the worker before its module: registers tsx when needed, reports a failed load. Valid both
 * as a script and as a module (a worker inherits the parent's flags, `--input-type=module` included).
 */
const BOOTSTRAP = `
import('node:worker_threads').then(async ({ workerData }) => {
  try {
    if (workerData.tsx) (await import(workerData.tsx)).register();
    await import(workerData.entry);
  } catch (e) {
    workerData.port.postMessage({ error: 'could not load ' + workerData.entry + ': ' + (e && e.stack ? e.stack : String(e)) });
    const s = new Int32Array(workerData.state);
    Atomics.store(s, 0, 1);
  }
});
`;

function workerEntry(): { entry: string; tsx: string | undefined } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { entry: new URL('./flowWorker.js', here).href, tsx: undefined };
  let tsx: string;
  try {
    // The ESM build of tsx's API (its `exports['./esm/api'].import`), found without import.meta.resolve
    // (absent when tsx compiles this file to CommonJS, as `tsx --eval` does).
    const pkgPath = createRequire(here).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> };
    let target: unknown = pkg.exports?.['./esm/api'];
    while (target && typeof target === 'object') target = (target as Record<string, unknown>).import ?? (target as Record<string, unknown>).default;
    if (typeof target !== 'string') throw new Error(`no ESM entry './esm/api' in ${pkgPath}`);
    tsx = pathToFileURL(join(dirname(pkgPath), target)).href;
  } catch (e) {
    throw new FlowlensError(
      `attentionFlow workers: running from the TypeScript sources needs the 'tsx' package to load the worker (${String(e)}); or use workers: 1`,
    );
  }
  return { entry: new URL('./flowWorker.ts', here).href, tsx };
}

function startWorker(index: number): PoolWorker {
  const { entry, tsx } = workerEntry();
  const { port1, port2 } = new MessageChannel();
  const stateBuf = new SharedArrayBuffer(8);
  const data: FlowWorkerData & { entry: string; tsx: string | undefined } = { port: port2, index, entry, tsx, state: stateBuf };
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data, transferList: [port2] });
  worker.unref();
  port1.unref();
  // Errors are read synchronously from the port; the events only keep an unhandled 'error' from
  // crashing the process.
  worker.on('error', () => {});
  return { worker, port: port1, state: new Int32Array(stateBuf) };
}

/** Number of attention-flow workers currently started. */
export function flowWorkersStarted(): number {
  return pool.length;
}

/**
 * Terminates the attention-flow workers (the next parallel call starts new ones). Not needed before
 * exit: the workers never keep the process alive.
 */
export async function closeFlowWorkers(): Promise<void> {
  const old = pool;
  pool = [];
  await Promise.all(old.map((w) => w.worker.terminate()));
}

function reports(ws: PoolWorker[]): string[] {
  const out: string[] = [];
  ws.forEach((w, i) => {
    for (let m = receiveMessageOnPort(w.port); m; m = receiveMessageOnPort(w.port)) out.push(`worker ${i}: ${(m.message as FlowWorkerReport).error}`);
  });
  return out;
}

/**
 * Solves `job` with the calling thread (`solver`, built on the job) and `helpers` pool workers
 * (started on first use), blocking until every task is done. A worker's first job is also waited for
 * until the worker is done with it (so that a worker that cannot start or build its solver is
 * reported, even when the caller solved every task); later jobs are not (a busy machine may run a
 * worker late, and the caller then does its share).
 * @param callerSolves whether the calling thread claims tasks too (default true; false leaves them
 *   to the workers).
 * @throws FlowlensError when a worker fails to load, throws while solving (its message is included),
 *   or no thread makes progress for 2 minutes (crashed); whatever `solver` throws in the calling thread.
 */
export function runFlowJobParallel(job: FlowJob, solver: LayeredFlow, helpers: number, callerSolves = true): void {
  if (!Number.isInteger(helpers) || helpers < 1) throw new Error(`runFlowJobParallel: helpers must be a positive integer, got ${helpers}`);
  while (pool.length < helpers) pool.push(startWorker(pool.length));
  const ws = pool.slice(0, helpers);
  const fresh = ws.filter((w) => Atomics.load(w.state, 1) === 0);
  for (const w of ws) w.port.postMessage(job);
  const ctrl = new Int32Array(job.control);
  const fail = (why: string): never => {
    Atomics.store(ctrl, CTRL_ERROR, 1);
    Atomics.store(ctrl, CTRL_NEXT, job.tasks.length);
    const msgs = reports(ws);
    if (ws.some((w) => Atomics.load(w.state, 0) !== 0)) void closeFlowWorkers();
    throw new FlowlensError(`attentionFlow: ${why}${msgs.length ? `: ${msgs.join('; ')}` : ''}`);
  };
  if (callerSolves) {
    try {
      runFlowTasks(job, solver);
    } catch (e) {
      Atomics.store(ctrl, CTRL_ERROR, 1);
      throw e;
    }
  }
  let progress = -1;
  let since = performance.now();
  for (;;) {
    if (Atomics.load(ctrl, CTRL_ERROR) !== 0) fail('a worker failed');
    if (ws.some((w) => Atomics.load(w.state, 0) !== 0)) fail('a worker failed to start');
    const signal = Atomics.load(ctrl, CTRL_SIGNAL);
    if (Atomics.load(ctrl, CTRL_DONE) >= job.tasks.length && fresh.every((w) => Atomics.load(w.state, 1) > 0)) return;
    Atomics.wait(ctrl, CTRL_SIGNAL, signal, 50);
    const p = Atomics.load(ctrl, CTRL_PROGRESS) + Atomics.load(ctrl, CTRL_SIGNAL);
    if (p !== progress) {
      progress = p;
      since = performance.now();
    } else if (performance.now() - since > STALL_MS) fail(`no thread made progress for ${STALL_MS / 1000} s (a worker crashed?)`);
  }
}
