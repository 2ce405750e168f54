/**
 * BERT configuration: parsing and writing Hugging Face `config.json` (snake_case), with the
 * defaults of `transformers.BertConfig` and `PretrainedConfig` (labels).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/** A BERT configuration (camelCase view of HF `BertConfig`). */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  /** `gelu` (erf), `gelu_python` (erf), `gelu_new`/`gelu_pytorch_tanh` (tanh approximation) or `relu`. */
  hiddenAct: string;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  /** Number of classes of a classification head (`len(id2label)`, default 2). */
  numLabels: number;
  id2label: Record<number, string>;
  label2id: Record<string, number>;
  /** e.g. `["BertForMaskedLM"]`; empty when the file has none. */
  architectures: string[];
  /** `bert`. */
  modelType: string;
  hiddenDropoutProb?: number;
  attentionProbsDropoutProb?: number;
  classifierDropout?: number | null;
  initializerRange?: number;
  /** Fields of the file this module does not interpret, written back by {@link toHfConfigJson}. */
  extra?: Record<string, unknown>;
}

/** Activations the model implements (`src/model/bert.ts`). */
export const SUPPORTED_ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_python', 'gelu_pytorch_tanh', 'relu'] as const;

/** Defaults of `transformers.BertConfig.__init__`. */
export const BERT_DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
} as const;

const KNOWN_KEYS = new Set([
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'hidden_act',
  'hidden_dropout_prob',
  'attention_probs_dropout_prob',
  'max_position_embeddings',
  'type_vocab_size',
  'initializer_range',
  'layer_norm_eps',
  'pad_token_id',
  'num_labels',
  'id2label',
  'label2id',
  'architectures',
  'model_type',
  'classifier_dropout',
  'position_embedding_type',
]);

/**
 * Parse a Hugging Face BERT `config.json` object.
 *
 * Missing fields take `transformers.BertConfig` defaults (vocab 30522, hidden 768, 12 layers,
 * 12 heads, intermediate 3072, gelu, 512 positions, 2 token types, eps 1e-12, pad 0); labels follow
 * `PretrainedConfig`: `num_labels = len(id2label)` when `id2label` is given, else `num_labels`
 * (default 2) with `LABEL_i` names (a `num_labels` disagreeing with `id2label` is overridden, as in
 * transformers); `label2id` defaults to the inverse of `id2label`.
 *
 * @param json the parsed JSON.
 * @param source file name for error messages (e.g. the path of config.json).
 * @throws Error naming `source` and the field when a size is not a positive integer, `hidden_size`
 *   is not divisible by `num_attention_heads`, `hidden_act` is unsupported, `layer_norm_eps` is not a
 *   positive number, `model_type` is not `bert`, `position_embedding_type` is not `absolute`, or
 *   `id2label` keys are not 0..n−1.
 */
