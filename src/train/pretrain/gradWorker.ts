/**
 * Entry point of one data-parallel gradient worker (a `worker_threads` Worker with its own tfjs-wasm
 * instance, i.e. one core). It holds a replica of the model; on each request it reloads the parameters
 * from the shared parameter buffer when their version changed, runs {@link shardGradients} (or
 * {@link shardEval}) on its shard, writes the gradient into its own shared gradient buffer and replies
 * with the sums. Started by {@link WorkerPool}; not meant to be imported.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../backend/index.js';
import { Bert } from '../../model/bert.js';
import { BertParams } from '../../model/params.js';
import type { BertConfig } from '../../io/config.js';
import { checkLayout, writeParams, type ParamLayout } from './flatParams.js';
import { shardEval, shardGradients, type MaskedSequence } from './mlmGradients.js';

/** What the pool passes to a worker at start. */
export interface GradWorkerData {
  config: BertConfig;
  layout: ParamLayout;
  paramBuffer: SharedArrayBuffer;
  gradBuffer: SharedArrayBuffer;
  microBatch: number;
  padId: number;
  dropout: number;
}

/** A request to a worker. */
export interface GradWorkerRequest {
  id: number;
  kind: 'grad' | 'eval';
  /** Version of the shared parameters the request must run on. */
  version: number;
  seqs: MaskedSequence[];
}

/** A worker's reply. */
export type GradWorkerReply = { id: number; lossSum: number; count: number; correct: number; ms: number } | { id: number; error: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('gradWorker must run in a worker thread');
  const d = workerData as GradWorkerData;
  await initBackend();
  const model = new Bert(d.config, 'mlm', BertParams.random(d.config, 'mlm', 0));
  checkLayout(model.params, d.layout);
  const params = new Float32Array(d.paramBuffer);
  const grads = new Float32Array(d.gradBuffer);
  let version = -1;
  port.on('message', (req: GradWorkerRequest) => {
    const t0 = performance.now();
    try {
      if (req.version !== version) {
        writeParams(model.params, d.layout, params);
        version = req.version;
      }
      const sums =
        req.kind === 'grad'
          ? shardGradients(model, d.layout, req.seqs, grads, { microBatch: d.microBatch, padId: d.padId, dropout: d.dropout })
          : shardEval(model, req.seqs, { microBatch: d.microBatch, padId: d.padId });
      port.postMessage({ id: req.id, ...sums, ms: performance.now() - t0 } satisfies GradWorkerReply);
    } catch (e) {
      port.postMessage({ id: req.id, error: (e as Error).stack ?? String(e) } satisfies GradWorkerReply);
    }
  });
  port.postMessage({ ready: true });
}

void main().catch((e: unknown) => {
  parentPort?.postMessage({ fatal: (e as Error).stack ?? String(e) });
});
