/**
 * The faithfulness evaluations, for any registered method (built-in or registered by the user with
 * `register`): one call each, methods named by registry name or given as {@link Explainer}s, results as
 * plain rows (method × metric, as ferret's benchmark table).
 *
 * - {@link evaluateDegradation}: the degradation test (Jiang et al. 2020 §4.2): true-class probability
 *   and accuracy as tokens are removed most/least important first; areas under the curves.
 * - {@link evaluateAopc}: AOPC and log-odds (DeYoung et al. 2020; Song et al. 2024 §4.1): drop of the
 *   predicted class's probability when the top 10 … 90 % of tokens are replaced by `[PAD]`.
 * - {@link evaluateBlankOutCorrelation}: Spearman correlation with blank-out (Abnar & Zuidema 2020,
 *   Tables 1–2): how well a method's ranking agrees with each token's measured effect on the QoI.
 *
 * ```ts
 * const loaded = await loadModel('embedded:sst2');
 * const rows = evaluateAopc(loaded, ['a gripping , funny film', 'dull and far too long'], ['integrated_gradients', 'attention_rollout', 'my_variant']);
 * ```
 *
 * @module
 */
import type { Bert } from '../model/bert.js';
import { argmax, classifyRows } from '../model/classify.js';
import {
  getExplainer,
  specialIdsOf,
  splitModel,
  toExample,
  toQoI,
  type Explainer,
  type ExplainInput,
  type ExplainTarget,
  type ModelLike,
} from '../methods/explainer.js';
import type { ExampleInput, TokenAttribution } from '../methods/result.js';
import { OptionError } from '../errors.js';
import { degradationTest, type DegradationResult, type DegradationTestOptions } from './degradation.js';
import { aopcCurves, aopcSummary, AOPC_FRACTIONS, type AopcCurve } from './aopc.js';
import { spearman, summarizeCorrelations, type CorrelationSummary } from './correlation.js';

/** A method: its registry name, or an {@link Explainer}. */
export type MethodRef = string | Explainer<never>;

/** A method with its options (and a name in the results). */
export interface MethodUse {
  method: MethodRef;
  /** Row name in the results (default the registry name). */
  name?: string;
  /** The method's options; a function receives the example's index (e.g. for per-example seeds). */
  options?: Record<string, unknown> | ((index: number) => Record<string, unknown>);
  /** The target built from the class evaluated (default: the class index itself, i.e. `classLogit`). */
  target?: (cls: number) => ExplainTarget;
}

/** A method resolved for the evaluations. */
export interface ResolvedMethod {
  name: string;
  run: (model: ModelLike, example: ExampleInput, target: ExplainTarget, index: number) => TokenAttribution;
}

/**
 * Methods as the evaluations run them.
 * @throws OptionError for an unknown method name, an empty list or two methods with the same name.
 */
export function resolveMethods(methods: readonly (MethodRef | MethodUse)[]): ResolvedMethod[] {
  if (methods.length === 0) throw new OptionError('no methods to evaluate');
  const out = methods.map((m, k): ResolvedMethod => {
    const use: MethodUse = typeof m === 'string' || typeof m === 'function' ? { method: m } : m;
    const e = (typeof use.method === 'string' ? getExplainer(use.method) : use.method) as unknown as Explainer;
    const name = use.name ?? e.info?.name ?? `method_${k}`;
    return {
      name,
      run: (model, example, target, index) => {
        const options = typeof use.options === 'function' ? use.options(index) : use.options;
        const t = use.target && typeof target === 'number' ? use.target(target) : target;
        return e(model, example, t, options);
      },
    };
  });
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.name)) throw new OptionError(`two methods are named "${r.name}" (give one a name)`);
    seen.add(r.name);
  }
  return out;
}

function requireClassifier(model: Bert, what: string): void {
  if (model.head !== 'classifier') throw new OptionError(`${what} evaluates a sequence classifier; the model has the "${model.head}" head`);
}

/** One labelled example of {@link evaluateDegradation}. */
export interface LabelledInput {
  input: ExplainInput;
  /** The true class. */
  label: number;
}

