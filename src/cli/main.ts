#!/usr/bin/env node
/**
 * The `flowlens` command line. `npm start` runs the main job, `flowlens reproduce abnar2020`.
 *
 * Extension points (add an entry, nothing else to change):
 * - {@link commands}: top-level commands (`reproduce`; add `train`, `kernel`, …): a function that
 *   registers its commander sub-command on the program.
 * - {@link reproductions}: the paper reproductions under `flowlens reproduce <name>`.
 *
 * @module
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { positiveInt, integer } from './args.js';
import cliProgress from 'cli-progress';
import { initBackend } from '../backend/index.js';
import { Bert } from '../model/bert.js';
import { BertParams } from '../model/params.js';
import type { BertDims } from '../model/types.js';
import { WordPieceTokenizer } from '../io/tokenizer.js';
import {
  runAbnar2020,
  writeAbnar2020Outputs,
  type AgreementItem,
  type AgreementTokenizer,
  type Abnar2020Options,
  type NumberItem,
} from '../eval/abnar2020.js';
import { heldOutNumberItems } from '../data/numberAgreement.js';
import { defaultMarvinLinzenDir, loadMarvinLinzen } from '../data/marvinLinzen.js';
import { lu2021 } from '../eval/lu2021Cli.js';
import { jiang2020 } from './jiang2020.js';
import { song2024 } from '../eval/song2024Cli.js';
import { registerKernel } from '../../kernel/cli.js';
import { registerFigure } from '../../widgets/cli.js';
import { registerTrain } from './train.js';
import { registerData } from './data.js';

/** Registers one top-level command on the program. */
export type CommandRegistrar = (program: Command) => void;

/** A paper reproduction: its options and what it runs. */
export interface Reproduction {
  description: string;
  /** Adds the reproduction's options to its sub-command. */
  options(cmd: Command): Command;
  /** Runs it with the parsed options. */
  run(opts: Record<string, unknown>): Promise<void>;
}

/** The default model of the main job, per setup (see `src/model/load.ts`). */
export const DEFAULT_MODEL = 'embedded:abnar';
/** The default model of `--setup mlm`. */
export const DEFAULT_MLM_MODEL = 'embedded:agreement';
/** Default number of examples: the classifier setup's `npm start` stays short (CI runs it). */
export const DEFAULT_LIMIT = { classifier: 40, mlm: 200 } as const;

/** Marvin & Linzen constructions of the Abnar & Zuidema reproduction: simple, across a PP, relative clauses. */
export const ABNAR2020_CONSTRUCTIONS = [
  'simple_agrmt',
  'prep_anim',
  'prep_inanim',
  'subj_rel',
  'obj_rel_across_anim',
  'obj_rel_across_inanim',
  'obj_rel_within_anim',
  'obj_rel_within_inanim',
];


/** A loaded model with what the experiment needs. */
interface ModelForRun {
  model: Bert;
  tokenizer: AgreementTokenizer;
  description: string;
  warnings: string[];
}

/**
 * A tokenizer object (e.g. `WordPieceTokenizer` from `src/io/tokenizer.ts`) seen as an
 * {@link AgreementTokenizer}.
 * @throws Error naming the missing member.
 */
export function asAgreementTokenizer(tok: unknown): AgreementTokenizer {
  const t = tok as Record<string, unknown>;
  if (!t || typeof t.encode !== 'function') throw new Error('tokenizer has no encode(text) method');
  const id = (name: string, token: string): number => {
    if (typeof t[name] === 'number') {
      if ((t[name] as number) < 0) throw new Error(`tokenizer vocabulary has no ${token}`);
      return t[name] as number;
    }
    for (const f of ['tokenToId', 'idOf', 'convertTokenToId']) {
      if (typeof t[f] === 'function') {
        const v = (t[f] as (s: string) => unknown).call(tok, token);
        if (typeof v === 'number' && v >= 0) return v;
      }
    }
    if (t.vocab instanceof Map && typeof t.vocab.get(token) === 'number') return t.vocab.get(token) as number;
    throw new Error(`tokenizer has no ${name} (and no id for ${token})`);
  };
  const opt = (name: string, token: string): number | undefined => {
    try {
      return id(name, token);
    } catch {
      return undefined;
    }
  };
  return {
    encode: (text: string) => {
      const e = (t.encode as (s: string) => { ids: number[]; tokens: string[] }).call(tok, text);
      return { ids: Array.from(e.ids), tokens: Array.from(e.tokens) };
    },
    maskId: id('maskId', '[MASK]'),
    clsId: id('clsId', '[CLS]'),
    sepId: id('sepId', '[SEP]'),
    unkId: opt('unkId', '[UNK]'),
    padId: opt('padId', '[PAD]'),
  };
}