export function parseBertConfig(json: unknown, source = 'config.json'): BertConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${source}: expected a JSON object`);
  const j = json as Record<string, unknown>;
  const posInt = (k: keyof typeof BERT_DEFAULTS | 'num_labels', dflt: number): number => {
    const v = j[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new ConfigError(`${source}: "${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const prob = (k: string): number | undefined => {
    const v = j[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ConfigError(`${source}: "${k}" must be a probability in [0, 1], got ${JSON.stringify(v)}`);
    return v;
  };

  const modelType = j.model_type ?? 'bert';
  if (modelType !== 'bert') throw new ConfigError(`${source}: "model_type" is ${JSON.stringify(modelType)}; only "bert" is supported`);
  const pet = j.position_embedding_type;
  if (pet !== undefined && pet !== null && pet !== 'absolute') {
    throw new ConfigError(`${source}: "position_embedding_type" ${JSON.stringify(pet)} is not supported (only "absolute")`);
  }

  const hiddenSize = posInt('hidden_size', BERT_DEFAULTS.hidden_size);
  const numAttentionHeads = posInt('num_attention_heads', BERT_DEFAULTS.num_attention_heads);
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new ConfigError(`${source}: "hidden_size" ${hiddenSize} is not divisible by "num_attention_heads" ${numAttentionHeads}`);
  }
  const hiddenAct = j.hidden_act ?? BERT_DEFAULTS.hidden_act;
  if (typeof hiddenAct !== 'string' || !(SUPPORTED_ACTIVATIONS as readonly string[]).includes(hiddenAct)) {
    throw new ConfigError(`${source}: "hidden_act" ${JSON.stringify(hiddenAct)} is not supported (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`);
  }
  const eps = j.layer_norm_eps ?? BERT_DEFAULTS.layer_norm_eps;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps))
    throw new ConfigError(`${source}: "layer_norm_eps" must be a positive number, got ${JSON.stringify(eps)}`);
  let padTokenId: number = BERT_DEFAULTS.pad_token_id;
  if (j.pad_token_id !== undefined && j.pad_token_id !== null) {
    const v = j.pad_token_id;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new ConfigError(`${source}: "pad_token_id" must be a non-negative integer, got ${JSON.stringify(v)}`);
    padTokenId = v;
  }

  // labels (PretrainedConfig)
  let id2label: Record<number, string>;
  if (j.id2label !== undefined && j.id2label !== null) {
    if (typeof j.id2label !== 'object' || Array.isArray(j.id2label)) throw new ConfigError(`${source}: "id2label" must be an object {index: name}`);
    id2label = {};
    for (const [k, v] of Object.entries(j.id2label as Record<string, unknown>)) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || String(i) !== k.trim())
        throw new ConfigError(`${source}: "id2label" key ${JSON.stringify(k)} is not a non-negative integer`);
      if (typeof v !== 'string') throw new ConfigError(`${source}: "id2label"."${k}" must be a string`);
      id2label[i] = v;
    }
    const n = Object.keys(id2label).length;
    for (let i = 0; i < n; i++) if (!(i in id2label)) throw new ConfigError(`${source}: "id2label" must have keys 0..${n - 1} (missing ${i})`);
    // as PretrainedConfig: with id2label given, a disagreeing num_labels is overridden by len(id2label)
  } else {
    const n = posInt('num_labels', 2);
    id2label = {};
    for (let i = 0; i < n; i++) id2label[i] = `LABEL_${i}`;
  }
  const numLabels = Object.keys(id2label).length;
  if (numLabels === 0) throw new ConfigError(`${source}: "id2label" is empty`);
  let label2id: Record<string, number>;
  if (j.label2id !== undefined && j.label2id !== null) {
    if (typeof j.label2id !== 'object' || Array.isArray(j.label2id)) throw new ConfigError(`${source}: "label2id" must be an object {name: index}`);
    label2id = {};
    for (const [k, v] of Object.entries(j.label2id as Record<string, unknown>)) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`${source}: "label2id"."${k}" must be an integer`);
      label2id[k] = v;
    }
  } else {
    label2id = {};
    for (const [i, name] of Object.entries(id2label)) label2id[name] = Number(i);
  }

  let architectures: string[] = [];
  if (j.architectures !== undefined && j.architectures !== null) {
    if (!Array.isArray(j.architectures) || j.architectures.some((a) => typeof a !== 'string')) {
      throw new ConfigError(`${source}: "architectures" must be a list of strings`);
    }
    architectures = (j.architectures as string[]).slice();
  }
  let classifierDropout: number | null | undefined;
  if (j.classifier_dropout === null) classifierDropout = null;
  else classifierDropout = prob('classifier_dropout');
  let initializerRange: number | undefined;
  if (j.initializer_range !== undefined) {
    if (typeof j.initializer_range !== 'number' || !(j.initializer_range >= 0))
      throw new ConfigError(`${source}: "initializer_range" must be a non-negative number`);
    initializerRange = j.initializer_range;
  }

  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(j)) if (!KNOWN_KEYS.has(k)) extra[k] = v;

  const config: BertConfig = {
    vocabSize: posInt('vocab_size', BERT_DEFAULTS.vocab_size),
    hiddenSize,
    numHiddenLayers: posInt('num_hidden_layers', BERT_DEFAULTS.num_hidden_layers),
    numAttentionHeads,
    intermediateSize: posInt('intermediate_size', BERT_DEFAULTS.intermediate_size),
    hiddenAct,
    maxPositionEmbeddings: posInt('max_position_embeddings', BERT_DEFAULTS.max_position_embeddings),
    typeVocabSize: posInt('type_vocab_size', BERT_DEFAULTS.type_vocab_size),
    layerNormEps: eps,
    padTokenId,
    numLabels,
    id2label,
    label2id,
    architectures,
    modelType: 'bert',
    hiddenDropoutProb: prob('hidden_dropout_prob') ?? BERT_DEFAULTS.hidden_dropout_prob,
    attentionProbsDropoutProb: prob('attention_probs_dropout_prob') ?? BERT_DEFAULTS.attention_probs_dropout_prob,
    classifierDropout,
    initializerRange: initializerRange ?? BERT_DEFAULTS.initializer_range,
  };
  if (Object.keys(extra).length > 0) config.extra = extra;
  return config;
}