/** Result of {@link evaluateDegradation}: the degradation test's result and each method's sanity figures. */
export interface DegradationEvaluation extends DegradationResult {
  /** Method name → `[examples]` its `sanity.value` (e.g. the IG completeness gap, the LIME R²), NaN when none. */
  sanity: Record<string, number[]>;
}

/**
 * The degradation test of any methods on labelled examples: each method explains the true class,
 * tokens are removed in its order (`[CLS]`/`[SEP]` kept), the classifier re-run.
 *
 * @param model a loaded classifier (`loadModel('embedded:sst2')`), or `{model, tokenizer}`.
 * @param examples `[n]` inputs (texts or ids) with their true class.
 * @param methods registry names, {@link Explainer}s or {@link MethodUse}s.
 * @returns mean curves per method and direction (areas under the curves), per-example records and
 *   timings, and the methods' sanity figures.
 * @throws OptionError for a model without a classifier head or an unknown method; what the methods throw.
 */
export function evaluateDegradation(
  model: ModelLike,
  examples: readonly LabelledInput[],
  methods: readonly (MethodRef | MethodUse)[],
  opts: DegradationTestOptions = {},
): DegradationEvaluation {
  const { model: bert, tokenizer } = splitModel(model);
  requireClassifier(bert, 'the degradation test');
  const resolved = resolveMethods(methods);
  const sanity: Record<string, number[]> = Object.fromEntries(resolved.map((r) => [r.name, []]));
  const fns = Object.fromEntries(
    resolved.map((r) => [
      r.name,
      (ex: ExampleInput, label: number, index: number): number[] => {
        const a = r.run(model, ex, label, index);
        (sanity[r.name] as number[]).push(a.sanity?.value ?? NaN);
        return a.scores;
      },
    ]),
  );
  const rows = examples.map((e) => ({ example: toExample(bert, e.input, tokenizer), label: e.label }));
  const res = degradationTest(bert, rows, fns, { ...opts, specialIds: opts.specialIds ?? specialIdsOf(splitModel(model).tokenizer) });
  return { ...res, sanity };
}

/** One row of {@link evaluateAopc}: AOPC and log-odds of one method (means over the steps). */
export interface AopcRow {
  method: string;
  /** Mean over steps of p(y|x) − p(y|x̃_k): higher = more faithful. */
  aopc: number;
  /** Mean over steps of log(p(y|x̃_k) / p(y|x)): lower = more faithful. */
  lodds: number;
  /** Examples used (after `minTokens`). */
  n: number;
}

/** Options of {@link evaluateAopc}. */
export interface EvaluateAopcOptions {
  /** Replacement steps (default 10 % … 90 %). */
  fractions?: readonly number[];
  /** Only examples with at least this many tokens count (`[CLS]`/`[SEP]` included; default 0). */
  minTokens?: number;
  /** Rows per forward pass (default 64). */
  batchSize?: number;
}

/**
 * AOPC and log-odds of any methods: each method explains the predicted class of each input; the top
 * k % of its tokens are replaced by `[PAD]` (`[CLS]`/`[SEP]` kept) and the drop of that class's
 * probability is averaged over the steps and the inputs.
 *
 * @param model a loaded classifier (its tokenizer gives the `[PAD]`/`[CLS]`/`[SEP]` ids).
 * @param inputs `[n]` texts, ids or examples.
 * @returns one {@link AopcRow} per method, in the order given, and each method's per-example curves.
 * @throws OptionError for a model without a classifier head, no tokenizer (no `[PAD]` id) or an
 *   unknown method; what the methods throw.
 */