/**
 * A random BERT masked LM over a whole-word vocabulary of the given items (development and tests
 * only: its attributions mean nothing). Name `random:tiny` (3 layers × 4 heads, hidden 32) or
 * `random:small` (6 layers × 8 heads, hidden 128, the paper's size).
 */
export function randomAgreementModel(name: string, items: AgreementItem[], seed: number): ModelForRun {
  const size = name.slice('random:'.length);
  const dims = size === 'small' ? { L: 6, H: 8, D: 128 } : size === 'tiny' ? { L: 3, H: 4, D: 32 } : null;
  if (!dims) throw new Error(`unknown random model "${name}" (use random:tiny or random:small)`);
  const words = new Set<string>();
  for (const it of items) for (const w of [...it.prefixWords, ...it.suffixWords, it.good, it.bad]) words.add(w);
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...[...words].sort()];
  const config: BertDims = {
    vocabSize: vocab.length, hiddenSize: dims.D, numHiddenLayers: dims.L, numAttentionHeads: dims.H, intermediateSize: 4 * dims.D,
    hiddenAct: 'gelu', maxPositionEmbeddings: 64, typeVocabSize: 2, layerNormEps: 1e-12,
  };
  const model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', seed));
  const tokenizer = asAgreementTokenizer(WordPieceTokenizer.fromVocab(vocab));
  return {
    model,
    tokenizer,
    description: `random BERT ${dims.L} layers × ${dims.H} heads, hidden ${dims.D}, whole-word vocabulary of ${vocab.length}`,
    warnings: ['this is an untrained random model: the numbers test the pipeline, not the paper.'],
  };
}

async function loadForRun(name: string, items: () => Promise<AgreementItem[]>, seed: number): Promise<ModelForRun> {
  if (name.startsWith('random:')) return randomAgreementModel(name, await items(), seed);
  const { loadModel } = await import('../model/load.js');
  const loaded = await loadModel(name);
  const c = loaded.model.config;
  return {
    model: loaded.model,
    tokenizer: asAgreementTokenizer(loaded.tokenizer),
    description: `BERT ${c.numHiddenLayers} layers × ${c.numAttentionHeads} heads, hidden ${c.hiddenSize}, vocabulary ${c.vocabSize}; ${loaded.source}`,
    warnings: [],
  };
}

/** Balanced selection: round robin over constructions (file order within each) up to `limit`. */
function balanced(items: AgreementItem[], limit: number): AgreementItem[] {
  const by = new Map<string, AgreementItem[]>();
  for (const it of items) {
    if (!by.has(it.construction)) by.set(it.construction, []);
    (by.get(it.construction) as AgreementItem[]).push(it);
  }
  const lists = [...by.values()];
  const out: AgreementItem[] = [];
  for (let k = 0; out.length < limit && lists.some((l) => k < l.length); k++) {
    for (const l of lists) if (k < l.length && out.length < limit) out.push(l[k]);
  }
  return out;
}

