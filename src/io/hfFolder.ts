/**
 * Hugging Face model folders: `config.json`, `model.safetensors` (or sharded
 * `model.safetensors.index.json` + shards), `vocab.txt`, `tokenizer_config.json`.
 *
 * Parameter names are normalised to one canonical scheme, Hugging Face's names without the `bert.`
 * prefix: `embeddings.word_embeddings.weight`, `encoder.layer.{i}.attention.self.query.weight`, …,
 * heads `cls.predictions.*`, `classifier.*`, `pooler.*`; old TF-converted `LayerNorm.gamma/beta`
 * become `LayerNorm.weight/bias`. Tensors keep PyTorch layout (`nn.Linear` weight `[out, in]`).
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, parseBertConfig, toHfConfigJson, type BertConfig } from './config.js';
import { readSafetensors, writeFileAtomic, writeSafetensors, type WriteDtype } from './safetensors.js';
import { readTokenizerConfig, WordPieceTokenizer } from './tokenizer.js';
import { CheckpointError } from '../errors.js';
import { writeFolderAtomic } from './atomicFolder.js';

/** A tensor in plain memory: float32, row-major, PyTorch layout. */
export interface PlainTensor {
  shape: number[];
  data: Float32Array;
}

/** Which task head: BertForMaskedLM, BertForSequenceClassification, or BertModel. */
export type HeadKind = 'mlm' | 'classifier' | 'none';

/** What {@link loadHfFolder} returns. */
export interface HfFolder {
  config: BertConfig;
  /** Canonical name → tensor (see module doc). */
  weights: Map<string, PlainTensor>;
  tokenizer: WordPieceTokenizer;
  /** The folder (absolute). */
  dir: string;
  /** The weight files read (model.safetensors, or the shards). */
  weightFiles: string[];
}

/**
 * Canonical name of a checkpoint parameter, or null for entries that are not parameters
 * (`embeddings.position_ids` buffer). Strips a leading `bert.`; maps `LayerNorm.gamma/beta` to
 * `LayerNorm.weight/bias`; keeps every other name.
 */
export function canonicalWeightName(name: string): string | null {
  let n = name.startsWith('bert.') ? name.slice('bert.'.length) : name;
  n = n.replace(/(LayerNorm)\.gamma$/, '$1.weight').replace(/(LayerNorm)\.beta$/, '$1.bias');
  if (n === 'embeddings.position_ids') return null;
  return n;
}

/**
 * Normalise checkpoint names (see {@link canonicalWeightName}). When `cls.predictions.bias` is
 * absent but `cls.predictions.decoder.bias` present (some conversions), the latter fills it.
 *
 * @param source file name for errors.
 * @throws Error naming both names when two entries map to the same canonical name.
 */
export function normalizeWeightNames<T>(weights: Map<string, T>, source = 'weights'): Map<string, T> {
  const out = new Map<string, T>();
  const from = new Map<string, string>();
  for (const [name, t] of weights) {
    const c = canonicalWeightName(name);
    if (c === null) continue;
    if (out.has(c)) throw new CheckpointError(`${source}: tensors "${from.get(c)}" and "${name}" both map to "${c}"`);
    out.set(c, t);
    from.set(c, name);
  }
  if (!out.has('cls.predictions.bias') && out.has('cls.predictions.decoder.bias')) {
    out.set('cls.predictions.bias', out.get('cls.predictions.decoder.bias') as T);
  }
  return out;
}

/**
 * Every parameter a BERT with the given head requires, with its PyTorch shape (`H` hidden,
 * `I` intermediate, `V` vocab, `P` positions, `T` token types, `L` labels):
 * embeddings `[V,H] [P,H] [T,H]`, LayerNorms `[H]`, per layer query/key/value/attention-output
 * dense `[H,H]` + `[H]`, intermediate `[I,H]` + `[I]`, output `[H,I]` + `[H]`;
 * `mlm`: `cls.predictions.transform.dense` `[H,H]`, its LayerNorm, `cls.predictions.bias` `[V]`
 * (the decoder weight is tied to the word embeddings, so optional); `classifier`: pooler `[H,H]`
 * and `classifier.weight` `[L,H]`, `classifier.bias` `[L]`; `none`: pooler.
 *
 * @returns canonical name → shape, in HF order.
 */
