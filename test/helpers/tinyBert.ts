/**
 * The tiny BERT the method tests share: vocabulary 20, hidden 8, 2 heads, GELU, 12 positions, and
 * random weights scaled up (×5, plus a small jitter so every bias is non-zero) so that every token
 * moves the output and the attributions are far from zero.
 */
import { Bert } from '../../src/model/bert.js';
import { BertParams } from '../../src/model/params.js';
import { makeBertConfig, type BertConfig } from '../../src/io/config.js';
import type { HeadKind } from '../../src/model/types.js';
import type { W } from './refBert.js';
import { mulberry } from './rng.js';

/** Config of the tiny test BERT; `numLabels` only for a classifier. */
export function tinyConfig(opts: { layers?: number; numLabels?: number; intermediate?: number; maxPositions?: number } = {}): BertConfig {
  return makeBertConfig({
    vocabSize: 20,
    hiddenSize: 8,
    numHiddenLayers: opts.layers ?? 2,
    numAttentionHeads: 2,
    intermediateSize: opts.intermediate ?? 12,
    hiddenAct: 'gelu',
    maxPositionEmbeddings: opts.maxPositions ?? 12,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    ...(opts.numLabels === undefined ? {} : { numLabels: opts.numLabels }),
  });
}

/**
 * `BertParams.random(cfg, head, seed)` as plain arrays, every entry `w·5 + U(−0.05, 0.05)` (jitter
 * from `mulberry(jitterSeed)`, default `seed + 3`).
 */
export function scaledWeights(cfg: BertConfig, head: HeadKind, seed: number, jitterSeed = seed + 3): W {
  const p = BertParams.random(cfg, head, seed);
  const plain = p.toPlain();
  p.dispose();
  const rnd = mulberry(jitterSeed);
  for (const [, t] of plain) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] * 5 + (rnd() - 0.5) * 0.1;
  return plain;
}

/** A {@link Bert} on {@link scaledWeights}. */
export function scaledModel(cfg: BertConfig, head: HeadKind, seed: number, jitterSeed = seed + 3): Bert {
  return new Bert(cfg, head, BertParams.fromPlain(scaledWeights(cfg, head, seed, jitterSeed), cfg, head));
}
