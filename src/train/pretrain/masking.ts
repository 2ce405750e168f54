/**
 * BERT's masking for the masked-LM objective (Devlin et al. 2019, §3.1 and Appendix A.1): 15 % of the
 * tokens of a sequence (special tokens never) are selected; a selected token is replaced by `[MASK]` 80 %
 * of the time, by a random token 10 %, and kept 10 %; the loss is taken at every selected position.
 * As `create_pretraining_data.py`, the number selected is `max(1, round(0.15 · n))` of the `n`
 * maskable tokens, chosen uniformly without replacement.
 *
 * Everything is a pure function of (seed, step): a run resumed at step t masks exactly as the
 * uninterrupted run did.
 *
 * @module
 */
import { hashSeed, mulberry32 } from '../../data/random.js';
import type { MaskedSequence } from './mlmGradients.js';
import type { PackedCorpus } from './packedCorpus.js';
import { sequence } from './packedCorpus.js';

/** Masking settings. */
export interface MaskingOptions {
  /** Share of maskable tokens selected (default 0.15). */
  maskProb?: number;
  maskId: number;
  /** Ids never selected (`[CLS]`, `[SEP]`, `[PAD]`). */
  specialIds: readonly number[];
  /** Random replacements are drawn uniformly from ids `[randomFrom, vocabSize)` (ordinary tokens). */
  randomFrom: number;
  vocabSize: number;
}

/**
 * Mask one sequence.
 * @param ids `[seq]` original ids; @param rnd uniform [0, 1) source.
 * @returns the masked sequence (positions ascending) with the original ids as labels.
 */
export function maskSequence(ids: readonly number[], rnd: () => number, o: MaskingOptions): MaskedSequence {
  const special = new Set(o.specialIds);
  const cand: number[] = [];
  ids.forEach((t, i) => {
    if (!special.has(t)) cand.push(i);
  });
  const k = cand.length === 0 ? 0 : Math.max(1, Math.round((o.maskProb ?? 0.15) * cand.length));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rnd() * (cand.length - i));
    const t = cand[i] as number;
    cand[i] = cand[j] as number;
    cand[j] = t;
  }
  const positions = cand.slice(0, k).sort((a, b) => a - b);
  const out = ids.slice();
  const labels: number[] = [];
  for (const p of positions) {
    labels.push(ids[p] as number);
    const r = rnd();
    if (r < 0.8) out[p] = o.maskId;
    else if (r < 0.9) out[p] = o.randomFrom + Math.floor(rnd() * (o.vocabSize - o.randomFrom));
  }
  return { ids: out, positions, labels };
}

/**
 * The sequence indices of training step `step` (1-based): a stream of epochs, each a seeded
 * permutation of all sequences, cut into consecutive batches of `batchSize`.
 */
export class BatchOrder {
  private epoch = -1;
  private perm: Uint32Array = new Uint32Array(0);

  constructor(
    private readonly size: number,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    if (size < 1) throw new Error('the corpus has no sequence to train on');
  }

  private permutation(e: number): Uint32Array {
    if (e !== this.epoch) {
      const p = new Uint32Array(this.size);
      for (let i = 0; i < this.size; i++) p[i] = i;
      const rnd = mulberry32(hashSeed(`order:${this.seed}:${e}`));
      for (let i = this.size - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        const t = p[i] as number;
        p[i] = p[j] as number;
        p[j] = t;
      }
      this.perm = p;
      this.epoch = e;
    }
    return this.perm;
  }

  /** Indices of the sequences of `step`, `[batchSize]`. */
  indices(step: number): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.batchSize; j++) {
      const g = (step - 1) * this.batchSize + j;
      const e = Math.floor(g / this.size);
      out.push(this.permutation(e)[g % this.size] as number);
    }
    return out;
  }

  /** Epochs completed after `step` steps (fractional). */
  epochsAt(step: number): number {
    return (step * this.batchSize) / this.size;
  }
}

/** The masked batch of `step`: a pure function of (corpus, seed, step). */
export function maskedBatch(corpus: PackedCorpus, order: BatchOrder, step: number, seed: number, o: MaskingOptions): MaskedSequence[] {
  const rnd = mulberry32(hashSeed(`mask:${seed}:${step}`));
  return order.indices(step).map((i) => maskSequence(sequence(corpus, i), rnd, o));
}

/** A fixed evaluation set: the first `n` sequences (or all), masked with a fixed seed. */
export function maskedEvalSet(corpus: PackedCorpus, n: number, seed: number, o: MaskingOptions): MaskedSequence[] {
  const rnd = mulberry32(hashSeed(`eval:${seed}`));
  const out: MaskedSequence[] = [];
  for (let i = 0; i < Math.min(n, corpus.size); i++) out.push(maskSequence(sequence(corpus, i), rnd, o));
  return out;
}