export function expectedBertShapes(config: BertConfig, opts: { head: HeadKind }): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, vocabSize: V } = config;
  const m = new Map<string, number[]>();
  m.set('embeddings.word_embeddings.weight', [V, H]);
  m.set('embeddings.position_embeddings.weight', [config.maxPositionEmbeddings, H]);
  m.set('embeddings.token_type_embeddings.weight', [config.typeVocabSize, H]);
  m.set('embeddings.LayerNorm.weight', [H]);
  m.set('embeddings.LayerNorm.bias', [H]);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      m.set(`${p}attention.self.${n}.weight`, [H, H]);
      m.set(`${p}attention.self.${n}.bias`, [H]);
    }
    m.set(`${p}attention.output.dense.weight`, [H, H]);
    m.set(`${p}attention.output.dense.bias`, [H]);
    m.set(`${p}attention.output.LayerNorm.weight`, [H]);
    m.set(`${p}attention.output.LayerNorm.bias`, [H]);
    m.set(`${p}intermediate.dense.weight`, [I, H]);
    m.set(`${p}intermediate.dense.bias`, [I]);
    m.set(`${p}output.dense.weight`, [H, I]);
    m.set(`${p}output.dense.bias`, [H]);
    m.set(`${p}output.LayerNorm.weight`, [H]);
    m.set(`${p}output.LayerNorm.bias`, [H]);
  }
  if (opts.head === 'mlm') {
    m.set('cls.predictions.transform.dense.weight', [H, H]);
    m.set('cls.predictions.transform.dense.bias', [H]);
    m.set('cls.predictions.transform.LayerNorm.weight', [H]);
    m.set('cls.predictions.transform.LayerNorm.bias', [H]);
    m.set('cls.predictions.bias', [V]);
  } else {
    m.set('pooler.dense.weight', [H, H]);
    m.set('pooler.dense.bias', [H]);
    if (opts.head === 'classifier') {
      m.set('classifier.weight', [config.numLabels, H]);
      m.set('classifier.bias', [config.numLabels]);
    }
  }
  return m;
}

/** Optional tensors that, when present, must have these shapes. */
function optionalShapes(config: BertConfig, head: HeadKind): Map<string, number[]> {
  const m = new Map<string, number[]>();
  if (head === 'mlm') {
    m.set('cls.predictions.decoder.weight', [config.vocabSize, config.hiddenSize]);
    m.set('cls.predictions.decoder.bias', [config.vocabSize]);
  }
  return m;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Throws unless every value of a tensor is finite: a NaN or infinite weight would load silently and
 * give NaN logits.
 * @throws CheckpointError naming the file, the tensor, how many values are bad, and the first one.
 */
export function checkFinite(name: string, data: ArrayLike<number>, source = 'weights'): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v - v !== 0) {
      // NaN or ±Infinity (v − v is NaN for both, 0 for every finite v)
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new CheckpointError(
      `${source}: tensor "${name}" has ${bad} non-finite value${bad > 1 ? 's' : ''} (the first, ${data[first]}, at flat index ${first} of ${data.length}); the checkpoint is corrupt`,
    );
  }
}

/**
 * Check that every tensor {@link expectedBertShapes} requires is present with the right shape and
 * `data.length` (and that `cls.predictions.decoder.weight`, optional because tied, is `[V, H]` when
 * present).
 *
 * @param weights canonical name → tensor.
 * @param source file name for the messages (e.g. `…/model.safetensors`).
 * @throws CheckpointError naming the tensor, its shape, the expected shape and `source`, or a
 *   tensor with NaN/infinite values.
 */
export function validateWeights(weights: Map<string, PlainTensor>, config: BertConfig, head: HeadKind, source = 'weights'): void {
  const check = (name: string, shape: number[], w: PlainTensor) => {
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`${source}: tensor "${name}" has shape ${fmt(w.shape)}, expected ${fmt(shape)} (from config.json, head ${head})`);
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== numel) throw new CheckpointError(`${source}: tensor "${name}" has ${w.data.length} values for shape ${fmt(shape)}`);
    checkFinite(name, w.data, source);
  };
  for (const [name, shape] of expectedBertShapes(config, { head })) {
    const w = weights.get(name);
    if (!w) throw new CheckpointError(`${source}: missing tensor "${name}" (expected shape ${fmt(shape)}, head ${head})`);
    check(name, shape, w);
  }
  for (const [name, shape] of optionalShapes(config, head)) {
    const w = weights.get(name);
    if (w) check(name, shape, w);
  }
}

/** The head a checkpoint carries, from its (canonical) tensor names: mlm, classifier, or none. */
export function headFromNames(names: Iterable<string>): HeadKind {
  const all = [...names];
  if (all.some((n) => n.startsWith('cls.predictions.'))) return 'mlm';
  if (all.some((n) => n.startsWith('classifier.'))) return 'classifier';
  return 'none';
}