/** `flowlens reproduce abnar2020`: Abnar & Zuidema 2020, Tables 1–2 (see `src/eval/abnar2020.ts`). */
export const abnar2020: Reproduction = {
  description: 'Abnar & Zuidema 2020 (Quantifying Attention Flow in Transformers): raw attention, rollout and flow vs blank-out and input gradients on subject-verb agreement',
  options: (cmd) =>
    cmd
      .addOption(new Option('--setup <setup>', "classifier: the paper's verb-number classifier read at [CLS] on held-out Brown sentences; mlm: a masked LM read at [MASK] on Marvin & Linzen pairs").choices(['classifier', 'mlm']).default('classifier'))
      .option('--model <name>', `model: an HF folder, a hub id, ${DEFAULT_MODEL} (classifier, default) or ${DEFAULT_MLM_MODEL} (mlm, default), random:tiny / random:small (mlm development)`)
      .option('--out <dir>', 'output folder (written atomically)', 'results/abnar2020')
      .option('--limit <n>', `number of examples (default classifier ${DEFAULT_LIMIT.classifier}, mlm ${DEFAULT_LIMIT.mlm} balanced over constructions)`, positiveInt('--limit'))
      .option('--seed <s>', 'seed of the item sampling (and of random models)', integer('--seed'), 0)
      .option('--constructions <list>', 'comma-separated Marvin & Linzen constructions', ABNAR2020_CONSTRUCTIONS.join(','))
      .option('--data <dir>', 'Marvin & Linzen folder (default ../shared/data/marvin-linzen)')
      .addOption(new Option('--output-position <pos>', 'mlm: attention row read, [MASK] (default) or [CLS]; a classifier is read at [CLS]').choices(['mask', 'cls']))
      .addOption(new Option('--qoi <kind>', 'classifier: p or logit of the correct class; mlm: p(good) − p(bad) or the logit difference').choices(['prob', 'logit']).default('prob'))
      .addOption(new Option('--positions <which>', 'positions entering the correlations').choices(['all', 'words']).default('all'))
      .addOption(new Option('--replacement <tok>', 'blank-out replacement (default classifier unk, as the paper; mlm mask, as the reference code)').choices(['mask', 'unk', 'pad']))
      .addOption(new Option('--gradient <reduce>', 'input-gradient reduction over the hidden dimension').choices(['abs-sum', 'l2', 'l1', 'sum']).default('abs-sum'))
      .addOption(new Option('--gradient-node <node>', 'where the input gradient is taken: word embeddings, or the embedding output (after position embeddings and LayerNorm)').choices(['embed.hook_word', 'embed.hook_out']).default('embed.hook_word'))
      .option('--flow-layers <list>', "attention-flow layers (1-based, comma-separated) or 'all'", 'all')
      .option('--no-progress', 'no progress bar'),
  async run(opts) {
    const t0 = Date.now();
    await initBackend();
    const setup = (opts.setup ?? 'classifier') as 'classifier' | 'mlm';
    const modelName = String(opts.model ?? (setup === 'classifier' ? DEFAULT_MODEL : DEFAULT_MLM_MODEL));
    const constructions = String(opts.constructions).split(',').map((s) => s.trim()).filter(Boolean);
    const limit = (opts.limit as number | undefined) ?? DEFAULT_LIMIT[setup];
    const seed = opts.seed as number;
    const dataDir = (opts.data as string | undefined) ?? defaultMarvinLinzenDir();
    const load = async (isSingleToken?: (w: string) => boolean): Promise<AgreementItem[]> => {
      const set = await loadMarvinLinzen(dataDir, { constructions, maxPerConstruction: Math.ceil(limit / constructions.length), seed, isSingleToken });
      return balanced(set.items.filter((it) => it.kind === 'verb'), limit);
    };
    if (setup === 'classifier' && modelName.startsWith('random:')) throw new Error('random models are masked LMs: use them with --setup mlm');
    const { model, tokenizer, description, warnings } = await loadForRun(modelName, () => load(), seed);
    try {
      const head = model.head;
      if (setup === 'classifier' && head !== 'classifier') throw new Error(`--setup classifier needs a sequence classifier (e.g. ${DEFAULT_MODEL}); ${modelName} is a ${head === 'mlm' ? 'masked LM: use --setup mlm' : `'${head}' model`}`);
      if (setup === 'mlm' && head !== 'mlm') throw new Error(`--setup mlm needs a masked LM (e.g. ${DEFAULT_MLM_MODEL}); ${modelName} has the '${head}' head${head === 'classifier' ? ': use --setup classifier' : ''}`);
      const single = (w: string) => {
        const e = tokenizer.encode(w).ids.filter((i) => i !== tokenizer.clsId && i !== tokenizer.sepId);
        return e.length === 1 && e[0] !== tokenizer.unkId;
      };
      const items: AgreementItem[] | NumberItem[] = setup === 'classifier' ? heldOutNumberItems(limit, seed) : await load(single);
      if (items.length === 0) throw new Error(setup === 'classifier' ? 'no held-out Brown examples' : `no usable agreement items in ${dataDir} for constructions ${constructions.join(', ')}`);
      const flowLayers = String(opts.flowLayers) === 'all' ? 'all' : String(opts.flowLayers).split(',').map((s) => Number(s) - 1);
      let bar: cliProgress.SingleBar | null = null;
      if (opts.progress !== false) {
        bar = new cliProgress.SingleBar({ format: 'abnar2020 [{bar}] {value}/{total} examples | {construction} | eta {eta}s', stream: process.stderr }, cliProgress.Presets.shades_classic);
        bar.start(items.length, 0, { construction: '' });
      }
      const ropts: Abnar2020Options = {
        outputPosition: opts.outputPosition as 'mask' | 'cls' | undefined,
        qoi: opts.qoi as 'prob' | 'logit',
        positions: opts.positions as 'all' | 'words',
        replacement: opts.replacement as 'mask' | 'unk' | 'pad' | undefined,
        gradientReduce: opts.gradient as 'abs-sum',
        gradientNode: opts.gradientNode as 'embed.hook_word' | 'embed.hook_out',
        flowLayers,
        onProgress: (p) => bar?.update(p.done, { construction: p.construction }),
      };
      let res;
      try {
        res = runAbnar2020(model, tokenizer, items, ropts);
      } finally {
        bar?.stop();
      }
      const command = `flowlens reproduce abnar2020 --setup ${setup} --model ${modelName} --limit ${limit} --seed ${seed}` +
        (opts.qoi !== 'prob' ? ` --qoi ${opts.qoi}` : '') + (opts.positions !== 'all' ? ` --positions ${opts.positions}` : '') +
        (opts.replacement ? ` --replacement ${opts.replacement}` : '') + (opts.outputPosition ? ` --output-position ${opts.outputPosition}` : '') +
        (opts.gradient !== 'abs-sum' ? ` --gradient ${opts.gradient}` : '') + (opts.gradientNode !== 'embed.hook_word' ? ` --gradient-node ${opts.gradientNode}` : '') +
        (String(opts.flowLayers) !== 'all' ? ` --flow-layers ${opts.flowLayers}` : '');
      const files = writeAbnar2020Outputs(String(opts.out), res, { model: modelName, modelDescription: description, seed, limit, constructions: setup === 'mlm' ? constructions : undefined, warnings, command });
      const rows = res.table.objects() as { method: string; layer: number | null; reference: string; mean: number }[];
      const L = res.layers;
      const cell = (m: string, l: number, r: string) => rows.find((x) => x.method === m && x.layer === l && x.reference === r)?.mean.toFixed(2) ?? '–';
      console.log(`abnar2020 (${setup}): ${res.perExample.length} examples, accuracy ${(100 * res.accuracy.overall).toFixed(1)} %, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      for (const r of ['blankout', 'input_gradient']) {
        console.log(`  vs ${r.padEnd(14)} L1: raw ${cell('raw', 1, r)} rollout ${cell('rollout', 1, r)} flow ${cell('flow', 1, r)} | L${L}: raw ${cell('raw', L, r)} rollout ${cell('rollout', L, r)} flow ${cell('flow', L, r)}`);
      }
      for (const w of warnings) console.log(`  warning: ${w}`);
      console.log(`wrote ${files.join(', ')}`);
    } finally {
      model.dispose();
    }
  },
};

/** Reproductions under `flowlens reproduce <name>`. Add one here. */
export const reproductions: Record<string, Reproduction> = { abnar2020, lu2021, jiang2020, song2024 };

/** `flowlens reproduce <name>`: one sub-command per entry of {@link reproductions}. */
export const registerReproduce: CommandRegistrar = (program) => {
  const rep = program.command('reproduce').description('reproduce a paper\'s results');
  for (const [name, r] of Object.entries(reproductions)) {
    r.options(rep.command(name).description(r.description)).action(async (opts: Record<string, unknown>) => r.run(opts));
  }
};

/** Top-level commands. Add `train`, `kernel`, … here. */
export const commands: Record<string, CommandRegistrar> = { reproduce: registerReproduce, kernel: registerKernel, figure: registerFigure, train: registerTrain, data: registerData };

/** The commander program with every command of {@link commands}. */
export function buildProgram(): Command {
  const program = new Command('flowlens').description('How information flows through BERT-family transformers').showHelpAfterError();
  for (const register of Object.values(commands)) register(program);
  return program;
}

/**
 * Parses `argv` and runs the command; errors print as one line and exit code 1.
 * @param argv as `process.argv` (node, script, args…).
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    console.error(`flowlens: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}

const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) void main();