export function evaluateAopc(
  model: ModelLike,
  inputs: readonly ExplainInput[],
  methods: readonly (MethodRef | MethodUse)[],
  opts: EvaluateAopcOptions = {},
): { rows: AopcRow[]; curves: Record<string, AopcCurve[]> } {
  const { model: bert, tokenizer } = splitModel(model);
  requireClassifier(bert, 'AOPC');
  const specialIds = specialIdsOf(splitModel(model).tokenizer);
  if (specialIds.padId === undefined) throw new OptionError('AOPC replaces tokens with [PAD]: pass the loaded model with its tokenizer');
  const resolved = resolveMethods(methods);
  const curves: Record<string, AopcCurve[]> = Object.fromEntries(resolved.map((r) => [r.name, []]));
  inputs.forEach((input, index) => {
    const ex = toExample(bert, input, tokenizer);
    const cls = argmax(classifyRows(bert, [ex], { padId: specialIds.padId }).logits[0] as number[]);
    const scores = resolved.map((r) => r.run(model, ex, cls, index).scores);
    const cs = aopcCurves(bert, ex, scores, cls, { specialIds, fractions: opts.fractions ?? AOPC_FRACTIONS, batchSize: opts.batchSize });
    resolved.forEach((r, k) => (curves[r.name] as AopcCurve[]).push(cs[k] as AopcCurve));
  });
  const rows = resolved.map((r) => {
    const s = aopcSummary(curves[r.name] as AopcCurve[], { minTokens: opts.minTokens ?? 0 });
    return { method: r.name, aopc: s.aopcMean, lodds: s.loddsMean, n: s.n };
  });
  return { rows, curves };
}

/** One input of {@link evaluateBlankOutCorrelation}: an input, or an input with its target. */
export type TargetedInput = ExplainInput | { input: ExplainInput; target?: ExplainTarget };

/** One row of {@link evaluateBlankOutCorrelation}. */
export interface CorrelationRow extends CorrelationSummary {
  method: string;
}

/** Options of {@link evaluateBlankOutCorrelation}. */
export interface BlankOutCorrelationOptions {
  /** The reference method (default `'blank_out'` with its defaults: `[MASK]` replacement). */
  reference?: MethodRef | MethodUse;
  /** Leave out `[CLS]`/`[SEP]` positions from the correlation (default false: all positions, as the paper). */
  wordsOnly?: boolean;
  /** What a NaN correlation (a constant score vector) counts as (default 0, the reference code). */
  nanAs?: number | null;
}

function isTargeted(x: TargetedInput): x is { input: ExplainInput; target?: ExplainTarget } {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'input' in x;
}

/**
 * Spearman correlation of each method's scores with blank-out's (Abnar & Zuidema 2020), mean ± std over
 * the inputs. All methods and the reference explain the same QoI of an input (its given target, else
 * the predicted class or the predicted token at `[MASK]`).
 *
 * @param model a loaded model (classifier or masked LM).
 * @param inputs `[n]` inputs, optionally with targets (e.g. `tokenLogitDiff(mask, good, bad)`).
 * @returns one {@link CorrelationRow} per method (mean, population std, n, NaN count).
 * @throws OptionError for an unknown method; what the methods throw.
 */
export function evaluateBlankOutCorrelation(
  model: ModelLike,
  inputs: readonly TargetedInput[],
  methods: readonly (MethodRef | MethodUse)[],
  opts: BlankOutCorrelationOptions = {},
): CorrelationRow[] {
  const { model: bert, tokenizer } = splitModel(model);
  const specialIds = specialIdsOf(splitModel(model).tokenizer);
  const resolved = resolveMethods(methods);
  const [reference] = resolveMethods([opts.reference ?? 'blank_out']) as [ResolvedMethod];
  const rho: Record<string, number[]> = Object.fromEntries(resolved.map((r) => [r.name, []]));
  inputs.forEach((item, index) => {
    const { input, target } = isTargeted(item) ? item : { input: item, target: undefined };
    const ex = toExample(bert, input, tokenizer);
    const qoi = toQoI(bert, ex, target, specialIds);
    const keep = ex.ids.map((_, i) => i).filter((i) => !opts.wordsOnly || (ex.ids[i] !== specialIds.clsId && ex.ids[i] !== specialIds.sepId));
    const pick = (s: number[]) => keep.map((i) => s[i] as number);
    const ref = pick(reference.run(model, ex, qoi, index).scores);
    for (const r of resolved) (rho[r.name] as number[]).push(spearman(pick(r.run(model, ex, qoi, index).scores), ref));
  });
  return resolved.map((r) => ({ method: r.name, ...summarizeCorrelations(rho[r.name] as number[], opts.nanAs === undefined ? 0 : opts.nanAs) }));
}