/**
 * Read the weights of a HF folder: `model.safetensors`, or, if absent, the shards listed in
 * `model.safetensors.index.json` (`weight_map`: name → shard file). Names are normalised.
 *
 * @returns canonical name → tensor, and the files read.
 * @throws Error naming the folder when there are no safetensors weights (a `pytorch_model.bin`-only
 *   folder is named as unsupported), naming the index when it is malformed or lists a missing shard,
 *   or a tensor absent from its shard; and as {@link readSafetensors} for malformed files.
 */
export function loadHfWeights(dir: string): { weights: Map<string, PlainTensor>; files: string[] } {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(single)) {
    const raw = readSafetensors(single);
    return { weights: normalizeWeightNames(stripDtype(raw), single), files: [single] };
  }
  if (existsSync(index)) {
    let j: { weight_map?: Record<string, unknown> };
    try {
      j = JSON.parse(readFileSync(index, 'utf8'));
    } catch (e) {
      throw new CheckpointError(`${index}: not valid JSON (${(e as Error).message})`);
    }
    const map = j?.weight_map;
    if (!map || typeof map !== 'object' || Array.isArray(map)) throw new CheckpointError(`${index}: missing "weight_map" object`);
    const byShard = new Map<string, string[]>();
    for (const [name, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || shard.includes('..') || shard.includes('/') || shard.includes('\\')) {
        throw new CheckpointError(`${index}: "weight_map"."${name}" is not a file name in the folder: ${JSON.stringify(shard)}`);
      }
      if (!byShard.has(shard)) byShard.set(shard, []);
      byShard.get(shard)?.push(name);
    }
    if (byShard.size === 0) throw new CheckpointError(`${index}: "weight_map" is empty`);
    const raw = new Map<string, PlainTensor>();
    const files: string[] = [];
    for (const [shard, names] of byShard) {
      const path = join(dir, shard);
      if (!existsSync(path)) throw new CheckpointError(`${index} lists shard ${shard}, but ${path} does not exist`);
      const t = readSafetensors(path, { names });
      for (const [k, v] of t) raw.set(k, { shape: v.shape, data: v.data });
      files.push(path);
    }
    return { weights: normalizeWeightNames(raw, index), files };
  }
  for (const other of ['pytorch_model.bin', 'tf_model.h5', 'model.ckpt.index', 'flax_model.msgpack']) {
    if (existsSync(join(dir, other))) {
      throw new CheckpointError(
        `${dir} has ${other} but no model.safetensors: only safetensors weights are supported (convert with transformers: model.save_pretrained(dir, safe_serialization=True))`,
      );
    }
  }
  throw new CheckpointError(`no weights in ${dir}: neither model.safetensors nor model.safetensors.index.json found`);
}

function stripDtype(m: Map<string, { shape: number[]; data: Float32Array }>): Map<string, PlainTensor> {
  const out = new Map<string, PlainTensor>();
  for (const [k, v] of m) out.set(k, { shape: v.shape, data: v.data });
  return out;
}

/**
 * Load a Hugging Face BERT folder: `config.json`, `model.safetensors` (or the sharded index),
 * `vocab.txt` and `tokenizer_config.json` (optional; `do_lower_case` default true).
 *
 * @param dir the folder.
 * @param opts.head when given, also {@link validateWeights} for that head.
 * @returns config, canonical weights (PyTorch layout), tokenizer, folder and the weight files read.
 * @throws Error naming the path for a missing folder, missing/malformed config.json, missing
 *   weights or vocab.txt, malformed safetensors, or (with `head`) a missing/mis-shaped tensor.
 */
export function loadHfFolder(dir: string, opts: { head?: HeadKind } = {}): HfFolder {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new CheckpointError(`model folder not found: ${abs}`);
  const config = loadConfig(abs);
  const tokenizer = WordPieceTokenizer.fromFolder(abs);
  const { weights, files } = loadHfWeights(abs);
  if (opts.head) validateWeights(weights, config, opts.head, files.length === 1 ? (files[0] as string) : join(abs, 'model.safetensors.index.json'));
  return { config, weights, tokenizer, dir: abs, weightFiles: files };
}

/** The files {@link saveHfFolder} writes itself. */
const KNOWN_FILES = new Set(['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']);

