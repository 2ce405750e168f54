/**
 * Data-parallel gradients on several cores: N `worker_threads` workers, each with its own tfjs-wasm
 * instance (tfjs-wasm runs one thread per instance in Node, see `../shared/NOTES-tfjs.md`), share one
 * parameter buffer and write one gradient buffer each (`SharedArrayBuffer`s, no copies through
 * messages). Each step, every worker computes the gradient of the summed loss on its shard; the pool
 * adds the N gradients in worker order (deterministic) into {@link GradientEngine.grad}.
 *
 * {@link LocalGradients} is the same contract in the calling thread (no workers): the reference the
 * pool is tested against, and the fallback for `--workers 0`.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import { Bert } from '../../model/bert.js';
import { BertParams } from '../../model/params.js';
import type { BertConfig } from '../../io/config.js';
import { paramLayout, writeParams, type ParamLayout } from './flatParams.js';
import type { GradWorkerData, GradWorkerReply, GradWorkerRequest } from './gradWorker.js';
import { shardEval, shardGradients, type MaskedSequence, type ShardSums } from './mlmGradients.js';

/** Options shared by both engines. */
export interface EngineOptions {
  /** Sequences per forward/backward pass inside a worker (memory bound). */
  microBatch: number;
  padId: number;
  /** Dropout probability in training passes (default 0). */
  dropout?: number;
}

/** Computes summed MLM gradients over shards of a batch. */
export interface GradientEngine {
  readonly layout: ParamLayout;
  /** Number of shards a batch is split into (workers; 1 for the local engine). */
  readonly shards: number;
  /** The summed gradient of the last {@link GradientEngine.gradients} call, `[layout.total]`. */
  readonly grad: Float32Array;
  /** Make `flat` (`[layout.total]`) the parameters of the next calls. */
  setParams(flat: Float32Array): void;
  /** Gradient of the summed loss over all shards (into `grad`); returns the per-shard sums. */
  gradients(shards: MaskedSequence[][]): Promise<ShardSums[]>;
  /** Summed loss and accuracy over `seqs` (split over the shards). */
  evaluate(seqs: MaskedSequence[]): Promise<ShardSums>;
  /** Per-shard milliseconds of the last call (for throughput figures). */
  readonly lastMs: number[];
  close(): Promise<void>;
}

/** Split `xs` into `n` contiguous parts of nearly equal size (the first ones one longer). */
export function splitEven<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(xs.length / n) + (i < xs.length % n ? 1 : 0);
    out.push(xs.slice(start, start + size));
    start += size;
  }
  return out;
}

function addSums(a: ShardSums[]): ShardSums {
  return a.reduce((s, x) => ({ lossSum: s.lossSum + x.lossSum, count: s.count + x.count, correct: s.correct + x.correct }), {
    lossSum: 0,
    count: 0,
    correct: 0,
  });
}

/** The gradient engine in the calling thread (one core). */
export class LocalGradients implements GradientEngine {
  readonly layout: ParamLayout;
  readonly shards = 1;
  readonly grad: Float32Array;
  lastMs: number[] = [0];
  private readonly model: Bert;

  /** @param config model dimensions; @param opts micro-batch, pad id, dropout. */
  constructor(
    config: BertConfig,
    private readonly opts: EngineOptions,
  ) {
    this.model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', 0));
    this.layout = paramLayout(this.model.params);
    this.grad = new Float32Array(this.layout.total);
  }

  setParams(flat: Float32Array): void {
    writeParams(this.model.params, this.layout, flat);
  }

  async gradients(shards: MaskedSequence[][]): Promise<ShardSums[]> {
    const t0 = performance.now();
    const sums = shardGradients(this.model, this.layout, shards.flat(), this.grad, this.opts);
    this.lastMs = [performance.now() - t0];
    return [sums];
  }

  async evaluate(seqs: MaskedSequence[]): Promise<ShardSums> {
    return shardEval(this.model, seqs, this.opts);
  }

  async close(): Promise<void> {
    this.model.dispose();
  }
}

