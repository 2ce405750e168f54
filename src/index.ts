/**
 * flowlens: how information flows through BERT-family transformers. The whole public API from one
 * import:
 *
 * ```ts
 * import { loadModel, explain, nodeName, classLogit, evaluateAopc } from 'flowlens';
 *
 * const loaded = await loadModel('embedded:sst2');
 * const ig = explain(loaded, 'a gripping , funny film', { method: 'integrated_gradients', target: 1 });
 * const trace = loaded.model.forward({ ids: [ig.tokens.map((t) => loaded.tokenizer.idOf(t))] }, { record: [nodeName('pattern', 0)] });
 * ```
 *
 * - Models and loading: {@link loadModel} (HF folders, `embedded:*`, hub ids), {@link Bert} with its
 *   instrumented {@link Bert.forward}, named nodes ({@link NODE_NAMES}, {@link nodeName}), QoIs
 *   ({@link classLogit}, {@link tokenLogitDiff}, …), {@link predict}.
 * - Methods, one contract: {@link explain}, {@link register}, {@link listMethods}, every method as an
 *   `Explainer` (`integratedGradientsExplainer`, …) and as its own function (`integratedGradients`, …);
 *   also under the namespace {@link methods}.
 * - Evaluations: {@link evaluateDegradation}, {@link evaluateAopc}, {@link evaluateBlankOutCorrelation},
 *   and the metrics under them (`spearman`, `aopcSummary`, `degradationTest`, …).
 * - Reproductions: `runAbnar2020`, `runJiang2020Dataset`, `runLu2021`, `runSong2024` and their writers.
 * - Errors by kind: {@link FlowlensError} and its subclasses.
 *
 * Widgets and the Jupyter kernel are the subpaths `flowlens/widgets` and `flowlens/kernel`.
 *
 * @module
 */
export * from './backend/index.js';
export * from './errors.js';

// Models: BERT, named nodes, QoIs, loading, classification.
export * from './model/types.js';
export * from './model/nodes.js';
export * from './model/bert.js';
export * from './model/params.js';
export * from './model/qoi.js';
export * from './model/run.js';
export * from './model/load.js';
export * from './model/classify.js';

// The display protocol (how a value gives its MIME bundle to the kernel and to widgets).
export * from './display.js';

// Files: tokenizer, config, safetensors, HF folders, the hub cache.
export * from './io/tokenizer.js';
export * from './io/config.js';
export { readSafetensors, readSafetensorsHeader, writeSafetensors, type SafetensorsDtype, type LoadedTensor } from './io/safetensors.js';
export { loadHfFolder, saveHfFolder, type HfFolder, type SaveHfFolderInput } from './io/hfFolder.js';
export { resolveHubFolder, hubCacheDir, type HubOptions } from './io/hub.js';
export { bertBaseUncasedVocab } from './io/bertVocab.js';

// Methods: the one contract, the registry and every method.
export * from './methods/index.js';
export * as methods from './methods/index.js';

// Evaluations and the metrics under them.
export * from './eval/evaluate.js';
export * from './eval/degradation.js';
export * from './eval/aopc.js';
export * from './eval/correlation.js';
export * from './eval/precisionAtK.js';
export * from './eval/headStats.js';
export * from './eval/agreement.js';
export * from './eval/headStatsRun.js';
export * from './eval/pretrainedEval.js';

// Reproductions of the papers (the CLI's `flowlens reproduce <name>` runs them).
export * from './eval/abnar2020.js';
export * from './eval/jiang2020.js';
export * from './eval/lu2021.js';
export { lu2021Summary, writeLu2021Outputs, type Lu2021RunInfo } from './eval/lu2021Report.js';
export * from './eval/song2024.js';
export { song2024Summary, writeSong2024Outputs, type Song2024RunInfo } from './eval/song2024Writer.js';

// Data: the corpora and evaluation sets the reproductions use.
export { loadSst2, loadMr, loadTrec, loadBrown, loadSentimentFixture, type LabeledText } from './data/corpora.js';
export { heldOutNumberItems, brownNumberData, templatedNumberExamples, NUMBER_LABELS, type NumberExample } from './data/numberAgreement.js';
export { loadMarvinLinzen, defaultMarvinLinzenDir, listConstructions, type MLItem, type MLSet, type MLLoadOptions } from './data/marvinLinzen.js';
export { mulberry32, Rng } from './data/random.js';
export { parseSentences, defaultParseCache, type ParsedSentence, type Arc } from './data/linkGrammar.js';

// Training: masked-LM pretraining of the flowlens encoder (data-parallel, resumable) and its pieces.
export {
  pretrainMlm,
  PRETRAIN_DEFAULTS,
  learningRate,
  pretrainConfig,
  type PretrainSettings,
  type PretrainRun,
  type PretrainResult,
} from './train/pretrain/trainer.js';
export { WorkerPool, LocalGradients, type GradientEngine } from './train/pretrain/workerPool.js';
export { packDocuments, packTokenized, loadPackedCorpus, type PackedCorpus } from './train/pretrain/packedCorpus.js';
export { maskSequence, BatchOrder, type MaskingOptions } from './train/pretrain/masking.js';