/**
 * A full config with defaults for everything not given (camelCase fields), validated as
 * {@link parseBertConfig} validates a file.
 * @throws Error as {@link parseBertConfig} (source "config").
 */
export function makeBertConfig(partial: Partial<BertConfig> = {}): BertConfig {
  const base = parseBertConfig({}, 'config');
  const merged: BertConfig = { ...base, ...partial };
  if (partial.numLabels !== undefined && partial.id2label === undefined) {
    merged.id2label = {};
    for (let i = 0; i < partial.numLabels; i++) merged.id2label[i] = `LABEL_${i}`;
  }
  if (partial.label2id === undefined) {
    merged.label2id = {};
    for (const [i, name] of Object.entries(merged.id2label)) merged.label2id[name] = Number(i);
  }
  return parseBertConfig(toHfConfigJson(merged), 'config');
}

/**
 * The Hugging Face `config.json` object of a config (snake_case; `id2label` keys as strings; fields
 * kept in `extra` written back). Round trip: `parseBertConfig(toHfConfigJson(c))` equals `c`.
 */
export function toHfConfigJson(config: BertConfig): Record<string, unknown> {
  const id2label: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.id2label ?? {})) id2label[String(k)] = v;
  const out: Record<string, unknown> = {
    ...(config.extra ?? {}),
    architectures: config.architectures ?? [],
    model_type: config.modelType ?? 'bert',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: config.hiddenAct,
    hidden_dropout_prob: config.hiddenDropoutProb ?? BERT_DEFAULTS.hidden_dropout_prob,
    attention_probs_dropout_prob: config.attentionProbsDropoutProb ?? BERT_DEFAULTS.attention_probs_dropout_prob,
    max_position_embeddings: config.maxPositionEmbeddings,
    type_vocab_size: config.typeVocabSize,
    initializer_range: config.initializerRange ?? BERT_DEFAULTS.initializer_range,
    layer_norm_eps: config.layerNormEps,
    pad_token_id: config.padTokenId,
    id2label,
    label2id: { ...(config.label2id ?? {}) },
  };
  if (config.classifierDropout !== undefined) out.classifier_dropout = config.classifierDropout;
  out.position_embedding_type = 'absolute';
  return out;
}

/**
 * Read and parse `${dir}/config.json`.
 * @throws Error naming the path when the file is missing or not valid JSON, and as
 *   {@link parseBertConfig} for invalid fields.
 */
export function loadConfig(dir: string): BertConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new ConfigError(`config.json not found: ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseBertConfig(json, path);
}