/** N gradient workers over shared buffers. */
export class WorkerPool implements GradientEngine {
  readonly grad: Float32Array;
  lastMs: number[];
  private version = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: GradWorkerReply) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  private constructor(
    readonly layout: ParamLayout,
    private readonly workers: Worker[],
    private readonly params: Float32Array,
    private readonly workerGrads: Float32Array[],
  ) {
    this.grad = new Float32Array(layout.total);
    this.lastMs = workers.map(() => 0);
    workers.forEach((w, i) => {
      w.on('message', (m: GradWorkerReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if ('error' in m) p.reject(new Error(`gradient worker ${i}: ${m.error}`));
        else p.resolve(m);
      });
      w.on('error', (e) => this.fail(new Error(`gradient worker ${i} crashed: ${e.message}`)));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`gradient worker ${i} exited with code ${code} (out of memory? lower --micro-batch)`));
      });
    });
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /**
   * Start `n` workers for a model of dimensions `config`.
   * @throws Error when a worker fails to start (the message names the cause).
   */
  static async start(config: BertConfig, n: number, opts: EngineOptions): Promise<WorkerPool> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`number of workers must be a positive integer, got ${n}`);
    // The layout is a pure function of the config: build it from a throw-away parameter set's shapes.
    const probe = BertParams.random({ ...config, vocabSize: config.vocabSize }, 'mlm', 0);
    const layout = paramLayout(probe);
    probe.dispose();
    const paramBuffer = new SharedArrayBuffer(layout.total * 4);
    const gradBuffers = Array.from({ length: n }, () => new SharedArrayBuffer(layout.total * 4));
    const workers = gradBuffers.map(
      (gradBuffer) =>
        new Worker(new URL('./gradWorker.js', import.meta.url), {
          workerData: {
            config,
            layout,
            paramBuffer,
            gradBuffer,
            microBatch: opts.microBatch,
            padId: opts.padId,
            dropout: opts.dropout ?? 0,
          } satisfies GradWorkerData,
        }),
    );
    await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            const onMsg = (m: { ready?: boolean; fatal?: string }) => {
              if (m.ready) {
                w.off('message', onMsg);
                resolve();
              } else if (m.fatal) reject(new Error(`gradient worker ${i} failed to start: ${m.fatal}`));
            };
            w.on('message', onMsg);
            w.once('error', (e) => reject(new Error(`gradient worker ${i} failed to start: ${e.message}`)));
          }),
      ),
    ).catch(async (e: unknown) => {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    });
    return new WorkerPool(
      layout,
      workers,
      new Float32Array(paramBuffer),
      gradBuffers.map((b) => new Float32Array(b)),
    );
  }

  get shards(): number {
    return this.workers.length;
  }

  setParams(flat: Float32Array): void {
    if (flat.length !== this.layout.total) throw new Error(`setParams: ${flat.length} values for a layout of ${this.layout.total}`);
    this.params.set(flat);
    this.version++;
  }

  private request(i: number, kind: GradWorkerRequest['kind'], seqs: MaskedSequence[]): Promise<ShardSums & { ms: number }> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as unknown as (r: GradWorkerReply) => void, reject });
      this.workers[i]!.postMessage({ id, kind, version: this.version, seqs } satisfies GradWorkerRequest);
    });
  }

  async gradients(shards: MaskedSequence[][]): Promise<ShardSums[]> {
    if (shards.length !== this.workers.length) throw new Error(`${shards.length} shards for ${this.workers.length} workers`);
    const replies = await Promise.all(shards.map((s, i) => this.request(i, 'grad', s)));
    this.lastMs = replies.map((r) => r.ms);
    // Sum in worker order: deterministic for a given number of workers.
    const g = this.grad;
    g.set(this.workerGrads[0]!);
    for (let w = 1; w < this.workerGrads.length; w++) {
      const x = this.workerGrads[w]!;
      for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) + (x[i] as number);
    }
    return replies.map(({ lossSum, count, correct }) => ({ lossSum, count, correct }));
  }

  async evaluate(seqs: MaskedSequence[]): Promise<ShardSums> {
    const parts = splitEven(seqs, this.workers.length);
    const replies = await Promise.all(parts.map((s, i) => this.request(i, 'eval', s)));
    return addSums(replies);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * The engine for `workers` cores: a {@link WorkerPool} for ≥ 1, {@link LocalGradients} for 0.
 */
export async function gradientEngine(config: BertConfig, workers: number, opts: EngineOptions): Promise<GradientEngine> {
  return workers === 0 ? new LocalGradients(config, opts) : WorkerPool.start(config, workers, opts);
}

export { addSums };