/** What {@link saveHfFolder} writes. */
export interface SaveHfFolderInput {
  config: BertConfig;
  /** Canonical (or `bert.`-prefixed) name → tensor, PyTorch layout. */
  weights: Map<string, PlainTensor> | Record<string, PlainTensor>;
  /** Tokens by id (the lines of vocab.txt). */
  vocab: readonly string[];
  /** Extra `tokenizer_config.json` fields (e.g. `{do_lower_case: true}`). */
  tokenizerConfig?: Record<string, unknown>;
  /** Stored dtype of the weights. Default F32. */
  dtype?: WriteDtype;
  /**
   * Tensor names in the file: `auto` (default) writes `bert.`-prefixed encoder names when the
   * weights carry a head (`cls.*`, `classifier.*`), as `BertForMaskedLM`/`…ForSequenceClassification`
   * save them, and bare names otherwise (as `BertModel`); `bert` / `none` force.
   */
  prefix?: 'auto' | 'bert' | 'none';
  /**
   * Files or folders of an existing folder at `dir` to carry over into the new one (e.g. a training
   * checkpoint or an evaluation written by another command); everything else is replaced.
   */
  keep?: string[];
}

/**
 * Write a Hugging Face folder that transformers' `from_pretrained` and {@link loadHfFolder} read:
 * `config.json`, `model.safetensors` (metadata `{format: "pt"}`), `vocab.txt`,
 * `tokenizer_config.json`, `special_tokens_map.json`. Atomic: everything is written into a
 * temporary sibling folder, which then replaces `dir` (an existing model folder at `dir` is replaced
 * as a whole).
 *
 * @throws Error naming `dir` when it exists but is not a model folder (a non-empty folder without
 *   config.json is never replaced), when the weights do not fit the config (as
 *   {@link validateWeights}, head detected from the names), or the vocabulary lacks
 *   `[UNK]`/`[CLS]`/`[SEP]` or has a token with a newline; nothing is written then.
 */
export function saveHfFolder(dir: string, input: SaveHfFolderInput): void {
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new CheckpointError(`cannot save model to ${target}: it is a file`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes('config.json')) {
      throw new CheckpointError(`cannot save model to ${target}: folder is not empty and holds no config.json (refusing to replace it)`);
    }
  }
  // validate everything before writing
  const config = parseBertConfig(toHfConfigJson(input.config), `${target}/config.json`);
  const weightsIn = input.weights instanceof Map ? input.weights : new Map(Object.entries(input.weights));
  const canonical = normalizeWeightNames(weightsIn, target);
  const head = headFromNames(canonical.keys());
  validateWeights(canonical, config, head, target);
  for (const t of input.vocab)
    if (t.includes('\n') || t.includes('\r')) throw new CheckpointError(`cannot save ${target}/vocab.txt: token ${JSON.stringify(t)} contains a newline`);
  WordPieceTokenizer.fromVocab(input.vocab); // throws on missing special tokens
  if (input.vocab.length > config.vocabSize) {
    throw new CheckpointError(`cannot save ${target}: vocabulary has ${input.vocab.length} tokens but vocab_size is ${config.vocabSize}`);
  }

  const prefix = input.prefix ?? 'auto';
  const usePrefix = prefix === 'bert' || (prefix === 'auto' && head !== 'none');
  const named = new Map<string, PlainTensor>();
  for (const [name, t] of canonical) {
    const isHead = name.startsWith('cls.') || name.startsWith('classifier.');
    named.set(usePrefix && !isHead ? `bert.${name}` : name, t);
  }

  try {
    writeFolderAtomic(
      target,
      (tmp) => {
        const json = (o: unknown) => JSON.stringify(o, null, 2) + '\n';
        writeFileAtomic(join(tmp, 'config.json'), json(toHfConfigJson(config)));
        writeSafetensors(join(tmp, 'model.safetensors'), named, { dtype: input.dtype ?? 'F32', metadata: { format: 'pt' } });
        writeFileAtomic(join(tmp, 'vocab.txt'), input.vocab.join('\n') + '\n');
        const tc = { do_lower_case: true, tokenizer_class: 'BertTokenizer', model_max_length: config.maxPositionEmbeddings, ...(input.tokenizerConfig ?? {}) };
        writeFileAtomic(join(tmp, 'tokenizer_config.json'), json(tc));
        writeFileAtomic(
          join(tmp, 'special_tokens_map.json'),
          json({ unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' }),
        );
        // sanity: the folder reads back
        readTokenizerConfig(tmp);
      },
      {
        keep: input.keep?.filter((k) => {
          if (k.includes('/') || k.startsWith('.') || KNOWN_FILES.has(k)) throw new Error(`keep: "${k}" is not a plain entry name of the folder`);
          return true;
        }),
      },
    );
  } catch (e) {
    throw new CheckpointError(`cannot save model to ${target}: ${(e as Error).message}`);
  }
}
