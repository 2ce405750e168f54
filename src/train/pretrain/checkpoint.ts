/**
 * Trainer checkpoints: everything needed to continue a masked-LM pretraining run exactly where it
 * stopped: the parameters, AdamW's moments and step count (in `state-<step>.safetensors`) and the
 * trainer's record (`trainer.json`: step, settings, data key, loss history, evaluations, time spent).
 * The data position needs no state of its own: batches and masks are pure functions of (seed, step).
 *
 * Writing is crash-safe: the state file is written atomically under a new name, then `trainer.json`
 * (atomically) points to it, then older state files are removed, so a run killed at any moment leaves a
 * consistent checkpoint; stale temporary files of a killed save are removed on the next save.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeFileAtomic, writeSafetensors, type TensorToWrite } from '../../io/safetensors.js';
import type { AdamWState } from './adamw.js';
import type { ParamLayout } from './flatParams.js';

/** One logged training step. */
export interface StepRecord {
  step: number;
  /** Mean masked-token cross-entropy of the batch (nats). */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens processed so far (padding excluded). */
  tokens: number;
  /** Training seconds so far (all sessions). */
  seconds: number;
}

/** One held-out evaluation. */
export interface EvalRecord {
  step: number;
  tokens: number;
  /** Mean masked-token cross-entropy on the held-out set (nats). */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Share of masked positions predicted exactly (arg-max). */
  accuracy: number;
  /** Masked positions evaluated. */
  count: number;
}

/** The trainer's record, `trainer.json`. */
export interface TrainerRecord {
  format: 'flowlens-mlm-trainer/1';
  step: number;
  /** File name of the state (`state-<step>.safetensors`). */
  stateFile: string;
  /** Settings the run was started with (model dimensions, optimisation, data). */
  settings: Record<string, unknown>;
  /** Key of the training data (corpus text and packing); a resumed run must find the same. */
  dataKey: string;
  history: StepRecord[];
  evals: EvalRecord[];
  /** Number of workers the run used (results are bit-identical only with the same number). */
  workers: number;
  /**
   * The training data over the run: from `step` on, the data with `dataKey` (more than one entry when a
   * run continued on a rebuilt corpus with `--new-data`; the held-out set changes with it).
   */
  dataHistory?: { step: number; dataKey: string }[];
}

/** What a checkpoint holds. */
export interface Checkpoint {
  record: TrainerRecord;
  params: Float32Array;
  adam: AdamWState;
}

/**
 * Save a checkpoint into `dir` (created when missing).
 * @param dtype `F32` (default): parameters and moments, exact (resumes bit-identically); `compact`: the
 *   moments only, in BF16, for the copy committed with the model, whose parameters are the model
 *   folder's own weights (F16), read back by {@link loadCheckpoint}'s `params` argument.
 */
export function saveCheckpoint(dir: string, layout: ParamLayout, ck: Checkpoint, dtype: 'F32' | 'compact' = 'F32'): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.startsWith('.') && f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
  const stateFile = `state-${ck.record.step}.safetensors`;
  const groups: [string, Float32Array][] = [
    ['param', ck.params],
    ['adam_m', ck.adam.m],
    ['adam_v', ck.adam.v],
  ];
  if (dtype === 'F32') {
    const tensors = new Map<string, TensorToWrite>();
    for (const [g, arr] of groups)
      for (const s of layout.slots) tensors.set(`${g}.${s.name}`, { shape: s.shape, data: arr.subarray(s.offset, s.offset + s.size) });
    writeSafetensors(join(dir, stateFile), tensors, { dtype: 'F32', metadata: { format: 'flowlens-mlm-trainer', adam_t: String(ck.adam.t) } });
  } else {
    // Compact: the moments only (BF16, for their range); the parameters are the model folder's weights.
    const tensors = new Map<string, TensorToWrite>();
    for (const [g, arr] of groups.slice(1))
      for (const s of layout.slots) tensors.set(`${g}.${s.name}`, { shape: s.shape, data: arr.subarray(s.offset, s.offset + s.size) });
    writeSafetensors(join(dir, stateFile), tensors, { dtype: 'BF16', metadata: { format: 'flowlens-mlm-trainer', adam_t: String(ck.adam.t) } });
  }
  const record: TrainerRecord = { ...ck.record, stateFile, settings: { ...ck.record.settings, adamT: ck.adam.t, stateDtype: dtype } };
  writeFileAtomic(join(dir, 'trainer.json'), JSON.stringify(record, null, 1) + '\n');
  for (const f of readdirSync(dir)) if (f.startsWith('state-') && !f.startsWith(`state-${ck.record.step}.`)) rmSync(join(dir, f), { force: true });
}

/**
 * Load the checkpoint in `dir`.
 * @param check called with the record before the state is read (to refuse a mismatching run early).
 * @param compactParams the parameters of a compact checkpoint, in the flat layout (the model folder's weights).
 * @returns null when `dir` holds no `trainer.json`.
 * @throws Error naming the file when the state is missing, malformed or does not fit `layout`.
 */
export function loadCheckpoint(
  dir: string,
  layout: ParamLayout,
  check?: (record: TrainerRecord) => void,
  compactParams?: (layout: ParamLayout) => Float32Array,
): Checkpoint | null {
  const recPath = join(dir, 'trainer.json');
  if (!existsSync(recPath)) return null;
  const record = JSON.parse(readFileSync(recPath, 'utf8')) as TrainerRecord;
  if (record.format !== 'flowlens-mlm-trainer/1') throw new Error(`${recPath}: not a flowlens trainer checkpoint (format ${String(record.format)})`);
  check?.(record);
  const params = new Float32Array(layout.total);
  const m = new Float32Array(layout.total);
  const v = new Float32Array(layout.total);
  const compact = record.settings.stateDtype === 'compact';
  const p = join(dir, record.stateFile);
  if (!existsSync(p)) throw new Error(`${recPath} names ${record.stateFile}, which is missing`);
  const tensors = readSafetensors(p);
  const groups: [string, Float32Array][] = [
    ['adam_m', m],
    ['adam_v', v],
  ];
  if (compact) {
    if (!compactParams) throw new Error(`${recPath}: a compact checkpoint needs the model folder's weights`);
    params.set(compactParams(layout));
  } else groups.unshift(['param', params]);
  for (const [g, arr] of groups) {
    for (const s of layout.slots) {
      const t = tensors.get(`${g}.${s.name}`);
      if (!t) throw new Error(`${p}: tensor ${g}.${s.name} missing`);
      if (t.shape.join(',') !== s.shape.join(',')) throw new Error(`${p}: ${g}.${s.name} is [${t.shape}], the model needs [${s.shape}] (settings changed?)`);
      arr.set(t.data, s.offset);
    }
  }
  const t = Number(record.settings.adamT);
  if (!Number.isInteger(t) || t < 0) throw new Error(`${recPath}: settings.adamT missing or invalid`);
  return { record, params, adam: { t, m, v } };
}
