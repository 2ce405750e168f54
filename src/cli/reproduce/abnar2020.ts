/**
 * `flowlens reproduce abnar2020` (the main job, `npm start`): Abnar & Zuidema 2020, Tables 1–2, on the
 * embedded agreement model (see `src/eval/abnar2020.ts`); writes `results/abnar2020/`.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { Option } from 'commander';
import { positiveInt, seed } from '../args.js';
import { initBackend } from '../../backend/index.js';
import { Bert } from '../../model/bert.js';
import { BertParams } from '../../model/params.js';
import { DEFAULT_MODEL, loadModel } from '../../model/load.js';
import { makeBertConfig } from '../../io/config.js';
import { WordPieceTokenizer, type Tokenizer } from '../../io/tokenizer.js';
import { runAbnar2020, writeAbnar2020Outputs, type AgreementItem, type Abnar2020Options, type NumberItem } from '../../eval/abnar2020.js';
import { heldOutNumberItems } from '../../data/numberAgreement.js';
import { defaultMarvinLinzenDir, loadMarvinLinzen } from '../../data/marvinLinzen.js';
import type { Reproduction } from './index.js';

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
  tokenizer: Tokenizer;
  description: string;
  warnings: string[];
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
  const config = makeBertConfig({
    vocabSize: vocab.length,
    hiddenSize: dims.D,
    numHiddenLayers: dims.L,
    numAttentionHeads: dims.H,
    intermediateSize: 4 * dims.D,
    hiddenAct: 'gelu',
    maxPositionEmbeddings: 64,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
  });
  const model = new Bert(config, 'mlm', BertParams.random(config, 'mlm', seed));
  const tokenizer = WordPieceTokenizer.fromVocab(vocab);
  return {
    model,
    tokenizer,
    description: `random BERT ${dims.L} layers × ${dims.H} heads, hidden ${dims.D}, whole-word vocabulary of ${vocab.length}`,
    warnings: ['this is an untrained random model: the numbers test the pipeline, not the paper.'],
  };
}

async function loadForRun(name: string, items: () => Promise<AgreementItem[]>, seed: number): Promise<ModelForRun> {
  if (name.startsWith('random:')) return randomAgreementModel(name, await items(), seed);
  const loaded = await loadModel(name);
  const c = loaded.model.config;
  return {
    model: loaded.model,
    tokenizer: loaded.tokenizer,
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
  description:
    'Abnar & Zuidema 2020 (Quantifying Attention Flow in Transformers): raw attention, rollout and flow vs blank-out and input gradients on subject-verb agreement',
  options: (cmd) =>
    cmd
      .addOption(
        new Option(
          '--setup <setup>',
          "classifier: the paper's verb-number classifier read at [CLS] on held-out Brown sentences; mlm: a masked LM read at [MASK] on Marvin & Linzen pairs",
        )
          .choices(['classifier', 'mlm'])
          .default('classifier'),
      )
      .option(
        '--model <name>',
        `model: an HF folder, a hub id, ${DEFAULT_MODEL} (classifier, default) or ${DEFAULT_MLM_MODEL} (mlm, default), random:tiny / random:small (mlm development)`,
      )
      .option('--out <dir>', 'output folder (written atomically)', 'results/abnar2020')
      .option(
        '--limit <n>',
        `number of examples (default classifier ${DEFAULT_LIMIT.classifier}, mlm ${DEFAULT_LIMIT.mlm} balanced over constructions)`,
        positiveInt('--limit'),
      )
      .option('--seed <s>', 'seed of the item sampling (and of random models)', seed(), 0)
      .option('--constructions <list>', 'comma-separated Marvin & Linzen constructions', ABNAR2020_CONSTRUCTIONS.join(','))
      .option('--data <dir>', 'Marvin & Linzen folder (default ../shared/data/marvin-linzen)')
      .addOption(
        new Option('--output-position <pos>', 'mlm: attention row read, [MASK] (default) or [CLS]; a classifier is read at [CLS]').choices(['mask', 'cls']),
      )
      .addOption(
        new Option('--qoi <kind>', 'classifier: p or logit of the correct class; mlm: p(good) − p(bad) or the logit difference')
          .choices(['prob', 'logit'])
          .default('prob'),
      )
      .addOption(new Option('--positions <which>', 'positions entering the correlations').choices(['all', 'words']).default('all'))
      .addOption(
        new Option('--replacement <tok>', 'blank-out replacement (default classifier unk, as the paper; mlm mask, as the reference code)').choices([
          'mask',
          'unk',
          'pad',
        ]),
      )
      .addOption(
        new Option('--gradient <reduce>', 'input-gradient reduction over the hidden dimension').choices(['abs-sum', 'l2', 'l1', 'sum']).default('abs-sum'),
      )
      .addOption(
        new Option(
          '--gradient-node <node>',
          'where the input gradient is taken: word embeddings, or the embedding output (after position embeddings and LayerNorm)',
        )
          .choices(['embed.hook_word', 'embed.hook_out'])
          .default('embed.hook_word'),
      )
      .option('--flow-layers <list>', "attention-flow layers (1-based, comma-separated) or 'all'", 'all')
      .option('--no-progress', 'no progress bar'),
  async run(opts) {
    const t0 = Date.now();
    await initBackend();
    const setup = (opts.setup ?? 'classifier') as 'classifier' | 'mlm';
    const modelName = String(opts.model ?? (setup === 'classifier' ? DEFAULT_MODEL : DEFAULT_MLM_MODEL));
    const constructions = String(opts.constructions)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const limit = (opts.limit as number | undefined) ?? DEFAULT_LIMIT[setup];
    const seed = opts.seed as number;
    const dataDir = (opts.data as string | undefined) ?? defaultMarvinLinzenDir();
    const load = async (isSingleToken?: (w: string) => boolean): Promise<AgreementItem[]> => {
      const set = await loadMarvinLinzen(dataDir, { constructions, maxPerConstruction: Math.ceil(limit / constructions.length), seed, isSingleToken });
      return balanced(
        set.items.filter((it) => it.kind === 'verb'),
        limit,
      );
    };
    if (setup === 'classifier' && modelName.startsWith('random:')) throw new Error('random models are masked LMs: use them with --setup mlm');
    const { model, tokenizer, description, warnings } = await loadForRun(modelName, () => load(), seed);
    try {
      const head = model.head;
      if (setup === 'classifier' && head !== 'classifier')
        throw new Error(
          `--setup classifier needs a sequence classifier (e.g. ${DEFAULT_MODEL}); ${modelName} is a ${head === 'mlm' ? 'masked LM: use --setup mlm' : `'${head}' model`}`,
        );
      if (setup === 'mlm' && head !== 'mlm')
        throw new Error(
          `--setup mlm needs a masked LM (e.g. ${DEFAULT_MLM_MODEL}); ${modelName} has the '${head}' head${head === 'classifier' ? ': use --setup classifier' : ''}`,
        );
      const single = (w: string) => {
        const e = tokenizer.encode(w).ids.filter((i) => i !== tokenizer.clsId && i !== tokenizer.sepId);
        return e.length === 1 && e[0] !== tokenizer.unkId;
      };
      const items: AgreementItem[] | NumberItem[] = setup === 'classifier' ? heldOutNumberItems(limit, seed) : await load(single);
      if (items.length === 0)
        throw new Error(
          setup === 'classifier' ? 'no held-out Brown examples' : `no usable agreement items in ${dataDir} for constructions ${constructions.join(', ')}`,
        );
      const flowLayers =
        String(opts.flowLayers) === 'all'
          ? 'all'
          : String(opts.flowLayers)
              .split(',')
              .map((s) => Number(s) - 1);
      let bar: cliProgress.SingleBar | null = null;
      if (opts.progress !== false) {
        bar = new cliProgress.SingleBar(
          { format: 'abnar2020 [{bar}] {value}/{total} examples | {construction} | eta {eta}s', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
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
      const command =
        `flowlens reproduce abnar2020 --setup ${setup} --model ${modelName} --limit ${limit} --seed ${seed}` +
        (opts.qoi !== 'prob' ? ` --qoi ${opts.qoi}` : '') +
        (opts.positions !== 'all' ? ` --positions ${opts.positions}` : '') +
        (opts.replacement ? ` --replacement ${opts.replacement}` : '') +
        (opts.outputPosition ? ` --output-position ${opts.outputPosition}` : '') +
        (opts.gradient !== 'abs-sum' ? ` --gradient ${opts.gradient}` : '') +
        (opts.gradientNode !== 'embed.hook_word' ? ` --gradient-node ${opts.gradientNode}` : '') +
        (String(opts.flowLayers) !== 'all' ? ` --flow-layers ${opts.flowLayers}` : '');
      const files = writeAbnar2020Outputs(String(opts.out), res, {
        model: modelName,
        modelDescription: description,
        seed,
        limit,
        constructions: setup === 'mlm' ? constructions : undefined,
        warnings,
        command,
      });
      const rows = res.table.objects() as { method: string; layer: number | null; reference: string; mean: number }[];
      const L = res.layers;
      const cell = (m: string, l: number, r: string) => rows.find((x) => x.method === m && x.layer === l && x.reference === r)?.mean.toFixed(2) ?? '–';
      console.log(
        `abnar2020 (${setup}): ${res.perExample.length} examples, accuracy ${(100 * res.accuracy.overall).toFixed(1)} %, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      for (const r of ['blankout', 'input_gradient']) {
        console.log(
          `  vs ${r.padEnd(14)} L1: raw ${cell('raw', 1, r)} rollout ${cell('rollout', 1, r)} flow ${cell('flow', 1, r)} | L${L}: raw ${cell('raw', L, r)} rollout ${cell('rollout', L, r)} flow ${cell('flow', L, r)}`,
        );
      }
      for (const w of warnings) console.log(`  warning: ${w}`);
      console.log(`wrote ${files.join(', ')}`);
    } finally {
      model.dispose();
    }
  },
};
