/**
 * Load a model the way a user names it: a Hugging Face model folder, an embedded model
 * (`embedded:agreement`), or a hub id (`org/name`, through the Hugging Face cache).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../paths.js';
import { initBackend } from '../backend/index.js';
import { headFromNames, loadHfFolder, saveHfFolder } from '../io/hfFolder.js';
import { resolveHubFolder, type HubOptions } from '../io/hub.js';
import type { WordPieceTokenizer } from '../io/tokenizer.js';
import type { BertConfig } from '../io/config.js';
import { Bert } from './bert.js';
import { BertParams, type PlainTensor } from './params.js';
import type { HeadKind } from './types.js';
import { CheckpointError } from '../errors.js';

/** A loaded model with its tokenizer. */
export interface LoadedModel {
  model: Bert;
  tokenizer: WordPieceTokenizer;
  config: BertConfig;
  /** Where it was loaded from (folder path). */
  source: string;
  /** Class names of a classifier (`id2label`), in class order. */
  labels?: string[];
}

export { projectRoot } from '../paths.js';

/** Names of the embedded models (folders under `models/`). */
export const EMBEDDED: Record<string, string> = {
  agreement: 'flowlens-agreement',
  sst2: 'flowlens-sst2',
  trec: 'flowlens-trec',
  bert: 'flowlens-bert',
  abnar: 'flowlens-abnar',
};

/** The default model of the main job (`npm start`: Abnar & Zuidema's setup, a verb-number classifier read at [CLS]). */
export const DEFAULT_MODEL = 'embedded:abnar';

/**
 * Which head a checkpoint carries, from `config.architectures` and the tensor names.
 */
export function detectHead(config: BertConfig, names: Iterable<string>): HeadKind {
  const arch = config.architectures?.[0] ?? '';
  if (/MaskedLM|ForPreTraining/.test(arch)) return 'mlm';
  if (/SequenceClassification/.test(arch)) return 'classifier';
  return headFromNames(names);
}

/**
 * Resolve a model name to a folder: `embedded:<name>` → `models/<folder>`; an existing path → itself;
 * otherwise a hub id fetched into (or found in) the Hugging Face cache.
 *
 * @throws Error naming the model when an embedded name is unknown or its folder is missing.
 */
export async function resolveModelFolder(name: string, hub: HubOptions = {}): Promise<string> {
  if (name.startsWith('embedded:')) {
    const key = name.slice('embedded:'.length);
    const folder = EMBEDDED[key];
    if (!folder) throw new CheckpointError(`unknown embedded model "${key}" (known: ${Object.keys(EMBEDDED).join(', ')})`);
    const dir = join(projectRoot(), 'models', folder);
    if (!existsSync(join(dir, 'config.json'))) {
      throw new CheckpointError(`embedded model "${key}" is missing: ${dir}/config.json not found (train it with: flowlens train agreement)`);
    }
    return dir;
  }
  if (existsSync(name)) return resolve(name);
  if (/^[\w.-]+\/[\w.-]+$/.test(name) || /^[\w.-]+$/.test(name)) return resolveHubFolder(name, hub);
  throw new CheckpointError(`model "${name}" is neither a folder, an embedded model (embedded:agreement) nor a hub id`);
}

/**
 * Load a model and its tokenizer.
 *
 * @param name a folder with config.json, model.safetensors, vocab.txt (and tokenizer_config.json);
 *   `embedded:agreement`; or a Hugging Face hub id (see {@link fromPretrained}).
 * @param opts.head force a head (default: detected from the checkpoint).
 * @throws Error naming the file and problem for missing or malformed config, weights or vocabulary.
 */
export async function loadModel(name: string = DEFAULT_MODEL, opts: { head?: HeadKind; hub?: HubOptions } = {}): Promise<LoadedModel> {
  await initBackend();
  const dir = await resolveModelFolder(name, opts.hub);
  const { config, weights, tokenizer, weightFiles } = loadHfFolder(dir);
  const head = opts.head ?? detectHead(config, weights.keys());
  const source = weightFiles.length === 1 ? (weightFiles[0] as string) : join(dir, 'model.safetensors.index.json');
  const params = BertParams.fromPlain(weights as Map<string, PlainTensor>, config, head, source);
  if (tokenizer.vocabSize !== config.vocabSize) {
    // HF allows vocab.txt shorter than the embedding table (padded rows); never longer.
    if (tokenizer.vocabSize > config.vocabSize) {
      params.dispose();
      throw new CheckpointError(`${join(dir, 'vocab.txt')} has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}`);
    }
  }
  const model = new Bert(config, head, params);
  const labels = head === 'classifier' ? Array.from({ length: config.numLabels }, (_, i) => config.id2label?.[i] ?? `LABEL_${i}`) : undefined;
  return { model, tokenizer, config, source: dir, labels };
}

/**
 * Load a Hugging Face hub checkpoint by id (`bert-base-uncased`, `org/name`): downloads into the
 * standard HF cache (honouring `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`) or reuses it.
 */
export async function fromPretrained(id: string, opts: { head?: HeadKind; hub?: HubOptions } = {}): Promise<LoadedModel> {
  return loadModel(id, opts);
}

/**
 * Save a model in Hugging Face folder format (config.json, model.safetensors, vocab.txt,
 * tokenizer_config.json), written atomically.
 */
export function saveModel(dir: string, model: Bert, config: BertConfig, vocab: readonly string[], dtype: 'F32' | 'F16' = 'F32'): void {
  saveHfFolder(dir, { config, weights: model.params.toPlain(), vocab, tokenizerConfig: { do_lower_case: true }, dtype });
}
